//! Inference: greedy decoding, validation accuracy, and motif maps as host arrays.

use burn::prelude::*;
use burn::tensor::s;
use sparling_data::{Split, Vocabulary};

use crate::error::ModelError;
use crate::model::SparlingModel;
use crate::task::{Task, digit_classes};

/// Greedy decoding: start from `<s>`, append the argmax token up to `max_length` times, stop early
/// once every sequence has emitted `</s>` (the decoder is causal, so this cannot change any
/// output). Returns the sequences without `<s>`, cut at the first `</s>`.
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
    for step in 1..=max_length {
        let flat: Vec<i64> = tokens.iter().flatten().copied().collect();
        let prefix = Tensor::<2, Int>::from_data(TensorData::new(flat, [n, step]), &device);
        let logits = model.decode(prefix, memory.clone());
        let next = logits.slice(s![.., (step - 1)..step, ..]).argmax(2);
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

/// Post-sparsity motif maps of a batch as a host array `[batch, motifs, H, W]`.
///
/// # Errors
/// Model or device errors.
pub fn motif_maps_host(
    model: &SparlingModel,
    inputs: Tensor<4>,
) -> Result<(Vec<f32>, [usize; 4]), ModelError> {
    let maps = model.motif_maps(inputs)?;
    let dims = maps.dims();
    Ok((read_host(maps)?, dims))
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
    use super::best_channel;

    #[test]
    fn the_first_of_equal_maxima_wins() {
        assert_eq!(best_channel(&[0.1, 0.9, 0.3]), 1);
        assert_eq!(best_channel(&[0.5, 0.9, 0.9]), 1);
        assert_eq!(best_channel(&[-1.0, -1.0]), 0);
        assert_eq!(best_channel(&[]), 0);
    }
}
