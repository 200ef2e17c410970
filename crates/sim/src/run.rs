//! One replication: the discrete-event loop in virtual time.
//!
//! The simulator keeps a binary heap of its own events (arrivals, patience
//! expiries, answers, hang-ups, shift changes, callback requests and dial
//! results) and merges it with the engine's next deadline: whichever is
//! earlier goes next, the engine's first on a tie (the engine fires due
//! timers before any input anyway). Every engine output is looked at once,
//! as the engine makes it (the simulator's state is the engine's
//! [`engine::Outputs`]): events update the simulator's view of contacts
//! and agents and the tallies and go to the event sink; commands (offer,
//! dial a callback, release the caller) schedule the simulated people's
//! reactions. Nothing the engine does is changed by this: the simulator
//! only schedules reactions for later, never calls back into the engine.
//!
//! The loop allocates nothing per contact beyond what the engine does:
//! outputs are not buffered, contacts live in a window indexed by contact
//! id (ids are dense from 0; finished contacts leave its front) and the
//! heap's items are small and `Copy`.

use crate::SimError;
use crate::arrivals::RateProfile;
use crate::model::Model;
use crate::report::Counts;
use engine::rng::{Rng, mix};
use engine::{
    AgentId, AgentState, Channel, Command, ContactId, ContactSpec, DialOutcome, Engine, EngineError, Event,
    EventRecord, ExitAction, Input, Outcome, Party, Presence, Segment, Time,
};

/// Receives every event of a run, in order (a KPI fold, a log writer).
pub trait EventSink {
    /// One event.
    fn event(&mut self, rec: &EventRecord);
    /// The run ended at `at`.
    fn finish(&mut self, _at: Time) {}
}

/// A sink that drops everything.
impl EventSink for () {
    fn event(&mut self, _rec: &EventRecord) {}
}

/// What one replication produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunResult {
    /// Seed of the replication.
    pub seed: u64,
    /// Totals over the measured part of the run.
    pub totals: Counts,
    /// Per reporting interval, from the interval containing the start.
    pub intervals: Vec<Counts>,
    /// All arrivals, warm-up included.
    pub arrivals: u64,
    /// Engine events seen.
    pub events: u64,
    /// Inputs given to the engine (ticks included).
    pub inputs: u64,
    /// Virtual time at which the loop stopped (ms).
    pub stopped_at_ms: u64,
}

// ---------------------------------------------------------------- heap

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    Patience {
        contact: u32,
    },
    /// An agent answers an offer (`State::answers[answer]`): kept aside so
    /// that every kind fits in 8 bytes and an item in 16.
    Answer {
        answer: u32,
    },
    Hangup {
        contact: u32,
    },
    CallbackAsk {
        contact: u32,
    },
    DialDone {
        contact: u32,
        connected: bool,
    },
    ShiftStart {
        agent: u32,
    },
    ShiftEnd {
        agent: u32,
    },
    ReadyAgain {
        agent: u32,
    },
    Logout {
        agent: u32,
    },
}

/// Bits of an item's key that hold the scheduling sequence number.
const SEQ_BITS: u32 = 20;
/// Latest time an item can carry (2⁴⁴ ms: over 500 years).
const MAX_AT: u64 = (1 << (64 - SEQ_BITS)) - 1;

/// A scheduled event. The key packs the time (high bits) and a sequence
/// number (low bits), so items at the same millisecond come out in the
/// order they were scheduled (modulo 2²⁰ per millisecond) with one
/// integer comparison.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Item {
    key: u64,
    kind: Kind,
}

impl Item {
    fn at(&self) -> u64 {
        self.key >> SEQ_BITS
    }
}

/// A min-heap of [`Item`]s by key, written for this loop: four children
/// a node (half the levels of a binary heap, so a shorter chain of
/// dependent loads per pop), items of 16 bytes compared by one integer.
/// The heap is small: the calls in progress and the callers waiting.
#[derive(Default)]
struct Schedule {
    items: Vec<Item>,
}

impl Schedule {
    fn with_capacity(n: usize) -> Schedule {
        Schedule { items: Vec::with_capacity(n) }
    }

    fn peek(&self) -> Option<&Item> {
        self.items.first()
    }

    fn push(&mut self, it: Item) {
        let mut i = self.items.len();
        self.items.push(it);
        while i > 0 {
            let parent = (i - 1) / 4;
            if self.items[parent].key <= it.key {
                break;
            }
            self.items[i] = self.items[parent];
            i = parent;
        }
        self.items[i] = it;
    }

    fn pop(&mut self) -> Option<Item> {
        let last = self.items.pop()?;
        let Some(&top) = self.items.first() else { return Some(last) };
        let items = &mut self.items;
        let n = items.len();
        let key = |items: &[Item], j: usize| items[j].key;
        // The hole left at the root goes down to a leaf, always to the
        // earliest child, chosen without branches (keys are random: a
        // branch would be mispredicted half the time)...
        let mut i = 0;
        loop {
            let first = 4 * i + 1;
            if first + 3 < n {
                let a = first + usize::from(key(items, first + 1) < key(items, first));
                let b = first + 2 + usize::from(key(items, first + 3) < key(items, first + 2));
                let c = if key(items, b) < key(items, a) { b } else { a };
                items[i] = items[c];
                i = c;
                continue;
            }
            // The last, incomplete family (its members are leaves).
            if first < n {
                let mut c = first;
                for j in first + 1..n {
                    if key(items, j) < key(items, c) {
                        c = j;
                    }
                }
                items[i] = items[c];
                i = c;
            }
            break;
        }
        // ...then the last item fills it and rises to its place (it came
        // from the bottom: usually not far).
        while i > 0 {
            let parent = (i - 1) / 4;
            if items[parent].key <= last.key {
                break;
            }
            items[i] = items[parent];
            i = parent;
        }
        items[i] = last;
        Some(top)
    }
}

