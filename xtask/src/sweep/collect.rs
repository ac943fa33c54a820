//! `cargo xtask collect SWEEP_DIR`: the finished tasks' results as paper-style tables (mean and
//! 95 % bootstrap interval over seeds, per domain, preset and method), and the tasks that are
//! not finished, with their logs. Writes `SWEEP_DIR/summary.{md,json}`.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use sparling_metrics::{BootstrapConfig, bootstrap_mean_ci};
use sparling_models::checkpoint::RunDir;
use sparling_models::evaluation::EvalReport;

use super::manifest::{SweepDir, Task, TaskResult};
use crate::reproduce::publish;

/// `cargo xtask collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// The sweep directory (`cargo xtask sweep --out`).
    dir: PathBuf,
}

/// One metric of a group: mean and 95 % bootstrap interval over its seeds, in percent.
#[derive(Debug, Serialize)]
struct Stat {
    mean: f64,
    low: f64,
    high: f64,
}

/// The finished seeds of one domain, preset and method.
#[derive(Debug, Serialize)]
struct Group {
    domain: String,
    preset: String,
    method: String,
    seeds: Vec<i64>,
    density: Option<Stat>,
    fpe: Option<Stat>,
    fne: Option<Stat>,
    ce: Option<Stat>,
    e2e_edit: Option<Stat>,
    e2e_exact: Option<Stat>,
    direct: Option<Stat>,
}

/// A task without a result.
#[derive(Debug, Serialize)]
struct Pending {
    id: String,
    index: usize,
    state: String,
    log: PathBuf,
}

#[derive(Debug, Serialize)]
struct Summary {
    tasks: usize,
    finished: usize,
    groups: Vec<Group>,
    pending: Vec<Pending>,
}

