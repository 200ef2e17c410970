//! Property tests over random input sequences. After every input the
//! engine's own invariant check runs (capacity, one agent per contact,
//! indexes consistent, nobody idle while an eligible contact waits); the
//! properties below check the event stream; the harness checks that a
//! replay of the log rebuilds the same state.

use crate::harness::*;
use engine::Strategy as Pick;
use engine::*;
use proptest::prelude::{
    ProptestConfig, Strategy, TestCaseError, any, prop, prop_assert, prop_assert_eq, prop_oneof, proptest,
};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
pub(crate) enum Op {
    Arrive { queue: u8, priority: u8, skill: u8, segment: u8, last_agent: u8, callback: bool, chat: bool },
    Abandon(u8),
    Login(u8),
    Logout(u8),
    Ready(u8),
    NotReady(u8),
    Accept(u8),
    Reject(u8),
    Hangup(u8),
    Hold(u8),
    Resume(u8),
    TransferQueue(u8, u8),
    TransferAgent(u8, u8),
    Callback(u8),
    CallbackOutcome(u8, u8),
    EndWrapUp(u8),
    SetPriority(u8, u8),
    Consult(u8, u8),
    AnswerConsult(u8),
    RejectConsult(u8),
    CompleteConsult(u8),
    CancelConsult(u8),
    Advance(u32),
}

pub(crate) fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<u8>(), 0u8..3, 0u8..4, 0u8..4, 0u8..8, any::<bool>(), prop::bool::weighted(0.15))
            .prop_map(|(queue, priority, skill, segment, last_agent, callback, chat)| Op::Arrive { queue, priority, skill, segment, last_agent, callback, chat }),
        1 => any::<u8>().prop_map(Op::Abandon),
        2 => any::<u8>().prop_map(Op::Login),
        1 => any::<u8>().prop_map(Op::Logout),
        2 => any::<u8>().prop_map(Op::Ready),
        1 => any::<u8>().prop_map(Op::NotReady),
        4 => any::<u8>().prop_map(Op::Accept),
        1 => any::<u8>().prop_map(Op::Reject),
        3 => any::<u8>().prop_map(Op::Hangup),
        1 => any::<u8>().prop_map(Op::Hold),
        1 => any::<u8>().prop_map(Op::Resume),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::TransferQueue(a, b)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::TransferAgent(a, b)),
        1 => any::<u8>().prop_map(Op::Callback),
        1 => (any::<u8>(), 0u8..4).prop_map(|(a, b)| Op::CallbackOutcome(a, b)),
        1 => any::<u8>().prop_map(Op::EndWrapUp),
        1 => (any::<u8>(), 0u8..4).prop_map(|(a, b)| Op::SetPriority(a, b)),
        3 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Consult(a, b)),
        4 => any::<u8>().prop_map(Op::AnswerConsult),
        1 => any::<u8>().prop_map(Op::RejectConsult),
        3 => any::<u8>().prop_map(Op::CompleteConsult),
        1 => any::<u8>().prop_map(Op::CancelConsult),
        4 => (0u32..40_000).prop_map(Op::Advance),
    ]
}

const SKILLS: [&str; 3] = ["billing", "tech", "lang:zh"];

