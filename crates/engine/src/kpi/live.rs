//! A sliding window over the last minutes, per queue, for wallboards.
//!
//! Each queue has a ring of one-minute buckets keyed by event time; an
//! event is counted in the bucket of the minute it happened in (not the
//! minute its contact entered the queue), so the window shows what happened
//! in the last minutes. A bucket is reused when its minute has left the
//! window; an event older than the bucket it would go to is dropped.

use super::counts::QueueCounts;
use super::hash::FastMap;
use super::report::QueueFigures;
use super::{Fold, KpiConfig};
use crate::{Channel, Event, EventRecord, ExitAction, Outcome, QueueId, Time};
use serde::{Deserialize, Serialize};

const MINUTE_MS: u64 = 60_000;
/// Minute of an empty bucket.
const EMPTY: u64 = u64::MAX;

/// The entry has been answered since it entered its queue.
const ANSWERED: u8 = 1;
/// A callback retry happened: the next `ContactQueued` is the same entry.
const RETRY: u8 = 2;
/// The entry is a callback.
const CALLBACK: u8 = 4;

/// What the window remembers of a live contact.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
struct Entry {
    /// Queue of the current entry.
    queue: u32,
    /// `ANSWERED | RETRY | CALLBACK`.
    flags: u8,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Bucket {
    minute: u64,
    counts: QueueCounts,
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
struct Ring {
    seen: bool,
    buckets: Vec<Bucket>,
}

/// What a wallboard shows for a queue (or all queues): the counts of the
/// window and the figures derived from them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueWindowView {
    /// The queue; `None` for all queues together.
    pub queue: Option<QueueId>,
    /// Start of the window (start of its first minute).
    pub from: Time,
    /// End of the window (the `now` of the view).
    pub to: Time,
    /// Raw counts.
    #[serde(flatten)]
    pub counts: QueueCounts,
    /// Derived figures.
    #[serde(flatten)]
    pub figures: QueueFigures,
}

/// Sliding per-queue window of one-minute buckets (default 15 minutes).
///
/// ```
/// use engine::kpi::{KpiConfig, LiveWindow};
/// use engine::*;
/// let mut window = LiveWindow::new(KpiConfig::default());
/// let answered = Event::ContactAnswered {
///     contact: ContactId(1), queue: QueueId(2), agent: AgentId(3),
///     channel: Channel::Voice, wait_ms: 4_000,
/// };
/// window.apply(&EventRecord { v: SCHEMA_VERSION, seq: 1, at: Time(60_000), event: answered });
/// let views = window.view(Time(90_000));
/// assert_eq!(views[0].counts.answered_within, 1);
/// assert_eq!(views[0].figures.asa_seconds, Some(4.0));
/// ```
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct LiveWindow {
    config: KpiConfig,
    minutes: u64,
    queues: Vec<Ring>,
    /// Live contacts: queue of the current entry and flags.
    live: FastMap<u64, Entry>,
}

impl LiveWindow {
    /// An empty window.
    pub fn new(config: KpiConfig) -> Self {
        let minutes = config.window_ms.div_ceil(MINUTE_MS).max(1);
        LiveWindow { config, minutes, queues: Vec::new(), live: FastMap::default() }
    }

    /// The settings.
    pub fn config(&self) -> &KpiConfig {
        &self.config
    }

    /// Length of the window in minutes.
    pub fn minutes(&self) -> u64 {
        self.minutes
    }

    /// The counts of `queue` for the minute of `at`, or `None` if that
    /// minute has already left the ring.
    #[inline]
    fn bucket(&mut self, queue: QueueId, at: Time) -> Option<&mut QueueCounts> {
        let q = queue.0 as usize;
        if q >= self.queues.len() {
            self.queues.resize_with(q + 1, Ring::default);
        }
        let ring = &mut self.queues[q];
        ring.seen = true;
        if ring.buckets.is_empty() {
            ring.buckets = vec![Bucket { minute: EMPTY, counts: QueueCounts::default() }; self.minutes as usize];
        }
        let minute = at.0 / MINUTE_MS;
        let b = &mut ring.buckets[(minute % self.minutes) as usize];
        if b.minute != minute {
            if b.minute != EMPTY && b.minute > minute {
                return None;
            }
            b.minute = minute;
            b.counts = QueueCounts::default();
        }
        Some(&mut b.counts)
    }

