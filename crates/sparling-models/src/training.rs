//! The training loop (the authors' `train_generic`): teacher-forced cross-entropy with Adam,
//! validation every `val_every` samples, the density schedule fed with exact-match accuracy,
//! atomic checkpoints, and exact resume.
//!
//! burn's `Learner` works in epochs and cannot drive Algorithm 1, so this is a plain loop like
//! burn's `custom-training-loop` example. It reports progress through a [`TrainObserver`] and
//! never touches the terminal itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use sparling_core::{DensitySchedule, Method};
use sparling_data::Split;

use crate::checkpoint::{
    RunDir, StopReason, TrainerState, ValidationRecord, load_model, load_model_into,
    load_optimizer, load_state,
};
use crate::config::{LearningRateSchedule, Objective, RunConfig};
use crate::data::{TensorBatch, cross_entropy, masked_cross_entropy};
use crate::error::ModelError;
use crate::fork::{self, ForkOrigin, InitFrom};
use crate::inference::{digit_accuracy, exact_match_accuracy, predict};
use crate::model::SparlingModel;
use crate::task::{Batch, Task, digit_classes};

/// Batch size used for validation decoding (memory only; results do not depend on it).
const VAL_BATCH: usize = 50;

/// Receives progress; the CLI draws a progress bar with it.
pub trait TrainObserver {
    /// Training (re)starts at `samples` of at most `max_samples`.
    fn on_start(&mut self, _samples: u64, _max_samples: u64) {}
    /// A training step finished.
    fn on_step(&mut self, _samples: u64, _loss: f64, _density: f64) {}
    /// A validation finished.
    fn on_validation(&mut self, _record: &ValidationRecord) {}
}

/// An observer that ignores everything.
pub struct Quiet;

impl TrainObserver for Quiet {}

/// How to run a training job.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// Run directory.
    pub out: PathBuf,
    /// Continue the run in `out` from its latest checkpoint.
    pub resume: bool,
    /// Plain (non-autodiff) device; training uses its autodiff version.
    pub device: Device,
    /// Set to stop after the current step, with a checkpoint.
    pub stop: Arc<AtomicBool>,
    /// Stop (with a checkpoint, not marked finished) once this many samples are seen; for tests
    /// and time-boxed runs. `None` runs to the configured end.
    pub pause_at: Option<u64>,
    /// Stop (with a checkpoint, marked finished with [`StopReason::TimeBudget`]) once the run's
    /// training time, summed over resumptions and without validations, reaches this many
    /// seconds. `None`: no budget.
    pub time_budget: Option<f64>,
    /// Start a new run from another run's saved model (see [`crate::fork`]). Only for a new
    /// run: combined with `resume` it is an error.
    pub init_from: Option<InitFrom>,
}

impl TrainOptions {
    /// Options for a fresh run in `out` on `device`.
    pub fn new(out: impl Into<PathBuf>, device: Device) -> Self {
        Self {
            out: out.into(),
            resume: false,
            device,
            stop: Arc::new(AtomicBool::new(false)),
            pause_at: None,
            time_budget: None,
            init_from: None,
        }
    }
}

/// Parses a time budget in minutes (`--time-budget-minutes`): a finite number above zero.
///
/// # Errors
/// A message naming the value, for a command-line parser to show.
pub fn parse_budget_minutes(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(m) if m.is_finite() && m > 0.0 => Ok(m),
        _ => Err(format!("`{value}` is not a positive number of minutes")),
    }
}

/// What `summary.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    /// Preset name.
    pub preset: String,
    /// Run seed.
    pub seed: i64,
    /// Why the run stopped.
    pub stopped: Option<StopReason>,
    /// Training samples seen.
    pub samples: u64,
    /// Training wall-clock seconds.
    pub seconds: f64,
    /// Mean training throughput.
    pub samples_per_second: f64,
    /// Density at the end.
    pub final_density: f64,
    /// Lowest density that has a saved snapshot (the last model trained at it).
    pub lowest_snapshot_density: Option<f64>,
    /// Last validation accuracy.
    pub last_accuracy: Option<f64>,
    /// Number of validations.
    pub validations: usize,
    /// The run this one was forked from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<ForkOrigin>,
}

