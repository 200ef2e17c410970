//! The routing benchmark: a busy center, every agent on a call and a long
//! backlog, driven in virtual time by a small calendar of driver actions
//! (arrivals, answers, hang-ups, agents ending their after-call work)
//! interleaved with the engine's own timers.
//!
//! The driver reacts to the engine (an answer needs the offer's contact and
//! agent), so inputs cannot all be generated up front; instead everything
//! but the `handle` call itself — drawing random numbers, building the
//! input, reading the outputs, scheduling follow-ups — happens outside the
//! timed region, and each `handle` call is timed on its own.

use crate::error::BenchError;
use crate::report::{KindStats, RoutingBenchReport};
use crate::stats::Samples;
use crate::workload::{Workload, agent_id};
use engine::rng::Rng;
use engine::{AgentId, AgentState, Command, ContactId, ContactSpec, Engine, Event, Input, Output, Party, Time};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Mean talk time of a call.
const MEAN_TALK_MS: f64 = 180_000.0;
/// Coefficient of variation of talk times (log-normal).
const TALK_CV: f64 = 0.6;
/// Shortest call.
const MIN_TALK_MS: u64 = 5_000;
/// An offer rings this long, at least, before the agent answers…
const RING_MIN_MS: u64 = 300;
/// …and at most (well below the queues' offer time-out of 15 s).
const RING_MAX_MS: u64 = 3_000;
/// An agent ends after-call work with `Ready` this long after it starts, at
/// least, and at most; beyond the queue's wrap-up time the engine's own
/// timer ends it first.
const READY_MIN_MS: u64 = 2_000;
const READY_MAX_MS: u64 = 40_000;
/// Mean delay of an arrival scheduled to replace a contact that left the
/// backlog (exponential).
const ARRIVAL_DELAY_MS: f64 = 2_000.0;
/// Virtual time of the prefill phase: the backlog builds up, every agent
/// gets a call and the first routing-step time-outs pass.
const PREFILL_MS: u64 = 60_000;
/// Share of hang-ups made by the customer (the rest by the agent).
const CUSTOMER_HANGUP_SHARE: f64 = 0.7;

/// What the routing benchmark simulates and how long it measures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingBenchConfig {
    /// Agents, all logged in.
    pub agents: u32,
    /// Distinct skills.
    pub skills: u32,
    /// Fewest skills an agent has.
    pub min_skills_per_agent: u32,
    /// Most skills an agent has.
    pub max_skills_per_agent: u32,
    /// Queues; queue `i` requires skill `i % skills`.
    pub queues: u32,
    /// Contacts kept waiting (the backlog the driver maintains).
    pub waiting_contacts: u32,
    /// Measured `handle` calls.
    pub events: u64,
    /// Calls made after the prefill and before measuring.
    pub warmup_events: u64,
    /// Seed of the workload and of the engine.
    pub seed: u64,
}

impl Default for RoutingBenchConfig {
    fn default() -> Self {
        RoutingBenchConfig {
            agents: 5_000,
            skills: 100,
            min_skills_per_agent: 1,
            max_skills_per_agent: 8,
            queues: 200,
            waiting_contacts: 20_000,
            events: 2_000_000,
            warmup_events: 200_000,
            seed: 1,
        }
    }
}

impl RoutingBenchConfig {
    /// Check the configuration can be simulated.
    pub fn validate(&self) -> Result<(), BenchError> {
        let mut problems = Vec::new();
        if self.agents == 0 {
            problems.push("agents must be at least 1");
        }
        if self.skills == 0 {
            problems.push("skills must be at least 1");
        }
        if self.queues == 0 {
            problems.push("queues must be at least 1");
        }
        if self.max_skills_per_agent == 0 {
            problems.push("max_skills_per_agent must be at least 1");
        }
        if self.min_skills_per_agent > self.max_skills_per_agent {
            problems.push("min_skills_per_agent must not exceed max_skills_per_agent");
        }
        if self.events == 0 {
            problems.push("events must be at least 1");
        }
        if problems.is_empty() { Ok(()) } else { Err(BenchError::Config(problems.join("; "))) }
    }
}

/// Kinds of measured call, in report order.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    Arrive,
    Accept,
    Hangup,
    Ready,
    Tick,
}

impl Kind {
    const ALL: [Kind; 5] = [Kind::Arrive, Kind::Accept, Kind::Hangup, Kind::Ready, Kind::Tick];

