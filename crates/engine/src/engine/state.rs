//! The engine's internal state: compact, indexed, deterministic.

use crate::config::{AgentConfig, Channel, QueueConfig, Slot};
use crate::contact::Segment;
use crate::event::{AgentState, Presence};
use crate::ids::{AgentId, ContactId, QueueId, Time};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// A fast, deterministic hasher for small integer keys (no DoS concern:
/// keys are our own ids). Iteration order is never used for decisions.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x100_0000_01B3);
        }
    }
    fn write_u64(&mut self, i: u64) {
        // One multiply (the FxHash recipe): hashbrown takes its control
        // bits from the well-mixed high bits of the product.
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x517C_C1B7_2722_0A95);
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

/// HashMap with [`FastHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Names (skills, teams, attributes) interned to small integers.
#[derive(Default, Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Interner {
    map: HashMap<String, u16>,
    names: Vec<String>,
}

impl Interner {
    pub(crate) fn intern(&mut self, name: &str) -> u16 {
        if let Some(id) = self.map.get(name) {
            return *id;
        }
        let id = self.names.len() as u16;
        self.names.push(name.to_string());
        self.map.insert(name.to_string(), id);
        id
    }
}

/// A compiled condition on agents (skills, team, attributes, agent list).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub(crate) struct Cond {
    /// (skill, min level), sorted by skill.
    pub skills: Vec<(u16, u8)>,
    pub team: Option<u16>,
    /// Sorted.
    pub attrs: Vec<u16>,
    /// Sorted; empty means any agent.
    pub agents: Vec<AgentId>,
}

impl Cond {
    /// The conjunction of two conditions (used to add a contact's own
    /// required skills to a routing step). `None` when they contradict
    /// (two different teams), which then matches nobody.
    pub(crate) fn and(&self, other: &Cond) -> Cond {
        let mut skills = self.skills.clone();
        for (s, l) in &other.skills {
            match skills.iter_mut().find(|(k, _)| k == s) {
                Some((_, lvl)) => *lvl = (*lvl).max(*l),
                None => skills.push((*s, *l)),
            }
        }
        skills.sort_unstable();
        let mut attrs = self.attrs.clone();
        attrs.extend(other.attrs.iter().copied());
        attrs.sort_unstable();
        attrs.dedup();
        let agents = match (self.agents.is_empty(), other.agents.is_empty()) {
            (true, _) => other.agents.clone(),
            (_, true) => self.agents.clone(),
            _ => self.agents.iter().copied().filter(|a| other.agents.contains(a)).collect(),
        };
        Cond { skills, team: self.team.or(other.team), attrs, agents }
    }
}

/// Index of an interned [`Cond`].
pub(crate) type CondId = u32;

/// What a routing step of a contact's plan asks for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum StepCond {
    /// Members of the queue matching a condition.
    Members(CondId),
    /// One agent (sticky / preferred agent), member or not.
    Preferred(AgentId),
}

/// A step of a contact's plan.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PlanStep {
    pub cond: StepCond,
    pub timeout_ms: Option<u64>,
}

/// A contact's routing plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Plan {
    /// Not queued yet.
    Unset,
    /// The queue's default plan (no preferred agent, no own skills, no
    /// new-customer step): shared, so most contacts allocate nothing.
    Default,
    /// A plan of its own.
    Own(Box<[PlanStep]>),
}

/// Order of waiting contacts: higher priority first, then older, then id.
pub(crate) type WaitKey = (i64, u64, u64);

pub(crate) fn wait_key(priority: i32, waiting_since: Time, id: ContactId) -> WaitKey {
    (-i64::from(priority), waiting_since.0, id.0)
}

/// Where a waiting contact is indexed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ClassRef {
    /// `queue.classes[i]`.
    Class(usize),
    /// The preferred agent's own index.
    Preferred(AgentId),
}

/// The agents a contact is offered to: one, except for ring-all. Kept
/// inline for the single offer so the hot path does not allocate.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct Agents {
    first: Option<AgentId>,
    rest: Vec<AgentId>,
}

impl Agents {
    pub(crate) fn one(a: AgentId) -> Self {
        Agents { first: Some(a), rest: Vec::new() }
    }
    pub(crate) fn push(&mut self, a: AgentId) {
        if self.first.is_none() {
            self.first = Some(a);
        } else {
            self.rest.push(a);
        }
    }
    pub(crate) fn remove(&mut self, a: AgentId) {
        if self.first == Some(a) {
            self.first = if self.rest.is_empty() { None } else { Some(self.rest.remove(0)) };
        } else {
            self.rest.retain(|x| *x != a);
        }
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none()
    }
    pub(crate) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }
    pub(crate) fn contains(&self, a: AgentId) -> bool {
        self.first == Some(a) || self.rest.contains(&a)
    }
    pub(crate) fn iter(&self) -> impl Iterator<Item = AgentId> + '_ {
        self.first.into_iter().chain(self.rest.iter().copied())
    }
    pub(crate) fn to_vec(&self) -> Vec<AgentId> {
        self.iter().collect()
    }
}

