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

/// A scratch directory for one test, removed at the end.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout_ok(args: &[&str]) -> String {
    let out = switchboard(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.stderr.is_empty(),
        "no progress when stderr is not a terminal: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn wfm_history_forecast_staff_round_trip() {
    let dir = scratch("wfm-plan");
    let history = dir.join("history.csv");
    let forecast = dir.join("forecast.csv");
    let text = stdout_ok(&["wfm", "history", "--weeks", "10", "--interval-minutes", "15", "--seed", "3"]);
    assert!(text.starts_with("interval_start,queue,offered,aht_seconds\n2026-08-03T07:00:00Z,support,"), "{text:.200}");
    std::fs::write(&history, &text).unwrap();
    let h = history.to_str().unwrap();

    // Text: the back-test table with all three granularities.
    let report = stdout_ok(&["wfm", "forecast", "--history", h, "--backtest-weeks", "3"]);
    for needle in ["Back-test", "15 m", "30 m", "60 m", "day", "floor WAPE", "2026-10-12T07:00:00Z"] {
        assert!(report.contains(needle), "{needle}: {report:.2000}");
    }

    // JSON: the method beats seasonal-naive at every granularity.
    let v: Value = serde_json::from_str(&stdout_ok(&[
        "wfm",
        "forecast",
        "--history",
        h,
        "--backtest-weeks",
        "3",
        "--override",
        "2026-10-13=2",
        "--format",
        "json",
    ]))
    .unwrap();
    let rows = v["queues"][0]["backtest"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "15, 30, 60 minutes and days");
    for r in rows {
        assert!(num(&r["method"], "wape") < num(&r["seasonal_naive"], "wape"), "{r}");
        assert!(num(r, "poisson_floor_wape") > 0.0);
    }
    let intervals = v["forecast"].as_array().unwrap();
    assert_eq!(intervals[0]["interval_start"], "2026-10-12T07:00:00Z");
    let day_total = |date: &str| -> f64 {
        intervals
            .iter()
            .filter(|i| i["interval_start"].as_str().unwrap().starts_with(date))
            .map(|i| num(i, "offered"))
            .sum()
    };
    // The override doubled Tuesday; Tuesday is normally below Monday.
    assert!(day_total("2026-10-13") > 1.5 * day_total("2026-10-12"));

    // CSV at 30 minutes → staff.
    let csv = stdout_ok(&["wfm", "forecast", "--history", h, "--interval-minutes", "30", "--format", "csv"]);
    assert!(csv.starts_with("interval_start,queue,offered,aht_seconds\n"));
    assert!(csv.contains("2026-10-12T10:00:00Z,support,"));
    assert!(!csv.contains("2026-10-12T10:15:00Z"), "30-minute intervals");
    std::fs::write(&forecast, &csv).unwrap();
    let f = forecast.to_str().unwrap();
    let plan: Value = serde_json::from_str(&stdout_ok(&[
        "wfm",
        "staff",
        "--forecast",
        f,
        "--sl-threshold",
        "20",
        "--target-sl",
        "80",
        "--patience",
        "180",
        "--shrinkage",
        "0.3",
        "--format",
        "json",
    ]))
    .unwrap();
    let rows = plan["intervals"].as_array().unwrap();
    assert_eq!(rows.len(), csv.lines().count() - 1);
    let mut hours = 0.0;
    for r in rows {
        let required = num(r, "required_agents");
        if num(r, "offered") == 0.0 {
            assert_eq!(required, 0.0);
        } else {
            assert!(num(r, "service_level") >= 0.8, "{r}");
            assert!(required >= 1.0);
        }
        assert!(num(r, "scheduled_agents") >= required);
        hours += required / 2.0;
    }
    assert!((num(&plan["totals"], "required_agent_hours") - hours).abs() < 1e-9);
    assert_eq!(plan["model"], "erlang_a");
    let text = stdout_ok(&["wfm", "staff", "--forecast", f, "--target-sl", "0.8"]);
    assert!(text.contains("Staffing plan (Erlang C)") && text.contains("Total support:"), "{text:.500}");

    // HTML reports: charts and tables, written next to the normal output.
    let (fh, sh) = (dir.join("forecast.html"), dir.join("staff.html"));
    stdout_ok(&["wfm", "forecast", "--history", h, "--backtest-weeks", "2", "--html", fh.to_str().unwrap()]);
    stdout_ok(&["wfm", "staff", "--forecast", f, "--target-sl", "0.8", "--html", sh.to_str().unwrap()]);
    let page = std::fs::read_to_string(&fh).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<svg") && page.contains("Poisson floor"));
    let page = std::fs::read_to_string(&sh).unwrap();
    assert!(page.contains("<svg") && page.contains("scheduled agents") && page.contains("required agent-h"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wfm_forecast_broken_csv_exits_2_with_the_line() {
    let dir = scratch("wfm-bad");
    let h = "interval_start,queue,offered,aht_seconds\n";
    let row = |t: &str| format!("2026-11-02T{t}:00Z,support,10,200\n");
    for (name, text, needle) in [
        ("number.csv", format!("{h}{}2026-11-02T08:15:00Z,support,ten,200\n", row("08:00")), "line 3: offered"),
        ("columns.csv", format!("{h}{}2026-11-02T08:15:00Z,support,10\n", row("08:00")), "line 3: expected 4 fields"),
        ("header.csv", format!("start,queue,offered,aht_seconds\n{}", row("08:00")), "line 1: the header"),
        ("unsorted.csv", format!("{h}{}{}{}", row("08:00"), row("08:30"), row("08:15")), "line 4: interval"),
        (
            "duplicate.csv",
            format!("{h}{}{}", row("08:00"), row("08:00")),
            "line 3: interval 2026-11-02T08:00:00Z repeats",
        ),
        ("time.csv", format!("{h}{}2026-11-02T08:07:00Z,support,1,2\n", row("08:00")), "line 3: interval_start"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let p = path.to_str().unwrap();
        for args in
            [vec!["wfm", "forecast", "--history", p], vec!["wfm", "staff", "--forecast", p, "--target-sl", "80"]]
        {
            let out = switchboard(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(needle) && err.contains(name), "{args:?}: {err}");
            assert!(out.stdout.is_empty(), "{args:?}");
        }
    }
    // Too little history for a forecast, a missing file, an override outside the horizon.
    let short = dir.join("short.csv");
    std::fs::write(&short, format!("{h}{}", row("08:00"))).unwrap();
    let out = switchboard(&["wfm", "forecast", "--history", short.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 14 days"));
    let out = switchboard(&["wfm", "forecast", "--history", dir.join("missing.csv").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let history = dir.join("history.csv");
    std::fs::write(&history, stdout_ok(&["wfm", "history", "--weeks", "3", "--interval-minutes", "60"])).unwrap();
    let out = switchboard(&["wfm", "forecast", "--history", history.to_str().unwrap(), "--override", "2027-01-01=2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the forecast"));
    let _ = std::fs::remove_dir_all(&dir);
}

// `switchboard wfm schedule`

#[test]
fn wfm_schedule_example_week_covers_nearly_everything() {
    let v = json(&["wfm", "schedule", "--example-week", "--format", "json"]);
    let t = &v["totals"];
    let required = num(t, "required_agent_intervals");
    let under = num(t, "under_coverage");
    assert!(required > 10_000.0, "{t}");
    assert!(under <= 0.005 * required, "under-coverage {under} of {required}");
    let (objective, bound) = (num(t, "objective"), num(t, "lp_bound"));
    assert!(bound <= objective + 1e-6 && num(t, "gap") < 0.05, "{t}");
    assert_eq!(v["coverage"].as_array().unwrap().len(), 7 * 48);
    // Five days per agent by default: a headcount and a roster to match.
    let headcount = num(t, "headcount");
    assert!(headcount * 5.0 >= num(t, "shifts"), "{t}");
    assert_eq!(v["roster"].as_array().unwrap().len() as f64, headcount);
    let shifts = v["shifts"].as_array().unwrap();
    assert!(shifts.len() > 50);
    // Weekend-only shifts on Saturday and Sunday only; weekday ones never there.
    for s in shifts {
        let (template, day) = (s["template"].as_str().unwrap(), s["day"].as_u64().unwrap());
        if template == "FT8-weekend" {
            assert!(day >= 5, "{s}");
        } else if template.starts_with("FT8-early") || template == "FT10" {
            assert!(day < 5, "{s}");
        }
    }
    // The text report has the totals and the gap.
    let text = stdout_ok(&["wfm", "schedule", "--example-week"]);
    assert!(text.contains("gap to the LP bound") && text.contains("Coverage per day"), "{text}");
}

#[test]
fn wfm_schedule_reads_requirements_and_templates() {
    let dir = scratch("schedule");
    let csv = dir.join("plan.csv");
    let mut rows = String::from("interval_start,queue,required\n");
    for day in 2..=6 {
        for hour in 8..16 {
            for minute in [0, 30] {
                let _ = std::fmt::Write::write_fmt(
                    &mut rows,
                    format_args!("2026-11-{day:02}T{hour:02}:{minute:02}:00Z,sales,3\n"),
                );
            }
        }
    }
    std::fs::write(&csv, rows).unwrap();
    let toml = dir.join("shifts.toml");
    std::fs::write(
        &toml,
        r#"
[[template]]
name = "day"
starts = ["08:00"]
length = "8:00"
cost = 150
days = ["weekdays"]

[[template.break]]
name = "lunch"
minutes = 30
window = ["3:00", "5:00"]
"#,
    )
    .unwrap();
    let (csv, toml) = (csv.to_str().unwrap(), toml.to_str().unwrap());
    let v = json(&["wfm", "schedule", "--requirements", csv, "--templates", toml, "--format", "json"]);
    // Three agents all day need four with staggered lunches.
    assert_eq!(num(&v["totals"], "shifts"), 20.0, "{}", v["totals"]);
    assert_eq!(num(&v["totals"], "under_coverage"), 0.0);
    let out = stdout_ok(&["wfm", "schedule", "--requirements", csv, "--templates", toml, "--format", "csv"]);
    assert!(out.starts_with("day,start,end,template,agents,unit_cost,breaks\nMon,08:00,16:00,day,"), "{out}");
    assert!(out.contains("\nday,start,required,scheduled,under,over\n") && out.contains("\nmethod,"), "{out}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn wfm_schedule_bad_templates_exit_2_naming_the_place() {
    let dir = scratch("schedule-bad");
    let toml = dir.join("bad.toml");
    std::fs::write(
        &toml,
        "[[template]]\nname = \"x\"\nstarts = [\"08:00\"]\nlength = \"8:00\"\ncost = 1\ncolour = 3\n",
    )
    .unwrap();
    let path = toml.to_str().unwrap();
    let out = switchboard(&["wfm", "schedule", "--example-week", "--templates", path]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.toml") && err.contains("line 6") && err.contains("colour"), "{err}");
    assert!(out.stdout.is_empty());
    // A break that does not fit its shift names the template and the break.
    std::fs::write(
        &toml,
        "[[template]]\nname = \"short\"\nstarts = [\"08:00\"]\nlength = \"2:00\"\ncost = 1\n\
         [[template.break]]\nname = \"lunch\"\nminutes = 30\nwindow = [\"1:45\", \"2:30\"]\n",
    )
    .unwrap();
    let out = switchboard(&["wfm", "schedule", "--example-week", "--templates", path]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("template \"short\", break \"lunch\""), "{err}");
    // A bad time in the requirements names the line.
    let csv = dir.join("bad.csv");
    std::fs::write(&csv, "interval_start,required\n2026-11-02T08:00:00Z,1\n2026-11-02 08:30,1\n").unwrap();
    let out = switchboard(&["wfm", "schedule", "--requirements", csv.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.csv line 3"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

// ---------------------------------------------------------------- the digital twin

const TWIN_ROUTING: &str = r#"
[simulation]
seed = 5
replications = 8

[[queues]]
name = "support"

[[queues.steps]]
skills = { support = 7 }
timeout_seconds = 5

[[queues.steps]]
skills = { support = 1 }

[[agents]]
name = "senior"
count = 1
skills = { support = 9 }
queues = ["support"]

[[agents]]
name = "junior"
count = 3
skills = { support = 4 }
queues = ["support"]

[[arrivals]]
queue = "support"
calls_per_hour = 0
aht_seconds = 300
patience_seconds = 300
"#;

/// A day 08:00–12:00 in 30-minute intervals: 100 calls of 180 s each, a
/// plan of 14 agents (Erlang A: SL 91.7 %).
fn twin_files(dir: &std::path::Path) -> (String, String, String) {
    let mut forecast = String::from("interval_start,queue,offered,aht_seconds\n");
    let mut plan = String::from("interval_start,queue,offered,aht_seconds,required_agents,scheduled_agents\n");
    for k in 0..8 {
        let t = format!("2026-11-24T{:02}:{:02}:00Z", 8 + k / 2, 30 * (k % 2));
        forecast.push_str(&format!("{t},support,100,180\n"));
        plan.push_str(&format!("{t},support,100,180,14,20\n"));
    }
    let (f, p, r) = (dir.join("forecast.csv"), dir.join("plan.csv"), dir.join("routing.toml"));
    std::fs::write(&f, forecast).unwrap();
    std::fs::write(&p, plan).unwrap();
    std::fs::write(&r, TWIN_ROUTING).unwrap();
    let s = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
    (s(f), s(p), s(r))
}

fn twin_json(extra: &[&str], files: &(String, String, String)) -> Value {
    let (f, p, r) = files;
    let mut args = vec!["simulate", "--scenario", r, "--forecast", f, "--plan", p, "--format", "json"];
    args.extend_from_slice(extra);
    json(&args)
}

fn sl(v: &Value) -> (f64, f64) {
    let e = &v["confidence"]["service_level"];
    (e["mean"].as_f64().unwrap(), e["half_width_95"].as_f64().unwrap())
}

#[test]
fn twin_predicts_per_interval_with_confidence_intervals() {
    let dir = scratch("twin");
    let files = twin_files(&dir);
    let v = twin_json(&[], &files);
    assert_eq!(v["twin"]["date"], "2026-11-24");
    assert_eq!(v["twin"]["staffing_kind"], "plan");
    assert_eq!(v["replications"], 8);
    let rows = v["interval_estimates"].as_array().unwrap();
    assert_eq!(rows.len(), 8);
    assert_eq!(rows[0]["start"], "08:00");
    for key in ["service_level", "asa_seconds", "abandon_rate", "occupancy", "agents", "offered"] {
        assert!(rows[3][key]["mean"].is_number() && rows[3][key]["half_width"].is_number(), "{key}: {}", rows[3]);
    }
    assert!((rows[3]["agents"]["mean"].as_f64().unwrap() - 14.0).abs() < 0.01);
    let (mean, _) = sl(&v);
    assert!(mean > 0.8 && mean < 1.0, "{mean}");
    assert!(v["queues"].is_array(), "the engine's KPI per queue");
    let lean = twin_json(&["--no-kpi-report"], &files);
    assert!(lean["queues"].is_null() && sl(&lean) == sl(&v), "same figures without the engine's KPI fold");
    // Text: the interval table with ± and the day's line; CSV: one row per interval.
    let (f, p, r) = &files;
    let ok = |args: &[&str]| {
        let out = switchboard(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let text = ok(&["simulate", "--scenario", r, "--forecast", f, "--plan", p]);
    assert!(text.contains("Digital twin of Tue 2026-11-24, 08:00–12:00"), "{text}");
    assert!(text.contains("11:30-12:00") && text.contains(" ± ") && text.contains("\nDay: "), "{text}");
    let csv = ok(&["simulate", "--scenario", r, "--forecast", f, "--plan", p, "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("start,end,offered,offered_hw,agents,agents_hw,service_level,service_level_hw"));
    assert_eq!(lines.len(), 9);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn twin_what_if_flags_change_the_prediction() {
    let dir = scratch("twin-what-if");
    let files = twin_files(&dir);
    let base = twin_json(&[], &files);
    let (b, bh) = sl(&base);
    let more = twin_json(&["--add-agents", "2"], &files);
    let (m, mh) = sl(&more);
    assert!(m - mh > b + bh, "+2 agents: {m} ± {mh} vs {b} ± {bh}");
    let rows = more["interval_estimates"].as_array().unwrap();
    assert!((rows[0]["agents"]["mean"].as_f64().unwrap() - 16.0).abs() < 0.01);
    let senior = twin_json(&["--add-agents", "senior=2", "--add-agents", "junior=-1"], &files);
    let rows = senior["interval_estimates"].as_array().unwrap();
    assert!((rows[0]["agents"]["mean"].as_f64().unwrap() - 15.0).abs() < 0.01);
    let slower = twin_json(&["--aht-factor", "1.2"], &files);
    assert!((num(&slower, "aht_seconds") / num(&base, "aht_seconds") - 1.2).abs() < 0.05);
    assert!(sl(&slower).0 < b);
    let busier = twin_json(&["--volume-factor", "2", "--add-agents", "14"], &files);
    assert!((num(&busier, "offered") / num(&base, "offered") - 2.0).abs() < 0.1);
    assert_eq!(busier["twin"]["what_if"]["volume_factor"], 2.0);
    // A different routing: no senior-first step, fewer waits.
    let (f, p, _) = &files;
    let flat = dir.join("flat.toml");
    std::fs::write(&flat, TWIN_ROUTING.replace("timeout_seconds = 5", "timeout_seconds = 60")).unwrap();
    let slow_routing =
        json(&["simulate", "--scenario", flat.to_str().unwrap(), "--forecast", f, "--plan", p, "--format", "json"]);
    assert!(sl(&slow_routing).0 < b, "waiting 60 s for a senior costs service level");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn twin_reads_a_schedule() {
    let dir = scratch("twin-schedule");
    let (f, _, r) = twin_files(&dir);
    // Tuesday: 10 agents 07:00–12:00 with a 30-minute break at 10:00, 6 more 09:00–13:00.
    let schedule = r#"{"interval_minutes": 30, "shifts": [
        {"template":"a","day":1,"start_minute":420,"end_minute":720,"breaks":[{"name":"b","start_minute":600,"minutes":30,"paid":true}],"count":10,"unit_cost":1},
        {"template":"b","day":1,"start_minute":540,"end_minute":780,"breaks":[],"count":6,"unit_cost":1},
        {"template":"c","day":2,"start_minute":540,"end_minute":780,"breaks":[],"count":60,"unit_cost":1}]}"#;
    let s = dir.join("schedule.json");
    std::fs::write(&s, schedule).unwrap();
    let v =
        json(&["simulate", "--scenario", &r, "--forecast", &f, "--schedule", s.to_str().unwrap(), "--format", "json"]);
    let rows = v["interval_estimates"].as_array().unwrap();
    let agents: Vec<f64> = rows.iter().map(|r| r["agents"]["mean"].as_f64().unwrap()).collect();
    assert!((agents[0] - 10.0).abs() < 0.01 && (agents[2] - 16.0).abs() < 0.01, "{agents:?}");
    // The break: agents finish their call first.
    assert!(agents[4] > 6.0 && agents[4] < 7.5, "the break: {agents:?}");
    // Shrinkage 50 %: half of them.
    let v = json(&[
        "simulate",
        "--scenario",
        &r,
        "--forecast",
        &f,
        "--schedule",
        s.to_str().unwrap(),
        "--shrinkage",
        "50",
        "--format",
        "json",
    ]);
    let a0 = v["interval_estimates"][0]["agents"]["mean"].as_f64().unwrap();
    assert!((a0 - 5.0).abs() < 0.01, "{a0}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn twin_bad_inputs_exit_2_naming_the_problem() {
    let dir = scratch("twin-errors");
    let (f, p, r) = twin_files(&dir);
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    let no_aht = write("no-aht.csv", "interval_start,queue,offered\n2026-11-24T08:00:00Z,support,100\n");
    let no_required = write("no-req.csv", "interval_start,queue,agents\n2026-11-24T08:00:00Z,support,14\n");
    let mut shifted = std::fs::read_to_string(&p).unwrap();
    shifted = shifted.replace("T09:00:00Z", "T09:15:00Z");
    let shifted = write("shifted.csv", &shifted);
    let other_queue = write("other.csv", &std::fs::read_to_string(&f).unwrap().replace(",support,", ",sales,"));
    let other_plan = write("other-plan.csv", &std::fs::read_to_string(&p).unwrap().replace(",support,", ",sales,"));
    let bad_json = write(
        "bad.json",
        r#"{"forecast":[{"interval_start":"2026-11-24T08:00:00Z","queue":"support","offered":1,"aht":3}]}"#,
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--forecast", &no_aht, "--plan", &p], "header must be \"interval_start,queue,offered,aht_seconds\""),
        (vec!["--forecast", &bad_json, "--plan", &p], "unknown key \"aht\""),
        (vec!["--forecast", &f, "--plan", &no_required], "\"required_agents\" is missing"),
        (vec!["--forecast", &f, "--plan", &shifted], "does not line up"),
        (vec!["--forecast", &other_queue, "--plan", &other_plan], "queue \"sales\" is not in the routing scenario"),
        (vec!["--forecast", &other_queue, "--plan", &p], "does not staff queue \"sales\" at 2026-11-24T08:00:00Z"),
        (vec!["--forecast", &f], "--forecast needs the staffing"),
        (vec!["--forecast", &f, "--plan", &p, "--day", "2026-11-25"], "no intervals on 2026-11-25"),
        (vec!["--forecast", &f, "--plan", &p, "--add-agents", "nobody=1"], "no agent group \"nobody\""),
        (vec!["--forecast", &f, "--plan", &p, "--add-agents", "x=y"], "not a whole number"),
        (vec!["--forecast", &f, "--plan", &p, "--aht-factor", "0"], "--aht-factor"),
        (vec!["--forecast", &f, "--plan", &p, "--interval-minutes", "15"], "30-minute intervals"),
        (vec!["--forecast", &f, "--schedule", &p], "a schedule is the JSON or CSV"),
        (vec!["--forecast", &f, "--plan", &p, "--schedule", &p], "cannot be used with"),
        (vec!["--forecast", "/nonexistent/forecast.csv", "--plan", &p], "cannot read /nonexistent/forecast.csv"),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["simulate", "--scenario", &r];
        args.extend(extra.iter().copied());
        let out = switchboard(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: expected {needle:?} in {err}");
    }
    // What-if flags need a forecast.
    let out = switchboard(&["simulate", "--scenario", &r, "--add-agents", "2"]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn twin_html_report_has_the_three_charts() {
    let dir = scratch("twin-html");
    let (f, p, r) = twin_files(&dir);
    // The forecast doubles as history here (same CSV format).
    let html = dir.join("report.html");
    let out = switchboard(&[
        "simulate",
        "--scenario",
        &r,
        "--forecast",
        &f,
        "--plan",
        &p,
        "--html",
        html.to_str().unwrap(),
        "--history",
        &f,
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<svg").count(), 3, "three charts");
    for needle in [
        "Forecast vs history",
        "history (offered)",
        "Required vs scheduled agents",
        "on the phones (twin)",
        "Predicted service level",
        "twin: predicted SL",
        "Erlang (plan)",
        "11:30–12:00",
    ] {
        assert!(page.contains(needle), "{needle} missing");
    }
    assert!(!page.contains("<script") && !page.contains("<link"), "self-contained");
    std::fs::remove_dir_all(dir).ok();
}
