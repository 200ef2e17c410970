use super::*;

const ALL: [bool; DAYS] = [true; DAYS];

fn week(interval: u32, monday: &[(u32, u32, f64)]) -> Requirements {
    let per_day = (MINUTES_PER_DAY / interval) as usize;
    let mut required = vec![0.0; DAYS * per_day];
    for &(from, to, r) in monday {
        for k in (from / interval)..(to / interval) {
            required[k as usize] = r;
        }
    }
    Requirements { interval_minutes: interval, required }
}

fn plain(name: &str, starts: Vec<u32>, length: u32, cost: f64) -> ShiftTemplate {
    ShiftTemplate {
        name: name.into(),
        starts,
        length_minutes: length,
        breaks: vec![],
        cost,
        days: ALL,
        max_shifts: None,
        break_step_minutes: None,
    }
}

#[test]
fn tiny_instance_has_its_known_optimum() {
    // Two agents 08–12, one 12–16. Four-hour shifts cost 10, eight-hour 15:
    // the optimum is one 8-hour shift plus one 4-hour shift at 08:00 = 25.
    let req = week(60, &[(480, 720, 2.0), (720, 960, 1.0)]);
    let templates = vec![plain("four", vec![480, 720], 240, 10.0), plain("eight", vec![480], 480, 15.0)];
    let s = schedule(&req, &templates, &ScheduleOptions::default()).unwrap();
    assert_eq!(s.totals.cost, 25.0);
    assert_eq!(s.totals.objective, 25.0);
    assert_eq!(s.totals.under_coverage, 0.0);
    assert!(s.totals.optimal);
    assert!(s.totals.gap.abs() < 1e-9);
    let summary: Vec<(&str, usize, u32, u32)> =
        s.shifts.iter().map(|x| (x.template.as_str(), x.day, x.start_minute, x.count)).collect();
    assert_eq!(summary, vec![("eight", 0, 480, 1), ("four", 0, 480, 1)]);
    assert_eq!(s.totals.paid_hours, 12.0);
}

#[test]
fn breaks_reduce_coverage_in_their_interval() {
    // One agent allowed: a 2-hour shift with a 15-minute break starting
    // 30 minutes in, so the second half-hour is covered half.
    let req = week(30, &[(480, 600, 1.0)]);
    let mut t = plain("two", vec![480], 120, 10.0);
    t.breaks = vec![BreakRule { name: "break".into(), minutes: 15, paid: true, earliest_start: 30, latest_end: 60 }];
    t.max_shifts = Some(1);
    let s = schedule(&req, &[t], &ScheduleOptions::default()).unwrap();
    let monday: Vec<f64> = s.coverage[16..20].iter().map(|c| c.scheduled).collect();
    assert_eq!(monday, vec![1.0, 0.5, 1.0, 1.0]);
    assert_eq!(s.coverage[17].under, 0.5);
    assert_eq!(s.totals.under_coverage, 0.5);
    assert_eq!(s.totals.objective, 10.0 + 100.0 * 0.5);
    assert_eq!(s.shifts[0].breaks[0].start_minute, 510);
    assert_eq!(s.totals.paid_hours, 2.0);
}

#[test]
fn staggered_breaks_keep_coverage() {
    // Two agents needed 08:00–10:00; a 2-hour shift must take a 30-minute
    // break at 08:30 or 09:00. Each of those half-hours needs two agents
    // working, so two break at 08:30 and two at 09:00: four agents.
    let req = week(30, &[(480, 600, 2.0)]);
    let mut t = plain("two", vec![480], 120, 10.0);
    t.breaks = vec![BreakRule { name: "break".into(), minutes: 30, paid: false, earliest_start: 30, latest_end: 90 }];
    let s = schedule(&req, &[t], &ScheduleOptions::default()).unwrap();
    assert_eq!(s.totals.under_coverage, 0.0);
    assert_eq!(s.totals.shifts, 4);
    assert_eq!(s.totals.paid_hours, 6.0);
    let starts: Vec<(u32, u32)> = s.shifts.iter().map(|x| (x.breaks[0].start_minute, x.count)).collect();
    assert_eq!(starts, vec![(510, 2), (540, 2)]);
    assert!(s.coverage.iter().all(|c| c.scheduled + 1e-9 >= c.required));
}

#[test]
fn an_infeasible_cap_gives_under_coverage_not_failure() {
    let req = week(60, &[(480, 960, 5.0)]);
    let templates = vec![plain("eight", vec![480], 480, 15.0)];
    let options = ScheduleOptions { max_agents_per_day: [Some(3); DAYS], ..ScheduleOptions::default() };
    let s = schedule(&req, &templates, &options).unwrap();
    assert_eq!(s.totals.shifts, 3);
    assert_eq!(s.totals.under_coverage, 16.0);
    assert_eq!(s.totals.intervals_under, 8);
    assert_eq!(s.totals.objective, 45.0 + 1600.0);
    // The same through a per-template cap.
    let mut capped = templates.clone();
    capped[0].max_shifts = Some(2);
    let s = schedule(&req, &capped, &ScheduleOptions::default()).unwrap();
    assert_eq!(s.totals.shifts, 2);
    assert_eq!(s.totals.under_coverage, 24.0);
}

