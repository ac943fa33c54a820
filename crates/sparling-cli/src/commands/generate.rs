//! `sparling generate <domain>`: write samples as PNGs (and WAVs for audio) plus
//! `labels.jsonl`, for inspection.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use sparling_data::audio::SAMPLE_RATE;
use sparling_data::audio::export::{write_spectrogram_png, write_wav};
use sparling_data::digit_circle::export::{write_overlay_png, write_png};
use sparling_data::latex::pdflatex::PdflatexRenderer;
use sparling_data::latex::{LatexBackend, LatexOcr, LatexSample, export as latex_export};
use sparling_data::{
    AudioClipSample, AudioConfig, Dataset, DigitCircle, Generator, PlacedDigit, SingleDigit, Split,
    compute_seed,
};
use sparling_models::config::AudioDomainConfig;

use super::{audio_sequence, usage};

/// Images generated (and held in memory) at a time.
const CHUNK: usize = 256;
/// Audio clips generated at a time (a clip is 120,000 samples).
const AUDIO_CHUNK: usize = 32;

/// `sparling generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(subcommand)]
    domain: GenerateDomain,
}

#[derive(Debug, Subcommand)]
enum GenerateDomain {
    /// DigitCircle: 100x100 noisy images of 3-6 digits on a circle (bit-exact with the
    /// reference numpy stream).
    DigitCircle(SampleArgs),
    /// The 32x32 single-digit images of the direct motif evaluation.
    SingleDigit(SampleArgs),
    /// Spoken digits: 15 s clips of 5-10 FSDD recordings plus noise. Files: `{index:05}.wav`
    /// (the clip, 8 kHz), `{index:05}.png` (its log-mel spectrogram with each digit's frame span
    /// marked and labelled) and `labels.jsonl`. Train and val use the training speakers, test
    /// and motif-eval the held-out speaker.
    Audio(AudioSampleArgs),
    /// LaTeX-OCR: 120x360 renders of grammar formulas, binarised, with 25 % black noise
    /// (grammar and noise bit-exact with the reference numpy streams). Files: `{index:05}.png`
    /// (the model input, noise included), `{index:05}_clean.png` (before noise), with
    /// --overlay `{index:05}_overlay.png` (symbol boxes outlined in their class colour), and
    /// `labels.jsonl` (tokens, token ids, LaTeX code, boxes).
    Latex(LatexSampleArgs),
}

/// Which LaTeX formulas to write, where, and with which renderer.
#[derive(Debug, Args)]
pub struct LatexSampleArgs {
    #[command(flatten)]
    image: SampleArgs,
    /// Renderer: `native` (built-in TeX layout and rasteriser) or `pdflatex` (the authors'
    /// pipeline; needs pdflatex and pdftoppm on PATH, about 0.2 s per formula).
    #[arg(long, value_enum, default_value_t = LatexBackendArg::Native)]
    backend: LatexBackendArg,
}

/// The LaTeX renderers accepted on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LatexBackendArg {
    /// Built-in TeX layout and rasteriser.
    Native,
    /// pdflatex + pdftoppm.
    Pdflatex,
}

/// Which image samples to write and where.
#[derive(Debug, Args)]
pub struct SampleArgs {
    #[command(flatten)]
    select: SelectArgs,
    /// Also write `{index:05}_overlay.png`: the image upscaled with the ground-truth boxes
    /// outlined and labelled in colour.
    #[arg(long)]
    overlay: bool,
    /// Upscaling factor of the overlay images (1-32).
    #[arg(long, default_value_t = 4)]
    scale: u32,
}

