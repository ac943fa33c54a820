//! `sparling train <domain>`: train a model into a run directory, or continue one.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use sparling_models::checkpoint::{RunDir, StopReason, ValidationRecord};
use sparling_models::config::DomainConfig;
use sparling_models::fork::InitFrom;
use sparling_models::{Backend, Domain, RunConfig, TrainObserver, TrainOptions, presets};

use super::{domain_task, usage};

/// `sparling train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Domain to train on.
    #[arg(value_enum)]
    domain: Domain,
    /// Named configuration: `paper` (the authors' run, for a GPU), `cpu` (a recipe for a
    /// 2-core CPU: about 2 hours for DigitCircle, longer for LaTeX, see docs/latex.md) or `tiny`
    /// (seconds; for smoke tests).
    #[arg(long, default_value = "cpu")]
    preset: String,
    /// A full run configuration in TOML (see `--dump-config`); replaces the preset.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data seed of the training stream (the paper uses 1-9); also seeds initialisation and
    /// dropout.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    seed: i64,
    /// Run directory: config.toml, metrics.jsonl, checkpoints/, summary.json.
    #[arg(long)]
    out: PathBuf,
    /// Continue the run in --out from its latest checkpoint (same configuration required).
    #[arg(long)]
    resume: bool,
    /// Start this new run from the model (weights, BatchNorm statistics, thresholds, density)
    /// of another run: RUN_DIR takes the model trained at the lowest density reached there,
    /// RUN_DIR@DENSITY the last one trained at that density (within 1 %). The architecture
    /// must be the same; training settings, seed and data stream are this run's, and the
    /// density schedule continues from the source's accuracy target.
    #[arg(
        long,
        value_name = "RUN_DIR[@DENSITY]",
        conflicts_with = "resume",
        value_parser = clap::value_parser!(InitFrom)
    )]
    init_from: Option<InitFrom>,
    /// Override the sample cap of the configuration.
    #[arg(long)]
    max_samples: Option<u64>,
    /// Stop after this many samples with a checkpoint, without marking the run finished
    /// (continue later with --resume).
    #[arg(long)]
    pause_at: Option<u64>,
    /// Stop with a checkpoint once training (validations excluded, summed over resumptions)
    /// has taken this many minutes; the run counts as finished and can be evaluated. Resume
    /// with a larger budget to continue.
    #[arg(long, value_name = "MINUTES", value_parser = sparling_models::training::parse_budget_minutes)]
    time_budget_minutes: Option<f64>,
    /// Compute backend: `flex` (CPU, default), `tch` or `cuda` (need the cargo features).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
    /// Directory of the FSDD recordings (`{digit}_{speaker}_{take}.wav`) for the audio domain;
    /// stored in the run's config.toml as given. Default: the configuration's
    /// `domain.recordings`, else $SPARLING_FSDD.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Print the resolved configuration as TOML and exit.
    #[arg(long)]
    dump_config: bool,
}

/// Resolve the configuration from `--config` or `--preset` plus overrides.
fn resolve(args: &TrainArgs) -> anyhow::Result<RunConfig> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading --config {}", path.display()))?;
            match RunConfig::from_toml(&text, path) {
                Ok(c) => c,
                Err(e) => return usage(e.to_string()),
            }
        }
        None => match presets::get(args.domain, &args.preset, args.seed) {
            Ok(c) => c,
            Err(e) => return usage(e.to_string()),
        },
    };
    if config.domain.domain() != args.domain {
        return usage(format!(
            "--config holds a {} configuration, but the command trains {}",
            config.domain.name(),
            args.domain.name()
        ));
    }
    if args.config.is_some() {
        config.seed = args.seed;
    }
    if let Some(dir) = &args.data {
        // Stored absolute, so that `eval` and `--resume` work from any working directory.
        let dir = match dir.canonicalize() {
            Ok(d) => d,
            Err(e) => {
                return usage(format!(
                    "--data {}: {e}; expected the directory of the FSDD recordings",
                    dir.display()
                ));
            }
        };
        match &mut config.domain {
            DomainConfig::Audio(audio) => audio.recordings = Some(dir),
            other => {
                return usage(format!(
                    "--data only applies to the audio domain, not {}",
                    other.name()
                ));
            }
        }
    }
    // `--resume` without `--data`: the directory the run stored.
    if let DomainConfig::Audio(audio) = &mut config.domain
        && audio.recordings.is_none()
        && args.resume
        && let Ok(Some(stored)) = RunDir::new(&args.out).read_config()
        && let DomainConfig::Audio(stored) = stored.domain
    {
        audio.recordings = stored.recordings;
    }
    if let Some(max) = args.max_samples {
        config.training.max_samples = max;
    }
    if let Err(e) = config.validate() {
        return usage(e.to_string());
    }
    Ok(config)
}

