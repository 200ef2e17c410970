//! Unit tests of the scenario checks and, with the real engine, of the
//! event loop and its tallies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::model::parse_clock;
use crate::*;

const EXAMPLE: &str = include_str!("../examples/two-queues.toml");

fn issues(text: &str) -> Vec<String> {
    let s = Scenario::from_toml_str(text).expect("parses");
    match Model::build(&s) {
        Ok(_) => Vec::new(),
        Err(e) => e.issues().iter().map(|i| i.to_string()).collect(),
    }
}

fn has(list: &[String], needle: &str) -> bool {
    list.iter().any(|i| i.contains(needle))
}

const SMALL: &str = r#"
[simulation]
hours = 2

[[queues]]
name = "sales"

[[queues]]
name = "billing"

[[agents]]
name = "a"
count = 2
skills = { billing = 5 }
queues = ["sales", "billing"]

[[arrivals]]
queue = "sales"
calls_per_hour = 10
aht_seconds = 100
"#;

#[test]
fn example_scenario_is_valid() {
    let s = Scenario::from_toml_str(EXAMPLE).expect("example parses");
    let m = Model::build(&s).expect("example is valid");
    assert_eq!(m.config.queues.len(), 2);
    assert_eq!(m.config.agents.len(), 22);
    assert_eq!(m.config.agents[0].name, "sales-1");
    assert_eq!(m.agents[7].shifts, vec![(10 * 3_600_000, 18 * 3_600_000)]);
    assert_eq!(m.start_ms, 8 * 3_600_000);
    assert_eq!(m.interval_count(), 20);
    assert_eq!(m.replications, 3);
    // Dense ids, names resolved, seconds to milliseconds.
    let sales = &m.config.queues[0];
    assert_eq!(sales.overflow.as_ref().map(|o| (o.queue, o.after_ms)), Some((engine::QueueId(1), Some(120_000))));
    assert_eq!(sales.steps[0].timeout_ms, Some(20_000));
    assert_eq!(sales.wrap_up_ms, 30_000);
}

#[test]
fn scenario_round_trips_through_toml() {
    let s = Scenario::from_toml_str(EXAMPLE).unwrap();
    let again = Scenario::from_toml_str(&s.to_toml_string()).unwrap();
    assert_eq!(s, again);
}

#[test]
fn unknown_key_reports_its_line() {
    let text = "[simulation]\nhours = 1\n\n[[queues]]\nname = \"a\"\nwrap_up = 5\n";
    let err = Scenario::from_toml_str(text).unwrap_err().to_string();
    assert!(err.contains("line 6"), "{err}");
    assert!(err.contains("wrap_up"), "{err}");
}

#[test]
fn wrong_type_reports_its_line() {
    let text = "[simulation]\nhours = 1\n\n[[arrivals]]\nqueue = \"a\"\ncalls_per_hour = \"many\"\naht_seconds = 3\n";
    let err = Scenario::from_toml_str(text).unwrap_err().to_string();
    assert!(err.contains("line 6"), "{err}");
}

#[test]
fn unknown_key_in_simulation_table() {
    let err = Scenario::from_toml_str("[simulation]\nhours = 1\nseeds = 4\n").unwrap_err().to_string();
    assert!(err.contains("line 3") && err.contains("seeds"), "{err}");
}

