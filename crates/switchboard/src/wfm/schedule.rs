//! `switchboard wfm schedule`: shifts with breaks that cover a week of
//! required agents per interval (see `wfm::schedule` for the model).

use crate::UsageError;
use crate::args::{non_negative, positive};
use ::wfm::schedule::{
    BreakRule, DAY_NAMES, DAYS, MINUTES_PER_DAY, Requirements, Schedule, ScheduleOptions, ShiftTemplate, clock,
    example_templates, example_week, schedule, start_range,
};
use anyhow::Result;
use clap::{ArgGroup, ValueEnum};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::time::Instant;

/// The long help of `wfm schedule` (set on its subcommand variant).
pub const LONG_ABOUT: &str = "Choose how many agents start each shift (template, day, start time, placement of breaks and lunch) \
    so that the agents working cover the required agents of every interval of a week, at the least cost plus \
    --under-penalty for every agent-interval left uncovered.\n\n\
    The LP relaxation (good_lp + microlp) gives a lower bound; its solution is rounded (floor, then greedy \
    additions and removals, then a one-out/greedy-in local search) and the gap to the bound is reported. Breaks are placed by the optimiser: every \
    placement within a break's window is a separate column. The week is cyclic (a Sunday night shift covers \
    Monday morning). Agents work at most --days-per-agent days a week (one shift a day): the headcount is \
    max(most shifts on one day, ⌈shifts / K⌉) and the JSON has a roster dealt out by wrap-around \
    (consecutive days off and rest between days are not modelled).\n\n\
    Requirements CSV: a header with `interval_start` and `required` (or `scheduled_agents`, or \
    `required_agents`, as `wfm staff --format csv` writes them; other columns are ignored), one row per \
    interval, times in UTC like 2026-11-02T08:30:00Z. Rows are placed by weekday and time of day; rows of the \
    same interval (several queues) are added up; missing intervals require nobody; the data must not cover \
    the same weekday twice. The interval length is the largest that divides every time of day (or \
    --interval-minutes).\n\n\
    Templates TOML: one [[template]] table per shift template:\n  \
    name = \"FT8-early\"\n  \
    starts = [\"07:00\", \"07:30\"]           # or start_range = { from = \"07:00\", to = \"09:00\", step_minutes = 30 }\n  \
    length = \"8:30\"                        # breaks included\n  \
    cost = 160\n  \
    days = [\"weekdays\"]                    # Mon … Sun, \"weekdays\", \"weekend\", \"all\" (the default)\n  \
    max_shifts = 150                       # optional, per week\n  \
    break_step_minutes = 15                # optional: break starts tried every so many minutes (default 30)\n  \
    [[template.break]]\n  \
    name = \"lunch\"\n  \
    minutes = 30\n  \
    paid = false                           # the default\n  \
    window = [\"3:30\", \"5:00\"]              # earliest start and latest end, after the shift start\n\n\
    Without --templates, twelve built-in templates for a center open 07:00–22:00 are used (those of \
    --example-week).";

/// Flags of `wfm schedule`.
#[derive(Debug, clap::Args)]
#[command(
    group(ArgGroup::new("demand").required(true).args(["requirements", "example_week"])),
    after_help = "Examples:\n  \
    switchboard wfm schedule --example-week\n  \
    switchboard wfm schedule --example-week --under-penalty 300 --format json\n  \
    switchboard wfm staff --forecast forecast.csv --target-sl 80 --format csv > plan.csv\n  \
    switchboard wfm schedule --requirements plan.csv --templates shifts.toml --format csv"
)]
pub struct ScheduleArgs {
    /// Required agents per interval: CSV with `interval_start` and
    /// `required` columns (see --help); `-` reads standard input.
    #[arg(long, value_name = "FILE.csv")]
    requirements: Option<String>,

    /// The built-in realistic week (about 150 agents at the peak, twelve
    /// templates with breaks and lunch, at most 320 agents a day).
    #[arg(long)]
    example_week: bool,

    /// Shift templates (TOML, see --help). Default: the built-in templates.
    #[arg(long, value_name = "FILE.toml")]
    templates: Option<String>,

    /// Cost of one agent-interval of under-coverage [default: 100].
    #[arg(long, value_name = "X", value_parser = non_negative)]
    under_penalty: Option<f64>,

    /// At most this many agents start a shift on any day.
    #[arg(long, value_name = "N")]
    max_agents_per_day: Option<u32>,

