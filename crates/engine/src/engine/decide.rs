//! Deciding: inputs and timers are checked against the state and turned
//! into events (applied at once) and commands. Routing lives here.

use super::Engine;
use super::state::*;
use crate::config::{Channel, EngineConfig, ExitAction, Slot, Strategy};
use crate::contact::ContactSpec;
use crate::error::EngineError;
use crate::event::{ConsultOutcome, Event, ExitReason, Outcome, OverflowReason, Presence};
use crate::ids::{AgentId, ContactId, QueueId, Time};
use crate::input::{DialOutcome, Input, Party, TransferTarget};
use crate::output::{Command, Outputs};
use std::cmp::Reverse;
use std::sync::Arc;

/// Overflow hops a contact may make; beyond, it stays where it is. Guards
/// against overflow loops that validation cannot see (queues emptied at run time).
const MAX_OVERFLOW_HOPS: u32 = 16;

impl Engine {
    pub(super) fn fire_timers(&mut self, now: Time, out: &mut impl Outputs) {
        while let Some(Reverse((t, _, timer))) = self.timers.peek().copied() {
            if t > now {
                break;
            }
            self.timers.pop();
            if self.timer_valid(t, timer) {
                // A timer armed for a time already past (a contact back in
                // its queue after a missed offer) fires now, not in the past.
                let at = t.max(self.clock);
                self.clock = at;
                self.fire(at, timer, out);
                self.sync_agents(at, out);
            }
        }
    }

    pub(super) fn timer_valid(&self, t: Time, timer: Timer) -> bool {
        let waiting_gen = |c: ContactId, epoch: u32| {
            self.contacts.get(&c).is_some_and(|c| c.epoch == epoch && matches!(c.phase, Phase::Waiting(_)))
        };
        match timer {
            Timer::Offer { contact, agent } => self
                .agent(agent)
                .and_then(|a| a.item(contact))
                .is_some_and(|i| i.phase == ItemPhase::Reserved { deadline: t }),
            Timer::Step { contact, epoch } | Timer::Overflow { contact, epoch } => waiting_gen(contact, epoch),
            Timer::MaxWait { contact, epoch } => {
                waiting_gen(contact, epoch) && self.contacts.get(&contact).is_some_and(|c| c.callback.is_none())
            }
            Timer::WrapUp { agent, contact } => self
                .agent(agent)
                .and_then(|a| a.item(contact))
                .is_some_and(|i| matches!(i.phase, ItemPhase::WrapUp { deadline, .. } if deadline == t)),
            Timer::CallbackRetry { contact, epoch } => {
                self.contacts.get(&contact).is_some_and(|c| c.epoch == epoch && c.phase == Phase::RetryWait)
            }
            Timer::Unblock { agent } => self.agent(agent).is_some_and(|a| a.blocked_until == t),
            Timer::Consult { contact, target } => self
                .agent(target)
                .and_then(|a| a.item(contact))
                .is_some_and(|i| matches!(i.phase, ItemPhase::Consult { deadline: Some(d), .. } if d == t)),
        }
    }

    fn fire(&mut self, t: Time, timer: Timer, out: &mut impl Outputs) {
        match timer {
            Timer::Consult { contact, .. } => self.end_consult(t, contact, ConsultOutcome::TimedOut, out),
            Timer::Offer { contact, agent } => {
                let Some(c) = self.contacts.get(&contact) else { return };
                let queue = c.queue;
                let ring_all = matches!(&c.phase, Phase::Offered(l) if l.len() > 1)
                    || self.queue(queue).is_some_and(|q| q.cfg.strategy == Strategy::RingAll);
                let Some(a) = self.agent(agent) else { return };
                // A ring-all offer that nobody picks up is not one agent's miss.
                let missed = if ring_all { a.missed } else { a.missed + 1 };
                let to_not_ready =
                    !ring_all && missed >= self.settings.max_missed_offers && a.presence == Presence::Ready;
                self.emit(t, Event::OfferTimedOut { contact, queue, agent, missed }, out);
                out.command(Command::CancelOffer { contact, agent });
                if to_not_ready {
                    let reason: Arc<str> = Arc::from(self.settings.missed_offers_reason.as_str());
                    self.emit(t, Event::AgentPresenceChanged { agent, presence: Presence::NotReady(reason) }, out);
                }
                self.route_contact(t, contact, out);
            }
            Timer::Step { contact, .. } => {
                let Some(c) = self.contacts.get(&contact) else { return };
                let (queue, step) = (c.queue, c.step + 1);
                self.emit(t, Event::StepChanged { contact, queue, step }, out);
                self.route_contact(t, contact, out);
            }
            Timer::Overflow { contact, .. } => {
                let Some(c) = self.contacts.get(&contact) else { return };
                let target = self.queue(c.queue).and_then(|q| q.cfg.overflow.as_ref()).map(|o| o.queue);
                if let Some(target) = target
                    && c.overflow_hops < MAX_OVERFLOW_HOPS
                {
                    self.overflow(t, contact, target, OverflowReason::Timeout, out);
                }
            }
            Timer::MaxWait { contact, .. } => {
                let Some(c) = self.contacts.get(&contact) else { return };
                let action = self.queue(c.queue).and_then(|q| q.cfg.max_wait.as_ref()).map(|m| m.action.clone());
                if let Some(action) = action {
                    self.exit(t, contact, ExitReason::MaxWait, action, out);
                }
            }
            Timer::WrapUp { agent, contact } => self.end_wrap_up(t, agent, contact, out),
            Timer::CallbackRetry { contact, .. } => {
                let Some(c) = self.contacts.get(&contact) else { return };
                let (queue, since, priority) = (c.queue, c.waiting_since, c.base_priority);
                let qprio = self.queue(queue).map_or(0, |q| q.cfg.priority);
                self.emit(t, Event::CallbackRetry { contact, queue }, out);
                self.emit(
                    t,
                    Event::ContactQueued {
                        contact,
                        queue,
                        priority: priority.saturating_add(qprio),
                        waiting_since: since,
                        channel: Channel::Callback,
                    },
                    out,
                );
                self.route_contact(t, contact, out);
            }
            Timer::Unblock { agent } => self.route_agent(t, agent, out),
        }
    }

