//! The one error type of the crate.

/// What can go wrong in a queueing computation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WfmError {
    /// An input is out of its domain (negative rate, zero agents, NaN, …).
    #[error("{name} must be {requirement}, not {value}")]
    InvalidInput {
        /// Which input (e.g. `"calls_per_hour"`).
        name: &'static str,
        /// What it must be (e.g. `"0 or more"`).
        requirement: &'static str,
        /// The value given.
        value: f64,
    },
    /// Erlang C has no steady state when the offered load is at least the
    /// number of agents: the queue grows without bound.
    #[error(
        "the queue is unstable: an offered load of {load:.4} Erlangs needs more than {agents} agents \
         without abandonment (Erlang C); add agents or give a patience (Erlang A)"
    )]
    Unstable {
        /// Offered load A in Erlangs.
        load: f64,
        /// Agents given.
        agents: f64,
    },
    /// No number of agents up to the search limit meets the target.
    #[error("no staffing up to {max_agents} agents meets the target")]
    Unattainable {
        /// The largest staffing tried.
        max_agents: u32,
    },
    /// The computation would take too long (an Erlang A queue so overloaded
    /// and patient that its stationary distribution has more than
    /// `terms` significant states).
    #[error("too large to compute: about {terms} queue states would be needed")]
    TooLarge {
        /// Estimated number of states.
        terms: f64,
    },
}

/// Fails unless `value` is finite and at least 0.
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<f64, WfmError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(WfmError::InvalidInput { name, requirement: "a finite number, 0 or more", value })
    }
}

/// Fails unless `value` is finite and greater than 0.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64, WfmError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(WfmError::InvalidInput { name, requirement: "a finite number greater than 0", value })
    }
}

/// Fails unless `value` is a probability strictly between 0 and 1.
pub(crate) fn open_fraction(name: &'static str, value: f64) -> Result<f64, WfmError> {
    if value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(WfmError::InvalidInput { name, requirement: "a fraction greater than 0 and less than 1", value })
    }
}
