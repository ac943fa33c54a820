//! `cargo xtask sweep` and `collect` as a user runs them: a local sweep of the tiny preset,
//! its table, a second call that continues rather than repeats, refused inputs, a failed
//! task reported with its log, and the Slurm script.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

fn xtask(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap()
}

fn collect(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("collect")
        .arg(dir)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const TINY: [&str; 9] = [
    "sweep",
    "--domain",
    "digit-circle",
    "--presets",
    "tiny",
    "--seeds",
    "1-2",
    "--samples",
    "4",
];

#[test]
fn a_local_sweep_runs_every_task_and_collect_tables_them() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("sweep");
    let args = [
        &TINY[..],
        &["--methods", "sparling,l1-1", "--local", "--jobs", "2"],
    ]
    .concat();
    let out = xtask(&args, &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let results = std::fs::read_dir(dir.join("results")).unwrap().count();
    assert_eq!(results, 4);
    let out = collect(&dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(table.contains("4 of 4 tasks finished"), "{table}");
    assert!(
        table.contains("| digit-circle | tiny | sparling | 1, 2 |"),
        "{table}"
    );
    assert!(
        table.contains("| digit-circle | tiny | l1-1 | 1, 2 |"),
        "{table}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert!(summary["groups"][0]["fpe"]["mean"].is_number());

    // The same sweep again: nothing left to do, nothing rewritten.
    let before = std::fs::read(dir.join("results/digit-circle-tiny-sparling-seed1.json")).unwrap();
    let out = xtask(&args, &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let after = std::fs::read(dir.join("results/digit-circle-tiny-sparling-seed1.json")).unwrap();
    assert_eq!(before, after);

    // Another sweep into the same directory is refused, and the directory left alone.
    let other = [&TINY[..], &["--methods", "sparling", "--local"]].concat();
    let out = xtask(&other, &dir);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("holds another sweep"));
    assert_eq!(std::fs::read_dir(dir.join("results")).unwrap().count(), 4);
}

#[test]
fn bad_sweeps_are_refused_and_failed_tasks_reported() {
    let root = tempfile::tempdir().unwrap();
    let base = ["sweep", "--domain", "digit-circle"];
    for (extra, needle) in [
        (
            &["--methods", "nope", "--local"][..],
            "unknown method `nope`",
        ),
        (&["--methods", "retrained", "--local"][..], "cannot order"),
        (&["--seeds", "3-1", "--local"][..], "--seeds 3-1"),
        (&["--presets", "huge", "--local"][..], "huge"),
        (&["--presets", "tiny,tiny", "--local"][..], "appears twice"),
        (
            &["--presets", "direct", "--methods", "l1-1", "--local"][..],
            "model.sparsity.method",
        ),
        (&["--slurm", "--time", "1:00; rm -rf /"][..], "--time"),
        (&[][..], "--local or --slurm"),
    ] {
        let dir = root.path().join("bad");
        let out = xtask(&[&base[..], extra].concat(), &dir);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{extra:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(needle),
            "{extra:?}: {}",
            text(&out.stderr)
        );
        assert!(!dir.join("manifest.json").exists());
    }

    // A task whose run directory is damaged fails; the sweep says so and collect lists it.
    let dir = root.path().join("damaged");
    let plan = [
        &base[..],
        &["--presets", "tiny", "--samples", "4", "--slurm"],
    ]
    .concat();
    assert!(xtask(&plan, &dir).status.success());
    let run = dir.join("runs/digit-circle-tiny-sparling-seed1");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("config.toml"), "not = [toml").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["sweep-task", "--index", "0", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    std::fs::write(dir.join("logs/task-0.log"), out.stderr).unwrap();
    let out = collect(&dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(table.contains("0 of 1 tasks finished"), "{table}");
    assert!(table.contains("failed:"), "{table}");
    assert!(table.contains("task-0.log"), "{table}");
}

#[test]
fn the_slurm_script_is_a_requeueable_array_with_the_resources_asked_for() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("sweep");
    let args = [
        &TINY[..],
        &[
            "--methods",
            "sparling,l1-1",
            "--slurm",
            "--time",
            "02:00:00",
            "--mem",
            "8G",
            "--partition",
            "gpu",
            "--backend",
            "cuda",
        ],
    ]
    .concat();
    let out = xtask(&args, &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("sbatch"));
    let script = std::fs::read_to_string(dir.join("sweep.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=0-3",
        "#SBATCH --time=02:00:00",
        "#SBATCH --mem=8G",
        "#SBATCH --partition=gpu",
        "#SBATCH --gres=gpu:1",
        "#SBATCH --requeue",
        "sweep-task --dir",
        "$SLURM_ARRAY_TASK_ID",
    ] {
        assert!(script.contains(line), "{line}: {script}");
    }
    assert!(script.contains("#SBATCH --open-mode=append"), "{script}");
    let spaced = root.path().join("with space");
    let out = xtask(&[&TINY[..], &["--slurm"]].concat(), &spaced);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!spaced.exists(), "nothing written for a refused sweep");
}