    /// Publish state changes of every agent touched since the last call.
    pub(super) fn sync_agents(&mut self, at: Time, out: &mut impl Outputs) {
        if self.touched.is_empty() {
            return;
        }
        self.flush_index();
        self.indexed_upto = 0;
        let mut list = std::mem::take(&mut self.touched);
        if list.len() > 1 {
            list.sort_unstable();
            list.dedup();
        }
        for id in &list {
            let Some(a) = self.agent(*id) else { continue };
            let (to, reason) = a.derived_state();
            if to != a.state || (to == crate::event::AgentState::NotReady && reason != a.reason) {
                let ev = Event::AgentStateChanged {
                    agent: *id,
                    from: a.state,
                    to,
                    reason,
                    in_state_ms: at.since(a.state_since),
                };
                self.emit(at, ev, out);
            }
        }
        self.touched.clear();
        list.clear();
        self.touched = list;
    }

    pub(super) fn handle_input(&mut self, now: Time, input: Input, out: &mut impl Outputs) -> Result<(), EngineError> {
        match input {
            Input::Tick => Ok(()),
            Input::Arrive { contact } => self.arrive(now, contact, out),
            Input::Abandon { contact } => self.abandon(now, contact, out),
            Input::Login { agent } => {
                let a = self.agent(agent).ok_or(EngineError::UnknownAgent(agent))?;
                if !a.logged_in() {
                    // R-CALL-2: after login an agent is ready.
                    self.emit(now, Event::AgentPresenceChanged { agent, presence: Presence::Ready }, out);
                    self.route_agent(now, agent, out);
                }
                Ok(())
            }
            Input::Logout { agent } => self.logout(now, agent, out),
            Input::Ready { agent } => self.ready(now, agent, out),
            Input::NotReady { agent, reason } => self.not_ready(now, agent, reason, out),
            Input::Accept { contact, agent } => self.accept(now, contact, agent, out),
            Input::Reject { contact, agent } => {
                if self.consult_ringing(contact, agent) {
                    self.end_consult(now, contact, ConsultOutcome::Rejected, out);
                    return Ok(());
                }
                let queue = self.check_offered(contact, agent)?;
                self.emit(now, Event::OfferRejected { contact, queue, agent }, out);
                self.route_contact(now, contact, out);
                Ok(())
            }
            Input::Hold { contact } => {
                let (agent, held) = self.connected(contact)?;
                if held {
                    return Err(EngineError::InvalidState(format!("{contact} is already on hold")));
                }
                self.emit(now, Event::ContactHeld { contact, agent }, out);
                Ok(())
            }
            Input::Resume { contact } => {
                let (agent, _) = self.connected(contact)?;
                self.no_consult(contact, "resume the customer")?;
                let Some(Phase::Connected { held_since: Some(h), .. }) =
                    self.contacts.get(&contact).map(|c| c.phase.clone())
                else {
                    return Err(EngineError::InvalidState(format!("{contact} is not on hold")));
                };
                self.emit(now, Event::ContactResumed { contact, agent, held_ms: now.since(h) }, out);
                Ok(())
            }
            Input::Hangup { contact, by } => self.hangup(now, contact, by, out),
            Input::ExtendWrapUp { contact, agent, ms } => {
                let deadline = match self.agent(agent).ok_or(EngineError::UnknownAgent(agent))?.item(contact) {
                    Some(Item { phase: ItemPhase::WrapUp { deadline, .. }, .. }) => *deadline,
                    _ => return Err(EngineError::InvalidState(format!("{agent} is not wrapping up {contact}"))),
                };
                self.emit(now, Event::WrapUpExtended { contact, agent, deadline: deadline.plus(ms) }, out);
                Ok(())
            }
            Input::EndWrapUp { contact, agent } => {
                match self.agent(agent).ok_or(EngineError::UnknownAgent(agent))?.item(contact) {
                    Some(Item { phase: ItemPhase::WrapUp { .. }, .. }) => {}
                    _ => return Err(EngineError::InvalidState(format!("{agent} is not wrapping up {contact}"))),
                }
                self.end_wrap_up(now, agent, contact, out);
                Ok(())
            }
            Input::RequestCallback { contact, number } => self.request_callback(now, contact, number, out),
            Input::CallbackOutcome { contact, outcome } => self.callback_outcome(now, contact, outcome, out),
            Input::Transfer { contact, to } => self.transfer(now, contact, to, out),
            Input::Consult { contact, to } => self.consult(now, contact, to, out),
            Input::CompleteConsult { contact } => self.complete_consult(now, contact, out),
            Input::CancelConsult { contact } => {
                self.consult_of(contact)?;
                self.end_consult(now, contact, ConsultOutcome::Cancelled, out);
                Ok(())
            }
            Input::SetPriority { contact, priority } => {
                let c = self.contacts.get(&contact).ok_or(EngineError::UnknownContact(contact))?;
                let queue = c.queue;
                let qprio = self.queue(queue).map_or(0, |q| q.cfg.priority);
                self.emit(
                    now,
                    Event::PriorityChanged { contact, queue, priority: priority.saturating_add(qprio) },
                    out,
                );
                self.route_contact(now, contact, out);
                Ok(())
            }
            Input::ConfigureQueue { queue } => {
                let id = queue.id;
                let mut cfg = self.current_config();
                match cfg.queues.iter_mut().find(|q| q.id == id) {
                    Some(q) => *q = queue.clone(),
                    None => cfg.queues.push(queue.clone()),
                }
                check_config(&cfg)?;
                self.emit(now, Event::QueueConfigured { queue: Box::new(queue) }, out);
                self.route_queue(now, id, out);
                Ok(())
            }
            Input::RemoveQueue { queue } => {
                let q = self.queue(queue).ok_or(EngineError::UnknownQueue(queue))?;
                if q.waiting > 0 || self.contacts.values().any(|c| c.queue == queue) {
                    return Err(EngineError::Config(format!("{queue} still has contacts")));
                }
                let mut cfg = self.current_config();
                cfg.queues.retain(|q| q.id != queue);
                check_config(&cfg)?;
                self.emit(now, Event::QueueRemoved { queue }, out);
                Ok(())
            }
            Input::ConfigureAgent { agent } => {
                let id = agent.id;
                let mut cfg = self.current_config();
                match cfg.agents.iter_mut().find(|a| a.id == id) {
                    Some(a) => *a = agent.clone(),
                    None => cfg.agents.push(agent.clone()),
                }
                check_config(&cfg)?;
                self.emit(now, Event::AgentConfigured { agent: Box::new(agent) }, out);
                self.route_agent(now, id, out);
                Ok(())
            }
            Input::RemoveAgent { agent } => {
                let a = self.agent(agent).ok_or(EngineError::UnknownAgent(agent))?;
                if a.logged_in() || !a.items.is_empty() {
                    return Err(EngineError::Config(format!("{agent} must be logged out first")));
                }
                if self.contacts.values().any(|c| c.only_agent == Some(agent)) {
                    return Err(EngineError::Config(format!("callers are waiting for {agent} alone")));
                }
                let mut cfg = self.current_config();
                cfg.agents.retain(|a| a.id != agent);
                check_config(&cfg)?;
                self.emit(now, Event::AgentRemoved { agent }, out);
                Ok(())
            }
        }
    }

