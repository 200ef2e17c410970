//! Queueing-theory agreement: the simulator driving the real engine against
//! exact Erlang C (M/M/N) and Erlang A (M/M/N+M) values.
//!
//! Golden values: `/work/shared/data/erlang-golden.csv` (computed with
//! pyworkforce 0.5.4 and cross-checked against an independent 60-digit
//! implementation, max abs difference 2.4e-15). Its conventions, which the
//! comparisons below follow:
//!
//! * `service_level` = answered within T / all arrivals (abandoned included),
//!   the simulator's `service_level`;
//! * Erlang C `asa` = C·AHT/(n−A), the mean wait over **all** calls (zero
//!   waits included), which without abandonment is the simulator's
//!   `asa_seconds` (every call is answered) and `mean_wait_seconds`;
//! * Erlang A `asa` = P(abandon)/θ, the mean wait of all arrivals, abandoned
//!   ones included: the simulator's `mean_wait_seconds`, not its ASA.
//!
//! Each case simulates about a million calls (λ = 200/h over 5,000 h) with
//! the first 10 hours discarded as warm-up. The streams of arrivals, handle
//! times and patience are drawn per contact from seeded generators, so the
//! figures do not depend on which agent the engine picks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sim::{Figures, Model, Options, Scenario, simulate_model};

/// One queue, `agents` agents, Poisson 200 calls/h, exponential AHT 180 s.
fn run(agents: i64, patience: Option<f64>, hours: f64, seed: u64) -> (Figures, u64) {
    let mut s = Scenario::one_queue(agents, 200.0, 180.0, hours);
    s.arrivals[0].patience_seconds = patience;
    s.simulation.seed = seed;
    s.simulation.warm_up_minutes = 600.0;
    s.simulation.interval_minutes = 60;
    s.simulation.sl_threshold_seconds = 20.0;
    let model = Model::build(&s).expect("valid scenario");
    // The simulator's own tallies are enough here: skip the engine's KPI fold.
    let o = simulate_model(&model, Options { kpi_report: false }).expect("simulation runs");
    assert_eq!(o.totals.unfinished, 0, "every call ends");
    (o.figures, o.totals.offered)
}

fn check(case: &str, what: &str, got: f64, want: f64, tolerance: f64) {
    println!("{case}: {what} simulated {got:.6} golden {want:.6} (diff {:+.6})", got - want);
    assert!((got - want).abs() <= tolerance, "{case}: {what} simulated {got} vs golden {want} (tolerance {tolerance})");
}

#[test]
fn c1_erlang_c_13_agents() {
    // C1,200,180,13,20,,0.285270,0.795595,17.1162,0,0.769231,14
    let (f, n) = run(13, None, 5000.0, 1);
    assert!(n > 950_000, "{n} calls");
    check("C1", "service level", f.service_level, 0.795595, 0.01);
    check("C1", "ASA (all calls)", f.asa_seconds, 17.1162, 17.1162 * 0.05);
    check("C1", "mean wait", f.mean_wait_seconds, 17.1162, 17.1162 * 0.05);
    check("C1", "occupancy", f.occupancy, 0.769231, 0.01);
    assert_eq!(f.abandon_rate, 0.0);
}

#[test]
fn c2_erlang_c_14_agents() {
    // C2,200,180,14,20,,0.174132,0.888350,7.8359,0,0.714286,14
    let (f, _) = run(14, None, 5000.0, 2);
    check("C2", "service level", f.service_level, 0.888350, 0.01);
    check("C2", "ASA (all calls)", f.asa_seconds, 7.8359, 7.8359 * 0.05);
    check("C2", "occupancy", f.occupancy, 0.714286, 0.01);
}

#[test]
fn a1_erlang_a_14_agents_patience_300() {
    // A1,200,180,14,20,300,0.145260,0.916792,4.1951,0.013984,0.704297,13
    let (f, _) = run(14, Some(300.0), 5000.0, 3);
    check("A1", "P(abandon)", f.abandon_rate, 0.013984, 0.01);
    check("A1", "service level", f.service_level, 0.916792, 0.01);
    check("A1", "mean wait (all arrivals)", f.mean_wait_seconds, 4.1951, 4.1951 * 0.05);
    check("A1", "occupancy", f.occupancy, 0.704297, 0.01);
}

