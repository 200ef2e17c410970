//! A restart rebuilds the engine: drive a real engine through a few
//! contacts, append its events as the server would (one append per input),
//! save a snapshot of its state half-way, reopen the store, replay (the
//! whole log, and the snapshot plus the tail), and compare.

use crate::harness::TestDb;
use engine::{
    AgentConfig, AgentId, AgentState, Command, ContactId, ContactPhase, ContactSpec, Engine, EngineConfig, Input,
    Output, Party, QueueConfig, QueueId, Segment, Settings, Time, TransferTarget,
};
use store::{ConfigStore, EventLog, Snapshot, Store, replay_engine};

const T0: u64 = 1_760_000_000_000;

struct Live {
    engine: Engine,
    offers: Vec<(ContactId, AgentId)>,
}

impl Live {
    async fn step(&mut self, store: &Store, at: u64, input: Input) {
        let mut out = Vec::new();
        self.engine.handle(Time(T0 + at), input, &mut out).unwrap();
        self.engine.check_invariants(Time(T0 + at)).unwrap();
        self.record(store, out).await;
    }

    async fn record(&mut self, store: &Store, out: Vec<Output>) {
        let mut events = Vec::new();
        for o in out {
            match o {
                Output::Event(r) => events.push(r),
                Output::Command(Command::Offer { contact, agent, .. }) => self.offers.push((contact, agent)),
                Output::Command(_) => {}
            }
        }
        store.append(&events).await.unwrap();
    }

    /// The agent the contact was last offered to.
    fn offered(&self, contact: ContactId) -> AgentId {
        self.offers.iter().rev().find(|(c, _)| *c == contact).map(|(_, a)| *a).expect("an offer")
    }
}

pub async fn engine_run_replays_after_reopen(db: &TestDb) {
    let store = db.open().await;
    let mut support = QueueConfig::new(QueueId(1), "support");
    support.wrap_up_ms = 60_000;
    let sales = QueueConfig::new(QueueId(2), "sales");
    let config = EngineConfig {
        settings: Settings { seed: 7, ..Settings::default() },
        queues: vec![support, sales],
        agents: vec![
            AgentConfig::new(AgentId(1), "Ana", &[QueueId(1), QueueId(2)]),
            AgentConfig::new(AgentId(2), "Bo", &[QueueId(1)]),
            AgentConfig::new(AgentId(3), "Chen", &[QueueId(2)]),
            AgentConfig::new(AgentId(4), "Dee", &[QueueId(1)]),
        ],
    };
    store.save_engine_config(&config).await.unwrap();

    // Start: the configuration becomes the log's first events.
    let mut out = Vec::new();
    let engine = Engine::start(config.clone(), Time(T0), &mut out).unwrap();
    let mut live = Live { engine, offers: Vec::new() };
    live.record(&store, out).await;

    for a in 1..=4 {
        live.step(&store, 1_000, Input::Login { agent: AgentId(a) }).await;
    }
    for a in 1..=3 {
        live.step(&store, 1_500, Input::Ready { agent: AgentId(a) }).await;
    }
    live.step(&store, 1_600, Input::NotReady { agent: AgentId(4), reason: "training".into() }).await;

    // C1: offered, accepted, held, resumed, hung up, wrapped up (ends early).
    let c1 = ContactId(101);
    live.step(&store, 2_000, Input::Arrive { contact: ContactSpec::new(c1, QueueId(1)) }).await;
    let a1 = live.offered(c1);
    live.step(&store, 4_000, Input::Accept { contact: c1, agent: a1 }).await;
    live.step(&store, 30_000, Input::Hold { contact: c1 }).await;
    live.step(&store, 45_000, Input::Resume { contact: c1 }).await;
    live.step(&store, 90_000, Input::Hangup { contact: c1, by: Party::Customer }).await;
    live.step(&store, 100_000, Input::EndWrapUp { contact: c1, agent: a1 }).await;

    // C2: a VIP with details, to sales; accepted, then transferred to support.
    let mut spec = ContactSpec::new(ContactId(102), QueueId(2));
    spec.customer = Some("c-42".into());
    spec.segment = Segment::Vip;
    spec.language = Some("zh".into());
    spec.attributes.insert("order".into(), "A-1001".into());
    spec.callback_number = Some("+8613800138000".into());
    live.step(&store, 110_000, Input::Arrive { contact: spec }).await;
    let a2 = live.offered(ContactId(102));
    live.step(&store, 112_000, Input::Accept { contact: ContactId(102), agent: a2 }).await;
    live.step(&store, 150_000, Input::Transfer { contact: ContactId(102), to: TransferTarget::Queue(QueueId(1)) })
        .await;

    // A snapshot half-way (the server saves one every N events).
    let state = live.engine.save_state();
    let half = Snapshot { seq: state.seq, format: 1, data: serde_json::to_string(&state).unwrap() };
    store.save_snapshot(&half).await.unwrap();

    // More arrivals than free agents: some are offered, the rest wait.
    for (i, q) in [(103, 1), (104, 1), (105, 2), (106, 1), (107, 1)] {
        live.step(&store, 160_000 + i * 100, Input::Arrive { contact: ContactSpec::new(ContactId(i), QueueId(q)) })
            .await;
    }
    // Let the first open offer ring out (a miss makes its agent not ready).
    let deadline = live.engine.next_deadline().expect("an offer or a wrap-up pending");
    live.step(&store, deadline.0 - T0, Input::Tick).await;
    live.step(&store, deadline.0 - T0 + 500, Input::Abandon { contact: ContactId(107) }).await;

    let now = Time(T0 + 400_000);
    let before = live.engine.snapshot(now);
    assert!(before.contacts.iter().any(|c| matches!(c.phase, ContactPhase::Waiting { .. })), "someone waits");
    assert!(before.agents.iter().any(|a| a.state == AgentState::NotReady), "someone is not ready");
    assert!(before.agents.iter().any(|a| matches!(a.state, AgentState::Busy | AgentState::Reserved)));
    let log_len = live.engine.last_seq();
    store.close().await;

    // Restart.
    let store = db.open().await;
    assert_eq!(store.latest_seq().await.unwrap(), log_len);
    assert_eq!(store.event_count().await.unwrap(), log_len, "no gaps");
    let settings = store.load_settings().await.unwrap().unwrap();
    assert_eq!(settings, config.settings);
    let records = store.read_events(1, 100_000).await.unwrap();
    let replayed = Engine::replay(settings, &records);
    assert_eq!(replayed.snapshot(now), before, "Engine::replay over the stored log");
    replayed.check_invariants(now).unwrap();

    let rebuilt = replay_engine(&store).await.unwrap();
    assert_eq!(rebuilt.snapshot(now), before, "store::replay_engine");

    // The snapshot plus the events after it rebuild the same engine.
    let snap = store.latest_snapshot().await.unwrap().expect("the snapshot survives the restart");
    assert_eq!(snap, half);
    assert!(snap.seq > 0 && snap.seq < log_len);
    let state: engine::EngineState = serde_json::from_str(&snap.data).unwrap();
    let mut resumed = Engine::restore(state, &config.settings).unwrap();
    let tail = store.read_events(snap.seq + 1, 100_000).await.unwrap();
    assert_eq!(tail.len() as u64, log_len - snap.seq, "only the tail is read");
    for rec in &tail {
        resumed.apply_record(rec);
    }
    assert_eq!(resumed.snapshot(now), before, "snapshot + tail");
    resumed.check_invariants(now).unwrap();
    assert_eq!(store.load_engine_config().await.unwrap(), config);
    store.close().await;
}
