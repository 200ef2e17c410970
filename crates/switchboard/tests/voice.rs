//! Telephony end to end, with SIP software nobody here wrote: a PJSIP
//! caller dials the demo hotline, walks the IVR by RFC 4733 keys, waits in
//! the queue and hears a position announcement, is connected to an agent
//! whose baresip phone registered with digest authentication and answers
//! automatically; audio flows both ways through our relay; the agent hangs
//! up on the phone, the caller answers the post-call survey by keys; the
//! two-channel recording, the call log, the IVR statistics, the survey
//! report and the queue KPIs all say what happened.
//!
//! Skipped with a printed reason when the peers are missing; under `CI`
//! (where `.ci/run` installs them) a missing peer fails the test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod peers;

use common::{TempDir, call, login, ok};
use peers::demo::{Demo, prompts};
use peers::{Baresip, BaresipOptions, Peer, PjCall};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Poll `f` until it gives a value (at most `secs`).
fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {secs} s waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn calls(demo: &Demo, token: &str) -> Vec<Value> {
    ok(demo.http, "GET", "/api/voice/calls", token, None).as_array().cloned().unwrap_or_default()
}

/// RMS in dBFS of a stretch of one channel, and its dominant frequency by
/// zero crossings.
fn channel_level(samples: &[i16], channels: usize, ch: usize, from_s: f64, to_s: f64) -> (f64, f64) {
    let (a, b) = ((from_s * 8000.0) as usize, (to_s * 8000.0) as usize);
    let xs: Vec<i16> = samples.chunks(channels).skip(a).take(b.saturating_sub(a)).map(|f| f[ch]).collect();
    let rms = peers::rms_dbfs(&xs);
    let crossings = xs.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    (rms, crossings as f64 / 2.0 / ((xs.len().max(1)) as f64 / 8000.0))
}

