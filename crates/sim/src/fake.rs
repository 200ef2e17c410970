//! A minimal stand-in engine for the simulator's own unit tests: one FIFO
//! over every queue, every agent serves everything, longest-idle agent,
//! wrap-up timers, offer time-outs. It emits the same events the real
//! engine emits for these paths, so the loop, the tallies and the
//! queueing-theory agreement can be tested without the real engine.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::run::Driven;
use engine::*;
use std::collections::{BTreeSet, HashMap, VecDeque};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cs {
    Waiting,
    Offered(u32, Time),
    Connected(u32, Time),
}

struct Ag {
    logged_in: bool,
    ready: bool,
    contact: Option<u64>,
    wrap: Option<(u64, Time)>,
    state: AgentState,
    since: Time,
    idle_since: Time,
}

pub struct FakeEngine {
    seq: u64,
    wrap_up_ms: u64,
    offer_timeout_ms: u64,
    waiting: VecDeque<u64>,
    contacts: HashMap<u64, (Cs, Time, QueueId)>,
    agents: Vec<Ag>,
    timers: BTreeSet<(Time, u8, u64)>,
    auto_answer: Vec<bool>,
}

impl FakeEngine {
    pub fn new(config: &EngineConfig) -> Self {
        FakeEngine {
            seq: 0,
            wrap_up_ms: config.queues.first().map_or(0, |q| q.wrap_up_ms),
            offer_timeout_ms: config.queues.first().map_or(15_000, |q| q.offer_timeout_ms),
            waiting: VecDeque::new(),
            contacts: HashMap::new(),
            agents: config
                .agents
                .iter()
                .map(|_| Ag {
                    logged_in: false,
                    ready: false,
                    contact: None,
                    wrap: None,
                    state: AgentState::Offline,
                    since: Time(0),
                    idle_since: Time(0),
                })
                .collect(),
            timers: BTreeSet::new(),
            auto_answer: config.agents.iter().map(|a| a.auto_answer).collect(),
        }
    }

    fn ev(&mut self, at: Time, event: Event, out: &mut Vec<Output>) {
        self.seq += 1;
        out.push(Output::Event(EventRecord { v: SCHEMA_VERSION, seq: self.seq, at, event }));
    }

    fn set_state(&mut self, a: u32, at: Time, out: &mut Vec<Output>) {
        let ag = &self.agents[a as usize];
        let to = if !ag.logged_in {
            AgentState::Offline
        } else if let Some(c) = ag.contact {
            match self.contacts.get(&c).map(|x| x.0) {
                Some(Cs::Offered(..)) => AgentState::Reserved,
                _ => AgentState::Busy,
            }
        } else if ag.wrap.is_some() {
            AgentState::WrapUp
        } else if ag.ready {
            AgentState::Ready
        } else {
            AgentState::NotReady
        };
        let from = ag.state;
        if from != to {
            let in_state_ms = at.since(ag.since);
            let ag = &mut self.agents[a as usize];
            ag.state = to;
            ag.since = at;
            if to == AgentState::Ready {
                ag.idle_since = at;
            }
            self.ev(at, Event::AgentStateChanged { agent: AgentId(a), from, to, reason: None, in_state_ms }, out);
        }
    }

    fn route(&mut self, now: Time, out: &mut Vec<Output>) {
        loop {
            while let Some(&c) = self.waiting.front() {
                if matches!(self.contacts.get(&c), Some((Cs::Waiting, ..))) {
                    break;
                }
                self.waiting.pop_front();
            }
            let Some(&c) = self.waiting.front() else { return };
            let best = (0..self.agents.len())
                .filter(|&i| {
                    let a = &self.agents[i];
                    a.logged_in && a.ready && a.contact.is_none() && a.wrap.is_none()
                })
                .min_by_key(|&i| (self.agents[i].idle_since, i));
            let Some(a) = best else { return };
            self.waiting.pop_front();
            let deadline = now.plus(self.offer_timeout_ms);
            let queue = self.contacts[&c].2;
            self.contacts.get_mut(&c).unwrap().0 = Cs::Offered(a as u32, now);
            self.agents[a].contact = Some(c);
            self.timers.insert((deadline, 0, c));
            let (contact, agent) = (ContactId(c), AgentId(a as u32));
            self.ev(now, Event::ContactOffered { contact, queue, agent, channel: Channel::Voice, deadline }, out);
            out.push(Output::Command(Command::Offer { contact, agent, channel: Channel::Voice, deadline }));
            self.set_state(a as u32, now, out);
            if self.auto_answer[a] {
                self.accept(now, contact, agent, out).unwrap();
            }
        }
    }

