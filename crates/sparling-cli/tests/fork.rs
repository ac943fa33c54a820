//! `sparling train --init-from`: a fork of a tiny DigitCircle run, and the usage errors.

#![allow(clippy::unwrap_used)]

mod common;

use common::{sparling, stderr, train_tiny};

#[test]
fn init_from_forks_a_run_and_names_bad_sources() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    train_tiny(&source, 16);

    let fork = dir.path().join("fork");
    let output = sparling()
        .args(["train", "digit-circle", "--preset", "tiny", "--seed", "3"])
        .args(["--max-samples", "8", "--init-from"])
        .arg(format!("{}@0.5", source.display()))
        .arg("--out")
        .arg(&fork)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("\"forked_from\""), "{summary}");

    // Bad sources are usage errors (exit 2) that write nothing.
    let bad = dir.path().join("bad");
    for (init, expect) in [
        (
            format!("{}@0.01", source.display()),
            "available: 5.000000e-1",
        ),
        (format!("{}@lots", source.display()), "not a density"),
        (
            dir.path().join("nothing").display().to_string(),
            "holds no checkpoint",
        ),
    ] {
        let output = sparling()
            .args(["train", "digit-circle", "--preset", "tiny", "--init-from"])
            .arg(&init)
            .arg("--out")
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{init}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(expect),
            "{init}: {}",
            stderr(&output)
        );
        assert!(!bad.exists(), "{init} wrote {}", bad.display());
    }
    // Another architecture is refused with the first differing setting.
    let output = sparling()
        .args(["train", "digit-circle", "--preset", "cpu", "--init-from"])
        .arg(&source)
        .arg("--out")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("differs"), "{}", stderr(&output));
    // --init-from starts a run; it does not combine with --resume.
    let output = sparling()
        .args([
            "train",
            "digit-circle",
            "--preset",
            "tiny",
            "--resume",
            "--init-from",
        ])
        .arg(&source)
        .arg("--out")
        .arg(&fork)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}
