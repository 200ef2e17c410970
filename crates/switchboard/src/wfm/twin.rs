//! Reading the digital twin's inputs: a forecast (`wfm forecast --format
//! csv|json`), a staffing plan (`wfm staff --format csv|json`) or a shift
//! schedule (`wfm schedule --format json|csv`), turned into a
//! [`sim::twin::Day`] for one date. Every problem names the file (and the
//! line for CSV) and is a usage error (exit code 2).

use super::plan::{HEADER, parse_csv};
use ::wfm::forecast::{format_date, format_instant, parse_instant, weekday};
use ::wfm::schedule::{DAY_NAMES, PlacedBreak, ScheduledShift};
use serde_json::Value;
use sim::twin::{Day, Demand, Pool, Presence};
use std::collections::BTreeMap;

/// One forecast interval.
#[derive(Clone, Debug, PartialEq)]
pub struct ForecastRow {
    /// Day (days since 1970-01-01).
    pub day: i64,
    /// Minute of the day.
    pub minute: u32,
    /// Queue.
    pub queue: String,
    /// Contacts offered.
    pub offered: f64,
    /// AHT, seconds.
    pub aht_seconds: f64,
}

/// A forecast file.
#[derive(Clone, Debug, PartialEq)]
pub struct Forecast {
    /// Rows in file order.
    pub rows: Vec<ForecastRow>,
    /// Interval length, minutes.
    pub interval_minutes: u32,
}

/// Which column of a staffing plan gives the agents on the phones.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanColumn {
    /// `required_agents`: agents needed on the phones (after shrinkage).
    Required,
    /// `scheduled_agents`: agents to schedule (before shrinkage; combine
    /// with --shrinkage).
    Scheduled,
}

impl PlanColumn {
    fn key(self) -> &'static str {
        match self {
            PlanColumn::Required => "required_agents",
            PlanColumn::Scheduled => "scheduled_agents",
        }
    }
}

/// Staffing: a plan or a schedule, already read.
#[derive(Clone, Debug)]
pub enum Staffing {
    /// Staffing plan rows: (place in the file, day, minute, queue, agents).
    Plan(Vec<(String, i64, u32, String, f64)>),
    /// Shifts of a weekly schedule and its interval length (if known).
    Schedule(Vec<ScheduledShift>, Option<u32>),
}

/// Per interval of a staffing file, what the report charts: (day or
/// weekday, minute, required, scheduled, Erlang's predicted service level).
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// Plan rows by (date, minute), summed over queues: (required,
    /// scheduled, Σ offered × SL, Σ offered).
    pub by_date: BTreeMap<(i64, u32), (f64, f64, f64, f64)>,
    /// Schedule coverage by (weekday, minute): (required, scheduled).
    pub by_weekday: BTreeMap<(usize, u32), (f64, f64)>,
}

