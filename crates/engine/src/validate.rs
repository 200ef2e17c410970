//! Configuration validation (stub, filled in by the validation work).

use crate::config::EngineConfig;

/// One problem found in a configuration, with the place it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Where, e.g. `queues[2].steps[1].condition.skills[0]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl EngineConfig {
    /// Every problem in the configuration (empty when it is valid).
    pub fn validate(&self) -> Vec<ConfigIssue> {
        Vec::new()
    }
}
