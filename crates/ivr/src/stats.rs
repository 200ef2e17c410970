//! Per-node statistics of a flow version, folded from the visits of
//! finished sessions.

use crate::flow::{NodeId, NodeKind};
use crate::session::{Outcome, Visit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Counters of one node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeStats {
    /// Kind of the node.
    pub kind: NodeKind,
    /// Visits.
    pub entered: u64,
    /// Visits left by the flow (not by a hang-up or an abort).
    pub completed: u64,
    /// Callers who hung up here.
    pub dropped: u64,
    /// Visits that used up their retries, and transfers that failed.
    pub failed: u64,
    /// Time-outs (several per visit when re-prompted).
    pub timeouts: u64,
    /// Invalid entries.
    pub invalid: u64,
    /// Menu keys chosen.
    pub choices: BTreeMap<String, u64>,
    /// Visits per outcome label ([`Outcome::label`]).
    pub outcomes: BTreeMap<String, u64>,
    /// Time spent here, all visits.
    pub total_ms: u64,
    /// Mean time per visit.
    pub mean_ms: f64,
}

impl NodeStats {
    fn new(kind: NodeKind) -> NodeStats {
        NodeStats {
            kind,
            entered: 0,
            completed: 0,
            dropped: 0,
            failed: 0,
            timeouts: 0,
            invalid: 0,
            choices: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            total_ms: 0,
            mean_ms: 0.0,
        }
    }
}

/// Statistics of one flow version.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowStats {
    /// Flow name.
    pub flow: String,
    /// Flow version: node names may mean different things across versions.
    pub version: u32,
    /// Calls folded.
    pub calls: u64,
    /// Per node.
    pub nodes: BTreeMap<NodeId, NodeStats>,
}

impl FlowStats {
    /// Empty statistics of a flow version.
    pub fn new(flow: &str, version: u32) -> FlowStats {
        FlowStats { flow: flow.into(), version, calls: 0, nodes: BTreeMap::new() }
    }

    /// Add the visits of one call ([`crate::Session::visits`]).
    pub fn fold(&mut self, visits: &[Visit]) {
        self.calls += 1;
        for v in visits {
            let s = self.nodes.entry(v.node.clone()).or_insert_with(|| NodeStats::new(v.kind));
            s.entered += 1;
            match &v.outcome {
                Outcome::Dropped => s.dropped += 1,
                Outcome::Aborted => {}
                other => {
                    s.completed += 1;
                    if let Outcome::Chose(d) = other {
                        *s.choices.entry(d.to_string()).or_default() += 1;
                    }
                    if matches!(other, Outcome::Failed(_) | Outcome::TransferFailed) {
                        s.failed += 1;
                    }
                }
            }
            *s.outcomes.entry(v.outcome.label()).or_default() += 1;
            s.timeouts += u64::from(v.timeouts);
            s.invalid += u64::from(v.invalid);
            s.total_ms += v.left_ms.saturating_sub(v.entered_ms);
            s.mean_ms = s.total_ms as f64 / s.entered as f64;
        }
    }

    /// Merge another fold of the same flow version (e.g. per-day partials).
    pub fn merge(&mut self, other: &FlowStats) {
        self.calls += other.calls;
        for (id, o) in &other.nodes {
            let s = self.nodes.entry(id.clone()).or_insert_with(|| NodeStats::new(o.kind));
            s.entered += o.entered;
            s.completed += o.completed;
            s.dropped += o.dropped;
            s.failed += o.failed;
            s.timeouts += o.timeouts;
            s.invalid += o.invalid;
            for (k, n) in &o.choices {
                *s.choices.entry(k.clone()).or_default() += n;
            }
            for (k, n) in &o.outcomes {
                *s.outcomes.entry(k.clone()).or_default() += n;
            }
            s.total_ms += o.total_ms;
            s.mean_ms = if s.entered == 0 { 0.0 } else { s.total_ms as f64 / s.entered as f64 };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Failure;

    fn visit(node: &str, kind: NodeKind, t: (u64, u64), outcome: Outcome, timeouts: u32, invalid: u32) -> Visit {
        Visit { node: node.into(), kind, entered_ms: t.0, left_ms: t.1, outcome, timeouts, invalid }
    }

    #[test]
    fn folds_counts_and_means() {
        let mut st = FlowStats::new("hotline", 1);
        st.fold(&[
            visit("welcome", NodeKind::Play, (0, 4_000), Outcome::Next, 0, 0),
            visit("main", NodeKind::Menu, (4_000, 10_000), Outcome::Chose('2'), 1, 0),
        ]);
        st.fold(&[
            visit("welcome", NodeKind::Play, (0, 2_000), Outcome::Next, 0, 0),
            visit("main", NodeKind::Menu, (2_000, 30_000), Outcome::Failed(Failure::Invalid), 1, 2),
        ]);
        st.fold(&[visit("welcome", NodeKind::Play, (0, 1_000), Outcome::Dropped, 0, 0)]);
        assert_eq!(st.calls, 3);
        let w = &st.nodes["welcome"];
        assert_eq!((w.entered, w.completed, w.dropped), (3, 2, 1));
        assert_eq!(w.total_ms, 7_000);
        assert!((w.mean_ms - 7_000.0 / 3.0).abs() < 1e-9);
        let m = &st.nodes["main"];
        assert_eq!((m.failed, m.timeouts, m.invalid), (1, 2, 2));
        assert_eq!(m.choices["2"], 1);
        assert_eq!(m.outcomes["failed:invalid"], 1);
        let mut merged = FlowStats::new("hotline", 1);
        merged.merge(&st);
        merged.merge(&st);
        assert_eq!(merged.nodes["welcome"].entered, 6);
        assert!((merged.nodes["welcome"].mean_ms - w.mean_ms).abs() < 1e-9);
        let json = serde_json::to_value(&st).unwrap();
        assert_eq!(json["nodes"]["main"]["choices"]["2"], 1);
    }
}
