//! The serialisable KPI report and its plain-text rendering. Every row
//! carries its raw counts and the figures derived from them.

use super::KpiConfig;
use super::counts::{AgentCounts, QueueCounts};
use super::service_level::{ServiceLevel, SlCounts, mean_seconds, ratio};
use crate::{AgentId, AgentState, QueueId, Time};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Figures derived from a queue's counts. Ratios are fractions in [0, 1];
/// `None` (null) when there is nothing to divide by.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueFigures {
    /// Service-level variants ([`SlCounts`]).
    #[serde(flatten)]
    pub sl: ServiceLevel,
    /// Abandoned / (answered + abandoned + exited).
    pub abandon_rate: Option<f64>,
    /// Average speed of answer: mean wait of answered contacts, seconds.
    pub asa_seconds: Option<f64>,
    /// Mean wait of answered and abandoned contacts, seconds (what Erlang A
    /// golden values call ASA).
    pub mean_wait_all_seconds: Option<f64>,
    /// Mean wait of abandoned contacts, seconds.
    pub mean_abandon_wait_seconds: Option<f64>,
    /// Average handle time: (talk + hold + wrap-up) / handled, seconds.
    pub aht_seconds: Option<f64>,
    /// Mean talk time per handled segment, seconds.
    pub talk_seconds: Option<f64>,
    /// Mean hold time per handled segment, seconds.
    pub hold_seconds: Option<f64>,
    /// Mean wrap-up time per handled segment, seconds.
    pub wrap_seconds: Option<f64>,
    /// Longest wait of an answered or abandoned contact, seconds.
    pub longest_wait_seconds: f64,
}

impl QueueFigures {
    /// Derive the figures of a queue's counts.
    pub fn of(c: &QueueCounts) -> QueueFigures {
        let sl = SlCounts::of(c);
        QueueFigures {
            sl: sl.levels(),
            abandon_rate: sl.abandon_rate(),
            asa_seconds: mean_seconds(c.wait_answered_ms, c.answered),
            mean_wait_all_seconds: mean_seconds(c.wait_answered_ms + c.wait_abandoned_ms, c.answered + c.abandoned),
            mean_abandon_wait_seconds: mean_seconds(c.wait_abandoned_ms, c.abandoned),
            aht_seconds: mean_seconds(c.talk_ms + c.hold_ms + c.wrap_ms, c.handled),
            talk_seconds: mean_seconds(c.talk_ms, c.handled),
            hold_seconds: mean_seconds(c.hold_ms, c.handled),
            wrap_seconds: mean_seconds(c.wrap_ms, c.handled),
            longest_wait_seconds: c.longest_wait_ms as f64 / 1000.0,
        }
    }
}

/// Seconds spent in each [`AgentState`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StateSeconds {
    /// Logged out.
    pub offline: f64,
    /// Waiting for a contact.
    pub ready: f64,
    /// Logged in, not taking contacts.
    pub not_ready: f64,
    /// Being offered a contact (ringing).
    pub reserved: f64,
    /// Working a contact.
    pub busy: f64,
    /// Every connected contact on hold.
    pub on_hold: f64,
    /// After-contact work.
    pub wrap_up: f64,
}

/// Figures derived from an agent's counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentFigures {
    /// (busy + on hold + wrap-up) / (busy + on hold + wrap-up + ready +
    /// reserved): the share of available time spent working.
    pub occupancy: Option<f64>,
    /// (busy + on hold + wrap-up) / logged-in time (every state but
    /// offline, not-ready included).
    pub utilisation: Option<f64>,
    /// Average handle time: (talk + hold + wrap-up) / handled, seconds.
    pub aht_seconds: Option<f64>,
    /// Logged-in time, seconds.
    pub logged_in_seconds: f64,
    /// Time in each state, seconds.
    pub state_seconds: StateSeconds,
}

