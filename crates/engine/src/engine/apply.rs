//! Applying events to state. This is the only code that changes the
//! engine's state; it takes no decisions, so a replay of the same events
//! yields the same state.

use super::state::*;
use super::{ANY, Engine};
use crate::config::{AgentConfig, Channel, QueueConfig, Slot, Strategy};
use crate::contact::Segment;
use crate::event::{AgentState, Event, Presence};
use crate::ids::{AgentId, ContactId, QueueId, Time};
use std::collections::BTreeSet;

impl Engine {
    #[inline(always)]
    pub(super) fn apply(&mut self, at: Time, ev: &Event) {
        match ev {
            Event::QueueConfigured { queue } => self.apply_queue_config((**queue).clone(), at),
            Event::QueueRemoved { queue } => {
                if let Some(slot) = self.queues.get_mut(queue.0 as usize) {
                    *slot = None;
                }
            }
            Event::AgentConfigured { agent } => self.apply_agent_config((**agent).clone(), at),
            Event::AgentRemoved { agent } => {
                if let Some(a) = self.agent(*agent) {
                    let qs: Vec<QueueId> = a.cfg.queues.iter().map(|m| m.queue).collect();
                    for q in qs {
                        if let Some(q) = self.queue_mut(q) {
                            q.members.retain(|m| m != agent);
                        }
                    }
                }
                if let Some(slot) = self.agents.get_mut(agent.0 as usize) {
                    *slot = None;
                }
            }
            Event::ContactArrived { contact, queue, channel, priority, segment, last_agent, details } => {
                let req = match details.as_deref() {
                    Some(d) if !d.required_skills.is_empty() => {
                        let mut skills: Vec<(u16, u8)> =
                            d.required_skills.iter().map(|r| (self.skills.intern(&r.skill), r.min_level)).collect();
                        skills.sort_unstable();
                        skills.dedup_by(|a, b| a.0 == b.0);
                        Some(self.intern_cond(Cond { skills, ..Cond::default() }))
                    }
                    _ => None,
                };
                // A dial-back contact is a callback from the start: accepting
                // it dials, and a failed dial is retried by the queue's policy.
                let callback = details
                    .as_deref()
                    .filter(|d| d.dial_back)
                    .and_then(|d| d.callback_number.clone())
                    .map(|number| CallbackInfo { number, attempts: 0 });
                let c = Contact {
                    id: *contact,
                    channel: *channel,
                    queue: *queue,
                    base_priority: *priority,
                    priority: *priority,
                    segment: *segment,
                    preferred: *last_agent,
                    req,
                    callback_number: details.as_deref().and_then(|d| d.callback_number.clone()),
                    waiting_since: at,
                    entered_at: at,
                    step: 0,
                    step_entered: at,
                    plan: Plan::Unset,
                    phase: Phase::Transit,
                    epoch: 0,
                    callback,
                    overflow_hops: 0,
                    talk_start: at,
                    hold_ms: 0,
                    consult: None,
                    only_agent: details.as_deref().and_then(|d| d.required_agent),
                };
                if c.callback.is_some()
                    && let Some(q) = self.queue_mut(*queue)
                {
                    q.callbacks_outstanding += 1;
                }
                self.contacts.insert(*contact, c);
            }
            Event::ContactQueued { contact, queue, priority, waiting_since, channel } => {
                let plan = match self.contacts.get(contact) {
                    Some(c) => self.build_plan((c.segment, c.preferred, c.req, c.only_agent), *queue),
                    None => return,
                };
                if let Some(c) = self.contacts.get_mut(contact) {
                    c.queue = *queue;
                    c.priority = *priority;
                    c.waiting_since = *waiting_since;
                    c.entered_at = at;
                    c.channel = *channel;
                    c.step = 0;
                    c.step_entered = at;
                    c.plan = plan;
                }
                self.make_waiting(*contact);
            }
            Event::StepChanged { contact, step, .. } => {
                self.remove_waiting(*contact);
                if let Some(c) = self.contacts.get_mut(contact) {
                    c.step = *step;
                    c.step_entered = at;
                }
                self.make_waiting(*contact);
            }
            Event::ContactOffered { contact, queue, agent, channel, deadline } => {
                self.remove_waiting(*contact);
                if let Some(c) = self.contacts.get_mut(contact) {
                    match &mut c.phase {
                        Phase::Offered(list) => list.push(*agent),
                        p => *p = Phase::Offered(Agents::one(*agent)),
                    }
                }
                let rr = self.queue(*queue).is_some_and(|q| q.cfg.strategy == Strategy::RoundRobin);
                let rr_key = if rr { self.agent(*agent).map(|a| self.ready_key(*queue, a)) } else { None };
                if let Some(k) = rr_key
                    && let Some(q) = self.queue_mut(*queue)
                {
                    q.rr_cursor = Some(k);
                }
                if let Some(a) = self.agent_mut(*agent) {
                    a.items.push(Item {
                        contact: *contact,
                        queue: *queue,
                        channel: *channel,
                        phase: ItemPhase::Reserved { deadline: *deadline },
                    });
                }
                // Auto-answering agents answer in the same step: no ring time-out.
                if !self.agent(*agent).is_some_and(|a| a.cfg.auto_answer) {
                    self.schedule(*deadline, Timer::Offer { contact: *contact, agent: *agent });
                }
                self.agent_changed(*agent);
            }
            Event::OfferTimedOut { contact, agent, missed, .. } => {
                let delay = self.settings.no_answer_delay_ms;
                self.release_agent_offer(at, *contact, *agent, Some(*missed), delay);
            }
            Event::OfferRejected { contact, agent, .. } => {
                let delay = self.settings.reject_delay_ms;
                self.release_agent_offer(at, *contact, *agent, None, delay);
            }
            Event::OfferRescinded { contact, agent, .. } => {
                self.release_agent_offer(at, *contact, *agent, None, 0);
            }
            Event::ContactAnswered { contact, agent, .. } => {
                let mut was_callback = None;
                if let Some(c) = self.contacts.get_mut(contact) {
                    c.only_agent = None;
                    c.phase = Phase::Connected { agent: *agent, held_since: None };
                    c.talk_start = at;
                    c.hold_ms = 0;
                    if c.callback.take().is_some() {
                        was_callback = Some(c.queue);
                    }
                }
                if let Some(q) = was_callback.and_then(|q| self.queue_mut(q)) {
                    q.callbacks_outstanding = q.callbacks_outstanding.saturating_sub(1);
                }
                if let Some(a) = self.agent_mut(*agent) {
                    if let Some(it) = a.item_mut(*contact) {
                        it.phase = ItemPhase::Talking;
                    }
                    a.missed = 0;
                    a.handled += 1;
                }
                self.agent_changed(*agent);
            }
            Event::ContactHeld { contact, agent } => {
                if let Some(c) = self.contacts.get_mut(contact)
                    && let Phase::Connected { held_since, .. } = &mut c.phase
                {
                    *held_since = Some(at);
                }
                if let Some(it) = self.agent_mut(*agent).and_then(|a| a.item_mut(*contact)) {
                    it.phase = ItemPhase::Held;
                }
                self.agent_changed(*agent);
            }
            Event::ContactResumed { contact, agent, held_ms } => {
                if let Some(c) = self.contacts.get_mut(contact) {
                    c.hold_ms += held_ms;
                    if let Phase::Connected { held_since, .. } = &mut c.phase {
                        *held_since = None;
                    }
                }
                if let Some(it) = self.agent_mut(*agent).and_then(|a| a.item_mut(*contact)) {
                    it.phase = ItemPhase::Talking;
                }
                self.agent_changed(*agent);
            }
            Event::ContactTransferred { contact, agent, talk_ms, .. } => {
                if let Some(c) = self.contacts.get_mut(contact) {
                    c.phase = Phase::Transit;
                    c.hold_ms = 0;
                }
                if let Some(a) = self.agent_mut(*agent) {
                    a.remove_item(*contact);
                    a.talk_ms += talk_ms;
                    a.idle_since = at;
                }
                self.agent_changed(*agent);
            }
            Event::ConsultOffered { contact, queue, agent, target, channel, deadline } => {
                if let Some(c) = self.contacts.get_mut(contact) {
                    c.consult = Some(*target);
                }
                if let Some(t) = self.agent_mut(*target) {
                    t.items.push(Item {
                        contact: *contact,
                        queue: *queue,
                        channel: *channel,
                        phase: ItemPhase::Consult { from: *agent, deadline: Some(*deadline) },
                    });
                }
                self.schedule(*deadline, Timer::Consult { contact: *contact, target: *target });
                self.agent_changed(*target);
            }
            Event::ConsultAnswered { contact, target, .. } => {
                if let Some(it) = self.agent_mut(*target).and_then(|a| a.item_mut(*contact))
                    && let ItemPhase::Consult { deadline, .. } = &mut it.phase
                {
                    *deadline = None;
                }
                self.agent_changed(*target);
            }
            Event::ConsultEnded { contact, target, .. } => {
                if let Some(c) = self.contacts.get_mut(contact) {
                    c.consult = None;
                }
                if let Some(t) = self.agent_mut(*target) {
                    t.remove_item(*contact);
                    t.idle_since = at;
                }
                self.agent_changed(*target);
            }
            Event::ContactOverflowed { contact, .. } => {
                self.remove_waiting(*contact);
                if let Some(c) = self.contacts.get_mut(contact) {
                    c.only_agent = None;
                    c.overflow_hops += 1;
                }
            }
            Event::ContactAbandoned { contact, .. } | Event::ContactExited { contact, .. } => {
                self.remove_waiting(*contact);
            }
            Event::CallbackRequested { contact, queue, number, .. } => {
                if let Some(c) = self.contacts.get_mut(contact) {
                    c.channel = Channel::Callback;
                    c.callback = Some(CallbackInfo { number: number.clone(), attempts: 0 });
                }
                if let Some(q) = self.queue_mut(*queue) {
                    q.callbacks_outstanding += 1;
                }
            }
            Event::CallbackDialled { contact, agent, attempt, .. } => {
                if let Some(c) = self.contacts.get_mut(contact) {
                    c.phase = Phase::Dialling(*agent);
                    if let Some(cb) = &mut c.callback {
                        cb.attempts = *attempt;
                    }
                }
                if let Some(it) = self.agent_mut(*agent).and_then(|a| a.item_mut(*contact)) {
                    it.phase = ItemPhase::Dialling;
                }
                self.agent_changed(*agent);
            }
            Event::CallbackAttemptFailed { contact, agent, retry_at, .. } => {
                if let Some(a) = self.agent_mut(*agent) {
                    a.remove_item(*contact);
                    a.idle_since = at;
                }
                self.agent_changed(*agent);
                let mut epoch = None;
                if let Some(c) = self.contacts.get_mut(contact) {
                    if retry_at.is_some() {
                        c.phase = Phase::RetryWait;
                        c.epoch = c.epoch.wrapping_add(1);
                        epoch = Some(c.epoch);
                    } else {
                        c.phase = Phase::Transit;
                    }
                }
                if let (Some(t), Some(epoch)) = (retry_at, epoch) {
                    self.schedule(*t, Timer::CallbackRetry { contact: *contact, epoch });
                }
            }
            Event::CallbackRetry { contact, .. } => {
                if let Some(c) = self.contacts.get_mut(contact) {
                    c.phase = Phase::Transit;
                }
            }
            Event::ContactEnded { contact, .. } => {
                self.remove_waiting(*contact);
                let Some(c) = self.contacts.get_mut(contact) else { return };
                let phase = std::mem::replace(&mut c.phase, Phase::Transit);
                let (queue, talk_start, hold_ms, callback) = (c.queue, c.talk_start, c.hold_ms, c.callback.is_some());
                self.contacts.remove(contact);
                if let Phase::Connected { agent, held_since } = phase {
                    let held = held_since.map_or(0, |h| at.since(h));
                    let talk = at.since(talk_start).saturating_sub(hold_ms + held);
                    let handle = (talk + hold_ms + held) as f64;
                    if let Some(a) = self.agent_mut(agent) {
                        a.remove_item(*contact);
                        a.talk_ms += talk;
                        a.idle_since = at;
                    }
                    if let Some(q) = self.queue_mut(queue) {
                        q.handle_ewma_ms = ewma(q.handle_ewma_ms, handle);
                    }
                    self.agent_changed(agent);
                }
                if let Phase::Offered(list) = &phase {
                    for a in list.to_vec() {
                        if let Some(ag) = self.agent_mut(a) {
                            ag.remove_item(*contact);
                        }
                        self.agent_changed(a);
                    }
                }
                if let Phase::Dialling(a) = phase {
                    if let Some(ag) = self.agent_mut(a) {
                        ag.remove_item(*contact);
                    }
                    self.agent_changed(a);
                }
                if callback && let Some(q) = self.queue_mut(queue) {
                    q.callbacks_outstanding = q.callbacks_outstanding.saturating_sub(1);
                }
            }
            Event::WrapUpStarted { contact, queue, agent, channel, deadline } => {
                if let Some(a) = self.agent_mut(*agent) {
                    a.items.push(Item {
                        contact: *contact,
                        queue: *queue,
                        channel: *channel,
                        phase: ItemPhase::WrapUp { started: at, deadline: *deadline },
                    });
                }
                self.schedule(*deadline, Timer::WrapUp { agent: *agent, contact: *contact });
                self.agent_changed(*agent);
            }
            Event::WrapUpExtended { contact, agent, deadline } => {
                if let Some(it) = self.agent_mut(*agent).and_then(|a| a.item_mut(*contact))
                    && let ItemPhase::WrapUp { deadline: d, .. } = &mut it.phase
                {
                    *d = *deadline;
                }
                self.schedule(*deadline, Timer::WrapUp { agent: *agent, contact: *contact });
            }
            Event::WrapUpEnded { contact, queue, agent, wrap_ms } => {
                if let Some(a) = self.agent_mut(*agent) {
                    a.remove_item(*contact);
                    a.idle_since = at;
                }
                if let Some(q) = self.queue_mut(*queue) {
                    q.wrap_ewma_ms = ewma(q.wrap_ewma_ms, *wrap_ms as f64);
                }
                self.agent_changed(*agent);
            }
            Event::AgentPresenceChanged { agent, presence } => self.apply_presence(at, *agent, presence.clone()),
            Event::AgentStateChanged { agent, to, reason, .. } => {
                if let Some(a) = self.agent_mut(*agent) {
                    a.state = *to;
                    a.reason = reason.clone();
                    a.state_since = at;
                }
            }
            Event::PriorityChanged { contact, priority, .. } => {
                let waiting = matches!(self.contacts.get(contact).map(|c| &c.phase), Some(Phase::Waiting(_)));
                if waiting {
                    self.remove_waiting(*contact);
                }
                let qprio = self.contacts.get(contact).and_then(|c| self.queue(c.queue)).map_or(0, |q| q.cfg.priority);
                if let Some(c) = self.contacts.get_mut(contact) {
                    c.priority = *priority;
                    c.base_priority = priority.saturating_sub(qprio);
                }
                if waiting {
                    self.make_waiting(*contact);
                }
            }
        }
    }