/// A small but rich centre: strategies, steps, sticky and new-customer
/// preferences, overflow, max wait, wrap-up, callbacks, chat capacity.
pub(crate) fn rich_config() -> EngineConfig {
    let step = |skill: &str, lvl: u8, t: Option<u64>| RoutingStep {
        condition: Condition { skills: vec![SkillReq { skill: skill.into(), min_level: lvl }], ..Condition::default() },
        timeout_ms: t,
    };
    let mut q0 = queue(0, "general");
    q0.wrap_up_ms = 5_000;
    q0.sticky_agent_ms = Some(10_000);
    q0.new_customer = Some(NewCustomerPreference { attribute: "experienced".into(), for_ms: 8_000 });
    q0.callbacks = CallbackPolicy { enabled: true, max_outstanding: Some(3), max_attempts: 2, retry_delay_ms: 20_000 };
    let mut q1 = queue(1, "billing");
    q1.strategy = Pick::RoundRobin;
    q1.steps = vec![step("billing", 7, Some(15_000)), step("billing", 1, None)];
    q1.overflow = Some(Overflow { queue: q(0), after_ms: Some(60_000), when_no_agents: false });
    q1.offer_timeout_ms = 8_000;
    let mut q2 = queue(2, "tech");
    q2.strategy = Pick::RingAll;
    q2.steps = vec![step("tech", 1, Some(30_000))];
    q2.max_wait = Some(Limit { value: 90_000, action: ExitAction::Callback });
    q2.wrap_up_ms = 3_000;
    let mut q3 = queue(3, "vip");
    q3.strategy = Pick::WeightedRandom;
    q3.priority = 5;
    q3.max_length = Some(Limit { value: 3, action: ExitAction::Overflow { queue: q(0) } });
    q3.overflow = Some(Overflow { queue: q(0), after_ms: None, when_no_agents: true });
    let mut agents = Vec::new();
    for i in 0..6u32 {
        let qs: Vec<u32> = match i {
            0 => vec![0, 1],
            1 => vec![0, 2],
            2 => vec![1, 2, 3],
            3 => vec![0, 3],
            4 => vec![0, 1, 2, 3],
            _ => vec![2],
        };
        let mut ag =
            agent(i, &qs).with_skill("billing", (i as u8 * 3) % 10 + 1).with_skill("tech", (i as u8 * 7) % 10 + 1);
        if i % 2 == 0 {
            ag = ag.with_skill("lang:zh", 5);
            ag.attributes = vec!["experienced".into()];
        }
        if i == 4 {
            ag.capacity = Capacity { voice: 1, chat: 2, email: 0, exclusive_voice: true };
        }
        agents.push(ag);
    }
    let mut cfg = config(vec![q0, q1, q2, q3], agents);
    cfg.settings.max_missed_offers = 2;
    cfg.settings.seed = 99;
    cfg
}

fn pick<T: Copy>(items: &[T], i: u8) -> Option<T> {
    if items.is_empty() { None } else { Some(items[i as usize % items.len()]) }
}