    /// The configuration in force (for validating a change).
    pub fn current_config(&self) -> EngineConfig {
        EngineConfig {
            settings: self.settings.clone(),
            queues: self.queues.iter().flatten().map(|q| q.cfg.clone()).collect(),
            agents: self.agents.iter().flatten().map(|a| a.cfg.clone()).collect(),
        }
    }

    fn arrive(&mut self, now: Time, mut spec: ContactSpec, out: &mut impl Outputs) -> Result<(), EngineError> {
        if self.contacts.contains_key(&spec.id) {
            return Err(EngineError::DuplicateContact(spec.id));
        }
        if self.queue(spec.queue).is_none() {
            return Err(EngineError::UnknownQueue(spec.queue));
        }
        if let Some(r) = spec.required_skills.iter().find(|r| !(1..=10).contains(&r.min_level)) {
            return Err(EngineError::InvalidState(format!(
                "required skill {} has level {} (1-10)",
                r.skill, r.min_level
            )));
        }
        if let Some(a) = spec.required_agent {
            let agent = self.agent(a).ok_or(EngineError::UnknownAgent(a))?;
            // It would wait for ever for an agent who never takes its channel.
            if agent.cfg.capacity.of(spec.channel.slot()) == 0 {
                return Err(EngineError::InvalidState(format!(
                    "{a} takes no {:?} contacts, so cannot be the only agent for one",
                    spec.channel
                )));
            }
        }
        if spec.dial_back
            && (spec.channel != Channel::Callback
                || spec.callback_number.as_deref().is_none_or(|n| n.trim().is_empty()))
        {
            return Err(EngineError::InvalidState(
                "a dial-back contact needs the callback channel and a number".into(),
            ));
        }
        let details = spec.take_details();
        let (id, queue) = (spec.id, spec.queue);
        let ev = Event::ContactArrived {
            contact: id,
            queue,
            channel: spec.channel,
            priority: spec.priority,
            segment: spec.segment,
            last_agent: spec.last_agent,
            details,
        };
        self.emit(now, ev, out);
        self.enqueue(now, id, queue, now, out);
        Ok(())
    }

    /// Put a contact into a queue, honouring the queue's length limit and
    /// its overflow when nobody is logged in.
    fn enqueue(&mut self, now: Time, cid: ContactId, queue: QueueId, since: Time, out: &mut impl Outputs) {
        let Some(c) = self.contacts.get(&cid) else { return };
        let (hops, base, channel) = (c.overflow_hops, c.base_priority, c.channel);
        let Some(q) = self.queue(queue) else { return };
        let full = q.cfg.max_length.as_ref().filter(|l| u64::from(q.waiting) >= l.value).map(|l| l.action.clone());
        let no_agents = q.cfg.overflow.as_ref().filter(|o| o.when_no_agents && q.logged_in == 0).map(|o| o.queue);
        let priority = base.saturating_add(q.cfg.priority);
        if let Some(action) = full {
            if let Some(c) = self.contacts.get_mut(&cid) {
                c.queue = queue;
                c.entered_at = now;
            }
            self.exit(now, cid, ExitReason::QueueFull, action, out);
            return;
        }
        if let Some(target) = no_agents
            && hops < MAX_OVERFLOW_HOPS
        {
            if let Some(c) = self.contacts.get_mut(&cid) {
                c.queue = queue;
                c.entered_at = now;
            }
            self.overflow(now, cid, target, OverflowReason::NoAgents, out);
            return;
        }
        self.emit(now, Event::ContactQueued { contact: cid, queue, priority, waiting_since: since, channel }, out);
        self.route_contact(now, cid, out);
    }

    fn overflow(&mut self, now: Time, cid: ContactId, to: QueueId, reason: OverflowReason, out: &mut impl Outputs) {
        let Some(c) = self.contacts.get(&cid) else { return };
        let (from, since, wait_ms) = (c.queue, c.waiting_since, now.since(c.entered_at));
        self.emit(now, Event::ContactOverflowed { contact: cid, from, to, reason, wait_ms }, out);
        self.enqueue(now, cid, to, since, out);
    }

    fn exit(&mut self, now: Time, cid: ContactId, reason: ExitReason, action: ExitAction, out: &mut impl Outputs) {
        let Some(c) = self.contacts.get(&cid) else { return };
        let (queue, wait_ms, hops) = (c.queue, now.since(c.entered_at), c.overflow_hops);
        let waiting = matches!(c.phase, Phase::Waiting(_));
        let mut action = action;
        match &action {
            ExitAction::Overflow { queue: target } if hops < MAX_OVERFLOW_HOPS && *target != queue => {
                let r = match reason {
                    ExitReason::MaxWait => OverflowReason::MaxWait,
                    ExitReason::QueueFull => OverflowReason::QueueFull,
                };
                let target = *target;
                self.overflow(now, cid, target, r, out);
                return;
            }
            ExitAction::Callback if waiting => {
                if let Ok(number) = self.callback_allowed(cid, None) {
                    self.emit(now, Event::CallbackRequested { contact: cid, queue, number, wait_ms }, out);
                    out.command(Command::ReleaseCaller { contact: cid });
                    return;
                }
                action = ExitAction::Disconnect;
            }
            ExitAction::Overflow { .. } | ExitAction::Callback => action = ExitAction::Disconnect,
            _ => {}
        }
        self.emit(now, Event::ContactExited { contact: cid, queue, reason, action: action.clone(), wait_ms }, out);
        out.command(Command::Exit { contact: cid, queue, action });
        self.end_contact(now, cid, Outcome::Exited, None, out);
    }

