//! `wfm history`, `wfm forecast` and `wfm staff`: a synthetic interval
//! history, a forecast with its back-test, and a staffing plan — all
//! through the CSV format `interval_start,queue,offered,aht_seconds`.

pub(crate) mod html;

use super::{non_negative, positive, share, shrinkage};
use crate::UsageError;
use ::wfm::forecast::{
    self, BacktestRow, ForecastConfig, IntervalSeries, Override, SyntheticConfig, format_date, format_instant,
    parse_date, parse_instant, weekday,
};
use ::wfm::{PlanInput, PlanSettings, StaffingPlan, Target, WfmError, staffing_plan};
use anyhow::Result;
use clap::ValueEnum;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::IsTerminal as _;

/// The CSV header of histories and forecasts.
pub const HEADER: &str = "interval_start,queue,offered,aht_seconds";

/// Output format of `wfm forecast` and `wfm staff`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// Tables.
    Text,
    /// One JSON object.
    Json,
    /// CSV rows only (the forecast CSV is `wfm staff`'s input).
    Csv,
}

/// Flags of `wfm history`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  \
    switchboard wfm history --weeks 16 --interval-minutes 15 --seed 1 > history.csv")]
pub struct HistoryArgs {
    /// Whole weeks of history.
    #[arg(long, value_name = "W", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=520))]
    weeks: u32,
    /// Interval length: 15, 30 or 60 minutes.
    #[arg(long, value_name = "M", default_value_t = 15, value_parser = interval_minutes)]
    interval_minutes: u32,
    /// Seed of the random numbers (same seed, same history).
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Queue name.
    #[arg(long, value_name = "NAME", default_value = "support")]
    queue: String,
    /// First day, YYYY-MM-DD.
    #[arg(long, value_name = "DATE", default_value = "2026-08-03", value_parser = date)]
    start: i64,
    /// Expected calls on a plain Wednesday at the start (Mondays ×1.3,
    /// Sundays ×0.25; month start up to ×1.35; holidays ×0.3).
    #[arg(long, value_name = "N", default_value_t = 3000.0, value_parser = positive)]
    daily_volume: f64,
}

/// Flags of `wfm forecast`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    switchboard wfm forecast --history history.csv\n  \
    switchboard wfm forecast --history history.csv --interval-minutes 30 --override 2026-12-01=1.4 --format csv \
    > forecast.csv\n  \
    switchboard wfm forecast --history history.csv --set-volume 2026-11-24T10:00:00Z=900 --format json")]
pub struct ForecastArgs {
    /// History CSV (interval_start,queue,offered,aht_seconds), sorted by
    /// time within each queue; `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    history: String,
    /// Days to forecast after the last day of history.
    #[arg(long, value_name = "D", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=366))]
    horizon_days: u32,
    /// Interval length of the forecast (a multiple of the history's);
    /// default: the history's.
    #[arg(long, value_name = "M", value_parser = interval_minutes)]
    interval_minutes: Option<u32>,
    /// Multiply a forecast day (campaign, launch, outage): DATE=MULTIPLIER,
    /// e.g. 2026-12-01=1.4; QUEUE@DATE=MULTIPLIER for one queue only.
    /// Repeatable.
    #[arg(long = "override", value_name = "[QUEUE@]DATE=MULTIPLIER", value_parser = day_override)]
    overrides: Vec<(Option<String>, i64, f64)>,
    /// Set one forecast interval's volume: START=CALLS with START an
    /// interval start such as 2026-11-24T10:00:00Z; QUEUE@START=CALLS for
    /// one queue only. Repeatable.
    #[arg(long, value_name = "[QUEUE@]START=CALLS", value_parser = volume_override)]
    set_volume: Vec<(Option<String>, i64, u32, f64)>,
    /// A day of history that was a one-off (outage, past campaign),
    /// YYYY-MM-DD: left out when fitting. Repeatable.
    #[arg(long, value_name = "DATE", value_parser = date)]
    exclude: Vec<i64>,
    /// An extra public holiday, YYYY-MM-DD. Repeatable.
    #[arg(long, value_name = "DATE", value_parser = date)]
    holiday: Vec<i64>,
    /// Do not use the built-in holidays (New Year, Memorial Day, July 4,
    /// Labor Day, Thanksgiving, Christmas).
    #[arg(long)]
    no_default_holidays: bool,
    /// Back-test weeks (rolling origin, horizon one week); 0 for none.
    /// Fewer when the history is too short.
    #[arg(long, value_name = "K", default_value_t = 4)]
    backtest_weeks: usize,
    /// Output format. CSV is the forecast only (the input of `wfm staff`);
    /// text and JSON add the back-test and the fitted model.
    #[arg(long, value_enum, default_value_t = TableFormat::Text)]
    format: TableFormat,
    /// Also write an HTML report (history vs forecast chart, back-test) to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<std::path::PathBuf>,
}

/// Flags of `wfm staff`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  \
    switchboard wfm staff --forecast forecast.csv --sl-threshold 20 --target-sl 80 --patience 180 --shrinkage 30")]
