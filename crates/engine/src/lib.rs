//! # Switchboard's contact-center engine
//!
//! A deterministic, sans-IO state machine: no threads, no clock, no sockets,
//! no global random generator. Drivers (the live server, the simulator, the
//! benchmarks, the tests) feed it [`Input`]s with the current [`Time`] and
//! carry out the [`Output`]s it returns:
//!
//! ```
//! use engine::*;
//! let mut config = EngineConfig::default();
//! config.queues.push(QueueConfig::new(QueueId(1), "support"));
//! config.agents.push(AgentConfig::new(AgentId(1), "Ana", &[QueueId(1)]));
//! let mut engine = Engine::new(config).unwrap();
//! let mut out = Vec::new();
//! engine.handle(Time(0), Input::Login { agent: AgentId(1) }, &mut out).unwrap();
//! engine.handle(Time(0), Input::Ready { agent: AgentId(1) }, &mut out).unwrap();
//! engine.handle(Time(1_000), Input::Arrive { contact: ContactSpec::new(ContactId(7), QueueId(1)) }, &mut out).unwrap();
//! assert!(out.iter().any(|o| matches!(o, Output::Command(Command::Offer { agent: AgentId(1), .. }))));
//! ```
//!
//! Every state change is an [`Event`]; applying the events of a run to a
//! fresh engine ([`Engine::replay`]) rebuilds the same state. KPIs are folds
//! over events ([`kpi`]).

mod config;
mod contact;
mod engine;
mod error;
mod event;
mod ids;
mod input;
pub mod kpi;
mod output;
pub mod rng;
mod validate;

pub use config::*;
pub use contact::*;
pub use engine::*;
pub use error::*;
pub use event::*;
pub use ids::*;
pub use input::*;
pub use output::*;
pub use validate::*;
