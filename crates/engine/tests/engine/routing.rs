//! One scenario per routing rule. Each reads as documentation: the set-up,
//! what happens, and what the engine does.

use crate::harness::*;
use engine::*;

fn with_strategy(s: Strategy) -> QueueConfig {
    let mut qc = queue(1, "support");
    qc.strategy = s;
    qc
}

/// Longest-idle (the default): the agent who has been free longest gets the call.
#[test]
fn longest_idle_agent_gets_the_call() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1]), agent(2, &[1]), agent(3, &[1])]));
    w.at(0).login(&[2]);
    w.at(1_000).login(&[3]);
    w.at(2_000).login(&[1]);
    w.at(5_000).arrive(10, 1);
    assert_eq!(w.offered_to(10), Some(2), "agent 2 has been ready since t=0");
    w.answer(10, 2).arrive(11, 1);
    assert_eq!(w.offered_to(11), Some(3));
    w.answer(11, 3).at(6_000).hangup(10).at(7_000).arrive(12, 1);
    assert_eq!(w.offered_to(12), Some(1), "agent 1 (ready since 2 s) beats agent 2 (free since 6 s)");
}

/// Fewest-contacts: the agent who answered the fewest contacts since login.
#[test]
fn fewest_contacts_balances_counts() {
    let mut w = World::new(config(vec![with_strategy(Strategy::FewestContacts)], vec![agent(1, &[1]), agent(2, &[1])]));
    w.login(&[1, 2]);
    // Agent 1 takes two quick calls while agent 2 is busy with a long one.
    w.at(10).arrive(1, 1).answer(1, 1).arrive(2, 1).answer(2, 2);
    w.at(20).hangup(1).arrive(3, 1).answer(3, 1).at(30).hangup(3);
    w.at(40).hangup(2);
    // Both free; agent 2 became free later but has handled fewer.
    w.at(50).arrive(4, 1);
    assert_eq!(w.offered_to(4), Some(2));
}

/// Least-talk-time: the agent with the least talk time since login.
#[test]
fn least_talk_time_prefers_the_least_loaded() {
    let mut w = World::new(config(vec![with_strategy(Strategy::LeastTalkTime)], vec![agent(1, &[1]), agent(2, &[1])]));
    w.login(&[1, 2]);
    w.at(0).arrive(1, 1).answer(1, 1).arrive(2, 1).answer(2, 2);
    w.at(60_000).hangup(2); // agent 2 talked 60 s
    w.at(300_000).hangup(1); // agent 1 talked 300 s, free more recently
    w.at(301_000).arrive(3, 1);
    assert_eq!(w.offered_to(3), Some(2));
}

/// Round-robin: offers rotate through the members in order, continuing after
/// the agent offered last.
#[test]
fn round_robin_rotates() {
    let mut w = World::new(config(
        vec![with_strategy(Strategy::RoundRobin)],
        vec![agent(1, &[1]), agent(2, &[1]), agent(3, &[1])],
    ));
    w.login(&[1, 2, 3]);
    let mut got = Vec::new();
    for i in 0..6 {
        w.at(i * 1000).arrive(i + 1, 1);
        let who = w.offered_to(i + 1).expect("offered");
        got.push(who);
        w.accept(i + 1, who).hangup(i + 1);
    }
    assert_eq!(got, vec![1, 2, 3, 1, 2, 3]);
}

/// Top-down (linear): always the first free member in position order.
#[test]
fn top_down_always_starts_at_the_top() {
    let mut qc = with_strategy(Strategy::TopDown);
    qc.id = QueueId(1);
    let mut a1 = agent(1, &[1]);
    a1.queues[0].position = 3;
    let mut a2 = agent(2, &[1]);
    a2.queues[0].position = 1;
    let mut a3 = agent(3, &[1]);
    a3.queues[0].position = 2;
    let mut w = World::new(config(vec![qc], vec![a1, a2, a3]));
    w.login(&[1, 2, 3]);
    for i in 0..3 {
        w.at(i * 1000).arrive(i + 1, 1);
        assert_eq!(w.offered_to(i + 1), Some(2), "position 1 first every time it is free");
        w.accept(i + 1, 2).hangup(i + 1);
    }
    w.arrive(10, 1).answer(10, 2).arrive(11, 1);
    assert_eq!(w.offered_to(11), Some(3), "then position 2");
}

