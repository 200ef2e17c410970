//! Shift scheduling: choose how many agents start each shift so that the
//! agents on the phones cover a week of per-interval requirements at the
//! least cost plus a penalty for every agent-interval left uncovered.
//!
//! # Model
//!
//! Dantzig's set-covering model (1954) with explicit break placement: one
//! column per (template, day, start time, placement of every break), whose
//! coefficient in an interval is the share of that interval the agent works
//! (a 15-minute break in a 30-minute interval leaves 0.5). With `x_c ≥ 0`
//! agents starting column `c` and slack `u_i ≥ 0` per interval:
//!
//! ```text
//! min  Σ_c cost_c · x_c + penalty · Σ_i u_i
//! s.t. Σ_c a_ic · x_c + u_i ≥ required_i        for every interval i
//!      Σ_{c on day d} x_c ≤ max_agents_per_day   (optional)
//!      Σ_{c of template t} x_c ≤ max_shifts_t    (optional, per week)
//!      Σ_{c on day d} x_c ≤ H,  Σ_c x_c ≤ k · H    (optional headcount H,
//!                                                 k days per agent)
//!      x_c integer
//! ```
//!
//! The slack makes every week feasible: when caps or templates cannot cover
//! a peak, the schedule still comes out and reports its under-coverage.
//!
//! # Solution method
//!
//! The LP relaxation is solved with `good_lp` + `microlp` (pure Rust); its
//! optimum is a lower bound on every integer schedule. Without breaks the
//! coverage matrix is an interval matrix and the LP optimum is already
//! integral; with breaks it usually is not, so it is rounded: every column
//! keeps ⌊x_c⌋ agents, then the column that lowers the objective most is
//! added one agent at a time while that helps (respecting the caps), then
//! single agents whose removal lowers the objective are removed, then a local
//! search takes one agent out at a time and re-adds greedily, keeping moves
//! that lower the objective. The result
//! carries the LP bound and the relative gap `(objective − bound) / objective`.
//! Optionally ([`ScheduleOptions::mip_time_limit_seconds`]) microlp's
//! branch and bound then starts from the rounded schedule and may improve it
//! within that time (the crate itself reads no clock; microlp does).
//!
//! The week is cyclic: a shift that starts late on Sunday covers Monday's
//! first intervals.
//!
//! # Days off
//!
//! With [`ScheduleOptions::days_per_agent`] = k (e.g. 5 of 7), agents work at
//! most one shift a day and at most k days a week. Daily shift counts `s_d`
//! can be staffed by `H` such agents exactly when `s_d ≤ H` for every day and
//! `Σ s_d ≤ k·H` (McNaughton's wrap-around rule), so the headcount is
//! `max(max_d s_d, ⌈Σ s_d / k⌉)`; [`ScheduleOptions::max_agents`] caps it in
//! the model. The result includes a [`roster`](Schedule::roster) built by
//! wrap-around: agent numbers are dealt out day after day, so nobody works
//! twice a day or more than k days. Not modelled: consecutive days off, rest
//! between days, and keeping an agent on the same template all week.

mod example;

pub use example::{example_templates, example_week, example_week_requirements};

use good_lp::{Expression, ProblemVariables, Solution, SolverModel, Variable, variable};
use serde::{Deserialize, Serialize};

/// Minutes in a day.
pub const MINUTES_PER_DAY: u32 = 1440;
/// Days in the scheduling week (Monday = 0 … Sunday = 6).
pub const DAYS: usize = 7;
/// Break starts are tried every this many minutes unless a template says
/// otherwise (or the interval is longer).
pub const DEFAULT_BREAK_STEP_MINUTES: u32 = 30;
/// Day names, Monday first.
pub const DAY_NAMES: [&str; DAYS] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// What can go wrong when scheduling.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScheduleError {
    /// The input is inconsistent; the message says where.
    #[error("{0}")]
    InvalidInput(String),
    /// The LP solver failed (should not happen: the model is always feasible).
    #[error("the LP solver failed: {0}")]
    Solver(String),
}

fn invalid(message: impl Into<String>) -> ScheduleError {
    ScheduleError::InvalidInput(message.into())
}

/// Required agents per interval for one week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requirements {
    /// Interval length in minutes; divides 1440.
    pub interval_minutes: u32,
    /// Required agents, day-major: `required[day * intervals_per_day + k]`
    /// for the interval starting at `k * interval_minutes` on `day`
    /// (Monday = 0). Length `7 * intervals_per_day`.
    pub required: Vec<f64>,
}

