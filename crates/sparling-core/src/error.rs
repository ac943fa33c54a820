//! Errors of the sparsity layers and schedules.

/// Everything that can go wrong in `sparling-core`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoreError {
    /// A density must lie in `(0, 1]`.
    #[error("density must be in (0, 1], got {0}")]
    InvalidDensity(f64),
    /// The momentum of the running threshold must be a finite number in `[0, 1]`.
    #[error("threshold momentum must be a finite number in [0, 1], got {0}")]
    InvalidMomentum(f64),
    /// A layer needs at least one channel.
    #[error("a sparsity layer needs at least one channel, got {0}")]
    NoChannels(usize),
    /// The accumulated variant needs a positive, finite number of expected activations.
    #[error("accumulation target must be a positive, finite number of activations, got {0}")]
    InvalidAccumulationTarget(f64),
    /// The input's channel axis (axis 1) does not match the layer.
    #[error("input has {got} channels on axis 1, but the layer was built for {expected}")]
    ChannelMismatch {
        /// Channels the layer was built for.
        expected: usize,
        /// Channels in the input.
        got: usize,
    },
    /// Inputs must be `[batch, channels, ...spatial]` with at least one spatial axis.
    #[error("input must have shape [batch, channels, ...spatial] (rank >= 3), got rank {0}")]
    RankTooLow(usize),
    /// An input with no elements cannot define a threshold.
    #[error("input has no elements (shape {0:?}); a training step needs at least one row")]
    EmptyInput(Vec<usize>),
    /// NaN or infinity reached the layer in a training step, which would give a wrong threshold.
    #[error(
        "non-finite value ({value}) in the input of a training step of the sparsity layer \
         (channel {channel}); the threshold would be meaningless"
    )]
    NonFiniteInput {
        /// First offending channel.
        channel: usize,
        /// The offending value.
        value: f32,
    },
    /// A schedule parameter is out of range.
    #[error("schedule parameter `{name}` = {value} is invalid: expected {allowed}")]
    InvalidScheduleParameter {
        /// Field name.
        name: &'static str,
        /// Offending value.
        value: f64,
        /// What is allowed.
        allowed: &'static str,
    },
    /// A parameter of a sparsity method (TopK, BatchTopK, JumpReLU, the penalties) is out of
    /// range.
    #[error("{method} parameter `{name}` = {value} is invalid: expected {allowed}")]
    InvalidMethodParameter {
        /// The method.
        method: &'static str,
        /// Field name.
        name: &'static str,
        /// Offending value.
        value: f64,
        /// What is allowed.
        allowed: &'static str,
    },
    /// Validation accuracy must be a finite number.
    #[error("validation accuracy must be a finite number, got {0}")]
    InvalidAccuracy(f64),
    /// Schedules count samples monotonically.
    #[error("schedule step went backwards: got {step}, previous update was at {last}")]
    StepWentBackwards {
        /// Step passed in.
        step: u64,
        /// Step of the previous update.
        last: u64,
    },
    /// Reading a tensor back to the host failed.
    #[error("could not read tensor data: {0}")]
    TensorData(String),
}