/// Random: uniform among eligible agents, reproducible from the seed.
#[test]
fn random_is_seeded_and_spreads() {
    let run = |seed: u64| {
        let mut cfg = config(vec![with_strategy(Strategy::Random)], (1..=4).map(|i| agent(i, &[1])).collect());
        cfg.settings.seed = seed;
        let mut w = World::new(cfg);
        w.login(&[1, 2, 3, 4]);
        let mut got = Vec::new();
        for i in 0..200 {
            w.at(i * 10).arrive(i + 1, 1);
            let who = w.offered_to(i + 1).expect("offered");
            got.push(who);
            w.accept(i + 1, who).hangup(i + 1);
        }
        got
    };
    let a = run(7);
    assert_eq!(a, run(7), "same seed, same choices");
    assert_ne!(a, run(8), "another seed, other choices");
    for agent in 1..=4 {
        let n = a.iter().filter(|x| **x == agent).count();
        assert!((25..=75).contains(&n), "agent {agent} got {n} of 200");
    }
}

/// Weighted-random: chances proportional to the membership weight.
#[test]
fn weighted_random_follows_weights() {
    let mut a1 = agent(1, &[1]);
    a1.queues[0].weight = 1;
    let mut a2 = agent(2, &[1]);
    a2.queues[0].weight = 3;
    let mut w = World::new(config(vec![with_strategy(Strategy::WeightedRandom)], vec![a1, a2]));
    w.login(&[1, 2]);
    let mut to2 = 0;
    for i in 0..400 {
        w.at(i * 10).arrive(i + 1, 1);
        let who = w.offered_to(i + 1).expect("offered");
        if who == 2 {
            to2 += 1;
        }
        w.accept(i + 1, who).hangup(i + 1);
    }
    assert!((260..=340).contains(&to2), "weight 3 of 4 should get ~300 of 400, got {to2}");
}

/// Ring-all: every eligible agent rings; the first to accept gets the call
/// and the others' offers are withdrawn at once (no double answer).
#[test]
fn ring_all_first_accept_wins() {
    let mut w = World::new(config(
        vec![with_strategy(Strategy::RingAll)],
        vec![agent(1, &[1]), agent(2, &[1]), agent(3, &[1])],
    ));
    w.login(&[1, 2, 3]);
    w.at(100).arrive(1, 1);
    assert_eq!(w.offered_agents(1), vec![1, 2, 3]);
    w.at(900).accept(1, 3);
    assert_eq!(w.state(3), AgentState::Busy);
    assert_eq!(w.state(1), AgentState::Ready);
    assert_eq!(w.state(2), AgentState::Ready);
    assert_eq!(w.events_named("offer_rescinded").len(), 2);
    assert!(w.input(Input::Accept { contact: c(1), agent: a(1) }).is_err(), "a second answer is refused");
}

/// Skills with minimum levels: only agents with the skill at the level qualify.
#[test]
fn skills_and_minimum_levels() {
    let mut qc = queue(1, "billing");
    qc.steps = vec![RoutingStep {
        condition: Condition {
            skills: vec![SkillReq { skill: "billing".into(), min_level: 5 }],
            ..Condition::default()
        },
        timeout_ms: None,
    }];
    let novice = agent(1, &[1]).with_skill("billing", 3);
    let expert = agent(2, &[1]).with_skill("billing", 8);
    let mut w = World::new(config(vec![qc], vec![novice, expert]));
    w.login(&[1]);
    w.at(10).arrive(1, 1);
    assert!(w.is_waiting(1), "the novice is not eligible");
    w.at(20).login(&[2]);
    assert_eq!(w.offered_to(1), Some(2));
}