/// A contact's phase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Phase {
    /// Arrived, not yet in a queue (or between queues).
    Transit,
    /// Waiting in its queue.
    Waiting(ClassRef),
    /// Offered to these agents.
    Offered(Agents),
    /// A callback being dialled with this agent reserved.
    Dialling(AgentId),
    /// Connected to an agent.
    Connected { agent: AgentId, held_since: Option<Time> },
    /// A callback waiting for its retry time.
    RetryWait,
}

/// Callback details of a contact that asked for one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CallbackInfo {
    pub number: String,
    pub attempts: u32,
}

/// A live contact.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Contact {
    pub id: ContactId,
    pub channel: Channel,
    pub queue: QueueId,
    /// Priority given on arrival / by SetPriority (before the queue's).
    pub base_priority: i32,
    /// Effective priority (base + queue).
    pub priority: i32,
    pub segment: Segment,
    pub preferred: Option<AgentId>,
    /// The contact's own required skills, compiled.
    pub req: Option<CondId>,
    pub callback_number: Option<String>,
    pub waiting_since: Time,
    pub entered_at: Time,
    pub step: u32,
    pub step_entered: Time,
    pub plan: Plan,
    pub phase: Phase,
    /// Bumped each time the contact starts waiting: older queue timers are stale.
    pub epoch: u32,
    pub callback: Option<CallbackInfo>,
    pub overflow_hops: u32,
    pub talk_start: Time,
    pub hold_ms: u64,
    /// The agent being consulted about this contact, while a consultation lasts.
    #[serde(default)]
    pub consult: Option<AgentId>,
    /// The only agent who may take it (`ContactSpec::required_agent`), until
    /// it is answered or overflows.
    #[serde(default)]
    pub only_agent: Option<AgentId>,
}

impl Contact {
    pub(crate) fn key(&self) -> WaitKey {
        wait_key(self.priority, self.waiting_since, self.id)
    }

    /// The step in force, given the queue's default plan. A step index
    /// beyond the plan (the queue's steps were shortened) means its last step.
    pub(crate) fn current_step(&self, default: &[PlanStep]) -> Option<PlanStep> {
        let steps: &[PlanStep] = match &self.plan {
            Plan::Unset => return None,
            Plan::Default => default,
            Plan::Own(own) => own,
        };
        steps.get(self.step as usize).or(steps.last()).copied()
    }
}

/// What an agent does with one contact.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ItemPhase {
    Reserved {
        deadline: Time,
    },
    Dialling,
    Talking,
    Held,
    WrapUp {
        started: Time,
        deadline: Time,
    },
    /// Consulted by `from` about the contact (who holds the customer):
    /// ringing until `deadline`, then (`deadline: None`) talking.
    Consult {
        from: AgentId,
        deadline: Option<Time>,
    },
}

/// One contact an agent holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Item {
    pub contact: ContactId,
    pub queue: QueueId,
    pub channel: Channel,
    pub phase: ItemPhase,
}

/// A sorted set in a ring buffer. Fits the availability index and the
/// waiting classes: entries usually enter at the back (an agent just freed,
/// a contact just arrived) and leave at the front (the longest idle agent,
/// the oldest contact), so both ends are O(1), and a set that empties and
/// fills again does not allocate, unlike a B-tree. Elsewhere an insert or
/// removal moves the shorter side (cheap at contact-center queue lengths).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct SortedDeque<T> {
    items: VecDeque<T>,
}

impl<T: Ord + Copy> SortedDeque<T> {
    pub(crate) fn insert(&mut self, x: T) -> bool {
        // Fast path: most entries are the newest (largest key).
        if self.items.back().is_none_or(|b| *b < x) {
            self.items.push_back(x);
            return true;
        }
        let i = self.items.partition_point(|y| *y < x);
        if self.items.get(i) == Some(&x) {
            return false;
        }
        self.items.insert(i, x);
        true
    }

    #[inline]
    pub(crate) fn remove(&mut self, x: &T) -> bool {
        // Fast path: most removals take the head (the best candidate).
        if self.items.front() == Some(x) {
            self.items.pop_front();
            return true;
        }
        let i = self.items.partition_point(|y| y < x);
        if self.items.get(i) == Some(x) {
            self.items.remove(i);
            true
        } else {
            false
        }
    }