#[test]
fn a_caller_walks_the_ivr_waits_talks_to_a_sip_phone_and_answers_the_survey() {
    if peers::require(&[Peer::Pjsua, Peer::Baresip, Peer::Espeak, Peer::Sox]).is_err() {
        return;
    }
    let prompts = prompts();
    let data = TempDir::new("voice-e2e");
    let demo = Demo::start(&data.0.join("data"), &prompts);
    let admin = login(demo.http, "admin", "switchboard");
    let agent = login(demo.http, "agent1", "switchboard");
    // The agent signs in but is on a break: the caller must wait.
    ok(demo.http, "POST", "/api/agent/login", &agent, None);
    ok(demo.http, "POST", "/api/agent/not-ready", &agent, Some(json!({ "reason": "break" })));

    // The agent's phone registers (digest) and answers automatically; it plays 1 kHz.
    let phone = Baresip::start(BaresipOptions {
        user: "agent1".into(),
        registrar: Some(demo.sip.to_string()),
        auth_user: Some("agent1".into()),
        auth_pass: Some("switchboard".into()),
        tone_hz: 1000.0,
        ..Default::default()
    })
    .unwrap();
    phone.wait_registered(Duration::from_secs(15)).unwrap();
    let status = ok(demo.http, "GET", "/api/voice/status", &admin, None);
    assert_eq!(status["registered"][0]["user"], "agent1", "{status}");

    // The caller: English (2), technical support (2) — typed ahead during
    // the welcome — then waits; the survey keys go when the test says so.
    let work = TempDir::new("voice-e2e-caller");
    let heard = work.0.join("heard.wav");
    let go = work.0.join("survey-now");
    let target = format!("sip:100@{}", demo.sip);
    let steps =
        format!("wait:1;dtmf:2;wait:1;dtmf:2;wait_file:90:{};dtmf:5;wait:1;dtmf:1;wait_until_bye:60", go.display());
    let caller = PjCall::spawn(&[
        "--target",
        &target,
        "--record",
        heard.to_str().unwrap(),
        "--tone-hz",
        "440",
        "--steps",
        &steps,
        "--timeout",
        "150",
    ])
    .unwrap();

    // Queued in Support, and told its position while the agent is away.
    let queued =
        wait_for("the call to be queued", 40, || calls(&demo, &admin).into_iter().find(|c| c["contact"].is_u64()));
    let contact = queued["contact"].as_u64().unwrap();
    std::thread::sleep(Duration::from_secs(5));
    ok(demo.http, "POST", "/api/agent/ready", &agent, None);

    // The phone rings and answers by itself; talk for a few seconds.
    wait_for("the agent's phone to answer", 20, || (phone.active_calls().ok()? == 1).then_some(()));
    std::thread::sleep(Duration::from_secs(4));
    phone.command("hangup", "").unwrap();
    phone.wait_no_calls(Duration::from_secs(10)).unwrap();
    // The caller hears the survey: press 5 for the agent, 1 for "solved".
    std::thread::sleep(Duration::from_secs(1));
    std::fs::write(&go, b"").unwrap();
    let result = caller.wait(Duration::from_secs(120)).unwrap();
    assert!(result.answered, "{result:?}");
    assert_eq!(result.end_reason.as_deref(), Some("remote_bye"), "we end the call after the survey: {result:?}");
    assert!(result.dtmf_errors.is_empty(), "{result:?}");
    assert!(result.max_rx_dbfs() > -30.0, "the caller heard prompts: {result:?}");

    // The call log.
    let c = wait_for("the call record to be complete", 20, || {
        calls(&demo, &admin).into_iter().find(|c| c["ended_at"].is_i64())
    });
    assert_eq!(c["contact"], contact);
    assert_eq!(c["agent"], 1);
    assert_eq!(c["end_reason"], "agent-hangup", "{c}");
    let quality = &c["quality"];
    let announced = quality["announcements"].as_array().unwrap();
    assert!(announced.iter().any(|a| a["position"] == 1), "position announced: {quality}");
    for leg in quality["legs"].as_array().unwrap() {
        assert!(leg["rx_packets"].as_u64().unwrap() > 100, "{leg}");
        assert_eq!(leg["one_way"], false, "{leg}");
    }

    // The recording: two channels, as long as the conversation, the caller
    // (440 Hz) on the left and the agent's phone (1 kHz) on the right.
    let path = PathBuf::from(c["recording"].as_str().unwrap());
    let wav = peers::read_wav(&path).unwrap();
    assert_eq!((wav.rate, wav.channels), (8000, 2));
    let secs = wav.samples.len() as f64 / 2.0 / 8000.0;
    let ms = c["recording_ms"].as_u64().unwrap() as f64;
    assert!((secs * 1000.0 - ms).abs() < 25.0, "file {secs} s vs recorded {ms} ms");
    assert!((3.0..12.0).contains(&secs), "conversation of about 4 s, recorded {secs} s");
    let (caller_db, caller_hz) = channel_level(&wav.samples, 2, 0, 1.0, secs - 0.5);
    let (agent_db, agent_hz) = channel_level(&wav.samples, 2, 1, 1.0, secs - 0.5);
    assert!(caller_db > -30.0 && (380.0..500.0).contains(&caller_hz), "caller {caller_db} dBFS {caller_hz} Hz");
    assert!(agent_db > -30.0 && (900.0..1100.0).contains(&agent_hz), "agent {agent_db} dBFS {agent_hz} Hz");
    let (status, _) = call(
        demo.http,
        "GET",
        &format!("/api/voice/calls/{}/recording", c["call"].as_str().unwrap()),
        Some(&admin),
        None,
    );
    assert_eq!(status, 200);

    // The survey, tied to agent and queue.
    let survey = ok(demo.http, "GET", "/api/reports/surveys", &admin, None);
    let score = |q: &str| survey.as_array().unwrap().iter().find(|r| r["question"] == q).map(|r| r["mean"].clone());
    assert_eq!(score("agent"), Some(json!(5.0)), "{survey}");
    assert_eq!(score("solved"), Some(json!(1.0)), "{survey}");
    assert!(survey.as_array().unwrap().iter().all(|r| r["agent"] == 1 && r["queue"] == 2), "{survey}");

    // The IVR path: English, then support, then the queue.
    let ivr = ok(demo.http, "GET", "/api/reports/ivr/main", &admin, None);
    let node = |n: &str| ivr.as_array().unwrap().iter().find(|r| r["node"] == n).cloned().unwrap_or(Value::Null);
    assert_eq!(node("language")["outcomes"]["chose:2"], 1, "{ivr}");
    assert_eq!(node("main")["outcomes"]["chose:2"], 1, "{ivr}");
    assert_eq!(node("queue-support")["outcomes"]["queued"], 1, "{ivr}");

    // The queue's KPIs counted one offered and answered call.
    let kpi = ok(demo.http, "GET", "/api/reports/queues", &admin, None);
    let support = kpi.as_array().unwrap().iter().filter(|r| r["queue"] == 2);
    let (offered, answered) =
        support.fold((0, 0), |(o, a), r| (o + r["offered"].as_u64().unwrap(), a + r["answered"].as_u64().unwrap()));
    assert_eq!((offered, answered), (1, 1), "{kpi}");
}

