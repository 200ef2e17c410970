//! The agent state machine: one global state per agent, across all queues.

use crate::harness::*;
use engine::*;

/// A missed offer puts the contact back at its old place and, after the
/// configured number of misses (1 by default), the agent into not-ready.
#[test]
fn missed_offer_requeues_and_sets_not_ready() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1]), agent(2, &[1])]));
    w.at(0).arrive(1, 1); // waits from t=0
    w.at(10).login(&[1]);
    assert_eq!(w.offered_to(1), Some(1));
    w.at(20).arrive(2, 1);
    w.at(15_010); // ring time-out (15 s)
    assert!(w.is_waiting(1));
    assert_eq!(w.state(1), AgentState::NotReady);
    assert_eq!(w.engine.agent_view(a(1)).expect("agent").reason.as_deref(), Some("missed-offers"));
    w.login(&[2]);
    assert_eq!(w.offered_to(1), Some(2), "contact 1 kept its place ahead of contact 2");
}

/// With a higher miss limit, the agent pauses briefly after each miss and
/// is set not-ready at the limit.
#[test]
fn miss_limit_with_pause_between_misses() {
    let mut cfg = config(vec![queue(1, "support")], vec![agent(1, &[1])]);
    cfg.settings.max_missed_offers = 2;
    cfg.settings.no_answer_delay_ms = 5_000;
    let mut w = World::new(cfg);
    w.login(&[1]).at(0).arrive(1, 1);
    w.at(15_000);
    assert!(w.is_waiting(1));
    assert_eq!(w.state(1), AgentState::Ready);
    w.at(19_999);
    assert!(w.is_waiting(1), "no offer during the pause");
    w.at(20_000);
    assert_eq!(w.offered_to(1), Some(1));
    w.at(35_000);
    assert_eq!(w.state(1), AgentState::NotReady);
}

/// Wrap-up is honoured in every queue the agent serves, can be extended,
/// and ends by its timer or when the agent says ready.
#[test]
fn wrap_up_across_queues() {
    let mut q1 = queue(1, "a");
    q1.wrap_up_ms = 30_000;
    let mut w = World::new(config(vec![q1, queue(2, "b")], vec![agent(1, &[1, 2])]));
    w.login(&[1]).at(0).arrive(1, 1).answer(1, 1);
    w.at(60_000).hangup(1);
    assert_eq!(w.state(1), AgentState::WrapUp);
    w.at(61_000).arrive(2, 2); // queue b has no wrap-up of its own
    assert!(w.is_waiting(2), "wrap-up from queue a blocks queue b too");
    w.ok(Input::ExtendWrapUp { contact: c(1), agent: a(1), ms: 10_000 });
    w.at(90_000);
    assert!(w.is_waiting(2), "extended to 100 s");
    w.at(100_000);
    assert_eq!(w.offered_to(2), Some(1));
    // Ready ends a wrap-up early.
    w.accept(2, 1).at(110_000).hangup(2); // queue b: no wrap-up
    w.arrive(3, 1).answer(3, 1).at(120_000).hangup(3);
    assert_eq!(w.state(1), AgentState::WrapUp);
    w.arrive(4, 2);
    w.at(125_000).ok(Input::Ready { agent: a(1) });
    assert_eq!(w.offered_to(4), Some(1));
}

/// Not-ready with a reason; set during a call, it applies after the call.
#[test]
fn not_ready_reasons_and_pending_not_ready() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1])]));
    w.login(&[1]).at(0).arrive(1, 1).answer(1, 1);
    w.ok(Input::NotReady { agent: a(1), reason: "lunch".into() });
    assert_eq!(w.state(1), AgentState::Busy, "the call goes on");
    w.at(10).arrive(2, 1);
    w.at(20).hangup(1);
    assert_eq!(w.state(1), AgentState::NotReady);
    assert!(w.is_waiting(2));
    let changes: Vec<&Event> = w.events_named("agent_state_changed");
    match changes.last() {
        Some(Event::AgentStateChanged { to, reason, .. }) => {
            assert_eq!(*to, AgentState::NotReady);
            assert_eq!(reason.as_deref(), Some("lunch"));
        }
        other => panic!("unexpected {other:?}"),
    }
    w.at(30).ok(Input::Ready { agent: a(1) });
    assert_eq!(w.offered_to(2), Some(1));
}

