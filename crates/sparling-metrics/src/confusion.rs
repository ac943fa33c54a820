//! The pooled confusion matrix of motif outcomes and the errors read from it: the paper's FPE,
//! FNE and CE (its definitions of the motif errors), computed as the authors'
//! `pixel_art/analysis/evaluate_motifs.py` (Hungarian CE, DigitCircle) and
//! `pixel_art/analysis/evaluate_latex_motifs.py` (many-to-one CE, LaTeX-OCR and audio) do
//! (kavigupta/sparling-repro); see docs/metrics.md.

use std::fmt;

use pathfinding::prelude::{Matrix, kuhn_munkres};
use serde::{Deserialize, Serialize};

use crate::error::MetricsError;
use crate::motif::{
    Categorized, MotifMap, SparseMotifMap, TrueMotif, categorize, categorize_sparse,
};

/// Counts `n[true, pred]` pooled over images, with `true ∈ classes ∪ {none}` (rows) and
/// `pred ∈ channels ∪ {none}` (columns). The "none" row holds false-positive activations, the
/// "none" column missed motifs; `n[none, none]` is always 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    num_classes: usize,
    num_channels: usize,
    /// Row-major `(num_classes + 1) × (num_channels + 1)`.
    counts: Vec<u64>,
}

/// FPE, FNE and CE as fractions in `[0, 1]` (the paper reports them × 100).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MotifErrors {
    /// False-positive error: false-positive activations / all non-none predictions.
    pub fpe: f64,
    /// False-negative error: missed true motifs / all true motifs.
    pub fne: f64,
    /// Confusion error (one-to-one Hungarian for DigitCircle, many-to-one for LaTeX/audio,
    /// depending on how it was computed).
    pub ce: f64,
}

impl ConfusionMatrix {
    /// An empty matrix for `num_classes` true classes and `num_channels` motif channels.
    #[must_use]
    pub fn new(num_classes: usize, num_channels: usize) -> Self {
        Self {
            num_classes,
            num_channels,
            counts: vec![0; (num_classes + 1) * (num_channels + 1)],
        }
    }

    /// Number of true classes (rows, without "none").
    #[must_use]
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Number of channels (columns, without "none").
    #[must_use]
    pub fn num_channels(&self) -> usize {
        self.num_channels
    }

    /// Raw counts, row-major `(num_classes + 1) × (num_channels + 1)`; the last row is true
    /// "none" and the last column predicted "none". For plotting.
    #[must_use]
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// `n[truth, pred]`; `None` is the "none" row / column. Out-of-range indices read 0.
    #[must_use]
    pub fn get(&self, truth: Option<usize>, pred: Option<usize>) -> u64 {
        let row = truth.unwrap_or(self.num_classes);
        let col = pred.unwrap_or(self.num_channels);
        if row > self.num_classes || col > self.num_channels {
            return 0;
        }
        self.counts[self.index(row, col)]
    }

    fn index(&self, row: usize, col: usize) -> usize {
        row * (self.num_channels + 1) + col
    }

    /// Adds one image's outcomes.
    ///
    /// # Errors
    /// [`MetricsError::ClassOutOfRange`] / [`MetricsError::ChannelOutOfRange`] if an index does
    /// not fit the matrix (nothing is added then).
    pub fn add(&mut self, image: &Categorized) -> Result<(), MetricsError> {
        for site in &image.sites {
            self.check_class(site.class)?;
            if let Some(c) = site.channel {
                self.check_channel(c)?;
            }
        }
        if image.false_positives.len() > self.num_channels
            && image.false_positives[self.num_channels..]
                .iter()
                .any(|&n| n > 0)
        {
            return Err(MetricsError::ChannelOutOfRange {
                channel: image.false_positives.len() - 1,
                num_channels: self.num_channels,
            });
        }
        for site in &image.sites {
            let col = site.channel.unwrap_or(self.num_channels);
            let i = self.index(site.class, col);
            self.counts[i] += 1;
        }
        for (c, &n) in image
            .false_positives
            .iter()
            .enumerate()
            .take(self.num_channels)
        {
            let i = self.index(self.num_classes, c);
            self.counts[i] += n;
        }
        Ok(())
    }

