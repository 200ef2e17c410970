//! Why a benchmark could not run.

use engine::{EngineError, Time};
use thiserror::Error;

/// Why a benchmark could not run (or could not finish).
#[derive(Debug, Error)]
pub enum BenchError {
    /// The benchmark configuration is unusable.
    #[error("invalid benchmark configuration: {0}")]
    Config(String),
    /// The engine refused the generated contact-center configuration.
    #[error("the engine refused the generated configuration: {0}")]
    Engine(#[from] EngineError),
    /// Nothing left to do: no pending input and no engine timer.
    #[error("the workload stalled at {0}: no pending input and no engine timer")]
    Stalled(Time),
    /// The report could not be serialised.
    #[error("cannot serialise the report: {0}")]
    Json(#[from] serde_json::Error),
}
