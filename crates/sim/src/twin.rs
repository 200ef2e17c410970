//! The digital twin: tomorrow's demand (a forecast per queue and interval)
//! and staffing (a shift schedule or a staffing plan) run on a routing
//! scenario — its queues, routing steps and agent skill groups — through
//! the real engine.
//!
//! [`day_scenario`] turns a routing [`Scenario`], a [`Day`] and a
//! [`WhatIf`] into an ordinary scenario of that day:
//!
//! * **Arrivals**: for each forecast queue, a non-homogeneous Poisson
//!   stream with the forecast's rate per interval (`profile`) and its AHT per
//!   interval (`aht_profile`). The scenario's first `[[arrivals]]` entry of
//!   that queue, if any, gives everything else (patience, distributions,
//!   segments, callbacks); the scenario's own rates are replaced.
//! * **Agents**: staffing comes as [`Presence`] spans: "so many agents of
//!   this pool work from … to …". A pool is every agent group
//!   ([`Pool::All`], a schedule) or the groups whose *first* queue is a
//!   given queue ([`Pool::Queue`], a staffing plan per queue). At every
//!   moment the pool's headcount is split among its groups in proportion to
//!   their `count` in the scenario (largest remainder), so `count` is the
//!   skill mix. Each group then gets one list of shifts per agent
//!   (`agent_shifts`): agent k works whenever the group's headcount is at
//!   least k. Agents still on duty at closing time stay up to
//!   [`CLOSING_DRAIN_MS`] longer to answer callers still waiting.
//! * **What-ifs**: shrinkage, extra or fewer agents (in total, or per
//!   group), AHT and volume factors.
//!
//! [`interval_estimates`] gives per interval the mean and 95 % half-width
//! over replications of service level, ASA, abandonment and occupancy.

use crate::report::Estimate;
use crate::scenario::{ArrivalSpec, Scenario, ShiftSpec};
use crate::{SimOutcome, clock};
use serde::Serialize;
use std::collections::BTreeMap;
use thiserror::Error;

/// Agents on duty at closing time stay this much longer (ms) to answer the
/// callers still waiting.
pub const CLOSING_DRAIN_MS: u64 = 30 * 60_000;

/// Demand of one queue over the day.
#[derive(Clone, Debug, PartialEq)]
pub struct Demand {
    /// Queue name (must be a queue of the scenario).
    pub queue: String,
    /// Contacts offered in each interval of the day.
    pub offered: Vec<f64>,
    /// Mean handle time in each interval, seconds (0 where nothing is
    /// offered is allowed).
    pub aht_seconds: Vec<f64>,
}

/// Whose agents a [`Presence`] counts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pool {
    /// Every agent group of the scenario (a shift schedule).
    All,
    /// The groups whose first queue is this one (a staffing plan per queue).
    Queue(String),
}

/// `agents` agents of `pool` work over `[start_ms, end_ms)` (ms since
/// 00:00 of the day).
#[derive(Clone, Debug, PartialEq)]
pub struct Presence {
    /// The pool.
    pub pool: Pool,
    /// Start.
    pub start_ms: u64,
    /// End.
    pub end_ms: u64,
    /// Number of agents (added up where spans overlap).
    pub agents: f64,
}

/// One day to simulate.
#[derive(Clone, Debug, PartialEq)]
pub struct Day {
    /// Start of the first interval, ms since 00:00.
    pub start_ms: u64,
    /// Interval length, ms (a whole number of minutes).
    pub interval_ms: u64,
    /// Number of intervals.
    pub intervals: usize,
    /// Demand per queue.
    pub demand: Vec<Demand>,
    /// Staffing.
    pub presence: Vec<Presence>,
}

impl Day {
    /// End of the last interval.
    pub fn end_ms(&self) -> u64 {
        self.start_ms + self.intervals as u64 * self.interval_ms
    }
}

