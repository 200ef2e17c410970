//! `switchboard simulate`: run a scenario file, or a one-queue scenario
//! described by flags, and print the interval KPI table and totals (text)
//! or everything as JSON. With `--forecast` and `--schedule` or `--plan`,
//! the digital twin: the forecast day on the scenario's routing with the
//! schedule's (or plan's) agents, per-interval predictions with 95 %
//! confidence intervals, and what-ifs (`sim::twin`).

use crate::UsageError;
use crate::args::{non_negative, positive};
use crate::wfm::twin::{self as twin_files, PlanColumn};
use anyhow::{Context, Result};
use clap::ValueEnum;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sim::scenario::Distribution;
use sim::twin::{self, WhatIf};
use sim::{Model, Scenario, ScenarioError, SimOutcome};
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Instant;
use tracing::info;

/// Flags of the one-queue form (they conflict with `--scenario`).
const ONE_QUEUE_FLAGS: [&str; 7] = ["agents", "calls_per_hour", "aht", "wrap_up", "handle_dist", "handle_cv", "hours"];

/// `switchboard simulate`.
#[derive(Debug, clap::Args)]
#[command(
    allow_negative_numbers = true,
    after_help = "Examples:\n  \
    switchboard simulate --agents 14 --calls-per-hour 200 --aht 180 --patience 300 --hours 8\n  \
    switchboard simulate --scenario crates/sim/examples/two-queues.toml --format json\n\n\
    Digital twin (a forecast day on a routing scenario with a schedule or a staffing plan):\n  \
    switchboard simulate --scenario crates/sim/examples/twin-routing.toml --forecast forecast.csv \\\n    \
    --schedule schedule.json --shrinkage 30 --day 2026-11-24 --replications 10\n  \
    switchboard simulate --scenario crates/sim/examples/twin-routing.toml --forecast forecast.csv \\\n    \
    --plan plan.csv --add-agents 3 --aht-factor 1.1 --format csv\n\n\
    With a plan, a queue's agents go to the scenario's agent groups whose first queue it is; with a schedule, \
    every group shares the agents. Within those, agents are split in proportion to each group's `count` \
    (the skill mix). Arrivals of a queue take the forecast's volume and AHT per interval and everything else \
    (patience, distributions, segments) from the scenario's first [[arrivals]] entry of that queue."
)]
pub struct Args {
    /// Scenario file (TOML): queues, agents, arrivals. See crates/sim/examples/two-queues.toml.
    #[arg(long, value_name = "FILE", conflicts_with_all = ONE_QUEUE_FLAGS)]
    scenario: Option<PathBuf>,

    /// One queue: number of agents, present the whole run.
    #[arg(long, value_name = "N", required_unless_present = "scenario", value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
    agents: Option<i64>,

    /// One queue: Poisson arrival rate.
    #[arg(long, value_name = "L", required_unless_present = "scenario", value_parser = non_negative)]
    calls_per_hour: Option<f64>,

    /// One queue: mean handle (talk) time.
    #[arg(long, value_name = "SECONDS", required_unless_present = "scenario", value_parser = positive)]
    aht: Option<f64>,

    /// Mean patience (exponential); callers never abandon without it. With
    /// --scenario: replaces the patience of every arrival stream.
    #[arg(long, value_name = "SECONDS", value_parser = positive)]
    patience: Option<f64>,

    /// One queue: after-call work per call.
    #[arg(long, value_name = "SECONDS", value_parser = non_negative)]
    wrap_up: Option<f64>,

    /// One queue: distribution of handle times.
    #[arg(long, value_enum, value_name = "DIST")]
    handle_dist: Option<HandleDist>,

    /// One queue: coefficient of variation of log-normal handle times [default: 1].
    #[arg(long, value_name = "CV", value_parser = positive)]
    handle_cv: Option<f64>,

    /// One queue: length of the run [default: 8].
    #[arg(long, value_name = "H", value_parser = positive)]
    hours: Option<f64>,

