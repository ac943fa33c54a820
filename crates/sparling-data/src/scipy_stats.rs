//! The few scipy pieces the domains draw through: the standard normal CDF and its inverse, and
//! `scipy.stats.truncnorm(a, b, scale=s).rvs(size, random_state=rng)` on a
//! [`NumpyRandomState`].
//!
//! **How scipy draws a truncated normal.** `truncnorm` has no `_rvs` of its own (scipy 1.17),
//! so `rvs` takes `rv_continuous`'s inverse-CDF default: `U = random_state.uniform(size=size)`,
//! then `scale · ppf(U; a, b) + loc`. The stream is therefore consumed exactly like
//! `random_sample(size)`: one 53-bit double per value, in order ([`TruncatedNormal`] does the
//! same, so whatever is drawn after the noise stays numpy-exact). scipy's `ppf` evaluates
//! `Φ⁻¹(Φ(a) + U·(Φ(b) − Φ(a)))` in log space (`ndtri_exp`); here it is evaluated directly with
//! Wichura's AS 241 inverse (relative error about 1e-16). Values are therefore statistically
//! identical but not bit-identical to scipy's: against scipy 1.17.1 they differ by at most about
//! 1e-15 × scale (2·10⁶ draws of `truncnorm(-1, 1)`; 23 % equal), which disappears when the
//! values are rounded to `f32`.

use sparling_numpy::NumpyRandomState;

/// `1/√2`.
const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// `2/√π`.
const FRAC_2_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

/// Standard normal CDF Φ(x) (`scipy.special.ndtr`), via `erfc`.
///
/// Relative error below about 1e-14 everywhere it is representable (tested against scipy);
/// only used to set up distributions, so it favours simplicity over speed.
#[must_use]
pub fn ndtr(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    0.5 * erfc(-x * FRAC_1_SQRT_2)
}

/// Complementary error function: a Taylor series for |z| < 2, a continued fraction beyond.
fn erfc(z: f64) -> f64 {
    if z < 0.0 {
        return 2.0 - erfc(-z);
    }
    if z < 2.0 {
        return 1.0 - erf_series(z);
    }
    erfc_continued_fraction(z)
}

/// `erf(z) = 2/√π · e^{−z²} · Σ (2z²)ⁿ z / (1·3·…·(2n+1))` for `0 ≤ z < 2`: all terms are
/// positive, so there is no cancellation.
fn erf_series(z: f64) -> f64 {
    let z2 = 2.0 * z * z;
    let mut term = z;
    let mut sum = z;
    let mut n = 0.0;
    while term > sum * 1e-17 {
        n += 1.0;
        term *= z2 / (2.0 * n + 1.0);
        sum += term;
    }
    FRAC_2_SQRT_PI * (-z * z).exp() * sum
}

/// `erfc(z) = e^{−z²}/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …))))` for `z ≥ 2`, evaluated
/// with the modified Lentz algorithm.
fn erfc_continued_fraction(z: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut f = z;
    let mut c = z;
    let mut d = 0.0;
    for n in 1..500 {
        let a = f64::from(n) / 2.0;
        d = z + a * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = z + a / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-z * z).exp() / (f * std::f64::consts::PI.sqrt())
}

/// Inverse standard normal CDF Φ⁻¹(p) (`scipy.special.ndtri`): Wichura's algorithm AS 241
/// (`PPND16`, Applied Statistics 37, 1988), relative error about 1e-16.
///
/// `p` outside `[0, 1]` gives NaN; 0 and 1 give ∓∞.
#[must_use]
pub fn ndtri(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    let q = p - 0.5;
    if q.abs() <= CENTRAL {
        return ndtri_central(q);
    }
    ndtri_tail(p, q)
}

/// `|p − 0.5|` up to which AS 241 uses its central approximation.
const CENTRAL: f64 = 0.425;

/// AS 241's central region, `|q| = |p − 0.5| ≤ 0.425`: a rational function of
/// `r = 0.180625 − q²`. Branch-free, so loops over it vectorise.
#[inline(always)]
// The coefficients are kept digit for digit as published; the compiler rounds them.
#[allow(clippy::excessive_precision)]
fn ndtri_central(q: f64) -> f64 {
    let r = 0.180_625 - q * q;
    let num = ((((((2_509.080_928_730_122_7 * r + 33_430.575_583_588_128) * r
        + 67_265.770_927_008_7)
        * r
        + 45_921.953_931_549_871)
        * r
        + 13_731.693_765_509_461)
        * r
        + 1_971.590_950_306_551_4)
        * r
        + 133.141_667_891_784_38)
        * r
        + 3.387_132_872_796_366_6;
    let den = ((((((5_226.495_278_852_854_6 * r + 28_729.085_735_721_943) * r
        + 39_307.895_800_092_711)
        * r
        + 21_213.794_301_586_596)
        * r
        + 5_394.196_021_424_751)
        * r
        + 687.187_007_492_057_9)
        * r
        + 42.313_330_701_600_911)
        * r
        + 1.0;
    q * num / den
}

