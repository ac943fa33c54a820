//! The input check every sparsity layer shares.

use burn::prelude::*;

use crate::error::CoreError;

/// `[batch, channels, ...spatial]` with rank >= 3, `channels` (if given) on axis 1 and no empty
/// axis; returns the dims.
pub(crate) fn check_maps<const D: usize>(
    x: &Tensor<D>,
    channels: Option<usize>,
) -> Result<[usize; D], CoreError> {
    if D < 3 {
        return Err(CoreError::RankTooLow(D));
    }
    let dims = x.dims();
    if let Some(expected) = channels
        && dims[1] != expected
    {
        return Err(CoreError::ChannelMismatch {
            expected,
            got: dims[1],
        });
    }
    if dims.contains(&0) {
        return Err(CoreError::EmptyInput(dims.to_vec()));
    }
    Ok(dims)
}