    fn end_contact(&mut self, now: Time, cid: ContactId, outcome: Outcome, by: Option<Party>, out: &mut impl Outputs) {
        let Some(c) = self.contacts.get(&cid) else { return };
        let queue = c.queue;
        let (agent, talk_ms, hold_ms) = match c.phase {
            Phase::Connected { agent, held_since } => {
                let held = held_since.map_or(0, |h| now.since(h));
                let hold = c.hold_ms + held;
                (Some(agent), now.since(c.talk_start).saturating_sub(hold), hold)
            }
            _ => (None, 0, 0),
        };
        self.emit(now, Event::ContactEnded { contact: cid, queue, outcome, agent, by, talk_ms, hold_ms }, out);
    }

    fn abandon(&mut self, now: Time, cid: ContactId, out: &mut impl Outputs) -> Result<(), EngineError> {
        let c = self.contacts.get(&cid).ok_or(EngineError::UnknownContact(cid))?;
        let queue = c.queue;
        let wait_ms = now.since(c.entered_at);
        let offered: Vec<AgentId> = match &c.phase {
            Phase::Waiting(_) | Phase::RetryWait | Phase::Transit => Vec::new(),
            Phase::Offered(list) => list.to_vec(),
            Phase::Dialling(_) | Phase::Connected { .. } => {
                return Err(EngineError::InvalidState(format!("{cid} is connected to an agent: hang up instead")));
            }
        };
        for agent in &offered {
            self.emit(now, Event::OfferRescinded { contact: cid, queue, agent: *agent }, out);
            out.command(Command::CancelOffer { contact: cid, agent: *agent });
        }
        self.emit(
            now,
            Event::ContactAbandoned { contact: cid, queue, wait_ms, while_offered: !offered.is_empty() },
            out,
        );
        self.end_contact(now, cid, Outcome::Abandoned, None, out);
        for agent in offered {
            self.route_agent(now, agent, out);
        }
        Ok(())
    }

    fn logout(&mut self, now: Time, agent: AgentId, out: &mut impl Outputs) -> Result<(), EngineError> {
        let a = self.agent(agent).ok_or(EngineError::UnknownAgent(agent))?;
        if !a.logged_in() {
            return Ok(());
        }
        if a.items.iter().any(|i| {
            matches!(i.phase, ItemPhase::Talking | ItemPhase::Held | ItemPhase::Dialling | ItemPhase::Consult { .. })
        }) {
            return Err(EngineError::InvalidState(format!(
                "{agent} is connected to a customer; hang up or transfer first"
            )));
        }
        let items = a.items.clone();
        let queues: Vec<QueueId> = a.cfg.queues.iter().map(|m| m.queue).collect();
        let mut returned = Vec::new();
        for it in items {
            match it.phase {
                ItemPhase::Reserved { .. } => {
                    self.emit(now, Event::OfferRescinded { contact: it.contact, queue: it.queue, agent }, out);
                    out.command(Command::CancelOffer { contact: it.contact, agent });
                    returned.push(it.contact);
                }
                ItemPhase::WrapUp { .. } => self.end_wrap_up_quiet(now, agent, it.contact, out),
                _ => {}
            }
        }
        self.emit(now, Event::AgentPresenceChanged { agent, presence: Presence::Offline }, out);
        for c in returned {
            self.route_contact(now, c, out);
        }
        // Queues left with nobody logged in send their callers on, if configured.
        for q in queues {
            let Some(queue) = self.queue(q) else { continue };
            let Some(target) =
                queue.cfg.overflow.as_ref().filter(|o| o.when_no_agents && queue.logged_in == 0).map(|o| o.queue)
            else {
                continue;
            };
            let waiting = self.waiting_in(q);
            for c in waiting {
                if self.contacts.get(&c).is_some_and(|c| c.overflow_hops < MAX_OVERFLOW_HOPS) {
                    self.overflow(now, c, target, OverflowReason::NoAgents, out);
                }
            }
        }
        Ok(())
    }

    fn ready(&mut self, now: Time, agent: AgentId, out: &mut impl Outputs) -> Result<(), EngineError> {
        let a = self.agent(agent).ok_or(EngineError::UnknownAgent(agent))?;
        if !a.logged_in() {
            return Err(EngineError::NotLoggedIn(agent));
        }
        let wraps: Vec<ContactId> =
            a.items.iter().filter(|i| matches!(i.phase, ItemPhase::WrapUp { .. })).map(|i| i.contact).collect();
        let was_ready = a.presence == Presence::Ready;
        for c in wraps {
            self.end_wrap_up_quiet(now, agent, c, out);
        }
        if !was_ready {
            self.emit(now, Event::AgentPresenceChanged { agent, presence: Presence::Ready }, out);
        }
        self.route_agent(now, agent, out);
        Ok(())
    }

    fn not_ready(
        &mut self,
        now: Time,
        agent: AgentId,
        reason: String,
        out: &mut impl Outputs,
    ) -> Result<(), EngineError> {
        let a = self.agent(agent).ok_or(EngineError::UnknownAgent(agent))?;
        if !a.logged_in() {
            return Err(EngineError::NotLoggedIn(agent));
        }
        let reason = if reason.trim().is_empty() { "not-ready".to_string() } else { reason };
        if a.presence == Presence::NotReady(Arc::from(reason.as_str())) {
            return Ok(());
        }
        let offers: Vec<(ContactId, QueueId)> = a
            .items
            .iter()
            .filter(|i| matches!(i.phase, ItemPhase::Reserved { .. }))
            .map(|i| (i.contact, i.queue))
            .collect();
        self.emit(
            now,
            Event::AgentPresenceChanged { agent, presence: Presence::NotReady(Arc::from(reason.as_str())) },
            out,
        );
        for (contact, queue) in offers {
            self.emit(now, Event::OfferRescinded { contact, queue, agent }, out);
            out.command(Command::CancelOffer { contact, agent });
            self.route_contact(now, contact, out);
        }
        Ok(())
    }