/// An answer scheduled for an offer: who, and which offer (the agent's
/// offer token when it was made).
#[derive(Copy, Clone, Debug)]
struct PendingAnswer {
    contact: u32,
    agent: u32,
    token: u32,
}

// ---------------------------------------------------------------- state

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum CState {
    /// Arrived, not yet queued (between Arrive and its events).
    New,
    Waiting,
    Offered,
    Connected,
    /// A callback being dialled, waiting for the dial's outcome.
    Dialling,
    /// A callback between a failed attempt and its retry.
    Held,
    Ended,
}

#[derive(Copy, Clone, Debug)]
struct ContactRec {
    arrived: u64,
    handle_ms: u32,
    /// Offers of the contact ringing now (several with ring-all).
    offers: u16,
    state: CState,
    /// The caller has gone (callback requested or caller released): no
    /// patience, no new callback request.
    released: bool,
    answered: bool,
    /// Arrived after the warm-up: counts in the totals.
    measured: bool,
    /// Queue the contact waits in (last `ContactQueued`).
    queue: u32,
    /// Reporting interval of its arrival.
    interval: u32,
    /// Agents wrapping it up (each `WrapUpEnded` still to count).
    wrapping: u8,
}

impl ContactRec {
    /// Nothing more can happen to it.
    fn done(&self) -> bool {
        self.state == CState::Ended && self.wrapping == 0
    }
}

/// Contact records by contact id, from about the oldest contact not yet
/// done on. Done contacts at the front are dropped now and then (a plain
/// vector, compacted when its done front is as long as the rest), so
/// memory follows the contacts in progress (hundreds) rather than the
/// run's length (a million calls would be 32 MB, and the page faults cost
/// as much as part of the simulation). Scheduled items of a dropped contact
/// find nothing and do nothing, as they would for an ended one.
#[derive(Default)]
struct ContactWindow {
    /// Id of `recs[0]`.
    base: usize,
    recs: Vec<ContactRec>,
    /// `recs[..done]` are done.
    done: usize,
    /// A contact ended or finished wrap-up since the last trim.
    ended: bool,
}

impl ContactWindow {
    /// Id of the next contact.
    fn next_id(&self) -> usize {
        self.base + self.recs.len()
    }

    fn get(&self, id: usize) -> Option<&ContactRec> {
        id.checked_sub(self.base).and_then(|i| self.recs.get(i))
    }

    fn push(&mut self, c: ContactRec) {
        self.recs.push(c);
    }

    /// The records still kept.
    fn kept(&self) -> &[ContactRec] {
        &self.recs
    }

    /// Count the done contacts at the front; drop them once they are as
    /// many as the rest (amortised: each record is moved about once).
    fn trim(&mut self) {
        self.ended = false;
        while self.recs.get(self.done).is_some_and(ContactRec::done) {
            self.done += 1;
        }
        if self.done >= 1024 && self.done * 2 >= self.recs.len() {
            self.recs.drain(..self.done);
            self.base += self.done;
            self.done = 0;
        }
    }
}

impl std::ops::Index<usize> for ContactWindow {
    type Output = ContactRec;
    fn index(&self, id: usize) -> &ContactRec {
        &self.recs[id - self.base]
    }
}

impl std::ops::IndexMut<usize> for ContactWindow {
    fn index_mut(&mut self, id: usize) -> &mut ContactRec {
        &mut self.recs[id - self.base]
    }
}

#[derive(Clone, Debug)]
struct AgentRt {
    on_shift: bool,
    logged_in: bool,
    /// Presence is ready (as the engine reported it).
    ready: bool,
    /// Log out as soon as no customer is connected.
    leaving: bool,
    connected: u32,
    /// Bumped whenever an offer to the agent starts or ends (an agent has at
    /// most one pending offer), so a scheduled answer to an older offer is
    /// recognised as stale.
    offer_token: u32,
    state: AgentState,
    since: u64,
}

struct StreamRt {
    /// Next arrival, in fractional ms.
    next: f64,
    /// Next arrival in whole ms, if there is one before the end.
    next_at: Option<u64>,
    /// Reporting interval of `next` (where the walk to the next arrival starts).
    interval: usize,
    arrivals: Rng,
    draws: Rng,
}

/// One replication in progress: the engine, and apart from it the
/// simulator's state, which takes the engine's outputs as they come.
struct Sim<'m, S: EventSink> {
    engine: Engine,
    st: State<'m, S>,
}