/// Routing steps widen with the wait: experts first, anyone after 30 s.
#[test]
fn steps_widen_after_timeout() {
    let mut qc = queue(1, "tech");
    qc.steps = vec![
        RoutingStep {
            condition: Condition {
                skills: vec![SkillReq { skill: "tech".into(), min_level: 8 }],
                ..Condition::default()
            },
            timeout_ms: Some(30_000),
        },
        RoutingStep {
            condition: Condition {
                skills: vec![SkillReq { skill: "tech".into(), min_level: 1 }],
                ..Condition::default()
            },
            timeout_ms: None,
        },
    ];
    let mut w =
        World::new(config(vec![qc], vec![agent(1, &[1]).with_skill("tech", 2), agent(2, &[1]).with_skill("tech", 9)]));
    w.login(&[1]);
    w.at(0).arrive(1, 1);
    w.at(29_999);
    assert!(w.is_waiting(1));
    w.at(30_000);
    assert_eq!(w.offered_to(1), Some(1), "after 30 s the junior agent qualifies");
    assert_eq!(w.events_named("step_changed").len(), 1);
}

/// Waiting contacts are served by priority, then by age.
#[test]
fn priority_then_age() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1])]));
    w.at(0).arrive(1, 1); // nobody logged in: waits
    w.at(10).arrive(2, 1);
    let mut vip = ContactSpec::new(c(3), q(1));
    vip.priority = 5;
    w.at(20).arrive_spec(vip);
    w.at(30).arrive(4, 1);
    w.login(&[1]);
    let mut order = Vec::new();
    for _ in 0..4 {
        let next = [1, 2, 3, 4].into_iter().find(|x| w.offered_to(*x) == Some(1)).expect("one offered");
        order.push(next);
        w.accept(next, 1).hangup(next);
    }
    assert_eq!(order, vec![3, 1, 2, 4]);
}

/// Returning customers wait for their last agent for a while (R-ACD-3).
#[test]
fn returning_customer_prefers_last_agent() {
    let mut qc = queue(1, "support");
    qc.sticky_agent_ms = Some(20_000);
    let mut w = World::new(config(vec![qc], vec![agent(1, &[1]), agent(2, &[1])]));
    w.login(&[1, 2]);
    w.at(0).arrive(1, 1).answer(1, 1); // agent 1 busy
    let mut spec = ContactSpec::new(c(2), q(1));
    spec.segment = Segment::Returning;
    spec.last_agent = Some(a(1));
    w.at(100).arrive_spec(spec);
    assert!(w.is_waiting(2), "agent 2 is free but the customer waits for agent 1");
    w.at(5_000).hangup(1);
    assert_eq!(w.offered_to(2), Some(1), "agent 1 gets the returning customer");
}

/// ... but only for the configured time; then anybody may take the contact.
#[test]
fn sticky_preference_expires() {
    let mut qc = queue(1, "support");
    qc.sticky_agent_ms = Some(20_000);
    let mut w = World::new(config(vec![qc], vec![agent(1, &[1]), agent(2, &[1])]));
    w.login(&[1, 2]);
    w.at(0).arrive(1, 1).answer(1, 1);
    let mut spec = ContactSpec::new(c(2), q(1));
    spec.last_agent = Some(a(1));
    w.at(100).arrive_spec(spec);
    w.at(20_099);
    assert!(w.is_waiting(2));
    w.at(20_100);
    assert_eq!(w.offered_to(2), Some(2));
}

/// New customers go preferably to experienced agents (R-ACD-3).
#[test]
fn new_customers_prefer_experienced_agents() {
    let mut qc = queue(1, "sales");
    qc.new_customer = Some(NewCustomerPreference { attribute: "experienced".into(), for_ms: 15_000 });
    let mut senior = agent(2, &[1]);
    senior.attributes = vec!["experienced".into()];
    let mut w = World::new(config(vec![qc], vec![agent(1, &[1]), senior]));
    w.at(0).login(&[1]);
    w.at(500).login(&[2]); // the junior agent has been idle longer
    let mut spec = ContactSpec::new(c(1), q(1));
    spec.segment = Segment::New;
    w.at(1_000).arrive_spec(spec);
    assert_eq!(w.offered_to(1), Some(2));
    // A returning customer follows the normal strategy (longest idle).
    let mut spec = ContactSpec::new(c(2), q(1));
    spec.segment = Segment::Returning;
    w.arrive_spec(spec);
    assert_eq!(w.offered_to(2), Some(1));
}

