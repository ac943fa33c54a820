//! Inference: greedy decoding, validation accuracy, and motif maps as host arrays.

use burn::prelude::*;
use sparling_data::{Split, Vocabulary};

use crate::error::ModelError;
use crate::model::SparlingModel;
use crate::task::{Task, digit_classes};

/// Greedy decoding: start from `<s>`, append the argmax token up to `max_length` times, stop early
/// once every sequence has emitted `</s>` (the decoder is causal, so this cannot change any
/// output). Returns the sequences without `<s>`, cut at the first `</s>`. Each step reuses the
/// earlier positions' projections ([`SparlingModel::decode_step`]; the same logits as the full
/// teacher-forced pass up to float rounding).
///
/// The model should be a validation copy ([`Module::valid`]).
///
/// # Errors
/// NaN/inf in the sparsity layer, or a failed device read.
pub fn greedy_decode(
    model: &SparlingModel,
    inputs: Tensor<4>,
    max_length: usize,
) -> Result<Vec<Vec<u32>>, ModelError> {
    let [n, ..] = inputs.dims();
    let device = inputs.device();
    let memory = model.encode(inputs)?;
    let bos = i64::from(Vocabulary::BOS_ID);
    let eos = i64::from(Vocabulary::EOS_ID);
    let mut tokens: Vec<Vec<i64>> = vec![vec![bos]; n];
    let mut cache = model.decoder_cache();
    for step in 1..=max_length {
        let flat: Vec<i64> = tokens.iter().flatten().copied().collect();
        let prefix = Tensor::<2, Int>::from_data(TensorData::new(flat, [n, step]), &device);
        let next = model
            .decode_step(prefix, memory.clone(), &mut cache)?
            .argmax(1);
        let next = next
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .map_err(|e| ModelError::TensorData(format!("{e:?}")))?;
        for (seq, t) in tokens.iter_mut().zip(next) {
            seq.push(t);
        }
        if tokens.iter().all(|seq| seq[1..].contains(&eos)) {
            break;
        }
    }
    Ok(tokens
        .into_iter()
        .map(|seq| {
            seq[1..]
                .iter()
                .take_while(|t| **t != eos)
                .map(|t| *t as u32)
                .collect()
        })
        .collect())
}

/// A predicted token sequence and its reference, both without `<s>`/`</s>`.
pub type Prediction = (Vec<u32>, Vec<u32>);

/// Predictions and references for `count` examples of `split`, decoded in batches of
/// `batch_size`. References are stripped of `<s>`/`</s>` like the predictions.
///
/// # Errors
/// Data or decoding errors.
pub fn predict(
    model: &SparlingModel,
    task: &dyn Task,
    split: Split,
    count: usize,
    batch_size: usize,
    max_length: usize,
    device: &Device,
) -> Result<Vec<Prediction>, ModelError> {
    let mut out = Vec::with_capacity(count);
    for_each_batch(
        task,
        split,
        count,
        batch_size,
        device,
        |_, targets, inputs| {
            let predicted = greedy_decode(model, inputs, max_length)?;
            for (p, t) in predicted.into_iter().zip(targets) {
                let reference = t[1..t.len().saturating_sub(1)].to_vec();
                out.push((p, reference));
            }
            Ok(())
        },
    )?;
    Ok(out)
}

/// Runs `f(start, targets, inputs)` on consecutive batches of at most `batch_size` of the
/// first `count` examples of `split`, the inputs on `device`.
///
/// # Errors
/// Data errors, or the first error of `f`.
pub fn for_each_batch(
    task: &dyn Task,
    split: Split,
    count: usize,
    batch_size: usize,
    device: &Device,
    mut f: impl FnMut(u64, Vec<Vec<u32>>, Tensor<4>) -> Result<(), ModelError>,
) -> Result<(), ModelError> {
    let mut start = 0;
    while start < count {
        let len = batch_size.max(1).min(count - start);
        let batch = task.batch(split, start as u64, len)?;
        let inputs = Tensor::from_data(TensorData::new(batch.inputs, batch.shape), device);
        f(start as u64, batch.targets, inputs)?;
        start += len;
    }
    Ok(())
}