/// Seed of the device RNG (dropout) for the step starting at `samples`: reseeding every step
/// makes a resumed run draw the same dropout masks as an uninterrupted one.
fn step_seed(seed: i64, samples: u64) -> u64 {
    let mut z = (seed as u64) ^ samples.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The learning rate of the step starting at `samples`, at `density`.
fn learning_rate(config: &RunConfig, samples: u64, density: f64) -> f64 {
    let t = &config.training;
    let base = t.low_density_at(density).map_or(t.learning_rate, |l| {
        t.learning_rate * l.learning_rate_factor
    });
    match t.learning_rate_schedule {
        LearningRateSchedule::Constant => base,
        LearningRateSchedule::Warmup { warmup_samples } => {
            if warmup_samples == 0 {
                base
            } else {
                let progress = (samples + t.batch_size as u64) as f64 / warmup_samples as f64;
                base * progress.min(1.0)
            }
        }
    }
}

/// `model` with its motif model frozen if the configuration asks for it (not stored in the
/// record, so applied on every start and resume).
fn frozen(config: &RunConfig, model: SparlingModel) -> SparlingModel {
    if config.training.freeze_motifs {
        model.freeze_motifs()
    } else {
        model
    }
}

fn optimizer(config: &RunConfig) -> ModuleOptimizer {
    let t = &config.training;
    AdamConfig::new()
        .with_epsilon(t.adam_epsilon as f32)
        .with_grad_clipping(
            t.gradient_clip
                .map(|c| GradientClippingConfig::Norm(c as f32)),
        )
        .init()
}

/// The training data: the task, preceded by the curriculum's easier versions of it.
struct TrainingData<'t> {
    /// `(until_samples, task)` per curriculum stage.
    stages: Vec<(u64, Box<dyn Task>)>,
    task: &'t dyn Task,
}

impl<'t> TrainingData<'t> {
    fn new(config: &RunConfig, task: &'t dyn Task) -> Result<Self, ModelError> {
        let stages = config
            .training
            .curriculum
            .iter()
            .map(|s| {
                Ok((
                    s.until_samples,
                    config.domain.with_max_motifs(s.max_motifs)?.task()?,
                ))
            })
            .collect::<Result<_, ModelError>>()?;
        Ok(Self { stages, task })
    }

    /// The task batch `start` is drawn from (decided by its first sample, so a batch never mixes
    /// stages and a resumed run draws the same data).
    fn at(&self, start: u64) -> &dyn Task {
        self.stages
            .iter()
            .find(|(until, _)| start < *until)
            .map_or(self.task, |(_, task)| task.as_ref())
    }
}

/// Generate training batches ahead of the model on a helper thread.
fn prefetch<'s>(
    scope: &'s std::thread::Scope<'s, '_>,
    data: &'s TrainingData<'s>,
    split: Split,
    start: u64,
    batch_size: usize,
) -> Receiver<Result<Batch, ModelError>> {
    let (tx, rx) = sync_channel(2);
    scope.spawn(move || {
        let mut next = start;
        loop {
            let batch = data.at(next).batch(split, next, batch_size);
            let failed = batch.is_err();
            if tx.send(batch).is_err() || failed {
                break;
            }
            next += batch_size as u64;
        }
    });
    rx
}

/// Why the training loop ends where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Halt {
    /// [`TrainOptions::pause_at`] was reached: the run is not finished and continues when
    /// resumed.
    Pause,
    /// The run stops for this reason (recorded in its checkpoint and `summary.json`).
    Stop(StopReason),
}

/// One run's model, optimizer and trainer state, and the operations the training loop is made
/// of: [`Trainer::step`], [`Trainer::validate`], [`Trainer::checkpoint`] and
/// [`Trainer::halt`]. [`train`] drives it over a run directory; the training-step benchmark
/// (`benches/training_step.rs`) calls the same step.
pub struct Trainer<'c> {
    config: &'c RunConfig,
    /// The plain device (validation); training runs on its autodiff version.
    device: Device,
    model: SparlingModel,
    optim: ModuleOptimizer,
    state: TrainerState,
    /// Training time since it was last added to `state.seconds`.
    clock: Instant,
}

