//! `cargo xtask sweep --slurm`: a job-array script, one array index per task, for the user to
//! submit with `sbatch`. `--requeue` is safe: a requeued task resumes its run directory, and a
//! finished one (its result written) returns at once.

use std::fmt::Write as _;

use anyhow::Context;
use clap::Args;
use sparling_models::Backend;
use sparling_models::checkpoint::write_atomic;

use super::manifest::{Manifest, SweepDir};
use crate::Usage;

/// The Slurm resources of every task.
#[derive(Debug, Args)]
pub(super) struct SlurmArgs {
    /// Write a Slurm job-array script (`sweep.sbatch`) instead of running the tasks.
    #[arg(long)]
    pub(super) slurm: bool,
    /// Wall-clock limit per task (`sbatch --time`), e.g. `12:00:00` or `2-00:00:00`.
    #[arg(long, default_value = "24:00:00", requires = "slurm")]
    time: String,
    /// CPU cores per task (`--cpus-per-task`; also the rayon and burn thread count).
    #[arg(long, default_value_t = 2, requires = "slurm")]
    cpus_per_task: usize,
    /// Memory per task (`--mem`), e.g. `16G`.
    #[arg(long, default_value = "16G", requires = "slurm")]
    mem: String,
    /// Partition (`--partition`), if the cluster needs one.
    #[arg(long, requires = "slurm")]
    partition: Option<String>,
    /// GPUs per task (`--gres=gpu:N`); `--backend cuda` asks for one unless given.
    #[arg(long, requires = "slurm")]
    gpus: Option<usize>,
}

/// Check a Slurm value against the characters `sbatch` options take, so a typo cannot
/// inject shell text into the script.
fn plain(flag: &str, value: &str) -> anyhow::Result<()> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.' | ','));
    if ok {
        Ok(())
    } else {
        Err(Usage(format!(
            "{flag} `{value}`: only letters, digits and `:-_.,` are allowed"
        ))
        .into())
    }
}

/// Check the resource values and the sweep directory's path, which the script names
/// unquoted in `#SBATCH --output`.
///
/// # Errors
/// [`Usage`] naming the bad value.
pub(super) fn check(args: &SlurmArgs, out: &std::path::Path) -> anyhow::Result<()> {
    plain("--time", &args.time)?;
    plain("--mem", &args.mem)?;
    if let Some(p) = &args.partition {
        plain("--partition", p)?;
    }
    if args.cpus_per_task == 0 {
        return Err(Usage("--cpus-per-task must be at least 1".into()).into());
    }
    let path = out.display().to_string();
    if path
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '%' | '\'' | '"' | '\\'))
    {
        return Err(Usage(format!(
            "--out `{path}`: a Slurm sweep directory's path may not hold whitespace, control \
             characters, quotes, backslashes or `%` (it is written into #SBATCH --output)"
        ))
        .into());
    }
    Ok(())
}

/// Write `sweep.sbatch` for `manifest` and say how to submit it.
///
/// # Errors
/// Bad resource values (exit code 2), I/O errors.
pub(super) fn write_script(
    dir: &SweepDir,
    manifest: &Manifest,
    args: &SlurmArgs,
) -> anyhow::Result<()> {
    let gpus = args
        .gpus
        .or((manifest.backend == Backend::Cuda).then_some(1))
        .filter(|&g| g > 0);
    let exe = std::env::current_exe().context("locating the xtask binary")?;
    let root = dir
        .root()
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.root().display()))?;
    check(args, &root)?;
    let last = manifest.tasks.len().saturating_sub(1);
    let mut s = String::new();
    writeln!(s, "#!/bin/bash")?;
    writeln!(
        s,
        "# SPARLING sweep: {} tasks (manifest.json).",
        manifest.tasks.len()
    )?;
    writeln!(s, "#SBATCH --job-name=sparling-sweep")?;
    writeln!(s, "#SBATCH --array=0-{last}")?;
    writeln!(s, "#SBATCH --time={}", args.time)?;
    writeln!(s, "#SBATCH --cpus-per-task={}", args.cpus_per_task)?;
    writeln!(s, "#SBATCH --mem={}", args.mem)?;
    if let Some(p) = &args.partition {
        writeln!(s, "#SBATCH --partition={p}")?;
    }
    if let Some(g) = gpus {
        writeln!(s, "#SBATCH --gres=gpu:{g}")?;
    }
    writeln!(s, "#SBATCH --requeue")?;
    // A requeued task appends to its log, so `collect` sees every attempt.
    writeln!(s, "#SBATCH --open-mode=append")?;
    writeln!(s, "#SBATCH --output={}/logs/task-%a.log", root.display())?;
    writeln!(s, "set -euo pipefail")?;
    writeln!(
        s,
        "export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{}}}\"",
        args.cpus_per_task
    )?;
    writeln!(
        s,
        "exec {} sweep-task --dir {} --index \"$SLURM_ARRAY_TASK_ID\"",
        shell_quote(&exe.display().to_string()),
        shell_quote(&root.display().to_string())
    )?;
    write_atomic(&dir.sbatch(), s.as_bytes())?;
    println!(
        "wrote {} ({} tasks); submit it with:\n  sbatch {}\nthen gather the results with:\n  cargo xtask collect {}",
        dir.sbatch().display(),
        manifest.tasks.len(),
        dir.sbatch().display(),
        dir.root().display()
    );
    Ok(())
}

/// `value` in single quotes for bash.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}