/// Overflow after a wait moves the contact to another queue, keeping its age.
#[test]
fn overflow_after_wait_keeps_age() {
    let mut first = queue(1, "first-line");
    first.overflow = Some(Overflow { queue: q(2), after_ms: Some(60_000), when_no_agents: false });
    let mut w = World::new(config(vec![first, queue(2, "second-line")], vec![agent(1, &[1]), agent(2, &[2])]));
    w.login(&[1, 2]);
    w.at(0).arrive(1, 1).answer(1, 1); // first line busy
    w.at(0).arrive(2, 2).answer(2, 2); // second line busy
    w.at(1_000).arrive(3, 1);
    w.at(30_000).arrive(4, 2); // someone arrives directly in the second line
    w.at(61_000);
    assert_eq!(w.events_named("contact_overflowed").len(), 1);
    assert_eq!(w.engine.contact_view(c(3)).expect("live").queue, q(2));
    w.at(62_000).hangup(2);
    assert_eq!(w.offered_to(3), Some(2), "the overflowed contact has waited longer, so it goes first");
}

/// When nobody is logged in to a queue, contacts overflow at once.
#[test]
fn overflow_when_no_agent_logged_in() {
    let mut night = queue(1, "day");
    night.overflow = Some(Overflow { queue: q(2), after_ms: None, when_no_agents: true });
    let mut w = World::new(config(vec![night, queue(2, "night")], vec![agent(1, &[1]), agent(2, &[2])]));
    w.login(&[2]);
    w.at(10).arrive(1, 1);
    assert_eq!(w.offered_to(1), Some(2));
    // When the last member logs out, waiting contacts follow.
    let mut w2 = World::new(config(
        vec![
            {
                let mut d = queue(1, "day");
                d.overflow = Some(Overflow { queue: q(2), after_ms: None, when_no_agents: true });
                d
            },
            queue(2, "night"),
        ],
        vec![agent(1, &[1]), agent(2, &[2])],
    ));
    w2.login(&[1]);
    w2.at(0).arrive(1, 1).answer(1, 1).arrive(2, 1);
    w2.at(5).hangup(1);
    w2.ok(Input::NotReady { agent: a(1), reason: "end of shift".into() });
    // Agent 1 got contact 2 offered at hang-up; not-ready withdrew it.
    w2.ok(Input::Logout { agent: a(1) });
    assert_eq!(w2.engine.contact_view(c(2)).expect("live").queue, q(2));
}

/// Maximum wait: the contact leaves by the configured exit.
#[test]
fn max_wait_exit() {
    let mut q1 = queue(1, "support");
    q1.max_wait = Some(Limit { value: 120_000, action: ExitAction::Voicemail });
    let mut w = World::new(config(vec![q1], vec![agent(1, &[1])]));
    w.at(0).arrive(1, 1);
    w.at(120_000);
    assert!(w.engine.contact_view(c(1)).is_none(), "the contact has left");
    assert!(w.commands.iter().any(|cmd| matches!(cmd, Command::Exit { action: ExitAction::Voicemail, .. })));
    match w.events_named("contact_ended")[0] {
        Event::ContactEnded { outcome, .. } => assert_eq!(*outcome, Outcome::Exited),
        _ => unreachable!(),
    }
}

/// Maximum queue length: arrivals beyond it take the exit (here: another queue).
#[test]
fn max_length_exit() {
    let mut q1 = queue(1, "support");
    q1.max_length = Some(Limit { value: 2, action: ExitAction::Overflow { queue: q(2) } });
    let mut w = World::new(config(vec![q1, queue(2, "overflow")], vec![agent(1, &[1])]));
    w.at(0).arrive(1, 1).arrive(2, 1).arrive(3, 1);
    assert_eq!(w.engine.contact_view(c(3)).expect("live").queue, q(2));
    assert_eq!(w.engine.queue_view(q(1), w.now).expect("queue").waiting, 2);
}