impl AgentFigures {
    /// Derive the figures of an agent's counts.
    pub fn of(c: &AgentCounts) -> AgentFigures {
        let t = &c.state_ms;
        let s = |ms: u64| ms as f64 / 1000.0;
        AgentFigures {
            occupancy: ratio(t.working(), t.staffed()),
            utilisation: ratio(t.working(), t.logged_in()),
            aht_seconds: mean_seconds(c.talk_ms + c.hold_ms + c.wrap_ms, c.handled),
            logged_in_seconds: s(t.logged_in()),
            state_seconds: StateSeconds {
                offline: s(t.offline),
                ready: s(t.ready),
                not_ready: s(t.not_ready),
                reserved: s(t.reserved),
                busy: s(t.busy),
                on_hold: s(t.on_hold),
                wrap_up: s(t.wrap_up),
            },
        }
    }
}

/// A queue's (or all queues') figures over a whole run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueRow {
    /// The queue; `None` for the all-queues total.
    pub queue: Option<QueueId>,
    /// The queue's name, when configured in the run.
    pub name: Option<String>,
    /// Raw counts.
    #[serde(flatten)]
    pub counts: QueueCounts,
    /// Derived figures.
    #[serde(flatten)]
    pub figures: QueueFigures,
}

impl QueueRow {
    /// A row with the figures of its counts.
    pub fn new(queue: Option<QueueId>, name: Option<String>, counts: QueueCounts) -> QueueRow {
        let figures = QueueFigures::of(&counts);
        QueueRow { queue, name, counts, figures }
    }
}

/// A queue's figures over one interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueIntervalRow {
    /// The queue.
    pub queue: QueueId,
    /// Interval number: `start / interval_ms`.
    pub interval: u64,
    /// Start of the interval.
    pub start: Time,
    /// End of the interval (exclusive).
    pub end: Time,
    /// Raw counts.
    #[serde(flatten)]
    pub counts: QueueCounts,
    /// Derived figures.
    #[serde(flatten)]
    pub figures: QueueFigures,
}

impl QueueIntervalRow {
    /// A row with the figures of its counts.
    pub fn new(queue: QueueId, interval: u64, start: Time, end: Time, counts: QueueCounts) -> QueueIntervalRow {
        let figures = QueueFigures::of(&counts);
        QueueIntervalRow { queue, interval, start, end, counts, figures }
    }
}

/// An agent's (or all agents') figures over a whole run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRow {
    /// The agent; `None` for the all-agents total.
    pub agent: Option<AgentId>,
    /// The agent's name, when configured in the run.
    pub name: Option<String>,
    /// Raw counts.
    #[serde(flatten)]
    pub counts: AgentCounts,
    /// Derived figures.
    #[serde(flatten)]
    pub figures: AgentFigures,
}

impl AgentRow {
    /// A row with the figures of its counts.
    pub fn new(agent: Option<AgentId>, name: Option<String>, counts: AgentCounts) -> AgentRow {
        let figures = AgentFigures::of(&counts);
        AgentRow { agent, name, counts, figures }
    }
}

/// An agent's figures over one interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentIntervalRow {
    /// The agent.
    pub agent: AgentId,
    /// Interval number: `start / interval_ms`.
    pub interval: u64,
    /// Start of the interval.
    pub start: Time,
    /// End of the interval (exclusive).
    pub end: Time,
    /// Raw counts.
    #[serde(flatten)]
    pub counts: AgentCounts,
    /// Derived figures.
    #[serde(flatten)]
    pub figures: AgentFigures,
}

impl AgentIntervalRow {
    /// A row with the figures of its counts.
    pub fn new(agent: AgentId, interval: u64, start: Time, end: Time, counts: AgentCounts) -> AgentIntervalRow {
        let figures = AgentFigures::of(&counts);
        AgentIntervalRow { agent, interval, start, end, counts, figures }
    }
}