    fn check_offered(&self, contact: ContactId, agent: AgentId) -> Result<QueueId, EngineError> {
        let c = self.contacts.get(&contact).ok_or(EngineError::UnknownContact(contact))?;
        self.agent(agent).ok_or(EngineError::UnknownAgent(agent))?;
        match &c.phase {
            Phase::Offered(list) if list.contains(agent) => Ok(c.queue),
            _ => Err(EngineError::NotOffered { contact, agent }),
        }
    }

    fn accept(
        &mut self,
        now: Time,
        contact: ContactId,
        agent: AgentId,
        out: &mut impl Outputs,
    ) -> Result<(), EngineError> {
        if self.consult_ringing(contact, agent) {
            let (from, _) = self.connected(contact)?;
            let queue = self.contacts.get(&contact).map_or(QueueId(0), |c| c.queue);
            self.emit(now, Event::ConsultAnswered { contact, queue, agent: from, target: agent }, out);
            return Ok(());
        }
        let queue = self.check_offered(contact, agent)?;
        self.take_offer(now, contact, queue, agent, out);
        Ok(())
    }

    /// `agent` takes `contact`, which is offered to it in `queue` (the
    /// caller knows: it checked, or it has just made the offer): the other
    /// offers are withdrawn and the call is connected (a callback dialled).
    fn take_offer(&mut self, now: Time, contact: ContactId, queue: QueueId, agent: AgentId, out: &mut impl Outputs) {
        let Some(c) = self.contacts.get(&contact) else { return };
        let others: Vec<AgentId> = match &c.phase {
            Phase::Offered(list) => list.iter().filter(|a| *a != agent).collect(),
            _ => Vec::new(),
        };
        let (channel, wait_ms) = (c.channel, now.since(c.entered_at));
        let callback = c.callback.as_ref().map(|cb| (cb.number.clone(), cb.attempts + 1));
        for other in &others {
            self.emit(now, Event::OfferRescinded { contact, queue, agent: *other }, out);
            out.command(Command::CancelOffer { contact, agent: *other });
        }
        match callback {
            Some((number, attempt)) => {
                self.emit(now, Event::CallbackDialled { contact, queue, agent, attempt, number: number.clone() }, out);
                out.command(Command::DialCallback { contact, agent, number, attempt });
            }
            None => self.emit(now, Event::ContactAnswered { contact, queue, agent, channel, wait_ms }, out),
        }
        // An agent with room for more (chats) can be offered the next one now.
        self.route_agent(now, agent, out);
        for other in others {
            self.route_agent(now, other, out);
        }
    }

    /// The agent a contact is connected to, and whether it is on hold.
    fn connected(&self, contact: ContactId) -> Result<(AgentId, bool), EngineError> {
        match self.contacts.get(&contact).map(|c| &c.phase) {
            None => Err(EngineError::UnknownContact(contact)),
            Some(Phase::Connected { agent, held_since }) => Ok((*agent, held_since.is_some())),
            Some(_) => Err(EngineError::InvalidState(format!("{contact} is not connected to an agent"))),
        }
    }

    fn hangup(&mut self, now: Time, contact: ContactId, by: Party, out: &mut impl Outputs) -> Result<(), EngineError> {
        // One look at the contact for what `connected` and `consultation` would ask.
        let c = self.contacts.get(&contact).ok_or(EngineError::UnknownContact(contact))?;
        let agent = match c.phase {
            // Hanging up a callback that is still being dialled is a failed attempt.
            Phase::Dialling(_) => return self.callback_outcome(now, contact, DialOutcome::Failed, out),
            Phase::Connected { agent, .. } => agent,
            _ => return Err(EngineError::InvalidState(format!("{contact} is not connected to an agent"))),
        };
        let (queue, channel, consulting) = (c.queue, c.channel, c.consult.is_some());
        let mut freed = None;
        if consulting && let Some((target, answered)) = self.consultation(contact) {
            // The consulting agent hanging up once the consulted agent has
            // answered hands the customer over (an attended transfer by
            // hang-up, as on a desk phone); otherwise the consultation ends.
            if by == Party::Agent && answered {
                return self.complete_consult(now, contact, out);
            }
            let outcome = if by == Party::Agent { ConsultOutcome::Cancelled } else { ConsultOutcome::CustomerLeft };
            self.end_consult_quiet(now, contact, outcome, out);
            freed = Some(target);
        }
        self.end_contact(now, contact, Outcome::Handled, Some(by), out);
        self.start_wrap_up(now, agent, contact, queue, channel, out);
        self.route_agent(now, agent, out);
        if let Some(target) = freed {
            self.route_agent(now, target, out);
        }
        Ok(())
    }

    fn start_wrap_up(
        &mut self,
        now: Time,
        agent: AgentId,
        contact: ContactId,
        queue: QueueId,
        channel: Channel,
        out: &mut impl Outputs,
    ) {
        let wrap = self.queue(queue).map_or(0, |q| q.cfg.wrap_up_ms);
        if wrap > 0 {
            self.emit(now, Event::WrapUpStarted { contact, queue, agent, channel, deadline: now.plus(wrap) }, out);
        }
    }

    fn end_wrap_up_quiet(&mut self, now: Time, agent: AgentId, contact: ContactId, out: &mut impl Outputs) {
        let Some(it) = self.agent(agent).and_then(|a| a.item(contact)).copied() else { return };
        if let ItemPhase::WrapUp { started, .. } = it.phase {
            self.emit(now, Event::WrapUpEnded { contact, queue: it.queue, agent, wrap_ms: now.since(started) }, out);
        }
    }

    fn end_wrap_up(&mut self, now: Time, agent: AgentId, contact: ContactId, out: &mut impl Outputs) {
        self.end_wrap_up_quiet(now, agent, contact, out);
        self.route_agent(now, agent, out);
    }