/// An agent in several queues takes the best contact across them: highest
/// priority first, then the longest waiting, whatever the queue.
#[test]
fn multi_queue_agent_takes_best_across_queues() {
    let mut vip = queue(3, "vip");
    vip.priority = 10;
    let mut w = World::new(config(vec![queue(1, "a"), queue(2, "b"), vip], vec![agent(1, &[1, 2, 3])]));
    w.at(0).arrive(1, 1);
    w.at(1).arrive(2, 2);
    w.at(5).arrive(3, 1);
    w.at(10).login(&[1]);
    assert_eq!(w.offered_to(1), Some(1), "oldest first");
    w.accept(1, 1).hangup(1);
    assert_eq!(w.offered_to(2), Some(1), "then the next oldest, from the other queue");
    w.accept(2, 1);
    w.at(20).arrive(4, 3);
    w.hangup(2);
    assert_eq!(w.offered_to(4), Some(1), "the VIP queue's newer contact outranks an older one");
}

/// A contact's own required skills (e.g. language from the IVR) apply on
/// top of the queue's steps.
#[test]
fn contact_required_skills() {
    let mut w = World::new(config(
        vec![queue(1, "support")],
        vec![agent(1, &[1]).with_skill("lang:en", 5), agent(2, &[1]).with_skill("lang:zh", 5)],
    ));
    w.login(&[1, 2]);
    let mut spec = ContactSpec::new(c(1), q(1));
    spec.required_skills = vec![SkillReq { skill: "lang:zh".into(), min_level: 3 }];
    spec.language = Some("zh".into());
    w.at(0).arrive_spec(spec);
    assert_eq!(w.offered_to(1), Some(2));
}

/// Configuration changes apply at once, without a restart.
#[test]
fn configuration_changes_apply_live() {
    let mut q1 = queue(1, "billing");
    q1.steps = vec![RoutingStep {
        condition: Condition {
            skills: vec![SkillReq { skill: "billing".into(), min_level: 1 }],
            ..Condition::default()
        },
        timeout_ms: None,
    }];
    let mut w = World::new(config(vec![q1], vec![agent(1, &[1]).with_skill("billing", 1), agent(2, &[1])]));
    w.login(&[2]);
    w.at(0).arrive(1, 1);
    assert!(w.is_waiting(1));
    // Give agent 2 the skill: the waiting contact is offered at once.
    w.ok(Input::ConfigureAgent { agent: agent(2, &[1]).with_skill("billing", 4) });
    assert_eq!(w.offered_to(1), Some(2));
    // A configuration that breaks a rule is refused and changes nothing.
    let mut bad = queue(1, "billing");
    bad.overflow = Some(Overflow { queue: q(1), after_ms: Some(1), when_no_agents: false });
    let err = w.input(Input::ConfigureQueue { queue: bad }).expect_err("self-overflow");
    assert_eq!(err.code(), "config_refused");
}

/// Position and expected wait for announcements.
#[test]
fn position_and_expected_wait() {
    let mut w = World::new(config(vec![queue(1, "support")], vec![agent(1, &[1]), agent(2, &[1])]));
    w.login(&[1, 2]);
    w.at(0).arrive(1, 1).answer(1, 1).arrive(2, 1).answer(2, 2);
    w.at(100_000).hangup(1).hangup(2); // both handled 100 s calls
    w.arrive(3, 1).answer(3, 1).arrive(4, 1).answer(4, 2);
    for i in 5..=8 {
        w.arrive(i, 1);
    }
    assert_eq!(w.engine.queue_position(c(5)), Some(1));
    assert_eq!(w.engine.queue_position(c(8)), Some(4));
    // 4th in line, 2 agents, ~100 s per call: about 200 s.
    assert_eq!(w.engine.expected_wait_ms(c(8)), Some(200_000));
}

