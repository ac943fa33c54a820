//! Errors of the data crate.

use std::path::PathBuf;

/// Everything that can go wrong in `sparling-data`.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The DigitCircle domain (or its single-digit variant): configuration or stamp table.
    #[error("invalid DigitCircle configuration: {0}")]
    DigitCircle(#[from] DigitCircleError),
    /// The embedded stamp table could not be parsed (a build problem, not a user error).
    #[error("embedded stamp table is malformed: {0}")]
    Stamps(String),
    /// A sample index that the split cannot address.
    #[error("index {index} is out of range for split {split}: {reason}")]
    IndexOutOfRange {
        /// The requested index.
        index: u64,
        /// The split's display name.
        split: String,
        /// Why the index is not allowed.
        reason: &'static str,
    },
    /// A token name that the vocabulary does not contain.
    #[error("unknown token {0:?}")]
    UnknownToken(String),
    /// A token id outside the vocabulary.
    #[error("token id {id} is outside the vocabulary of {size} tokens")]
    TokenIdOutOfRange {
        /// The offending id.
        id: u32,
        /// Vocabulary size.
        size: usize,
    },
    /// Writing an image failed.
    #[error("could not write image {path}: {source}")]
    Image {
        /// Destination file.
        path: PathBuf,
        /// Underlying error.
        source: image::ImageError,
    },
    /// A split name that is not one of the known splits.
    #[error("unknown split {0:?}; expected one of: train, val, test, motif-eval")]
    UnknownSplit(String),
    /// A negative training seed: those are the evaluation streams.
    #[error(
        "training seed {0} is reserved: negative seeds are the evaluation streams \
         (-1 validation, -2 test, -3 binning), so training on them would leak evaluation data; \
         use a seed >= 0 (the paper's runs use 1-9)"
    )]
    ReservedSeed(i64),
    /// The spoken-digit domain: recordings, configuration, sampling, spectrogram or export.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// The LaTeX-OCR domain: configuration, grammar, layout or the pdflatex backend.
    #[error(transparent)]
    Latex(#[from] LatexError),
}

/// Why a DigitCircle configuration is unusable.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DigitCircleError {
    /// The circle cannot fit: the radius range `[min_radius, size/2 - padding)` is empty.
    #[error(
        "min_radius {min_radius} does not fit a {size}x{size} image: the radius must be below \
         size/2 - (random_shift + stamp size) = {limit}"
    )]
    RadiusDoesNotFit {
        /// Requested minimum radius.
        min_radius: usize,
        /// Image side.
        size: usize,
        /// Exclusive upper bound on the radius (may be negative).
        limit: i64,
    },
    /// `min_digits` is zero.
    #[error("min_digits must be at least 1")]
    NoDigits,
    /// `min_digits > max_digits`.
    #[error("min_digits ({min}) is larger than max_digits ({max})")]
    MinAboveMax {
        /// Requested minimum.
        min: usize,
        /// Requested maximum.
        max: usize,
    },
    /// More digits per image than distinct digits available.
    #[error("max_digits ({max}) exceeds the {available} distinct digits in {digits:?}")]
    TooManyDigits {
        /// Requested maximum.
        max: usize,
        /// Size of the digit alphabet.
        available: usize,
        /// The alphabet.
        digits: String,
    },
    /// A probability (or a noise level that becomes one) outside [0, 1] or not finite.
    #[error("{name} = {value} is not a probability in [0, 1]")]
    ProbabilityOutOfRange {
        /// Which parameter.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// The digit alphabet contains something other than the digits 0–9.
    #[error("unknown digit {found:?} in digit set {digits:?}; allowed are the characters 0-9")]
    UnknownDigit {
        /// The offending character.
        found: char,
        /// The alphabet.
        digits: String,
    },
    /// The digit alphabet repeats a digit.
    #[error("digit {found:?} appears twice in digit set {digits:?}")]
    DuplicateDigit {
        /// The repeated character.
        found: char,
        /// The alphabet.
        digits: String,
    },
    /// The digit alphabet is empty.
    #[error("the digit set is empty")]
    EmptyDigitSet,
    /// A stamp does not fit inside the (single-digit) image.
    #[error("a {stamp_height}x{stamp_width} stamp centred in a {size}x{size} image does not fit")]
    StampDoesNotFit {
        /// Image side.
        size: usize,
        /// Largest stamp height.
        stamp_height: usize,
        /// Largest stamp width.
        stamp_width: usize,
    },
    /// The embedded stamp table is malformed (a build problem).
    #[error("embedded stamp table is malformed: {0}")]
    StampTable(String),
}

