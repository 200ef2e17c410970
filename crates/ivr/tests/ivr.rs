//! The sample hotline end to end through the interpreter, the survey,
//! spoken numbers, flow JSON and validation, and a property test.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ivr::session::{MAX_STEPS_PER_EVENT, MAX_VISITS};
use ivr::*;
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;

const DAY: u64 = 86_400_000;
const HOUR: u64 = 3_600_000;
/// Monday 2026-11-23, 10:00 in China (02:00 UTC).
const OPEN: u64 = 20_780 * DAY + 2 * HOUR;
/// The same Monday, 21:00 in China.
const CLOSED: u64 = 20_780 * DAY + 13 * HOUR;

/// A call on the sample flow, remembering the ids it must echo.
struct Call {
    s: Session,
    t: u64,
    play: Option<u64>,
    timer: Option<u64>,
    lookup: Option<(u64, String)>,
    last: Vec<Action>,
}

impl Call {
    fn start(now: u64) -> Call {
        Call::with_flow(Flow::sample(), now)
    }

    fn with_flow(flow: Flow, now: u64) -> Call {
        let (s, actions) = Session::start(Arc::new(flow), Context::default(), now);
        let mut c = Call { s, t: now, play: None, timer: None, lookup: None, last: Vec::new() };
        c.absorb(actions);
        c
    }

    fn absorb(&mut self, actions: Vec<Action>) -> Vec<Action> {
        for a in &actions {
            match a {
                Action::Play { id, .. } => self.play = Some(*id),
                Action::StopPlayback => self.play = None,
                Action::StartTimer { id, .. } => self.timer = Some(*id),
                Action::CancelTimer => self.timer = None,
                Action::Lookup { id, url, .. } => self.lookup = Some((*id, url.clone())),
                _ => {}
            }
        }
        self.last = actions.clone();
        actions
    }

    fn send(&mut self, dt: u64, e: IvrEvent) -> Vec<Action> {
        self.t += dt;
        let actions = self.s.handle(self.t, e);
        self.absorb(actions)
    }

    /// The current playback ends.
    fn played(&mut self) -> Vec<Action> {
        let id = self.play.take().expect("something is playing");
        self.send(3_000, IvrEvent::PlaybackDone { id })
    }

    fn key(&mut self, d: char) -> Vec<Action> {
        self.send(300, IvrEvent::Digit(d))
    }

    fn keys(&mut self, ds: &str) -> Vec<Action> {
        ds.chars().flat_map(|d| self.key(d)).collect()
    }

    fn time_out(&mut self) -> Vec<Action> {
        let id = self.timer.take().expect("a timer runs");
        self.send(5_000, IvrEvent::Timeout { id })
    }

    fn answer(&mut self, result: Result<serde_json::Value, String>) -> Vec<Action> {
        let (id, _) = self.lookup.take().expect("a lookup is outstanding");
        self.send(200, IvrEvent::LookupDone { id, result })
    }

    fn outcome(&self, node: &str) -> Outcome {
        self.s.visits().iter().rev().find(|v| v.node.as_str() == node).expect("visited").outcome.clone()
    }

    /// Into the main menu in a language (1 zh, 2 en), its prompt playing.
    fn to_main(lang_key: char) -> Call {
        let mut c = Call::start(OPEN);
        c.played(); // welcome
        c.key(lang_key);
        assert_eq!(c.s.current().map(NodeId::as_str), Some("main"));
        c
    }
}

