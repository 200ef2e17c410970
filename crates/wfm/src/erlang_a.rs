//! Erlang A (M/M/n+M, Palm's queue): Poisson arrivals, exponential handle
//! times, exponential patience; callers abandon when their patience runs
//! out before an agent takes them. Stable at any load.
//!
//! # Method
//!
//! Time is measured in units of the AHT (μ = 1), so the arrival rate is the
//! offered load `A`, the abandonment rate is `θ = AHT/patience` and the
//! threshold is `t = T/AHT`. The stationary distribution of the number of
//! callers in the system is `π_k ∝ Aᵏ/k!` for `k ≤ n` and
//! `π_{n+j} = π_n Πᵢ₌₁..ⱼ A/(n + iθ)` above; `Σ_{k≤n} π_k/π_n = 1/B(n, A)`
//! (Erlang B), and the tail is summed term by term with rescaling (no
//! overflow at any load) until the rest is provably below 1e−17 of the sum.
//!
//! An arriving caller who finds `j` callers waiting (PASTA) waits for
//! `j + 1` departures from the head of the queue, at rates
//! `n + iθ` (i = j … 0), while abandoning at rate θ. Per `j`:
//!
//! * P(answered) `s_j = Πᵢ₌₀..ⱼ (n + iθ)/(n + (i+1)θ)`; E[wait · 1{answered}]
//!   and E[wait] by the matching first-step recursions;
//! * P(answered within t) = `s_j · P(V'_j ≤ t)` where `V'_j` is a sum of
//!   exponentials with rates `n + θ, n + 2θ, …, n + (j+1)θ` — because
//!   `e^{−θv}` times the density of the virtual wait `V_j` (rates
//!   `n, n + θ, …, n + jθ`) is `s_j` times the density of `V'_j`;
//! * a sum of exponentials with rates `a + θ, …, a + mθ` is `−ln(X)/θ` with
//!   `X ~ Beta(a/θ + 1, m)`, so `P(V'_j > t) = P(K ≤ j)` for a negative
//!   binomial `K` with `r = n/θ + 1` and success probability `u = e^{−θt}`
//!   (and `r = n/θ` for `V_j` itself). Its CDF is accumulated along `j`.
//!
//! This is exact (no uniformisation truncation in time), costs O(number of
//! significant queue states) per evaluation, and reproduces the golden
//! vectors to ~1e−14.

use crate::erlang_b::erlang_b_unchecked;
use crate::error::{WfmError, non_negative, positive};
use crate::staffing::{MAX_AGENTS, Staffing, Target, least_meeting};
use serde::{Deserialize, Serialize};

/// Largest number of queue states summed in one evaluation.
const MAX_TERMS: f64 = 2e7;

/// An Erlang A queue.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErlangA {
    calls_per_hour: f64,
    aht_seconds: f64,
    patience_seconds: f64,
}

/// Steady-state figures of an Erlang A queue with a given staffing. All
/// probabilities are per arriving caller.
///
/// Two different means of waiting time are reported:
/// `mean_wait_all_seconds` counts every arrival (abandoned callers with
/// the time they waited before hanging up; this is what pyworkforce calls
/// "average speed of answer"), `asa_answered_seconds` counts answered
/// calls only (the contact-center ASA).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErlangAMetrics {
    /// Agents.
    pub agents: u32,
    /// Offered load A = λ·AHT in Erlangs.
    pub offered_load_erlangs: f64,
    /// Probability that a caller finds all agents busy and waits.
    pub p_wait: f64,
    /// Probability that a caller abandons.
    pub p_abandon: f64,
    /// Probability that a caller abandons within the threshold T.
    pub p_abandon_within_threshold: f64,
    /// Service level, "offered" definition: answered within T / all
    /// arrivals (Cisco "abandons negative", Genesys Cloud default, CCmath
    /// definition 2, pyworkforce).
    pub service_level: f64,
    /// Answered within T / answered (abandons ignored entirely; CCmath
    /// definition 1).
    pub service_level_answered: f64,
    /// Answered within T / (all − abandoned within T) (Cisco "abandons
    /// ignored", Genesys "short abandons excluded" with short = T).
    pub service_level_abandons_ignored: f64,
    /// (Answered within T + abandoned within T) / all (Cisco "abandons
    /// positive", Amazon Connect "service level X").
    pub service_level_abandons_positive: f64,
    /// Virtual service level: P(the wait a caller with infinite patience
    /// would have ≤ T) (CCmath definition 0).
    pub service_level_virtual: f64,
    /// The threshold T of the service levels, seconds.
    pub sl_threshold_seconds: f64,
    /// Mean wait over all arrivals, answered or abandoned, seconds
    /// (`P(abandon)·patience`).
    pub mean_wait_all_seconds: f64,
    /// Average speed of answer: mean wait of answered calls only, seconds.
    pub asa_answered_seconds: f64,
    /// Agent occupancy: carried load `A·(1 − P(abandon))` over agents.
    pub occupancy: f64,
    /// Mean number of callers waiting (λ × mean wait of all arrivals).
    pub queue_length: f64,
}

