//! `switchboard simulate`: run a scenario file, or a one-queue scenario
//! described by flags, and print the interval KPI table and totals (text)
//! or everything as JSON.

use crate::UsageError;
use crate::args::{non_negative, positive};
use anyhow::{Context, Result};
use clap::ValueEnum;
use serde_json::{Map, Value, json};
use sim::scenario::Distribution;
use sim::{Model, Options, Scenario, ScenarioError, SimOutcome};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;
use tracing::info;

/// Flags of the one-queue form (they conflict with `--scenario`).
const ONE_QUEUE_FLAGS: [&str; 8] =
    ["agents", "calls_per_hour", "aht", "patience", "wrap_up", "handle_dist", "handle_cv", "hours"];

/// `switchboard simulate`.
#[derive(Debug, clap::Args)]
#[command(
    allow_negative_numbers = true,
    after_help = "Examples:\n  \
    switchboard simulate --agents 14 --calls-per-hour 200 --aht 180 --patience 300 --hours 8\n  \
    switchboard simulate --scenario crates/sim/examples/two-queues.toml --format json"
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

    /// One queue: mean patience (exponential); callers never abandon without it.
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
}

/// The scenario to run, and whether it came from flags.
fn scenario(args: &Args) -> Result<(Scenario, bool)> {
    let (mut s, from_flags) = match &args.scenario {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| UsageError(format!("cannot read scenario {}: {e}", path.display())))?;
            let s =
                Scenario::from_toml_str(&text).map_err(|e| UsageError(format!("scenario {}: {e}", path.display())))?;
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

/// Run the subcommand.
pub fn run(args: Args) -> Result<()> {
    let (scenario, from_flags) = scenario(&args)?;
    let source = args.scenario.as_ref().map_or_else(|| "flags".to_string(), |p| format!("scenario {}", p.display()));
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
    let outcome = sim::simulate_model(&model, Options { kpi_report: true }).context("simulation failed")?;
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
    let text = match args.format {
        Format::Text => render_text(&model, &outcome),
        Format::Json => serde_json::to_string_pretty(&to_json(&model, &outcome)?)? + "\n",
    };
    crate::emit(&text)
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

fn to_json(model: &Model, o: &SimOutcome) -> Result<Value> {
    let mut top = flat(&o.totals)?;
    let r = o.replications.len();
    top.insert("replications".into(), json!(r));
    top.insert("seed".into(), json!(model.seed));
    top.insert("sl_threshold_seconds".into(), json!(o.sl_threshold_seconds));
    top.insert("start".into(), json!(sim::clock(model.start_ms)));
    top.insert("end".into(), json!(sim::clock(model.end_ms)));
    top.insert("warm_up_end".into(), json!(sim::clock(model.warm_up_end_ms)));
    top.insert("interval_minutes".into(), json!(model.interval_ms / 60_000));
    top.insert("intervals".into(), serde_json::to_value(&o.intervals)?);
    if let Some(kpi) = &o.kpi {
        // Per queue, the engine's counting (per queue entry, waits in the queue).
        top.insert("queues".into(), serde_json::to_value(&kpi.queues)?);
    }
    if r > 1 {
        let mut est = Map::new();
        for (name, e) in &o.estimates {
            est.insert((*name).to_string(), json!({ "mean": e.mean, "half_width_95": e.half_width }));
        }
        top.insert("confidence".into(), Value::Object(est));
        let mut per = Vec::new();
        for run in &o.replications {
            let mut m = flat(&run.totals)?;
            m.insert("seed".into(), json!(run.seed));
            per.push(Value::Object(m));
        }
        top.insert("per_replication".into(), Value::Array(per));
    }
    Ok(Value::Object(top))
}