/// What-if changes to the day.
#[derive(Clone, Debug, PartialEq)]
pub struct WhatIf {
    /// Share of staffed agents not on the phones (0 ≤ s < 1): headcount
    /// becomes round(headcount × (1 − s)).
    pub shrinkage: f64,
    /// Agents added (negative: removed) for the whole day, split among all
    /// groups in proportion to their counts.
    pub add_agents: i64,
    /// Agents added (negative: removed) to one group for the whole day.
    pub group_deltas: Vec<(String, i64)>,
    /// Multiplies every AHT.
    pub aht_factor: f64,
    /// Multiplies every interval's volume.
    pub volume_factor: f64,
    /// Mean patience (seconds) of every caller, replacing the scenario's.
    pub patience_seconds: Option<f64>,
}

impl Default for WhatIf {
    fn default() -> Self {
        WhatIf {
            shrinkage: 0.0,
            add_agents: 0,
            group_deltas: Vec::new(),
            aht_factor: 1.0,
            volume_factor: 1.0,
            patience_seconds: None,
        }
    }
}

/// Why a day cannot be built.
#[derive(Debug, Error, PartialEq)]
pub enum TwinError {
    /// A forecast or staffing queue is not in the scenario.
    #[error("queue \"{queue}\" is not in the routing scenario (its queues: {known})")]
    UnknownQueue {
        /// The name.
        queue: String,
        /// The scenario's queues.
        known: String,
    },
    /// Staffing for a queue that is no group's first queue.
    #[error(
        "the staffing plan staffs queue \"{0}\" but no agent group of the scenario has it as its first queue \
         (the plan's agents of a queue go to the groups whose first queue it is)"
    )]
    NoGroupForQueue(String),
    /// A per-group delta names an unknown group.
    #[error("no agent group \"{group}\" in the routing scenario (its groups: {known})")]
    UnknownGroup {
        /// The name.
        group: String,
        /// The scenario's groups.
        known: String,
    },
    /// Something else is inconsistent; the message says what.
    #[error("{0}")]
    Invalid(String),
}

/// Splits `n` in proportion to `weights` (largest remainder, ties to the
/// first); the parts add up to `n`. Zero weights everywhere: equal parts.
pub fn apportion(n: i64, weights: &[f64]) -> Vec<i64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let total: f64 = weights.iter().sum();
    let w: Vec<f64> = if total > 0.0 { weights.to_vec() } else { vec![1.0; weights.len()] };
    let total: f64 = w.iter().sum();
    let magnitude = n.unsigned_abs() as f64;
    let exact: Vec<f64> = w.iter().map(|x| magnitude * x / total).collect();
    let mut parts: Vec<i64> = exact.iter().map(|x| x.floor() as i64).collect();
    let mut left = n.abs() - parts.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..w.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    for &i in order.iter().cycle() {
        if left <= 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    if n < 0 {
        parts.iter_mut().for_each(|p| *p = -*p);
    }
    parts
}

/// A piecewise-constant headcount: `(start, end, agents)` segments, sorted,
/// not overlapping.
type Steps = Vec<(u64, u64, i64)>;

/// The segments of the sum of `spans` over `[from, to)`, with every given
/// breakpoint (zero where nothing covers).
fn step_sum(spans: &[(u64, u64, f64)], from: u64, to: u64) -> Vec<(u64, u64, f64)> {
    let mut points: Vec<u64> = vec![from, to];
    for &(a, b, _) in spans {
        points.push(a.clamp(from, to));
        points.push(b.clamp(from, to));
    }
    points.sort_unstable();
    points.dedup();
    points
        .windows(2)
        .map(|w| {
            let v = spans.iter().filter(|(a, b, _)| *a <= w[0] && *b >= w[1]).map(|s| s.2).sum();
            (w[0], w[1], v)
        })
        .collect()
}