    fn name(self) -> &'static str {
        match self {
            Kind::Arrive => "arrive",
            Kind::Accept => "accept",
            Kind::Hangup => "hangup",
            Kind::Ready => "ready",
            Kind::Tick => "tick",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A driver action due at a time.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    /// A new contact arrives in a queue drawn by weight.
    Arrive,
    /// The agent answers the offer.
    Accept { contact: ContactId, agent: AgentId },
    /// The call ends.
    Hangup { contact: ContactId },
    /// The agent ends after-call work for `contact` (or, with `None`, comes
    /// back after being set not-ready for a missed offer).
    Ready { agent: AgentId, contact: Option<ContactId> },
}

/// Counters of one phase.
#[derive(Clone, Debug, Default)]
struct Counters {
    offers_made: u64,
    answered: u64,
    ended: u64,
    step_changes: u64,
    offer_timeouts: u64,
    wrap_ups_ended_by_agent: u64,
    wrap_ups_ended_by_timer: u64,
    refused: u64,
    engine_events: u64,
    skipped_ready: u64,
    waiting_min: i64,
    waiting_max: i64,
}

struct Driver {
    engine: Engine,
    workload: Workload,
    rng: Rng,
    now: Time,
    calendar: BinaryHeap<Reverse<(u64, u64, Action)>>,
    calendar_seq: u64,
    next_contact: u64,
    /// Contacts waiting (queued and not offered), from the engine's events.
    waiting: i64,
    /// Arrivals in the calendar.
    pending_arrivals: i64,
    /// Backlog to keep: waiting plus pending arrivals.
    target: i64,
    /// The contact each agent is wrapping up, by agent index.
    wrapping: Vec<Option<ContactId>>,
    out: Vec<Output>,
    counters: Counters,
    deadline_poll_ns: u128,
}

impl Driver {
    fn schedule(&mut self, at: u64, action: Action) {
        self.calendar_seq += 1;
        self.calendar.push(Reverse((at, self.calendar_seq, action)));
        if action == Action::Arrive {
            self.pending_arrivals += 1;
        }
    }

    fn uniform(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.rng.below(hi - lo + 1)
    }

    /// Keep the backlog at its target: schedule arrivals for the shortfall.
    fn top_up(&mut self) {
        while self.waiting + self.pending_arrivals < self.target {
            let at = self.now.0 + self.rng.exp(ARRIVAL_DELAY_MS) as u64;
            self.schedule(at, Action::Arrive);
        }
    }

    /// Next input: an engine timer that is due first, else the next
    /// calendar action. `None` for a calendar action that is moot.
    fn next_input(&mut self) -> Result<Option<(Kind, Input)>, BenchError> {
        let t0 = Instant::now();
        let deadline = self.engine.next_deadline();
        self.deadline_poll_ns += t0.elapsed().as_nanos();
        let next_action = self.calendar.peek().map(|Reverse((t, _, _))| *t);
        if let Some(d) = deadline
            && next_action.is_none_or(|t| d.0 <= t)
        {
            self.now = self.now.max(d);
            return Ok(Some((Kind::Tick, Input::Tick)));
        }
        let Some(Reverse((at, _, action))) = self.calendar.pop() else {
            return Err(BenchError::Stalled(self.now));
        };
        self.now = self.now.max(Time(at));
        let input = match action {
            Action::Arrive => {
                self.pending_arrivals -= 1;
                self.next_contact += 1;
                let queue = self.workload.pick_queue(&mut self.rng);
                let contact = ContactSpec::new(ContactId(self.next_contact), queue);
                (Kind::Arrive, Input::Arrive { contact })
            }
            Action::Accept { contact, agent } => (Kind::Accept, Input::Accept { contact, agent }),
            Action::Hangup { contact } => {
                let by = if self.rng.next_f64() < CUSTOMER_HANGUP_SHARE { Party::Customer } else { Party::Agent };
                (Kind::Hangup, Input::Hangup { contact, by })
            }
            Action::Ready { agent, contact } => {
                if contact.is_some() && self.wrapping[agent.0 as usize - 1] != contact {
                    // The engine's wrap-up timer was faster.
                    self.counters.skipped_ready += 1;
                    return Ok(None);
                }
                if contact.is_some() {
                    self.counters.wrap_ups_ended_by_agent += 1;
                }
                (Kind::Ready, Input::Ready { agent })
            }
        };
        Ok(Some(input))
    }

