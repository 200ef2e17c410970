//! Snapshots of the live driver: a restart resumes from the latest snapshot
//! plus the events after it instead of replaying the whole event log.
//!
//! **What is saved** — everything [`crate::live::Live::start`] would
//! otherwise rebuild from the log: the engine's whole state
//! ([`engine::EngineState`]: agents, states, offers, timers, waiting
//! contacts with their enqueue time, priority and routing step, callbacks,
//! round-robin cursors, sequence number), the KPI folds (intervals since the
//! log began, the wallboard's window), the driver's live contacts and the
//! next contact id; plus the time and type of the last event included, so
//! that a snapshot that does not belong to this log is noticed.
//!
//! **Format** — JSON text (serde_json) in the store's single snapshot row,
//! with a format number ([`format`]: this module's [`LIVE_FORMAT`] and the
//! engine's [`engine::STATE_VERSION`]). JSON because every type involved
//! already has serde derives (events, API), both backends store the row in a
//! JSON-capable column, and an operator can read it with any tool when
//! something looks wrong; the cost is small next to a replay (see
//! `bench/RESULTS.md`). The engine stores its floating-point averages as
//! bits, so the round trip is exact.
//!
//! **Only a cache** — a snapshot is refused, with the reason logged, and the
//! whole log replayed when its format is not this build's, the engine or KPI
//! settings changed since it was saved, it is ahead of the log or its last
//! event is not the log's event of that number, it cannot be parsed, or the
//! restored engine fails its consistency checks. Configuration changes made
//! through the API are events (`QueueConfigured`, `AgentConfigured`), so
//! those after a snapshot are in the tail that is replayed. Deleting the
//! snapshot changes nothing but the start-up time.

use crate::pop::WebContact;
use engine::kpi::{IntervalFold, KpiConfig, LiveWindow};
use engine::{ContactId, Engine, EngineState, Settings, Time};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use store::{ConfigStore, EventLog, Snapshot, Store};

/// Version of the driver's part of the snapshot format. Bump it when
/// [`LiveState`] changes shape or meaning.
pub const LIVE_FORMAT: u32 = 1;

/// The format number written with each snapshot: [`LIVE_FORMAT`] in the
/// high 16 bits, [`engine::STATE_VERSION`] in the low ones. Any other
/// number is refused before the data is parsed.
pub fn format() -> u32 {
    (LIVE_FORMAT << 16) | (engine::STATE_VERSION & 0xFFFF)
}

/// Default number of events between two snapshots.
pub const DEFAULT_SNAPSHOT_EVERY: u64 = 10_000;

/// The saved state of the live driver at one sequence number.
#[derive(Serialize, Deserialize)]
pub(crate) struct LiveState {
    /// The engine.
    pub engine: EngineState,
    /// Interval KPIs since the log began.
    pub fold: IntervalFold,
    /// The wallboard's sliding window.
    pub window: LiveWindow,
    /// Live contacts as the driver knows them.
    pub contacts: Vec<WebContact>,
    /// The id the next arriving contact gets.
    pub next_contact: u64,
    /// Time of the event `engine.seq`.
    pub last_at: Time,
    /// Type of the event `engine.seq`.
    pub last_event: String,
}

/// What the driver starts from when a snapshot was usable.
pub(crate) struct Resumed {
    pub engine: Engine,
    pub fold: IntervalFold,
    pub window: LiveWindow,
    pub contacts: HashMap<ContactId, WebContact>,
    pub next_contact: u64,
    pub seq: u64,
}

/// Load the latest snapshot and restore from it. `Ok(None)`: there is
/// none. `Err(reason)`: there is one but it cannot be used (the caller logs
/// the reason and replays the whole log).
pub(crate) async fn load(store: &Store, settings: &Settings, kpi: &KpiConfig) -> Result<Option<Resumed>, String> {
    let snap = match store.latest_snapshot().await {
        Ok(None) => return Ok(None),
        Ok(Some(s)) => s,
        Err(e) => return Err(format!("the stored snapshot is unreadable ({e})")),
    };
    if snap.format != format() {
        return Err(format!(
            "the snapshot (seq {}) has format {:#x}, this build writes {:#x}",
            snap.seq,
            snap.format,
            format()
        ));
    }
    let latest = store.latest_seq().await.map_err(|e| format!("reading the log: {e}"))?;
    if snap.seq == 0 || snap.seq > latest {
        return Err(format!("the snapshot is at seq {}, the log ends at seq {latest}", snap.seq));
    }
    let seq = snap.seq;
    let settings = settings.clone();
    let kpi = kpi.clone();
    // Parsing and checking a large state takes a while: off the runtime's
    // threads, and a panic on damaged data is only a refused snapshot.
    let restored = tokio::task::spawn_blocking(move || restore(&snap, &settings, &kpi))
        .await
        .map_err(|e| format!("restoring the snapshot failed: {e}"))??;
    let (last_at, last_event) = (restored.1, restored.2.clone());
    let at_seq = store.read_events(seq, 1).await.map_err(|e| format!("reading the log: {e}"))?;
    match at_seq.first() {
        Some(rec) if rec.seq == seq && rec.at == last_at && rec.event.name() == last_event => {}
        _ => {
            return Err(format!(
                "the log's event {seq} is not the snapshot's last event: the snapshot is from another log"
            ));
        }
    }
    Ok(Some(restored.0))
}

fn restore(snap: &Snapshot, settings: &Settings, kpi: &KpiConfig) -> Result<(Resumed, Time, String), String> {
    let state: LiveState = serde_json::from_str(&snap.data)
        .map_err(|e| format!("the snapshot (seq {}) cannot be parsed: {e}", snap.seq))?;
    if state.engine.seq != snap.seq {
        return Err(format!("the snapshot row says seq {} but holds seq {}", snap.seq, state.engine.seq));
    }
    if state.fold.config() != kpi || state.window.config() != kpi {
        return Err("the KPI settings changed since the snapshot".into());
    }
    let engine = Engine::restore(state.engine, settings).map_err(|e| format!("the engine state is refused: {e}"))?;
    let contacts = state.contacts.into_iter().map(|c| (c.id, c)).collect();
    let resumed = Resumed {
        engine,
        fold: state.fold,
        window: state.window,
        contacts,
        next_contact: state.next_contact,
        seq: snap.seq,
    };
    Ok((resumed, state.last_at, state.last_event))
}

/// Serialise (on a blocking thread) and store a snapshot; returns its size
/// in bytes.
pub(crate) async fn save(store: &Store, state: LiveState) -> Result<usize, String> {
    let seq = state.engine.seq;
    let data = tokio::task::spawn_blocking(move || serde_json::to_string(&state))
        .await
        .map_err(|e| format!("serialising: {e}"))?
        .map_err(|e| format!("serialising: {e}"))?;
    let bytes = data.len();
    store.save_snapshot(&Snapshot { seq, format: format(), data }).await.map_err(|e| format!("storing: {e}"))?;
    Ok(bytes)
}
