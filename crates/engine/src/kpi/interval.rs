//! The interval fold: per queue × interval, per agent × interval and
//! whole-run figures. See the [module documentation](super) for what is
//! counted and where it is attributed.

use super::counts::{AgentCounts, QueueCounts};
use super::hash::FastMap;
use super::report::{AgentIntervalRow, AgentRow, KpiReport, QueueIntervalRow, QueueRow};
use super::{Fold, KpiConfig};
use crate::{AgentId, AgentState, Channel, Event, EventRecord, ExitAction, Outcome, QueueId, Time};
use std::collections::hash_map::Entry;

/// The queue entry has been answered.
const ANSWERED: u8 = 1;
/// The queue entry is a callback.
const CALLBACK: u8 = 2;
/// A callback retry happened: the next `ContactQueued` is the same entry.
const RETRY: u8 = 4;
/// An agent's handling segment is open (`seg_*` are valid).
const SEGMENT: u8 = 8;

/// What the fold remembers of a live contact (24 bytes).
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
struct Live {
    /// Queue of the current entry.
    queue: u32,
    /// Interval (relative) in which the contact entered that queue.
    interval: u32,
    /// Queue the open segment was answered from.
    seg_queue: u32,
    /// Interval (relative) of the answer that opened the segment.
    seg_interval: u32,
    /// Agent of the open segment.
    seg_agent: u32,
    /// `ANSWERED | CALLBACK | RETRY | SEGMENT`.
    flags: u8,
}

/// A closed segment whose wrap-up may still come.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
struct PendingWrap {
    contact: u64,
    queue: u32,
    interval: u32,
    /// When the segment closed (or the wrap-up started).
    at: Time,
    /// `WrapUpStarted` was seen: keep until `WrapUpEnded`.
    started: bool,
}

/// At most this many pending wrap-ups are kept per agent.
const MAX_PENDING_WRAPS: usize = 64;

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
struct QueueSlot {
    seen: bool,
    name: Option<String>,
    intervals: Vec<QueueCounts>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct AgentSlot {
    seen: bool,
    name: Option<String>,
    /// State time is being tracked (`state` since `since`).
    tracking: bool,
    state: AgentState,
    since: Time,
    intervals: Vec<AgentCounts>,
    pending: Vec<PendingWrap>,
}

impl Default for AgentSlot {
    fn default() -> Self {
        AgentSlot {
            seen: false,
            name: None,
            tracking: false,
            state: AgentState::Offline,
            since: Time(0),
            intervals: Vec::new(),
            pending: Vec::new(),
        }
    }
}

/// Per queue × interval, per agent × interval and whole-run KPIs, folded
/// from events. Queues and agents are stored in vectors indexed by id (ids
/// must be small and dense), intervals in a vector per queue and agent
/// indexed by interval number, counted from the interval of the first
/// event. Memory grows with queues × intervals (about 400 bytes each) plus
/// the contacts currently live.
///
/// ```
/// use engine::kpi::{IntervalFold, KpiConfig};
/// use engine::*;
/// let mut fold = IntervalFold::new(KpiConfig::default());
/// let queued = Event::ContactQueued {
///     contact: ContactId(1), queue: QueueId(1), priority: 0,
///     waiting_since: Time(0), channel: Channel::Voice,
/// };
/// fold.apply(&EventRecord { v: SCHEMA_VERSION, seq: 1, at: Time(0), event: queued });
/// fold.finish(Time(60_000));
/// let report = fold.report();
/// assert_eq!(report.totals.counts.offered, 1);
/// ```
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct IntervalFold {
    config: KpiConfig,
    interval_ms: u64,
    /// A first event has been seen: `origin` and `base` are set.
    started: bool,
    /// Time of the first event.
    origin: Time,
    /// Absolute number of the first event's interval (relative interval 0).
    base: u64,
    /// Latest event or finish time.
    last_at: Time,
    queues: Vec<QueueSlot>,
    agents: Vec<AgentSlot>,
    live: FastMap<u64, Live>,
}

#[inline]
fn queue_slot(queues: &mut Vec<QueueSlot>, q: u32) -> &mut QueueSlot {
    let q = q as usize;
    if q >= queues.len() {
        queues.resize_with(q + 1, QueueSlot::default);
    }
    &mut queues[q]
}

#[inline]
fn queue_at(queues: &mut Vec<QueueSlot>, q: u32, i: u32) -> &mut QueueCounts {
    let slot = queue_slot(queues, q);
    slot.seen = true;
    let i = i as usize;
    if i >= slot.intervals.len() {
        slot.intervals.resize_with(i + 1, QueueCounts::default);
    }
    &mut slot.intervals[i]
}

#[inline]
fn agent_slot(agents: &mut Vec<AgentSlot>, a: u32) -> &mut AgentSlot {
    let a = a as usize;
    if a >= agents.len() {
        agents.resize_with(a + 1, AgentSlot::default);
    }
    let slot = &mut agents[a];
    slot.seen = true;
    slot
}

#[inline]
fn agent_interval(slot: &mut AgentSlot, i: u32) -> &mut AgentCounts {
    let i = i as usize;
    if i >= slot.intervals.len() {
        slot.intervals.resize_with(i + 1, AgentCounts::default);
    }
    &mut slot.intervals[i]
}

#[inline]
fn agent_at(agents: &mut Vec<AgentSlot>, a: u32, i: u32) -> &mut AgentCounts {
    agent_interval(agent_slot(agents, a), i)
}

impl IntervalFold {
    /// An empty fold.
    pub fn new(config: KpiConfig) -> Self {
        Self::with_capacity(config, 0, 0, 0)
    }

