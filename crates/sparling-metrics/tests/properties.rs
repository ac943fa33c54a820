//! Properties of the motif errors that must hold for any map.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use sparling_metrics::{
    ConfusionMatrix, MotifErrors, MotifMap, SparseMotifMap, TrueMotif, categorize,
    categorize_sparse,
};

const H: usize = 12;
const W: usize = 12;

/// A random image: channel count, classes, dense `[C, H, W]` data and true motifs.
/// Nonzero activations get distinct values, so argmax ties only involve zeros.
fn scene() -> impl Strategy<Value = (usize, usize, Vec<f32>, Vec<TrueMotif>)> {
    (1usize..6, 1usize..6).prop_flat_map(|(channels, classes)| {
        let cells = proptest::collection::btree_set((0..channels, 0..H, 0..W), 0..40);
        let truths =
            proptest::collection::vec((0..classes, 0..H, 0..W, 1usize..5, 1usize..5), 0..6);
        (Just(channels), Just(classes), cells, truths).prop_map(
            |(channels, classes, cells, truths)| {
                let mut data = vec![0.0f32; channels * H * W];
                for (k, (c, r, q)) in cells.into_iter().enumerate() {
                    data[(c * H + r) * W + q] = (k + 1) as f32 * 0.25;
                }
                let truths = truths
                    .into_iter()
                    .map(|(class, r, q, h, w)| {
                        TrueMotif::new(class, r..(r + h).min(H), q..(q + w).min(W))
                    })
                    .collect();
                (channels, classes, data, truths)
            },
        )
    })
}

fn errors_of(
    channels: usize,
    classes: usize,
    data: &[f32],
    truths: &[TrueMotif],
) -> (MotifErrors, f64) {
    let mut m = ConfusionMatrix::new(classes, channels);
    m.add_map(&MotifMap::new(data, channels, H, W).unwrap(), truths)
        .unwrap();
    (m.errors(), m.ce_many_to_one())
}

fn in_unit(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn errors_lie_in_unit_interval((channels, classes, data, truths) in scene()) {
        let (e, many) = errors_of(channels, classes, &data, &truths);
        prop_assert!(in_unit(e.fpe) && in_unit(e.fne) && in_unit(e.ce) && in_unit(many));
        // Many-to-one can only do at least as well as one-to-one.
        prop_assert!(many <= e.ce + 1e-12);
    }

    #[test]
    fn errors_are_invariant_under_channel_permutation(
        (channels, classes, data, truths) in scene(),
        seed in any::<u64>(),
    ) {
        // A permutation of the channels derived from `seed`.
        let mut perm: Vec<usize> = (0..channels).collect();
        let mut s = seed;
        for i in (1..channels).rev() {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            perm.swap(i, (s >> 33) as usize % (i + 1));
        }
        let plane = H * W;
        let mut permuted = vec![0.0f32; data.len()];
        for c in 0..channels {
            permuted[perm[c] * plane..(perm[c] + 1) * plane].copy_from_slice(&data[c * plane..(c + 1) * plane]);
        }
        let a = errors_of(channels, classes, &data, &truths);
        let b = errors_of(channels, classes, &permuted, &truths);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn sparse_and_dense_agree((channels, _classes, data, truths) in scene()) {
        let map = MotifMap::new(&data, channels, H, W).unwrap();
        let sparse = SparseMotifMap::from_dense(&map);
        prop_assert_eq!(categorize(&map, &truths), categorize_sparse(&sparse, &truths));
    }

    #[test]
    fn perfect_maps_score_zero(
        classes in 1usize..8,
        extra_channels in 0usize..4,
        sites in proptest::collection::vec((0usize..8, 0usize..3, 0usize..3), 1..9),
        shift in 0usize..8,
    ) {
        // Non-overlapping 4x4 boxes on a 3x3 grid, one activation per motif at its centre, in
        // the channel (class + shift) mod channels: a relabelled but perfect motif model.
        let channels = classes + extra_channels;
        let mut used = std::collections::BTreeSet::new();
        let mut truths = Vec::new();
        let mut data = vec![0.0f32; channels * H * W];
        for (class, gr, gc) in sites {
            if !used.insert((gr, gc)) {
                continue;
            }
            let class = class % classes;
            let (r, c) = (gr * 4, gc * 4);
            truths.push(TrueMotif::new(class, r..r + 4, c..c + 4));
            let channel = (class + shift) % classes;
            data[(channel * H + r + 2) * W + c + 1] = 1.0;
        }
        let (e, many) = errors_of(channels, classes, &data, &truths);
        prop_assert_eq!(e, MotifErrors { fpe: 0.0, fne: 0.0, ce: 0.0 });
        prop_assert_eq!(many, 0.0);
    }
}