    /// Whether a contact leaving `queue` without an agent was never queued
    /// there (refused by a full queue, or sent on at once because nobody is
    /// logged in): it then counts as offered, as in [`super::IntervalFold`].
    #[inline]
    fn never_queued(&self, contact: u64, queue: QueueId) -> bool {
        self.live.get(&contact).is_none_or(|e| e.queue != queue.0)
    }

    /// Take one event into account.
    pub fn apply(&mut self, rec: &EventRecord) {
        let at = rec.at;
        let threshold = self.config.sl_threshold_ms;
        match &rec.event {
            Event::ContactQueued { contact, queue, channel, .. } => {
                let callback = if *channel == Channel::Callback { CALLBACK } else { 0 };
                let e = self.live.entry(contact.0).or_insert(Entry { queue: queue.0, flags: 0 });
                if e.flags & RETRY != 0 && e.queue == queue.0 {
                    e.flags = (e.flags & !RETRY) | callback;
                    return;
                }
                *e = Entry { queue: queue.0, flags: callback };
                if let Some(c) = self.bucket(*queue, at) {
                    c.offered += 1;
                }
            }
            Event::ContactAnswered { contact, queue, channel, wait_ms, .. } => {
                let e = self.live.entry(contact.0).or_insert(Entry { queue: queue.0, flags: 0 });
                if e.flags & ANSWERED != 0 {
                    return;
                }
                e.flags |= ANSWERED;
                let callback = e.flags & CALLBACK != 0 || *channel == Channel::Callback;
                if let Some(c) = self.bucket(*queue, at) {
                    c.answer(*wait_ms, threshold, callback);
                }
            }
            Event::ContactAbandoned { queue, wait_ms, .. } => {
                let short = self.config.short_abandon_ms;
                if let Some(c) = self.bucket(*queue, at) {
                    c.abandon(*wait_ms, threshold, short);
                }
            }
            Event::ContactExited { contact, queue, action, .. } => {
                let never_queued = self.never_queued(contact.0, *queue);
                if let Some(c) = self.bucket(*queue, at) {
                    c.offered += u64::from(never_queued);
                    match action {
                        ExitAction::Overflow { .. } => c.exited_to_overflow += 1,
                        ExitAction::Callback => c.exited_to_callback += 1,
                        ExitAction::Disconnect | ExitAction::Voicemail => c.exited += 1,
                    }
                }
            }
            Event::ContactOverflowed { contact, from, to, .. } => {
                let never_queued = self.never_queued(contact.0, *from);
                if let Some(c) = self.bucket(*from, at) {
                    c.offered += u64::from(never_queued);
                    c.overflowed_out += 1;
                }
                if let Some(c) = self.bucket(*to, at) {
                    c.overflowed_in += 1;
                }
            }
            Event::ContactTransferred { queue, talk_ms, hold_ms, .. } => {
                if let Some(c) = self.bucket(*queue, at) {
                    c.segment(*talk_ms, *hold_ms, true);
                }
            }
            Event::CallbackRequested { contact, queue, .. } => {
                if let Some(e) = self.live.get_mut(&contact.0) {
                    e.flags |= CALLBACK;
                }
                if let Some(c) = self.bucket(*queue, at) {
                    c.callbacks_requested += 1;
                }
            }
            Event::CallbackAttemptFailed { queue, .. } => {
                if let Some(c) = self.bucket(*queue, at) {
                    c.callback_attempts_failed += 1;
                }
            }
            Event::CallbackRetry { contact, queue } => {
                self.live.entry(contact.0).or_insert(Entry { queue: queue.0, flags: CALLBACK }).flags |= RETRY;
            }
            Event::ContactEnded { contact, queue, outcome, talk_ms, hold_ms, .. } => {
                self.live.remove(&contact.0);
                match outcome {
                    Outcome::Handled => {
                        if let Some(c) = self.bucket(*queue, at) {
                            c.segment(*talk_ms, *hold_ms, false);
                        }
                    }
                    Outcome::CallbackFailed => {
                        if let Some(c) = self.bucket(*queue, at) {
                            c.callbacks_failed += 1;
                        }
                    }
                    Outcome::Abandoned | Outcome::Exited => {}
                }
            }
            Event::WrapUpEnded { queue, wrap_ms, .. } => {
                if let Some(c) = self.bucket(*queue, at) {
                    c.wrap_ms += wrap_ms;
                }
            }
            _ => {}
        }
    }

