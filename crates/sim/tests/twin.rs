//! The digital twin against queueing theory: a stationary forecast day
//! (constant volume and AHT) staffed by a constant plan must predict what
//! Erlang C / Erlang A say, within the replications' 95 % confidence
//! interval; and a what-if with more agents must raise the service level.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sim::twin::{Day, Demand, Pool, Presence, WhatIf, day_scenario, interval_estimates};
use sim::{Model, Options, Scenario, SimOutcome, simulate_model};

const ROUTING: &str = r#"
[simulation]
seed = 11
replications = 20

[[queues]]
name = "support"

[[agents]]
name = "agent"
count = 1
queues = ["support"]
"#;

/// 16 hours of 30-minute intervals, 100 calls each (200/h), AHT 180 s, a
/// plan of `agents` agents throughout.
fn stationary(agents: f64, patience: Option<f64>, what_if: WhatIf) -> SimOutcome {
    let n = 32;
    let day = Day {
        start_ms: 0,
        interval_ms: 1_800_000,
        intervals: n,
        demand: vec![Demand { queue: "support".into(), offered: vec![100.0; n], aht_seconds: vec![180.0; n] }],
        presence: (0..n as u64)
            .map(|k| Presence {
                pool: Pool::Queue("support".into()),
                start_ms: k * 1_800_000,
                end_ms: (k + 1) * 1_800_000,
                agents,
            })
            .collect(),
    };
    let routing = Scenario::from_toml_str(ROUTING).unwrap();
    let what_if = WhatIf { patience_seconds: patience, ..what_if };
    let s = day_scenario(&routing, &day, &what_if).expect("a valid day");
    let model = Model::build(&s).expect("a valid scenario");
    simulate_model(&model, Options { kpi_report: false }).expect("runs")
}

fn estimate(o: &SimOutcome, name: &str) -> sim::Estimate {
    o.estimates.iter().find(|(n, _)| *n == name).map(|(_, e)| *e).unwrap()
}

/// `want` lies in the 95 % interval, widened by `slack` for the day's
/// start from an empty centre.
fn within(what: &str, o: &SimOutcome, name: &str, want: f64, slack: f64) {
    let e = estimate(o, name);
    println!("{what}: {name} twin {:.4} ± {:.4}, theory {want:.4}", e.mean, e.half_width);
    assert!(
        (e.mean - want).abs() <= e.half_width + slack,
        "{what}: {name} twin {} ± {} vs theory {want}",
        e.mean,
        e.half_width
    );
}

#[test]
fn stationary_day_agrees_with_erlang_a() {
    // A1 of the golden values: 200/h, AHT 180, 14 agents, T 20, patience 300.
    let o = stationary(14.0, Some(300.0), WhatIf::default());
    let q = wfm::ErlangA::new(200.0, 180.0, 300.0).unwrap();
    let m = q.metrics(14, 20.0).unwrap();
    assert!((m.service_level - 0.916792).abs() < 1e-5);
    within("Erlang A", &o, "service_level", m.service_level, 0.003);
    within("Erlang A", &o, "abandon_rate", m.p_abandon, 0.002);
    within("Erlang A", &o, "occupancy", m.occupancy, 0.003);
    within("Erlang A", &o, "asa_seconds", m.asa_answered_seconds, 0.3);
    // Per interval too: the theory lies within most intervals' intervals.
    let rows = interval_estimates(&o);
    assert_eq!(rows.len(), 32);
    let inside =
        rows.iter().filter(|r| (r.service_level.mean - m.service_level).abs() <= r.service_level.half_width).count();
    assert!(inside >= 26, "theory inside {inside} of 32 interval confidence intervals");
}

#[test]
fn stationary_day_agrees_with_erlang_c() {
    // C2: 200/h, AHT 180, 14 agents, T 20, nobody abandons.
    let o = stationary(14.0, None, WhatIf::default());
    let q = wfm::ErlangC::new(200.0, 180.0).unwrap();
    let m = q.metrics(14, 20.0).unwrap();
    within("Erlang C", &o, "service_level", m.service_level, 0.003);
    within("Erlang C", &o, "asa_seconds", m.asa_seconds, 0.4);
    within("Erlang C", &o, "occupancy", m.occupancy, 0.003);
    assert_eq!(estimate(&o, "abandon_rate").mean, 0.0);
}

#[test]
fn more_agents_raise_the_service_level() {
    let base = stationary(13.0, Some(300.0), WhatIf::default());
    let more = stationary(13.0, Some(300.0), WhatIf { add_agents: 2, ..WhatIf::default() });
    let (a, b) = (estimate(&base, "service_level"), estimate(&more, "service_level"));
    println!("13 agents {:.4} ± {:.4}, 15 agents {:.4} ± {:.4}", a.mean, a.half_width, b.mean, b.half_width);
    assert!(b.mean - b.half_width > a.mean + a.half_width, "more agents, better service");
    // And matches Erlang A for 15 agents.
    let m = wfm::ErlangA::new(200.0, 180.0, 300.0).unwrap().metrics(15, 20.0).unwrap();
    within("Erlang A, 15 agents", &more, "service_level", m.service_level, 0.003);
    // A longer AHT lowers it.
    let slower = stationary(13.0, Some(300.0), WhatIf { aht_factor: 1.1, ..WhatIf::default() });
    assert!(estimate(&slower, "service_level").mean < a.mean);
}