impl Requirements {
    /// Intervals in one day.
    pub fn intervals_per_day(&self) -> usize {
        (MINUTES_PER_DAY / self.interval_minutes.max(1)) as usize
    }

    fn validate(&self) -> Result<(), ScheduleError> {
        let m = self.interval_minutes;
        if MINUTES_PER_DAY.checked_rem(m) != Some(0) {
            return Err(invalid(format!("the interval length must divide 1440 minutes, not {m}")));
        }
        let expected = DAYS * self.intervals_per_day();
        if self.required.len() != expected {
            return Err(invalid(format!(
                "a week of {m}-minute intervals has {expected} requirements, not {}",
                self.required.len()
            )));
        }
        if let Some((i, v)) = self.required.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v >= 0.0)) {
            let per_day = self.intervals_per_day();
            return Err(invalid(format!(
                "required agents must be a finite number, 0 or more: {v} on {} at {}",
                DAY_NAMES[i / per_day],
                clock(((i % per_day) as u32) * m)
            )));
        }
        Ok(())
    }
}

/// A break or lunch inside a shift, placed anywhere in its window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakRule {
    /// Name shown in the output ("break", "lunch").
    pub name: String,
    /// Length in minutes.
    pub minutes: u32,
    /// Paid breaks count in paid hours; unpaid ones do not.
    pub paid: bool,
    /// Earliest start, minutes after the shift start.
    pub earliest_start: u32,
    /// Latest end, minutes after the shift start.
    pub latest_end: u32,
}

/// A kind of shift that may be started on some days at some times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftTemplate {
    /// Unique name.
    pub name: String,
    /// Allowed start times, minutes after midnight (may be 1440 or more only
    /// if less than 2880; see [`start_range`] for "from, to, step").
    pub starts: Vec<u32>,
    /// Length from start to end, breaks included, in minutes.
    pub length_minutes: u32,
    /// Breaks and lunch, each placed within its window.
    pub breaks: Vec<BreakRule>,
    /// Cost of one agent working one such shift.
    pub cost: f64,
    /// Days the shift may start on, Monday first.
    pub days: [bool; DAYS],
    /// At most this many such shifts in the week.
    pub max_shifts: Option<u32>,
    /// Break starts are tried every this many minutes within their window
    /// (default: [`DEFAULT_BREAK_STEP_MINUTES`] or the interval length,
    /// whichever is longer; shorter steps multiply the model's columns).
    pub break_step_minutes: Option<u32>,
}

impl ShiftTemplate {
    /// Paid minutes: the length less unpaid breaks.
    pub fn paid_minutes(&self) -> u32 {
        let unpaid: u32 = self.breaks.iter().filter(|b| !b.paid).map(|b| b.minutes).sum();
        self.length_minutes.saturating_sub(unpaid)
    }
}

/// Start times `first, first + step, …` up to `last` inclusive, in minutes.
pub fn start_range(first: u32, last: u32, step: u32) -> Vec<u32> {
    if step == 0 {
        return vec![first];
    }
    (first..=last).step_by(step as usize).collect()
}

/// Weights and caps of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleOptions {
    /// Cost of one agent-interval of under-coverage (an interval short of one
    /// agent). Compare with a template's cost per interval worked.
    pub under_penalty: f64,
    /// At most this many agents start a shift on each day (Monday first).
    pub max_agents_per_day: [Option<u32>; DAYS],
    /// Run microlp's branch and bound from the rounded schedule for at most
    /// this many seconds (`None`: LP relaxation and rounding only).
    pub mip_time_limit_seconds: Option<f64>,
    /// Each agent works at most this many days a week (1–7), one shift a day:
    /// the result reports the headcount and a roster.
    pub days_per_agent: Option<u32>,
    /// At most this many agents (headcount) in the week; with
    /// `days_per_agent` k, at most k·H shifts in the week and H a day.
    pub max_agents: Option<u32>,
}

impl Default for ScheduleOptions {
    fn default() -> Self {
        ScheduleOptions {
            under_penalty: 100.0,
            max_agents_per_day: [None; DAYS],
            mip_time_limit_seconds: None,
            days_per_agent: None,
            max_agents: None,
        }
    }
}