    /// Service-level threshold (overrides the scenario's) [default: 20].
    #[arg(long, value_name = "SECONDS", value_parser = non_negative)]
    sl_threshold: Option<f64>,

    /// Seed of the first replication (overrides the scenario's) [default: 1].
    #[arg(long, value_name = "S")]
    seed: Option<u64>,

    /// Independent replications with seeds S, S+1, … (overrides the scenario's) [default: 1].
    #[arg(long, value_name = "R", value_parser = clap::value_parser!(i64).range(1..=100_000))]
    replications: Option<i64>,

    /// Reporting interval (overrides the scenario's) [default: 15].
    #[arg(long, value_name = "M", value_parser = clap::value_parser!(i64).range(1..=100_000))]
    interval_minutes: Option<i64>,

    /// Minutes at the start left out of the totals (overrides the scenario's) [default: 0].
    #[arg(long, value_name = "M", value_parser = non_negative)]
    warm_up_minutes: Option<f64>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Leave out the engine's KPI fold (the per-queue tables of the text
    /// output, `queues` in JSON): faster for very long runs. The
    /// simulator's own figures remain.
    #[arg(long)]
    no_kpi_report: bool,

    /// The digital twin's inputs and what-ifs (boxed: most runs have none).
    #[command(flatten)]
    twin: Box<TwinArgs>,
}

/// Flags of the digital twin.
#[derive(Debug, clap::Args)]
pub struct TwinArgs {
    /// Digital twin: the forecast (CSV or JSON of `wfm forecast`); needs
    /// --scenario (the routing) and --schedule or --plan.
    #[arg(long, value_name = "FILE", requires = "scenario")]
    forecast: Option<PathBuf>,

    /// Digital twin: the shift schedule (JSON or CSV of `wfm schedule`).
    #[arg(long, value_name = "FILE", requires = "forecast", conflicts_with = "plan")]
    schedule: Option<PathBuf>,

    /// Digital twin: the staffing plan (CSV or JSON of `wfm staff`).
    #[arg(long, value_name = "FILE", requires = "forecast")]
    plan: Option<PathBuf>,

    /// Digital twin: which plan column is the agents on the phones.
    #[arg(long, value_enum, value_name = "COLUMN", default_value_t = PlanColumn::Required, requires = "plan")]
    plan_column: PlanColumn,

    /// Digital twin: the date to simulate, YYYY-MM-DD [default: the forecast's first day].
    #[arg(long, value_name = "DATE", requires = "forecast", value_parser = date)]
    day: Option<i64>,

    /// Digital twin what-if: N more agents all day (negative: fewer), split
    /// over the groups like the staffing; GROUP=N for one agent group.
    /// Repeatable.
    #[arg(long, value_name = "[GROUP=]N", requires = "forecast", value_parser = agents_delta)]
    add_agents: Vec<(Option<String>, i64)>,

    /// Digital twin what-if: multiply every AHT of the forecast.
    #[arg(long, value_name = "F", requires = "forecast", value_parser = positive)]
    aht_factor: Option<f64>,

    /// Digital twin what-if: multiply every volume of the forecast.
    #[arg(long, value_name = "F", requires = "forecast", value_parser = positive)]
    volume_factor: Option<f64>,

    /// Digital twin: also write the planner's HTML report (forecast vs
    /// history, required vs scheduled agents, predicted service level per
    /// interval; inline SVG, no scripts) to FILE.
    #[arg(long, value_name = "FILE", requires = "forecast")]
    html: Option<PathBuf>,

    /// Digital twin: the history CSV the forecast was made from, for the
    /// report's forecast-vs-history chart.
    #[arg(long, value_name = "FILE", requires = "html")]
    history: Option<PathBuf>,