/// The simulator's side of a replication: the simulated people, the
/// schedule of their reactions and the tallies.
struct State<'m, S: EventSink> {
    m: &'m Model,
    sink: S,
    heap: Schedule,
    /// Answers scheduled (`Kind::Answer`), and the free places among them.
    answers: Vec<PendingAnswer>,
    free_answers: Vec<u32>,
    seq: u64,
    /// Reactions due at once (an answer without delay, a log-out), run
    /// before anything later; cheaper than the heap.
    immediate: std::collections::VecDeque<Kind>,
    /// Earliest next arrival over the streams: (time, stream).
    next_arrival: Option<(u64, u32)>,
    contacts: ContactWindow,
    agents: Vec<AgentRt>,
    streams: Vec<StreamRt>,
    agent_rng: Rng,
    callback_rng: Rng,
    missed_reason: String,
    res: RunResult,
    now: u64,
    /// Start, end and index of the reporting interval last asked for.
    cur_interval: (u64, u64, usize),
}

/// A short description of an input, made before the input is moved into
/// the engine (only formatted when the engine refuses it unexpectedly).
#[derive(Copy, Clone, Debug)]
struct InputTag {
    kind: &'static str,
    contact: Option<u64>,
    agent: Option<u32>,
}

impl InputTag {
    /// An input of `kind` about a contact and/or an agent. Built only when
    /// the engine refuses an input (the input itself has moved into the engine).
    fn new(kind: &'static str, contact: Option<u32>, agent: Option<u32>) -> InputTag {
        InputTag { kind, contact: contact.map(u64::from), agent }
    }

    fn describe(&self) -> String {
        let mut s = self.kind.to_string();
        if let Some(c) = self.contact {
            s.push_str(&format!(" of {}", ContactId(c)));
        }
        if let Some(a) = self.agent {
            s.push_str(&format!(" by {}", AgentId(a)));
        }
        s
    }
}

/// Run one replication of `model` with `seed` on `engine` (already started
/// at the model's start time), sending every event to `sink`.
pub fn run_with<S: EventSink>(model: &Model, engine: Engine, sink: S, seed: u64) -> Result<(RunResult, S), SimError> {
    let n_int = model.interval_count();
    let st = State {
        m: model,
        sink,
        heap: Schedule::with_capacity(1024),
        answers: Vec::new(),
        free_answers: Vec::new(),
        seq: 0,
        immediate: std::collections::VecDeque::with_capacity(16),
        next_arrival: None,
        contacts: ContactWindow::default(),
        agents: model
            .agents
            .iter()
            .map(|_| AgentRt {
                on_shift: false,
                logged_in: false,
                ready: false,
                leaving: false,
                connected: 0,
                offer_token: 0,
                state: AgentState::Offline,
                since: model.start_ms,
            })
            .collect(),
        streams: (0..model.streams.len())
            .map(|i| StreamRt {
                next: model.start_ms as f64,
                next_at: None,
                interval: 0,
                arrivals: Rng::new(mix(seed ^ mix(0xA000 + i as u64))),
                draws: Rng::new(mix(seed ^ mix(0xB000 + i as u64))),
            })
            .collect(),
        agent_rng: Rng::new(mix(seed ^ 0xC0FFEE)),
        callback_rng: Rng::new(mix(seed ^ 0xCA11BAC4)),
        missed_reason: model.config.settings.missed_offers_reason.clone(),
        res: RunResult { seed, intervals: vec![Counts::default(); n_int], ..RunResult::default() },
        now: model.start_ms,
        cur_interval: (0, 0, 0),
    };
    let mut sim = Sim { engine, st };
    sim.st.schedule_start();
    sim.run()?;
    sim.st.close();
    let State { res, sink, .. } = sim.st;
    Ok((res, sink))
}

