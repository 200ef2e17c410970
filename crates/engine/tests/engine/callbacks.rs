//! Callbacks that keep the caller's place.

use crate::harness::*;
use engine::*;

fn caller(id: u64, queue: u32) -> ContactSpec {
    let mut s = ContactSpec::new(c(id), q(queue));
    s.callback_number = Some(format!("+8613800000{id:03}"));
    s
}

/// A waiting caller becomes a callback and keeps its place: callers who
/// arrived later are not served first. When it reaches the front an agent
/// is reserved first, and only then is the customer dialled.
#[test]
fn callback_keeps_place_and_reserves_agent_first() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1])]));
    w.login(&[1]).at(0).arrive(1, 1).answer(1, 1);
    w.at(10).arrive_spec(caller(2, 1));
    w.at(20).arrive(3, 1);
    w.at(60_000).ok(Input::RequestCallback { contact: c(2), number: None });
    assert!(w.commands.iter().any(|x| matches!(x, Command::ReleaseCaller { contact } if *contact == c(2))));
    w.at(70_000).arrive(4, 1);
    w.at(100_000).hangup(1);
    assert_eq!(w.offered_to(2), Some(1), "the callback is first in line");
    w.accept(2, 1);
    assert_eq!(w.state(1), AgentState::Busy, "the agent waits for the connection");
    assert!(
        w.commands.iter().any(|x| matches!(x, Command::DialCallback { contact, attempt: 1, .. } if *contact == c(2)))
    );
    w.at(110_000).ok(Input::CallbackOutcome { contact: c(2), outcome: DialOutcome::Connected });
    assert!(matches!(
        w.events_named("contact_answered").last(),
        Some(Event::ContactAnswered { channel: Channel::Callback, .. })
    ));
    assert_eq!(w.engine.queue_view(q(1), w.now).expect("q").callbacks_outstanding, 0);
}

/// A callback that nobody answers is retried after the delay, at its old
/// place; after the last attempt it ends as a failed callback.
#[test]
fn callback_retry_policy() {
    let mut q1 = queue(1, "support");
    q1.callbacks = CallbackPolicy { enabled: true, max_outstanding: None, max_attempts: 2, retry_delay_ms: 60_000 };
    let mut w = World::new(config(vec![q1], vec![agent(1, &[1])]));
    w.at(0).arrive_spec(caller(1, 1));
    w.ok(Input::RequestCallback { contact: c(1), number: None });
    w.at(5).arrive(2, 1);
    w.at(10).login(&[1]);
    w.accept(1, 1).ok(Input::CallbackOutcome { contact: c(1), outcome: DialOutcome::NoAnswer });
    assert_eq!(w.offered_to(2), Some(1), "meanwhile the agent serves the next caller");
    w.accept(2, 1);
    w.at(60_010);
    assert!(w.is_waiting(1), "retry re-enters the queue");
    w.at(60_500).hangup(2);
    assert_eq!(w.offered_to(1), Some(1));
    w.accept(1, 1).ok(Input::CallbackOutcome { contact: c(1), outcome: DialOutcome::Busy });
    assert!(w.engine.contact_view(c(1)).is_none(), "second attempt was the last");
    assert!(matches!(
        w.events_named("contact_ended").last(),
        Some(Event::ContactEnded { outcome: Outcome::CallbackFailed, .. })
    ));
}

/// The queue caps outstanding callbacks; beyond, the request is refused
/// and the caller keeps waiting.
#[test]
fn callback_cap() {
    let mut q1 = queue(1, "support");
    q1.callbacks.max_outstanding = Some(1);
    let mut w = World::new(config(vec![q1], vec![agent(1, &[1])]));
    w.at(0).arrive_spec(caller(1, 1)).arrive_spec(caller(2, 1));
    w.ok(Input::RequestCallback { contact: c(1), number: None });
    let err = w.input(Input::RequestCallback { contact: c(2), number: None }).expect_err("cap");
    assert_eq!(err.code(), "callback_refused");
    assert!(w.is_waiting(2));
}