    /// Digital twin: share of scheduled agents not on the phones (breaks
    /// aside), a fraction or a percentage; headcount × (1 − F), rounded.
    #[arg(long, value_name = "F", requires = "forecast", value_parser = shrinkage)]
    shrinkage: Option<f64>,
}

/// Handle-time distribution of the one-queue form.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum HandleDist {
    /// Exponential (Erlang's assumption).
    Exponential,
    /// Log-normal with `--handle-cv`.
    Lognormal,
}

/// Output format.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// The interval KPI table and the totals.
    Text,
    /// One JSON object: totals at top level, intervals, replications.
    Json,
    /// One row per interval: means and 95 % half-widths over replications.
    Csv,
}

fn date(s: &str) -> Result<i64, String> {
    ::wfm::forecast::parse_date(s.trim())
}

/// `N` or `GROUP=N`.
fn agents_delta(s: &str) -> Result<(Option<String>, i64), String> {
    let (group, n) = match s.rsplit_once('=') {
        Some((g, n)) if !g.trim().is_empty() => (Some(g.trim().to_string()), n),
        Some(_) => return Err(format!("\"{s}\" is not N or GROUP=N")),
        None => (None, s),
    };
    let n: i64 = n.trim().parse().map_err(|_| format!("\"{n}\" is not a whole number of agents"))?;
    Ok((group, n))
}

/// A fraction below 1 or a percentage below 100.
fn shrinkage(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (digits, percent) = match t.strip_suffix('%') {
        Some(d) => (d, true),
        None => (t, false),
    };
    let v = non_negative(digits)?;
    let v = if percent || v >= 1.0 { v / 100.0 } else { v };
    if v >= 1.0 { Err(format!("{s}: must be below 100 %")) } else { Ok(v) }
}

/// The scenario to run, and whether it came from flags.
fn scenario(args: &Args) -> Result<(Scenario, bool)> {
    let (mut s, from_flags) = match &args.scenario {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| UsageError(format!("cannot read scenario {}: {e}", path.display())))?;
            let mut s =
                Scenario::from_toml_str(&text).map_err(|e| UsageError(format!("scenario {}: {e}", path.display())))?;
            if args.patience.is_some() {
                s.arrivals.iter_mut().for_each(|a| a.patience_seconds = args.patience);
            }
            (s, false)
        }
        None => {
            // clap guarantees these three without --scenario.
            let (Some(agents), Some(cph), Some(aht)) = (args.agents, args.calls_per_hour, args.aht) else {
                return Err(UsageError("give --scenario FILE or --agents, --calls-per-hour and --aht".into()).into());
            };
            let mut s = Scenario::one_queue(agents, cph, aht, args.hours.unwrap_or(8.0));
            let a = &mut s.arrivals[0];
            a.patience_seconds = args.patience;
            if args.handle_dist == Some(HandleDist::Lognormal) {
                a.handle_distribution = Distribution::Lognormal;
                a.handle_cv = Some(args.handle_cv.unwrap_or(1.0));
            } else if args.handle_cv.is_some() {
                return Err(UsageError("--handle-cv goes with --handle-dist lognormal".into()).into());
            }
            s.queues[0].wrap_up_seconds = args.wrap_up.unwrap_or(0.0);
            (s, true)
        }
    };
    let sim = &mut s.simulation;
    if let Some(v) = args.seed {
        sim.seed = v;
    }
    if let Some(v) = args.replications {
        sim.replications = v;
    } else if args.twin.forecast.is_some() && sim.replications == 1 {
        // A prediction needs its confidence intervals.
        sim.replications = 10;
    }
    if let Some(v) = args.sl_threshold {
        sim.sl_threshold_seconds = v;
    }
    if let Some(v) = args.interval_minutes {
        sim.interval_minutes = v;
    }
    if let Some(v) = args.warm_up_minutes {
        sim.warm_up_minutes = v;
    }
    Ok((s, from_flags))
}

