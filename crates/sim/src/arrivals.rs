//! Non-homogeneous Poisson arrivals with a piecewise-constant rate.
//!
//! The next arrival after `t` is found by inverting the cumulative rate
//! Λ(t): draw E ~ Exp(1) and walk forward through the intervals, spending
//! `rate × length` of E in each, until the rest of E fits in an interval.
//! This is exact (no thinning, no rounding at interval boundaries) and
//! memoryless, so it can restart at any time.

use engine::rng::Rng;

/// A piecewise-constant arrival rate over `[start, end)`.
#[derive(Clone, Debug)]
pub struct RateProfile<'a> {
    /// Start of the first interval (may be before `start`).
    pub first_ms: u64,
    /// Interval length.
    pub interval_ms: u64,
    /// Arrivals happen from here...
    pub start_ms: u64,
    /// ...to here (exclusive).
    pub end_ms: u64,
    /// Rate per millisecond in each interval.
    pub rate_per_ms: &'a [f64],
}

impl RateProfile<'_> {
    /// The first arrival strictly after `t` (in fractional ms), or `None`
    /// when there is none before the end.
    pub fn next_after(&self, t: f64, rng: &mut Rng) -> Option<f64> {
        let x = t.max(self.start_ms as f64);
        // The cast truncates (floor for x ≥ first, 0 before it): `floor`
        // would be a libm call on baseline x86-64.
        let mut k = ((x - self.first_ms as f64) / self.interval_ms as f64) as usize;
        self.next_after_from(t, &mut k, rng)
    }

    /// [`RateProfile::next_after`] for a caller that keeps the interval
    /// of its last arrival in `k` (any interval not after `t`'s will do):
    /// the walk goes on from there, with no division to find it. `k` is
    /// left at the interval of the arrival.
    pub fn next_after_from(&self, t: f64, k: &mut usize, rng: &mut Rng) -> Option<f64> {
        let mut e = rng.exp(1.0);
        let mut x = t.max(self.start_ms as f64);
        let end = self.end_ms as f64;
        let first = self.first_ms as f64;
        let len = self.interval_ms as f64;
        while x < end {
            let boundary = (first + (*k as f64 + 1.0) * len).min(end);
            if boundary <= x {
                // Not yet the interval holding x.
                *k += 1;
                continue;
            }
            let &rate = self.rate_per_ms.get(*k)?;
            let mass = rate * (boundary - x);
            if rate > 0.0 && e <= mass {
                let at = x + e / rate;
                return if at < end { Some(at) } else { None };
            }
            e -= mass;
            x = boundary;
            *k += 1;
        }
        None
    }

    /// Expected number of arrivals over the whole profile.
    pub fn expected(&self) -> f64 {
        let mut total = 0.0;
        for (k, r) in self.rate_per_ms.iter().enumerate() {
            let a = (self.first_ms + k as u64 * self.interval_ms).max(self.start_ms);
            let b = (self.first_ms + (k as u64 + 1) * self.interval_ms).min(self.end_ms);
            if b > a {
                total += r * (b - a) as f64;
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(p: &RateProfile<'_>, seed: u64, per_interval: &mut [u64]) -> u64 {
        let mut rng = Rng::new(seed);
        let mut t = p.start_ms as f64;
        let mut n = 0;
        while let Some(next) = p.next_after(t, &mut rng) {
            assert!(next >= t && next < p.end_ms as f64 && next >= p.start_ms as f64);
            let k = ((next - p.first_ms as f64) / p.interval_ms as f64) as usize;
            per_interval[k] += 1;
            t = next;
            n += 1;
        }
        n
    }

    #[test]
    fn constant_rate_count_matches_lambda_t() {
        // 200 calls/h over 1000 h: λt = 200,000, sd ≈ 447.
        let rate = vec![200.0 / 3_600_000.0; 4000];
        let p = RateProfile {
            first_ms: 0,
            interval_ms: 900_000,
            start_ms: 0,
            end_ms: 1000 * 3_600_000,
            rate_per_ms: &rate,
        };
        let expected = p.expected();
        assert!((expected - 200_000.0).abs() < 1e-6);
        let mut per = vec![0; 4000];
        let n = count(&p, 1, &mut per) as f64;
        let sd = expected.sqrt();
        assert!((n - expected).abs() < 4.0 * sd, "n {n} expected {expected} ± {sd}");
    }

    /// Keeping the interval between draws gives the arrivals a fresh
    /// search would (the simulator keeps it; this checks it is only a shortcut).
    #[test]
    fn walking_on_from_the_last_interval_finds_the_same_arrivals() {
        let pattern = [0.0, 60.0, 600.0, 6000.0];
        let rate: Vec<f64> = (0..200).map(|k| pattern[k % 4] / 3_600_000.0).collect();
        let p = RateProfile {
            first_ms: 0,
            interval_ms: 900_000,
            start_ms: 450_000,
            end_ms: 179_700_000,
            rate_per_ms: &rate,
        };
        let (mut fresh, mut kept) = (Rng::new(3), Rng::new(3));
        let (mut t, mut k, mut n) = (p.start_ms as f64, 0, 0);
        while let Some(next) = p.next_after(t, &mut fresh) {
            assert_eq!(p.next_after_from(t, &mut k, &mut kept), Some(next));
            assert_eq!(k, (next / 900_000.0) as usize, "left at the arrival's interval");
            (t, n) = (next, n + 1);
        }
        assert_eq!(p.next_after_from(t, &mut k, &mut kept), None);
        assert!(n > 10_000, "{n} arrivals");
    }

    #[test]
    fn piecewise_profile_counts_per_interval() {
        // Rates alternate 0, 60, 600, 6000 calls/h per 15 minutes, repeated,
        // with a start and end inside intervals.
        let pattern = [0.0, 60.0, 600.0, 6000.0];
        let n_int = 400;
        let rate: Vec<f64> = (0..n_int).map(|k| pattern[k % 4] / 3_600_000.0).collect();
        let p = RateProfile {
            first_ms: 0,
            interval_ms: 900_000,
            start_ms: 450_000,
            end_ms: n_int as u64 * 900_000 - 300_000,
            rate_per_ms: &rate,
        };
        let mut per = vec![0u64; n_int];
        let n = count(&p, 7, &mut per) as f64;
        let expected = p.expected();
        assert!((n - expected).abs() < 4.0 * expected.sqrt(), "n {n} expected {expected}");
        // Per rate class: the zero intervals get nothing, the others their share.
        for (class, r) in pattern.iter().enumerate() {
            let got: u64 = per.iter().enumerate().filter(|(k, _)| k % 4 == class).map(|(_, c)| c).sum();
            if *r == 0.0 {
                assert_eq!(got, 0);
                continue;
            }
            // Full intervals of this class (the first and last are partial
            // but are of classes 0 and 3: k = 0 and k = 399).
            let mut exp = 0.0;
            for k in (class..n_int).step_by(4) {
                let a = (k as u64 * 900_000).max(p.start_ms);
                let b = ((k as u64 + 1) * 900_000).min(p.end_ms);
                exp += rate[k] * (b - a) as f64;
            }
            let got = got as f64;
            assert!((got - exp).abs() < 4.0 * exp.sqrt() + 1.0, "class {class}: {got} vs {exp}");
        }
    }

    #[test]
    fn no_arrivals_when_rate_is_zero() {
        let rate = vec![0.0; 4];
        let p = RateProfile { first_ms: 0, interval_ms: 1000, start_ms: 0, end_ms: 4000, rate_per_ms: &rate };
        assert_eq!(p.next_after(0.0, &mut Rng::new(1)), None);
    }
}
