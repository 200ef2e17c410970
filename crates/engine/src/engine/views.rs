//! Read-only views of the engine's state: for wallboards, announcements,
//! snapshots and the invariant checks used by tests.

use super::Engine;
use super::state::*;
use crate::config::{Channel, Slot};
use crate::event::{AgentState, Presence};
use crate::ids::{AgentId, ContactId, QueueId, Time};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What an agent is doing with one contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkPhase {
    /// Being offered (ringing) until the deadline.
    Reserved,
    /// Waiting for a callback to connect.
    Dialling,
    /// Talking / working.
    Talking,
    /// Customer on hold.
    Held,
    /// After-contact work until the deadline.
    WrapUp,
    /// Called by another agent to consult about the contact (ringing until
    /// the deadline); that agent holds the customer.
    ConsultRinging,
    /// Talking with the agent who holds the customer, before taking over.
    Consulting,
}

/// One contact an agent holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkView {
    /// The contact.
    pub contact: ContactId,
    /// The queue it came from.
    pub queue: QueueId,
    /// Channel.
    pub channel: Channel,
    /// Phase.
    pub phase: WorkPhase,
    /// Deadline of an offer or a wrap-up.
    pub deadline: Option<Time>,
    /// In a consultation, the other agent: the consulted one on the
    /// consulting agent's held contact, the consulting one on the consulted
    /// agent's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consult_with: Option<AgentId>,
    /// In a consultation, whether the consulted agent has answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consult_answered: Option<bool>,
}

/// An agent as the engine sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentView {
    /// Agent id.
    pub id: AgentId,
    /// Display name.
    pub name: String,
    /// Global state.
    pub state: AgentState,
    /// Not-ready reason.
    pub reason: Option<Arc<str>>,
    /// Since when in this state.
    pub since: Time,
    /// Presence asked for.
    pub presence: Presence,
    /// Contacts held.
    pub work: Vec<WorkView>,
    /// Consecutive missed offers.
    pub missed: u32,
    /// No offers before this time (after a miss or a decline).
    pub blocked_until: Time,
    /// Contacts answered since login.
    pub handled: u64,
    /// Talk time since login.
    pub talk_ms: u64,
    /// Free since (for longest-idle).
    pub idle_since: Time,
}

/// Where a contact is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "phase")]
pub enum ContactPhase {
    /// Between queues (only inside one engine step).
    Transit,
    /// Waiting at a routing step.
    Waiting {
        /// Index of the step in the contact's plan.
        step: u32,
        /// The step is for one preferred agent.
        preferred: Option<AgentId>,
    },
    /// Offered to agents.
    Offered {
        /// The agents.
        agents: Vec<AgentId>,
    },
    /// A callback being dialled.
    Dialling {
        /// The reserved agent.
        agent: AgentId,
    },
    /// Connected.
    Connected {
        /// The agent.
        agent: AgentId,
        /// On hold.
        held: bool,
    },
    /// A callback waiting to be retried.
    RetryWait,
}

/// A live contact as the engine sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactView {
    /// Contact id.
    pub id: ContactId,
    /// Current queue.
    pub queue: QueueId,
    /// Channel.
    pub channel: Channel,
    /// Effective priority.
    pub priority: i32,
    /// Age counts from here.
    pub waiting_since: Time,
    /// Entered the current queue at.
    pub entered_at: Time,
    /// Where it is.
    pub phase: ContactPhase,
    /// It is a callback (number and attempts so far).
    pub callback: Option<(String, u32)>,
}

/// A queue's live figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueView {
    /// Queue id.
    pub id: QueueId,
    /// Display name.
    pub name: String,
    /// Contacts waiting (callbacks included).
    pub waiting: u32,
    /// Callbacks waiting or being retried.
    pub callbacks_outstanding: u32,
    /// The oldest waiting contact's age origin.
    pub oldest_waiting_since: Option<Time>,
    /// Members logged in.
    pub logged_in: u32,
    /// Members available for a call right now.
    pub available_voice: u32,
    /// Member agents.
    pub members: u32,
}

/// Everything the engine holds, in a canonical order: two engines with the
/// same snapshot behave the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineSnapshot {
    /// Last event sequence number.
    pub seq: u64,
    /// Agents by id.
    pub agents: Vec<AgentView>,
    /// Live contacts by id.
    pub contacts: Vec<ContactView>,
    /// Queues by id.
    pub queues: Vec<QueueView>,
}

