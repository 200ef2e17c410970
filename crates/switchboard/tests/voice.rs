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

use common::{TempDir, call, login, make_certificates, ok};
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
    // Each question by what it says, in the language asked for (the
    // catalog text of the sample survey's clips).
    let en = ok(demo.http, "GET", "/api/reports/surveys?lang=en", &admin, None);
    let text = |q: &str| en.as_array().unwrap().iter().find(|r| r["question"] == q).map(|r| r["question_text"].clone());
    assert_eq!(text("solved"), Some(json!("Was your problem solved? Press 1 for yes, or 2 for no.")), "{en}");
    assert_eq!(
        survey.as_array().unwrap()[0]["question_text"],
        "您对客服人员的服务满意吗？请按一到五，一表示非常不满意，五表示非常满意。"
    );

    // The IVR path per hour: the caller went through the menu once.
    let hourly = ok(demo.http, "GET", "/api/reports/ivr/main/intervals?from=0&interval=60", &admin, None);
    let entered: u64 =
        hourly.as_array().unwrap().iter().filter(|r| r["node"] == "main").map(|r| r["entered"].as_u64().unwrap()).sum();
    assert_eq!(entered, 1, "{hourly}");

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

/// Agents 1 and 2 signed in with phones (agent 1's sends 1 kHz, agent 2's
/// 700 Hz), agent 2 on a break, and a PJSIP caller connected to agent 1's
/// phone through the Support queue. `None`: a peer is missing.
struct TwoPhones {
    demo: Demo,
    admin: String,
    a1: String,
    a2: String,
    phone1: Baresip,
    phone2: Baresip,
    caller: PjCall,
    contact: u64,
    _dirs: (TempDir, TempDir),
}

impl TwoPhones {
    fn start(name: &str, from: &str, caller_waits_s: u32) -> Option<TwoPhones> {
        if peers::require(&[Peer::Pjsua, Peer::Baresip, Peer::Espeak, Peer::Sox]).is_err() {
            return None;
        }
        let prompts = prompts();
        let data = TempDir::new(name);
        let demo = Demo::start(&data.0.join("data"), &prompts);
        let admin = login(demo.http, "admin", "switchboard");
        let (a1, a2) = (login(demo.http, "agent1", "switchboard"), login(demo.http, "agent2", "switchboard"));
        ok(demo.http, "POST", "/api/agent/login", &a1, None);
        ok(demo.http, "POST", "/api/agent/login", &a2, None);
        ok(demo.http, "POST", "/api/agent/not-ready", &a2, Some(json!({ "reason": "break" })));
        let phone1 = phone(&demo, "agent1", 1000.0);
        let phone2 = phone(&demo, "agent2", 700.0);
        let work = TempDir::new(&format!("{name}-caller"));
        let then = format!("wait_until_bye:{caller_waits_s}");
        let caller = support_caller(&demo, from, &work.0.join("heard.wav"), &then);
        wait_for("agent 1's phone to answer", 40, || (phone1.active_calls().ok()? == 1).then_some(()));
        let contact =
            wait_for("the call's contact", 10, || calls(&demo, &admin).into_iter().find_map(|c| c["contact"].as_u64()));
        Some(TwoPhones { demo, admin, a1, a2, phone1, phone2, caller, contact, _dirs: (data, work) })
    }
}

#[test]
fn the_desktop_transfers_a_phone_call_blind_to_another_agents_phone() {
    let Some(t) = TwoPhones::start("voice-transfer", "13800138000", 100) else { return };
    let TwoPhones { demo, admin, a1, a2, phone1, phone2, caller, contact, _dirs } = t;
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

/// Consulted transfer of a phone call from the desktop: agent 1 (on the
/// phone with the caller) consults agent 2, whose phone rings and answers;
/// the two phones are bridged while the caller holds. Called off once (the
/// caller is back with agent 1), then completed: agent 1's phone is
/// released, agent 2's phone stays on the line, now bridged to the caller,
/// and the one recording carries agent 2 at the end.
#[test]
fn the_desktop_consults_another_agents_phone_then_hands_the_call_over() {
    let Some(t) = TwoPhones::start("voice-consult", "13800138001", 140) else { return };
    let TwoPhones { demo, admin, a1, a2, phone1, phone2, caller, contact, _dirs } = t;
    std::thread::sleep(Duration::from_secs(2));
    ok(demo.http, "POST", "/api/agent/ready", &a2, None);
    let consult_answered = |token: &str| {
        let me = ok(demo.http, "GET", "/api/me", token, None);
        me["agent"]["work"][0]["consult_answered"].as_bool()
    };

    // First consultation: answered on agent 2's phone, then called off.
    let v = ok(demo.http, "POST", &format!("/api/contacts/{contact}/consult"), &a1, Some(json!({ "to": 2 })));
    assert_eq!(v["state"], "on-hold", "{v}");
    wait_for("agent 2's phone to answer the consultation", 20, || (phone2.active_calls().ok()? == 1).then_some(()));
    wait_for("the consultation to be answered", 10, || (consult_answered(&a1) == Some(true)).then_some(()));
    assert_eq!(phone1.active_calls().unwrap(), 1, "agent 1 stays on the line");
    std::thread::sleep(Duration::from_secs(3));
    let v = ok(demo.http, "POST", &format!("/api/contacts/{contact}/consult/cancel"), &a1, None);
    assert_eq!(v["state"], "busy", "back with the caller: {v}");
    phone2.wait_no_calls(Duration::from_secs(10)).unwrap();
    std::thread::sleep(Duration::from_secs(2));

    // Second consultation: completed. Agent 1's phone goes, agent 2's stays.
    ok(demo.http, "POST", &format!("/api/contacts/{contact}/consult"), &a1, Some(json!({ "to": 2 })));
    wait_for("agent 2's phone to answer again", 20, || (phone2.active_calls().ok()? == 1).then_some(()));
    wait_for("the consultation to be answered", 10, || (consult_answered(&a1) == Some(true)).then_some(()));
    std::thread::sleep(Duration::from_secs(2));
    let v = ok(demo.http, "POST", &format!("/api/contacts/{contact}/consult/complete"), &a1, None);
    assert_eq!(v["state"], "wrap-up", "{v}");
    phone1.wait_no_calls(Duration::from_secs(10)).unwrap();
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(phone2.active_calls().unwrap(), 1, "agent 2's phone carries the caller now, without ringing again");
    let me2 = ok(demo.http, "GET", "/api/me", &a2, None);
    assert_eq!(me2["agent"]["work"][0]["phase"], "talking", "{me2}");
    ok(demo.http, "POST", &format!("/api/contacts/{contact}/hangup"), &a2, None);
    phone2.wait_no_calls(Duration::from_secs(10)).unwrap();
    let result = caller.wait(Duration::from_secs(150)).unwrap();
    assert!(result.answered && result.dtmf_errors.is_empty(), "{result:?}");

    let c = wait_for("the call record", 20, || calls(&demo, &admin).into_iter().find(|c| c["ended_at"].is_i64()));
    assert_eq!(c["agent"], 2, "{c}");
    // The consulted phone's leg of the cancelled consultation: agent 1's
    // audio was relayed to it and its own tone came back.
    let legs = c["quality"]["legs"].as_array().unwrap();
    let consult = legs.iter().find(|l| l["leg"] == "consult").expect("a consult leg in the call's quality");
    assert!(consult["tx_packets"].as_u64().unwrap() > 100, "agent 1's audio relayed to agent 2: {consult}");
    assert!(consult["voiced_frames"].as_u64().unwrap() > 50, "agent 2's phone heard: {consult}");
    // One recording: agent 1's 1 kHz first, agent 2's 700 Hz at the end.
    let wav = peers::read_wav(Path::new(c["recording"].as_str().unwrap())).unwrap();
    let secs = wav.samples.len() as f64 / 16000.0;
    let (early_db, early_hz) = channel_level(&wav.samples, 2, 1, 0.5, 1.5);
    let (late_db, late_hz) = channel_level(&wav.samples, 2, 1, secs - 3.0, secs - 0.5);
    assert!(early_db > -30.0 && (900.0..1100.0).contains(&early_hz), "agent 1: {early_db} dBFS {early_hz} Hz");
    assert!(late_db > -30.0 && (620.0..780.0).contains(&late_hz), "agent 2: {late_db} dBFS {late_hz} Hz");
    let kpi = ok(demo.http, "GET", "/api/reports/agents", &admin, None);
    assert!(kpi.as_array().unwrap().iter().any(|r| r["agent"] == 2 && r["answered"].as_u64() == Some(1)), "{kpi}");
}

/// The engine's events so far, as JSON, read from the demo's own store.
fn events(data: &Path) -> Vec<Value> {
    use store::EventLog;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let st = store::Store::open(&store::Location::DataDir(data.to_path_buf())).await.unwrap();
        let evs = st.read_events(0, 1_000_000).await.unwrap();
        evs.iter().map(|e| serde_json::to_value(e).unwrap()).collect()
    })
}

