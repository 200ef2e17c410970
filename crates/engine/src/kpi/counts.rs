//! Raw counters: what the folds add up. Derived figures (ratios, averages)
//! are computed from these when a report or view is built.

use crate::AgentState;
use serde::{Deserialize, Serialize};

/// Upper edges (inclusive) of the wait-time histogram buckets, in
/// milliseconds: 0, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300 and 600
/// seconds. A last, open bucket holds waits above 600 s. Because edges are
/// inclusive, the buckets up to an edge equal to the service-level
/// threshold add up to the contacts answered within it.
pub const WAIT_BUCKET_EDGES_MS: [u64; 13] =
    [0, 5_000, 10_000, 15_000, 20_000, 30_000, 45_000, 60_000, 90_000, 120_000, 180_000, 300_000, 600_000];

/// Number of wait-time buckets: one per edge plus the open last bucket.
pub const WAIT_BUCKETS: usize = WAIT_BUCKET_EDGES_MS.len() + 1;

/// Index of the histogram bucket of a wait: the first bucket whose upper
/// edge is at least `wait_ms`, or the last, open bucket.
#[inline]
pub fn wait_bucket(wait_ms: u64) -> usize {
    WAIT_BUCKET_EDGES_MS.partition_point(|&edge| edge < wait_ms)
}

/// Counters of one queue over one period (an interval, a minute, a run).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCounts {
    /// Contacts that entered the queue (callback retries excluded).
    pub offered: u64,
    /// Queue entries answered by an agent.
    pub answered: u64,
    /// Answered with a wait of at most the threshold.
    pub answered_within: u64,
    /// Abandoned while waiting (or ringing).
    pub abandoned: u64,
    /// Abandoned with a wait of at most the threshold.
    pub abandoned_within: u64,
    /// Abandoned with a wait shorter than the short-abandon limit.
    pub short_abandons: u64,
    /// Left by the maximum-wait or maximum-length rule for good
    /// (disconnect or voicemail).
    pub exited: u64,
    /// Left by a limit whose action is an overflow.
    pub exited_to_overflow: u64,
    /// Left by a limit whose action is a callback.
    pub exited_to_callback: u64,
    /// Moved to another queue without an agent.
    pub overflowed_out: u64,
    /// Came from another queue by overflow.
    pub overflowed_in: u64,
    /// Transferred away by the agent who answered.
    pub transfers_out: u64,
    /// Callers who asked for a callback.
    pub callbacks_requested: u64,
    /// Callbacks that connected to the customer.
    pub callbacks_answered: u64,
    /// Callbacks that gave up (no attempts left).
    pub callbacks_failed: u64,
    /// Callback dial attempts that did not reach the customer.
    pub callback_attempts_failed: u64,
    /// Sum of the waits of answered contacts.
    pub wait_answered_ms: u64,
    /// Sum of the waits of abandoned contacts.
    pub wait_abandoned_ms: u64,
    /// Longest wait of an answered or abandoned contact.
    pub longest_wait_ms: u64,
    /// Handling segments closed (one per agent who handled a contact).
    pub handled: u64,
    /// Talk time of the handled segments.
    pub talk_ms: u64,
    /// Hold time of the handled segments.
    pub hold_ms: u64,
    /// Wrap-up time of the handled segments.
    pub wrap_ms: u64,
    /// Waits of answered contacts, by bucket ([`WAIT_BUCKET_EDGES_MS`]).
    pub answered_waits: [u64; WAIT_BUCKETS],
    /// Waits of abandoned contacts, by bucket ([`WAIT_BUCKET_EDGES_MS`]).
    pub abandoned_waits: [u64; WAIT_BUCKETS],
}

