//! Matching a motif map against ground-truth motif footprints (`categorize_relationships` with
//! `handle_multi=False` in the authors' `pixel_art/analysis/evaluate_motifs.py`,
//! kavigupta/sparling-repro; docs/metrics.md).
//!
//! Per image, footprints are consumed in the order given (placement order for DigitCircle):
//!
//! 1. `v[c]` = max of channel `c` over the footprint (positions already consumed count as 0);
//! 2. the prediction is "none" if every `v[c] == 0`, else the first channel with the largest
//!    `v[c]`;
//! 3. the footprint is zeroed in every channel, so overlapping footprints never share an
//!    activation.
//!
//! Afterwards **every** remaining nonzero `(channel, row, col)` is one false positive.
//!
//! Maps are `[C, H, W]`; a 1-D (audio) map is `[C, T, 1]` (frames along `H`, `W = 1`, as the
//! sequence model emits it) with [`Footprint::span`] footprints.
//! Values are compared with numpy's semantics: negative values are "nonzero", and NaN
//! propagates through the max and wins the argmax.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::error::MetricsError;

/// The region a true motif occupies (its "footprint"): half-open rows × columns.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Footprint {
    /// Rows, half-open.
    pub rows: Range<usize>,
    /// Columns, half-open.
    pub cols: Range<usize>,
}

impl Footprint {
    /// A 2-D box.
    #[must_use]
    pub fn new(rows: Range<usize>, cols: Range<usize>) -> Self {
        Self { rows, cols }
    }

    /// A 1-D span `start..end` of frames in a `[C, T, 1]` map (audio).
    #[must_use]
    pub fn span(range: Range<usize>) -> Self {
        Self {
            rows: range,
            cols: 0..1,
        }
    }

    /// Grown by `pad` on every side, clipped at 0 (the LaTeX evaluation uses `pad = 2`:
    /// `slice(max(0, min - pad), max + pad + 1)`). The far side is clipped to the map when the
    /// footprint is used, as numpy slicing does; a 1-D span's column range therefore stays `0..1`.
    #[must_use]
    pub fn padded(&self, pad: usize) -> Self {
        Self {
            rows: self.rows.start.saturating_sub(pad)..self.rows.end.saturating_add(pad),
            cols: self.cols.start.saturating_sub(pad)..self.cols.end.saturating_add(pad),
        }
    }

    /// Clipped to a `height × width` map, or `None` if nothing is left.
    fn clip(&self, height: usize, width: usize) -> Option<(Range<usize>, Range<usize>)> {
        let rows = self.rows.start.min(height)..self.rows.end.min(height);
        let cols = self.cols.start.min(width)..self.cols.end.min(width);
        (!rows.is_empty() && !cols.is_empty()).then_some((rows, cols))
    }
}

/// A ground-truth motif: its class (e.g. the digit) and footprint.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TrueMotif {
    /// Class index in `0..num_classes`.
    pub class: usize,
    /// Where it is.
    pub footprint: Footprint,
}

impl TrueMotif {
    /// A true motif of `class` over `rows × cols`.
    #[must_use]
    pub fn new(class: usize, rows: Range<usize>, cols: Range<usize>) -> Self {
        Self {
            class,
            footprint: Footprint::new(rows, cols),
        }
    }
}

/// A dense `[C, H, W]` activation map (row-major), borrowed.
#[derive(Clone, Copy, Debug)]
pub struct MotifMap<'a> {
    data: &'a [f32],
    channels: usize,
    height: usize,
    width: usize,
}