    /// An empty fold with room for queue ids below `queues`, agent ids
    /// below `agents` and `contacts` contacts live at once.
    pub fn with_capacity(config: KpiConfig, queues: usize, agents: usize, contacts: usize) -> Self {
        let mut live = FastMap::default();
        live.reserve(contacts);
        IntervalFold {
            interval_ms: config.interval_ms.max(1),
            config,
            started: false,
            origin: Time(0),
            base: 0,
            last_at: Time(0),
            queues: Vec::with_capacity(queues),
            agents: Vec::with_capacity(agents),
            live,
        }
    }

    /// The settings.
    pub fn config(&self) -> &KpiConfig {
        &self.config
    }

    /// Contacts currently live (entered a queue and not ended).
    pub fn live_contacts(&self) -> usize {
        self.live.len()
    }

    /// Relative interval number of a time (0 for times before the first
    /// event's interval).
    #[inline]
    fn idx(&self, at: Time) -> u32 {
        (at.0 / self.interval_ms).saturating_sub(self.base) as u32
    }

    /// Start time of a relative interval.
    fn interval_start(&self, i: u64) -> Time {
        Time((self.base + i).saturating_mul(self.interval_ms))
    }

    /// Queue and interval an outcome of `contact` in `queue` goes to: the
    /// interval of entry into that queue when known, else `now_i`.
    #[inline]
    fn entry_of(&self, contact: u64, queue: u32, now_i: u32) -> (u32, u32) {
        match self.live.get(&contact) {
            Some(e) if e.queue == queue => (queue, e.interval),
            _ => (queue, now_i),
        }
    }

    /// Like [`entry_of`](Self::entry_of), for a contact leaving `queue`
    /// without an agent: a contact that was never queued there (refused by
    /// a full queue, sent on at once because nobody is logged in) counts as
    /// offered there now.
    #[inline]
    fn entry_of_leaving(&mut self, contact: u64, queue: u32, now_i: u32) -> (u32, u32) {
        match self.live.get(&contact) {
            Some(e) if e.queue == queue => (queue, e.interval),
            _ => {
                queue_at(&mut self.queues, queue, now_i).offered += 1;
                (queue, now_i)
            }
        }
    }