/// Which audio clips to write, where, and from which recordings.
#[derive(Debug, Args)]
pub struct AudioSampleArgs {
    #[command(flatten)]
    select: SelectArgs,
    /// Directory of the FSDD recordings (`{digit}_{speaker}_{take}.wav`, e.g.
    /// shared/data/fsdd/recordings). Default: $SPARLING_FSDD.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

/// The samples to write (any domain).
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Split to draw from: `train` (hashed seed --seed), `val` (seed -1), `test` (seed -2) or
    /// `motif-eval` (unhashed RandomState(index), used for motif errors).
    #[arg(long, value_enum, default_value_t = SplitArg::Test)]
    split: SplitArg,
    /// Number of samples to write (at least 1).
    #[arg(long, default_value_t = 16)]
    count: u64,
    /// Index of the first sample; samples `start .. start + count` are written.
    #[arg(long, default_value_t = 0)]
    start: u64,
    /// Data seed of the training split (the paper's runs use 1-9). Only valid with
    /// `--split train`; defaults to 1.
    #[arg(long, allow_negative_numbers = true)]
    seed: Option<i64>,
    /// Output directory (created if missing). Files: `{index:05}.png` per sample (plus
    /// `{index:05}.wav` for audio) and `labels.jsonl`.
    #[arg(long)]
    out: PathBuf,
}

/// The split names accepted on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum SplitArg {
    /// Training stream (seed from --seed).
    Train,
    /// Validation set, seed -1.
    Val,
    /// Test set, seed -2.
    Test,
    /// Motif-evaluation set, RandomState(index).
    MotifEval,
}

/// Runs `sparling generate`.
pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    match &args.domain {
        GenerateDomain::DigitCircle(a) => {
            let domain = DigitCircle::paper().context("building the DigitCircle generator")?;
            write_images(domain, a, |s| SampleView {
                image: &s.image,
                label: s.label_string(),
                digits: s.label.clone(),
                motifs: &s.motifs,
                circle: Some(Circle {
                    radius: s.radius,
                    center: s.center,
                }),
            })
        }
        GenerateDomain::SingleDigit(a) => {
            let domain = SingleDigit::paper().context("building the single-digit generator")?;
            write_images(domain, a, |s| SampleView {
                image: &s.image,
                label: s.digit.to_string(),
                digits: vec![s.digit],
                motifs: std::slice::from_ref(&s.motif),
                circle: None,
            })
        }
        GenerateDomain::Audio(a) => write_audio(a),
        GenerateDomain::Latex(a) => write_latex(a),
    }
}

/// LaTeX formulas: noisy and clean PNGs, optional overlay, and a label record each.
fn write_latex(args: &LatexSampleArgs) -> anyhow::Result<()> {
    let a = &args.image;
    check_scale(a.scale)?;
    let split = resolve_split(&a.select)?;
    let mut domain = LatexOcr::paper().context("building the LaTeX generator")?;
    if args.backend == LatexBackendArg::Pdflatex {
        domain = domain
            .with_backend(LatexBackend::Pdflatex(PdflatexRenderer::default()))
            .context("selecting the pdflatex backend")?;
    }
    // The formula of sample i comes from RandomState(compute_seed(seed, i)); motif-eval is the
    // test set in this domain.
    let formula_seed = split.dataset_seed().unwrap_or(Split::TEST_SEED);
    write_samples(
        domain,
        &a.select,
        split,
        CHUNK,
        |out, index, sample: &LatexSample| {
            let image = format!("{index:05}.png");
            latex_export::write_png(&sample.image, &out.join(&image))?;
            let clean = format!("{index:05}_clean.png");
            latex_export::write_png(&sample.clean, &out.join(&clean))?;
            let overlay = if a.overlay {
                let name = format!("{index:05}_overlay.png");
                latex_export::write_overlay_png(sample, a.scale, &out.join(&name))?;
                Some(name)
            } else {
                None
            };
            Ok(LatexRecord {
                formula_seed: compute_seed(formula_seed, index),
                noise_seed: sample.noise_seed,
                tokens: sample.token_names(),
                token_ids: sample.token_ids(),
                code: sample.code.clone(),
                page_size: sample.page_size,
                symbols: sample
                    .symbols
                    .iter()
                    .map(|b| SymbolRecord {
                        token: b.token,
                        class: b.class.name(),
                        class_id: b.class.id(),
                        bbox: [b.xmin, b.ymin, b.xmax, b.ymax],
                    })
                    .collect(),
                image,
                clean,
                overlay,
            })
        },
    )
}

