//! The engine: state, the public API, and the split between deciding
//! (`decide.rs`: inputs and timers produce events) and applying (`apply.rs`:
//! events change state). Only `apply` mutates state, so a replay of the
//! events rebuilds exactly the same state.

mod apply;
mod contacts;
mod decide;
mod snapshot;
mod state;
mod views;

pub use snapshot::{EngineState, RestoreError, STATE_VERSION};

pub use views::*;

use crate::config::{EngineConfig, Settings};
use crate::error::EngineError;
use crate::event::{Event, EventRecord, SCHEMA_VERSION};
use crate::ids::{AgentId, Time};
use crate::input::Input;
use crate::output::{Output, Outputs};
use contacts::Contacts;
use state::{Agent, Cond, CondId, FastMap, Interner, Queue, Timer};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// The contact-center engine. See the crate documentation.
///
/// Every field is serialisable so that [`Engine::save_state`] and
/// [`Engine::restore`] round-trip the whole state; lookup caches are
/// skipped and rebuilt.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Engine {
    settings: Settings,
    seq: u64,
    queues: Vec<Option<Queue>>,
    agents: Vec<Option<Agent>>,
    contacts: Contacts,
    skills: Interner,
    teams: Interner,
    attrs: Interner,
    conds: Vec<Cond>,
    #[serde(skip)]
    cond_ids: HashMap<Cond, CondId>,
    #[serde(skip)]
    and_cache: FastMap<(CondId, CondId), CondId>,
    #[serde(with = "snapshot::timer_heap")]
    timers: BinaryHeap<Reverse<(Time, u64, Timer)>>,
    timer_seq: u64,
    touched: Vec<AgentId>,
    /// `touched[..indexed_upto]` have had their availability index refreshed.
    indexed_upto: usize,
    /// Time of the latest event: time never goes back, whatever the driver does.
    clock: Time,
    /// Reused buffer for index rebuilds.
    #[serde(skip)]
    scratch_index: Vec<(crate::ids::QueueId, crate::config::Slot, state::ReadyKey)>,
}

/// Condition id of the empty condition (any member).
const ANY: CondId = 0;

impl Engine {
    fn empty(settings: Settings) -> Engine {
        let mut e = Engine {
            settings,
            seq: 0,
            queues: Vec::new(),
            agents: Vec::new(),
            contacts: Contacts::default(),
            skills: Interner::default(),
            teams: Interner::default(),
            attrs: Interner::default(),
            conds: Vec::new(),
            cond_ids: HashMap::new(),
            and_cache: FastMap::default(),
            timers: BinaryHeap::new(),
            timer_seq: 0,
            touched: Vec::new(),
            indexed_upto: 0,
            clock: Time(0),
            scratch_index: Vec::new(),
        };
        let any = e.intern_cond(Cond::default());
        debug_assert_eq!(any, ANY);
        e
    }

    /// Build an engine from a configuration. The configuration is checked
    /// ([`EngineConfig::errors`]: requirements nobody meets yet are allowed) and recorded as `QueueConfigured` and
    /// `AgentConfigured` events, pushed to `out` at time `at`, so that the
    /// event log alone is enough to replay.
    pub fn start(config: EngineConfig, at: Time, out: &mut Vec<Output>) -> Result<Engine, EngineError> {
        let issues = config.errors();
        if !issues.is_empty() {
            let msg: Vec<String> = issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect();
            return Err(EngineError::Config(msg.join("; ")));
        }
        let mut e = Engine::empty(config.settings);
        for q in config.queues {
            e.emit(at, Event::QueueConfigured { queue: Box::new(q) }, out);
        }
        for a in config.agents {
            e.emit(at, Event::AgentConfigured { agent: Box::new(a) }, out);
        }
        e.flush_index();
        e.touched.clear();
        e.indexed_upto = 0;
        Ok(e)
    }

    /// [`Engine::start`] at time zero, discarding the start-up events.
    pub fn new(config: EngineConfig) -> Result<Engine, EngineError> {
        let mut out = Vec::new();
        Engine::start(config, Time(0), &mut out)
    }