impl ErlangA {
    /// A queue with `calls_per_hour` Poisson arrivals, mean handle time
    /// `aht_seconds` and mean (exponential) patience `patience_seconds`.
    pub fn new(calls_per_hour: f64, aht_seconds: f64, patience_seconds: f64) -> Result<Self, WfmError> {
        Ok(Self {
            calls_per_hour: non_negative("calls per hour", calls_per_hour)?,
            aht_seconds: positive("AHT", aht_seconds)?,
            patience_seconds: positive("patience", patience_seconds)?,
        })
    }

    /// Offered load A = λ·AHT in Erlangs.
    pub fn offered_load(&self) -> f64 {
        self.calls_per_hour * self.aht_seconds / 3600.0
    }

    /// The figures with `agents` agents and a service-level threshold of
    /// `sl_threshold_seconds`. Works at any load, including overload.
    ///
    /// ```
    /// // 6000 calls/h, AHT 300 s (A = 500), 480 agents, patience 180 s (vector A6).
    /// let m = wfm::ErlangA::new(6000.0, 300.0, 180.0).unwrap().metrics(480, 20.0).unwrap();
    /// assert!((m.service_level - 0.850255).abs() < 1e-6);
    /// assert!((m.p_abandon - 0.046525).abs() < 1e-6);
    /// ```
    pub fn metrics(&self, agents: u32, sl_threshold_seconds: f64) -> Result<ErlangAMetrics, WfmError> {
        let threshold = non_negative("service-level threshold", sl_threshold_seconds)?;
        if agents == 0 {
            return Err(WfmError::InvalidInput { name: "agents", requirement: "at least 1", value: 0.0 });
        }
        self.evaluate(agents, threshold)
    }

    /// The least number of agents meeting `target` (service level offered,
    /// ASA of answered calls, abandonment, occupancy), with the figures at
    /// that staffing. The search starts at ⌊A⌋ + 1 and gallops down to a
    /// proven lower bound (`n ≥ A·SL` and `n ≥ A·(1 − max abandonment)`),
    /// so it finds staffings below the offered load when abandonment makes
    /// them sufficient — 475 agents for vector A6, where pyworkforce says 500.
    ///
    /// ```
    /// let q = wfm::ErlangA::new(6000.0, 300.0, 180.0).unwrap();
    /// let s = q.required_agents(&wfm::Target::service_level(0.8, 20.0)).unwrap();
    /// assert_eq!(s.agents, 475);
    /// ```
    pub fn required_agents(&self, target: &Target) -> Result<Staffing<ErlangAMetrics>, WfmError> {
        let target = target.validated()?;
        let load = self.offered_load();
        let lo = target.erlang_a_lower_bound(load);
        let start = if load + 1.0 >= f64::from(MAX_AGENTS) { MAX_AGENTS } else { load.floor() as u32 + 1 };
        let threshold = target.sl_threshold_seconds;
        let agents = least_meeting(lo, start, |n| Ok(target.met_by_a(&self.evaluate(n, threshold)?)))?;
        Ok(Staffing { agents, metrics: self.evaluate(agents, threshold)? })
    }

