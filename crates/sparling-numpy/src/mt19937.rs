//! MT19937 (32-bit Mersenne Twister) with a block interface.
//!
//! The stream is the reference one (Matsumoto & Nishimura's `init_genrand` + `genrand_int32`),
//! identical to `rand_mt::Mt` and to numpy's bit generator; the tests compare all three. It is
//! written here rather than taken from `rand_mt` because DigitCircle draws ~40,000 words per
//! image and `rand_mt` only hands them out one call at a time: [`Mt19937::fill`] tempers a
//! whole run of the state array in one vectorisable loop, which is several times faster.

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// MT19937 state plus the read position inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mt19937 {
    state: [u32; N],
    /// Next word of `state` to hand out; `N` means "twist first".
    idx: usize,
}

impl Mt19937 {
    /// `init_genrand(seed)`; like numpy, the first draw twists the state.
    pub(crate) fn new(seed: u32) -> Self {
        let mut state = [0u32; N];
        state[0] = seed;
        for i in 1..N {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Self { state, idx: N }
    }

    /// `genrand_int32`.
    #[inline]
    pub(crate) fn next_u32(&mut self) -> u32 {
        if self.idx >= N {
            self.twist();
        }
        let x = self.state[self.idx];
        self.idx += 1;
        temper(x)
    }

    /// Writes the next `out.len()` outputs, exactly as repeated [`next_u32`](Self::next_u32).
    pub(crate) fn fill(&mut self, out: &mut [u32]) {
        let mut filled = 0;
        while filled < out.len() {
            if self.idx >= N {
                self.twist();
            }
            let take = (N - self.idx).min(out.len() - filled);
            let src = &self.state[self.idx..self.idx + take];
            for (o, &s) in out[filled..filled + take].iter_mut().zip(src) {
                *o = temper(s);
            }
            self.idx += take;
            filled += take;
        }
    }

    /// Regenerates all `N` words. The three loops follow the reference code; each has a
    /// constant dependence distance, so the compiler can vectorise them.
    fn twist(&mut self) {
        let s = &mut self.state;
        for i in 0..N - M {
            s[i] = s[i + M] ^ mix(s[i], s[i + 1]);
        }
        for i in N - M..N - 1 {
            s[i] = s[i + M - N] ^ mix(s[i], s[i + 1]);
        }
        s[N - 1] = s[M - 1] ^ mix(s[N - 1], s[0]);
        self.idx = 0;
    }
}

#[inline(always)]
fn mix(current: u32, next: u32) -> u32 {
    let y = (current & UPPER_MASK) | (next & LOWER_MASK);
    (y >> 1) ^ ((y & 1).wrapping_neg() & MATRIX_A)
}

#[inline(always)]
fn temper(mut x: u32) -> u32 {
    x ^= x >> 11;
    x ^= (x << 7) & 0x9d2c_5680;
    x ^= (x << 15) & 0xefc6_0000;
    x ^= x >> 18;
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rand_mt_word_for_word() {
        for seed in [0u32, 1, 5489, 0xdead_beef, u32::MAX] {
            let mut ours = Mt19937::new(seed);
            let mut reference = rand_mt::Mt::new(seed);
            for _ in 0..3 * N + 7 {
                assert_eq!(ours.next_u32(), reference.next_u32(), "seed {seed}");
            }
        }
    }

    #[test]
    fn fill_equals_repeated_next() {
        let mut a = Mt19937::new(42);
        let mut b = Mt19937::new(42);
        // Odd offsets and lengths that cross twist boundaries.
        for len in [1usize, 5, 623, 624, 625, 1999, 3] {
            let mut buf = vec![0u32; len];
            a.fill(&mut buf);
            let expected: Vec<u32> = (0..len).map(|_| b.next_u32()).collect();
            assert_eq!(buf, expected, "len {len}");
        }
        assert_eq!(a, b);
    }
}