    /// Rebuild an engine from an event log (the settings are not events:
    /// pass the ones the original engine ran with). Routing decisions are
    /// not re-taken: the log already holds their results.
    pub fn replay<'a>(settings: Settings, records: impl IntoIterator<Item = &'a EventRecord>) -> Engine {
        let mut e = Engine::empty(settings);
        for r in records {
            e.apply_record(r);
        }
        e
    }

    /// Apply one recorded event (for replays and for catching up from a
    /// snapshot). Events must come in sequence order.
    pub fn apply_record(&mut self, rec: &EventRecord) {
        self.seq = rec.seq;
        self.clock = self.clock.max(rec.at);
        self.apply(rec.at, &rec.event);
        self.flush_index();
        self.touched.clear();
        self.indexed_upto = 0;
    }

    /// Fire every timer due at or before `now` (their events carry their own
    /// deadline as time), then apply `input` at `now`. Outputs are appended
    /// to `out`. An error means the input was refused and changed nothing;
    /// the timers that were due have fired all the same. A `now` earlier
    /// than the latest event is taken as the latest event's time.
    pub fn handle(&mut self, now: Time, input: Input, out: &mut impl Outputs) -> Result<(), EngineError> {
        let now = now.max(self.clock);
        self.fire_timers(now, out);
        self.clock = now;
        let r = self.handle_input(now, input, out);
        self.sync_agents(now, out);
        r
    }

    /// The earliest pending timer, if any. Call [`Engine::handle`] with
    /// [`Input::Tick`] at that time.
    #[inline]
    pub fn next_deadline(&mut self) -> Option<Time> {
        while let Some(Reverse((t, _, timer))) = self.timers.peek().copied() {
            if self.timer_valid(t, timer) {
                return Some(t);
            }
            self.timers.pop();
        }
        None
    }

    /// Sequence number of the last event.
    pub fn last_seq(&self) -> u64 {
        self.seq
    }

    /// The engine-wide settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    // Inlined with `apply` into every call site: there the kind of event is
    // known, so the dispatch on it folds away (an indirect jump per event,
    // often mispredicted, is a good part of an event's cost).
    #[inline(always)]
    fn emit(&mut self, at: Time, event: Event, out: &mut impl Outputs) {
        debug_assert!(at >= self.clock, "event time goes back");
        self.seq += 1;
        self.apply(at, &event);
        out.event(EventRecord { v: SCHEMA_VERSION, seq: self.seq, at, event });
    }

    fn schedule(&mut self, at: Time, timer: Timer) {
        self.timer_seq += 1;
        self.timers.push(Reverse((at, self.timer_seq, timer)));
    }

    fn intern_cond(&mut self, cond: Cond) -> CondId {
        if let Some(id) = self.cond_ids.get(&cond) {
            return *id;
        }
        let id = self.conds.len() as CondId;
        self.conds.push(cond.clone());
        self.cond_ids.insert(cond, id);
        id
    }

    fn and_cond(&mut self, a: CondId, b: CondId) -> CondId {
        if a == ANY {
            return b;
        }
        if b == ANY {
            return a;
        }
        if let Some(id) = self.and_cache.get(&(a, b)) {
            return *id;
        }
        let c = self.conds[a as usize].and(&self.conds[b as usize]);
        let id = self.intern_cond(c);
        self.and_cache.insert((a, b), id);
        id
    }

    fn queue(&self, id: crate::ids::QueueId) -> Option<&Queue> {
        self.queues.get(id.0 as usize).and_then(Option::as_ref)
    }

    fn queue_mut(&mut self, id: crate::ids::QueueId) -> Option<&mut Queue> {
        self.queues.get_mut(id.0 as usize).and_then(Option::as_mut)
    }

    fn agent(&self, id: AgentId) -> Option<&Agent> {
        self.agents.get(id.0 as usize).and_then(Option::as_ref)
    }

    fn agent_mut(&mut self, id: AgentId) -> Option<&mut Agent> {
        self.agents.get_mut(id.0 as usize).and_then(Option::as_mut)
    }
}