#[test]
fn templates_are_used_only_on_their_days() {
    // Requirements every day 09–17; the only template works Monday–Friday.
    let per_day = 24;
    let required: Vec<f64> =
        (0..DAYS * per_day).map(|i| if (9..17).contains(&(i % per_day)) { 2.0 } else { 0.0 }).collect();
    let req = Requirements { interval_minutes: 60, required };
    let mut t = plain("weekday", vec![540], 480, 15.0);
    t.days = [true, true, true, true, true, false, false];
    let s = schedule(&req, &[t], &ScheduleOptions::default()).unwrap();
    assert!(s.shifts.iter().all(|x| x.day < 5), "{:?}", s.shifts);
    assert_eq!(s.totals.shifts, 10);
    assert_eq!(s.totals.under_coverage, 2.0 * 2.0 * 8.0);
    assert!(s.coverage.iter().filter(|c| c.day >= 5).all(|c| c.scheduled == 0.0));
}

#[test]
fn the_week_wraps_around() {
    // A Sunday night shift covers Monday morning.
    let per_day = 24;
    let mut required = vec![0.0; DAYS * per_day];
    for r in &mut required[..6] {
        *r = 1.0;
    }
    let req = Requirements { interval_minutes: 60, required };
    let mut t = plain("night", vec![22 * 60], 480, 15.0);
    t.days = [false, false, false, false, false, false, true];
    let s = schedule(&req, &[t], &ScheduleOptions::default()).unwrap();
    assert_eq!(s.totals.under_coverage, 0.0);
    assert_eq!((s.shifts[0].day, s.shifts[0].start_minute, s.shifts[0].end_minute), (6, 1320, 1800));
    assert_eq!(s.coverage[6 * 24 + 22].scheduled, 1.0);
}

#[test]
fn a_low_penalty_leaves_demand_uncovered() {
    let req = week(60, &[(480, 960, 1.0)]);
    let templates = vec![plain("eight", vec![480], 480, 100.0)];
    let options = ScheduleOptions { under_penalty: 10.0, ..ScheduleOptions::default() };
    let s = schedule(&req, &templates, &options).unwrap();
    assert_eq!(s.totals.shifts, 0);
    assert_eq!(s.totals.objective, 80.0);
}

#[test]
fn bad_input_is_refused_with_its_place() {
    let req = week(60, &[(480, 960, 1.0)]);
    let mut t = plain("short", vec![480], 120, 10.0);
    t.breaks = vec![BreakRule { name: "lunch".into(), minutes: 30, paid: false, earliest_start: 100, latest_end: 150 }];
    let e = schedule(&req, &[t], &ScheduleOptions::default()).unwrap_err();
    assert!(e.to_string().contains("template \"short\", break \"lunch\""), "{e}");
    let bad = Requirements { interval_minutes: 7, required: vec![] };
    assert!(schedule(&bad, &[plain("x", vec![0], 60, 1.0)], &ScheduleOptions::default()).is_err());
    let mut negative = week(60, &[]);
    negative.required[30] = -1.0;
    let e = schedule(&negative, &[plain("x", vec![0], 60, 1.0)], &ScheduleOptions::default()).unwrap_err();
    assert!(e.to_string().contains("Tue at 06:00"), "{e}");
    let twice = [plain("x", vec![0], 60, 1.0), plain("x", vec![60], 60, 1.0)];
    assert!(schedule(&req, &twice, &ScheduleOptions::default()).is_err());
}

#[test]
fn break_placements_do_not_overlap() {
    let mut t = plain("t", vec![0], 240, 1.0);
    t.breaks = vec![
        BreakRule { name: "a".into(), minutes: 30, paid: true, earliest_start: 60, latest_end: 120 },
        BreakRule { name: "b".into(), minutes: 30, paid: true, earliest_start: 60, latest_end: 120 },
    ];
    let p = break_placements(&t, 30);
    assert_eq!(p, vec![vec![60, 90], vec![90, 60]]);
}

#[test]
fn example_week_is_well_formed() {
    let (req, templates, options) = example_week();
    req.validate().unwrap();
    validate_templates(&templates).unwrap();
    assert!(templates.len() >= 10);
    let peak = req.required.iter().copied().fold(0.0, f64::max);
    assert!((140.0..=160.0).contains(&peak), "{peak}");
    assert!(options.under_penalty > 0.0);
}