    /// Take one event into account.
    pub fn apply(&mut self, rec: &EventRecord) {
        let at = rec.at;
        if !self.started {
            self.started = true;
            self.origin = at;
            self.base = at.0 / self.interval_ms;
        }
        if at > self.last_at {
            self.last_at = at;
        }
        let now_i = self.idx(at);
        let threshold = self.config.sl_threshold_ms;
        match &rec.event {
            Event::ContactQueued { contact, queue, channel, .. } => {
                let callback = if *channel == Channel::Callback { CALLBACK } else { 0 };
                let fresh = Live {
                    queue: queue.0,
                    interval: now_i,
                    seg_queue: 0,
                    seg_interval: 0,
                    seg_agent: 0,
                    flags: callback,
                };
                match self.live.entry(contact.0) {
                    Entry::Occupied(mut e) => {
                        let e = e.get_mut();
                        if e.flags & RETRY != 0 && e.queue == queue.0 {
                            e.flags = (e.flags & !RETRY) | callback;
                            return;
                        }
                        // A new queue entry (overflow, transfer to a queue):
                        // keep an open segment, if any.
                        e.flags = callback | (e.flags & SEGMENT);
                        e.queue = queue.0;
                        e.interval = now_i;
                    }
                    Entry::Vacant(v) => {
                        v.insert(fresh);
                    }
                }
                queue_at(&mut self.queues, queue.0, now_i).offered += 1;
            }
            Event::ContactOffered { agent, .. } => {
                agent_at(&mut self.agents, agent.0, now_i).offers += 1;
            }
            Event::OfferTimedOut { agent, .. } => {
                agent_at(&mut self.agents, agent.0, now_i).missed += 1;
            }
            Event::OfferRejected { agent, .. } => {
                agent_at(&mut self.agents, agent.0, now_i).rejected += 1;
            }
            Event::ContactAnswered { contact, queue, agent, channel, wait_ms } => {
                let e = self.live.entry(contact.0).or_insert(Live {
                    queue: queue.0,
                    interval: now_i,
                    seg_queue: 0,
                    seg_interval: 0,
                    seg_agent: 0,
                    flags: 0,
                });
                if e.flags & ANSWERED == 0 {
                    e.flags |= ANSWERED;
                    let i = if e.queue == queue.0 { e.interval } else { now_i };
                    let callback = e.flags & CALLBACK != 0 || *channel == Channel::Callback;
                    queue_at(&mut self.queues, queue.0, i).answer(*wait_ms, threshold, callback);
                }
                e.seg_queue = queue.0;
                e.seg_interval = now_i;
                e.seg_agent = agent.0;
                e.flags |= SEGMENT;
                agent_at(&mut self.agents, agent.0, now_i).answered += 1;
            }
            Event::ContactTransferred { contact, queue, agent, talk_ms, hold_ms, .. } => {
                self.close_segment(at, now_i, contact.0, agent.0, queue.0, *talk_ms, *hold_ms, true);
            }
            Event::ContactOverflowed { contact, from, to, .. } => {
                let (q, i) = self.entry_of_leaving(contact.0, from.0, now_i);
                queue_at(&mut self.queues, q, i).overflowed_out += 1;
                queue_at(&mut self.queues, to.0, now_i).overflowed_in += 1;
            }
            Event::ContactAbandoned { contact, queue, wait_ms, .. } => {
                let (q, i) = self.entry_of(contact.0, queue.0, now_i);
                let short = self.config.short_abandon_ms;
                queue_at(&mut self.queues, q, i).abandon(*wait_ms, threshold, short);
            }
            Event::ContactExited { contact, queue, action, .. } => {
                let (q, i) = self.entry_of_leaving(contact.0, queue.0, now_i);
                let c = queue_at(&mut self.queues, q, i);
                match action {
                    ExitAction::Overflow { .. } => c.exited_to_overflow += 1,
                    ExitAction::Callback => c.exited_to_callback += 1,
                    ExitAction::Disconnect | ExitAction::Voicemail => c.exited += 1,
                }
            }
            Event::CallbackRequested { contact, queue, .. } => {
                let (q, i) = self.entry_of(contact.0, queue.0, now_i);
                queue_at(&mut self.queues, q, i).callbacks_requested += 1;
                if let Some(e) = self.live.get_mut(&contact.0) {
                    e.flags |= CALLBACK;
                }
            }
            Event::CallbackAttemptFailed { contact, queue, .. } => {
                let (q, i) = self.entry_of(contact.0, queue.0, now_i);
                queue_at(&mut self.queues, q, i).callback_attempts_failed += 1;
            }
            Event::CallbackRetry { contact, queue } => {
                // A fold started mid-run learns of the entry here: its
                // offer was before the fold's first event.
                let e = self.live.entry(contact.0).or_insert(Live {
                    queue: queue.0,
                    interval: now_i,
                    seg_queue: 0,
                    seg_interval: 0,
                    seg_agent: 0,
                    flags: CALLBACK,
                });
                e.flags |= RETRY;
            }
            Event::ContactEnded { contact, queue, outcome, agent, talk_ms, hold_ms, .. } => {
                match outcome {
                    Outcome::Handled => match agent {
                        Some(a) => {
                            self.close_segment(at, now_i, contact.0, a.0, queue.0, *talk_ms, *hold_ms, false);
                        }
                        None => {
                            let (q, i) = match self.live.get(&contact.0) {
                                Some(e) if e.flags & SEGMENT != 0 => (e.seg_queue, e.seg_interval),
                                _ => (queue.0, now_i),
                            };
                            queue_at(&mut self.queues, q, i).segment(*talk_ms, *hold_ms, false);
                        }
                    },
                    Outcome::CallbackFailed => {
                        let (q, i) = self.entry_of(contact.0, queue.0, now_i);
                        queue_at(&mut self.queues, q, i).callbacks_failed += 1;
                    }
                    Outcome::Abandoned | Outcome::Exited => {}
                }
                self.live.remove(&contact.0);
            }
            Event::WrapUpStarted { contact, queue, agent, .. } => {
                let seg = match self.live.get(&contact.0) {
                    Some(e) if e.flags & SEGMENT != 0 && e.seg_agent == agent.0 => (e.seg_queue, e.seg_interval),
                    _ => (queue.0, now_i),
                };
                let slot = agent_slot(&mut self.agents, agent.0);
                slot.pending.retain(|p| p.started || p.at >= at || p.contact == contact.0);
                match slot.pending.iter_mut().find(|p| p.contact == contact.0) {
                    Some(p) => p.started = true,
                    None => {
                        let (queue, interval) = seg;
                        push_pending(
                            &mut slot.pending,
                            PendingWrap { contact: contact.0, queue, interval, at, started: true },
                        );
                    }
                }
            }
            Event::WrapUpEnded { contact, queue, agent, wrap_ms } => {
                let slot = agent_slot(&mut self.agents, agent.0);
                let (q, i) = match slot.pending.iter().position(|p| p.contact == contact.0) {
                    Some(k) => {
                        let p = slot.pending.swap_remove(k);
                        (p.queue, p.interval)
                    }
                    None => match self.live.get(&contact.0) {
                        Some(e) if e.flags & SEGMENT != 0 && e.seg_agent == agent.0 => (e.seg_queue, e.seg_interval),
                        _ => (queue.0, now_i),
                    },
                };
                agent_at(&mut self.agents, agent.0, i).wrap_ms += wrap_ms;
                queue_at(&mut self.queues, q, i).wrap_ms += wrap_ms;
            }
            Event::AgentStateChanged { agent, from, to, in_state_ms, .. } => {
                let (interval_ms, base, origin) = (self.interval_ms, self.base, self.origin);
                let slot = agent_slot(&mut self.agents, agent.0);
                if !slot.tracking {
                    slot.tracking = true;
                    slot.state = *from;
                    slot.since = Time(at.0.saturating_sub(*in_state_ms).max(origin.0));
                }
                add_span(slot, at, interval_ms, base);
                slot.state = *to;
            }
            Event::QueueConfigured { queue } => {
                let slot = queue_slot(&mut self.queues, queue.id.0);
                slot.seen = true;
                if slot.name.as_deref() != Some(queue.name.as_str()) {
                    slot.name = Some(queue.name.clone());
                }
            }
            Event::AgentConfigured { agent } => {
                let slot = agent_slot(&mut self.agents, agent.id.0);
                if slot.name.as_deref() != Some(agent.name.as_str()) {
                    slot.name = Some(agent.name.clone());
                }
                if !slot.tracking {
                    slot.tracking = true;
                    slot.state = AgentState::Offline;
                    slot.since = at;
                }
            }
            Event::AgentRemoved { agent } => {
                let (interval_ms, base) = (self.interval_ms, self.base);
                let slot = agent_slot(&mut self.agents, agent.0);
                if slot.tracking {
                    add_span(slot, at, interval_ms, base);
                    slot.tracking = false;
                }
            }
            Event::QueueRemoved { .. }
            | Event::ContactArrived { .. }
            | Event::StepChanged { .. }
            | Event::OfferRescinded { .. }
            | Event::ContactHeld { .. }
            | Event::ContactResumed { .. }
            | Event::CallbackDialled { .. }
            | Event::WrapUpExtended { .. }
            | Event::AgentPresenceChanged { .. }
            // A consultation changes no contact KPI: its completion is a
            // `ContactTransferred` like any other; the agents' time is in
            // their state changes.
            | Event::ConsultOffered { .. }
            | Event::ConsultAnswered { .. }
            | Event::ConsultEnded { .. }
            | Event::PriorityChanged { .. } => {}
        }
    }

