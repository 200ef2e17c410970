//! # The simulation driver of Switchboard's engine
//!
//! Synthetic callers and agents in virtual time, driving the very engine
//! production runs (same routing, same events), so a what-if question about
//! staffing or routing is answered by the production configuration itself.
//!
//! Pure like the engine: no threads, no clock, no I/O, no global random
//! generator. Every replication has its own seeded [`engine::rng::Rng`]
//! streams (one per arrival stream for arrivals, one for the callers'
//! draws, one for agents, one for callbacks), so a run is reproducible from
//! its seed.
//!
//! ```
//! let scenario = sim::Scenario::from_toml_str(r#"
//!     [simulation]
//!     hours = 1
//!     seed = 7
//!
//!     [[queues]]
//!     name = "support"
//!
//!     [[agents]]
//!     name = "agent"
//!     count = 3
//!     queues = ["support"]
//!
//!     [[arrivals]]
//!     queue = "salse"
//!     calls_per_hour = 40
//!     aht_seconds = 180
//! "#).unwrap();
//! let err = sim::Model::build(&scenario).unwrap_err();
//! assert!(err.to_string().contains(r#"arrivals[0].queue: unknown queue "salse""#));
//! ```
//!
//! * [`Scenario`]: the TOML file ([`Scenario::from_toml_str`]).
//! * [`Model::build`]: checks everything (names, values, the engine's own
//!   validation mapped back to the file's places) and compiles the engine
//!   configuration with dense ids.
//! * [`simulate`]: runs the replications and returns a [`SimOutcome`] with
//!   totals, intervals and confidence intervals of the headline figures,
//!   and the engine's own KPI report ([`engine::kpi::IntervalFold`], fed
//!   every event; [`kpi`]).
//! * [`run`]: the event loop of one replication ([`run::run_with`] drives
//!   the engine).
//! * [`twin`]: the digital twin — a day's forecast and staffing (schedule
//!   or plan) on a routing scenario, with what-ifs, and per-interval
//!   confidence intervals.
//!
//! Two ways of counting sit side by side. The simulator's [`Counts`] count
//! each contact once, in the interval of its arrival, with the customer's
//! wait from arrival (overflows included) and leave the warm-up out: these
//! are the figures compared with Erlang C/A. The engine's KPI report counts
//! per queue entry and interval of entry, with waits in each queue, as the
//! live system's reports do. On one queue without overflow they agree.
//!
//! Speed: about 4,400 instructions per call in all, engine and simulator
//! (a million calls through 100 agents with abandonment in about 0.4 s:
//! `cargo run --release -p sim --example million`; the SimPy bench's queue:
//! `-- --agents 14 --calls-per-hour 200 --patience 300 --hours 5000`).

pub mod arrivals;
pub mod kpi;
pub mod model;
pub mod report;
pub mod run;
pub mod scenario;
#[cfg(test)]
mod tests;
pub mod twin;

pub use model::Model;
pub use report::{Counts, Estimate, Figures};
pub use run::{EventSink, RunResult};
pub use scenario::{Scenario, ScenarioError};

use engine::{Engine, EngineError, Output, Time};
use serde::Serialize;
use thiserror::Error;

/// Why a simulation could not run or stopped.
#[derive(Debug, Error)]
pub enum SimError {
    /// The scenario is invalid (nothing ran).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The engine refused the compiled configuration.
    #[error("the engine refused the configuration: {0}")]
    Start(EngineError),
    /// The engine refused an input the simulator did not expect it to refuse
    /// (a bug in the simulator or the engine; the run is abandoned).
    #[error("at {at} the engine refused {input}: {error}")]
    Refused {
        /// Virtual time.
        at: Time,
        /// The input.
        input: String,
        /// The engine's reason.
        error: EngineError,
    },
    /// More than 2³² contacts in one replication.
    #[error("more than 4,294,967,295 contacts in one replication")]
    TooManyContacts,
}

/// One reporting interval of a [`SimOutcome`], summed over replications.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IntervalRow {
    /// Start, ms since 00:00 of the simulated day.
    pub start_ms: u64,
    /// Start as a clock time, `08:15`.
    pub start: String,
    /// End as a clock time.
    pub end: String,
    /// The interval is (partly) in the warm-up: left out of the totals.
    pub warm_up: bool,
    /// Counts.
    #[serde(flatten)]
    pub counts: Counts,
    /// Figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// Everything a simulation produced.
