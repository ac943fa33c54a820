//! `cargo xtask compare digit-circle`: SPARLING, its ablations, the paper's penalty baselines and
//! the TopK family, each trained under the same compute budget from the same preset, evaluated
//! at the density it reached, and tabulated with the paper's numbers beside ours
//! (docs/methods.md).
//!
//! A budget comparison is not the paper's full-length runs: every arm gets the same minutes of
//! training, so slow learners are cut short. Each arm's outcome is also written as a record
//! (`<results>/methods/<domain>-<preset>-<arm>-seed<S>.json`); an arm without a run directory
//! whose record has the same configuration is taken from the record, so a table can be
//! assembled from arms trained in different sessions.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::module::Module;
use clap::Args;
use serde::{Deserialize, Serialize};
use sparling_core::{Method, ScheduleConfig};
use sparling_metrics::plot::labelled_scatter_svg;
use sparling_models::checkpoint::{RunDir, open_checkpoint, write_atomic};
use sparling_models::config::Objective;
use sparling_models::evaluation::{
    DirectReport, EVAL_BATCH_SIZE, EvalOptions, EvalReport, direct_motif_error, evaluate,
};
use sparling_models::fork::InitFrom;
use sparling_models::modules::sparsity::Scope;
use sparling_models::{Backend, Domain, RunConfig, TrainSummary, presets};

use crate::Usage;
use crate::reproduce::{parse_seeds, publish, read_record, train_or_resume};

/// `cargo xtask compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Domain (the comparison is defined for `digit-circle`, as in the paper).
    #[arg(value_enum)]
    domain: Domain,
    /// Training minutes per arm and seed (validations excluded).
    #[arg(
        long,
        value_name = "MINUTES",
        value_parser = sparling_models::training::parse_budget_minutes,
        required_unless_present = "list"
    )]
    budget_minutes: Option<f64>,
    /// The preset every arm starts from.
    #[arg(long, default_value = "cpu")]
    preset: String,
    /// Seeds: a list (`1,2,3`) or an inclusive range (`1-9`).
    #[arg(long, default_value = "1")]
    seeds: String,
    /// Arms to run, comma-separated (default: all; `--list` shows them).
    #[arg(long)]
    arms: Option<String>,
    /// Print the arms and exit.
    #[arg(long)]
    list: bool,
    /// Where the run directories go (`<runs>/<domain>-<preset>-<arm>-seed<S>`).
    #[arg(long, default_value = "runs/compare")]
    runs: PathBuf,
    /// Where the table, JSON, plot and per-arm records go.
    #[arg(long, default_value = "docs/results")]
    results: PathBuf,
    /// Motif-eval images and test samples of each evaluation.
    #[arg(long, default_value_t = 2000)]
    samples: usize,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
}

/// The paper's numbers for an arm (percentages; `None` where the paper gives none).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct PaperRow {
    fpe: Option<f64>,
    fne: Option<f64>,
    ce: Option<f64>,
    e2e_edit: Option<f64>,
    /// Density in percent.
    density: Option<f64>,
    /// Direct single-digit error.
    direct: Option<f64>,
}

/// One configuration of the comparison.
pub(crate) struct Arm {
    pub(crate) name: String,
    pub(crate) what: &'static str,
    pub(crate) config: RunConfig,
    paper: PaperRow,
    paper_note: &'static str,
    /// The arm whose run (at the lowest density it trained) this one starts from.
    pub(crate) fork_of: Option<&'static str>,
}

/// DigitCircle's final density level, 0.5 * 0.75^32, where the paper evaluates SPARLING.
const FINAL_DENSITY: f64 = 5.022_621_29e-5;