/// An agent's phone, registered with the demo and answering by itself.
fn phone(demo: &Demo, user: &str, tone_hz: f64) -> Baresip {
    let p = Baresip::start(BaresipOptions {
        user: user.into(),
        registrar: Some(demo.sip.to_string()),
        auth_user: Some(user.into()),
        auth_pass: Some("switchboard".into()),
        tone_hz,
        ..Default::default()
    })
    .unwrap();
    p.wait_registered(Duration::from_secs(15)).unwrap();
    p
}

/// A PJSIP caller into the Support queue (keys 2, 2), then `then` steps.
fn support_caller(demo: &Demo, from: &str, heard: &Path, then: &str) -> PjCall {
    let target = format!("sip:100@{}", demo.sip);
    let steps = format!("wait:1;dtmf:2;wait:1;dtmf:2;{then}");
    PjCall::spawn(&[
        "--target",
        &target,
        "--from-user",
        from,
        "--record",
        heard.to_str().unwrap(),
        "--steps",
        &steps,
        "--timeout",
        "150",
    ])
    .unwrap()
}

#[test]
fn the_desktop_transfers_a_phone_call_blind_to_another_agents_phone() {
    if peers::require(&[Peer::Pjsua, Peer::Baresip, Peer::Espeak, Peer::Sox]).is_err() {
        return;
    }
    let prompts = prompts();
    let data = TempDir::new("voice-transfer");
    let demo = Demo::start(&data.0.join("data"), &prompts);
    let admin = login(demo.http, "admin", "switchboard");
    let (a1, a2) = (login(demo.http, "agent1", "switchboard"), login(demo.http, "agent2", "switchboard"));
    ok(demo.http, "POST", "/api/agent/login", &a1, None);
    ok(demo.http, "POST", "/api/agent/login", &a2, None);
    ok(demo.http, "POST", "/api/agent/not-ready", &a2, Some(json!({ "reason": "break" })));
    let phone1 = phone(&demo, "agent1", 1000.0);
    let phone2 = phone(&demo, "agent2", 700.0);

    let work = TempDir::new("voice-transfer-caller");
    let caller = support_caller(&demo, "13800138000", &work.0.join("heard.wav"), "wait_until_bye:100");
    wait_for("agent 1's phone to answer", 40, || (phone1.active_calls().ok()? == 1).then_some(()));
    let contact =
        wait_for("the call's contact", 10, || calls(&demo, &admin).into_iter().find_map(|c| c["contact"].as_u64()));
    std::thread::sleep(Duration::from_secs(3));
    // Agent 2 comes back; agent 1 transfers from the desktop.
    ok(demo.http, "POST", "/api/agent/ready", &a2, None);
    ok(
        demo.http,
        "POST",
        &format!("/api/contacts/{contact}/transfer"),
        &a1,
        Some(json!({ "to": { "kind": "agent", "id": 2 } })),
    );
    // Agent 1's phone is released, agent 2's rings and answers.
    phone1.wait_no_calls(Duration::from_secs(10)).unwrap();
    wait_for("agent 2's phone to answer", 20, || (phone2.active_calls().ok()? == 1).then_some(()));
    std::thread::sleep(Duration::from_secs(3));
    // Hold from the desktop and back: the call goes on.
    ok(demo.http, "POST", &format!("/api/contacts/{contact}/hold"), &a2, None);
    std::thread::sleep(Duration::from_secs(1));
    ok(demo.http, "POST", &format!("/api/contacts/{contact}/resume"), &a2, None);
    std::thread::sleep(Duration::from_secs(2));
    // Agent 2 hangs up on the desktop: the phone's leg is ended by us.
    ok(demo.http, "POST", &format!("/api/contacts/{contact}/hangup"), &a2, None);
    phone2.wait_no_calls(Duration::from_secs(10)).unwrap();
    let result = caller.wait(Duration::from_secs(120)).unwrap();
    assert!(result.answered && result.dtmf_errors.is_empty(), "{result:?}");

    let c = wait_for("the call record", 20, || calls(&demo, &admin).into_iter().find(|c| c["ended_at"].is_i64()));
    assert_eq!(c["agent"], 2, "{c}");
    assert_eq!(c["end_reason"], "agent-hangup", "{c}");
    // One recording across the transfer: the agent channel carries agent
    // 1's phone (1 kHz) first and agent 2's (700 Hz) at the end.
    let wav = peers::read_wav(Path::new(c["recording"].as_str().unwrap())).unwrap();
    let secs = wav.samples.len() as f64 / 16000.0;
    let (early_db, early_hz) = channel_level(&wav.samples, 2, 1, 0.5, 2.5);
    let (late_db, late_hz) = channel_level(&wav.samples, 2, 1, secs - 1.5, secs - 0.3);
    assert!(early_db > -30.0 && (900.0..1100.0).contains(&early_hz), "first agent: {early_db} dBFS {early_hz} Hz");
    assert!(late_db > -30.0 && (620.0..780.0).contains(&late_hz), "second agent: {late_db} dBFS {late_hz} Hz");
    // The engine's story: transferred, held, resumed, ended by the agent.
    let kpi = ok(demo.http, "GET", "/api/reports/agents", &admin, None);
    assert!(kpi.as_array().unwrap().iter().any(|r| r["agent"] == 2 && r["answered"].as_u64() == Some(1)), "{kpi}");
}

