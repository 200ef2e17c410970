//! `switchboard bench`: speed measurements of the engine (routing latency)
//! and of the simulator (a million calls), printed as text or JSON.

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use serde::Serialize;
use std::time::Instant;

/// Which benchmark.
#[derive(Debug, Subcommand)]
pub enum Args {
    /// Route a busy centre (default: 5,000 agents, 100 skills, 200 queues,
    /// 20,000 waiting contacts) and time every engine event.
    Routing(RoutingArgs),
    /// Simulate calls through one queue with abandonment (default: a
    /// million calls, 100 agents) and time the whole run.
    Simulate(SimulateArgs),
}

/// Output format.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable report.
    Text,
    /// One JSON object.
    Json,
}

/// Flags of `bench routing`.
#[derive(Debug, clap::Args)]
pub struct RoutingArgs {
    /// Logged-in agents.
    #[arg(long, default_value_t = 5_000)]
    agents: u32,
    /// Distinct skills.
    #[arg(long, default_value_t = 100)]
    skills: u32,
    /// Queues (each requires one skill).
    #[arg(long, default_value_t = 200)]
    queues: u32,
    /// Contacts kept waiting.
    #[arg(long, default_value_t = 20_000)]
    waiting: u32,
    /// Measured events.
    #[arg(long, default_value_t = 2_000_000)]
    events: u64,
    /// Events run before measuring.
    #[arg(long, default_value_t = 200_000)]
    warmup: u64,
    /// Seed of the workload.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output format (`json` prints `events_per_second`, `p50_us`, `p99_us`, …).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Flags of `bench simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Calls to simulate.
    #[arg(long, default_value_t = 1_000_000)]
    calls: u64,
    /// Agents in the queue.
    #[arg(long, default_value_t = 100)]
    agents: i64,
    /// Offered load as a fraction of the agents (arrival rate = load × agents / AHT).
    #[arg(long, default_value_t = 0.95)]
    load: f64,
    /// Mean handle time, seconds (exponential).
    #[arg(long, default_value_t = 180.0)]
    aht: f64,
    /// Mean patience, seconds (exponential).
    #[arg(long, default_value_t = 120.0)]
    patience: f64,
    /// Also feed every event to the engine's KPI fold (interval report).
    #[arg(long)]
    kpi: bool,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Run a benchmark.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args {
        Args::Routing(a) => routing(a),
        Args::Simulate(a) => simulate(a),
    }
}

fn routing(a: RoutingArgs) -> anyhow::Result<()> {
    let cfg = bench::RoutingBenchConfig {
        agents: a.agents,
        skills: a.skills,
        queues: a.queues,
        waiting_contacts: a.waiting,
        events: a.events,
        warmup_events: a.warmup,
        seed: a.seed,
        ..bench::RoutingBenchConfig::default()
    };
    let report = bench::run_routing_bench(&cfg).map_err(|e| crate::UsageError(e.to_string()))?;
    match a.format {
        Format::Text => crate::emit(&bench::render_text(&report)),
        Format::Json => crate::emit(&(serde_json::to_string_pretty(&report).context("serialising the report")? + "\n")),
    }
}

/// Result of `bench simulate`.
#[derive(Debug, Serialize)]
struct SimBench {
    calls: u64,
    agents: i64,
    calls_per_hour: f64,
    aht_seconds: f64,
    patience_seconds: f64,
    kpi_fold: bool,
    seconds: f64,
    calls_per_second: f64,
    engine_events: u64,
    engine_inputs: u64,
    service_level: f64,
    abandon_rate: f64,
    occupancy: f64,
}

fn simulate(a: SimulateArgs) -> anyhow::Result<()> {
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if a.agents < 1 || a.calls == 0 || !positive(a.load) || !positive(a.aht) || !positive(a.patience) {
        return Err(crate::UsageError("agents, calls, load, aht and patience must be positive".into()).into());
    }
    let calls_per_hour = a.load * a.agents as f64 * 3600.0 / a.aht;
    let hours = a.calls as f64 / calls_per_hour;
    let mut s = sim::Scenario::one_queue(a.agents, calls_per_hour, a.aht, hours);
    s.arrivals[0].patience_seconds = Some(a.patience);
    s.simulation.seed = a.seed;
    let model = sim::Model::build(&s).map_err(|e| crate::UsageError(e.to_string()))?;
    let start = Instant::now();
    let outcome = sim::simulate_model(&model, sim::Options { kpi_report: a.kpi })?;
    let seconds = start.elapsed().as_secs_f64();
    let run = outcome.replications.first().context("no replication ran")?;
    let result = SimBench {
        calls: run.arrivals,
        agents: a.agents,
        calls_per_hour,
        aht_seconds: a.aht,
        patience_seconds: a.patience,
        kpi_fold: a.kpi,
        seconds,
        calls_per_second: run.arrivals as f64 / seconds,
        engine_events: run.events,
        engine_inputs: run.inputs,
        service_level: outcome.figures.service_level,
        abandon_rate: outcome.figures.abandon_rate,
        occupancy: outcome.figures.occupancy,
    };
    match a.format {
        Format::Json => crate::emit(&(serde_json::to_string_pretty(&result).context("serialising")? + "\n")),
        Format::Text => crate::emit(&format!(
            "{} calls through one queue of {} agents (AHT {} s, patience {} s, {:.0} calls/h){}: {:.3} s, {:.0} calls/s, {} engine events\nservice level {:.1} %, abandoned {:.1} %, occupancy {:.1} %\n",
            result.calls,
            result.agents,
            result.aht_seconds,
            result.patience_seconds,
            result.calls_per_hour,
            if a.kpi { " with the KPI fold" } else { "" },
            result.seconds,
            result.calls_per_second,
            result.engine_events,
            result.service_level * 100.0,
            result.abandon_rate * 100.0,
            result.occupancy * 100.0,
        )),
    }
}
