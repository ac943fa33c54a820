//! Invariants of the generators that hold for every seed.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use sparling_data::{DigitCircle, DigitCircleConfig, NumpyRandomState, SingleDigit, Vocabulary};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn digit_circle_invariants(seed in any::<u32>()) {
        let g = DigitCircle::paper().unwrap();
        let s = g.sample_seed(seed);
        // Same seed, same sample.
        prop_assert_eq!(&s, &g.sample_seed(seed));
        prop_assert!(s.image.pixels().iter().all(|&p| p <= 1));
        prop_assert!((3..=6).contains(&s.label.len()));
        prop_assert_eq!(s.label.len(), s.motifs.len());
        // Distinct digits; the label is the placement order rotated to its minimum.
        let mut sorted = s.label.clone();
        sorted.sort_unstable();
        sorted.dedup();
        prop_assert_eq!(sorted.len(), s.label.len());
        let placement: Vec<u8> = s.motifs.iter().map(|m| m.digit).collect();
        let start = placement.iter().position(|&d| d == sorted[0]).unwrap();
        let rotated: Vec<u8> = placement[start..].iter().chain(&placement[..start]).copied().collect();
        prop_assert_eq!(&rotated, &s.label);
        prop_assert!((20..35).contains(&s.radius));
        for m in &s.motifs {
            // Boxes stay inside rows [6, 93) and cols [8, 92) (radius ≤ 34, centre within
            // [R + 15, 84 − R], jitter ±3, stamps 12 × 7–9).
            prop_assert!(m.rows.start >= 6 && m.rows.end <= 93);
            prop_assert!(m.cols.start >= 8 && m.cols.end <= 92);
            prop_assert_eq!(m.rows.len(), 12);
            prop_assert!(m.rows.contains(&m.center.0) && m.cols.contains(&m.center.1));
        }
        let ids = s.token_ids();
        let v = Vocabulary::digit_circle();
        let names: Vec<String> = s.label.iter().map(|d| d.to_string()).collect();
        prop_assert_eq!(&ids, &v.encode(&names).unwrap());
        prop_assert_eq!(s.image.to_f32().len(), 100 * 100);
    }

    #[test]
    fn the_last_stamp_is_intact_before_post_noise(seed in any::<u32>()) {
        // With post-noise off, the last stamp's box holds exactly its stamp.
        let config = DigitCircleConfig { post_noise: 0.0, ..DigitCircleConfig::default() };
        let g = DigitCircle::new(config).unwrap();
        let s = g.sample(&mut NumpyRandomState::new(seed));
        let last = s.motifs.last().unwrap();
        let stamp = sparling_data::digit_circle::digit_stamps().unwrap().get(last.digit).unwrap();
        for (r, row) in last.rows.clone().enumerate() {
            for (c, col) in last.cols.clone().enumerate() {
                let want = stamp.pixels()[r * stamp.width() + c] == 1;
                prop_assert_eq!(s.image.get(row, col), Some(want));
            }
        }
    }

    #[test]
    fn non_default_configs_stay_in_bounds(
        seed in any::<u32>(),
        size in 64usize..160,
        shift in 0usize..5,
        max_digits in 1usize..=10,
    ) {
        let min_radius = 10;
        let config = DigitCircleConfig {
            size,
            random_shift: shift,
            min_radius,
            min_digits: 1,
            max_digits,
            ..DigitCircleConfig::default()
        };
        prop_assume!(config.validate().is_ok());
        let g = DigitCircle::new(config).unwrap();
        let s = g.sample_seed(seed);
        prop_assert!((1..=max_digits).contains(&s.label.len()));
        for m in &s.motifs {
            prop_assert!(m.rows.end <= size && m.cols.end <= size);
        }
    }

    #[test]
    fn single_digit_invariants(seed in any::<u32>()) {
        let g = SingleDigit::paper().unwrap();
        let s = g.sample(&mut NumpyRandomState::new(seed));
        prop_assert!(s.digit < 10);
        prop_assert_eq!(s.motif.digit, s.digit);
        prop_assert_eq!(s.image.width(), 32);
        prop_assert_eq!(s.motif.center, (16, 16));
    }
}