impl<'a> MotifMap<'a> {
    /// Wraps `data` laid out as `[channels, height, width]`.
    ///
    /// # Errors
    /// [`MetricsError::ShapeMismatch`] if `data.len() != channels * height * width`.
    pub fn new(
        data: &'a [f32],
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<Self, MetricsError> {
        check_len(data.len(), &[channels, height, width])?;
        Ok(Self {
            data,
            channels,
            height,
            width,
        })
    }

    /// Splits a `[N, C, H, W]` batch into its `N` maps.
    ///
    /// # Errors
    /// [`MetricsError::ShapeMismatch`] if the length is not `n * c * h * w`.
    pub fn batch(
        data: &'a [f32],
        n: usize,
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<Vec<Self>, MetricsError> {
        check_len(data.len(), &[n, channels, height, width])?;
        let per_image = channels * height * width;
        if per_image == 0 {
            return Ok((0..n)
                .map(|_| Self {
                    data: &[],
                    channels,
                    height,
                    width,
                })
                .collect());
        }
        Ok(data
            .chunks_exact(per_image)
            .map(|chunk| Self {
                data: chunk,
                channels,
                height,
                width,
            })
            .collect())
    }

    /// Number of channels.
    #[must_use]
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Height.
    #[must_use]
    pub fn height(&self) -> usize {
        self.height
    }

    /// Width.
    #[must_use]
    pub fn width(&self) -> usize {
        self.width
    }

    /// Fraction of nonzero activations (the density δ).
    #[must_use]
    pub fn density(&self) -> f64 {
        if self.data.is_empty() {
            return 0.0;
        }
        self.data.iter().filter(|&&v| v != 0.0).count() as f64 / self.data.len() as f64
    }

    fn channel(&self, c: usize) -> &'a [f32] {
        let plane = self.height * self.width;
        &self.data[c * plane..(c + 1) * plane]
    }
}

/// One nonzero activation of a sparse map.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Activation {
    /// Channel.
    pub channel: usize,
    /// Row (0 for 1-D maps).
    pub row: usize,
    /// Column (time step for 1-D maps).
    pub col: usize,
    /// Value; zeros are ignored.
    pub value: f32,
}

/// A `[C, H, W]` map given as its nonzero entries; every unlisted position is 0.
#[derive(Clone, Debug, PartialEq)]
pub struct SparseMotifMap {
    channels: usize,
    height: usize,
    width: usize,
    entries: Vec<Activation>,
}

impl SparseMotifMap {
    /// Validates the entries: inside the map, each position listed at most once.
    ///
    /// # Errors
    /// [`MetricsError::EntryOutOfRange`] or [`MetricsError::DuplicateEntry`].
    pub fn new(
        channels: usize,
        height: usize,
        width: usize,
        entries: Vec<Activation>,
    ) -> Result<Self, MetricsError> {
        for e in &entries {
            if e.channel >= channels || e.row >= height || e.col >= width {
                return Err(MetricsError::EntryOutOfRange {
                    channel: e.channel,
                    row: e.row,
                    col: e.col,
                    channels,
                    height,
                    width,
                });
            }
        }
        let mut keys: Vec<(usize, usize, usize)> =
            entries.iter().map(|e| (e.channel, e.row, e.col)).collect();
        keys.sort_unstable();
        if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
            let (channel, row, col) = w[0];
            return Err(MetricsError::DuplicateEntry { channel, row, col });
        }
        Ok(Self {
            channels,
            height,
            width,
            entries,
        })
    }

    /// The nonzero entries of a dense map.
    #[must_use]
    pub fn from_dense(map: &MotifMap<'_>) -> Self {
        let plane = map.height * map.width;
        let entries = map
            .data
            .iter()
            .enumerate()
            .filter(|&(_, &v)| v != 0.0)
            .map(|(i, &value)| Activation {
                channel: i / plane.max(1),
                row: (i % plane.max(1)) / map.width.max(1),
                col: i % map.width.max(1),
                value,
            })
            .collect();
        Self {
            channels: map.channels,
            height: map.height,
            width: map.width,
            entries,
        }
    }

    /// Number of channels.
    #[must_use]
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The listed entries.
    #[must_use]
    pub fn entries(&self) -> &[Activation] {
        &self.entries
    }
}

/// Outcome for one true motif.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteOutcome {
    /// The true class.
    pub class: usize,
    /// The predicted channel, or `None` if nothing fired in the footprint (a false negative).
    pub channel: Option<usize>,
}

/// Result of matching one image: one outcome per true motif (in the given order) and the
/// number of false-positive activations left in each channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Categorized {
    /// Outcomes, in footprint order.
    pub sites: Vec<SiteOutcome>,
    /// `false_positives[c]` = nonzero entries of channel `c` outside every footprint.
    pub false_positives: Vec<u64>,
}

