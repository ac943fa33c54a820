//! Model records of earlier versions, read by today's model.
//!
//! A record names each tensor by its module path. Two layouts came before today's:
//!
//! 1. Until the image and sequence models became one type ([`crate::model::SparlingModel`] with
//!    a [`crate::model::FrontEnd`]), tensors were named after the model's variant:
//!    `Image.motifs.…`, `Image.sparsity.…`, `Image.decoder.…` (and `Sequence.…`). Today the
//!    layout-specific parts sit under `front.Image.…` and the bottleneck and decoder at the top.
//! 2. Until the bottleneck could hold any sparsity method ([`sparling_core::Bottleneck`]), the
//!    threshold layer sat at `sparsity.sparsity.…`; today it is `sparsity.layer.Sparling.…`
//!    (the BatchNorm stays at `sparsity.batch_norm.…`).
//!
//! Renaming keeps each tensor's data and parameter id, so a run of an earlier version resumes
//! with its optimizer state (which is keyed by parameter id).

use burn::tensor::Bytes;
use burn_pack::{Reader, Tensor, Writer};

/// The front-end variants, as the earlier top-level variants were named.
const VARIANTS: [&str; 2] = ["Image", "Sequence"];

/// Today's name of a tensor an earlier version stored as `path`, if it differs.
fn renamed(path: &str) -> Option<String> {
    let first = without_variant(path);
    let current = first.as_deref().unwrap_or(path);
    let second = current
        .strip_prefix("sparsity.sparsity.")
        .map(|rest| format!("sparsity.layer.Sparling.{rest}"));
    second.or(first)
}

/// Layout 1 to layout 2.
fn without_variant(path: &str) -> Option<String> {
    VARIANTS.iter().find_map(|variant| {
        let rest = path.strip_prefix(variant)?.strip_prefix('.')?;
        Some(
            if rest.starts_with("sparsity.") || rest.starts_with("decoder.") {
                rest.to_string()
            } else {
                format!("front.{variant}.{rest}")
            },
        )
    })
}

/// The record `bytes` with earlier tensor names replaced by today's; unchanged if it has none.
///
/// # Errors
/// A malformed record.
pub(super) fn upgrade(bytes: Bytes) -> Result<Bytes, burn_pack::Error> {
    // Shared, the clone for the name check is a reference count, not a copy of the model.
    let bytes = bytes.shared();
    let reader = Reader::from_bytes(bytes.clone())?;
    if !reader.tensor_names().iter().any(|n| renamed(n).is_some()) {
        return Ok(bytes);
    }
    let tensors = reader
        .into_tensors()?
        .into_iter()
        .map(|t| {
            let (name, dtype, shape, id, data) = t.into_parts()?;
            let name = renamed(&name).unwrap_or(name);
            Ok(Tensor::new(name, dtype, shape, id, data))
        })
        .collect::<Result<Vec<_>, burn_pack::Error>>()?;
    Writer::new(tensors).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earlier_names_map_to_todays() {
        let cases = [
            (
                "Image.motifs.conv_in.weight",
                "front.Image.motifs.conv_in.weight",
            ),
            (
                "Image.encoder.angular.lstm.recurrent",
                "front.Image.encoder.angular.lstm.recurrent",
            ),
            (
                "Image.sparsity.batch_norm.gamma",
                "sparsity.batch_norm.gamma",
            ),
            (
                "Image.sparsity.sparsity.thresholds",
                "sparsity.layer.Sparling.thresholds",
            ),
            (
                "sparsity.sparsity.sparsity",
                "sparsity.layer.Sparling.sparsity",
            ),
            ("Sequence.decoder.output.bias", "decoder.output.bias"),
            (
                "Sequence.collapse.conv.weight",
                "front.Sequence.collapse.conv.weight",
            ),
        ];
        for (old, new) in cases {
            assert_eq!(renamed(old).as_deref(), Some(new), "{old}");
        }
        for current in [
            "front.Image.motifs.conv_in.weight",
            "sparsity.norm.gamma",
            "Imaged.x",
        ] {
            assert_eq!(renamed(current), None, "{current}");
        }
    }
}
