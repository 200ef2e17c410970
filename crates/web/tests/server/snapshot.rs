//! Restarts from snapshots, in process: the driver resumes from the latest
//! snapshot plus the tail of the log, and any snapshot it cannot trust
//! (damaged, another format, other settings, ahead of the log) is refused
//! with a reason and the whole log replayed — the same state either way.

use crate::harness::temp_dir;
use engine::kpi::{KpiReport, QueueWindowView};
use engine::{
    AgentConfig, AgentId, AgentView, ContactId, ContactSpec, ContactView, EngineConfig, Input, QueueConfig, QueueId,
    Settings, Time,
};
use store::{ConfigStore, EventLog, Snapshot, Store};
use web::live::{Live, LiveOptions};

type View = (Vec<AgentView>, Vec<ContactView>, u64, Vec<ContactId>, KpiReport, Vec<QueueWindowView>);

/// The engine, the driver's contacts and the KPI folds (report and window).
async fn view(live: &Live) -> View {
    let (agents, contacts, seq, ids) = live
        .read(|e, contacts, _| {
            let mut ids: Vec<ContactId> = contacts.keys().copied().collect();
            ids.sort();
            (e.agent_views(), e.contact_views(), e.last_seq(), ids)
        })
        .await
        .unwrap();
    let (report, window) = live.with_kpi(|k| (k.fold.report(), k.window.view(Time(4_000_000_000_000))));
    (agents, contacts, seq, ids, report, window)
}

fn options() -> LiveOptions {
    // Snapshots only when asked, so the test knows where they are.
    LiveOptions { snapshot_every: 0, ..LiveOptions::default() }
}