    /// The number a callback would dial, if the contact may become one.
    fn callback_allowed(&self, contact: ContactId, number: Option<String>) -> Result<String, EngineError> {
        let c = self.contacts.get(&contact).ok_or(EngineError::UnknownContact(contact))?;
        if !matches!(c.phase, Phase::Waiting(_)) {
            return Err(EngineError::CallbackRefused(format!("{contact} is not waiting in a queue")));
        }
        if c.callback.is_some() || c.channel != Channel::Voice {
            return Err(EngineError::CallbackRefused(format!("{contact} is not a waiting call")));
        }
        let q = self.queue(c.queue).ok_or(EngineError::UnknownQueue(c.queue))?;
        if !q.cfg.callbacks.enabled {
            return Err(EngineError::CallbackRefused(format!("callbacks are disabled in {}", q.cfg.name)));
        }
        if let Some(max) = q.cfg.callbacks.max_outstanding
            && q.callbacks_outstanding >= max
        {
            return Err(EngineError::CallbackRefused(format!(
                "{} already has {max} callbacks outstanding",
                q.cfg.name
            )));
        }
        number
            .filter(|n| !n.trim().is_empty())
            .or_else(|| c.callback_number.clone())
            .ok_or_else(|| EngineError::CallbackRefused(format!("no number to call back for {contact}")))
    }

    fn request_callback(
        &mut self,
        now: Time,
        contact: ContactId,
        number: Option<String>,
        out: &mut impl Outputs,
    ) -> Result<(), EngineError> {
        let number = self.callback_allowed(contact, number)?;
        let Some(c) = self.contacts.get(&contact) else { return Err(EngineError::UnknownContact(contact)) };
        let (queue, wait_ms) = (c.queue, now.since(c.entered_at));
        self.emit(now, Event::CallbackRequested { contact, queue, number, wait_ms }, out);
        out.command(Command::ReleaseCaller { contact });
        Ok(())
    }

    fn callback_outcome(
        &mut self,
        now: Time,
        contact: ContactId,
        outcome: DialOutcome,
        out: &mut impl Outputs,
    ) -> Result<(), EngineError> {
        let c = self.contacts.get(&contact).ok_or(EngineError::UnknownContact(contact))?;
        let Phase::Dialling(agent) = c.phase else {
            return Err(EngineError::InvalidState(format!("{contact} is not a callback being dialled")));
        };
        let queue = c.queue;
        let attempt = c.callback.as_ref().map_or(1, |cb| cb.attempts);
        let channel = c.channel;
        let wait_ms = now.since(c.entered_at);
        if outcome == DialOutcome::Connected {
            self.emit(now, Event::ContactAnswered { contact, queue, agent, channel, wait_ms }, out);
            return Ok(());
        }
        let policy = self.queue(queue).map(|q| q.cfg.callbacks.clone()).unwrap_or_default();
        let retry_at = (attempt < policy.max_attempts).then(|| now.plus(policy.retry_delay_ms));
        self.emit(now, Event::CallbackAttemptFailed { contact, queue, agent, attempt, outcome, retry_at }, out);
        if retry_at.is_none() {
            self.end_contact(now, contact, Outcome::CallbackFailed, None, out);
        }
        self.route_agent(now, agent, out);
        Ok(())
    }

    fn transfer(
        &mut self,
        now: Time,
        contact: ContactId,
        to: TransferTarget,
        out: &mut impl Outputs,
    ) -> Result<(), EngineError> {
        let (agent, _) = self.connected(contact)?;
        self.no_consult(contact, "transfer")?;
        let Some(c) = self.contacts.get(&contact) else { return Err(EngineError::UnknownContact(contact)) };
        let (queue, channel) = (c.queue, c.channel);
        let slot = channel.slot();
        match to {
            TransferTarget::Queue(q) => {
                if self.queue(q).is_none() {
                    return Err(EngineError::TransferRefused(format!("{q} does not exist")));
                }
            }
            TransferTarget::Agent(b) => {
                let target =
                    self.agent(b).ok_or_else(|| EngineError::TransferRefused(format!("{b} does not exist")))?;
                if b == agent {
                    return Err(EngineError::TransferRefused("cannot transfer to oneself".into()));
                }
                if !target.logged_in() {
                    return Err(EngineError::TransferRefused(format!("{} is offline", target.cfg.name)));
                }
                if target.presence != Presence::Ready {
                    return Err(EngineError::TransferRefused(format!("{} is not ready", target.cfg.name)));
                }
                if target.item(contact).is_some() {
                    return Err(EngineError::TransferRefused(format!(
                        "{} is still wrapping up this contact",
                        target.cfg.name
                    )));
                }
                if !target.has_room(slot) {
                    return Err(EngineError::TransferRefused(format!("{} is busy", target.cfg.name)));
                }
            }
        }
        let Some(c) = self.contacts.get(&contact) else { return Err(EngineError::UnknownContact(contact)) };
        let (talk_ms, hold_ms) = match c.phase {
            Phase::Connected { held_since, .. } => {
                let hold = c.hold_ms + held_since.map_or(0, |h| now.since(h));
                (now.since(c.talk_start).saturating_sub(hold), hold)
            }
            _ => (0, 0),
        };
        self.emit(now, Event::ContactTransferred { contact, queue, agent, to, talk_ms, hold_ms }, out);
        self.start_wrap_up(now, agent, contact, queue, channel, out);
        match to {
            TransferTarget::Queue(q) => self.enqueue(now, contact, q, now, out),
            TransferTarget::Agent(b) => self.offer(now, contact, &Agents::one(b), out),
        }
        self.route_agent(now, agent, out);
        Ok(())
    }

    /// The agent consulted about `contact` and whether they have answered;
    /// an error when no consultation is in progress.
    pub(super) fn consult_of(&self, contact: ContactId) -> Result<(AgentId, bool), EngineError> {
        self.consultation(contact).ok_or_else(|| {
            if self.contacts.get(&contact).is_none() {
                EngineError::UnknownContact(contact)
            } else {
                EngineError::InvalidState(format!("no consultation about {contact}"))
            }
        })
    }

    /// The consultation about `contact`, if any: the consulted agent and
    /// whether they answered. Cheap (no error built): hang-ups ask it.
    pub(super) fn consultation(&self, contact: ContactId) -> Option<(AgentId, bool)> {
        let target = self.contacts.get(&contact)?.consult?;
        let answered = self
            .agent(target)
            .and_then(|a| a.item(contact))
            .is_some_and(|i| matches!(i.phase, ItemPhase::Consult { deadline: None, .. }));
        Some((target, answered))
    }

