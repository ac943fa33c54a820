//! TopK: per sample and channel, the `k` largest activations survive (then a ReLU, as in TopK
//! autoencoders); everything else is zero. The density is `k / positions` by construction, so
//! no schedule and no running state are involved, and training and inference behave alike.

use burn::prelude::*;
use burn::tensor::activation::relu;

use super::{check_maps, expand_groups, require};
use crate::error::CoreError;
use crate::threshold::{kth_smallest_host, read_f32};

/// Configuration of [`TopK`].
#[derive(Config, Debug)]
pub struct TopKConfig {
    /// Activations kept per sample and channel (at least 1; capped at the number of positions).
    pub k: usize,
}

impl TopKConfig {
    /// Build the layer.
    ///
    /// # Errors
    /// [`CoreError::InvalidMethodParameter`] for `k = 0`.
    pub fn init(&self) -> Result<TopK, CoreError> {
        require(self.k >= 1, "TopK", "k", self.k as f64, "at least 1")?;
        Ok(TopK { k: self.k })
    }
}

/// The TopK bottleneck (no parameters).
#[derive(Module, Debug)]
pub struct TopK {
    k: usize,
}

impl TopK {
    /// Activations kept per sample and channel.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Keep the `k` largest values of each `[sample, channel]` map, zero the rest, then ReLU.
    /// Ties at the k-th value all survive. The gradient reaches exactly the survivors.
    ///
    /// # Shapes
    /// `[batch, channels, ...spatial] -> same`
    ///
    /// # Errors
    /// A rank below 3, an empty input, or a NaN/inf value.
    pub fn try_forward<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>, CoreError> {
        let dims = check_maps(&x, None)?;
        let maps = dims[0] * dims[1];
        let positions = dims.iter().product::<usize>() / maps;
        let k = self.k.min(positions);
        // Row `n * C + c` holds the map of sample n, channel c.
        let mut data = read_f32(x.clone().detach().reshape([maps, positions]))?;
        // The k-th largest is the (positions - k + 1)-th smallest.
        let kth = kth_smallest_host(&mut data, maps, positions - k + 1)?;
        let threshold = expand_groups(kth, dims, true, &x.device());
        let keep = x.clone().greater_equal(threshold);
        Ok(relu(x.mask_fill(keep.bool_not(), 0.0)))
    }
}