/// Reads the coverage (required and scheduled agents per interval) of a
/// staffing file for the report; anything missing is left out.
pub fn read_coverage(text: &str) -> Coverage {
    let mut c = Coverage::default();
    if is_json(text) {
        let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')) else {
            return c;
        };
        if let Some(Value::Array(rows)) = doc.get("coverage") {
            for r in rows {
                let (Some(d), Some(m), Some(req), Some(sch)) =
                    (r["day"].as_u64(), r["start_minute"].as_u64(), r["required"].as_f64(), r["scheduled"].as_f64())
                else {
                    continue;
                };
                c.by_weekday.insert((d as usize, m as u32), (req, sch));
            }
        }
        if let Some(Value::Array(rows)) = doc.get("intervals") {
            for r in rows {
                let Some(Ok((day, minute))) = r["interval_start"].as_str().map(parse_instant) else { continue };
                let e = c.by_date.entry((day, minute)).or_default();
                let offered = r["offered"].as_f64().unwrap_or(0.0);
                e.0 += r["required_agents"].as_f64().unwrap_or(0.0);
                e.1 += r["scheduled_agents"].as_f64().unwrap_or(0.0);
                e.2 += offered * r["service_level"].as_f64().unwrap_or(0.0);
                e.3 += offered;
            }
        }
        return c;
    }
    let text = text.trim_start_matches('\u{feff}');
    let mut header: Option<Vec<&str>> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            header = None;
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let Some(h) = &header else {
            header = Some(f);
            continue;
        };
        let col = |n: &str| h.iter().position(|c| *c == n).and_then(|i| f.get(i)).copied();
        let num = |n: &str| col(n).and_then(|v| v.parse::<f64>().ok());
        if let (Some(d), Some(start), Some(req), Some(sch)) =
            (col("day"), col("start"), num("required"), num("scheduled"))
            && let (Some(d), Some(m)) = (DAY_NAMES.iter().position(|x| *x == d), parse_hm(start))
        {
            c.by_weekday.insert((d, m), (req, sch));
        }
        if let Some(Ok((day, minute))) = col("interval_start").map(parse_instant) {
            let e = c.by_date.entry((day, minute)).or_default();
            let offered = num("offered").unwrap_or(0.0);
            e.0 += num("required_agents").unwrap_or(0.0);
            e.1 += num("scheduled_agents").unwrap_or(0.0);
            e.2 += offered * num("service_level").unwrap_or(0.0);
            e.3 += offered;
        }
    }
    c
}

fn is_json(text: &str) -> bool {
    text.trim_start_matches('\u{feff}').trim_start().starts_with('{')
}

fn json_doc(name: &str, text: &str) -> Result<serde_json::Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(format!("{name}: expected a JSON object")),
        Err(e) => Err(format!("{name}: not valid JSON: {e}")),
    }
}

/// Fields of a JSON array item: exactly `keys` (plus `allowed`), by name.
fn fields<'a>(
    name: &str,
    what: &str,
    k: usize,
    item: &'a Value,
    keys: &[&str],
    allowed: Option<&[&str]>,
) -> Result<Vec<&'a Value>, String> {
    let Value::Object(m) = item else { return Err(format!("{name}: {what}[{k}] is not an object")) };
    if let Some(allowed) = allowed
        && let Some(extra) = m.keys().find(|key| !keys.contains(&key.as_str()) && !allowed.contains(&key.as_str()))
    {
        return Err(format!("{name}: {what}[{k}] has an unknown key \"{extra}\" (expected {})", keys.join(", ")));
    }
    keys.iter().map(|key| m.get(*key).ok_or_else(|| format!("{name}: {what}[{k}] has no \"{key}\""))).collect()
}

fn json_str<'a>(name: &str, what: &str, v: &'a Value) -> Result<&'a str, String> {
    v.as_str().ok_or_else(|| format!("{name}: {what} must be a string, not {v}"))
}

fn json_num(name: &str, what: &str, v: &Value) -> Result<f64, String> {
    match v.as_f64() {
        Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("{name}: {what} must be a number, 0 or more, not {v}")),
    }
}

