//! Staffing targets, the required-agents search and shrinkage.

use crate::erlang_a::ErlangAMetrics;
use crate::erlang_c::ErlangCMetrics;
use crate::error::{WfmError, non_negative, open_fraction};
use serde::{Deserialize, Serialize};

/// The largest staffing the searches try.
pub const MAX_AGENTS: u32 = 10_000_000;

/// What a staffing must achieve. Every constraint given must hold; the
/// search returns the least number of agents that meets all of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Service-level threshold T in seconds (e.g. 20 for "80/20").
    pub sl_threshold_seconds: f64,
    /// Least service level, a fraction in (0, 1): answered within T / all
    /// arrivals (the "offered" definition; for Erlang C simply P(wait ≤ T)).
    pub service_level: Option<f64>,
    /// Largest average speed of answer in seconds (ASA of answered calls;
    /// for Erlang C the mean wait of all calls, which is the same).
    pub max_asa_seconds: Option<f64>,
    /// Largest probability of abandonment, in (0, 1] (Erlang A only;
    /// Erlang C callers never abandon).
    pub max_abandon: Option<f64>,
    /// Largest agent occupancy, in (0, 1].
    pub max_occupancy: Option<f64>,
}

impl Target {
    /// "`level` of calls answered within `threshold_seconds`", e.g. `(0.8, 20.0)`.
    pub fn service_level(level: f64, threshold_seconds: f64) -> Self {
        Self { sl_threshold_seconds: threshold_seconds, service_level: Some(level), ..Self::default() }
    }

    /// Adds a cap on the average speed of answer.
    pub fn with_max_asa(mut self, seconds: f64) -> Self {
        self.max_asa_seconds = Some(seconds);
        self
    }

    /// Adds a cap on the probability of abandonment.
    pub fn with_max_abandon(mut self, probability: f64) -> Self {
        self.max_abandon = Some(probability);
        self
    }

    /// Adds a cap on occupancy.
    pub fn with_max_occupancy(mut self, occupancy: f64) -> Self {
        self.max_occupancy = Some(occupancy);
        self
    }

    /// Checks the values.
    pub(crate) fn validated(&self) -> Result<Self, WfmError> {
        non_negative("service-level threshold", self.sl_threshold_seconds)?;
        if let Some(v) = self.service_level {
            open_fraction("target service level", v)?;
        }
        if let Some(v) = self.max_asa_seconds
            && !(v.is_finite() && v > 0.0)
        {
            return Err(WfmError::InvalidInput {
                name: "max ASA",
                requirement: "a finite number of seconds greater than 0",
                value: v,
            });
        }
        for (name, v) in [("max abandonment", self.max_abandon), ("max occupancy", self.max_occupancy)] {
            if let Some(v) = v
                && !(v > 0.0 && v <= 1.0)
            {
                return Err(WfmError::InvalidInput { name, requirement: "a fraction in (0, 1]", value: v });
            }
        }
        Ok(*self)
    }

    fn holds(&self, service_level: f64, asa: f64, abandon: f64, occupancy: f64) -> bool {
        self.service_level.is_none_or(|t| service_level >= t)
            && self.max_asa_seconds.is_none_or(|t| asa <= t)
            && self.max_abandon.is_none_or(|t| abandon <= t)
            && self.max_occupancy.is_none_or(|t| occupancy <= t)
    }

    /// Whether an Erlang C staffing meets the target.
    pub fn met_by_c(&self, m: &ErlangCMetrics) -> bool {
        self.holds(m.service_level, m.asa_seconds, 0.0, m.occupancy)
    }

    /// Whether an Erlang A staffing meets the target.
    pub fn met_by_a(&self, m: &ErlangAMetrics) -> bool {
        self.holds(m.service_level, m.asa_answered_seconds, m.p_abandon, m.occupancy)
    }