    fn fire(&mut self, now: Time, out: &mut Vec<Output>) {
        while let Some(&(t, kind, id)) = self.timers.first() {
            if t > now {
                break;
            }
            self.timers.pop_first();
            match kind {
                0 => {
                    // Offer time-out.
                    if let Some(&(Cs::Offered(a, _), arrived, queue)) = self.contacts.get(&id) {
                        self.contacts.insert(id, (Cs::Waiting, arrived, queue));
                        self.waiting.push_front(id);
                        let ag = &mut self.agents[a as usize];
                        ag.contact = None;
                        ag.ready = false;
                        let (contact, agent) = (ContactId(id), AgentId(a));
                        self.ev(t, Event::OfferTimedOut { contact, queue, agent, missed: 1 }, out);
                        let presence = Presence::NotReady("missed-offers".into());
                        self.ev(t, Event::AgentPresenceChanged { agent, presence }, out);
                        self.set_state(a, t, out);
                        self.route(t, out);
                    }
                }
                _ => {
                    // Wrap-up end.
                    let a = id as u32;
                    if let Some((c, started)) = self.agents[a as usize].wrap
                        && started.plus(self.wrap_up_ms) == t
                    {
                        self.agents[a as usize].wrap = None;
                        let ev = Event::WrapUpEnded {
                            contact: ContactId(c),
                            queue: QueueId(0),
                            agent: AgentId(a),
                            wrap_ms: self.wrap_up_ms,
                        };
                        self.ev(t, ev, out);
                        self.set_state(a, t, out);
                        self.route(t, out);
                    }
                }
            }
        }
    }

    fn end_contact(
        &mut self,
        now: Time,
        id: u64,
        outcome: Outcome,
        agent: Option<u32>,
        talk_ms: u64,
        out: &mut Vec<Output>,
    ) {
        let queue = self.contacts.remove(&id).map_or(QueueId(0), |c| c.2);
        let by = (outcome == Outcome::Handled).then_some(Party::Customer);
        let ev = Event::ContactEnded {
            contact: ContactId(id),
            queue,
            outcome,
            agent: agent.map(AgentId),
            by,
            talk_ms,
            hold_ms: 0,
        };
        self.ev(now, ev, out);
    }
}

impl FakeEngine {
    fn accept(
        &mut self,
        now: Time,
        contact: ContactId,
        agent: AgentId,
        out: &mut Vec<Output>,
    ) -> Result<(), EngineError> {
        let Some(&(Cs::Offered(a, _), arrived, queue)) = self.contacts.get(&contact.0) else {
            return Err(EngineError::NotOffered { contact, agent });
        };
        if a != agent.0 {
            return Err(EngineError::NotOffered { contact, agent });
        }
        self.contacts.insert(contact.0, (Cs::Connected(a, now), arrived, queue));
        let ev = Event::ContactAnswered { contact, queue, agent, channel: Channel::Voice, wait_ms: now.since(arrived) };
        self.ev(now, ev, out);
        self.set_state(a, now, out);
        Ok(())
    }
}