/// In the one-queue form, name the flag rather than the scenario's place.
fn flag_for(path: &str) -> Option<&'static str> {
    const MAP: [(&str, &str); 11] = [
        ("simulation.hours", "--hours"),
        ("simulation.replications", "--replications"),
        ("simulation.interval_minutes", "--interval-minutes"),
        ("simulation.sl_threshold_seconds", "--sl-threshold"),
        ("simulation.warm_up_minutes", "--warm-up-minutes"),
        ("agents[0] (agent).count", "--agents"),
        ("arrivals[0].calls_per_hour", "--calls-per-hour"),
        ("arrivals[0].aht_seconds", "--aht"),
        ("arrivals[0].patience_seconds", "--patience"),
        ("arrivals[0].handle_cv", "--handle-cv"),
        ("queues[0] (queue).wrap_up_seconds", "--wrap-up"),
    ];
    MAP.iter().find(|(p, _)| *p == path).map(|(_, f)| *f)
}

fn build(s: &Scenario, from_flags: bool, source: &str) -> Result<Model> {
    match Model::build(s) {
        Ok(m) => Ok(m),
        Err(ScenarioError::Invalid(issues)) if from_flags => {
            let lines: Vec<String> = issues
                .iter()
                .map(|i| match flag_for(&i.path) {
                    Some(flag) => format!("{flag}: {}", i.message),
                    None => i.to_string(),
                })
                .collect();
            Err(UsageError(lines.join("\n")).into())
        }
        Err(e) => Err(UsageError(format!("{source}: {e}")).into()),
    }
}

/// What the twin simulated (for the report).
struct TwinRun {
    info: twin_files::DayInfo,
    forecast_rows: twin_files::Forecast,
    coverage: twin_files::Coverage,
    forecast: String,
    staffing: String,
    staffing_kind: &'static str,
    what_if: WhatIf,
    interval_minutes: u64,
}

fn read(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())).into())
}

/// The twin's scenario: the forecast day on the routing scenario.
fn twin_scenario(args: &Args, routing: &Scenario, source: &str) -> Result<Option<(Scenario, TwinRun)>> {
    let Some(fpath) = &args.twin.forecast else { return Ok(None) };
    let fname = fpath.display().to_string();
    let forecast = twin_files::read_forecast(&fname, &read(fpath)?).map_err(UsageError)?;
    if let Some(m) = args.interval_minutes
        && m != i64::from(forecast.interval_minutes)
    {
        return Err(UsageError(format!(
            "--interval-minutes {m}: {fname} is in {}-minute intervals and the twin reports per forecast interval",
            forecast.interval_minutes
        ))
        .into());
    }
    let (spath, staffing, kind) = match (&args.twin.schedule, &args.twin.plan) {
        (Some(p), _) => (p, twin_files::read_schedule(&p.display().to_string(), &read(p)?), "schedule"),
        (None, Some(p)) => {
            (p, twin_files::read_plan(&p.display().to_string(), &read(p)?, args.twin.plan_column), "plan")
        }
        (None, None) => {
            return Err(UsageError("--forecast needs the staffing: --schedule FILE or --plan FILE".into()).into());
        }
    };
    let staffing = staffing.map_err(UsageError)?;
    let coverage = if args.twin.html.is_some() { twin_files::read_coverage(&read(spath)?) } else { Default::default() };
    let sname = spath.display().to_string();
    let (day, info) = twin_files::build_day(&fname, &forecast, &sname, &staffing, args.twin.day).map_err(UsageError)?;
    let mut what_if = WhatIf {
        shrinkage: args.twin.shrinkage.unwrap_or(0.0),
        aht_factor: args.twin.aht_factor.unwrap_or(1.0),
        volume_factor: args.twin.volume_factor.unwrap_or(1.0),
        patience_seconds: args.patience,
        ..WhatIf::default()
    };
    for (group, n) in &args.twin.add_agents {
        match group {
            Some(g) => what_if.group_deltas.push((g.clone(), *n)),
            None => what_if.add_agents += n,
        }
    }
    let s = twin::day_scenario(routing, &day, &what_if).map_err(|e| UsageError(format!("{source}: {e}")))?;
    let run = TwinRun {
        info,
        forecast_rows: forecast,
        coverage,
        forecast: fname,
        staffing: sname,
        staffing_kind: kind,
        what_if,
        interval_minutes: day.interval_ms / 60_000,
    };
    Ok(Some((s, run)))
}

