//! Helpers shared by the CLI tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

/// The `sparling` binary under test.
pub fn sparling() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sparling"))
}

/// The command's stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Train a tiny DigitCircle run of `samples` samples into `out`.
pub fn train_tiny(out: &Path, samples: u64) {
    let output = sparling()
        .args(["train", "digit-circle", "--preset", "tiny", "--max-samples"])
        .arg(samples.to_string())
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}