impl Driven for FakeEngine {
    fn handle(&mut self, now: Time, input: Input, out: &mut Vec<Output>) -> Result<(), EngineError> {
        self.fire(now, out);
        match input {
            Input::Tick => {}
            Input::Arrive { contact } => {
                let id = contact.id.0;
                if self.contacts.contains_key(&id) {
                    return Err(EngineError::DuplicateContact(contact.id));
                }
                let queue = contact.queue;
                self.contacts.insert(id, (Cs::Waiting, now, queue));
                self.ev(now, Event::ContactArrived { spec: Box::new(contact) }, out);
                let ev = Event::ContactQueued {
                    contact: ContactId(id),
                    queue,
                    priority: 0,
                    waiting_since: now,
                    channel: Channel::Voice,
                };
                self.ev(now, ev, out);
                self.waiting.push_back(id);
                self.route(now, out);
            }
            Input::Abandon { contact } => {
                let id = contact.0;
                let Some(&(cs, arrived, queue)) = self.contacts.get(&id) else {
                    return Err(EngineError::UnknownContact(contact));
                };
                let while_offered = match cs {
                    Cs::Waiting => false,
                    Cs::Offered(a, _) => {
                        self.agents[a as usize].contact = None;
                        self.ev(now, Event::OfferRescinded { contact, queue, agent: AgentId(a) }, out);
                        out.push(Output::Command(Command::CancelOffer { contact, agent: AgentId(a) }));
                        true
                    }
                    Cs::Connected(..) => return Err(EngineError::InvalidState("connected".into())),
                };
                let wait_ms = now.since(arrived);
                self.ev(now, Event::ContactAbandoned { contact, queue, wait_ms, while_offered }, out);
                self.end_contact(now, id, Outcome::Abandoned, None, 0, out);
                if let Cs::Offered(a, _) = cs {
                    self.set_state(a, now, out);
                    self.route(now, out);
                }
            }
            Input::Login { agent } => {
                let a = self.agents.get_mut(agent.0 as usize).ok_or(EngineError::UnknownAgent(agent))?;
                a.logged_in = true;
                a.ready = false;
                let presence = Presence::NotReady("login".into());
                self.ev(now, Event::AgentPresenceChanged { agent, presence }, out);
                self.set_state(agent.0, now, out);
            }
            Input::Logout { agent } => {
                let a = self.agents.get_mut(agent.0 as usize).ok_or(EngineError::UnknownAgent(agent))?;
                if a.contact.is_some() {
                    return Err(EngineError::InvalidState("connected".into()));
                }
                a.logged_in = false;
                a.ready = false;
                a.wrap = None;
                self.ev(now, Event::AgentPresenceChanged { agent, presence: Presence::Offline }, out);
                self.set_state(agent.0, now, out);
            }
            Input::Ready { agent } => {
                let a = self.agents.get_mut(agent.0 as usize).ok_or(EngineError::UnknownAgent(agent))?;
                if !a.logged_in {
                    return Err(EngineError::NotLoggedIn(agent));
                }
                a.ready = true;
                self.ev(now, Event::AgentPresenceChanged { agent, presence: Presence::Ready }, out);
                self.set_state(agent.0, now, out);
                self.route(now, out);
            }
            Input::NotReady { agent, reason } => {
                let a = self.agents.get_mut(agent.0 as usize).ok_or(EngineError::UnknownAgent(agent))?;
                a.ready = false;
                let presence = Presence::NotReady(reason.into());
                self.ev(now, Event::AgentPresenceChanged { agent, presence }, out);
                self.set_state(agent.0, now, out);
            }
            Input::Accept { contact, agent } => self.accept(now, contact, agent, out)?,
            Input::Hangup { contact, .. } => {
                let Some(&(Cs::Connected(a, since), ..)) = self.contacts.get(&contact.0) else {
                    return Err(EngineError::InvalidState("not connected".into()));
                };
                self.agents[a as usize].contact = None;
                self.end_contact(now, contact.0, Outcome::Handled, Some(a), now.since(since), out);
                if self.wrap_up_ms > 0 {
                    self.agents[a as usize].wrap = Some((contact.0, now));
                    let deadline = now.plus(self.wrap_up_ms);
                    self.timers.insert((deadline, 1, u64::from(a)));
                    let ev = Event::WrapUpStarted {
                        contact,
                        queue: QueueId(0),
                        agent: AgentId(a),
                        channel: Channel::Voice,
                        deadline,
                    };
                    self.ev(now, ev, out);
                }
                self.set_state(a, now, out);
                self.route(now, out);
            }
            _ => return Err(EngineError::InvalidState("not supported by the fake engine".into())),
        }
        Ok(())
    }

    fn next_deadline(&mut self) -> Option<Time> {
        self.timers.first().map(|t| t.0)
    }
}
