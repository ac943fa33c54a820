//! `cargo xtask sweep --local --jobs N`: the tasks as child processes of this xtask binary
//! (`xtask sweep-task`), at most `N` at a time, each logging to `logs/task-<index>.log`.
//! Processes, not threads: burn's CPU backend keeps one random generator per process, and a
//! crashed task must not take the others down.

use std::fs::OpenOptions;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use super::manifest::{Manifest, SweepDir};

/// Run every unfinished task of `manifest`, `jobs` at a time.
///
/// # Errors
/// A task that could not be started, or tasks that failed (named with their logs).
pub(super) fn run(dir: &SweepDir, manifest: &Manifest, jobs: usize) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("locating the xtask binary")?;
    let mut pending = Vec::new();
    for (index, task) in manifest.tasks.iter().enumerate() {
        if dir.read_result(task)?.is_none() {
            pending.push(index);
        }
    }
    let skipped = manifest.tasks.len() - pending.len();
    if skipped > 0 {
        tracing::info!(skipped, "tasks already finished");
    }
    pending.reverse();
    let mut running: Vec<(usize, Child)> = Vec::new();
    let mut failed = Vec::new();
    while !pending.is_empty() || !running.is_empty() {
        while running.len() < jobs
            && let Some(index) = pending.pop()
        {
            let log_path = dir.log(index);
            let log = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
                .with_context(|| format!("opening {}", log_path.display()))?;
            let child = Command::new(&exe)
                .arg("sweep-task")
                .arg("--dir")
                .arg(dir.root())
                .arg("--index")
                .arg(index.to_string())
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()
                .with_context(|| format!("starting task {index}"))?;
            tracing::info!(task = manifest.tasks[index].id, log = %log_path.display(), "started");
            running.push((index, child));
        }
        std::thread::sleep(Duration::from_millis(200));
        let mut still = Vec::with_capacity(running.len());
        for (index, mut child) in running {
            match child.try_wait()? {
                None => still.push((index, child)),
                Some(status) => {
                    let id = &manifest.tasks[index].id;
                    if status.success() {
                        tracing::info!(task = id, "finished");
                    } else {
                        tracing::error!(task = id, %status, log = %dir.log(index).display(), "failed");
                        failed.push(index);
                    }
                }
            }
        }
        running = still;
    }
    if !failed.is_empty() {
        let list: Vec<String> = failed
            .iter()
            .map(|&i| format!("{} ({})", manifest.tasks[i].id, dir.log(i).display()))
            .collect();
        bail!("{} task(s) failed: {}", failed.len(), list.join(", "));
    }
    Ok(())
}
