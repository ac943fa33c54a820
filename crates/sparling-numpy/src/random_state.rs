//! A random number generator whose stream is **numpy-compatible**: it reproduces numpy's legacy
//! `np.random.RandomState(seed)` bit for bit for the primitives implemented here.
//!
//! The authors' data generators draw everything from one `RandomState` per sample, so a
//! bit-exact reimplementation needs the same bit generator (MT19937; a block implementation in
//! `mt19937.rs`, checked word for word against the `rand_mt` crate) *and* the same algorithms
//! numpy layers on top of it:
//!
//! | numpy (legacy `RandomState`)             | here                                          |
//! |------------------------------------------|-----------------------------------------------|
//! | `RandomState(s)`, `s` an int in [0, 2³²) | [`NumpyRandomState::new`] (`init_genrand(s)`)  |
//! | `rand()`, `random_sample()`              | [`NumpyRandomState::random_sample`]           |
//! | `rand(n)` / `rand(h, w)` (row-major)     | [`NumpyRandomState::fill_random_sample`]      |
//! | `randint(low, high)` (masked rejection)  | [`NumpyRandomState::randint`]                 |
//! | `choice(n)` (with replacement, no `p`)   | [`NumpyRandomState::choice`]                  |
//! | `choice(n, size)` (with replacement)     | [`NumpyRandomState::choice_many`]             |
//! | `choice(a)` for a list `a`               | `a[choice(len(a))]`: numpy draws the index the same way |
//! | `uniform(size)` (`low=0, high=1`)        | [`NumpyRandomState::fill_random_sample`] (`0 + 1·u` is exact) |
//! | `shuffle(x)` for a 1-d array             | [`NumpyRandomState::shuffle`]                 |
//! | `permutation(n)`                         | [`NumpyRandomState::permutation`]             |
//! | `choice(n, size, replace=False)`, no `p` | [`NumpyRandomState::choice_without_replacement`] |
//! | `choice(n, p=p)` (one draw, with probabilities) | [`WeightedChoice::sample`]          |
//!
//! numpy seeds `RandomState(int)` with MT19937 `init_genrand` (not `init_by_array`, which it uses
//! only for array seeds); this was checked against numpy 2.4 (`get_state()` of `RandomState(5489)`
//! starts `5489, 1301868182, …`, and the DigitCircle golden vectors of
//! `scripts/digit_circle_reference.py`).
//!
//! scipy's truncated normal on this stream is in `sparling_data::scipy_stats`. Other legacy
//! primitives (`standard_normal` with its cached second Box–Muller value, …) belong here too
//! when a domain needs them; each must be checked against real numpy output in a test.

use crate::mt19937::Mt19937;

/// 2⁵³, the denominator of numpy's 53-bit doubles.
const TWO_POW_53: f64 = 9_007_199_254_740_992.0;

/// numpy legacy `RandomState`-compatible generator (MT19937 plus numpy's sampling algorithms).
#[derive(Clone, Debug)]
pub struct NumpyRandomState {
    mt: Mt19937,
}

/// Words drawn per block by the bulk methods (two per double); a multiple of 2.
const BLOCK_WORDS: usize = 512;

impl NumpyRandomState {
    /// Equivalent of `np.random.RandomState(seed)` for an integer seed.
    ///
    /// numpy only accepts integer seeds in `[0, 2³²)`, which is exactly the `u32` range.
    #[must_use]
    pub fn new(seed: u32) -> Self {
        // MT19937 `init_genrand`; like numpy, the state is regenerated on first use.
        Self {
            mt: Mt19937::new(seed),
        }
    }

