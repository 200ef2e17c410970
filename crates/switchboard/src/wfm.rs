//! `switchboard wfm`: workforce-management calculators. `wfm erlang`
//! prints the Erlang C or Erlang A figures of one queue for a staffing, or
//! the least staffing that meets a target service level.

pub(crate) mod plan;
pub(crate) mod report;
mod schedule;
mod stored;
pub(crate) mod twin;

use crate::UsageError;
use crate::args::{non_negative, number, positive};
use ::wfm::{ErlangA, ErlangAMetrics, ErlangC, ErlangCMetrics, Staffing, Target, WfmError};
use anyhow::Result;
use clap::{ArgGroup, Subcommand, ValueEnum};
use serde_json::{Map, Value, json};
use std::fmt::Write as _;

/// Which calculator.
#[derive(Debug, Subcommand)]
pub enum Args {
    /// Erlang C / Erlang A for one queue: service level, ASA, abandonment,
    /// occupancy for a staffing (--agents), or the agents needed for a
    /// target service level (--target-sl).
    #[command(
        long_about = "Erlang C (no abandonment) or, with --patience, Erlang A (M/M/N+M: callers abandon after an \
        exponential patience) for one queue with Poisson arrivals and exponential handle times.\n\n\
        Give --agents N for the figures of that staffing, or --target-sl P for the least number of agents whose \
        service level (answered within --sl-threshold / all arrivals) is at least P, and the figures there.\n\n\
        Two mean waits are reported:\n  \
        ASA (asa_seconds = asa_answered_seconds): mean wait of answered calls, as contact centers (and \
        `switchboard simulate`) report it;\n  \
        mean wait of all arrivals (mean_wait_all_seconds): abandoned callers count with the time they waited; \
        pyworkforce calls this \"average speed of answer\".\n\
        Without abandonment (Erlang C) everyone is answered and the two are equal."
    )]
    Erlang(ErlangArgs),
    /// Write a synthetic interval history (CSV: interval_start,queue,offered,aht_seconds) to try forecasting.
    History(plan::HistoryArgs),
    /// Forecast volume and AHT per interval from a history CSV, with a back-test against seasonal-naive.
    Forecast(plan::ForecastArgs),
    /// Required and scheduled agents per interval of a forecast CSV (Erlang C, or Erlang A with --patience).
    Staff(plan::StaffArgs),
    /// Shifts with breaks and lunch that cover a week of required agents per interval at least cost
    /// (LP relaxation + rounding, gap to the LP bound reported).
    #[command(long_about = schedule::LONG_ABOUT)]
    Schedule(schedule::ScheduleArgs),
    /// Time required agents (Erlang C and Erlang A) for every row of a
    /// workload CSV (`queue,interval,calls,aht_seconds`), best of several
    /// runs; prints the timings and the results as JSON (used by
    /// bench/pyworkforce.sh).
    Bench(BenchArgs),
    /// Interval history (CSV: interval_start,queue,offered,aht_seconds) from the server's event log, to forecast
    /// from real traffic.
    ExportHistory(stored::ExportArgs),
}

/// Flags of `wfm bench`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  \
    switchboard wfm bench --workload workload.csv --interval-minutes 15 --target-sl 80 --sl-threshold 20 \
    --patience 120")]
pub struct BenchArgs {
    /// Workload CSV: `queue,interval,calls,aht_seconds` (calls offered in
    /// the interval); `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    workload: String,
    /// Interval length in minutes.
    #[arg(long, value_name = "M", default_value_t = 15.0, value_parser = positive)]
    interval_minutes: f64,
    /// Target service level (fraction or percentage).
    #[arg(long, value_name = "P", value_parser = share)]
    target_sl: f64,
    /// Service-level threshold, seconds.
    #[arg(long, value_name = "SECONDS", value_parser = non_negative, default_value_t = 20.0)]
    sl_threshold: f64,
    /// Mean patience for Erlang A, seconds.
    #[arg(long, value_name = "SECONDS", value_parser = positive)]
    patience: f64,
    /// Runs of each model; the best time is reported.
    #[arg(long, value_name = "K", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    repeat: u32,
}

