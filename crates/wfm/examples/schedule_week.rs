//! The realistic-week scheduling benchmark: 30-minute intervals, 7 days,
//! about 150 agents at the peak, twelve templates with breaks and lunch.
//! Prints the solve time, objective, LP bound, gap and under-coverage.
//!
//! `cargo run --release -p wfm --example schedule_week`

use std::time::Instant;
use wfm::schedule::{example_week, schedule};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (requirements, templates, mut options) = example_week();
    // `schedule_week SECONDS`: also run branch and bound for that long.
    options.mip_time_limit_seconds = std::env::args().nth(1).map(|s| s.parse()).transpose()?;
    let peak = requirements.required.iter().copied().fold(0.0, f64::max);
    let started = Instant::now();
    let s = schedule(&requirements, &templates, &options)?;
    let seconds = started.elapsed().as_secs_f64();
    let t = &s.totals;
    println!(
        "instance: 7 days x {} intervals of {} min, peak {peak} agents, {} templates, {} columns",
        requirements.intervals_per_day(),
        requirements.interval_minutes,
        templates.len(),
        t.columns
    );
    println!("solve time:        {seconds:.3} s");
    println!("method:            {}", t.method);
    println!("objective:         {:.1} (cost {:.1} + {} x under-coverage)", t.objective, t.cost, options.under_penalty);
    println!("LP bound:          {:.1}", t.lp_bound);
    println!("gap:               {:.3} %", t.gap * 100.0);
    println!("shifts:            {} ({:.1} paid agent-hours)", t.shifts, t.paid_hours);
    println!(
        "under-coverage:    {:.1} agent-intervals in {} intervals (of {:.0} required)",
        t.under_coverage, t.intervals_under, t.required_agent_intervals
    );
    if let (Some(h), Some(k)) = (t.headcount, options.days_per_agent) {
        println!("headcount:         {h} agents working at most {k} days each");
    }
    println!("over-coverage:     {:.1} agent-intervals", t.over_coverage);
    Ok(())
}
