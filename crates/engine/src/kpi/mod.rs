//! # KPI folds over events
//!
//! Every KPI is a fold over [`EventRecord`]s: a value that is fed every
//! event of a run in order ([`Fold::apply`]) and, at the end of the run,
//! told the end time ([`Fold::finish`]) so it can close the agent-state
//! spans that are still open. The folds read nothing but events: no clock,
//! no configuration lookups, no I/O.
//!
//! * [`IntervalFold`]: per queue × interval, per agent × interval and
//!   whole-run figures, turned into a serialisable [`KpiReport`] by
//!   [`IntervalFold::report`] and into a terminal table by [`render_text`].
//! * [`LiveWindow`]: a sliding window of one-minute buckets per queue, for
//!   wallboards ([`LiveWindow::view`]).
//! * [`SlCounts`] / [`ServiceLevel`]: the service-level variants, computed
//!   from counts (a percentage is never stored).
//!
//! ## Counting rules
//!
//! * **Offered**: a contact entering a queue ([`Event::ContactQueued`]):
//!   arrivals, overflows in and transfers into a queue each count as an
//!   offer in the queue entered. A `ContactQueued` that follows a
//!   [`Event::CallbackRetry`] for the same contact and queue is the same
//!   queue entry coming back, not a new offer. A contact that leaves a
//!   queue it was never queued in (refused by a full queue, or sent on at
//!   once because nobody is logged in) also counts as offered there, so
//!   that offered ≥ answered + abandoned + exited + overflowed out. The
//!   all-queues total
//!   therefore counts an overflowed or transferred contact once per queue
//!   it entered.
//! * **Answered / abandoned / exited**: from [`Event::ContactAnswered`],
//!   [`Event::ContactAbandoned`] and [`Event::ContactExited`]. Only the
//!   first answer of a queue entry counts as answered in the queue (a
//!   direct transfer to an agent is a new handling segment, not a new
//!   answer). "Within threshold" means `wait_ms <= sl_threshold_ms`; a
//!   short abandon is `wait_ms < short_abandon_ms`.
//! * **Exits**: `exited` counts exits that end the contact's wait
//!   (disconnect, voicemail); exits whose action is an overflow or a
//!   callback are counted apart (`exited_to_overflow`, `exited_to_callback`)
//!   because the contact's outcome is counted later (in the target queue,
//!   or when the callback is answered or fails).
//! * **Overflow**: [`Event::ContactOverflowed`] counts `overflowed_out` in
//!   the queue left and `overflowed_in` in the queue entered. An overflowed
//!   contact is in none of the service-level denominators of the queue it
//!   left: its outcome counts in the queue it flowed into.
//! * **Callbacks**: requested ([`Event::CallbackRequested`]), answered (a
//!   [`Event::ContactAnswered`] for a queue entry that is a callback),
//!   failed for good ([`Event::ContactEnded`] with
//!   [`Outcome::CallbackFailed`]) and failed attempts
//!   ([`Event::CallbackAttemptFailed`]). A failed callback is in no
//!   service-level denominator.
//! * **Handling segments**: an agent's segment starts with
//!   [`Event::ContactAnswered`] and ends with [`Event::ContactTransferred`]
//!   (which carries that agent's talk and hold) or [`Event::ContactEnded`]
//!   (the last agent's talk and hold). Each closed segment counts one
//!   `handled` for the agent and for the queue it was answered from; the
//!   agent's wrap-up ([`Event::WrapUpEnded`]) is added to the same segment.
//!   AHT = (talk + hold + wrap-up) / handled, so a transferred contact
//!   counts once for each agent who handled it.
//!
//! ## Attribution to intervals
//!
//! Intervals are fixed, `interval_ms` long, aligned on multiples of
//! `interval_ms` of [`Time`] (with the default 15 minutes and the simulator's
//! time since midnight: 00:00–00:15, 00:15–00:30, …).
//!
//! * **Contact outcomes** (offered, answered and answered within threshold,
//!   abandoned and its variants, exited, overflowed out, callbacks
//!   requested / answered / failed, wait sums, longest wait, wait
//!   histograms) go to the queue and interval in which the contact
//!   **entered** that queue. A contact entering at 10:14 and answered at
//!   10:16 is answered in the 10:00 interval, so every interval's figures
//!   describe the contacts offered in it. The fold keeps a small map from
//!   live contact to (queue, interval of entry), dropped at
//!   [`Event::ContactEnded`].
//! * **Overflowed in** goes to the target queue and the interval of the
//!   overflow (which is the interval of entry into the target).
//! * **Handling figures** (handled, talk, hold, wrap-up, transfers) go to
//!   the interval of the **answer** that started the segment, for the queue
//!   it was answered from and for the agent.
//! * **Agent counters** (offers, answers, missed, rejected offers) go to
//!   the interval in which they happened.
//! * **Agent state time** is split exactly across the intervals a state
//!   span covers.
//!
//! The [`LiveWindow`] instead counts everything at the time of the event
//! that reports it: a wallboard shows what happened in the last minutes.
//!
//! An event that refers to a contact the fold never saw enter a queue (a
//! fold started in the middle of a run) is attributed to the interval in
//! which the event happened.

mod counts;
mod hash;
mod interval;
mod live;
mod report;
mod service_level;

pub use counts::{AgentCounts, QueueCounts, StateTimes, WAIT_BUCKET_EDGES_MS, WAIT_BUCKETS, wait_bucket};
pub use hash::{FastHasher, FastMap};
pub use interval::IntervalFold;
pub use live::{LiveWindow, QueueWindowView};
pub use report::{
    AgentFigures, AgentIntervalRow, AgentRow, KpiReport, QueueFigures, QueueIntervalRow, QueueRow, StateSeconds,
    render_text,
};
pub use service_level::{ServiceLevel, SlCounts};

#[cfg(doc)]
use crate::{Event, Outcome};
use crate::{EventRecord, Time};
use serde::{Deserialize, Serialize};

/// Settings of the KPI folds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KpiConfig {
    /// Length of a reporting interval (default 15 minutes). Zero counts as 1 ms.
    pub interval_ms: u64,
    /// Service-level threshold T: a contact answered (or abandoned) with a
    /// wait of at most T counts as within threshold (default 20 s).
    pub sl_threshold_ms: u64,
    /// An abandon with a wait shorter than this is a short abandon
    /// (default 5 s).
    pub short_abandon_ms: u64,
    /// Length of the [`LiveWindow`] (default 15 minutes), rounded up to
    /// whole minutes, at least one.
    pub window_ms: u64,
}

impl Default for KpiConfig {
    fn default() -> Self {
        KpiConfig { interval_ms: 900_000, sl_threshold_ms: 20_000, short_abandon_ms: 5_000, window_ms: 900_000 }
    }
}

/// A fold over the events of a run.
pub trait Fold {
    /// Take one event into account. Events must come in log order.
    fn apply(&mut self, rec: &EventRecord);

    /// The run ends (or a report is wanted) at `at`: close the spans still
    /// open up to `at`. Calling it again later continues from `at`.
    fn finish(&mut self, at: Time);
}