/// Interpret an op against the current state; refused inputs are fine
/// (they must change nothing, which the harness's invariants cover).
pub(crate) fn run_op(w: &mut World, op: &Op, next_id: &mut u64, agents: u32, queues: u32) {
    let contacts = w.engine.contact_views();
    let ids: Vec<ContactId> = contacts.iter().map(|c| c.id).collect();
    let offered: Vec<(ContactId, AgentId)> = contacts
        .iter()
        .flat_map(|c| match &c.phase {
            ContactPhase::Offered { agents } => agents.iter().map(|a| (c.id, *a)).collect(),
            _ => Vec::new(),
        })
        .collect();
    let connected: Vec<ContactId> =
        contacts.iter().filter(|c| matches!(c.phase, ContactPhase::Connected { .. })).map(|c| c.id).collect();
    let dialling: Vec<ContactId> =
        contacts.iter().filter(|c| matches!(c.phase, ContactPhase::Dialling { .. })).map(|c| c.id).collect();
    let consult_rings: Vec<(ContactId, AgentId)> = w
        .engine
        .agent_views()
        .iter()
        .flat_map(|a| {
            a.work
                .iter()
                .filter(|x| x.phase == WorkPhase::ConsultRinging)
                .map(|x| (x.contact, a.id))
                .collect::<Vec<_>>()
        })
        .collect();
    let agent = |i: u8| AgentId(u32::from(i) % agents);
    let input = match *op {
        Op::Arrive { queue, priority, skill, segment, last_agent, callback, chat } => {
            *next_id += 1;
            let mut s = ContactSpec::new(ContactId(*next_id), QueueId(u32::from(queue) % queues));
            s.priority = i32::from(priority);
            if skill < 3 && skill == 2 {
                s.required_skills = vec![SkillReq { skill: SKILLS[skill as usize].into(), min_level: 3 }];
            }
            s.segment = [Segment::Unknown, Segment::New, Segment::Returning, Segment::Vip][segment as usize % 4];
            if u32::from(last_agent) < agents {
                s.last_agent = Some(AgentId(u32::from(last_agent)));
                // Some VIP callers are put through to one agent's line.
                if segment % 4 == 3 && priority == 2 {
                    s.required_agent = s.last_agent;
                }
            }
            if callback {
                s.callback_number = Some(format!("+1555{next_id:04}"));
            }
            if chat {
                s.channel = Channel::Chat;
            }
            Some(Input::Arrive { contact: s })
        }
        Op::Abandon(i) => pick(&ids, i).map(|c| Input::Abandon { contact: c }),
        Op::Login(i) => Some(Input::Login { agent: agent(i) }),
        Op::Logout(i) => Some(Input::Logout { agent: agent(i) }),
        Op::Ready(i) => Some(Input::Ready { agent: agent(i) }),
        Op::NotReady(i) => {
            Some(Input::NotReady { agent: agent(i), reason: ["break", "training"][i as usize % 2].into() })
        }
        Op::Accept(i) => pick(&offered, i).map(|(c, a)| Input::Accept { contact: c, agent: a }),
        Op::Reject(i) => pick(&offered, i).map(|(c, a)| Input::Reject { contact: c, agent: a }),
        Op::Hangup(i) => pick(&connected, i).map(|c| Input::Hangup { contact: c, by: Party::Customer }),
        Op::Hold(i) => pick(&connected, i).map(|c| Input::Hold { contact: c }),
        Op::Consult(i, t) => pick(&connected, i).map(|c| Input::Consult { contact: c, to: agent(t) }),
        Op::AnswerConsult(i) => pick(&consult_rings, i).map(|(c, a)| Input::Accept { contact: c, agent: a }),
        Op::RejectConsult(i) => pick(&consult_rings, i).map(|(c, a)| Input::Reject { contact: c, agent: a }),
        Op::CompleteConsult(i) => pick(&connected, i).map(|c| Input::CompleteConsult { contact: c }),
        Op::CancelConsult(i) => pick(&connected, i).map(|c| Input::CancelConsult { contact: c }),
        Op::Resume(i) => pick(&connected, i).map(|c| Input::Resume { contact: c }),
        Op::TransferQueue(i, t) => pick(&connected, i)
            .map(|c| Input::Transfer { contact: c, to: TransferTarget::Queue(QueueId(u32::from(t) % queues)) }),
        Op::TransferAgent(i, t) => {
            pick(&connected, i).map(|c| Input::Transfer { contact: c, to: TransferTarget::Agent(agent(t)) })
        }
        Op::Callback(i) => pick(&ids, i).map(|c| Input::RequestCallback { contact: c, number: None }),
        Op::CallbackOutcome(i, o) => pick(&dialling, i).map(|c| Input::CallbackOutcome {
            contact: c,
            outcome: [DialOutcome::Connected, DialOutcome::NoAnswer, DialOutcome::Busy, DialOutcome::Failed]
                [o as usize],
        }),
        Op::EndWrapUp(i) => {
            let a = agent(i);
            let wrap = w
                .engine
                .agent_view(a)
                .and_then(|v| v.work.iter().find(|x| x.phase == WorkPhase::WrapUp).map(|x| x.contact));
            wrap.map(|c| Input::EndWrapUp { contact: c, agent: a })
        }
        Op::SetPriority(i, p) => pick(&ids, i).map(|c| Input::SetPriority { contact: c, priority: i32::from(p) }),
        Op::Advance(ms) => {
            let t = w.now.0 + u64::from(ms);
            w.at(t);
            None
        }
    };
    if let Some(input) = input {
        let _ = w.input(input);
    }
}

