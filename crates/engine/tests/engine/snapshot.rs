//! Snapshots: an engine restored from its saved state (through JSON, as
//! the server stores it) behaves exactly as the original, and a snapshot
//! plus the tail of the log rebuilds what a replay of the whole log does.

use crate::harness::*;
use crate::props::{drain, op, rich_config, run_op};
use engine::*;
use proptest::prelude::{ProptestConfig, TestCaseError, prop, prop_assert, prop_assert_eq, proptest};

/// The canonical serialised form of an engine's whole state (maps become
/// JSON objects with sorted keys, timers a sorted list).
fn digest(e: &Engine) -> serde_json::Value {
    serde_json::to_value(e.save_state()).expect("state serialises")
}

/// Save, serialise to JSON text, parse and restore.
fn round_trip(e: &Engine, settings: &Settings) -> Result<Engine, TestCaseError> {
    let json = serde_json::to_string(&e.save_state()).map_err(|x| TestCaseError::fail(x.to_string()))?;
    let back: EngineState = serde_json::from_str(&json).map_err(|x| TestCaseError::fail(x.to_string()))?;
    prop_assert_eq!(back.seq, e.last_seq());
    Engine::restore(back, settings).map_err(|x| TestCaseError::fail(x.to_string()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, max_shrink_iters: 2_000, ..ProptestConfig::default() })]

    /// Snapshot at a random point of a random run: the restored engine has
    /// the same state, and fed the same further inputs it produces exactly
    /// the same events and commands, the same deadlines and the same final
    /// state as the original. Replaying the log from empty and restoring
    /// the snapshot then replaying only the tail give the same engine.
    #[test]
    fn restored_engine_continues_exactly(
        ops in prop::collection::vec(op(), 1..160),
        split in prop::sample::select(vec![0.0f64, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]),
    ) {
        let k = ((ops.len() as f64) * split) as usize;
        let mut w = World::new(rich_config());
        let settings = w.settings().clone();
        let mut next_id = 0;
        for op in &ops[..k] {
            run_op(&mut w, op, &mut next_id, 6, 4);
        }
        let snapshot_json = serde_json::to_string(&w.engine.save_state()).expect("serialise");
        let restored = round_trip(&w.engine, &settings)?;
        prop_assert_eq!(digest(&restored), digest(&w.engine));
        let (log_at, commands_at) = (w.log.len(), w.commands.len());

        let mut w2 = w.with_engine(restored);
        let mut next_id2 = next_id;
        for op in &ops[k..] {
            run_op(&mut w, op, &mut next_id, 6, 4);
            run_op(&mut w2, op, &mut next_id2, 6, 4);
            prop_assert_eq!(w.engine.next_deadline(), w2.engine.next_deadline());
        }
        drain(&mut w, 6);
        drain(&mut w2, 6);
        prop_assert_eq!(&w.log[log_at..], &w2.log[log_at..]);
        prop_assert_eq!(&w.commands[commands_at..], &w2.commands[commands_at..]);
        prop_assert_eq!(digest(&w.engine), digest(&w2.engine));
        prop_assert_eq!(w.engine.snapshot(w.now), w2.engine.snapshot(w2.now));

        // Replay from empty = snapshot + tail.
        let full = Engine::replay(settings.clone(), &w.log);
        let state: EngineState = serde_json::from_str(&snapshot_json).expect("parse");
        let mut tail = Engine::restore(state, &settings).map_err(|x| TestCaseError::fail(x.to_string()))?;
        for rec in &w.log[log_at..] {
            tail.apply_record(rec);
        }
        prop_assert_eq!(full.snapshot(w.now), tail.snapshot(w.now));
        prop_assert_eq!(full.last_seq(), tail.last_seq());
        prop_assert!(tail.check_invariants(w.now).is_ok());
    }

    /// A snapshot of a replayed engine restores too, and equals the
    /// snapshot of the live engine it replays, view for view.
    #[test]
    fn replayed_engine_snapshots_restore(ops in prop::collection::vec(op(), 1..120)) {
        let mut w = World::new(rich_config());
        let settings = w.settings().clone();
        let mut next_id = 0;
        for op in &ops {
            run_op(&mut w, op, &mut next_id, 6, 4);
        }
        let replayed = Engine::replay(settings.clone(), &w.log);
        let restored = round_trip(&replayed, &settings)?;
        prop_assert_eq!(digest(&restored), digest(&replayed));
        prop_assert_eq!(restored.snapshot(w.now), w.engine.snapshot(w.now));
    }
}

#[test]
fn a_state_with_other_settings_or_version_is_refused() {
    let w = World::new(rich_config());
    let state = w.engine.save_state();
    let mut other = w.settings().clone();
    other.seed += 1;
    assert_eq!(Engine::restore(state.clone(), &other).err(), Some(RestoreError::Settings));
    let mut v = serde_json::to_value(&state).expect("serialise");
    v["version"] = serde_json::json!(STATE_VERSION + 1);
    let newer: EngineState = serde_json::from_value(v).expect("parse");
    assert!(matches!(Engine::restore(newer, w.settings()), Err(RestoreError::Version { .. })));
    let mut v = serde_json::to_value(&state).expect("serialise");
    v["engine"]["conds"] = serde_json::json!([]);
    let broken: EngineState = serde_json::from_value(v).expect("parse");
    assert!(matches!(Engine::restore(broken, w.settings()), Err(RestoreError::Inconsistent(_))));
    assert!(Engine::restore(state, w.settings()).is_ok());
}