    /// An agent's offer ended without an answer: free the agent and, when no
    /// other agent is being offered the contact, put it back at its place.
    fn release_agent_offer(
        &mut self,
        at: Time,
        contact: ContactId,
        agent: AgentId,
        missed: Option<u32>,
        block_ms: u64,
    ) {
        let mut unblock = None;
        if let Some(a) = self.agent_mut(agent) {
            a.remove_item(contact);
            if let Some(m) = missed {
                a.missed = m;
            }
            if block_ms > 0 {
                a.blocked_until = at.plus(block_ms);
                unblock = Some(a.blocked_until);
            }
        }
        if let Some(t) = unblock {
            self.schedule(t, Timer::Unblock { agent });
        }
        self.agent_changed(agent);
        let mut back = false;
        if let Some(c) = self.contacts.get_mut(&contact)
            && let Phase::Offered(list) = &mut c.phase
        {
            list.remove(agent);
            if list.is_empty() {
                c.phase = Phase::Transit;
                back = c.plan != Plan::Unset;
            }
        }
        if back {
            self.make_waiting(contact);
        }
    }

    fn apply_presence(&mut self, at: Time, agent: AgentId, presence: Presence) {
        let Some(a) = self.agent_mut(agent) else { return };
        let was_in = a.logged_in();
        let was_ready = a.presence == Presence::Ready;
        a.presence = presence;
        let now_in = a.logged_in();
        if !was_in && now_in {
            a.handled = 0;
            a.talk_ms = 0;
            a.idle_since = at;
            a.missed = 0;
        }
        if !was_ready && a.presence == Presence::Ready {
            a.idle_since = at;
            a.missed = 0;
            a.blocked_until = Time(0);
        }
        let queues: Vec<QueueId> = a.cfg.queues.iter().map(|m| m.queue).collect();
        if was_in != now_in {
            for q in queues {
                if let Some(q) = self.queue_mut(q) {
                    if now_in {
                        q.logged_in += 1;
                    } else {
                        q.logged_in = q.logged_in.saturating_sub(1);
                    }
                }
            }
        }
        self.agent_changed(agent);
    }

