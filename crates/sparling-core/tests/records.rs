//! Saving and loading: density, thresholds and BatchNorm statistics survive bit for bit.

use burn::prelude::*;
use burn::tensor::Distribution;
use sparling_core::{
    CoreError, SparseLayerWithBatchNorm, SparseLayerWithBatchNormConfig, SparsityLayerConfig,
};

fn floats<const D: usize>(t: Tensor<D>) -> Vec<u32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32")
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

/// Bit patterns of density, thresholds, BN running mean/var, gamma and beta.
type LayerBits = (u64, Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>);

fn state(layer: &SparseLayerWithBatchNorm) -> LayerBits {
    let bn = &layer.batch_norm;
    (
        layer.density().to_bits(),
        layer
            .sparsity
            .thresholds()
            .expect("t")
            .iter()
            .map(|v| v.to_bits())
            .collect(),
        floats(bn.running_mean.value()),
        floats(bn.running_var.value()),
        floats(bn.gamma.val()),
        floats(bn.beta.val()),
    )
}

fn trained(affine: bool) -> SparseLayerWithBatchNorm {
    let device = Device::flex().autodiff();
    device.seed(3);
    let mut layer =
        SparseLayerWithBatchNormConfig::new(SparsityLayerConfig::new(6).with_density(0.5))
            .with_affine(affine)
            .init(&device)
            .expect("valid config");
    for _ in 0..5 {
        layer.forward(Tensor::<4>::random(
            [4, 6, 10, 10],
            Distribution::Normal(1.0, 2.0),
            &device,
        ));
    }
    // An odd density that is not on the schedule grid.
    layer
        .set_density(0.5 * 0.75f64.powi(7) * 1.000_000_1)
        .expect("valid density");
    layer
}

#[test]
fn save_and_load_round_trip_is_bit_identical() {
    for affine in [true, false] {
        let layer = trained(affine);
        // Pending BatchNorm updates must be folded in before a record is taken.
        sparling_core::sync_running_states(&layer);
        let before = state(&layer);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("layer.bpk");
        layer.clone().save_file(&path).expect("save");

        let fresh =
            SparseLayerWithBatchNormConfig::new(SparsityLayerConfig::new(6).with_density(0.9))
                .with_affine(affine)
                .init(&Device::flex().autodiff())
                .expect("valid config");
        let loaded = fresh.try_load_file(&path).expect("load");
        assert_eq!(state(&loaded), before, "affine = {affine}");

        // The reloaded layer continues exactly like the original.
        let device = Device::flex().autodiff();
        device.seed(11);
        let x = Tensor::<4>::random([4, 6, 10, 10], Distribution::Normal(0.0, 1.0), &device);
        assert_eq!(floats(layer.forward(x.clone())), floats(loaded.forward(x)));
        sparling_core::sync_running_states(&layer);
        sparling_core::sync_running_states(&loaded);
        assert_eq!(state(&layer), state(&loaded));
    }
}

#[test]
fn non_affine_batch_norm_gets_no_gradient() {
    let layer = trained(false);
    let device = Device::flex().autodiff();
    let x =
        Tensor::<4>::random([4, 6, 10, 10], Distribution::Normal(0.0, 1.0), &device).require_grad();
    let grads = layer.forward(x.clone()).sum().backward();
    assert!(layer.batch_norm.gamma.val().grad(&grads).is_none());
    assert!(x.grad(&grads).is_some());
}

#[test]
fn bad_configs_and_inputs_are_typed_errors() {
    let device = Device::flex().autodiff();
    let err = |c: SparsityLayerConfig| c.init(&device).err();
    assert_eq!(
        err(SparsityLayerConfig::new(4).with_density(0.0)),
        Some(CoreError::InvalidDensity(0.0))
    );
    assert_eq!(
        err(SparsityLayerConfig::new(4).with_density(1.5)),
        Some(CoreError::InvalidDensity(1.5))
    );
    assert!(matches!(
        err(SparsityLayerConfig::new(4).with_momentum(f64::NAN)),
        Some(CoreError::InvalidMomentum(_))
    ));
    assert_eq!(
        err(SparsityLayerConfig::new(0)),
        Some(CoreError::NoChannels(0))
    );
    assert!(matches!(
        err(SparsityLayerConfig::new(4).with_accumulate_motifs(Some(-1.0))),
        Some(CoreError::InvalidAccumulationTarget(_))
    ));

    let layer = SparseLayerWithBatchNormConfig::new(SparsityLayerConfig::new(4))
        .init(&device)
        .expect("valid config");
    let wrong_channels = Tensor::<4>::zeros([2, 3, 5, 5], &device);
    assert_eq!(
        layer.try_forward(wrong_channels).err(),
        Some(CoreError::ChannelMismatch {
            expected: 4,
            got: 3
        })
    );
    let rank_two = Tensor::<2>::zeros([2, 4], &device);
    assert_eq!(
        layer.try_forward(rank_two).err(),
        Some(CoreError::RankTooLow(2))
    );

    let sparse = SparsityLayerConfig::new(2)
        .init(&device)
        .expect("valid config");
    let nan = Tensor::<3>::from_floats([[[1.0, f32::NAN], [0.5, 0.2]]], &device);
    assert!(matches!(
        sparse.try_forward(nan).err(),
        Some(CoreError::NonFiniteInput { channel: 0, .. })
    ));
    assert_eq!(
        sparse.thresholds().expect("t"),
        vec![0.0, 0.0],
        "a failed step must not move t"
    );
    let mut sparse = sparse;
    assert_eq!(
        sparse.set_density(-0.1).err(),
        Some(CoreError::InvalidDensity(-0.1))
    );
}