    /// A valid lower bound on the agents needed for Erlang A with offered
    /// load `load`: the fraction answered is at most `n/A`, and the service
    /// level (offered) is at most the fraction answered.
    pub(crate) fn erlang_a_lower_bound(&self, load: f64) -> u32 {
        let mut answered = 0.0f64;
        if let Some(sl) = self.service_level {
            answered = answered.max(sl);
        }
        if let Some(ab) = self.max_abandon {
            answered = answered.max(1.0 - ab);
        }
        // Guard against rounding making the bound one too high.
        let bound = (load * answered * (1.0 - 1e-12)).ceil();
        if bound >= f64::from(MAX_AGENTS) { MAX_AGENTS } else { (bound as u32).max(1) }
    }
}

/// A staffing found by a required-agents search, with its figures.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Staffing<M> {
    /// Agents needed on the phones.
    pub agents: u32,
    /// The queue's figures with that many agents.
    pub metrics: M,
}

/// Agents to schedule so that `required` remain after `shrinkage` (the
/// fraction of paid time unavailable for calls: breaks, training,
/// absence): `⌈required / (1 − shrinkage)⌉`.
///
/// ```
/// assert_eq!(wfm::scheduled_agents(14, 0.3).unwrap(), 20);
/// assert_eq!(wfm::scheduled_agents(14, 0.0).unwrap(), 14);
/// ```
pub fn scheduled_agents(required: u32, shrinkage: f64) -> Result<u32, WfmError> {
    if !(0.0..1.0).contains(&shrinkage) {
        return Err(WfmError::InvalidInput {
            name: "shrinkage",
            requirement: "a fraction of at least 0 and less than 1",
            value: shrinkage,
        });
    }
    let x = f64::from(required) / (1.0 - shrinkage);
    // 14 / (1 − 0.3) is 20.000000000000004 in floating point: a value this
    // close to a whole number is that number.
    let nearest = x.round();
    let scheduled = if (x - nearest).abs() <= 1e-9 * nearest.max(1.0) { nearest } else { x.ceil() };
    if scheduled > f64::from(u32::MAX) {
        return Err(WfmError::Unattainable { max_agents: u32::MAX });
    }
    Ok(scheduled as u32)
}

/// The least `n` in `lo..=MAX_AGENTS` with `meets(n)`, for a predicate that
/// is false below some `n*` and true from there on, and false below `lo`.
/// Starts at `start` and gallops down or up, then bisects: a handful of
/// evaluations near the answer.
pub(crate) fn least_meeting(
    lo: u32,
    start: u32,
    mut meets: impl FnMut(u32) -> Result<bool, WfmError>,
) -> Result<u32, WfmError> {
    let lo = lo.clamp(1, MAX_AGENTS);
    let start = start.clamp(lo, MAX_AGENTS);
    // Invariant once found: `fail < pass`, meets(pass), !meets(fail) (or fail < lo).
    let (mut fail, mut pass);
    if meets(start)? {
        pass = start;
        let mut step = 1u32;
        loop {
            if pass == lo {
                return Ok(pass);
            }
            let candidate = pass.saturating_sub(step).max(lo);
            if meets(candidate)? {
                pass = candidate;
                step = step.saturating_mul(2);
            } else {
                fail = candidate;
                break;
            }
        }
    } else {
        fail = start;
        let mut step = 1u32;
        loop {
            if fail >= MAX_AGENTS {
                return Err(WfmError::Unattainable { max_agents: MAX_AGENTS });
            }
            let candidate = fail.saturating_add(step).min(MAX_AGENTS);
            if meets(candidate)? {
                pass = candidate;
                break;
            }
            fail = candidate;
            step = step.saturating_mul(2);
        }
    }
    while pass - fail > 1 {
        let mid = fail + (pass - fail) / 2;
        if meets(mid)? {
            pass = mid;
        } else {
            fail = mid;
        }
    }
    Ok(pass)
}

/// One interval of a staffing plan's input: the forecast.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanInput {
    /// Contacts offered in the interval (may be fractional).
    pub offered: f64,
    /// Mean handle time, seconds.
    pub aht_seconds: f64,
}