/// Everything that can go wrong in the LaTeX-OCR domain.
#[derive(Debug, thiserror::Error)]
pub enum LatexError {
    /// A configuration value out of range.
    #[error("invalid LaTeX domain configuration: {field} = {value}: {reason}")]
    Config {
        /// The field.
        field: &'static str,
        /// Its value, printed.
        value: String,
        /// What is allowed.
        reason: &'static str,
    },
    /// The target-length range of the rejection sampler is empty or starts at 0.
    #[error("invalid formula length range {min_len}..={max_len}: need 1 <= min <= max")]
    InvalidLengthRange {
        /// Shortest formula in tokens.
        min_len: usize,
        /// Longest formula in tokens.
        max_len: usize,
    },
    /// A derivation grew past the sampler's safety limit (the reference would have hit
    /// Python's recursion limit long before).
    #[error("a grammar derivation exceeded {limit} tokens")]
    DerivationTooLong {
        /// The limit.
        limit: usize,
    },
    /// The rejection sampler found no derivation of the target length.
    #[error("no derivation of {target_len} tokens after {attempts} attempts")]
    SamplerExhausted {
        /// Derivations drawn.
        attempts: u64,
        /// The target length.
        target_len: usize,
    },
    /// A token name outside the grammar.
    #[error("unknown LaTeX token {0:?}")]
    UnknownToken(String),
    /// A token sequence that is not a formula of the grammar.
    #[error("not a formula of the grammar at token {position}: {reason}")]
    Parse {
        /// Index of the offending token (or the length, at the end).
        position: usize,
        /// What was expected.
        reason: &'static str,
    },
    /// The embedded glyph table is malformed (a build problem, not a user error).
    #[error("embedded Computer Modern glyph table is malformed: {0}")]
    FontTable(String),
    /// The glyph table lacks a character the layout needs (a build problem).
    #[error("the embedded fonts lack character code {code}")]
    MissingGlyph {
        /// The character code.
        code: u8,
    },
    /// An external program of the pdflatex backend could not be started.
    #[error(
        "could not run {program} (the pdflatex backend needs pdflatex from texlive-latex-base, \
         texlive-latex-recommended and texlive-latex-extra, and pdftoppm from poppler-utils, on \
         PATH): {source}"
    )]
    ToolMissing {
        /// The program.
        program: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// An external program of the pdflatex backend failed.
    #[error("{program} failed ({status}); last output: {output}")]
    ToolFailed {
        /// The program.
        program: String,
        /// Its exit status.
        status: String,
        /// The tail of its output.
        output: String,
    },
    /// Reading or writing the backend's scratch files failed.
    #[error("pdflatex backend I/O on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// pdftoppm produced something other than the expected pages.
    #[error("unexpected pdftoppm output: {0}")]
    BadRaster(String),
}