/// A placed break of a scheduled shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedBreak {
    /// The rule's name.
    pub name: String,
    /// Start, minutes after midnight of the shift's day (1440 or more: the
    /// next day).
    pub start_minute: u32,
    /// Length in minutes.
    pub minutes: u32,
    /// Paid or not.
    pub paid: bool,
}

/// `count` agents working the same shift with the same breaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledShift {
    /// Template name.
    pub template: String,
    /// Day the shift starts, Monday = 0.
    pub day: usize,
    /// Start, minutes after midnight.
    pub start_minute: u32,
    /// End, minutes after midnight of the start day (may exceed 1440).
    pub end_minute: u32,
    /// Breaks in time order.
    pub breaks: Vec<PlacedBreak>,
    /// Number of agents.
    pub count: u32,
    /// Cost of one such shift.
    pub unit_cost: f64,
}

/// Staffed versus required agents in one interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalCoverage {
    /// Day, Monday = 0.
    pub day: usize,
    /// Interval start, minutes after midnight.
    pub start_minute: u32,
    /// Required agents.
    pub required: f64,
    /// Agents working (breaks subtracted, in shares of the interval).
    pub scheduled: f64,
    /// `max(0, required − scheduled)`.
    pub under: f64,
    /// `max(0, scheduled − required)`.
    pub over: f64,
}

/// Totals of a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleTotals {
    /// Σ shift costs.
    pub cost: f64,
    /// cost + under_penalty × under_coverage.
    pub objective: f64,
    /// LP relaxation optimum: no integer schedule has a lower objective.
    pub lp_bound: f64,
    /// `(objective − lp_bound) / objective` (0 when both are 0).
    pub gap: f64,
    /// The schedule is proven optimal (gap 0 or proven by branch and bound).
    pub optimal: bool,
    /// Shifts (agents) in the week.
    pub shifts: u32,
    /// Paid agent-hours.
    pub paid_hours: f64,
    /// Σ required agent-intervals.
    pub required_agent_intervals: f64,
    /// Σ scheduled agent-intervals (working, breaks subtracted).
    pub scheduled_agent_intervals: f64,
    /// Σ under-coverage in agent-intervals.
    pub under_coverage: f64,
    /// Σ over-coverage in agent-intervals.
    pub over_coverage: f64,
    /// Intervals with any under-coverage.
    pub intervals_under: usize,
    /// Agents needed when each works at most
    /// [`ScheduleOptions::days_per_agent`] days (`None` without it).
    pub headcount: Option<u32>,
    /// Columns (template × day × start × break placement) of the model.
    pub columns: usize,
    /// How the integer schedule was obtained: `"lp-integral"`,
    /// `"lp-rounding"` or `"branch-and-bound"`.
    pub method: String,
}

/// The result of [`schedule`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Interval length in minutes.
    pub interval_minutes: u32,
    /// Chosen shifts by day, start and template.
    pub shifts: Vec<ScheduledShift>,
    /// Coverage of every interval of the week, day-major.
    pub coverage: Vec<IntervalCoverage>,
    /// Totals.
    pub totals: ScheduleTotals,
    /// With [`ScheduleOptions::days_per_agent`]: agent `a` works
    /// `roster[a]`, a list of indices into [`shifts`](Schedule::shifts), at
    /// most one a day. Empty otherwise.
    pub roster: Vec<Vec<usize>>,
}

/// One column of the model.
#[derive(Debug, Clone)]
struct Column {
    template: usize,
    day: usize,
    start: u32,
    /// Break starts relative to the shift start, one per rule.
    break_offsets: Vec<u32>,
    /// (interval index in the week, working share).
    cover: Vec<(usize, f64)>,
    cost: f64,
}