impl<S: EventSink> Sim<'_, S> {
    fn run(&mut self) -> Result<(), SimError> {
        let stop = self.st.m.end_ms.saturating_add(self.st.m.drain_ms);
        enum Next {
            Engine,
            Heap,
            Arrival(u32),
        }
        loop {
            if let Some(kind) = self.st.immediate.pop_front() {
                let now = self.st.now;
                self.dispatch(now, kind)?;
                continue;
            }
            // The earliest of: the engine's deadline (first on a tie), the
            // heap, the next arrival.
            let mut best = self.engine.next_deadline().map(|t| (t.0, Next::Engine));
            if let Some(item) = self.st.heap.peek() {
                let at = item.at();
                if best.as_ref().is_none_or(|(b, _)| at < *b) {
                    best = Some((at, Next::Heap));
                }
            }
            if let Some((at, stream)) = self.st.next_arrival
                && best.as_ref().is_none_or(|(b, _)| at < *b)
            {
                best = Some((at, Next::Arrival(stream)));
            }
            let Some((at, next)) = best else { break };
            if at > stop {
                break;
            }
            self.st.now = self.st.now.max(at);
            let now = self.st.now;
            match next {
                Next::Engine => {
                    self.input(now, Input::Tick).map_err(|e| self.refused(InputTag::new("tick", None, None), e))?
                }
                Next::Heap => {
                    let Some(item) = self.st.heap.pop() else { break };
                    self.dispatch(now, item.kind)?;
                }
                Next::Arrival(stream) => {
                    let stream = stream as usize;
                    self.st.draw_arrival(stream);
                    self.st.update_next_arrival();
                    self.arrive(now, stream)?;
                }
            }
        }
        self.st.res.stopped_at_ms = self.st.now;
        Ok(())
    }

    fn refused(&self, tag: InputTag, error: EngineError) -> SimError {
        SimError::Refused { at: Time(self.st.now), input: tag.describe(), error }
    }

    /// Give the engine an input and take in its outputs (also when it
    /// refuses the input: timers due at `now` have fired).
    fn input(&mut self, now: u64, input: Input) -> Result<(), EngineError> {
        let r = self.engine.handle(Time(now), input, &mut self.st);
        self.st.res.inputs += 1;
        if self.st.contacts.ended {
            self.st.contacts.trim();
        }
        r
    }

    fn dispatch(&mut self, now: u64, kind: Kind) -> Result<(), SimError> {
        match kind {
            Kind::Patience { contact } => {
                let Some(c) = self.st.contacts.get(contact as usize) else { return Ok(()) };
                if matches!(c.state, CState::Waiting | CState::Offered) && !c.released {
                    let id = ContactId(u64::from(contact));
                    self.input(now, Input::Abandon { contact: id })
                        .map_err(|e| self.refused(InputTag::new("abandon", Some(contact), None), e))?;
                }
            }
            Kind::Answer { answer } => {
                let PendingAnswer { contact, agent, token } = self.st.answers[answer as usize];
                self.st.free_answers.push(answer);
                let Some(c) = self.st.contacts.get(contact as usize) else { return Ok(()) };
                if c.state == CState::Offered && self.st.agents[agent as usize].offer_token == token {
                    let input = Input::Accept { contact: ContactId(u64::from(contact)), agent: AgentId(agent) };
                    self.input(now, input)
                        .map_err(|e| self.refused(InputTag::new("accept", Some(contact), Some(agent)), e))?;
                }
            }
            Kind::Hangup { contact } => {
                if self.st.contacts.get(contact as usize).is_some_and(|c| c.state == CState::Connected) {
                    let input = Input::Hangup { contact: ContactId(u64::from(contact)), by: Party::Customer };
                    self.input(now, input)
                        .map_err(|e| self.refused(InputTag::new("hangup", Some(contact), None), e))?;
                }
            }
            Kind::CallbackAsk { contact } => {
                // Only a caller still on hold asks (not one whose phone is
                // ringing at an agent's: that one is about to be answered).
                let Some(c) = self.st.contacts.get(contact as usize) else { return Ok(()) };
                if c.state == CState::Waiting && !c.released {
                    let input = Input::RequestCallback {
                        contact: ContactId(u64::from(contact)),
                        number: Some(format!("sim-{contact}")),
                    };
                    match self.input(now, input) {
                        Ok(()) => {}
                        // A full callback list: the caller keeps waiting.
                        Err(EngineError::CallbackRefused(_)) => {
                            let c = self.st.contacts[contact as usize];
                            self.st.tally(&c, |n| n.callbacks_refused += 1);
                        }
                        Err(e) => return Err(self.refused(InputTag::new("request-callback", Some(contact), None), e)),
                    }
                }
            }
            Kind::DialDone { contact, connected } => {
                if self.st.contacts.get(contact as usize).is_none_or(|c| c.state != CState::Dialling) {
                    return Ok(());
                }
                let outcome = if connected { DialOutcome::Connected } else { DialOutcome::NoAnswer };
                let input = Input::CallbackOutcome { contact: ContactId(u64::from(contact)), outcome };
                self.input(now, input)
                    .map_err(|e| self.refused(InputTag::new("callback-outcome", Some(contact), None), e))?;
            }
            Kind::ShiftStart { agent } => {
                let a = &mut self.st.agents[agent as usize];
                a.on_shift = true;
                a.leaving = false;
                let id = AgentId(agent);
                if !a.logged_in {
                    self.input(now, Input::Login { agent: id })
                        .map_err(|e| self.refused(InputTag::new("login", None, Some(agent)), e))?;
                }
                if !self.st.agents[agent as usize].ready {
                    self.input(now, Input::Ready { agent: id })
                        .map_err(|e| self.refused(InputTag::new("ready", None, Some(agent)), e))?;
                }
            }
            Kind::ShiftEnd { agent } => {
                let a = &mut self.st.agents[agent as usize];
                a.on_shift = false;
                if a.logged_in {
                    a.leaving = true;
                    let id = AgentId(agent);
                    let input = Input::NotReady { agent: id, reason: "end-of-shift".to_string() };
                    self.input(now, input)
                        .map_err(|e| self.refused(InputTag::new("not-ready", None, Some(agent)), e))?;
                    self.try_logout(now, agent)?;
                }
            }
            Kind::ReadyAgain { agent } => {
                let a = &self.st.agents[agent as usize];
                if a.on_shift && a.logged_in && !a.ready && !a.leaving {
                    let input = Input::Ready { agent: AgentId(agent) };
                    self.input(now, input).map_err(|e| self.refused(InputTag::new("ready", None, Some(agent)), e))?;
                }
            }
            Kind::Logout { agent } => self.try_logout(now, agent)?,
        }
        Ok(())
    }

    /// Log out a leaving agent with no customer connected. The engine may
    /// still refuse while a contact is being wrapped up or dialled: the
    /// agent then stays leaving and is tried again when that ends.
    fn try_logout(&mut self, now: u64, agent: u32) -> Result<(), SimError> {
        let a = &self.st.agents[agent as usize];
        if !a.leaving || !a.logged_in || a.connected > 0 {
            return Ok(());
        }
        match self.input(now, Input::Logout { agent: AgentId(agent) }) {
            Ok(()) => Ok(()),
            Err(EngineError::InvalidState(_)) => Ok(()),
            Err(e) => Err(self.refused(InputTag::new("logout", None, Some(agent)), e)),
        }
    }

    fn arrive(&mut self, now: u64, stream: usize) -> Result<(), SimError> {
        let m = self.st.m;
        let sm = &m.streams[stream];
        let index = self.st.contacts.next_id();
        let Ok(contact) = u32::try_from(index) else { return Err(SimError::TooManyContacts) };
        let interval = self.st.interval_of(now);
        let st = &mut self.st.streams[stream];
        let handle = match sm.handle_mean_ms.get(interval) {
            Some(&mean_ms) => crate::model::Duration { mean_ms, ..sm.handle },
            None => sm.handle,
        };
        let handle_ms = handle.draw(&mut st.draws).min(u64::from(u32::MAX)) as u32;
        let patience = sm.patience.map(|p| p.draw(&mut st.draws));
        let asks_callback = sm.callback_probability > 0.0 && st.draws.next_f64() < sm.callback_probability;
        let mut segment = Segment::Unknown;
        if !sm.segments.is_empty() {
            let u = st.draws.next_f64();
            segment = sm.segments.iter().find(|(_, c)| u < *c).map_or(Segment::Unknown, |(s, _)| *s);
        }
        let mut last_agent = None;
        if sm.wants_last_agent && matches!(segment, Segment::Returning | Segment::Vip) {
            let members = &m.queues[sm.queue.0 as usize].members;
            if !members.is_empty() {
                last_agent = Some(members[st.draws.below(members.len() as u64) as usize]);
            }
        }
        let measured = now >= m.warm_up_end_ms;
        let interval = interval as u32;
        self.st.contacts.push(ContactRec {
            arrived: now,
            handle_ms,
            offers: 0,
            state: CState::New,
            released: false,
            answered: false,
            measured,
            queue: sm.queue.0,
            interval,
            wrapping: 0,
        });
        self.st.res.arrivals += 1;
        let c = self.st.contacts[index];
        self.st.tally(&c, |n| n.offered += 1);
        let mut spec = ContactSpec {
            id: ContactId(index as u64),
            channel: sm.channel,
            queue: sm.queue,
            priority: sm.priority,
            segment,
            last_agent,
            callback_number: sm.callback_number.then(|| format!("sim-{index}")),
            ..ContactSpec::default()
        };
        // Only set when there are some: the common empty list stays the
        // default's, written in place (a vector made apart and copied in
        // costs a stalled load).
        if !sm.required_skills.is_empty() {
            spec.required_skills = sm.required_skills.clone();
        }
        self.input(now, Input::Arrive { contact: spec })
            .map_err(|e| self.refused(InputTag::new("arrive", Some(contact), None), e))?;
        // A caller answered at once needs no patience (most of them, in a
        // well-staffed queue: it spares the heap).
        if matches!(self.st.contacts[index].state, CState::Waiting | CState::Offered) {
            if let Some(p) = patience {
                self.st.push(now.saturating_add(p), Kind::Patience { contact });
            }
            if asks_callback {
                self.st.push(now.saturating_add(sm.callback_after_ms), Kind::CallbackAsk { contact });
            }
        }
        Ok(())
    }
}