/// Everything that can go wrong in the spoken-digit (audio) domain. Every variant about a file
/// or directory names it.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// No recordings directory was passed and the environment variable is unset.
    #[error(
        "no FSDD recordings directory given: pass one explicitly or set {env} to the folder \
         holding {{digit}}_{{speaker}}_{{take}}.wav (e.g. shared/data/fsdd/recordings)"
    )]
    NoRecordingsDir {
        /// The environment variable that was consulted.
        env: &'static str,
    },
    /// The recordings directory does not exist (or is not a directory).
    #[error("recordings directory {path} does not exist or is not a directory")]
    MissingDirectory {
        /// The directory.
        path: PathBuf,
    },
    /// Listing the recordings directory failed.
    #[error("could not list recordings directory {path}: {source}")]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The directory holds no `.wav` files at all.
    #[error("no .wav recordings in {path}")]
    NoRecordings {
        /// The directory.
        path: PathBuf,
    },
    /// A `.wav` file whose name is not `{digit}_{speaker}_{take}.wav`.
    #[error("{path}: file name does not match {{digit}}_{{speaker}}_{{take}}.wav: {reason}")]
    BadFileName {
        /// The file.
        path: PathBuf,
        /// What is wrong with the name.
        reason: &'static str,
    },
    /// hound could not read the file as a WAV.
    #[error("could not read WAV {path}: {source}")]
    UnreadableWav {
        /// The file.
        path: PathBuf,
        /// Underlying error.
        source: hound::Error,
    },
    /// A recording at another sample rate (the domain does not resample).
    #[error("{path}: sample rate is {found} Hz, expected {expected} Hz")]
    WrongSampleRate {
        /// The file.
        path: PathBuf,
        /// Its sample rate.
        found: u32,
        /// The domain's sample rate.
        expected: u32,
    },
    /// A recording with more than one channel.
    #[error("{path}: {channels} channels, expected mono")]
    NotMono {
        /// The file.
        path: PathBuf,
        /// Its channel count.
        channels: u16,
    },
    /// A recording in a sample format other than integer PCM (1–32 bits) or 32-bit float.
    #[error("{path}: unsupported sample format ({bits}-bit {format})")]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// Bits per sample.
        bits: u16,
        /// `int` or `float`.
        format: &'static str,
    },
    /// A recording without samples (it could not be a motif).
    #[error("{path}: the recording is empty")]
    EmptyRecording {
        /// The file.
        path: PathBuf,
    },
    /// A configured speaker without any recording in the directory.
    #[error(
        "{role} speaker {speaker:?} has no recordings in {dir}; speakers found there: {available}"
    )]
    UnknownSpeaker {
        /// The speaker.
        speaker: String,
        /// `train` or `test`.
        role: &'static str,
        /// The recordings directory.
        dir: PathBuf,
        /// The speakers that do have recordings, comma-separated.
        available: String,
    },
    /// A configured speaker with no recording of some digit.
    #[error("{role} speaker {speaker:?} has no recording of digit {digit} in {dir}")]
    MissingDigit {
        /// The speaker.
        speaker: String,
        /// `train` or `test`.
        role: &'static str,
        /// The digit without recordings.
        digit: u8,
        /// The recordings directory.
        dir: PathBuf,
    },
    /// An empty speaker list.
    #[error("the {role} speaker list is empty")]
    NoSpeakers {
        /// `train` or `test`.
        role: &'static str,
    },
    /// A speaker listed twice in one list.
    #[error("speaker {speaker:?} is listed twice among the {role} speakers")]
    DuplicateSpeaker {
        /// The speaker.
        speaker: String,
        /// `train` or `test`.
        role: &'static str,
    },
    /// A speaker in both the train and the test list.
    #[error("speaker {speaker:?} is both a train and a test speaker; the lists must not overlap")]
    SpeakerOverlap {
        /// The speaker.
        speaker: String,
    },
    /// A numeric parameter outside its allowed range.
    #[error("invalid audio parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Its value, printed.
        value: String,
        /// What is allowed.
        reason: &'static str,
    },
    /// A recording so long that no clip with `max_digits` digits could hold it next to the
    /// shortest recordings; training would fail at whichever sample first draws it.
    #[error(
        "{path}: {samples} samples ({seconds:.2} s) is longer than a clip of {clip_len} samples \
         can hold next to {others} of the shortest recordings ({max} samples at most); remove \
         the file or lengthen domain.clip_seconds"
    )]
    RecordingTooLong {
        /// The recording.
        path: PathBuf,
        /// Its length in samples.
        samples: usize,
        /// Its length in seconds.
        seconds: f64,
        /// Clip length in samples.
        clip_len: usize,
        /// `max_digits - 1`.
        others: usize,
        /// The longest length that fits.
        max: usize,
    },
    /// The drawn digits cannot be placed without overlap (the reference would loop forever).
    #[error(
        "could not place {count} digits of {total_len} samples in total into a clip of \
         {clip_len} samples after {attempts} attempts"
    )]
    PlacementFailed {
        /// Number of digits.
        count: usize,
        /// Sum of their lengths in samples.
        total_len: usize,
        /// Clip length in samples.
        clip_len: usize,
        /// Rejection-sampling attempts made.
        attempts: u64,
    },
    /// A signal too short for the centred, reflect-padded STFT.
    #[error("signal of {len} samples is too short for the spectrogram: need more than {min}")]
    SignalTooShort {
        /// Samples given.
        len: usize,
        /// The reflect padding, which must be shorter than the signal.
        min: usize,
    },
    /// Array dimensions that do not match.
    #[error("shape mismatch for {what}: expected {expected} values, got {found}")]
    ShapeMismatch {
        /// What was being checked.
        what: &'static str,
        /// Expected number of values.
        expected: usize,
        /// Number given.
        found: usize,
    },
    /// Writing a WAV file failed.
    #[error("could not write WAV {path}: {source}")]
    WriteWav {
        /// Destination file.
        path: PathBuf,
        /// Underlying error.
        source: hound::Error,
    },
}