/// Agent 1 on a PJSIP desk phone (`pjphone.py` running `steps`, made from
/// the SIP address and a directory for the test's signal files), agent 2
/// on a baresip phone (700 Hz, answering by itself) and on a break, and a
/// PJSIP caller into the Support queue who hangs up once `done` exists.
struct DeskPhones {
    demo: Demo,
    admin: String,
    a1: String,
    a2: String,
    phone1: Option<peers::PjPhone>,
    phone2: Baresip,
    caller: Option<PjCall>,
    done: PathBuf,
    data: TempDir,
}

impl DeskPhones {
    // Scripts wait a second after answering before they hold the caller,
    // as a person does: a re-INVITE within milliseconds of the answer can
    // race the server's registering of the new dialog and get 481 (seen
    // once, under the full test run's load).
    fn start(name: &str, from: &str, steps: impl FnOnce(&str, &Path) -> String) -> Option<DeskPhones> {
        if peers::require(&[Peer::Pjsua, Peer::Baresip, Peer::Espeak, Peer::Sox]).is_err() {
            return None;
        }
        let prompts = prompts();
        let data = TempDir::new(name);
        let demo = Demo::start(&data.0.join("data"), &prompts);
        let admin = login(demo.http, "admin", "switchboard");
        let (a1, a2) = (login(demo.http, "agent1", "switchboard"), login(demo.http, "agent2", "switchboard"));
        ok(demo.http, "POST", "/api/agent/login", &a1, None);
        ok(demo.http, "POST", "/api/agent/login", &a2, None);
        ok(demo.http, "POST", "/api/agent/not-ready", &a2, Some(json!({ "reason": "break" })));
        let steps = steps(&demo.sip.to_string(), &data.0);
        let registrar = format!("sip:{}", demo.sip);
        let phone1 = peers::PjPhone::spawn(&[
            "--registrar",
            &registrar,
            "--user",
            "agent1",
            "--password",
            "switchboard",
            "--tone-hz",
            "1000",
            "--steps",
            &steps,
            "--timeout",
            "150",
        ])
        .unwrap();
        let phone2 = phone(&demo, "agent2", 700.0);
        wait_for("agent 1's desk phone to register", 15, || demo_registered(&demo, &admin, "agent1").then_some(()));
        // The caller hangs up when told (no survey to sit through).
        let done = data.0.join("caller-done");
        let then = format!("wait_file:140:{}", done.display());
        let caller = support_caller(&demo, from, &data.0.join("heard.wav"), &then);
        Some(DeskPhones { demo, admin, a1, a2, phone1: Some(phone1), phone2, caller: Some(caller), done, data })
    }

    /// An agent's first piece of work (`/api/me`).
    fn work(&self, token: &str) -> Value {
        ok(self.demo.http, "GET", "/api/me", token, None)["agent"]["work"][0].clone()
    }