    /// Close the open handling segment of `agent` on `contact`: count it
    /// with its talk and hold in the queue and interval of its answer.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn close_segment(
        &mut self,
        at: Time,
        now_i: u32,
        contact: u64,
        agent: u32,
        queue: u32,
        talk_ms: u64,
        hold_ms: u64,
        transfer: bool,
    ) {
        let (q, i) = match self.live.get_mut(&contact) {
            Some(e) if e.flags & SEGMENT != 0 && e.seg_agent == agent => {
                e.flags &= !SEGMENT;
                (e.seg_queue, e.seg_interval)
            }
            _ => (queue, now_i),
        };
        queue_at(&mut self.queues, q, i).segment(talk_ms, hold_ms, transfer);
        let slot = agent_slot(&mut self.agents, agent);
        let c = agent_interval(slot, i);
        c.handled += 1;
        c.talk_ms += talk_ms;
        c.hold_ms += hold_ms;
        c.transfers += u64::from(transfer);
        // Remember where a wrap-up of this segment belongs. Entries whose
        // wrap-up did not start when their segment closed are dropped.
        slot.pending.retain(|p| p.started || p.at >= at);
        if !slot.pending.iter().any(|p| p.contact == contact) {
            push_pending(&mut slot.pending, PendingWrap { contact, queue: q, interval: i, at, started: false });
        }
    }

