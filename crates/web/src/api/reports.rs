//! Interval reports per queue and per agent, from the engine's KPI folds
//! (kept live over the whole event log), as JSON or CSV.

use super::Q;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::{Route, WATCHERS, route};
use axum::Json;
use axum::extract::State;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use engine::kpi::{AgentCounts, AgentFigures, QueueCounts, QueueFigures};
use engine::{AgentId, QueueId, Time};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    let r = "reports";
    vec![
        route(
            Method::GET,
            "/api/reports/queues",
            WATCHERS,
            r,
            "Queue figures per interval (JSON or CSV)",
            None,
            Some("QueueReport"),
            get(queues),
        ),
        route(
            Method::GET,
            "/api/reports/agents",
            WATCHERS,
            r,
            "Agent figures per interval (JSON or CSV)",
            None,
            Some("AgentReport"),
            get(agents),
        ),
    ]
}

/// Midnight (local, by `offset_ms` from UTC) of the day of `now`, in UTC ms.
pub fn local_midnight(now: Time, offset_ms: i64) -> Time {
    const DAY: i64 = 86_400_000;
    let local = now.0 as i64 + offset_ms;
    Time((local - local.rem_euclid(DAY) - offset_ms).max(0) as u64)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    /// Start (ms since the epoch); default: today's local midnight.
    #[serde(default)]
    from: Option<u64>,
    /// End, exclusive; default: now.
    #[serde(default)]
    to: Option<u64>,
    /// Minutes per row: 15, 30 or 60.
    #[serde(default)]
    interval: Option<u64>,
    /// `json` (default) or `csv`.
    #[serde(default)]
    format: Option<String>,
}

struct Range {
    from: Time,
    to: Time,
    interval_ms: u64,
    csv: bool,
}

fn range(app: &AppState, q: &ReportQuery) -> ApiResult<Range> {
    let now = crate::auth::now();
    let offset = i64::from(app.desk().business_hours.utc_offset_minutes) * 60_000;
    let from = q.from.map(Time).unwrap_or_else(|| local_midnight(now, offset));
    let to = q.to.map(Time).unwrap_or(now);
    if from >= to {
        return Err(ApiError::invalid("from must be before to"));
    }
    let minutes = q.interval.unwrap_or(15);
    if ![15, 30, 60].contains(&minutes) {
        return Err(ApiError::invalid("interval: 15, 30 or 60 (minutes)"));
    }
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => return Err(ApiError::invalid(format!("format {other:?}: json or csv"))),
    };
    Ok(Range { from, to, interval_ms: minutes * 60_000, csv })
}

/// One queue × interval row.
#[derive(Serialize)]
struct QueueRowOut {
    queue: QueueId,
    name: String,
    start: Time,
    end: Time,
    #[serde(flatten)]
    counts: QueueCounts,
    #[serde(flatten)]
    figures: QueueFigures,
}

/// One agent × interval row.
#[derive(Serialize)]
struct AgentRowOut {
    agent: AgentId,
    name: String,
    start: Time,
    end: Time,
    #[serde(flatten)]
    counts: AgentCounts,
    #[serde(flatten)]
    figures: AgentFigures,
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_default()
}

async fn queues(State(app): State<Arc<AppState>>, _caller: Caller, Q(q): Q<ReportQuery>) -> ApiResult<Response> {
    let r = range(&app, &q)?;
    let names: BTreeMap<QueueId, String> =
        app.live.read(|e, _, now| e.queue_views(now).into_iter().map(|q| (q.id, q.name)).collect()).await?;
    let mut sums: BTreeMap<(QueueId, u64), QueueCounts> = BTreeMap::new();
    app.live.with_kpi(|k| {
        k.fold.finish(crate::auth::now());
        for row in k.fold.report().intervals {
            if row.start >= r.from && row.start < r.to {
                let bucket = row.start.0 / r.interval_ms * r.interval_ms;
                sums.entry((row.queue, bucket)).or_default().add(&row.counts);
            }
        }
    });
    let rows: Vec<QueueRowOut> = sums
        .into_iter()
        .map(|((queue, start), counts)| QueueRowOut {
            name: names.get(&queue).cloned().unwrap_or_default(),
            figures: QueueFigures::of(&counts),
            queue,
            start: Time(start),
            end: Time(start + r.interval_ms),
            counts,
        })
        .collect();
    if !r.csv {
        return Ok(Json(rows).into_response());
    }
    let mut out = String::from(
        "queue,name,start,end,offered,answered,abandoned,service_level,asa_seconds,abandon_rate,aht_seconds,longest_wait_seconds\n",
    );
    for x in &rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{:.1}",
            x.queue.0,
            store::csv_field(&x.name),
            x.start.0,
            x.end.0,
            x.counts.offered,
            x.counts.answered,
            x.counts.abandoned,
            opt(x.figures.sl.service_level),
            opt(x.figures.asa_seconds),
            opt(x.figures.abandon_rate),
            opt(x.figures.aht_seconds),
            x.figures.longest_wait_seconds
        );
    }
    Ok(csv_response("queues.csv", out))
}

async fn agents(State(app): State<Arc<AppState>>, _caller: Caller, Q(q): Q<ReportQuery>) -> ApiResult<Response> {
    let r = range(&app, &q)?;
    let names: BTreeMap<AgentId, String> =
        app.live.read(|e, _, _| e.agent_views().into_iter().map(|a| (a.id, a.name)).collect()).await?;
    let mut sums: BTreeMap<(AgentId, u64), AgentCounts> = BTreeMap::new();
    app.live.with_kpi(|k| {
        k.fold.finish(crate::auth::now());
        for row in k.fold.report().agent_intervals {
            if row.start >= r.from && row.start < r.to {
                let bucket = row.start.0 / r.interval_ms * r.interval_ms;
                sums.entry((row.agent, bucket)).or_default().add(&row.counts);
            }
        }
    });
    let rows: Vec<AgentRowOut> = sums
        .into_iter()
        .map(|((agent, start), counts)| AgentRowOut {
            name: names.get(&agent).cloned().unwrap_or_default(),
            figures: AgentFigures::of(&counts),
            agent,
            start: Time(start),
            end: Time(start + r.interval_ms),
            counts,
        })
        .collect();
    if !r.csv {
        return Ok(Json(rows).into_response());
    }
    let mut out = String::from(
        "agent,name,start,end,offers,answered,missed,rejected,handled,aht_seconds,occupancy,utilisation\n",
    );
    for x in &rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            x.agent.0,
            store::csv_field(&x.name),
            x.start.0,
            x.end.0,
            x.counts.offers,
            x.counts.answered,
            x.counts.missed,
            x.counts.rejected,
            x.counts.handled,
            opt(x.figures.aht_seconds),
            opt(x.figures.occupancy),
            opt(x.figures.utilisation)
        );
    }
    Ok(csv_response("agents.csv", out))
}

fn csv_response(name: &str, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midnight_in_local_time() {
        // 2026-11-23 01:00 UTC is 09:00 in China (+8): local midnight is 2026-11-22 16:00 UTC.
        let t = Time(1_795_395_600_000);
        let m = local_midnight(t, 8 * 3_600_000);
        assert_eq!(m.0 % 86_400_000, 16 * 3_600_000);
        assert!(t.0 - m.0 == 9 * 3_600_000);
        assert_eq!(local_midnight(t, 0).0, t.0 - 3_600_000);
    }
}