    fn apply_queue_config(&mut self, cfg: QueueConfig, _at: Time) {
        let id = cfg.id;
        let idx = id.0 as usize;
        if self.queues.len() <= idx {
            self.queues.resize_with(idx + 1, || None);
        }
        // Compile the queue's own steps.
        let mut steps = Vec::with_capacity(cfg.steps.len());
        for s in &cfg.steps {
            if s.condition.preferred_agent {
                steps.push((QueueStep::Preferred, s.timeout_ms));
            } else {
                let cond = self.compile_condition(&s.condition);
                steps.push((QueueStep::Members(cond), s.timeout_ms));
            }
        }
        let new_customer_cond = cfg.new_customer.as_ref().map(|nc| {
            let attr = self.attrs.intern(&nc.attribute);
            let c = self.intern_cond(Cond { attrs: vec![attr], ..Cond::default() });
            match steps.first() {
                Some((QueueStep::Members(first), _)) => {
                    let first = *first;
                    self.and_cond(c, first)
                }
                _ => c,
            }
        });
        let strategy_changed;
        match self.queues[idx].take() {
            Some(mut q) => {
                strategy_changed = q.cfg.strategy != cfg.strategy;
                q.cfg = cfg;
                q.steps = steps;
                q.new_customer_cond = new_customer_cond;
                self.queues[idx] = Some(q);
            }
            None => {
                strategy_changed = true;
                let mut q = Queue::new(cfg);
                q.steps = steps;
                q.new_customer_cond = new_customer_cond;
                // Adopt agents that already list this queue.
                let mut members = Vec::new();
                let mut logged_in = 0;
                for a in self.agents.iter().flatten() {
                    if a.cfg.queues.iter().any(|m| m.queue == id) {
                        members.push(a.cfg.id);
                        if a.logged_in() {
                            logged_in += 1;
                        }
                    }
                }
                q.members = members;
                q.logged_in = logged_in;
                self.queues[idx] = Some(q);
            }
        }
        let default_plan: Box<[PlanStep]> = self.compute_plan(Segment::Unknown, None, None, id).into_boxed_slice();
        let default_len = default_plan.len();
        if let Some(q) = self.queue_mut(id) {
            q.default_plan = default_plan;
        }
        // Re-plan waiting contacts under the new steps, keeping their step
        // index where it still exists.
        let waiting: Vec<ContactId> = self
            .contacts
            .values()
            .filter(|c| c.queue == id && matches!(c.phase, Phase::Waiting(_)))
            .map(|c| c.id)
            .collect();
        let mut waiting = waiting;
        waiting.sort_unstable();
        for cid in waiting {
            self.remove_waiting(cid);
            let plan = match self.contacts.get(&cid) {
                Some(c) => self.build_plan((c.segment, c.preferred, c.req, c.only_agent), id),
                None => continue,
            };
            if let Some(c) = self.contacts.get_mut(&cid) {
                let len = match &plan {
                    Plan::Own(steps) => steps.len(),
                    _ => default_len,
                };
                c.step = c.step.min(len.saturating_sub(1) as u32);
                c.plan = plan;
            }
            self.make_waiting(cid);
        }
        if strategy_changed {
            if let Some(q) = self.queue_mut(id) {
                q.ready = Default::default();
                q.rr_cursor = None;
            }
            let members = self.queue(id).map(|q| q.members.clone()).unwrap_or_default();
            for a in members {
                if let Some(ag) = self.agent_mut(a) {
                    ag.indexed.retain(|(q, _, _)| *q != id);
                }
                self.reindex(a);
            }
        }
    }