/// Run `sparling train`.
///
/// # Errors
/// Usage errors (exit code 2) for bad values; runtime errors otherwise.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let config = resolve(args)?;
    if args.dump_config {
        print!("{}", config.to_toml()?);
        return Ok(());
    }
    let device = super::backend_device(args.backend)?;
    // Built before the run directory is touched, so missing recordings leave nothing behind;
    // kept alive so that the training loop reuses the recordings it loaded.
    let _task = domain_task(&config.domain)?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                eprintln!("second Ctrl-C: exiting without a checkpoint");
                std::process::exit(i32::from(super::INTERRUPTED_EXIT_CODE));
            }
            eprintln!("Ctrl-C: stopping after the current step and writing a checkpoint");
        })
        .context("installing the Ctrl-C handler")?;
    }
    let options = TrainOptions {
        out: args.out.clone(),
        resume: args.resume,
        device,
        stop,
        pause_at: args.pause_at,
        time_budget: args.time_budget_minutes.map(|m| m * 60.0),
        init_from: args.init_from.clone(),
    };
    tracing::info!(
        preset = %config.preset,
        seed = config.seed,
        backend = %args.backend,
        out = %args.out.display(),
        "training"
    );
    let mut progress = Progress::new(config.training.log_every);
    let summary = match sparling_models::train(&config, &options, &mut progress) {
        Ok(s) => s,
        Err(e) if e.is_bad_input() => return usage(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    progress.finish();
    println!("{}", serde_json::to_string_pretty(&summary)?);
    if summary.stopped == Some(StopReason::Interrupted) {
        return Err(super::Interrupted.into());
    }
    Ok(())
}

/// A progress bar counted in samples when stderr is a terminal; plain log lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    log_every: u64,
    last_log: u64,
    started: Instant,
    start_samples: u64,
    accuracy: Option<f64>,
}

impl Progress {
    fn new(log_every: u64) -> Self {
        Self {
            bar: None,
            log_every,
            last_log: 0,
            started: Instant::now(),
            start_samples: 0,
            accuracy: None,
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn rate(&self, samples: u64) -> f64 {
        (samples - self.start_samples) as f64 / self.started.elapsed().as_secs_f64().max(1e-9)
    }
}

impl TrainObserver for Progress {
    fn on_start(&mut self, samples: u64, max_samples: u64) {
        self.started = Instant::now();
        self.start_samples = samples;
        self.last_log = samples;
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(max_samples).with_position(samples);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} samples  {per_sec}  ETA {eta}  {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            self.bar = Some(bar);
        }
    }

    fn on_step(&mut self, samples: u64, loss: f64, density: f64) {
        let acc = self
            .accuracy
            .map_or_else(|| "-".to_string(), |a| format!("{:.1}%", 100.0 * a));
        if let Some(bar) = &self.bar {
            bar.set_position(samples);
            bar.set_message(format!(
                "loss {loss:.4}  val acc {acc}  density {density:.3e}"
            ));
        } else if samples - self.last_log >= self.log_every {
            self.last_log = samples;
            tracing::info!(
                "{samples} samples  {:.1} samples/s  loss {loss:.4}  val acc {acc}  density {density:.3e}",
                self.rate(samples)
            );
        }
    }

    fn on_validation(&mut self, record: &ValidationRecord) {
        self.accuracy = Some(record.accuracy);
        let line = format!(
            "validation at {} samples: exact match {:.2}%, density {:.3e} -> {:.3e}",
            record.samples,
            100.0 * record.accuracy,
            record.density,
            record.next_density
        );
        match &self.bar {
            Some(bar) => bar.println(line),
            None => tracing::info!("{line}"),
        }
    }
}