/// Every replication, with the engine's KPI fold, and progress on stderr
/// (a counter on a terminal; otherwise a log line per replication once the
/// run takes more than two seconds).
fn run_all(model: &Model, kpi_report: bool) -> Result<SimOutcome> {
    let reps = model.replications;
    let interactive = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut runs = Vec::with_capacity(reps as usize);
    let mut reports = Vec::with_capacity(reps as usize);
    for r in 0..reps {
        let seed = model.seed.wrapping_add(u64::from(r));
        if kpi_report {
            let (res, fold) =
                sim::run_replication(model, seed, sim::kpi::fold_for(model)).context("simulation failed")?;
            runs.push(res);
            reports.push(fold.report());
        } else {
            runs.push(sim::run_replication(model, seed, ()).context("simulation failed")?.0);
        }
        if reps > 1 {
            if interactive {
                eprint!("\rsimulate: replication {}/{reps}", r + 1);
            } else if started.elapsed().as_secs_f64() > 2.0 {
                info!("replication {}/{reps} done", r + 1);
            }
        }
    }
    if interactive && reps > 1 {
        eprint!("\r{:40}\r", "");
    }
    let mut outcome = sim::summarise(model, runs);
    outcome.kpi = sim::kpi::merge_reports(&reports);
    Ok(outcome)
}

/// Run the subcommand.
pub fn run(args: Args) -> Result<()> {
    let (scenario, from_flags) = scenario(&args)?;
    let source = args.scenario.as_ref().map_or_else(|| "flags".to_string(), |p| format!("scenario {}", p.display()));
    let twin = twin_scenario(&args, &scenario, &source)?;
    let scenario = twin.as_ref().map_or(scenario, |(s, _)| s.clone());
    let model = build(&scenario, from_flags, &source)?;
    info!(
        queues = model.config.queues.len(),
        agents = model.config.agents.len(),
        replications = model.replications,
        seed = model.seed,
        "simulating {} from {} to {}",
        source,
        sim::clock(model.start_ms),
        sim::clock(model.end_ms)
    );
    let started = Instant::now();
    let outcome = run_all(&model, !args.no_kpi_report)?;
    let elapsed = started.elapsed().as_secs_f64();
    let arrivals: u64 = outcome.replications.iter().map(|r| r.arrivals).sum();
    let events: u64 = outcome.replications.iter().map(|r| r.events).sum();
    info!(
        arrivals,
        events,
        seconds = format!("{elapsed:.3}"),
        calls_per_second = format!("{:.0}", arrivals as f64 / elapsed.max(1e-9)),
        "simulation done"
    );
    let twin = twin.map(|(_, t)| t);
    if let (Some(t), Some(path)) = (&twin, &args.twin.html) {
        write_report(&args, &model, &outcome, t, &source, path)?;
    }
    let text = match (args.format, &twin) {
        (Format::Text, Some(t)) => render_twin_text(&model, &outcome, t, &source),
        (Format::Text, None) => render_text(&model, &outcome),
        (Format::Json, _) => to_json(&model, &outcome, twin.as_ref(), &source)?,
        (Format::Csv, _) => render_csv(&outcome),
    };
    crate::emit(&text)
}