impl QueueCounts {
    /// Add another period's counters to these.
    pub fn add(&mut self, o: &QueueCounts) {
        self.offered += o.offered;
        self.answered += o.answered;
        self.answered_within += o.answered_within;
        self.abandoned += o.abandoned;
        self.abandoned_within += o.abandoned_within;
        self.short_abandons += o.short_abandons;
        self.exited += o.exited;
        self.exited_to_overflow += o.exited_to_overflow;
        self.exited_to_callback += o.exited_to_callback;
        self.overflowed_out += o.overflowed_out;
        self.overflowed_in += o.overflowed_in;
        self.transfers_out += o.transfers_out;
        self.callbacks_requested += o.callbacks_requested;
        self.callbacks_answered += o.callbacks_answered;
        self.callbacks_failed += o.callbacks_failed;
        self.callback_attempts_failed += o.callback_attempts_failed;
        self.wait_answered_ms += o.wait_answered_ms;
        self.wait_abandoned_ms += o.wait_abandoned_ms;
        self.longest_wait_ms = self.longest_wait_ms.max(o.longest_wait_ms);
        self.handled += o.handled;
        self.talk_ms += o.talk_ms;
        self.hold_ms += o.hold_ms;
        self.wrap_ms += o.wrap_ms;
        for (a, b) in self.answered_waits.iter_mut().zip(&o.answered_waits) {
            *a += b;
        }
        for (a, b) in self.abandoned_waits.iter_mut().zip(&o.abandoned_waits) {
            *a += b;
        }
    }

    /// Whether every counter is zero.
    pub fn is_empty(&self) -> bool {
        *self == QueueCounts::default()
    }

    /// Count an answer with its wait.
    #[inline]
    pub(crate) fn answer(&mut self, wait_ms: u64, threshold_ms: u64, callback: bool) {
        self.answered += 1;
        self.answered_within += u64::from(wait_ms <= threshold_ms);
        self.callbacks_answered += u64::from(callback);
        self.wait_answered_ms += wait_ms;
        self.longest_wait_ms = self.longest_wait_ms.max(wait_ms);
        self.answered_waits[wait_bucket(wait_ms)] += 1;
    }

    /// Count an abandon with its wait.
    #[inline]
    pub(crate) fn abandon(&mut self, wait_ms: u64, threshold_ms: u64, short_ms: u64) {
        self.abandoned += 1;
        self.abandoned_within += u64::from(wait_ms <= threshold_ms);
        self.short_abandons += u64::from(wait_ms < short_ms);
        self.wait_abandoned_ms += wait_ms;
        self.longest_wait_ms = self.longest_wait_ms.max(wait_ms);
        self.abandoned_waits[wait_bucket(wait_ms)] += 1;
    }

    /// Count a closed handling segment.
    #[inline]
    pub(crate) fn segment(&mut self, talk_ms: u64, hold_ms: u64, transfer: bool) {
        self.handled += 1;
        self.talk_ms += talk_ms;
        self.hold_ms += hold_ms;
        self.transfers_out += u64::from(transfer);
    }
}

/// Milliseconds spent in each [`AgentState`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateTimes {
    /// Logged out.
    pub offline: u64,
    /// Waiting for a contact.
    pub ready: u64,
    /// Logged in, not taking contacts.
    pub not_ready: u64,
    /// Being offered a contact (ringing).
    pub reserved: u64,
    /// Working a contact.
    pub busy: u64,
    /// Every connected contact on hold.
    pub on_hold: u64,
    /// After-contact work.
    pub wrap_up: u64,
}

impl StateTimes {
    /// The time of one state.
    pub fn get(&self, state: AgentState) -> u64 {
        match state {
            AgentState::Offline => self.offline,
            AgentState::Ready => self.ready,
            AgentState::NotReady => self.not_ready,
            AgentState::Reserved => self.reserved,
            AgentState::Busy => self.busy,
            AgentState::OnHold => self.on_hold,
            AgentState::WrapUp => self.wrap_up,
        }
    }