/// The domain-specific part of a LaTeX `labels.jsonl` line.
#[derive(Serialize)]
struct LatexRecord {
    /// Seed of the `RandomState` the formula was drawn from.
    formula_seed: u32,
    /// Seed of the `RandomState` the noise was drawn from.
    noise_seed: Option<u32>,
    tokens: Vec<&'static str>,
    /// `<s> tokens </s>` in the 28-token vocabulary.
    token_ids: Vec<u32>,
    code: String,
    /// Page size (rows, columns) in pixels before the fit into 120x360.
    page_size: (usize, usize),
    symbols: Vec<SymbolRecord>,
    image: String,
    clean: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    overlay: Option<String>,
}

/// A labelled token's ground-truth box: inclusive `[xmin, ymin, xmax, ymax]` pixels.
#[derive(Serialize)]
struct SymbolRecord {
    token: usize,
    class: &'static str,
    class_id: usize,
    #[serde(rename = "box")]
    bbox: [usize; 4],
}

fn check_scale(scale: u32) -> anyhow::Result<()> {
    if (1..=32).contains(&scale) {
        Ok(())
    } else {
        usage(format!(
            "invalid value '{scale}' for '--scale': allowed are 1 to 32"
        ))
    }
}

/// The spoken-digit clips: WAV, spectrogram PNG and a label record each.
fn write_audio(args: &AudioSampleArgs) -> anyhow::Result<()> {
    let split = resolve_split(&args.select)?;
    let config = AudioDomainConfig {
        recordings: args.data.clone(),
        audio: AudioConfig::default(),
        test_voice: None,
    };
    let sequence = audio_sequence(&config)?;
    let clips = sequence.clip().clone();
    write_samples(
        clips,
        &args.select,
        split,
        AUDIO_CHUNK,
        |out, index, clip: &AudioClipSample| {
            let audio = format!("{index:05}.wav");
            write_wav(&clip.audio, SAMPLE_RATE, &out.join(&audio))?;
            let features = sequence.featurize(clip)?;
            let spectrogram = format!("{index:05}.png");
            write_spectrogram_png(
                &features.spectrogram()?,
                &clip.motifs,
                &out.join(&spectrogram),
            )?;
            Ok(AudioRecord {
                label: clip.label_string(),
                digits: clip.label.clone(),
                motifs: clip
                    .motifs
                    .iter()
                    .map(|m| SpokenDigitRecord {
                        digit: m.digit,
                        speaker: m.speaker.clone(),
                        file: m.file.clone(),
                        start: m.start,
                        len: m.len,
                        frames: [m.frames.start, m.frames.end],
                    })
                    .collect(),
                audio,
                spectrogram,
            })
        },
    )
}

/// The domain-specific part of an audio `labels.jsonl` line.
#[derive(Serialize)]
struct AudioRecord {
    label: String,
    digits: Vec<u8>,
    motifs: Vec<SpokenDigitRecord>,
    /// The WAV file.
    audio: String,
    /// The spectrogram PNG.
    spectrogram: String,
}

/// A spoken digit: the recording used, where it starts and how long it is (in samples at
/// 8 kHz), and its half-open `[start, end)` span of spectrogram frames (its motif).
#[derive(Serialize)]
struct SpokenDigitRecord {
    digit: u8,
    speaker: String,
    file: String,
    start: usize,
    len: usize,
    frames: [usize; 2],
}

/// What gets written for one sample, independent of the domain.
struct SampleView<'a> {
    image: &'a sparling_data::BinaryImage,
    label: String,
    digits: Vec<u8>,
    motifs: &'a [PlacedDigit],
    circle: Option<Circle>,
}

#[derive(Serialize)]
struct Circle {
    radius: usize,
    center: (usize, usize),
}

