//! `cargo xtask curves`: validation accuracy of several runs in one SVG, for comparing recipes.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use sparling_metrics::accuracy_comparison_svg;
use sparling_models::checkpoint::{RunDir, ValidationRecord};

/// `cargo xtask curves`.
#[derive(Debug, Args)]
pub struct CurvesArgs {
    /// Runs as `LABEL=DIR` (or just `DIR`, labelled by its file name).
    #[arg(required = true)]
    runs: Vec<String>,
    /// Output SVG.
    #[arg(long)]
    out: PathBuf,
    /// Chart title.
    #[arg(long, default_value = "validation exact match")]
    title: String,
}

/// Run `cargo xtask curves`.
///
/// # Errors
/// An unreadable `metrics.jsonl` or an unwritable output.
pub fn run(args: &CurvesArgs) -> anyhow::Result<()> {
    let mut series = Vec::new();
    for spec in &args.runs {
        let (label, dir) = match spec.split_once('=') {
            Some((label, dir)) => (label.to_string(), PathBuf::from(dir)),
            None => {
                let dir = PathBuf::from(spec);
                let label = dir
                    .file_name()
                    .map_or_else(|| spec.clone(), |n| n.to_string_lossy().into());
                (label, dir)
            }
        };
        let history = read_history(&RunDir::new(&dir))?;
        series.push((
            label,
            history
                .iter()
                .map(|r| (r.samples as f64, r.accuracy))
                .collect(),
        ));
    }
    accuracy_comparison_svg(&series, &args.title, &args.out)?;
    println!("wrote {}", args.out.display());
    Ok(())
}

/// The validation records of a run, in order.
///
/// # Errors
/// An unreadable or unparsable `metrics.jsonl`.
pub fn read_history(run: &RunDir) -> anyhow::Result<Vec<ValidationRecord>> {
    let path = run.metrics_path();
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| format!("parsing {}", path.display())))
        .collect()
}
