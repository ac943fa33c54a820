//! Host batches to tensors: teacher-forcing inputs, shifted targets and the loss mask.

use burn::prelude::*;
use sparling_data::Vocabulary;

use crate::task::Batch;

/// A batch on the device.
#[derive(Debug, Clone)]
pub struct TensorBatch {
    /// `[batch, C, H, W]` inputs.
    pub inputs: Tensor<4>,
    /// `[batch, L]` decoder inputs: `<s> y₁ … yₙ`, padded with `</s>`.
    pub decoder_inputs: Tensor<2, Int>,
    /// `[batch, L]` targets: `y₁ … yₙ </s>`, padded with `</s>`.
    pub targets: Tensor<2, Int>,
    /// `[batch, L]` 1.0 where the target is part of the sequence (the digits and the first
    /// `</s>`), 0.0 on padding.
    pub mask: Tensor<2>,
}

impl TensorBatch {
    /// Move a host batch to `device`.
    pub fn new(batch: &Batch, device: &Device) -> Self {
        let n = batch.targets.len();
        let len = batch.targets.iter().map(Vec::len).max().unwrap_or(2).max(2) - 1;
        let eos = i64::from(Vocabulary::EOS_ID);
        let mut inputs = vec![eos; n * len];
        let mut targets = vec![eos; n * len];
        let mut mask = vec![0f32; n * len];
        for (i, seq) in batch.targets.iter().enumerate() {
            for j in 0..seq.len().saturating_sub(1) {
                inputs[i * len + j] = i64::from(seq[j]);
                targets[i * len + j] = i64::from(seq[j + 1]);
                mask[i * len + j] = 1.0;
            }
        }
        Self {
            inputs: Tensor::from_data(TensorData::new(batch.inputs.clone(), batch.shape), device),
            decoder_inputs: Tensor::from_data(TensorData::new(inputs, [n, len]), device),
            targets: Tensor::from_data(TensorData::new(targets, [n, len]), device),
            mask: Tensor::from_data(TensorData::new(mask, [n, len]), device),
        }
    }
}

/// Mean token cross-entropy over the unmasked positions (PyTorch `CrossEntropyLoss` on the kept
/// tokens).
///
/// # Shapes
/// `logits [batch, L, vocab]`, `targets [batch, L]`, `mask [batch, L]` -> scalar `[1]`
pub fn masked_cross_entropy(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    mask: Tensor<2>,
) -> Tensor<1> {
    let [n, l, _] = logits.dims();
    let log_probs = burn::tensor::activation::log_softmax(logits, 2);
    let picked = log_probs
        .gather(2, targets.reshape([n, l, 1]))
        .reshape([n, l]);
    let count = mask.clone().sum();
    -(picked * mask).sum() / count
}

/// Mean cross-entropy of class logits against class indices (PyTorch `CrossEntropyLoss`).
///
/// # Shapes
/// `logits [batch, classes]`, `classes [batch]` -> scalar `[1]`
pub fn cross_entropy(logits: Tensor<2>, classes: Tensor<1, Int>) -> Tensor<1> {
    let [n, _] = logits.dims();
    let log_probs = burn::tensor::activation::log_softmax(logits, 1);
    -log_probs.gather(1, classes.reshape([n, 1])).mean()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_and_masks() {
        let batch = Batch {
            inputs: vec![0.0; 2],
            shape: [2, 1, 1, 1],
            targets: vec![vec![0, 5, 6, 1], vec![0, 7, 1]],
        };
        let t = TensorBatch::new(&batch, &Device::flex());
        let ints = |x: Tensor<2, Int>| {
            x.into_data()
                .convert::<i64>()
                .try_into_vec::<i64>()
                .expect("ints")
        };
        assert_eq!(ints(t.decoder_inputs), vec![0, 5, 6, 0, 7, 1]);
        assert_eq!(ints(t.targets), vec![5, 6, 1, 7, 1, 1]);
        let mask = t
            .mask
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("floats");
        assert_eq!(mask, vec![1.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
    }

    #[test]
    fn cross_entropy_ignores_padding() {
        let device = Device::flex();
        // Uniform logits over 4 tokens: loss ln 4 whatever the targets and mask.
        let logits = Tensor::<3>::zeros([1, 3, 4], &device);
        let targets =
            Tensor::<2, Int>::from_data(TensorData::new(vec![1i64, 2, 3], [1, 3]), &device);
        let mask = Tensor::<2>::from_floats([[1.0, 1.0, 0.0]], &device);
        let loss: f32 = masked_cross_entropy(logits, targets, mask).into_scalar();
        assert!((loss - 4f32.ln()).abs() < 1e-6);
    }

    #[test]
    fn class_cross_entropy_is_the_mean_negative_log_likelihood() {
        let device = Device::flex();
        // Row 0 puts all mass on class 1 (loss ~0); row 1 is uniform over 2 (loss ln 2).
        let logits = Tensor::<2>::from_floats([[-50.0, 50.0], [0.0, 0.0]], &device);
        let classes = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 0], [2]), &device);
        let loss: f32 = cross_entropy(logits, classes).into_scalar();
        assert!((loss - 2f32.ln() / 2.0).abs() < 1e-5, "{loss}");
    }
}