impl<S: EventSink> State<'_, S> {
    fn push(&mut self, at: u64, kind: Kind) {
        if at <= self.now {
            self.immediate.push_back(kind);
            return;
        }
        self.seq += 1;
        let key = (at.min(MAX_AT) << SEQ_BITS) | (self.seq & ((1 << SEQ_BITS) - 1));
        self.heap.push(Item { key, kind });
    }

    fn schedule_start(&mut self) {
        let m = self.m;
        for (i, a) in m.agents.iter().enumerate() {
            let agent = i as u32;
            if a.absent {
                continue;
            }
            if a.shifts.is_empty() {
                self.push(m.start_ms, Kind::ShiftStart { agent });
                continue;
            }
            for &(s, e) in &a.shifts {
                if e <= m.start_ms || s >= m.end_ms {
                    continue;
                }
                self.push(s.max(m.start_ms), Kind::ShiftStart { agent });
                self.push(e, Kind::ShiftEnd { agent });
            }
        }
        for i in 0..self.streams.len() {
            self.draw_arrival(i);
        }
        self.update_next_arrival();
    }

    /// The earliest next arrival over the streams.
    fn update_next_arrival(&mut self) {
        self.next_arrival = None;
        for (i, st) in self.streams.iter().enumerate() {
            if let Some(t) = st.next_at
                && self.next_arrival.is_none_or(|(best, _)| t < best)
            {
                self.next_arrival = Some((t, i as u32));
            }
        }
    }

    fn draw_arrival(&mut self, i: usize) {
        let m = self.m;
        let profile = RateProfile {
            first_ms: m.first_interval_ms,
            interval_ms: m.interval_ms,
            start_ms: m.start_ms,
            end_ms: m.end_ms,
            rate_per_ms: &m.streams[i].rate_per_ms,
        };
        let st = &mut self.streams[i];
        st.next_at = profile.next_after_from(st.next, &mut st.interval, &mut st.arrivals).map(|t| {
            st.next = t;
            t as u64
        });
    }

    fn interval_of(&mut self, t: u64) -> usize {
        self.interval_at(t).0
    }

    /// The reporting interval containing `t` (the last one for later
    /// times) and its end. The interval of the latest question is kept:
    /// nearly every question is about it, and it spares a division.
    fn interval_at(&mut self, t: u64) -> (usize, u64) {
        let (start, end, k) = self.cur_interval;
        if start <= t && t < end {
            return (k, end);
        }
        let m = self.m;
        let k = (t.saturating_sub(m.first_interval_ms) / m.interval_ms) as usize;
        let k = k.min(self.res.intervals.len().saturating_sub(1));
        let start = m.first_interval_ms + k as u64 * m.interval_ms;
        let end = start + m.interval_ms;
        self.cur_interval = (start, end, k);
        (k, end)
    }

    /// Count something about a contact: in the interval of its arrival and,
    /// when it arrived after the warm-up, in the totals.
    #[inline(always)]
    fn tally(&mut self, c: &ContactRec, f: impl Fn(&mut Counts)) {
        if let Some(n) = self.res.intervals.get_mut(c.interval as usize) {
            f(n);
        }
        if c.measured {
            f(&mut self.res.totals);
        }
    }

    fn contact_index(&self, id: ContactId) -> Option<usize> {
        let i = usize::try_from(id.0).ok()?;
        self.contacts.get(i).is_some().then_some(i)
    }

    #[inline(always)]
    fn on_command(&mut self, cmd: &Command) {
        let now = self.now;
        match cmd {
            Command::Offer { contact, agent, .. } => {
                let Some(ci) = self.contact_index(*contact) else { return };
                let Some(am) = self.m.agents.get(agent.0 as usize) else { return };
                if self.m.config.agents.get(agent.0 as usize).is_some_and(|a| a.auto_answer) {
                    return; // the engine answers for the agent
                }
                if am.miss_probability > 0.0 && self.agent_rng.next_f64() < am.miss_probability {
                    return; // the offer rings out
                }
                let token = self.agents[agent.0 as usize].offer_token;
                let at = now + am.answer_delay_ms;
                let pending = PendingAnswer { contact: ci as u32, agent: agent.0, token };
                let answer = match self.free_answers.pop() {
                    Some(i) => {
                        self.answers[i as usize] = pending;
                        i
                    }
                    None => {
                        self.answers.push(pending);
                        (self.answers.len() - 1) as u32
                    }
                };
                self.push(at, Kind::Answer { answer });
            }
            Command::DialCallback { contact, .. } => {
                let Some(ci) = self.contact_index(*contact) else { return };
                let q = self.m.queues.get(self.contacts[ci].queue as usize);
                let (dial_ms, p) = q.map_or((10_000, 1.0), |q| (q.dial_ms, q.answer_probability));
                let connected = self.callback_rng.next_f64() < p;
                self.push(now + dial_ms, Kind::DialDone { contact: ci as u32, connected });
            }
            Command::ReleaseCaller { contact } => {
                if let Some(ci) = self.contact_index(*contact) {
                    self.contacts[ci].released = true;
                }
            }
            Command::CancelOffer { .. } | Command::Exit { .. } => {}
        }
    }

    #[inline(always)]
    fn on_event(&mut self, rec: &EventRecord) {
        let at = rec.at.0;
        match &rec.event {
            Event::ContactQueued { contact, queue, .. } => {
                if let Some(ci) = self.contact_index(*contact) {
                    let c = &mut self.contacts[ci];
                    c.state = CState::Waiting;
                    c.offers = 0;
                    c.queue = queue.0;
                }
            }
            Event::ContactOffered { contact, agent, .. } => {
                if let Some(a) = self.agents.get_mut(agent.0 as usize) {
                    a.offer_token = a.offer_token.wrapping_add(1);
                }
                if let Some(ci) = self.contact_index(*contact) {
                    let c = &mut self.contacts[ci];
                    c.state = CState::Offered;
                    c.offers = c.offers.saturating_add(1);
                }
            }
            Event::OfferTimedOut { contact, agent, .. }
            | Event::OfferRejected { contact, agent, .. }
            | Event::OfferRescinded { contact, agent, .. } => {
                if let Some(a) = self.agents.get_mut(agent.0 as usize) {
                    a.offer_token = a.offer_token.wrapping_add(1);
                }
                if let Some(ci) = self.contact_index(*contact) {
                    let c = &mut self.contacts[ci];
                    c.offers = c.offers.saturating_sub(1);
                    if c.offers == 0 && c.state == CState::Offered {
                        c.state = CState::Waiting;
                    }
                }
            }
            Event::CallbackDialled { contact, .. } => {
                if let Some(ci) = self.contact_index(*contact) {
                    let c = &mut self.contacts[ci];
                    c.released = true;
                    c.state = CState::Dialling;
                }
            }
            Event::CallbackAttemptFailed { contact, agent, .. } => {
                if let Some(ci) = self.contact_index(*contact) {
                    self.contacts[ci].state = CState::Held;
                }
                // The agent waited for the connection: free again.
                if let Some(rt) = self.agents.get(agent.0 as usize)
                    && rt.leaving
                    && rt.connected == 0
                {
                    let now = self.now;
                    self.push(now, Kind::Logout { agent: agent.0 });
                }
            }
            Event::ContactAnswered { contact, agent, channel, .. } => {
                if let Some(a) = self.agents.get_mut(agent.0 as usize) {
                    a.connected += 1;
                }
                let Some(ci) = self.contact_index(*contact) else { return };
                let c = &mut self.contacts[ci];
                c.state = CState::Connected;
                let first = !c.answered;
                c.answered = true;
                let c = *c;
                self.push(at + u64::from(c.handle_ms), Kind::Hangup { contact: ci as u32 });
                if first {
                    let wait = at.saturating_sub(c.arrived);
                    let within = u64::from(wait <= self.m.sl_threshold_ms);
                    let callback = u64::from(*channel == Channel::Callback);
                    self.tally(&c, |n| {
                        n.answered += 1;
                        n.answered_within += within;
                        n.wait_answered_ms += wait;
                        n.wait_all_ms += wait;
                        n.max_wait_ms = n.max_wait_ms.max(wait);
                        n.callbacks_answered += callback;
                    });
                }
            }
            Event::ContactAbandoned { contact, .. } => {
                let Some(ci) = self.contact_index(*contact) else { return };
                let c = self.contacts[ci];
                let wait = at.saturating_sub(c.arrived);
                let within = u64::from(wait <= self.m.sl_threshold_ms);
                let short = u64::from(wait < self.m.short_abandon_ms);
                self.tally(&c, |n| {
                    n.abandoned += 1;
                    n.abandoned_within += within;
                    n.short_abandoned += short;
                    n.wait_abandoned_ms += wait;
                    n.wait_all_ms += wait;
                    n.max_wait_ms = n.max_wait_ms.max(wait);
                });
            }
            Event::ContactExited { contact, action, .. } => {
                if matches!(action, ExitAction::Disconnect | ExitAction::Voicemail)
                    && let Some(ci) = self.contact_index(*contact)
                {
                    let c = self.contacts[ci];
                    let wait = at.saturating_sub(c.arrived);
                    self.tally(&c, |n| {
                        n.exited += 1;
                        n.wait_all_ms += wait;
                    });
                }
            }
            Event::CallbackRequested { contact, .. } => {
                let Some(ci) = self.contact_index(*contact) else { return };
                self.contacts[ci].released = true;
                let c = self.contacts[ci];
                self.tally(&c, |n| n.callbacks_requested += 1);
            }
            Event::ContactEnded { contact, agent, outcome, talk_ms, hold_ms, .. } => {
                let now = self.now;
                if let Some(ci) = self.contact_index(*contact) {
                    let c = &mut self.contacts[ci];
                    let was_connected = c.state == CState::Connected;
                    c.state = CState::Ended;
                    let c = *c;
                    self.contacts.ended = true;
                    let (handled, failed) = match outcome {
                        Outcome::Handled => (1, 0),
                        Outcome::CallbackFailed => (0, 1),
                        Outcome::Abandoned | Outcome::Exited => (0, 0),
                    };
                    let handle = if handled == 1 { talk_ms + hold_ms } else { 0 };
                    self.tally(&c, |n| {
                        n.handled += handled;
                        n.handle_ms += handle;
                        n.callbacks_failed += failed;
                    });
                    if was_connected && let Some(a) = agent {
                        let ai = a.0 as usize;
                        if let Some(rt) = self.agents.get_mut(ai) {
                            rt.connected = rt.connected.saturating_sub(1);
                            if rt.leaving && rt.connected == 0 {
                                self.push(now, Kind::Logout { agent: a.0 });
                            }
                        }
                    }
                }
            }
            Event::WrapUpStarted { contact, .. } => {
                if let Some(ci) = self.contact_index(*contact) {
                    let c = &mut self.contacts[ci];
                    c.wrapping = c.wrapping.saturating_add(1);
                }
            }
            Event::WrapUpEnded { contact, agent, wrap_ms, .. } => {
                if let Some(ci) = self.contact_index(*contact) {
                    let c = &mut self.contacts[ci];
                    c.wrapping = c.wrapping.saturating_sub(1);
                    let c = *c;
                    self.contacts.ended = true;
                    self.tally(&c, |n| n.handle_ms += wrap_ms);
                }
                if let Some(rt) = self.agents.get(agent.0 as usize)
                    && rt.leaving
                    && rt.connected == 0
                {
                    let now = self.now;
                    self.push(now, Kind::Logout { agent: agent.0 });
                }
            }
            Event::AgentPresenceChanged { agent, presence } => {
                let now = self.now;
                let Some(rt) = self.agents.get_mut(agent.0 as usize) else { return };
                match presence {
                    Presence::Offline => {
                        rt.logged_in = false;
                        rt.ready = false;
                        rt.leaving = false;
                    }
                    Presence::Ready => {
                        rt.logged_in = true;
                        rt.ready = true;
                    }
                    Presence::NotReady(reason) => {
                        rt.logged_in = true;
                        rt.ready = false;
                        if rt.on_shift && !rt.leaving && **reason == *self.missed_reason {
                            let delay = self.m.agents[agent.0 as usize].ready_again_ms;
                            self.push(now + delay, Kind::ReadyAgain { agent: agent.0 });
                        }
                    }
                }
            }
            Event::AgentStateChanged { agent, to, .. } => {
                let ai = agent.0 as usize;
                if ai < self.agents.len() {
                    let (from, since) = (self.agents[ai].state, self.agents[ai].since);
                    self.agent_span(from, since, at);
                    self.agents[ai].state = *to;
                    self.agents[ai].since = at;
                }
            }
            _ => {}
        }
    }

    /// Add an agent's time in `state` over `[a, b)` to the intervals it
    /// covers (within the run) and to the totals (after the warm-up).
    #[inline]
    fn agent_span(&mut self, state: AgentState, a: u64, b: u64) {
        fn add(n: &mut Counts, slot: u8, d: u64) {
            match slot {
                0 => n.agent_idle_ms += d,
                1 => n.agent_not_ready_ms += d,
                _ => n.agent_busy_ms += d,
            }
        }
        let slot = match state {
            AgentState::Offline => return,
            AgentState::Ready => 0,
            AgentState::NotReady => 1,
            AgentState::Reserved | AgentState::Busy | AgentState::OnHold | AgentState::WrapUp => 2,
        };
        let m = self.m;
        let a = a.max(m.start_ms);
        let b = b.min(m.end_ms);
        if b <= a {
            return;
        }
        let wa = a.max(m.warm_up_end_ms);
        if b > wa {
            add(&mut self.res.totals, slot, b - wa);
        }
        if self.res.intervals.is_empty() {
            return;
        }
        let mut t = a;
        while t < b {
            let (k, end) = self.interval_at(t);
            let boundary = end.min(b).max(t + 1);
            add(&mut self.res.intervals[k], slot, boundary - t);
            t = boundary;
        }
    }

    /// End of the replication: close agent spans, count unfinished contacts.
    fn close(&mut self) {
        let m = self.m;
        let end = self.now.max(m.end_ms);
        for ai in 0..self.agents.len() {
            let (state, since) = (self.agents[ai].state, self.agents[ai].since);
            self.agent_span(state, since, end);
            self.agents[ai].since = end;
        }
        for i in 0..self.contacts.kept().len() {
            let c = self.contacts.kept()[i];
            if c.state != CState::Ended {
                self.tally(&c, |n| n.unfinished += 1);
            }
        }
        self.sink.finish(Time(end));
    }
}

