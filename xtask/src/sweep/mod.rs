//! `cargo xtask sweep`: many runs (domains x presets x methods x seeds) described once in a
//! manifest, then run on this machine (`--local --jobs N`) or on a Slurm cluster (`--slurm`
//! writes a job-array script to submit); `cargo xtask collect` tabulates what finished
//! (docs/reproduction.md, "Sweeps").
//!
//! Every task is a resumable training followed by its evaluation, run by `cargo xtask
//! sweep-task` in its own process: a killed or requeued task continues its run directory, and
//! a task whose result exists is not run again. Results are written atomically, last, so
//! `collect` never reads half a result.

mod collect;
mod local;
mod manifest;
mod slurm;

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use sparling_models::checkpoint::write_atomic;
use sparling_models::config::DomainConfig;
use sparling_models::{Backend, Domain, RunConfig, presets};

use crate::Usage;
use crate::compare::{arms, evaluate_method};
use crate::reproduce::{parse_seeds, train_or_resume};

pub use collect::{CollectArgs, run as collect};
use manifest::{MANIFEST_VERSION, Manifest, SweepDir, Task, TaskResult};

/// `cargo xtask sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Domain of every task.
    #[arg(long, value_enum)]
    domain: Domain,
    /// Presets, comma-separated (`presets::get`; e.g. `cpu` or `paper,cpu`).
    #[arg(long, default_value = "cpu")]
    presets: String,
    /// Seeds: a list (`1,2,3`) or an inclusive range (`1-9`).
    #[arg(long, default_value = "1")]
    seeds: String,
    /// Sparsity methods, comma-separated: `sparling` (the preset as it is) or, for
    /// digit-circle, any arm of `cargo xtask compare --list` that does not start from another
    /// arm's run.
    #[arg(long, default_value = "sparling")]
    methods: String,
    /// The sweep directory: manifest.json, runs/, results/, logs/ (and sweep.sbatch).
    #[arg(long)]
    out: PathBuf,
    /// Motif-eval images and test samples of each evaluation.
    #[arg(long, default_value_t = 10_000)]
    samples: usize,
    /// Training minutes per task (validations excluded); without it, runs train to their
    /// configured end.
    #[arg(long, value_name = "MINUTES", value_parser = sparling_models::training::parse_budget_minutes)]
    time_budget_minutes: Option<f64>,
    /// Compute backend of every task (`tch` and `cuda` need xtask built with that feature).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
    /// Audio: directory of the FSDD recordings (stored in each task's configuration).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Run the tasks on this machine.
    #[arg(long, conflicts_with = "slurm")]
    local: bool,
    /// With `--local`: at most this many tasks at once.
    #[arg(long, default_value_t = 1, requires = "local")]
    jobs: usize,
    #[command(flatten)]
    slurm: slurm::SlurmArgs,
}

/// `cargo xtask sweep-task` (what each job runs; not for direct use).
#[derive(Debug, Args)]
pub struct TaskArgs {
    /// The sweep directory.
    #[arg(long)]
    dir: PathBuf,
    /// Index of the task in the manifest (the Slurm array index).
    #[arg(long)]
    index: usize,
}

/// Run `cargo xtask sweep`.
///
/// # Errors
/// Bad arguments (exit code 2), a directory holding another sweep, I/O errors; with
/// `--local`, failed tasks.
pub fn run(args: &SweepArgs) -> anyhow::Result<()> {
    if args.slurm.slurm == args.local {
        return Err(Usage("say where the tasks run: --local or --slurm".into()).into());
    }
    if args.samples == 0 || args.jobs == 0 {
        return Err(Usage("--samples and --jobs must be at least 1".into()).into());
    }
    if args.slurm.slurm {
        // Checked before anything is written.
        slurm::check(&args.slurm, &args.out)?;
    }
    let manifest = plan(args)?;
    let dir = SweepDir::new(&args.out);
    dir.create(&manifest)?;
    tracing::info!(tasks = manifest.tasks.len(), dir = %args.out.display(), "sweep planned");
    if args.local {
        local::run(&dir, &manifest, args.jobs)
    } else {
        slurm::write_script(&dir, &manifest, &args.slurm)
    }
}