#[test]
fn a_callback_keeps_its_place_and_is_dialled_through_the_trunk() {
    if peers::require(&[Peer::Pjsua, Peer::Baresip, Peer::Espeak, Peer::Sox]).is_err() {
        return;
    }
    let prompts = prompts();
    let data = TempDir::new("voice-callback");
    let demo = Demo::start(&data.0.join("data"), &prompts);
    let admin = login(demo.http, "admin", "switchboard");
    let agent = login(demo.http, "agent1", "switchboard");
    ok(demo.http, "POST", "/api/agent/login", &agent, None);
    ok(demo.http, "POST", "/api/agent/not-ready", &agent, Some(json!({ "reason": "meeting" })));
    let phone1 = phone(&demo, "agent1", 1000.0);
    // The customer's own phone, reached through the "trunk" (a baresip that
    // answers calls to its number).
    let customer =
        Baresip::start(BaresipOptions { user: "13800138000".into(), tone_hz: 500.0, ..Default::default() }).unwrap();
    let mut settings = ok(demo.http, "GET", "/api/voice/settings", &admin, None);
    settings["trunk"] = json!({ "address": format!("127.0.0.1:{}", customer.sip_port()), "caller_id": "4008001234" });
    ok(demo.http, "PUT", "/api/voice/settings", &admin, Some(settings));

    // Caller A waits, then presses 9: called back, keeping the place.
    let work = TempDir::new("voice-callback-callers");
    let a = support_caller(&demo, "13800138000", &work.0.join("a.wav"), "wait:14;dtmf:9;wait_until_bye:30");
    let a = a.wait(Duration::from_secs(60)).unwrap();
    assert!(a.answered, "{a:?}");
    assert_eq!(a.end_reason.as_deref(), Some("remote_bye"), "we end the line after confirming: {a:?}");
    // Caller B arrives later and waits on the line.
    let b = support_caller(&demo, "13900139000", &work.0.join("b.wav"), "wait_until_bye:120");
    let b_contact = wait_for("caller B to queue", 40, || {
        calls(&demo, &admin).into_iter().find(|c| c["caller"] == "13900139000").and_then(|c| c["contact"].as_u64())
    });
    // The agent is free: the callback comes first, B still waits.
    ok(demo.http, "POST", "/api/agent/ready", &agent, None);
    wait_for("the customer's phone to ring and answer", 30, || (customer.active_calls().ok()? == 1).then_some(()));
    wait_for("the agent's phone to answer", 20, || (phone1.active_calls().ok()? == 1).then_some(()));
    let live = ok(demo.http, "GET", "/api/contacts", &admin, None);
    let b_state = live.as_array().unwrap().iter().find(|c| c["id"] == b_contact).cloned().unwrap_or(Value::Null);
    assert!(
        b_state.to_string().contains("waiting") || b_state.to_string().contains("queued"),
        "B still waits: {b_state}"
    );
    std::thread::sleep(Duration::from_secs(3));
    phone1.command("hangup", "").unwrap();
    // The customer skips the survey and hangs up.
    std::thread::sleep(Duration::from_secs(2));
    let _ = customer.command("hangup", "");
    let log = wait_for("the callback's record", 60, || {
        calls(&demo, &admin).into_iter().find(|c| c["direction"] == "callback" && c["ended_at"].is_i64())
    });
    assert_eq!(log["agent"], 1, "{log}");
    assert_eq!(log["callee"], "13800138000", "{log}");
    let wav = peers::read_wav(Path::new(log["recording"].as_str().unwrap())).unwrap();
    let secs = wav.samples.len() as f64 / 16000.0;
    let (cust_db, cust_hz) = channel_level(&wav.samples, 2, 0, 0.5, secs - 0.3);
    assert!(cust_db > -30.0 && (430.0..570.0).contains(&cust_hz), "customer channel {cust_db} dBFS {cust_hz} Hz");
    drop(b);
}