/// A queue may be set up before the agents who will serve it: a step that
/// nobody can meet yet is accepted (contacts wait), and the first agent
/// given the skill takes the waiting contact. Wrong configurations are
/// still refused.
#[test]
fn queues_before_their_agents() {
    let mut w = World::new(config(vec![queue(1, "general")], vec![agent(1, &[1])]));
    let mut french = queue(2, "french");
    french.steps = vec![RoutingStep {
        condition: Condition {
            skills: vec![SkillReq { skill: "lang:fr".into(), min_level: 5 }],
            ..Condition::default()
        },
        timeout_ms: None,
    }];
    let issues = EngineConfig { queues: vec![french.clone()], ..EngineConfig::default() }.validate();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].severity, Severity::Unstaffed);
    w.ok(Input::ConfigureQueue { queue: french });
    w.at(10).arrive(1, 2);
    assert!(w.is_waiting(1));
    w.ok(Input::ConfigureAgent { agent: agent(2, &[2]).with_skill("lang:fr", 7) });
    w.login(&[2]);
    assert_eq!(w.offered_to(1), Some(2));
}

/// A caller put through to one agent's line (`required_agent`) waits for
/// that agent alone, even with colleagues idle, within the queue's maximum
/// wait; once answered it routes as usual (a transfer back to the queue
/// goes to anyone). An unknown agent is refused.
#[test]
fn required_agent_waits_for_that_agent_only() {
    let mut q1 = queue(1, "support");
    q1.max_wait = Some(Limit { value: 300_000, action: ExitAction::Voicemail });
    let mut w = World::new(config(vec![q1], vec![agent(1, &[1]), agent(2, &[1]), agent(3, &[1])]));
    w.login(&[1, 3]).at(0);
    w.ok(Input::NotReady { agent: a(3), reason: "break".into() });
    let mut spec = ContactSpec::new(c(1), q(1));
    spec.required_agent = Some(a(3));
    w.arrive_spec(spec);
    assert!(w.is_waiting(1), "agent 1 is idle but the caller asked for agent 3");
    // An ordinary caller arriving later still goes to agent 1 at once.
    w.at(5_000).arrive(2, 1);
    assert_eq!(w.offered_to(2), Some(1));
    w.accept(2, 1);
    w.at(60_000).ok(Input::Ready { agent: a(3) });
    assert_eq!(w.offered_to(1), Some(3));
    w.accept(1, 3).login(&[2]);
    // Agent 3 goes on a break after this call and sends it back to the queue.
    w.at(70_000).ok(Input::NotReady { agent: a(3), reason: "break".into() });
    w.ok(Input::Transfer { contact: c(1), to: TransferTarget::Queue(q(1)) });
    assert_eq!(w.offered_to(1), Some(2), "after the answer, anyone in the queue");
    // The queue's maximum wait still applies to a caller waiting for one agent.
    let mut spec = ContactSpec::new(c(3), q(1));
    spec.required_agent = Some(a(3));
    w.at(80_000).arrive_spec(spec);
    w.at(80_000 + 300_000).ok(Input::Tick);
    assert!(w.engine.contact_view(c(3)).is_none(), "left by the maximum wait");
    let mut spec = ContactSpec::new(c(4), q(1));
    spec.required_agent = Some(a(9));
    let err = w.input(Input::Arrive { contact: spec }).expect_err("no agent 9");
    assert_eq!(err.code(), "unknown_agent");
    // Nor an agent who never takes the contact's channel (it would wait for ever).
    let mut spec = ContactSpec::new(c(5), q(1));
    spec.channel = Channel::Chat;
    spec.required_agent = Some(a(1));
    let err = w.input(Input::Arrive { contact: spec }).expect_err("agent 1 takes no chats");
    assert!(err.to_string().contains("Chat"), "{err}");
    // An agent callers wait for alone cannot be removed from under them.
    w.ok(Input::Logout { agent: a(2) });
    let mut spec = ContactSpec::new(c(6), q(1));
    spec.required_agent = Some(a(2));
    w.arrive_spec(spec);
    let err = w.input(Input::RemoveAgent { agent: a(2) }).expect_err("a caller waits for agent 2");
    assert!(err.to_string().contains("waiting"), "{err}");
}