    fn evaluate(&self, agents: u32, threshold: f64) -> Result<ErlangAMetrics, WfmError> {
        let aht = self.aht_seconds;
        let load = self.offered_load();
        let theta = aht / self.patience_seconds;
        let t = threshold / aht;
        let n = f64::from(agents);

        // Guard against hopeless inputs. The tail terms peak near
        // (A − n)/θ waiting callers and then fall off geometrically (rate
        // ln(n/A) when n > A) and like a Gaussian (width √(n/θ)); the sum
        // stops about 40 e-folds past the peak.
        let peak = ((load - n) / theta).max(0.0);
        let geometric = if n > load { 40.0 / (n / load).ln() } else { f64::INFINITY };
        let gaussian = (80.0 * n.max(load) / theta).sqrt();
        let estimate = peak + 1.5 * geometric.min(gaussian) + 10.0;
        if estimate.is_nan() || estimate > MAX_TERMS {
            return Err(WfmError::TooLarge { terms: estimate });
        }

        let b = erlang_b_unchecked(agents, load);
        // Σ_{k<n} π_k / π_n = 1/B − 1.
        let below = if b > 0.0 { (1.0 - b) / b } else { f64::INFINITY };

        let u = (-theta * t).exp();
        let one_minus_u = -(-theta * t).exp_m1();
        let mut offered = NegBinomialCdf::new(n / theta + 1.0, -(n + theta) * t, one_minus_u);
        let mut virtual_ = NegBinomialCdf::new(n / theta, -n * t, one_minus_u);

        // Tail term π_{n+j}/π_n = term · e^{scale}; every sum below shares the scale.
        let mut term = 1.0f64;
        let mut scale = 0.0f64;
        let mut sum = Sums::default();
        // Per-j quantities for a caller finding j waiting: P(answered),
        // P(abandon), E[wait·1{answered}], E[wait], from the j−1 ones.
        let (mut s, mut a, mut m, mut e) = (1.0f64, 0.0f64, 0.0f64, 0.0f64);
        let mut j = 0u64;
        loop {
            let jf = j as f64;
            let ahead = n + jf * theta; // rate at which the queue ahead shrinks
            let out = ahead + theta; // … plus own abandonment
            let advance = ahead / out;
            m = advance * (m + s / out);
            e = 1.0 / out + advance * e;
            a += s * theta / out;
            s *= advance;
            let p_not_by_t = virtual_.next(); // P(V_j > t)
            let answered_by_t = s * (1.0 - offered.next()); // P(answered, W ≤ t)
            let abandoned_by_t = (1.0 - u * p_not_by_t - answered_by_t).max(0.0);

            sum.mass += term;
            sum.abandon += term * a;
            sum.answered_by_t += term * answered_by_t;
            sum.virtual_by_t += term * (1.0 - p_not_by_t);
            sum.abandoned_by_t += term * abandoned_by_t;
            sum.wait_answered += term * m;
            sum.wait_all += term * e;

            if term > 1e200 {
                term *= 1e-200;
                sum.rescale(1e-200);
                scale += 200.0 * std::f64::consts::LN_10;
            }
            let ratio = load / (ahead + theta);
            if ratio < 1.0 && term * ratio <= 1e-17 * sum.mass * (1.0 - ratio) {
                break;
            }
            term *= ratio;
            j += 1;
            if j as f64 > 2.0 * MAX_TERMS {
                return Err(WfmError::TooLarge { terms: j as f64 });
            }
        }

        // π_n = 1 / (1/B − 1 + tail); in the tail's scale.
        let below_scaled = below * (-scale).exp();
        let norm = if below_scaled.is_finite() { 1.0 / (below_scaled + sum.mass) } else { 0.0 };
        let no_wait = if norm > 0.0 { (below_scaled * norm).min(1.0) } else { 1.0 };
        let p_wait = (sum.mass * norm).min(1.0);
        let p_abandon = (sum.abandon * norm).clamp(0.0, 1.0);
        let p_answered = 1.0 - p_abandon;
        let service_level = (no_wait + sum.answered_by_t * norm).clamp(0.0, 1.0);
        let p_abandon_by_t = (sum.abandoned_by_t * norm).clamp(0.0, p_abandon);
        let mean_wait_all = sum.wait_all * norm * aht;
        let ratio_or_zero = |x: f64, y: f64| if y > 0.0 { (x / y).clamp(0.0, 1.0) } else { 0.0 };
        Ok(ErlangAMetrics {
            agents,
            offered_load_erlangs: load,
            p_wait,
            p_abandon,
            p_abandon_within_threshold: p_abandon_by_t,
            service_level,
            service_level_answered: ratio_or_zero(service_level, p_answered),
            service_level_abandons_ignored: ratio_or_zero(service_level, 1.0 - p_abandon_by_t),
            service_level_abandons_positive: (service_level + p_abandon_by_t).min(1.0),
            service_level_virtual: (no_wait + sum.virtual_by_t * norm).clamp(0.0, 1.0),
            sl_threshold_seconds: threshold,
            mean_wait_all_seconds: mean_wait_all,
            asa_answered_seconds: if p_answered > 0.0 { sum.wait_answered * norm * aht / p_answered } else { 0.0 },
            occupancy: if n > 0.0 { (load * p_answered / n).min(1.0) } else { 0.0 },
            queue_length: load * mean_wait_all / aht,
        })
    }
}

