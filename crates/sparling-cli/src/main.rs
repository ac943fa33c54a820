//! The `sparling` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

mod commands;

// burn's CPU backend allocates a fresh buffer for nearly every tensor op; glibc malloc returns
// large buffers to the OS and page-faults them back in, which doubled elementwise-op time in
// training. mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use commands::{INTERRUPTED_EXIT_CODE, Interrupted, UsageError};

/// SPARLING: learning latent representations with extremely sparse activations.
#[derive(Debug, Parser)]
#[command(author, version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate samples of a domain as PNG files plus a labels.jsonl with the ground truth.
    Generate(commands::generate::GenerateArgs),
    /// Train a model into a run directory (or continue one with --resume).
    Train(commands::train::TrainArgs),
    /// Motif errors (FPE, FNE, CE) and end-to-end errors of a trained run at a density.
    Eval(commands::eval::EvalArgs),
    /// Draw the active motif pixels of a trained model on its inputs, and the channel-to-class
    /// confusion matrix.
    Motifs(commands::motifs::MotifsArgs),
}

fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => commands::generate::run(&args),
        Command::Train(args) => commands::train::run(&args),
        Command::Eval(args) => commands::eval::run(&args),
        Command::Motifs(args) => commands::motifs::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.downcast_ref::<UsageError>().is_some() => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
        Err(err) if err.downcast_ref::<Interrupted>().is_some() => {
            eprintln!("{err}");
            ExitCode::from(INTERRUPTED_EXIT_CODE)
        }
        Err(err) => {
            eprintln!("error: {}", sparling_models::error::describe(err.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default `info`).
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