    fn consult_ringing(&self, contact: ContactId, agent: AgentId) -> bool {
        self.agent(agent)
            .and_then(|a| a.item(contact))
            .is_some_and(|i| matches!(i.phase, ItemPhase::Consult { deadline: Some(_), .. }))
    }

    fn no_consult(&self, contact: ContactId, what: &str) -> Result<(), EngineError> {
        match self.contacts.get(&contact).and_then(|c| c.consult) {
            Some(t) => Err(EngineError::InvalidState(format!(
                "cannot {what}: {t} is being consulted about {contact}; complete or cancel the consultation first"
            ))),
            None => Ok(()),
        }
    }

    /// Consulted transfer, first half: hold the customer, ring the target.
    fn consult(
        &mut self,
        now: Time,
        contact: ContactId,
        to: AgentId,
        out: &mut impl Outputs,
    ) -> Result<(), EngineError> {
        let (agent, held) = self.connected(contact)?;
        self.no_consult(contact, "consult again")?;
        let Some(c) = self.contacts.get(&contact) else { return Err(EngineError::UnknownContact(contact)) };
        let (queue, channel) = (c.queue, c.channel);
        let target = self.agent(to).ok_or_else(|| EngineError::TransferRefused(format!("{to} does not exist")))?;
        if to == agent {
            return Err(EngineError::TransferRefused("cannot consult oneself".into()));
        }
        if !target.logged_in() {
            return Err(EngineError::TransferRefused(format!("{} is offline", target.cfg.name)));
        }
        if target.presence != Presence::Ready {
            return Err(EngineError::TransferRefused(format!("{} is not ready", target.cfg.name)));
        }
        if target.item(contact).is_some() {
            return Err(EngineError::TransferRefused(format!("{} is still wrapping up this contact", target.cfg.name)));
        }
        if !target.has_room(channel.slot()) {
            return Err(EngineError::TransferRefused(format!("{} is busy", target.cfg.name)));
        }
        if !held {
            self.emit(now, Event::ContactHeld { contact, agent }, out);
        }
        let timeout = self.queue(queue).map_or(15_000, |q| q.cfg.offer_timeout_ms);
        let deadline = now.plus(timeout);
        self.emit(now, Event::ConsultOffered { contact, queue, agent, target: to, channel, deadline }, out);
        Ok(())
    }

    /// End a consultation other than by completing it, without routing the
    /// freed target (the caller does, or the contact is ending).
    fn end_consult_quiet(&mut self, now: Time, contact: ContactId, outcome: ConsultOutcome, out: &mut impl Outputs) {
        let Some((target, _)) = self.consultation(contact) else { return };
        let Ok((agent, held)) = self.connected(contact) else { return };
        let queue = self.contacts.get(&contact).map_or(QueueId(0), |c| c.queue);
        self.emit(now, Event::ConsultEnded { contact, queue, agent, target, outcome }, out);
        // Back to the customer (unless the customer is the one who left).
        if outcome != ConsultOutcome::CustomerLeft
            && held
            && let Some(Phase::Connected { held_since: Some(h), .. }) = self.contacts.get(&contact).map(|c| &c.phase)
        {
            let held_ms = now.since(*h);
            self.emit(now, Event::ContactResumed { contact, agent, held_ms }, out);
        }
    }

    fn end_consult(&mut self, now: Time, contact: ContactId, outcome: ConsultOutcome, out: &mut impl Outputs) {
        let Some((target, _)) = self.consultation(contact) else { return };
        self.end_consult_quiet(now, contact, outcome, out);
        self.route_agent(now, target, out);
    }

    /// Consulted transfer, second half: the customer goes to the consulted
    /// agent (already on the line, so answered at once); the consulting
    /// agent wraps up.
    fn complete_consult(&mut self, now: Time, contact: ContactId, out: &mut impl Outputs) -> Result<(), EngineError> {
        let (target, answered) = self.consult_of(contact)?;
        if !answered {
            return Err(EngineError::InvalidState(format!(
                "{target} has not answered the consultation about {contact} yet"
            )));
        }
        let (agent, _) = self.connected(contact)?;
        let Some(c) = self.contacts.get(&contact) else { return Err(EngineError::UnknownContact(contact)) };
        let (queue, channel) = (c.queue, c.channel);
        let (talk_ms, hold_ms) = match c.phase {
            Phase::Connected { held_since, .. } => {
                let hold = c.hold_ms + held_since.map_or(0, |h| now.since(h));
                (now.since(c.talk_start).saturating_sub(hold), hold)
            }
            _ => (0, 0),
        };
        let wait_ms = now.since(c.entered_at);
        self.emit(now, Event::ConsultEnded { contact, queue, agent, target, outcome: ConsultOutcome::Completed }, out);
        let to = TransferTarget::Agent(target);
        self.emit(now, Event::ContactTransferred { contact, queue, agent, to, talk_ms, hold_ms }, out);
        self.start_wrap_up(now, agent, contact, queue, channel, out);
        // The target is already talking to the consulting agent's line: no
        // ringing (no `Offer` command), answered in the same instant.
        self.emit(now, Event::ContactOffered { contact, queue, agent: target, channel, deadline: now }, out);
        self.emit(now, Event::ContactAnswered { contact, queue, agent: target, channel, wait_ms }, out);
        self.route_agent(now, agent, out);
        Ok(())
    }

    fn offer(&mut self, now: Time, contact: ContactId, agents: &Agents, out: &mut impl Outputs) {
        let Some(c) = self.contacts.get(&contact) else { return };
        let (queue, channel) = (c.queue, c.channel);
        let timeout = self.queue(queue).map_or(15_000, |q| q.cfg.offer_timeout_ms);
        let deadline = now.plus(timeout);
        for agent in agents.iter() {
            self.emit(now, Event::ContactOffered { contact, queue, agent, channel, deadline }, out);
            out.command(Command::Offer { contact, agent, channel, deadline });
        }
        // Auto-answering agents answer at once (the first of them, for a
        // ring-all offer); their offers have no ring time-out.
        if let Some(agent) = agents.iter().find(|a| self.agent(*a).is_some_and(|a| a.cfg.auto_answer)) {
            // The offer was just made (and is no consultation): no checks.
            self.take_offer(now, contact, queue, agent, out);
        }
    }