/// Declining an offer: the contact goes back, the agent pauses briefly and
/// may then be offered it again if still nobody else can take it.
#[test]
fn reject_then_reoffer() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1])]));
    w.login(&[1]).at(0).arrive(1, 1);
    w.ok(Input::Reject { contact: c(1), agent: a(1) });
    assert!(w.is_waiting(1));
    w.at(4_999);
    assert!(w.is_waiting(1));
    w.at(5_000);
    assert_eq!(w.offered_to(1), Some(1));
}

/// Logging out is refused during a call (the call is not lost) and
/// withdraws pending offers.
#[test]
fn logout_rules() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1]), agent(2, &[1])]));
    w.login(&[1]).at(0).arrive(1, 1).answer(1, 1);
    let err = w.input(Input::Logout { agent: a(1) }).expect_err("connected");
    assert_eq!(err.code(), "invalid_state");
    w.hangup(1).arrive(2, 1);
    assert_eq!(w.offered_to(2), Some(1));
    w.ok(Input::Logout { agent: a(1) });
    assert_eq!(w.state(1), AgentState::Offline);
    assert!(w.is_waiting(2));
    w.login(&[2]);
    assert_eq!(w.offered_to(2), Some(2));
    assert!(w.input(Input::Ready { agent: a(1) }).is_err(), "not logged in");
}

/// Hold and resume: the state follows and hold time is accounted apart.
#[test]
fn hold_resume_accounting() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1])]));
    w.login(&[1]).at(0).arrive(1, 1).answer(1, 1);
    w.at(10_000).ok(Input::Hold { contact: c(1) });
    assert_eq!(w.state(1), AgentState::OnHold);
    w.at(25_000).ok(Input::Resume { contact: c(1) });
    assert_eq!(w.state(1), AgentState::Busy);
    w.at(40_000).hangup(1);
    match w.events_named("contact_ended")[0] {
        Event::ContactEnded { talk_ms, hold_ms, outcome, .. } => {
            assert_eq!((*talk_ms, *hold_ms, *outcome), (25_000, 15_000, Outcome::Handled));
        }
        _ => unreachable!(),
    }
}

/// Capacity per channel: two chats at once, but calls are exclusive.
#[test]
fn channel_capacity() {
    let mut chat_agent = agent(1, &[1]);
    chat_agent.capacity = Capacity { voice: 1, chat: 2, email: 0, exclusive_voice: true };
    let mut w = World::new(config(vec![queue(1, "support")], vec![chat_agent]));
    w.login(&[1]);
    for i in 1..=3 {
        let mut spec = ContactSpec::new(c(i), q(1));
        spec.channel = Channel::Chat;
        w.at(i).arrive_spec(spec);
        if w.offered_to(i).is_some() {
            w.accept(i, 1);
        }
    }
    assert!(w.is_waiting(3), "third chat waits");
    w.at(10).arrive(4, 1); // a call
    assert!(w.is_waiting(4), "no call while chatting");
    w.hangup(1).hangup(2);
    // With both chats done, chat 3 (older) goes first; the call waits.
    assert_eq!(w.offered_to(3), Some(1));
}