fn write_report(
    args: &Args,
    model: &Model,
    o: &SimOutcome,
    t: &TwinRun,
    source: &str,
    path: &std::path::Path,
) -> Result<()> {
    let history = match &args.twin.history {
        Some(h) => {
            let name = h.display().to_string();
            Some(twin_files::read_forecast(&name, &read(h)?).map_err(UsageError)?.rows)
        }
        None => None,
    };
    let get = |name: &str| o.estimates.iter().find(|(n, _)| *n == name).map(|(_, e)| *e).unwrap_or_default();
    let pm = |e: sim::Estimate, scale: f64| format!("{:.1} ± {:.1}", e.mean * scale, e.half_width * scale);
    let r = o.replications.len();
    let estimates = twin::interval_estimates(o);
    let report = crate::wfm::report::Report {
        lines: vec![
            format!(
                "{} {}, {}–{}: forecast {}, {} {}, routing {source}.",
                ::wfm::forecast::format_date(t.info.date),
                ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][::wfm::forecast::weekday(t.info.date)],
                sim::clock(model.start_ms),
                sim::clock(model.end_ms),
                t.forecast,
                t.staffing_kind,
                t.staffing
            ),
            format!(
                "{r} replications from seed {} through the routing engine; service level = answered within {} s / \
                 offered; ± is the 95 % confidence half-width over replications.",
                model.seed, o.sl_threshold_seconds
            ),
            format!("What-if: {}.", what_if_text(&t.what_if)),
        ],
        history: history.as_deref(),
        forecast: &t.forecast_rows.rows,
        interval_minutes: t.forecast_rows.interval_minutes,
        date: t.info.date,
        coverage: &t.coverage,
        estimates: &estimates,
        day: vec![
            ("contacts per replication".into(), format!("{:.0}", o.totals.offered as f64 / r.max(1) as f64)),
            ("service level %".into(), pm(get("service_level"), 100.0)),
            ("ASA s".into(), pm(get("asa_seconds"), 1.0)),
            ("abandoned %".into(), pm(get("abandon_rate"), 100.0)),
            ("occupancy %".into(), pm(get("occupancy"), 100.0)),
        ],
    };
    std::fs::write(path, crate::wfm::report::render(&report))
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

fn what_if_text(w: &WhatIf) -> String {
    let mut parts = Vec::new();
    if w.shrinkage > 0.0 {
        parts.push(format!("shrinkage {}", pct(w.shrinkage)));
    }
    if w.add_agents != 0 {
        parts.push(format!("{:+} agents", w.add_agents));
    }
    for (g, n) in &w.group_deltas {
        parts.push(format!("{n:+} agents in {g}"));
    }
    if w.aht_factor != 1.0 {
        parts.push(format!("AHT ×{}", w.aht_factor));
    }
    if w.volume_factor != 1.0 {
        parts.push(format!("volume ×{}", w.volume_factor));
    }
    if let Some(p) = w.patience_seconds {
        parts.push(format!("patience {p} s"));
    }
    if parts.is_empty() { "none".into() } else { parts.join(", ") }
}

fn est_pct(e: &sim::Estimate) -> String {
    format!("{:5.1} ± {:4.1} %", e.mean * 100.0, e.half_width * 100.0)
}