impl<'c> Trainer<'c> {
    /// A new run of `config` on `device` (plain; training uses its autodiff version): the model
    /// initialised from the run seed, the schedule at the model's starting density.
    ///
    /// # Errors
    /// An invalid model or schedule configuration.
    pub fn new(config: &'c RunConfig, device: &Device) -> Result<Self, ModelError> {
        Self::fresh(config, device, None)
    }

    /// A new run, starting from the model of `fork` if given (see [`crate::fork`]).
    fn fresh(
        config: &'c RunConfig,
        device: &Device,
        fork: Option<ForkOrigin>,
    ) -> Result<Self, ModelError> {
        let autodiff = device.clone().autodiff();
        autodiff.seed(step_seed(config.seed, u64::MAX));
        let model = match &fork {
            Some(origin) => {
                tracing::info!(
                    checkpoint = %origin.checkpoint.display(),
                    density = origin.density,
                    "starting from another run's model"
                );
                // Dropping the bottleneck leaves the source's bottleneck tensors unused.
                let dropped = config.model.sparsity().method == Method::Identity;
                load_model_into(config, &origin.checkpoint, &autodiff, dropped)?
            }
            None => config.model.init(&autodiff)?,
        };
        let model = frozen(config, model);
        // A method without a density of its own continues a fork at the source's level (the
        // schedule's bookkeeping value), except a removed bottleneck, which starts afresh.
        let source_level = fork
            .as_ref()
            .filter(|_| config.model.sparsity().method != Method::Identity)
            .map(|o| o.density);
        let density = model
            .density()
            .or(source_level)
            .unwrap_or(config.model.sparsity().density);
        let mut schedule = config.training.schedule.init(density)?;
        if let Some(target) = fork.as_ref().and_then(|o| o.schedule_threshold) {
            schedule.set_threshold(target);
        }
        let state = TrainerState {
            samples: 0,
            last_validation: 0,
            schedule,
            seconds: 0.0,
            loss_sum: 0.0,
            loss_count: 0,
            penalty_sum: 0.0,
            history: Vec::new(),
            accumulator: Default::default(),
            stopped: None,
            forked_from: fork,
        };
        Ok(Self::assemble(
            config,
            device,
            model,
            optimizer(config),
            state,
        ))
    }

    /// The run of `config` as saved in `checkpoint`.
    ///
    /// # Errors
    /// [`ModelError::CorruptCheckpoint`] for unreadable or mismatched files.
    pub fn resume(
        config: &'c RunConfig,
        device: &Device,
        checkpoint: &Path,
    ) -> Result<Self, ModelError> {
        let state = load_state(checkpoint)?;
        let model = frozen(
            config,
            load_model(config, checkpoint, &device.clone().autodiff())?,
        );
        model
            .sparsity()
            .restore_accumulator(state.accumulator.clone());
        let optim = load_optimizer(optimizer(config), checkpoint)?;
        tracing::info!(checkpoint = %checkpoint.display(), samples = state.samples, "resuming");
        Ok(Self::assemble(config, device, model, optim, state))
    }

    fn assemble(
        config: &'c RunConfig,
        device: &Device,
        model: SparlingModel,
        optim: ModuleOptimizer,
        state: TrainerState,
    ) -> Self {
        Self {
            config,
            device: device.clone(),
            model,
            optim,
            state,
            clock: Instant::now(),
        }
    }

    /// The model being trained.
    pub fn model(&self) -> &SparlingModel {
        &self.model
    }

    /// The trainer state (what `state.json` holds).
    pub fn state(&self) -> &TrainerState {
        &self.state
    }

    /// Training samples seen.
    pub fn samples(&self) -> u64 {
        self.state.samples
    }