/// The arms, each a change of `base` (the preset).
pub(crate) fn arms(base: &RunConfig) -> Vec<Arm> {
    let with = |f: &dyn Fn(&mut RunConfig)| {
        let mut c = base.clone();
        f(&mut c);
        c
    };
    let method = |m: Method, stop_at_first_reduction: bool| {
        with(&|c: &mut RunConfig| {
            c.model.sparsity_mut().method = m.clone();
            if stop_at_first_reduction {
                // The paper's stop rule for its L1 and KL runs: `done_at_density` 0.4 ends the
                // run when the schedule first fires (the density is only bookkeeping there).
                c.training.done_at_density = 0.4;
            } else {
                c.training.schedule = ScheduleConfig::Constant;
            }
        })
    };
    let row = |fpe, fne, ce, e2e, density| PaperRow {
        fpe: Some(fpe),
        fne: Some(fne),
        ce: Some(ce),
        e2e_edit: Some(e2e),
        density: Some(density),
        direct: None,
    };
    let e2e_only = |e2e| PaperRow {
        e2e_edit: Some(e2e),
        ..PaperRow::default()
    };
    let mut arms = vec![
        Arm {
            name: "sparling".into(),
            what: "SPARLING (per-channel threshold, BatchNorm, Algorithm 1)",
            config: base.clone(),
            paper: PaperRow {
                direct: Some(1.24),
                ..row(1.48, 0.42, 1.16, 0.74, 0.005)
            },
            paper_note: "Table 1, 9 seeds, at 5.02e-5",
            fork_of: None,
        },
        Arm {
            name: "st".into(),
            what: "one universal threshold (ST)",
            config: with(&|c| c.model.sparsity_mut().scope = Scope::Universal),
            paper: PaperRow {
                ce: Some(22.19),
                ..PaperRow::default()
            },
            paper_note: "ablation, CE only",
            fork_of: None,
        },
        Arm {
            name: "mt-no-bn".into(),
            what: "per-channel threshold without BatchNorm",
            config: with(&|c| c.model.sparsity_mut().batch_norm = false),
            paper: e2e_only(70.60),
            paper_note: "best of 9 seeds",
            fork_of: None,
        },
        Arm {
            name: "st-no-bn".into(),
            what: "universal threshold without BatchNorm",
            config: with(&|c| {
                c.model.sparsity_mut().batch_norm = false;
                c.model.sparsity_mut().scope = Scope::Universal;
            }),
            paper: e2e_only(52.48),
            paper_note: "best of 9 seeds",
            fork_of: None,
        },
        Arm {
            name: "fixed-final".into(),
            what: "no annealing: the final density from the start",
            config: with(&|c| {
                c.model.sparsity_mut().density = FINAL_DENSITY;
                c.training.schedule = ScheduleConfig::Constant;
            }),
            paper: e2e_only(68.12),
            paper_note: "seed 1, 20 M samples",
            fork_of: None,
        },
        Arm {
            name: "non-sparse".into(),
            what: "density held at 0.5",
            config: with(&|c| c.training.schedule = ScheduleConfig::Constant),
            paper: PaperRow::default(),
            paper_note: "bar chart only",
            fork_of: None,
        },
        Arm {
            name: "retrained".into(),
            what: "the sparling arm's model, bottleneck removed, motif model frozen, downstream \
                   trained on",
            config: with(&|c| {
                c.model.sparsity_mut().method = Method::Identity;
                c.training.freeze_motifs = true;
                c.training.schedule = ScheduleConfig::Constant;
            }),
            paper: PaperRow::default(),
            paper_note: "bar chart only",
            fork_of: Some("sparling"),
        },
        Arm {
            name: "direct".into(),
            what: "the motif model alone, trained on single digits (cross-entropy on each \
                   channel's spatial maximum), batch 200, Adam 1e-5",
            config: presets::digit_circle_direct(base.clone()),
            paper: PaperRow {
                direct: Some(0.01),
                ..PaperRow::default()
            },
            paper_note: "9 seeds at 1 M samples; single digits only",
            fork_of: None,
        },
    ];
    for (weight, paper) in [
        (0.1, row(99.99, 0.0, 50.34, 0.68, 37.0)),
        (1.0, row(99.90, 0.0, 47.84, 2.85, 4.6)),
        (10.0, row(97.63, 84.51, 33.82, 73.20, 0.028)),
    ] {
        arms.push(Arm {
            name: format!("l1-{weight}"),
            what: "L1 penalty on relu(BN(x)), stops when the schedule first fires",
            config: method(Method::L1 { weight }, true),
            paper,
            paper_note: "Table 1, seed 1",
            fork_of: None,
        });
    }
    for weight in [0.01, 1.0, 100.0] {
        arms.push(Arm {
            name: format!("kl-{weight}"),
            what: "KL penalty on sigmoid(BN(x)) towards 5.02e-5, stops when the schedule first fires",
            config: method(
                Method::Kl {
                    weight,
                    target: FINAL_DENSITY,
                },
                true,
            ),
            paper: PaperRow {
                density: (weight == 0.01).then_some(27.69),
                ..PaperRow::default()
            },
            paper_note: "text: density never below 0.1 %",
            fork_of: None,
        });
    }
    arms.push(Arm {
        name: "top-k-1".into(),
        what: "TopK, k = 1 per sample and channel",
        config: method(Method::TopK { k: 1 }, false),
        paper: PaperRow::default(),
        paper_note: "not in the paper",
        fork_of: None,
    });
    arms.push(Arm {
        name: "batch-top-k-1".into(),
        what: "BatchTopK, k = 1 per sample and channel on average",
        config: method(
            Method::BatchTopK {
                k: 1,
                momentum: 0.1,
            },
            false,
        ),
        paper: PaperRow::default(),
        paper_note: "not in the paper",
        fork_of: None,
    });
    for l0_weight in [1.0, 10.0] {
        arms.push(Arm {
            name: format!("jump-relu-{l0_weight}"),
            what: "JumpReLU with an L0 penalty",
            config: method(
                Method::JumpRelu {
                    initial_threshold: 0.5,
                    bandwidth: 0.05,
                    l0_weight,
                },
                false,
            ),
            paper: PaperRow::default(),
            paper_note: "not in the paper",
            fork_of: None,
        });
    }
    arms
}

