//! Per-sample seeds, as the authors' datasets derive them (`latex_decompiler/utils.py`
//! `compute_seed`).

use sha2::{Digest, Sha256};

/// `compute_seed(seed, idx) = int(sha256(str((seed, idx))).hexdigest(), 16) % 2**32`.
///
/// The hashed text is the Python tuple repr, e.g. `"(1, 0)"` or `"(-2, 17)"`. Reducing the
/// 256-bit big-endian digest modulo 2³² keeps its last four bytes.
#[must_use]
pub fn compute_seed(seed: i64, idx: u64) -> u32 {
    sha256_mod_2_32(&format!("({seed}, {idx})"))
}

/// `int(sha256(text).hexdigest(), 16) % 2**32`: the last four bytes of the big-endian digest.
#[must_use]
pub(crate) fn sha256_mod_2_32(text: &str) -> u32 {
    let digest = Sha256::digest(text.as_bytes());
    let bytes: &[u8] = digest.as_ref();
    let mut tail = [0u8; 4];
    tail.copy_from_slice(&bytes[bytes.len() - 4..]);
    u32::from_be_bytes(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_examples() {
        // Values of the authors' `compute_seed` (`latex_decompiler/utils.py`) run in Python.
        assert_eq!(compute_seed(1, 0), 3_993_328_244);
        assert_eq!(compute_seed(1, 1), 635_502_921);
        assert_eq!(compute_seed(-1, 0), 2_072_014_212);
        assert_eq!(compute_seed(-2, 0), 4_270_960_298);
        assert_eq!(compute_seed(-3, 0), 84_731_566);
    }
}