    /// One `handle` call: returns its kind and duration in nanoseconds, or
    /// `None` when the next calendar action turned out to be moot.
    fn step(&mut self) -> Result<Option<(Kind, u64)>, BenchError> {
        let Some((kind, input)) = self.next_input()? else { return Ok(None) };
        let answer = match &input {
            Input::Accept { contact, .. } => Some(*contact),
            _ => None,
        };
        self.out.clear();
        let t0 = Instant::now();
        let result = self.engine.handle(self.now, input, &mut self.out);
        let ns = t0.elapsed().as_nanos() as u64;
        if result.is_err() {
            self.counters.refused += 1;
        } else if let Some(contact) = answer {
            let talk = (self.rng.lognormal(MEAN_TALK_MS, TALK_CV) as u64).max(MIN_TALK_MS);
            self.schedule(self.now.0 + talk, Action::Hangup { contact });
        }
        self.absorb(kind);
        self.top_up();
        Ok(Some((kind, ns)))
    }

    /// Read the outputs of the last call and schedule what follows.
    fn absorb(&mut self, kind: Kind) {
        let out = std::mem::take(&mut self.out);
        for o in &out {
            match o {
                Output::Command(Command::Offer { contact, agent, .. }) => {
                    self.counters.offers_made += 1;
                    let at = self.now.0 + self.uniform(RING_MIN_MS, RING_MAX_MS);
                    self.schedule(at, Action::Accept { contact: *contact, agent: *agent });
                }
                Output::Command(_) => {}
                Output::Event(rec) => {
                    self.counters.engine_events += 1;
                    match &rec.event {
                        Event::ContactQueued { .. } => self.waiting += 1,
                        Event::ContactOffered { .. } => self.waiting -= 1,
                        Event::OfferRejected { .. } | Event::OfferRescinded { .. } => self.waiting += 1,
                        Event::OfferTimedOut { agent, .. } => {
                            self.waiting += 1;
                            self.counters.offer_timeouts += 1;
                            // The agent was set not-ready: bring them back.
                            let at = self.now.0 + self.uniform(RING_MIN_MS, RING_MAX_MS);
                            self.schedule(at, Action::Ready { agent: *agent, contact: None });
                        }
                        Event::ContactAnswered { .. } => self.counters.answered += 1,
                        Event::ContactEnded { .. } => self.counters.ended += 1,
                        Event::StepChanged { .. } => self.counters.step_changes += 1,
                        Event::WrapUpStarted { agent, contact, .. } => {
                            self.wrapping[agent.0 as usize - 1] = Some(*contact);
                            let at = self.now.0 + self.uniform(READY_MIN_MS, READY_MAX_MS);
                            let ready = Action::Ready { agent: *agent, contact: Some(*contact) };
                            self.schedule(at, ready);
                        }
                        Event::WrapUpEnded { agent, .. } => {
                            self.wrapping[agent.0 as usize - 1] = None;
                            if kind == Kind::Tick {
                                self.counters.wrap_ups_ended_by_timer += 1;
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        self.out = out;
        self.counters.waiting_min = self.counters.waiting_min.min(self.waiting);
        self.counters.waiting_max = self.counters.waiting_max.max(self.waiting);
    }

    fn reset_counters(&mut self) {
        self.counters = Counters { waiting_min: self.waiting, waiting_max: self.waiting, ..Counters::default() };
        self.deadline_poll_ns = 0;
    }

    /// Agents that are ready (idle), and agents occupied (reserved, busy,
    /// on hold or wrapping up).
    fn agent_states(&self) -> (u32, u32) {
        let (mut idle, mut occupied) = (0, 0);
        for v in self.engine.agent_views() {
            match v.state {
                AgentState::Ready => idle += 1,
                AgentState::Reserved | AgentState::Busy | AgentState::OnHold | AgentState::WrapUp => occupied += 1,
                AgentState::Offline | AgentState::NotReady => {}
            }
        }
        (idle, occupied)
    }

    /// Contacts waiting, as the engine counts them.
    fn engine_waiting(&self) -> u64 {
        self.engine.queue_views(self.now).iter().map(|q| u64::from(q.waiting)).sum()
    }
}

/// Run the routing benchmark: build the center, log every agent in, build
/// the backlog, warm up, then time `cfg.events` calls of
/// [`Engine::handle`] one by one. Single-threaded; run it on a quiet core.
pub fn run_routing_bench(cfg: &RoutingBenchConfig) -> Result<RoutingBenchReport, BenchError> {
    cfg.validate()?;
    let setup_start = Instant::now();
    let mut rng = Rng::new(cfg.seed);
    let workload = Workload::generate(cfg, &mut rng);
    let mut out = Vec::new();
    let engine = Engine::start(workload.config.clone(), Time(0), &mut out)?;
    out.clear();
    let mut d = Driver {
        engine,
        workload,
        rng,
        now: Time(0),
        calendar: BinaryHeap::new(),
        calendar_seq: 0,
        next_contact: 0,
        waiting: 0,
        pending_arrivals: 0,
        target: i64::from(cfg.waiting_contacts),
        wrapping: vec![None; cfg.agents as usize],
        out,
        counters: Counters::default(),
        deadline_poll_ns: 0,
    };
    for i in 0..cfg.agents {
        d.engine.handle(Time(0), Input::Login { agent: agent_id(i) }, &mut d.out)?;
        d.out.clear();
    }
    // Prefill: enough arrivals for every agent and the backlog, then run
    // until the first routing-step time-outs have passed.
    d.target = i64::from(cfg.waiting_contacts) + i64::from(cfg.agents);
    d.top_up();
    d.target = i64::from(cfg.waiting_contacts);
    while d.now.0 < PREFILL_MS {
        d.step()?;
    }
    let mut done = 0;
    while done < cfg.warmup_events {
        if d.step()?.is_some() {
            done += 1;
        }
    }
    let setup_seconds = setup_start.elapsed().as_secs_f64();

    // Measure.
    let (idle_agents_at_start, busy_agents_at_start) = d.agent_states();
    let waiting_at_start = d.engine_waiting();
    d.reset_counters();
    let start_time = d.now;
    let per_kind = (cfg.events / 3).min(1 << 22) as usize; // grows beyond if needed
    let mut samples: Vec<Samples> = Kind::ALL.iter().map(|_| Samples::with_capacity(per_kind)).collect();
    let clock_overhead_ns = clock_overhead_ns();
    let sched_start = thread_schedstat();
    let wall = Instant::now();
    let mut measured = 0;
    while measured < cfg.events {
        if let Some((kind, ns)) = d.step()? {
            samples[kind.index()].record(ns);
            measured += 1;
        }
    }
    let measured_wall_seconds = wall.elapsed().as_secs_f64();
    let sched = sched_start.zip(thread_schedstat()).map(|((cpu0, wait0), (cpu1, wait1))| {
        (cpu1.saturating_sub(cpu0) as f64 / 1e9, wait1.saturating_sub(wait0) as f64 / 1e9)
    });
    let virtual_seconds = d.now.since(start_time) as f64 / 1_000.0;
    let (idle_agents_at_end, busy_agents_at_end) = d.agent_states();
    let waiting_at_end = d.engine_waiting();

    let mut all = Samples::with_capacity(measured as usize);
    for s in &samples {
        all.extend(s);
    }
    let total = all.summary();
    let handle_seconds = total.total_ns as f64 / 1e9;
    let mix = Kind::ALL
        .iter()
        .zip(samples.iter_mut())
        .map(|(k, s)| {
            let m = s.summary();
            KindStats {
                kind: k.name().to_string(),
                count: m.count,
                share: m.count as f64 / measured as f64,
                mean_us: m.mean_us,
                p50_us: m.p50_us,
                p99_us: m.p99_us,
                max_us: m.max_us,
            }
        })
        .collect();
    let c = &d.counters;
    let deadline_poll_seconds = d.deadline_poll_ns as f64 / 1e9;
    Ok(RoutingBenchReport {
        config: cfg.clone(),
        events: measured,
        events_per_second: if handle_seconds > 0.0 { measured as f64 / handle_seconds } else { 0.0 },
        events_per_second_with_polling: measured as f64 / (handle_seconds + deadline_poll_seconds).max(1e-12),
        mean_us: total.mean_us,
        p50_us: total.p50_us,
        p90_us: total.p90_us,
        p99_us: total.p99_us,
        p999_us: total.p999_us,
        max_us: total.max_us,
        mix,
        offers_made: c.offers_made,
        answered: c.answered,
        ended: c.ended,
        step_changes: c.step_changes,
        offer_timeouts: c.offer_timeouts,
        wrap_ups_ended_by_agent: c.wrap_ups_ended_by_agent,
        wrap_ups_ended_by_timer: c.wrap_ups_ended_by_timer,
        refused: c.refused,
        engine_events: c.engine_events,
        waiting_at_start,
        waiting_min: c.waiting_min.max(0) as u64,
        waiting_max: c.waiting_max.max(0) as u64,
        waiting_at_end,
        driver_waiting_at_end: d.waiting.max(0) as u64,
        busy_agents_at_start,
        idle_agents_at_start,
        busy_agents_at_end,
        idle_agents_at_end,
        agents: cfg.agents,
        queues: cfg.queues,
        skills: cfg.skills,
        two_step_queues: d.workload.two_step_queues,
        priority_queues: d.workload.priority_queues,
        wrap_up_queues: d.workload.wrap_up_queues,
        virtual_seconds,
        handle_seconds,
        deadline_poll_seconds,
        measured_wall_seconds,
        measured_cpu_seconds: sched.map(|s| s.0),
        measured_runqueue_wait_seconds: sched.map(|s| s.1),
        clock_overhead_ns,
        setup_seconds,
    })
}

/// On-CPU time and run-queue wait of the calling thread so far, in
/// nanoseconds (Linux; `None` elsewhere). A long wait means other work
/// shared the core and the figures are pessimistic.
fn thread_schedstat() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut fields = s.split_whitespace().map(|x| x.parse::<u64>().ok());
    Some((fields.next()??, fields.next()??))
}

/// Median cost of an empty timed region (`Instant::now` + `elapsed`), which
/// every latency sample includes.
fn clock_overhead_ns() -> f64 {
    let mut s = Samples::with_capacity(10_001);
    for _ in 0..10_001 {
        let t0 = Instant::now();
        s.record(t0.elapsed().as_nanos() as u64);
    }
    s.summary().p50_us * 1_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> RoutingBenchConfig {
        RoutingBenchConfig {
            agents: 50,
            skills: 5,
            min_skills_per_agent: 1,
            max_skills_per_agent: 3,
            queues: 5,
            waiting_contacts: 200,
            events: 5_000,
            warmup_events: 1_000,
            seed: 7,
        }
    }

    #[test]
    fn tiny_run_measures_real_routing() {
        let cfg = tiny();
        let r = run_routing_bench(&cfg).expect("bench runs");
        assert_eq!(r.events, 5_000);
        assert_eq!(r.mix.iter().map(|k| k.count).sum::<u64>(), 5_000);
        for kind in ["arrive", "accept", "hangup", "ready", "tick"] {
            let k = r.mix.iter().find(|k| k.kind == kind).expect("kind listed");
            assert!(k.count > 0, "no {kind} events measured: {r:?}");
        }
        assert_eq!(r.refused, 0, "the engine refused driver inputs");
        assert_eq!(r.offer_timeouts, 0, "offers are answered promptly");
        // Offers are made and answered, calls end.
        assert!(r.offers_made > 500, "{r:?}");
        assert!(r.answered + 60 >= r.offers_made && r.answered <= r.offers_made + 60, "{r:?}");
        assert!(r.ended > 500, "{r:?}");
        assert_eq!((r.two_step_queues, r.priority_queues, r.wrap_up_queues), (1, 1, 3));
        assert!(r.step_changes > 0, "two-step queues change steps: {r:?}");
        // The backlog stays near its target, and the driver's count agrees with the engine's.
        assert_eq!(r.driver_waiting_at_end, r.waiting_at_end);
        assert!((150..=200).contains(&r.waiting_at_end), "{r:?}");
        assert!(r.waiting_min >= 100 && r.waiting_max <= 200, "{r:?}");
        // Every agent is working.
        assert!(r.busy_agents_at_start >= 45, "{r:?}");
        // Timing is real.
        assert!(r.p50_us > 0.0 && r.p99_us >= r.p50_us && r.max_us >= r.p999_us);
        assert!(r.events_per_second > 0.0 && r.handle_seconds > 0.0);
        assert!(r.virtual_seconds > 0.0);
        let text = crate::render_text(&r);
        assert!(text.contains("events/s"), "{text}");
        let json = r.to_json().expect("json");
        assert!(json.contains("\"events_per_second\""));
    }

    #[test]
    fn runs_are_reproducible_in_what_they_simulate() {
        let a = run_routing_bench(&tiny()).expect("bench runs");
        let b = run_routing_bench(&tiny()).expect("bench runs");
        assert_eq!(a.offers_made, b.offers_made);
        assert_eq!(a.answered, b.answered);
        assert_eq!(a.engine_events, b.engine_events);
        assert_eq!(
            a.mix.iter().map(|k| k.count).collect::<Vec<_>>(),
            b.mix.iter().map(|k| k.count).collect::<Vec<_>>()
        );
    }

    #[test]
    fn bad_configurations_are_refused() {
        let cfg = RoutingBenchConfig { agents: 0, ..tiny() };
        assert!(matches!(run_routing_bench(&cfg), Err(BenchError::Config(_))));
        let cfg = RoutingBenchConfig { min_skills_per_agent: 4, max_skills_per_agent: 2, ..tiny() };
        assert!(matches!(run_routing_bench(&cfg), Err(BenchError::Config(_))));
    }
}
