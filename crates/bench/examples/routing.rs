//! Run the routing benchmark and print its report.
//!
//! ```text
//! cargo run --release -p bench --example routing -- [--events N] [--warmup N]
//!     [--agents N] [--skills N] [--queues N] [--waiting N] [--seed N] [--json]
//! ```

use bench::{RoutingBenchConfig, render_text, run_routing_bench};
use std::process::ExitCode;

fn parse(cfg: &mut RoutingBenchConfig, json: &mut bool) -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--json" {
            *json = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = |v: &str| v.replace('_', "").parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
        let small = |v: &str| num(v).and_then(|n| u32::try_from(n).map_err(|e| format!("{flag} {v}: {e}")));
        match flag.as_str() {
            "--events" => cfg.events = num(&value)?,
            "--warmup" => cfg.warmup_events = num(&value)?,
            "--agents" => cfg.agents = small(&value)?,
            "--skills" => cfg.skills = small(&value)?,
            "--queues" => cfg.queues = small(&value)?,
            "--waiting" => cfg.waiting_contacts = small(&value)?,
            "--seed" => cfg.seed = num(&value)?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut cfg = RoutingBenchConfig::default();
    let mut json = false;
    if let Err(e) = parse(&mut cfg, &mut json) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    match run_routing_bench(&cfg) {
        Ok(report) => {
            if json {
                match report.to_json() {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                print!("{}", render_text(&report));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
