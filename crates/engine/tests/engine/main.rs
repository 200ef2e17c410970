//! Integration tests of the engine, in one test binary: scenario tests that
//! document each routing rule and agent-state rule, and property tests over
//! random input sequences.

mod callbacks;
mod harness;
mod props;
mod routing;
mod snapshot;
mod states;