    fn apply_agent_config(&mut self, cfg: AgentConfig, at: Time) {
        let id = cfg.id;
        let idx = id.0 as usize;
        if self.agents.len() <= idx {
            self.agents.resize_with(idx + 1, || None);
        }
        let mut skills: Vec<(u16, u8)> = cfg.skills.iter().map(|s| (self.skills.intern(&s.skill), s.level)).collect();
        skills.sort_unstable();
        skills.dedup_by(|a, b| a.0 == b.0);
        let team = cfg.team.as_deref().map(|t| self.teams.intern(t));
        let mut attrs: Vec<u16> = cfg.attributes.iter().map(|a| self.attrs.intern(a)).collect();
        attrs.sort_unstable();
        attrs.dedup();
        let new_queues: Vec<QueueId> = cfg.queues.iter().map(|m| m.queue).collect();
        let (old_queues, logged_in) = match &self.agents[idx] {
            Some(a) => (a.cfg.queues.iter().map(|m| m.queue).collect::<Vec<_>>(), a.logged_in()),
            None => (Vec::new(), false),
        };
        // Memberships.
        for q in &old_queues {
            if !new_queues.contains(q)
                && let Some(q) = self.queue_mut(*q)
            {
                q.members.retain(|m| *m != id);
                if logged_in {
                    q.logged_in = q.logged_in.saturating_sub(1);
                }
            }
        }
        for q in &new_queues {
            if !old_queues.contains(q)
                && let Some(q) = self.queue_mut(*q)
                && let Err(pos) = q.members.binary_search(&id)
            {
                q.members.insert(pos, id);
                if logged_in {
                    q.logged_in += 1;
                }
            }
        }
        match &mut self.agents[idx] {
            Some(a) => {
                a.cfg = cfg;
                a.skills = skills;
                a.team = team;
                a.attrs = attrs;
            }
            slot @ None => {
                *slot = Some(Agent {
                    cfg,
                    skills,
                    team,
                    attrs,
                    presence: Presence::Offline,
                    items: Vec::new(),
                    missed: 0,
                    blocked_until: Time(0),
                    idle_since: at,
                    handled: 0,
                    talk_ms: 0,
                    state: AgentState::Offline,
                    reason: None,
                    state_since: at,
                    indexed: Vec::new(),
                    preferred_waiting: BTreeSet::new(),
                });
            }
        }
        // Keys may have changed (position, weight): rebuild this agent's entries.
        let old: Vec<(QueueId, Slot, ReadyKey)> =
            self.agent_mut(id).map(|a| std::mem::take(&mut a.indexed)).unwrap_or_default();
        for (q, s, k) in old {
            if let Some(q) = self.queue_mut(q) {
                q.ready[s.index()].remove(&k);
            }
        }
        self.agent_changed(id);
    }

