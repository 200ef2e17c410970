//! Erlang C (M/M/n, callers never abandon).

use crate::erlang_b::{erlang_b_fractional, erlang_b_unchecked, next_erlang_b};
use crate::error::{WfmError, non_negative, positive};
use crate::staffing::{MAX_AGENTS, Staffing, Target};
use serde::{Deserialize, Serialize};

/// Erlang C probability of waiting `C(n, A) = n·B / (n − A·(1 − B))` with
/// `B = B(n, A)`. Fails with [`WfmError::Unstable`] when `A ≥ n`.
///
/// ```
/// let c = wfm::erlang_c(13, 10.0).unwrap();
/// assert!((c - 0.285270).abs() < 1e-6);
/// assert!(wfm::erlang_c(10, 10.0).is_err());
/// ```
pub fn erlang_c(agents: u32, load: f64) -> Result<f64, WfmError> {
    let load = non_negative("offered load", load)?;
    let n = f64::from(agents);
    check_stable(n, load)?;
    Ok(c_from_b(n, load, erlang_b_unchecked(agents, load)))
}

/// [`erlang_c`] for a real number of agents (continuous extension of
/// Erlang B through the incomplete gamma function).
pub fn erlang_c_fractional(agents: f64, load: f64) -> Result<f64, WfmError> {
    let b = erlang_b_fractional(agents, load)?;
    check_stable(agents, load)?;
    Ok(c_from_b(agents, load, b))
}

fn check_stable(n: f64, load: f64) -> Result<(), WfmError> {
    if n <= load || n == 0.0 { Err(WfmError::Unstable { load, agents: n }) } else { Ok(()) }
}

fn c_from_b(n: f64, load: f64, b: f64) -> f64 {
    (n * b / (n - load * (1.0 - b))).min(1.0)
}

/// An Erlang C queue: Poisson arrivals, exponential handle times, no
/// abandonment.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErlangC {
    calls_per_hour: f64,
    aht_seconds: f64,
}

/// Steady-state figures of an Erlang C queue with a given staffing.
///
/// Every caller is eventually answered, so the mean wait over all calls
/// and the ASA of answered calls are the same number, `asa_seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErlangCMetrics {
    /// Agents (may be fractional with [`ErlangC::metrics_fractional`]).
    pub agents: f64,
    /// Offered load A = λ·AHT in Erlangs.
    pub offered_load_erlangs: f64,
    /// Probability that a caller waits at all, `C(n, A)`.
    pub p_wait: f64,
    /// Service level at the threshold: P(wait ≤ T) = `1 − C·e^{−(n−A)T/AHT}`.
    pub service_level: f64,
    /// The threshold T of `service_level`, seconds.
    pub sl_threshold_seconds: f64,
    /// Average speed of answer = mean wait over all calls (zero waits
    /// included), `C·AHT/(n − A)`, seconds.
    pub asa_seconds: f64,
    /// Mean wait of the callers who wait at all, `AHT/(n − A)`, seconds.
    pub mean_wait_delayed_seconds: f64,
    /// Agent occupancy `A/n`.
    pub occupancy: f64,
    /// Mean number of callers waiting, `C·A/(n − A)`.
    pub queue_length: f64,
}

impl ErlangC {
    /// A queue with `calls_per_hour` Poisson arrivals and a mean handle time
    /// of `aht_seconds` (talk, hold and after-call work).
    pub fn new(calls_per_hour: f64, aht_seconds: f64) -> Result<Self, WfmError> {
        Ok(Self {
            calls_per_hour: non_negative("calls per hour", calls_per_hour)?,
            aht_seconds: positive("AHT", aht_seconds)?,
        })
    }

    /// Offered load A = λ·AHT in Erlangs.
    pub fn offered_load(&self) -> f64 {
        self.calls_per_hour * self.aht_seconds / 3600.0
    }

    /// The figures with `agents` agents and a service-level threshold of
    /// `sl_threshold_seconds`. [`WfmError::Unstable`] if `agents ≤ A`.
    ///
    /// ```
    /// // 200 calls/h, AHT 180 s, 13 agents, 80/20 (vector C1).
    /// let m = wfm::ErlangC::new(200.0, 180.0).unwrap().metrics(13, 20.0).unwrap();
    /// assert!((m.service_level - 0.795595).abs() < 1e-6);
    /// assert!((m.asa_seconds - 17.1162).abs() < 1e-4);
    /// ```
    pub fn metrics(&self, agents: u32, sl_threshold_seconds: f64) -> Result<ErlangCMetrics, WfmError> {
        let threshold = non_negative("service-level threshold", sl_threshold_seconds)?;
        if agents == 0 {
            return Err(WfmError::InvalidInput { name: "agents", requirement: "at least 1", value: 0.0 });
        }
        let load = self.offered_load();
        let n = f64::from(agents);
        check_stable(n, load)?;
        Ok(self.with_blocking(n, erlang_b_unchecked(agents, load), threshold))
    }

    /// [`ErlangC::metrics`] for a real number of agents (for planning
    /// before rounding; see [`erlang_b_fractional`]).
    pub fn metrics_fractional(&self, agents: f64, sl_threshold_seconds: f64) -> Result<ErlangCMetrics, WfmError> {
        let threshold = non_negative("service-level threshold", sl_threshold_seconds)?;
        let n = positive("agents", agents)?;
        let load = self.offered_load();
        let b = erlang_b_fractional(n, load)?;
        check_stable(n, load)?;
        Ok(self.with_blocking(n, b, threshold))
    }

    /// Figures from `B(n, A)`; `n > A` holds.
    fn with_blocking(&self, n: f64, b: f64, threshold: f64) -> ErlangCMetrics {
        let load = self.offered_load();
        let aht = self.aht_seconds;
        let c = c_from_b(n, load, b);
        let spare = n - load;
        ErlangCMetrics {
            agents: n,
            offered_load_erlangs: load,
            p_wait: c,
            service_level: (1.0 - c * (-spare * threshold / aht).exp()).clamp(0.0, 1.0),
            sl_threshold_seconds: threshold,
            asa_seconds: c * aht / spare,
            mean_wait_delayed_seconds: aht / spare,
            occupancy: load / n,
            queue_length: c * load / spare,
        }
    }

    /// The least number of agents meeting `target`, searched upward from
    /// ⌊A⌋ + 1 (the least stable staffing), with the figures at that
    /// staffing. `target.max_abandon` is always met (nobody abandons).
    ///
    /// ```
    /// let q = wfm::ErlangC::new(200.0, 180.0).unwrap();
    /// let s = q.required_agents(&wfm::Target::service_level(0.8, 20.0)).unwrap();
    /// assert_eq!(s.agents, 14);
    /// ```
    pub fn required_agents(&self, target: &Target) -> Result<Staffing<ErlangCMetrics>, WfmError> {
        let target = target.validated()?;
        let load = self.offered_load();
        let first = (load.floor() + 1.0).max(1.0);
        if first > f64::from(MAX_AGENTS) {
            return Err(WfmError::Unattainable { max_agents: MAX_AGENTS });
        }
        // `first` is a whole number in 1..=MAX_AGENTS.
        let mut agents = first as u32;
        let mut b = erlang_b_unchecked(agents, load);
        loop {
            let m = self.with_blocking(f64::from(agents), b, target.sl_threshold_seconds);
            if target.met_by_c(&m) {
                return Ok(Staffing { agents, metrics: m });
            }
            if agents >= MAX_AGENTS {
                return Err(WfmError::Unattainable { max_agents: MAX_AGENTS });
            }
            agents += 1;
            b = next_erlang_b(b, f64::from(agents), load);
        }
    }
}
