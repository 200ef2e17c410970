use super::*;
use crate::kpi::{AgentRow, KpiReport, QueueIntervalRow, QueueRow, render_text, wait_bucket};
use crate::{
    AgentConfig, ContactId, DialOutcome, ExitReason, OverflowReason, Party, QueueConfig, SCHEMA_VERSION, TransferTarget,
};

const MIN: u64 = 60_000;
const S: u64 = 1_000;

struct Feed {
    fold: IntervalFold,
    seq: u64,
}

impl Feed {
    fn new() -> Self {
        Feed { fold: IntervalFold::new(KpiConfig::default()), seq: 0 }
    }

    fn ev(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.fold.apply(&EventRecord { v: SCHEMA_VERSION, seq: self.seq, at: Time(at), event });
    }

    fn queued_as(&mut self, at: u64, c: u64, q: u32, channel: Channel) {
        self.ev(
            at,
            Event::ContactQueued {
                contact: ContactId(c),
                queue: QueueId(q),
                priority: 0,
                waiting_since: Time(at),
                channel,
            },
        );
    }

    fn queued(&mut self, at: u64, c: u64, q: u32) {
        self.queued_as(at, c, q, Channel::Voice);
    }

    fn offered(&mut self, at: u64, c: u64, q: u32, a: u32) {
        self.ev(
            at,
            Event::ContactOffered {
                contact: ContactId(c),
                queue: QueueId(q),
                agent: AgentId(a),
                channel: Channel::Voice,
                deadline: Time(at + 15 * S),
            },
        );
    }

    fn answered_as(&mut self, at: u64, c: u64, q: u32, a: u32, wait_ms: u64, channel: Channel) {
        self.ev(
            at,
            Event::ContactAnswered { contact: ContactId(c), queue: QueueId(q), agent: AgentId(a), channel, wait_ms },
        );
    }

    fn answered(&mut self, at: u64, c: u64, q: u32, a: u32, wait_ms: u64) {
        self.answered_as(at, c, q, a, wait_ms, Channel::Voice);
    }

    fn abandoned(&mut self, at: u64, c: u64, q: u32, wait_ms: u64) {
        self.ev(
            at,
            Event::ContactAbandoned { contact: ContactId(c), queue: QueueId(q), wait_ms, while_offered: false },
        );
        self.ended(at, c, q, Outcome::Abandoned, None, 0, 0);
    }

    #[allow(clippy::too_many_arguments)]
    fn ended(&mut self, at: u64, c: u64, q: u32, outcome: Outcome, agent: Option<u32>, talk_ms: u64, hold_ms: u64) {
        self.ev(
            at,
            Event::ContactEnded {
                contact: ContactId(c),
                queue: QueueId(q),
                outcome,
                agent: agent.map(AgentId),
                by: agent.map(|_| Party::Customer),
                talk_ms,
                hold_ms,
            },
        );
    }

    fn handled(&mut self, at: u64, c: u64, q: u32, a: u32, talk_ms: u64) {
        self.ended(at, c, q, Outcome::Handled, Some(a), talk_ms, 0);
    }

    fn wrap_started(&mut self, at: u64, c: u64, q: u32, a: u32) {
        self.ev(
            at,
            Event::WrapUpStarted {
                contact: ContactId(c),
                queue: QueueId(q),
                agent: AgentId(a),
                channel: Channel::Voice,
                deadline: Time(at + MIN),
            },
        );
    }

    fn wrap_ended(&mut self, at: u64, c: u64, q: u32, a: u32, wrap_ms: u64) {
        self.ev(at, Event::WrapUpEnded { contact: ContactId(c), queue: QueueId(q), agent: AgentId(a), wrap_ms });
    }

    fn state(&mut self, at: u64, a: u32, from: AgentState, to: AgentState, in_state_ms: u64) {
        self.ev(at, Event::AgentStateChanged { agent: AgentId(a), from, to, reason: None, in_state_ms });
    }

    fn exited(&mut self, at: u64, c: u64, q: u32, action: ExitAction, wait_ms: u64) {
        self.ev(
            at,
            Event::ContactExited {
                contact: ContactId(c),
                queue: QueueId(q),
                reason: ExitReason::MaxWait,
                action,
                wait_ms,
            },
        );
    }

    fn overflowed(&mut self, at: u64, c: u64, from: u32, to: u32, wait_ms: u64) {
        self.ev(
            at,
            Event::ContactOverflowed {
                contact: ContactId(c),
                from: QueueId(from),
                to: QueueId(to),
                reason: OverflowReason::Timeout,
                wait_ms,
            },
        );
        self.queued(at, c, to);
    }

