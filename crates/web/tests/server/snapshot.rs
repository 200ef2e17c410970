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