    fn compile_condition(&mut self, c: &crate::config::Condition) -> CondId {
        let mut skills: Vec<(u16, u8)> = c.skills.iter().map(|r| (self.skills.intern(&r.skill), r.min_level)).collect();
        skills.sort_unstable();
        skills.dedup_by(|a, b| {
            if a.0 == b.0 {
                b.1 = b.1.max(a.1);
                true
            } else {
                false
            }
        });
        let team = c.team.as_deref().map(|t| self.teams.intern(t));
        let mut attrs: Vec<u16> = c.attributes.iter().map(|a| self.attrs.intern(a)).collect();
        attrs.sort_unstable();
        attrs.dedup();
        let mut agents = c.agents.clone();
        agents.sort_unstable();
        agents.dedup();
        self.intern_cond(Cond { skills, team, attrs, agents })
    }

    /// The routing plan of a contact entering `queue`.
    fn build_plan(&mut self, c: (Segment, Option<AgentId>, Option<CondId>, Option<AgentId>), queue: QueueId) -> Plan {
        let (segment, preferred, req, only) = c;
        if let Some(p) = only.filter(|a| self.agent(*a).is_some()) {
            return Plan::Own(Box::new([PlanStep { cond: StepCond::Preferred(p), timeout_ms: None }]));
        }
        let Some(q) = self.queue(queue) else {
            return Plan::Own(Box::new([PlanStep { cond: StepCond::Members(req.unwrap_or(ANY)), timeout_ms: None }]));
        };
        let uses_preferred = q.cfg.sticky_agent_ms.is_some() || q.steps.iter().any(|(s, _)| *s == QueueStep::Preferred);
        let uses_segment = segment == Segment::New && q.new_customer_cond.is_some();
        if req.is_none() && (preferred.is_none() || !uses_preferred) && !uses_segment && !q.default_plan.is_empty() {
            return Plan::Default;
        }
        Plan::Own(self.compute_plan(segment, preferred, req, queue).into_boxed_slice())
    }