/// `HH:MM` of minutes after midnight (no wrap: 25:30 stays 25:30).
pub fn clock(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn validate_templates(templates: &[ShiftTemplate]) -> Result<(), ScheduleError> {
    if templates.is_empty() {
        return Err(invalid("no shift templates"));
    }
    for (i, t) in templates.iter().enumerate() {
        let name = &t.name;
        if templates[..i].iter().any(|o| o.name == *name) {
            return Err(invalid(format!("template \"{name}\" is defined twice")));
        }
        if t.length_minutes == 0 || t.length_minutes > MINUTES_PER_DAY {
            return Err(invalid(format!(
                "template \"{name}\": the length must be 1 to 1440 minutes, not {}",
                t.length_minutes
            )));
        }
        if t.starts.is_empty() {
            return Err(invalid(format!("template \"{name}\": no start times")));
        }
        if let Some(s) = t.starts.iter().find(|s| **s >= 2 * MINUTES_PER_DAY) {
            return Err(invalid(format!("template \"{name}\": start {} is not within the day", clock(*s))));
        }
        if !t.days.iter().any(|d| *d) {
            return Err(invalid(format!("template \"{name}\": no days")));
        }
        if !(t.cost.is_finite() && t.cost >= 0.0) {
            return Err(invalid(format!("template \"{name}\": the cost must be 0 or more, not {}", t.cost)));
        }
        if t.break_step_minutes == Some(0) {
            return Err(invalid(format!("template \"{name}\": the break step must be at least 1 minute")));
        }
        for b in &t.breaks {
            if b.minutes == 0 {
                return Err(invalid(format!("template \"{name}\", break \"{}\": a length of 0 minutes", b.name)));
            }
            if b.latest_end > t.length_minutes || b.earliest_start + b.minutes > b.latest_end {
                return Err(invalid(format!(
                    "template \"{name}\", break \"{}\": {} minutes do not fit between {} and {} after the start \
                     of a {}-minute shift",
                    b.name, b.minutes, b.earliest_start, b.latest_end, t.length_minutes
                )));
            }
        }
    }
    Ok(())
}

/// Every placement of the breaks of `t` (one offset per rule, in rule
/// order), without overlaps.
fn break_placements(t: &ShiftTemplate, interval: u32) -> Vec<Vec<u32>> {
    let step = t.break_step_minutes.unwrap_or(interval.max(DEFAULT_BREAK_STEP_MINUTES)).max(1);
    let mut out: Vec<Vec<u32>> = vec![Vec::new()];
    for (k, b) in t.breaks.iter().enumerate() {
        let options = start_range(b.earliest_start, b.latest_end - b.minutes, step);
        let mut next = Vec::with_capacity(out.len() * options.len());
        for partial in &out {
            for &o in &options {
                let overlaps = partial.iter().enumerate().any(|(j, &p)| {
                    let other = &t.breaks[j];
                    o < p + other.minutes && p < o + t.breaks[k].minutes
                });
                if !overlaps {
                    let mut v = partial.clone();
                    v.push(o);
                    next.push(v);
                }
            }
        }
        out = next;
    }
    out
}

/// Working share per interval of the week for a shift (cyclic week).
fn coverage_of(
    t: &ShiftTemplate,
    day: usize,
    start: u32,
    offsets: &[u32],
    interval: u32,
    n: usize,
) -> Vec<(usize, f64)> {
    let week = n as u32 * interval;
    let absolute = day as u32 * MINUTES_PER_DAY + start;
    let first = start / interval;
    let last = (start + t.length_minutes).div_ceil(interval);
    let mut cover = Vec::with_capacity((last - first) as usize);
    for k in first..last {
        let (lo, hi) = (k * interval, (k + 1) * interval);
        let overlap = |a: u32, b: u32| b.min(hi).saturating_sub(a.max(lo));
        let mut worked = overlap(start, start + t.length_minutes);
        for (b, &o) in t.breaks.iter().zip(offsets) {
            worked = worked.saturating_sub(overlap(start + o, start + o + b.minutes));
        }
        if worked > 0 {
            let index = ((absolute - start + k * interval) % week / interval) as usize;
            cover.push((index, f64::from(worked) / f64::from(interval)));
        }
    }
    cover
}

fn build_columns(requirements: &Requirements, templates: &[ShiftTemplate]) -> Vec<Column> {
    let interval = requirements.interval_minutes;
    let n = requirements.required.len();
    let mut columns = Vec::new();
    for (ti, t) in templates.iter().enumerate() {
        let placements = break_placements(t, interval);
        for day in (0..DAYS).filter(|d| t.days[*d]) {
            for &start in &t.starts {
                for offsets in &placements {
                    columns.push(Column {
                        template: ti,
                        day,
                        start,
                        break_offsets: offsets.clone(),
                        cover: coverage_of(t, day, start, offsets, interval, n),
                        cost: t.cost,
                    });
                }
            }
        }
    }
    columns
}

/// Objective pieces of an integer schedule.
struct Evaluation {
    staffed: Vec<f64>,
    cost: f64,
    under: f64,
}

fn evaluate(columns: &[Column], counts: &[u32], required: &[f64]) -> Evaluation {
    let mut staffed = vec![0.0; required.len()];
    let mut cost = 0.0;
    for (c, &x) in columns.iter().zip(counts) {
        if x > 0 {
            cost += c.cost * f64::from(x);
            for &(i, a) in &c.cover {
                staffed[i] += a * f64::from(x);
            }
        }
    }
    let under = required.iter().zip(&staffed).map(|(r, s)| (r - s).max(0.0)).sum();
    Evaluation { staffed, cost, under }
}

/// Caps as remaining room, updated as agents are added or removed.
struct Room {
    per_day: [Option<u32>; DAYS],
    per_template: Vec<Option<u32>>,
    week: Option<u32>,
}

impl Room {
    fn new(options: &ScheduleOptions, templates: &[ShiftTemplate]) -> Room {
        let caps = Caps::of(options);
        Room { per_day: caps.per_day, per_template: templates.iter().map(|t| t.max_shifts).collect(), week: caps.week }
    }
    fn allows(&self, c: &Column) -> bool {
        self.per_day[c.day].is_none_or(|r| r > 0)
            && self.per_template[c.template].is_none_or(|r| r > 0)
            && self.week.is_none_or(|r| r > 0)
    }
    fn take(&mut self, c: &Column, n: u32) {
        for r in [&mut self.per_day[c.day], &mut self.per_template[c.template], &mut self.week].into_iter().flatten() {
            *r = r.saturating_sub(n);
        }
    }
    fn give(&mut self, c: &Column) {
        for r in [&mut self.per_day[c.day], &mut self.per_template[c.template], &mut self.week].into_iter().flatten() {
            *r += 1;
        }
    }
}

/// Shift caps per day and per week from the options.
struct Caps {
    per_day: [Option<u32>; DAYS],
    week: Option<u32>,
}

impl Caps {
    fn of(options: &ScheduleOptions) -> Caps {
        let mut per_day = options.max_agents_per_day;
        let mut week = None;
        if let Some(h) = options.max_agents {
            for cap in &mut per_day {
                *cap = Some(cap.map_or(h, |c| c.min(h)));
            }
            week = Some(h.saturating_mul(options.days_per_agent.unwrap_or(DAYS as u32)));
        }
        Caps { per_day, week }
    }
}

/// A working integer schedule with its coverage and the caps' room left.
struct Incumbent<'a> {
    columns: &'a [Column],
    required: &'a [f64],
    penalty: f64,
    /// LP values, to break ties between equally good additions.
    lp: &'a [f64],
    counts: Vec<u32>,
    staffed: Vec<f64>,
    room: Room,
}

