//! # Switchboard's IVR and post-call survey
//!
//! Pure: no I/O, no clock, no randomness; time comes in as milliseconds.
//!
//! * [`Flow`] — an IVR flow as data (JSON edited in the browser), with
//!   [`Flow::validate`] reporting every problem at once.
//! * [`Session`] — the interpreter, one per call. The voice layer feeds
//!   [`IvrEvent`]s and carries out [`Action`]s (play clips, start a timer,
//!   look something up over HTTP, queue the caller, hang up…).
//! * [`SurveySpec`] / [`SurveySession`] — the post-call survey, same
//!   events and actions.
//! * [`prompts::CATALOG`] — every clip with its English and Chinese text;
//!   [`speak`] — numbers, digits, durations and positions as clips.
//! * [`Calendar`] — business hours; [`FlowStats`] — per-node statistics.
//!
//! ```
//! use ivr::*;
//! use std::sync::Arc;
//! let flow = Arc::new(Flow::sample());
//! assert!(flow.validate(|q| samples::DEMO_QUEUES.contains(&q)).is_empty());
//! // Monday 2026-11-23, 10:00 in China: open.
//! let now = 20_780 * 86_400_000 + 2 * 3_600_000;
//! let (mut call, actions) = Session::start(flow, Context::default(), now);
//! let Some(Action::Play { id, .. }) = actions.first() else { panic!() };
//! // Type-ahead during the welcome: 2 (English), then 3 (billing).
//! call.handle(now + 500, IvrEvent::Digit('2'));
//! call.handle(now + 600, IvrEvent::Digit('3'));
//! let actions = call.handle(now + 4_000, IvrEvent::PlaybackDone { id: *id });
//! // Straight to billing: "transferring, please hold", in English.
//! let Some(Action::Play { id, sounds, .. }) = actions.first() else { panic!() };
//! assert_eq!(sounds[0], Sound::Clip(Clip::new(Lang::En, "transferring")));
//! let actions = call.handle(now + 7_000, IvrEvent::PlaybackDone { id: *id });
//! assert!(matches!(&actions[..], [Action::Queue { queue: 3, .. }]));
//! assert_eq!(call.attributes()["problem_type"], "billing");
//! ```

pub mod calendar;
pub mod flow;
pub mod prompts;
pub mod samples;
pub mod session;
pub mod speak;
pub mod stats;
pub mod survey;
mod template;

pub use calendar::{Calendar, Date, DayHours, TimeOfDay, Weekday};
pub use flow::{Flow, FlowError, Node, NodeId, NodeKind, Problem, ProblemKind, Prompt, Say, TransferTarget};
pub use prompts::{CATALOG, Clip, Lang, PromptText, Sound};
pub use session::{Action, Context, Failure, Incident, IvrEvent, Outcome, Session, Visit};
pub use stats::{FlowStats, NodeStats};
pub use survey::{Question, SurveyAnswer, SurveySession, SurveySpec, due};
