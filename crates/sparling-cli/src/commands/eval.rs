//! `sparling eval`: motif errors and end-to-end errors of a trained model.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::module::Module;
use clap::Args;
use sparling_models::checkpoint::write_atomic;
use sparling_models::config::{DomainConfig, MAX_BATCH_SIZE, Objective, TestVoice};
use sparling_models::evaluation::{
    DirectReport, DirectRunReport, EVAL_BATCH_SIZE, EvalOptions, EvalReport, direct_motif_error,
    evaluate,
};
use sparling_models::{Domain, ModelError};

use super::run_dir::{ModelArgs, open};
use super::usage;

/// `sparling eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Images of the motif-evaluation split for FPE / FNE / CE, and test samples for the
    /// end-to-end errors (the paper uses 10,000).
    #[arg(long, default_value_t = 1000)]
    samples: usize,
    /// Where to write the report (default: `RUN/eval-DENSITY.json`). Inside the run directory
    /// only `eval-*.json` names are allowed, so a report never replaces the run's own files.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Batch size of the evaluation (memory only; results do not depend on it).
    #[arg(long, default_value_t = EVAL_BATCH_SIZE)]
    batch_size: usize,
    /// Also run the direct motif evaluation on `--samples` single-digit images (DigitCircle:
    /// each channel read as a digit classifier, many-to-one; the paper uses 10,000). A run of
    /// the direct baseline (`training.objective = "direct-digits"`) gets only this evaluation.
    #[arg(long)]
    direct: bool,
    /// Audio: evaluate on another voice instead of the held-out speakers, `NAME=DIR` or `DIR`
    /// (named after the directory): `{digit}.wav` files are that voice, FSDD-named files keep
    /// their speakers. Only evaluation reads it. The default report is then
    /// `RUN/eval-DENSITY-NAME.json`.
    #[arg(long, value_name = "[NAME=]DIR")]
    test_voice: Option<TestVoice>,
}

/// Run `sparling eval`.
///
/// # Errors
/// Usage errors (exit code 2) for bad values; runtime errors otherwise.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    if args.samples == 0 || args.batch_size == 0 || args.batch_size > MAX_BATCH_SIZE {
        return usage(format!(
            "--samples {} / --batch-size {}: both must be at least 1, and the batch size at \
             most {MAX_BATCH_SIZE}",
            args.samples, args.batch_size
        ));
    }
    if let Some(path) = &args.json
        && let Err(why) = check_report_path(path, &args.model.run)
    {
        return usage(format!("--json {}: {why}", path.display()));
    }
    let mut opened = open(&args.model)?;
    if args.direct && opened.config.domain.domain() != Domain::DigitCircle {
        return usage(format!(
            "--direct: the single-digit evaluation exists for digit-circle runs; this run is {}",
            opened.config.domain.name()
        ));
    }
    if let Some(voice) = &args.test_voice {
        let DomainConfig::Audio(audio) = &mut opened.config.domain else {
            return usage(format!(
                "--test-voice: only audio runs have voices; this run is {}",
                opened.config.domain.name()
            ));
        };
        audio.test_voice = Some(voice.clone());
    }
    let voice = args
        .test_voice
        .as_ref()
        .map_or(String::new(), |v| format!("-{}", v.name));
    let report_path = |density: f64| {
        args.json.clone().unwrap_or_else(|| {
            opened
                .dir
                .root()
                .join(format!("eval-{density:.3e}{voice}.json"))
        })
    };
    if opened.config.training.objective == Objective::DirectDigits {
        // The directly trained motif model has only the single-digit evaluation.
        let selected = &opened.checkpoint.selected;
        let report = DirectRunReport {
            run: opened.dir.root().to_path_buf(),
            checkpoint: selected.dir.clone(),
            samples: selected.samples,
            direct: direct_motif_error(
                &opened.config,
                &opened.checkpoint.model.clone().valid(),
                args.samples,
                args.batch_size,
                &opened.device,
            )?,
        };
        println!(
            "checkpoint   {}\n{} training samples (the motif model alone, on single digits)\n{}",
            report.checkpoint.display(),
            report.samples,
            direct_line(&report.direct)
        );
        return write_report(&report, &report_path(selected.density));
    }
    let options = EvalOptions {
        batch_size: args.batch_size,
        ..EvalOptions::new(&opened.config, args.samples)
    };
    tracing::info!(
        checkpoint = %opened.checkpoint.selected.dir.display(),
        density = opened.checkpoint.selected.density,
        "evaluating"
    );
    let mut report = match evaluate(
        &opened.config,
        &opened.checkpoint,
        opened.dir.root(),
        &options,
        &opened.device,
    ) {
        Ok(report) => report,
        // The voice is the user's input: a bad one is a usage error.
        Err(e @ ModelError::TestVoice { .. }) => return usage(format!("--test-voice: {e}")),
        Err(e) => return Err(e.into()),
    };
    if args.direct {
        let model = opened.checkpoint.model.clone().valid();
        report.direct = Some(direct_motif_error(
            &opened.config,
            &model,
            args.samples,
            args.batch_size,
            &opened.device,
        )?);
    }
    print!("{}", table(&report));
    write_report(&report, &report_path(report.density))
}