    /// The time of one state, for update.
    #[inline]
    pub fn get_mut(&mut self, state: AgentState) -> &mut u64 {
        match state {
            AgentState::Offline => &mut self.offline,
            AgentState::Ready => &mut self.ready,
            AgentState::NotReady => &mut self.not_ready,
            AgentState::Reserved => &mut self.reserved,
            AgentState::Busy => &mut self.busy,
            AgentState::OnHold => &mut self.on_hold,
            AgentState::WrapUp => &mut self.wrap_up,
        }
    }

    /// Working time: busy + on hold + wrap-up.
    pub fn working(&self) -> u64 {
        self.busy + self.on_hold + self.wrap_up
    }

    /// Time available or working: busy + on hold + wrap-up + ready +
    /// reserved (the occupancy denominator).
    pub fn staffed(&self) -> u64 {
        self.working() + self.ready + self.reserved
    }

    /// Time logged in: every state but offline (the utilisation denominator).
    pub fn logged_in(&self) -> u64 {
        self.staffed() + self.not_ready
    }

    /// Add another period's times to these.
    pub fn add(&mut self, o: &StateTimes) {
        for s in AgentState::ALL {
            *self.get_mut(s) += o.get(s);
        }
    }
}

/// Counters of one agent over one period (an interval or a run).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCounts {
    /// Milliseconds in each state.
    pub state_ms: StateTimes,
    /// Contacts offered (rung).
    pub offers: u64,
    /// Contacts answered.
    pub answered: u64,
    /// Offers that timed out.
    pub missed: u64,
    /// Offers declined.
    pub rejected: u64,
    /// Handling segments closed.
    pub handled: u64,
    /// Talk time of the handled segments.
    pub talk_ms: u64,
    /// Hold time of the handled segments.
    pub hold_ms: u64,
    /// Wrap-up time of the handled segments.
    pub wrap_ms: u64,
    /// Contacts transferred away.
    pub transfers: u64,
}

impl AgentCounts {
    /// Add another period's counters to these.
    pub fn add(&mut self, o: &AgentCounts) {
        self.state_ms.add(&o.state_ms);
        self.offers += o.offers;
        self.answered += o.answered;
        self.missed += o.missed;
        self.rejected += o.rejected;
        self.handled += o.handled;
        self.talk_ms += o.talk_ms;
        self.hold_ms += o.hold_ms;
        self.wrap_ms += o.wrap_ms;
        self.transfers += o.transfers;
    }

    /// Whether every counter is zero.
    pub fn is_empty(&self) -> bool {
        *self == AgentCounts::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_have_inclusive_upper_edges() {
        assert_eq!(wait_bucket(0), 0);
        assert_eq!(wait_bucket(1), 1);
        assert_eq!(wait_bucket(5_000), 1);
        assert_eq!(wait_bucket(5_001), 2);
        assert_eq!(wait_bucket(20_000), 4);
        assert_eq!(wait_bucket(600_000), 12);
        assert_eq!(wait_bucket(600_001), 13);
        assert_eq!(wait_bucket(u64::MAX), WAIT_BUCKETS - 1);
    }

    #[test]
    fn histogram_up_to_threshold_edge_equals_answered_within() {
        let mut c = QueueCounts::default();
        for w in [0, 3_000, 19_999, 20_000, 20_001, 700_000] {
            c.answer(w, 20_000, false);
        }
        let up_to_20: u64 = c.answered_waits[..=wait_bucket(20_000)].iter().sum();
        assert_eq!(up_to_20, c.answered_within);
        assert_eq!(c.answered_within, 4);
        assert_eq!(c.longest_wait_ms, 700_000);
    }

    #[test]
    fn state_time_sums() {
        let t = StateTimes { offline: 1, ready: 2, not_ready: 4, reserved: 8, busy: 16, on_hold: 32, wrap_up: 64 };
        assert_eq!(t.working(), 112);
        assert_eq!(t.staffed(), 122);
        assert_eq!(t.logged_in(), 126);
        let mut u = t;
        u.add(&t);
        assert_eq!(u.get(AgentState::WrapUp), 128);
    }
}
