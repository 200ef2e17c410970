//! Engine configuration and snapshots.

use crate::harness::TestDb;
use engine::{AgentConfig, AgentId, EngineConfig, QueueConfig, QueueId, Settings, Strategy};
use store::{ConfigStore, Snapshot};

fn queue(id: u32, name: &str) -> QueueConfig {
    let mut q = QueueConfig::new(QueueId(id), name);
    q.wrap_up_ms = 20_000;
    q
}

pub async fn settings_queues_agents(db: &TestDb) {
    let s = db.open().await;
    assert_eq!(s.load_settings().await.unwrap(), None);
    assert_eq!(s.load_engine_config().await.unwrap(), EngineConfig::default());

    let settings = Settings { seed: 42, max_missed_offers: 3, ..Settings::default() };
    s.save_settings(&settings).await.unwrap();
    assert_eq!(s.load_settings().await.unwrap(), Some(settings.clone()));

    let mut q2 = queue(2, "销售 sales");
    q2.strategy = Strategy::RingAll;
    s.put_queue(&q2).await.unwrap();
    s.put_queue(&queue(1, "support")).await.unwrap();
    assert_eq!(s.queues().await.unwrap(), vec![queue(1, "support"), q2.clone()], "by id");

    // Replace by id.
    q2.priority = 5;
    s.put_queue(&q2).await.unwrap();
    assert_eq!(s.queues().await.unwrap()[1], q2);

    let a1 = AgentConfig::new(AgentId(1), "Ana", &[QueueId(1), QueueId(2)]).with_skill("billing", 7);
    let mut a2 = AgentConfig::new(AgentId(2), "Bo", &[QueueId(2)]);
    a2.team = Some("north".into());
    a2.attributes = vec!["experienced".into()];
    s.put_agent(&a2).await.unwrap();
    s.put_agent(&a1).await.unwrap();
    assert_eq!(s.agents().await.unwrap(), vec![a1.clone(), a2.clone()]);

    let config = s.load_engine_config().await.unwrap();
    assert_eq!(
        config,
        EngineConfig { settings, queues: vec![queue(1, "support"), q2.clone()], agents: vec![a1.clone(), a2] }
    );
    assert!(config.validate().is_empty(), "a stored configuration starts an engine");

    assert!(s.remove_agent(AgentId(2)).await.unwrap());
    assert!(!s.remove_agent(AgentId(2)).await.unwrap());
    assert!(s.remove_queue(QueueId(1)).await.unwrap());
    assert!(!s.remove_queue(QueueId(9)).await.unwrap());
    assert_eq!(s.agents().await.unwrap(), vec![a1]);
    assert_eq!(s.queues().await.unwrap(), vec![q2]);
    s.close().await;
}

pub async fn engine_config_replaced_whole(db: &TestDb) {
    let s = db.open().await;
    let first = EngineConfig {
        settings: Settings { seed: 1, ..Settings::default() },
        queues: vec![queue(1, "a"), queue(2, "b")],
        agents: vec![AgentConfig::new(AgentId(1), "Ana", &[QueueId(1)])],
    };
    s.save_engine_config(&first).await.unwrap();
    assert_eq!(s.load_engine_config().await.unwrap(), first);
    let second = EngineConfig {
        settings: Settings { seed: 2, ..Settings::default() },
        queues: vec![queue(3, "c")],
        agents: vec![AgentConfig::new(AgentId(5), "Eve", &[QueueId(3)])],
    };
    s.save_engine_config(&second).await.unwrap();
    s.close().await;
    let s = db.open().await;
    assert_eq!(s.load_engine_config().await.unwrap(), second);
    s.close().await;
}

pub async fn snapshot_latest_wins(db: &TestDb) {
    let s = db.open().await;
    assert_eq!(s.latest_snapshot().await.unwrap(), None);
    let mut config = EngineConfig::default();
    config.queues.push(queue(1, "support"));
    config.agents.push(AgentConfig::new(AgentId(1), "Ana", &[QueueId(1)]));
    let engine = engine::Engine::new(config).unwrap();
    let state = engine.save_state();
    assert!(state.seq > 0);
    // Stored byte for byte (the data is JSON text, with characters JSON escapes).
    let data = format!("{}\n", serde_json::to_string(&state).unwrap());
    let snap = Snapshot { seq: state.seq, format: 1, data };
    s.save_snapshot(&snap).await.unwrap();
    assert_eq!(s.latest_snapshot().await.unwrap(), Some(snap.clone()));
    let later = Snapshot { seq: snap.seq + 10, format: 2, data: "{\"名\": \"\\\" \\u0000\"}".into() };
    s.save_snapshot(&later).await.unwrap();
    assert_eq!(s.latest_snapshot().await.unwrap(), Some(later.clone()));
    s.close().await;
    // Only the latest is kept, and it survives a reopen.
    let s = db.open().await;
    assert_eq!(s.latest_snapshot().await.unwrap(), Some(later));
    s.close().await;
}
