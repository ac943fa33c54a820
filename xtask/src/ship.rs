//! `cargo xtask ship`: package one trained model as a small run directory that `sparling eval`
//! and `sparling motifs` open right after a clone.
//!
//! ```text
//! <out>/config.toml                       the run's configuration
//! <out>/checkpoints/density-<d>/model.bpk the last model trained at density d (inference record:
//!                                         weights, BatchNorm statistics, thresholds; no optimizer)
//! <out>/checkpoints/density-<d>/state.json its validation record
//! <out>/expected.json                     `sparling eval` of it on the first N motif-eval images
//!                                         and test samples, which a test recomputes
//! <out>/README.md                         where it comes from
//! ```

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use sparling_models::checkpoint::{
    OpenedCheckpoint, RunDir, SelectedCheckpoint, load_model, save_model, write_atomic,
};
use sparling_models::device::Backend;
use sparling_models::evaluation::{EvalOptions, evaluate};

/// Largest model file we commit to the repository.
const MAX_MODEL_BYTES: u64 = 5 * 1024 * 1024;

/// `cargo xtask ship`.
#[derive(Debug, Args)]
pub struct ShipArgs {
    /// The trained run.
    #[arg(long)]
    run: PathBuf,
    /// Density level to ship (its density snapshot, within 1 %); default: the lowest level
    /// with a snapshot.
    #[arg(long)]
    density: Option<f64>,
    /// Where the packaged model goes (replaced if it exists).
    #[arg(long)]
    out: PathBuf,
    /// Motif-eval images and test samples of the recorded evaluation.
    #[arg(long, default_value_t = 200)]
    samples: usize,
}

/// Run `cargo xtask ship`.
///
/// # Errors
/// No snapshot at the density, a model file over 5 MB, evaluation or I/O failures.
pub fn run(args: &ShipArgs) -> anyhow::Result<()> {
    let run = RunDir::new(&args.run);
    let Some(config) = run.read_config()? else {
        bail!("{} holds no run (no config.toml)", args.run.display());
    };
    let snapshots = run.density_snapshots()?;
    let chosen = match args.density {
        None => snapshots.last(),
        Some(d) => snapshots
            .iter()
            .find(|(r, _)| (r.density - d).abs() <= 0.01 * d),
    };
    let Some((record, dir)) = chosen else {
        let available: Vec<String> = snapshots
            .iter()
            .map(|(r, _)| format!("{:.6e}", r.density))
            .collect();
        bail!(
            "--density: {} has no density snapshot there; available: {}",
            args.run.display(),
            available.join(", ")
        );
    };
    let model_bytes = fs::metadata(dir.join("model.bpk"))
        .with_context(|| format!("reading {}", dir.display()))?
        .len();
    if model_bytes > MAX_MODEL_BYTES {
        bail!(
            "{} is {model_bytes} bytes; a shipped model must stay under {MAX_MODEL_BYTES}",
            dir.join("model.bpk").display()
        );
    }

    // Build the package beside its destination, then swap it in.
    let tmp = args.out.with_extension("tmp-ship");
    if tmp.exists() {
        fs::remove_dir_all(&tmp).with_context(|| format!("removing {}", tmp.display()))?;
    }
    let name = dir.file_name().context("snapshot directory name")?;
    let snapshot = tmp.join("checkpoints").join(name);
    fs::create_dir_all(&snapshot).with_context(|| format!("creating {}", snapshot.display()))?;
    let device = Backend::Flex.device()?;
    // Loaded and saved again rather than copied, so the shipped record has today's layout
    // whatever version trained the run (checkpoint/legacy.rs).
    save_model(
        &load_model(&config, dir, &device)?,
        &snapshot.join("model.bpk"),
    )?;
    fs::copy(dir.join("state.json"), snapshot.join("state.json"))
        .with_context(|| format!("copying {}", dir.join("state.json").display()))?;
    fs::copy(run.config_path(), tmp.join("config.toml")).context("copying config.toml")?;
    // `sparling eval` writes its reports into the run directory.
    write_atomic(&tmp.join(".gitignore"), b"eval-*.json\n")?;

    let selected = SelectedCheckpoint {
        dir: snapshot.clone(),
        density: record.density,
        samples: record.samples,
    };
    let options = EvalOptions::new(&config, args.samples);
    let opened = OpenedCheckpoint {
        model: load_model(&config, &selected.dir, &device)?,
        selected,
    };
    let mut report = evaluate(&config, &opened, &args.out, &options, &device)?;
    report.checkpoint = Path::new("checkpoints").join(name);
    write_atomic(
        &tmp.join("expected.json"),
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;

    let mut readme = String::new();
    writeln!(
        readme,
        "# Shipped model: {} preset `{}`, seed {}\n",
        config.domain.name(),
        config.preset,
        config.seed
    )?;
    writeln!(
        readme,
        "The last model trained at density {:.3e} ({} training samples, validation exact match \
         {:.1} % on {} when it left that level), from the run `{}`. Inference record only: \
         weights, BatchNorm statistics and thresholds ({model_bytes} bytes); no optimizer state.\n",
        record.density,
        record.samples,
        100.0 * record.accuracy,
        config.training.val_samples_at(record.density),
        args.run.display(),
    )?;
    writeln!(readme, "```sh")?;
    writeln!(
        readme,
        "sparling eval   --run {} --samples 1000",
        args.out.display()
    )?;
    writeln!(
        readme,
        "sparling motifs --run {} --count 8 --out motifs",
        args.out.display()
    )?;
    writeln!(readme, "```\n")?;
    writeln!(
        readme,
        "`expected.json` is its evaluation on the first {n} motif-eval images and {n} test \
         samples (FPE {:.2} %, FNE {:.2} %, CE {:.2} %, edit-distance E2EE {:.2} %, exact-match \
         error {:.2} %); `crates/sparling-models/tests/shipped_model.rs` recomputes it. \
         Packaged with `cargo xtask ship --run {} --out {} --samples {n}`.",
        100.0 * report.fpe,
        100.0 * report.fne,
        100.0 * report.ce,
        100.0 * report.e2e_edit_error,
        100.0 * report.e2e_exact_error,
        args.run.display(),
        args.out.display(),
        n = args.samples,
    )?;
    write_atomic(&tmp.join("README.md"), readme.as_bytes())?;

    if args.out.exists() {
        fs::remove_dir_all(&args.out)
            .with_context(|| format!("removing the old {}", args.out.display()))?;
    }
    fs::rename(&tmp, &args.out).with_context(|| format!("writing {}", args.out.display()))?;
    print!("{readme}");
    Ok(())
}