/// Checks over the whole event stream of a run.
fn check_stream(log: &[EventRecord]) -> Result<(), TestCaseError> {
    let mut arrived = BTreeSet::new();
    let mut ended: BTreeMap<ContactId, u32> = BTreeMap::new();
    let mut presence: BTreeMap<AgentId, Presence> = BTreeMap::new();
    let mut holder: BTreeMap<ContactId, AgentId> = BTreeMap::new();
    // A completed consultation hands the contact to an agent who was ready
    // when consulted and may have gone not-ready since: that offer is no
    // routing decision.
    let mut handed_over: Option<(ContactId, AgentId)> = None;
    let mut last_at = Time(0);
    for r in log {
        prop_assert!(r.at >= last_at, "time went back at seq {}", r.seq);
        last_at = r.at;
        match &r.event {
            Event::ContactArrived { contact, .. } => {
                prop_assert!(arrived.insert(*contact), "{} arrived twice", contact);
            }
            Event::ContactEnded { contact, .. } => {
                *ended.entry(*contact).or_default() += 1;
                holder.remove(contact);
            }
            Event::AgentPresenceChanged { agent, presence: p } => {
                presence.insert(*agent, p.clone());
            }
            Event::ConsultEnded { contact, target, outcome: ConsultOutcome::Completed, .. } => {
                handed_over = Some((*contact, *target));
            }
            Event::ContactOffered { agent, contact, .. } if handed_over == Some((*contact, *agent)) => {
                handed_over = None;
            }
            Event::ContactOffered { agent, contact, .. } => {
                prop_assert_eq!(
                    presence.get(agent),
                    Some(&Presence::Ready),
                    "{} offered to {} who is not ready",
                    contact,
                    agent
                );
                prop_assert!(!ended.contains_key(contact), "offer of an ended contact");
            }
            Event::ContactAnswered { contact, agent, .. } => {
                prop_assert!(holder.insert(*contact, *agent).is_none(), "{} answered twice without transfer", contact);
            }
            Event::ContactTransferred { contact, .. } => {
                holder.remove(contact);
            }
            _ => {}
        }
    }
    for (c, n) in &ended {
        prop_assert_eq!(*n, 1, "{} ended {} times", c, n);
        prop_assert!(arrived.contains(c), "{} ended without arriving", c);
    }
    Ok(())
}

/// Drive every live contact to its end: agents ready and answering, calls
/// hung up, time moving on. A contact that cannot end is a lost contact.
pub(crate) fn drain(w: &mut World, agents: u32) {
    for a in 0..agents {
        let _ = w.input(Input::Login { agent: AgentId(a) });
        let _ = w.input(Input::Ready { agent: AgentId(a) });
    }
    for _ in 0..400 {
        let views = w.engine.contact_views();
        if views.is_empty() {
            return;
        }
        for v in views {
            let input = match v.phase {
                ContactPhase::Offered { agents } => Input::Accept { contact: v.id, agent: agents[0] },
                ContactPhase::Connected { .. } => Input::Hangup { contact: v.id, by: Party::Agent },
                ContactPhase::Dialling { .. } => {
                    Input::CallbackOutcome { contact: v.id, outcome: DialOutcome::Connected }
                }
                _ => continue,
            };
            let _ = w.input(input);
        }
        for a in 0..agents {
            let _ = w.input(Input::Ready { agent: AgentId(a) });
        }
        let t = w.now.0 + 30_000;
        w.at(t);
    }
}