    /// Try every waiting contact of a queue (after a configuration change).
    fn route_queue(&mut self, now: Time, queue: QueueId, out: &mut impl Outputs) {
        let waiting = self.waiting_in(queue);
        for c in waiting {
            self.route_contact(now, c, out);
        }
    }

    /// Waiting contacts of a queue, best first.
    pub(super) fn waiting_in(&self, queue: QueueId) -> Vec<ContactId> {
        let mut keys: Vec<WaitKey> = self
            .contacts
            .values()
            .filter(|c| c.queue == queue && matches!(c.phase, Phase::Waiting(_)))
            .map(|c| c.key())
            .collect();
        keys.sort_unstable();
        keys.into_iter().map(|k| ContactId(k.2)).collect()
    }

    /// A contact is waiting: offer it to the best available eligible agent.
    pub(super) fn route_contact(&mut self, now: Time, cid: ContactId, out: &mut impl Outputs) {
        let Some(c) = self.contacts.get(&cid) else { return };
        let Phase::Waiting(cref) = c.phase else { return };
        let slot = c.channel.slot();
        let queue = c.queue;
        let chosen: Agents = match cref {
            ClassRef::Preferred(a) => {
                if self.agent(a).is_some_and(|ag| ag.available(slot, now) && ag.item(cid).is_none()) {
                    Agents::one(a)
                } else {
                    Agents::default()
                }
            }
            ClassRef::Class(i) => {
                self.flush_index();
                let Some(q) = self.queue(queue) else { return };
                let Some(class) = q.classes.get(i) else { return };
                let cond = &self.conds[class.cond as usize];
                self.pick_agents(now, q, slot, cond, cid)
            }
        };
        if !chosen.is_empty() {
            self.offer(now, cid, &chosen, out);
        }
    }

    fn pick_agents(&self, now: Time, q: &Queue, slot: Slot, cond: &Cond, contact: ContactId) -> Agents {
        // An agent still wrapping up this very contact (it was transferred
        // back into a queue) is not offered it again.
        let eligible = |k: &ReadyKey| -> Option<&Agent> {
            let a = self.agent(k.2)?;
            (a.available(slot, now) && a.matches(cond) && a.item(contact).is_none()).then_some(a)
        };
        let set = &q.ready[slot.index()];
        match q.cfg.strategy {
            Strategy::LongestIdle | Strategy::FewestContacts | Strategy::LeastTalkTime | Strategy::TopDown => {
                set.iter().find(|k| eligible(k).is_some()).map(|k| Agents::one(k.2)).unwrap_or_default()
            }
            Strategy::RoundRobin => {
                let found = match q.rr_cursor {
                    Some(cur) => set.cycle_after(&cur).find(|k| eligible(k).is_some()),
                    None => set.iter().find(|k| eligible(k).is_some()),
                };
                found.map(|k| Agents::one(k.2)).unwrap_or_default()
            }
            Strategy::RingAll => {
                let mut all = Agents::default();
                for k in set.iter().filter(|k| eligible(k).is_some()) {
                    all.push(k.2);
                }
                all
            }
            Strategy::Random | Strategy::WeightedRandom => {
                let cands: Vec<(AgentId, u64)> = set
                    .iter()
                    .filter_map(eligible)
                    .map(|a| {
                        let w = if q.cfg.strategy == Strategy::WeightedRandom {
                            a.cfg.queues.iter().find(|m| m.queue == q.cfg.id).map_or(1, |m| u64::from(m.weight.max(1)))
                        } else {
                            1
                        };
                        (a.cfg.id, w)
                    })
                    .collect();
                let total: u64 = cands.iter().map(|(_, w)| w).sum();
                if total == 0 {
                    return Agents::default();
                }
                // Stateless draw: a function of the seed and the event sequence,
                // so replays need no generator state.
                let mut r = crate::rng::mix(self.settings.seed ^ crate::rng::mix(self.seq.wrapping_add(1))) % total;
                for (a, w) in cands {
                    if r < w {
                        return Agents::one(a);
                    }
                    r -= w;
                }
                Agents::default()
            }
        }
    }

    /// An agent may have become available: offer the best waiting contact
    /// across every queue the agent serves (highest priority, then oldest).
    pub(super) fn route_agent(&mut self, now: Time, aid: AgentId, out: &mut impl Outputs) {
        let Some(a) = self.agent(aid) else { return };
        // `available` for every slot at once: most calls come for an agent
        // who has just become busy.
        if a.presence != Presence::Ready || a.blocked_until > now {
            return;
        }
        let room = a.room();
        if room == [false; 3] {
            return;
        }
        let mut best: Option<WaitKey> = None;
        for slot in Slot::ALL {
            if !room[slot.index()] {
                continue;
            }
            let not_held = |k: &WaitKey| a.item(ContactId(k.2)).is_none();
            if !a.preferred_waiting.is_empty()
                && let Some((_, key)) = a
                    .preferred_waiting
                    .range((slot, (i64::MIN, 0, 0))..)
                    .take_while(|(s, _)| *s == slot)
                    .find(|(_, k)| not_held(k))
                && best.is_none_or(|b| *key < b)
            {
                best = Some(*key);
            }
            for m in &a.cfg.queues {
                let Some(q) = self.queue(m.queue) else { continue };
                for class in &q.classes {
                    if class.slot != slot {
                        continue;
                    }
                    let Some(first) = class.set.iter().find(|k| not_held(k)) else { continue };
                    if best.is_some_and(|b| b <= *first) {
                        continue;
                    }
                    if a.matches(&self.conds[class.cond as usize]) {
                        best = Some(*first);
                    }
                }
            }
        }
        if let Some(key) = best {
            self.offer(now, ContactId(key.2), &Agents::one(aid), out);
        }
    }
}

fn check_config(cfg: &EngineConfig) -> Result<(), EngineError> {
    let issues = cfg.errors();
    if issues.is_empty() {
        Ok(())
    } else {
        let msg: Vec<String> = issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect();
        Err(EngineError::Config(msg.join("; ")))
    }
}