/// How to staff each interval of a [`staffing_plan`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanSettings {
    /// Interval length in minutes (the forecast's).
    pub interval_minutes: u32,
    /// What each interval must achieve.
    pub target: Target,
    /// Mean patience in seconds: Erlang A; `None`: Erlang C.
    pub patience_seconds: Option<f64>,
    /// Shrinkage for scheduled agents, in [0, 1).
    pub shrinkage: f64,
}

/// One interval of a staffing plan.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedInterval {
    /// Contacts offered.
    pub offered: f64,
    /// Mean handle time, seconds.
    pub aht_seconds: f64,
    /// Offered load in Erlangs (offered × AHT / interval length).
    pub offered_load_erlangs: f64,
    /// Least agents on the phones that meet the target (0 without volume).
    pub required_agents: u32,
    /// Agents to schedule: required / (1 − shrinkage), rounded up.
    pub scheduled_agents: u32,
    /// Service level with the required agents (1 without volume).
    pub service_level: f64,
    /// ASA of answered calls with the required agents, seconds.
    pub asa_seconds: f64,
    /// Occupancy with the required agents.
    pub occupancy: f64,
    /// Probability of abandonment (Erlang A; 0 for Erlang C).
    pub p_abandon: f64,
}

/// A staffing plan: each interval and the totals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffingPlan {
    /// The intervals, in the order given.
    pub intervals: Vec<PlannedInterval>,
    /// Σ offered.
    pub offered: f64,
    /// Σ offered × AHT, in hours.
    pub workload_hours: f64,
    /// Σ required agents × interval length, in hours.
    pub required_agent_hours: f64,
    /// Σ scheduled agents × interval length, in hours.
    pub scheduled_agent_hours: f64,
    /// The largest required staffing of any interval.
    pub peak_required_agents: u32,
    /// The largest scheduled staffing of any interval.
    pub peak_scheduled_agents: u32,
    /// Service level over the plan: Σ offered × SL / Σ offered.
    pub service_level: f64,
}