    /// First minute in the window ending at `now`.
    fn first_minute(&self, now: Time) -> u64 {
        (now.0 / MINUTE_MS + 1).saturating_sub(self.minutes)
    }

    fn sum(&self, ring: &Ring, now: Time, into: &mut QueueCounts) {
        let (first, last) = (self.first_minute(now), now.0 / MINUTE_MS);
        for b in &ring.buckets {
            if b.minute != EMPTY && b.minute >= first && b.minute <= last {
                into.add(&b.counts);
            }
        }
    }

    fn make_view(&self, queue: Option<QueueId>, now: Time, counts: QueueCounts) -> QueueWindowView {
        let figures = QueueFigures::of(&counts);
        QueueWindowView { queue, from: Time(self.first_minute(now) * MINUTE_MS), to: now, counts, figures }
    }

    /// The window ending at `now` (the current, partial minute and the
    /// whole minutes before it), for every queue seen, by queue id.
    pub fn view(&self, now: Time) -> Vec<QueueWindowView> {
        let mut views = Vec::new();
        for (id, ring) in self.queues.iter().enumerate().filter(|(_, r)| r.seen) {
            let mut counts = QueueCounts::default();
            self.sum(ring, now, &mut counts);
            views.push(self.make_view(Some(QueueId(id as u32)), now, counts));
        }
        views
    }

    /// The window ending at `now`, all queues together.
    pub fn view_all(&self, now: Time) -> QueueWindowView {
        let mut counts = QueueCounts::default();
        for ring in self.queues.iter().filter(|r| r.seen) {
            self.sum(ring, now, &mut counts);
        }
        self.make_view(None, now, counts)
    }
}

impl Fold for LiveWindow {
    fn apply(&mut self, rec: &EventRecord) {
        LiveWindow::apply(self, rec);
    }

    /// Nothing to close: the window has no spans.
    fn finish(&mut self, _at: Time) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentId, ContactId, SCHEMA_VERSION};

    struct Feed {
        w: LiveWindow,
        seq: u64,
    }

    impl Feed {
        fn new() -> Self {
            Feed { w: LiveWindow::new(KpiConfig::default()), seq: 0 }
        }
        fn ev(&mut self, at_ms: u64, event: Event) {
            self.seq += 1;
            self.w.apply(&EventRecord { v: SCHEMA_VERSION, seq: self.seq, at: Time(at_ms), event });
        }
        fn queued(&mut self, at_ms: u64, c: u64, q: u32) {
            self.ev(
                at_ms,
                Event::ContactQueued {
                    contact: ContactId(c),
                    queue: QueueId(q),
                    priority: 0,
                    waiting_since: Time(at_ms),
                    channel: Channel::Voice,
                },
            );
        }
        fn answered(&mut self, at_ms: u64, c: u64, q: u32, wait_ms: u64) {
            self.ev(
                at_ms,
                Event::ContactAnswered {
                    contact: ContactId(c),
                    queue: QueueId(q),
                    agent: AgentId(1),
                    channel: Channel::Voice,
                    wait_ms,
                },
            );
        }
    }

