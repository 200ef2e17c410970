//! # Switchboard benchmarks
//!
//! The routing benchmark ([`run_routing_bench`]) drives one
//! [`engine::Engine`] through a large, busy contact center (by default
//! 5,000 agents with 1–8 of 100 skills, 200 queues, 20,000 contacts
//! waiting) and times every [`engine::Engine::handle`] call on its own.
//! It is what `switchboard bench routing` runs; [`render_text`] prints the
//! report for people, and the report serialises to JSON for machines.
//!
//! ```
//! use bench::{RoutingBenchConfig, render_text, run_routing_bench};
//! let cfg = RoutingBenchConfig {
//!     agents: 20,
//!     skills: 4,
//!     queues: 4,
//!     waiting_contacts: 40,
//!     events: 500,
//!     warmup_events: 100,
//!     ..RoutingBenchConfig::default()
//! };
//! let report = run_routing_bench(&cfg).unwrap();
//! assert_eq!(report.events, 500);
//! println!("{}", render_text(&report));
//! ```

mod error;
mod report;
mod routing;
mod stats;
mod workload;

pub use error::BenchError;
pub use report::{KindStats, RoutingBenchReport, render_text};
pub use routing::{RoutingBenchConfig, run_routing_bench};