    fn report(&mut self, finish_at: u64) -> KpiReport {
        self.fold.finish(Time(finish_at));
        self.fold.report()
    }
}

fn queue(r: &KpiReport, q: u32) -> &QueueRow {
    r.queues.iter().find(|row| row.queue == Some(QueueId(q))).expect("queue row")
}

fn interval(r: &KpiReport, q: u32, i: u64) -> &QueueIntervalRow {
    r.intervals.iter().find(|row| row.queue == QueueId(q) && row.interval == i).expect("interval row")
}

fn agent(r: &KpiReport, a: u32) -> &AgentRow {
    r.agents.iter().find(|row| row.agent == Some(AgentId(a))).expect("agent row")
}

fn agent_interval(r: &KpiReport, a: u32, i: u64) -> &AgentCounts {
    &r.agent_intervals.iter().find(|row| row.agent == AgentId(a) && row.interval == i).expect("agent interval").counts
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn answered_within_and_beyond_threshold() {
    let mut f = Feed::new();
    for c in 1..=3 {
        f.queued(0, c, 1);
    }
    f.offered(9 * S, 1, 1, 1);
    f.answered(10 * S, 1, 1, 1, 10 * S);
    f.answered(20 * S, 3, 1, 3, 20 * S); // exactly T: within
    f.answered(30 * S, 2, 1, 2, 30 * S);
    let r = f.report(MIN);
    let q = queue(&r, 1);
    assert_eq!(q.counts.offered, 3);
    assert_eq!(q.counts.answered, 3);
    assert_eq!(q.counts.answered_within, 2);
    assert_eq!(q.counts.wait_answered_ms, 60 * S);
    assert_eq!(q.counts.longest_wait_ms, 30 * S);
    assert!(close(q.figures.sl.service_level, 2.0 / 3.0));
    assert!(close(q.figures.sl.sl_answered, 2.0 / 3.0));
    assert_eq!(q.figures.asa_seconds, Some(20.0));
    assert_eq!(q.figures.longest_wait_seconds, 30.0);
    let mut hist = [0u64; crate::kpi::WAIT_BUCKETS];
    hist[wait_bucket(10 * S)] += 1;
    hist[wait_bucket(20 * S)] += 1;
    hist[wait_bucket(30 * S)] += 1;
    assert_eq!(q.counts.answered_waits, hist);
    assert_eq!(hist[2] + hist[4] + hist[5], 3);
    assert_eq!(agent(&r, 1).counts.offers, 1);
    assert_eq!(agent(&r, 1).counts.answered, 1);
    assert_eq!(r.totals.counts.answered, 3);
}

#[test]
fn abandons_short_and_long() {
    let mut f = Feed::new();
    for c in 1..=4 {
        f.queued(0, c, 1);
    }
    f.abandoned(3 * S, 1, 1, 3 * S); // short, within T
    f.abandoned(25 * S, 2, 1, 25 * S); // long, beyond T
    f.abandoned(10 * S, 4, 1, 10 * S); // within T, not short
    f.answered(5 * S, 3, 1, 1, 5 * S);
    f.handled(65 * S, 3, 1, 1, 60 * S);
    let r = f.report(2 * MIN);
    let c = &queue(&r, 1).counts;
    assert_eq!((c.offered, c.answered, c.answered_within), (4, 1, 1));
    assert_eq!((c.abandoned, c.abandoned_within, c.short_abandons), (3, 2, 1));
    assert_eq!(c.wait_abandoned_ms, 38 * S);
    assert_eq!(c.longest_wait_ms, 25 * S);
    assert_eq!(c.abandoned_waits[wait_bucket(3 * S)], 1);
    assert_eq!(c.abandoned_waits[wait_bucket(25 * S)], 1);
    let fig = &queue(&r, 1).figures;
    assert!(close(fig.sl.service_level, 1.0 / 4.0));
    assert!(close(fig.sl.sl_answered, 1.0));
    assert!(close(fig.sl.sl_abandons_positive, 3.0 / 4.0));
    assert!(close(fig.sl.sl_abandons_ignored, 1.0 / 2.0));
    assert!(close(fig.sl.sl_short_abandons_excluded, 1.0 / 3.0));
    assert!(close(fig.abandon_rate, 3.0 / 4.0));
    assert!(close(fig.mean_wait_all_seconds, 43.0 / 4.0));
    assert!(close(fig.asa_seconds, 5.0));
    assert_eq!(f.fold.live_contacts(), 0);
}

#[test]
fn exits_count_in_offered_denominator_unless_they_move_on() {
    let mut f = Feed::new();
    for c in 1..=3 {
        f.queued(0, c, 1);
    }
    f.exited(60 * S, 1, 1, ExitAction::Disconnect, 60 * S);
    f.ended(60 * S, 1, 1, Outcome::Exited, None, 0, 0);
    f.answered(S, 2, 1, 1, S);
    // An exit whose action is an overflow: the contact goes on in queue 2.
    f.exited(60 * S, 3, 1, ExitAction::Overflow { queue: QueueId(2) }, 60 * S);
    f.overflowed(60 * S, 3, 1, 2, 60 * S);
    let r = f.report(2 * MIN);
    let q1 = queue(&r, 1);
    assert_eq!((q1.counts.exited, q1.counts.exited_to_overflow, q1.counts.overflowed_out), (1, 1, 1));
    // a_t / (a + b + x) = 1 / (1 + 0 + 1): the overflowed contact is not in it.
    assert_eq!(q1.figures.sl.service_level, Some(0.5));
    assert_eq!(q1.figures.sl.sl_answered, Some(1.0));
    assert_eq!(q1.figures.abandon_rate, Some(0.0));
    assert_eq!(queue(&r, 2).counts.offered, 1);
    assert_eq!(queue(&r, 2).counts.overflowed_in, 1);
}

#[test]
fn overflow_counts_outcome_in_target_queue() {
    let mut f = Feed::new();
    f.queued(0, 1, 1);
    f.overflowed(60 * S, 1, 1, 2, 60 * S);
    f.answered(65 * S, 1, 2, 7, 5 * S);
    f.handled(165 * S, 1, 2, 7, 100 * S);
    let r = f.report(5 * MIN);
    let q1 = queue(&r, 1);
    assert_eq!((q1.counts.offered, q1.counts.overflowed_out, q1.counts.answered), (1, 1, 0));
    assert_eq!(q1.counts.handled, 0);
    assert_eq!(q1.figures.sl.service_level, None);
    assert_eq!(q1.figures.abandon_rate, None);
    let q2 = queue(&r, 2);
    assert_eq!(
        (q2.counts.offered, q2.counts.overflowed_in, q2.counts.answered, q2.counts.answered_within),
        (1, 1, 1, 1)
    );
    assert_eq!(q2.figures.sl.service_level, Some(1.0));
    assert_eq!(q2.figures.aht_seconds, Some(100.0));
    assert_eq!(r.totals.counts.offered, 2);
    assert_eq!(r.totals.counts.answered, 1);
    assert_eq!(f.fold.live_contacts(), 0);
}

#[test]
fn callback_retry_is_not_a_new_offer() {
    let mut f = Feed::new();
    let q = QueueId(1);
    // Contact 1: asks for a callback, first attempt fails, the retry (in
    // the next interval) connects.
    f.queued(0, 1, 1);
    f.ev(30 * S, Event::CallbackRequested { contact: ContactId(1), queue: q, number: "555".into(), wait_ms: 30 * S });
    f.ev(
        100 * S,
        Event::CallbackDialled { contact: ContactId(1), queue: q, agent: AgentId(1), attempt: 1, number: "555".into() },
    );
    f.ev(
        110 * S,
        Event::CallbackAttemptFailed {
            contact: ContactId(1),
            queue: q,
            agent: AgentId(1),
            attempt: 1,
            outcome: DialOutcome::NoAnswer,
            retry_at: Some(Time(1_000 * S)),
        },
    );
    f.ev(1_000 * S, Event::CallbackRetry { contact: ContactId(1), queue: q });
    f.queued_as(1_000 * S, 1, 1, Channel::Callback);
    f.answered_as(1_010 * S, 1, 1, 1, 1_010 * S, Channel::Callback);
    f.handled(1_070 * S, 1, 1, 1, 60 * S);
    // Contact 2: asks for a callback that fails for good.
    f.queued(0, 2, 1);
    f.ev(40 * S, Event::CallbackRequested { contact: ContactId(2), queue: q, number: "556".into(), wait_ms: 40 * S });
    f.ev(
        200 * S,
        Event::CallbackAttemptFailed {
            contact: ContactId(2),
            queue: q,
            agent: AgentId(2),
            attempt: 1,
            outcome: DialOutcome::Busy,
            retry_at: None,
        },
    );
    f.ended(200 * S, 2, 1, Outcome::CallbackFailed, None, 0, 0);
    let r = f.report(30 * MIN);
    let c = &queue(&r, 1).counts;
    assert_eq!(c.offered, 2);
    assert_eq!((c.callbacks_requested, c.callbacks_answered, c.callbacks_failed), (2, 1, 1));
    assert_eq!(c.callback_attempts_failed, 2);
    assert_eq!((c.answered, c.answered_within), (1, 0));
    // The failed callback is in no denominator: 0 within / 1 answered.
    assert_eq!(queue(&r, 1).figures.sl.service_level, Some(0.0));
    assert_eq!(queue(&r, 1).figures.abandon_rate, Some(0.0));
    // Outcomes go to the entry interval, handling to the answer's interval.
    let i0 = interval(&r, 1, 0);
    assert_eq!((i0.counts.offered, i0.counts.answered, i0.counts.callbacks_answered), (2, 1, 1));
    assert_eq!(i0.counts.handled, 0);
    let i1 = interval(&r, 1, 1);
    assert_eq!((i1.counts.offered, i1.counts.answered, i1.counts.handled), (0, 0, 1));
    assert_eq!(i1.counts.talk_ms, 60 * S);
    assert_eq!(f.fold.live_contacts(), 0);
}

#[test]
fn transfer_splits_handle_time_between_agents() {
    let mut f = Feed::new();
    f.queued(0, 1, 1);
    f.answered(10 * S, 1, 1, 1, 10 * S);
    f.ev(
        70 * S,
        Event::ContactTransferred {
            contact: ContactId(1),
            queue: QueueId(1),
            agent: AgentId(1),
            to: TransferTarget::Queue(QueueId(2)),
            talk_ms: 50 * S,
            hold_ms: 10 * S,
        },
    );
    f.queued(70 * S, 1, 2);
    f.answered(80 * S, 1, 2, 2, 10 * S);
    f.handled(180 * S, 1, 2, 2, 100 * S);
    f.wrap_started(180 * S, 1, 2, 2);
    f.wrap_ended(210 * S, 1, 2, 2, 30 * S);
    let r = f.report(5 * MIN);

    let a1 = agent(&r, 1);
    assert_eq!((a1.counts.handled, a1.counts.talk_ms, a1.counts.hold_ms), (1, 50 * S, 10 * S));
    assert_eq!((a1.counts.transfers, a1.counts.wrap_ms), (1, 0));
    assert_eq!(a1.figures.aht_seconds, Some(60.0));
    let a2 = agent(&r, 2);
    assert_eq!((a2.counts.handled, a2.counts.talk_ms, a2.counts.wrap_ms), (1, 100 * S, 30 * S));
    assert_eq!(a2.figures.aht_seconds, Some(130.0));

    let q1 = queue(&r, 1);
    assert_eq!((q1.counts.offered, q1.counts.answered, q1.counts.transfers_out, q1.counts.handled), (1, 1, 1, 1));
    assert_eq!(q1.figures.aht_seconds, Some(60.0));
    let q2 = queue(&r, 2);
    assert_eq!((q2.counts.offered, q2.counts.answered, q2.counts.handled), (1, 1, 1));
    assert_eq!(q2.figures.aht_seconds, Some(130.0));
    assert_eq!(r.totals.counts.handled, 2);
    assert_eq!(r.totals.figures.aht_seconds, Some(95.0));
    assert_eq!(r.agent_totals.figures.aht_seconds, Some(95.0));
}

#[test]
fn direct_transfer_to_agent_is_not_a_second_answer() {
    let mut f = Feed::new();
    f.queued(0, 1, 1);
    f.answered(5 * S, 1, 1, 1, 5 * S);
    f.ev(
        25 * S,
        Event::ContactTransferred {
            contact: ContactId(1),
            queue: QueueId(1),
            agent: AgentId(1),
            to: TransferTarget::Agent(AgentId(3)),
            talk_ms: 20 * S,
            hold_ms: 0,
        },
    );
    f.answered(26 * S, 1, 1, 3, 0);
    f.handled(66 * S, 1, 1, 3, 40 * S);
    let r = f.report(2 * MIN);
    let q = queue(&r, 1);
    assert_eq!((q.counts.offered, q.counts.answered, q.counts.handled, q.counts.transfers_out), (1, 1, 2, 1));
    assert_eq!(q.counts.talk_ms, 60 * S);
    assert_eq!(q.figures.sl.service_level, Some(1.0));
    assert_eq!((agent(&r, 1).counts.handled, agent(&r, 1).counts.talk_ms), (1, 20 * S));
    assert_eq!(
        (agent(&r, 3).counts.answered, agent(&r, 3).counts.handled, agent(&r, 3).counts.talk_ms),
        (1, 1, 40 * S)
    );
}

#[test]
fn wrap_up_counts_in_aht_at_the_answer_interval() {
    let mut f = Feed::new();
    // Contact 1: answered at 14:50, ended at 15:30, wrap-up ends 16:00.
    f.queued(840 * S, 1, 1);
    f.answered(890 * S, 1, 1, 1, 50 * S);
    f.handled(930 * S, 1, 1, 1, 40 * S);
    f.wrap_started(930 * S, 1, 1, 1);
    f.wrap_ended(960 * S, 1, 1, 1, 30 * S);
    // Contact 2: the wrap-up starts before the contact-ended event.
    f.queued(880 * S, 2, 1);
    f.answered(895 * S, 2, 1, 2, 15 * S);
    f.wrap_started(1_000 * S, 2, 1, 2);
    f.handled(1_000 * S, 2, 1, 2, 105 * S);
    f.wrap_ended(1_020 * S, 2, 1, 2, 20 * S);
    // Contact 3: no wrap-up; the agent's next contact (answered in interval
    // 1) has one, which must not go to contact 3's interval.
    f.queued(100 * S, 3, 1);
    f.answered(100 * S, 3, 1, 3, 0);
    f.handled(200 * S, 3, 1, 3, 100 * S);
    f.queued(950 * S, 4, 1);
    f.answered(950 * S, 4, 1, 3, 0);
    f.handled(1_050 * S, 4, 1, 3, 100 * S);
    f.wrap_started(1_050 * S, 4, 1, 3);
    f.wrap_ended(1_060 * S, 4, 1, 3, 10 * S);
    let r = f.report(30 * MIN);

    let i0 = interval(&r, 1, 0);
    assert_eq!((i0.counts.handled, i0.counts.talk_ms, i0.counts.wrap_ms), (3, 245 * S, 50 * S));
    assert_eq!(i0.figures.aht_seconds, Some(295.0 / 3.0));
    let i1 = interval(&r, 1, 1);
    assert_eq!((i1.counts.handled, i1.counts.talk_ms, i1.counts.wrap_ms), (1, 100 * S, 10 * S));
    assert_eq!(i1.figures.aht_seconds, Some(110.0));
    assert_eq!(agent_interval(&r, 1, 0).wrap_ms, 30 * S);
    assert_eq!(agent_interval(&r, 1, 1).wrap_ms, 0);
    assert_eq!(agent_interval(&r, 2, 0).wrap_ms, 20 * S);
    assert_eq!((agent_interval(&r, 3, 0).wrap_ms, agent_interval(&r, 3, 1).wrap_ms), (0, 10 * S));
    assert_eq!(agent(&r, 2).figures.aht_seconds, Some(125.0));
    assert_eq!(f.fold.live_contacts(), 0);
}

#[test]
fn outcomes_go_to_the_interval_of_entry() {
    let mut f = Feed::new();
    f.queued(899 * S, 1, 1);
    f.queued(899 * S + 500, 2, 1);
    f.offered(905 * S, 1, 1, 1);
    f.abandoned(905 * S, 2, 1, 5_500);
    f.answered(910 * S, 1, 1, 1, 11 * S);
    f.queued(901 * S, 3, 1);
    f.answered(902 * S, 3, 1, 1, S);
    let r = f.report(20 * MIN);
    let i0 = interval(&r, 1, 0);
    assert_eq!((i0.counts.offered, i0.counts.answered, i0.counts.abandoned), (2, 1, 1));
    assert_eq!(i0.figures.sl.service_level, Some(0.5));
    let i1 = interval(&r, 1, 1);
    assert_eq!((i1.counts.offered, i1.counts.answered, i1.counts.abandoned), (1, 1, 0));
    // The agent's own counters go where they happened.
    assert_eq!(agent_interval(&r, 1, 0).answered, 0);
    assert_eq!(agent_interval(&r, 1, 1).answered, 2);
    assert_eq!(agent_interval(&r, 1, 1).offers, 1);
}

#[test]
fn agent_state_spans_split_at_interval_boundaries() {
    use AgentState::*;
    let mut f = Feed::new();
    f.ev(0, Event::QueueConfigured { queue: Box::new(QueueConfig::new(QueueId(1), "support")) });
    // Agent 1.
    f.state(10 * MIN, 1, Offline, NotReady, 10 * MIN);
    f.state(12 * MIN, 1, NotReady, Ready, 2 * MIN);
    f.state(20 * MIN, 1, Ready, Reserved, 8 * MIN);
    f.state(20 * MIN + 10 * S, 1, Reserved, Busy, 10 * S);
    f.state(25 * MIN, 1, Busy, WrapUp, 290 * S);
    f.state(26 * MIN, 1, WrapUp, Ready, MIN);
    // Agent 2: a ready span across two boundaries.
    f.state(5 * MIN, 2, Offline, Ready, 5 * MIN);
    f.state(35 * MIN, 2, Ready, Offline, 30 * MIN);
    // Agent 3: back-fill is clamped to the fold's first event.
    f.state(10 * MIN, 3, Offline, Ready, 10 * 60 * MIN);
    let r = f.report(40 * MIN);

    let a = agent_interval(&r, 1, 0).state_ms;
    assert_eq!((a.offline, a.not_ready, a.ready, a.busy), (10 * MIN, 2 * MIN, 3 * MIN, 0));
    let a = agent_interval(&r, 1, 1).state_ms;
    assert_eq!((a.ready, a.reserved, a.busy, a.wrap_up), (9 * MIN, 10 * S, 290 * S, MIN));
    assert_eq!((a.offline, a.not_ready, a.on_hold), (0, 0, 0));
    let a = agent_interval(&r, 1, 2).state_ms;
    assert_eq!(a.ready, 10 * MIN);
    assert_eq!(agent(&r, 1).counts.state_ms.logged_in(), 30 * MIN);
    assert_eq!(agent(&r, 1).counts.state_ms.offline, 10 * MIN);

    let ready: Vec<u64> = (0..3).map(|i| agent_interval(&r, 2, i).state_ms.ready).collect();
    assert_eq!(ready, vec![10 * MIN, 15 * MIN, 5 * MIN]);
    let offline: Vec<u64> = (0..3).map(|i| agent_interval(&r, 2, i).state_ms.offline).collect();
    assert_eq!(offline, vec![5 * MIN, 0, 5 * MIN]);

    assert_eq!(agent_interval(&r, 3, 0).state_ms.offline, 10 * MIN);
    assert_eq!(agent(&r, 3).counts.state_ms.ready, 30 * MIN);
    // Every agent's interval times add up to the whole interval.
    for row in &r.agent_intervals {
        let t = row.counts.state_ms;
        assert_eq!(t.logged_in() + t.offline, if row.interval < 2 { 15 * MIN } else { 10 * MIN }, "{row:?}");
    }
    // A report after a later finish goes on from the previous one.
    f.fold.finish(Time(45 * MIN));
    let r = f.fold.report();
    assert_eq!(agent_interval(&r, 1, 2).state_ms.ready, 15 * MIN);
}

#[test]
fn occupancy_and_utilisation() {
    use AgentState::*;
    let mut f = Feed::new();
    let steps = [
        (Offline, Ready, 15),
        (Ready, Reserved, 5),
        (Reserved, Busy, 30),
        (Busy, OnHold, 5),
        (OnHold, WrapUp, 5),
        (WrapUp, NotReady, 20),
        (NotReady, Offline, 10),
    ];
    let mut t = 0;
    let mut prev = 0;
    for (from, to, minutes) in steps {
        f.state(t, 1, from, to, t - prev);
        prev = t;
        t += minutes * MIN;
    }
    // Agent 2: ready the whole hour and a half, never busy.
    f.state(0, 2, Offline, Ready, 0);
    let r = f.report(90 * MIN);
    let a1 = agent(&r, 1);
    let st = a1.counts.state_ms;
    assert_eq!(
        (st.ready, st.reserved, st.busy, st.on_hold, st.wrap_up, st.not_ready),
        (15 * MIN, 5 * MIN, 30 * MIN, 5 * MIN, 5 * MIN, 20 * MIN)
    );
    assert_eq!(st.offline, 10 * MIN);
    assert!(close(a1.figures.occupancy, 40.0 / 60.0));
    assert!(close(a1.figures.utilisation, 40.0 / 80.0));
    assert_eq!(a1.figures.logged_in_seconds, 80.0 * 60.0);
    assert_eq!(a1.figures.state_seconds.busy, 30.0 * 60.0);
    let a2 = agent(&r, 2);
    assert_eq!(a2.figures.occupancy, Some(0.0));
    assert_eq!(a2.figures.utilisation, Some(0.0));
    // Overall: sums over agents.
    assert!(close(r.agent_totals.figures.occupancy, 40.0 / 150.0));
    assert!(close(r.agent_totals.figures.utilisation, 40.0 / 170.0));
    // Per interval: interval 2 (30–45 min) is all busy for agent 1.
    let i2 = r.agent_intervals.iter().find(|row| row.agent == AgentId(1) && row.interval == 2).expect("row");
    assert_eq!(i2.figures.occupancy, Some(1.0));
    // Interval 5 (75–90 min): 5 min not ready then offline: no available
    // time (occupancy undefined), 0 % utilised.
    let i5 = r.agent_intervals.iter().find(|row| row.agent == AgentId(1) && row.interval == 5).expect("row");
    assert_eq!(i5.figures.occupancy, None);
    assert_eq!(i5.figures.utilisation, Some(0.0));
    // Interval 6 (90–105 min) after the end: nothing at all.
    let i6 = r.agent_intervals.iter().find(|row| row.agent == AgentId(1) && row.interval == 6).expect("row");
    assert_eq!(i6.figures.utilisation, None);
}

#[test]
fn configured_agent_starts_offline_and_removed_agent_stops() {
    let mut f = Feed::new();
    f.ev(0, Event::AgentConfigured { agent: Box::new(AgentConfig::new(AgentId(4), "Ana", &[QueueId(1)])) });
    f.state(5 * MIN, 4, AgentState::Offline, AgentState::Ready, 5 * MIN);
    f.state(10 * MIN, 4, AgentState::Ready, AgentState::Offline, 5 * MIN);
    f.ev(11 * MIN, Event::AgentRemoved { agent: AgentId(4) });
    let r = f.report(15 * MIN);
    let a = agent(&r, 4);
    assert_eq!(a.name.as_deref(), Some("Ana"));
    assert_eq!((a.counts.state_ms.offline, a.counts.state_ms.ready), (6 * MIN, 5 * MIN));
}

#[test]
fn report_rows_are_sorted_and_serialise() {
    let mut f = Feed::new();
    f.ev(0, Event::QueueConfigured { queue: Box::new(QueueConfig::new(QueueId(3), "sales")) });
    f.queued(20 * MIN, 1, 2);
    f.queued(MIN, 2, 1);
    f.answered(2 * MIN, 2, 1, 5, MIN);
    f.offered(20 * MIN, 1, 2, 2);
    f.state(MIN, 5, AgentState::Offline, AgentState::Ready, MIN);
    let r = f.report(40 * MIN);
    let ids: Vec<_> = r.queues.iter().map(|q| q.queue).collect();
    assert_eq!(ids, vec![Some(QueueId(1)), Some(QueueId(2)), Some(QueueId(3))]);
    assert_eq!(r.queues[2].name.as_deref(), Some("sales"));
    // Three intervals (0–15, 15–30, 30–45 min) for each queue, zeros included.
    let keys: Vec<_> = r.intervals.iter().map(|row| (row.queue.0, row.interval)).collect();
    assert_eq!(keys, vec![(1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2), (3, 0), (3, 1), (3, 2)]);
    assert_eq!(r.intervals[1].start, Time(15 * MIN));
    assert_eq!(r.intervals[1].end, Time(30 * MIN));
    assert_eq!((r.start, r.end), (Time(0), Time(45 * MIN)));
    let agents: Vec<_> = r.agents.iter().map(|a| a.agent).collect();
    assert_eq!(agents, vec![Some(AgentId(2)), Some(AgentId(5))]);
    assert_eq!(r.agent_intervals.len(), 6);
    assert_eq!(r.totals.counts.offered, 2);
    assert_eq!(r.totals.queue, None);

    let json = serde_json::to_string(&r).expect("serialise");
    let back: KpiReport = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back, r);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["totals"]["offered"], 2);
    assert_eq!(v["totals"]["service_level"], 0.0);
    assert!(v["queues"][2]["service_level"].is_null());
    assert_eq!(v["agents"][1]["state_ms"]["ready"], 39 * MIN);

    let text = render_text(&r);
    for needle in ["Queue intervals", "Queue totals", "all queues", "Agents", "all agents", "sales", "00:15-00:30"] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    assert!(text.find("queue#1").expect("q1") < text.find("queue#2").expect("q2"));
}