/// Matches a dense map against its true motifs.
///
/// # Errors
/// [`MetricsError::EmptyFootprint`] if a footprint lies entirely outside the map.
pub fn categorize(map: &MotifMap<'_>, truths: &[TrueMotif]) -> Result<Categorized, MetricsError> {
    let (h, w) = (map.height, map.width);
    let mut consumed = vec![false; h * w];
    let mut sites = Vec::with_capacity(truths.len());
    let mut box_max = vec![0.0f32; map.channels];
    for (index, truth) in truths.iter().enumerate() {
        let (rows, cols) = clip_or_err(truth, index, h, w)?;
        for (c, slot) in box_max.iter_mut().enumerate() {
            let plane = map.channel(c);
            let mut m = f32::NEG_INFINITY;
            for r in rows.clone() {
                for q in cols.clone() {
                    let v = if consumed[r * w + q] {
                        0.0
                    } else {
                        plane[r * w + q]
                    };
                    m = numpy_max(m, v);
                }
            }
            *slot = m;
        }
        for r in rows.clone() {
            consumed[r * w + cols.start..r * w + cols.end].fill(true);
        }
        sites.push(SiteOutcome {
            class: truth.class,
            channel: prediction(&box_max),
        });
    }
    let false_positives = (0..map.channels)
        .map(|c| {
            map.channel(c)
                .iter()
                .zip(&consumed)
                .filter(|&(&v, &used)| !used && v != 0.0)
                .count() as u64
        })
        .collect();
    Ok(Categorized {
        sites,
        false_positives,
    })
}

/// Matches a sparse map against its true motifs; same result as [`categorize`] on the
/// equivalent dense map.
///
/// # Errors
/// [`MetricsError::EmptyFootprint`] if a footprint lies entirely outside the map.
pub fn categorize_sparse(
    map: &SparseMotifMap,
    truths: &[TrueMotif],
) -> Result<Categorized, MetricsError> {
    let (h, w) = (map.height, map.width);
    let mut used = vec![false; map.entries.len()];
    let mut sites = Vec::with_capacity(truths.len());
    let mut box_max = vec![0.0f32; map.channels];
    let mut listed = vec![0usize; map.channels];
    for (index, truth) in truths.iter().enumerate() {
        let (rows, cols) = clip_or_err(truth, index, h, w)?;
        let area = rows.len() * cols.len();
        box_max.fill(f32::NEG_INFINITY);
        listed.fill(0);
        for (e, taken) in map.entries.iter().zip(used.iter_mut()) {
            if rows.contains(&e.row) && cols.contains(&e.col) {
                if !*taken {
                    box_max[e.channel] = numpy_max(box_max[e.channel], e.value);
                    listed[e.channel] += 1;
                }
                *taken = true;
            }
        }
        // Unlisted (and consumed) positions are zeros, and take part in the max.
        for (m, &n) in box_max.iter_mut().zip(&listed) {
            if n < area {
                *m = numpy_max(*m, 0.0);
            }
        }
        sites.push(SiteOutcome {
            class: truth.class,
            channel: prediction(&box_max),
        });
    }
    let mut false_positives = vec![0u64; map.channels];
    for (e, &taken) in map.entries.iter().zip(&used) {
        if !taken && e.value != 0.0 {
            false_positives[e.channel] += 1;
        }
    }
    Ok(Categorized {
        sites,
        false_positives,
    })
}

/// `np.maximum`-style max: NaN wins.
fn numpy_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.max(b)
    }
}

/// "none" if all maxima are 0, else `np.argmax` (first maximum; first NaN if any).
fn prediction(box_max: &[f32]) -> Option<usize> {
    if box_max.iter().all(|&v| v == 0.0) {
        return None;
    }
    if let Some(i) = box_max.iter().position(|v| v.is_nan()) {
        return Some(i);
    }
    let mut best = 0;
    for (i, &v) in box_max.iter().enumerate() {
        if v > box_max[best] {
            best = i;
        }
    }
    Some(best)
}

fn clip_or_err(
    truth: &TrueMotif,
    index: usize,
    height: usize,
    width: usize,
) -> Result<(Range<usize>, Range<usize>), MetricsError> {
    truth
        .footprint
        .clip(height, width)
        .ok_or_else(|| MetricsError::EmptyFootprint {
            index,
            rows: truth.footprint.rows.clone(),
            cols: truth.footprint.cols.clone(),
            height,
            width,
        })
}

