//! The paper's three domains, by name: one enum for the CLI, xtask, presets and configurations.

use std::fmt;
use std::str::FromStr;

use crate::error::ModelError;

/// A data domain. Its name (`digit-circle`, `audio`, `latex`) is the CLI argument, the preset
/// key and the `domain.name` of a configuration.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Domain {
    /// DigitCircle (100x100 images of 3-6 digits on a circle).
    DigitCircle,
    /// Spoken digits (15 s clips of 5-10 FSDD recordings, as log-mel spectrograms; needs the
    /// recordings: --data DIR or $SPARLING_FSDD).
    Audio,
    /// LaTeX-OCR (120x360 renders of formulas of the authors' grammar, 25 % speckle noise).
    Latex,
}

impl Domain {
    /// Every domain, in the paper's order.
    pub const ALL: [Domain; 3] = [Domain::DigitCircle, Domain::Audio, Domain::Latex];

    /// The domain's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Domain::DigitCircle => "digit-circle",
            Domain::Audio => "audio",
            Domain::Latex => "latex",
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Domain {
    type Err = ModelError;

    /// A domain by name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Domain::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| ModelError::UnknownDomain {
                name: s.into(),
                available: Domain::ALL.map(Domain::name).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known_ones() {
        for d in Domain::ALL {
            assert_eq!(d.name().parse::<Domain>().ok(), Some(d));
            assert_eq!(d.to_string(), d.name());
        }
        let err = "speech".parse::<Domain>().expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown domain `speech`; available: digit-circle, audio, latex"
        );
    }
}