    fn compute_plan(
        &mut self,
        segment: Segment,
        preferred: Option<AgentId>,
        req: Option<CondId>,
        queue: QueueId,
    ) -> Vec<PlanStep> {
        let Some(q) = self.queue(queue) else {
            return vec![PlanStep { cond: StepCond::Members(req.unwrap_or(ANY)), timeout_ms: None }];
        };
        let sticky = q.cfg.sticky_agent_ms;
        let new_cust = if segment == Segment::New {
            q.new_customer_cond.zip(q.cfg.new_customer.as_ref().map(|n| n.for_ms))
        } else {
            None
        };
        let steps = q.steps.clone();
        let req = req.unwrap_or(ANY);
        let preferred = preferred.filter(|a| self.agent(*a).is_some());
        let mut plan = Vec::with_capacity(steps.len() + 2);
        if let (Some(ms), Some(p)) = (sticky, preferred) {
            plan.push(PlanStep { cond: StepCond::Preferred(p), timeout_ms: Some(ms) });
        }
        if let Some((cond, ms)) = new_cust {
            let cond = self.and_cond(cond, req);
            plan.push(PlanStep { cond: StepCond::Members(cond), timeout_ms: Some(ms) });
        }
        let mut own = 0;
        for (s, t) in steps {
            match s {
                QueueStep::Members(cond) => {
                    let cond = self.and_cond(cond, req);
                    plan.push(PlanStep { cond: StepCond::Members(cond), timeout_ms: t });
                    own += 1;
                }
                QueueStep::Preferred => {
                    if let Some(p) = preferred {
                        plan.push(PlanStep { cond: StepCond::Preferred(p), timeout_ms: t });
                        own += 1;
                    }
                }
            }
        }
        if own == 0 || plan.last().is_some_and(|s| s.timeout_ms.is_some()) {
            plan.push(PlanStep { cond: StepCond::Members(req), timeout_ms: None });
        }
        plan
    }