    const MIN: u64 = 60_000;

    #[test]
    fn window_drops_old_minutes() {
        let mut f = Feed::new();
        // One contact per minute, minutes 0..20, each answered 10 s later
        // (waits 0..19 s: all within 20 s).
        for m in 0..20u64 {
            f.queued(m * MIN, m, 1);
            f.answered(m * MIN + 10_000, m, 1, m * 1000);
        }
        let v = f.w.view(Time(19 * MIN + 30_000));
        assert_eq!(v.len(), 1);
        // Window of 15 minutes ending in minute 19: minutes 5..=19.
        assert_eq!(v[0].from, Time(5 * MIN));
        assert_eq!(v[0].counts.offered, 15);
        assert_eq!(v[0].counts.answered, 15);
        assert_eq!(v[0].counts.wait_answered_ms, (5..20u64).map(|m| m * 1000).sum::<u64>());
        assert_eq!(v[0].figures.asa_seconds, Some(12.0));
        assert_eq!(v[0].figures.sl.service_level, Some(1.0));
        // Five minutes later with no traffic: minutes 10..=24 hold 10 contacts.
        let v = f.w.view(Time(24 * MIN));
        assert_eq!(v[0].counts.offered, 10);
        // Long after: nothing left, figures undefined.
        let v = f.w.view(Time(60 * MIN));
        assert_eq!(v[0].counts.offered, 0);
        assert_eq!(v[0].figures.sl.service_level, None);
    }

    #[test]
    fn reused_bucket_is_reset_and_stale_events_dropped() {
        let mut f = Feed::new();
        f.queued(2 * MIN, 1, 1);
        // Minute 17 shares minute 2's bucket in a 15-minute ring.
        f.queued(17 * MIN, 2, 1);
        assert_eq!(f.w.view(Time(17 * MIN)).first().map(|v| v.counts.offered), Some(1));
        // A late event for minute 2 must not land in minute 17's bucket.
        f.queued(2 * MIN + 5, 3, 1);
        assert_eq!(f.w.view(Time(17 * MIN)).first().map(|v| v.counts.offered), Some(1));
    }

    #[test]
    fn retry_and_second_answer_not_double_counted_and_queues_apart() {
        let mut f = Feed::new();
        f.queued(0, 1, 1);
        f.ev(1_000, Event::CallbackRetry { contact: ContactId(1), queue: QueueId(1) });
        f.queued(1_000, 1, 1);
        f.answered(2_000, 1, 1, 30_000);
        // A direct transfer to an agent answers again: not a new answer.
        f.answered(3_000, 1, 1, 0);
        f.queued(4_000, 2, 2);
        f.ev(
            30_000,
            Event::ContactAbandoned { contact: ContactId(2), queue: QueueId(2), wait_ms: 26_000, while_offered: false },
        );
        let v = f.w.view(Time(MIN));
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].queue, v[0].counts.offered, v[0].counts.answered), (Some(QueueId(1)), 1, 1));
        assert_eq!(v[0].counts.answered_within, 0);
        assert_eq!((v[1].queue, v[1].counts.offered, v[1].counts.abandoned), (Some(QueueId(2)), 1, 1));
        let all = f.w.view_all(Time(MIN));
        assert_eq!(all.queue, None);
        assert_eq!(all.counts.offered, 2);
        assert_eq!(all.figures.sl.service_level, Some(0.0));
        assert_eq!(all.figures.abandon_rate, Some(0.5));
        assert_eq!(all.figures.mean_wait_all_seconds, Some(28.0));
    }

    #[test]
    fn window_rounds_up_to_minutes() {
        let w = LiveWindow::new(KpiConfig { window_ms: 90_000, ..Default::default() });
        assert_eq!(w.minutes(), 2);
        let w = LiveWindow::new(KpiConfig { window_ms: 0, ..Default::default() });
        assert_eq!(w.minutes(), 1);
    }
}