    /// The run ends at `at`: close every agent's state span up to `at`.
    /// The fold can go on afterwards (a report at any time is a `finish`
    /// then a [`report`](Self::report)).
    pub fn finish(&mut self, at: Time) {
        if !self.started {
            self.started = true;
            self.origin = at;
            self.base = at.0 / self.interval_ms;
        }
        if at > self.last_at {
            self.last_at = at;
        }
        let (interval_ms, base) = (self.interval_ms, self.base);
        for slot in &mut self.agents {
            if slot.tracking {
                add_span(slot, at, interval_ms, base);
            }
        }
    }

    /// The report of everything folded so far: one row per queue and
    /// interval from the first event's interval to the last event's (or
    /// finish time's), rows sorted by queue id then interval, and agent
    /// rows sorted by agent id then interval. Queues and agents appear once
    /// configured or counted.
    pub fn report(&self) -> KpiReport {
        let mut n = if self.started { self.idx(self.last_at) as usize + 1 } else { 0 };
        for s in &self.queues {
            n = n.max(s.intervals.len());
        }
        for s in &self.agents {
            n = n.max(s.intervals.len());
        }
        let bounds =
            |i: usize| (self.base + i as u64, self.interval_start(i as u64), self.interval_start(i as u64 + 1));

        let empty_q = QueueCounts::default();
        let mut totals = QueueCounts::default();
        let mut queues = Vec::new();
        let mut intervals = Vec::new();
        for (id, slot) in self.queues.iter().enumerate().filter(|(_, s)| s.seen) {
            let queue = QueueId(id as u32);
            let mut total = QueueCounts::default();
            for i in 0..n {
                let c = slot.intervals.get(i).unwrap_or(&empty_q);
                total.add(c);
                let (interval, start, end) = bounds(i);
                intervals.push(QueueIntervalRow::new(queue, interval, start, end, c.clone()));
            }
            totals.add(&total);
            queues.push(QueueRow::new(Some(queue), slot.name.clone(), total));
        }

        let empty_a = AgentCounts::default();
        let mut agent_totals = AgentCounts::default();
        let mut agents = Vec::new();
        let mut agent_intervals = Vec::new();
        for (id, slot) in self.agents.iter().enumerate().filter(|(_, s)| s.seen) {
            let agent = AgentId(id as u32);
            let mut total = AgentCounts::default();
            for i in 0..n {
                let c = slot.intervals.get(i).unwrap_or(&empty_a);
                total.add(c);
                let (interval, start, end) = bounds(i);
                agent_intervals.push(AgentIntervalRow::new(agent, interval, start, end, c.clone()));
            }
            agent_totals.add(&total);
            agents.push(AgentRow::new(Some(agent), slot.name.clone(), total));
        }

        KpiReport {
            config: self.config.clone(),
            wait_bucket_edges_ms: super::WAIT_BUCKET_EDGES_MS.to_vec(),
            start: if n > 0 { self.interval_start(0) } else { self.origin },
            end: if n > 0 { self.interval_start(n as u64) } else { self.origin },
            totals: QueueRow::new(None, None, totals),
            queues,
            intervals,
            agent_totals: AgentRow::new(None, None, agent_totals),
            agents,
            agent_intervals,
        }
    }
}

fn push_pending(pending: &mut Vec<PendingWrap>, p: PendingWrap) {
    if pending.len() >= MAX_PENDING_WRAPS {
        pending.remove(0);
    }
    pending.push(p);
}

/// Add the agent's current state from `slot.since` to `to`, split across
/// the intervals it covers, and move `since` to `to`.
#[inline]
fn add_span(slot: &mut AgentSlot, to: Time, interval_ms: u64, base: u64) {
    let state = slot.state;
    let mut t = slot.since.0;
    while t < to.0 {
        let abs = t / interval_ms;
        let end = to.0.min((abs + 1).saturating_mul(interval_ms));
        let i = abs.saturating_sub(base) as u32;
        *agent_interval(slot, i).state_ms.get_mut(state) += end - t;
        t = end;
    }
    if to > slot.since {
        slot.since = to;
    }
}

impl Fold for IntervalFold {
    fn apply(&mut self, rec: &EventRecord) {
        IntervalFold::apply(self, rec);
    }

    fn finish(&mut self, at: Time) {
        IntervalFold::finish(self, at);
    }
}

#[cfg(test)]
mod tests;