    pub(crate) fn contains(&self, x: &T) -> bool {
        self.items.binary_search(x).is_ok()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    /// Items after `cur`, then from the start up to `cur` included (a cycle).
    pub(crate) fn cycle_after(&self, cur: &T) -> impl Iterator<Item = &T> {
        let i = self.items.partition_point(|y| y <= cur);
        self.items.range(i..).chain(self.items.range(..i))
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

/// Key of an agent in a queue's availability index.
pub(crate) type ReadyKey = (u64, u64, AgentId);

/// A live agent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Agent {
    pub cfg: AgentConfig,
    /// (skill, level), sorted by skill.
    pub skills: Vec<(u16, u8)>,
    pub team: Option<u16>,
    /// Sorted.
    pub attrs: Vec<u16>,
    pub presence: Presence,
    pub items: Vec<Item>,
    pub missed: u32,
    pub blocked_until: Time,
    pub idle_since: Time,
    pub handled: u64,
    pub talk_ms: u64,
    pub state: AgentState,
    pub reason: Option<Arc<str>>,
    pub state_since: Time,
    /// Entries currently in queue availability indexes.
    pub indexed: Vec<(QueueId, Slot, ReadyKey)>,
    /// Contacts waiting in a preferred-agent step for this agent.
    pub preferred_waiting: BTreeSet<(Slot, WaitKey)>,
}

impl Agent {
    pub(crate) fn level(&self, skill: u16) -> u8 {
        self.skills.iter().find(|(s, _)| *s == skill).map_or(0, |(_, l)| *l)
    }

    pub(crate) fn matches(&self, cond: &Cond) -> bool {
        cond.skills.iter().all(|(s, min)| self.level(*s) >= *min)
            && cond.team.is_none_or(|t| self.team == Some(t))
            && cond.attrs.iter().all(|a| self.attrs.binary_search(a).is_ok())
            && (cond.agents.is_empty() || cond.agents.binary_search(&self.cfg.id).is_ok())
    }

    /// Free capacity on `slot`, ignoring presence and blocking.
    pub(crate) fn has_room(&self, slot: Slot) -> bool {
        let cap = self.cfg.capacity.of(slot);
        if cap == 0 {
            return false;
        }
        let mut used = 0u8;
        for it in &self.items {
            if matches!(it.phase, ItemPhase::Reserved { .. } | ItemPhase::Consult { deadline: Some(_), .. }) {
                return false;
            }
            let s = it.channel.slot();
            if s == slot {
                used += 1;
            } else if self.cfg.capacity.exclusive_voice && (s == Slot::Voice || slot == Slot::Voice) {
                return false;
            }
        }
        used < cap
    }

    /// Free capacity on each slot (by [`Slot::index`]), ignoring presence
    /// and blocking, in one pass over the items: nothing while a contact
    /// rings; otherwise fewer contacts than the capacity, and with
    /// exclusive voice, no call next to a chat or an e-mail.
    #[inline]
    pub(crate) fn room(&self) -> [bool; 3] {
        let cap = &self.cfg.capacity;
        if self.items.is_empty() {
            // The common case: a free agent.
            return [cap.voice > 0, cap.chat > 0, cap.email > 0];
        }
        let mut used = [0u8; 3];
        for it in &self.items {
            if matches!(it.phase, ItemPhase::Reserved { .. } | ItemPhase::Consult { deadline: Some(_), .. }) {
                return [false; 3];
            }
            let i = it.channel.slot().index();
            used[i] = used[i].saturating_add(1);
        }
        let exclusive = cap.exclusive_voice;
        let (voice, other) = (used[0] > 0, used[1] > 0 || used[2] > 0);
        [
            cap.voice > used[0] && !(exclusive && other),
            cap.chat > used[1] && !(exclusive && voice),
            cap.email > used[2] && !(exclusive && voice),
        ]
    }

    /// May take a new contact on `slot` (presence ready, room), ignoring blocking.
    pub(crate) fn indexable(&self, slot: Slot) -> bool {
        self.presence == Presence::Ready && self.has_room(slot)
    }

    /// May be offered a contact on `slot` at `now`.
    pub(crate) fn available(&self, slot: Slot, now: Time) -> bool {
        self.indexable(slot) && self.blocked_until <= now
    }

    pub(crate) fn logged_in(&self) -> bool {
        self.presence != Presence::Offline
    }

    pub(crate) fn item(&self, contact: ContactId) -> Option<&Item> {
        self.items.iter().find(|i| i.contact == contact)
    }

    pub(crate) fn item_mut(&mut self, contact: ContactId) -> Option<&mut Item> {
        self.items.iter_mut().find(|i| i.contact == contact)
    }

    pub(crate) fn remove_item(&mut self, contact: ContactId) -> Option<Item> {
        let pos = self.items.iter().position(|i| i.contact == contact)?;
        // Usually the only item: pop, without shifting the rest.
        if pos + 1 == self.items.len() { self.items.pop() } else { Some(self.items.remove(pos)) }
    }

    /// The global state derived from presence and items.
    pub(crate) fn derived_state(&self) -> (AgentState, Option<Arc<str>>) {
        if self.presence == Presence::Offline {
            return (AgentState::Offline, None);
        }
        let mut best: Option<AgentState> = None;
        let rank = |s: AgentState| match s {
            AgentState::Busy => 4,
            AgentState::OnHold => 3,
            AgentState::Reserved => 2,
            AgentState::WrapUp => 1,
            _ => 0,
        };
        for it in &self.items {
            let s = match it.phase {
                ItemPhase::Talking | ItemPhase::Dialling => AgentState::Busy,
                ItemPhase::Held => AgentState::OnHold,
                ItemPhase::Reserved { .. } | ItemPhase::Consult { deadline: Some(_), .. } => AgentState::Reserved,
                ItemPhase::Consult { deadline: None, .. } => AgentState::Busy,
                ItemPhase::WrapUp { .. } => AgentState::WrapUp,
            };
            if best.is_none_or(|b| rank(s) > rank(b)) {
                best = Some(s);
            }
        }
        match (best, &self.presence) {
            (Some(s), _) => (s, None),
            (None, Presence::Ready) => (AgentState::Ready, None),
            (None, Presence::NotReady(r)) => (AgentState::NotReady, Some(r.clone())),
            (None, Presence::Offline) => (AgentState::Offline, None),
        }
    }
}

/// Waiting contacts of one condition and channel slot in a queue.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Class {
    pub cond: CondId,
    pub slot: Slot,
    pub set: SortedDeque<WaitKey>,
}

/// A compiled step of a queue's own routing (before a contact's requirements).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum QueueStep {
    Members(CondId),
    Preferred,
}

