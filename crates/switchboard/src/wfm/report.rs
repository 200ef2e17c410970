//! The planner's report of a digital-twin run (`simulate --html FILE`):
//! one self-contained HTML file with inline SVG charts — forecast vs
//! history, required vs scheduled agents, and the twin's predicted service
//! level per interval with its 95 % confidence band — and the interval
//! table. No scripts, no style sheets or fonts from elsewhere.

use super::plan::html::{self, Line};
use super::twin::{Coverage, ForecastRow};
use ::wfm::forecast::{format_date, weekday};
use sim::twin::IntervalEstimate;
use std::collections::BTreeMap;
use std::fmt::Write as _;

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// What the report shows.
pub struct Report<'a> {
    /// Heading lines (files, replications, what-ifs), plain text.
    pub lines: Vec<String>,
    /// History rows (the same CSV format as a forecast), if given.
    pub history: Option<&'a [ForecastRow]>,
    /// Forecast rows.
    pub forecast: &'a [ForecastRow],
    /// Forecast interval, minutes.
    pub interval_minutes: u32,
    /// The simulated date.
    pub date: i64,
    /// Required and scheduled agents from the staffing file.
    pub coverage: &'a Coverage,
    /// The twin's intervals.
    pub estimates: &'a [IntervalEstimate],
    /// Day totals: (label, value).
    pub day: Vec<(String, String)>,
}

/// Offered per (day, minute), summed over queues.
fn totals(rows: &[ForecastRow]) -> BTreeMap<(i64, u32), f64> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry((r.day, r.minute)).or_insert(0.0) += r.offered;
    }
    m
}

/// Points of a series (x in hours from `first`); a gap of more than one
/// interval breaks the line.
fn points(series: &BTreeMap<(i64, u32), f64>, first: i64, minutes: u32) -> Vec<(f64, Option<f64>)> {
    let step = f64::from(minutes) / 60.0;
    let mut out = Vec::new();
    let mut prev: Option<f64> = None;
    for (&(day, minute), &v) in series {
        let x = 24.0 * (day - first) as f64 + f64::from(minute) / 60.0 + step / 2.0;
        if prev.is_some_and(|p| x - p > 1.5 * step) {
            out.push((x - step, None));
        }
        prev = Some(x);
        out.push((x, Some(v)));
    }
    out
}

fn clock_hours(text: &str) -> f64 {
    let mut it = text.split(':').map(|p| p.parse::<f64>().unwrap_or(0.0));
    let h = it.next().unwrap_or(0.0);
    let m = it.next().unwrap_or(0.0);
    h + m / 60.0
}