#[derive(Clone, Debug, PartialEq)]
pub struct SimOutcome {
    /// Per replication, in order (seed, seed + 1, …).
    pub replications: Vec<RunResult>,
    /// Counts summed over replications (measured part of the run).
    pub totals: Counts,
    /// Figures of the summed counts.
    pub figures: Figures,
    /// Mean and 95 % half-width over replications of each headline figure
    /// ([`Figures::HEADLINE`]), in that order.
    pub estimates: Vec<(&'static str, Estimate)>,
    /// Interval rows, counts summed over replications.
    pub intervals: Vec<IntervalRow>,
    /// Service-level threshold in seconds (for display).
    pub sl_threshold_seconds: f64,
    /// The engine's KPI report ([`engine::kpi::IntervalFold`]), summed over
    /// replications, when [`Options::kpi_report`] asked for it.
    pub kpi: Option<engine::kpi::KpiReport>,
}

/// How to run a simulation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Feed every event to the engine's KPI fold and keep its report
    /// (default true; costs some time per event).
    pub kpi_report: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { kpi_report: true }
    }
}

/// `HH:MM` (hours may pass 24) of a time in ms since 00:00.
pub fn clock(ms: u64) -> String {
    let minutes = ms / 60_000;
    let seconds = (ms / 1000) % 60;
    if seconds == 0 {
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    } else {
        format!("{:02}:{:02}:{:02}", minutes / 60, minutes % 60, seconds)
    }
}

/// Check and run a scenario, with the KPI report.
pub fn simulate(scenario: &Scenario) -> Result<SimOutcome, SimError> {
    let model = Model::build(scenario)?;
    simulate_model(&model, Options::default())
}

/// Run every replication of a checked model.
pub fn simulate_model(model: &Model, options: Options) -> Result<SimOutcome, SimError> {
    if options.kpi_report {
        let (mut outcome, folds) = simulate_with(model, |_| kpi::fold_for(model))?;
        let reports: Vec<_> = folds.iter().map(|f| f.report()).collect();
        outcome.kpi = kpi::merge_reports(&reports);
        Ok(outcome)
    } else {
        simulate_with(model, |_| ()).map(|(o, _)| o)
    }
}

/// Run every replication of a checked model, sending each replication's
/// events to the sink made for it by `make_sink(seed)`.
pub fn simulate_with<S: EventSink>(
    model: &Model,
    mut make_sink: impl FnMut(u64) -> S,
) -> Result<(SimOutcome, Vec<S>), SimError> {
    let mut runs = Vec::new();
    let mut sinks = Vec::new();
    for r in 0..model.replications {
        let seed = model.seed.wrapping_add(u64::from(r));
        let (res, sink) = run_replication(model, seed, make_sink(seed))?;
        runs.push(res);
        sinks.push(sink);
    }
    Ok((summarise(model, runs), sinks))
}

/// Run one replication with the real engine, started at the model's start
/// time (its start-up events, the configuration, go to the sink first).
pub fn run_replication<S: EventSink>(model: &Model, seed: u64, mut sink: S) -> Result<(RunResult, S), SimError> {
    let mut config = model.config.clone();
    config.settings.seed = seed;
    let mut out = Vec::new();
    let engine = Engine::start(config, Time(model.start_ms), &mut out).map_err(SimError::Start)?;
    for o in &out {
        if let Output::Event(rec) = o {
            sink.event(rec);
        }
    }
    run::run_with(model, engine, sink, seed)
}

/// Sum replications into an outcome.
pub fn summarise(model: &Model, runs: Vec<RunResult>) -> SimOutcome {
    let mut totals = Counts::default();
    let n_int = model.interval_count();
    let mut sums = vec![Counts::default(); n_int];
    for r in &runs {
        totals.add(&r.totals);
        for (s, c) in sums.iter_mut().zip(&r.intervals) {
            s.add(c);
        }
    }
    let per_run: Vec<Figures> = runs.iter().map(|r| r.totals.figures()).collect();
    let estimates = Figures::HEADLINE
        .iter()
        .map(|name| {
            let values: Vec<f64> = per_run.iter().filter_map(|f| f.get(name)).collect();
            (*name, Estimate::of(&values))
        })
        .collect();
    let intervals = sums
        .into_iter()
        .enumerate()
        .map(|(k, counts)| {
            let start_ms = model.first_interval_ms + k as u64 * model.interval_ms;
            IntervalRow {
                start_ms,
                start: clock(start_ms.max(model.start_ms)),
                end: clock((start_ms + model.interval_ms).min(model.end_ms)),
                warm_up: start_ms < model.warm_up_end_ms,
                figures: counts.figures(),
                counts,
            }
        })
        .collect();
    SimOutcome {
        figures: totals.figures(),
        totals,
        estimates,
        intervals,
        replications: runs,
        sl_threshold_seconds: model.sl_threshold_ms as f64 / 1000.0,
        kpi: None,
    }
}
