//! The engine's KPI fold ([`engine::kpi::IntervalFold`]) as an event sink
//! of the simulator, and the merging of several replications' reports.
//!
//! The fold counts the engine's way: per queue entry and interval of entry,
//! waits in the queue, per agent; the simulator's own [`crate::Counts`]
//! count per contact and interval of arrival, waits from arrival. On a
//! single queue without overflow they agree.

use crate::model::Model;
use crate::run::EventSink;
use engine::kpi::{
    AgentCounts, AgentIntervalRow, AgentRow, IntervalFold, KpiConfig, KpiReport, QueueCounts, QueueIntervalRow,
    QueueRow,
};
use engine::{AgentId, EventRecord, QueueId, Time};
use std::collections::BTreeMap;

impl EventSink for IntervalFold {
    fn event(&mut self, rec: &EventRecord) {
        self.apply(rec);
    }

    fn finish(&mut self, at: Time) {
        IntervalFold::finish(self, at);
    }
}

/// The fold's settings for a model (its interval and thresholds).
pub fn kpi_config(model: &Model) -> KpiConfig {
    KpiConfig {
        interval_ms: model.interval_ms,
        sl_threshold_ms: model.sl_threshold_ms,
        short_abandon_ms: model.short_abandon_ms,
        ..KpiConfig::default()
    }
}

/// A fold sized for a model.
pub fn fold_for(model: &Model) -> IntervalFold {
    IntervalFold::with_capacity(kpi_config(model), model.config.queues.len(), model.config.agents.len(), 1024)
}

/// Add up the reports of several replications of the same model: counts
/// are summed row by row (same queue or agent, same interval) and the
/// figures recomputed from the sums. `None` for no report.
pub fn merge_reports(reports: &[KpiReport]) -> Option<KpiReport> {
    let first = reports.first()?;
    if reports.len() == 1 {
        return Some(first.clone());
    }
    let mut queues: BTreeMap<QueueId, (Option<String>, QueueCounts)> = BTreeMap::new();
    let mut q_int: BTreeMap<(QueueId, u64), (Time, Time, QueueCounts)> = BTreeMap::new();
    let mut agents: BTreeMap<AgentId, (Option<String>, AgentCounts)> = BTreeMap::new();
    let mut a_int: BTreeMap<(AgentId, u64), (Time, Time, AgentCounts)> = BTreeMap::new();
    let mut totals = QueueCounts::default();
    let mut agent_totals = AgentCounts::default();
    let (mut start, mut end) = (first.start, first.end);
    for r in reports {
        start = start.min(r.start);
        end = end.max(r.end);
        totals.add(&r.totals.counts);
        agent_totals.add(&r.agent_totals.counts);
        for row in &r.queues {
            if let Some(q) = row.queue {
                let e = queues.entry(q).or_insert_with(|| (row.name.clone(), QueueCounts::default()));
                e.1.add(&row.counts);
            }
        }
        for row in &r.intervals {
            let e =
                q_int.entry((row.queue, row.interval)).or_insert_with(|| (row.start, row.end, QueueCounts::default()));
            e.2.add(&row.counts);
        }
        for row in &r.agents {
            if let Some(a) = row.agent {
                let e = agents.entry(a).or_insert_with(|| (row.name.clone(), AgentCounts::default()));
                e.1.add(&row.counts);
            }
        }
        for row in &r.agent_intervals {
            let e =
                a_int.entry((row.agent, row.interval)).or_insert_with(|| (row.start, row.end, AgentCounts::default()));
            e.2.add(&row.counts);
        }
    }
    Some(KpiReport {
        config: first.config.clone(),
        wait_bucket_edges_ms: first.wait_bucket_edges_ms.clone(),
        start,
        end,
        totals: QueueRow::new(None, None, totals),
        queues: queues.into_iter().map(|(q, (name, c))| QueueRow::new(Some(q), name, c)).collect(),
        intervals: q_int.into_iter().map(|((q, i), (s, e, c))| QueueIntervalRow::new(q, i, s, e, c)).collect(),
        agent_totals: AgentRow::new(None, None, agent_totals),
        agents: agents.into_iter().map(|(a, (name, c))| AgentRow::new(Some(a), name, c)).collect(),
        agent_intervals: a_int.into_iter().map(|((a, i), (s, e, c))| AgentIntervalRow::new(a, i, s, e, c)).collect(),
    })
}