    /// Each agent works at most this many days a week, one shift a day:
    /// reports the headcount needed and (JSON) a roster.
    #[arg(long, value_name = "K", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=7))]
    days_per_agent: u32,

    /// At most this many agents (headcount) in the week.
    #[arg(long, value_name = "N")]
    max_agents: Option<u32>,

    /// Interval length of the requirements CSV in minutes (default:
    /// inferred from its times).
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(1..=1440))]
    interval_minutes: Option<u32>,

    /// After rounding, let microlp's branch and bound try to improve the
    /// schedule for at most this many seconds.
    #[arg(long, value_name = "SECONDS", value_parser = positive)]
    mip_seconds: Option<f64>,

    /// Output format. JSON: one object with shifts, coverage (every
    /// interval) and totals. CSV: three tables separated by a blank line —
    /// shifts, coverage per interval, totals (name,value).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Output format.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Shifts, coverage per day and totals.
    Text,
    /// One JSON object.
    Json,
    /// Shifts, coverage per interval and totals as CSV tables.
    Csv,
}

fn read(path: &str) -> Result<String> {
    let text = if path == "-" { std::io::read_to_string(std::io::stdin()) } else { std::fs::read_to_string(path) };
    text.map_err(|e| UsageError(format!("cannot read {path}: {e}")).into())
}

/// Run `wfm schedule`.
pub fn run(args: ScheduleArgs) -> Result<()> {
    let (mut requirements, mut templates, mut options) = if args.example_week {
        example_week()
    } else {
        (requirements_from(&args)?, example_templates(), ScheduleOptions::default())
    };
    if args.example_week && args.interval_minutes.is_some_and(|m| m != requirements.interval_minutes) {
        return Err(UsageError("--interval-minutes: the example week has 30-minute intervals".into()).into());
    }
    if let Some(path) = &args.templates {
        templates = parse_templates(path, &read(path)?).map_err(UsageError)?;
    }
    if let Some(p) = args.under_penalty {
        options.under_penalty = p;
    }
    if let Some(n) = args.max_agents_per_day {
        options.max_agents_per_day = [Some(n); DAYS];
    }
    options.mip_time_limit_seconds = args.mip_seconds;
    options.days_per_agent = Some(args.days_per_agent);
    options.max_agents = args.max_agents;
    requirements.required.iter_mut().for_each(|r| *r = r.max(0.0));
    let progress = std::io::stderr().is_terminal();
    if progress {
        eprint!("wfm schedule: solving the LP relaxation and rounding…");
    }
    let started = Instant::now();
    let result = schedule(&requirements, &templates, &options);
    let seconds = started.elapsed().as_secs_f64();
    if progress {
        eprintln!(" {seconds:.2} s");
    }
    let s = result.map_err(|e| UsageError(e.to_string()))?;
    let text = match args.format {
        Format::Text => render_text(&s, &options, templates.len(), seconds),
        Format::Json => {
            let v = JsonOut {
                totals: &s.totals,
                under_penalty: options.under_penalty,
                solve_seconds: seconds,
                interval_minutes: s.interval_minutes,
                shifts: &s.shifts,
                coverage: &s.coverage,
                templates: &templates,
                roster: &s.roster,
            };
            serde_json::to_string_pretty(&v)? + "\n"
        }
        Format::Csv => render_csv(&s, &options, seconds),
    };
    crate::emit(&text)
}

/// The JSON document, in this key order.
#[derive(serde::Serialize)]
struct JsonOut<'a> {
    totals: &'a ::wfm::schedule::ScheduleTotals,
    under_penalty: f64,
    solve_seconds: f64,
    interval_minutes: u32,
    shifts: &'a [::wfm::schedule::ScheduledShift],
    coverage: &'a [::wfm::schedule::IntervalCoverage],
    templates: &'a [ShiftTemplate],
    /// Per agent, indices into `shifts`.
    roster: &'a [Vec<usize>],
}