    /// The next raw 32-bit MT19937 output (numpy's `next_uint32`).
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        self.mt.next_u32()
    }

    /// numpy's `next_uint64` for MT19937: two 32-bit outputs, the first in the high half.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let high = u64::from(self.next_u32());
        (high << 32) | u64::from(self.next_u32())
    }

    /// The 53-bit integer behind the next double: `(a >> 5) * 2²⁶ + (b >> 6)`.
    ///
    /// [`random_sample`](Self::random_sample) is this value divided by 2⁵³. Callers that only
    /// compare the double with a threshold can compare this integer with
    /// [`UniformThreshold`] instead, which is exact and avoids the float conversion.
    #[inline]
    pub fn next_53_bits(&mut self) -> u64 {
        let a = u64::from(self.next_u32() >> 5);
        let b = u64::from(self.next_u32() >> 6);
        (a << 26) | b
    }

    /// One uniform double in `[0, 1)`, as numpy's `rand()` / `random_sample()`.
    #[inline]
    pub fn random_sample(&mut self) -> f64 {
        // Exact: the integer has 53 bits, so both the conversion and the division are exact.
        self.next_53_bits() as f64 / TWO_POW_53
    }

    /// Fills `out` in order, as `rand(*shape)` fills a C-ordered (row-major) array.
    pub fn fill_random_sample(&mut self, out: &mut [f64]) {
        self.for_each_53_bits(out, |x, bits| *x = bits as f64 / TWO_POW_53);
    }

    /// Draws one double's worth of bits (`next_53_bits`) per element of `items`, in order, and
    /// hands each to `f`. Same stream as calling [`next_53_bits`](Self::next_53_bits) in a
    /// loop, but the words are produced in blocks, which is what makes image noise fast.
    #[inline]
    pub fn for_each_53_bits<T>(&mut self, items: &mut [T], mut f: impl FnMut(&mut T, u64)) {
        let mut words = [0u32; BLOCK_WORDS];
        for chunk in items.chunks_mut(BLOCK_WORDS / 2) {
            let words = &mut words[..2 * chunk.len()];
            self.mt.fill(words);
            for (item, pair) in chunk.iter_mut().zip(words.chunks_exact(2)) {
                let bits = (u64::from(pair[0] >> 5) << 26) | u64::from(pair[1] >> 6);
                f(item, bits);
            }
        }
    }

    /// numpy's `random_interval(max)` / masked bounded integer: uniform in `[0, max]`.
    ///
    /// Draws `next & mask` (mask = smallest `2^k - 1 >= max`) until the value is `<= max`. numpy
    /// uses 32-bit draws when `max` fits in 32 bits and 64-bit draws otherwise.
    #[inline]
    pub fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = u64::MAX >> max.leading_zeros();
        if let Ok(max32) = u32::try_from(max) {
            // `mask` fits in 32 bits because `max` does.
            let mask32 = mask as u32;
            loop {
                let v = self.next_u32() & mask32;
                if v <= max32 {
                    return u64::from(v);
                }
            }
        }
        loop {
            let v = self.next_u64() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `randint(low, high)` (`high` exclusive) with numpy's default masked-rejection algorithm.
    ///
    /// # Errors
    /// [`EmptyRange`] if `low >= high` (numpy raises `ValueError: low >= high`).
    pub fn randint(&mut self, low: i64, high: i64) -> Result<i64, EmptyRange> {
        if low >= high {
            return Err(EmptyRange { low, high });
        }
        // high - 1 - low is in [0, 2^64) for any i64 pair with low < high.
        let span = (high as i128 - 1 - low as i128) as u64;
        Ok((low as i128 + self.interval(span) as i128) as i64)
    }

    /// `randint(low, high)` for a range the caller has already validated (`low < high`).
    ///
    /// Used on the hot path of generators whose configuration guarantees non-empty ranges. For
    /// an empty range it returns `low` without drawing, and so leaves the numpy stream (numpy
    /// would raise instead).
    #[inline]
    pub fn randint_unchecked(&mut self, low: i64, high: i64) -> i64 {
        self.randint(low, high).unwrap_or(low)
    }

    /// `choice(n)` (with replacement, uniform): numpy implements it as `randint(0, n)`.
    ///
    /// # Errors
    /// [`EmptyRange`] if `n == 0` (numpy raises `ValueError`).
    pub fn choice(&mut self, n: usize) -> Result<usize, EmptyRange> {
        if n == 0 {
            return Err(EmptyRange { low: 0, high: 0 });
        }
        Ok(self.interval(n as u64 - 1) as usize)
    }

    /// `choice(n, size)` (with replacement, uniform): numpy draws `randint(0, n, size)`, i.e.
    /// [`choice`](Self::choice) `size` times in order.
    ///
    /// # Errors
    /// [`EmptyRange`] if `n == 0` (numpy raises `ValueError`), even for `size == 0`.
    pub fn choice_many(&mut self, n: usize, size: usize) -> Result<Vec<usize>, EmptyRange> {
        if n == 0 {
            return Err(EmptyRange { low: 0, high: 0 });
        }
        Ok((0..size)
            .map(|_| self.interval(n as u64 - 1) as usize)
            .collect())
    }

    /// In-place Fisher–Yates shuffle of a 1-d array, in numpy's legacy order: for `i` from
    /// `len - 1` down to 1, swap `x[i]` with `x[interval(i)]`.
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.interval(i as u64) as usize;
            x.swap(i, j);
        }
    }

    /// `permutation(n)`: `arange(n)` shuffled with [`shuffle`](Self::shuffle).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut a: Vec<usize> = (0..n).collect();
        self.shuffle(&mut a);
        a
    }

    /// `choice(n, size, replace=False)` without probabilities: numpy takes
    /// `permutation(n)[:size]`, so it always consumes a full permutation of `n`.
    ///
    /// # Errors
    /// [`EmptyRange`] if `size > n` (numpy raises `ValueError`).
    pub fn choice_without_replacement(
        &mut self,
        n: usize,
        size: usize,
    ) -> Result<Vec<usize>, EmptyRange> {
        if size > n {
            return Err(EmptyRange {
                low: size as i64,
                high: n as i64,
            });
        }
        let mut perm = self.permutation(n);
        perm.truncate(size);
        Ok(perm)
    }
}