impl Engine {
    /// View of one agent.
    pub fn agent_view(&self, id: AgentId) -> Option<AgentView> {
        let a = self.agent(id)?;
        Some(AgentView {
            id,
            name: a.cfg.name.clone(),
            state: a.state,
            reason: a.reason.clone(),
            since: a.state_since,
            presence: a.presence.clone(),
            work: a
                .items
                .iter()
                .map(|i| {
                    let (phase, deadline) = match i.phase {
                        ItemPhase::Reserved { deadline } => (WorkPhase::Reserved, Some(deadline)),
                        ItemPhase::Dialling => (WorkPhase::Dialling, None),
                        ItemPhase::Talking => (WorkPhase::Talking, None),
                        ItemPhase::Held => (WorkPhase::Held, None),
                        ItemPhase::WrapUp { deadline, .. } => (WorkPhase::WrapUp, Some(deadline)),
                        ItemPhase::Consult { deadline: Some(d), .. } => (WorkPhase::ConsultRinging, Some(d)),
                        ItemPhase::Consult { deadline: None, .. } => (WorkPhase::Consulting, None),
                    };
                    let consult_with = match i.phase {
                        ItemPhase::Consult { from, .. } => Some(from),
                        ItemPhase::Held => self.contacts.get(&i.contact).and_then(|c| c.consult),
                        _ => None,
                    };
                    let consult_answered = consult_with.map(|_| match i.phase {
                        ItemPhase::Consult { deadline, .. } => deadline.is_none(),
                        _ => self.consultation(i.contact).is_some_and(|(_, answered)| answered),
                    });
                    WorkView {
                        contact: i.contact,
                        queue: i.queue,
                        channel: i.channel,
                        phase,
                        deadline,
                        consult_with,
                        consult_answered,
                    }
                })
                .collect(),
            missed: a.missed,
            blocked_until: a.blocked_until,
            handled: a.handled,
            talk_ms: a.talk_ms,
            idle_since: a.idle_since,
        })
    }

    /// Views of every agent, by id.
    pub fn agent_views(&self) -> Vec<AgentView> {
        self.agents.iter().flatten().filter_map(|a| self.agent_view(a.cfg.id)).collect()
    }

    /// View of one live contact.
    pub fn contact_view(&self, id: ContactId) -> Option<ContactView> {
        let c = self.contacts.get(&id)?;
        let phase = match &c.phase {
            Phase::Transit => ContactPhase::Transit,
            Phase::Waiting(r) => ContactPhase::Waiting {
                step: c.step,
                preferred: match r {
                    ClassRef::Preferred(a) => Some(*a),
                    ClassRef::Class(_) => None,
                },
            },
            Phase::Offered(list) => ContactPhase::Offered { agents: list.to_vec() },
            Phase::Dialling(a) => ContactPhase::Dialling { agent: *a },
            Phase::Connected { agent, held_since } => {
                ContactPhase::Connected { agent: *agent, held: held_since.is_some() }
            }
            Phase::RetryWait => ContactPhase::RetryWait,
        };
        Some(ContactView {
            id,
            queue: c.queue,
            channel: c.channel,
            priority: c.priority,
            waiting_since: c.waiting_since,
            entered_at: c.entered_at,
            phase,
            callback: c.callback.as_ref().map(|cb| (cb.number.clone(), cb.attempts)),
        })
    }

    /// Views of every live contact, by id.
    pub fn contact_views(&self) -> Vec<ContactView> {
        let mut ids: Vec<ContactId> = self.contacts.keys().copied().collect();
        ids.sort_unstable();
        ids.into_iter().filter_map(|id| self.contact_view(id)).collect()
    }

    /// Live figures of one queue.
    pub fn queue_view(&self, id: QueueId, now: Time) -> Option<QueueView> {
        let q = self.queue(id)?;
        let available_voice =
            q.members.iter().filter(|a| self.agent(**a).is_some_and(|a| a.available(Slot::Voice, now))).count() as u32;
        Some(QueueView {
            id,
            name: q.cfg.name.clone(),
            waiting: q.waiting,
            callbacks_outstanding: q.callbacks_outstanding,
            oldest_waiting_since: self
                .contacts
                .values()
                .filter(|c| c.queue == id && matches!(c.phase, Phase::Waiting(_)))
                .map(|c| c.waiting_since)
                .min(),
            logged_in: q.logged_in,
            available_voice,
            members: q.members.len() as u32,
        })
    }

    /// Live figures of every queue, by id.
    pub fn queue_views(&self, now: Time) -> Vec<QueueView> {
        self.queues.iter().flatten().filter_map(|q| self.queue_view(q.cfg.id, now)).collect()
    }