fn write_report(report: &impl serde::Serialize, path: &Path) -> anyhow::Result<()> {
    write_atomic(path, serde_json::to_string_pretty(report)?.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    println!("report: {}", path.display());
    Ok(())
}

/// The direct evaluation as one line of the table.
fn direct_line(d: &DirectReport) -> String {
    format!(
        "direct       {:6.2} %   ({} single-digit images, many-to-one)\n",
        100.0 * d.error,
        d.samples
    )
}

/// Checked before the (long) evaluation: the report can be written at `path`, and `path` is
/// not one of the run's own files.
fn check_report_path(path: &Path, run: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err("is a directory; give a file name".into());
    }
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Err("names no file".into());
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Ok(parent) = parent.canonicalize() else {
        return Err(format!("directory {} does not exist", parent.display()));
    };
    if !parent.is_dir() {
        return Err(format!("{} is not a directory", parent.display()));
    }
    let Ok(run_root) = run.canonicalize() else {
        return Ok(());
    };
    let a_report = parent == run_root && name.starts_with("eval-") && name.ends_with(".json");
    if parent.starts_with(&run_root) && !a_report {
        return Err(format!(
            "is inside the run directory {}, where only eval-*.json reports may be written \
             (the run's config, metrics and checkpoints are not overwritten)",
            run.display()
        ));
    }
    Ok(())
}

/// The report as a plain-text table (percentages, like the paper).
pub fn table(r: &EvalReport) -> String {
    let pct = |x: f64| format!("{:6.2} %", 100.0 * x);
    let direct = r.direct.as_ref().map_or(String::new(), direct_line);
    let held_out = r
        .held_out
        .as_ref()
        .map_or(String::new(), |v| format!("held out     {v}\n"));
    format!(
        "checkpoint   {}\n\
         density      {:.3e}{} (measured {:.3e}{}), {} training samples\n\
         FPE          {}   ({} motif-eval images)\n\
         FNE          {}\n\
         CE           {}   ({})\n\
         E2EE exact   {}   ({} test samples)\n\
         E2EE edit    {}\n\
         {}{}",
        r.checkpoint.display(),
        r.density_per_pixel(),
        if r.map_stride > 1 {
            format!(
                " per pixel, {:.3e} per {}x{}-pixel map cell",
                r.density, r.map_stride, r.map_stride
            )
        } else {
            String::new()
        },
        r.measured_density,
        r.measured_density_val
            .map_or(String::new(), |v| format!("; {v:.3e} on validation data")),
        r.samples,
        pct(r.fpe),
        r.motif_samples,
        pct(r.fne),
        pct(r.ce),
        r.ce_method,
        pct(r.e2e_exact_error),
        r.test_samples,
        pct(r.e2e_edit_error),
        held_out,
        direct,
    )
}
