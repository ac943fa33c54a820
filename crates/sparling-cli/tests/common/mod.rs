//! Helpers shared by the CLI tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

/// The `sparling` binary under test. `$SPARLING_FSDD` is removed from its environment: only
/// the recordings a test passes with `--data` count.
pub fn sparling() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sparling"));
    command.env_remove("SPARLING_FSDD");
    command
}

/// The command's stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The command's stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Assert that the command succeeded, showing its stderr otherwise.
pub fn succeeded(output: &Output) {
    assert!(output.status.success(), "{}", stderr(output));
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
