//! `cargo xtask`: project automation (the cargo-xtask convention; see `.cargo/config.toml`).
//!
//! * `cargo xtask reproduce digit-circle --preset cpu --seeds 1` trains one run per seed (or
//!   resumes an unfinished one), evaluates the last model at the lowest density reached, and
//!   writes `docs/results/<domain>-<preset>.{md,json}` plus a learning-curve SVG, with the
//!   paper's numbers beside ours.
//! * `cargo xtask ship --run RUN --out models/NAME` packages one density snapshot of a run (the
//!   model only) with its recorded evaluation, for the repository.
//! * `cargo xtask sweep ... --local | --slurm` and `cargo xtask collect DIR` run many runs on
//!   this machine or a Slurm cluster and tabulate them.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sparling_models::ModelError;
use sparling_models::error::describe;
use tracing_subscriber::EnvFilter;

mod compare;
mod curves;
mod diagnose;
mod reproduce;
mod ship;
mod sweep;

// Same allocator as the `sparling` binary: burn's CPU backend allocates per op.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(about = "SPARLING project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train, evaluate and write a result table next to the paper's numbers.
    Reproduce(reproduce::ReproduceArgs),
    /// Train SPARLING, its ablations and the other sparsity methods under one budget and
    /// tabulate them with the paper's numbers.
    Compare(compare::CompareArgs),
    /// Break a model's validation errors down: wrong symbols or wrong order.
    Diagnose(diagnose::DiagnoseArgs),
    /// Validation accuracy of several runs in one SVG.
    Curves(curves::CurvesArgs),
    /// Package a trained model (one density snapshot) for the repository.
    Ship(ship::ShipArgs),
    /// Plan many runs (domains x presets x methods x seeds) and run them here (`--local`) or
    /// write a Slurm job-array script (`--slurm`).
    Sweep(sweep::SweepArgs),
    /// Tabulate a sweep's finished tasks and list the others.
    Collect(sweep::CollectArgs),
    /// Run one task of a sweep (what `--local` and the Slurm script call).
    #[command(hide = true)]
    SweepTask(sweep::TaskArgs),
}

fn main() -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Reproduce(args) => reproduce::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Diagnose(args) => diagnose::run(&args),
        Command::Curves(args) => curves::run(&args),
        Command::Ship(args) => ship::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Collect(args) => sweep::collect(&args),
        Command::SweepTask(args) => sweep::run_task(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", describe(err.as_ref()));
            // The same convention as `sparling`: 2 for bad input, 1 for failures.
            if err.chain().any(is_bad_input) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// A bad argument of an xtask command (exit code 2).
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn is_bad_input(err: &(dyn std::error::Error + 'static)) -> bool {
    err.is::<Usage>()
        || err
            .downcast_ref::<ModelError>()
            .is_some_and(ModelError::is_bad_input)
}
