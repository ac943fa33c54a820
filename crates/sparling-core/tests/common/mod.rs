//! Helpers shared by the property tests.

#![allow(dead_code)]

use burn::prelude::*;

/// Deterministic test data: `n` values from a xorshift stream; `ties` quantises them to a few
/// levels so many values are equal.
pub fn data(seed: u64, n: usize, ties: bool) -> Vec<f32> {
    let mut state = seed | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let v = (u * 8.0 - 4.0) as f32;
            if ties { (v * 2.0).round() / 2.0 } else { v }
        })
        .collect()
}

pub fn training_device() -> Device {
    Device::flex().autodiff()
}
