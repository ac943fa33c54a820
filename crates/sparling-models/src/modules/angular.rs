//! An angular scan of a pooled feature grid: cells are grouped into `bins` sectors by their angle
//! around the grid centre (counter-clockwise on screen), max-pooled within a sector, and the
//! resulting cyclic sequence is read by a bidirectional LSTM.
//!
//! Why: DigitCircle's label lists the digits counter-clockwise from the smallest. With memory in
//! row-major order the decoder must learn "the nearest digit at a larger angle" from sinusoids,
//! which a small model on a CPU budget learned very slowly (diagnosed with `cargo xtask
//! diagnose`: 97 % of first digits right, 32 % of second digits, 16 % of all errors the reverse
//! cycle). Along the angular sequence that question is local: the backward LSTM state at a
//! digit's sector already holds the next digit counter-clockwise. This is an inductive bias about
//! the *reading order* only; the motif model and the sparsity layer are untouched. The paper's
//! encoder (row LSTM) stays the default and is what the `paper` preset uses.

use burn::prelude::*;

use super::lstm::BiLstm;

/// `[batch, H, W, D]` grid features to a `[batch, bins, D]` cyclic angular sequence.
#[derive(Module, Debug)]
pub struct AngularScan {
    lstm: BiLstm,
    bins: usize,
}

impl AngularScan {
    /// A scan with `bins` sectors over features of width `d_model` (even).
    pub fn new(d_model: usize, bins: usize, device: &Device) -> Self {
        Self {
            lstm: BiLstm::new(d_model, d_model / 2, device),
            bins,
        }
    }

    /// # Shapes
    /// `[batch, H, W, D] -> [batch, bins, D]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<3> {
        let [n, h, w, d] = x.dims();
        let device = x.device();
        let (index, per_bin) = sector_cells(h, w, self.bins);
        let index =
            Tensor::<1, Int>::from_data(TensorData::new(index, [self.bins * per_bin]), &device);
        // [N, H*W, D] -> [N, bins * per_bin, D] -> max over each sector's cells.
        let sectors: Tensor<3> = x
            .reshape([n, h * w, d])
            .select(1, index)
            .reshape([n, self.bins, per_bin, d])
            .max_dim(2)
            .reshape([n, self.bins, d]);
        // Three laps, keep the middle one: both directions have seen the whole circle.
        let laps = Tensor::cat(vec![sectors.clone(), sectors.clone(), sectors.clone()], 1);
        let states = self.lstm.forward(laps);
        let middle = states.slice([0..n, self.bins..2 * self.bins, 0..d]);
        middle + sectors
    }
}

/// For each of `bins` sectors, the row-major indices of the cells of an `h x w` grid whose
/// centre lies in it, padded to the largest sector by repeating its first cell (which leaves a
/// max unchanged). Returns the flattened `[bins, per_bin]` table and `per_bin`.
///
/// The angle is measured counter-clockwise on screen from the +column axis, as the polar
/// positional encoding does; sector `b` covers `[-pi + b * 2pi / bins, -pi + (b + 1) * 2pi /
/// bins)`. A sector without cells (a very fine division of a small grid) borrows the cell
/// nearest to its middle angle.
pub fn sector_cells(h: usize, w: usize, bins: usize) -> (Vec<i64>, usize) {
    let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
    let tau = std::f64::consts::TAU;
    let angle = |cell: usize| {
        let (r, c) = ((cell / w) as f64, (cell % w) as f64);
        (cy - r).atan2(c - cx)
    };
    let mut sectors: Vec<Vec<i64>> = vec![Vec::new(); bins];
    for cell in 0..h * w {
        let b =
            (((angle(cell) + std::f64::consts::PI) / tau * bins as f64).floor() as usize) % bins;
        sectors[b].push(cell as i64);
    }
    for (b, cells) in sectors.iter_mut().enumerate() {
        if cells.is_empty() {
            let middle = -std::f64::consts::PI + (b as f64 + 0.5) * tau / bins as f64;
            let distance = |cell: usize| {
                let diff = (angle(cell) - middle).rem_euclid(tau);
                diff.min(tau - diff)
            };
            let nearest = (0..h * w).min_by(|a, b| distance(*a).total_cmp(&distance(*b)));
            cells.push(nearest.unwrap_or(0) as i64);
        }
    }
    let per_bin = sectors.iter().map(Vec::len).max().unwrap_or(1);
    let mut table = Vec::with_capacity(bins * per_bin);
    for cells in &sectors {
        table.extend(cells.iter().copied());
        table.extend(std::iter::repeat_n(cells[0], per_bin - cells.len()));
    }
    (table, per_bin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_lands_in_exactly_one_sector_in_angular_order() {
        let (table, per_bin) = sector_cells(12, 12, 36);
        let mut seen: Vec<i64> = table.clone();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 144, "all cells used");
        // Sector 0 starts at -pi: the cell left of the centre on the middle rows.
        let first = &table[..per_bin];
        assert!(first.iter().all(|&c| (c % 12) < 6), "{first:?}");
        // A quarter turn later (sector 9, angle -pi/2): straight below the centre.
        let below = &table[9 * per_bin..10 * per_bin];
        assert!(below.iter().all(|&c| c / 12 >= 6), "{below:?}");
    }

    #[test]
    fn fine_divisions_of_small_grids_have_no_empty_sector() {
        let (table, per_bin) = sector_cells(3, 3, 16);
        assert_eq!(table.len(), 16 * per_bin);
    }

    #[test]
    fn scan_keeps_batch_and_width() {
        let device = Device::default();
        let scan = AngularScan::new(8, 36, &device);
        let x = Tensor::<4>::ones([2, 12, 12, 8], &device);
        assert_eq!(scan.forward(x).dims(), [2, 36, 8]);
    }
}