/// Transfers keep the contact's id: to a queue, and to an agent; a transfer
/// to an unavailable agent is refused with the reason and the call stays.
#[test]
fn transfers() {
    let mut w = World::new(config(
        vec![queue(1, "first"), queue(2, "experts")],
        vec![agent(1, &[1]), agent(2, &[2]), agent(3, &[2])],
    ));
    w.login(&[1, 2]).at(0).arrive(1, 1).answer(1, 1);
    let err = w.input(Input::Transfer { contact: c(1), to: TransferTarget::Agent(a(3)) }).expect_err("offline");
    assert_eq!(err.code(), "transfer_refused");
    assert!(err.to_string().contains("offline"), "{err}");
    assert_eq!(w.state(1), AgentState::Busy, "the call is not lost");
    w.at(30_000).ok(Input::Transfer { contact: c(1), to: TransferTarget::Queue(q(2)) });
    assert_eq!(w.offered_to(1), Some(2), "same contact id, new queue");
    w.accept(1, 2);
    w.login(&[3]);
    w.at(40_000).ok(Input::Transfer { contact: c(1), to: TransferTarget::Agent(a(3)) });
    assert_eq!(w.offered_to(1), Some(3));
    w.accept(1, 3).at(50_000).hangup(1);
    assert_eq!(w.events_named("contact_transferred").len(), 2);
    assert_eq!(w.events_named("contact_ended").len(), 1, "one contact, one end");
}

/// Abandon while waiting and while ringing.
#[test]
fn abandons() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1])]));
    w.at(0).arrive(1, 1);
    w.at(8_000).ok(Input::Abandon { contact: c(1) });
    w.login(&[1]).arrive(2, 1);
    assert_eq!(w.offered_to(2), Some(1));
    w.at(9_000).ok(Input::Abandon { contact: c(2) });
    assert_eq!(w.state(1), AgentState::Ready);
    let ab = w.events_named("contact_abandoned");
    assert!(matches!(ab[0], Event::ContactAbandoned { wait_ms: 8_000, while_offered: false, .. }));
    assert!(matches!(ab[1], Event::ContactAbandoned { while_offered: true, .. }));
    // Every event is numbered without gaps and carries the schema version.
    for (i, r) in w.log.iter().enumerate() {
        assert_eq!(r.seq, i as u64 + 1);
        assert_eq!(r.v, SCHEMA_VERSION);
    }
}

/// Bad inputs are refused with a clear code and change nothing.
#[test]
fn bad_inputs_change_nothing() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1])]));
    w.login(&[1]).at(0).arrive(1, 1);
    let before = w.engine.snapshot(w.now);
    let bad = [
        Input::Accept { contact: c(99), agent: a(1) },
        Input::Accept { contact: c(1), agent: a(42) },
        Input::Arrive { contact: ContactSpec::new(c(1), q(1)) },
        Input::Arrive { contact: ContactSpec::new(c(2), q(9)) },
        Input::Hangup { contact: c(1), by: Party::Agent },
        Input::Hold { contact: c(1) },
        Input::RequestCallback { contact: c(1), number: None },
        Input::EndWrapUp { contact: c(1), agent: a(1) },
        Input::RemoveAgent { agent: a(1) },
    ];
    for input in bad {
        let dbg = format!("{input:?}");
        assert!(w.input(input).is_err(), "{dbg} should be refused");
        assert_eq!(w.engine.snapshot(w.now), before, "{dbg} changed the state");
    }
}

/// Auto-answer agents (headsets with auto-answer, simulated agents) are
/// connected at once; the offer and the answer are both recorded.
#[test]
fn auto_answer_connects_at_once() {
    let mut auto = agent(1, &[1]);
    auto.auto_answer = true;
    let mut ring_all = queue(2, "ring-all");
    ring_all.strategy = Strategy::RingAll;
    let mut w = World::new(config(
        vec![queue(1, "support"), ring_all],
        vec![auto, agent(2, &[2]), {
            let mut a3 = agent(3, &[2]);
            a3.auto_answer = true;
            a3
        }],
    ));
    w.login(&[1, 2, 3]).at(10).arrive(1, 1);
    assert_eq!(w.state(1), AgentState::Busy);
    assert_eq!(w.events_named("contact_offered").len(), 1);
    assert_eq!(w.events_named("contact_answered").len(), 1);
    // Ring-all with one auto-answering agent: that agent takes it.
    w.arrive(2, 2);
    assert_eq!(w.state(3), AgentState::Busy);
    assert_eq!(w.state(2), AgentState::Ready);
    w.at(100_000);
    assert_eq!(w.events_named("offer_timed_out").len(), 0);
}