/// AS 241's tails, `|p − 0.5| > 0.425`.
#[allow(clippy::excessive_precision)]
fn ndtri_tail(p: f64, q: f64) -> f64 {
    let tail = if q < 0.0 { p } else { 1.0 - p };
    if tail <= 0.0 {
        return if q < 0.0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let r = (-tail.ln()).sqrt();
    let x = if r <= 5.0 {
        let r = r - 1.6;
        let num = ((((((7.745_450_142_783_414e-4 * r + 2.272_384_498_926_918_5e-2) * r
            + 2.417_807_251_774_506_1e-1)
            * r
            + 1.270_458_252_452_368_4)
            * r
            + 3.647_848_324_763_204_6)
            * r
            + 5.769_497_221_460_691_4)
            * r
            + 4.630_337_846_156_545_3)
            * r
            + 1.423_437_110_749_683_6;
        let den = ((((((1.050_750_071_644_416_8e-9 * r + 5.475_938_084_995_345e-4) * r
            + 1.519_866_656_361_645_7e-2)
            * r
            + 1.481_039_764_274_800_7e-1)
            * r
            + 6.897_673_349_851e-1)
            * r
            + 1.676_384_830_183_803_8)
            * r
            + 2.053_191_626_637_758_8)
            * r
            + 1.0;
        num / den
    } else {
        let r = r - 5.0;
        let num = ((((((2.010_334_399_292_288_1e-7 * r + 2.711_555_568_743_487_6e-5) * r
            + 1.242_660_947_388_078_4e-3)
            * r
            + 2.653_218_952_657_612_3e-2)
            * r
            + 2.965_605_718_285_048_9e-1)
            * r
            + 1.784_826_539_917_291_3)
            * r
            + 5.463_784_911_164_114_4)
            * r
            + 6.657_904_643_501_103_8;
        let den = ((((((2.044_263_103_389_939_8e-15 * r + 1.421_511_758_316_445_9e-7) * r
            + 1.846_318_317_510_054_7e-5)
            * r
            + 7.868_691_311_456_132_6e-4)
            * r
            + 1.487_536_129_085_061_5e-2)
            * r
            + 1.369_298_809_227_358e-1)
            * r
            + 5.998_322_065_558_879_4e-1)
            * r
            + 1.0;
        num / den
    };
    if q < 0.0 { -x } else { x }
}

/// `scipy.stats.truncnorm(a, b, loc=0, scale)`: a standard normal truncated to `[a, b]`, then
/// scaled. See the module docs for how it consumes the numpy stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TruncatedNormal {
    a: f64,
    b: f64,
    scale: f64,
    /// Φ(a) when a < 0, else Φ(−b): the CDF at the bound nearer the centre's far side, from
    /// which scipy inverts (left or right formula) to keep precision in the tails.
    base: f64,
    /// Φ(b) − Φ(a).
    mass: f64,
    /// Every quantile falls in AS 241's central region (true for `truncnorm(-1, 1)`), so the
    /// bulk sampler can skip the tail branch.
    central: bool,
}

/// Parameters scipy would reject (or that give no distribution).
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error(
    "invalid truncated normal: a = {a}, b = {b}, scale = {scale} (need finite a < b, scale > 0)"
)]
pub struct InvalidTruncation {
    /// Lower bound (standard units).
    pub a: f64,
    /// Upper bound (standard units).
    pub b: f64,
    /// Scale.
    pub scale: f64,
}

impl TruncatedNormal {
    /// `truncnorm(a, b, scale=scale)`, with `a`, `b` in standard units.
    ///
    /// # Errors
    /// [`InvalidTruncation`] unless `a < b` are finite, `scale` is finite and positive, and the
    /// interval has non-zero probability in double precision.
    pub fn new(a: f64, b: f64, scale: f64) -> Result<Self, InvalidTruncation> {
        let err = InvalidTruncation { a, b, scale };
        if !(a.is_finite() && b.is_finite() && a < b && scale.is_finite() && scale > 0.0) {
            return Err(err);
        }
        let (base, mass) = if a < 0.0 {
            let phi_a = ndtr(a);
            (phi_a, ndtr(b) - phi_a)
        } else {
            let phi_minus_b = ndtr(-b);
            (phi_minus_b, ndtr(-a) - phi_minus_b)
        };
        if mass.is_nan() || mass <= 0.0 {
            return Err(err);
        }
        // p runs over [base, base + mass]; the central region is |p − 0.5| ≤ 0.425.
        let central = base >= 0.5 - CENTRAL && base + mass <= 0.5 + CENTRAL;
        Ok(Self {
            a,
            b,
            scale,
            base,
            mass,
            central,
        })
    }