/// One arm's outcome.
#[derive(Debug, Serialize, Deserialize)]
struct ArmResult {
    arm: String,
    seed: i64,
    summary: TrainSummary,
    /// Motif and end-to-end errors (none for the direct baseline, which has neither a
    /// bottleneck nor a trained downstream model).
    eval: Option<EvalReport>,
    /// The direct single-digit evaluation, for the arms where it is defined: SPARLING's
    /// thresholds and the directly trained motif model.
    direct: Option<DirectReport>,
}

/// `<results>/methods/<domain>-<preset>-<arm>-seed<S>.json`.
#[derive(Debug, Serialize, Deserialize)]
struct ArmRecord {
    config: RunConfig,
    budget_minutes: f64,
    samples: usize,
    /// For an arm forked from another: the training samples of the source run it started
    /// from, so that a record of a fork of an older source is not reused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source_samples: Option<u64>,
    result: ArmResult,
}

/// Run `cargo xtask compare`.
///
/// # Errors
/// Bad arguments, training, evaluation or I/O failures.
impl CompareArgs {
    /// Training minutes per arm; clap demands `--budget-minutes` unless `--list`, and `run`
    /// checks it once before anything trains.
    fn budget(&self) -> f64 {
        self.budget_minutes.unwrap_or(0.0)
    }
}

pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    if args.domain != Domain::DigitCircle {
        return Err(Usage(format!(
            "{}: the comparison is defined for digit-circle (the paper's baselines and \
             ablations are DigitCircle runs)",
            args.domain
        ))
        .into());
    }
    let seeds = parse_seeds(&args.seeds)?;
    let base = presets::get(args.domain, &args.preset, seeds[0])?;
    let all = arms(&base);
    if args.list {
        for arm in &all {
            println!("{:<16} {}", arm.name, arm.what);
        }
        return Ok(());
    }
    if args.budget_minutes.is_none() {
        return Err(Usage("--budget-minutes is required unless --list".into()).into());
    }
    let chosen: Vec<&Arm> = match &args.arms {
        None => all.iter().collect(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .map(|name| {
                all.iter().find(|a| a.name == name).ok_or_else(|| {
                    let names: Vec<&str> = all.iter().map(|a| a.name.as_str()).collect();
                    Usage(format!(
                        "--arms: unknown arm `{name}`; available: {}",
                        names.join(", ")
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    if args.samples == 0 {
        return Err(Usage("--samples must be at least 1".into()).into());
    }
    let device = args.backend.device()?;
    let records = args.results.join("methods");
    std::fs::create_dir_all(&records).with_context(|| format!("creating {}", records.display()))?;
    let mut results = Vec::new();
    for &seed in &seeds {
        let seed_base = presets::get(args.domain, &args.preset, seed)?;
        for arm in arms(&seed_base)
            .into_iter()
            .filter(|a| chosen.iter().any(|c| c.name == a.name))
        {
            let stem = format!("{}-{}-{}-seed{seed}", args.domain, args.preset, arm.name);
            let out = args.runs.join(&stem);
            let record_path = records.join(format!("{stem}.json"));
            let source_samples = match arm.fork_of {
                Some(source) => source_samples(source, seed, &results, &records, args)?,
                None => None,
            };
            let result = match reuse(&out, &record_path, &arm.config, source_samples, args)? {
                Some(result) => {
                    tracing::info!(arm = arm.name, seed, "no run directory; using the record");
                    result
                }
                None => {
                    let result = train_arm(&arm, seed, &out, args, &device)?;
                    let record = ArmRecord {
                        config: arm.config.clone(),
                        budget_minutes: args.budget(),
                        samples: args.samples,
                        source_samples,
                        result,
                    };
                    write_atomic(
                        &record_path,
                        serde_json::to_string_pretty(&record)?.as_bytes(),
                    )?;
                    record.result
                }
            };
            results.push(result);
        }
    }
    write_table(args, &chosen, &results)
}

/// The recorded result of an arm without a run directory, if its record matches (for a fork,
/// also the training samples of its source).
fn reuse(
    out: &Path,
    record: &Path,
    config: &RunConfig,
    source_samples: Option<u64>,
    args: &CompareArgs,
) -> anyhow::Result<Option<ArmResult>> {
    if RunDir::new(out).read_config()?.is_some() {
        return Ok(None);
    }
    let Some(record) = read_record::<ArmRecord>(record)? else {
        return Ok(None);
    };
    let same = record.config == *config
        && record.samples == args.samples
        && record.budget_minutes == args.budget()
        && record.source_samples == source_samples;
    Ok(same.then_some(record.result))
}

/// Training samples of the `source` arm's run for `seed`: from this invocation's results, or
/// else from its record.
fn source_samples(
    source: &str,
    seed: i64,
    results: &[ArmResult],
    records: &Path,
    args: &CompareArgs,
) -> anyhow::Result<Option<u64>> {
    if let Some(r) = results.iter().find(|r| r.arm == source && r.seed == seed) {
        return Ok(Some(r.summary.samples));
    }
    let stem = format!("{}-{}-{source}-seed{seed}", args.domain, args.preset);
    Ok(
        read_record::<ArmRecord>(&records.join(format!("{stem}.json")))?
            .map(|r| r.result.summary.samples),
    )
}

/// Train (or resume) one arm within the budget and evaluate it at the lowest density it
/// trained (for the penalty methods: where the schedule first fired, or where the budget ended).
fn train_arm(
    arm: &Arm,
    seed: i64,
    out: &Path,
    args: &CompareArgs,
    device: &burn::prelude::Device,
) -> anyhow::Result<ArmResult> {
    tracing::info!(arm = arm.name, seed, "training");
    let init_from = match arm.fork_of {
        Some(source) => {
            let run = args.runs.join(format!(
                "{}-{}-{source}-seed{seed}",
                args.domain, args.preset
            ));
            if RunDir::new(&run).read_config()?.is_none()
                && RunDir::new(out).read_config()?.is_none()
            {
                bail!(
                    "arm {} starts from the {source} arm's run directory {}, which does not exist (a \
                     {source} result taken from its record has no model to start from): train \
                     the {source} arm in the same --runs directory first",
                    arm.name,
                    run.display()
                );
            }
            Some(InitFrom { run, density: None })
        }
        None => None,
    };
    let summary = train_or_resume(
        &arm.config,
        out,
        device,
        Some(args.budget() * 60.0),
        init_from,
    )?;
    let (eval, direct) = evaluate_method(&arm.config, out, args.samples, device)?;
    Ok(ArmResult {
        arm: arm.name.clone(),
        seed,
        summary,
        eval,
        direct,
    })
}

/// Evaluate the run in `out` at the lowest density it trained on `samples` examples: motif
/// and end-to-end errors (not for the direct baseline, which has neither a bottleneck nor a
/// trained downstream model), and the direct single-digit evaluation where it is defined
/// (DigitCircle, with SPARLING's thresholds or for the direct baseline).
pub(crate) fn evaluate_method(
    config: &RunConfig,
    out: &Path,
    samples: usize,
    device: &burn::prelude::Device,
) -> anyhow::Result<(Option<EvalReport>, Option<DirectReport>)> {
    let opened = open_checkpoint(&RunDir::new(out), None, config, device)?;
    let direct_model = config.training.objective == Objective::DirectDigits;
    let eval = if direct_model {
        None
    } else {
        let options = EvalOptions::new(config, samples);
        Some(evaluate(config, &opened, out, &options, device)?)
    };
    let digit_circle = config.domain.domain() == Domain::DigitCircle;
    let sparling = config.model.sparsity().method == Method::Sparling;
    let direct = if direct_model || (digit_circle && sparling) {
        let model = opened.model.clone().valid();
        Some(direct_motif_error(
            config,
            &model,
            samples,
            EVAL_BATCH_SIZE,
            device,
        )?)
    } else {
        None
    };
    Ok((eval, direct))
}

/// `<domain>-methods.{md,json,svg}` in the results directory.
fn write_table(args: &CompareArgs, arms: &[&Arm], results: &[ArmResult]) -> anyhow::Result<()> {
    let stem = format!("{}-methods", args.domain);
    let command = format!(
        "cargo xtask compare {} --preset {} --budget-minutes {} --seeds {} --samples {}{}",
        args.domain,
        args.preset,
        args.budget(),
        args.seeds,
        args.samples,
        args.arms
            .as_ref()
            .map_or(String::new(), |a| format!(" --arms {a}"))
    );
    #[derive(Serialize)]
    struct Table<'a> {
        command: &'a str,
        results: &'a [ArmResult],
    }
    write_atomic(
        &args.results.join(format!("{stem}.json")),
        serde_json::to_string_pretty(&Table {
            command: &command,
            results,
        })?
        .as_bytes(),
    )?;
    let points: Vec<(String, f64, f64)> = results
        .iter()
        .filter_map(|r| {
            let eval = r.eval.as_ref()?;
            Some((
                format!("{} (seed {})", r.arm, r.seed),
                eval.measured_density,
                100.0 * eval.ce,
            ))
        })
        .collect();
    let svg = format!("{stem}.svg");
    labelled_scatter_svg(
        &points,
        "measured density (fraction of nonzero motif activations)",
        "CE (%)",
        &format!(
            "{}: confusion error against density, {} min per arm",
            args.domain,
            args.budget()
        ),
        &args.results.join(&svg),
    )?;
    let markdown = render(args, arms, results, &command, &svg)?;
    publish(&args.results.join(format!("{stem}.md")), &markdown)
}

fn render(
    args: &CompareArgs,
    arms: &[&Arm],
    results: &[ArmResult],
    command: &str,
    svg: &str,
) -> anyhow::Result<String> {
    let pct = |x: f64| format!("{:.2}", 100.0 * x);
    let paper = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v}"));
    let mut md = String::new();
    writeln!(md, "# {}: sparsity methods under one budget\n", args.domain)?;
    writeln!(
        md,
        "Produced by `{command}`. Every arm starts from the `{}` preset and trains for {} \
         minutes (validations excluded), then is evaluated at the lowest density it trained \
         on {} motif-eval images and {} test samples; the direct column is the single-digit \
         evaluation on {} images, for the arms where it is defined. A budget comparison is \
         not the paper's full-length runs: arms that learn slowly are cut short. Errors in %; \
         \"ours\" / \"paper\".\n",
        args.preset,
        args.budget(),
        args.samples,
        args.samples,
        args.samples
    )?;
    writeln!(
        md,
        "| arm | what | seed | samples | density reached | measured density | FPE | FNE | CE | E2EE (edit) | direct | stopped | paper FPE / FNE / CE / E2EE / density % / direct |"
    )?;
    writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")?;
    for r in results {
        let Some(arm) = arms.iter().find(|a| a.name == r.arm) else {
            bail!("result of unknown arm {}", r.arm);
        };
        let p = arm.paper;
        let e = r.eval.as_ref();
        let ours = |f: fn(&EvalReport) -> f64| e.map_or("–".to_string(), |e| pct(f(e)));
        let density =
            |f: fn(&EvalReport) -> f64| e.map_or("–".to_string(), |e| format!("{:.3e}", f(e)));
        writeln!(
            md,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} / {} / {} / {} / {} ({}) |",
            r.arm,
            arm.what,
            r.seed,
            r.summary.samples,
            density(EvalReport::density_per_pixel),
            density(|e| e.measured_density),
            ours(|e| e.fpe),
            ours(|e| e.fne),
            ours(|e| e.ce),
            ours(|e| e.e2e_edit_error),
            r.direct.as_ref().map_or("–".to_string(), |d| pct(d.error)),
            r.summary
                .stopped
                .map_or("–".to_string(), |s| format!("{s:?}")),
            paper(p.fpe),
            paper(p.fne),
            paper(p.ce),
            paper(p.e2e_edit),
            paper(p.density),
            paper(p.direct),
            arm.paper_note
        )?;
    }
    writeln!(md, "\n![CE against measured density]({svg})")?;
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_arm_is_a_valid_configuration_with_a_unique_name() {
        let base = presets::digit_circle("cpu", 1).expect("preset");
        let arms = arms(&base);
        for arm in &arms {
            arm.config.validate().expect(&arm.name);
        }
        let mut names: Vec<&str> = arms.iter().map(|a| a.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), arms.len());
        assert!(arms.iter().filter(|a| a.name.starts_with("l1-")).count() >= 3);
        assert!(arms.iter().filter(|a| a.name.starts_with("kl-")).count() >= 3);
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: CompareArgs,
    }

    /// `--list` needs no budget; training does.
    #[test]
    fn the_budget_is_required_only_to_train() {
        use clap::Parser;
        let listed = Cli::try_parse_from(["compare", "digit-circle", "--list"]).expect("--list");
        assert!(run(&listed.args).is_ok());
        assert!(Cli::try_parse_from(["compare", "digit-circle"]).is_err());
        let budget = Cli::try_parse_from(["compare", "digit-circle", "--budget-minutes", "20"])
            .expect("budget");
        assert_eq!(budget.args.budget(), 20.0);
    }

    #[test]
    fn a_tiny_comparison_writes_its_table() {
        let dir = tempfile::tempdir().expect("tempdir");
        let args = CompareArgs {
            domain: Domain::DigitCircle,
            budget_minutes: Some(0.002),
            preset: "tiny".into(),
            seeds: "1".into(),
            arms: Some("sparling,l1-1,top-k-1,retrained,direct".into()),
            list: false,
            runs: dir.path().join("runs"),
            results: dir.path().join("results"),
            samples: 4,
            backend: Backend::Flex,
        };
        run(&args).expect("runs");
        let md = std::fs::read_to_string(dir.path().join("results/digit-circle-methods.md"))
            .expect("table");
        for arm in [
            "`sparling`",
            "`l1-1`",
            "`top-k-1`",
            "`retrained`",
            "`direct`",
        ] {
            assert!(md.contains(arm), "{md}");
        }
        assert!(
            dir.path()
                .join("results/digit-circle-methods.svg")
                .is_file()
        );
        let records = std::fs::read_dir(dir.path().join("results/methods"))
            .expect("records")
            .count();
        assert_eq!(records, 5);
        // Without run directories the records stand in for the runs.
        std::fs::remove_dir_all(dir.path().join("runs")).expect("remove");
        run(&args).expect("from records");
        assert!(
            !dir.path()
                .join("runs")
                .join("digit-circle-tiny-sparling-seed1")
                .exists()
        );
        // A sparling record of another run: the retrained record, forked from the old one, is
        // stale, and retraining it needs the new sparling run.
        let sparling = dir
            .path()
            .join("results/methods/digit-circle-tiny-sparling-seed1.json");
        let mut record: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&sparling).expect("record"))
                .expect("json");
        record["result"]["summary"]["samples"] = serde_json::json!(1_000_000);
        std::fs::write(&sparling, record.to_string()).expect("write");
        let err = run(&args).expect_err("the stale retrained record is not reused");
        assert!(
            err.to_string().contains("arm retrained starts from"),
            "{err}"
        );
    }
}