/// Staffs every interval of a forecast: the least agents meeting
/// `settings.target` by Erlang C (or Erlang A with a patience), then
/// scheduled agents with shrinkage. An interval with no volume needs 0.
///
/// ```
/// use wfm::{PlanInput, PlanSettings, Target, staffing_plan};
/// let settings = PlanSettings {
///     interval_minutes: 30,
///     target: Target::service_level(0.8, 20.0),
///     patience_seconds: None,
///     shrinkage: 0.3,
/// };
/// // 100 calls in 30 minutes = 200 calls/h, AHT 180 s: 14 agents (vector C1).
/// let inputs = [PlanInput { offered: 100.0, aht_seconds: 180.0 }, PlanInput { offered: 0.0, aht_seconds: 0.0 }];
/// let plan = staffing_plan(&inputs, &settings).unwrap();
/// assert_eq!(plan.intervals[0].required_agents, 14);
/// assert_eq!(plan.intervals[0].scheduled_agents, 20);
/// assert_eq!(plan.intervals[1].required_agents, 0);
/// assert_eq!(plan.required_agent_hours, 7.0);
/// ```
pub fn staffing_plan(inputs: &[PlanInput], settings: &PlanSettings) -> Result<StaffingPlan, WfmError> {
    if settings.interval_minutes == 0 || settings.interval_minutes > 1440 {
        return Err(WfmError::InvalidInput {
            name: "interval length",
            requirement: "1 to 1440 minutes",
            value: f64::from(settings.interval_minutes),
        });
    }
    let target = settings.target.validated()?;
    let hours = f64::from(settings.interval_minutes) / 60.0;
    let mut plan = StaffingPlan {
        intervals: Vec::with_capacity(inputs.len()),
        offered: 0.0,
        workload_hours: 0.0,
        required_agent_hours: 0.0,
        scheduled_agent_hours: 0.0,
        peak_required_agents: 0,
        peak_scheduled_agents: 0,
        service_level: 1.0,
    };
    let mut answered_in_time = 0.0;
    for input in inputs {
        let offered = non_negative("offered", input.offered)?;
        let row = if offered == 0.0 {
            PlannedInterval {
                offered,
                aht_seconds: input.aht_seconds,
                offered_load_erlangs: 0.0,
                required_agents: 0,
                scheduled_agents: 0,
                service_level: 1.0,
                asa_seconds: 0.0,
                occupancy: 0.0,
                p_abandon: 0.0,
            }
        } else {
            let calls_per_hour = offered / hours;
            let (agents, service_level, asa_seconds, occupancy, p_abandon, load) = match settings.patience_seconds {
                None => {
                    let q = crate::ErlangC::new(calls_per_hour, input.aht_seconds)?;
                    let s = q.required_agents(&target)?;
                    let m = s.metrics;
                    (s.agents, m.service_level, m.asa_seconds, m.occupancy, 0.0, q.offered_load())
                }
                Some(patience) => {
                    let q = crate::ErlangA::new(calls_per_hour, input.aht_seconds, patience)?;
                    let s = q.required_agents(&target)?;
                    let m = s.metrics;
                    (s.agents, m.service_level, m.asa_answered_seconds, m.occupancy, m.p_abandon, q.offered_load())
                }
            };
            PlannedInterval {
                offered,
                aht_seconds: input.aht_seconds,
                offered_load_erlangs: load,
                required_agents: agents,
                scheduled_agents: scheduled_agents(agents, settings.shrinkage)?,
                service_level,
                asa_seconds,
                occupancy,
                p_abandon,
            }
        };
        plan.offered += offered;
        plan.workload_hours += offered * row.aht_seconds / 3600.0;
        plan.required_agent_hours += f64::from(row.required_agents) * hours;
        plan.scheduled_agent_hours += f64::from(row.scheduled_agents) * hours;
        plan.peak_required_agents = plan.peak_required_agents.max(row.required_agents);
        plan.peak_scheduled_agents = plan.peak_scheduled_agents.max(row.scheduled_agents);
        answered_in_time += offered * row.service_level;
        plan.intervals.push(row);
    }
    // Shrinkage is checked even for a plan without volume.
    scheduled_agents(0, settings.shrinkage)?;
    if plan.offered > 0.0 {
        plan.service_level = answered_in_time / plan.offered;
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_meeting_finds_the_threshold_from_any_start() {
        for threshold in [1u32, 2, 3, 7, 100, 475, 1000, 4097] {
            for lo in [1u32, 2, threshold.saturating_sub(3).max(1), threshold] {
                if lo > threshold {
                    continue; // the contract: nothing below `lo` meets
                }
                for start in [1u32, lo, threshold - 1, threshold, threshold + 1, 2 * threshold + 5, 10_000] {
                    let mut calls = 0;
                    let got = least_meeting(lo, start, |n| {
                        calls += 1;
                        Ok(n >= threshold)
                    })
                    .unwrap();
                    assert_eq!(got, threshold, "lo {lo} start {start}");
                    assert!(calls < 60, "{calls} evaluations");
                }
            }
        }
    }

    #[test]
    fn least_meeting_reports_unattainable() {
        assert_eq!(least_meeting(1, 5, |_| Ok(false)), Err(WfmError::Unattainable { max_agents: MAX_AGENTS }));
    }

    #[test]
    fn shrinkage_rounds_up_but_not_on_float_noise() {
        assert_eq!(scheduled_agents(14, 0.3), Ok(20));
        assert_eq!(scheduled_agents(15, 0.3), Ok(22));
        assert_eq!(scheduled_agents(475, 0.25), Ok(634));
        assert_eq!(scheduled_agents(0, 0.5), Ok(0));
        assert!(scheduled_agents(10, 1.0).is_err());
        assert!(scheduled_agents(10, -0.1).is_err());
        assert!(scheduled_agents(10, f64::NAN).is_err());
    }

    #[test]
    fn target_validation() {
        assert!(Target::service_level(1.0, 20.0).validated().is_err());
        assert!(Target::service_level(0.0, 20.0).validated().is_err());
        assert!(Target::service_level(0.8, -1.0).validated().is_err());
        assert!(Target::service_level(0.8, 20.0).with_max_occupancy(1.5).validated().is_err());
        assert!(Target::service_level(0.8, 20.0).with_max_asa(0.0).validated().is_err());
        assert!(Target::service_level(0.8, 20.0).with_max_abandon(0.05).validated().is_ok());
    }

    #[test]
    fn erlang_a_lower_bound_is_below_the_answer() {
        let t = Target::service_level(0.8, 20.0);
        assert_eq!(t.erlang_a_lower_bound(500.0), 400);
        assert_eq!(t.with_max_abandon(0.05).erlang_a_lower_bound(500.0), 475);
        assert_eq!(Target::default().erlang_a_lower_bound(500.0), 1);
    }

    fn settings(patience: Option<f64>) -> PlanSettings {
        PlanSettings {
            interval_minutes: 30,
            target: Target::service_level(0.8, 20.0),
            patience_seconds: patience,
            shrinkage: 0.25,
        }
    }

    #[test]
    fn plan_uses_the_required_agents_searches() {
        let inputs: Vec<PlanInput> = [0.0, 0.4, 100.0, 3000.0]
            .iter()
            .map(|&offered| PlanInput { offered, aht_seconds: if offered > 0.0 { 300.0 } else { 0.0 } })
            .collect();
        let t = Target::service_level(0.8, 20.0);
        let c = staffing_plan(&inputs, &settings(None)).unwrap();
        let a = staffing_plan(&inputs, &settings(Some(180.0))).unwrap();
        assert_eq!(c.intervals[0].required_agents, 0);
        assert_eq!(c.intervals[0].scheduled_agents, 0);
        assert_eq!(c.intervals[1].required_agents, 1, "a trickle still needs someone");
        for (i, input) in inputs.iter().enumerate().skip(1) {
            let cph = input.offered * 2.0;
            let want_c = crate::ErlangC::new(cph, 300.0).unwrap().required_agents(&t).unwrap().agents;
            let want_a = crate::ErlangA::new(cph, 300.0, 180.0).unwrap().required_agents(&t).unwrap().agents;
            assert_eq!(c.intervals[i].required_agents, want_c);
            assert_eq!(a.intervals[i].required_agents, want_a);
            assert_eq!(c.intervals[i].scheduled_agents, scheduled_agents(want_c, 0.25).unwrap());
            assert!(c.intervals[i].service_level >= 0.8);
        }
        // 3000 calls in 30 minutes = 6000/h at 300 s: vectors C/A6 (513 and 475 agents).
        assert_eq!(c.intervals[3].required_agents, 513);
        assert_eq!(a.intervals[3].required_agents, 475);
        assert!(a.intervals[3].p_abandon > 0.0);
        let hours: u32 = c.intervals.iter().map(|r| r.required_agents).sum();
        assert!((c.required_agent_hours - f64::from(hours) / 2.0).abs() < 1e-9);
        assert_eq!(c.peak_required_agents, 513);
        assert_eq!(c.peak_scheduled_agents, 684);
        assert!((c.workload_hours - 3100.4 * 300.0 / 3600.0).abs() < 1e-9);
    }

    #[test]
    fn plan_occupancy_cap_and_bad_input() {
        let inputs = [PlanInput { offered: 3000.0, aht_seconds: 300.0 }];
        let mut s = settings(None);
        s.target = s.target.with_max_occupancy(0.85);
        let p = staffing_plan(&inputs, &s).unwrap();
        assert!(p.intervals[0].occupancy <= 0.85);
        assert_eq!(p.intervals[0].required_agents, 589); // ⌈500 / 0.85⌉
        assert!(staffing_plan(&[PlanInput { offered: -1.0, aht_seconds: 300.0 }], &s).is_err());
        assert!(staffing_plan(&[PlanInput { offered: 1.0, aht_seconds: 0.0 }], &s).is_err());
        s.shrinkage = 1.0;
        assert!(staffing_plan(&[], &s).is_err());
    }
}
