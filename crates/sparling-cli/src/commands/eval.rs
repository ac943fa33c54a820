//! `sparling eval`: motif errors and end-to-end errors of a trained model.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use sparling_models::checkpoint::write_atomic;
use sparling_models::evaluation::{EvalOptions, EvalReport, evaluate};

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
    /// Where to write the report (default: `RUN/eval-DENSITY.json`).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Batch size of the evaluation (memory only; results do not depend on it).
    #[arg(long, default_value_t = 50)]
    batch_size: usize,
}

/// Run `sparling eval`.
///
/// # Errors
/// Usage errors (exit code 2) for bad values; runtime errors otherwise.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    if args.samples == 0 || args.batch_size == 0 {
        return usage(format!(
            "--samples {} / --batch-size {}: both must be at least 1",
            args.samples, args.batch_size
        ));
    }
    let opened = open(&args.model)?;
    let options = EvalOptions {
        motif_samples: args.samples,
        test_samples: args.samples,
        max_length: opened.config.training.val_max_length,
        batch_size: args.batch_size,
    };
    tracing::info!(
        checkpoint = %opened.checkpoint.dir.display(),
        density = opened.checkpoint.density,
        "evaluating"
    );
    let report = evaluate(
        &opened.config,
        &opened.checkpoint,
        opened.dir.root(),
        &options,
        &opened.device,
    )?;
    print!("{}", table(&report));
    let path = args.json.clone().unwrap_or_else(|| {
        opened
            .dir
            .root()
            .join(format!("eval-{:.3e}.json", report.density))
    });
    write_atomic(&path, serde_json::to_string_pretty(&report)?.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    println!("report: {}", path.display());
    Ok(())
}

/// The report as a plain-text table (percentages, like the paper).
pub fn table(r: &EvalReport) -> String {
    let pct = |x: f64| format!("{:6.2} %", 100.0 * x);
    format!(
        "checkpoint   {}\n\
         density      {:.3e} (measured {:.3e}), {} training samples\n\
         FPE          {}   ({} motif-eval images)\n\
         FNE          {}\n\
         CE           {}   ({})\n\
         E2EE exact   {}   ({} test samples)\n\
         E2EE edit    {}\n",
        r.checkpoint.display(),
        r.density,
        r.measured_density,
        r.samples,
        pct(r.fpe),
        r.motif_samples,
        pct(r.fne),
        pct(r.ce),
        r.ce_method,
        pct(r.e2e_exact_error),
        r.test_samples,
        pct(r.e2e_edit_error),
    )
}