// ---------------------------------------------------------------- requirements

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDTHH:MM[:SS]Z` (or `+00:00`) → (days since the epoch, minute of day).
fn parse_instant(s: &str) -> Result<(i64, u32), String> {
    let bad = || format!("\"{s}\" is not a UTC time like 2026-11-02T08:30:00Z");
    let body = s.strip_suffix('Z').or_else(|| s.strip_suffix("+00:00")).ok_or_else(bad)?;
    let (date, time) = body.split_once('T').ok_or_else(bad)?;
    let d: Vec<&str> = date.split('-').collect();
    let t: Vec<&str> = time.split(':').collect();
    if d.len() != 3 || d[0].len() != 4 || d[1].len() != 2 || d[2].len() != 2 || !(2..=3).contains(&t.len()) {
        return Err(bad());
    }
    let int = |x: &str| -> Result<u32, String> {
        if x.len() == 2 && x.bytes().all(|b| b.is_ascii_digit()) { x.parse().map_err(|_| bad()) } else { Err(bad()) }
    };
    let year: i64 = d[0].parse().map_err(|_| bad())?;
    let (month, day, hour, minute) = (int(d[1])?, int(d[2])?, int(t[0])?, int(t[1])?);
    let second = if t.len() == 3 { int(t[2])? } else { 0 };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day == 0 || day > month_days[(month - 1) as usize] {
        return Err(format!("\"{s}\" is not a valid date"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!("\"{s}\" is not a valid time of day"));
    }
    if second != 0 {
        return Err(format!("\"{s}\": an interval must start on a whole minute"));
    }
    Ok((days_from_civil(year, month, day), hour * 60 + minute))
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Parses the requirements CSV into a week. Errors name the file and line.
fn parse_requirements(name: &str, text: &str, interval: Option<u32>) -> Result<Requirements, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split('\n').enumerate().map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
    let header = lines.next().map(|(_, l)| l).unwrap_or("");
    let fields: Vec<&str> = header.split(',').map(str::trim).collect();
    let column = |n: &str| fields.iter().position(|f| *f == n);
    let time_col = column("interval_start")
        .ok_or_else(|| format!("{name} line 1: no interval_start column in the header \"{header}\""))?;
    let value_col =
        ["required", "scheduled_agents", "required_agents"].iter().find_map(|n| column(n)).ok_or_else(|| {
            format!("{name} line 1: no required (or scheduled_agents, required_agents) column in \"{header}\"")
        })?;
    // (weekday, minute) → (date, line, required)
    let mut slots: BTreeMap<(usize, u32), (i64, usize, f64)> = BTreeMap::new();
    let mut grid = MINUTES_PER_DAY;
    for (line, row) in lines {
        if row.trim().is_empty() {
            continue;
        }
        let at = |msg: String| format!("{name} line {line}: {msg}");
        let f: Vec<&str> = row.split(',').map(str::trim).collect();
        if f.len() != fields.len() {
            return Err(at(format!("expected {} fields like the header, found {}", fields.len(), f.len())));
        }
        let (date, minute) = parse_instant(f[time_col]).map_err(|e| at(format!("interval_start: {e}")))?;
        let value: f64 = f[value_col].parse().map_err(|_| at(format!("\"{}\" is not a number", f[value_col])))?;
        if !(value.is_finite() && value >= 0.0) {
            return Err(at(format!("required agents must be 0 or more, not {value}")));
        }
        grid = gcd(grid, minute);
        let weekday = (date + 3).rem_euclid(7) as usize;
        match slots.get_mut(&(weekday, minute)) {
            Some((d, _, sum)) if *d == date => *sum += value,
            Some((_, first, _)) => {
                return Err(at(format!(
                    "{} is the second {} in the file (line {first}): give one week of requirements",
                    f[time_col], DAY_NAMES[weekday]
                )));
            }
            None => {
                slots.insert((weekday, minute), (date, line, value));
            }
        }
    }
    if slots.is_empty() {
        return Err(format!("{name}: no requirements"));
    }
    let interval = match interval {
        Some(m) => {
            if MINUTES_PER_DAY.checked_rem(m) != Some(0) {
                return Err(format!("--interval-minutes must divide 1440, not {m}"));
            }
            if let Some((&(d, minute), (_, line, _))) = slots.iter().find(|((_, minute), _)| minute % m != 0) {
                return Err(format!(
                    "{name} line {line}: {} {} is not on the {m}-minute grid",
                    DAY_NAMES[d],
                    clock(minute)
                ));
            }
            m
        }
        None => grid.min(60),
    };
    let per_day = (MINUTES_PER_DAY / interval) as usize;
    let mut required = vec![0.0; DAYS * per_day];
    for ((d, minute), (_, _, v)) in slots {
        required[d * per_day + (minute / interval) as usize] = v;
    }
    Ok(Requirements { interval_minutes: interval, required })
}

fn requirements_from(args: &ScheduleArgs) -> Result<Requirements> {
    let path = args.requirements.as_deref().unwrap_or("-");
    Ok(parse_requirements(path, &read(path)?, args.interval_minutes).map_err(UsageError)?)
}

// ---------------------------------------------------------------- templates

/// `H:MM` or `HH:MM` (hours may exceed 23 for lengths and offsets).
#[derive(Debug, Clone, Copy)]
struct Minutes(u32);

impl<'de> Deserialize<'de> for Minutes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let bad = || serde::de::Error::custom(format!("\"{s}\" is not a time like \"7:30\" or \"07:30\""));
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        let ok = |x: &str| !x.is_empty() && x.len() <= 2 && x.bytes().all(|b| b.is_ascii_digit());
        if !ok(h) || m.len() != 2 || !ok(m) {
            return Err(bad());
        }
        let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if m > 59 {
            return Err(bad());
        }
        Ok(Minutes(h * 60 + m))
    }
}

/// A day name or a group of days.
#[derive(Debug, Clone)]
struct Days(Vec<usize>);

impl<'de> Deserialize<'de> for Days {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let lower = s.to_ascii_lowercase();
        let days = match lower.as_str() {
            "all" => (0..7).collect(),
            "weekdays" => (0..5).collect(),
            "weekend" => vec![5, 6],
            _ => match DAY_NAMES.iter().position(|n| lower.starts_with(&n.to_ascii_lowercase()) && lower.len() >= 3) {
                Some(i) => vec![i],
                None => {
                    return Err(serde::de::Error::custom(format!(
                        "\"{s}\" is not a day (Mon … Sun, \"weekdays\", \"weekend\" or \"all\")"
                    )));
                }
            },
        };
        Ok(Days(days))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartRange {
    from: Minutes,
    to: Minutes,
    step_minutes: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BreakToml {
    name: Option<String>,
    minutes: u32,
    #[serde(default)]
    paid: bool,
    window: [Minutes; 2],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateToml {
    name: String,
    starts: Option<Vec<Minutes>>,
    start_range: Option<StartRange>,
    length: Minutes,
    cost: f64,
    days: Option<Vec<Days>>,
    max_shifts: Option<u32>,
    break_step_minutes: Option<u32>,
    #[serde(default, rename = "break")]
    breaks: Vec<BreakToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplatesToml {
    template: Vec<TemplateToml>,
}

/// Parses a templates file; errors name the file and the place.
fn parse_templates(path: &str, text: &str) -> Result<Vec<ShiftTemplate>, String> {
    let file: TemplatesToml = toml::from_str(text).map_err(|e| format!("{path}: {e}"))?;
    let mut out = Vec::with_capacity(file.template.len());
    for (i, t) in file.template.into_iter().enumerate() {
        let place = format!("{path}: template {} (\"{}\")", i + 1, t.name);
        let starts = match (t.starts, t.start_range) {
            (Some(s), None) => s.into_iter().map(|m| m.0).collect(),
            (None, Some(r)) => {
                if r.step_minutes == 0 || r.to.0 < r.from.0 {
                    return Err(format!(
                        "{place}: start_range needs from ≤ to and step_minutes ≥ 1 (from {}, to {}, step {})",
                        clock(r.from.0),
                        clock(r.to.0),
                        r.step_minutes
                    ));
                }
                start_range(r.from.0, r.to.0, r.step_minutes)
            }
            _ => return Err(format!("{place}: give either starts = [...] or start_range = {{ ... }}")),
        };
        let mut days = [false; DAYS];
        match t.days {
            None => days = [true; DAYS],
            Some(list) => list.iter().flat_map(|d| d.0.iter()).for_each(|&d| days[d] = true),
        }
        let breaks = t
            .breaks
            .into_iter()
            .map(|b| BreakRule {
                name: b.name.unwrap_or_else(|| "break".into()),
                minutes: b.minutes,
                paid: b.paid,
                earliest_start: b.window[0].0,
                latest_end: b.window[1].0,
            })
            .collect();
        out.push(ShiftTemplate {
            name: t.name,
            starts,
            length_minutes: t.length.0,
            breaks,
            cost: t.cost,
            days,
            max_shifts: t.max_shifts,
            break_step_minutes: t.break_step_minutes,
        });
    }
    if out.is_empty() {
        return Err(format!("{path}: no [[template]] tables"));
    }
    Ok(out)
}

// ---------------------------------------------------------------- output

fn breaks_text(b: &[::wfm::schedule::PlacedBreak]) -> String {
    b.iter()
        .map(|b| {
            let unpaid = if b.paid { "" } else { " unpaid" };
            format!("{} {}–{}{unpaid}", b.name, clock(b.start_minute), clock(b.start_minute + b.minutes))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn render_text(s: &Schedule, options: &ScheduleOptions, templates: usize, seconds: f64) -> String {
    let t = &s.totals;
    let per_day = s.coverage.len() / DAYS;
    let hours = f64::from(s.interval_minutes) / 60.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Schedule: 7 days × {per_day} intervals of {} min, {templates} templates, {} columns, solved in {seconds:.2} s \
         ({})\n",
        s.interval_minutes, t.columns, t.method
    );
    let width = s.shifts.iter().map(|x| x.template.chars().count()).max().unwrap_or(8).max(8);
    let _ = writeln!(out, "{:<4} {:>5} {:>5}  {:<width$} {:>6}  breaks", "day", "start", "end", "template", "agents");
    for x in &s.shifts {
        let _ = writeln!(
            out,
            "{:<4} {:>5} {:>5}  {:<width$} {:>6}  {}",
            DAY_NAMES[x.day],
            clock(x.start_minute),
            clock(x.end_minute),
            x.template,
            x.count,
            breaks_text(&x.breaks)
        );
    }
    let _ = writeln!(out, "\nCoverage per day (agent-hours; under/over summed over intervals)");
    let _ = writeln!(
        out,
        "{:<4} {:>7} {:>10} {:>10} {:>8} {:>8} {:>10} {:>16}",
        "day", "shifts", "required", "scheduled", "under", "over", "peak req", "intervals under"
    );
    for (d, day) in DAY_NAMES.iter().enumerate() {
        let c = &s.coverage[d * per_day..(d + 1) * per_day];
        let shifts: u32 = s.shifts.iter().filter(|x| x.day == d).map(|x| x.count).sum();
        let sum = |f: fn(&::wfm::schedule::IntervalCoverage) -> f64| c.iter().map(f).sum::<f64>() * hours;
        let _ = writeln!(
            out,
            "{:<4} {:>7} {:>10.1} {:>10.1} {:>8.1} {:>8.1} {:>10.0} {:>16}",
            day,
            shifts,
            sum(|c| c.required),
            sum(|c| c.scheduled),
            sum(|c| c.under),
            sum(|c| c.over),
            c.iter().map(|c| c.required).fold(0.0, f64::max),
            c.iter().filter(|c| c.under > 1e-9).count()
        );
    }
    let _ = writeln!(out, "\nTotals");
    let mut row = |label: &str, value: String| {
        let _ = writeln!(out, "  {label:<40} {value:>14}");
    };
    row("shifts (agents × days)", t.shifts.to_string());
    if let (Some(h), Some(k)) = (t.headcount, options.days_per_agent) {
        row(&format!("agents needed (≤ {k} days each)"), h.to_string());
    }
    row("paid agent-hours", format!("{:.1}", t.paid_hours));
    row("cost", format!("{:.1}", t.cost));
    row("under-coverage (agent-intervals)", format!("{:.1}", t.under_coverage));
    row("intervals with under-coverage", t.intervals_under.to_string());
    row("over-coverage (agent-intervals)", format!("{:.1}", t.over_coverage));
    row(&format!("objective (cost + {} × under)", options.under_penalty), format!("{:.1}", t.objective));
    row("LP bound", format!("{:.1}", t.lp_bound));
    row("gap to the LP bound", format!("{:.2} %", t.gap * 100.0));
    row("proven optimal", if t.optimal { "yes" } else { "no" }.to_string());
    out
}

fn render_csv(s: &Schedule, options: &ScheduleOptions, seconds: f64) -> String {
    let mut out = String::from("day,start,end,template,agents,unit_cost,breaks\n");
    for x in &s.shifts {
        let breaks: Vec<String> = x
            .breaks
            .iter()
            .map(|b| format!("{}@{}+{}{}", b.name, clock(b.start_minute), b.minutes, if b.paid { "" } else { "u" }))
            .collect();
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{}",
            DAY_NAMES[x.day],
            clock(x.start_minute),
            clock(x.end_minute),
            x.template,
            x.count,
            x.unit_cost,
            breaks.join(" ")
        );
    }
    out.push_str("\nday,start,required,scheduled,under,over\n");
    for c in &s.coverage {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            DAY_NAMES[c.day],
            clock(c.start_minute),
            c.required,
            c.scheduled,
            c.under,
            c.over
        );
    }
    let t = &s.totals;
    out.push_str("\nname,value\n");
    for (k, v) in [
        ("shifts", f64::from(t.shifts)),
        ("headcount", t.headcount.map_or(f64::NAN, f64::from)),
        ("paid_hours", t.paid_hours),
        ("cost", t.cost),
        ("under_penalty", options.under_penalty),
        ("objective", t.objective),
        ("lp_bound", t.lp_bound),
        ("gap", t.gap),
        ("under_coverage", t.under_coverage),
        ("intervals_under", t.intervals_under as f64),
        ("over_coverage", t.over_coverage),
        ("required_agent_intervals", t.required_agent_intervals),
        ("scheduled_agent_intervals", t.scheduled_agent_intervals),
        ("columns", t.columns as f64),
        ("solve_seconds", seconds),
    ] {
        let _ = writeln!(out, "{k},{v}");
    }
    let _ = writeln!(out, "optimal,{}", t.optimal);
    let _ = writeln!(out, "method,{}", t.method);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_map_to_weekdays() {
        // 2026-11-02 is a Monday.
        assert_eq!(parse_instant("2026-11-02T08:30:00Z").map(|(d, m)| ((d + 3).rem_euclid(7), m)), Ok((0, 510)));
        assert_eq!(parse_instant("2026-11-08T23:30Z").map(|(d, m)| ((d + 3).rem_euclid(7), m)), Ok((6, 1410)));
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Ok((0, 0)));
        assert!(parse_instant("2026-02-29T00:00:00Z").is_err());
        assert!(parse_instant("2026-11-02 08:30").is_err());
    }

    #[test]
    fn requirements_csv_is_read_by_weekday() {
        let csv = "interval_start,queue,required\n2026-11-02T08:00:00Z,a,3\n2026-11-02T08:00:00Z,b,2\n\
                   2026-11-03T08:30:00Z,a,1\n";
        let r = parse_requirements("r.csv", csv, None).unwrap();
        assert_eq!(r.interval_minutes, 30);
        assert_eq!(r.required[16], 5.0);
        assert_eq!(r.required[48 + 17], 1.0);
        let twice = "interval_start,required\n2026-11-02T08:00:00Z,3\n2026-11-09T08:00:00Z,3\n";
        let e = parse_requirements("r.csv", twice, None).unwrap_err();
        assert!(e.contains("line 3") && e.contains("second Mon"), "{e}");
        let e = parse_requirements("r.csv", "interval_start,required\nx,1\n", None).unwrap_err();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn the_example_in_the_help_parses() {
        let example: String = LONG_ABOUT
            .lines()
            .skip_while(|l| !l.starts_with("Templates TOML"))
            .skip(1)
            .take_while(|l| !l.is_empty())
            .map(|l| format!("{}\n", l.trim_start()))
            .collect();
        let t = parse_templates("help", &format!("[[template]]\n{example}")).unwrap();
        assert_eq!((t[0].name.as_str(), t[0].length_minutes, t[0].breaks[0].latest_end), ("FT8-early", 510, 300));
    }

    #[test]
    fn templates_toml_round_trips_and_refuses_unknown_keys() {
        let ok = r#"
[[template]]
name = "day"
start_range = { from = "07:00", to = "09:00", step_minutes = 30 }
length = "8:30"
cost = 160
days = ["weekdays", "Sat"]
[[template.break]]
name = "lunch"
minutes = 30
window = ["3:30", "5:00"]
"#;
        let t = parse_templates("t.toml", ok).unwrap();
        assert_eq!(t[0].starts, vec![420, 450, 480, 510, 540]);
        assert_eq!(t[0].length_minutes, 510);
        assert_eq!(t[0].days, [true, true, true, true, true, true, false]);
        assert_eq!((t[0].breaks[0].earliest_start, t[0].breaks[0].latest_end, t[0].breaks[0].paid), (210, 300, false));
        let bad = ok.replace("cost = 160", "cost = 160\ncolour = \"red\"");
        let e = parse_templates("t.toml", &bad).unwrap_err();
        assert!(e.contains("t.toml") && e.contains("line 7") && e.contains("colour"), "{e}");
    }
}
