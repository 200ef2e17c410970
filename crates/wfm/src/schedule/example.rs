//! A realistic week to try the scheduler with no data: 30-minute intervals,
//! open 07:00–22:00 every day, about 150 agents required at the Monday
//! peak with a double-peaked day (late morning and early afternoon) and a
//! quiet weekend, and twelve shift templates with breaks and lunch.

use super::{BreakRule, DAYS, Requirements, ScheduleOptions, ShiftTemplate, start_range};

/// Relative volume per day, Monday first.
const DAY_FACTORS: [f64; DAYS] = [1.0, 0.93, 0.88, 0.9, 0.84, 0.46, 0.3];

/// Required agents per 30-minute interval: open 07:00–22:00, a peak of
/// about 150 agents on Monday late morning.
pub fn example_week_requirements() -> Requirements {
    let interval = 30;
    let per_day = (super::MINUTES_PER_DAY / interval) as usize;
    let mut required = Vec::with_capacity(DAYS * per_day);
    for factor in DAY_FACTORS {
        for k in 0..per_day {
            let hour = (k as f64 + 0.5) * f64::from(interval) / 60.0;
            let r = if (7.0..22.0).contains(&hour) {
                let bump = |centre: f64, width: f64| (-((hour - centre) / width).powi(2) / 2.0).exp();
                let shape = 0.18 + 0.82 * bump(10.75, 1.6).max(0.85 * bump(14.75, 1.9)) + 0.1 * bump(19.0, 1.2);
                (150.0 * factor * shape).ceil()
            } else {
                0.0
            };
            required.push(r);
        }
    }
    Requirements { interval_minutes: interval, required }
}

fn hm(h: u32, m: u32) -> u32 {
    h * 60 + m
}

fn brk(name: &str, minutes: u32, paid: bool, from: u32, to: u32) -> BreakRule {
    BreakRule { name: name.into(), minutes, paid, earliest_start: from, latest_end: to }
}

/// The usual breaks of a full-time shift of `hours` (8.5 or longer): a
/// 15-minute paid break in hours 1.5–2.5, an unpaid lunch of `lunch`
/// minutes in hours 3.5–5 and a second 15-minute break in hours 6–7.5.
fn full_time_breaks(lunch: u32) -> Vec<BreakRule> {
    vec![
        brk("break", 15, true, hm(1, 30), hm(2, 30)),
        brk("lunch", lunch, false, hm(3, 30), hm(5, 0)),
        brk("break", 15, true, hm(6, 0), hm(7, 30)),
    ]
}

const WEEKDAYS: [bool; DAYS] = [true, true, true, true, true, false, false];
const WEEKEND: [bool; DAYS] = [false, false, false, false, false, true, true];
const EVERY_DAY: [bool; DAYS] = [true; DAYS];

#[allow(clippy::too_many_arguments)]
fn template(
    name: &str,
    starts: Vec<u32>,
    length: u32,
    breaks: Vec<BreakRule>,
    cost: f64,
    days: [bool; DAYS],
    max_shifts: Option<u32>,
) -> ShiftTemplate {
    ShiftTemplate {
        name: name.into(),
        starts,
        length_minutes: length,
        breaks,
        cost,
        days,
        max_shifts,
        break_step_minutes: None,
    }
}

/// Twelve shift templates for a center open 07:00–22:00: weekday full-time
/// 8-hour shifts (8.5 h with an unpaid 30-minute lunch) in early, middle
/// and late bands, a 9-hour shift with a 60-minute lunch, 10-hour shifts,
/// weekend 8-hour shifts at a premium, a dearer any-day 8-hour shift, and
/// part-time 4-, 5- and 6-hour shifts with one paid break. Costs are 20 per
/// paid hour for weekday full-time work, more for weekends and part-time.
pub fn example_templates() -> Vec<ShiftTemplate> {
    let part_break = |from: u32, to: u32| vec![brk("break", 15, true, from, to)];
    vec![
        template("FT8-early", start_range(hm(7, 0), hm(9, 0), 30), 510, full_time_breaks(30), 160.0, WEEKDAYS, None),
        template("FT8-mid", start_range(hm(9, 30), hm(11, 30), 30), 510, full_time_breaks(30), 160.0, WEEKDAYS, None),
        template("FT8-late", start_range(hm(12, 0), hm(13, 30), 30), 510, full_time_breaks(30), 160.0, WEEKDAYS, None),
        template("FT9", start_range(hm(7, 0), hm(12, 0), 60), 600, full_time_breaks(60), 180.0, WEEKDAYS, None),
        template(
            "FT10",
            start_range(hm(7, 0), hm(11, 30), 30),
            630,
            vec![
                brk("break", 15, true, hm(1, 30), hm(2, 30)),
                brk("lunch", 30, false, hm(4, 0), hm(6, 0)),
                brk("break", 15, true, hm(7, 0), hm(8, 30)),
            ],
            200.0,
            WEEKDAYS,
            Some(150),
        ),
        template("FT8-weekend", start_range(hm(7, 0), hm(13, 30), 30), 510, full_time_breaks(30), 192.0, WEEKEND, None),
        template("FT8-any", start_range(hm(7, 0), hm(13, 30), 60), 510, full_time_breaks(30), 176.0, EVERY_DAY, None),
        template(
            "PT6",
            start_range(hm(7, 0), hm(16, 0), 60),
            360,
            part_break(hm(2, 0), hm(3, 30)),
            126.0,
            EVERY_DAY,
            Some(200),
        ),
        template("PT4-morning", start_range(hm(7, 0), hm(10, 0), 30), 240, part_break(90, 150), 88.0, EVERY_DAY, None),
        template("PT4-midday", start_range(hm(10, 30), hm(13, 0), 30), 240, part_break(90, 150), 88.0, EVERY_DAY, None),
        template(
            "PT4-evening",
            start_range(hm(16, 0), hm(18, 0), 30),
            240,
            part_break(90, 150),
            88.0,
            EVERY_DAY,
            Some(250),
        ),
        template(
            "PT5-evening",
            start_range(hm(15, 0), hm(17, 0), 30),
            300,
            part_break(120, 180),
            110.0,
            EVERY_DAY,
            None,
        ),
    ]
}

/// The benchmark instance: [`example_week_requirements`],
/// [`example_templates`], an under-coverage penalty of 100 per
/// agent-interval (five times a full-timer's cost of one interval), at
/// most 320 agents a day, and agents working at most 5 days a week.
pub fn example_week() -> (Requirements, Vec<ShiftTemplate>, ScheduleOptions) {
    let options = ScheduleOptions {
        max_agents_per_day: [Some(320); DAYS],
        days_per_agent: Some(5),
        ..ScheduleOptions::default()
    };
    (example_week_requirements(), example_templates(), options)
}
