//! # Workforce-management math
//!
//! Pure functions (no I/O, no clock) for contact-center staffing:
//!
//! * [`erlang_b`], [`erlang_b_fractional`] — loss probability, by the
//!   stable recursion (never factorials), also for fractional agents;
//! * [`ErlangC`] (M/M/n) — P(wait), service level, ASA, occupancy, queue
//!   length; [`erlang_c`] for the bare probability. Unstable loads (A ≥ n)
//!   are [`WfmError::Unstable`], never a negative or NaN figure;
//! * [`ErlangA`] (M/M/n+M, exponential patience) — P(wait), P(abandon),
//!   five service-level definitions computed exactly, the mean wait of all
//!   arrivals *and* the ASA of answered calls, occupancy; stable at any
//!   load and for thousands of agents;
//! * required agents for a [`Target`] (service level, ASA, abandonment,
//!   occupancy) with [`ErlangC::required_agents`] and
//!   [`ErlangA::required_agents`], and [`scheduled_agents`] for shrinkage.
//! * [`staffing_plan`]: required and scheduled agents for every interval
//!   of a forecast, with agent-hour totals;
//! * [`forecast`]: interval history, a synthetic history generator,
//!   Holt-Winters × intraday-profile forecasts with calendar effects and
//!   overrides, a seasonal-naive baseline and a back-test (WAPE, MAPE,
//!   Poisson floor).
//!
//! Units: arrival rates in calls per hour; handle time, patience,
//! thresholds and waits in seconds; the offered load A = λ·AHT in Erlangs.
//!
//! ```
//! use wfm::{ErlangA, ErlangC, Target};
//! let target = Target::service_level(0.8, 20.0); // 80 % within 20 s
//! // 6000 calls/h, AHT 300 s: 500 Erlangs.
//! let c = ErlangC::new(6000.0, 300.0).unwrap().required_agents(&target).unwrap();
//! assert_eq!(c.agents, 513);
//! // Callers with a mean patience of 3 minutes: fewer agents meet 80/20,
//! // because abandoning callers shorten the queue for the others.
//! let a = ErlangA::new(6000.0, 300.0, 180.0).unwrap().required_agents(&target).unwrap();
//! assert_eq!(a.agents, 475);
//! assert!(a.metrics.p_abandon < 0.06);
//! ```

mod erlang_a;
mod erlang_b;
mod erlang_c;
mod error;
pub mod forecast;
pub mod schedule;
mod staffing;

pub use erlang_a::{ErlangA, ErlangAMetrics};
pub use erlang_b::{erlang_b, erlang_b_fractional};
pub use erlang_c::{ErlangC, ErlangCMetrics, erlang_c, erlang_c_fractional};
pub use error::WfmError;
pub use staffing::{
    MAX_AGENTS, PlanInput, PlanSettings, PlannedInterval, Staffing, StaffingPlan, Target, scheduled_agents,
    staffing_plan,
};
