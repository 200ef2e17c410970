//! The built binary, run as a user would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::process::{Command, Output};

fn switchboard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard")).args(args).output().expect("the binary runs")
}

fn json(args: &[&str]) -> Value {
    let out = switchboard(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[test]
fn one_queue_flags_give_json_totals() {
    let v = json(&[
        "simulate",
        "--agents",
        "14",
        "--calls-per-hour",
        "200",
        "--aht",
        "180",
        "--patience",
        "300",
        "--sl-threshold",
        "20",
        "--hours",
        "200",
        "--seed",
        "7",
        "--format",
        "json",
    ]);
    let offered = num(&v, "offered");
    assert!((offered - 40_000.0).abs() < 1_000.0, "offered {offered}");
    assert_eq!(num(&v, "answered") + num(&v, "abandoned") + num(&v, "unfinished"), offered);
    // Erlang A (A1 in /work/shared/data/erlang-golden.csv): SL 0.9168, P(ab) 0.0140.
    assert!((num(&v, "service_level") - 0.9168).abs() < 0.03, "{v}");
    assert!((num(&v, "abandon_rate") - 0.0140).abs() < 0.01, "{v}");
    assert!((num(&v, "occupancy") - 0.704).abs() < 0.03, "{v}");
    assert!(num(&v, "asa_seconds") > 0.0);
    for key in [
        "service_level_answered",
        "service_level_abandons_positive",
        "service_level_abandons_ignored",
        "service_level_short_abandons_excluded",
        "mean_wait_seconds",
    ] {
        assert!(v[key].is_number(), "{key} missing");
    }
    let intervals = v["intervals"].as_array().expect("intervals");
    assert_eq!(intervals.len(), 200 * 4);
    let sum: f64 = intervals.iter().map(|i| num(i, "offered")).sum();
    assert_eq!(sum, offered);
    assert_eq!(v["queues"][0]["name"], "queue");
}

#[test]
fn replications_report_confidence_and_each_run() {
    let v = json(&[
        "simulate",
        "--agents",
        "5",
        "--calls-per-hour",
        "60",
        "--aht",
        "240",
        "--hours",
        "10",
        "--replications",
        "4",
        "--wrap-up",
        "15",
        "--handle-dist",
        "lognormal",
        "--interval-minutes",
        "30",
        "--format",
        "json",
    ]);
    assert_eq!(v["replications"], 4);
    let per = v["per_replication"].as_array().expect("per_replication");
    assert_eq!(per.len(), 4);
    assert_eq!(per[3]["seed"], 4);
    let c = &v["confidence"]["service_level"];
    assert!(c["mean"].is_number() && num(c, "half_width_95") > 0.0, "{c}");
    assert_eq!(v["intervals"].as_array().map(Vec::len), Some(20));
    // Handle time includes the 15 s wrap-up.
    assert!((num(&v, "aht_seconds") - 255.0).abs() < 20.0, "{v}");
}

#[test]
fn text_output_has_the_interval_table_and_totals() {
    let out = switchboard(&["simulate", "--agents", "3", "--calls-per-hour", "30", "--aht", "120", "--hours", "1"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Queue intervals"), "{text}");
    assert!(text.contains("00:45-01:00"), "{text}");
    assert!(text.contains("service level"), "{text}");
}

#[test]
fn scenario_file_runs() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../sim/examples/two-queues.toml");
    let v = json(&["simulate", "--scenario", path, "--replications", "1", "--format", "json"]);
    assert!(num(&v, "offered") > 1000.0, "{v}");
    assert_eq!(v["queues"].as_array().map(Vec::len), Some(2));
}

#[test]
fn bad_flags_exit_2_naming_the_problem() {
    for (args, needle) in [
        (vec!["simulate", "--agents", "0", "--calls-per-hour", "5", "--aht", "100"], "--agents"),
        (vec!["simulate", "--agents", "3", "--calls-per-hour", "-5", "--aht", "100"], "must be 0 or more"),
        (vec!["simulate", "--agents", "3", "--aht", "100"], "--calls-per-hour"),
        (
            vec!["simulate", "--agents", "3", "--calls-per-hour", "5", "--aht", "100", "--warm-up-minutes", "600"],
            "--warm-up-minutes",
        ),
        (vec!["simulate", "--scenario", "/nonexistent/x.toml"], "cannot read scenario"),
    ] {
        let out = switchboard(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "nothing ran");
    }
}

#[test]
fn bad_scenario_exits_2_with_every_problem() {
    let dir = std::env::temp_dir().join(format!("switchboard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "[simulation]\nhours = 1\n[[queues]]\nname = \"sales\"\n[[agents]]\nname = \"a\"\nqueues = [\"sales\"]\n\
         [[arrivals]]\nqueue = \"salse\"\ncalls_per_hour = 5\naht_seconds = 0\n",
    )
    .unwrap();
    let out = switchboard(&["simulate", "--scenario", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(r#"arrivals[0].queue: unknown queue "salse""#), "{err}");
    assert!(err.contains("arrivals[0].aht_seconds"), "{err}");
    std::fs::write(&path, "[simulation]\nhours = 1\nwarmup = 5\n").unwrap();
    let out = switchboard(&["simulate", "--scenario", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("line 3"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

// `switchboard wfm erlang`: vectors C1 and A6 of /work/shared/data/erlang-golden.csv
// (pyworkforce 0.5.4, cross-checked against a 60-digit implementation).

fn close(v: &Value, key: &str, want: f64, tol: f64) {
    let got = num(v, key);
    assert!((got - want).abs() <= tol, "{key}: got {got}, want {want} (±{tol}) in {v}");
}

#[test]
fn wfm_erlang_c_json_matches_c1() {
    let c1 = ["wfm", "erlang", "--calls-per-hour", "200", "--aht", "180", "--sl-threshold", "20", "--format", "json"];
    let v = json(&[&c1[..], &["--agents", "13"]].concat());
    assert_eq!(v["agents"], 13);
    close(&v, "offered_load_erlangs", 10.0, 1e-12);
    close(&v, "p_wait", 0.285270, 1e-6);
    close(&v, "service_level", 0.795595, 1e-6);
    close(&v, "asa_seconds", 17.1162, 1e-4);
    close(&v, "asa_answered_seconds", 17.1162, 1e-4);
    close(&v, "mean_wait_all_seconds", 17.1162, 1e-4);
    close(&v, "occupancy", 0.769231, 1e-6);
    assert!(v.get("p_abandon").is_none(), "Erlang C has no abandonment: {v}");
    assert!(v.get("required_agents").is_none());

    // 80/20 needs 14 agents (C2: SL 0.888350); 30 % shrinkage → 20 scheduled.
    let v = json(&[&c1[..], &["--target-sl", "0.8", "--shrinkage", "0.3"]].concat());
    assert_eq!(v["required_agents"], 14);
    assert_eq!(v["agents"], 14);
    assert_eq!(v["scheduled_agents"], 20);
    close(&v, "service_level", 0.888350, 1e-6);
    close(&v, "p_wait", 0.174132, 1e-6);
}

#[test]
fn wfm_erlang_a_json_matches_a6() {
    let a6 = [
        "wfm",
        "erlang",
        "--calls-per-hour",
        "6000",
        "--aht",
        "300",
        "--patience",
        "180",
        "--sl-threshold",
        "20",
        "--format",
        "json",
    ];
    let v = json(&[&a6[..], &["--agents", "480"]].concat());
    assert_eq!(v["agents"], 480);
    close(&v, "offered_load_erlangs", 500.0, 1e-9);
    close(&v, "p_wait", 0.736469, 1e-6);
    close(&v, "service_level", 0.850255, 1e-6);
    close(&v, "p_abandon", 0.046525, 1e-6);
    close(&v, "occupancy", 0.993203, 1e-6);
    // Both mean waits, under distinct names: pyworkforce's "ASA" is the mean over all arrivals.
    close(&v, "mean_wait_all_seconds", 8.3746, 1e-4);
    close(&v, "asa_answered_seconds", 8.3754, 1e-4);
    close(&v, "asa_seconds", 8.3754, 1e-4);
    close(&v, "service_level_virtual", 0.881165, 1e-6);

    // The least staffing is 475 (pyworkforce says 500); "80" means 80 %.
    let v = json(&[&a6[..], &["--target-sl", "80"]].concat());
    assert_eq!(v["required_agents"], 475);
    assert_eq!(v["scheduled_agents"], 475);
    assert!((0.8..0.81).contains(&num(&v, "service_level")), "{v}");
    let v = json(&[&a6[..], &["--target-sl", "80%", "--shrinkage", "30"]].concat());
    assert_eq!(v["required_agents"], 475);
    assert_eq!(v["scheduled_agents"], 679);
}

#[test]
fn wfm_erlang_text_is_a_table() {
    let out = switchboard(&[
        "wfm",
        "erlang",
        "--calls-per-hour",
        "200",
        "--aht",
        "180",
        "--patience",
        "300",
        "--target-sl",
        "0.8",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Erlang A"), "{text}");
    assert!(text.contains("Required agents for 80.00 % answered within 20 s: 13"), "{text}");
    assert!(text.contains("ASA (mean wait of answered calls)"), "{text}");
    assert!(text.contains("mean wait of all arrivals"), "{text}");
}

#[test]
fn wfm_erlang_bad_input_exits_2() {
    let base = ["wfm", "erlang", "--calls-per-hour", "200", "--aht", "180"];
    for (extra, needle) in [
        (vec!["--agents", "10"], "unstable"),
        (vec!["--agents", "9"], "--patience"),
        (vec!["--agents", "0"], "--agents"),
        (vec!["--agents", "13", "--target-sl", "0.8"], "cannot be used with"),
        (vec![], "--agents"),
        (vec!["--target-sl", "100"], "target service level"),
        (vec!["--target-sl", "0"], "greater than 0"),
        (vec!["--agents", "13", "--shrinkage", "1"], "less than 100 %"),
        (vec!["--target-sl", "0.8", "--max-abandon", "0.05"], "--patience"),
    ] {
        let args = [&base[..], &extra[..]].concat();
        let out = switchboard(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = switchboard(&["wfm", "erlang", "--calls-per-hour", "-5", "--aht", "180", "--agents", "3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be 0 or more"));
}