impl Incumbent<'_> {
    fn apply(&mut self, ci: usize, add: bool) {
        let c = &self.columns[ci];
        if add {
            self.counts[ci] += 1;
            self.room.take(c, 1);
        } else {
            self.counts[ci] -= 1;
            self.room.give(c);
        }
        let sign = if add { 1.0 } else { -1.0 };
        for &(i, a) in &c.cover {
            self.staffed[i] += sign * a;
        }
    }

    /// The addition that lowers the objective most, and by how much.
    fn best_addition(&self) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        for (ci, c) in self.columns.iter().enumerate() {
            if !self.room.allows(c) {
                continue;
            }
            let saved: f64 = c.cover.iter().map(|&(i, a)| a.min((self.required[i] - self.staffed[i]).max(0.0))).sum();
            let gain = self.penalty * saved - c.cost;
            // Prefer columns the LP used when gains tie.
            let key = gain + 1e-9 * self.lp[ci].fract();
            if gain > 1e-9 && best.is_none_or(|(b, g)| key > g + 1e-9 * self.lp[b].fract()) {
                best = Some((ci, gain));
            }
        }
        best
    }

    /// How much removing one agent of column `ci` lowers the objective.
    fn removal_gain(&self, ci: usize) -> f64 {
        let c = &self.columns[ci];
        let lost: f64 = c
            .cover
            .iter()
            .map(|&(i, a)| {
                let short = self.required[i] - self.staffed[i];
                (short + a).max(0.0) - short.max(0.0)
            })
            .sum();
        c.cost - self.penalty * lost
    }

    /// Add agents greedily while that helps; returns the objective decrease
    /// and the columns added to.
    fn add_greedily(&mut self) -> (f64, Vec<usize>) {
        let mut total = 0.0;
        let mut added = Vec::new();
        while let Some((ci, gain)) = self.best_addition() {
            self.apply(ci, true);
            total += gain;
            added.push(ci);
        }
        (total, added)
    }

    /// Remove agents greedily while that helps.
    fn remove_greedily(&mut self) {
        loop {
            let best = (0..self.columns.len())
                .filter(|&ci| self.counts[ci] > 0)
                .map(|ci| (ci, self.removal_gain(ci)))
                .filter(|(_, g)| *g > 1e-9)
                .max_by(|a, b| a.1.total_cmp(&b.1));
            let Some((ci, _)) = best else { break };
            self.apply(ci, false);
        }
    }

    /// Local search: take one agent out and re-add greedily; keep the move
    /// when the objective falls. Stops when a pass finds nothing or after
    /// `passes` passes.
    fn improve(&mut self, passes: usize) {
        for _ in 0..passes {
            let mut improved = false;
            for ci in 0..self.columns.len() {
                if self.counts[ci] == 0 {
                    continue;
                }
                let removed = self.removal_gain(ci);
                self.apply(ci, false);
                let (added, columns) = self.add_greedily();
                if removed + added > 1e-6 {
                    improved = true;
                } else {
                    for cj in columns {
                        self.apply(cj, false);
                    }
                    self.apply(ci, true);
                }
            }
            self.remove_greedily();
            if !improved {
                break;
            }
        }
    }
}

