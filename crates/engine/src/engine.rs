//! The engine (stub; being written).
use crate::*;

/// The contact-center engine.
pub struct Engine {}

impl Engine {
    /// Build an engine from a validated configuration.
    pub fn new(_config: EngineConfig) -> Result<Engine, EngineError> {
        unimplemented!()
    }
    /// Apply an input at `now`, appending outputs to `out`.
    pub fn handle(&mut self, _now: Time, _input: Input, _out: &mut Vec<Output>) -> Result<(), EngineError> {
        unimplemented!()
    }
    /// Earliest pending timer.
    pub fn next_deadline(&mut self) -> Option<Time> {
        unimplemented!()
    }
}