fn render_twin_text(model: &Model, o: &SimOutcome, t: &TwinRun, source: &str) -> String {
    use ::wfm::forecast::{format_date, weekday};
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let mut out = String::new();
    let r = o.replications.len();
    let _ = writeln!(
        out,
        "Digital twin of {} {}, {}–{} in {}-minute intervals: forecast {}, {} {}, routing {source}",
        DAYS[weekday(t.info.date)],
        format_date(t.info.date),
        sim::clock(model.start_ms),
        sim::clock(model.end_ms),
        t.interval_minutes,
        t.forecast,
        t.staffing_kind,
        t.staffing,
    );
    let _ = writeln!(
        out,
        "{r} replication{} from seed {}; service level = answered within {} s / offered; mean ± 95 % half-width \
         over replications",
        if r == 1 { "" } else { "s" },
        model.seed,
        o.sl_threshold_seconds
    );
    let _ = writeln!(out, "What-if: {}\n", what_if_text(&t.what_if));
    let _ = writeln!(
        out,
        "{:<13} {:>8} {:>7} {:>17} {:>15} {:>17} {:>17}",
        "interval", "offered", "agents", "service level", "ASA s", "abandoned", "occupancy"
    );
    for e in twin::interval_estimates(o) {
        let _ = writeln!(
            out,
            "{:<13} {:>8.1} {:>7.1} {:>17} {:>15} {:>17} {:>17}",
            format!("{}-{}", e.start, e.end),
            e.offered.mean,
            e.agents.mean,
            est_pct(&e.service_level),
            format!("{:6.1} ± {:5.1}", e.asa_seconds.mean, e.asa_seconds.half_width),
            est_pct(&e.abandon_rate),
            est_pct(&e.occupancy),
        );
    }
    let get = |name: &str| o.estimates.iter().find(|(n, _)| *n == name).map(|(_, e)| *e).unwrap_or_default();
    let _ = writeln!(
        out,
        "\nDay: {:.0} contacts per replication; service level {}, ASA {:.1} ± {:.1} s, abandoned {}, occupancy {}",
        o.totals.offered as f64 / r.max(1) as f64,
        est_pct(&get("service_level")).trim(),
        get("asa_seconds").mean,
        get("asa_seconds").half_width,
        est_pct(&get("abandon_rate")).trim(),
        est_pct(&get("occupancy")).trim(),
    );
    out
}

