//! The batch threshold: the k-th smallest value of each channel.
//!
//! The reference uses `torch.kthvalue(x, k)` with `k = max(1, int(rows * sparsity))`. burn has no
//! `kthvalue`; its `topk` sorts the whole row on the CPU backend (flex). The default
//! [`KthMethod::Select`] copies the detached activations to the host once and runs an O(n)
//! selection per channel instead: the whole layer, forward and backward, takes 8 ms instead of
//! 55 ms at the paper's `[10, 10, 100, 100]` and 234 ms instead of 894 ms at the LaTeX shape
//! `[8, 32, 120, 360]` (criterion, 2-core machine; `docs/benchmarks.md`). Both methods return
//! the same value bit for bit.

use burn::prelude::*;
use burn::tensor::s;
use rayon::prelude::*;

use crate::error::CoreError;

/// How the k-th smallest value per channel is computed.
#[derive(Config, Copy, Debug, PartialEq, Eq)]
pub enum KthMethod {
    /// Copy the detached activations to the host and use an O(n) selection per channel.
    Select,
    /// Stay on the device: `topk(rows - k + 1)` of the detached `[C, rows]` view, last column.
    TopK,
}

// `#[derive(Default)]` with `#[default]` does not compose with burn's `Config` derive.
#[allow(clippy::derivable_impls)]
impl Default for KthMethod {
    fn default() -> Self {
        Self::Select
    }
}

/// `k = max(1, floor(rows * sparsity))`, clamped to `rows`, exactly as the reference computes it
/// (`int(N * self.sparsity)` in Python floats).
pub fn kth_index(rows: usize, sparsity: f64) -> usize {
    let k = (rows as f64 * sparsity).floor() as usize;
    k.clamp(1, rows.max(1))
}

/// The k-th smallest value (1-indexed) of each channel of host data laid out `[channels, rows]`.
///
/// # Errors
/// [`CoreError::NonFiniteInput`] if any value is NaN or infinite: a threshold computed from such
/// data would be silently wrong.
pub fn kth_smallest_host(
    data: &mut [f32],
    channels: usize,
    k: usize,
) -> Result<Vec<f32>, CoreError> {
    let rows = data.len() / channels.max(1);
    // Channels are independent: one selection per rayon task (the values do not depend on
    // the thread count; the first bad channel is reported, as sequentially).
    let selected: Vec<Result<f32, CoreError>> = data
        .par_chunks_mut(rows.max(1))
        .take(channels)
        .enumerate()
        .map(|(channel, row)| {
            if let Some(&value) = row.iter().find(|v| !v.is_finite()) {
                return Err(CoreError::NonFiniteInput { channel, value });
            }
            let (_, kth, _) = row.select_nth_unstable_by(k - 1, f32::total_cmp);
            Ok(*kth)
        })
        .collect();
    selected.into_iter().collect()
}

/// The k-th smallest value of each row of a `[channels, rows]` tensor, computed with `method`.
/// The tensor should be detached; the result is a host vector of length `channels`.
///
/// # Errors
/// Non-finite input values, or a failed read from the device.
pub fn kth_smallest(flat: Tensor<2>, k: usize, method: KthMethod) -> Result<Vec<f32>, CoreError> {
    let [channels, rows] = flat.dims();
    let values = match method {
        KthMethod::Select => {
            let mut data = read_f32(flat)?;
            return kth_smallest_host(&mut data, channels, k);
        }
        KthMethod::TopK => {
            let keep = rows - k + 1;
            flat.topk(keep, 1).slice(s![.., (keep - 1)..keep])
        }
    };
    let values = read_f32(values)?;
    if let Some((channel, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(CoreError::NonFiniteInput { channel, value });
    }
    Ok(values)
}

/// Read a float tensor back to the host as `f32`.
///
/// # Errors
/// [`CoreError::TensorData`] if the backend cannot produce the data.
pub(crate) fn read_f32<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, CoreError> {
    tensor
        .try_into_data()
        .map_err(|e| CoreError::TensorData(format!("{e:?}")))?
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| CoreError::TensorData(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kth_index_matches_python_int() {
        // Python's `int(rows * sparsity)` in the authors' `sparling/sparsity.py`
        // (kavigupta/sparling): 100,000 rows at density 5.0226e-5 -> k = 99,994.
        assert_eq!(kth_index(100_000, 1.0 - 5.022621286032e-05), 99_994);
        assert_eq!(kth_index(10, 0.0), 1);
        assert_eq!(kth_index(10, 0.95), 9);
        assert_eq!(kth_index(1, 0.99), 1);
    }

    #[test]
    fn rejects_nan() {
        let mut data = vec![1.0, f32::NAN, 3.0, 4.0];
        let err = kth_smallest_host(&mut data, 2, 1).expect_err("nan must be rejected");
        assert!(matches!(err, CoreError::NonFiniteInput { channel: 0, .. }));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Both methods agree with a full sort, bit for bit, ties included.
        #[test]
        fn select_and_topk_match_sort(
            channels in 1usize..5,
            rows in 1usize..300,
            seed in any::<u64>(),
            k_frac in 0.0f64..1.0,
            ties in any::<bool>(),
        ) {
            let mut state = seed | 1;
            let data: Vec<f32> = (0..channels * rows)
                .map(|_| {
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                    let v = (state % 1000) as f32 / 100.0 - 5.0;
                    if ties { v.round() } else { v }
                })
                .collect();
            let k = kth_index(rows, k_frac);
            let mut expected = Vec::new();
            for row in data.chunks(rows) {
                let mut sorted = row.to_vec();
                sorted.sort_by(f32::total_cmp);
                expected.push(sorted[k - 1]);
            }
            let device = Device::flex();
            let tensor = Tensor::<2>::from_data(TensorData::new(data.clone(), [channels, rows]), &device);
            let select = kth_smallest(tensor.clone(), k, KthMethod::Select).expect("finite");
            let topk = kth_smallest(tensor, k, KthMethod::TopK).expect("finite");
            prop_assert_eq!(&select, &expected);
            prop_assert_eq!(&topk, &expected);
        }
    }
}