/// Tail sums weighted by `π_{n+j}/π_n` (in a common scale).
#[derive(Default)]
struct Sums {
    mass: f64,
    abandon: f64,
    answered_by_t: f64,
    virtual_by_t: f64,
    abandoned_by_t: f64,
    wait_answered: f64,
    wait_all: f64,
}

impl Sums {
    fn rescale(&mut self, f: f64) {
        for x in [
            &mut self.mass,
            &mut self.abandon,
            &mut self.answered_by_t,
            &mut self.virtual_by_t,
            &mut self.abandoned_by_t,
            &mut self.wait_answered,
            &mut self.wait_all,
        ] {
            *x *= f;
        }
    }
}

/// The CDF `P(K ≤ 0), P(K ≤ 1), …` of a negative binomial `K` (number of
/// failures before the `r`-th success, failure probability `q`) on
/// successive calls. The first term `(1 − q)^r` may be far below the
/// smallest float, so terms are kept in a scale `e^{scale}` until they
/// grow back into range.
struct NegBinomialCdf {
    r: f64,
    q: f64,
    k: f64,
    term: f64,
    cdf: f64,
    scale: f64,
}

impl NegBinomialCdf {
    /// `ln_first` = ln P(K = 0) = r·ln(1 − q), passed in exactly.
    fn new(r: f64, ln_first: f64, q: f64) -> Self {
        let (term, scale) = if ln_first > -600.0 { (ln_first.exp(), 0.0) } else { (1.0, ln_first) };
        Self { r, q, k: 0.0, term, cdf: 0.0, scale }
    }