    /// Categorizes a dense `[C, H, W]` map against its true motifs and adds the outcome.
    ///
    /// # Errors
    /// As [`categorize`] and [`add`](Self::add).
    pub fn add_map(
        &mut self,
        map: &MotifMap<'_>,
        truths: &[TrueMotif],
    ) -> Result<(), MetricsError> {
        self.add(&categorize(map, truths)?)
    }

    /// Categorizes a sparse map against its true motifs and adds the outcome.
    ///
    /// # Errors
    /// As [`categorize_sparse`] and [`add`](Self::add).
    pub fn add_sparse(
        &mut self,
        map: &SparseMotifMap,
        truths: &[TrueMotif],
    ) -> Result<(), MetricsError> {
        self.add(&categorize_sparse(map, truths)?)
    }

    /// Adds a `[N, C, H, W]` batch; `truths[i]` are image `i`'s motifs in placement order,
    /// `footprint_pad` grows every footprint (0 for DigitCircle and audio, 2 for LaTeX).
    ///
    /// # Errors
    /// Shape mismatches, a `truths` list of the wrong length, or as [`add_map`](Self::add_map).
    pub fn add_batch(
        &mut self,
        maps: &[f32],
        shape: [usize; 4],
        truths: &[Vec<TrueMotif>],
        footprint_pad: usize,
    ) -> Result<(), MetricsError> {
        let [n, c, h, w] = shape;
        if truths.len() != n {
            return Err(MetricsError::LengthMismatch {
                predictions: n,
                targets: truths.len(),
            });
        }
        for (map, motifs) in MotifMap::batch(maps, n, c, h, w)?.iter().zip(truths) {
            if footprint_pad == 0 {
                self.add_map(map, motifs)?;
            } else {
                let padded: Vec<TrueMotif> = motifs
                    .iter()
                    .map(|t| TrueMotif {
                        class: t.class,
                        footprint: t.footprint.padded(footprint_pad),
                    })
                    .collect();
                self.add_map(map, &padded)?;
            }
        }
        Ok(())
    }

