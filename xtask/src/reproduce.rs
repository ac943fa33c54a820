//! `cargo xtask reproduce`: train one run per seed, evaluate it, and write a result table with
//! the paper's numbers beside ours.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use serde::{Deserialize, Serialize};
use sparling_data::RecordingIndex;
use sparling_metrics::plot::{Curves, training_curves_svg};
use sparling_metrics::{BootstrapConfig, bootstrap_mean_ci};
use sparling_models::checkpoint::{RunDir, ValidationRecord, open_checkpoint, write_atomic};
use sparling_models::config::{AudioDomainConfig, DomainConfig, Objective, TestVoice};
use sparling_models::evaluation::{EvalOptions, EvalReport, evaluate};
use sparling_models::fork::InitFrom;
use sparling_models::training::TrainObserver;
use sparling_models::{Backend, Domain, RunConfig, TrainOptions, TrainSummary, presets};

use crate::Usage;
use crate::compare::evaluate_method;

/// The preset of `domain`, with the recordings directory `data` for audio.
fn preset(
    domain: Domain,
    preset: &str,
    seed: i64,
    data: Option<&Path>,
) -> anyhow::Result<RunConfig> {
    let mut config = presets::get(domain, preset, seed)?;
    if let Some(dir) = data {
        match &mut config.domain {
            DomainConfig::Audio(audio) => audio.recordings = Some(dir.to_path_buf()),
            other => bail!(
                "--data only applies to the audio domain, not {}",
                other.name()
            ),
        }
    }
    Ok(config)
}

/// The paper's headline numbers (percent) for `domain`, and where they come from.
fn paper(domain: Domain) -> PaperNumbers {
    match domain {
        Domain::DigitCircle => PaperNumbers {
            source: "the paper, Table 1 (`pae-7bb1` in the authors' sparling-repro), 9 \
                         seeds, mean, at density 5.02e-5, 10,000 motif-eval images; full-size \
                         model, 46 M parameters, 1 M+ samples",
            dataset_note: None,
            ours: "ours",
            theirs: "paper",
            density: 5.022_621e-5,
            fpe: 1.48,
            fne: 0.42,
            ce: 1.16,
            e2e_edit: 0.74,
            direct: Some(1.24),
        },
        Domain::Audio => PaperNumbers {
            source: "the authors' `notebooks/all-results.ipynb`, `mean_results` \
                         (kavigupta/sparling-repro): `aum-2ka1`, AudioMNIST-Sequence, 9 seeds, \
                         mean, at density 1.19e-3 (0.5 · 0.75^21), motif errors on 10,000 clips \
                         of the 9 test speakers, edit-distance E2EE on 10,000 test clips; CE \
                         many-to-one; full-size model, 44 M parameters, up to 60 M samples",
            dataset_note: Some(
                "**Different datasets.** paper: AudioMNIST, 60 speakers (51 train, 9 \
                     held out; mixed sex and age); ours: FSDD, 6 speakers (5 train, held-out \
                     theo; all male; shorter, trimmed recordings). Everything else follows the \
                     paper's recipe, but the numbers are not comparable one to one.",
            ),
            ours: "ours: FSDD, 6 speakers",
            theirs: "paper: AudioMNIST, 60 speakers",
            density: 1.189_204e-3,
            fpe: 0.00,
            fne: 4.46,
            ce: 5.47,
            e2e_edit: 8.65,
            direct: None,
        },
        Domain::Latex => PaperNumbers {
            source: "the authors' `notebooks/all-results.ipynb`, `mean_results` \
                         (kavigupta/sparling-repro): `ltx-2dc3`, 9 seeds, mean, at density \
                         8.94e-6 (0.5 · 0.75^38), motif errors on 10,000 test images (boxes \
                         padded by 2 px), edit-distance E2EE on 10,000 test images; CE \
                         many-to-one; full-size model, 47 M parameters, up to 6 M samples",
            dataset_note: Some(
                "**Same recipe, re-implemented renderer.** The formulas and the noise are \
                     the reference's, bit for bit; the images come from a native \
                     implementation of the pdfLaTeX + pdftoppm pipeline (mean ink IoU 0.988 \
                     against it, 98 % of the boxes identical, docs/latex.md), not from TeX.",
            ),
            ours: "ours",
            theirs: "paper",
            density: presets::LATEX_PAPER_EVAL_DENSITY,
            fpe: 0.53,
            fne: 14.20,
            ce: 2.50,
            e2e_edit: 0.98,
            direct: None,
        },
    }
}