    /// The density the run is at: the model's for SPARLING; for methods whose density is only
    /// measured, the schedule's bookkeeping value (the paper's L1 and KL runs stop when the
    /// schedule first fires).
    pub fn density(&self) -> f64 {
        self.model
            .density()
            .unwrap_or_else(|| self.state.schedule.density())
    }

    /// Training seconds so far, summed over resumptions, without validations.
    pub fn seconds(&self) -> f64 {
        self.state.seconds + self.clock.elapsed().as_secs_f64()
    }

    /// Bank the training time since the clock last started.
    fn count_time(&mut self) {
        self.state.seconds += self.clock.elapsed().as_secs_f64();
        self.clock = Instant::now();
    }

    /// One optimizer step on `batch` (the objective's cross-entropy, teacher-forced and masked
    /// for label sequences, plus the sparsity method's loss term if it has one; backward,
    /// learning rate of the schedule, Adam with the configured clipping); returns the batch's
    /// task loss (the cross-entropy).
    ///
    /// # Errors
    /// [`ModelError::Diverged`] for a non-finite loss; data shape errors.
    pub fn step(&mut self, batch: &Batch) -> Result<f64, ModelError> {
        let autodiff = self.device.clone().autodiff();
        autodiff.seed(step_seed(self.config.seed, self.state.samples));
        let (task, penalty) = match self.config.training.objective {
            Objective::Sequence => {
                let batch = TensorBatch::new(batch, &autodiff);
                let output = self
                    .model
                    .forward_with_penalty(batch.inputs, batch.decoder_inputs)?;
                let loss = masked_cross_entropy(output.logits, batch.targets, batch.mask);
                (loss, output.penalty)
            }
            Objective::DirectDigits => {
                let classes = digit_classes(&batch.targets)?;
                let n = classes.len();
                let classes = Tensor::from_data(TensorData::new(classes, [n]), &autodiff);
                let inputs = Tensor::from_data(
                    TensorData::new(batch.inputs.clone(), batch.shape),
                    &autodiff,
                );
                let logits = self.model.spatial_maxima(inputs)?;
                (cross_entropy(logits, classes), None)
            }
        };
        let loss_value = f64::from(task.clone().into_scalar::<f32>());
        let (loss, penalty_value) = match penalty {
            Some(penalty) => {
                let value = f64::from(penalty.clone().into_scalar::<f32>());
                (task + penalty, value)
            }
            None => (task, 0.0),
        };
        if !(loss_value + penalty_value).is_finite() {
            return Err(ModelError::Diverged {
                samples: self.state.samples,
                loss: loss_value + penalty_value,
            });
        }
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let lr = learning_rate(self.config, self.state.samples, self.density());
        self.model = self.optim.step(lr, self.model.clone(), grads);
        self.state.samples += self.config.training.batch_size as u64;
        self.state.loss_sum += loss_value;
        self.state.loss_count += 1;
        self.state.penalty_sum += penalty_value;
        Ok(loss_value)
    }

    /// Whether the next validation is due.
    pub fn validation_due(&self) -> bool {
        let every = self.config.training.val_every_at(self.density());
        self.state.samples - self.state.last_validation >= every
    }

    /// Validate (exact-match accuracy on the validation split; the largest channel's accuracy
    /// for the direct objective), feed the schedule and, when it
    /// lowers the density, keep the last model of the level as a snapshot in `run` first (what
    /// the paper reports). Marks the run finished once the density would fall below
    /// `training.done_at_density`. The time spent here is not training time.
    ///
    /// # Errors
    /// Data, decoding or schedule errors; I/O errors writing the snapshot.
    pub fn validate(
        &mut self,
        task: &dyn Task,
        run: &RunDir,
    ) -> Result<ValidationRecord, ModelError> {
        self.count_time();
        let record = self.evaluate(task)?;
        self.clock = Instant::now();
        if record.next_density < record.density {
            run.save_density_snapshot(&self.model, &record)?;
            if self.model.density().is_some() {
                self.model.set_density(record.next_density)?;
            }
        }
        if record.next_density < self.config.training.done_at_density {
            self.state.stopped = Some(StopReason::DensityReached);
        }
        Ok(record)
    }