    fn next(&mut self) -> f64 {
        if self.k > 0.0 {
            self.term *= (self.r + self.k - 1.0) / self.k * self.q;
        }
        self.k += 1.0;
        self.cdf += self.term;
        if self.scale == 0.0 {
            return self.cdf.min(1.0);
        }
        if self.term > 1e100 {
            let shift = (-self.scale).min(100.0 * std::f64::consts::LN_10);
            let f = (-shift).exp();
            self.term *= f;
            self.cdf *= f;
            self.scale += shift;
            if self.scale > -1e-9 {
                self.scale = 0.0;
            }
        }
        if self.scale < -745.0 { 0.0 } else { (self.cdf * self.scale.exp()).min(1.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finite(m: &ErlangAMetrics) {
        for x in [
            m.p_wait,
            m.p_abandon,
            m.p_abandon_within_threshold,
            m.service_level,
            m.service_level_answered,
            m.service_level_abandons_ignored,
            m.service_level_abandons_positive,
            m.service_level_virtual,
            m.occupancy,
        ] {
            assert!((0.0..=1.0).contains(&x), "{m:?}");
        }
        for x in [m.mean_wait_all_seconds, m.asa_answered_seconds, m.queue_length] {
            assert!(x.is_finite() && x >= 0.0, "{m:?}");
        }
    }

    #[test]
    fn no_calls() {
        let m = ErlangA::new(0.0, 300.0, 60.0).unwrap().metrics(3, 20.0).unwrap();
        finite(&m);
        assert_eq!((m.p_wait, m.p_abandon, m.service_level, m.occupancy), (0.0, 0.0, 1.0, 0.0));
        let s = ErlangA::new(0.0, 300.0, 60.0).unwrap().required_agents(&Target::service_level(0.8, 20.0)).unwrap();
        assert_eq!(s.agents, 1);
    }

    #[test]
    fn far_more_agents_than_load() {
        // B(1000, 10) underflows: nobody waits.
        let m = ErlangA::new(200.0, 180.0, 60.0).unwrap().metrics(1000, 20.0).unwrap();
        finite(&m);
        assert_eq!((m.p_wait, m.service_level), (0.0, 1.0));
        assert!((m.occupancy - 0.01).abs() < 1e-15);
    }

    #[test]
    fn heavy_overload_rescales_the_tail() {
        // A = 5000 on 100 agents; the queue holds ~9800 callers and the
        // unnormalised tail terms exceed 1e308.
        let m = ErlangA::new(60_000.0, 300.0, 600.0).unwrap().metrics(100, 20.0).unwrap();
        finite(&m);
        assert!(m.p_wait > 1.0 - 1e-12, "{m:?}");
        assert!((m.p_abandon - 0.98).abs() < 1e-3, "{m:?}");
        assert!(m.occupancy > 0.999, "{m:?}");
        assert!((m.mean_wait_all_seconds - m.p_abandon * 600.0).abs() < 1e-9 * 600.0);
        // Little: queue ≈ λ·E[W] ≈ 9800.
        assert!((m.queue_length - 9800.0).abs() < 100.0, "{m:?}");
    }

    #[test]
    fn long_threshold_underflows_the_first_negative_binomial_term() {
        // e^{−(n+θ)t} = e^{−60000}: the CDF starts in a scale.
        let m = ErlangA::new(59_400.0, 60.0, 600.0).unwrap().metrics(1000, 3600.0).unwrap();
        finite(&m);
        assert!(m.service_level <= 1.0 - m.p_abandon + 1e-12);
        assert!(m.service_level > 1.0 - m.p_abandon - 1e-9, "{m:?}");
        assert!(m.service_level_virtual > 1.0 - 1e-9, "{m:?}");
    }

    #[test]
    fn zero_threshold_is_no_wait() {
        let m = ErlangA::new(200.0, 180.0, 300.0).unwrap().metrics(10, 0.0).unwrap();
        finite(&m);
        assert!((m.service_level - (1.0 - m.p_wait)).abs() < 1e-15);
        assert!((m.service_level_virtual - (1.0 - m.p_wait)).abs() < 1e-15);
        assert_eq!(m.p_abandon_within_threshold, 0.0);
    }

    #[test]
    fn bad_input() {
        assert!(ErlangA::new(-1.0, 180.0, 300.0).is_err());
        assert!(ErlangA::new(1.0, 0.0, 300.0).is_err());
        assert!(ErlangA::new(1.0, 180.0, f64::INFINITY).is_err());
        assert!(ErlangA::new(1.0, 180.0, f64::NAN).is_err());
        let q = ErlangA::new(200.0, 180.0, 300.0).unwrap();
        assert!(q.metrics(0, 20.0).is_err());
        assert!(q.metrics(10, -1.0).is_err());
    }

    #[test]
    fn hopeless_inputs_are_refused_quickly() {
        // 10⁶ Erlangs on one agent with a patience of 10⁹ AHTs.
        let q = ErlangA::new(3.6e9, 1.0, 1e9).unwrap();
        assert!(matches!(q.metrics(1, 20.0), Err(WfmError::TooLarge { .. })));
    }
}
