//! How long staffing takes: `cargo run --release -p wfm --example timing`.
//!
//! Times `required_agents` for vector A6 (Erlang A, A = 500, patience
//! 180 s, 80/20 → 475 agents), one Erlang A evaluation at 480 agents, and
//! Erlang C for C8 (A = 500) and C9 (A = 5000).

use std::time::Instant;
use wfm::{ErlangA, ErlangC, Target, WfmError};

fn time<T>(what: &str, repeat: u32, mut f: impl FnMut() -> Result<T, WfmError>) -> Result<T, WfmError> {
    let mut result = f()?;
    let started = Instant::now();
    for _ in 0..repeat {
        result = f()?;
    }
    let each = started.elapsed().as_secs_f64() / f64::from(repeat);
    println!("{what:<48} {:>10.1} µs", each * 1e6);
    Ok(result)
}

fn main() -> Result<(), WfmError> {
    let target = Target::service_level(0.8, 20.0);
    let a6 = ErlangA::new(6000.0, 300.0, 180.0)?;
    let s = time("Erlang A required agents, A6 (A = 500)", 1_000, || a6.required_agents(&target))?;
    println!("  → {} agents, service level {:.6}", s.agents, s.metrics.service_level);
    time("Erlang A metrics, A6 at 480 agents", 10_000, || a6.metrics(480, 20.0))?;
    let a5000 = ErlangA::new(60_000.0, 300.0, 180.0)?;
    let s = time("Erlang A required agents, A = 5000, patience 180 s", 100, || a5000.required_agents(&target))?;
    println!("  → {} agents", s.agents);
    let patient = ErlangA::new(6000.0, 300.0, 1e7)?;
    let s = time("Erlang A required agents, A = 500, patience 10^7 s", 100, || patient.required_agents(&target))?;
    println!("  → {} agents (Erlang C: 513)", s.agents);
    let c8 = ErlangC::new(6000.0, 300.0)?;
    let s = time("Erlang C required agents, C8 (A = 500)", 10_000, || c8.required_agents(&target))?;
    println!("  → {} agents", s.agents);
    let c9 = ErlangC::new(60_000.0, 300.0)?;
    let s = time("Erlang C required agents, C9 (A = 5000)", 1_000, || c9.required_agents(&target))?;
    println!("  → {} agents", s.agents);
    Ok(())
}
