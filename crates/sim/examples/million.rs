//! A million calls through one queue of 100 agents with abandonment:
//! `cargo run --release -p sim --example million [-- --kpi]` (`--kpi`: also
//! feed the engine's KPI fold).

use std::time::Instant;

fn main() -> Result<(), sim::SimError> {
    // 100 agents, AHT 180 s, 1,900 calls/h (95 % offered load), patience 120 s:
    // 1,000,000 calls in about 526 hours.
    // `--hours H` runs a shorter (or longer) simulation; `--agents N`,
    // `--calls-per-hour L` and `--patience S` change the queue (the
    // SimPy bench's is `--agents 14 --calls-per-hour 200 --patience 300
    // --hours 5000`).
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse::<f64>().ok())
    };
    let agents = flag("--agents").map_or(100, |n| n as i64);
    let rate = flag("--calls-per-hour").unwrap_or(1900.0);
    let mut s = sim::Scenario::one_queue(agents, rate, 180.0, flag("--hours").unwrap_or(526.3));
    s.arrivals[0].patience_seconds = Some(flag("--patience").unwrap_or(120.0));
    s.simulation.interval_minutes = flag("--interval-minutes").map_or(s.simulation.interval_minutes, |m| m as i64);
    s.simulation.seed = 1;
    let model = sim::Model::build(&s)?;
    let kpi_report = std::env::args().any(|a| a == "--kpi");
    let t = Instant::now();
    let outcome = sim::simulate_model(&model, sim::Options { kpi_report })?;
    let elapsed = t.elapsed();
    let r = &outcome.replications[0];
    let f = &outcome.figures;
    println!(
        "{} calls, {} events, {} engine inputs in {:.3} s ({:.0} calls/s); SL {:.4}, abandon {:.4}, occupancy {:.4}",
        r.arrivals,
        r.events,
        r.inputs,
        elapsed.as_secs_f64(),
        r.arrivals as f64 / elapsed.as_secs_f64(),
        f.service_level,
        f.abandon_rate,
        f.occupancy
    );
    Ok(())
}
