//! The DigitCircle digit stamps: FreeMono bitmaps, 12 rows tall, 7–9 columns wide, with a
//! one-pixel blank border (digit_circle.md §1.2). They are embedded in the binary, so the crate
//! never reads the shared data directory at run time.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::error::DataError;

/// Lossless export of the authors' `data/digit_circle_stamps.pkl`.
const STAMPS_JSON: &str = include_str!("../../assets/digit_circle_stamps.json");

/// One digit bitmap, row-major, 1 = ink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    digit: u8,
    height: usize,
    width: usize,
    pixels: Vec<u8>,
}

impl Stamp {
    /// The digit this stamp draws.
    #[must_use]
    pub fn digit(&self) -> u8 {
        self.digit
    }

    /// Rows (12 for every digit stamp).
    #[must_use]
    pub fn height(&self) -> usize {
        self.height
    }

    /// Columns (7–9).
    #[must_use]
    pub fn width(&self) -> usize {
        self.width
    }

    /// Row-major pixels, 0 or 1.
    #[must_use]
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// Fraction of ink pixels (`np.mean(stamp)`).
    #[must_use]
    pub fn ink_fraction(&self) -> f64 {
        let on = self.pixels.iter().filter(|&&p| p != 0).count();
        on as f64 / self.pixels.len() as f64
    }
}

/// The ten digit stamps, indexed by digit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StampSet {
    stamps: Vec<Stamp>,
}

impl StampSet {
    /// The stamp of `digit`, if it is 0–9.
    #[must_use]
    pub fn get(&self, digit: u8) -> Option<&Stamp> {
        self.stamps.get(usize::from(digit))
    }

    /// All stamps, in digit order.
    #[must_use]
    pub fn stamps(&self) -> &[Stamp] {
        &self.stamps
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStamp {
    digit: u8,
    height: usize,
    width: usize,
    rows: Vec<Vec<u8>>,
}

fn parse(json: &str) -> Result<StampSet, String> {
    let raw: Vec<RawStamp> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let mut stamps = Vec::with_capacity(raw.len());
    for (expected, s) in (0u8..).zip(raw) {
        if s.digit != expected {
            return Err(format!("stamp {expected} is labelled {}", s.digit));
        }
        if s.rows.len() != s.height || s.rows.iter().any(|r| r.len() != s.width) {
            return Err(format!("stamp {} is not {}x{}", s.digit, s.height, s.width));
        }
        if s.rows.iter().flatten().any(|&p| p > 1) {
            return Err(format!("stamp {} has a pixel other than 0/1", s.digit));
        }
        stamps.push(Stamp {
            digit: s.digit,
            height: s.height,
            width: s.width,
            pixels: s.rows.concat(),
        });
    }
    if stamps.len() != 10 {
        return Err(format!("expected 10 stamps, found {}", stamps.len()));
    }
    Ok(StampSet { stamps })
}

/// The embedded digit stamps, parsed once.
///
/// # Errors
/// [`DataError::Stamps`] if the embedded table is malformed (a build problem; a test guards it).
pub fn digit_stamps() -> Result<&'static StampSet, DataError> {
    static STAMPS: OnceLock<Result<StampSet, String>> = OnceLock::new();
    STAMPS
        .get_or_init(|| parse(STAMPS_JSON))
        .as_ref()
        .map_err(|e| DataError::Stamps(e.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_stamps_match_spec_table() {
        let set = digit_stamps().expect("embedded stamps parse");
        // digit_circle.md §1.2
        let widths = [9, 7, 8, 9, 8, 9, 8, 8, 7, 8];
        let ink = [30, 16, 21, 23, 25, 26, 28, 16, 27, 31];
        for (d, s) in set.stamps().iter().enumerate() {
            assert_eq!(s.height(), 12);
            assert_eq!(s.width(), widths[d]);
            assert_eq!(s.pixels().iter().filter(|&&p| p == 1).count(), ink[d]);
        }
        let background: f64 = set.stamps().iter().map(Stamp::ink_fraction).sum::<f64>() / 10.0;
        assert!((background - 0.250_380_291_005_291).abs() < 1e-15);
    }

    #[test]
    fn malformed_tables_are_rejected() {
        assert!(parse("[]").is_err());
        assert!(parse(r#"[{"digit":1,"height":1,"width":1,"rows":[[1]]}]"#).is_err());
        assert!(parse(r#"[{"digit":0,"height":2,"width":1,"rows":[[1]]}]"#).is_err());
    }
}