/// Names of all clips played by these actions.
fn names(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .flat_map(|a| match a {
            Action::Play { sounds, .. } => sounds
                .iter()
                .filter_map(|s| match s {
                    Sound::Clip(c) => Some(c.name.clone()),
                    Sound::Silence { .. } => None,
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

fn langs(actions: &[Action]) -> BTreeSet<Lang> {
    actions
        .iter()
        .flat_map(|a| match a {
            Action::Play { sounds, .. } => {
                sounds.iter().filter_map(|s| if let Sound::Clip(c) = s { Some(c.lang) } else { None }).collect()
            }
            _ => Vec::new(),
        })
        .collect()
}

fn queued(actions: &[Action]) -> Option<(u32, i32, bool, Lang)> {
    actions.iter().find_map(|a| match a {
        Action::Queue { queue, priority, callback, language, .. } => Some((*queue, *priority, *callback, *language)),
        _ => None,
    })
}

fn demo_queue(q: u32) -> bool {
    samples::DEMO_QUEUES.contains(&q)
}

// ---- the sample flow ----

#[test]
fn sample_flow_is_valid_and_round_trips_through_json() {
    let flow = Flow::sample();
    assert_eq!(flow.validate(demo_queue), Vec::<Problem>::new());
    let json = flow.to_json();
    let back = Flow::from_json(&json).unwrap();
    assert_eq!(back, flow);
    // The JSON shape the browser edits.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["nodes"]["main"]["type"], "menu");
    assert_eq!(v["nodes"]["main"]["options"]["4"], "account");
    assert_eq!(v["nodes"]["welcome"]["prompts"][1], json!({"clip": "welcome", "lang": "en"}));
    assert_eq!(
        v["nodes"]["order-status"]["say"][1],
        json!({"clip": "status-{result.status}", "fallback": "status-unknown"})
    );
    assert_eq!(v["calendar"]["days"][0], json!({"day": "mon", "open": "08:00", "close": "20:00"}));
}

#[test]
fn menu_choice_with_barge_in_queues_with_problem_type() {
    let mut c = Call::start(OPEN);
    assert_eq!(names(&c.last), ["welcome", "welcome"]);
    assert_eq!(langs(&c.last), BTreeSet::from([Lang::Zh, Lang::En]));
    assert!(matches!(c.last[0], Action::Play { barge_in: false, .. }));
    let a = c.played();
    assert_eq!(names(&a), ["lang-menu-zh", "lang-menu-en"]);
    assert!(matches!(a[0], Action::Play { barge_in: true, .. }));
    // 1 during the language prompt interrupts it.
    let a = c.key('1');
    assert_eq!(a[0], Action::StopPlayback);
    assert_eq!(names(&a), ["main-menu"]);
    assert_eq!(langs(&a), BTreeSet::from([Lang::Zh]));
    let a = c.played();
    assert!(matches!(a[..], [Action::StartTimer { ms: 5_000, .. }]));
    let a = c.key('2');
    assert_eq!(a[0], Action::CancelTimer);
    assert_eq!(names(&a), ["transferring", "please-hold"]);
    assert!(!c.s.is_finished());
    let a = c.played();
    assert_eq!(queued(&a), Some((2, 0, false, Lang::Zh)));
    let Action::Queue { attributes, .. } = &a[0] else { panic!() };
    assert_eq!(attributes["problem_type"], "support");
    assert_eq!(attributes["language"], "zh");
    assert!(c.s.is_finished());
    let path: Vec<(&str, Outcome)> = c.s.visits().iter().map(|v| (v.node.as_str(), v.outcome.clone())).collect();
    assert_eq!(
        path,
        [
            ("welcome", Outcome::Next),
            ("hours", Outcome::Open),
            ("language", Outcome::Chose('1')),
            ("set-zh", Outcome::Next),
            ("main", Outcome::Chose('2')),
            ("support", Outcome::Next),
            ("queue-support", Outcome::Queued),
        ]
    );
    assert!(c.s.incidents().is_empty());
    // Nothing more after the hand-over.
    assert!(c.key('5').is_empty());
}

#[test]
fn type_ahead_during_the_welcome_skips_both_menus() {
    let mut c = Call::start(OPEN);
    assert!(c.keys("21").is_empty(), "keys during a plain play are only remembered");
    let a = c.played();
    // Language 2 → English, main menu 1 → sales, without hearing either menu.
    assert_eq!(names(&a), ["transferring", "please-hold"]);
    assert_eq!(langs(&a), BTreeSet::from([Lang::En]));
    assert_eq!(queued(&c.played()), Some((1, 0, false, Lang::En)));
    assert_eq!(c.s.attributes()["problem_type"], "sales");
}

#[test]
fn language_switch_changes_the_clip_language() {
    let mut c = Call::to_main('2');
    assert_eq!(c.s.language(), Lang::En);
    assert_eq!(langs(&c.last), BTreeSet::from([Lang::En]));
    let a = c.key('7');
    assert_eq!(names(&a), ["invalid", "main-menu"]);
    assert_eq!(langs(&a), BTreeSet::from([Lang::En]));
    let mut c = Call::to_main('1');
    assert_eq!(c.s.language(), Lang::Zh);
    assert_eq!(langs(&c.key('4')), BTreeSet::from([Lang::Zh]));
}

#[test]
fn timeouts_reprompt_then_take_the_failure_path() {
    let mut c = Call::to_main('2');
    c.played();
    let a = c.time_out();
    assert_eq!(names(&a), ["timeout", "main-menu"]);
    c.played();
    assert_eq!(names(&c.time_out()), ["timeout", "main-menu"]);
    c.played();
    // Third silence: the two retries are used up → operator → support queue.
    let a = c.time_out();
    assert_eq!(names(&a), ["transferring", "please-hold"]);
    let main = c.s.visits().iter().find(|v| v.node.as_str() == "main").unwrap();
    assert_eq!((main.outcome.clone(), main.timeouts, main.invalid), (Outcome::Failed(Failure::Timeout), 3, 0));
    assert_eq!(queued(&c.played()).map(|q| q.0), Some(2));
    assert_eq!(c.s.attributes()["problem_type"], "ivr-no-choice");
}

#[test]
fn language_menu_silence_defaults_to_chinese() {
    let mut c = Call::start(OPEN);
    c.played();
    c.played();
    let a = c.time_out();
    assert_eq!(names(&a), ["lang-menu-zh", "lang-menu-en"], "no timeout prompt configured: just repeat");
    c.played();
    let a = c.time_out();
    assert_eq!(names(&a), ["main-menu"]);
    assert_eq!(c.s.language(), Lang::Zh);
    assert_eq!(c.outcome("language"), Outcome::Failed(Failure::Timeout));
}

#[test]
fn invalid_key_reprompts_and_counts() {
    let mut c = Call::to_main('1');
    c.played();
    let a = c.key('8');
    assert_eq!(a[0], Action::CancelTimer);
    assert_eq!(names(&a), ["invalid", "main-menu"]);
    // The repeated prompt can be interrupted too.
    let a = c.key('3');
    assert_eq!(a[0], Action::StopPlayback);
    let main = c.s.visits().iter().find(|v| v.node.as_str() == "main").unwrap();
    assert_eq!((main.outcome.clone(), main.invalid), (Outcome::Chose('3'), 1));
    // Three wrong keys in a row: failure path.
    let mut c = Call::to_main('1');
    c.keys("777");
    assert_eq!(c.outcome("main"), Outcome::Failed(Failure::Invalid));
    assert_eq!(c.s.current().map(NodeId::as_str), Some("queue-support"));
}

#[test]
fn repeat_option_replays_the_menu() {
    let mut c = Call::to_main('1');
    let a = c.key('0');
    assert_eq!(names(&a), ["main-menu"]);
    assert_eq!(c.outcome("main"), Outcome::Chose('0'));
    assert_eq!(c.s.visits().iter().filter(|v| v.node.as_str() == "main").count(), 1);
    assert_eq!(c.s.current().map(NodeId::as_str), Some("main"));
}

#[test]
fn order_status_lookup_success() {
    let mut c = Call::to_main('2');
    assert_eq!(names(&c.key('4')), ["enter-account"]);
    c.keys("1234");
    assert!(c.s.current().is_some_and(|n| n.as_str() == "account"), "no terminator yet");
    let a = c.keys("567#");
    let (_, url) = c.lookup.clone().unwrap();
    assert_eq!(url, format!("{}?account=1234567", samples::SAMPLE_ORDER_URL));
    assert!(a.iter().any(|x| matches!(x, Action::Lookup { timeout_ms: 3_000, .. })));
    assert!(a.iter().any(|x| matches!(x, Action::StartTimer { ms: 5_000, .. })), "guard timer");
    assert_eq!(c.s.attributes()["account"], "1234567");
    let a = c.answer(Ok(json!({"status": "shipped", "days": 3})));
    assert_eq!(a[0], Action::CancelTimer);
    assert_eq!(names(&a), ["order-status-is", "status-shipped", "expected-in", "n-3", "days"]);
    assert!(
        matches!(&a[1], Action::Play { sounds, barge_in: false, .. } if sounds.last() == Some(&Sound::Silence { ms: 500 }))
    );
    assert_eq!(c.s.attributes()["order_status"], "shipped");
    assert_eq!(c.s.lookup_result().unwrap()["days"], 3);
    let a = c.played();
    assert_eq!(names(&a), ["main-menu"]);
    assert_eq!(c.outcome("order-status"), Outcome::Found);

    // Delivered: no days, so no "expected in"; one day is singular.
    let mut c = Call::to_main('2');
    c.key('4');
    c.keys("9876#");
    assert_eq!(names(&c.answer(Ok(json!({"status": "delivered"}))))[1..], ["status-delivered"]);
    let mut c = Call::to_main('2');
    c.key('4');
    c.keys("9876#");
    assert_eq!(names(&c.answer(Ok(json!({"status": "processing", "days": 1}))))[3..], ["n-1", "day"]);
    // A status without a clip falls back to "unknown".
    let mut c = Call::to_main('1');
    c.key('4');
    c.keys("9876#");
    assert_eq!(names(&c.answer(Ok(json!({"status": "lost-in-space"}))))[1..], ["status-unknown"]);
    assert!(c.s.incidents().is_empty(), "a fallback is not an incident");
}

#[test]
fn order_status_lookup_failures() {
    // An error answer.
    let mut c = Call::to_main('1');
    c.key('4');
    c.keys("4242#");
    let a = c.answer(Err("HTTP 500".into()));
    assert_eq!(names(&a), ["lookup-failed"]);
    assert_eq!(c.outcome("order-status"), Outcome::LookupFailed);
    assert_eq!(names(&c.played()), ["main-menu"]);

    // Not an object: failure and an incident for the administrator.
    let mut c = Call::to_main('1');
    c.key('4');
    c.keys("4242#");
    assert_eq!(names(&c.answer(Ok(json!([1, 2])))), ["lookup-failed"]);
    assert_eq!(c.s.incidents().len(), 1);

    // No answer at all: the guard timer fails it; a late answer is ignored.
    let mut c = Call::to_main('1');
    c.key('4');
    c.keys("4242#");
    let (late_id, _) = c.lookup.clone().unwrap();
    assert_eq!(names(&c.time_out()), ["lookup-failed"]);
    let a = c.send(100, IvrEvent::LookupDone { id: late_id, result: Ok(json!({"status": "shipped"})) });
    assert!(a.is_empty());
    assert!(!c.s.attributes().contains_key("order_status"));
}

#[test]
fn keys_during_the_lookup_are_type_ahead() {
    let mut c = Call::to_main('2');
    c.key('4');
    c.keys("4242#");
    c.key('1'); // while the lookup runs
    c.answer(Ok(json!({"status": "shipped", "days": 2})));
    let a = c.played();
    // Main menu answered by the buffered 1: sales.
    assert_eq!(names(&a), ["transferring", "please-hold"]);
}

#[test]
fn collect_rules() {
    // Too short with the terminator: invalid, re-prompt.
    let mut c = Call::to_main('2');
    c.key('4');
    let a = c.keys("12#");
    assert_eq!(names(&a), ["invalid", "enter-account"]);
    // Silence after enough digits accepts them.
    c.keys("55555");
    let a = c.time_out();
    assert!(a.iter().any(|x| matches!(x, Action::Lookup { .. })));
    assert_eq!(c.s.attributes()["account"], "55555");
    let v = c.s.visits().iter().find(|v| v.node.as_str() == "account").unwrap();
    assert_eq!((v.outcome.clone(), v.invalid), (Outcome::Collected, 1));

    // Reaching max_digits (12) ends the entry without a terminator.
    let mut c = Call::to_main('2');
    c.key('4');
    c.keys("123456789012");
    assert_eq!(c.s.attributes()["account"], "123456789012");
    assert!(c.lookup.is_some());

    // Star is not a digit; three failures go back to the main menu.
    let mut c = Call::to_main('2');
    c.key('4');
    assert_eq!(names(&c.key('*')), ["invalid", "enter-account"]);
    c.played();
    assert_eq!(names(&c.time_out()), ["timeout", "enter-account"]);
    c.keys("12");
    let a = c.time_out();
    assert_eq!(names(&a), ["main-menu"]);
    let v = c.s.visits().iter().find(|v| v.node.as_str() == "account").unwrap();
    assert_eq!((v.outcome.clone(), v.timeouts, v.invalid), (Outcome::Failed(Failure::Timeout), 2, 1));
}

#[test]
fn callback_offer() {
    let mut c = Call::to_main('1');
    assert_eq!(names(&c.key('9')), ["callback-offer"]);
    let a = c.key('1');
    assert_eq!(names(&a), ["callback-confirmed", "goodbye"]);
    assert_eq!(queued(&c.played()), Some((2, 0, true, Lang::Zh)));
    assert_eq!(c.s.attributes()["problem_type"], "callback");
    assert_eq!(c.outcome("callback"), Outcome::Accepted);

    let mut c = Call::to_main('1');
    c.key('9');
    assert_eq!(names(&c.key('5')), ["main-menu"]);
    assert_eq!(c.outcome("callback"), Outcome::Declined);

    let mut c = Call::to_main('1');
    c.key('9');
    c.played();
    assert_eq!(names(&c.time_out()), ["main-menu"]);
    assert_eq!(c.outcome("callback"), Outcome::Declined);
}

#[test]
fn closed_hours_take_a_voicemail() {
    let mut c = Call::start(CLOSED);
    let a = c.played();
    assert_eq!(names(&a), ["closed", "closed"]);
    assert_eq!(c.outcome("hours"), Outcome::Closed);
    assert_eq!(names(&c.played()), ["voicemail-prompt", "voicemail-prompt"]);
    let a = c.played();
    assert_eq!(a, [Action::Voicemail { max_seconds: 120, queue: Some(2) }]);
    // Keys during the recording are the voice layer's business.
    assert!(c.key('#').is_empty());
    assert_eq!(names(&c.send(60_000, IvrEvent::VoicemailDone)), ["voicemail-thanks", "voicemail-thanks"]);
    assert_eq!(c.played(), [Action::Hangup]);
    assert!(c.s.is_finished());
    assert_eq!(c.outcome("voicemail"), Outcome::Recorded);
    assert_eq!(c.outcome("voicemail-thanks"), Outcome::Ended);

    // The flow's calendar wins over the session's; without one, the context's decides.
    let mut flow = Flow::sample();
    flow.calendar = None;
    let ctx = Context { calendar: Some(Calendar { days: vec![], ..Calendar::default() }), ..Context::default() };
    let (mut s, a) = Session::start(Arc::new(flow.clone()), ctx, OPEN);
    let Action::Play { id, .. } = a[0] else { panic!() };
    assert_eq!(names(&s.handle(OPEN + 1, IvrEvent::PlaybackDone { id })), ["closed", "closed"]);
    let (mut s, a) = Session::start(Arc::new(flow), Context::default(), CLOSED);
    let Action::Play { id, .. } = a[0] else { panic!() };
    assert_eq!(
        names(&s.handle(CLOSED + 1, IvrEvent::PlaybackDone { id })),
        ["lang-menu-zh", "lang-menu-en"],
        "no calendar: open"
    );
}

#[test]
fn caller_hang_up_marks_the_node_dropped() {
    let mut c = Call::to_main('2');
    c.played();
    assert!(c.send(1_000, IvrEvent::CallerHungUp).is_empty());
    assert!(c.s.is_finished());
    let last = c.s.visits().last().unwrap();
    assert_eq!((last.node.as_str(), last.outcome.clone()), ("main", Outcome::Dropped));
    assert_eq!(last.left_ms, c.t);
    assert!(c.key('1').is_empty());
    assert!(c.send(10, IvrEvent::Timeout { id: c.timer.unwrap() }).is_empty());
    assert!(c.send(10, IvrEvent::CallerHungUp).is_empty());
    assert_eq!(c.s.visits().len(), 5, "no second drop");
}

#[test]
fn stale_events_are_harmless() {
    let mut c = Call::to_main('1');
    let menu_play = c.play.unwrap();
    c.played();
    let stale_timer = c.timer.unwrap();
    // A wrong key: the timer is cancelled and the prompt replayed…
    c.key('7');
    // …and the old timer firing anyway (it raced the key) changes nothing.
    assert!(c.send(1, IvrEvent::Timeout { id: stale_timer }).is_empty());
    assert!(c.send(1, IvrEvent::PlaybackDone { id: menu_play }).is_empty());
    assert!(c.send(1, IvrEvent::Timeout { id: 999_999 }).is_empty());
    assert!(c.send(1, IvrEvent::LookupDone { id: 1, result: Ok(json!({})) }).is_empty());
    assert!(c.send(1, IvrEvent::VoicemailDone).is_empty());
    assert_eq!(c.s.visits().iter().filter(|v| v.node.as_str() == "main").count(), 0);
    // Barge-in: the stopped prompt's PlaybackDone arrives after the next play began.
    let stopped = c.play.unwrap();
    let a = c.key('3');
    assert_eq!(a[0], Action::StopPlayback);
    assert!(c.send(1, IvrEvent::PlaybackDone { id: stopped }).is_empty());
    assert!(c.play.is_some());
    assert_eq!(queued(&c.played()).map(|q| q.0), Some(3));
    // Characters that are not phone keys are ignored.
    let mut c = Call::to_main('1');
    assert!(c.key('x').is_empty());
}

#[test]
fn a_spinning_flow_is_cut_off() {
    let flow = Flow::from_json(
        r#"{"name":"spin","version":1,"start":"a","nodes":{
            "a":{"type":"set","attributes":{"x":"1"},"next":"b"},
            "b":{"type":"play","prompts":[],"next":"a"}}}"#,
    )
    .unwrap();
    let problems = flow.validate(|_| true);
    assert!(problems.iter().any(|p| matches!(&p.kind, ProblemKind::InputFreeCycle { nodes } if nodes.len() == 2)));
    let c = Call::with_flow(flow, 0);
    assert_eq!(c.last.last(), Some(&Action::Hangup));
    assert!(c.s.is_finished());
    assert_eq!(c.s.visits().len(), MAX_STEPS_PER_EVENT);
    assert_eq!(c.s.visits().last().unwrap().outcome, Outcome::Aborted);
    assert_eq!(c.s.incidents().len(), 1);

    // A menu whose failure path is itself never spins on one event, but a
    // silent line must still end.
    let flow = Flow::from_json(
        r#"{"name":"silent","version":1,"start":"m","nodes":{
            "m":{"type":"menu","prompt":[],"options":{"1":"q"},"retries":0,"on_failure":"m"},
            "q":{"type":"queue","queue":1}}}"#,
    )
    .unwrap();
    assert!(flow.validate(|_| true).is_empty());
    let mut c = Call::with_flow(flow, 0);
    let mut n = 0;
    while !c.s.is_finished() {
        c.time_out();
        n += 1;
        assert!(n <= MAX_VISITS);
    }
    assert_eq!(c.s.visits().len(), MAX_VISITS);
    assert_eq!(c.last.last(), Some(&Action::Hangup));

    // A next pointing nowhere (unvalidated flow) ends the call too.
    let flow = Flow::from_json(
        r#"{"name":"hole","version":1,"start":"a","nodes":{"a":{"type":"play","prompts":[{"clip":"welcome"}],"next":"b"}}}"#,
    )
    .unwrap();
    let mut c = Call::with_flow(flow, 0);
    assert_eq!(c.played(), [Action::Hangup]);
    assert!(c.s.incidents()[0].message.contains("`b`"));
}

#[test]
fn visits_feed_node_statistics() {
    let mut stats = FlowStats::new("hotline", 1);
    let mut c = Call::to_main('1');
    c.key('3');
    c.played();
    stats.fold(c.s.visits());
    let mut c = Call::to_main('2');
    c.played();
    c.time_out();
    c.send(2_000, IvrEvent::CallerHungUp);
    stats.fold(c.s.visits());
    let main = &stats.nodes["main"];
    assert_eq!((main.entered, main.completed, main.dropped, main.timeouts), (2, 1, 1, 1));
    assert_eq!(main.choices["3"], 1);
    assert_eq!(stats.nodes["language"].choices.len(), 2);
    assert!(stats.nodes["welcome"].mean_ms > 0.0);
    assert_eq!(stats.calls, 2);
}

// ---- flow JSON and validation ----

#[test]
fn json_errors_are_clear() {
    let err = Flow::from_json("{\"name\": \"x\",").unwrap_err();
    assert!(matches!(err, FlowError::Json { line: 1, .. }), "{err}");
    let err = Flow::from_json(r#"{"name":"x","version":1,"start":"a","nodes":{},"colour":"red"}"#).unwrap_err();
    assert!(err.to_string().contains("colour"), "{err}");
    let err = Flow::from_json(
        r#"{"name":"x","version":1,"start":"a","nodes":{"a":{"type":"hangup","prompts":[],"nxt":"b"}}}"#,
    )
    .unwrap_err();
    assert_eq!(err, FlowError::Node { node: "a".into(), message: err.to_string()["node `a`: ".len()..].into() });
    assert!(err.to_string().contains("nxt"), "{err}");
    let err = Flow::from_json(r#"{"name":"x","version":1,"start":"a","nodes":{"a":{"type":"dance"}}}"#).unwrap_err();
    assert!(err.to_string().starts_with("node `a`") && err.to_string().contains("dance"), "{err}");
    let err = Flow::from_json(r#"{"name":"x","version":1,"start":"a","nodes":{"a":{"type":"play","prompts":[]}}}"#)
        .unwrap_err();
    assert!(err.to_string().contains("`next`"), "{err}");
    let err = Flow::from_json(
        r#"{"name":"x","version":1,"start":"a","nodes":{"a":{"type":"play","prompts":[{"clip":"welcome","number":"3"}],"next":"a"}}}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("exactly one of clip"), "{err}");
    let err = Flow::from_json(
        r#"{"name":"x","version":1,"start":"a","nodes":{"a":{"type":"menu","prompt":[],"options":{"1":"a","1":"b"},"on_failure":"a"}}}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("\"1\" appears twice"), "{err}");
    let err = Flow::from_json(
        r#"{"name":"x","version":1,"start":"a","nodes":{"a":{"type":"hangup"},"a":{"type":"hangup"}}}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("appears twice"), "{err}");
    let err = Flow::from_json(
        r#"{"name":"x","version":1,"start":"a","calendar":{"days":[{"day":"mon","open":"8am","close":"20:00"}]},"nodes":{}}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("HH:MM"), "{err}");
}

fn kinds(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(|p| serde_json::to_value(p).unwrap()["kind"].as_str().unwrap().to_string()).collect()
}

#[test]
fn validation_reports_every_problem_at_once() {
    let flow = Flow::from_json(
        r#"{
        "name": "broken", "version": 2, "start": "welcome",
        "calendar": {"days": [{"day": "sun", "open": "18:00", "close": "09:00"}]},
        "nodes": {
          "welcome": {"type": "play", "prompts": [{"clip": "welcom"}, {"digits": "{account"}], "next": "main"},
          "main": {"type": "menu", "prompt": [{"clip": "main-menu"}],
                   "options": {"1": "sales", "5": "nowhere", "12": "sales", "x": "sales"},
                   "timeout_ms": 0, "on_failure": "bye"},
          "sales": {"type": "queue", "queue": 42},
          "acct": {"type": "collect", "prompt": [], "attribute": " ", "min_digits": 6, "max_digits": 4,
                   "terminator": "5", "next": "main", "on_failure": "main"},
          "lang": {"type": "set", "attributes": {"language": "fr"}, "next": "look"},
          "look": {"type": "lookup", "url": "", "say": [{"number": "{result.n}", "unit": "parsec"}],
                   "next": "lang", "on_failure": "bye"},
          "cb": {"type": "callback_offer", "prompt": [], "accept_digit": "A", "accepted": "sales", "declined": "bye"},
          "vm": {"type": "voicemail", "prompt": [], "max_seconds": 0, "queue": 77},
          "xfer": {"type": "transfer", "to": {"sip": "desk@example.com"}},
          "empty": {"type": "menu", "prompt": [], "options": {}, "on_failure": "bye"},
          "bye": {"type": "hangup", "prompts": [{"clip": "goodbye"}, {"clip": "status-{result.s}", "fallback": "nope"}]}
        }}"#,
    )
    .unwrap();
    let problems = flow.validate(demo_queue);
    let got: BTreeSet<String> = kinds(&problems).into_iter().collect();
    for kind in [
        "dangling_target",
        "unreachable",
        "invalid_digit",
        "no_options",
        "digit_range",
        "bad_terminator",
        "empty_attribute",
        "input_free_cycle",
        "unknown_clip",
        "bad_template",
        "bad_url",
        "unknown_queue",
        "bad_language",
        "zero",
        "bad_transfer",
        "bad_calendar",
    ] {
        assert!(got.contains(kind), "{kind} missing from {problems:#?}");
    }
    let msgs: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let has = |s: &str| msgs.iter().any(|m| m.contains(s));
    assert!(has("`main`: options.5 leads to `nowhere`"), "{msgs:#?}");
    assert!(has("key \"12\" is not a phone key"));
    assert!(has("key \"x\" is not a phone key"));
    assert!(has("`acct`: no path from the start"));
    assert!(has("clip \"welcom\" is not in the prompt catalog"));
    assert!(has("clip \"parsecs\""));
    assert!(has("clip \"nope\""));
    assert!(has("queue 42 does not exist"));
    assert!(has("queue 77 does not exist"));
    assert!(has("the cycle `lang` → `look`") || has("the cycle `look` → `lang`"));
    // Missing start on its own.
    let mut f = Flow::sample();
    f.start = NodeId::new("nope");
    let kinds = kinds(&f.validate(demo_queue));
    assert!(kinds.contains(&"missing_start".to_string()));
    assert!(kinds.iter().filter(|k| *k == "unreachable").count() == f.nodes.len());
    // Problems serialise for the browser with a message.
    for p in &problems {
        let text = serde_json::to_string(p).unwrap();
        assert_eq!(text.matches("\"message\"").count(), 1, "{text}");
        assert_eq!(serde_json::to_value(p).unwrap()["message"], p.to_string());
    }
}

#[test]
fn validation_of_single_mistakes() {
    let check = |edit: &dyn Fn(&mut Flow), kind: &str| {
        let mut f = Flow::sample();
        edit(&mut f);
        let got = kinds(&f.validate(demo_queue));
        assert_eq!(got, [kind], "{:#?}", f.validate(demo_queue));
    };
    check(
        &|f| {
            f.nodes
                .get_mut("queue-sales")
                .map(|n| *n = Node::Queue { queue: 9, priority: None, callback: false, prompts: vec![] })
                .unwrap()
        },
        "unknown_queue",
    );
    check(
        &|f| {
            if let Some(Node::Lookup { url, .. }) = f.nodes.get_mut("order-status") {
                *url = "ftp://x".into();
            }
        },
        "bad_url",
    );
    check(
        &|f| {
            if let Some(Node::Menu { options, .. }) = f.nodes.get_mut("main") {
                options.insert("A".into(), NodeId::new("sales"));
            }
        },
        "invalid_digit",
    );
    check(
        &|f| {
            f.nodes.insert(NodeId::new("orphan"), Node::Hangup { prompts: vec![] });
        },
        "unreachable",
    );
}

#[test]
fn actions_serialise_for_logs_and_sessions_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Session>();
    send_sync::<SurveySession>();
    let a = Action::Transfer { to: TransferTarget::Sip("sip:desk@example.com".into()) };
    assert_eq!(serde_json::to_value(&a).unwrap(), json!({"action": "transfer", "to": {"sip": "sip:desk@example.com"}}));
    let c = Call::start(OPEN);
    let v = serde_json::to_value(&c.last[0]).unwrap();
    assert_eq!(v["action"], "play");
    assert_eq!(v["sounds"][0], json!({"clip": {"lang": "zh", "name": "welcome"}}));
    assert_eq!(serde_json::to_value(Action::Hangup).unwrap(), json!({"action": "hangup"}));
}

#[test]
fn transfer_node() {
    let flow = Flow::from_json(
        r#"{"name":"t","version":1,"start":"x","language":"en","nodes":{
            "x":{"type":"transfer","to":{"agent":"alice"},"prompts":[{"clip":"transferring"},{"silence_ms":300}]}}}"#,
    )
    .unwrap();
    assert!(flow.validate(|_| true).is_empty());
    let mut c = Call::with_flow(flow, 0);
    assert!(matches!(&c.last[0], Action::Play { sounds, .. } if sounds[1] == Sound::Silence { ms: 300 }));
    assert_eq!(c.played(), [Action::Transfer { to: TransferTarget::Agent("alice".into()) }]);
    // The IVR waits for the voice layer's verdict; keys meanwhile do nothing.
    assert!(!c.s.is_finished());
    assert!(c.key('1').is_empty());
    assert!(c.send(100, IvrEvent::Transferred).is_empty());
    assert!(c.s.is_finished());
    assert_eq!(c.outcome("x"), Outcome::Transferred);
    assert!(c.send(100, IvrEvent::TransferFailed { reason: "late".into() }).is_empty(), "stale verdict");
}

fn failing_transfer(on_fail: &str) -> Call {
    let flow = Flow::from_json(&format!(
        r#"{{"name":"t","version":1,"start":"x","language":"en","nodes":{{
            "x":{{"type":"transfer","to":{{"sip":"sip:desk@example.com"}}{on_fail}}},
            "sorry":{{"type":"hangup","prompts":[{{"clip":"goodbye"}}]}}}}}}"#
    ))
    .unwrap();
    let c = Call::with_flow(flow, 0);
    assert_eq!(c.last, [Action::Transfer { to: TransferTarget::Sip("sip:desk@example.com".into()) }]);
    c
}