fn render_csv(o: &SimOutcome) -> String {
    let mut out = String::from(
        "start,end,offered,offered_hw,agents,agents_hw,service_level,service_level_hw,asa_seconds,asa_seconds_hw,\
         abandon_rate,abandon_rate_hw,occupancy,occupancy_hw\n",
    );
    for e in twin::interval_estimates(o) {
        let _ = write!(out, "{},{}", e.start, e.end);
        for x in [e.offered, e.agents, e.service_level, e.asa_seconds, e.abandon_rate, e.occupancy] {
            let _ = write!(out, ",{:.4},{:.4}", x.mean, x.half_width);
        }
        out.push('\n');
    }
    out
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

fn render_text(model: &Model, o: &SimOutcome) -> String {
    let mut out = String::new();
    let t = &o.totals;
    let f = &o.figures;
    let r = o.replications.len();
    if let Some(kpi) = &o.kpi {
        if r > 1 {
            let _ = writeln!(out, "KPI tables: counts summed over {r} replications");
        }
        out.push_str(&engine::kpi::render_text(kpi));
        out.push('\n');
    }
    let warm_up = if model.warm_up_end_ms > model.start_ms {
        format!(" arriving after the warm-up (to {})", sim::clock(model.warm_up_end_ms))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "Run summary {}-{}, {} replication{} from seed {}: contacts{warm_up} counted once, waits from arrival",
        sim::clock(model.start_ms),
        sim::clock(model.end_ms),
        r,
        if r == 1 { "" } else { "s" },
        model.seed,
    );
    let _ = writeln!(
        out,
        "  offered {}  answered {}  abandoned {} ({})  exited {}  callbacks requested {}  unfinished {}",
        t.offered,
        t.answered,
        t.abandoned,
        pct(f.abandon_rate),
        t.exited,
        t.callbacks_requested,
        t.unfinished
    );
    let _ = writeln!(
        out,
        "  service level {} (answered within {} s / offered)",
        pct(f.service_level),
        o.sl_threshold_seconds
    );
    let _ = writeln!(
        out,
        "    answered only {}, abandons positive {}, abandons ignored {}, short abandons excluded {}",
        pct(f.service_level_answered),
        pct(f.service_level_abandons_positive),
        pct(f.service_level_abandons_ignored),
        pct(f.service_level_short_abandons_excluded)
    );
    let _ = writeln!(
        out,
        "  ASA {:.1} s  mean wait (all) {:.1} s  longest wait {:.1} s  AHT {:.1} s  occupancy {}",
        f.asa_seconds,
        f.mean_wait_seconds,
        f.max_wait_seconds,
        f.aht_seconds,
        pct(f.occupancy)
    );
    if r > 1 {
        let _ = writeln!(out, "  over {r} replications, mean ± 95 % half-width:");
        for (name, e) in &o.estimates {
            let _ = writeln!(out, "    {name:<20} {:>10.4} ± {:.4}", e.mean, e.half_width);
        }
    }
    out
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Figures and counts of one set of counts, flat.
fn flat(counts: &sim::Counts) -> Result<Map<String, Value>> {
    let mut m = object(serde_json::to_value(counts.figures())?);
    m.extend(object(serde_json::to_value(counts)?));
    Ok(m)
}

/// The JSON document of a run, serialised straight from the outcome (the
/// per-interval arrays are the bulk: a long run has thousands of rows, and
/// going through `serde_json::Value` would build them twice).
#[derive(Serialize)]
struct JsonOut<'a> {
    /// The whole run's totals and figures, at the top level.
    #[serde(flatten)]
    totals: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    twin: Option<Value>,
    interval_estimates: Vec<twin::IntervalEstimate>,
    replications: usize,
    seed: u64,
    sl_threshold_seconds: f64,
    start: String,
    end: String,
    warm_up_end: String,
    interval_minutes: u64,
    intervals: &'a [sim::IntervalRow],
    /// Per queue, the engine's counting (per queue entry, waits in the queue).
    #[serde(skip_serializing_if = "Option::is_none")]
    queues: Option<&'a [engine::kpi::QueueRow]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_replication: Option<Vec<Value>>,
}

fn to_json(model: &Model, o: &SimOutcome, twin: Option<&TwinRun>, source: &str) -> Result<String> {
    let twin_doc = twin.map(|t| {
        let w = &t.what_if;
        json!({
            "date": ::wfm::forecast::format_date(t.info.date),
            "forecast": t.forecast,
            "forecast_first_day": ::wfm::forecast::format_date(t.info.first),
            "forecast_last_day": ::wfm::forecast::format_date(t.info.last),
            "staffing": t.staffing,
            "staffing_kind": t.staffing_kind,
            "routing": source,
            "what_if": {
                "shrinkage": w.shrinkage,
                "add_agents": w.add_agents,
                "group_deltas": w.group_deltas.iter().map(|(g, n)| json!({"group": g, "agents": n})).collect::<Vec<_>>(),
                "aht_factor": w.aht_factor,
                "volume_factor": w.volume_factor,
                "patience_seconds": w.patience_seconds,
            },
        })
    });
    let r = o.replications.len();
    let (confidence, per_replication) = if r > 1 {
        let mut est = Map::new();
        for (name, e) in &o.estimates {
            est.insert((*name).to_string(), json!({ "mean": e.mean, "half_width_95": e.half_width }));
        }
        let mut per = Vec::new();
        for run in &o.replications {
            let mut m = flat(&run.totals)?;
            m.insert("seed".into(), json!(run.seed));
            per.push(Value::Object(m));
        }
        (Some(est), Some(per))
    } else {
        (None, None)
    };
    let doc = JsonOut {
        totals: flat(&o.totals)?,
        twin: twin_doc,
        interval_estimates: twin::interval_estimates(o),
        replications: r,
        seed: model.seed,
        sl_threshold_seconds: o.sl_threshold_seconds,
        start: sim::clock(model.start_ms),
        end: sim::clock(model.end_ms),
        warm_up_end: sim::clock(model.warm_up_end_ms),
        interval_minutes: model.interval_ms / 60_000,
        intervals: &o.intervals,
        queues: o.kpi.as_ref().map(|k| k.queues.as_slice()),
        confidence,
        per_replication,
    };
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}