/// `np.sum` of a contiguous float64 array: numpy's pairwise summation (blocks of 8 with 8
/// partial sums, split in halves above 128 elements), started from 0.0.
///
/// Needed wherever a numpy-computed mean feeds a threshold, e.g. the background ink fraction.
#[must_use]
pub fn numpy_sum(values: &[f64]) -> f64 {
    0.0 + pairwise_sum(values)
}

/// `np.mean` of a contiguous float64 array (`numpy_sum / len`); NaN for an empty slice.
#[must_use]
pub fn numpy_mean(values: &[f64]) -> f64 {
    numpy_sum(values) / values.len() as f64
}

fn pairwise_sum(a: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= BLOCK {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let full = n - n % 8;
        for chunk in a[8..full].chunks_exact(8) {
            for (acc, &x) in r.iter_mut().zip(chunk) {
                *acc += x;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[full..] {
            res += x;
        }
        res
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise_sum(&a[..half]) + pairwise_sum(&a[half..])
    }
}

/// numpy's legacy `choice(len(p), p=p)` for one draw, with the cumulative distribution
/// precomputed (the LaTeX grammar draws every production this way).
///
/// numpy (`mtrand.pyx`, `RandomState.choice`): `cdf = p.cumsum(); cdf /= cdf[-1];
/// uniform_samples = self.random_sample(shape); idx = cdf.searchsorted(uniform_samples,
/// side='right')`. So one draw consumes exactly one double, and the result is the number of
/// `cdf` entries `<= u`. The reference passes `p = w / w.sum()` for production weights `w`;
/// [`WeightedChoice::from_weights`] computes that the same way (numpy's pairwise sum, then an
/// element-wise division, a sequential cumulative sum and the division by the last entry), so
/// the cdf is bit-identical to numpy's and so are the draws (checked against numpy 2.4 in the
/// tests, including a zero weight and a near-zero one).
#[derive(Clone, Debug, PartialEq)]
pub struct WeightedChoice {
    cdf: Vec<f64>,
}

impl WeightedChoice {
    /// The distribution `p = weights / sum(weights)`, as the reference's `CFG.sample` builds it.
    ///
    /// # Errors
    /// [`InvalidWeights`] for an empty list, a negative or non-finite weight, or a zero sum
    /// (numpy would raise `ValueError` for the resulting `p`).
    pub fn from_weights(weights: &[f64]) -> Result<Self, InvalidWeights> {
        if weights.is_empty() {
            return Err(InvalidWeights("no weights"));
        }
        if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
            return Err(InvalidWeights("weights must be finite and non-negative"));
        }
        let total = numpy_sum(weights);
        if total <= 0.0 || !total.is_finite() {
            return Err(InvalidWeights("weights must not sum to zero"));
        }
        let mut cdf = Vec::with_capacity(weights.len());
        let mut acc = 0.0;
        for w in weights {
            acc += w / total;
            cdf.push(acc);
        }
        let last = acc;
        for c in &mut cdf {
            *c /= last;
        }
        Ok(Self { cdf })
    }

    /// `n` equally likely outcomes (`n = 0` is treated as 1).
    #[must_use]
    pub fn uniform(n: usize) -> Self {
        let n = n.max(1);
        Self {
            cdf: (1..=n).map(|i| i as f64 / n as f64).collect(),
        }
    }

    /// Number of outcomes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.cdf.len()
    }

    /// Always false: a distribution has at least one outcome.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cdf.is_empty()
    }

    /// The normalised cumulative distribution (last entry 1.0).
    #[must_use]
    pub fn cdf(&self) -> &[f64] {
        &self.cdf
    }

    /// One draw: `searchsorted(cdf, random_sample(), side='right')`, i.e. the number of cdf
    /// entries `<= u`. Consumes one double of the stream.
    #[inline]
    pub fn sample(&self, rng: &mut NumpyRandomState) -> usize {
        let u = rng.random_sample();
        // cdf is sorted and ends with 1.0 > u, so the result is a valid index.
        self.cdf.partition_point(|&c| c <= u)
    }
}