#[test]
fn a4_erlang_a_11_agents_patience_60() {
    // A4,200,180,11,20,60,0.326789,0.796523,6.7068,0.111780,0.807472,12
    let (f, _) = run(11, Some(60.0), 5000.0, 4);
    check("A4", "P(abandon)", f.abandon_rate, 0.111780, 0.01);
    check("A4", "service level", f.service_level, 0.796523, 0.01);
    check("A4", "mean wait (all arrivals)", f.mean_wait_seconds, 6.7068, 6.7068 * 0.05);
    check("A4", "occupancy", f.occupancy, 0.807472, 0.01);
}

/// The twin against the analytic model over a spread of sizes: the
/// simulator (real engine) and `wfm`'s exact Erlang A agree on service
/// level and abandonment within a percentage point.
#[test]
fn twin_agrees_with_erlang_a_across_sizes() {
    // (agents, calls/h, AHT s, patience s)
    for (i, (agents, cph, aht, patience)) in
        [(5i64, 50.0, 240.0, 120.0), (48, 900.0, 180.0, 90.0), (100, 1900.0, 180.0, 120.0)].into_iter().enumerate()
    {
        let hours = 300_000.0 / cph;
        let mut s = Scenario::one_queue(agents, cph, aht, hours);
        s.arrivals[0].patience_seconds = Some(patience);
        s.simulation.seed = 100 + i as u64;
        s.simulation.warm_up_minutes = 600.0;
        s.simulation.sl_threshold_seconds = 20.0;
        let model = Model::build(&s).expect("valid scenario");
        let f = simulate_model(&model, Options { kpi_report: false }).expect("runs").figures;
        let exact =
            wfm::ErlangA::new(cph, aht, patience).expect("valid").metrics(agents as u32, 20.0).expect("metrics");
        let case = format!("N={agents} λ={cph}/h AHT={aht} s patience={patience} s");
        check(&case, "service level", f.service_level, exact.service_level, 0.01);
        check(&case, "P(abandon)", f.abandon_rate, exact.p_abandon, 0.01);
    }
}

/// Skills routing changes outcomes where it should: the same 20 agents and
/// the same calls, first split into two specialist groups, then pooled
/// (everyone has both skills). Pooling serves the same load with a higher
/// service level (the classic economy of scale), and routing steps that
/// hold calls for experts first lower it again.
#[test]
fn skills_routing_changes_outcomes() {
    let scenario = |agents: &str, steps: &str| {
        format!(
            r#"
            [simulation]
            hours = 400
            seed = 9
            warm_up_minutes = 600

            [[queues]]
            name = "billing"
            {steps}

            [[queues]]
            name = "tech"

            {agents}

            [[arrivals]]
            queue = "billing"
            calls_per_hour = 100
            aht_seconds = 300
            patience_seconds = 180

            [[arrivals]]
            queue = "tech"
            calls_per_hour = 100
            aht_seconds = 300
            patience_seconds = 180
            "#
        )
    };
    let split = r#"
            [[agents]]
            name = "billing"
            count = 10
            skills = { billing = 5 }
            queues = ["billing"]

            [[agents]]
            name = "tech"
            count = 10
            skills = { tech = 5 }
            queues = ["tech"]
    "#;
    let pooled = r#"
            [[agents]]
            name = "billing"
            count = 10
            skills = { billing = 9, tech = 3 }
            queues = ["billing", "tech"]

            [[agents]]
            name = "tech"
            count = 10
            skills = { tech = 9, billing = 3 }
            queues = ["billing", "tech"]
    "#;
    let experts_first = r#"
            [[queues.steps]]
            skills = { billing = 8 }
            timeout_seconds = 60

            [[queues.steps]]
            skills = { billing = 1 }
    "#;
    let run = |text: String| {
        let s = Scenario::from_toml_str(&text).expect("parses");
        let model = Model::build(&s).expect("valid");
        simulate_model(&model, Options { kpi_report: false }).expect("runs").figures
    };
    let split = run(scenario(split, ""));
    let pooled_any = run(scenario(pooled, ""));
    let pooled_experts = run(scenario(pooled, experts_first));
    println!(
        "service level: split {:.4}, pooled {:.4}, pooled with experts first for billing {:.4}",
        split.service_level, pooled_any.service_level, pooled_experts.service_level
    );
    assert!(pooled_any.service_level > split.service_level + 0.03, "pooling should help");
    assert!(pooled_any.abandon_rate < split.abandon_rate, "and lose fewer callers");
    assert!(pooled_experts.service_level < pooled_any.service_level - 0.01, "holding for experts costs service level");
}