/// The engine hands each output to the state as it makes it; inlined there,
/// the reaction to an event is chosen where the event is made, with no
/// buffer and no second look at its kind.
impl<S: EventSink> engine::Outputs for State<'_, S> {
    #[inline(always)]
    fn event(&mut self, rec: EventRecord) {
        self.res.events += 1;
        self.sink.event(&rec);
        self.on_event(&rec);
        // Most events own nothing: forgetting them spares the drop code.
        if rec.event.owns_memory() {
            drop(rec);
        } else {
            std::mem::forget(rec);
        }
    }

    #[inline(always)]
    fn command(&mut self, cmd: Command) {
        self.on_command(&cmd);
    }
}

#[cfg(test)]
mod window_tests {
    use super::*;

    fn rec(state: CState) -> ContactRec {
        ContactRec {
            arrived: 0,
            handle_ms: 1,
            offers: 0,
            state,
            released: false,
            answered: false,
            measured: true,
            queue: 0,
            interval: 0,
            wrapping: 0,
        }
    }

    /// The schedule gives its items back earliest key first, whatever the
    /// order they came in, also when pushes and pops interleave.
    #[test]
    fn the_schedule_pops_in_key_order() {
        let mut rng = Rng::new(9);
        let mut sched = Schedule::default();
        let mut shadow: Vec<u64> = Vec::new();
        for round in 0..20_000u32 {
            if rng.below(3) > 0 || shadow.is_empty() {
                let key = rng.below(1 << 30) << 8 | u64::from(round & 0xFF);
                sched.push(Item { key, kind: Kind::Hangup { contact: round } });
                shadow.push(key);
            } else {
                shadow.sort_unstable_by(|a, b| b.cmp(a));
                assert_eq!(sched.pop().map(|i| i.key), shadow.pop());
            }
            assert_eq!(sched.peek().map(|i| i.key), shadow.iter().min().copied());
        }
        shadow.sort_unstable();
        let drained: Vec<u64> = std::iter::from_fn(|| sched.pop().map(|i| i.key)).collect();
        assert_eq!(drained, shadow);
        assert_eq!(std::mem::size_of::<Item>(), 16, "an item stays 16 bytes");
    }

    /// Done contacts leave the front (once they are many), a contact still
    /// in progress or wrapping up holds everything after it, ids stay put.
    #[test]
    fn the_window_drops_done_contacts_and_keeps_the_rest() {
        let mut w = ContactWindow::default();
        for _ in 0..3000 {
            w.push(rec(CState::Ended));
        }
        w[2000].state = CState::Waiting;
        w[2001].wrapping = 1;
        w.trim();
        assert_eq!((w.base, w.next_id()), (2000, 3000), "the 2,000 done ones dropped");
        assert!(w.get(1999).is_none() && w.get(2000).is_some_and(|c| c.state == CState::Waiting));
        w[2000].state = CState::Ended;
        w.trim();
        assert_eq!(w.base, 2000, "2001 still wraps up: the window keeps it and what follows");
        w[2001].wrapping = 0;
        w.trim();
        // All done now; 1,000 are too few to be worth moving yet.
        assert_eq!((w.base, w.done), (2000, 1000));
        w.push(rec(CState::New));
        assert_eq!(w.next_id(), 3001);
        assert_eq!(w[3000].state, CState::New);
    }
}