/// Agent k (from 1) works where `steps` is at least k: one list of spans
/// per agent, adjacent spans merged.
fn stack(steps: &Steps, extend_closing: Option<(u64, u64)>) -> Vec<Vec<(u64, u64)>> {
    let max = steps.iter().map(|s| s.2).max().unwrap_or(0).max(0);
    (1..=max)
        .map(|k| {
            let mut spans: Vec<(u64, u64)> = Vec::new();
            for &(a, b, n) in steps {
                if n < k {
                    continue;
                }
                match spans.last_mut() {
                    Some(last) if last.1 == a => last.1 = b,
                    _ => spans.push((a, b)),
                }
            }
            if let (Some((end, extra)), Some(last)) = (extend_closing, spans.last_mut())
                && last.1 == end
            {
                last.1 = end + extra;
            }
            spans
        })
        .collect()
}

fn names<'a>(it: impl Iterator<Item = &'a String>) -> String {
    it.map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
}

/// The scenario of one day: the routing scenario with the day's arrivals
/// and staffing (see the module doc). The scenario's `[simulation]` keeps
/// its seed, replications, thresholds and drain; the run is the day's
/// intervals, without warm-up.
pub fn day_scenario(routing: &Scenario, day: &Day, what_if: &WhatIf) -> Result<Scenario, TwinError> {
    let mut s = routing.clone();
    if day.intervals == 0 || day.interval_ms == 0 || !day.interval_ms.is_multiple_of(60_000) {
        return Err(TwinError::Invalid("the day has no intervals (or they are not whole minutes)".into()));
    }
    for (what, f) in [("AHT factor", what_if.aht_factor), ("volume factor", what_if.volume_factor)] {
        if !f.is_finite() || f <= 0.0 {
            return Err(TwinError::Invalid(format!("the {what} must be positive, not {f}")));
        }
    }
    if !(0.0..1.0).contains(&what_if.shrinkage) {
        return Err(TwinError::Invalid(format!("shrinkage must be at least 0 and below 1, not {}", what_if.shrinkage)));
    }
    let (start, end) = (day.start_ms, day.end_ms());
    let sim = &mut s.simulation;
    sim.hours = None;
    sim.start = Some(clock(start));
    sim.end = Some(clock(end));
    sim.interval_minutes = (day.interval_ms / 60_000) as i64;
    sim.warm_up_minutes = 0.0;

    let known_queues = || names(routing.queues.iter().map(|q| &q.name));
    let has_queue = |q: &str| routing.queues.iter().any(|x| x.name == q);

    // --- arrivals
    let mut arrivals = Vec::new();
    for d in &day.demand {
        if !has_queue(&d.queue) {
            return Err(TwinError::UnknownQueue { queue: d.queue.clone(), known: known_queues() });
        }
        if d.offered.len() != day.intervals || d.aht_seconds.len() != day.intervals {
            return Err(TwinError::Invalid(format!(
                "queue \"{}\": {} volumes and {} AHTs for {} intervals",
                d.queue,
                d.offered.len(),
                d.aht_seconds.len(),
                day.intervals
            )));
        }
        if let Some((k, v)) =
            d.offered.iter().chain(&d.aht_seconds).enumerate().find(|(_, v)| !v.is_finite() || **v < 0.0)
        {
            return Err(TwinError::Invalid(format!(
                "queue \"{}\": value {v} at position {k} must be a finite number, 0 or more",
                d.queue
            )));
        }
        let work: f64 = d.offered.iter().zip(&d.aht_seconds).map(|(o, a)| o * a).sum();
        let calls: f64 = d.offered.iter().sum();
        let template = routing.arrivals.iter().find(|a| a.queue == d.queue);
        let fallback = template.map_or(300.0, |t| t.aht_seconds);
        let mean_aht = if calls > 0.0 && work > 0.0 { work / calls } else { fallback };
        let mut a = template.cloned().unwrap_or_else(|| ArrivalSpec::new(d.queue.clone(), 0.0, mean_aht));
        let per_hour = 3_600_000.0 / day.interval_ms as f64;
        a.calls_per_hour = None;
        a.profile = Some(d.offered.iter().map(|o| o * per_hour * what_if.volume_factor).collect());
        a.aht_seconds = mean_aht * what_if.aht_factor;
        a.aht_profile =
            Some(d.aht_seconds.iter().map(|&x| if x > 0.0 { x } else { mean_aht } * what_if.aht_factor).collect());
        if what_if.patience_seconds.is_some() {
            a.patience_seconds = what_if.patience_seconds;
        }
        arrivals.push(a);
    }
    s.arrivals = arrivals;

    // --- staffing: per pool, the headcount over time, split among groups.
    let groups = &routing.agents;
    if groups.is_empty() {
        return Err(TwinError::Invalid("the routing scenario has no agent groups to staff".into()));
    }
    let weights: Vec<f64> = groups.iter().map(|g| g.count.max(0) as f64).collect();
    let mut pools: BTreeMap<&Pool, Vec<(u64, u64, f64)>> = BTreeMap::new();
    for p in &day.presence {
        if !p.agents.is_finite() || p.agents < 0.0 {
            return Err(TwinError::Invalid(format!("{} agents: must be a finite number, 0 or more", p.agents)));
        }
        let spans = pools.entry(&p.pool).or_default();
        if p.end_ms > p.start_ms {
            spans.push((p.start_ms, p.end_ms, p.agents));
        }
    }
    // Per group, its share of each pool's segments.
    let mut per_group: Vec<Vec<(u64, u64, f64)>> = vec![Vec::new(); groups.len()];
    for (pool, spans) in pools {
        let members: Vec<usize> = match pool {
            Pool::All => (0..groups.len()).collect(),
            Pool::Queue(q) => {
                if !has_queue(q) {
                    return Err(TwinError::UnknownQueue { queue: q.clone(), known: known_queues() });
                }
                let m: Vec<usize> =
                    (0..groups.len()).filter(|&i| groups[i].queues.first().is_some_and(|m| m.queue() == q)).collect();
                if m.is_empty() {
                    return Err(TwinError::NoGroupForQueue(q.clone()));
                }
                m
            }
        };
        let w: Vec<f64> = members.iter().map(|&i| weights[i]).collect();
        for (a, b, v) in step_sum(&spans, start, end) {
            let n = (v * (1.0 - what_if.shrinkage)).round() as i64;
            for (&g, part) in members.iter().zip(apportion(n, &w)) {
                per_group[g].push((a, b, part as f64));
            }
        }
    }
    let mut deltas = apportion(what_if.add_agents, &weights);
    for (name, d) in &what_if.group_deltas {
        let Some(i) = groups.iter().position(|g| &g.name == name) else {
            return Err(TwinError::UnknownGroup { group: name.clone(), known: names(groups.iter().map(|g| &g.name)) });
        };
        deltas[i] += d;
    }
    for (gi, g) in s.agents.iter_mut().enumerate() {
        let steps: Steps = step_sum(&per_group[gi], start, end)
            .into_iter()
            .map(|(a, b, v)| (a, b, (v.round() as i64 + deltas[gi]).max(0)))
            .collect();
        let agents = stack(&steps, Some((end, CLOSING_DRAIN_MS)));
        g.shifts = Vec::new();
        if agents.is_empty() {
            // Nobody of this group works; the group stays (routing steps
            // may name it) with one absent agent.
            g.count = 1;
            g.agent_shifts = Some(vec![Vec::new()]);
        } else {
            g.count = agents.len() as i64;
            g.agent_shifts = Some(
                agents
                    .into_iter()
                    .map(|spans| spans.into_iter().map(|(a, b)| ShiftSpec { start: clock(a), end: clock(b) }).collect())
                    .collect(),
            );
        }
    }
    Ok(s)
}

