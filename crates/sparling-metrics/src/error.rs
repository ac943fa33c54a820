//! Errors of the metrics crate.

/// Invalid input to a metric.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// A buffer's length does not match the dimensions given with it.
    #[error("buffer has {got} values but the shape {shape:?} needs {expected}")]
    ShapeMismatch {
        /// The declared shape.
        shape: Vec<usize>,
        /// Product of the shape.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// A true-motif class outside `0..num_classes`.
    #[error("true class {class} is outside 0..{num_classes}")]
    ClassOutOfRange {
        /// The class.
        class: usize,
        /// Number of classes of the confusion matrix.
        num_classes: usize,
    },
    /// A channel outside `0..num_channels`.
    #[error("channel {channel} is outside 0..{num_channels}")]
    ChannelOutOfRange {
        /// The channel.
        channel: usize,
        /// Number of channels.
        num_channels: usize,
    },
    /// A sparse entry outside the map.
    #[error("sparse entry ({channel}, {row}, {col}) is outside a {channels}x{height}x{width} map")]
    EntryOutOfRange {
        /// Entry channel.
        channel: usize,
        /// Entry row.
        row: usize,
        /// Entry column.
        col: usize,
        /// Map channels.
        channels: usize,
        /// Map height.
        height: usize,
        /// Map width.
        width: usize,
    },
    /// A sparse map lists the same position twice.
    #[error("sparse entry ({channel}, {row}, {col}) is listed more than once")]
    DuplicateEntry {
        /// Entry channel.
        channel: usize,
        /// Entry row.
        row: usize,
        /// Entry column.
        col: usize,
    },
    /// A true-motif footprint with no pixel inside the map (numpy would fail on the empty max).
    #[error(
        "footprint {index} (rows {rows:?}, cols {cols:?}) has no pixel inside the {height}x{width} map"
    )]
    EmptyFootprint {
        /// Position of the footprint in the list.
        index: usize,
        /// Its rows.
        rows: std::ops::Range<usize>,
        /// Its columns.
        cols: std::ops::Range<usize>,
        /// Map height.
        height: usize,
        /// Map width.
        width: usize,
    },
    /// Two confusion matrices of different shapes.
    #[error("cannot merge a {a:?} confusion matrix with a {b:?} one (classes, channels)")]
    IncompatibleMatrices {
        /// (classes, channels) of the receiver.
        a: (usize, usize),
        /// (classes, channels) of the argument.
        b: (usize, usize),
    },
    /// Prediction and target lists of different lengths.
    #[error("{predictions} predictions but {targets} targets")]
    LengthMismatch {
        /// Number of predictions.
        predictions: usize,
        /// Number of targets.
        targets: usize,
    },
    /// A mean over nothing.
    #[error("no values to average: {0}")]
    Empty(&'static str),
    /// A bootstrap setting out of range.
    #[error("invalid bootstrap setting: {0}")]
    InvalidBootstrap(String),
    /// A plot could not be drawn or written.
    #[error("cannot write the plot {path}: {message}")]
    Plot {
        /// The output file.
        path: std::path::PathBuf,
        /// What the drawing backend reported.
        message: String,
    },
}