    /// Wait until an agent's first piece of work is in `phase` (at most
    /// `secs`); fails at once, with its report, when agent 1's phone's
    /// script gave up.
    fn wait_phase(&mut self, what: &str, token: &str, phase: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.work(token)["phase"] != phase {
            let phone = self.phone1.as_mut().expect("agent 1's phone is running");
            let gone = !phone.running();
            assert!(
                !gone && Instant::now() < deadline,
                "{what}: not seen; agent 1's phone:\n{}",
                phone.report_so_far()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Agent 1's desk phone's report (its script ends by itself).
    fn phone1_report(&mut self) -> peers::PjPhoneResult {
        let p = self.phone1.take().expect("agent 1's phone is running").wait(Duration::from_secs(40)).unwrap();
        assert_eq!(p.error, None, "{p:?}\n{}", peers::tail(&p.log, 60));
        p
    }

    /// Agent 2 has the caller on the phone that took the consultation
    /// (not rung again): the caller hangs up. The contact.
    fn finish_with_agent2(&mut self) -> u64 {
        wait_for("agent 2 to have the caller", 30, || (self.work(&self.a2)["phase"] == "talking").then_some(()));
        let contact = self.work(&self.a2)["contact"].as_u64().unwrap();
        std::thread::sleep(Duration::from_secs(4));
        assert_eq!(self.phone2.active_calls().unwrap(), 1, "agent 2's phone carries the caller, without ringing again");
        std::fs::write(&self.done, b"").unwrap();
        let result = self.caller.take().expect("the caller is on").wait(Duration::from_secs(30)).unwrap();
        assert!(result.answered && result.dtmf_errors.is_empty(), "{result:?}");
        assert_eq!(result.end_reason.as_deref(), Some("local_hangup"), "{result:?}");
        self.phone2.wait_no_calls(Duration::from_secs(10)).unwrap();
        contact
    }

    /// The call's record once it ended: agent 2's, ended by the caller.
    fn call_record(&self) -> Value {
        let c = wait_for("the call record", 20, || {
            // (An agent's own try of the hotline has a record without an agent.)
            calls(&self.demo, &self.admin).into_iter().find(|c| c["ended_at"].is_i64() && !c["agent"].is_null())
        });
        assert_eq!((&c["agent"], &c["end_reason"]), (&json!(2), &json!("caller-hangup")), "{c}");
        c
    }
}

/// The engine's events about `contact` of one type.
fn events_of(evs: &[Value], contact: u64, t: &str) -> Vec<Value> {
    evs.iter().filter(|e| e["type"] == t && e["contact"] == contact).cloned().collect()
}

/// The engine saw a consulted transfer of `contact` from agent 1 to agent
/// 2 (the last consultation completed), and agent 2 answered it.
fn assert_consulted_transfer(data: &Path, contact: u64, consultations: usize) {
    let evs = events(&data.join("data"));
    assert_eq!(events_of(&evs, contact, "consult_offered").len(), consultations, "{evs:?}");
    assert_eq!(events_of(&evs, contact, "consult_answered").len(), consultations, "{evs:?}");
    let ended = events_of(&evs, contact, "consult_ended");
    assert_eq!(ended.last().map(|e| e["outcome"].clone()), Some(json!("completed")), "{ended:?}");
    let moved = events_of(&evs, contact, "contact_transferred");
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!((&moved[0]["agent"], &moved[0]["to"]), (&json!(1), &json!({ "kind": "agent", "id": 2 })));
    assert!(events_of(&evs, contact, "contact_answered").iter().any(|e| e["agent"] == 2), "{evs:?}");
}

/// Attended transfer from the agent's own desk phone (PJSIP): agent 1's
/// phone answers the caller, dials a queue number (refused 403), puts the
/// caller on hold and dials agent 2 — a consultation in the engine, agent
/// 2's baresip phone rings and answers; agent 1 hangs the consultation up
/// (called off: the caller stays on hold), dials again, sends a REFER whose
/// Replaces names no call of ours (NOTIFY 481, nothing changes), then
/// presses Transfer (REFER with Replaces on the caller's call). Agent 1's
/// phone is released (NOTIFY 200, BYE on both its calls), agent 2's stays
/// on the line, now with the caller, and the recording carries agent 2.
#[test]
fn an_agent_phone_consults_a_colleague_and_transfers_attended_with_replaces() {
    let (go1, go2) = (std::cell::RefCell::new(PathBuf::new()), std::cell::RefCell::new(PathBuf::new()));
    let Some(mut t) = DeskPhones::start("voice-attended", "13800138005", |sip, dir| {
        let (r1, r2) = (dir.join("go-consult"), dir.join("go-again"));
        let colleague = format!("sip:agent2@{sip}");
        let forged = format!("<{colleague}?Replaces=forged%40elsewhere%3Bto-tag%3Da%3Bfrom-tag%3Db>");
        let steps = format!(
            "wait_incoming:60;wait_file:30:{r1};wait:2;call:sip:100@{sip};wait:1;hold;wait:1;\
             call:{colleague};wait_answered:20;wait:3;hangup_last;wait_file:30:{r2};\
             call:{colleague};wait_answered:20;wait:1;xfer_to:{forged};wait:2;xfer_replaces;wait_idle:15",
            r1 = r1.display(),
            r2 = r2.display(),
        );
        *go1.borrow_mut() = r1;
        *go2.borrow_mut() = r2;
        steps
    }) else {
        return;
    };
    let (go1, go2) = (go1.into_inner(), go2.into_inner());
    let a1 = t.a1.clone();
    t.wait_phase("agent 1 to take the call", &a1, "talking", 40);
    ok(t.demo.http, "POST", "/api/agent/ready", &t.a2, None);
    std::fs::write(&go1, b"").unwrap();

    // First consultation, dialled on the phone, called off by hanging it up.
    wait_for("the consultation to be answered", 30, || (t.work(&t.a1)["consult_answered"] == true).then_some(()));
    assert_eq!(t.phone2.active_calls().unwrap(), 1, "agent 2's phone rang for the consultation");
    wait_for("the consultation to end", 20, || t.work(&t.a1)["consult_with"].is_null().then_some(()));
    t.phone2.wait_no_calls(Duration::from_secs(10)).unwrap();
    t.wait_phase("the caller back on hold with agent 1", &a1, "held", 10);
    std::fs::write(&go2, b"").unwrap();

    // Second consultation: a forged Replaces (refused, nothing changes),
    // then the transfer.
    wait_for("the second consultation to be answered", 30, || {
        (t.work(&t.a1)["consult_answered"] == true).then_some(())
    });
    let p1 = t.phone1_report();
    assert_eq!(p1.xfer_statuses, [481, 200], "{p1:?}");
    assert_eq!(p1.calls.len(), 4, "{p1:?}");
    assert_eq!((p1.calls[1].answered, p1.calls[1].end_status), (false, Some(403)), "a queue number: {p1:?}");
    assert_eq!(p1.calls[2].ended_by.as_deref(), Some("local"), "{p1:?}");
    for i in [0, 3] {
        assert_eq!(p1.calls[i].ended_by.as_deref(), Some("remote"), "we release both calls: {p1:?}");
    }
    // Agent 2's 700 Hz reached agent 1's consultation call.
    assert!(p1.calls[3].rx_rms_dbfs.unwrap_or(-120.0) > -30.0, "{p1:?}");
    let contact = t.finish_with_agent2();

    // The engine's story: two consultations (cancelled, completed), a
    // transfer to agent 2, who answered at once.
    assert_consulted_transfer(&t.data.0, contact, 2);
    let evs = events(&t.data.0.join("data"));
    let outcomes: Vec<Value> = events_of(&evs, contact, "consult_ended").iter().map(|e| e["outcome"].clone()).collect();
    assert_eq!(outcomes, [json!("cancelled"), json!("completed")]);

    let c = t.call_record();
    let legs = c["quality"]["legs"].as_array().unwrap();
    let consulting: Vec<&Value> = legs.iter().filter(|l| l["leg"] == "consulting").collect();
    assert_eq!(consulting.len(), 2, "agent 1's two consultation calls: {legs:?}");
    assert!(consulting.iter().all(|l| l["voiced_frames"].as_u64().unwrap() > 50), "agent 1 heard on them: {legs:?}");
    // One recording: agent 1's 1 kHz first, silence on hold, agent 2's 700 Hz at the end.
    let wav = peers::read_wav(Path::new(c["recording"].as_str().unwrap())).unwrap();
    let secs = wav.samples.len() as f64 / 16000.0;
    let (early_db, early_hz) = channel_level(&wav.samples, 2, 1, 0.5, 2.5);
    let (late_db, late_hz) = channel_level(&wav.samples, 2, 1, secs - 3.0, secs - 0.5);
    assert!(early_db > -30.0 && (900.0..1100.0).contains(&early_hz), "agent 1: {early_db} dBFS {early_hz} Hz");
    assert!(late_db > -30.0 && (620.0..780.0).contains(&late_hz), "agent 2: {late_db} dBFS {late_hz} Hz");
    let kpi = ok(t.demo.http, "GET", "/api/reports/agents", &t.admin, None);
    let rows = kpi.as_array().unwrap();
    assert!(rows.iter().any(|r| r["agent"] == 1 && r["transfers"].as_u64() == Some(1)), "{kpi}");
    assert!(rows.iter().any(|r| r["agent"] == 2 && r["answered"].as_u64() == Some(1)), "{kpi}");
}

/// The other ways of a desk phone: a call to a colleague outside any
/// contact is an internal call (relayed, nothing in the engine); a
/// consultation transferred by a REFER on the consultation call naming
/// the caller's call (the reverse Replaces some phones send).
#[test]
fn an_agent_phone_calls_a_colleague_and_transfers_from_the_consultation_call() {
    let go = std::cell::RefCell::new(PathBuf::new());
    let Some(mut t) = DeskPhones::start("voice-attended-back", "13800138006", |sip, dir| {
        let r = dir.join("go-consult");
        let steps = format!(
            "wait_file:30:{i};call:sip:agent2@{sip};wait_answered:20;wait:3;hangup_last;\
             wait_incoming:60;wait:1;hold;wait_file:30:{r};call:sip:agent2@{sip};wait_answered:20;wait:3;\
             xfer_replaces_back;wait_idle:15",
            r = r.display(),
            i = dir.join("go-internal").display(),
        );
        *go.borrow_mut() = r;
        steps
    }) else {
        return;
    };
    // Agent 2's phone is registered now: the internal call may go (agent 2
    // is on a break; no contact is involved).
    std::fs::write(t.data.0.join("go-internal"), b"").unwrap();
    let a1 = t.a1.clone();
    t.wait_phase("the caller on hold with agent 1", &a1, "held", 60);
    ok(t.demo.http, "POST", "/api/agent/ready", &t.a2, None);
    std::fs::write(go.into_inner(), b"").unwrap();
    let p1 = t.phone1_report();
    assert_eq!(p1.calls.len(), 3, "{p1:?}");
    let internal = &p1.calls[0];
    assert!(internal.answered && internal.ended_by.as_deref() == Some("local"), "{p1:?}");
    assert!(internal.rx_rms_dbfs.unwrap_or(-120.0) > -30.0, "agent 2 heard on the internal call: {p1:?}");
    assert_eq!(p1.xfer_statuses, [200], "{p1:?}");
    for i in [1, 2] {
        assert_eq!(p1.calls[i].ended_by.as_deref(), Some("remote"), "we release both calls: {p1:?}");
    }
    let contact = t.finish_with_agent2();
    assert_consulted_transfer(&t.data.0, contact, 1);
    let evs = events(&t.data.0.join("data"));
    let arrivals = evs.iter().filter(|e| e["type"] == "contact_arrived").count();
    assert_eq!(arrivals, 1, "the internal call is no contact: {evs:?}");
    assert_eq!(calls(&t.demo, &t.admin).len(), 1, "nor a call record");
    t.call_record();
}

/// Hanging up the caller's call once the colleague answered the
/// consultation hands the caller over too (as from the desktop): our BYE
/// ends the phone's consultation call, agent 2 keeps the caller. Then
/// agent 1's phone, free again, calls the hotline: a call like a customer's.
#[test]
fn an_agent_phone_hanging_up_the_caller_after_the_consultation_answered_transfers() {
    let go = std::cell::RefCell::new(PathBuf::new());
    let Some(mut t) = DeskPhones::start("voice-attended-hangup", "13800138007", |sip, dir| {
        let r = dir.join("go-consult");
        let steps = format!(
            "wait_incoming:60;wait:1;hold;wait_file:30:{r};call:sip:agent2@{sip};wait_answered:20;wait:3;\
             hangup_first;wait_idle:15;call:sip:100@{sip};wait_answered:20;wait:2;hangup_last;wait_idle:10",
            r = r.display(),
        );
        *go.borrow_mut() = r;
        steps
    }) else {
        return;
    };
    let a1 = t.a1.clone();
    t.wait_phase("the caller on hold with agent 1", &a1, "held", 60);
    ok(t.demo.http, "POST", "/api/agent/ready", &t.a2, None);
    std::fs::write(go.into_inner(), b"").unwrap();
    let p1 = t.phone1_report();
    assert_eq!(p1.calls.len(), 3, "{p1:?}");
    assert_eq!(p1.calls[0].ended_by.as_deref(), Some("local"), "{p1:?}");
    assert_eq!(p1.calls[1].ended_by.as_deref(), Some("remote"), "we end the consultation call: {p1:?}");
    // Free again, the agent's phone tries the hotline: answered like a customer's call.
    assert!(p1.calls[2].answered && p1.calls[2].ended_by.as_deref() == Some("local"), "{p1:?}");
    let contact = t.finish_with_agent2();
    assert_consulted_transfer(&t.data.0, contact, 1);
    t.call_record();
}

/// Whether a device is registered now (`/api/voice/status`).
fn demo_registered(demo: &Demo, token: &str, user: &str) -> bool {
    let st = ok(demo.http, "GET", "/api/voice/status", token, None);
    st["devices"].as_array().is_some_and(|d| d.iter().any(|d| d["user"] == user && d["registered"] == true))
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

/// Save a flow and route a number to it.
fn flow_on_number(demo: &Demo, admin: &str, number: &str, flow: Value, trunk: Option<Value>) {
    let name = flow["name"].as_str().unwrap().to_string();
    let (status, body) = call(demo.http, "PUT", &format!("/api/voice/flows/{name}"), Some(admin), Some(flow));
    assert_eq!(status, 201, "{body}");
    let mut settings = ok(demo.http, "GET", "/api/voice/settings", admin, None);
    settings["numbers"].as_array_mut().unwrap().push(json!({ "number": number, "flow": name }));
    if let Some(t) = trunk {
        settings["trunk"] = t;
    }
    ok(demo.http, "PUT", "/api/voice/settings", admin, Some(settings));
}

#[test]
fn an_ivr_transfer_dials_an_outside_sip_phone_and_relays_the_audio() {
    if peers::require(&[Peer::Pjsua, Peer::Baresip, Peer::Espeak, Peer::Sox]).is_err() {
        return;
    }
    let prompts = prompts();
    let data = TempDir::new("voice-ivr-transfer");
    let demo = Demo::start(&data.0.join("data"), &prompts);
    let admin = login(demo.http, "admin", "switchboard");
    // The outside desk: a baresip answering by itself with a 500 Hz tone.
    let desk = Baresip::start(BaresipOptions { user: "desk".into(), tone_hz: 500.0, ..Default::default() }).unwrap();
    let desk_uri = format!("sip:desk@127.0.0.1:{}", desk.sip_port());
    // A port nobody answers on, for the failing transfer.
    let nobody = format!("sip:nobody@127.0.0.1:{}", peers::free_udp_port());
    let flow = |name: &str, to: &str| {
        json!({
            "name": name, "version": 1, "start": "xfer", "language": "en",
            "nodes": {
                "xfer": { "type": "transfer", "to": { "sip": to }, "prompts": [{ "clip": "transferring" }],
                          "on_fail": "sorry" },
                "sorry": { "type": "hangup", "prompts": [{ "clip": "all-busy" }, { "clip": "goodbye" }] }
            }
        })
    };
    flow_on_number(&demo, &admin, "200", flow("desk", &desk_uri), None);
    // Another office, reached by its number through the trunk.
    let office =
        Baresip::start(BaresipOptions { user: "4001234567".into(), tone_hz: 600.0, ..Default::default() }).unwrap();
    let trunk = json!({ "address": format!("127.0.0.1:{}", office.sip_port()), "ring_timeout_s": 5 });
    flow_on_number(&demo, &admin, "201", flow("nowhere", &nobody), Some(trunk));
    let mut by_number = flow("office", "sip:unused@127.0.0.1");
    by_number["nodes"]["xfer"]["to"] = json!({ "number": "4001234567" });
    flow_on_number(&demo, &admin, "202", by_number, None);

    // The caller (440 Hz) is put through to the desk (500 Hz) and talks.
    let work = TempDir::new("voice-ivr-transfer-caller");
    let heard = work.0.join("heard.wav");
    let target = format!("sip:200@{}", demo.sip);
    let caller = PjCall::spawn(&[
        "--target",
        &target,
        "--from-user",
        "13800138000",
        "--record",
        heard.to_str().unwrap(),
        "--tone-hz",
        "440",
        "--steps",
        "wait_until_bye:40",
        "--timeout",
        "60",
    ])
    .unwrap();
    wait_for("the desk to answer", 30, || (desk.active_calls().ok()? == 1).then_some(()));
    std::thread::sleep(Duration::from_secs(4));
    // The desk hangs up: we end the caller's line.
    desk.command("hangup", "").unwrap();
    let result = caller.wait(Duration::from_secs(60)).unwrap();
    assert!(result.answered, "{result:?}");
    assert_eq!(result.end_reason.as_deref(), Some("remote_bye"), "{result:?}");

    // The caller heard the desk's 500 Hz, the desk the caller's 440 Hz.
    let wav = peers::read_wav(&heard).unwrap();
    let secs = wav.samples.len() as f64 / f64::from(wav.rate) / f64::from(wav.channels);
    let (db, hz) = channel_level(&wav.samples, usize::from(wav.channels), 0, secs - 3.0, secs - 0.5);
    assert!(db > -30.0 && (430.0..570.0).contains(&hz), "the caller heard {db} dBFS at {hz} Hz");
    let desk_heard = wait_for("the desk's recording", 10, || desk.recordings().first().cloned());
    std::thread::sleep(Duration::from_millis(500));
    let dw = peers::read_wav(&desk_heard).unwrap();
    let dsecs = dw.samples.len() as f64 / f64::from(dw.rate) / f64::from(dw.channels);
    let (ddb, dhz) = channel_level(&dw.samples, usize::from(dw.channels), 0, 1.0, dsecs - 0.5);
    assert!(ddb > -30.0 && (380.0..500.0).contains(&dhz), "the desk heard {ddb} dBFS at {dhz} Hz");

    // The call log: transferred, answered, recorded on both channels.
    let c = wait_for("the call record", 20, || {
        calls(&demo, &admin).into_iter().find(|c| c["callee"] == "200" && c["ended_at"].is_i64())
    });
    assert_eq!(c["end_reason"], "transfer-hangup", "{c}");
    assert_eq!(c["quality"]["transfer"]["to"], desk_uri.as_str(), "{c}");
    assert_eq!(c["quality"]["transfer"]["outcome"], "answered", "{c}");
    let legs = c["quality"]["legs"].as_array().unwrap();
    assert!(legs.iter().any(|l| l["leg"] == "external" && l["rx_packets"].as_u64() > Some(100)), "{c}");
    let rec = peers::read_wav(Path::new(c["recording"].as_str().unwrap())).unwrap();
    let rsecs = rec.samples.len() as f64 / 16000.0;
    let (cdb, chz) = channel_level(&rec.samples, 2, 0, 0.5, rsecs - 0.5);
    let (odb, ohz) = channel_level(&rec.samples, 2, 1, 0.5, rsecs - 0.5);
    assert!(cdb > -30.0 && (380.0..500.0).contains(&chz), "caller channel {cdb} dBFS {chz} Hz");
    assert!(odb > -30.0 && (430.0..570.0).contains(&ohz), "desk channel {odb} dBFS {ohz} Hz");
    let ivr = ok(demo.http, "GET", "/api/reports/ivr/desk", &admin, None);
    let node = ivr.as_array().unwrap().iter().find(|r| r["node"] == "xfer").cloned().unwrap_or(Value::Null);
    assert_eq!(node["outcomes"]["transferred"], 1, "{ivr}");

    // Nobody answers the other number: after the ring time the flow takes
    // its failure branch (an apology, then goodbye).
    let target = format!("sip:201@{}", demo.sip);
    let failed =
        peers::pjcall(&["--target", &target, "--steps", "wait_until_bye:40", "--timeout", "60", "--json"]).unwrap();
    assert!(failed.answered && failed.end_reason.as_deref() == Some("remote_bye"), "{failed:?}");
    let c = wait_for("the failed transfer's record", 20, || {
        calls(&demo, &admin).into_iter().find(|c| c["callee"] == "201" && c["ended_at"].is_i64())
    });
    assert_eq!(c["quality"]["transfer"]["outcome"], "no-answer", "{c}");
    assert_eq!(c["end_reason"], "ivr-hangup", "{c}");
    let ivr = ok(demo.http, "GET", "/api/reports/ivr/nowhere", &admin, None);
    let node = |n: &str| ivr.as_array().unwrap().iter().find(|r| r["node"] == n).cloned().unwrap_or(Value::Null);
    assert_eq!(node("xfer")["outcomes"]["transfer_failed"], 1, "{ivr}");
    assert_eq!(node("sorry")["outcomes"]["ended"], 1, "{ivr}");

    // A number is dialled through the trunk; the caller hangs up this time.
    let target = format!("sip:202@{}", demo.sip);
    let caller = PjCall::spawn(&["--target", &target, "--steps", "wait:8;hangup", "--timeout", "60"]).unwrap();
    wait_for("the office to answer", 30, || (office.active_calls().ok()? == 1).then_some(()));
    let result = caller.wait(Duration::from_secs(60)).unwrap();
    assert!(result.answered && result.max_rx_dbfs() > -30.0, "{result:?}");
    office.wait_no_calls(Duration::from_secs(10)).unwrap();
    let c = wait_for("the number transfer's record", 20, || {
        calls(&demo, &admin).into_iter().find(|c| c["callee"] == "202" && c["ended_at"].is_i64())
    });
    assert_eq!(c["quality"]["transfer"]["to"], "number:4001234567", "{c}");
    assert_eq!(c["quality"]["transfer"]["outcome"], "answered", "{c}");
    assert_eq!(c["end_reason"], "caller-hangup", "{c}");
}

#[test]
fn a_voicemail_becomes_a_callback_offered_to_an_agent() {
    if peers::require(&[Peer::Pjsua, Peer::Baresip, Peer::Espeak, Peer::Sox]).is_err() {
        return;
    }
    let prompts = prompts();
    let data = TempDir::new("voice-voicemail");
    let demo = Demo::start(&data.0.join("data"), &prompts);
    let admin = login(demo.http, "admin", "switchboard");
    let (a1, a2) = (login(demo.http, "agent1", "switchboard"), login(demo.http, "agent2", "switchboard"));
    ok(demo.http, "POST", "/api/agent/login", &a1, None);
    ok(demo.http, "POST", "/api/agent/not-ready", &a1, Some(json!({ "reason": "meeting" })));
    let phone1 = phone(&demo, "agent1", 1000.0);
    let customer =
        Baresip::start(BaresipOptions { user: "13800138000".into(), tone_hz: 500.0, ..Default::default() }).unwrap();
    let vm = json!({
        "name": "vm", "version": 1, "start": "record", "language": "en",
        "nodes": { "record": { "type": "voicemail", "prompt": [{ "clip": "voicemail-prompt" }],
                               "max_seconds": 4, "queue": 2 } }
    });
    let trunk = json!({ "address": format!("127.0.0.1:{}", customer.sip_port()), "caller_id": "4008001234" });
    flow_on_number(&demo, &admin, "300", vm, Some(trunk));
    // The status shows each phone's registration.
    let status = ok(demo.http, "GET", "/api/voice/status", &admin, None);
    let dev = |u: &str| status["devices"].as_array().unwrap().iter().find(|d| d["user"] == u).cloned().unwrap();
    let d1 = dev("agent1");
    assert_eq!(d1["registered"], true, "{status}");
    assert!(d1["contact"].as_str().is_some_and(|c| c.starts_with("sip:")), "{status}");
    assert!(d1["expires_in_s"].as_u64().is_some_and(|s| s > 0 && s <= 3600), "{status}");
    assert!(d1["user_agent"].as_str().is_some_and(|ua| ua.to_lowercase().contains("baresip")), "{status}");
    assert_eq!(dev("agent2")["registered"], false, "{status}");

    // The caller leaves a 4-second message (440 Hz); we hang up after it.
    let work = TempDir::new("voice-voicemail-caller");
    let target = format!("sip:300@{}", demo.sip);
    let heard = work.0.join("heard.wav");
    let left = peers::pjcall(&[
        "--target",
        &target,
        "--from-user",
        "13800138000",
        "--record",
        heard.to_str().unwrap(),
        "--steps",
        "wait_until_bye:40",
        "--timeout",
        "60",
        "--json",
    ])
    .unwrap();
    assert!(left.answered && left.end_reason.as_deref() == Some("remote_bye"), "{left:?}");
    let c = wait_for("the call record", 20, || {
        calls(&demo, &admin).into_iter().find(|c| c["callee"] == "300" && c["ended_at"].is_i64())
    });
    let call_id = c["call"].as_str().unwrap().to_string();
    assert_eq!(c["end_reason"], "voicemail", "{c}");
    let contact = c["quality"]["voicemail_contact"].as_u64().unwrap_or_else(|| panic!("a contact: {c}"));
    assert_eq!(c["contact"], contact, "{c}");
    let vm = peers::read_wav(Path::new(c["voicemail"].as_str().unwrap())).unwrap();
    assert!(vm.seconds() > 2.0, "the message was recorded: {} s", vm.seconds());

    // The voicemail waits in Support as a callback-channel contact.
    let live = ok(demo.http, "GET", "/api/contacts", &admin, None);
    let v = live.as_array().unwrap().iter().find(|x| x["id"] == contact).cloned().unwrap_or(Value::Null);
    assert_eq!((v["queue"].clone(), v["channel"].clone()), (json!(2), json!("callback")), "{live}");
    // Nobody but its agent (and supervisors) may hear it.
    let path = format!("/api/voice/calls/{call_id}/voicemail");
    assert_eq!(call(demo.http, "GET", &path, Some(&a1), None).0, 403);
    assert_eq!(call(demo.http, "GET", &path, Some(&admin), None).0, 200);

    // The agent is ready: offered; their phone rings and answers; the
    // customer is dialled through the trunk and answers.
    ok(demo.http, "POST", "/api/agent/ready", &a1, None);
    wait_for("the agent's phone to answer", 20, || (phone1.active_calls().ok()? == 1).then_some(()));
    wait_for("the customer's phone to answer", 30, || (customer.active_calls().ok()? == 1).then_some(()));
    // The engine's view: the voicemail contact, connected to agent 1 once
    // the customer's answer is reported (a callback: dialled, then connected).
    wait_for("the voicemail contact connected", 10, || {
        let live = ok(demo.http, "GET", "/api/contacts", &admin, None);
        let v = live.as_array()?.iter().find(|x| x["id"] == contact).cloned()?;
        (v["phase"]["phase"] == "connected" && v["phase"]["agent"] == 1).then_some(())
    });
    let (status, _) = call(demo.http, "GET", &path, Some(&a1), None);
    assert_eq!(status, 200, "the agent plays the voicemail");
    assert_eq!(call(demo.http, "GET", &path, Some(&a2), None).0, 403);
    std::thread::sleep(Duration::from_secs(2));
    phone1.command("hangup", "").unwrap();
    let _ = customer.command("hangup", "");
    let back = wait_for("the call-back's record", 30, || {
        calls(&demo, &admin)
            .into_iter()
            .find(|c| c["direction"] == "callback" && c["contact"] == contact && c["ended_at"].is_i64())
    });
    assert_eq!(back["agent"], 1, "{back}");
    assert_eq!(back["callee"], "13800138000", "{back}");

    // A second message, taken by agent 2 (no phone) on the desktop: the
    // customer is dialled once the agent accepts.
    ok(demo.http, "POST", "/api/agent/not-ready", &a1, Some(json!({ "reason": "meeting" })));
    customer.wait_no_calls(Duration::from_secs(20)).unwrap();
    // No survey this time: the line ends with a goodbye when the agent does.
    let mut settings = ok(demo.http, "GET", "/api/voice/settings", &admin, None);
    settings["survey"]["enabled"] = json!(false);
    ok(demo.http, "PUT", "/api/voice/settings", &admin, Some(settings));
    let second = peers::pjcall(&[
        "--target",
        &target,
        "--from-user",
        "13800138000",
        "--steps",
        "wait_until_bye:40",
        "--timeout",
        "60",
        "--json",
    ])
    .unwrap();
    assert!(second.answered, "{second:?}");
    let c2 = wait_for("the second voicemail", 20, || {
        calls(&demo, &admin)
            .into_iter()
            .find(|c| c["callee"] == "300" && c["ended_at"].is_i64() && c["quality"]["voicemail_contact"] != contact)
    });
    let contact2 = c2["quality"]["voicemail_contact"].as_u64().unwrap_or_else(|| panic!("a contact: {c2}"));
    ok(demo.http, "POST", "/api/agent/login", &a2, None);
    ok(demo.http, "POST", "/api/agent/ready", &a2, None);
    wait_for("the offer to agent 2", 20, || {
        let live = ok(demo.http, "GET", "/api/contacts", &admin, None);
        live.as_array()?
            .iter()
            .find(|x| x["id"] == contact2 && x["phase"]["phase"] == "offered" && x["phase"]["agents"][0] == 2)
            .map(|_| ())
    });
    let c2_path = format!("/api/voice/calls/{}/voicemail", c2["call"].as_str().unwrap());
    assert_eq!(call(demo.http, "GET", &c2_path, Some(&a2), None).0, 200, "offered: the agent may listen");
    ok(demo.http, "POST", &format!("/api/contacts/{contact2}/accept"), &a2, None);
    wait_for("the customer's phone to answer again", 30, || (customer.active_calls().ok()? == 1).then_some(()));
    std::thread::sleep(Duration::from_secs(2));
    ok(demo.http, "POST", &format!("/api/contacts/{contact2}/hangup"), &a2, None);
    customer.wait_no_calls(Duration::from_secs(30)).unwrap();
    let back2 = wait_for("the second call-back's record", 30, || {
        calls(&demo, &admin)
            .into_iter()
            .find(|c| c["direction"] == "callback" && c["contact"] == contact2 && c["ended_at"].is_i64())
    });
    assert_eq!(back2["agent"], 2, "{back2}");
    assert_eq!(back2["end_reason"], "agent-hangup", "{back2}");
}

/// A voicemail's call-back through a trunk that goes nowhere: each failed
/// dial is in the call log and on the contact (the agent's screen-pop
/// shows it when offered again after the queue's retry delay), and after
/// the queue's last attempt the contact closes as not reached.
#[test]
fn a_voicemail_call_back_that_fails_is_retried_then_closed_unreached() {
    if peers::require(&[Peer::Baresip, Peer::Espeak, Peer::Sox]).is_err() {
        return;
    }
    let prompts = prompts();
    let data = TempDir::new("voice-voicemail-unreached");
    let demo = Demo::start(&data.0.join("data"), &prompts);
    let (admin, a2) = (login(demo.http, "admin", "switchboard"), login(demo.http, "agent2", "switchboard"));
    // Support: two attempts, one second apart.
    let queues = ok(demo.http, "GET", "/api/admin/queues", &admin, None);
    let mut support = queues.as_array().unwrap().iter().find(|q| q["id"] == 2).cloned().unwrap();
    support["callbacks"] =
        json!({ "enabled": true, "max_outstanding": null, "max_attempts": 2, "retry_delay_ms": 1000 });
    ok(demo.http, "PUT", "/api/admin/queues/2", &admin, Some(support));
    // The trunk: a port nobody listens on.
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let vm = json!({
        "name": "vm", "version": 1, "start": "record", "language": "en",
        "nodes": { "record": { "type": "voicemail", "prompt": [{ "clip": "voicemail-prompt" }],
                               "max_seconds": 2, "queue": 2 } }
    });
    let trunk = json!({ "address": format!("127.0.0.1:{closed}"), "ring_timeout_s": 5 });
    flow_on_number(&demo, &admin, "300", vm, Some(trunk));

    // The customer leaves a message.
    let customer =
        Baresip::start(BaresipOptions { user: "13800138000".into(), tone_hz: 500.0, ..Default::default() }).unwrap();
    customer.command("dial", &format!("sip:300@{}", demo.sip)).unwrap();
    let c = wait_for("the voicemail", 40, || {
        calls(&demo, &admin).into_iter().find(|c| c["callee"] == "300" && c["ended_at"].is_i64())
    });
    let contact = c["quality"]["voicemail_contact"].as_u64().unwrap_or_else(|| panic!("a contact: {c}"));

    // Agent 2's phone rings (nobody picks it up) and the agent takes the
    // call-back on the desktop instead: the phone stops ringing and the
    // customer is dialled. The dial fails, twice.
    let phone2 = Baresip::start(BaresipOptions {
        user: "agent2".into(),
        registrar: Some(demo.sip.to_string()),
        auth_user: Some("agent2".into()),
        auth_pass: Some("switchboard".into()),
        answermode: "manual".into(),
        ..Default::default()
    })
    .unwrap();
    phone2.wait_registered(Duration::from_secs(15)).unwrap();
    ok(demo.http, "POST", "/api/agent/login", &a2, None);
    ok(demo.http, "POST", "/api/agent/ready", &a2, None);
    let failed = |c: &Value| ["no-answer", "failed"].contains(&c["end_reason"].as_str().unwrap_or(""));
    for attempt in 1..=2usize {
        wait_for("the offer to agent 2", 20, || {
            let live = ok(demo.http, "GET", "/api/contacts", &admin, None);
            live.as_array()?
                .iter()
                .find(|x| x["id"] == contact && x["phase"]["phase"] == "offered" && x["phase"]["agents"][0] == 2)
                .map(|_| ())
        });
        let pop = ok(demo.http, "GET", &format!("/api/contacts/{contact}/pop"), &a2, None);
        let tried = pop["contact"]["dial_attempts"].as_array().cloned().unwrap_or_default();
        assert_eq!(tried.len(), attempt - 1, "the earlier attempts are on the pop: {pop}");
        wait_for("agent 2's phone to ring", 10, || (phone2.active_calls().ok()? == 1).then_some(()));
        ok(demo.http, "POST", &format!("/api/contacts/{contact}/accept"), &a2, None);
        phone2.wait_no_calls(Duration::from_secs(10)).unwrap();
        let attempts = wait_for("the failed call-back in the call log", 30, || {
            let mine: Vec<Value> = calls(&demo, &admin)
                .into_iter()
                .filter(|c| c["direction"] == "callback" && c["contact"] == contact && c["ended_at"].is_i64())
                .collect();
            (mine.len() == attempt).then_some(mine)
        });
        assert!(attempts.iter().all(failed), "{attempts:?}");
        assert!(attempts.iter().all(|c| c["callee"] == "13800138000" && c["answered_at"].is_null()), "{attempts:?}");
    }
    // The last attempt failed: the contact is closed, the agent free.
    wait_for("the contact to close", 10, || {
        let live = ok(demo.http, "GET", "/api/contacts", &admin, None);
        live.as_array()?.iter().all(|x| x["id"] != contact).then_some(())
    });
    assert_eq!(ok(demo.http, "GET", "/api/me", &a2, None)["agent"]["state"], "ready");
}

#[test]
fn invalid_flows_and_settings_are_refused_with_every_problem() {
    if peers::require(&[Peer::Espeak, Peer::Sox]).is_err() {
        return;
    }
    let prompts = prompts();
    let data = TempDir::new("voice-422");
    let demo = Demo::start(&data.0.join("data"), &prompts);
    let admin = login(demo.http, "admin", "switchboard");
    let before = ok(demo.http, "GET", "/api/voice/flows", &admin, None);
    let bad = json!({
        "name": "bad", "version": 1, "start": "menu",
        "nodes": {
            "menu": { "type": "menu", "prompt": [{ "clip": "main-menu" }], "options": { "1": "gone" },
                      "timeout_ms": 0, "on_failure": "xfer" },
            "xfer": { "type": "transfer", "to": { "number": "12" }, "on_fail": "nowhere" }
        }
    });
    let (status, body) = call(demo.http, "PUT", "/api/voice/flows/bad", Some(&admin), Some(bad));
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_flow", "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("problems")), "{body}");
    let problems = body["error"]["problems"].as_array().unwrap();
    let paths: Vec<&str> = problems.iter().filter_map(|p| p["path"].as_str()).collect();
    for path in ["nodes.menu.options.1", "nodes.menu.timeout_ms", "nodes.xfer.to", "nodes.xfer.on_fail"] {
        assert!(paths.contains(&path), "{path} in {paths:?}");
    }
    assert!(problems.iter().all(|p| p["message"].is_string() && p["node"].is_string()), "{body}");
    // A node that is not a node at all is named too.
    let broken = json!({ "name": "bad", "version": 1, "start": "a", "nodes": { "a": { "type": "jump" } } });
    let (status, body) = call(demo.http, "PUT", "/api/voice/flows/bad", Some(&admin), Some(broken));
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["problems"][0]["node"], "a", "{body}");
    // Nothing was stored.
    assert_eq!(ok(demo.http, "GET", "/api/voice/flows", &admin, None), before);
    assert_eq!(call(demo.http, "GET", "/api/voice/flows/bad", Some(&admin), None).0, 404);

    let settings = ok(demo.http, "GET", "/api/voice/settings", &admin, None);
    let mut bad = settings.clone();
    bad["devices"][0]["password"] = json!("x");
    bad["max_calls"] = json!(0);
    bad["numbers"][0]["flow"] = json!("nowhere");
    let (status, body) = call(demo.http, "PUT", "/api/voice/settings", Some(&admin), Some(bad));
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_settings", "{body}");
    let paths: Vec<&str> =
        body["error"]["problems"].as_array().unwrap().iter().filter_map(|p| p["path"].as_str()).collect();
    for path in ["devices[0].password", "max_calls", "numbers[0].flow"] {
        assert!(paths.contains(&path), "{path} in {paths:?}");
    }
    assert_eq!(ok(demo.http, "GET", "/api/voice/settings", &admin, None), settings, "nothing stored");

    // The status lists every device, registered or not.
    let status = ok(demo.http, "GET", "/api/voice/status", &admin, None);
    let devices = status["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2, "{status}");
    assert!(devices.iter().all(|d| d["registered"] == false && d["contact"].is_null()), "{status}");
}

#[test]
fn an_ivr_transfer_to_an_agent_rings_that_agent_first() {
    if peers::require(&[Peer::Pjsua, Peer::Baresip, Peer::Espeak, Peer::Sox]).is_err() {
        return;
    }
    let prompts = prompts();
    let data = TempDir::new("voice-ivr-agent");
    let demo = Demo::start(&data.0.join("data"), &prompts);
    let admin = login(demo.http, "admin", "switchboard");
    let (a1, a2) = (login(demo.http, "agent1", "switchboard"), login(demo.http, "agent2", "switchboard"));
    let phone1 = phone(&demo, "agent1", 1000.0);
    let phone2 = phone(&demo, "agent2", 700.0);
    // Agent 1 has been idle longest: without the transfer's preference the
    // call would go to them.
    for a in [&a1, &a2] {
        ok(demo.http, "POST", "/api/agent/login", a, None);
        ok(demo.http, "POST", "/api/agent/ready", a, None);
        std::thread::sleep(Duration::from_millis(300));
    }
    let flow = json!({
        "name": "to-agent", "version": 1, "start": "xfer", "language": "en",
        "nodes": {
            "xfer": { "type": "transfer", "to": { "agent": "agent2" }, "on_fail": "sorry" },
            "sorry": { "type": "hangup", "prompts": [{ "clip": "goodbye" }] }
        }
    });
    flow_on_number(&demo, &admin, "202", flow, None);
    let mut settings = ok(demo.http, "GET", "/api/voice/settings", &admin, None);
    settings["survey"]["enabled"] = json!(false);
    ok(demo.http, "PUT", "/api/voice/settings", &admin, Some(settings));
    let work = TempDir::new("voice-ivr-agent-caller");
    let target = format!("sip:202@{}", demo.sip);
    let caller = PjCall::spawn(&[
        "--target",
        &target,
        "--from-user",
        "13900139000",
        "--record",
        work.0.join("heard.wav").to_str().unwrap(),
        "--steps",
        "wait_until_bye:40",
        "--timeout",
        "60",
    ])
    .unwrap();
    wait_for("agent 2's phone to answer", 30, || (phone2.active_calls().ok()? == 1).then_some(()));
    assert_eq!(phone1.active_calls().unwrap(), 0, "agent 1's phone stays quiet");
    std::thread::sleep(Duration::from_secs(2));
    phone2.command("hangup", "").unwrap();
    let result = caller.wait(Duration::from_secs(60)).unwrap();
    assert!(result.answered, "{result:?}");
    let c = wait_for("the call record", 20, || {
        calls(&demo, &admin).into_iter().find(|c| c["callee"] == "202" && c["ended_at"].is_i64())
    });
    assert_eq!(c["agent"], 2, "{c}");
    assert_eq!(c["quality"]["transfer"]["to"], "agent:agent2", "{c}");
    assert_eq!(c["quality"]["transfer"]["outcome"], "queued", "{c}");
    let ivr = ok(demo.http, "GET", "/api/reports/ivr/to-agent", &admin, None);
    let node = ivr.as_array().unwrap().iter().find(|r| r["node"] == "xfer").cloned().unwrap_or(Value::Null);
    assert_eq!(node["outcomes"]["transferred"], 1, "{ivr}");
}

fn healthz(demo: &Demo) -> u16 {
    common::try_call(demo.http, "GET", "/healthz", None, None).map(|(s, _)| s).unwrap_or(0)
}

/// SIP over TLS: the demo listens for TLS with a certificate from a
/// private CA; junk on the TLS port (plain SIP over TCP, a broken
/// handshake, a silent connection) harms nothing; an agent's baresip phone
/// registers over TLS with digest authentication (trusting the CA), a
/// PJSIP caller (UDP) reaches the Support queue, the phone is rung over
/// its TLS connection and answers, audio flows both ways (plain RTP), and
/// the caller's hang-up ends the phone's leg; a PJSIP caller over TLS
/// reaches the IVR; a UDP call still works.
#[test]
fn a_phone_registered_over_tls_is_rung_over_tls() {
    if peers::require(&[Peer::Pjsua, Peer::BaresipTls, Peer::Openssl, Peer::Espeak, Peer::Sox]).is_err() {
        return;
    }
    use std::io::{Read, Write};
    let prompts = prompts();
    let data = TempDir::new("voice-tls");
    make_certificates(&data.0);
    let tls_addr = format!("127.0.0.1:{}", peers::free_tcp_port());
    let (cert, key) = (data.0.join("leaf.pem"), data.0.join("leaf.key"));
    let demo = Demo::start_with(
        &data.0.join("data"),
        &prompts,
        &["--sip-tls", &tls_addr, "--sip-tls-cert", cert.to_str().unwrap(), "--sip-tls-key", key.to_str().unwrap()],
    );
    let tls = demo.tls.expect("the demo says where TLS listens");
    assert_eq!(tls.to_string(), tls_addr);
    let admin = login(demo.http, "admin", "switchboard");
    let status = ok(demo.http, "GET", "/api/voice/status", &admin, None);
    assert_eq!(status["sip_tls"], tls_addr, "{status}");

    // A verifying TLS client (baresip 1.0 does not verify the server
    // without a CA file): the chain we present checks out for 127.0.0.1.
    let out = std::process::Command::new("openssl")
        .args(["s_client", "-connect", &tls_addr, "-CAfile"])
        .arg(data.0.join("ca.pem"))
        .args(["-verify_ip", "127.0.0.1", "-verify_return_error", "-brief"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.contains("Verification: OK"), "openssl s_client: {said}");

    // Junk on the TLS port: plain SIP over TCP, a handshake that is not
    // one, and a connection that never says anything (kept open).
    let mut plain = std::net::TcpStream::connect(tls).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let options = format!(
        "OPTIONS sip:{tls_addr} SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKjunk\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\n\
         To: <sip:{tls_addr}>\r\nCall-ID: junk\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    );
    plain.write_all(options.as_bytes()).unwrap();
    let mut buf = [0u8; 512];
    // No SIP answer in clear text: a TLS alert, a close, or nothing.
    let n = plain.read(&mut buf).unwrap_or(0);
    assert!(!String::from_utf8_lossy(&buf[..n]).contains("SIP/2.0"), "plain SIP answered on the TLS port");
    let mut broken = std::net::TcpStream::connect(tls).unwrap();
    broken.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0xff, 0xff, 0xff, 0xff]).unwrap();
    broken.write_all(&[0x42; 300]).unwrap();
    let silent = std::net::TcpStream::connect(tls).unwrap();
    drop(broken);
    assert_eq!(healthz(&demo), 200);

    // The agent's phone registers over TLS (digest auth), trusting our CA.
    let agent = login(demo.http, "agent1", "switchboard");
    ok(demo.http, "POST", "/api/agent/login", &agent, None);
    let phone = Baresip::start(BaresipOptions {
        user: "agent1".into(),
        registrar: Some(format!("{tls_addr};transport=tls")),
        auth_user: Some("agent1".into()),
        auth_pass: Some("switchboard".into()),
        tone_hz: 1000.0,
        sip_cafile: Some(data.0.join("ca.pem")),
        ..Default::default()
    })
    .unwrap();
    phone.wait_registered(Duration::from_secs(15)).unwrap();
    assert!(phone.log().contains("/TLS/"), "not registered over TLS:\n{}", peers::tail(&phone.log(), 20));
    let status = ok(demo.http, "GET", "/api/voice/status", &admin, None);
    let contact = status["registered"][0]["contact"].as_str().unwrap_or_default().to_ascii_lowercase();
    assert!(contact.contains("transport=tls"), "{status}");

    // A caller (UDP) into Support: the phone is rung over its TLS
    // connection (rsipstack never sends a transport=tls target over UDP),
    // answers, and both hear each other; the caller hangs up.
    let work = TempDir::new("voice-tls-caller");
    let heard = work.0.join("heard.wav");
    let caller = support_caller(&demo, "13800138000", &heard, "wait:30;hangup");
    wait_for("the phone to answer over TLS", 40, || (phone.active_calls().ok()? == 1).then_some(()));
    let answered = Instant::now();
    let result = caller.wait(Duration::from_secs(60)).unwrap();
    assert!(result.answered && result.dtmf_errors.is_empty(), "{result:?}");
    assert_eq!(result.end_reason.as_deref(), Some("local_hangup"), "{result:?}");
    let talked = answered.elapsed().as_secs_f64();
    assert!(talked > 3.0, "the phone answered only {talked:.1} s before the caller hung up");
    // The caller's BYE ends the phone's leg (our BYE over TLS).
    phone.wait_no_calls(Duration::from_secs(10)).unwrap();
    // The caller heard the phone's 1 kHz at the end of the call.
    let wav = peers::read_wav(&heard).unwrap();
    let secs = wav.seconds();
    let (db, hz) = channel_level(&wav.samples, 1, 0, secs - 2.5, secs - 0.5);
    assert!(db > -30.0 && (900.0..1100.0).contains(&hz), "caller heard {db:.1} dBFS at {hz:.0} Hz");
    // The phone heard the caller's 440 Hz.
    let mut phone = phone;
    phone.stop().unwrap();
    let recs = phone.recordings();
    assert_eq!(recs.len(), 1, "{recs:?}");
    let wav = peers::read_wav(&recs[0]).unwrap();
    assert!(wav.seconds() > 2.0, "phone recording {:.1} s", wav.seconds());
    let hz = wav.tone_hz();
    assert!((hz - 440.0).abs() < 30.0, "the phone heard {hz:.0} Hz, not the caller's 440 Hz");
    let c = wait_for("the call record", 20, || calls(&demo, &admin).into_iter().find(|c| c["ended_at"].is_i64()));
    assert_eq!(c["agent"], 1, "{c}");

    // A caller over TLS (PJSIP verifying our certificate against the CA)
    // reaches the hotline's IVR and hears it.
    let ca = data.0.join("ca.pem");
    let target = format!("sip:100@{tls_addr};transport=tls");
    let r =
        peers::pjcall(&["--target", &target, "--tls-ca", ca.to_str().unwrap(), "--steps", "wait:3;hangup"]).unwrap();
    if r.exit_code == Some(2) && std::env::var_os("CI").is_none() {
        eprintln!("skipping the PJSIP TLS call: {:?}", r.error);
    } else {
        assert!(r.answered && r.rx_packets > 50, "{r:?}");
        assert!(r.rx_rms_dbfs_per_second.iter().any(|&db| db > -40.0), "the TLS caller heard silence: {r:?}");
        assert_eq!(r.end_reason.as_deref(), Some("local_hangup"), "{r:?}");
    }

    // With the junk connections still open, the server is fine: health,
    // and a plain UDP call to the hotline is answered.
    assert_eq!(healthz(&demo), 200);
    let r =
        peers::pjcall(&["--target", &format!("sip:100@{}", demo.sip), "--steps", "wait:3;hangup", "--timeout", "20"])
            .unwrap();
    assert!(r.answered && r.rx_packets > 50, "{r:?}");
    let mut demo = demo;
    assert!(demo.alive());
    assert_eq!(healthz(&demo), 200);
    // The silent connection (well over the 10 s handshake timeout ago) was
    // closed by the server: end of stream or a reset, not a read timeout.
    let mut silent = silent;
    silent.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let read = silent.read(&mut buf);
    assert!(
        matches!(&read, Ok(0)) || read.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "a client that never finished its TLS handshake is still connected: {read:?}"
    );
    drop(plain);
}

/// `--sip-tls` without a usable certificate and key is a usage error (exit
/// 2, nothing started, the data directory not even made); the config file
/// and the environment set the same options, flags first.
#[test]
fn tls_certificates_are_checked_before_anything_starts() {
    if peers::require(&[Peer::Openssl]).is_err() {
        return;
    }
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
    let dir = TempDir::new("voice-tls-flags");
    make_certificates(&dir.0);
    let p = |f: &str| dir.0.join(f).to_str().unwrap().to_string();
    let data = dir.0.join("data");
    let serve = |args: &[&str], env: &[(&str, String)]| {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--sip", "127.0.0.1:0", "--data-dir", data.to_str().unwrap()]);
        cmd.args(args).env("RUST_LOG", "error");
        for k in ["SWITCHBOARD_SIP_TLS", "SWITCHBOARD_SIP_TLS_CERT", "SWITCHBOARD_SIP_TLS_KEY"] {
            cmd.env_remove(k);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    };
    let refused = |args: &[&str], env: &[(&str, String)], says: &str| {
        let out = serve(args, env).stdin(Stdio::null()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err:?} lacks {says:?}");
        assert!(!data.exists(), "{args:?} started something");
    };
    let tls = ["--sip-tls", "127.0.0.1:0"];
    refused(&tls, &[], "--sip-tls needs --sip-tls-cert");
    refused(
        &[&tls[..], &["--sip-tls-cert", &p("nope.pem"), "--sip-tls-key", &p("leaf.key")]].concat(),
        &[],
        "nope.pem",
    );
    refused(
        &[&tls[..], &["--sip-tls-cert", &p("leaf.key"), "--sip-tls-key", &p("leaf.key")]].concat(),
        &[],
        "no certificate found",
    );
    refused(
        &[&tls[..], &["--sip-tls-cert", &p("leaf.pem"), "--sip-tls-key", &p("ca.key")]].concat(),
        &[],
        "private key",
    );
    refused(
        &[&tls[..], &["--sip-tls-cert", &p("leaf.pem"), "--sip-tls-key", &p("leaf.csr")]].concat(),
        &[],
        "private key",
    );
    refused(&["--sip-tls-cert", &p("leaf.pem")], &[], "need --sip-tls");
    // The config file: a wrong key there is refused; the environment
    // overrides it with the right one and the server listens for TLS.
    let config = dir.0.join("serve.toml");
    std::fs::write(
        &config,
        format!("sip_tls = \"127.0.0.1:0\"\nsip_tls_cert = {:?}\nsip_tls_key = {:?}\n", p("leaf.pem"), p("ca.key")),
    )
    .unwrap();
    let cfg = ["--config", config.to_str().unwrap()];
    refused(&cfg, &[], "private key");
    let mut child = serve(&cfg, &[("SWITCHBOARD_SIP_TLS_KEY", p("leaf.key"))])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut tls_line = None;
    let mut line = String::new();
    while out.read_line(&mut line).unwrap_or(0) > 0 {
        if line.starts_with("SIP over TLS on ") {
            tls_line = Some(line.clone());
            break;
        }
        line.clear();
    }
    let _ = child.kill();
    let _ = child.wait();
    let tls_line = tls_line.expect("the server says it listens for TLS");
    let addr: std::net::SocketAddr = tls_line.trim().trim_start_matches("SIP over TLS on ").parse().unwrap();
    assert!(addr.port() != 0, "{tls_line}");
}