/// Everything [`super::IntervalFold`] knows, ready to serialise. Rows are
/// sorted by queue id (agent id), then interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KpiReport {
    /// The settings the counts were made with.
    pub config: KpiConfig,
    /// Upper edges (inclusive) of the wait histogram buckets, milliseconds;
    /// the last bucket (one more than edges) is open.
    pub wait_bucket_edges_ms: Vec<u64>,
    /// Start of the first interval.
    pub start: Time,
    /// End of the last interval.
    pub end: Time,
    /// All queues, whole run.
    pub totals: QueueRow,
    /// Each queue, whole run.
    pub queues: Vec<QueueRow>,
    /// Each queue and interval.
    pub intervals: Vec<QueueIntervalRow>,
    /// All agents, whole run (overall occupancy and utilisation).
    pub agent_totals: AgentRow,
    /// Each agent, whole run.
    pub agents: Vec<AgentRow>,
    /// Each agent and interval.
    pub agent_intervals: Vec<AgentIntervalRow>,
}

/// Below this, a time is an offset (simulated time since midnight) rather
/// than milliseconds since the Unix epoch.
const EPOCH_CUTOFF_MS: u64 = 366 * 86_400_000;

/// `HH:MM` (with a `dN ` day prefix past the first day) for offsets,
/// `YYYY-MM-DD HH:MM` (UTC) for epoch times.
fn fmt_time(t: Time) -> String {
    let minutes = t.0 / 60_000;
    let (hh, mm) = ((minutes / 60) % 24, minutes % 60);
    let days = t.0 / 86_400_000;
    if t.0 < EPOCH_CUTOFF_MS {
        if days == 0 { format!("{hh:02}:{mm:02}") } else { format!("d{days} {hh:02}:{mm:02}") }
    } else {
        let (y, m, d) = civil_from_days(days as i64);
        format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}")
    }
}

/// Gregorian date of a day number since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{:.1}", v * 100.0))
}

fn secs(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"))
}