/// Consulted transfer: agent 1 holds the customer and calls agent 2; they
/// talk; agent 1 hands the customer over. The contact keeps its id, agent 1
/// wraps up, agent 2 is connected without ringing again.
#[test]
fn consulted_transfer_completes() {
    let mut support = queue(1, "support");
    support.wrap_up_ms = 10_000;
    let mut w = World::new(config(vec![support], vec![agent(1, &[1]), agent(2, &[1]), agent(3, &[1])]));
    w.login(&[1]).at(0).arrive(1, 1).answer(1, 1);
    w.login(&[2]);
    w.at(20_000).ok(Input::Consult { contact: c(1), to: a(2) });
    assert_eq!(w.state(1), AgentState::OnHold, "the customer holds while agent 1 consults");
    assert_eq!(w.state(2), AgentState::Reserved, "the consultation rings agent 2");
    // Agent 2 cannot be offered another contact while being consulted.
    w.arrive(2, 1);
    assert!(w.is_waiting(2));
    let err = w.input(Input::CompleteConsult { contact: c(1) }).expect_err("not answered yet");
    assert!(err.to_string().contains("not answered"), "{err}");
    w.at(25_000).accept(1, 2);
    assert_eq!(w.state(2), AgentState::Busy);
    let err = w.input(Input::Resume { contact: c(1) }).expect_err("consulting");
    assert!(err.to_string().contains("consultation"), "{err}");
    let err = w.input(Input::Transfer { contact: c(1), to: TransferTarget::Queue(q(1)) }).expect_err("consulting");
    assert!(err.to_string().contains("consultation"), "{err}");
    w.at(40_000).ok(Input::CompleteConsult { contact: c(1) });
    assert_eq!(w.state(1), AgentState::WrapUp, "agent 1 wraps up the part they handled");
    assert_eq!(w.state(2), AgentState::Busy, "agent 2 now talks to the customer");
    let ended = w.events_named("consult_ended");
    assert!(matches!(ended[0], Event::ConsultEnded { outcome: ConsultOutcome::Completed, .. }), "{ended:?}");
    let tr = w.events_named("contact_transferred");
    assert!(
        matches!(tr[0], Event::ContactTransferred { agent, to: TransferTarget::Agent(t), hold_ms: 20_000, talk_ms: 20_000, .. } if *agent == a(1) && *t == a(2)),
        "{tr:?}"
    );
    let answered = w.events_named("contact_answered");
    assert_eq!(answered.len(), 2, "answered by agent 1, then taken over by agent 2");
    w.at(50_000).ok(Input::Tick);
    assert_eq!(w.offered_to(2), Some(1), "the contact that waited goes to agent 1 after the wrap-up");
    w.accept(2, 1);
    w.at(60_000).hangup(1);
    assert_eq!(w.events_named("contact_ended").len(), 1, "one contact, one end");
    assert_eq!(w.state(2), AgentState::WrapUp, "agent 2 wraps up the rest");
    w.at(65_000).ok(Input::EndWrapUp { contact: c(1), agent: a(2) });
    assert_eq!(w.state(2), AgentState::Ready);
}