    /// Index a contact as waiting at its current step and arm its timers.
    pub(super) fn make_waiting(&mut self, cid: ContactId) {
        let Some(c) = self.contacts.get(&cid) else { return };
        let default: &[PlanStep] = self.queue(c.queue).map_or(&[], |q| &q.default_plan);
        let Some(step) = c.current_step(default) else { return };
        let (qid, slot, key) = (c.queue, c.channel.slot(), c.key());
        let (step_entered, entered_at, is_callback) = (c.step_entered, c.entered_at, c.callback.is_some());
        let cref = match step.cond {
            StepCond::Preferred(a) => {
                if let Some(ag) = self.agent_mut(a) {
                    ag.preferred_waiting.insert((slot, key));
                }
                ClassRef::Preferred(a)
            }
            StepCond::Members(cond) => match self.queue_mut(qid) {
                Some(q) => {
                    let i = q.class_index(cond, slot);
                    q.classes[i].set.insert(key);
                    ClassRef::Class(i)
                }
                None => return,
            },
        };
        let (overflow_after, max_wait) = match self.queue_mut(qid) {
            Some(q) => {
                q.waiting += 1;
                (q.cfg.overflow.as_ref().and_then(|o| o.after_ms), q.cfg.max_wait.as_ref().map(|m| m.value))
            }
            None => (None, None),
        };
        let epoch = match self.contacts.get_mut(&cid) {
            Some(c) => {
                c.phase = Phase::Waiting(cref);
                c.epoch = c.epoch.wrapping_add(1);
                c.epoch
            }
            None => return,
        };
        if let Some(t) = step.timeout_ms {
            self.schedule(step_entered.plus(t), Timer::Step { contact: cid, epoch });
        }
        if let Some(t) = overflow_after {
            self.schedule(entered_at.plus(t), Timer::Overflow { contact: cid, epoch });
        }
        if let (Some(t), false) = (max_wait, is_callback) {
            self.schedule(entered_at.plus(t), Timer::MaxWait { contact: cid, epoch });
        }
    }

    /// Take a contact out of the waiting indexes (if it is waiting).
    pub(super) fn remove_waiting(&mut self, cid: ContactId) {
        let Some(c) = self.contacts.get_mut(&cid) else { return };
        let Phase::Waiting(cref) = c.phase else { return };
        c.phase = Phase::Transit;
        let (qid, slot, key) = (c.queue, c.channel.slot(), c.key());
        if let ClassRef::Preferred(a) = cref
            && let Some(ag) = self.agent_mut(a)
        {
            ag.preferred_waiting.remove(&(slot, key));
        }
        if let Some(q) = self.queue_mut(qid) {
            if let ClassRef::Class(i) = cref
                && let Some(class) = q.classes.get_mut(i)
            {
                class.set.remove(&key);
            }
            q.waiting = q.waiting.saturating_sub(1);
        }
    }

