//! The model committed under `models/digit-circle-cpu` (packaged by `cargo xtask ship`) loads,
//! stays small, and gives the motif and end-to-end errors recorded beside it.

use std::path::PathBuf;

use burn::prelude::*;
use sparling_models::checkpoint::RunDir;
use sparling_models::checkpoint::open_checkpoint;
use sparling_models::evaluation::{EvalOptions, EvalReport, evaluate};

fn shipped() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/digit-circle-cpu")
}

#[test]
fn the_shipped_model_gives_its_recorded_errors() {
    let dir = RunDir::new(shipped());
    let config = dir
        .read_config()
        .expect("readable config.toml")
        .expect("models/digit-circle-cpu holds a run");
    let opened = open_checkpoint(&dir, None, &config, &Device::flex()).expect("a density snapshot");
    let selected = &opened.selected;
    let bytes = std::fs::metadata(selected.dir.join("model.bpk"))
        .expect("model.bpk")
        .len();
    assert!(bytes < 5 * 1024 * 1024, "model.bpk is {bytes} bytes");

    let text = std::fs::read_to_string(shipped().join("expected.json")).expect("expected.json");
    let expected: EvalReport = serde_json::from_str(&text).expect("an EvalReport");
    assert!((selected.density - expected.density).abs() <= 1e-3 * expected.density);
    let options = EvalOptions {
        test_samples: expected.test_samples,
        ..EvalOptions::new(&config, expected.motif_samples)
    };
    let got =
        evaluate(&config, &opened, dir.root(), &options, &Device::flex()).expect("evaluation");
    // Bit-exact on the machine that packaged it; another CPU may round a few activations
    // differently, so allow one motif decision (about 0.1 point on 200 images) per metric.
    for (name, a, b) in [
        ("FPE", got.fpe, expected.fpe),
        ("FNE", got.fne, expected.fne),
        ("CE", got.ce, expected.ce),
        ("edit E2EE", got.e2e_edit_error, expected.e2e_edit_error),
        (
            "exact-match E2EE",
            got.e2e_exact_error,
            expected.e2e_exact_error,
        ),
    ] {
        assert!(
            (a - b).abs() <= 0.005,
            "{name}: {:.3} % now, {:.3} % recorded",
            100.0 * a,
            100.0 * b
        );
    }
    assert!(
        (got.measured_density - expected.measured_density).abs()
            <= 0.02 * expected.measured_density
    );
}