pub struct StaffArgs {
    /// Forecast CSV (the output of `wfm forecast --format csv`); `-` reads
    /// standard input.
    #[arg(long, value_name = "FILE")]
    forecast: String,
    /// Service-level threshold T: "answered within T seconds".
    #[arg(long, value_name = "SECONDS", value_parser = non_negative, default_value_t = 20.0)]
    sl_threshold: f64,
    /// Target service level per interval, a fraction (0.8) or a percentage (80).
    #[arg(long, value_name = "P", value_parser = share)]
    target_sl: f64,
    /// Mean patience of callers: Erlang A. Without it, Erlang C.
    #[arg(long, value_name = "SECONDS", value_parser = positive)]
    patience: Option<f64>,
    /// Shrinkage: scheduled = ⌈required / (1 − shrinkage)⌉.
    #[arg(long, value_name = "F", value_parser = shrinkage, default_value = "0")]
    shrinkage: f64,
    /// Occupancy cap (fraction or percentage).
    #[arg(long, value_name = "X", value_parser = share)]
    max_occupancy: Option<f64>,
    /// ASA cap (of answered calls), seconds.
    #[arg(long, value_name = "SECONDS", value_parser = positive)]
    max_asa: Option<f64>,
    /// Abandonment cap (needs --patience).
    #[arg(long, value_name = "P", value_parser = share)]
    max_abandon: Option<f64>,
    /// Interval length of the forecast; default: inferred from the interval starts.
    #[arg(long, value_name = "M", value_parser = interval_minutes)]
    interval_minutes: Option<u32>,
    /// Output format. CSV has one row per interval.
    #[arg(long, value_enum, default_value_t = TableFormat::Text)]
    format: TableFormat,
    /// Also write an HTML report (offered load, required and scheduled
    /// agents per interval) to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<std::path::PathBuf>,
}

fn interval_minutes(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(m) if forecast::valid_interval(m) => Ok(m),
        _ => Err(format!("must be 15, 30 or 60, not \"{s}\"")),
    }
}

fn date(s: &str) -> Result<i64, String> {
    parse_date(s.trim())
}

/// `QUEUE@rest` → (Some(QUEUE), rest); `rest` → (None, rest).
fn scoped(s: &str) -> (Option<String>, &str) {
    match s.split_once('@') {
        Some((q, rest)) => (Some(q.trim().to_string()), rest),
        None => (None, s),
    }
}

fn day_override(s: &str) -> Result<(Option<String>, i64, f64), String> {
    let (queue, rest) = scoped(s);
    let (d, m) = rest.split_once('=').ok_or_else(|| format!("\"{s}\" is not DATE=MULTIPLIER, e.g. 2026-12-01=1.4"))?;
    Ok((queue, parse_date(d.trim())?, non_negative(m)?))
}

fn volume_override(s: &str) -> Result<(Option<String>, i64, u32, f64), String> {
    let (queue, rest) = scoped(s);
    let (t, v) =
        rest.rsplit_once('=').ok_or_else(|| format!("\"{s}\" is not START=CALLS, e.g. 2026-11-24T10:00:00Z=900"))?;
    let (day, minute) = parse_instant(t.trim())?;
    Ok((queue, day, minute, non_negative(v)?))
}

/// One data row of a history or forecast CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Line number in the file (1 is the header).
    pub line: usize,
    /// Day (days since 1970-01-01).
    pub day: i64,
    /// Minute of the day the interval starts at.
    pub minute: u32,
    /// Queue name.
    pub queue: String,
    /// Contacts offered.
    pub offered: f64,
    /// Mean handle time, seconds.
    pub aht_seconds: f64,
}

/// A parsed CSV: rows in file order and the interval length the starts
/// are on (15, 30 or 60 minutes: the coarsest grid all starts fit).
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The rows.
    pub rows: Vec<Row>,
    /// Interval length in minutes.
    pub interval_minutes: u32,
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Parses `interval_start,queue,offered,aht_seconds` CSV. Errors name the
/// file (`name`) and line: wrong header, wrong field count, bad time,
/// number or queue, a time off the 15-minute grid, intervals not in time
/// order or repeated within a queue. Blank lines are skipped; CRLF and a
/// UTF-8 byte-order mark are accepted. `aht_seconds` may be empty when
/// nothing was offered.
pub fn parse_csv(name: &str, text: &str) -> Result<Table, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split('\n').enumerate().map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
    let header = lines.next().map(|(_, l)| l).unwrap_or("");
    let fields: Vec<&str> = header.split(',').map(str::trim).collect();
    if fields != HEADER.split(',').collect::<Vec<_>>() {
        return Err(format!("{name} line 1: the header must be \"{HEADER}\", not \"{header}\""));
    }
    let mut rows = Vec::new();
    let mut last: BTreeMap<String, (i64, u32, usize)> = BTreeMap::new();
    let mut grid = 60;
    for (line, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        let at = |msg: String| format!("{name} line {line}: {msg}");
        let f: Vec<&str> = text.split(',').map(str::trim).collect();
        if f.len() != 4 {
            return Err(at(format!("expected 4 fields ({HEADER}), found {}", f.len())));
        }
        let (day, minute) = parse_instant(f[0]).map_err(|e| at(format!("interval_start: {e}")))?;
        if !minute.is_multiple_of(15) {
            return Err(at(format!("interval_start {} is not on a 15-, 30- or 60-minute grid", f[0])));
        }
        grid = gcd(grid, minute % 60);
        let queue = f[1];
        if queue.is_empty() {
            return Err(at("the queue is empty".into()));
        }
        let offered = non_negative(f[2]).map_err(|e| at(format!("offered: {e}")))?;
        let aht_seconds = if f[3].is_empty() && offered == 0.0 {
            0.0
        } else {
            let a = non_negative(f[3]).map_err(|e| at(format!("aht_seconds: {e}")))?;
            if a == 0.0 && offered > 0.0 {
                return Err(at("aht_seconds must be greater than 0 when contacts were offered".into()));
            }
            a
        };
        if let Some(&(d, m, prev)) = last.get(queue)
            && (day, minute) <= (d, m)
        {
            let what = if (day, minute) == (d, m) { "repeats" } else { "comes before" };
            return Err(at(format!(
                "interval {} {what} the interval of queue \"{queue}\" on line {prev}: intervals must be in time \
                 order and appear once per queue",
                f[0]
            )));
        }
        last.insert(queue.to_string(), (day, minute, line));
        rows.push(Row { line, day, minute, queue: queue.to_string(), offered, aht_seconds });
    }
    if rows.is_empty() {
        return Err(format!("{name}: no data rows after the header"));
    }
    let interval_minutes = if grid == 0 { 60 } else { grid };
    Ok(Table { rows, interval_minutes })
}