/// `h:mm:ss` of milliseconds.
fn hms(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

fn label(name: Option<&str>, fallback: &str) -> String {
    let mut s: String = name.unwrap_or(fallback).chars().take(16).collect();
    if s.is_empty() {
        s.push('-');
    }
    s
}

const QUEUE_HEADER: &str =
    "Offered Answered  Aband  Exited  OvIn OvOut  Xfer   CB  SL%   Aband%  ASA s  AHT s  MaxWait s";

fn queue_cells(out: &mut String, c: &QueueCounts, f: &QueueFigures) {
    let _ = writeln!(
        out,
        "{:>7} {:>8} {:>6} {:>7} {:>5} {:>5} {:>5} {:>4} {:>6} {:>6} {:>6} {:>6} {:>10.1}",
        c.offered,
        c.answered,
        c.abandoned,
        c.exited,
        c.overflowed_in,
        c.overflowed_out,
        c.transfers_out,
        c.callbacks_requested,
        pct(f.sl.service_level),
        pct(f.abandon_rate),
        secs(f.asa_seconds),
        secs(f.aht_seconds),
        f.longest_wait_seconds,
    );
}

const AGENT_HEADER: &str =
    "Offers  Answ Missed  Rej Handled  AHT s   Occ%  Util%     Ready      Busy    OnHold    WrapUp  NotReady  Reserved";

fn agent_cells(out: &mut String, c: &AgentCounts, f: &AgentFigures) {
    let t = &c.state_ms;
    let _ = writeln!(
        out,
        "{:>6} {:>5} {:>6} {:>4} {:>7} {:>6} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        c.offers,
        c.answered,
        c.missed,
        c.rejected,
        c.handled,
        secs(f.aht_seconds),
        pct(f.occupancy),
        pct(f.utilisation),
        hms(t.get(AgentState::Ready)),
        hms(t.busy),
        hms(t.on_hold),
        hms(t.wrap_up),
        hms(t.not_ready),
        hms(t.reserved),
    );
}

/// A plain fixed-width text rendering of a report for a terminal: queue
/// intervals (per queue), queue totals, agents.
pub fn render_text(report: &KpiReport) -> String {
    let mut out = String::new();
    let cfg = &report.config;
    let _ = writeln!(
        out,
        "KPI report {} - {}  (interval {} min, service level: answered within {} s / offered)",
        fmt_time(report.start),
        fmt_time(report.end),
        cfg.interval_ms / 60_000,
        cfg.sl_threshold_ms as f64 / 1000.0,
    );

    let names: Vec<(QueueId, String)> = report
        .queues
        .iter()
        .filter_map(|r| Some((r.queue?, label(r.name.as_deref(), &r.queue?.to_string()))))
        .collect();
    let queue_name =
        |q: QueueId| names.iter().find(|(id, _)| *id == q).map_or_else(|| q.to_string(), |(_, n)| n.clone());

    out.push_str("\nQueue intervals\n");
    let _ = writeln!(out, "{:<16} {:<17} {QUEUE_HEADER}", "Queue", "Interval");
    let mut last = None;
    for r in &report.intervals {
        if last.is_some() && last != Some(r.queue) {
            out.push('\n');
        }
        last = Some(r.queue);
        let _ =
            write!(out, "{:<16} {:<17} ", queue_name(r.queue), format!("{}-{}", fmt_time(r.start), fmt_time(r.end)));
        queue_cells(&mut out, &r.counts, &r.figures);
    }

    out.push_str("\nQueue totals\n");
    let _ = writeln!(out, "{:<16} {QUEUE_HEADER}", "Queue");
    for r in report.queues.iter().chain(std::iter::once(&report.totals)) {
        let name = match r.queue {
            Some(q) => queue_name(q),
            None => "all queues".to_string(),
        };
        let _ = write!(out, "{name:<16} ");
        queue_cells(&mut out, &r.counts, &r.figures);
    }

    out.push_str("\nAgents\n");
    let _ = writeln!(out, "{:<16} {AGENT_HEADER}", "Agent");
    for r in report.agents.iter().chain(std::iter::once(&report.agent_totals)) {
        let name = match r.agent {
            Some(a) => label(r.name.as_deref(), &a.to_string()),
            None => "all agents".to_string(),
        };
        let _ = write!(out, "{name:<16} ");
        agent_cells(&mut out, &r.counts, &r.figures);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_render_as_offsets_or_dates() {
        assert_eq!(fmt_time(Time(0)), "00:00");
        assert_eq!(fmt_time(Time(15 * 60_000 + 13 * 3_600_000)), "13:15");
        assert_eq!(fmt_time(Time(86_400_000 + 60_000)), "d1 00:01");
        // 2024-02-29 12:30 UTC.
        assert_eq!(fmt_time(Time(1_709_209_800_000)), "2024-02-29 12:30");
        assert_eq!(hms(3_723_999), "1:02:03");
    }

    #[test]
    fn figures_from_counts() {
        let c = QueueCounts {
            offered: 10,
            answered: 6,
            answered_within: 3,
            abandoned: 2,
            exited: 2,
            wait_answered_ms: 60_000,
            wait_abandoned_ms: 20_000,
            handled: 4,
            talk_ms: 400_000,
            hold_ms: 40_000,
            wrap_ms: 80_000,
            longest_wait_ms: 42_500,
            ..Default::default()
        };
        let f = QueueFigures::of(&c);
        assert_eq!(f.sl.service_level, Some(0.3));
        assert_eq!(f.sl.sl_answered, Some(0.5));
        assert_eq!(f.abandon_rate, Some(0.2));
        assert_eq!(f.asa_seconds, Some(10.0));
        assert_eq!(f.mean_wait_all_seconds, Some(10.0));
        assert_eq!(f.mean_abandon_wait_seconds, Some(10.0));
        assert_eq!(f.aht_seconds, Some(130.0));
        assert_eq!(f.talk_seconds, Some(100.0));
        assert_eq!(f.longest_wait_seconds, 42.5);
        let none = QueueFigures::of(&QueueCounts::default());
        assert_eq!(none.aht_seconds, None);
        assert_eq!(none.sl.service_level, None);
    }
}
