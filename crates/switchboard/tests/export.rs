//! `wfm export-history` reads the server's event log into the history CSV
//! that `wfm forecast` takes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use engine::{
    AgentConfig, AgentId, ContactId, ContactSpec, Engine, EngineConfig, Input, Output, Party, QueueConfig, QueueId,
    Time,
};
use std::process::Command;
use store::{EventLog, Location, Store};

#[test]
fn history_from_the_event_log() {
    let dir = std::env::temp_dir().join(format!("switchboard-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // A morning: two contacts answered and ended in the 08:00 half-hour,
    // one abandoned at 08:40 (its interval takes the queue's AHT).
    let day = 20_781u64 * 86_400_000; // 2026-11-24
    let t = |h: u64, m: u64, s: u64| Time(day + ((h * 60 + m) * 60 + s) * 1000);
    let mut q = QueueConfig::new(QueueId(1), "Support, 技术支持");
    q.offer_timeout_ms = 60_000;
    let mut agent = AgentConfig::new(AgentId(1), "A", &[QueueId(1)]);
    agent.auto_answer = true;
    let config = EngineConfig { settings: engine::Settings::default(), queues: vec![q], agents: vec![agent] };
    let mut out: Vec<Output> = Vec::new();
    let mut e = Engine::start(config, t(7, 59, 0), &mut out).unwrap();
    e.handle(t(7, 59, 0), Input::Login { agent: AgentId(1) }, &mut out).unwrap();
    for (i, start) in [t(8, 0, 0), t(8, 10, 0)].into_iter().enumerate() {
        let c = ContactId(i as u64 + 1);
        e.handle(start, Input::Arrive { contact: ContactSpec::new(c, QueueId(1)) }, &mut out).unwrap();
        e.handle(Time(start.0 + 120_000), Input::Hangup { contact: c, by: Party::Customer }, &mut out).unwrap();
    }
    e.handle(t(8, 39, 0), Input::Logout { agent: AgentId(1) }, &mut out).unwrap();
    e.handle(t(8, 40, 0), Input::Arrive { contact: ContactSpec::new(ContactId(3), QueueId(1)) }, &mut out).unwrap();
    e.handle(t(8, 41, 0), Input::Abandon { contact: ContactId(3) }, &mut out).unwrap();
    let records: Vec<_> = out
        .into_iter()
        .filter_map(|o| match o {
            Output::Event(r) => Some(r),
            Output::Command(_) => None,
        })
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = Store::open(&Location::DataDir(dir.clone())).await.unwrap();
        store.append(&records).await.unwrap();
        store.close().await;
    });

    let bin = env!("CARGO_BIN_EXE_switchboard");
    let out = Command::new(bin).args(["wfm", "export-history", "--data-dir"]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "interval_start,queue,offered,aht_seconds");
    // The log starts at 07:59: an empty interval, then the morning.
    assert_eq!(lines[1], "2026-11-24T07:30:00Z,Support  技术支持,0,", "{csv}");
    assert_eq!(lines[2], "2026-11-24T08:00:00Z,Support  技术支持,2,120.0", "{csv}");
    assert_eq!(lines[3], "2026-11-24T08:30:00Z,Support  技术支持,1,120.0", "{csv}");

    let bad = Command::new(bin)
        .args(["wfm", "export-history", "--data-dir"])
        .arg(&dir)
        .args(["--interval-minutes", "7"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