fn read(path: &str) -> Result<String> {
    let text = if path == "-" { std::io::read_to_string(std::io::stdin()) } else { std::fs::read_to_string(path) };
    text.map_err(|e| UsageError(format!("cannot read {path}: {e}")).into())
}

/// The last day of `queue` if it looks cut off: its last row starts
/// earlier in the day than the last row of the same weekday a week before.
fn partial_last_day(table: &Table, queue: &str) -> Option<(i64, u32, u32)> {
    let mut last_minute: BTreeMap<i64, u32> = BTreeMap::new();
    for r in table.rows.iter().filter(|r| r.queue == queue) {
        last_minute.insert(r.day, r.minute);
    }
    let (&day, &minute) = last_minute.iter().next_back()?;
    let usual = *last_minute.get(&(day - 7))?;
    (minute < usual).then_some((day, minute, usual))
}

/// Dense series per queue (in order of first appearance), at the table's interval.
fn series_by_queue(table: &Table) -> Result<Vec<IntervalSeries>> {
    let mut order: Vec<String> = Vec::new();
    let mut span: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for r in &table.rows {
        let e = span.entry(&r.queue).or_insert_with(|| {
            order.push(r.queue.clone());
            (r.day, r.day)
        });
        e.1 = r.day;
    }
    let mut out = Vec::new();
    for q in &order {
        let (first, last) = span[q.as_str()];
        let mut s = IntervalSeries::zeros(q.clone(), table.interval_minutes, first, (last - first + 1) as usize)
            .map_err(|e| UsageError(e.to_string()))?;
        for r in table.rows.iter().filter(|r| &r.queue == q) {
            s.set((r.day - first) as usize, (r.minute / table.interval_minutes) as usize, r.offered, r.aht_seconds);
        }
        out.push(s);
    }
    Ok(out)
}

/// `wfm history`.
pub fn history(args: HistoryArgs) -> Result<()> {
    let config = SyntheticConfig {
        queue: args.queue.clone(),
        first_day: args.start,
        weeks: args.weeks,
        interval_minutes: args.interval_minutes,
        seed: args.seed,
        base_daily_volume: args.daily_volume,
        ..SyntheticConfig::default()
    };
    if args.queue.contains(',') || args.queue.trim().is_empty() {
        return Err(UsageError("--queue: a name without commas".into()).into());
    }
    let series = forecast::synthetic_history(&config).map_err(|e| UsageError(e.to_string()))?;
    let mut out = String::with_capacity(series.offered().len() * 48);
    out.push_str(HEADER);
    out.push('\n');
    for r in series.records() {
        let (open, close) = forecast::opening_hours(weekday(r.day));
        if r.start_minute + args.interval_minutes <= open || r.start_minute >= close {
            continue;
        }
        let _ =
            writeln!(out, "{},{},{},{}", format_instant(r.day, r.start_minute), series.queue, r.offered, r.aht_seconds);
    }
    crate::emit(&out)
}

/// One queue's forecast, model and back-test.
struct QueueForecast {
    /// The history at the forecast's interval.
    history: IntervalSeries,
    result: forecast::ForecastResult,
    backtest: Vec<BacktestRow>,
    backtest_weeks: usize,
    /// (weekday, slot) seen in history at the forecast's interval.
    seen: BTreeSet<(usize, usize)>,
}