    /// The validation itself: update the schedule and the loss accumulators, return the record.
    fn evaluate(&mut self, task: &dyn Task) -> Result<ValidationRecord, ModelError> {
        let t = &self.config.training;
        let density = self.density();
        let state = &mut self.state;
        let eval = self.model.valid();
        let count = t.val_samples_at(density);
        let accuracy = match t.objective {
            Objective::Sequence => exact_match_accuracy(&predict(
                &eval,
                task,
                Split::Val,
                count,
                VAL_BATCH,
                t.val_max_length,
                &self.device,
            )?),
            Objective::DirectDigits => {
                digit_accuracy(&eval, task, Split::Val, count, VAL_BATCH, &self.device)?
            }
        };
        let next = state.schedule.update(state.samples, accuracy)?;
        let thresholds = self.model.sparsity().thresholds()?;
        let record = ValidationRecord {
            samples: state.samples,
            loss: if state.loss_count > 0 {
                state.loss_sum / state.loss_count as f64
            } else {
                f64::NAN
            },
            accuracy,
            density,
            next_density: next.unwrap_or(density),
            threshold: thresholds.iter().map(|v| f64::from(*v)).sum::<f64>()
                / thresholds.len().max(1) as f64,
            schedule_threshold: state.schedule.threshold(),
            seconds: state.seconds,
            penalty: (self.model.sparsity().method().adds_penalty() && state.loss_count > 0)
                .then(|| state.penalty_sum / state.loss_count as f64),
        };
        state.last_validation = state.samples;
        state.loss_sum = 0.0;
        state.loss_count = 0;
        state.penalty_sum = 0.0;
        state.history.push(record.clone());
        Ok(record)
    }

    /// Where the loop must end before the next step, if anywhere: a stop reason already set
    /// (the density reached), the sample cap, an interrupt, the time budget, or the pause point,
    /// in that order.
    pub fn halt(&self, options: &TrainOptions) -> Option<Halt> {
        if let Some(reason) = self.state.stopped {
            return Some(Halt::Stop(reason));
        }
        let reason = if self.state.samples >= self.config.training.max_samples {
            StopReason::SampleCap
        } else if options.stop.load(Ordering::SeqCst) {
            StopReason::Interrupted
        } else if options.time_budget.is_some_and(|b| self.seconds() >= b) {
            StopReason::TimeBudget
        } else if options.pause_at.is_some_and(|p| self.state.samples >= p) {
            return Some(Halt::Pause);
        } else {
            return None;
        };
        Some(Halt::Stop(reason))
    }

    /// Save model, optimizer and state as the run's latest checkpoint, with `halt`'s stop
    /// reason if it ends the run.
    ///
    /// # Errors
    /// I/O errors (the previous checkpoint stays the latest).
    pub fn checkpoint(&mut self, run: &RunDir, halt: Option<Halt>) -> Result<(), ModelError> {
        if let Some(Halt::Stop(reason)) = halt {
            self.state.stopped = Some(reason);
        }
        self.count_time();
        self.state.accumulator = self.model.sparsity().accumulator_state();
        run.save_checkpoint(&self.model, &self.optim, &self.state)?;
        Ok(())
    }

    /// A run stopped by the user continues when resumed; one stopped by its time budget
    /// continues when resumed with a larger budget (or none).
    fn continue_after(&mut self, time_budget: Option<f64>) {
        match self.state.stopped {
            Some(StopReason::Interrupted) => self.state.stopped = None,
            Some(StopReason::TimeBudget) if time_budget.is_none_or(|b| self.state.seconds < b) => {
                self.state.stopped = None;
            }
            _ => {}
        }
    }
}