/// One interval of the twin's prediction: mean and 95 % half-width over
/// replications.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IntervalEstimate {
    /// Start, `HH:MM`.
    pub start: String,
    /// End, `HH:MM`.
    pub end: String,
    /// Contacts arriving in the interval.
    pub offered: Estimate,
    /// Agents logged in (mean over the interval).
    pub agents: Estimate,
    /// Answered within the threshold / offered.
    pub service_level: Estimate,
    /// Mean wait of answered contacts, seconds (replications without an
    /// answered contact in the interval left out).
    pub asa_seconds: Estimate,
    /// Abandoned / offered.
    pub abandon_rate: Estimate,
    /// Busy / (busy + idle) agent time.
    pub occupancy: Estimate,
}

/// Per interval of an outcome: figures per replication, then their mean and
/// 95 % half-width. A replication without contacts in an interval does not
/// count for that interval's ratios (nor one without agents for occupancy).
pub fn interval_estimates(outcome: &SimOutcome) -> Vec<IntervalEstimate> {
    outcome
        .intervals
        .iter()
        .enumerate()
        .map(|(k, row)| {
            let mut v: [Vec<f64>; 6] = Default::default();
            let length_ms = {
                let a = clock_ms(&row.start);
                let b = clock_ms(&row.end);
                b.saturating_sub(a).max(1) as f64
            };
            for run in &outcome.replications {
                let Some(c) = run.intervals.get(k) else { continue };
                let f = c.figures();
                v[0].push(c.offered as f64);
                v[1].push((c.agent_busy_ms + c.agent_idle_ms + c.agent_not_ready_ms) as f64 / length_ms);
                if c.offered > 0 {
                    v[2].push(f.service_level);
                    v[4].push(f.abandon_rate);
                }
                if c.answered > 0 {
                    v[3].push(f.asa_seconds);
                }
                if c.agent_busy_ms + c.agent_idle_ms > 0 {
                    v[5].push(f.occupancy);
                }
            }
            IntervalEstimate {
                start: row.start.clone(),
                end: row.end.clone(),
                offered: Estimate::of(&v[0]),
                agents: Estimate::of(&v[1]),
                service_level: Estimate::of(&v[2]),
                asa_seconds: Estimate::of(&v[3]),
                abandon_rate: Estimate::of(&v[4]),
                occupancy: Estimate::of(&v[5]),
            }
        })
        .collect()
}