/// `wfm forecast`.
pub fn forecast_cmd(args: ForecastArgs) -> Result<()> {
    let table = parse_csv(&args.history, &read(&args.history)?).map_err(UsageError)?;
    let base = table.interval_minutes;
    let minutes = args.interval_minutes.unwrap_or(base);
    if !minutes.is_multiple_of(base) {
        return Err(UsageError(format!(
            "--interval-minutes {minutes}: the history is in {base}-minute intervals; forecast in a multiple of that"
        ))
        .into());
    }
    let all = series_by_queue(&table)?;
    let named = args.overrides.iter().map(|o| &o.0).chain(args.set_volume.iter().map(|o| &o.0));
    for q in named.flatten() {
        if !all.iter().any(|h| &h.queue == q) {
            return Err(UsageError(format!("override for queue \"{q}\": no such queue in {}", args.history)).into());
        }
    }
    let interactive = std::io::stderr().is_terminal();
    let mut queues = Vec::new();
    let mut first_out = i64::MAX;
    for hist in &all {
        // A history exported in the middle of a day: forecast that day
        // instead of reading it as a quiet one.
        let partial = partial_last_day(&table, &hist.queue);
        let hist = &match partial {
            Some((day, minute, usual)) => {
                eprintln!(
                    "note: queue \"{}\": {} ends at {} but a week earlier at {}; left out as incomplete and forecast",
                    hist.queue,
                    format_date(day),
                    &format_instant(day, minute)[11..16],
                    &format_instant(day, usual)[11..16]
                );
                hist.truncated(hist.days() - 1)
            }
            None => hist.clone(),
        };
        let last = hist.first_day + hist.days() as i64 - 1;
        let mut holidays = args.holiday.clone();
        if !args.no_default_holidays {
            let (y0, y1) = (forecast::civil_from_days(hist.first_day).0, forecast::civil_from_days(last).0 + 2);
            holidays.extend(forecast::default_holidays(y0, y1));
        }
        holidays.sort_unstable();
        holidays.dedup();
        let horizon = args.horizon_days as usize;
        let (from, to) = (last + 1, last + horizon as i64);
        first_out = first_out.min(from);
        let mut overrides = Vec::new();
        let other_queue = |q: &Option<String>| q.as_ref().is_some_and(|q| q != &hist.queue);
        for &(ref q, day, multiplier) in &args.overrides {
            if other_queue(q) {
                continue;
            }
            if day < from || day > to {
                return Err(UsageError(format!(
                    "--override {}: outside the forecast of queue \"{}\" ({} to {})",
                    format_date(day),
                    hist.queue,
                    format_date(from),
                    format_date(to)
                ))
                .into());
            }
            overrides.push(Override::DayMultiplier { day, multiplier });
        }
        for &(ref q, day, start_minute, offered) in &args.set_volume {
            if other_queue(q) {
                continue;
            }
            if day < from || day > to || !start_minute.is_multiple_of(minutes) {
                return Err(UsageError(format!(
                    "--set-volume {}: not a {minutes}-minute interval start of the forecast of queue \"{}\" \
                     ({} to {})",
                    format_instant(day, start_minute),
                    hist.queue,
                    format_date(from),
                    format_date(to)
                ))
                .into());
            }
            overrides.push(Override::Volume { day, start_minute, offered });
        }
        let config = ForecastConfig {
            horizon_days: horizon,
            holidays,
            overrides,
            excluded_days: args.exclude.clone(),
            ..ForecastConfig::default()
        };
        let coarse = hist.aggregate(minutes).map_err(|e| UsageError(e.to_string()))?;
        let result =
            forecast::forecast(&coarse, &config).map_err(|e| UsageError(format!("queue \"{}\": {e}", hist.queue)))?;
        let weeks = args.backtest_weeks.min(hist.days().saturating_sub(14) / 7);
        let granularities: Vec<u32> = [15, 30, 60].into_iter().filter(|g: &u32| g.is_multiple_of(base)).collect();
        let queue = hist.queue.clone();
        let mut progress = |done: usize, total: usize| {
            if interactive {
                eprint!("\rback-test {queue}: {done}/{total} fits");
            }
        };
        let backtest = if weeks > 0 {
            forecast::backtest(hist, &config, weeks, &granularities, &mut progress)
                .map_err(|e| UsageError(format!("queue \"{}\": {e}", hist.queue)))?
        } else {
            Vec::new()
        };
        if interactive && weeks > 0 {
            eprint!("\r{:60}\r", "");
        }
        let seen = table
            .rows
            .iter()
            .filter(|r| r.queue == hist.queue)
            .map(|r| (weekday(r.day), (r.minute / minutes) as usize))
            .collect();
        queues.push(QueueForecast { history: coarse, result, backtest, backtest_weeks: weeks, seen });
    }
    let rows = forecast_rows(&queues);
    if let Some(path) = &args.html {
        std::fs::write(path, forecast_html(&queues, minutes))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    let text = match args.format {
        TableFormat::Csv => {
            let mut out = String::from(HEADER);
            out.push('\n');
            for (day, minute, q, offered, aht) in &rows {
                let _ = writeln!(out, "{},{q},{offered:.2},{aht:.1}", format_instant(*day, *minute));
            }
            out
        }
        TableFormat::Json => {
            let v = json!({
                "interval_minutes": minutes,
                "history_interval_minutes": base,
                "horizon_days": args.horizon_days,
                "first_day": format_date(first_out),
                "queues": queues.iter().map(|q| json!({
                    "queue": q.result.series.queue,
                    "holt_winters": q.result.holt_winters,
                    "calendar_effects": q.result.effects,
                    "backtest_weeks": q.backtest_weeks,
                    "backtest": q.backtest,
                    "offered_total": q.result.series.offered().iter().sum::<f64>(),
                })).collect::<Vec<Value>>(),
                "forecast": rows.iter().map(|(d, m, q, o, a)| json!({
                    "interval_start": format_instant(*d, *m),
                    "queue": q,
                    "offered": o,
                    "aht_seconds": a,
                })).collect::<Vec<Value>>(),
            });
            serde_json::to_string_pretty(&v)? + "\n"
        }
        TableFormat::Text => render_forecast(&queues, &rows, minutes),
    };
    crate::emit(&text)
}

type ForecastRow = (i64, u32, String, f64, f64);

/// Day ticks for a chart starting on `first` (x in hours).
fn day_ticks(first: i64, days: i64) -> Vec<(f64, String)> {
    const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    (0..days)
        .map(|d| (24.0 * d as f64, format!("{} {}", NAMES[weekday(first + d)], &format_date(first + d)[5..])))
        .collect()
}

fn series_points(s: &IntervalSeries, chart_first: i64, from_day: usize) -> Vec<(f64, Option<f64>)> {
    let m = f64::from(s.interval_minutes) / 60.0;
    s.records()
        .filter(|r| r.day >= s.first_day + from_day as i64)
        .map(|r| (24.0 * (r.day - chart_first) as f64 + f64::from(r.start_minute) / 60.0 + m / 2.0, Some(r.offered)))
        .collect()
}

fn forecast_html(queues: &[QueueForecast], minutes: u32) -> String {
    let mut body = String::new();
    for q in queues {
        let (h, f) = (&q.history, &q.result.series);
        let shown = h.days().min(14);
        let chart_first = h.first_day + (h.days() - shown) as i64;
        let lines = [
            html::Line {
                label: "history (offered)".into(),
                color: "#1f77b4",
                dashed: false,
                points: series_points(h, chart_first, h.days() - shown),
            },
            html::Line {
                label: "forecast".into(),
                color: "#d62728",
                dashed: true,
                points: series_points(f, chart_first, 0),
            },
        ];
        let span = shown as i64 + f.days() as i64;
        let _ = write!(
            body,
            "<h2>Queue {}</h2><p>Forecast {} to {}: {:.0} contacts in {minutes}-minute intervals. Holt-Winters α {} β {}              γ {} φ {}; holidays ×{:.2}; month start ×{}.</p>",
            html::escape(&f.queue),
            format_date(f.first_day),
            format_date(f.first_day + f.days() as i64 - 1),
            f.offered().iter().sum::<f64>(),
            q.result.holt_winters.alpha,
            q.result.holt_winters.beta,
            q.result.holt_winters.gamma,
            q.result.holt_winters.phi,
            q.result.effects.holiday,
            q.result.effects.month_start.iter().map(|m| format!("{m:.2}")).collect::<Vec<_>>().join(" ×"),
        );
        body.push_str(&html::chart(
            &format!("Offered per {minutes} minutes: last {shown} days of history and the forecast"),
            "contacts",
            &day_ticks(chart_first, span),
            &lines,
        ));
        if !q.backtest.is_empty() {
            let _ = write!(
                body,
                "<p>Back-test: rolling origin over the last {} weeks, horizon one week. WAPE = Σ|A−F|/ΣA; the Poisson                  floor Σ sqrt(2λ/π)/Σλ is the WAPE a perfect forecast would still have from Poisson noise alone.</p>",
                q.backtest_weeks
            );
            let rows: Vec<Vec<String>> = q
                .backtest
                .iter()
                .map(|b| {
                    vec![
                        if b.interval_minutes == 1440 { "day".into() } else { format!("{} min", b.interval_minutes) },
                        pct(b.method.wape),
                        pct(b.seasonal_naive.wape),
                        pct(b.poisson_floor_wape),
                        pct(b.method.mape),
                        pct(b.seasonal_naive.mape),
                        pct(b.method.aht_wape),
                        pct(b.seasonal_naive.aht_wape),
                    ]
                })
                .collect();
            body.push_str(&html::table(
                &[
                    "interval",
                    "method WAPE",
                    "seasonal-naive WAPE",
                    "Poisson floor",
                    "method MAPE",
                    "seasonal-naive MAPE",
                    "method AHT error",
                    "seasonal-naive AHT error",
                ],
                &rows,
            ));
        }
    }
    html::page("Switchboard forecast", &body)
}

fn staff_html(
    rows: &[(&Row, ::wfm::PlannedInterval)],
    plans: &[(String, StaffingPlan)],
    minutes: u32,
    title: &str,
) -> String {
    let mut body = format!("<p>{}</p>", html::escape(title));
    let step = f64::from(minutes) / 60.0;
    for (q, plan) in plans {
        let mine: Vec<&(&Row, ::wfm::PlannedInterval)> = rows.iter().filter(|(r, _)| &r.queue == q).collect();
        let Some(first) = mine.first().map(|(r, _)| r.day) else { continue };
        let last = mine.last().map_or(first, |(r, _)| r.day);
        let mut points: [Vec<(f64, Option<f64>)>; 3] = Default::default();
        let mut prev: Option<f64> = None;
        for (r, p) in &mine {
            let x = 24.0 * (r.day - first) as f64 + f64::from(r.minute) / 60.0 + step / 2.0;
            if prev.is_some_and(|px| x - px > 1.5 * step) {
                for line in &mut points {
                    line.push((x - step, None));
                }
            }
            prev = Some(x);
            points[0].push((x, Some(p.offered_load_erlangs)));
            points[1].push((x, Some(f64::from(p.required_agents))));
            points[2].push((x, Some(f64::from(p.scheduled_agents))));
        }
        let [load, required, scheduled] = points;
        let lines = [
            html::Line { label: "offered load (Erlangs)".into(), color: "#7f7f7f", dashed: true, points: load },
            html::Line { label: "required agents".into(), color: "#1f77b4", dashed: false, points: required },
            html::Line { label: "scheduled agents".into(), color: "#d62728", dashed: false, points: scheduled },
        ];
        let _ = write!(body, "<h2>Queue {}</h2>", html::escape(q));
        body.push_str(&html::chart(
            &format!("Agents per {minutes}-minute interval"),
            "agents",
            &day_ticks(first, last - first + 1),
            &lines,
        ));
        body.push_str(&html::table(
            &[
                "contacts",
                "workload h",
                "required agent-h",
                "peak required",
                "scheduled agent-h",
                "peak scheduled",
                "service level",
            ],
            &[vec![
                format!("{:.0}", plan.offered),
                format!("{:.1}", plan.workload_hours),
                format!("{:.1}", plan.required_agent_hours),
                plan.peak_required_agents.to_string(),
                format!("{:.1}", plan.scheduled_agent_hours),
                plan.peak_scheduled_agents.to_string(),
                pct(plan.service_level),
            ]],
        ));
    }
    html::page("Switchboard staffing plan", &body)
}

/// The intervals to print: those open in history (seen for that weekday)
/// or with forecast volume, in time order, queues interleaved.
fn forecast_rows(queues: &[QueueForecast]) -> Vec<ForecastRow> {
    let mut rows = Vec::new();
    for q in queues {
        let s = &q.result.series;
        let m = s.interval_minutes;
        for r in s.records() {
            let slot = (r.start_minute / m) as usize;
            if r.offered > 0.0 || q.seen.contains(&(weekday(r.day), slot)) {
                rows.push((r.day, r.start_minute, s.queue.clone(), r.offered, r.aht_seconds));
            }
        }
    }
    rows.sort_by_key(|r| (r.0, r.1));
    rows
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

fn render_forecast(queues: &[QueueForecast], rows: &[ForecastRow], minutes: u32) -> String {
    let mut out = String::new();
    for q in queues {
        let r = &q.result;
        let s = &r.series;
        let _ = writeln!(
            out,
            "Queue {}: forecast {} to {} in {minutes}-minute intervals, {:.0} contacts",
            s.queue,
            format_date(s.first_day),
            format_date(s.first_day + s.days() as i64 - 1),
            s.offered().iter().sum::<f64>()
        );
        let hw = &r.holt_winters;
        let _ = writeln!(
            out,
            "  daily totals: Holt-Winters α {} β {} γ {} φ {}, one-step error {} of the mean day",
            hw.alpha,
            hw.beta,
            hw.gamma,
            hw.phi,
            pct(hw.one_step_relative_mae)
        );
        let e = &r.effects;
        let _ = writeln!(
            out,
            "  calendar: holidays ×{:.2} ({} in history), month start days 1–3 ×{}",
            e.holiday,
            e.holidays_seen,
            e.month_start.iter().map(|m| format!("{m:.2}")).collect::<Vec<_>>().join(" ×")
        );
        if q.backtest.is_empty() {
            let _ = writeln!(out, "  back-test: none (needs 3 weeks of history or more)");
        } else {
            let _ = writeln!(
                out,
                "\n  Back-test, rolling origin over the last {} weeks, horizon 1 week (WAPE = Σ|A−F|/ΣA; MAPE over \
                 intervals with A > 0;\n  Poisson floor = Σ sqrt(2λ/π) / Σλ with λ the forecast: the WAPE of a \
                 perfect forecast of Poisson arrivals;\n  AHT = workload-weighted AHT error Σ A·|AHT_A − AHT_F| / Σ A·AHT_A)",
                q.backtest_weeks
            );
            let _ = writeln!(
                out,
                "  {:>8} {:>12} {:>12} {:>12} {:>9} {:>12} {:>11} {:>10} {:>10}",
                "interval",
                "method WAPE",
                "naive WAPE",
                "floor WAPE",
                "vs floor",
                "method MAPE",
                "naive MAPE",
                "method AHT",
                "naive AHT"
            );
            for b in &q.backtest {
                let _ = writeln!(
                    out,
                    "  {:>8} {:>12} {:>12} {:>12} {:>8.2}× {:>12} {:>11} {:>10} {:>10}",
                    if b.interval_minutes == 1440 { "day".to_string() } else { format!("{} m", b.interval_minutes) },
                    pct(b.method.wape),
                    pct(b.seasonal_naive.wape),
                    pct(b.poisson_floor_wape),
                    if b.poisson_floor_wape > 0.0 { b.method.wape / b.poisson_floor_wape } else { 0.0 },
                    pct(b.method.mape),
                    pct(b.seasonal_naive.mape),
                    pct(b.method.aht_wape),
                    pct(b.seasonal_naive.aht_wape)
                );
            }
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{:<22} {:<16} {:>10} {:>12}", "interval_start", "queue", "offered", "aht_seconds");
    for (d, m, q, o, a) in rows {
        let _ = writeln!(out, "{:<22} {:<16} {:>10.2} {:>12.1}", format_instant(*d, *m), q, o, a);
    }
    out
}

fn wfm_usage(e: WfmError) -> anyhow::Error {
    UsageError(e.to_string()).into()
}

/// `wfm staff`.
pub fn staff(args: StaffArgs) -> Result<()> {
    if args.target_sl >= 1.0 {
        return Err(UsageError("--target-sl: 100 % cannot be met; give a value below 100".into()).into());
    }
    if args.max_abandon.is_some() && args.patience.is_none() {
        return Err(UsageError("--max-abandon needs --patience (without it nobody abandons)".into()).into());
    }
    let table = parse_csv(&args.forecast, &read(&args.forecast)?).map_err(UsageError)?;
    let minutes = args.interval_minutes.unwrap_or(table.interval_minutes);
    if let Some(r) = table.rows.iter().find(|r| !r.minute.is_multiple_of(minutes)) {
        return Err(UsageError(format!(
            "{} line {}: {} is not on the {minutes}-minute grid",
            args.forecast,
            r.line,
            format_instant(r.day, r.minute)
        ))
        .into());
    }
    let settings = PlanSettings {
        interval_minutes: minutes,
        target: Target {
            sl_threshold_seconds: args.sl_threshold,
            service_level: Some(args.target_sl),
            max_asa_seconds: args.max_asa,
            max_abandon: args.max_abandon,
            max_occupancy: args.max_occupancy,
        },
        patience_seconds: args.patience,
        shrinkage: args.shrinkage,
    };
    let mut queues: Vec<String> = Vec::new();
    for r in &table.rows {
        if !queues.contains(&r.queue) {
            queues.push(r.queue.clone());
        }
    }
    // Plan per queue, then put rows back in file order.
    let mut planned: Vec<Option<::wfm::PlannedInterval>> = vec![None; table.rows.len()];
    let mut plans: Vec<(String, StaffingPlan)> = Vec::new();
    for q in &queues {
        let idx: Vec<usize> = (0..table.rows.len()).filter(|&i| &table.rows[i].queue == q).collect();
        let inputs: Vec<PlanInput> = idx
            .iter()
            .map(|&i| PlanInput { offered: table.rows[i].offered, aht_seconds: table.rows[i].aht_seconds })
            .collect();
        let plan = staffing_plan(&inputs, &settings).map_err(wfm_usage)?;
        for (k, &i) in idx.iter().enumerate() {
            planned[i] = Some(plan.intervals[k]);
        }
        plans.push((q.clone(), plan));
    }
    let rows: Vec<(&Row, ::wfm::PlannedInterval)> =
        table.rows.iter().zip(planned).filter_map(|(r, p)| p.map(|p| (r, p))).collect();
    let model = if args.patience.is_some() { "erlang_a" } else { "erlang_c" };
    if let Some(path) = &args.html {
        let title = format!(
            "{} {} answered within {} s, shrinkage {}.",
            if args.patience.is_some() { "Erlang A:" } else { "Erlang C:" },
            pct(args.target_sl),
            args.sl_threshold,
            pct(args.shrinkage)
        );
        std::fs::write(path, staff_html(&rows, &plans, minutes, &title))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    let text = match args.format {
        TableFormat::Csv => {
            let mut out = String::from(
                "interval_start,queue,offered,aht_seconds,required_agents,scheduled_agents,service_level,\
                 asa_seconds,occupancy,p_abandon\n",
            );
            for (r, p) in &rows {
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{:.4},{:.2},{:.4},{:.4}",
                    format_instant(r.day, r.minute),
                    r.queue,
                    r.offered,
                    r.aht_seconds,
                    p.required_agents,
                    p.scheduled_agents,
                    p.service_level,
                    p.asa_seconds,
                    p.occupancy,
                    p.p_abandon
                );
            }
            out
        }
        TableFormat::Json => {
            let intervals: Vec<Value> = rows
                .iter()
                .map(|(r, p)| {
                    let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
                    if let Value::Object(m) = &mut v {
                        m.insert("interval_start".into(), json!(format_instant(r.day, r.minute)));
                        m.insert("queue".into(), json!(r.queue));
                    }
                    v
                })
                .collect();
            let totals: Vec<Value> = plans
                .iter()
                .map(|(q, p)| {
                    json!({
                        "queue": q,
                        "offered": p.offered,
                        "workload_hours": p.workload_hours,
                        "required_agent_hours": p.required_agent_hours,
                        "scheduled_agent_hours": p.scheduled_agent_hours,
                        "peak_required_agents": p.peak_required_agents,
                        "peak_scheduled_agents": p.peak_scheduled_agents,
                        "service_level": p.service_level,
                    })
                })
                .collect();
            let v = json!({
                "model": model,
                "interval_minutes": minutes,
                "sl_threshold_seconds": args.sl_threshold,
                "target_service_level": args.target_sl,
                "patience_seconds": args.patience,
                "shrinkage": args.shrinkage,
                "max_occupancy": args.max_occupancy,
                "max_asa_seconds": args.max_asa,
                "max_abandon": args.max_abandon,
                "intervals": intervals,
                "totals": {
                    "required_agent_hours": plans.iter().map(|(_, p)| p.required_agent_hours).sum::<f64>(),
                    "scheduled_agent_hours": plans.iter().map(|(_, p)| p.scheduled_agent_hours).sum::<f64>(),
                    "offered": plans.iter().map(|(_, p)| p.offered).sum::<f64>(),
                    "workload_hours": plans.iter().map(|(_, p)| p.workload_hours).sum::<f64>(),
                },
                "queues": totals,
            });
            serde_json::to_string_pretty(&v)? + "\n"
        }
        TableFormat::Text => {
            let mut out = String::new();
            let _ = write!(
                out,
                "Staffing plan ({}): {} answered within {} s",
                if args.patience.is_some() { "Erlang A" } else { "Erlang C" },
                pct(args.target_sl),
                args.sl_threshold
            );
            if let Some(p) = args.patience {
                let _ = write!(out, ", mean patience {p} s");
            }
            if let Some(x) = args.max_occupancy {
                let _ = write!(out, ", occupancy ≤ {}", pct(x));
            }
            if let Some(x) = args.max_asa {
                let _ = write!(out, ", ASA ≤ {x} s");
            }
            if let Some(x) = args.max_abandon {
                let _ = write!(out, ", abandonment ≤ {}", pct(x));
            }
            let _ = writeln!(out, "; shrinkage {}; {minutes}-minute intervals\n", pct(args.shrinkage));
            let _ = writeln!(
                out,
                "{:<22} {:<12} {:>9} {:>8} {:>9} {:>10} {:>8} {:>8} {:>9} {:>8}",
                "interval_start",
                "queue",
                "offered",
                "aht",
                "required",
                "scheduled",
                "SL",
                "ASA s",
                "occupancy",
                "abandon"
            );
            for (r, p) in &rows {
                let _ = writeln!(
                    out,
                    "{:<22} {:<12} {:>9.2} {:>8.1} {:>9} {:>10} {:>8} {:>8.1} {:>9} {:>8}",
                    format_instant(r.day, r.minute),
                    r.queue,
                    r.offered,
                    r.aht_seconds,
                    p.required_agents,
                    p.scheduled_agents,
                    pct(p.service_level),
                    p.asa_seconds,
                    pct(p.occupancy),
                    pct(p.p_abandon)
                );
            }
            out.push('\n');
            for (q, p) in &plans {
                let _ = writeln!(
                    out,
                    "Total {q}: {:.0} contacts, workload {:.1} h, required {:.1} agent-hours (peak {}), scheduled \
                     {:.1} agent-hours (peak {}), service level {}",
                    p.offered,
                    p.workload_hours,
                    p.required_agent_hours,
                    p.peak_required_agents,
                    p.scheduled_agent_hours,
                    p.peak_scheduled_agents,
                    pct(p.service_level)
                );
            }
            out
        }
    };
    crate::emit(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_csv("h.csv", text).unwrap_err()
    }

    #[test]
    fn csv_parses_and_infers_the_interval() {
        let t = parse_csv(
            "h.csv",
            "\u{feff}interval_start,queue,offered,aht_seconds\r\n2026-11-02T08:00:00Z,a,3,200\r\n\r\n\
             2026-11-02T08:30:00Z,a,0,\r\n2026-11-02T08:00:00Z,b,1.5,100\r\n",
        )
        .unwrap();
        assert_eq!(t.interval_minutes, 30);
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[1].line, 4);
        assert_eq!(t.rows[1].aht_seconds, 0.0);
        assert_eq!(t.rows[2].offered, 1.5);
        let t = parse_csv("h.csv", "interval_start,queue,offered,aht_seconds\n2026-11-02T08:45:00Z,a,3,200\n").unwrap();
        assert_eq!(t.interval_minutes, 15);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let h = "interval_start,queue,offered,aht_seconds\n";
        for (text, needle) in [
            ("start,queue,offered,aht\n2026-11-02T08:00:00Z,a,1,1\n".to_string(), "line 1: the header"),
            (String::new(), "line 1"),
            (h.to_string(), "no data rows"),
            (format!("{h}2026-11-02T08:00:00Z,a,1\n"), "line 2: expected 4 fields"),
            (format!("{h}2026-11-02T08:00:00Z,a,1,2,3\n"), "line 2: expected 4 fields"),
            (format!("{h}2026-11-02T08:00:00Z,a,1,2\n2026-11-02T08:15:00Z,a,x,2\n"), "line 3: offered"),
            (format!("{h}2026-11-02T08:00:00Z,a,-1,2\n"), "line 2: offered: must be 0 or more"),
            (format!("{h}2026-11-02T08:00:00Z,a,1,NaN\n"), "line 2: aht_seconds"),
            (format!("{h}2026-11-02T08:00:00Z,a,1,0\n"), "line 2: aht_seconds must be greater than 0"),
            (format!("{h}2026-11-02T08:00:00Z,a,1,\n"), "line 2: aht_seconds"),
            (format!("{h}2026-11-02T08:10:00Z,a,1,2\n"), "line 2: interval_start 2026-11-02T08:10:00Z is not on"),
            (format!("{h}2026-11-31T08:00:00Z,a,1,2\n"), "line 2: interval_start"),
            (format!("{h}2026-11-02T08:00:00,a,1,2\n"), "line 2: interval_start"),
            (format!("{h}2026-11-02T08:00:00Z,,1,2\n"), "line 2: the queue is empty"),
            (
                format!("{h}2026-11-02T08:15:00Z,a,1,2\n2026-11-02T08:00:00Z,b,1,2\n2026-11-02T08:00:00Z,a,1,2\n"),
                "line 4: interval 2026-11-02T08:00:00Z comes before the interval of queue \"a\" on line 2",
            ),
            (
                format!("{h}2026-11-02T08:15:00Z,a,1,2\n\n2026-11-02T08:15:00Z,a,1,2\n"),
                "line 4: interval 2026-11-02T08:15:00Z repeats",
            ),
        ] {
            let e = err(&text);
            assert!(e.contains(needle), "{text:?}: {e}");
            assert!(e.starts_with("h.csv"), "{e}");
        }
    }

    #[test]
    fn a_cut_off_last_day_is_noticed() {
        let mut text = String::from("interval_start,queue,offered,aht_seconds\n");
        for (d, until) in [(2, 20), (3, 20), (9, 20), (10, 12)] {
            for h in 8..until {
                text.push_str(&format!("2026-11-{d:02}T{h:02}:00:00Z,a,5,100\n"));
            }
        }
        let t = parse_csv("h.csv", &text).unwrap();
        assert_eq!(partial_last_day(&t, "a"), Some((forecast::days_from_civil(2026, 11, 10), 11 * 60, 19 * 60)));
        let whole = text.lines().filter(|l| !l.starts_with("2026-11-10")).collect::<Vec<_>>().join("\n");
        assert_eq!(partial_last_day(&parse_csv("h.csv", &whole).unwrap(), "a"), None);
    }

    #[test]
    fn override_flags() {
        assert_eq!(day_override("2026-12-01=1.4"), Ok((None, forecast::days_from_civil(2026, 12, 1), 1.4)));
        assert_eq!(day_override("a@2026-12-01=0"), Ok((Some("a".into()), forecast::days_from_civil(2026, 12, 1), 0.0)));
        assert!(day_override("2026-12-01").is_err());
        assert!(day_override("2026-12-01=-1").is_err());
        assert_eq!(
            volume_override("2026-11-24T10:00:00Z=900"),
            Ok((None, forecast::days_from_civil(2026, 11, 24), 600, 900.0))
        );
        assert!(volume_override("2026-11-24T10:00:00Z").is_err());
        assert_eq!(interval_minutes("30"), Ok(30));
        assert!(interval_minutes("20").is_err());
    }
}