struct PaperNumbers {
    source: &'static str,
    /// Printed above the table when the datasets differ.
    dataset_note: Option<&'static str>,
    /// Column headers.
    ours: &'static str,
    theirs: &'static str,
    density: f64,
    fpe: f64,
    fne: f64,
    ce: f64,
    e2e_edit: f64,
    /// The direct single-digit motif error (the paper's direct-evaluation table, SPARLING
    /// column, 9-seed mean), where we run that evaluation.
    direct: Option<f64>,
}

/// `cargo xtask reproduce`.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Domain to reproduce.
    #[arg(value_enum)]
    domain: Domain,
    /// Preset (`cpu` on this kind of machine; `paper` on a GPU).
    #[arg(long, default_value = "cpu")]
    preset: String,
    /// Seeds: a list (`1,2,3`) or an inclusive range (`1-9`).
    #[arg(long, default_value = "1")]
    seeds: String,
    /// Where the run directories go (`<runs>/<domain>-<preset>-seed<S>`). An unfinished run is
    /// resumed, a finished one is only evaluated. A seed without a run directory whose record
    /// `<results>/<domain>-<preset>-seed<S>.json` has the same configuration and sample count is
    /// taken from that record instead of being trained again.
    #[arg(long, default_value = "runs/reproduce")]
    runs: PathBuf,
    /// Where the result table, JSON and plot go.
    #[arg(long, default_value = "docs/results")]
    results: PathBuf,
    /// Motif-eval images and test samples of the evaluation (the paper's 10,000 each).
    #[arg(long, default_value_t = 10_000)]
    samples: usize,
    /// Compute backend: `flex` (CPU, default), `tch` or `cuda` (need the cargo features).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
    /// Audio: directory of the FSDD recordings (default: $SPARLING_FSDD).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Stop each run once its training time (validations excluded, summed over resumptions)
    /// reaches this many minutes, and evaluate it at the lowest density it trained; the table
    /// says `TimeBudget`. Without it, runs train to their configured end.
    #[arg(long, value_name = "MINUTES", value_parser = sparling_models::training::parse_budget_minutes)]
    time_budget_minutes: Option<f64>,
    /// Audio: also evaluate every seed on another voice, `NAME=DIR` or `DIR` (`{digit}.wav`
    /// files; evaluation only), reported beside the held-out speaker.
    #[arg(long, value_name = "[NAME=]DIR")]
    test_voice: Option<TestVoice>,
}

/// One seed's outcome.
#[derive(Debug, Serialize, Deserialize)]
struct SeedResult {
    seed: i64,
    summary: TrainSummary,
    eval: EvalReport,
    /// The same model evaluated on the `--test-voice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    voice: Option<EvalReport>,
    history: Vec<ValidationRecord>,
}

/// What `<domain>-<preset>.json` holds.
#[derive(Debug, Serialize)]
struct Results<'a> {
    domain: &'a str,
    preset: &'a str,
    command: String,
    config: &'a RunConfig,
    seeds: &'a [SeedResult],
}

/// `<results>/<domain>-<preset>-seed<S>.json`: one seed's outcome with the configuration it was
/// trained with. Run directories are large and stay on the machine that trained them; with these
/// records a table over seeds trained in different sessions, or on different machines, is
/// assembled without them.
#[derive(Debug, Serialize, Deserialize)]
struct SeedRecord {
    config: RunConfig,
    result: SeedResult,
}

impl SeedRecord {
    fn path(args: &ReproduceArgs, seed: i64) -> PathBuf {
        args.results.join(format!(
            "{}-{}-seed{seed}.json",
            args.domain.name(),
            args.preset
        ))
    }

