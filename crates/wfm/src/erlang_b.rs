//! Erlang B (M/M/n/n loss system): the building block of Erlang C and A.
//!
//! `B(n, A) = (Aⁿ/n!) / Σₖ₌₀..ₙ Aᵏ/k!`, computed by the recursion
//! `B(k) = A·B(k−1) / (k + A·B(k−1))` from `B(0) = 1`: every intermediate
//! value stays in [0, 1], so nothing overflows even for thousands of agents.
//!
//! The continuous extension to a fractional number of agents `x` is
//! `B(x, A) = Aˣ e⁻ᴬ / Γ(x+1, A)` (upper incomplete gamma function), which
//! equals the discrete formula at integer `x`. It is computed for the
//! fractional part with a continued fraction (or a series for small `A`) and
//! carried to `x` by the same recursion.

use crate::error::{WfmError, non_negative};

/// Erlang B blocking probability `B(agents, load)` for an offered load in
/// Erlangs. `B(0, A) = 1`; `B(n, 0) = 0` for `n ≥ 1`.
///
/// ```
/// let b = wfm::erlang_b(10, 10.0).unwrap();
/// assert!((b - 0.2145823).abs() < 1e-7);
/// ```
pub fn erlang_b(agents: u32, load: f64) -> Result<f64, WfmError> {
    let load = non_negative("offered load", load)?;
    Ok(erlang_b_unchecked(agents, load))
}

/// The recursion without input checks (`load` finite and ≥ 0).
pub(crate) fn erlang_b_unchecked(agents: u32, load: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=agents {
        b = next_erlang_b(b, f64::from(k), load);
    }
    b
}

/// One step of the recursion: `B(x)` from `B(x−1)`.
#[inline]
pub(crate) fn next_erlang_b(previous: f64, x: f64, load: f64) -> f64 {
    let ab = load * previous;
    if ab == 0.0 { 0.0 } else { ab / (x + ab) }
}

/// Erlang B for a real (fractional) number of agents, the continuous
/// extension `B(x, A) = Aˣ e⁻ᴬ / Γ(x+1, A)`. Equal to [`erlang_b`] at whole
/// numbers, increasing smoothly in between (less blocking with more agents).
///
/// ```
/// let whole = wfm::erlang_b(7, 5.5).unwrap();
/// let same = wfm::erlang_b_fractional(7.0, 5.5).unwrap();
/// assert!((whole - same).abs() < 1e-14);
/// let between = wfm::erlang_b_fractional(7.5, 5.5).unwrap();
/// assert!(between < whole && between > wfm::erlang_b(8, 5.5).unwrap());
/// ```
pub fn erlang_b_fractional(agents: f64, load: f64) -> Result<f64, WfmError> {
    let agents = non_negative("agents", agents)?;
    let load = non_negative("offered load", load)?;
    if agents > f64::from(u32::MAX) {
        return Err(WfmError::InvalidInput { name: "agents", requirement: "at most 4294967295", value: agents });
    }
    let whole = agents.floor();
    let fraction = agents - whole;
    if load == 0.0 {
        return Ok(if agents == 0.0 { 1.0 } else { 0.0 });
    }
    let mut b = if fraction == 0.0 { 1.0 } else { erlang_b_below_one(fraction, load) };
    let mut x = fraction;
    // `whole` fits in u32 (checked above).
    for _ in 0..(whole as u32) {
        x += 1.0;
        b = next_erlang_b(b, x, load);
    }
    Ok(b)
}

/// `B(f, A)` for `0 < f < 1`, `A > 0`, from the incomplete gamma function.
fn erlang_b_below_one(f: f64, load: f64) -> f64 {
    let s = f + 1.0;
    if load >= s + 1.0 {
        // Γ(s, A) = e⁻ᴬ Aˢ h with h a continued fraction, so B = 1/(A·h).
        1.0 / (load * upper_gamma_continued_fraction(s, load))
    } else {
        // Γ(s, A) = Γ(s)·(1 − P(s, A)), P from the series of γ(s, A).
        let ln_gamma_s = ln_gamma(s);
        let p = lower_gamma_series(s, load) * (s * load.ln() - load - ln_gamma_s).exp();
        (f * load.ln() - load - ln_gamma_s).exp() / (1.0 - p)
    }
}