/// Fraction of exactly matching sequences (the schedule's validation signal).
pub fn exact_match_accuracy(pairs: &[Prediction]) -> f64 {
    if pairs.is_empty() {
        return 0.0;
    }
    pairs.iter().filter(|(p, t)| p == t).count() as f64 / pairs.len() as f64
}

/// Fraction of `count` single-digit examples of `split` whose largest channel maximum is their
/// digit's channel (the direct objective's validation signal).
///
/// # Errors
/// Data or model errors, or targets that are not single digits.
pub fn digit_accuracy(
    model: &SparlingModel,
    task: &dyn Task,
    split: Split,
    count: usize,
    batch_size: usize,
    device: &Device,
) -> Result<f64, ModelError> {
    let mut correct = 0usize;
    for_each_batch(
        task,
        split,
        count,
        batch_size,
        device,
        |_, targets, inputs| {
            let classes = digit_classes(&targets)?;
            let maxima = model.spatial_maxima(inputs)?;
            let channels = maxima.dims()[1];
            let maxima = read_host(maxima)?;
            correct += maxima
                .chunks(channels.max(1))
                .zip(&classes)
                .filter(|(row, class)| best_channel(row) as i64 == **class)
                .count();
            Ok(())
        },
    )?;
    Ok(correct as f64 / count.max(1) as f64)
}

/// The channel with the largest value (the first of equal ones): the digit a row of channel
/// maxima is read as, by the direct objective and the direct evaluation alike.
pub fn best_channel(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold(None::<(usize, f32)>, |best, (c, &v)| match best {
            Some((_, b)) if b.total_cmp(&v).is_ge() => best,
            _ => Some((c, v)),
        })
        .map_or(0, |(c, _)| c)
}

/// Post-sparsity motif maps of a batch as a host array `[batch, motifs, H, W]` at the input's
/// resolution: what the motif metrics, densities and pictures read. Coarser maps (one cell per
/// `s x s` pixels, [`SparlingModel::map_stride`] `s > 1`) are spread onto the pixel grid with
/// each cell's value at its centre pixel `(s · i + s / 2, s · j + s / 2)` and zeros elsewhere
/// ([`place_at_cell_centres`]).
///
/// # Errors
/// Model or device errors.
pub fn motif_maps_host(
    model: &SparlingModel,
    inputs: Tensor<4>,
) -> Result<(Vec<f32>, [usize; 4]), ModelError> {
    let maps = model.motif_maps(inputs)?;
    let dims = maps.dims();
    let values = read_host(maps)?;
    Ok(place_at_cell_centres(&values, dims, model.map_stride()))
}

/// `[N, C, h, w]` map cells to a `[N, C, h · s, w · s]` pixel map holding each cell's value
/// at the cell's centre pixel (row `s · i + s / 2`, column `s · j + s / 2`), zeros elsewhere;
/// the values themselves for `s = 1`. Any `s` consecutive rows (columns) hold one centre row
/// (column), so every footprint at least `s` pixels high and wide holds a centre: for `s` ≤ 5,
/// every LaTeX symbol box after its 2-pixel padding, the one-pixel fraction bar included.
pub fn place_at_cell_centres(
    values: &[f32],
    [n, c, h, w]: [usize; 4],
    s: usize,
) -> (Vec<f32>, [usize; 4]) {
    if s <= 1 {
        return (values.to_vec(), [n, c, h, w]);
    }
    let (height, width) = (h * s, w * s);
    let mut out = vec![0.0; n * c * height * width];
    for (src, dst) in values
        .chunks_exact(h * w)
        .zip(out.chunks_exact_mut(height * width))
    {
        for i in 0..h {
            let row = (s * i + s / 2) * width;
            for j in 0..w {
                dst[row + s * j + s / 2] = src[i * w + j];
            }
        }
    }
    (out, [n, c, height, width])
}

/// A tensor's values on the host as `f32`.
///
/// # Errors
/// A failed read from the device.
pub fn read_host<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, ModelError> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| ModelError::TensorData(format!("{e:?}")))
}

#[cfg(test)]
mod best_channel_tests {
    use super::{best_channel, place_at_cell_centres};