    /// The record of `seed` if it was made with `config` and evaluated on `samples`.
    fn matching(
        path: &Path,
        config: &RunConfig,
        samples: usize,
    ) -> anyhow::Result<Option<SeedResult>> {
        let Some(record) = read_record::<SeedRecord>(path)? else {
            return Ok(None);
        };
        let why_not = if record.config != *config {
            Some("it was trained with another configuration".to_string())
        } else if record.result.eval.motif_samples != samples {
            Some(format!(
                "it was evaluated on {} samples, not {samples}",
                record.result.eval.motif_samples
            ))
        } else {
            None
        };
        if let Some(why) = why_not {
            tracing::warn!(file = %path.display(), "not reusing the recorded result: {why}");
            return Ok(None);
        }
        Ok(Some(record.result))
    }

    fn write(path: &Path, config: &RunConfig, result: &SeedResult) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let record = serde_json::json!({ "config": config, "result": result });
        write_atomic(path, serde_json::to_string_pretty(&record)?.as_bytes())?;
        Ok(())
    }
}

/// At most this many seeds per table (the paper uses 9; each seed is hours of training).
const MAX_SEEDS: usize = 100;

/// Parse `1`, `1,2,5` or `1-9`: distinct seeds >= 0 (negative ones are evaluation streams),
/// at most [`MAX_SEEDS`].
/// The JSON record at `path`, or `None` if there is none.
///
/// # Errors
/// An unreadable file, or one that is not such a record.
pub(crate) fn read_record<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<Option<T>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let record = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not a {} record",
            path.display(),
            std::any::type_name::<T>()
        )
    })?;
    Ok(Some(record))
}

pub(crate) fn parse_seeds(spec: &str) -> anyhow::Result<Vec<i64>> {
    let bad = || {
        format!(
            "--seeds {spec}: expected a list like `1,2,3` or a range like `1-9` of at most \
             {MAX_SEEDS} seeds >= 0"
        )
    };
    let seeds: Vec<i64> = if let Some((a, b)) = spec.split_once('-').filter(|(a, _)| !a.is_empty())
    {
        let (a, b): (i64, i64) = (
            a.trim().parse().map_err(|_| Usage(bad()))?,
            b.trim().parse().map_err(|_| Usage(bad()))?,
        );
        // Checked before the range is collected: `1-99999999999` must not allocate.
        if a > b || b.abs_diff(a) >= MAX_SEEDS as u64 {
            return Err(Usage(bad()).into());
        }
        (a..=b).collect()
    } else {
        spec.split(',')
            .map(|s| s.trim().parse::<i64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| Usage(bad()))?
    };
    let mut distinct = seeds.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if seeds.is_empty() || seeds.len() > MAX_SEEDS || distinct.len() != seeds.len() {
        return Err(Usage(bad()).into());
    }
    if let Some(s) = seeds.iter().find(|&&s| s < 0) {
        return Err(Usage(format!("{}: seed {s} is an evaluation stream", bad())).into());
    }
    Ok(seeds)
}

/// Logs validations (xtask runs are long and usually not watched live).
struct LogValidations;

impl TrainObserver for LogValidations {
    fn on_validation(&mut self, r: &ValidationRecord) {
        tracing::info!(
            "validation at {} samples ({:.0} s): exact match {:.2}%, loss {:.4}, density {:.3e} -> {:.3e}",
            r.samples,
            r.seconds,
            100.0 * r.accuracy,
            r.loss,
            r.density,
            r.next_density
        );
    }
}