#[test]
fn a_fractional_lp_is_rounded_and_the_gap_reported() {
    // Intervals 08, 09, 10 need one agent each; shifts cover {08, 09},
    // {09, 10} or {08, 10} (three hours with an hour's break in the middle),
    // all costing 1. The LP takes half of each (1.5); any schedule needs 2.
    let req = week(60, &[(480, 660, 1.0)]);
    let mut split = plain("split", vec![480], 180, 1.0);
    split.breaks =
        vec![BreakRule { name: "gap".into(), minutes: 60, paid: false, earliest_start: 60, latest_end: 120 }];
    let templates = vec![plain("a", vec![480], 120, 1.0), plain("b", vec![540], 120, 1.0), split];
    let s = schedule(&req, &templates, &ScheduleOptions::default()).unwrap();
    assert_eq!(s.totals.method, "lp-rounding");
    assert!((s.totals.lp_bound - 1.5).abs() < 1e-9, "{:?}", s.totals);
    assert_eq!(s.totals.objective, 2.0);
    assert!((s.totals.gap - 0.25).abs() < 1e-9);
    assert!(!s.totals.optimal);
    assert_eq!(s.totals.under_coverage, 0.0);
    // Branch and bound proves that 2 is the optimum.
    let options = ScheduleOptions { mip_time_limit_seconds: Some(10.0), ..ScheduleOptions::default() };
    let s = schedule(&req, &templates, &options).unwrap();
    assert_eq!(s.totals.objective, 2.0);
    assert!(s.totals.optimal);
}

#[test]
fn coverage_totals_agree_with_the_shifts() {
    let (req, templates, options) = example_week();
    // A smaller week: Monday's requirements only, to keep the debug test quick.
    let per_day = req.intervals_per_day();
    let mut monday = req.clone();
    monday.required[per_day..].iter_mut().for_each(|r| *r = 0.0);
    let s = schedule(&monday, &templates, &options).unwrap();
    let worked: f64 = s.coverage.iter().map(|c| c.scheduled).sum();
    let interval = f64::from(req.interval_minutes);
    // Agent-minutes on the phones = shift minutes less every break.
    let on_phones: f64 = s
        .shifts
        .iter()
        .map(|x| {
            let breaks: u32 = x.breaks.iter().map(|b| b.minutes).sum();
            f64::from(x.count) * f64::from(x.end_minute - x.start_minute - breaks)
        })
        .sum();
    assert!((worked * interval - on_phones).abs() < 1e-6, "{worked} vs {on_phones}");
    assert!((s.totals.scheduled_agent_intervals - worked).abs() < 1e-9);
    let under: f64 = s.coverage.iter().map(|c| c.under).sum();
    assert!((s.totals.under_coverage - under).abs() < 1e-9);
    assert!(s.totals.lp_bound <= s.totals.objective + 1e-9);
    assert!(s.totals.gap < 0.05, "{:?}", s.totals);
    assert!(s.coverage[per_day..].iter().all(|c| c.under == 0.0 && c.required == 0.0));
}

#[test]
fn days_off_give_a_headcount_and_a_roster() {
    // Three agents needed 09–17 every day; each agent works at most 5 days:
    // 21 shifts need ⌈21 / 5⌉ = 5 agents.
    let per_day = 24;
    let required: Vec<f64> =
        (0..DAYS * per_day).map(|i| if (9..17).contains(&(i % per_day)) { 3.0 } else { 0.0 }).collect();
    let req = Requirements { interval_minutes: 60, required };
    let templates = [plain("day", vec![540], 480, 15.0)];
    let options = ScheduleOptions { days_per_agent: Some(5), ..ScheduleOptions::default() };
    let s = schedule(&req, &templates, &options).unwrap();
    assert_eq!(s.totals.shifts, 21);
    assert_eq!(s.totals.headcount, Some(5));
    assert_eq!(s.roster.len(), 5);
    let mut dealt = 0;
    for agent in &s.roster {
        assert!(agent.len() <= 5, "{agent:?}");
        let mut days: Vec<usize> = agent.iter().map(|&i| s.shifts[i].day).collect();
        days.dedup();
        assert_eq!(days.len(), agent.len(), "two shifts on one day: {agent:?}");
        dealt += agent.len();
    }
    assert_eq!(dealt, 21);
    // Four agents can work only 20 shifts: one day falls short by one agent.
    let options = ScheduleOptions { max_agents: Some(4), ..options };
    let s = schedule(&req, &templates, &options).unwrap();
    assert_eq!(s.totals.shifts, 20);
    assert_eq!(s.totals.headcount, Some(4));
    assert_eq!(s.totals.under_coverage, 8.0);
    assert!(schedule(&req, &templates, &ScheduleOptions { days_per_agent: Some(8), ..options }).is_err());
}