/// Round an LP solution: floor, greedy additions, greedy removals, then a
/// one-out/greedy-in local search.
fn round(
    columns: &[Column],
    lp: &[f64],
    required: &[f64],
    penalty: f64,
    options: &ScheduleOptions,
    templates: &[ShiftTemplate],
) -> Vec<u32> {
    let counts: Vec<u32> = lp.iter().map(|x| (x + 1e-6).floor().max(0.0) as u32).collect();
    let mut room = Room::new(options, templates);
    for (c, &x) in columns.iter().zip(&counts) {
        room.take(c, x);
    }
    let staffed = evaluate(columns, &counts, required).staffed;
    let mut inc = Incumbent { columns, required, penalty, lp, counts, staffed, room };
    inc.add_greedily();
    inc.remove_greedily();
    inc.improve(LOCAL_SEARCH_PASSES);
    inc.counts
}

/// Passes of the local search after rounding.
const LOCAL_SEARCH_PASSES: usize = 20;

/// What the LP (or MIP) returned.
struct Solved {
    values: Vec<f64>,
    objective: f64,
    proven: bool,
}

fn solve_model(
    columns: &[Column],
    required: &[f64],
    penalty: f64,
    options: &ScheduleOptions,
    templates: &[ShiftTemplate],
    integer: Option<(&[u32], f64)>,
) -> Result<Solved, ScheduleError> {
    let mut vars = ProblemVariables::new();
    let x: Vec<Variable> = columns
        .iter()
        .enumerate()
        .map(|(ci, _)| {
            let def = variable().min(0.0);
            match integer {
                Some((start, _)) => vars.add(def.integer().initial(f64::from(start[ci]))),
                None => vars.add(def),
            }
        })
        .collect();
    // Slack only where something is required.
    let mut rows: Vec<Expression> = (0..required.len()).map(|_| Expression::with_capacity(32)).collect();
    for (c, &v) in columns.iter().zip(&x) {
        for &(i, a) in &c.cover {
            if required[i] > 0.0 {
                rows[i].add_mul(a, v);
            }
        }
    }
    let mut objective = Expression::with_capacity(columns.len() + required.len());
    for (c, &v) in columns.iter().zip(&x) {
        objective.add_mul(c.cost, v);
    }
    let warm = integer.map(|(start, _)| evaluate(columns, start, required).staffed);
    let mut slack = Vec::new();
    for (i, &r) in required.iter().enumerate() {
        if r > 0.0 {
            let u = match &warm {
                // Warm start: the slack of the rounded schedule.
                Some(staffed) => vars.add(variable().min(0.0).initial((r - staffed[i]).max(0.0))),
                None => vars.add(variable().min(0.0)),
            };
            objective.add_mul(penalty, u);
            slack.push((i, u));
        }
    }
    let mut model = vars.minimise(objective).using(good_lp::microlp);
    if let Some((_, seconds)) = integer {
        model = good_lp::WithTimeLimit::with_time_limit(model, seconds);
    }
    for (i, u) in slack {
        let mut row = std::mem::take(&mut rows[i]);
        row.add_mul(1.0, u);
        model = model.with(row.geq(required[i]));
    }
    let caps = Caps::of(options);
    if let Some(cap) = caps.week {
        let mut e = Expression::with_capacity(columns.len());
        for &v in &x {
            e.add_mul(1.0, v);
        }
        model = model.with(e.leq(f64::from(cap)));
    }
    let day_caps: Vec<(usize, u32)> = caps.per_day.iter().enumerate().filter_map(|(d, c)| c.map(|c| (d, c))).collect();
    for (d, cap) in day_caps {
        let mut e = Expression::with_capacity(columns.len() / DAYS + 1);
        for (c, &v) in columns.iter().zip(&x) {
            if c.day == d {
                e.add_mul(1.0, v);
            }
        }
        model = model.with(e.leq(f64::from(cap)));
    }
    for (ti, t) in templates.iter().enumerate() {
        if let Some(cap) = t.max_shifts {
            let mut e = Expression::default();
            for (c, &v) in columns.iter().zip(&x) {
                if c.template == ti {
                    e.add_mul(1.0, v);
                }
            }
            model = model.with(e.leq(f64::from(cap)));
        }
    }
    let solution = model.solve().map_err(|e| ScheduleError::Solver(e.to_string()))?;
    let proven = matches!(solution.status(), good_lp::SolutionStatus::Optimal);
    let values: Vec<f64> = x.iter().map(|&v| solution.value(v)).collect();
    let objective = match integer {
        // Recomputed by the caller from the rounded counts.
        Some(_) => f64::NAN,
        None => {
            let e = evaluate_fractional(columns, &values, required);
            e.cost + penalty * e.under
        }
    };
    Ok(Solved { values, objective, proven })
}

