//! Positional encodings: the PyTorch-tutorial `PositionalEncoding` sinusoids
//! (`pe[pos, 2i] = sin(pos / T^(2i/d))`, `pe[pos, 2i+1] = cos(...)`, with the timescale
//! `T = 10000` in the reference) and the 2-D layouts of [`Positions`].

use burn::nn::generate_sinusoids;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// Positional encoding of the pooled feature grid (added to the features).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Positions {
    /// Sinusoids of the row index over all `d_model` dimensions (the paper; the row LSTM
    /// supplies the column position).
    #[default]
    Rows,
    /// Row sinusoids in the first half of the dimensions, column sinusoids in the second half.
    /// For encoders without the row LSTM; adding both tables to the same dimensions would make
    /// `(r, c)` and `(c, r)` indistinguishable.
    Grid,
    /// Row and column sinusoids in a quarter of the dimensions each, and harmonics
    /// `sin(kθ), cos(kθ)` of the angle θ around the grid centre in the other half. An
    /// inductive bias for inputs whose reading order is angular (DigitCircle), used by the `cpu`
    /// preset to learn the counter-clockwise order from fewer samples.
    Polar,
}

/// The reference's timescale `T` (the PyTorch tutorial's `10000.0`).
pub const PAPER_TIMESCALE: usize = 10_000;

/// The timescale of configurations written before it was configurable: 5,000 (the
/// reference's table length `max_len`, passed by mistake where burn takes the timescale).
/// Models trained with it keep it; the `cpu` and `tiny` presets, tuned and trained with it,
/// do too; the `paper` presets use [`PAPER_TIMESCALE`].
pub const LEGACY_TIMESCALE: usize = 5_000;

/// Serde default of the `timescale` fields: what configurations without the field meant.
pub(crate) fn legacy_timescale() -> usize {
    LEGACY_TIMESCALE
}

/// Check a `timescale` field: at least 1 (a table longer than the timescale uses its length
/// instead, as burn requires, so a timescale below the longest sequence changes the code of
/// every position; keep it at least that long).
///
/// # Errors
/// [`ModelError::InvalidConfig`] naming `field`.
pub(crate) fn validate_timescale(field: &str, timescale: usize) -> Result<(), ModelError> {
    crate::validate::positive(field, timescale)
}

/// `[length, d_model]` table of sinusoids for positions `0..length` with timescale
/// `timescale` (burn requires it to be at least `length`; longer tables use `length`).
pub fn sinusoids(length: usize, d_model: usize, timescale: usize, device: &Device) -> Tensor<2> {
    generate_sinusoids(length, d_model, timescale.max(length), device)
}

/// `[h, w, d_model]` encoding of an `h x w` grid (`d_model` divisible by 4 for `Grid` and
/// `Polar`, checked by the config).
pub fn grid_positions(
    h: usize,
    w: usize,
    d_model: usize,
    kind: Positions,
    timescale: usize,
    device: &Device,
) -> Tensor<3> {
    let rows = |d: usize| {
        sinusoids(h, d, timescale, device)
            .reshape([h, 1, d])
            .expand([h, w, d])
    };
    let columns = |d: usize| {
        sinusoids(w, d, timescale, device)
            .reshape([1, w, d])
            .expand([h, w, d])
    };
    match kind {
        Positions::Rows => rows(d_model),
        Positions::Grid => Tensor::cat(vec![rows(d_model / 2), columns(d_model / 2)], 2),
        Positions::Polar => {
            let q = d_model / 4;
            Tensor::cat(
                vec![
                    rows(q),
                    columns(q),
                    angle_harmonics(h, w, d_model / 2, device),
                ],
                2,
            )
        }
    }
}

/// `[h, w, d]` with `sin(kθ), cos(kθ)` for `k = 1..=d/2`, θ the counter-clockwise angle of the
/// cell centre around the grid centre (rows grow downwards).
fn angle_harmonics(h: usize, w: usize, d: usize, device: &Device) -> Tensor<3> {
    let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
    let mut values = Vec::with_capacity(h * w * d);
    for r in 0..h {
        for c in 0..w {
            let theta = (cy - r as f64).atan2(c as f64 - cx);
            for k in 1..=d / 2 {
                let (s, co) = (k as f64 * theta).sin_cos();
                values.extend([s as f32, co as f32]);
            }
        }
    }
    Tensor::from_data(TensorData::new(values, [h, w, d]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With the paper's timescale the table is the PyTorch tutorial's:
    /// `pe[pos, 2i] = sin(pos / 10000^(2i/d))`, `pe[pos, 2i+1] = cos(pos / 10000^(2i/d))`.
    #[test]
    fn the_paper_timescale_gives_the_reference_table() {
        let (length, d) = (50, 16);
        let table = sinusoids(length, d, PAPER_TIMESCALE, &Device::default())
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32");
        for pos in 0..length {
            for i in 0..d / 2 {
                let angle = pos as f64 / 10_000f64.powf(2.0 * i as f64 / d as f64);
                let (sin, cos) = (table[pos * d + 2 * i], table[pos * d + 2 * i + 1]);
                assert!((f64::from(sin) - angle.sin()).abs() < 1e-4, "{pos} {i}");
                assert!((f64::from(cos) - angle.cos()).abs() < 1e-4, "{pos} {i}");
            }
        }
    }

    #[test]
    fn grid_encoding_tells_transposed_cells_apart() {
        let device = Device::default();
        for kind in [Positions::Grid, Positions::Polar] {
            let table = grid_positions(5, 5, 16, kind, PAPER_TIMESCALE, &device);
            let a = table.clone().slice([1..2, 3..4]).flatten::<1>(0, 2);
            let b = table.slice([3..4, 1..2]).flatten::<1>(0, 2);
            let diff: f32 = (a - b).abs().sum().into_scalar();
            assert!(
                diff > 0.1,
                "{kind:?}: (1,3) and (3,1) encode alike ({diff})"
            );
        }
    }

    #[test]
    fn polar_harmonics_follow_the_angle() {
        let device = Device::default();
        // Cell (0, 2) of a 5x5 grid is straight above the centre: θ = π/2.
        let table = grid_positions(5, 5, 16, Positions::Polar, PAPER_TIMESCALE, &device);
        let v: Vec<f32> = table
            .slice([0..1, 2..3, 8..10])
            .into_data()
            .try_to_vec()
            .expect("f32 data");
        assert!((v[0] - 1.0).abs() < 1e-6 && v[1].abs() < 1e-6, "{v:?}");
    }
}
