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

/// The query of an interval report: `from`, `to`, `interval`, `format`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportQuery {
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

/// A checked [`ReportQuery`].
pub(crate) struct Range {
    /// Start (ms).
    pub from: Time,
    /// End, exclusive (ms).
    pub to: Time,
    /// Length of one row.
    pub interval_ms: u64,
    /// CSV rather than JSON.
    pub csv: bool,
}

/// Check a report query, filling in the defaults (today so far, 15 minutes, JSON).
pub(crate) fn range(app: &AppState, q: &ReportQuery) -> ApiResult<Range> {
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

/// A figure for CSV: four decimals, empty when undefined.
pub(crate) fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_default()
}

/// Sum interval rows `(key, start, counts)` into buckets of the range's
/// interval length, keeping the rows that start within the range.
fn buckets<K: Ord, C: Default>(
    r: &Range,
    rows: impl IntoIterator<Item = (K, Time, C)>,
    add: impl Fn(&mut C, &C),
) -> BTreeMap<(K, u64), C> {
    let mut sums: BTreeMap<(K, u64), C> = BTreeMap::new();
    for (key, start, counts) in rows {
        if start >= r.from && start < r.to {
            let bucket = start.0 / r.interval_ms * r.interval_ms;
            add(sums.entry((key, bucket)).or_default(), &counts);
        }
    }
    sums
}

/// The KPI fold's report now.
fn report(app: &AppState) -> engine::kpi::KpiReport {
    app.live.with_kpi(|k| {
        k.fold.finish(crate::auth::now());
        k.fold.report()
    })
}

/// A CSV body: the header line, then one line per row of fields.
pub(crate) fn csv(header: &str, rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = format!("{header}\n");
    for fields in rows {
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

async fn queues(State(app): State<Arc<AppState>>, _caller: Caller, Q(q): Q<ReportQuery>) -> ApiResult<Response> {
    let r = range(&app, &q)?;
    let names: BTreeMap<QueueId, String> =
        app.live.read(|e, _, now| e.queue_views(now).into_iter().map(|q| (q.id, q.name)).collect()).await?;
    let rows = report(&app).intervals.into_iter().map(|row| (row.queue, row.start, row.counts));
    let rows: Vec<QueueRowOut> = buckets(&r, rows, QueueCounts::add)
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
    let header = "queue,name,start,end,offered,answered,abandoned,service_level,asa_seconds,abandon_rate,aht_seconds,\
                  longest_wait_seconds";
    let lines = rows.iter().map(|x| {
        vec![
            x.queue.0.to_string(),
            store::csv_field(&x.name),
            x.start.0.to_string(),
            x.end.0.to_string(),
            x.counts.offered.to_string(),
            x.counts.answered.to_string(),
            x.counts.abandoned.to_string(),
            opt(x.figures.sl.service_level),
            opt(x.figures.asa_seconds),
            opt(x.figures.abandon_rate),
            opt(x.figures.aht_seconds),
            format!("{:.1}", x.figures.longest_wait_seconds),
        ]
    });
    Ok(csv_response("queues.csv", csv(header, lines)))
}

async fn agents(State(app): State<Arc<AppState>>, _caller: Caller, Q(q): Q<ReportQuery>) -> ApiResult<Response> {
    let r = range(&app, &q)?;
    let names: BTreeMap<AgentId, String> =
        app.live.read(|e, _, _| e.agent_views().into_iter().map(|a| (a.id, a.name)).collect()).await?;
    let rows = report(&app).agent_intervals.into_iter().map(|row| (row.agent, row.start, row.counts));
    let rows: Vec<AgentRowOut> = buckets(&r, rows, AgentCounts::add)
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
    let header = "agent,name,start,end,offers,answered,missed,rejected,handled,aht_seconds,occupancy,utilisation";
    let lines = rows.iter().map(|x| {
        vec![
            x.agent.0.to_string(),
            store::csv_field(&x.name),
            x.start.0.to_string(),
            x.end.0.to_string(),
            x.counts.offers.to_string(),
            x.counts.answered.to_string(),
            x.counts.missed.to_string(),
            x.counts.rejected.to_string(),
            x.counts.handled.to_string(),
            opt(x.figures.aht_seconds),
            opt(x.figures.occupancy),
            opt(x.figures.utilisation),
        ]
    });
    Ok(csv_response("agents.csv", csv(header, lines)))
}

/// A CSV download named `name`.
pub(crate) fn csv_response(name: &str, body: String) -> Response {
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