/// Train `config` into `options.out` (or continue it with `options.resume`).
///
/// # Errors
/// Bad configuration, a run directory holding another run, a corrupt checkpoint, data errors,
/// divergence, or I/O failures. Nothing already in the run directory is overwritten unless a
/// complete newer checkpoint replaces it.
pub fn train(
    config: &RunConfig,
    options: &TrainOptions,
    observer: &mut dyn TrainObserver,
) -> Result<TrainSummary, ModelError> {
    config.validate()?;
    let run = RunDir::new(&options.out);
    // Build the task and check a fork's source first: a bad one must fail before anything is
    // written.
    let task = config.training_task()?;
    let fork = match &options.init_from {
        Some(init) if options.resume => {
            return Err(ModelError::invalid(
                "--init-from",
                init,
                "only starts a new run; to continue one, --resume it without --init-from",
            ));
        }
        Some(init) => Some(fork::resolve(init, config)?),
        None => None,
    };
    run.prepare(config, options.resume)?;
    // Held until training returns: a second trainer on this directory is refused.
    let lock = run.lock_for_training()?;
    run.remove_leftovers(&lock)?;

    let latest = if options.resume {
        run.latest_checkpoint()?
    } else {
        None
    };
    let mut trainer = match &latest {
        Some(dir) => Trainer::resume(config, &options.device, dir)?,
        None => Trainer::fresh(config, &options.device, fork)?,
    };
    trainer.continue_after(options.time_budget);
    if trainer.state.stopped.is_none() {
        run_loop(&mut trainer, options, task.as_ref(), &run, observer)?;
    }
    let summary = summarize(config, &run, &trainer.state)?;
    if trainer.state.stopped.is_some() {
        run.write_summary(&summary)?;
    }
    Ok(summary)
}

/// Steps, validations and checkpoints until [`Trainer::halt`] says where to end.
fn run_loop(
    trainer: &mut Trainer<'_>,
    options: &TrainOptions,
    task: &dyn Task,
    run: &RunDir,
    observer: &mut dyn TrainObserver,
) -> Result<(), ModelError> {
    let config = trainer.config;
    let t = &config.training;
    let split = Split::Train { seed: config.seed };
    observer.on_start(trainer.samples(), t.max_samples);
    let mut last_log = trainer.samples();
    let data = TrainingData::new(config, task)?;
    trainer.clock = Instant::now();

    std::thread::scope(|scope| -> Result<(), ModelError> {
        let batches = prefetch(scope, &data, split, trainer.samples(), t.batch_size);
        let mut checkpoint_due = false;
        loop {
            let halt = trainer.halt(options);
            if halt.is_some() || checkpoint_due {
                trainer.checkpoint(run, halt)?;
                checkpoint_due = false;
            }
            if halt.is_some() {
                return Ok(());
            }
            let batch = batches
                .recv()
                .map_err(|_| ModelError::TensorData("data generator stopped".into()))??;
            let density = trainer.density();
            let loss = trainer.step(&batch)?;
            let samples = trainer.samples();
            observer.on_step(samples, loss, density);
            if samples - last_log >= t.log_every {
                last_log = samples;
                tracing::debug!(samples, loss, density, "step");
            }
            if trainer.validation_due() {
                let record = trainer.validate(task, run)?;
                observer.on_validation(&record);
                tracing::info!(
                    samples = record.samples,
                    loss = record.loss,
                    accuracy = record.accuracy,
                    density = record.density,
                    next_density = record.next_density,
                    "validation"
                );
                checkpoint_due = true;
            }
        }
    })
}

fn summarize(
    config: &RunConfig,
    run: &RunDir,
    state: &TrainerState,
) -> Result<TrainSummary, ModelError> {
    let snapshots = run.density_snapshots()?;
    Ok(TrainSummary {
        preset: config.preset.clone(),
        seed: config.seed,
        stopped: state.stopped,
        samples: state.samples,
        seconds: state.seconds,
        samples_per_second: if state.seconds > 0.0 {
            state.samples as f64 / state.seconds
        } else {
            0.0
        },
        final_density: state.schedule.density(),
        lowest_snapshot_density: snapshots.last().map(|(r, _)| r.density),
        last_accuracy: state.history.last().map(|r| r.accuracy),
        validations: state.history.len(),
        forked_from: state.forked_from.clone(),
    })
}