/// Flags of `wfm erlang`.
#[derive(Debug, clap::Args)]
#[command(
    allow_negative_numbers = true,
    group(ArgGroup::new("staffing").required(true).args(["agents", "target_sl"])),
    after_help = "Examples:\n  \
    switchboard wfm erlang --calls-per-hour 200 --aht 180 --agents 13 --sl-threshold 20\n  \
    switchboard wfm erlang --calls-per-hour 6000 --aht 300 --patience 180 --target-sl 80 --shrinkage 0.3\n  \
    switchboard wfm erlang --calls-per-hour 6000 --aht 300 --patience 180 --agents 480 --format json"
)]
pub struct ErlangArgs {
    /// Poisson arrival rate (calls offered per hour).
    #[arg(long, value_name = "L", value_parser = non_negative)]
    calls_per_hour: f64,

    /// Mean handle time: talk, hold and after-call work.
    #[arg(long, value_name = "SECONDS", value_parser = positive)]
    aht: f64,

    /// Agents on the phones: print the figures of this staffing.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    agents: Option<u32>,

    /// Target service level: print the least number of agents that meets
    /// it. A fraction (0.8) or a percentage (80, 80%); values above 1 are
    /// percentages.
    #[arg(long, value_name = "P", value_parser = share)]
    target_sl: Option<f64>,

    /// Service-level threshold T: "answered within T seconds".
    #[arg(long, value_name = "SECONDS", value_parser = non_negative, default_value_t = 20.0)]
    sl_threshold: f64,

    /// Mean patience of callers (exponential): Erlang A. Without it, Erlang C
    /// (nobody abandons; needs more agents than the offered load).
    #[arg(long, value_name = "SECONDS", value_parser = positive)]
    patience: Option<f64>,

    /// Shrinkage (breaks, training, absence), a fraction or a percentage:
    /// also print scheduled agents = ⌈agents / (1 − shrinkage)⌉.
    #[arg(long, value_name = "F", value_parser = shrinkage)]
    shrinkage: Option<f64>,

    /// With --target-sl: the ASA (of answered calls) must not exceed this.
    #[arg(long, value_name = "SECONDS", value_parser = positive, requires = "target_sl")]
    max_asa: Option<f64>,

    /// With --target-sl and --patience: the probability of abandonment must
    /// not exceed this (fraction or percentage).
    #[arg(long, value_name = "P", value_parser = share, requires = "target_sl")]
    max_abandon: Option<f64>,

    /// With --target-sl: occupancy must not exceed this (fraction or
    /// percentage).
    #[arg(long, value_name = "P", value_parser = share, requires = "target_sl")]
    max_occupancy: Option<f64>,

    /// Output format. JSON has agents, offered_load_erlangs, p_wait,
    /// service_level, asa_seconds, asa_answered_seconds,
    /// mean_wait_all_seconds, occupancy, with --patience p_abandon and the
    /// other service-level definitions, with --target-sl required_agents
    /// and scheduled_agents.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Output format.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A small table.
    Text,
    /// One JSON object.
    Json,
}

/// A fraction in (0, 1], or a percentage in (1, 100] ("80" or "80%").
fn share(s: &str) -> Result<f64, String> {
    let (digits, percent) = match s.trim().strip_suffix('%') {
        Some(d) => (d, true),
        None => (s, false),
    };
    let v = number(digits)?;
    if v <= 0.0 {
        return Err(format!("must be greater than 0, not {v}"));
    }
    if percent || v > 1.0 {
        if v > 100.0 {
            return Err(format!("{v} % is more than 100 %"));
        }
        Ok(v / 100.0)
    } else {
        Ok(v)
    }
}

/// Like [`share`], but 0 is allowed and 100 % is not.
fn shrinkage(s: &str) -> Result<f64, String> {
    let v = if number(s.trim().trim_end_matches('%')).is_ok_and(|v| v == 0.0) { 0.0 } else { share(s)? };
    if v >= 1.0 { Err("must be less than 100 %".into()) } else { Ok(v) }
}