/// The whole page.
pub fn render(r: &Report<'_>) -> String {
    let mut body = String::new();
    for l in &r.lines {
        let _ = writeln!(body, "<p>{}</p>", html::escape(l));
    }
    let m = r.interval_minutes;
    let step = f64::from(m) / 60.0;

    // 1. Forecast vs history.
    let fc = totals(r.forecast);
    let hist = r.history.map(totals).unwrap_or_default();
    let f_first = fc.keys().next().map_or(r.date, |k| k.0);
    let f_last = fc.keys().next_back().map_or(r.date, |k| k.0);
    let h_last = hist.keys().next_back().map_or(f_first, |k| k.0);
    let first = if hist.is_empty() { f_first } else { (h_last - 13).max(hist.keys().next().map_or(h_last, |k| k.0)) };
    let shown: BTreeMap<(i64, u32), f64> = hist.into_iter().filter(|(k, _)| k.0 >= first).collect();
    let ticks: Vec<(f64, String)> = (0..=(f_last - first))
        .map(|d| (24.0 * d as f64, format!("{} {}", DAYS[weekday(first + d)], &format_date(first + d)[5..])))
        .collect();
    let mut lines = Vec::new();
    if !shown.is_empty() {
        lines.push(Line {
            label: "history (offered)".into(),
            color: "#1f77b4",
            dashed: false,
            points: points(&shown, first, m),
        });
    }
    lines.push(Line { label: "forecast".into(), color: "#d62728", dashed: true, points: points(&fc, first, m) });
    body.push_str("<h2>Forecast vs history</h2>");
    body.push_str(&html::chart(
        &format!("Offered contacts per {m} minutes, all queues (simulated day: {})", format_date(r.date)),
        "contacts",
        &ticks,
        &lines,
    ));

    // 2. Required vs scheduled agents on the simulated day.
    let wd = weekday(r.date);
    let mut required = Vec::new();
    let mut scheduled = Vec::new();
    let mut erlang_sl = Vec::new();
    let day_plan: Vec<_> = r.coverage.by_date.range((r.date, 0)..(r.date + 1, 0)).collect();
    if !day_plan.is_empty() {
        for (&(_, minute), &(req, sch, sl_sum, offered)) in day_plan {
            let x = f64::from(minute) / 60.0 + step / 2.0;
            required.push((x, Some(req)));
            scheduled.push((x, Some(sch)));
            if offered > 0.0 {
                erlang_sl.push((x, Some(100.0 * sl_sum / offered)));
            }
        }
    } else {
        let cov: Vec<_> = r.coverage.by_weekday.range((wd, 0)..(wd + 1, 0)).collect();
        let cstep =
            cov.windows(2).map(|w| f64::from(w[1].0.1.saturating_sub(w[0].0.1)) / 60.0).fold(f64::INFINITY, f64::min);
        let cstep = if cstep.is_finite() { cstep } else { step };
        for (&(_, minute), &(req, sch)) in cov {
            let x = f64::from(minute) / 60.0 + cstep / 2.0;
            required.push((x, Some(req)));
            scheduled.push((x, Some(sch)));
        }
    }
    let mut twin_agents = Vec::new();
    let mut sl_mean = Vec::new();
    let mut sl_low = Vec::new();
    let mut sl_high = Vec::new();
    for e in r.estimates {
        let x = clock_hours(&e.start) + step / 2.0;
        twin_agents.push((x, Some(e.agents.mean)));
        let has_calls = e.offered.mean > 0.0;
        let v = |f: f64| has_calls.then_some(100.0 * f);
        sl_mean.push((x, v(e.service_level.mean)));
        sl_low.push((x, v((e.service_level.mean - e.service_level.half_width).max(0.0))));
        sl_high.push((x, v((e.service_level.mean + e.service_level.half_width).min(1.0))));
    }
    let hour_ticks: Vec<(f64, String)> = (0..=24).step_by(2).map(|h| (f64::from(h), format!("{h:02}:00"))).collect();
    // Only the hours of the day with something to show.
    let clip = |v: Vec<(f64, Option<f64>)>, lo: f64, hi: f64| -> Vec<(f64, Option<f64>)> {
        v.into_iter().filter(|(x, _)| *x >= lo && *x <= hi).collect()
    };
    let lo = twin_agents.first().map_or(0.0, |p| p.0 - step);
    let hi = twin_agents.last().map_or(24.0, |p| p.0 + step);
    body.push_str(&format!("<h2>Agents on {} {}</h2>", DAYS[wd], format_date(r.date)));
    body.push_str(&html::chart(
        &format!("Required vs scheduled agents per {m} minutes, and the agents on the phones in the twin"),
        "agents",
        &hour_ticks,
        &[
            Line { label: "required".into(), color: "#1f77b4", dashed: false, points: clip(required, lo, hi) },
            Line { label: "scheduled".into(), color: "#d62728", dashed: false, points: clip(scheduled, lo, hi) },
            Line { label: "on the phones (twin)".into(), color: "#2ca02c", dashed: true, points: twin_agents },
        ],
    ));

    // 3. Predicted service level.
    let mut sl_lines = vec![
        Line { label: "twin: predicted SL".into(), color: "#2ca02c", dashed: false, points: sl_mean },
        Line { label: "95 % low".into(), color: "#98df8a", dashed: true, points: sl_low },
        Line { label: "95 % high".into(), color: "#98df8a", dashed: true, points: sl_high },
    ];
    if !erlang_sl.is_empty() {
        sl_lines.push(Line { label: "Erlang (plan)".into(), color: "#7f7f7f", dashed: true, points: erlang_sl });
    }
    body.push_str("<h2>Predicted service level</h2>");
    body.push_str(&html::chart(
        &format!("Service level per {m} minutes (%), mean and 95 % confidence interval over replications"),
        "service level %",
        &hour_ticks,
        &sl_lines,
    ));

    body.push_str("<h2>Day</h2>");
    let head: Vec<&str> = r.day.iter().map(|(k, _)| k.as_str()).collect();
    body.push_str(&html::table(&head, &[r.day.iter().map(|(_, v)| v.clone()).collect()]));
    body.push_str("<h2>Intervals</h2>");
    let pm = |e: &sim::Estimate, scale: f64, digits: usize| {
        format!("{:.d$} ± {:.d$}", e.mean * scale, e.half_width * scale, d = digits)
    };
    let rows: Vec<Vec<String>> = r
        .estimates
        .iter()
        .map(|e| {
            vec![
                format!("{}–{}", e.start, e.end),
                format!("{:.1}", e.offered.mean),
                format!("{:.1}", e.agents.mean),
                pm(&e.service_level, 100.0, 1),
                pm(&e.asa_seconds, 1.0, 1),
                pm(&e.abandon_rate, 100.0, 1),
                pm(&e.occupancy, 100.0, 1),
            ]
        })
        .collect();
    body.push_str(&html::table(
        &["interval", "offered", "agents", "service level %", "ASA s", "abandoned %", "occupancy %"],
        &rows,
    ));
    html::page("Switchboard digital twin", &body)
}