/// One line of `labels.jsonl`: where the sample comes from, then what the domain records.
#[derive(Serialize)]
struct LabelRecord<T> {
    index: u64,
    split: &'static str,
    dataset_seed: Option<i64>,
    rng_seed: u32,
    #[serde(flatten)]
    sample: T,
}

/// The domain-specific part of an image `labels.jsonl` line.
#[derive(Serialize)]
struct ImageRecord {
    label: String,
    digits: Vec<u8>,
    motifs: Vec<MotifRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    circle: Option<Circle>,
    image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    overlay: Option<String>,
}

/// A ground-truth motif: digit, centre and half-open `[start, end)` box.
#[derive(Serialize)]
struct MotifRecord {
    digit: u8,
    center: (usize, usize),
    rows: [usize; 2],
    cols: [usize; 2],
}

/// Image domains: `{index:05}.png` (and the overlay) per sample.
fn write_images<D, F>(domain: D, args: &SampleArgs, view: F) -> anyhow::Result<()>
where
    D: Generator,
    F: Fn(&D::Sample) -> SampleView<'_>,
{
    check_scale(args.scale)?;
    let split = resolve_split(&args.select)?;
    write_samples(
        domain,
        &args.select,
        split,
        CHUNK,
        |out, index, sample: &D::Sample| write_image(out, view(sample), index, args),
    )
}

/// Draws samples `start .. start + count` of `split` in chunks, lets `write` store each one's
/// files in the output directory and return its label fields, and writes `labels.jsonl`.
fn write_samples<D, R, F>(
    domain: D,
    args: &SelectArgs,
    split: Split,
    chunk: usize,
    mut write: F,
) -> anyhow::Result<()>
where
    D: Generator,
    R: Serialize,
    F: FnMut(&Path, u64, &D::Sample) -> anyhow::Result<R>,
{
    prepare_out_dir(&args.out)?;
    let dataset = Dataset::new(domain, split);
    // Written under a temporary name and renamed when complete: a killed run leaves no
    // truncated labels.jsonl.
    let labels_path = args.out.join("labels.jsonl");
    let partial = args.out.join(PARTIAL_LABELS);
    let writing = || format!("writing {}", partial.display());
    let mut labels = BufWriter::new(File::create(&partial).with_context(writing)?);
    let end = args.start + args.count;
    let mut next = args.start;
    while next < end {
        let len = chunk.min(usize::try_from(end - next).unwrap_or(chunk));
        let samples = dataset
            .batch(next, len)
            .with_context(|| format!("generating samples {next}..{}", next + len as u64))?;
        for (index, sample) in (next..).zip(&samples) {
            let record = LabelRecord {
                index,
                split: split.name(),
                dataset_seed: split.dataset_seed(),
                rng_seed: split.rng_seed(index)?,
                sample: write(&args.out, index, sample)?,
            };
            serde_json::to_writer(&mut labels, &record).with_context(writing)?;
            labels.write_all(b"\n").with_context(writing)?;
        }
        next += len as u64;
    }
    labels.flush().with_context(writing)?;
    drop(labels);
    fs::rename(&partial, &labels_path)
        .with_context(|| format!("renaming {} to labels.jsonl", partial.display()))?;
    tracing::info!(
        count = args.count,
        %split,
        out = %args.out.display(),
        "wrote samples {}..{end}",
        args.start
    );
    Ok(())
}

fn write_image(
    out: &Path,
    v: SampleView<'_>,
    index: u64,
    args: &SampleArgs,
) -> anyhow::Result<ImageRecord> {
    let image = format!("{index:05}.png");
    write_png(v.image, &out.join(&image))?;
    let overlay = if args.overlay {
        let name = format!("{index:05}_overlay.png");
        write_overlay_png(v.image, v.motifs, args.scale, &out.join(&name))?;
        Some(name)
    } else {
        None
    };
    Ok(ImageRecord {
        label: v.label,
        digits: v.digits,
        motifs: v
            .motifs
            .iter()
            .map(|m| MotifRecord {
                digit: m.digit,
                center: m.center,
                rows: [m.rows.start, m.rows.end],
                cols: [m.cols.start, m.cols.end],
            })
            .collect(),
        circle: v.circle,
        image,
        overlay,
    })
}