/// `HH:MM[:SS]` back to ms (0 when malformed; only used on [`clock`] output).
fn clock_ms(text: &str) -> u64 {
    crate::model::parse_clock(text).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::Model;

    const ROUTING: &str = r#"
[simulation]
seed = 3

[[queues]]
name = "sales"

[[queues]]
name = "support"

[[agents]]
name = "s"
count = 3
queues = ["sales"]

[[agents]]
name = "t"
count = 1
queues = ["support", "sales"]

[[arrivals]]
queue = "sales"
calls_per_hour = 5
aht_seconds = 100
patience_seconds = 60
"#;

    fn day(presence: Vec<Presence>) -> Day {
        Day {
            start_ms: 8 * 3_600_000,
            interval_ms: 1_800_000,
            intervals: 4,
            demand: vec![Demand {
                queue: "sales".into(),
                offered: vec![10.0, 20.0, 0.0, 5.0],
                aht_seconds: vec![200.0, 250.0, 0.0, 100.0],
            }],
            presence,
        }
    }

    #[test]
    fn apportion_adds_up() {
        assert_eq!(apportion(10, &[3.0, 1.0]), vec![8, 2]);
        assert_eq!(apportion(5, &[1.0, 1.0]), vec![3, 2]);
        assert_eq!(apportion(-5, &[1.0, 1.0]), vec![-3, -2]);
        assert_eq!(apportion(3, &[0.0, 0.0, 0.0]), vec![1, 1, 1]);
        assert_eq!(apportion(7, &[1.0, 2.0, 4.0]).iter().sum::<i64>(), 7);
    }

    #[test]
    fn a_schedule_becomes_agents_with_their_own_shifts() {
        let routing = Scenario::from_toml_str(ROUTING).unwrap();
        // 8 agents 08:00–10:00, 4 more 08:30–09:00.
        let presence = vec![
            Presence { pool: Pool::All, start_ms: 8 * 3_600_000, end_ms: 10 * 3_600_000, agents: 8.0 },
            Presence { pool: Pool::All, start_ms: 8 * 3_600_000 + 1_800_000, end_ms: 9 * 3_600_000, agents: 4.0 },
        ];
        let s = day_scenario(&routing, &day(presence), &WhatIf::default()).unwrap();
        assert_eq!(s.simulation.start.as_deref(), Some("08:00"));
        assert_eq!(s.simulation.end.as_deref(), Some("10:00"));
        // 8 → 6 + 2; 12 → 9 + 3.
        assert_eq!(s.agents[0].count, 9);
        assert_eq!(s.agents[1].count, 3);
        let shifts = s.agents[0].agent_shifts.as_ref().unwrap();
        assert_eq!(shifts[0], vec![ShiftSpec { start: "08:00".into(), end: "10:30".into() }]);
        assert_eq!(shifts[8], vec![ShiftSpec { start: "08:30".into(), end: "09:00".into() }]);
        let a = &s.arrivals[0];
        assert_eq!(a.profile.as_deref(), Some(&[20.0, 40.0, 0.0, 10.0][..]));
        assert_eq!(a.patience_seconds, Some(60.0));
        let mean = (2000.0 + 5000.0 + 500.0) / 35.0;
        assert_eq!(a.aht_profile.as_deref(), Some(&[200.0, 250.0, mean, 100.0][..]));
        let model = Model::build(&s).expect("valid");
        assert_eq!(model.agents.len(), 12);
        assert_eq!(model.streams[0].handle_mean_ms[1], 250_000.0);
    }

    #[test]
    fn what_ifs_change_agents_and_demand() {
        let routing = Scenario::from_toml_str(ROUTING).unwrap();
        let presence = vec![Presence {
            pool: Pool::Queue("sales".into()),
            start_ms: 8 * 3_600_000,
            end_ms: 10 * 3_600_000,
            agents: 5.0,
        }];
        let w = WhatIf {
            add_agents: 4,
            group_deltas: vec![("s".into(), -1)],
            aht_factor: 2.0,
            volume_factor: 0.5,
            shrinkage: 0.2,
            patience_seconds: Some(30.0),
        };
        let s = day_scenario(&routing, &day(presence), &w).unwrap();
        // Plan: 5 × 0.8 = 4 sales agents, all to group s (first queue sales);
        // +4 split 3/1; s −1.
        assert_eq!(s.agents[0].count, 6);
        assert_eq!(s.agents[1].count, 1);
        assert_eq!(s.arrivals[0].profile.as_deref(), Some(&[10.0, 20.0, 0.0, 5.0][..]));
        assert_eq!(s.arrivals[0].aht_profile.as_ref().unwrap()[0], 400.0);
        assert_eq!(s.arrivals[0].patience_seconds, Some(30.0));
        Model::build(&s).expect("valid");
    }

    #[test]
    fn bad_inputs_are_named() {
        let mut routing = Scenario::from_toml_str(ROUTING).unwrap();
        routing.agents[1].queues.reverse();
        let mut d = day(Vec::new());
        d.demand[0].queue = "salse".into();
        let e = day_scenario(&routing, &d, &WhatIf::default()).unwrap_err();
        assert!(e.to_string().contains("queue \"salse\" is not in the routing scenario"), "{e}");
        let d = day(vec![Presence { pool: Pool::Queue("support".into()), start_ms: 0, end_ms: 1, agents: 1.0 }]);
        assert_eq!(
            day_scenario(&routing, &d, &WhatIf::default()).unwrap_err(),
            TwinError::NoGroupForQueue("support".into())
        );
        let w = WhatIf { group_deltas: vec![("x".into(), 1)], ..WhatIf::default() };
        assert!(matches!(day_scenario(&routing, &day(Vec::new()), &w), Err(TwinError::UnknownGroup { .. })));
        // Nobody staffed: one absent agent per group, still a valid scenario.
        let s = day_scenario(&routing, &day(Vec::new()), &WhatIf::default()).unwrap();
        let m = Model::build(&s).unwrap();
        assert!(m.agents.iter().all(|a| a.absent));
    }
}