fn usage(e: WfmError) -> anyhow::Error {
    let message = match e {
        WfmError::Unstable { load, agents } => format!(
            "the queue is unstable: {load:.3} Erlangs offered need more than {agents} agents when nobody \
             abandons (Erlang C); give more --agents, or --patience SECONDS for Erlang A"
        ),
        e => e.to_string(),
    };
    UsageError(message).into()
}

/// The queue's figures, either model.
enum Figures {
    C(ErlangCMetrics),
    A(ErlangAMetrics),
}

impl Figures {
    fn service_level(&self) -> f64 {
        match self {
            Figures::C(m) => m.service_level,
            Figures::A(m) => m.service_level,
        }
    }
}

/// Run the subcommand.
pub fn run(args: Args) -> Result<()> {
    match args {
        Args::Erlang(a) => erlang(a),
        Args::History(a) => plan::history(a),
        Args::Forecast(a) => plan::forecast_cmd(a),
        Args::Staff(a) => plan::staff(a),
        Args::Schedule(a) => schedule::run(a),
        Args::Bench(a) => bench(a),
        Args::ExportHistory(a) => stored::run(a),
    }
}

/// `wfm bench`: time the required agents of every workload row.
fn bench(args: BenchArgs) -> Result<()> {
    if args.target_sl >= 1.0 {
        return Err(UsageError("--target-sl: 100 % cannot be met".into()).into());
    }
    let text = if args.workload == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(&args.workload)
    }
    .map_err(|e| UsageError(format!("cannot read {}: {e}", args.workload)))?;
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, l)| l.trim()).unwrap_or("");
    if header != "queue,interval,calls,aht_seconds" {
        return Err(UsageError(format!(
            "{} line 1: the header must be \"queue,interval,calls,aht_seconds\", not \"{header}\"",
            args.workload
        ))
        .into());
    }
    let mut rows: Vec<(f64, f64)> = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let at = |m: String| UsageError(format!("{} line {}: {m}", args.workload, i + 1));
        if f.len() != 4 {
            return Err(at(format!("expected 4 fields, found {}", f.len())).into());
        }
        let calls = non_negative(f[2]).map_err(|e| at(format!("calls: {e}")))?;
        let aht = positive(f[3]).map_err(|e| at(format!("aht_seconds: {e}")))?;
        rows.push((calls * 60.0 / args.interval_minutes, aht));
    }
    let target = Target::service_level(args.target_sl, args.sl_threshold);
    let time = |f: &dyn Fn(f64, f64) -> Result<u32, WfmError>| -> Result<(f64, Vec<u32>)> {
        let mut best = f64::INFINITY;
        let mut out = Vec::new();
        for _ in 0..args.repeat {
            let started = std::time::Instant::now();
            let agents: Vec<u32> =
                rows.iter().map(|&(cph, aht)| f(cph, aht)).collect::<Result<_, _>>().map_err(usage)?;
            best = best.min(started.elapsed().as_secs_f64());
            out = agents;
        }
        Ok((best, out))
    };
    let zero_or = |cph: f64, f: &dyn Fn() -> Result<u32, WfmError>| if cph > 0.0 { f() } else { Ok(0) };
    let (c_seconds, c_agents) =
        time(&|cph, aht| zero_or(cph, &|| Ok(ErlangC::new(cph, aht)?.required_agents(&target)?.agents)))?;
    let (a_seconds, a_agents) = time(&|cph, aht| {
        zero_or(cph, &|| Ok(ErlangA::new(cph, aht, args.patience)?.required_agents(&target)?.agents))
    })?;
    let v = json!({
        "intervals": rows.len(),
        "repeat": args.repeat,
        "erlang_c": { "seconds": c_seconds, "agents": c_agents, "agent_intervals": c_agents.iter().map(|&a| u64::from(a)).sum::<u64>() },
        "erlang_a": { "seconds": a_seconds, "agents": a_agents, "agent_intervals": a_agents.iter().map(|&a| u64::from(a)).sum::<u64>() },
    });
    crate::emit(&(serde_json::to_string(&v)? + "\n"))
}