    /// Position of a waiting contact in its queue, from 1 (for announcements).
    pub fn queue_position(&self, contact: ContactId) -> Option<u32> {
        let c = self.contacts.get(&contact)?;
        if !matches!(c.phase, Phase::Waiting(_)) {
            return None;
        }
        let key = c.key();
        let ahead = self
            .contacts
            .values()
            .filter(|o| o.queue == c.queue && matches!(o.phase, Phase::Waiting(_)) && o.key() < key)
            .count();
        Some(ahead as u32 + 1)
    }

    /// Expected wait of a waiting contact, in milliseconds: its position
    /// times the smoothed handle time (talk, hold and wrap-up) divided by the
    /// members logged in and not on a break. `None` until the queue has
    /// handled a contact or when nobody serves it.
    pub fn expected_wait_ms(&self, contact: ContactId) -> Option<u64> {
        let pos = self.queue_position(contact)?;
        let c = self.contacts.get(&contact)?;
        let q = self.queue(c.queue)?;
        let serving =
            q.members.iter().filter(|a| self.agent(**a).is_some_and(|a| a.presence == Presence::Ready)).count() as f64;
        let handle = q.handle_ewma_ms + q.wrap_ewma_ms;
        if serving == 0.0 || handle == 0.0 {
            return None;
        }
        Some((f64::from(pos) * handle / serving).round() as u64)
    }

    /// A canonical snapshot of the whole state.
    pub fn snapshot(&self, now: Time) -> EngineSnapshot {
        EngineSnapshot {
            seq: self.seq,
            agents: self.agent_views(),
            contacts: self.contact_views(),
            queues: self.queue_views(now),
        }
    }