#[test]
fn a_failed_transfer_takes_the_failure_branch() {
    let mut c = failing_transfer(r#","on_fail":"sorry""#);
    let a = c.send(20_000, IvrEvent::TransferFailed { reason: "busy".into() });
    assert_eq!(names(&a), ["goodbye"]);
    assert_eq!(c.outcome("x"), Outcome::TransferFailed);
    assert_eq!(c.outcome("x").label(), "transfer_failed");
    assert_eq!(c.s.incidents()[0].message, "transfer failed: busy");
    assert_eq!(c.played(), [Action::Hangup]);
    let mut stats = FlowStats::new("t", 1);
    stats.fold(c.s.visits());
    assert_eq!(stats.nodes["x"].failed, 1);
    assert_eq!(stats.nodes["x"].outcomes["transfer_failed"], 1);
}

#[test]
fn a_failed_transfer_without_a_branch_apologises_and_hangs_up() {
    let mut c = failing_transfer("");
    let a = c.send(20_000, IvrEvent::TransferFailed { reason: "no-answer".into() });
    assert_eq!(names(&a), ["transfer-failed", "goodbye"]);
    assert!(!c.s.is_finished());
    assert_eq!(c.played(), [Action::Hangup]);
    assert!(c.s.is_finished());
    assert_eq!(c.outcome("x"), Outcome::TransferFailed);
    // The caller hanging up while the transfer rings drops the node.
    let mut c = failing_transfer("");
    c.send(1_000, IvrEvent::CallerHungUp);
    assert_eq!(c.outcome("x"), Outcome::Dropped);
}

// ---- the survey ----

fn survey() -> (SurveySession, Vec<Action>) {
    SurveySession::start(Arc::new(SurveySpec::sample()), Lang::En, 0)
}

fn play_id(actions: &[Action]) -> u64 {
    actions.iter().find_map(|a| if let Action::Play { id, .. } = a { Some(*id) } else { None }).unwrap()
}

fn timer_id(actions: &[Action]) -> u64 {
    actions.iter().find_map(|a| if let Action::StartTimer { id, .. } = a { Some(*id) } else { None }).unwrap()
}

#[test]
fn survey_answers_in_order() {
    assert!(SurveySpec::sample().validate().is_empty());
    let (mut s, a) = survey();
    assert_eq!(names(&a), ["survey-intro"]);
    let a = s.handle(1, IvrEvent::PlaybackDone { id: play_id(&a) });
    assert_eq!(names(&a), ["survey-q1"]);
    assert!(matches!(a[0], Action::Play { barge_in: true, .. }));
    let a = s.handle(2, IvrEvent::Digit('4'));
    assert_eq!(a[0], Action::StopPlayback);
    assert_eq!(a[1], Action::Answer { question: "agent".into(), score: Some(4) });
    assert_eq!(names(&a), ["survey-q2"]);
    let a = s.handle(3, IvrEvent::Digit('1'));
    assert_eq!(a[1], Action::Answer { question: "solved".into(), score: Some(1) });
    assert_eq!(names(&a), ["survey-thanks"]);
    assert!(s.handle(4, IvrEvent::Digit('1')).is_empty(), "keys during thanks are ignored");
    assert_eq!(s.handle(5, IvrEvent::PlaybackDone { id: play_id(&a) }), [Action::Hangup]);
    assert!(s.is_finished());
    assert_eq!(s.answers().iter().map(|a| a.score).collect::<Vec<_>>(), [Some(4), Some(1)]);
}

#[test]
fn survey_invalid_timeouts_and_type_ahead() {
    let (mut s, a) = survey();
    // 5 typed during the intro answers question 1.
    assert!(s.handle(1, IvrEvent::Digit('5')).is_empty());
    let a = s.handle(2, IvrEvent::PlaybackDone { id: play_id(&a) });
    assert_eq!(a[0], Action::Answer { question: "agent".into(), score: Some(5) });
    // Question 2 takes 1–2: 3 is invalid and re-asks.
    let a = s.handle(3, IvrEvent::Digit('3'));
    assert_eq!(names(&a), ["invalid", "survey-q2"]);
    let a = s.handle(4, IvrEvent::PlaybackDone { id: play_id(&a) });
    // Silence on the last retry: skipped.
    let a = s.handle(10_000, IvrEvent::Timeout { id: timer_id(&a) });
    assert_eq!(a[0], Action::Answer { question: "solved".into(), score: None });
    assert_eq!(names(&a), ["survey-thanks"]);

    // A stale timer, then hang-up mid-survey.
    let (mut s, a) = survey();
    let a = s.handle(1, IvrEvent::PlaybackDone { id: play_id(&a) });
    let a = s.handle(2, IvrEvent::PlaybackDone { id: play_id(&a) });
    let old = timer_id(&a);
    let a = s.handle(3, IvrEvent::Timeout { id: old });
    assert_eq!(names(&a), ["timeout", "survey-q1"]);
    assert!(s.handle(4, IvrEvent::Timeout { id: old }).is_empty());
    assert!(s.handle(5, IvrEvent::CallerHungUp).is_empty());
    assert!(s.is_finished() && s.answers().is_empty());
    assert!(s.handle(6, IvrEvent::Digit('1')).is_empty());

    // Disabled: hang up at once.
    let spec = SurveySpec { enabled: false, ..SurveySpec::sample() };
    let (s, a) = SurveySession::start(Arc::new(spec), Lang::Zh, 0);
    assert_eq!(a, [Action::Hangup]);
    assert!(s.is_finished());
}

#[test]
fn survey_validation_and_cooldown() {
    let spec: SurveySpec = serde_json::from_value(json!({
        "enabled": true,
        "questions": [
            {"id": "q", "prompt": [{"clip": "survey-q1"}]},
            {"id": "q", "prompt": [{"clip": "nope"}], "min": 4, "max": 2},
            {"id": "r", "prompt": [], "max": 10}
        ],
        "timeout_ms": 0
    }))
    .unwrap();
    assert_eq!(spec.questions[0].max, 5);
    let got = kinds(&spec.validate());
    for k in ["duplicate_question", "score_range", "unknown_clip", "zero"] {
        assert!(got.contains(&k.to_string()), "{k}: {got:?}");
    }
    assert_eq!(got.iter().filter(|k| *k == "score_range").count(), 2);
    assert_eq!(kinds(&SurveySpec { questions: vec![], ..SurveySpec::sample() }.validate()), ["no_questions"]);
    assert!(serde_json::from_value::<SurveySpec>(json!({"questions": [], "colour": 1})).is_err());
    let spec = SurveySpec::sample();
    let now = 100 * DAY;
    assert!(due(None, now, spec.cooldown_days));
    assert!(!due(Some(now - 29 * DAY), now, spec.cooldown_days));
    assert!(due(Some(now - 30 * DAY), now, spec.cooldown_days));
}

// ---- spoken numbers ----

fn say(n: u64, lang: Lang) -> String {
    let clips = speak::number(n, lang);
    let words: Vec<&str> = clips.iter().map(|c| prompts::lookup(&c.name).expect("in the catalog").text(lang)).collect();
    match lang {
        Lang::Zh => words.concat(),
        Lang::En => words.join(" "),
    }
}

#[test]
fn chinese_numbers() {
    for (n, text) in [
        (0, "零"),
        (1, "一"),
        (2, "二"),
        (10, "十"),
        (11, "十一"),
        (15, "十五"),
        (20, "二十"),
        (22, "二十二"),
        (99, "九十九"),
        (100, "一百"),
        (101, "一百零一"),
        (105, "一百零五"),
        (110, "一百一十"),
        (115, "一百一十五"),
        (123, "一百二十三"),
        (200, "两百"),
        (222, "两百二十二"),
        (1_000, "一千"),
        (1_005, "一千零五"),
        (1_010, "一千零一十"),
        (1_200, "一千二百"),
        (2_000, "两千"),
        (2_002, "两千零二"),
        (10_000, "一万"),
        (10_005, "一万零五"),
        (10_100, "一万零一百"),
        (11_000, "一万一千"),
        (20_000, "两万"),
        (100_000, "十万"),
        (100_010, "十万零一十"),
        (150_000, "十五万"),
        (1_000_000, "一百万"),
        (12_345_678, "一千二百三十四万五千六百七十八"),
        (100_000_000, "一亿"),
        (100_000_005, "一亿零五"),
        (100_010_000, "一亿零一万"),
        (200_000_000, "两亿"),
        (1_000_000_000_000, "一万亿"),
    ] {
        assert_eq!(say(n, Lang::Zh), text, "{n}");
    }
    assert_eq!(say(12_345_678_901_234_567, Lang::Zh), "一二三四五六七八九零一二三四五六七", "too long: digit by digit");
}

#[test]
fn english_numbers() {
    for (n, text) in [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (20, "twenty"),
        (42, "forty two"),
        (100, "one hundred"),
        (105, "one hundred five"),
        (123, "one hundred twenty three"),
        (1_000, "one thousand"),
        (1_005, "one thousand five"),
        (12_345, "twelve thousand three hundred forty five"),
        (1_000_000, "one million"),
        (2_000_017, "two million seventeen"),
        (3_000_000_000, "three billion"),
        (4_000_000_000_001, "four trillion one"),
    ] {
        assert_eq!(say(n, Lang::En), text, "{n}");
    }
}

#[test]
fn digits_durations_and_positions() {
    let text = |clips: Vec<Clip>, lang: Lang| -> String {
        let words: Vec<&str> = clips.iter().map(|c| prompts::lookup(&c.name).unwrap().text(lang)).collect();
        if lang == Lang::Zh { words.concat() } else { words.join(" ") }
    };
    assert_eq!(text(speak::digits("10#5*", Lang::Zh), Lang::Zh), "幺零井号五星号");
    assert_eq!(text(speak::digits("10-5", Lang::En), Lang::En), "one zero five");
    assert_eq!(text(speak::expected_wait(125, Lang::En), Lang::En), "Your expected wait is about two minutes");
    assert_eq!(text(speak::expected_wait(125, Lang::Zh), Lang::Zh), "预计等待时间大约为两分钟");
    assert_eq!(text(speak::duration(60, Lang::En), Lang::En), "one minute");
    assert_eq!(text(speak::duration(45, Lang::En), Lang::En), "fifty seconds");
    assert_eq!(text(speak::duration(22 * 60, Lang::Zh), Lang::Zh), "二十分钟");
    assert_eq!(text(speak::position(3, Lang::En), Lang::En), "You are caller number three in the queue.");
    assert_eq!(text(speak::position(2, Lang::Zh), Lang::Zh), "您是第二位等候的来电。");
    assert_eq!(text(speak::quantity(2, "day", Lang::Zh), Lang::Zh), "两天");
    assert_eq!(
        text(speak::queue_update(Some(4), Some(300), Lang::En), Lang::En),
        "You are caller number four in the queue. Your expected wait is about five minutes"
    );
    assert_eq!(text(speak::queue_update(None, Some(20), Lang::Zh), Lang::Zh), "预计等待时间大约为二十秒");
    assert_eq!(speak::queue_update(None, None, Lang::Zh), [Clip::new(Lang::Zh, "please-hold")]);
}

#[test]
fn every_clip_spoken_is_in_the_catalog() {
    let mut all = Vec::new();
    let mut ns: Vec<u64> = (0..=2_000).chain((0..60).map(|p| 1u64 << p)).collect();
    ns.extend([u64::MAX, 9_999_999_999_999_999, 10_000_000_000_000_000, 999_999_999_999_999, 1_000_000_000_000_000]);
    for lang in [Lang::Zh, Lang::En] {
        for &n in &ns {
            all.extend(speak::number(n, lang));
            all.extend(speak::position(n, lang));
            all.extend(speak::duration(n % 100_000, lang));
            all.extend(speak::expected_wait(n % 10_000, lang));
            all.extend(speak::queue_update(Some(n), Some(n), lang));
            for unit in ["day", "minute", "second", "hour"] {
                all.extend(speak::quantity(n % 50, unit, lang));
            }
        }
        all.extend(speak::digits("0123456789*#", lang));
    }
    for c in &all {
        assert!(prompts::is_known(&c.name), "{} is not in the catalog", c.name);
    }
    // And every clip the sample flow and survey name directly.
    assert!(Flow::sample().validate(|_| true).is_empty());
    assert!(SurveySpec::sample().validate().is_empty());
    for name in [
        "all-busy",
        "please-hold",
        "transferring",
        "callback-offer",
        "callback-confirmed",
        "caller-number",
        "expected-wait",
        "minute",
        "minutes",
        "seconds",
        "goodbye",
    ] {
        assert!(prompts::is_known(name), "{name}");
    }
}

// ---- property: random events never break the session ----

fn event_strategy() -> impl Strategy<Value = (u64, u8, u64, u8)> {
    (0u64..20_000, 0u8..8, 0u64..40, 0u8..16)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn random_events_never_break_the_sample(
        open in any::<bool>(),
        events in prop::collection::vec(event_strategy(), 0..80),
        hang_up_at in 0usize..100,
    ) {
        let start = if open { OPEN } else { CLOSED };
        let (mut s, first) = Session::start(Arc::new(Flow::sample()), Context::default(), start);
        let mut t = start;
        // Ids the consumer would echo: the latest of each, sometimes a stale one.
        let mut ids: Vec<u64> = Vec::new();
        let track = |acts: &[Action], ids: &mut Vec<u64>| {
            for a in acts {
                match a {
                    Action::Play { id, .. } | Action::StartTimer { id, .. } | Action::Lookup { id, .. } => {
                        ids.push(*id)
                    }
                    _ => {}
                }
            }
        };
        track(&first, &mut ids);
        let mut hung_up = false;
        for (i, (dt, kind, pick, key)) in events.into_iter().enumerate() {
            t += dt;
            let id = if ids.is_empty() { 0 } else { ids[ids.len() - 1 - (pick as usize % ids.len().min(3))] };
            let event = if i == hang_up_at {
                IvrEvent::CallerHungUp
            } else {
                match kind {
                    0 | 1 => IvrEvent::PlaybackDone { id },
                    2 | 3 => IvrEvent::Digit(b"0123456789*#xA1 "[key as usize] as char),
                    4 => IvrEvent::Timeout { id },
                    5 => {
                        let result = if key % 2 == 0 { Ok(json!({"status": "shipped", "days": key})) } else { Err("down".into()) };
                        IvrEvent::LookupDone { id, result }
                    }
                    6 => IvrEvent::VoicemailDone,
                    _ => IvrEvent::LookupDone { id, result: Ok(json!(key)) },
                }
            };
            let before = s.visits().len();
            let was_finished = s.is_finished();
            let acts = s.handle(t, event.clone());
            prop_assert!(s.visits().len() - before <= MAX_STEPS_PER_EVENT);
            if was_finished {
                prop_assert!(acts.is_empty());
            }
            if event == IvrEvent::CallerHungUp {
                hung_up = true;
                prop_assert!(s.is_finished());
                prop_assert!(acts.is_empty());
            }
            if hung_up {
                prop_assert!(acts.is_empty());
            }
            track(&acts, &mut ids);
            for a in &acts {
                if let Action::Play { sounds, .. } = a {
                    for snd in sounds {
                        if let Sound::Clip(c) = snd {
                            prop_assert!(prompts::is_known(&c.name), "{}", c.name);
                        }
                    }
                }
            }
        }
        prop_assert!(s.visits().len() <= MAX_VISITS);
        // The only incident the sample can meet is a lookup answering a non-object.
        prop_assert!(s.incidents().iter().all(|i| i.message.contains("not a JSON object")), "{:?}", s.incidents());
        for w in s.visits().windows(2) {
            prop_assert!(w[0].left_ms <= w[1].entered_ms);
        }
    }
}

/// What a well-behaved voice layer has outstanding.
#[derive(Default)]
struct Outstanding {
    play: Option<u64>,
    timer: Option<u64>,
    lookup: Option<u64>,
    recording: bool,
    ended: bool,
}

impl Outstanding {
    fn absorb(&mut self, acts: &[Action]) {
        for a in acts {
            match a {
                Action::Play { id, .. } => self.play = Some(*id),
                Action::StopPlayback => self.play = None,
                Action::StartTimer { id, .. } => self.timer = Some(*id),
                Action::CancelTimer => self.timer = None,
                Action::Lookup { id, .. } => self.lookup = Some(*id),
                Action::Voicemail { .. } => self.recording = true,
                Action::Queue { .. } | Action::Transfer { .. } | Action::Hangup => self.ended = true,
                Action::Answer { .. } => {}
            }
        }
    }

    /// The media side completes whatever is outstanding.
    fn complete(&mut self) -> Option<IvrEvent> {
        if let Some(id) = self.play.take() {
            Some(IvrEvent::PlaybackDone { id })
        } else if std::mem::take(&mut self.recording) {
            Some(IvrEvent::VoicemailDone)
        } else if let Some(id) = self.lookup.take() {
            Some(IvrEvent::LookupDone { id, result: Err("timeout".into()) })
        } else {
            self.timer.take().map(|id| IvrEvent::Timeout { id })
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// A well-behaved voice layer (always echoing the outstanding ids) and a
    /// caller pressing random keys: every call ends (queue, transfer, hang-up
    /// or voicemail) and nothing is asked of a finished session.
    #[test]
    fn a_cooperative_voice_layer_always_reaches_an_end(
        open in any::<bool>(),
        moves in prop::collection::vec((0u8..6, 0usize..12, any::<bool>()), 0..200),
    ) {
        let start = if open { OPEN } else { CLOSED };
        let (mut s, first) = Session::start(Arc::new(Flow::sample()), Context::default(), start);
        let mut o = Outstanding::default();
        o.absorb(&first);
        let mut t = start;
        // The caller's moves first, then silence until the call ends.
        let silence = std::iter::repeat_n((0u8, 0usize, false), 2_000);
        for (kind, key, ok) in moves.into_iter().chain(silence) {
            if s.is_finished() {
                break;
            }
            t += 700;
            let event = match kind {
                1 | 2 => IvrEvent::Digit(b"0123456789*#"[key] as char),
                3 if o.lookup.is_some() => IvrEvent::LookupDone {
                    id: o.lookup.take().unwrap_or_default(),
                    result: if ok { Ok(json!({"status": "processing", "days": key})) } else { Err("down".into()) },
                },
                _ => match o.complete() {
                    Some(e) => e,
                    None => {
                        prop_assert!(false, "the session waits for nothing in {:?}", s.current());
                        unreachable!()
                    }
                },
            };
            let acts = s.handle(t, event);
            o.absorb(&acts);
        }
        prop_assert!(s.is_finished());
        prop_assert!(o.ended);
        prop_assert!(s.incidents().is_empty(), "{:?}", s.incidents());
        let last = s.visits().last().map(|v| v.outcome.clone());
        let ends = matches!(last, Some(Outcome::Queued | Outcome::Ended | Outcome::Transferred | Outcome::Recorded));
        prop_assert!(ends, "{:?}", last);
        prop_assert!(s.handle(t + 1, IvrEvent::Digit('1')).is_empty());
    }
}

proptest! {
    /// Any number, duration or position is speakable with catalog clips.
    #[test]
    fn any_number_is_speakable(n in any::<u64>(), zh in any::<bool>()) {
        let lang = if zh { Lang::Zh } else { Lang::En };
        let mut clips = speak::number(n, lang);
        clips.extend(speak::duration(n, lang));
        clips.extend(speak::queue_update(Some(n), Some(n), lang));
        clips.extend(speak::digits(&n.to_string(), lang));
        prop_assert!(!clips.is_empty());
        for c in clips {
            prop_assert!(prompts::is_known(&c.name), "{}", c.name);
            prop_assert_eq!(c.lang, lang);
        }
    }
}
