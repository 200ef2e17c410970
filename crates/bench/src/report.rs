//! The routing benchmark's report and its text rendering.

use crate::error::BenchError;
use crate::routing::RoutingBenchConfig;
use serde::Serialize;
use std::fmt::Write as _;

/// Figures of one kind of measured call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KindStats {
    /// `arrive`, `accept`, `hangup`, `ready` (an agent ends after-call work
    /// and takes the next contact) or `tick` (engine timers: routing-step
    /// time-outs, wrap-up ends).
    pub kind: String,
    /// Calls of this kind.
    pub count: u64,
    /// Share of all measured calls.
    pub share: f64,
    /// Mean latency, microseconds.
    pub mean_us: f64,
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 99th percentile, microseconds.
    pub p99_us: f64,
    /// Slowest call, microseconds.
    pub max_us: f64,
}

/// What the routing benchmark measured. Latencies are per
/// [`engine::Engine::handle`] call, timers fired inside the call included.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoutingBenchReport {
    /// The configuration run.
    pub config: RoutingBenchConfig,
    /// Measured calls.
    pub events: u64,
    /// Measured calls per second of time spent inside `handle`.
    pub events_per_second: f64,
    /// The same, counting also the time spent in `next_deadline` (which
    /// drops stale timers) between calls.
    pub events_per_second_with_polling: f64,
    /// Mean latency, microseconds.
    pub mean_us: f64,
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 90th percentile, microseconds.
    pub p90_us: f64,
    /// 99th percentile, microseconds.
    pub p99_us: f64,
    /// 99.9th percentile, microseconds.
    pub p999_us: f64,
    /// Slowest call, microseconds.
    pub max_us: f64,
    /// Per kind of call.
    pub mix: Vec<KindStats>,
    /// Offers the engine made while measuring.
    pub offers_made: u64,
    /// Contacts answered while measuring.
    pub answered: u64,
    /// Contacts whose life ended while measuring.
    pub ended: u64,
    /// Routing-step changes (two-step queues widening to every member).
    pub step_changes: u64,
    /// Offers that timed out (should be zero: offers are answered promptly).
    pub offer_timeouts: u64,
    /// After-call work ended by the agent (`Ready`).
    pub wrap_ups_ended_by_agent: u64,
    /// After-call work ended by the engine's timer.
    pub wrap_ups_ended_by_timer: u64,
    /// Inputs the engine refused (should be zero).
    pub refused: u64,
    /// Events the engine emitted while measuring.
    pub engine_events: u64,
    /// Contacts waiting when measuring began.
    pub waiting_at_start: u64,
    /// Fewest contacts waiting after any measured call.
    pub waiting_min: u64,
    /// Most contacts waiting after any measured call.
    pub waiting_max: u64,
    /// Contacts waiting at the end, as the engine counts them.
    pub waiting_at_end: u64,
    /// Contacts waiting at the end, as the driver counted them from events.
    pub driver_waiting_at_end: u64,
    /// Agents reserved, busy or wrapping up when measuring began.
    pub busy_agents_at_start: u32,
    /// Agents idle (ready, nothing to do) when measuring began.
    pub idle_agents_at_start: u32,
    /// Agents reserved, busy or wrapping up at the end.
    pub busy_agents_at_end: u32,
    /// Agents idle at the end.
    pub idle_agents_at_end: u32,
    /// Agents.
    pub agents: u32,
    /// Queues.
    pub queues: u32,
    /// Skills.
    pub skills: u32,
    /// Queues with two routing steps.
    pub two_step_queues: u32,
    /// Queues with a priority boost.
    pub priority_queues: u32,
    /// Queues with after-call work.
    pub wrap_up_queues: u32,
    /// Virtual time the measured calls spanned, seconds.
    pub virtual_seconds: f64,
    /// Time spent inside `handle`, seconds.
    pub handle_seconds: f64,
    /// Time spent inside `next_deadline`, seconds.
    pub deadline_poll_seconds: f64,
    /// Wall time of the measured phase, driver included, seconds.
    pub measured_wall_seconds: f64,
    /// On-CPU time of the benchmark thread during the measured phase,
    /// seconds (Linux only).
    pub measured_cpu_seconds: Option<f64>,
    /// Time the benchmark thread waited for a CPU during the measured phase,
    /// seconds (Linux only). Much above zero: the machine was busy and the
    /// figures are pessimistic.
    pub measured_runqueue_wait_seconds: Option<f64>,
    /// Median cost of an empty timed region, nanoseconds (included in every
    /// latency sample).
    pub clock_overhead_ns: f64,
    /// Wall time of generation, start-up, prefill and warm-up, seconds.
    pub setup_seconds: f64,
}