    #[test]
    fn cell_values_stand_at_their_centre_pixels() {
        // [1, 2, 2, 3] cells of 4x4 pixels -> [1, 2, 8, 12].
        let values: Vec<f32> = (1..=12).map(|v| v as f32).collect();
        let (map, dims) = place_at_cell_centres(&values, [1, 2, 2, 3], 4);
        assert_eq!(dims, [1, 2, 8, 12]);
        assert_eq!(map.iter().filter(|v| **v != 0.0).count(), 12);
        // Channel 1, cell (1, 2) = value 12 at pixel (4 + 2, 8 + 2).
        assert_eq!(map[96 + 6 * 12 + 10], 12.0);
        // Channel 0, cell (0, 0) = value 1 at pixel (2, 2).
        assert_eq!(map[2 * 12 + 2], 1.0);
        let (same, dims) = place_at_cell_centres(&values, [1, 2, 2, 3], 1);
        assert_eq!((same, dims), (values, [1, 2, 2, 3]));
        // Any 4 consecutive pixels hold one centre: a box padded to 4 rows is never missed.
        for start in 0..4 {
            assert_eq!((start..start + 4).filter(|r| r % 4 == 2).count(), 1);
        }
    }

    #[test]
    fn the_first_of_equal_maxima_wins() {
        assert_eq!(best_channel(&[0.1, 0.9, 0.3]), 1);
        assert_eq!(best_channel(&[0.5, 0.9, 0.9]), 1);
        assert_eq!(best_channel(&[-1.0, -1.0]), 0);
        assert_eq!(best_channel(&[]), 0);
    }
}

#[cfg(test)]
mod decode_tests {
    use burn::module::Module;
    use burn::prelude::*;
    use burn::tensor::s;
    use sparling_data::{Split, Vocabulary};

    use super::greedy_decode;
    use crate::{Domain, presets};

    /// Greedy decoding with the full teacher-forced pass at every step (what `greedy_decode`
    /// did before it used the decoder's cache).
    fn full_pass_decode(
        model: &crate::model::SparlingModel,
        inputs: Tensor<4>,
        max_length: usize,
    ) -> Vec<Vec<i64>> {
        let [n, ..] = inputs.dims();
        let device = inputs.device();
        let memory = model.encode(inputs).expect("memory");
        let mut tokens = vec![vec![i64::from(Vocabulary::BOS_ID)]; n];
        for step in 1..=max_length {
            let flat: Vec<i64> = tokens.iter().flatten().copied().collect();
            let prefix = Tensor::<2, Int>::from_data(TensorData::new(flat, [n, step]), &device);
            let next = model
                .decode(prefix, memory.clone())
                .slice(s![.., (step - 1)..step, ..])
                .argmax(2)
                .into_data()
                .convert::<i64>()
                .try_into_vec::<i64>()
                .expect("ids");
            for (seq, t) in tokens.iter_mut().zip(next) {
                seq.push(t);
            }
        }
        tokens
    }

    /// The cached decode gives the full pass's tokens, on every domain's tiny model, for every
    /// sequence up to its first `</s>` (sequences that finish early keep being decoded by
    /// both until all are done).
    #[test]
    fn cached_greedy_decoding_matches_the_full_pass() {
        let device = Device::flex();
        for domain in [Domain::DigitCircle, Domain::Latex] {
            device.seed(11);
            let config = presets::get(domain, "tiny", 1).expect("tiny");
            let model = config.model.init(&device).expect("model").valid();
            let batch = config
                .domain
                .task()
                .expect("task")
                .batch(Split::Val, 0, 5)
                .expect("batch");
            let inputs =
                Tensor::<4>::from_data(TensorData::new(batch.inputs, batch.shape), &device);
            let max_length = 9;
            let cached = greedy_decode(&model, inputs.clone(), max_length).expect("decode");
            let full = full_pass_decode(&model, inputs, max_length);
            let eos = i64::from(Vocabulary::EOS_ID);
            for (c, f) in cached.iter().zip(&full) {
                let f: Vec<u32> = f[1..]
                    .iter()
                    .take_while(|t| **t != eos)
                    .map(|t| *t as u32)
                    .collect();
                assert_eq!(c, &f, "{domain}");
            }
        }
    }
}