/// Run `cargo xtask reproduce`.
///
/// # Errors
/// Bad arguments, training, evaluation or I/O failures.
pub fn run(args: &ReproduceArgs) -> anyhow::Result<()> {
    let seeds = parse_seeds(&args.seeds)?;
    if let Some(voice) = &args.test_voice {
        if args.domain != Domain::Audio {
            return Err(Usage(format!(
                "--test-voice: only the audio domain has voices, not {}",
                args.domain
            ))
            .into());
        }
        // Read it now, not after hours of training.
        RecordingIndex::load_voice(&voice.dir, &voice.name)
            .map_err(|e| Usage(format!("--test-voice {}: {e}", voice.dir.display())))?;
    }
    if presets::get(args.domain, &args.preset, 0)?
        .training
        .objective
        != Objective::Sequence
    {
        return Err(Usage(format!(
            "--preset {}: it trains the motif model alone, which has no motif or end-to-end \
             errors to table; train it with `sparling train` and evaluate it with `sparling \
             eval`, or run it as the `direct` arm of `cargo xtask compare`",
            args.preset
        ))
        .into());
    }
    let device = args.backend.device()?;
    if args.samples == 0 {
        bail!("--samples must be at least 1");
    }
    let domain = args.domain.name();
    let mut results = Vec::new();
    let mut config = None;
    for &seed in &seeds {
        let run_config = preset(args.domain, &args.preset, seed, args.data.as_deref())?;
        let out = args
            .runs
            .join(format!("{domain}-{}-seed{seed}", args.preset));
        let record = SeedRecord::path(args, seed);
        let run = RunDir::new(&out);
        let recorded = if run.read_config()?.is_none() {
            SeedRecord::matching(&record, &run_config, args.samples)?
                .map(|result| with_voice_of(args, seed, &record, result))
                .transpose()?
        } else {
            None
        };
        let result = if let Some(result) = recorded {
            tracing::info!(seed, file = %record.display(), "no run directory; using the recorded result");
            result
        } else {
            let result = train_and_evaluate(args, seed, &run_config, &out, &device)?;
            SeedRecord::write(&record, &run_config, &result)?;
            result
        };
        results.push(result);
        config = Some(run_config);
    }
    let Some(config) = config else {
        bail!("no seeds");
    };
    write_results(args, &config, &results)
}

/// A recorded seed as this invocation asks for it: without a voice evaluation unless one was
/// asked for, and refused if the voice asked for is not the recorded one (its run directory,
/// needed to evaluate again, is gone).
fn with_voice_of(
    args: &ReproduceArgs,
    seed: i64,
    record: &Path,
    mut result: SeedResult,
) -> anyhow::Result<SeedResult> {
    let Some(voice) = &args.test_voice else {
        result.voice = None;
        return Ok(result);
    };
    let recorded = result.voice.as_ref().and_then(|v| v.held_out.as_deref());
    if recorded == Some(voice.name.as_str()) {
        return Ok(result);
    }
    Err(Usage(format!(
        "--test-voice {}: seed {seed} comes from its record {} (its run directory is gone), \
         which has {}; evaluate that seed's run on the voice where it was trained, or leave \
         out --test-voice",
        voice.name,
        record.display(),
        recorded.map_or("no test-voice evaluation".to_string(), |v| format!(
            "the voice {v}"
        ))
    ))
    .into())
}

/// Train (or resume) one seed's run and evaluate it at the lowest density it trained.
fn train_and_evaluate(
    args: &ReproduceArgs,
    seed: i64,
    config: &RunConfig,
    out: &Path,
    device: &burn::prelude::Device,
) -> anyhow::Result<SeedResult> {
    let budget = args.time_budget_minutes.map(|m| m * 60.0);
    let summary = train_or_resume(config, out, device, budget, None)?;
    let run = RunDir::new(out);
    tracing::info!(seed, "evaluating");
    let (eval, direct) = evaluate_method(config, out, args.samples, device)?;
    let Some(mut eval) = eval else {
        bail!(
            "{}: a run without motif and end-to-end errors",
            out.display()
        );
    };
    eval.direct = direct;
    let voice = match (&args.test_voice, &config.domain) {
        (Some(voice), DomainConfig::Audio(audio)) => {
            let mut on_voice = config.clone();
            on_voice.domain = DomainConfig::Audio(AudioDomainConfig {
                test_voice: Some(voice.clone()),
                ..audio.clone()
            });
            tracing::info!(seed, voice = voice.name, "evaluating on the test voice");
            let opened = open_checkpoint(&run, None, config, device)?;
            let options = EvalOptions::new(config, args.samples);
            Some(evaluate(&on_voice, &opened, out, &options, device)?)
        }
        _ => None,
    };
    let history = crate::curves::read_history(&run)?;
    Ok(SeedResult {
        seed,
        summary,
        eval,
        voice,
        history,
    })
}

