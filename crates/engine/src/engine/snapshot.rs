//! Saving and restoring the engine's whole state, so that a driver can
//! resume from a snapshot plus the events after it instead of replaying the
//! whole log.
//!
//! The state is the engine itself, field for field (serde derives on the
//! internal types): agents with their presence, items and availability
//! index entries, queues with their waiting classes, round-robin cursors
//! and handle-time averages, live contacts with their enqueue time,
//! priority, plan, routing step and phase (offers, dials, callbacks), the
//! timer heap, the interned names and conditions, the sequence number and
//! the clock. Random strategies draw from a hash of the seed and the
//! sequence number, so there is no generator state beyond those. Only
//! lookup caches (condition → id, conjunctions, a scratch buffer) are left
//! out and rebuilt. So a restored engine behaves exactly as the original
//! would have: same events, same commands, same deadlines.

use super::Engine;
use super::state::{Cond, Phase, Plan, QueueStep, StepCond};
use crate::config::Settings;
use crate::event::SCHEMA_VERSION;
use serde::{Deserialize, Serialize};

/// Version of the [`EngineState`] format. Bump it whenever a field of the
/// engine's state (`engine/mod.rs`, `state.rs`, `contacts.rs`) changes
/// shape or meaning: drivers refuse a state of another version and replay
/// the log instead.
pub const STATE_VERSION: u32 = 1;

/// The engine's whole state at one sequence number ([`Engine::save_state`]),
/// serialisable with serde; [`Engine::restore`] turns it back into an
/// engine. Cloning the engine is all `save_state` costs; serialising can
/// happen elsewhere (another thread).
#[derive(Clone, Serialize, Deserialize)]
pub struct EngineState {
    /// [`STATE_VERSION`] of the build that saved it.
    pub version: u32,
    /// [`SCHEMA_VERSION`] of the events it was built from.
    pub schema: u16,
    /// Sequence number of the last event applied.
    pub seq: u64,
    engine: Engine,
}

impl std::fmt::Debug for EngineState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineState").field("version", &self.version).field("seq", &self.seq).finish_non_exhaustive()
    }
}

impl EngineState {
    /// The settings the engine ran with.
    pub fn settings(&self) -> &Settings {
        &self.engine.settings
    }
}

/// Why a saved state cannot be restored (the driver then replays the log).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RestoreError {
    /// Saved by a build with another state format.
    #[error("state format version {found}, this build reads version {expected}")]
    Version {
        /// The state's version.
        found: u32,
        /// [`STATE_VERSION`].
        expected: u32,
    },
    /// Built from events of another schema version.
    #[error("event schema version {found}, this build writes version {expected}")]
    Schema {
        /// The state's event schema.
        found: u16,
        /// [`SCHEMA_VERSION`].
        expected: u16,
    },
    /// The engine-wide settings changed since the state was saved (a replay
    /// with the new settings may differ).
    #[error("the engine settings changed since the state was saved")]
    Settings,
    /// The state is not consistent (damaged or hand-edited).
    #[error("inconsistent state: {0}")]
    Inconsistent(String),
}

impl Engine {
    /// The whole state, for a snapshot. Take it between inputs (the
    /// driver's actor does); it costs a clone of the engine.
    pub fn save_state(&self) -> EngineState {
        EngineState { version: STATE_VERSION, schema: SCHEMA_VERSION, seq: self.seq, engine: self.clone() }
    }

    /// Rebuild an engine from a saved state. `settings` are the ones the
    /// driver would replay with: if they differ from the state's, the state
    /// is refused ([`RestoreError::Settings`]) so that the driver replays
    /// the log with the new ones. The state's references and the engine's
    /// invariants are checked; a damaged state is refused, never trusted.
    pub fn restore(state: EngineState, settings: &Settings) -> Result<Engine, RestoreError> {
        if state.version != STATE_VERSION {
            return Err(RestoreError::Version { found: state.version, expected: STATE_VERSION });
        }
        if state.schema != SCHEMA_VERSION {
            return Err(RestoreError::Schema { found: state.schema, expected: SCHEMA_VERSION });
        }
        let mut e = state.engine;
        if e.settings != *settings {
            return Err(RestoreError::Settings);
        }
        if e.seq != state.seq {
            return Err(RestoreError::Inconsistent(format!("header seq {} but engine seq {}", state.seq, e.seq)));
        }
        if e.conds.first() != Some(&Cond::default()) {
            return Err(RestoreError::Inconsistent("condition 0 is not the empty condition".into()));
        }
        e.check_refs().map_err(RestoreError::Inconsistent)?;
        e.cond_ids.clear();
        e.and_cache.clear();
        e.scratch_index.clear();
        for (i, c) in e.conds.iter().enumerate() {
            let id = u32::try_from(i).map_err(|_| RestoreError::Inconsistent("too many conditions".into()))?;
            if e.cond_ids.insert(c.clone(), id).is_some() {
                return Err(RestoreError::Inconsistent(format!("condition {i} is interned twice")));
            }
        }
        if e.indexed_upto > e.touched.len() {
            return Err(RestoreError::Inconsistent("index cursor beyond the touched agents".into()));
        }
        let now = e.clock;
        e.check_invariants(now).map_err(RestoreError::Inconsistent)?;
        Ok(e)
    }

    /// Every condition id the state refers to exists (decisions index the
    /// condition table directly).
    fn check_refs(&self) -> Result<(), String> {
        let n = self.conds.len();
        let ok = |c: u32| (c as usize) < n;
        for q in self.queues.iter().flatten() {
            let steps = q.steps.iter().all(|(s, _)| match s {
                QueueStep::Members(c) => ok(*c),
                QueueStep::Preferred => true,
            });
            let plan = q.default_plan.iter().all(|s| match s.cond {
                StepCond::Members(c) => ok(c),
                StepCond::Preferred(_) => true,
            });
            if !steps || !plan || !q.new_customer_cond.is_none_or(ok) || !q.classes.iter().all(|c| ok(c.cond)) {
                return Err(format!("queue {} refers to an unknown condition", q.cfg.id));
            }
        }
        for c in self.contacts.values() {
            let plan = match &c.plan {
                Plan::Own(steps) => steps.iter().all(|s| match s.cond {
                    StepCond::Members(c) => ok(c),
                    StepCond::Preferred(_) => true,
                }),
                Plan::Unset | Plan::Default => true,
            };
            let class = match &c.phase {
                Phase::Waiting(super::state::ClassRef::Class(i)) => {
                    self.queue(c.queue).is_some_and(|q| *i < q.classes.len())
                }
                _ => true,
            };
            if !plan || !c.req.is_none_or(ok) || !class {
                return Err(format!("contact {} refers to an unknown condition or class", c.id));
            }
        }
        Ok(())
    }
}

/// The timer heap as a sorted list: a canonical form (two engines with the
/// same timers serialise alike, whatever the heap's layout).
pub(super) mod timer_heap {
    use super::super::state::Timer;
    use crate::ids::Time;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    type Heap = BinaryHeap<Reverse<(Time, u64, Timer)>>;

    pub(crate) fn serialize<S: Serializer>(heap: &Heap, s: S) -> Result<S::Ok, S::Error> {
        let mut list: Vec<&(Time, u64, Timer)> = heap.iter().map(|Reverse(t)| t).collect();
        list.sort_unstable();
        list.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Heap, D::Error> {
        let list = Vec::<(Time, u64, Timer)>::deserialize(d)?;
        Ok(list.into_iter().map(Reverse).collect())
    }
}