/// `h` with `Γ(s, x) = e⁻ˣ xˢ h` (modified Lentz), for `x ≥ s + 1`.
fn upper_gamma_continued_fraction(s: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut b = x + 1.0 - s;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..10_000 {
        let i = f64::from(i);
        let an = -i * (i - s);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// `Σₙ xⁿ / (s(s+1)…(s+n))`, so that `γ(s, x) = e⁻ˣ xˢ · sum`, for `x < s + 1`.
fn lower_gamma_series(s: f64, x: f64) -> f64 {
    let mut term = 1.0 / s;
    let mut sum = term;
    let mut a = s;
    for _ in 0..10_000 {
        a += 1.0;
        term *= x / a;
        sum += term;
        if term.abs() < sum.abs() * 1e-17 {
            break;
        }
    }
    sum
}

/// `ln Γ(x)` for `x ≥ 0.5` (Lanczos, g = 7, relative error ~1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let mut a = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_known_values() {
        assert!((ln_gamma(1.0)).abs() < 1e-14);
        assert!((ln_gamma(2.0)).abs() < 1e-14);
        // Γ(1.5) = √π / 2
        assert!((ln_gamma(1.5) - (std::f64::consts::PI.sqrt() / 2.0).ln()).abs() < 1e-14);
        assert!((ln_gamma(10.0) - 362_880f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn small_cases_by_hand() {
        // B(1, A) = A/(1+A); B(2, A) = (A²/2)/(1 + A + A²/2).
        assert!((erlang_b_unchecked(1, 3.0) - 0.75).abs() < 1e-15);
        assert!((erlang_b_unchecked(2, 2.0) - 2.0 / 5.0).abs() < 1e-15);
        assert_eq!(erlang_b_unchecked(0, 2.0), 1.0);
        assert_eq!(erlang_b_unchecked(3, 0.0), 0.0);
    }

    /// Γ(f+1, A) by Simpson's rule on [A, A+80] (the integrand is negligible beyond).
    fn upper_gamma_numeric(s: f64, x: f64) -> f64 {
        let n = 200_000;
        let h = 80.0 / f64::from(n);
        let g = |t: f64| t.powf(s - 1.0) * (-t).exp();
        let mut sum = g(x) + g(x + 80.0);
        for i in 1..n {
            let w = if i % 2 == 1 { 4.0 } else { 2.0 };
            sum += w * g(x + h * f64::from(i));
        }
        sum * h / 3.0
    }

    #[test]
    fn fractional_part_matches_the_incomplete_gamma_integral() {
        for &(f, a) in &[(0.5f64, 0.3f64), (0.25, 1.0), (0.9, 2.5), (0.5, 3.0), (0.1, 7.0), (0.75, 20.0)] {
            let want = a.powf(f) * (-a).exp() / upper_gamma_numeric(f + 1.0, a);
            let got = erlang_b_below_one(f, a);
            assert!((got - want).abs() < 1e-9 * want, "B({f}, {a}) = {got}, want {want}");
        }
    }

    #[test]
    fn fractional_agrees_with_integer_and_is_continuous() {
        for &a in &[0.2f64, 1.0, 2.9, 3.1, 10.0, 48.0, 500.0, 5000.0] {
            for n in [1u32, 2, 5, 13, 60, 520, 5100] {
                let b = erlang_b_unchecked(n, a);
                let x = f64::from(n);
                let fb = erlang_b_fractional(x, a).unwrap();
                assert!((fb - b).abs() <= 1e-13 * b.max(1e-300), "n={n} A={a}");
                // Just above and below a whole number the value is close to it.
                let up = erlang_b_fractional(x + 1e-7, a).unwrap();
                let down = erlang_b_fractional(x - 1e-7, a).unwrap();
                assert!(up <= b && down >= b, "n={n} A={a}: {down} {b} {up}");
                assert!((up - b).abs() < 1e-5 * b.max(1e-12) + 1e-15, "n={n} A={a}: {b} {up}");
                assert!((down - b).abs() < 1e-5 * b.max(1e-12) + 1e-15, "n={n} A={a}: {b} {down}");
            }
        }
    }
}