impl RoutingBenchReport {
    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, BenchError> {
        Ok(serde_json::to_string_pretty(self)?)
    }
}

/// The report for people.
pub fn render_text(r: &RoutingBenchReport) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        s,
        "routing benchmark: {} agents, {} skills ({}-{} per agent), {} queues ({} two-step, {} priority, {} with wrap-up), {} waiting",
        r.agents,
        r.skills,
        r.config.min_skills_per_agent,
        r.config.max_skills_per_agent,
        r.queues,
        r.two_step_queues,
        r.priority_queues,
        r.wrap_up_queues,
        r.config.waiting_contacts,
    );
    let _ = writeln!(
        s,
        "  {} events in {:.3} s inside handle: {:.0} events/s ({:.0} events/s counting next_deadline, {:.3} s)",
        r.events, r.handle_seconds, r.events_per_second, r.events_per_second_with_polling, r.deadline_poll_seconds,
    );
    let _ = writeln!(
        s,
        "  latency us: mean {:.2}  p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.1}",
        r.mean_us, r.p50_us, r.p90_us, r.p99_us, r.p999_us, r.max_us
    );
    let _ = writeln!(
        s,
        "  {:<8} {:>9} {:>7} {:>9} {:>9} {:>9} {:>10}",
        "kind", "count", "share", "mean us", "p50 us", "p99 us", "max us"
    );
    for k in &r.mix {
        let _ = writeln!(
            s,
            "  {:<8} {:>9} {:>6.1}% {:>9.2} {:>9.2} {:>9.2} {:>10.1}",
            k.kind,
            k.count,
            k.share * 100.0,
            k.mean_us,
            k.p50_us,
            k.p99_us,
            k.max_us
        );
    }
    let _ = writeln!(
        s,
        "  offers {}  answered {}  ended {}  step changes {}  offer time-outs {}  wrap-ups ended by agent {} / by timer {}  refused {}  engine events {}",
        r.offers_made,
        r.answered,
        r.ended,
        r.step_changes,
        r.offer_timeouts,
        r.wrap_ups_ended_by_agent,
        r.wrap_ups_ended_by_timer,
        r.refused,
        r.engine_events,
    );
    let _ = writeln!(
        s,
        "  waiting: start {}  min {}  max {}  end {}; agents busy/idle: start {}/{}  end {}/{}",
        r.waiting_at_start,
        r.waiting_min,
        r.waiting_max,
        r.waiting_at_end,
        r.busy_agents_at_start,
        r.idle_agents_at_start,
        r.busy_agents_at_end,
        r.idle_agents_at_end,
    );
    let _ = write!(
        s,
        "  virtual time {:.0} s; wall time: setup {:.2} s, measured phase {:.2} s",
        r.virtual_seconds, r.setup_seconds, r.measured_wall_seconds
    );
    if let (Some(cpu), Some(wait)) = (r.measured_cpu_seconds, r.measured_runqueue_wait_seconds) {
        let _ = write!(s, " (on CPU {cpu:.2} s, waiting for a CPU {wait:.2} s)");
    }
    let _ = writeln!(s, "; clock overhead {:.0} ns per sample", r.clock_overhead_ns);
    if let Some(wait) = r.measured_runqueue_wait_seconds
        && wait > 0.02 * r.measured_wall_seconds
    {
        let _ = writeln!(
            s,
            "  warning: the thread waited {:.0}% of the measured phase for a CPU; other load disturbed the figures",
            100.0 * wait / r.measured_wall_seconds.max(1e-9)
        );
    }
    s
}