fn evaluate_fractional(columns: &[Column], x: &[f64], required: &[f64]) -> Evaluation {
    let mut staffed = vec![0.0; required.len()];
    let mut cost = 0.0;
    for (c, &v) in columns.iter().zip(x) {
        if v > 0.0 {
            cost += c.cost * v;
            for &(i, a) in &c.cover {
                staffed[i] += a * v;
            }
        }
    }
    let under = required.iter().zip(&staffed).map(|(r, s)| (r - s).max(0.0)).sum();
    Evaluation { staffed, cost, under }
}

/// Schedule a week: see the [module documentation](self) for the model.
pub fn schedule(
    requirements: &Requirements,
    templates: &[ShiftTemplate],
    options: &ScheduleOptions,
) -> Result<Schedule, ScheduleError> {
    requirements.validate()?;
    validate_templates(templates)?;
    let penalty = options.under_penalty;
    if !(penalty.is_finite() && penalty >= 0.0) {
        return Err(invalid(format!("the under-coverage penalty must be 0 or more, not {penalty}")));
    }
    if let Some(k) = options.days_per_agent
        && !(1..=DAYS as u32).contains(&k)
    {
        return Err(invalid(format!("days per agent must be 1 to 7, not {k}")));
    }
    if let Some(t) = options.mip_time_limit_seconds
        && !(t.is_finite() && t > 0.0)
    {
        return Err(invalid(format!("the branch-and-bound time limit must be greater than 0, not {t}")));
    }
    let required = &requirements.required;
    let columns = build_columns(requirements, templates);
    let lp = solve_model(&columns, required, penalty, options, templates, None)?;
    let integral = lp.values.iter().all(|v| (v - v.round()).abs() < 1e-6);
    let (mut counts, mut method) = if integral {
        (lp.values.iter().map(|v| v.round().max(0.0) as u32).collect::<Vec<u32>>(), "lp-integral")
    } else {
        (round(&columns, &lp.values, required, penalty, options, templates), "lp-rounding")
    };
    let mut proven = integral;
    let objective_of = |counts: &[u32]| {
        let e = evaluate(&columns, counts, required);
        e.cost + penalty * e.under
    };
    if let (false, Some(seconds)) = (integral, options.mip_time_limit_seconds)
        && let Ok(mip) = solve_model(&columns, required, penalty, options, templates, Some((&counts, seconds)))
    {
        let candidate: Vec<u32> = mip.values.iter().map(|v| v.round().max(0.0) as u32).collect();
        if objective_of(&candidate) < objective_of(&counts) - 1e-9 {
            counts = candidate;
            method = "branch-and-bound";
        }
        proven = mip.proven;
    }
    let e = evaluate(&columns, &counts, required);
    let objective = e.cost + penalty * e.under;
    let lp_bound = lp.objective.min(objective);
    let gap = if objective.abs() < 1e-12 { 0.0 } else { ((objective - lp_bound) / objective.abs()).max(0.0) };
    let mut s =
        assemble(requirements, templates, &columns, &counts, e, objective, lp_bound, gap, proven || gap < 1e-9, method);
    if let Some(k) = options.days_per_agent {
        let (headcount, roster) = roster(&s.shifts, k);
        s.totals.headcount = Some(headcount);
        s.roster = roster;
    }
    Ok(s)
}