fn grid(minutes: impl Iterator<Item = u32>) -> u32 {
    let g = minutes.fold(60, |g, m| gcd(g, m % 60));
    if g == 0 { 60 } else { g }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Reads a forecast: the CSV `interval_start,queue,offered,aht_seconds` or
/// the JSON of `wfm forecast --format json` (its `forecast` array).
pub fn read_forecast(name: &str, text: &str) -> Result<Forecast, String> {
    if !is_json(text) {
        let t = parse_csv(name, text).map_err(|e| {
            format!("{e} (a forecast is the CSV {HEADER}, or the JSON of `wfm forecast --format json`)")
        })?;
        let rows = t
            .rows
            .into_iter()
            .map(|r| ForecastRow {
                day: r.day,
                minute: r.minute,
                queue: r.queue,
                offered: r.offered,
                aht_seconds: r.aht_seconds,
            })
            .collect();
        return Ok(Forecast { rows, interval_minutes: t.interval_minutes });
    }
    let doc = json_doc(name, text)?;
    let Some(Value::Array(items)) = doc.get("forecast") else {
        return Err(format!("{name}: no \"forecast\" array (write the file with `wfm forecast --format json`)"));
    };
    let keys = ["interval_start", "queue", "offered", "aht_seconds"];
    let mut rows = Vec::new();
    for (k, item) in items.iter().enumerate() {
        let f = fields(name, "forecast", k, item, &keys, Some(&[]))?;
        let start = json_str(name, &format!("forecast[{k}].interval_start"), f[0])?;
        let (day, minute) = parse_instant(start).map_err(|e| format!("{name}: forecast[{k}].interval_start: {e}"))?;
        rows.push(ForecastRow {
            day,
            minute,
            queue: json_str(name, &format!("forecast[{k}].queue"), f[1])?.to_string(),
            offered: json_num(name, &format!("forecast[{k}].offered"), f[2])?,
            aht_seconds: json_num(name, &format!("forecast[{k}].aht_seconds"), f[3])?,
        });
    }
    if rows.is_empty() {
        return Err(format!("{name}: the forecast array is empty"));
    }
    let inferred = grid(rows.iter().map(|r| r.minute));
    let interval_minutes = match doc.get("interval_minutes").and_then(Value::as_u64) {
        Some(m) if [15, 30, 60].contains(&m) => m as u32,
        Some(m) => return Err(format!("{name}: interval_minutes must be 15, 30 or 60, not {m}")),
        None => inferred,
    };
    if let Some((k, r)) = rows.iter().enumerate().find(|(_, r)| !r.minute.is_multiple_of(interval_minutes)) {
        return Err(format!(
            "{name}: forecast[{k}] starts at {} which is not on its {interval_minutes}-minute grid",
            format_instant(r.day, r.minute)
        ));
    }
    Ok(Forecast { rows, interval_minutes })
}

/// Reads a staffing plan: CSV with `interval_start`, `queue` and the
/// chosen column (as `wfm staff --format csv` writes it), or the JSON of
/// `wfm staff --format json` (its `intervals` array).
pub fn read_plan(name: &str, text: &str, column: PlanColumn) -> Result<Staffing, String> {
    let key = column.key();
    let mut rows = Vec::new();
    if is_json(text) {
        let doc = json_doc(name, text)?;
        let Some(Value::Array(items)) = doc.get("intervals") else {
            return Err(format!("{name}: no \"intervals\" array (write the file with `wfm staff --format json`)"));
        };
        for (k, item) in items.iter().enumerate() {
            let f = fields(name, "intervals", k, item, &["interval_start", "queue", key], None)?;
            let start = json_str(name, &format!("intervals[{k}].interval_start"), f[0])?;
            let (day, minute) =
                parse_instant(start).map_err(|e| format!("{name}: intervals[{k}].interval_start: {e}"))?;
            let queue = json_str(name, &format!("intervals[{k}].queue"), f[1])?.to_string();
            let v = json_num(name, &format!("intervals[{k}].{key}"), f[2])?;
            rows.push((format!("intervals[{k}]"), day, minute, queue, v));
        }
    } else {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.split('\n').enumerate().map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
        let header = lines.next().map(|(_, l)| l).unwrap_or("");
        let cols: Vec<&str> = header.split(',').map(str::trim).collect();
        let col = |n: &str| {
            cols.iter().position(|c| *c == n).ok_or_else(|| {
                format!(
                    "{name} line 1: a staffing plan needs the columns interval_start, queue and {key} (as `wfm \
                     staff --format csv` writes them); \"{n}\" is missing from \"{header}\""
                )
            })
        };
        let (ti, qi, vi) = (col("interval_start")?, col("queue")?, col(key)?);
        for (line, row) in lines {
            if row.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = row.split(',').map(str::trim).collect();
            let at = |m: String| format!("{name} line {line}: {m}");
            if f.len() != cols.len() {
                return Err(at(format!("expected {} fields like the header, found {}", cols.len(), f.len())));
            }
            let (day, minute) = parse_instant(f[ti]).map_err(|e| at(format!("interval_start: {e}")))?;
            let v = crate::args::non_negative(f[vi]).map_err(|e| at(format!("{key}: {e}")))?;
            if f[qi].is_empty() {
                return Err(at("the queue is empty".into()));
            }
            rows.push((format!("line {line}"), day, minute, f[qi].to_string(), v));
        }
    }
    if rows.is_empty() {
        return Err(format!("{name}: the staffing plan has no intervals"));
    }
    Ok(Staffing::Plan(rows))
}

fn parse_hm(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && h < 48).then_some(h * 60 + m)
}