/// The manifest of `args`: one task per preset x method x seed, in that order.
fn plan(args: &SweepArgs) -> anyhow::Result<Manifest> {
    let seeds = parse_seeds(&args.seeds)?;
    let presets_list = list(&args.presets, "--presets")?;
    let methods = list(&args.methods, "--methods")?;
    let mut tasks = Vec::new();
    for preset in &presets_list {
        for method in &methods {
            for &seed in &seeds {
                let config = task_config(args, preset, method, seed)?;
                config
                    .validate()
                    .map_err(|e| Usage(format!("--presets {preset} --methods {method}: {e}")))?;
                tasks.push(Task {
                    id: format!("{}-{preset}-{method}-seed{seed}", args.domain),
                    domain: args.domain,
                    preset: preset.clone(),
                    method: method.clone(),
                    seed,
                    config,
                });
            }
        }
    }
    Ok(Manifest {
        version: MANIFEST_VERSION,
        backend: args.backend,
        samples: args.samples,
        time_budget_minutes: args.time_budget_minutes,
        tasks,
    })
}

/// A comma-separated list without empty or repeated items.
fn list(value: &str, flag: &str) -> anyhow::Result<Vec<String>> {
    let items: Vec<String> = value.split(',').map(|s| s.trim().to_owned()).collect();
    if items.iter().any(String::is_empty) {
        return Err(Usage(format!("{flag} {value}: an empty item")).into());
    }
    for (i, item) in items.iter().enumerate() {
        if items[..i].contains(item) {
            return Err(Usage(format!("{flag} {value}: `{item}` appears twice")).into());
        }
    }
    Ok(items)
}

/// The configuration of one task: the preset, with the method's changes.
fn task_config(
    args: &SweepArgs,
    preset: &str,
    method: &str,
    seed: i64,
) -> anyhow::Result<RunConfig> {
    let mut base =
        presets::get(args.domain, preset, seed).map_err(|e| Usage(format!("--presets: {e}")))?;
    if let Some(dir) = &args.data {
        let DomainConfig::Audio(audio) = &mut base.domain else {
            return Err(Usage(format!("--data only applies to audio, not {}", args.domain)).into());
        };
        // Absolute: tasks may run elsewhere (a Slurm job starts where `sbatch` was called).
        let absolute = dir
            .canonicalize()
            .map_err(|e| Usage(format!("--data {}: {e}", dir.display())))?;
        audio.recordings = Some(absolute);
    }
    if method == "sparling" {
        return Ok(base);
    }
    if args.domain != Domain::DigitCircle {
        return Err(Usage(format!(
            "--methods {method}: only `sparling` is defined for {} (the other methods are \
             the paper's DigitCircle comparison)",
            args.domain
        ))
        .into());
    }
    let all = arms(&base);
    let Some(arm) = all.iter().find(|a| a.name == method) else {
        let names: Vec<&str> = all
            .iter()
            .filter(|a| a.fork_of.is_none())
            .map(|a| a.name.as_str())
            .collect();
        return Err(Usage(format!(
            "--methods: unknown method `{method}`; available: {}",
            names.join(", ")
        ))
        .into());
    };
    if let Some(source) = arm.fork_of {
        return Err(Usage(format!(
            "--methods {method}: it starts from the `{source}` arm's trained run, which a sweep \
             cannot order; run it with `cargo xtask compare`"
        ))
        .into());
    }
    Ok(arm.config.clone())
}

/// Run `cargo xtask sweep-task`: train (or resume) task `index`, evaluate it, write its
/// result. A task with a result is left alone.
///
/// # Errors
/// A bad index, training, evaluation or I/O failures.
pub fn run_task(args: &TaskArgs) -> anyhow::Result<()> {
    let dir = SweepDir::new(&args.dir);
    let manifest = dir.read()?;
    let Some(task) = manifest.tasks.get(args.index) else {
        return Err(Usage(format!(
            "--index {}: the sweep has {} tasks",
            args.index,
            manifest.tasks.len()
        ))
        .into());
    };
    if dir.read_result(task)?.is_some() {
        tracing::info!(task = task.id, "already finished");
        return Ok(());
    }
    tracing::info!(task = task.id, "training");
    let device = manifest.backend.device()?;
    let out = dir.run_dir(task);
    let budget = manifest.time_budget_minutes.map(|m| m * 60.0);
    let summary = train_or_resume(&task.config, &out, &device, budget, None)
        .with_context(|| format!("task {} ({})", task.id, out.display()))?;
    tracing::info!(task = task.id, "evaluating");
    let (eval, direct) = evaluate_method(&task.config, &out, manifest.samples, &device)?;
    let result = TaskResult {
        id: task.id.clone(),
        summary,
        eval,
        direct,
    };
    write_atomic(
        &dir.result(task),
        serde_json::to_string_pretty(&result)?.as_bytes(),
    )?;
    tracing::info!(task = task.id, "done");
    Ok(())
}