fn erlang(args: ErlangArgs) -> Result<()> {
    if args.target_sl.is_some_and(|t| t >= 1.0) {
        return Err(UsageError(
            "--target-sl: a target service level of 100 % cannot be met (some callers always wait); \
             give a fraction below 1 or a percentage below 100"
                .into(),
        )
        .into());
    }
    if args.max_abandon.is_some() && args.patience.is_none() {
        return Err(UsageError("--max-abandon needs --patience (without it nobody abandons)".into()).into());
    }
    let target = args.target_sl.map(|level| Target {
        sl_threshold_seconds: args.sl_threshold,
        service_level: Some(level),
        max_asa_seconds: args.max_asa,
        max_abandon: args.max_abandon,
        max_occupancy: args.max_occupancy,
    });
    let (agents, figures) = match args.patience {
        None => {
            let q = ErlangC::new(args.calls_per_hour, args.aht).map_err(usage)?;
            match (&target, args.agents) {
                (Some(t), _) => {
                    let Staffing { agents, metrics } = q.required_agents(t).map_err(usage)?;
                    (agents, Figures::C(metrics))
                }
                (None, Some(n)) => (n, Figures::C(q.metrics(n, args.sl_threshold).map_err(usage)?)),
                (None, None) => return Err(UsageError("give --agents N or --target-sl P".into()).into()),
            }
        }
        Some(patience) => {
            let q = ErlangA::new(args.calls_per_hour, args.aht, patience).map_err(usage)?;
            match (&target, args.agents) {
                (Some(t), _) => {
                    let Staffing { agents, metrics } = q.required_agents(t).map_err(usage)?;
                    (agents, Figures::A(metrics))
                }
                (None, Some(n)) => (n, Figures::A(q.metrics(n, args.sl_threshold).map_err(usage)?)),
                (None, None) => return Err(UsageError("give --agents N or --target-sl P".into()).into()),
            }
        }
    };
    let scheduled = match (args.shrinkage, &target) {
        (Some(s), _) => Some(::wfm::scheduled_agents(agents, s).map_err(usage)?),
        (None, Some(_)) => Some(agents),
        (None, None) => None,
    };
    let text = match args.format {
        Format::Text => render_text(&args, agents, scheduled, &figures),
        Format::Json => serde_json::to_string_pretty(&to_json(&args, agents, scheduled, &figures)?)? + "\n",
    };
    crate::emit(&text)
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn to_json(args: &ErlangArgs, agents: u32, scheduled: Option<u32>, figures: &Figures) -> Result<Value> {
    let mut m = match figures {
        Figures::C(c) => {
            let mut m = object(serde_json::to_value(c)?);
            m.insert("model".into(), json!("erlang_c"));
            // Everyone is answered: one mean wait.
            m.insert("asa_answered_seconds".into(), json!(c.asa_seconds));
            m.insert("mean_wait_all_seconds".into(), json!(c.asa_seconds));
            m
        }
        Figures::A(a) => {
            let mut m = object(serde_json::to_value(a)?);
            m.insert("model".into(), json!("erlang_a"));
            m.insert("asa_seconds".into(), json!(a.asa_answered_seconds));
            m.insert("patience_seconds".into(), json!(args.patience));
            m
        }
    };
    m.insert("agents".into(), json!(agents));
    m.insert("calls_per_hour".into(), json!(args.calls_per_hour));
    m.insert("aht_seconds".into(), json!(args.aht));
    if let Some(level) = args.target_sl {
        m.insert("target_service_level".into(), json!(level));
        m.insert("required_agents".into(), json!(agents));
        for (key, v) in [
            ("max_asa_seconds", args.max_asa),
            ("max_abandon", args.max_abandon),
            ("max_occupancy", args.max_occupancy),
        ] {
            if let Some(v) = v {
                m.insert(key.into(), json!(v));
            }
        }
    }
    if let Some(s) = scheduled {
        m.insert("shrinkage".into(), json!(args.shrinkage.unwrap_or(0.0)));
        m.insert("scheduled_agents".into(), json!(s));
    }
    Ok(Value::Object(m))
}

fn pct(x: f64) -> String {
    // Enough digits that 79.97 % does not print as a met 80.0 % target.
    format!("{:.2} %", x * 100.0)
}

fn render_text(args: &ErlangArgs, agents: u32, scheduled: Option<u32>, figures: &Figures) -> String {
    let mut out = String::new();
    let t = args.sl_threshold;
    let load = args.calls_per_hour * args.aht / 3600.0;
    match args.patience {
        None => {
            let _ = writeln!(
                out,
                "Erlang C: {} calls/h × AHT {} s = {load:.3} Erlangs offered, no abandonment",
                args.calls_per_hour, args.aht
            );
        }
        Some(p) => {
            let _ = writeln!(
                out,
                "Erlang A: {} calls/h × AHT {} s = {load:.3} Erlangs offered, mean patience {p} s",
                args.calls_per_hour, args.aht
            );
        }
    }
    if let Some(level) = args.target_sl {
        let _ = write!(out, "Required agents for {} answered within {t} s", pct(level));
        if let Some(v) = args.max_asa {
            let _ = write!(out, ", ASA ≤ {v} s");
        }
        if let Some(v) = args.max_abandon {
            let _ = write!(out, ", abandonment ≤ {}", pct(v));
        }
        if let Some(v) = args.max_occupancy {
            let _ = write!(out, ", occupancy ≤ {}", pct(v));
        }
        let _ = writeln!(out, ": {agents}");
    }
    if let (Some(s), Some(sh)) = (scheduled, args.shrinkage) {
        let _ = writeln!(out, "Scheduled agents with {} shrinkage: {s}", pct(sh));
    }
    out.push('\n');
    let mut row = |label: &str, value: String| {
        let _ = writeln!(out, "  {label:<42} {value:>12}");
    };
    row("agents", agents.to_string());
    match figures {
        Figures::C(m) => {
            row("probability of waiting", pct(m.p_wait));
            row(&format!("service level: answered ≤ {t} s / all"), pct(figures.service_level()));
            row("ASA (mean wait of all calls)", format!("{:.2} s", m.asa_seconds));
            row("mean wait of delayed calls", format!("{:.2} s", m.mean_wait_delayed_seconds));
            row("occupancy", pct(m.occupancy));
            row("mean queue length", format!("{:.2}", m.queue_length));
        }
        Figures::A(m) => {
            row("probability of waiting", pct(m.p_wait));
            row(&format!("service level: answered ≤ {t} s / all"), pct(m.service_level));
            row("  answered ≤ T / answered", pct(m.service_level_answered));
            row("  answered ≤ T / (all − abandoned ≤ T)", pct(m.service_level_abandons_ignored));
            row("  (answered + abandoned) ≤ T / all", pct(m.service_level_abandons_positive));
            row("  virtual: wait ≤ T with infinite patience", pct(m.service_level_virtual));
            row("abandoned", pct(m.p_abandon));
            row(&format!("  within {t} s"), pct(m.p_abandon_within_threshold));
            row("ASA (mean wait of answered calls)", format!("{:.2} s", m.asa_answered_seconds));
            row("mean wait of all arrivals", format!("{:.2} s", m.mean_wait_all_seconds));
            row("occupancy", pct(m.occupancy));
            row("mean queue length", format!("{:.2}", m.queue_length));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_fractions_or_percentages() {
        assert_eq!(share("0.8"), Ok(0.8));
        assert_eq!(share("80"), Ok(0.8));
        assert_eq!(share("80%"), Ok(0.8));
        assert_eq!(share("1"), Ok(1.0));
        assert!(share("0").is_err());
        assert!(share("-0.5").is_err());
        assert!(share("150").is_err());
        assert!(share("x").is_err());
        assert_eq!(shrinkage("0"), Ok(0.0));
        assert_eq!(shrinkage("30"), Ok(0.3));
        assert_eq!(shrinkage("0.3"), Ok(0.3));
        assert!(shrinkage("100").is_err());
        assert!(shrinkage("1").is_err());
    }
}