    /// Key of an agent in a queue's availability index, by the queue's strategy.
    pub(super) fn ready_key(&self, queue: QueueId, a: &Agent) -> ReadyKey {
        let id = a.cfg.id;
        let Some(q) = self.queue(queue) else { return (0, 0, id) };
        match q.cfg.strategy {
            Strategy::LongestIdle => (a.idle_since.0, 0, id),
            Strategy::FewestContacts => (a.handled, a.idle_since.0, id),
            Strategy::LeastTalkTime => (a.talk_ms, a.idle_since.0, id),
            Strategy::RoundRobin
            | Strategy::TopDown
            | Strategy::Random
            | Strategy::WeightedRandom
            | Strategy::RingAll => {
                let position = a.cfg.queues.iter().find(|m| m.queue == queue).map_or(0, |m| u64::from(m.position));
                (position, 0, id)
            }
        }
    }

    /// Something about an agent changed: refresh its index entries and
    /// remember to publish its state.
    pub(super) fn agent_changed(&mut self, id: AgentId) {
        // The availability index is refreshed lazily (`flush_index`), just
        // before something reads it: an agent freed and re-offered within
        // one step never leaves and re-enters the index.
        if self.touched.last() != Some(&id) || self.indexed_upto == self.touched.len() {
            self.touched.push(id);
        }
    }

    /// Refresh the availability index of every agent changed since the last flush.
    pub(super) fn flush_index(&mut self) {
        while self.indexed_upto < self.touched.len() {
            let id = self.touched[self.indexed_upto];
            self.indexed_upto += 1;
            self.reindex(id);
        }
    }

    fn reindex(&mut self, id: AgentId) {
        let Some(a) = self.agent(id) else { return };
        let room = if a.presence == Presence::Ready { a.room() } else { [false; 3] };
        if room == [false; 3] {
            // Fast path: cannot be indexed (busy, not ready); leave every index.
            if a.indexed.is_empty() {
                return;
            }
            let mut old = self.agent_mut(id).map(|a| std::mem::take(&mut a.indexed)).unwrap_or_default();
            for (q, s, k) in &old {
                if let Some(q) = self.queue_mut(*q) {
                    q.ready[s.index()].remove(k);
                }
            }
            // Keep the buffer for the agent's next entries.
            old.clear();
            if let Some(a) = self.agent_mut(id) {
                a.indexed = old;
            }
            return;
        }
        // Fast path: compare the wanted entries with the current ones without
        // building a list (most changes do not move the agent in the indexes).
        // An agent in no index (just freed) skips the comparison.
        let mut n = 0;
        let mut same = !a.indexed.is_empty();
        if same {
            'outer: for slot in Slot::ALL {
                if !room[slot.index()] {
                    continue;
                }
                for m in &a.cfg.queues {
                    if self.queue(m.queue).is_some() {
                        if a.indexed.get(n) != Some(&(m.queue, slot, self.ready_key(m.queue, a))) {
                            same = false;
                            break 'outer;
                        }
                        n += 1;
                    }
                }
            }
        }
        if same && n == a.indexed.len() {
            return;
        }
        let mut desired = std::mem::take(&mut self.scratch_index);
        desired.clear();
        let Some(a) = self.agent(id) else { return };
        for slot in Slot::ALL {
            if !room[slot.index()] {
                continue;
            }
            for m in &a.cfg.queues {
                if self.queue(m.queue).is_some() {
                    desired.push((m.queue, slot, self.ready_key(m.queue, a)));
                }
            }
        }
        let mut old = self.agent_mut(id).map(|a| std::mem::take(&mut a.indexed)).unwrap_or_default();
        for (q, s, k) in &old {
            if let Some(q) = self.queue_mut(*q) {
                q.ready[s.index()].remove(k);
            }
        }
        for (q, s, k) in &desired {
            if let Some(q) = self.queue_mut(*q) {
                q.ready[s.index()].insert(*k);
            }
        }
        // Swap buffers: the agent keeps `desired`, the scratch keeps the old allocation.
        old.clear();
        if let Some(a) = self.agent_mut(id) {
            a.indexed = desired;
        }
        self.scratch_index = old;
    }
}

fn ewma(old: f64, sample: f64) -> f64 {
    if old == 0.0 { sample } else { old * 0.9 + sample * 0.1 }
}