/// Run `cargo xtask collect`.
///
/// # Errors
/// Not a sweep directory (exit code 2), I/O errors.
pub fn run(args: &CollectArgs) -> anyhow::Result<()> {
    let dir = SweepDir::new(&args.dir);
    let manifest = dir.read()?;
    let mut finished: Vec<(&Task, TaskResult)> = Vec::new();
    let mut pending = Vec::new();
    for (index, task) in manifest.tasks.iter().enumerate() {
        match dir.read_result(task) {
            Ok(Some(result)) => finished.push((task, result)),
            Ok(None) => pending.push(Pending {
                id: task.id.clone(),
                index,
                state: state(&dir, task, index),
                log: dir.log(index),
            }),
            Err(e) => pending.push(Pending {
                id: task.id.clone(),
                index,
                state: format!("unreadable result: {e:#}"),
                log: dir.log(index),
            }),
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    for task in &manifest.tasks {
        let key = (
            task.domain.name(),
            task.preset.as_str(),
            task.method.as_str(),
        );
        if groups
            .iter()
            .any(|g| (g.domain.as_str(), g.preset.as_str(), g.method.as_str()) == key)
        {
            continue;
        }
        let members: Vec<(i64, &TaskResult)> = finished
            .iter()
            .filter(|(t, _)| (t.domain.name(), t.preset.as_str(), t.method.as_str()) == key)
            .map(|(t, r)| (t.seed, r))
            .collect();
        groups.push(group(task, &members)?);
    }
    let summary = Summary {
        tasks: manifest.tasks.len(),
        finished: finished.len(),
        groups,
        pending,
    };
    sparling_models::checkpoint::write_atomic(
        &dir.root().join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    publish(&dir.root().join("summary.md"), &render(&dir, &summary)?)
}

/// What a task without a result is doing, as far as its files tell.
fn state(dir: &SweepDir, task: &Task, index: usize) -> String {
    let run = RunDir::new(dir.run_dir(task));
    // The last attempt failed if its log's last "error:" comes after its last start (a
    // requeued task appends to the same log).
    let log = std::fs::read(dir.log(index))
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    let last_event = log
        .lines()
        .rev()
        .find(|l| l.starts_with("error:") || (l.contains("training") && l.contains(&task.id)));
    if let Some(line) = last_event.filter(|l| l.starts_with("error:")) {
        return format!("failed: {}", line.trim_start_matches("error:").trim());
    }
    match run.latest_name() {
        Some(checkpoint) => format!("unfinished (latest checkpoint {checkpoint})"),
        None if run.root().exists() => "started, no checkpoint yet".into(),
        None => "not started".into(),
    }
}

/// The statistics of one domain, preset and method over its finished `(seed, result)`s.
fn group(task: &Task, members: &[(i64, &TaskResult)]) -> anyhow::Result<Group> {
    let seeds = members.iter().map(|(seed, _)| *seed).collect();
    let stat = |f: &dyn Fn(&TaskResult) -> Option<f64>| -> anyhow::Result<Option<Stat>> {
        let values: Option<Vec<f64>> = members.iter().map(|(_, r)| f(r)).collect();
        match values {
            Some(v) if !v.is_empty() => {
                let ci = bootstrap_mean_ci(&v, &BootstrapConfig::default())?;
                Ok(Some(Stat {
                    mean: ci.mean,
                    low: ci.low,
                    high: ci.high,
                }))
            }
            _ => Ok(None),
        }
    };
    let eval =
        |f: fn(&EvalReport) -> f64| move |r: &TaskResult| r.eval.as_ref().map(|e| 100.0 * f(e));
    Ok(Group {
        domain: task.domain.name().to_owned(),
        preset: task.preset.clone(),
        method: task.method.clone(),
        seeds,
        density: stat(&|r: &TaskResult| r.eval.as_ref().map(EvalReport::density_per_pixel))?,
        fpe: stat(&eval(|e| e.fpe))?,
        fne: stat(&eval(|e| e.fne))?,
        ce: stat(&eval(|e| e.ce))?,
        e2e_edit: stat(&eval(|e| e.e2e_edit_error))?,
        e2e_exact: stat(&eval(|e| e.e2e_exact_error))?,
        direct: stat(&|r: &TaskResult| r.direct.as_ref().map(|d| 100.0 * d.error))?,
    })
}

fn render(dir: &SweepDir, s: &Summary) -> anyhow::Result<String> {
    let cell = |x: &Option<Stat>, digits: usize| match x {
        Some(x) if x.low == x.high => format!("{:.digits$}", x.mean),
        Some(x) => format!(
            "{:.digits$} [{:.digits$}, {:.digits$}]",
            x.mean, x.low, x.high
        ),
        None => "–".into(),
    };
    let density = |x: &Option<Stat>| match x {
        Some(x) => format!("{:.3e}", x.mean),
        None => "–".into(),
    };
    let mut md = String::new();
    writeln!(md, "# Sweep {}\n", dir.root().display())?;
    writeln!(
        md,
        "{} of {} tasks finished (`cargo xtask collect {}`). Errors in %, mean over the \
         finished seeds with the 95 % bootstrap interval of the mean (1000 resamples) in \
         brackets.\n",
        s.finished,
        s.tasks,
        dir.root().display()
    )?;
    writeln!(
        md,
        "| domain | preset | method | seeds | density | FPE | FNE | CE | E2EE (edit) | E2EE (exact) | direct |"
    )?;
    writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|")?;
    for g in &s.groups {
        let seeds: Vec<String> = g.seeds.iter().map(ToString::to_string).collect();
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            g.domain,
            g.preset,
            g.method,
            if seeds.is_empty() {
                "none yet".into()
            } else {
                seeds.join(", ")
            },
            density(&g.density),
            cell(&g.fpe, 2),
            cell(&g.fne, 2),
            cell(&g.ce, 2),
            cell(&g.e2e_edit, 2),
            cell(&g.e2e_exact, 2),
            cell(&g.direct, 2),
        )?;
    }
    if !s.pending.is_empty() {
        writeln!(md, "\n## Not finished\n")?;
        writeln!(md, "| task | index | state | log |")?;
        writeln!(md, "|---|---|---|---|")?;
        for p in &s.pending {
            writeln!(
                md,
                "| {} | {} | {} | {} |",
                p.id,
                p.index,
                p.state.replace('|', "\\|"),
                p.log.display()
            )?;
        }
    }
    Ok(md)
}