/// Train `config` into `out`, resuming an unfinished run and leaving a finished one alone.
pub(crate) fn train_or_resume(
    config: &RunConfig,
    out: &Path,
    device: &burn::prelude::Device,
    time_budget: Option<f64>,
    init_from: Option<InitFrom>,
) -> anyhow::Result<TrainSummary> {
    let run = RunDir::new(out);
    let resume = run.read_config()?.is_some();
    if resume {
        tracing::info!(run = %out.display(), "continuing the existing run");
    }
    let options = TrainOptions {
        resume,
        time_budget,
        // A fork only starts a run; its continuation is a plain resume.
        init_from: init_from.filter(|_| !resume),
        ..TrainOptions::new(out, device.clone())
    };
    Ok(sparling_models::train(
        config,
        &options,
        &mut LogValidations,
    )?)
}

fn write_results(
    args: &ReproduceArgs,
    config: &RunConfig,
    results: &[SeedResult],
) -> anyhow::Result<()> {
    let domain = args.domain.name();
    let stem = format!("{domain}-{}", args.preset);
    std::fs::create_dir_all(&args.results)
        .with_context(|| format!("creating {}", args.results.display()))?;
    let mut command = format!(
        "cargo xtask reproduce {domain} --preset {} --seeds {} --samples {}",
        args.preset, args.seeds, args.samples
    );
    if let Some(data) = &args.data {
        write!(command, " --data {}", data.display())?;
    }
    if let Some(minutes) = args.time_budget_minutes {
        write!(command, " --time-budget-minutes {minutes}")?;
    }
    if let Some(voice) = &args.test_voice {
        write!(
            command,
            " --test-voice {}={}",
            voice.name,
            voice.dir.display()
        )?;
    }

    let json = Results {
        domain,
        preset: &args.preset,
        command: command.clone(),
        config,
        seeds: results,
    };
    write_atomic(
        &args.results.join(format!("{stem}.json")),
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;

    let mut svgs = Vec::new();
    for r in results {
        // Each seed's own stride (a record may come from an earlier recipe).
        let pixels_per_map_position = (r.eval.map_stride * r.eval.map_stride) as f64;
        let curves = Curves {
            accuracy: r
                .history
                .iter()
                .map(|v| (v.samples as f64, v.accuracy))
                .collect(),
            // Per pixel, as the paper's density (maps at block resolution train a per-block one).
            density: r
                .history
                .iter()
                .map(|v| (v.samples as f64, v.density / pixels_per_map_position))
                .collect(),
        };
        let name = format!("{stem}-seed{}-curves.svg", r.seed);
        let paper = paper(args.domain);
        training_curves_svg(
            &curves,
            &format!("{domain}, preset {}, seed {}", args.preset, r.seed),
            Some((paper.density, "paper's evaluation density")),
            &args.results.join(&name),
        )?;
        svgs.push(name);
    }

    let markdown = render_markdown(args, config, results, &command, &svgs)?;
    publish(&args.results.join(format!("{stem}.md")), &markdown)
}

/// Write a result table and print it.
///
/// # Errors
/// I/O failures.
pub(crate) fn publish(path: &Path, markdown: &str) -> anyhow::Result<()> {
    write_atomic(path, markdown.as_bytes())?;
    println!("{markdown}");
    Ok(())
}

fn render_markdown(
    args: &ReproduceArgs,
    config: &RunConfig,
    results: &[SeedResult],
    command: &str,
    svgs: &[String],
) -> anyhow::Result<String> {
    let paper = paper(args.domain);
    let domain = args.domain.name();
    let mut md = String::new();
    writeln!(
        md,
        "# {domain}: preset `{}` against the paper\n",
        args.preset
    )?;
    writeln!(
        md,
        "Produced by `{command}` (run directories under `{}`; each seed's result is also \
         recorded in `{domain}-{}-seed<S>.json`).\n",
        args.runs.display(),
        args.preset
    )?;

    let summarize = |values: Vec<f64>| -> anyhow::Result<String> {
        if values.len() == 1 {
            return Ok(format!("{:.2}", values[0]));
        }
        let ci = bootstrap_mean_ci(&values, &BootstrapConfig::default())?;
        Ok(format!("{:.2} [{:.2}, {:.2}]", ci.mean, ci.low, ci.high))
    };
    // The test-voice column, when every seed has it.
    let voices: Option<Vec<&EvalReport>> = results.iter().map(|r| r.voice.as_ref()).collect();
    let pct = |f: fn(&EvalReport) -> f64| -> anyhow::Result<String> {
        let held_out = summarize(results.iter().map(|r| 100.0 * f(&r.eval)).collect())?;
        Ok(match &voices {
            Some(v) => format!(
                "{held_out} | {}",
                summarize(v.iter().map(|e| 100.0 * f(e)).collect())?
            ),
            None => held_out,
        })
    };
    let seeds = results
        .iter()
        .map(|r| r.seed.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(note) = paper.dataset_note {
        writeln!(md, "{note}\n")?;
    }
    let (voice_header, voice_rule) = match voices.as_ref().and_then(|v| v.first()) {
        Some(v) => (
            format!(
                " | ours, voice {} (evaluation only)",
                v.held_out.as_deref().unwrap_or("?")
            ),
            "---|",
        ),
        None => (String::new(), ""),
    };
    let held_out = results[0]
        .eval
        .held_out
        .as_ref()
        .map_or(String::new(), |h| format!(", held out {h}"));
    writeln!(
        md,
        "| metric (%) | {} (seeds {seeds}{held_out}){voice_header} | {} |",
        paper.ours, paper.theirs
    )?;
    writeln!(md, "|---|---|{voice_rule}---|")?;
    writeln!(md, "| FPE | {} | {:.2} |", pct(|e| e.fpe)?, paper.fpe)?;
    writeln!(md, "| FNE | {} | {:.2} |", pct(|e| e.fne)?, paper.fne)?;
    writeln!(
        md,
        "| CE ({}) | {} | {:.2} |",
        results[0].eval.ce_method,
        pct(|e| e.ce)?,
        paper.ce
    )?;
    writeln!(
        md,
        "| E2EE, edit distance | {} | {:.2} |",
        pct(|e| e.e2e_edit_error)?,
        paper.e2e_edit
    )?;
    writeln!(
        md,
        "| E2EE, exact match | {} | – |",
        pct(|e| e.e2e_exact_error)?
    )?;
    if let Some(direct) = paper.direct
        && results.iter().all(|r| r.eval.direct.is_some())
    {
        let error = |e: &EvalReport| e.direct.as_ref().map_or(f64::NAN, |d| d.error);
        writeln!(
            md,
            "| direct single-digit motif error (many-to-one) | {} | {direct:.2} |",
            pct(error)?
        )?;
    }
    writeln!(md)?;
    if results.len() > 1 {
        writeln!(
            md,
            "Brackets: 95% bootstrap interval of the mean over seeds (1000 resamples).\n"
        )?;
    }
    writeln!(md, "Paper: {}.\n", paper.source)?;

    writeln!(md, "## Runs\n")?;
    writeln!(
        md,
        "| seed | evaluated density | measured density (evaluation data / validation data) | samples | training time | samples/s | stopped | motif-eval images | test samples |"
    )?;
    writeln!(md, "|---|---|---|---|---|---|---|---|---|")?;
    for r in results {
        let stopped = r
            .summary
            .stopped
            .map_or_else(|| "running".to_string(), |s| format!("{s:?}"));
        writeln!(
            md,
            "| {} | {:.3e}{} | {:.3e} / {} | {} | {:.1} min | {:.1} | {} | {} | {} |",
            r.seed,
            r.eval.density_per_pixel(),
            if r.eval.map_stride > 1 {
                format!(" ({:.3e} per map cell)", r.eval.density)
            } else {
                String::new()
            },
            r.eval.measured_density,
            r.eval
                .measured_density_val
                .map_or("–".to_string(), |v| format!("{v:.3e}")),
            r.eval.samples,
            r.summary.seconds / 60.0,
            r.summary.samples_per_second,
            stopped,
            r.eval.motif_samples,
            r.eval.test_samples
        )?;
    }
    writeln!(md)?;
    for svg in svgs {
        writeln!(
            md,
            "![validation accuracy and density against samples]({svg})\n"
        )?;
    }
    writeln!(md, "## Configuration\n")?;
    writeln!(md, "```toml\n{}```", config.to_toml()?)?;
    Ok(md)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use sparling_models::config::DomainConfig;

    use clap::Parser;

    use super::{Domain, ReproduceArgs, SeedRecord, paper, parse_seeds, preset, run};

    #[test]
    fn audio_is_labelled_as_another_dataset() {
        let paper = paper(Domain::Audio);
        assert!(paper.theirs.contains("AudioMNIST") && paper.ours.contains("FSDD"));
        assert!(
            paper
                .dataset_note
                .is_some_and(|n| n.contains("Different datasets"))
        );
        assert!((paper.density - 0.5 * 0.75f64.powi(21)).abs() < 1e-9);
        let config = preset(Domain::Audio, "cpu", 3, Some(Path::new("data/fsdd"))).expect("preset");
        assert_eq!(config.seed, 3);
        let DomainConfig::Audio(audio) = &config.domain else {
            panic!("audio domain");
        };
        assert_eq!(audio.recordings.as_deref(), Some(Path::new("data/fsdd")));
        assert!(preset(Domain::DigitCircle, "cpu", 1, Some(Path::new("x"))).is_err());
    }

    #[test]
    fn latex_reproduces_the_paper_table_with_every_preset() {
        let paper = paper(Domain::Latex);
        assert_eq!(
            (paper.fpe, paper.fne, paper.ce, paper.e2e_edit),
            (0.53, 14.20, 2.50, 0.98)
        );
        assert!((paper.density - 0.5 * 0.75f64.powi(38)).abs() < 1e-12);
        for name in ["paper", "cpu", "tiny"] {
            let config = preset(Domain::Latex, name, 2, None).expect("preset");
            assert_eq!(config.seed, 2);
            assert!(matches!(config.domain, DomainConfig::Latex(_)));
            config.validate().expect("valid");
        }
        // LaTeX renders its images itself: there is no data directory to point at.
        let err = preset(Domain::Latex, "cpu", 1, Some(Path::new("x"))).expect_err("--data");
        assert!(err.to_string().contains("audio"), "{err}");
    }

    /// Audio seeds are also evaluated on a second voice when asked, in a column of its own.
    #[test]
    fn an_audio_table_reports_the_test_voice_beside_the_held_out_speaker() {
        let dir = tempfile::tempdir().expect("tempdir");
        let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
        let fsdd = shared.join("fsdd/recordings");
        let voice = format!("allison={}", shared.join("allison-digits").display());
        let runs = dir.path().join("runs");
        let results = dir.path().join("results");
        let argv = [
            "reproduce",
            "audio",
            "--preset",
            "tiny",
            "--samples",
            "3",
            "--data",
            fsdd.to_str().expect("utf-8"),
            "--test-voice",
            &voice,
            "--runs",
            runs.to_str().expect("utf-8"),
            "--results",
            results.to_str().expect("utf-8"),
        ];
        run(&Cli::parse_from(argv).args).expect("reproduce");
        let table = std::fs::read_to_string(results.join("audio-tiny.md")).expect("table");
        assert!(table.contains("held out theo"), "{table}");
        assert!(table.contains("ours, voice allison"), "{table}");
        let argv = [
            "reproduce",
            "digit-circle",
            "--test-voice",
            &voice,
            "--runs",
            runs.to_str().expect("utf-8"),
        ];
        let err = run(&Cli::parse_from(argv).args).expect_err("no voices in digit-circle");
        assert!(err.to_string().contains("--test-voice"), "{err}");
        // A voice that cannot be read is refused before anything trains.
        let fsdd_arg = fsdd.to_str().expect("utf-8");
        let fresh = dir.path().join("fresh");
        let argv = [
            "reproduce",
            "audio",
            "--preset",
            "tiny",
            "--data",
            fsdd_arg,
            "--test-voice",
            "ghost=/nonexistent/voice",
            "--runs",
            fresh.to_str().expect("utf-8"),
        ];
        let err = run(&Cli::parse_from(argv).args).expect_err("missing voice");
        assert!(err.to_string().contains("/nonexistent/voice"), "{err}");
        assert!(!fresh.exists());
    }

    /// The direct baseline has no motif or end-to-end errors to table: refused up front.
    #[test]
    fn the_direct_preset_is_not_reproduced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let runs = dir.path().join("runs");
        let argv = [
            "reproduce",
            "digit-circle",
            "--preset",
            "direct",
            "--runs",
            runs.to_str().expect("utf-8"),
        ];
        let err = run(&Cli::parse_from(argv).args).expect_err("refused");
        assert!(err.to_string().contains("motif model alone"), "{err}");
        assert!(!runs.exists());
    }

    #[test]
    fn seeds_parse_as_lists_and_ranges() {
        assert_eq!(parse_seeds("1").expect("one"), vec![1]);
        assert_eq!(parse_seeds("1,3, 5").expect("list"), vec![1, 3, 5]);
        assert_eq!(parse_seeds("1-4").expect("range"), vec![1, 2, 3, 4]);
        assert!(parse_seeds("-2").is_err(), "the test stream");
        assert!(parse_seeds("0-99").is_ok());
        assert!(parse_seeds("0-100").is_err(), "101 seeds");
        assert!(
            parse_seeds("1-9223372036854775807").is_err(),
            "no allocation"
        );
        assert!(parse_seeds("1,1").is_err(), "a repeated seed");
        assert!(parse_seeds("4-1").is_err());
        assert!(parse_seeds("a").is_err());
        assert!(parse_seeds("").is_err());
    }

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ReproduceArgs,
    }

    /// A seed trained in an earlier session (its run directory gone) comes from its record;
    /// a record of another configuration is not used.
    #[test]
    fn a_recorded_seed_is_reused_without_its_run_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let runs = dir.path().join("runs");
        let results = dir.path().join("results");
        let argv = [
            "reproduce",
            "digit-circle",
            "--preset",
            "tiny",
            "--seeds",
            "5",
            "--samples",
            "4",
            "--runs",
            runs.to_str().expect("utf-8"),
            "--results",
            results.to_str().expect("utf-8"),
        ];
        let args = Cli::parse_from(argv).args;
        run(&args).expect("first reproduce");
        let record = SeedRecord::path(&args, 5);
        let first = std::fs::read_to_string(&record).expect("seed record");
        let table = std::fs::read_to_string(results.join("digit-circle-tiny.md")).expect("table");
        assert!(
            table.contains("direct single-digit motif error"),
            "DigitCircle tables carry the direct evaluation: {table}"
        );

        std::fs::remove_dir_all(&runs).expect("remove runs");
        run(&args).expect("second reproduce");
        assert!(!runs.exists(), "the seed was trained again");
        assert_eq!(
            std::fs::read_to_string(&record).expect("seed record"),
            first
        );
        assert_eq!(
            std::fs::read_to_string(results.join("digit-circle-tiny.md")).expect("table"),
            table
        );

        let config = preset(Domain::DigitCircle, "tiny", 5, None).expect("preset");
        assert!(
            SeedRecord::matching(&record, &config, 4)
                .expect("read")
                .is_some()
        );
        assert!(
            SeedRecord::matching(&record, &config, 8)
                .expect("read")
                .is_none()
        );
        let mut other = config.clone();
        other.training.learning_rate *= 2.0;
        assert!(
            SeedRecord::matching(&record, &other, 4)
                .expect("read")
                .is_none()
        );
    }
}