/// A live queue.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Queue {
    pub cfg: QueueConfig,
    pub steps: Vec<(QueueStep, Option<u64>)>,
    /// Condition of the new-customer preference step, if configured.
    pub new_customer_cond: Option<CondId>,
    pub classes: Vec<Class>,
    /// Number of waiting contacts (callbacks included).
    pub waiting: u32,
    /// Available agents per slot, ordered by the strategy's key.
    pub ready: [SortedDeque<ReadyKey>; 3],
    /// Member agents, sorted.
    pub members: Vec<AgentId>,
    pub logged_in: u32,
    pub callbacks_outstanding: u32,
    pub rr_cursor: Option<ReadyKey>,
    /// The plan of a contact with no preferred agent, no own required
    /// skills and no new-customer preference: shared, built once.
    pub default_plan: Box<[PlanStep]>,
    /// Smoothed handle time (talk + hold) and wrap-up, for expected waits.
    #[serde(with = "f64_bits")]
    pub handle_ewma_ms: f64,
    #[serde(with = "f64_bits")]
    pub wrap_ewma_ms: f64,
}

impl Queue {
    pub(crate) fn new(cfg: QueueConfig) -> Self {
        Queue {
            cfg,
            steps: Vec::new(),
            new_customer_cond: None,
            classes: Vec::new(),
            waiting: 0,
            ready: Default::default(),
            members: Vec::new(),
            logged_in: 0,
            callbacks_outstanding: 0,
            rr_cursor: None,
            default_plan: Box::new([]),
            handle_ewma_ms: 0.0,
            wrap_ewma_ms: 0.0,
        }
    }

    pub(crate) fn class_index(&mut self, cond: CondId, slot: Slot) -> usize {
        if let Some(i) = self.classes.iter().position(|c| c.cond == cond && c.slot == slot) {
            return i;
        }
        self.classes.push(Class { cond, slot, set: SortedDeque::default() });
        self.classes.len() - 1
    }
}

/// A pending timer. Stale timers are recognised when they fire and ignored.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) enum Timer {
    Offer { contact: ContactId, agent: AgentId },
    Step { contact: ContactId, epoch: u32 },
    Overflow { contact: ContactId, epoch: u32 },
    MaxWait { contact: ContactId, epoch: u32 },
    WrapUp { agent: AgentId, contact: ContactId },
    CallbackRetry { contact: ContactId, epoch: u32 },
    Unblock { agent: AgentId },
    Consult { contact: ContactId, target: AgentId },
}

/// An `f64` stored as its bits: a JSON round trip of the decimal form is not
/// guaranteed exact without serde_json's `float_roundtrip`, and a restored
/// engine must compute exactly what the original would.
mod f64_bits {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(x.to_bits())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        u64::deserialize(d).map(f64::from_bits)
    }
}