/// Production weights that numpy's `choice(p=...)` would reject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid weights for a weighted choice: {0}")]
pub struct InvalidWeights(pub &'static str);

/// A range that numpy would reject (`low >= high`, or a sample larger than its population).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("empty range for a numpy draw: low = {low}, high = {high}")]
pub struct EmptyRange {
    /// Inclusive lower end (or the requested sample size).
    pub low: i64,
    /// Exclusive upper end (or the population size).
    pub high: i64,
}

/// An exact integer form of the test `rand() < p`.
///
/// numpy's double is `x / 2⁵³` for a 53-bit integer `x`, so `x / 2⁵³ < p` holds exactly when
/// `x < ceil(p · 2⁵³)` (the product is exact because 2⁵³ is a power of two). Comparing integers
/// gives the same answer as numpy's float comparison for every `x`, and is cheaper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UniformThreshold(u64);

impl UniformThreshold {
    /// Threshold for `rand() < p`. `p <= 0` (or NaN) never passes, `p >= 1` always passes.
    #[must_use]
    pub fn new(p: f64) -> Self {
        let scaled = p * TWO_POW_53;
        let bound = if scaled.is_nan() || scaled <= 0.0 {
            0
        } else if scaled >= TWO_POW_53 {
            1 << 53
        } else {
            // In (0, 2^53): the ceiling is an integer-valued double that fits in u64.
            scaled.ceil() as u64
        };
        Self(bound)
    }

    /// Draws one double's worth of bits and reports whether `rand() < p`.
    #[inline]
    pub fn sample(self, rng: &mut NumpyRandomState) -> bool {
        rng.next_53_bits() < self.0
    }

    /// `rand(len) < p` for a whole array at once: calls `f(item, hit)` for each element in
    /// order, drawing one double per element (the image-noise hot path).
    #[inline]
    pub fn apply<T>(
        self,
        rng: &mut NumpyRandomState,
        items: &mut [T],
        mut f: impl FnMut(&mut T, bool),
    ) {
        // x = a·2²⁶ + b < T = hi·2²⁶ + lo  ⇔  a < hi ∨ (a = hi ∧ b < lo), with a = w₀ >> 5 and
        // b = w₁ >> 6 both below 2²⁷: 32-bit comparisons only, which vectorise well.
        let hi = (self.0 >> 26) as u32;
        let lo = (self.0 & ((1 << 26) - 1)) as u32;
        let mut words = [0u32; BLOCK_WORDS];
        for chunk in items.chunks_mut(BLOCK_WORDS / 2) {
            let words = &mut words[..2 * chunk.len()];
            rng.mt.fill(words);
            for (item, pair) in chunk.iter_mut().zip(words.chunks_exact(2)) {
                let (a, b) = (pair[0] >> 5, pair[1] >> 6);
                f(item, (a < hi) | ((a == hi) & (b < lo)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_genrand_matches_numpy_state() {
        // numpy: RandomState(5489).get_state()[1][:3] == [5489, 1301868182, 2938499221], and the
        // first output of the reference MT19937 for seed 5489 is 3499211612.
        let mut rng = NumpyRandomState::new(5489);
        assert_eq!(rng.next_u32(), 3_499_211_612);
    }

    #[test]
    fn threshold_agrees_with_float_comparison() {
        for &p in &[
            0.0,
            1e-300,
            0.05,
            0.125_190_145_502_645_5,
            0.5,
            0.999_999,
            1.0,
            1.5,
        ] {
            let t = UniformThreshold::new(p);
            let mut a = NumpyRandomState::new(7);
            let mut b = NumpyRandomState::new(7);
            for _ in 0..2000 {
                assert_eq!(t.sample(&mut a), b.random_sample() < p, "p = {p}");
            }
        }
        // Boundary: x / 2^53 == p exactly must not pass.
        let p = 3.0 / TWO_POW_53;
        assert_eq!(UniformThreshold::new(p), UniformThreshold(3));
    }

    #[test]
    fn bulk_draws_equal_scalar_draws() {
        // Start at an odd word offset so doubles straddle the blocks differently.
        let mut bulk = NumpyRandomState::new(99);
        let mut scalar = NumpyRandomState::new(99);
        bulk.next_u32();
        scalar.next_u32();
        let mut got = vec![0.0; 1537];
        bulk.fill_random_sample(&mut got);
        let want: Vec<f64> = (0..1537).map(|_| scalar.random_sample()).collect();
        assert_eq!(got, want);
        let t = UniformThreshold::new(0.3);
        let mut hits = vec![false; 701];
        t.apply(&mut bulk, &mut hits, |h, hit| *h = hit);
        let want: Vec<bool> = (0..701).map(|_| t.sample(&mut scalar)).collect();
        assert_eq!(hits, want);
        assert_eq!(bulk.next_u32(), scalar.next_u32());
    }

    #[test]
    fn choice_many_matches_numpy() {
        // numpy 2.4.6: r = RandomState(0); r.choice(10, size=8); r.choice(120000, size=5);
        // r.randint(2**32).
        let mut rng = NumpyRandomState::new(0);
        assert_eq!(rng.choice_many(10, 8), Ok(vec![5, 0, 3, 3, 7, 9, 3, 5]));
        assert_eq!(
            rng.choice_many(120_000, 5),
            Ok(vec![55_026, 112_420, 80_471, 80_966, 48_600])
        );
        assert_eq!(rng.randint(0, 1 << 32), Ok(4_138_900_056));
        // r = RandomState(123); r.choice([7]) draws nothing: r.randint(1000) is then 510.
        let mut rng = NumpyRandomState::new(123);
        assert_eq!(rng.choice(1), Ok(0));
        assert_eq!(rng.randint(0, 1000), Ok(510));
        assert!(rng.choice_many(0, 3).is_err());
    }

    #[test]
    fn weighted_choice_matches_numpy() {
        // numpy 2.4.6 (scripts/latex_reference.py): r = RandomState(12345); for each weight
        // list w: [r.choice(len(w), p=w / w.sum()) for _ in range(20)], in this order.
        let cases: [(&[f64], [usize; 20]); 5] = [
            (
                &[1.0, 0.25],
                [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0],
            ),
            (
                &[1.0, 1.0, 1.0],
                [1, 2, 1, 0, 1, 2, 2, 2, 2, 0, 0, 2, 2, 0, 1, 1, 1, 0, 2, 2],
            ),
            (
                &[1.0; 16],
                [
                    13, 8, 12, 1, 3, 4, 7, 7, 11, 2, 8, 2, 12, 14, 9, 2, 7, 6, 13, 14,
                ],
            ),
            (
                &[0.1, 0.0, 0.3, 0.6],
                [2, 2, 3, 2, 2, 3, 3, 3, 3, 3, 3, 3, 2, 3, 3, 2, 2, 3, 3, 3],
            ),
            (
                &[3.0, 1e-9, 2.0],
                [2, 0, 0, 2, 0, 0, 0, 0, 2, 0, 2, 2, 2, 2, 0, 2, 0, 2, 2, 0],
            ),
        ];
        let mut rng = NumpyRandomState::new(12345);
        for (weights, want) in cases {
            let choice = WeightedChoice::from_weights(weights).expect("valid weights");
            let got: Vec<usize> = (0..20).map(|_| choice.sample(&mut rng)).collect();
            assert_eq!(got, want, "weights {weights:?}");
        }
        assert!(WeightedChoice::from_weights(&[]).is_err());
        assert!(WeightedChoice::from_weights(&[1.0, -1.0]).is_err());
        assert!(WeightedChoice::from_weights(&[0.0, 0.0]).is_err());
        assert!(WeightedChoice::from_weights(&[f64::NAN]).is_err());
    }

    #[test]
    fn randint_rejects_empty_ranges() {
        let mut rng = NumpyRandomState::new(0);
        assert!(rng.randint(3, 3).is_err());
        assert!(rng.choice(0).is_err());
        assert!(rng.choice_without_replacement(3, 4).is_err());
        assert_eq!(rng.randint(5, 6), Ok(5));
        assert_eq!(rng.randint(i64::MIN, i64::MAX).map(|_| ()), Ok(()));
    }
}