    /// Adds another matrix of the same shape (e.g. from another batch or thread).
    ///
    /// # Errors
    /// [`MetricsError::IncompatibleMatrices`] if the shapes differ.
    pub fn merge(&mut self, other: &ConfusionMatrix) -> Result<(), MetricsError> {
        if (self.num_classes, self.num_channels) != (other.num_classes, other.num_channels) {
            return Err(MetricsError::IncompatibleMatrices {
                a: (self.num_classes, self.num_channels),
                b: (other.num_classes, other.num_channels),
            });
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        Ok(())
    }

    /// Σ over true motifs matched to a channel (both indices not "none").
    #[must_use]
    pub fn matched(&self) -> u64 {
        (0..self.num_classes)
            .flat_map(|d| (0..self.num_channels).map(move |c| (d, c)))
            .map(|(d, c)| self.counts[self.index(d, c)])
            .sum()
    }

    /// Number of true motifs that no channel fired on.
    #[must_use]
    pub fn missed(&self) -> u64 {
        (0..self.num_classes)
            .map(|d| self.counts[self.index(d, self.num_channels)])
            .sum()
    }

    /// Number of false-positive activations.
    #[must_use]
    pub fn false_positives(&self) -> u64 {
        (0..self.num_channels)
            .map(|c| self.counts[self.index(self.num_classes, c)])
            .sum()
    }

    /// FNE = missed / all true motifs (`compute_fne`). 0 when there are no true motifs.
    #[must_use]
    pub fn fne(&self) -> f64 {
        ratio(self.missed(), self.missed() + self.matched())
    }

    /// FPE = false positives / (matched + false positives) (`compute_fpe`). 0 when nothing fired.
    #[must_use]
    pub fn fpe(&self) -> f64 {
        ratio(
            self.false_positives(),
            self.matched() + self.false_positives(),
        )
    }

    /// CE with a one-to-one assignment of classes to channels maximising the matched diagonal
    /// (`compute_ce`, `scipy.optimize.linear_sum_assignment` on `-n`, none row/column
    /// excluded). Works for any number of channels versus classes. 0 when nothing matched
    /// (the Python gives NaN).
    #[must_use]
    pub fn ce_hungarian(&self) -> f64 {
        let matched = self.matched();
        if matched == 0 {
            return 0.0;
        }
        // Written as the Python does (`1 - best / total`), which can differ from
        // `(total - best) / total` in the last bit.
        1.0 - self.best_assignment() as f64 / matched as f64
    }

    /// CE with each channel mapped to its most frequent true class, many channels may share a
    /// class (`confusion_error` in `evaluate_latex_motifs.py`; the LaTeX and audio domains):
    /// 1 − Σ_c max_d n[d, c] / Σ n[d, c]. 0 when nothing matched (the Python gives NaN).
    #[must_use]
    pub fn ce_many_to_one(&self) -> f64 {
        let matched = self.matched();
        if matched == 0 {
            return 0.0;
        }
        let majority: u64 = (0..self.num_channels)
            .map(|c| {
                (0..self.num_classes)
                    .map(|d| self.counts[self.index(d, c)])
                    .max()
                    .unwrap_or(0)
            })
            .sum();
        ratio(matched - majority, matched)
    }

    /// FPE, FNE and the Hungarian CE (the DigitCircle tables).
    #[must_use]
    pub fn errors(&self) -> MotifErrors {
        MotifErrors {
            fpe: self.fpe(),
            fne: self.fne(),
            ce: self.ce_hungarian(),
        }
    }

    /// FPE, FNE and the many-to-one CE (the LaTeX and audio tables).
    #[must_use]
    pub fn errors_many_to_one(&self) -> MotifErrors {
        MotifErrors {
            fpe: self.fpe(),
            fne: self.fne(),
            ce: self.ce_many_to_one(),
        }
    }

    /// The maximum of Σ n[d, π(d)] over one-to-one partial assignments π.
    fn best_assignment(&self) -> u64 {
        self.hungarian().0
    }

    /// The class each channel stands for: with `one_to_one`, the Hungarian assignment behind
    /// [`Self::ce_hungarian`], otherwise each channel's most frequent class (behind
    /// [`Self::ce_many_to_one`]). `None` for a channel that matched no motif.
    #[must_use]
    pub fn channel_classes(&self, one_to_one: bool) -> Vec<Option<usize>> {
        if one_to_one {
            return self.hungarian().1;
        }
        (0..self.num_channels)
            .map(|c| {
                (0..self.num_classes)
                    .filter(|&d| self.counts[self.index(d, c)] > 0)
                    .max_by_key(|&d| (self.counts[self.index(d, c)], std::cmp::Reverse(d)))
            })
            .collect()
    }

    /// Best one-to-one total and, per channel, its class (channels with a zero count get none).
    fn hungarian(&self) -> (u64, Vec<Option<usize>>) {
        let (rows, cols) = (self.num_classes, self.num_channels);
        let mut classes = vec![None; cols];
        if rows == 0 || cols == 0 {
            return (0, classes);
        }
        // kuhn_munkres needs rows <= columns; transpose otherwise. Counts are far below
        // i64::MAX / (rows * cols) in any realistic evaluation, so i64 weights cannot overflow.
        let weight = |d: usize, c: usize| {
            i64::try_from(self.counts[self.index(d, c)]).unwrap_or(i64::MAX / 1024)
        };
        let total = if rows <= cols {
            let (total, columns) =
                kuhn_munkres(&Matrix::from_fn(rows, cols, |(d, c)| weight(d, c)));
            for (d, c) in columns.into_iter().enumerate() {
                classes[c] = Some(d);
            }
            total
        } else {
            let (total, assigned) =
                kuhn_munkres(&Matrix::from_fn(cols, rows, |(c, d)| weight(d, c)));
            for (c, d) in assigned.into_iter().enumerate() {
                classes[c] = Some(d);
            }
            total
        };
        for (c, class) in classes.iter_mut().enumerate() {
            if class.is_some_and(|d| self.counts[self.index(d, c)] == 0) {
                *class = None;
            }
        }
        (u64::try_from(total).unwrap_or(0), classes)
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

impl fmt::Display for ConfusionMatrix {
    /// A table: rows are true classes then `none`, columns channels `#0…` then `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .counts
            .iter()
            .map(|n| n.to_string().len())
            .max()
            .unwrap_or(1)
            .max(4);
        write!(f, "{:>6}", "true\\ch")?;
        for c in 0..self.num_channels {
            write!(f, " {:>width$}", format!("#{c}"))?;
        }
        writeln!(f, " {:>width$}", "none")?;
        for row in 0..=self.num_classes {
            if row == self.num_classes {
                write!(f, "{:>7}", "none")?;
            } else {
                write!(f, "{row:>7}")?;
            }
            for col in 0..=self.num_channels {
                write!(f, " {:>width$}", self.counts[self.index(row, col)])?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl ConfusionMatrix {
    fn check_class(&self, class: usize) -> Result<(), MetricsError> {
        if class < self.num_classes {
            Ok(())
        } else {
            Err(MetricsError::ClassOutOfRange {
                class,
                num_classes: self.num_classes,
            })
        }
    }

    fn check_channel(&self, channel: usize) -> Result<(), MetricsError> {
        if channel < self.num_channels {
            Ok(())
        } else {
            Err(MetricsError::ChannelOutOfRange {
                channel,
                num_channels: self.num_channels,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::motif::SiteOutcome;

    fn image(sites: &[(usize, Option<usize>)], fps: &[u64]) -> Categorized {
        Categorized {
            sites: sites
                .iter()
                .map(|&(class, channel)| SiteOutcome { class, channel })
                .collect(),
            false_positives: fps.to_vec(),
        }
    }

    #[test]
    fn reference_fractions() {
        // FNE 5/2238, FPE 3/2236, CE 1/2233: the values of the authors'
        // `tests/test_all_results.py` (kavigupta/sparling-repro, `TestDigitCircleMotifs`,
        // 500 images with 2238 digits) written as fractions.
        let mut m = ConfusionMatrix::new(10, 10);
        let mut sites = Vec::new();
        for i in 0..2232 {
            sites.push((i % 10, Some(i % 10)));
        }
        sites.push((0, Some(1))); // one confusion
        for _ in 0..5 {
            sites.push((2, None));
        }
        m.add(&image(&sites, &[0, 0, 3, 0, 0, 0, 0, 0, 0, 0]))
            .expect("valid");
        let e = m.errors();
        // The exact values asserted by TestDigitCircleMotifs::test_errors_from_checkpoint.
        assert_eq!(e.fne, 0.002_234_137_622_877_569);
        assert_eq!(e.fpe, 0.001_341_681_574_239_713_7);
        assert_eq!(e.ce, 0.000_447_828_034_034_980_5);
    }

    #[test]
    fn permuted_channels_have_no_confusion() {
        let mut m = ConfusionMatrix::new(3, 3);
        m.add(&image(
            &[(0, Some(2)), (1, Some(0)), (2, Some(1)), (0, Some(2))],
            &[0, 0, 0],
        ))
        .expect("valid");
        assert_eq!(m.ce_hungarian(), 0.0);
        assert_eq!(m.ce_many_to_one(), 0.0);
    }

    #[test]
    fn one_to_one_and_many_to_one() {
        // Two channels both encode class 0; class 1 has no channel of its own.
        let mut m = ConfusionMatrix::new(2, 2);
        m.add(&image(
            &[(0, Some(0)), (0, Some(0)), (0, Some(1)), (1, Some(1))],
            &[0, 0],
        ))
        .expect("valid");
        // one-to-one: 0->0 (2) + 1->1 (1) = 3 of 4. many-to-one: ch0->0 (2), ch1 -> tie 1 of 2.
        assert_eq!(m.ce_hungarian(), 0.25);
        assert_eq!(m.ce_many_to_one(), 0.25);
        let mut m = ConfusionMatrix::new(2, 2);
        m.add(&image(
            &[(0, Some(0)), (0, Some(1)), (0, Some(1)), (1, Some(0))],
            &[0, 0],
        ))
        .expect("valid");
        // one-to-one best: 0->1 (2) + 1->0 (1) = 3/4; many-to-one: ch0 tie (1), ch1 -> 0 (2) = 3/4.
        assert_eq!(m.ce_hungarian(), 0.25);
        let mut m = ConfusionMatrix::new(2, 3);
        m.add(&image(
            &[(0, Some(0)), (0, Some(1)), (1, Some(2))],
            &[0, 0, 0],
        ))
        .expect("valid");
        assert_eq!(m.ce_hungarian(), 1.0 - 2.0 / 3.0);
        assert_eq!(m.ce_many_to_one(), 0.0);
    }

    #[test]
    fn channel_classes_follow_the_assignment() {
        let mut m = ConfusionMatrix::new(3, 4);
        m.add(&image(
            &[
                (0, Some(2)),
                (1, Some(0)),
                (2, Some(1)),
                (0, Some(0)),
                (0, Some(2)),
            ],
            &[0, 0, 0, 5],
        ))
        .expect("valid");
        // Channel 3 only fired falsely: no class.
        assert_eq!(
            m.channel_classes(true),
            vec![Some(1), Some(2), Some(0), None]
        );
        // Channel 0 saw classes 1 and 0 once each: the tie goes to the lower class.
        assert_eq!(
            m.channel_classes(false),
            vec![Some(0), Some(2), Some(0), None]
        );
        let mut tall = ConfusionMatrix::new(3, 1);
        tall.add(&image(&[(0, Some(0)), (1, Some(0)), (1, Some(0))], &[0]))
            .expect("valid");
        assert_eq!(tall.channel_classes(true), vec![Some(1)]);
    }

    #[test]
    fn rectangular_assignments() {
        // More classes than channels: only one class can be matched.
        let mut m = ConfusionMatrix::new(3, 1);
        m.add(&image(
            &[(0, Some(0)), (1, Some(0)), (1, Some(0)), (2, Some(0))],
            &[0],
        ))
        .expect("valid");
        assert_eq!(m.ce_hungarian(), 0.5);
        // No matched motifs at all.
        let mut m = ConfusionMatrix::new(2, 2);
        m.add(&image(&[(0, None), (1, None)], &[0, 4]))
            .expect("valid");
        assert_eq!(
            m.errors(),
            MotifErrors {
                fpe: 1.0,
                fne: 1.0,
                ce: 0.0
            }
        );
        assert_eq!(
            ConfusionMatrix::new(0, 0).errors(),
            MotifErrors {
                fpe: 0.0,
                fne: 0.0,
                ce: 0.0
            }
        );
    }

    #[test]
    fn bad_indices_are_rejected_without_partial_updates() {
        let mut m = ConfusionMatrix::new(2, 2);
        assert!(
            m.add(&image(&[(0, Some(0)), (2, Some(0))], &[0, 0]))
                .is_err()
        );
        assert!(m.add(&image(&[(0, Some(5))], &[0, 0])).is_err());
        assert!(m.add(&image(&[], &[0, 0, 1])).is_err());
        assert_eq!(m, ConfusionMatrix::new(2, 2));
        assert!(m.merge(&ConfusionMatrix::new(2, 3)).is_err());
    }

    #[test]
    fn display_and_counts() {
        let mut m = ConfusionMatrix::new(2, 3);
        m.add(&image(&[(0, Some(1)), (1, None)], &[2, 0, 0]))
            .expect("valid");
        let text = m.to_string();
        assert!(text.contains("none"), "{text}");
        assert_eq!(text.lines().count(), 4);
        assert_eq!(m.counts().len(), 3 * 4);
        assert_eq!(m.get(Some(0), Some(1)), 1);
        assert_eq!(m.get(Some(1), None), 1);
        assert_eq!(m.get(None, Some(0)), 2);
        assert_eq!(m.get(None, None), 0);
    }
}