#[test]
fn unknown_queue_names_are_reported_with_their_place() {
    let text = SMALL.replace("queue = \"sales\"\ncalls", "queue = \"salse\"\ncalls")
        + "\n[[arrivals]]\nqueue = \"nowhere\"\ncalls_per_hour = 1\naht_seconds = 1\n";
    let list = issues(&text);
    assert!(has(&list, r#"arrivals[0].queue: unknown queue "salse" (did you mean "sales"?)"#), "{list:?}");
    assert!(has(&list, r#"arrivals[1].queue: unknown queue "nowhere""#), "{list:?}");
}

#[test]
fn every_problem_is_reported_together() {
    let text = r#"
[simulation]
hours = -2
replications = 0
interval_minutes = 0

[[queues]]
name = "q"
offer_timeout_seconds = 0
overflow = { queue = "q", after_seconds = 5 }

[[agents]]
name = "a"
count = -3
queues = ["q"]

[[agents]]
name = "b"
skills = { x = 11 }
queues = ["q", "r"]

[[arrivals]]
queue = "q"
calls_per_hour = -5
aht_seconds = 0
callback_probability = 1.5
"#;
    let list = issues(text);
    for needle in [
        "simulation.hours: must be positive",
        "simulation.replications: must be at least 1, not 0",
        "simulation.interval_minutes: must be at least 1 minute",
        "queues[0] (q).offer_timeout_seconds: must be positive",
        "queues[0] (q).overflow.queue: a queue cannot overflow into itself",
        "agents[0] (a).count: must be at least 1, not -3",
        "agents[1] (b).skills.x: skill level 11 is outside 1..=10",
        r#"agents[1] (b).queues[1]: unknown queue "r""#,
        "arrivals[0].calls_per_hour: must be zero or more",
        "arrivals[0].aht_seconds: must be positive",
        "arrivals[0].callback_probability: a probability must be between 0 and 1",
    ] {
        assert!(has(&list, needle), "missing {needle:?} in {list:#?}");
    }
}

#[test]
fn engine_rules_are_mapped_back_to_the_file() {
    let text = SMALL.to_string()
        + r#"
[[queues]]
name = "vip"
overflow = { queue = "other", when_no_agents = true }
[[queues.steps]]
skills = { billing = 9 }
timeout_seconds = 10
[[queues.steps]]
team = "red"

[[queues]]
name = "other"
overflow = { queue = "vip", when_no_agents = true }

[[agents]]
name = "c"
count = 3
queues = ["vip", "other", "vip"]
"#;
    let list = issues(&text);
    for needle in [
        r#"queues[2] (vip).steps[0].skills.billing: no agent has skill "billing" at level 9 or higher"#,
        r#"queues[2] (vip).steps[1].team: no agent has team "red""#,
        "queues[2] (vip).overflow.when_no_agents: overflows when no agents are logged in form a cycle (vip → other → vip)",
        r#"agents[1] (c).queues[2]: membership of "vip" is listed twice"#,
    ] {
        assert!(has(&list, needle), "missing {needle:?} in {list:#?}");
    }
    // One issue per group, not one per agent of the group.
    assert_eq!(list.iter().filter(|i| i.starts_with("agents[1] (c)")).count(), 1, "{list:#?}");
}

#[test]
fn profile_must_cover_the_run() {
    let text = SMALL.replace("calls_per_hour = 10", "profile = [10, 20, 30]");
    let list = issues(&text);
    assert!(has(&list, "arrivals[0].profile: has 3 rates but the run has 8 intervals of 15 minutes"), "{list:?}");
    let ok = SMALL.replace("calls_per_hour = 10", "profile = [10, 20, 30, 40, 50, 60, 70, 80]");
    assert_eq!(issues(&ok), Vec::<String>::new());
}

#[test]
fn run_length_needs_hours_or_start_and_end() {
    let list = issues(&SMALL.replace("hours = 2", "start = \"08:00\""));
    assert!(has(&list, "simulation: give either `hours` or both `start` and `end`"), "{list:?}");
    let list = issues(&SMALL.replace("hours = 2", "start = \"08:00\"\nend = \"7:30\""));
    assert!(has(&list, "simulation.end: the run must end after it starts"), "{list:?}");
    let list = issues(&SMALL.replace("hours = 2", "start = \"8h\"\nend = \"9:00\""));
    assert!(has(&list, "simulation.start: \"8h\" is not a clock time"), "{list:?}");
}

#[test]
fn shifts_are_checked() {
    let text = SMALL.replace(
        "queues = [\"sales\", \"billing\"]",
        "queues = [\"sales\", \"billing\"]\nshifts = [{ start = \"09:00\", end = \"08:00\" }, { start = \"01:00\", end = \"03:00\" }, { start = \"02:00\", end = \"04:00\" }]",
    );
    let list = issues(&text);
    assert!(has(&list, "agents[0] (a).shifts[0]: a shift must end after it starts"), "{list:?}");
    assert!(has(&list, "agents[0] (a).shifts[2]: overlaps shifts[1]"), "{list:?}");
}

#[test]
fn required_skills_and_lognormal_need_what_they_need() {
    let text = SMALL.replace(
        "aht_seconds = 100",
        "aht_seconds = 100\nrequired_skills = { klingon = 2 }\nhandle_distribution = \"lognormal\"\nsegments = { platinum = 1 }",
    );
    let list = issues(&text);
    assert!(
        has(&list, "arrivals[0].required_skills: no agent of queue \"sales\" has all the required skills"),
        "{list:?}"
    );
    assert!(has(&list, "arrivals[0].handle_cv: a log-normal distribution needs"), "{list:?}");
    assert!(has(&list, "arrivals[0].segments.platinum: unknown segment"), "{list:?}");
}

#[test]
fn clock_times() {
    assert_eq!(parse_clock("08:30"), Ok(8 * 3_600_000 + 30 * 60_000));
    assert_eq!(parse_clock("26:00:30"), Ok(26 * 3_600_000 + 30_000));
    assert!(parse_clock("8").is_err());
    assert!(parse_clock("08:61").is_err());
    assert!(parse_clock("-1:00").is_err());
    assert_eq!(clock(8 * 3_600_000 + 15 * 60_000), "08:15");
}

// ------------------------------------------------------------ the loop

fn model(agents: i64, cph: f64, aht: f64, hours: f64, patience: Option<f64>) -> Model {
    let mut s = Scenario::one_queue(agents, cph, aht, hours);
    s.arrivals[0].patience_seconds = patience;
    s.simulation.seed = 11;
    Model::build(&s).unwrap()
}

fn run_real(m: &Model) -> RunResult {
    crate::run_replication(m, m.seed, ()).unwrap().0
}

#[test]
fn same_seed_same_run() {
    let m = model(3, 60.0, 120.0, 10.0, Some(60.0));
    assert_eq!(run_real(&m), run_real(&m));
    let mut m2 = m.clone();
    m2.seed += 1;
    assert_ne!(run_real(&m).totals, run_real(&m2).totals);
}

#[test]
fn every_contact_is_accounted_for() {
    let m = model(2, 60.0, 120.0, 20.0, Some(60.0));
    let r = run_real(&m);
    let t = &r.totals;
    assert_eq!(t.offered, t.answered + t.abandoned + t.exited + t.unfinished);
    assert_eq!(t.unfinished, 0);
    assert_eq!(t.answered, t.handled);
    // The intervals add up to the totals (no warm-up here).
    let mut sum = Counts::default();
    r.intervals.iter().for_each(|c| sum.add(c));
    assert_eq!(&sum, t);
    assert_eq!(r.intervals.len(), 80);
}

#[test]
fn warm_up_is_left_out_of_the_totals() {
    let mut m = model(2, 60.0, 120.0, 4.0, None);
    m.warm_up_end_ms = 3_600_000;
    let r = run_real(&m);
    let after: u64 = r.intervals[4..].iter().map(|c| c.offered).sum();
    assert_eq!(r.totals.offered, after);
    assert!(r.arrivals > after);
    // Agent time: 2 agents × 3 measured hours.
    let t = &r.totals;
    assert_eq!(t.agent_busy_ms + t.agent_idle_ms + t.agent_not_ready_ms, 2 * 3 * 3_600_000);
}

#[test]
fn shifts_log_agents_in_and_out() {
    let mut s = Scenario::one_queue(2, 30.0, 60.0, 4.0);
    s.agents[0].shifts = vec![scenario::ShiftSpec { start: "01:00".into(), end: "03:00".into() }];
    let m = Model::build(&s).unwrap();
    let r = run_real(&m);
    let t = &r.totals;
    // Two agents present two hours each, plus the end of the last call.
    let present = t.agent_busy_ms + t.agent_idle_ms + t.agent_not_ready_ms;
    assert!((4 * 3_600_000..4 * 3_600_000 + 2 * 1_200_000).contains(&present), "{present}");
    // Nobody in the first hour: calls arriving before 00:45 wait at least 15 minutes.
    assert_eq!(r.intervals[..3].iter().map(|c| c.answered_within).sum::<u64>(), 0);
    assert!(r.intervals[..3].iter().all(|c| c.answered == 0 || c.max_wait_ms >= 900_000));
    // Calls of the last hour are not served (no patience: they wait for ever).
    assert!(t.unfinished > 0);
}

#[test]
fn missed_offers_are_offered_again() {
    let mut s = Scenario::one_queue(3, 60.0, 60.0, 5.0);
    s.agents[0].miss_probability = 0.3;
    s.agents[0].answer_delay_seconds = 2.0;
    let m = Model::build(&s).unwrap();
    let r = run_real(&m);
    let t = &r.totals;
    assert_eq!(t.unfinished, 0);
    assert_eq!(t.answered, t.offered);
    // Answers take at least the 2 s answer delay.
    assert!(t.wait_answered_ms >= t.answered * 2000);
}

#[test]
fn wrap_up_counts_in_handle_time_and_occupancy() {
    let mut s = Scenario::one_queue(5, 60.0, 120.0, 50.0);
    s.queues[0].wrap_up_seconds = 30.0;
    let m = Model::build(&s).unwrap();
    let f = run_real(&m).totals.figures();
    assert!((f.aht_seconds - 150.0).abs() < 6.0, "AHT {}", f.aht_seconds);
    // Offered load 60/h × 150 s = 2.5 erlangs over 5 agents.
    assert!((f.occupancy - 0.5).abs() < 0.03, "occupancy {}", f.occupancy);
}

// ------------------------------------------------------------ with the real engine

fn real(text: &str) -> SimOutcome {
    let s = Scenario::from_toml_str(text).unwrap();
    simulate(&s).unwrap()
}

/// Every contact ends exactly one way (or is still in the system).
fn conserved(t: &Counts) {
    assert_eq!(t.offered, t.answered + t.abandoned + t.exited + t.callbacks_failed + t.unfinished, "{t:?}");
}

#[test]
fn example_scenario_runs_on_the_real_engine() {
    let mut s = Scenario::from_toml_str(EXAMPLE).unwrap();
    s.simulation.replications = 2;
    let o = simulate(&s).unwrap();
    conserved(&o.totals);
    assert_eq!(o.totals.unfinished, 0);
    assert!(o.totals.callbacks_requested > 0, "{:?}", o.totals);
    assert_eq!(o.totals.callbacks_requested, o.totals.callbacks_answered + o.totals.callbacks_failed);
    let kpi = o.kpi.as_ref().unwrap();
    assert_eq!(kpi.queues.len(), 2);
    // Sales overflows into support after two minutes.
    assert!(kpi.queues[0].counts.overflowed_out > 0);
    assert_eq!(kpi.queues[0].counts.overflowed_out, kpi.queues[1].counts.overflowed_in);
    // Juniors miss 2 % of their offers and come back.
    let missed: u64 = kpi.agents.iter().map(|a| a.counts.missed).sum();
    assert!(missed > 0);
    assert_eq!(o.estimates.len(), Figures::HEADLINE.len());
    assert!(o.estimates[0].1.half_width > 0.0);
}

#[test]
fn full_queue_exits_arrivals() {
    let o = real(
        r#"
[simulation]
hours = 10
[[queues]]
name = "q"
max_length = { contacts = 2, action = "voicemail" }
[[agents]]
name = "a"
queues = ["q"]
[[arrivals]]
queue = "q"
calls_per_hour = 60
aht_seconds = 120
"#,
    );
    conserved(&o.totals);
    assert!(o.totals.exited > 50, "{:?}", o.totals);
    assert_eq!(o.totals.unfinished, 0);
}

#[test]
fn no_agents_overflow_goes_to_the_other_queue() {
    let o = real(
        r#"
[simulation]
hours = 4
[[queues]]
name = "night"
overflow = { queue = "day", when_no_agents = true }
[[queues]]
name = "day"
[[agents]]
name = "a"
count = 3
queues = ["day"]
[[arrivals]]
queue = "night"
calls_per_hour = 30
aht_seconds = 100
"#,
    );
    conserved(&o.totals);
    assert_eq!(o.totals.answered, o.totals.offered);
    let kpi = o.kpi.unwrap();
    assert_eq!(kpi.queues[0].counts.overflowed_out, o.totals.offered);
    assert_eq!(kpi.queues[1].counts.answered, o.totals.offered);
}

#[test]
fn callers_ask_for_callbacks_and_get_called() {
    let o = real(
        r#"
[simulation]
hours = 8
[[queues]]
name = "q"
callbacks = { max_attempts = 2, retry_delay_seconds = 60, answer_probability = 0.5, dial_seconds = 5 }
[[agents]]
name = "a"
count = 2
queues = ["q"]
[[arrivals]]
queue = "q"
calls_per_hour = 55
aht_seconds = 120
callback_probability = 1
callback_after_seconds = 30
"#,
    );
    let t = &o.totals;
    conserved(t);
    assert_eq!(t.unfinished, 0);
    assert!(t.callbacks_requested > 20, "{t:?}");
    assert!(t.callbacks_failed > 0 && t.callbacks_answered > 0, "{t:?}");
    assert_eq!(t.callbacks_requested, t.callbacks_answered + t.callbacks_failed);
    assert_eq!(t.abandoned, 0);
}

#[test]
fn shifts_with_the_real_engine_log_out_after_the_last_call() {
    let o = real(
        r#"
[simulation]
start = "08:00"
end = "12:00"
[[queues]]
name = "q"
wrap_up_seconds = 20
[[agents]]
name = "early"
count = 3
queues = ["q"]
shifts = [{ start = "08:00", end = "10:00" }]
[[agents]]
name = "late"
count = 3
queues = ["q"]
shifts = [{ start = "10:00", end = "12:00" }]
[[arrivals]]
queue = "q"
calls_per_hour = 50
aht_seconds = 150
patience_seconds = 600
"#,
    );
    conserved(&o.totals);
    let t = &o.totals;
    // Six agents × 2 h, plus the ends of calls running past 10:00 and 12:00.
    let present = t.agent_busy_ms + t.agent_idle_ms + t.agent_not_ready_ms;
    assert!((12 * 3_600_000..12 * 3_600_000 + 3 * 1_800_000).contains(&present), "{present}");
}

/// Every feature at once, over many seeds: the engine never refuses an
/// input the simulator sends (a refusal aborts the run), and every contact
/// is accounted for.
#[test]
fn busy_scenario_over_many_seeds_never_confuses_the_engine() {
    let text = r#"
[simulation]
start = "08:00"
end = "11:00"
interval_minutes = 30
drain_hours = 2

[[queues]]
name = "ring"
strategy = "ring-all"
offer_timeout_seconds = 8
wrap_up_seconds = 10
max_wait = { seconds = 200, action = "callback" }
overflow = { queue = "back", after_seconds = 90, when_no_agents = true }
sticky_agent_seconds = 10
callbacks = { max_outstanding = 5, max_attempts = 2, retry_delay_seconds = 30, answer_probability = 0.5, dial_seconds = 4 }

[[queues]]
name = "back"
strategy = "round-robin"
max_length = { contacts = 4, action = "voicemail" }
new_customer = { attribute = "senior", for_seconds = 15 }
[[queues.steps]]
skills = { x = 5 }
timeout_seconds = 20
[[queues.steps]]
preferred_agent = true
timeout_seconds = 5
[[queues.steps]]
skills = { x = 1 }

[[agents]]
name = "slow"
count = 3
skills = { x = 6 }
attributes = ["senior"]
queues = ["ring", "back"]
answer_delay_seconds = 4
miss_probability = 0.2
ready_again_seconds = 20
shifts = [{ start = "08:00", end = "09:10" }, { start = "09:40", end = "10:50" }]

[[agents]]
name = "quick"
count = 2
skills = { x = 2 }
queues = ["back", "ring"]
shifts = [{ start = "08:20", end = "10:30" }]

[[arrivals]]
queue = "ring"
calls_per_hour = 50
aht_seconds = 150
handle_distribution = "lognormal"
handle_cv = 1.2
patience_seconds = 150
segments = { new = 1, returning = 2, vip = 1 }
callback_probability = 0.3
callback_after_seconds = 40

[[arrivals]]
queue = "back"
profile = [10, 30, 60, 60, 30, 10]
aht_seconds = 100
patience_seconds = 60
patience_distribution = "fixed"
"#;
    let mut s = Scenario::from_toml_str(text).unwrap();
    s.simulation.replications = 25;
    let o = simulate(&s).unwrap();
    for r in &o.replications {
        conserved(&r.totals);
    }
    let t = &o.totals;
    assert!(t.abandoned > 0 && t.exited > 0 && t.callbacks_requested > 0, "{t:?}");
    let kpi = o.kpi.unwrap();
    assert!(kpi.queues[0].counts.overflowed_out > 0);
    assert!(kpi.agents.iter().map(|a| a.counts.missed).sum::<u64>() > 0);
}

#[test]
fn engine_config_has_dense_ids_and_resolved_names() {
    let s = Scenario::from_toml_str(EXAMPLE).unwrap();
    let c = s.engine_config().unwrap();
    let ids: Vec<u32> = c.agents.iter().map(|a| a.id.0).collect();
    assert_eq!(ids, (0..22).collect::<Vec<u32>>());
    assert_eq!(c.queues.iter().map(|q| q.id.0).collect::<Vec<_>>(), vec![0, 1]);
    // Juniors serve sales (0) and support (1, weight 2).
    let junior = c.agents.iter().find(|a| a.name == "junior-1").unwrap();
    assert_eq!(junior.queues.iter().map(|m| (m.queue.0, m.weight)).collect::<Vec<_>>(), vec![(0, 1), (1, 2)]);
    assert!(!junior.auto_answer, "juniors answer after 3 s");
    assert!(c.agents[0].auto_answer);
    assert!(c.validate().is_empty());
}