/// Reads a schedule: the JSON of `wfm schedule --format json` (`shifts`
/// with their breaks) or its CSV (the first table: `day,start,end,
/// template,agents,unit_cost,breaks`, breaks as `name@HH:MM+minutes`).
pub fn read_schedule(name: &str, text: &str) -> Result<Staffing, String> {
    if is_json(text) {
        let doc = json_doc(name, text)?;
        let Some(shifts) = doc.get("shifts") else {
            return Err(format!("{name}: no \"shifts\" array (write the file with `wfm schedule --format json`)"));
        };
        let shifts: Vec<ScheduledShift> =
            serde_json::from_value(shifts.clone()).map_err(|e| format!("{name}: shifts: {e}"))?;
        if let Some((k, s)) = shifts.iter().enumerate().find(|(_, s)| s.day > 6 || s.end_minute <= s.start_minute) {
            return Err(format!(
                "{name}: shifts[{k}]: day {} from {} to {} is not a shift",
                s.day, s.start_minute, s.end_minute
            ));
        }
        let interval = doc.get("interval_minutes").and_then(Value::as_u64).map(|m| m as u32);
        return Ok(Staffing::Schedule(shifts, interval));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split('\n').enumerate().map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
    let header = lines.next().map(|(_, l)| l.trim()).unwrap_or("");
    const SHIFTS: &str = "day,start,end,template,agents,unit_cost,breaks";
    if header != SHIFTS {
        return Err(format!(
            "{name} line 1: a schedule is the JSON or CSV of `wfm schedule --format json|csv`; its CSV starts with \
             \"{SHIFTS}\", not \"{header}\""
        ));
    }
    let mut shifts = Vec::new();
    for (line, row) in lines {
        if row.trim().is_empty() {
            break; // the coverage table follows
        }
        let at = |m: String| format!("{name} line {line}: {m}");
        let f: Vec<&str> = row.split(',').map(str::trim).collect();
        if f.len() != 7 {
            return Err(at(format!("expected 7 fields ({SHIFTS}), found {}", f.len())));
        }
        let day = DAY_NAMES.iter().position(|d| *d == f[0]).ok_or_else(|| at(format!("unknown day \"{}\"", f[0])))?;
        let start = parse_hm(f[1]).ok_or_else(|| at(format!("start \"{}\" is not HH:MM", f[1])))?;
        let end = parse_hm(f[2]).ok_or_else(|| at(format!("end \"{}\" is not HH:MM", f[2])))?;
        let end = if end <= start { end + 1440 } else { end };
        let count: u32 = f[4].parse().map_err(|_| at(format!("agents \"{}\" is not a whole number", f[4])))?;
        let mut breaks = Vec::new();
        for b in f[6].split_whitespace() {
            let bad = || at(format!("break \"{b}\" is not name@HH:MM+minutes"));
            let (bname, rest) = b.split_once('@').ok_or_else(bad)?;
            let (t, m) = rest.split_once('+').ok_or_else(bad)?;
            let paid = !m.ends_with('u');
            let minutes: u32 = m.trim_end_matches('u').parse().map_err(|_| bad())?;
            let mut bs = parse_hm(t).ok_or_else(bad)?;
            if bs < start {
                bs += 1440;
            }
            breaks.push(PlacedBreak { name: bname.to_string(), start_minute: bs, minutes, paid });
        }
        shifts.push(ScheduledShift {
            template: f[3].to_string(),
            day,
            start_minute: start,
            end_minute: end,
            breaks,
            count,
            unit_cost: f[5].parse().unwrap_or(0.0),
        });
    }
    Ok(Staffing::Schedule(shifts, None))
}

/// What was simulated, for the report.
#[derive(Clone, Debug)]
pub struct DayInfo {
    /// The date.
    pub date: i64,
    /// Forecast days available.
    pub first: i64,
    /// Last forecast day.
    pub last: i64,
}

/// The day `date` (default: the forecast's first) of a forecast with its
/// staffing. Intervals that do not line up are refused with the place named.
pub fn build_day(
    forecast_name: &str,
    forecast: &Forecast,
    staffing_name: &str,
    staffing: &Staffing,
    date: Option<i64>,
) -> Result<(Day, DayInfo), String> {
    let m = forecast.interval_minutes;
    let first = forecast.rows.iter().map(|r| r.day).min().unwrap_or(0);
    let last = forecast.rows.iter().map(|r| r.day).max().unwrap_or(0);
    let date = date.unwrap_or(first);
    let rows: Vec<&ForecastRow> = forecast.rows.iter().filter(|r| r.day == date).collect();
    if rows.is_empty() {
        return Err(format!(
            "{forecast_name} has no intervals on {} (it covers {} to {})",
            format_date(date),
            format_date(first),
            format_date(last)
        ));
    }
    let start_min = rows.iter().map(|r| r.minute).min().unwrap_or(0);
    let end_min = rows.iter().map(|r| r.minute + m).max().unwrap_or(m).min(1440);
    let intervals = ((end_min - start_min) / m) as usize;
    let slot = |minute: u32| ((minute - start_min) / m) as usize;
    let mut demand: BTreeMap<&str, Demand> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for r in &rows {
        let d = demand.entry(&r.queue).or_insert_with(|| {
            order.push(&r.queue);
            Demand { queue: r.queue.clone(), offered: vec![0.0; intervals], aht_seconds: vec![0.0; intervals] }
        });
        d.offered[slot(r.minute)] = r.offered;
        d.aht_seconds[slot(r.minute)] = r.aht_seconds;
    }
    let ms = |minute: u32| u64::from(minute) * 60_000;
    let mut presence = Vec::new();
    match staffing {
        Staffing::Plan(plan) => {
            let mut staffed: BTreeMap<(&str, u32), &str> = BTreeMap::new();
            let mine: Vec<_> = plan.iter().filter(|p| p.1 == date).collect();
            if mine.is_empty() {
                return Err(format!("{staffing_name} has no intervals on {}", format_date(date)));
            }
            for (line, day, minute, queue, agents) in mine {
                if !minute.is_multiple_of(m) || *minute < start_min || *minute >= end_min {
                    return Err(format!(
                        "{staffing_name} {line}: interval {} does not line up with the {m}-minute intervals of \
                         {forecast_name} on {} ({} to {})",
                        format_instant(*day, *minute),
                        format_date(date),
                        clock(start_min),
                        clock(end_min)
                    ));
                }
                staffed.insert((queue.as_str(), *minute), line.as_str());
                presence.push(Presence {
                    pool: Pool::Queue(queue.clone()),
                    start_ms: ms(*minute),
                    end_ms: ms(minute + m),
                    agents: *agents,
                });
            }
            if let Some(r) =
                rows.iter().find(|r| r.offered > 0.0 && !staffed.contains_key(&(r.queue.as_str(), r.minute)))
            {
                return Err(format!(
                    "{staffing_name} does not staff queue \"{}\" at {} where {forecast_name} has {} contacts: the \
                     plan's intervals do not line up with the forecast's ({m} minutes)",
                    r.queue,
                    format_instant(r.day, r.minute),
                    r.offered
                ));
            }
        }
        Staffing::Schedule(shifts, interval) => {
            if let Some(si) = interval
                && *si > 0
                && !m.is_multiple_of(*si)
                && !si.is_multiple_of(m)
            {
                return Err(format!(
                    "{staffing_name} is in {si}-minute intervals, {forecast_name} in {m}-minute ones: they do not \
                     line up"
                ));
            }
            let wd = weekday(date);
            for s in shifts {
                // Today's shifts, and yesterday's that run past midnight.
                let offset: i64 = if s.day == wd {
                    0
                } else if (s.day + 1) % 7 == wd && s.end_minute > 1440 {
                    -1440
                } else {
                    continue;
                };
                let mut t = i64::from(s.start_minute) + offset;
                let end = i64::from(s.end_minute) + offset;
                let mut breaks: Vec<&PlacedBreak> = s.breaks.iter().collect();
                breaks.sort_by_key(|b| b.start_minute);
                let mut spans = Vec::new();
                for b in breaks {
                    let bs = i64::from(b.start_minute) + offset;
                    if bs > t {
                        spans.push((t, bs.min(end)));
                    }
                    t = t.max(bs + i64::from(b.minutes));
                }
                if end > t {
                    spans.push((t, end));
                }
                for (a, b) in spans {
                    let (a, b) = (a.max(0) as u64 * 60_000, b.max(0) as u64 * 60_000);
                    if b > a {
                        presence.push(Presence { pool: Pool::All, start_ms: a, end_ms: b, agents: f64::from(s.count) });
                    }
                }
            }
            if presence.is_empty() {
                return Err(format!(
                    "{staffing_name} has no shifts on {} ({}): nobody would answer",
                    DAY_NAMES[wd],
                    format_date(date)
                ));
            }
        }
    }
    let day = Day {
        start_ms: ms(start_min),
        interval_ms: ms(m),
        intervals,
        demand: order.iter().filter_map(|q| demand.remove(q)).collect(),
        presence,
    };
    Ok((day, DayInfo { date, first, last }))
}

fn clock(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forecast_json_and_csv_agree() {
        let csv = "interval_start,queue,offered,aht_seconds\n2026-11-24T08:00:00Z,q,10,200\n2026-11-24T08:30:00Z,q,20,\
                   250\n";
        let json = r#"{"interval_minutes":30,"forecast":[
            {"interval_start":"2026-11-24T08:00:00Z","queue":"q","offered":10,"aht_seconds":200},
            {"interval_start":"2026-11-24T08:30:00Z","queue":"q","offered":20,"aht_seconds":250}]}"#;
        let a = read_forecast("f.csv", csv).expect("csv");
        let b = read_forecast("f.json", json).expect("json");
        assert_eq!(a, b);
        let bad = r#"{"forecast":[{"interval_start":"2026-11-24T08:00:00Z","queue":"q","offered":1,"aht":2}]}"#;
        let e = read_forecast("f.json", bad).expect_err("unknown key");
        assert!(e.contains("unknown key \"aht\""), "{e}");
        let e = read_forecast("f.csv", "interval_start,queue,offered\n").expect_err("missing column");
        assert!(e.contains("header"), "{e}");
    }

    #[test]
    fn schedule_csv_with_breaks_becomes_presence() {
        let csv = "day,start,end,template,agents,unit_cost,breaks\nTue,08:00,12:00,x,3,1,b@10:00+30u\nMon,22:00,\
                   02:00,n,2,1,\n\nday,start,required\n";
        let s = read_schedule("s.csv", csv).expect("schedule");
        let tuesday = ::wfm::forecast::parse_date("2026-11-24").expect("date");
        assert_eq!(weekday(tuesday), 1);
        let f = Forecast {
            rows: vec![ForecastRow { day: tuesday, minute: 0, queue: "q".into(), offered: 1.0, aht_seconds: 1.0 }],
            interval_minutes: 30,
        };
        let (day, _) = build_day("f", &f, "s", &s, None).expect("day");
        let spans: Vec<(u64, u64, f64)> =
            day.presence.iter().map(|p| (p.start_ms / 60_000, p.end_ms / 60_000, p.agents)).collect();
        assert_eq!(spans, vec![(480, 600, 3.0), (630, 720, 3.0), (0, 120, 2.0)]);
    }
}