fn check_len(len: usize, shape: &[usize]) -> Result<(), MetricsError> {
    let expected = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .unwrap_or(usize::MAX);
    if len == expected {
        Ok(())
    } else {
        Err(MetricsError::ShapeMismatch {
            shape: shape.to_vec(),
            expected,
            got: len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_with(c: usize, h: usize, w: usize, set: &[(usize, usize, usize, f32)]) -> Vec<f32> {
        let mut data = vec![0.0; c * h * w];
        for &(ch, r, q, v) in set {
            data[(ch * h + r) * w + q] = v;
        }
        data
    }

    #[test]
    fn argmax_takes_first_maximum_and_box_is_consumed() {
        // Two channels tie inside the box: channel 0 wins. The outside activation is an FP.
        let data = map_with(3, 4, 4, &[(1, 0, 0, 2.0), (2, 1, 1, 2.0), (0, 3, 3, 0.5)]);
        let map = MotifMap::new(&data, 3, 4, 4).expect("shape");
        let truths = [TrueMotif::new(7, 0..2, 0..2)];
        let out = categorize(&map, &truths).expect("valid");
        assert_eq!(
            out.sites,
            vec![SiteOutcome {
                class: 7,
                channel: Some(1)
            }]
        );
        assert_eq!(out.false_positives, vec![1, 0, 0]);
        assert_eq!(
            categorize_sparse(&SparseMotifMap::from_dense(&map), &truths),
            Ok(out)
        );
    }

    #[test]
    fn overlapping_boxes_do_not_share_activations() {
        let data = map_with(2, 3, 6, &[(0, 1, 2, 1.0)]);
        let map = MotifMap::new(&data, 2, 3, 6).expect("shape");
        let truths = [TrueMotif::new(0, 0..3, 0..3), TrueMotif::new(1, 0..3, 2..5)];
        let out = categorize(&map, &truths).expect("valid");
        assert_eq!(out.sites[0].channel, Some(0));
        assert_eq!(out.sites[1].channel, None);
        assert_eq!(out.false_positives, vec![0, 0]);
    }

    #[test]
    fn negative_values_follow_numpy() {
        // A negative activation is "nonzero": but inside a box the zeros around it win the max
        // unless the whole box is negative.
        let data = map_with(
            1,
            4,
            1,
            &[(0, 0, 0, -1.0), (0, 1, 0, -2.0), (0, 3, 0, -0.5)],
        );
        let map = MotifMap::new(&data, 1, 4, 1).expect("shape");
        let out = categorize(
            &map,
            &[TrueMotif {
                class: 0,
                footprint: Footprint::span(0..2),
            }],
        )
        .expect("valid");
        assert_eq!(out.sites[0].channel, Some(0)); // max = -1 != 0
        assert_eq!(out.false_positives, vec![1]);
        let out2 = categorize(
            &map,
            &[TrueMotif {
                class: 0,
                footprint: Footprint::span(0..3),
            }],
        )
        .expect("valid");
        assert_eq!(out2.sites[0].channel, None); // max = 0
        let sparse = SparseMotifMap::from_dense(&map);
        assert_eq!(
            categorize_sparse(
                &sparse,
                &[TrueMotif {
                    class: 0,
                    footprint: Footprint::span(0..3)
                }]
            ),
            Ok(out2)
        );
    }

    #[test]
    fn padding_clips_like_numpy() {
        let f = Footprint::new(1..3, 5..7).padded(2);
        assert_eq!(f, Footprint::new(0..5, 3..9));
        assert_eq!(f.clip(4, 8), Some((0..4, 3..8)));
        assert_eq!(
            Footprint::span(3..4).padded(2).clip(10, 1),
            Some((1..6, 0..1))
        );
        let data = vec![0.0; 4];
        let map = MotifMap::new(&data, 1, 2, 2).expect("shape");
        assert!(matches!(
            categorize(&map, &[TrueMotif::new(0, 5..6, 0..1)]),
            Err(MetricsError::EmptyFootprint { index: 0, .. })
        ));
    }

    #[test]
    fn shapes_and_entries_are_checked() {
        assert!(MotifMap::new(&[0.0; 5], 1, 2, 2).is_err());
        assert_eq!(
            MotifMap::batch(&[0.0; 8], 2, 1, 2, 2).map(|v| v.len()),
            Ok(2)
        );
        let e = |channel, row, col| Activation {
            channel,
            row,
            col,
            value: 1.0,
        };
        assert!(SparseMotifMap::new(2, 2, 2, vec![e(2, 0, 0)]).is_err());
        assert!(matches!(
            SparseMotifMap::new(2, 2, 2, vec![e(1, 0, 1), e(1, 0, 1)]),
            Err(MetricsError::DuplicateEntry { .. })
        ));
    }
}