/// Restart on the same store: a second driver (the first stays idle: no
/// timers are pending, nobody sends it inputs).
async fn restart(store: &Store) -> Live {
    Live::start(store.clone(), options()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_from_the_snapshot_and_refuses_one_it_cannot_trust() {
    let dir = temp_dir();
    let store = Store::open_sqlite_dir(&dir).await.unwrap();
    let config = EngineConfig {
        settings: Settings { seed: 5, ..Settings::default() },
        queues: vec![QueueConfig::new(QueueId(1), "support")],
        agents: vec![
            AgentConfig::new(AgentId(1), "Ana", &[QueueId(1)]),
            AgentConfig::new(AgentId(2), "Bo", &[QueueId(1)]),
        ],
    };
    store.save_engine_config(&config).await.unwrap();
    let live = Live::start(store.clone(), options()).await.unwrap();
    assert_eq!(live.rebuild_info().snapshot_seq, None);
    live.input(Input::Login { agent: AgentId(1) }).await.unwrap();
    live.input(Input::NotReady { agent: AgentId(1), reason: "lunch".into() }).await.unwrap();
    for _ in 0..5 {
        live.arrive(ContactSpec::new(ContactId(0), QueueId(1))).await.unwrap();
    }
    let seq = live.save_snapshot().await.expect("a snapshot is saved");
    assert_eq!(live.save_snapshot().await, None, "nothing new since the last snapshot");
    // The tail.
    live.input(Input::Login { agent: AgentId(2) }).await.unwrap();
    live.input(Input::NotReady { agent: AgentId(2), reason: "training".into() }).await.unwrap();
    for _ in 0..3 {
        live.arrive(ContactSpec::new(ContactId(0), QueueId(1))).await.unwrap();
    }
    let before = view(&live).await;
    let latest = store.latest_seq().await.unwrap();
    assert_eq!(before.2, latest);
    assert_eq!(before.1.len(), 8);

    // Snapshot + tail.
    let resumed = restart(&store).await;
    let info = resumed.rebuild_info().clone();
    assert_eq!(info.snapshot_seq, Some(seq));
    assert_eq!(info.replayed_events, latest - seq);
    assert_eq!(info.snapshot_refused, None);
    assert_eq!(view(&resumed).await, before, "snapshot + tail");

    // Snapshots that cannot be trusted: refused with a reason, the whole log replayed.
    let good = store.latest_snapshot().await.unwrap().unwrap();
    let damaged = Snapshot { data: good.data[..good.data.len() / 2].to_string(), ..good.clone() };
    let other_format = Snapshot { format: good.format + 1, ..good.clone() };
    let ahead = Snapshot { seq: latest + 5, ..good.clone() };
    let mut other_log = serde_json::from_str::<serde_json::Value>(&good.data).unwrap();
    other_log["last_event"] = serde_json::json!("contact_ended");
    let other_log = Snapshot { data: other_log.to_string(), ..good.clone() };
    for (bad, why) in [
        (damaged, "cannot be parsed"),
        (other_format, "format"),
        (ahead, "the log ends at"),
        (other_log, "another log"),
    ] {
        store.save_snapshot(&bad).await.unwrap();
        let replayed = restart(&store).await;
        let info = replayed.rebuild_info().clone();
        assert_eq!(info.snapshot_seq, None, "{why}");
        assert_eq!(info.replayed_events, latest, "{why}");
        assert!(info.snapshot_refused.as_deref().unwrap_or("").contains(why), "{why}: {info:?}");
        assert_eq!(view(&replayed).await, before, "{why}");
    }

    // Other settings: the snapshot is refused, the log replays with the new ones.
    store.save_snapshot(&good).await.unwrap();
    store.save_settings(&Settings { seed: 6, ..config.settings.clone() }).await.unwrap();
    let replayed = restart(&store).await;
    let info = replayed.rebuild_info().clone();
    assert_eq!(info.snapshot_seq, None);
    assert!(info.snapshot_refused.as_deref().unwrap_or("").contains("settings"), "{info:?}");
    assert_eq!(view(&replayed).await, before);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Synthetic traffic for the benchmark: one arrival per step, 50 ms apart.
struct Traffic {
    engine: engine::Engine,
    t: u64,
    id: u64,
    connected: std::collections::VecDeque<ContactId>,
}

impl Traffic {
    /// An arrival; with `hang_up`, the oldest call ends once 90 are connected.
    fn step(&mut self, hang_up: bool) -> Vec<engine::EventRecord> {
        let mut out = Vec::new();
        self.t += 50;
        self.id += 1;
        let now = Time(self.t);
        let spec = ContactSpec::new(ContactId(self.id), QueueId(1));
        self.engine.handle(now, Input::Arrive { contact: spec }, &mut out).unwrap();
        self.connected.push_back(ContactId(self.id));
        if hang_up && self.connected.len() > 90 {
            let c = self.connected.pop_front().unwrap();
            let _ = self.engine.handle(now, Input::Hangup { contact: c, by: engine::Party::Customer }, &mut out);
        }
        out.into_iter()
            .filter_map(|o| match o {
                engine::Output::Event(r) => Some(r),
                engine::Output::Command(_) => None,
            })
            .collect()
    }

    /// Steps until `events` more events, appended 5,000 at a time.
    async fn run(&mut self, store: &Store, events: u64, hang_up: bool) {
        let until = self.engine.last_seq() + events;
        let mut buf = Vec::new();
        while self.engine.last_seq() < until {
            buf.extend(self.step(hang_up));
            if buf.len() >= 5_000 {
                store.append(&buf).await.unwrap();
                buf.clear();
            }
        }
        store.append(&buf).await.unwrap();
    }
}

/// Rebuild times: the whole log versus the latest snapshot (plus a tail).
/// `SNAPSHOT_BENCH_EVENTS` events (default 1,000,000) of calls through one
/// queue of 100 auto-answering agents, the last `SNAPSHOT_BENCH_WAITING_EVENTS`
/// of them (default 1,500) arrivals nobody answers (about 2 events each).
/// `cargo test -p web --test server --release rebuild_figures -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; prints figures"]
async fn rebuild_figures() {
    use std::time::Instant;

    let env = |k: &str, d: u64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let n = env("SNAPSHOT_BENCH_EVENTS", 1_000_000);
    let waiting = env("SNAPSHOT_BENCH_WAITING_EVENTS", 1_500);
    let dir = temp_dir();
    let store = Store::open_sqlite_dir(&dir).await.unwrap();
    let mut queue = QueueConfig::new(QueueId(1), "support");
    queue.wrap_up_ms = 0;
    let agents: Vec<AgentConfig> = (0..100)
        .map(|i| {
            let mut a = AgentConfig::new(AgentId(i), format!("agent{i}"), &[QueueId(1)]);
            a.auto_answer = true;
            a
        })
        .collect();
    let config = EngineConfig { settings: Settings::default(), queues: vec![queue], agents };
    store.save_engine_config(&config).await.unwrap();
    // A day ago, so that the drivers' first tick finds nothing due.
    let t0 = web::auth::now().0 - 86_400_000;
    let mut out = Vec::new();
    let mut e = engine::Engine::start(config, Time(t0), &mut out).unwrap();
    for i in 0..100 {
        e.handle(Time(t0), Input::Login { agent: AgentId(i) }, &mut out).unwrap();
        e.handle(Time(t0), Input::Ready { agent: AgentId(i) }, &mut out).unwrap();
    }
    let first: Vec<engine::EventRecord> = out
        .into_iter()
        .filter_map(|o| match o {
            engine::Output::Event(r) => Some(r),
            engine::Output::Command(_) => None,
        })
        .collect();
    store.append(&first).await.unwrap();
    let mut traffic = Traffic { engine: e, t: t0, id: 0, connected: Default::default() };
    let generated = Instant::now();
    let so_far = traffic.engine.last_seq();
    traffic.run(&store, n.saturating_sub(so_far + waiting), true).await;
    // Nobody hangs up any more: the last arrivals wait.
    traffic.run(&store, waiting, false).await;
    let total = store.latest_seq().await.unwrap();
    println!("generated {total} events in {:.1} s", generated.elapsed().as_secs_f64());

    let started = Instant::now();
    let full = Live::start(store.clone(), options()).await.unwrap();
    let full_s = started.elapsed().as_secs_f64();
    assert_eq!(full.rebuild_info().replayed_events, total);
    let before = view(&full).await;

    // What the actor spends on a snapshot (the rest happens elsewhere).
    let capture_ms = full
        .read(|e, _, _| {
            let started = Instant::now();
            let state = e.save_state();
            let ms = started.elapsed().as_secs_f64() * 1e3;
            drop(state);
            ms
        })
        .await
        .unwrap();
    let started = Instant::now();
    let seq = full.save_snapshot().await.expect("snapshot saved");
    let save_s = started.elapsed().as_secs_f64();
    let bytes = store.latest_snapshot().await.unwrap().unwrap().data.len();

    let started = Instant::now();
    let resumed = Live::start(store.clone(), options()).await.unwrap();
    let snap_s = started.elapsed().as_secs_f64();
    assert_eq!(resumed.rebuild_info().snapshot_seq, Some(seq));
    assert_eq!(resumed.rebuild_info().replayed_events, 0);
    assert_eq!(view(&resumed).await, before);

    // A tail of 10,000 events after the snapshot.
    traffic.run(&store, 10_000, true).await;
    let started = Instant::now();
    let tailed = Live::start(store.clone(), options()).await.unwrap();
    let tail_s = started.elapsed().as_secs_f64();
    assert_eq!(tailed.rebuild_info().snapshot_seq, Some(seq));
    let replayed = tailed.rebuild_info().replayed_events;
    println!(
        "events {total}: full replay {full_s:.2} s; engine capture {capture_ms:.2} ms, snapshot save {save_s:.3} s \
         ({bytes} bytes, {} live contacts); \
         restart from the snapshot {snap_s:.3} s; from the snapshot + a {replayed}-event tail {tail_s:.3} s",
        before.1.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