#[test]
fn answer_of_an_unseen_contact_counts_where_it_happens() {
    let mut f = Feed::new();
    f.answered(20 * MIN, 9, 1, 1, 5 * S);
    f.handled(21 * MIN, 9, 1, 1, MIN);
    let r = f.report(21 * MIN);
    let q = queue(&r, 1);
    assert_eq!((q.counts.offered, q.counts.answered, q.counts.handled), (0, 1, 1));
    assert_eq!(f.fold.live_contacts(), 0);
}

#[test]
fn empty_fold_reports_nothing() {
    let f = IntervalFold::new(KpiConfig::default());
    let r = f.report();
    assert!(r.queues.is_empty() && r.intervals.is_empty() && r.agents.is_empty());
    assert_eq!(r.totals.figures.sl.service_level, None);
    assert!(render_text(&r).contains("all queues"));
}

#[test]
fn live_map_stays_small() {
    let mut f = Feed::new();
    for c in 0..10_000u64 {
        let t = c * 100;
        f.queued(t, c, (c % 3) as u32);
        f.answered(t + 50, c, (c % 3) as u32, (c % 7) as u32, 50);
        f.handled(t + 90, c, (c % 3) as u32, (c % 7) as u32, 40);
        assert!(f.fold.live_contacts() <= 1);
    }
    let r = f.report(1_000_000);
    assert_eq!(r.totals.counts.offered, 10_000);
    assert_eq!(r.totals.counts.handled, 10_000);
    assert_eq!(r.agent_totals.counts.handled, 10_000);
}