/// A consultation that is declined, times out, is cancelled, or during
/// which the customer hangs up: the customer stays with agent 1 (back off
/// hold), the consulted agent is free again at once.
#[test]
fn consultations_that_do_not_complete() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1]), agent(2, &[]), agent(3, &[])]));
    w.login(&[1, 2]).at(0).arrive(1, 1).answer(1, 1);
    let err = w.input(Input::Consult { contact: c(1), to: a(3) }).expect_err("offline");
    assert_eq!(err.code(), "transfer_refused");
    assert_eq!(w.state(1), AgentState::Busy, "a refused consultation leaves the call as it was");
    let err = w.input(Input::Consult { contact: c(1), to: a(1) }).expect_err("oneself");
    assert!(err.to_string().contains("oneself"), "{err}");

    // Declined.
    w.at(10_000).ok(Input::Consult { contact: c(1), to: a(2) });
    let err = w.input(Input::Consult { contact: c(1), to: a(2) }).expect_err("one at a time");
    assert!(err.to_string().contains("consultation"), "{err}");
    w.ok(Input::Reject { contact: c(1), agent: a(2) });
    assert_eq!((w.state(1), w.state(2)), (AgentState::Busy, AgentState::Ready));
    assert_eq!(w.events_named("offer_rejected").len(), 0, "not an offer: no missed-offer penalty");

    // Not answered in time (the queue's offer time-out).
    w.at(20_000).ok(Input::Consult { contact: c(1), to: a(2) });
    w.at(20_000 + 60_000).ok(Input::Tick);
    assert_eq!((w.state(1), w.state(2)), (AgentState::Busy, AgentState::Ready));

    // Cancelled by the consulting agent after the target answered.
    w.at(100_000).ok(Input::Consult { contact: c(1), to: a(2) });
    w.accept(1, 2).at(110_000).ok(Input::CancelConsult { contact: c(1) });
    assert_eq!((w.state(1), w.state(2)), (AgentState::Busy, AgentState::Ready));

    // The customer hangs up while the agents talk.
    w.at(120_000).ok(Input::Consult { contact: c(1), to: a(2) });
    w.accept(1, 2).at(130_000).ok(Input::Hangup { contact: c(1), by: Party::Customer });
    assert_eq!(w.state(2), AgentState::Ready);
    let outcomes: Vec<ConsultOutcome> = w
        .events_named("consult_ended")
        .iter()
        .filter_map(|e| match e {
            Event::ConsultEnded { outcome, .. } => Some(*outcome),
            _ => None,
        })
        .collect();
    use ConsultOutcome::*;
    assert_eq!(outcomes, vec![Rejected, TimedOut, Cancelled, CustomerLeft]);
    // Each consultation put the customer on hold; all but the last resumed.
    assert_eq!(w.events_named("contact_held").len(), 4);
    assert_eq!(w.events_named("contact_resumed").len(), 3);
}

/// On a desk phone the consulting agent hangs up to hand over: with the
/// target on the line that completes the transfer; while it still rings,
/// it ends the call.
#[test]
fn consulting_agent_hanging_up_hands_over_once_answered() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1]), agent(2, &[])]));
    w.login(&[1, 2]).at(0).arrive(1, 1).answer(1, 1);
    w.at(5_000).ok(Input::Consult { contact: c(1), to: a(2) }).accept(1, 2);
    w.at(9_000).ok(Input::Hangup { contact: c(1), by: Party::Agent });
    assert_eq!(w.state(2), AgentState::Busy, "agent 2 has the customer");
    assert_eq!(w.events_named("contact_ended").len(), 0);
    w.arrive(2, 1).answer(2, 1);
    let err = w.at(12_000).input(Input::Consult { contact: c(2), to: a(2) }).expect_err("busy");
    assert!(err.to_string().contains("busy"), "{err}");
    w.at(20_000).hangup(1);
    w.ok(Input::Consult { contact: c(2), to: a(2) });
    w.at(22_000).ok(Input::Hangup { contact: c(2), by: Party::Agent });
    assert_eq!((w.state(1), w.state(2)), (AgentState::Ready, AgentState::Ready));
    assert!(matches!(
        w.events_named("consult_ended")[..],
        [
            Event::ConsultEnded { outcome: ConsultOutcome::Completed, .. },
            Event::ConsultEnded { outcome: ConsultOutcome::Cancelled, .. }
        ]
    ));
    assert_eq!(w.events_named("contact_ended").len(), 2);
}