/// The maximum-wait exit may offer a callback instead of hanging up.
#[test]
fn max_wait_converts_to_callback() {
    let mut q1 = queue(1, "support");
    q1.max_wait = Some(Limit { value: 300_000, action: ExitAction::Callback });
    let mut w = World::new(config(vec![q1], vec![agent(1, &[1])]));
    w.at(0).arrive_spec(caller(1, 1)).arrive(2, 1);
    w.at(300_000);
    assert!(w.is_waiting(1), "caller 1 became a callback and keeps waiting");
    assert_eq!(w.engine.contact_view(c(1)).expect("c").channel, Channel::Callback);
    assert!(w.engine.contact_view(c(2)).is_none(), "caller 2 had no number: disconnected");
}

/// A voicemail to return.
fn dial_back(id: u64, queue: u32) -> ContactSpec {
    ContactSpec { channel: Channel::Callback, dial_back: true, ..caller(id, queue) }
}

/// A dial-back contact is a callback from its arrival: accepting it dials
/// the number, a failed dial is retried after the queue's delay (offered
/// again), and after the last attempt it ends as a failed callback.
#[test]
fn dial_back_contact_is_dialled_and_retried() {
    let mut q1 = queue(1, "support");
    q1.callbacks = CallbackPolicy { enabled: true, max_outstanding: None, max_attempts: 2, retry_delay_ms: 60_000 };
    let mut w = World::new(config(vec![q1], vec![agent(1, &[1])]));
    w.login(&[1]).at(0).arrive_spec(dial_back(1, 1));
    assert_eq!(w.engine.queue_view(q(1), w.now).expect("q").callbacks_outstanding, 1);
    assert_eq!(w.offered_to(1), Some(1));
    w.accept(1, 1);
    assert!(w.commands.iter().any(|x| matches!(x, Command::DialCallback { contact, attempt: 1, number, .. }
            if *contact == c(1) && number == "+8613800000001")));
    assert!(w.events_named("contact_answered").is_empty(), "not connected before the customer answers");
    w.at(1_000).ok(Input::CallbackOutcome { contact: c(1), outcome: DialOutcome::Busy });
    assert!(matches!(
        w.events_named("callback_attempt_failed").last(),
        Some(Event::CallbackAttemptFailed { attempt: 1, outcome: DialOutcome::Busy, retry_at: Some(t), .. })
            if *t == Time(61_000)
    ));
    assert_eq!(w.state(1), AgentState::Ready, "the agent is free during the retry delay");
    assert_eq!(w.offered_to(1), None);
    w.at(61_000);
    assert_eq!(w.offered_to(1), Some(1), "offered again after the delay");
    w.accept(1, 1);
    assert!(
        w.commands.iter().any(|x| matches!(x, Command::DialCallback { contact, attempt: 2, .. } if *contact == c(1)))
    );
    w.at(62_000).ok(Input::CallbackOutcome { contact: c(1), outcome: DialOutcome::NoAnswer });
    assert!(w.engine.contact_view(c(1)).is_none(), "the second attempt was the last");
    assert!(matches!(
        w.events_named("contact_ended").last(),
        Some(Event::ContactEnded { outcome: Outcome::CallbackFailed, .. })
    ));
    assert_eq!(w.engine.queue_view(q(1), w.now).expect("q").callbacks_outstanding, 0);
}

/// Answered, a dial-back contact is connected like any callback.
#[test]
fn dial_back_contact_connects() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1])]));
    w.login(&[1]).at(0).arrive_spec(dial_back(1, 1)).accept(1, 1);
    w.at(5_000).ok(Input::CallbackOutcome { contact: c(1), outcome: DialOutcome::Connected });
    assert!(matches!(
        w.events_named("contact_answered").last(),
        Some(Event::ContactAnswered { channel: Channel::Callback, .. })
    ));
    assert_eq!(w.engine.queue_view(q(1), w.now).expect("q").callbacks_outstanding, 0);
}

/// A dial-back contact needs the callback channel and a number.
#[test]
fn dial_back_needs_a_number_and_the_callback_channel() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1])]));
    let voice = ContactSpec { channel: Channel::Voice, ..dial_back(1, 1) };
    assert_eq!(w.input(Input::Arrive { contact: voice }).expect_err("voice").code(), "invalid_state");
    let no_number = ContactSpec { callback_number: None, ..dial_back(2, 1) };
    assert_eq!(w.input(Input::Arrive { contact: no_number }).expect_err("number").code(), "invalid_state");
}
