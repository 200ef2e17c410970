//! The supervisor wallboard: live queue and agent figures, the last
//! minutes' service level, and interval history for the charts.

use crate::error::ApiResult;
use crate::live::Live;
use engine::kpi::QueueWindowView;
use engine::{AgentId, AgentState, QueueId, Time};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How far back the charts go.
pub const HISTORY_MS: u64 = 8 * 3_600_000;

/// The last minutes' figures of a queue.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WindowFigures {
    /// Contacts that entered.
    pub offered: u64,
    /// Answered.
    pub answered: u64,
    /// Abandoned.
    pub abandoned: u64,
    /// Service level (answered within threshold / offered), 0..1.
    pub service_level: Option<f64>,
    /// Average speed of answer, seconds.
    pub asa_seconds: Option<f64>,
    /// Abandon rate, 0..1.
    pub abandon_rate: Option<f64>,
}

impl WindowFigures {
    fn of(v: &QueueWindowView) -> WindowFigures {
        WindowFigures {
            offered: v.counts.offered,
            answered: v.counts.answered,
            abandoned: v.counts.abandoned,
            service_level: v.figures.sl.service_level,
            asa_seconds: v.figures.asa_seconds,
            abandon_rate: v.figures.abandon_rate,
        }
    }
}

/// One queue on the wallboard.
#[derive(Clone, Debug, Serialize)]
pub struct BoardQueue {
    /// Queue id.
    pub id: QueueId,
    /// Name.
    pub name: String,
    /// Contacts waiting.
    pub waiting: u32,
    /// Age of the oldest waiting contact, seconds.
    pub longest_wait_seconds: f64,
    /// Members logged in.
    pub logged_in: u32,
    /// Members free for a call.
    pub available: u32,
    /// Callbacks outstanding.
    pub callbacks: u32,
    /// The sliding window's figures.
    pub window: WindowFigures,
}

/// One agent on the wallboard.
#[derive(Clone, Debug, Serialize)]
pub struct BoardAgent {
    /// Agent id.
    pub id: AgentId,
    /// Name.
    pub name: String,
    /// State.
    pub state: AgentState,
    /// Not-ready reason.
    pub reason: Option<String>,
    /// In this state since.
    pub since: Time,
    /// Team.
    pub team: Option<String>,
    /// Contacts held.
    pub contacts: usize,
    /// Contacts answered since login.
    pub handled: u64,
}

/// One queue × interval point of the charts.
#[derive(Clone, Debug, Serialize)]
pub struct HistoryPoint {
    /// Interval start.
    pub at: Time,
    /// Queue.
    pub queue: QueueId,
    /// Offered.
    pub offered: u64,
    /// Answered.
    pub answered: u64,
    /// Abandoned.
    pub abandoned: u64,
    /// Service level.
    pub service_level: Option<f64>,
    /// ASA, seconds.
    pub asa_seconds: Option<f64>,
}

/// The whole wallboard.
#[derive(Clone, Debug, Serialize)]
pub struct Board {
    /// When it was computed.
    pub at: Time,
    /// Queues by id.
    pub queues: Vec<BoardQueue>,
    /// Agents by id (logged-out agents included).
    pub agents: Vec<BoardAgent>,
    /// How many agents are in each state.
    pub states: BTreeMap<AgentState, u32>,
    /// All queues' window.
    pub total: WindowFigures,
    /// Interval history of the last hours.
    pub history: Vec<HistoryPoint>,
}

/// Compute the wallboard now.
pub async fn compute(live: &Live) -> ApiResult<Arc<Board>> {
    let (at, queues, agents, teams) = live
        .read(|e, _, now| {
            let teams: BTreeMap<AgentId, Option<String>> =
                e.current_config().agents.into_iter().map(|a| (a.id, a.team)).collect();
            (now, e.queue_views(now), e.agent_views(), teams)
        })
        .await?;
    let (windows, total, history) = live.with_kpi(|k| {
        let windows: BTreeMap<Option<QueueId>, WindowFigures> =
            k.window.view(at).iter().map(|v| (v.queue, WindowFigures::of(v))).collect();
        let total = WindowFigures::of(&k.window.view_all(at));
        k.fold.finish(at);
        let report = k.fold.report();
        let since = at.0.saturating_sub(HISTORY_MS);
        let history = report
            .intervals
            .iter()
            .filter(|r| r.end.0 > since)
            .map(|r| HistoryPoint {
                at: r.start,
                queue: r.queue,
                offered: r.counts.offered,
                answered: r.counts.answered,
                abandoned: r.counts.abandoned,
                service_level: r.figures.sl.service_level,
                asa_seconds: r.figures.asa_seconds,
            })
            .collect();
        (windows, total, history)
    });
    let queues = queues
        .into_iter()
        .map(|q| BoardQueue {
            window: windows.get(&Some(q.id)).cloned().unwrap_or_default(),
            longest_wait_seconds: q.oldest_waiting_since.map_or(0.0, |t| at.0.saturating_sub(t.0) as f64 / 1000.0),
            id: q.id,
            name: q.name,
            waiting: q.waiting,
            logged_in: q.logged_in,
            available: q.available_voice,
            callbacks: q.callbacks_outstanding,
        })
        .collect();
    let mut states = BTreeMap::new();
    let agents = agents
        .into_iter()
        .map(|a| {
            *states.entry(a.state).or_insert(0) += 1;
            BoardAgent {
                team: teams.get(&a.id).cloned().flatten(),
                id: a.id,
                name: a.name,
                state: a.state,
                reason: a.reason.map(|r| r.to_string()),
                since: a.since,
                contacts: a.work.len(),
                handled: a.handled,
            }
        })
        .collect();
    Ok(Arc::new(Board { at, queues, agents, states, total, history }))
}