/// Checks the flags that clap cannot check alone and builds the split.
fn resolve_split(args: &SelectArgs) -> anyhow::Result<Split> {
    if args.count == 0 {
        return usage("invalid value '0' for '--count': at least 1 sample is needed");
    }
    let Some(end) = args.start.checked_add(args.count) else {
        return usage(format!(
            "'--start {}' plus '--count {}' overflows the sample index",
            args.start, args.count
        ));
    };
    let split = match (args.split, args.seed) {
        (SplitArg::Train, seed) => match Split::training(seed.unwrap_or(1)) {
            Ok(split) => split,
            Err(e) => return usage(format!("--seed: {e}")),
        },
        (other, Some(seed)) => {
            return usage(format!(
                "'--seed {seed}' only applies to '--split train'; the {} split has a fixed seed",
                split_name(other)
            ));
        }
        (SplitArg::Val, None) => Split::Val,
        (SplitArg::Test, None) => Split::Test,
        (SplitArg::MotifEval, None) => Split::MotifEval,
    };
    if split == Split::MotifEval && end > 1 << 32 {
        return usage(format!(
            "'--start {}' + '--count {}' goes past index 2^32, the largest motif-eval seed",
            args.start, args.count
        ));
    }
    Ok(split)
}

fn split_name(split: SplitArg) -> &'static str {
    match split {
        SplitArg::Train => "train",
        SplitArg::Val => "val",
        SplitArg::Test => "test",
        SplitArg::MotifEval => "motif-eval",
    }
}

/// Creates `out` and checks that files can be written in it.
fn prepare_out_dir(out: &Path) -> anyhow::Result<()> {
    if out.exists() && !out.is_dir() {
        return usage(format!(
            "invalid value '{}' for '--out': it exists and is not a directory",
            out.display()
        ));
    }
    if let Err(e) = fs::create_dir_all(out) {
        return usage(format!(
            "invalid value '{}' for '--out': cannot create the directory ({e})",
            out.display()
        ));
    }
    let probe = out.join(".sparling-write-test");
    match File::create(&probe) {
        Ok(_) => {
            // Best effort: a leftover probe file is harmless.
            let _ = fs::remove_file(&probe);
        }
        Err(e) => {
            return usage(format!(
                "invalid value '{}' for '--out': the directory is not writable ({e})",
                out.display()
            ));
        }
    }
    remove_previous_generation(out)
}

/// `labels.jsonl` while it is being written.
const PARTIAL_LABELS: &str = "labels.jsonl.partial";

/// The files an earlier `generate` wrote into `out` (`NNNNN.png`, `NNNNN_overlay.png`,
/// `NNNNN_clean.png`, `NNNNN.wav`, `labels.jsonl`): a second run into the same directory
/// replaces them instead of leaving stale samples beside its own. Other files stay.
fn remove_previous_generation(out: &Path) -> anyhow::Result<()> {
    let mut removed = 0usize;
    for entry in fs::read_dir(out).with_context(|| format!("listing {}", out.display()))? {
        let path = entry
            .with_context(|| format!("listing {}", out.display()))?
            .path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_file() && is_generated_name(name) {
            fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(removed, out = %out.display(), "replaced an earlier generation");
    }
    Ok(())
}

fn is_generated_name(name: &str) -> bool {
    if name == "labels.jsonl" || name == PARTIAL_LABELS {
        return true;
    }
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    let index = ["_overlay", "_clean"]
        .iter()
        .find_map(|suffix| stem.strip_suffix(suffix))
        .unwrap_or(stem);
    matches!(ext, "png" | "wav") && index.len() >= 5 && index.bytes().all(|b| b.is_ascii_digit())
}