    /// The scale (`scale` argument of scipy).
    #[must_use]
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Quantile of the *unscaled* truncated normal at `u ∈ [0, 1)`, clamped to `[a, b]` so
    /// that rounding can never leave the support.
    #[must_use]
    #[inline]
    pub fn standard_ppf(&self, u: f64) -> f64 {
        let x = if self.a < 0.0 {
            ndtri(self.base + u * self.mass)
        } else {
            // scipy's right-hand formula: mirror, so the small upper-tail mass stays precise.
            -ndtri(self.base + (1.0 - u) * self.mass)
        };
        x.clamp(self.a, self.b)
    }

    /// One draw, `scale · ppf(rng.uniform())`.
    #[must_use]
    pub fn sample(&self, rng: &mut NumpyRandomState) -> f64 {
        self.scale * self.standard_ppf(rng.random_sample())
    }

    /// `rvs(len(items), random_state=rng)`: one draw per element, in order, handed to `f`.
    /// Same stream as [`sample`](Self::sample) in a loop, with the words drawn in blocks.
    #[inline]
    pub fn for_each<T>(
        &self,
        rng: &mut NumpyRandomState,
        items: &mut [T],
        mut f: impl FnMut(&mut T, f64),
    ) {
        /// 2⁻⁵³: numpy's double is the 53-bit integer times this.
        const EPS53: f64 = 1.0 / 9_007_199_254_740_992.0;
        if self.central {
            // Same arithmetic as standard_ppf, minus the branch that cannot be taken, in
            // blocks: uniforms first, then a plain loop over them that the compiler vectorises.
            let Self {
                a,
                b,
                scale,
                base,
                mass,
                ..
            } = *self;
            let mirror = a >= 0.0;
            let mut buf = [0f64; 256];
            for chunk in items.chunks_mut(buf.len()) {
                let values = &mut buf[..chunk.len()];
                rng.fill_random_sample(values);
                for v in values.iter_mut() {
                    let x = if mirror {
                        -ndtri_central(base + (1.0 - *v) * mass - 0.5)
                    } else {
                        ndtri_central(base + *v * mass - 0.5)
                    };
                    *v = scale * x.clamp(a, b);
                }
                for (item, &v) in chunk.iter_mut().zip(values.iter()) {
                    f(item, v);
                }
            }
        } else {
            rng.for_each_53_bits(items, |item, bits| {
                f(item, self.scale * self.standard_ppf(bits as f64 * EPS53));
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(got: f64, want: f64, rel: f64, what: &str) {
        let tol = rel * want.abs().max(f64::MIN_POSITIVE);
        assert!(
            (got - want).abs() <= tol,
            "{what}: got {got:e}, want {want:e}"
        );
    }

    #[test]
    fn ndtri_matches_scipy() {
        // scipy 1.17.1 special.ndtri.
        let cases = [
            (1e-300, -37.0470962993612),
            (1e-20, -9.262340089798409),
            (1e-5, -4.264890793922825),
            (0.001, -3.090232306167813),
            (0.02425, -1.972961051311885),
            (0.05, -1.6448536269514729),
            (0.1, -1.2815515655446004),
            (0.15865525393145707, -1.0),
            (0.3, -0.5244005127080409),
            (0.5, 0.0),
            (0.6, 0.2533471031357997),
            (0.75, 0.6744897501960817),
            (0.8413447460685429, 1.0),
            (0.97575, 1.972961051311885),
            (0.99, 2.3263478740408408),
            (0.999999, 4.753424308817087),
            (1.0 - 1e-12, 7.0344869100478356),
        ];
        for (p, want) in cases {
            assert_close(ndtri(p), want, 1e-13, &format!("ndtri({p})"));
        }
        assert!(ndtri(-0.1).is_nan() && ndtri(1.5).is_nan());
        assert_eq!(ndtri(0.0), f64::NEG_INFINITY);
        assert_eq!(ndtri(1.0), f64::INFINITY);
    }

    #[test]
    fn ndtr_matches_scipy() {
        // scipy 1.17.1 special.ndtr.
        let cases = [
            (-8.0, 6.22096057427174e-16),
            (-3.5, 0.00023262907903552502),
            (-1.0, 0.15865525393145707),
            (-0.3, 0.3820885778110474),
            (0.0, 0.5),
            (0.7, 0.758036347776927),
            (1.0, 0.8413447460685429),
            (2.5, 0.9937903346742238),
            (6.0, 0.9999999990134123),
        ];
        for (x, want) in cases {
            assert_close(ndtr(x), want, 1e-13, &format!("ndtr({x})"));
        }
    }

    #[test]
    fn truncnorm_rvs_matches_scipy() {
        // r = RandomState(7); truncnorm(-1, 1, scale=2**-10).rvs(6, random_state=r);
        // r.randint(1000) == 584 afterwards.
        let want = [
            -0.0007849816437272606,
            0.0004872695061244162,
            -0.0001031181885643501,
            0.0003830409917838119,
            0.000917691577932166,
            6.437864295459625e-05,
        ];
        let t = TruncatedNormal::new(-1.0, 1.0, 2f64.powi(-10)).expect("valid");
        let mut rng = NumpyRandomState::new(7);
        let mut got = [0.0; 6];
        t.for_each(&mut rng, &mut got, |g, x| *g = x);
        for (g, w) in got.iter().zip(want) {
            assert_close(*g, w, 1e-14, "truncnorm(-1, 1)");
        }
        assert_eq!(rng.randint(0, 1000), Ok(584));

        // truncnorm(-0.5, 2, scale=3) and the right-hand formula (a >= 0) by symmetry.
        let want = [
            -1.078858635162411,
            2.863430692367631,
            0.7733053858948333,
            2.443572392576502,
        ];
        let t = TruncatedNormal::new(-0.5, 2.0, 3.0).expect("valid");
        let mut rng = NumpyRandomState::new(7);
        for w in want {
            assert_close(t.sample(&mut rng), w, 1e-14, "truncnorm(-0.5, 2)");
        }
        let right = TruncatedNormal::new(0.5, 3.0, 1.0).expect("valid");
        let left = TruncatedNormal::new(-3.0, -0.5, 1.0).expect("valid");
        for u in [0.0, 0.1, 0.5, 0.9, 0.999] {
            assert_close(
                right.standard_ppf(u),
                -left.standard_ppf(1.0 - u),
                1e-14,
                "symmetry",
            );
        }
    }

    #[test]
    fn bulk_and_scalar_draws_agree() {
        // Central fast path (left and mirrored formulas) and the general path.
        for (a, b) in [(-1.0, 1.0), (0.1, 0.5), (-0.5, 2.0), (1.0, 4.0)] {
            let t = TruncatedNormal::new(a, b, 0.5).expect("valid");
            let mut bulk = NumpyRandomState::new(3);
            let mut scalar = NumpyRandomState::new(3);
            let mut got = vec![0.0; 777];
            t.for_each(&mut bulk, &mut got, |g, x| *g = x);
            let want: Vec<f64> = (0..777).map(|_| t.sample(&mut scalar)).collect();
            assert_eq!(got, want, "truncnorm({a}, {b})");
            assert_eq!(bulk.next_u32(), scalar.next_u32());
        }
    }

    #[test]
    fn truncnorm_stays_in_bounds_and_rejects_bad_parameters() {
        let t = TruncatedNormal::new(-1.0, 1.0, 1.0).expect("valid");
        assert_eq!(t.standard_ppf(0.0), -1.0);
        assert!(t.standard_ppf(1.0 - f64::EPSILON) <= 1.0);
        let mut rng = NumpyRandomState::new(1);
        let mut xs = vec![0.0; 10_000];
        t.for_each(&mut rng, &mut xs, |x, v| *x = v);
        assert!(xs.iter().all(|x| (-1.0..=1.0).contains(x)));
        // Standard deviation of the standard normal truncated to [-1, 1] is 0.5396.
        let var = xs.iter().map(|x| x * x).sum::<f64>() / xs.len() as f64;
        assert!((var.sqrt() - 0.5396).abs() < 0.01, "std {}", var.sqrt());
        for (a, b, s) in [
            (1.0, -1.0, 1.0),
            (-1.0, 1.0, 0.0),
            (f64::NAN, 1.0, 1.0),
            (-1.0, f64::INFINITY, 1.0),
            (40.0, 41.0, 1.0),
        ] {
            assert!(TruncatedNormal::new(a, b, s).is_err(), "{a} {b} {s}");
        }
    }
}