    /// Check the engine's internal invariants; `Err` describes the first
    /// violation. Cheap enough for tests after every input, not for production.
    #[doc(hidden)]
    pub fn check_invariants(&self, now: Time) -> Result<(), String> {
        // Agents: capacity, presence, items pointing at consistent contacts.
        for a in self.agents.iter().flatten() {
            let id = a.cfg.id;
            let reserved = a
                .items
                .iter()
                .filter(|i| {
                    matches!(i.phase, ItemPhase::Reserved { .. } | ItemPhase::Consult { deadline: Some(_), .. })
                })
                .count();
            if reserved > 1 {
                return Err(format!("{id} has {reserved} offers at once"));
            }
            for slot in Slot::ALL {
                let used = a.items.iter().filter(|i| i.channel.slot() == slot).count();
                if used > usize::from(a.cfg.capacity.of(slot)) {
                    return Err(format!(
                        "{id} holds {used} contacts on {slot:?}, capacity {}",
                        a.cfg.capacity.of(slot)
                    ));
                }
            }
            if a.cfg.capacity.exclusive_voice {
                let voice = a.items.iter().any(|i| i.channel.slot() == Slot::Voice);
                let other = a.items.iter().any(|i| i.channel.slot() != Slot::Voice);
                if voice && other {
                    return Err(format!("{id} mixes a call with other contacts"));
                }
            }
            if a.presence == Presence::Offline && !a.items.is_empty() {
                return Err(format!("{id} is offline but holds contacts"));
            }
            let mut seen = Vec::new();
            for it in &a.items {
                if seen.contains(&it.contact) {
                    return Err(format!("{id} holds {} twice", it.contact));
                }
                seen.push(it.contact);
                match it.phase {
                    ItemPhase::Reserved { .. } => match self.contacts.get(&it.contact).map(|c| &c.phase) {
                        Some(Phase::Offered(list)) if list.contains(id) => {}
                        other => return Err(format!("{id} reserved for {} which is {other:?}", it.contact)),
                    },
                    ItemPhase::Talking | ItemPhase::Held => match self.contacts.get(&it.contact).map(|c| &c.phase) {
                        Some(Phase::Connected { agent, .. }) if *agent == id => {}
                        other => return Err(format!("{id} talking to {} which is {other:?}", it.contact)),
                    },
                    ItemPhase::Dialling => match self.contacts.get(&it.contact).map(|c| &c.phase) {
                        Some(Phase::Dialling(agent)) if *agent == id => {}
                        other => return Err(format!("{id} dialling {} which is {other:?}", it.contact)),
                    },
                    ItemPhase::WrapUp { .. } => {}
                    ItemPhase::Consult { from, .. } => match self.contacts.get(&it.contact) {
                        Some(c)
                            if c.consult == Some(id)
                                && matches!(c.phase, Phase::Connected { agent, held_since: Some(_) } if agent == from) =>
                            {}
                        other => {
                            return Err(format!(
                                "{id} consulted by {from} about {} which is {:?}",
                                it.contact,
                                other.map(|c| (&c.phase, c.consult))
                            ));
                        }
                    },
                }
            }
            if a.derived_state().0 != a.state {
                return Err(format!("{id} published state {:?} but is {:?}", a.state, a.derived_state().0));
            }
        }
        // Contacts: exactly one place; waiting ones indexed once; nobody
        // idle who could take a waiting contact.
        let mut waiting_total = 0usize;
        for c in self.contacts.values() {
            match &c.phase {
                Phase::Transit => return Err(format!("{} left in transit", c.id)),
                Phase::Offered(list) => {
                    if list.is_empty() {
                        return Err(format!("{} offered to nobody", c.id));
                    }
                    for a in list.iter() {
                        let ok = self
                            .agent(a)
                            .and_then(|ag| ag.item(c.id))
                            .is_some_and(|i| matches!(i.phase, ItemPhase::Reserved { .. }));
                        if !ok {
                            return Err(format!("{} offered to {a} who does not hold it", c.id));
                        }
                    }
                }
                Phase::Connected { agent, .. } | Phase::Dialling(agent) => {
                    let n = self
                        .agents
                        .iter()
                        .flatten()
                        .filter(|a| {
                            a.items.iter().any(|i| {
                                i.contact == c.id
                                    && !matches!(i.phase, ItemPhase::WrapUp { .. } | ItemPhase::Consult { .. })
                            })
                        })
                        .count();
                    if n != 1 || self.agent(*agent).and_then(|a| a.item(c.id)).is_none() {
                        return Err(format!("{} connected to {n} agents", c.id));
                    }
                    if let Some(t) = c.consult {
                        let ok = self
                            .agent(t)
                            .and_then(|a| a.item(c.id))
                            .is_some_and(|i| matches!(i.phase, ItemPhase::Consult { from, .. } if from == *agent));
                        if !ok || !matches!(c.phase, Phase::Connected { .. }) {
                            return Err(format!("{} names {t} as consulted, who does not hold the consultation", c.id));
                        }
                    }
                }
                Phase::RetryWait => {}
                Phase::Waiting(r) => {
                    waiting_total += 1;
                    let q = self.queue(c.queue).ok_or(format!("{} waits in a missing queue", c.id))?;
                    let slot = c.channel.slot();
                    let eligible_idle: Option<AgentId> = match r {
                        ClassRef::Preferred(a) => {
                            if !self.agent(*a).is_some_and(|ag| ag.preferred_waiting.contains(&(slot, c.key()))) {
                                return Err(format!("{} not in preferred index of {a}", c.id));
                            }
                            self.agent(*a).filter(|ag| ag.available(slot, now) && ag.item(c.id).is_none()).map(|_| *a)
                        }
                        ClassRef::Class(i) => {
                            let class = q.classes.get(*i).ok_or("bad class")?;
                            if !class.set.contains(&c.key()) {
                                return Err(format!("{} not in its class index", c.id));
                            }
                            let cond = &self.conds[class.cond as usize];
                            q.members.iter().copied().find(|m| {
                                self.agent(*m).is_some_and(|a| {
                                    a.available(slot, now) && a.matches(cond) && a.item(c.id).is_none()
                                })
                            })
                        }
                    };
                    if let Some(a) = eligible_idle {
                        return Err(format!("{} waits in {} while {a} is available and eligible", c.id, c.queue));
                    }
                }
            }
        }
        let indexed: usize = self.queues.iter().flatten().map(|q| q.waiting as usize).sum();
        if indexed != waiting_total {
            return Err(format!("{indexed} indexed waiting contacts, {waiting_total} waiting"));
        }
        // Availability indexes hold exactly the indexable members.
        for q in self.queues.iter().flatten() {
            for slot in Slot::ALL {
                for k in q.ready[slot.index()].iter() {
                    let Some(a) = self.agent(k.2) else { return Err(format!("missing {} indexed", k.2)) };
                    if !a.indexable(slot) {
                        return Err(format!("{} indexed in {} but cannot take {slot:?}", k.2, q.cfg.id));
                    }
                }
                let expected = q.members.iter().filter(|m| self.agent(**m).is_some_and(|a| a.indexable(slot))).count();
                if expected != q.ready[slot.index()].len() {
                    return Err(format!(
                        "{} {slot:?} index has {} agents, expected {expected}",
                        q.cfg.id,
                        q.ready[slot.index()].len()
                    ));
                }
            }
            let logged = q.members.iter().filter(|m| self.agent(**m).is_some_and(|a| a.logged_in())).count() as u32;
            if logged != q.logged_in {
                return Err(format!("{} counts {} logged in, really {logged}", q.cfg.id, q.logged_in));
            }
        }
        Ok(())
    }
}