/// Headcount and a wrap-around roster for agents working at most `k` days
/// a week, one shift a day (see the module documentation).
fn roster(shifts: &[ScheduledShift], k: u32) -> (u32, Vec<Vec<usize>>) {
    let mut per_day = [0u32; DAYS];
    for s in shifts {
        per_day[s.day] += s.count;
    }
    let total: u32 = per_day.iter().sum();
    let headcount = per_day.iter().copied().max().unwrap_or(0).max(total.div_ceil(k.max(1)));
    let mut roster = vec![Vec::new(); headcount as usize];
    let mut next = 0usize;
    // Shifts are sorted by day: deal them out in that order.
    for (i, s) in shifts.iter().enumerate() {
        for _ in 0..s.count {
            roster[next].push(i);
            next = (next + 1) % roster.len();
        }
    }
    (headcount, roster)
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    requirements: &Requirements,
    templates: &[ShiftTemplate],
    columns: &[Column],
    counts: &[u32],
    e: Evaluation,
    objective: f64,
    lp_bound: f64,
    gap: f64,
    optimal: bool,
    method: &str,
) -> Schedule {
    let interval = requirements.interval_minutes;
    let per_day = requirements.intervals_per_day();
    let mut shifts: Vec<ScheduledShift> = columns
        .iter()
        .zip(counts)
        .filter(|(_, n)| **n > 0)
        .map(|(c, &count)| {
            let t = &templates[c.template];
            let mut breaks: Vec<PlacedBreak> = t
                .breaks
                .iter()
                .zip(&c.break_offsets)
                .map(|(b, &o)| PlacedBreak {
                    name: b.name.clone(),
                    start_minute: c.start + o,
                    minutes: b.minutes,
                    paid: b.paid,
                })
                .collect();
            breaks.sort_by_key(|b| b.start_minute);
            ScheduledShift {
                template: t.name.clone(),
                day: c.day,
                start_minute: c.start,
                end_minute: c.start + t.length_minutes,
                breaks,
                count,
                unit_cost: c.cost,
            }
        })
        .collect();
    shifts.sort_by(|a, b| (a.day, a.start_minute, &a.template).cmp(&(b.day, b.start_minute, &b.template)));
    let coverage: Vec<IntervalCoverage> = requirements
        .required
        .iter()
        .zip(&e.staffed)
        .enumerate()
        .map(|(i, (&r, &s))| IntervalCoverage {
            day: i / per_day,
            start_minute: (i % per_day) as u32 * interval,
            required: r,
            scheduled: s,
            under: (r - s).max(0.0),
            over: (s - r).max(0.0),
        })
        .collect();
    let paid_minutes: u64 =
        columns.iter().zip(counts).map(|(c, &n)| u64::from(templates[c.template].paid_minutes()) * u64::from(n)).sum();
    let totals = ScheduleTotals {
        cost: e.cost,
        objective,
        lp_bound,
        gap,
        optimal,
        shifts: counts.iter().sum(),
        paid_hours: paid_minutes as f64 / 60.0,
        required_agent_intervals: requirements.required.iter().sum(),
        scheduled_agent_intervals: e.staffed.iter().sum(),
        under_coverage: e.under,
        over_coverage: coverage.iter().map(|c| c.over).sum(),
        intervals_under: coverage.iter().filter(|c| c.under > 1e-9).count(),
        headcount: None,
        columns: columns.len(),
        method: method.to_string(),
    };
    Schedule { interval_minutes: interval, shifts, coverage, totals, roster: Vec::new() }
}

#[cfg(test)]
mod tests;