/// Throughput check: `cargo test --release -p engine kpi_throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn kpi_throughput() {
    let mut events = Vec::new();
    let mut seq = 0;
    let mut push = |at: u64, event: Event| {
        seq += 1;
        events.push(EventRecord { v: SCHEMA_VERSION, seq, at: Time(at), event });
    };
    for c in 0..1_000_000u64 {
        let t = c * 20;
        let (q, a) = (QueueId((c % 20) as u32), AgentId((c % 500) as u32));
        let contact = ContactId(c);
        push(
            t,
            Event::ContactQueued { contact, queue: q, priority: 0, waiting_since: Time(t), channel: Channel::Voice },
        );
        push(t + 5, Event::ContactOffered { contact, queue: q, agent: a, channel: Channel::Voice, deadline: Time(t) });
        push(
            t + 5,
            Event::AgentStateChanged {
                agent: a,
                from: AgentState::Ready,
                to: AgentState::Reserved,
                reason: None,
                in_state_ms: 1,
            },
        );
        push(
            t + 7,
            Event::ContactAnswered { contact, queue: q, agent: a, channel: Channel::Voice, wait_ms: c % 40_000 },
        );
        push(
            t + 7,
            Event::AgentStateChanged {
                agent: a,
                from: AgentState::Reserved,
                to: AgentState::Busy,
                reason: None,
                in_state_ms: 1,
            },
        );
        push(
            t + 9_000,
            Event::ContactEnded {
                contact,
                queue: q,
                outcome: Outcome::Handled,
                agent: Some(a),
                by: None,
                talk_ms: 9_000,
                hold_ms: 0,
            },
        );
        push(
            t + 9_000,
            Event::WrapUpStarted { contact, queue: q, agent: a, channel: Channel::Voice, deadline: Time(t) },
        );
        push(
            t + 9_000,
            Event::AgentStateChanged {
                agent: a,
                from: AgentState::Busy,
                to: AgentState::WrapUp,
                reason: None,
                in_state_ms: 1,
            },
        );
        push(t + 9_500, Event::WrapUpEnded { contact, queue: q, agent: a, wrap_ms: 500 });
        push(
            t + 9_500,
            Event::AgentStateChanged {
                agent: a,
                from: AgentState::WrapUp,
                to: AgentState::Ready,
                reason: None,
                in_state_ms: 1,
            },
        );
    }
    events.sort_by_key(|e| e.at);
    let mut fold = IntervalFold::new(KpiConfig::default());
    let start = std::time::Instant::now();
    for e in &events {
        fold.apply(e);
    }
    let elapsed = start.elapsed();
    println!(
        "{} events in {:?}: {:.1} M events/s",
        events.len(),
        elapsed,
        events.len() as f64 / elapsed.as_secs_f64() / 1e6
    );
    let r = fold.report();
    assert_eq!(r.totals.counts.handled, 1_000_000);
}