/// Operations weighted towards consulted transfers: calls answered, then
/// consultations offered, answered, declined, completed, cancelled, with
/// customers hanging up and agents changing presence in between.
fn consult_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<u8>(), 0u8..3).prop_map(|(queue, priority)| Op::Arrive { queue, priority, skill: 9, segment: 0, last_agent: 200, callback: false, chat: false }),
        2 => any::<u8>().prop_map(Op::Login),
        1 => any::<u8>().prop_map(Op::Logout),
        2 => any::<u8>().prop_map(Op::Ready),
        1 => any::<u8>().prop_map(Op::NotReady),
        3 => any::<u8>().prop_map(Op::Accept),
        2 => any::<u8>().prop_map(Op::Hangup),
        1 => any::<u8>().prop_map(Op::Hold),
        1 => any::<u8>().prop_map(Op::Resume),
        4 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Consult(a, b)),
        4 => any::<u8>().prop_map(Op::AnswerConsult),
        1 => any::<u8>().prop_map(Op::RejectConsult),
        3 => any::<u8>().prop_map(Op::CompleteConsult),
        2 => any::<u8>().prop_map(Op::CancelConsult),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::TransferAgent(a, b)),
        1 => any::<u8>().prop_map(Op::EndWrapUp),
        2 => (0u32..30_000).prop_map(Op::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, max_shrink_iters: 2_000, ..ProptestConfig::default() })]

    /// Consulted transfers among six agents: invariants after every input
    /// (a consultation never double-books the consulted agent, the customer
    /// always has exactly one agent), every contact ends once, the log replays.
    #[test]
    fn consultations_keep_invariants(ops in prop::collection::vec(consult_op(), 1..160)) {
        let mut w = World::new(rich_config());
        let mut next_id = 0;
        for op in &ops {
            run_op(&mut w, op, &mut next_id, 6, 4);
        }
        drain(&mut w, 6);
        prop_assert!(w.engine.contact_views().is_empty(), "contacts left after draining: {:?}", w.engine.contact_views());
        check_stream(&w.log)?;
    }

    /// Random operations on a rich configuration: invariants hold after
    /// every input, every contact ends exactly once, offers go only to
    /// ready agents, one agent per contact, and the log replays.
    #[test]
    fn random_operations_keep_invariants(ops in prop::collection::vec(op(), 1..160)) {
        let mut w = World::new(rich_config());
        let mut next_id = 0;
        for op in &ops {
            run_op(&mut w, op, &mut next_id, 6, 4);
        }
        drain(&mut w, 6);
        prop_assert!(w.engine.contact_views().is_empty(), "contacts left after draining: {:?}", w.engine.contact_views());
        check_stream(&w.log)?;
    }

    /// Within a queue and priority, contacts are served in arrival order,
    /// and callbacks keep their position: whenever a contact is offered,
    /// it is the best waiting contact (priority, then age) among the
    /// queues the agent serves.
    #[test]
    fn served_in_order_and_callbacks_keep_place(ops in prop::collection::vec(op(), 1..160)) {
        // Every agent serves every queue, no skills: eligibility is uniform,
        // so the order is fully determined by priority and age.
        let queues: Vec<QueueConfig> = (0..3).map(|i| {
            let mut qc = queue(i, "q");
            qc.priority = i as i32;
            qc.wrap_up_ms = 2_000;
            qc
        }).collect();
        let agents: Vec<AgentConfig> = (0..4).map(|i| agent(i, &[0, 1, 2])).collect();
        let mut w = World::new(config(queues, agents));
        let mut next_id = 0;
        for op in &ops {
            // No transfers to agents and no preferred agents here: they
            // bypass queue order by design.
            let op = match op {
                Op::TransferAgent(..) | Op::Consult(..) => Op::Advance(1_000),
                Op::Arrive { queue, priority, callback, .. } => Op::Arrive { queue: *queue, priority: *priority, skill: 9, segment: 0, last_agent: 200, callback: *callback, chat: false },
                other => other.clone(),
            };
            run_op(&mut w, &op, &mut next_id, 4, 3);
        }
        // Rebuild the waiting set from events and check every offer.
        let mut waiting: BTreeSet<(i64, u64, u64)> = BTreeSet::new();
        let mut key: BTreeMap<ContactId, (i64, u64, u64)> = BTreeMap::new();
        for r in &w.log {
            match &r.event {
                Event::ContactQueued { contact, priority, waiting_since, .. } => {
                    let k = (-i64::from(*priority), waiting_since.0, contact.0);
                    key.insert(*contact, k);
                    waiting.insert(k);
                }
                Event::PriorityChanged { contact, priority, .. } => {
                    if let Some(k) = key.get_mut(contact) {
                        let was = waiting.remove(k);
                        k.0 = -i64::from(*priority);
                        if was { waiting.insert(*k); }
                    }
                }
                Event::ContactOffered { contact, .. } => {
                    if let Some(k) = key.get(contact)
                        && waiting.contains(k)
                    {
                        let best = *waiting.iter().next().expect("non-empty");
                        prop_assert_eq!(best, *k, "offered {} at seq {} but a better contact waits", contact, r.seq);
                        waiting.remove(k);
                    }
                }
                Event::OfferTimedOut { contact, .. } | Event::OfferRejected { contact, .. } | Event::OfferRescinded { contact, .. } => {
                    // Back at its old place (no ring-all here: one offer at a time).
                    if let Some(k) = key.get(contact) {
                        waiting.insert(*k);
                    }
                }
                Event::ContactAbandoned { contact, .. } | Event::ContactExited { contact, .. } | Event::ContactOverflowed { contact, .. } | Event::ContactEnded { contact, .. } => {
                    if let Some(k) = key.get(contact) { waiting.remove(k); }
                }
                Event::ContactAnswered { contact, .. } | Event::CallbackDialled { contact, .. } => {
                    if let Some(k) = key.get(contact) { waiting.remove(k); }
                }
                _ => {}
            }
        }
        check_stream(&w.log)?;
    }
}
