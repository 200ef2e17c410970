//! Telephony records: survey answers and offers, IVR node visits, calls.

use crate::harness::TestDb;
use serde_json::json;
use store::{CallRecord, IvrVisit, StoreError, SurveyAnswer, SurveyFilter, VoiceStore};

const T0: i64 = 1_760_000_000_000;

fn answer(contact: u64, agent: Option<u32>, queue: Option<u32>, question: &str, score: u8, at: i64) -> SurveyAnswer {
    SurveyAnswer {
        contact,
        agent,
        queue,
        caller: Some(format!("+4930{contact:04}")),
        question: question.into(),
        score,
        at: T0 + at,
    }
}

fn visit(call: &str, version: u32, node: &str, entered: i64, left: Option<i64>, outcome: &str) -> IvrVisit {
    IvrVisit {
        call: call.into(),
        flow: "main".into(),
        version,
        node: node.into(),
        kind: if node == "menu" { "menu".into() } else { "play".into() },
        entered_at: T0 + entered,
        left_at: left.map(|l| T0 + l),
        outcome: outcome.into(),
    }
}

fn call(id: &str, contact: Option<u64>, started: i64) -> CallRecord {
    CallRecord {
        call: id.into(),
        contact,
        direction: "inbound".into(),
        caller: "+493012345678".into(),
        callee: "+4930999".into(),
        started_at: T0 + started,
        answered_at: None,
        ended_at: None,
        end_reason: None,
        agent: None,
        recording: None,
        recording_ms: None,
        quality: None,
        voicemail: None,
    }
}

pub async fn survey_answers_round_trip_and_filters(db: &TestDb) {
    let s = db.open().await;
    assert!(s.survey_answers(&SurveyFilter::default(), 100).await.unwrap().is_empty());
    s.add_survey_answers(&[]).await.unwrap();

    let answers = vec![
        answer(1, Some(7), Some(1), "resolved", 5, 100),
        answer(1, Some(7), Some(1), "agent", 4, 100),
        answer(2, Some(8), Some(1), "resolved", 2, 200),
        answer(3, Some(7), Some(2), "resolved", 3, 300),
        SurveyAnswer { caller: None, ..answer(4, None, None, "resolved", 1, 400) },
        // Ids at the top of their ranges, a question in another script.
        SurveyAnswer { contact: i64::MAX as u64, ..answer(5, Some(u32::MAX), Some(u32::MAX), "问题", 5, 500) },
    ];
    s.add_survey_answers(&answers).await.unwrap();

    // Newest first; same `at` in insertion order reversed.
    let all = s.survey_answers(&SurveyFilter::default(), 100).await.unwrap();
    let expected: Vec<SurveyAnswer> = vec![
        answers[5].clone(),
        answers[4].clone(),
        answers[3].clone(),
        answers[2].clone(),
        answers[1].clone(),
        answers[0].clone(),
    ];
    assert_eq!(all, expected);
    assert_eq!(s.survey_answers(&SurveyFilter::default(), 2).await.unwrap(), expected[..2].to_vec(), "limit");

    let by_agent = SurveyFilter { agent: Some(7), ..SurveyFilter::default() };
    let got = s.survey_answers(&by_agent, 100).await.unwrap();
    assert_eq!(got, vec![answers[3].clone(), answers[1].clone(), answers[0].clone()]);

    let by_queue = SurveyFilter { queue: Some(1), ..SurveyFilter::default() };
    assert_eq!(s.survey_answers(&by_queue, 100).await.unwrap().len(), 3);

    let both = SurveyFilter { agent: Some(7), queue: Some(2), ..SurveyFilter::default() };
    assert_eq!(s.survey_answers(&both, 100).await.unwrap(), vec![answers[3].clone()]);

    // `since` is inclusive, `until` exclusive.
    let window = SurveyFilter { since: Some(T0 + 200), until: Some(T0 + 400), ..SurveyFilter::default() };
    assert_eq!(s.survey_answers(&window, 100).await.unwrap(), vec![answers[3].clone(), answers[2].clone()]);

    let nobody = SurveyFilter { agent: Some(99), ..SurveyFilter::default() };
    assert!(s.survey_answers(&nobody, 100).await.unwrap().is_empty());
    s.close().await;
}

pub async fn survey_answers_are_all_or_nothing(db: &TestDb) {
    let s = db.open().await;
    let bad = vec![answer(1, Some(1), Some(1), "resolved", 4, 0), answer(2, Some(1), Some(1), "resolved", 6, 0)];
    assert!(matches!(s.add_survey_answers(&bad).await, Err(StoreError::Invalid(_))), "score 6");
    let zero = vec![answer(1, Some(1), Some(1), "resolved", 0, 0)];
    assert!(matches!(s.add_survey_answers(&zero).await, Err(StoreError::Invalid(_))), "score 0");
    let no_question = vec![answer(1, Some(1), Some(1), " ", 3, 0)];
    assert!(matches!(s.add_survey_answers(&no_question).await, Err(StoreError::Invalid(_))));
    assert!(s.survey_answers(&SurveyFilter::default(), 100).await.unwrap().is_empty(), "nothing stored");
    assert_eq!(s.last_survey_at("+49300001").await.unwrap(), None, "no offer noted either");
    s.close().await;
}

pub async fn survey_offers_anti_fatigue(db: &TestDb) {
    let s = db.open().await;
    let caller = "+493012345678";
    let uri = "sip:ana@example.com";
    assert_eq!(s.last_survey_at(caller).await.unwrap(), None);

    s.note_survey_offered(caller, T0).await.unwrap();
    assert_eq!(s.last_survey_at(caller).await.unwrap(), Some(T0));
    s.note_survey_offered(caller, T0 + 1_000).await.unwrap();
    assert_eq!(s.last_survey_at(caller).await.unwrap(), Some(T0 + 1_000), "upsert moves forward");
    s.note_survey_offered(caller, T0 + 500).await.unwrap();
    assert_eq!(s.last_survey_at(caller).await.unwrap(), Some(T0 + 1_000), "never moves back");
    assert_eq!(s.last_survey_at(uri).await.unwrap(), None, "per caller");
    assert!(matches!(s.note_survey_offered("", T0).await, Err(StoreError::Invalid(_))));

    // Answering counts too: the latest answer of each caller.
    let mut a1 = answer(1, Some(1), Some(1), "resolved", 4, 2_000);
    a1.caller = Some(uri.into());
    let mut a2 = answer(1, Some(1), Some(1), "agent", 5, 2_500);
    a2.caller = Some(uri.into());
    let mut a3 = answer(2, Some(1), Some(1), "agent", 5, 100);
    a3.caller = Some(caller.into());
    s.add_survey_answers(&[a2, a1, a3]).await.unwrap();
    assert_eq!(s.last_survey_at(uri).await.unwrap(), Some(T0 + 2_500));
    assert_eq!(s.last_survey_at(caller).await.unwrap(), Some(T0 + 1_000), "an older answer does not move it back");
    s.close().await;
}

pub async fn survey_summary_math(db: &TestDb) {
    let s = db.open().await;
    assert!(s.survey_summary(&SurveyFilter::default()).await.unwrap().is_empty());

    let mut answers = Vec::new();
    // Agent 1, queue 1, "resolved": 5, 5, 4, 1 → mean 3.75.
    for (i, score) in [5, 5, 4, 1].into_iter().enumerate() {
        answers.push(answer(i as u64, Some(1), Some(1), "resolved", score, 100 + i as i64));
    }
    // Agent 1, queue 1, "agent": 3, 2 → mean 2.5.
    answers.push(answer(10, Some(1), Some(1), "agent", 3, 200));
    answers.push(answer(11, Some(1), Some(1), "agent", 2, 201));
    // Agent 1, queue 2, "resolved": 2.
    answers.push(answer(12, Some(1), Some(2), "resolved", 2, 300));
    // Agent 2, queue 1, "resolved": 1, 2, 3, 4, 5 → mean 3.
    for score in 1..=5 {
        answers.push(answer(20 + u64::from(score), Some(2), Some(1), "resolved", score, 400));
    }
    // Without agent or queue (e.g. an IVR-only call): 4 (later: out of the window).
    answers.push(answer(30, None, None, "resolved", 4, 10_000));
    s.add_survey_answers(&answers).await.unwrap();

    let rows = s.survey_summary(&SurveyFilter::default()).await.unwrap();
    let keys: Vec<(Option<u32>, Option<u32>, &str)> =
        rows.iter().map(|r| (r.agent, r.queue, r.question.as_str())).collect();
    assert_eq!(
        keys,
        vec![
            (Some(1), Some(1), "agent"),
            (Some(1), Some(1), "resolved"),
            (Some(1), Some(2), "resolved"),
            (Some(2), Some(1), "resolved"),
            (None, None, "resolved"),
        ],
        "sorted by agent, queue (None last), question"
    );
    assert_eq!((rows[0].count, rows[0].scores), (2, [0, 1, 1, 0, 0]));
    assert!((rows[0].mean - 2.5).abs() < 1e-9, "{}", rows[0].mean);
    assert_eq!((rows[1].count, rows[1].scores), (4, [1, 0, 0, 1, 2]));
    assert!((rows[1].mean - 3.75).abs() < 1e-9, "{}", rows[1].mean);
    assert_eq!((rows[2].count, rows[2].scores), (1, [0, 1, 0, 0, 0]));
    assert!((rows[2].mean - 2.0).abs() < 1e-9);
    assert_eq!((rows[3].count, rows[3].scores), (5, [1, 1, 1, 1, 1]));
    assert!((rows[3].mean - 3.0).abs() < 1e-9);
    assert_eq!((rows[4].count, rows[4].scores), (1, [0, 0, 0, 1, 0]));
    for r in &rows {
        assert_eq!(r.scores.iter().sum::<u64>(), r.count, "histogram sums to the count");
    }

    // Filters narrow the summary.
    let agent1 = SurveyFilter { agent: Some(1), queue: Some(1), ..SurveyFilter::default() };
    let rows = s.survey_summary(&agent1).await.unwrap();
    assert_eq!(rows.len(), 2);
    let window = SurveyFilter { since: Some(T0 + 101), until: Some(T0 + 400), ..SurveyFilter::default() };
    let rows = s.survey_summary(&window).await.unwrap();
    let resolved = rows.iter().find(|r| r.agent == Some(1) && r.queue == Some(1) && r.question == "resolved").unwrap();
    assert_eq!((resolved.count, resolved.scores), (3, [1, 0, 0, 1, 1]), "answers at +101..+103");
    assert!((resolved.mean - 10.0 / 3.0).abs() < 1e-9);
    assert!(rows.iter().all(|r| r.agent != Some(2)), "+400 is excluded");
    let empty = SurveyFilter { since: Some(T0 + 20_000), ..SurveyFilter::default() };
    assert!(s.survey_summary(&empty).await.unwrap().is_empty());
    s.close().await;
}

pub async fn ivr_node_stats_aggregate(db: &TestDb) {
    let s = db.open().await;
    assert!(s.ivr_node_stats("main", T0, T0 + 1_000_000).await.unwrap().is_empty());
    s.add_ivr_visits(&[]).await.unwrap();

    let visits = vec![
        // Version 1: greeting → menu.
        visit("c1", 1, "greeting", 0, Some(3_000), "next"),
        visit("c1", 1, "menu", 3_000, Some(8_000), "chose:1"),
        visit("c2", 1, "greeting", 10_000, Some(13_000), "next"),
        visit("c2", 1, "menu", 13_000, Some(23_000), "timeout"),
        visit("c2", 1, "menu", 23_000, Some(25_000), "chose:2"),
        visit("c3", 1, "greeting", 30_000, Some(31_000), "dropped"),
        visit("c4", 1, "greeting", 40_000, Some(43_000), "next"),
        visit("c4", 1, "menu", 43_000, None, "dropped"),
        visit("c5", 1, "greeting", 50_000, Some(53_000), "next"),
        visit("c5", 1, "menu", 53_000, Some(54_000), "chose:1"),
        // Version 2 of the same flow.
        visit("c6", 2, "menu", 60_000, Some(61_000), "invalid"),
        visit("c6", 2, "menu", 61_000, Some(62_000), "queued"),
        // Another flow: never counted.
        IvrVisit { flow: "sales".into(), ..visit("c7", 1, "menu", 5_000, Some(6_000), "chose:1") },
        // Outside the window.
        visit("c8", 1, "menu", 100_000, Some(101_000), "chose:3"),
    ];
    s.add_ivr_visits(&visits).await.unwrap();

    let rows = s.ivr_node_stats("main", T0, T0 + 100_000).await.unwrap();
    let keys: Vec<(u32, &str)> = rows.iter().map(|r| (r.version, r.node.as_str())).collect();
    assert_eq!(keys, vec![(1, "greeting"), (1, "menu"), (2, "menu")]);

    let greeting = &rows[0];
    assert_eq!(greeting.kind, "play");
    assert_eq!((greeting.entered, greeting.dropped, greeting.timed), (5, 1, 5));
    assert_eq!(
        greeting.outcomes.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>(),
        vec![("dropped", 1), ("next", 4)]
    );
    assert_eq!(greeting.total_ms, 3_000 * 4 + 1_000);
    assert!((greeting.mean_ms.unwrap() - 13_000.0 / 5.0).abs() < 1e-9);

    let menu = &rows[1];
    assert_eq!(menu.kind, "menu");
    assert_eq!((menu.entered, menu.dropped, menu.timed), (5, 1, 4), "the dropped visit has no left_at");
    assert_eq!(
        menu.outcomes.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>(),
        vec![("chose:1", 2), ("chose:2", 1), ("dropped", 1), ("timeout", 1)]
    );
    assert_eq!(menu.total_ms, 5_000 + 10_000 + 2_000 + 1_000);
    assert!((menu.mean_ms.unwrap() - 18_000.0 / 4.0).abs() < 1e-9);
    assert_eq!(menu.outcomes.values().sum::<u64>(), menu.entered);

    let v2 = &rows[2];
    assert_eq!((v2.entered, v2.dropped, v2.timed, v2.total_ms), (2, 0, 2, 2_000));
    assert_eq!(v2.mean_ms, Some(1_000.0));

    // A node never left (still in it, no left_at): no mean.
    s.add_ivr_visits(&[IvrVisit { flow: "night".into(), ..visit("c9", 1, "menu", 0, None, "dropped") }]).await.unwrap();
    let night = s.ivr_node_stats("night", T0, T0 + 1).await.unwrap();
    assert_eq!(night.len(), 1);
    assert_eq!((night[0].entered, night[0].dropped, night[0].timed, night[0].total_ms), (1, 1, 0, 0));
    assert_eq!(night[0].mean_ms, None);
    assert!(s.ivr_node_stats("main", T0, T0).await.unwrap().is_empty(), "empty window");
    assert!(s.ivr_node_stats("nope", T0, T0 + 1_000_000).await.unwrap().is_empty());

    // Bad visits: nothing of the batch is stored.
    let bad =
        vec![visit("c10", 3, "menu", 0, Some(1_000), "next"), visit("c10", 3, "menu", 5_000, Some(4_000), "next")];
    assert!(matches!(s.add_ivr_visits(&bad).await, Err(StoreError::Invalid(_))), "left before entering");
    assert!(s.ivr_node_stats("main", T0, T0 + 100_000).await.unwrap().iter().all(|r| r.version != 3));
    s.close().await;
}

pub async fn ivr_node_stats_per_interval(db: &TestDb) {
    const Q: i64 = 900_000;
    let s = db.open().await;
    // T0 is 500 s into a quarter-hour: the next one starts at T0 + 400 s.
    let first = T0 - T0 % Q;
    assert_eq!(first, T0 - 500_000);
    let visits = vec![
        visit("c1", 1, "greeting", 0, Some(3_000), "next"),
        visit("c1", 1, "menu", 3_000, Some(8_000), "chose:1"),
        visit("c2", 1, "menu", 399_999, Some(420_000), "dropped"),
        // Entered in the next quarter: counted there, time spent included.
        visit("c3", 1, "menu", 400_000, Some(410_000), "dropped"),
        visit("c4", 1, "menu", 401_000, None, "dropped"),
        visit("c5", 1, "greeting", 1_300_000, Some(1_301_000), "next"),
        // Another flow: never counted.
        IvrVisit { flow: "sales".into(), ..visit("c6", 1, "menu", 5_000, Some(6_000), "chose:1") },
    ];
    s.add_ivr_visits(&visits).await.unwrap();
    let rows = s.ivr_node_stats_by_interval("main", T0, T0 + 2_000_000, Q).await.unwrap();
    let got: Vec<(i64, &str, u64, u64, u64, i64)> = rows
        .iter()
        .map(|r| {
            (r.start - first, r.stats.node.as_str(), r.stats.entered, r.stats.dropped, r.stats.timed, r.stats.total_ms)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (0, "greeting", 1, 0, 1, 3_000),
            (0, "menu", 2, 1, 2, 5_000 + 20_001),
            (Q, "menu", 2, 2, 1, 10_000),
            (2 * Q, "greeting", 1, 0, 1, 1_000),
        ]
    );
    assert!(rows.iter().all(|r| r.end == r.start + Q));
    // The intervals add up to the period's figures.
    let whole = s.ivr_node_stats("main", T0, T0 + 2_000_000).await.unwrap();
    let menu = whole.iter().find(|r| r.node == "menu").unwrap();
    assert_eq!((menu.entered, menu.dropped), (4, 3));
    // Hourly: the hour turns at T0 + 400 s too (T0 is 53:20 past).
    let hourly = s.ivr_node_stats_by_interval("main", T0, T0 + 2_000_000, 4 * Q).await.unwrap();
    let hours: Vec<(i64, &str, u64)> =
        hourly.iter().map(|r| (r.start - (T0 - 3_200_000), r.stats.node.as_str(), r.stats.entered)).collect();
    assert_eq!(hours, vec![(0, "greeting", 1), (0, "menu", 2), (4 * Q, "greeting", 1), (4 * Q, "menu", 2)]);
    assert!(matches!(s.ivr_node_stats_by_interval("main", T0, T0 + 1, 0).await, Err(StoreError::Invalid(_))));
    s.close().await;
}

pub async fn calls_put_replace_and_lookup(db: &TestDb) {
    let s = db.open().await;
    assert_eq!(s.call("nope").await.unwrap(), None);
    assert!(s.calls_of_contact(1).await.unwrap().is_empty());
    assert!(s.calls(None, 10).await.unwrap().is_empty());

    // Written when it starts …
    let started = call("call-1", None, 0);
    s.put_call(&started).await.unwrap();
    assert_eq!(s.call("call-1").await.unwrap(), Some(started.clone()));

    // … and again when it ends: every field replaced.
    let ended = CallRecord {
        contact: Some(42),
        direction: "callback".into(),
        answered_at: Some(T0 + 5_000),
        ended_at: Some(T0 + 65_000),
        end_reason: Some("caller-hangup".into()),
        agent: Some(7),
        recording: Some("rec/2026/call-1.wav".into()),
        recording_ms: Some(60_000),
        quality: Some(json!({
            "caller": {"packets": 3000, "lost": 3, "jitter_ms": 4.5, "one_way": false},
            "agent": {"packets": 2990, "lost": 0, "jitter_ms": 1.25, "one_way": false}
        })),
        voicemail: Some("vm/call-1.wav".into()),
        ..started.clone()
    };
    s.put_call(&ended).await.unwrap();
    assert_eq!(s.call("call-1").await.unwrap(), Some(ended.clone()));

    // Replacing with fewer fields clears them (replace, not merge).
    s.put_call(&started).await.unwrap();
    assert_eq!(s.call("call-1").await.unwrap(), Some(started.clone()));
    s.put_call(&ended).await.unwrap();

    // Calls of a contact, oldest first.
    let second = CallRecord { contact: Some(42), ..call("call-2", None, 100_000) };
    let other = CallRecord { contact: Some(43), ..call("call-3", None, 50_000) };
    s.put_call(&second).await.unwrap();
    s.put_call(&other).await.unwrap();
    assert_eq!(s.calls_of_contact(42).await.unwrap(), vec![ended.clone(), second.clone()]);
    assert_eq!(s.calls_of_contact(43).await.unwrap(), vec![other.clone()]);
    assert!(s.calls_of_contact(44).await.unwrap().is_empty());
    let empty_id = call("", None, 0);
    assert!(matches!(s.put_call(&empty_id).await, Err(StoreError::Invalid(_))));
    s.close().await;
}

pub async fn calls_newest_first_pagination(db: &TestDb) {
    let s = db.open().await;
    // 25 calls, one per second, plus three sharing one start time.
    let mut all = Vec::new();
    for i in 0..25 {
        all.push(call(&format!("call-{i:02}"), Some(i), i as i64 * 1_000));
    }
    for id in ["tie-a", "tie-b", "tie-c"] {
        all.push(call(id, None, 12_500));
    }
    // Written out of order.
    for c in all.iter().rev() {
        s.put_call(c).await.unwrap();
    }
    let mut expected = all.clone();
    expected.sort_by(|a, b| (b.started_at, &b.call).cmp(&(a.started_at, &a.call)));

    let first = s.calls(None, 5).await.unwrap();
    assert_eq!(first, expected[..5].to_vec(), "newest first");

    // Walk every page with keyset cursors; nothing skipped or repeated.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = s.calls(before, 4).await.unwrap();
        if page.is_empty() {
            break;
        }
        before = Some(page.last().unwrap().started_at);
        seen.extend(page);
    }
    assert_eq!(seen, expected, "every call once, in order");

    // A page ending inside the tie carries the whole tie.
    let upto = s.calls(Some(T0 + 13_000), 2).await.unwrap();
    let ids: Vec<&str> = upto.iter().map(|c| c.call.as_str()).collect();
    assert_eq!(ids, vec!["tie-c", "tie-b", "tie-a"]);
    let next = s.calls(Some(T0 + 12_500), 2).await.unwrap();
    assert_eq!(next.iter().map(|c| c.call.as_str()).collect::<Vec<_>>(), vec!["call-12", "call-11"]);

    // Limit is clamped to at least one; the oldest page ends.
    assert_eq!(s.calls(None, 0).await.unwrap().len(), 1);
    assert!(s.calls(Some(T0), 10).await.unwrap().is_empty(), "nothing before the first call");
    s.close().await;
}

pub async fn voice_records_survive_reopen(db: &TestDb) {
    let s = db.open().await;
    let answers = vec![answer(1, Some(1), Some(2), "resolved", 4, 100), answer(1, Some(1), Some(2), "agent", 2, 100)];
    s.add_survey_answers(&answers).await.unwrap();
    s.note_survey_offered("+493011111", T0 + 7).await.unwrap();
    let visits = vec![visit("c1", 1, "menu", 0, Some(2_000), "chose:1"), visit("c2", 1, "menu", 10, None, "dropped")];
    s.add_ivr_visits(&visits).await.unwrap();
    let rec = CallRecord {
        contact: Some(1),
        agent: Some(1),
        quality: Some(json!({"loss": 0.01, "legs": ["a", "b"]})),
        recording_ms: Some(1_234),
        ..call("call-1", Some(1), 0)
    };
    s.put_call(&rec).await.unwrap();
    let summary = s.survey_summary(&SurveyFilter::default()).await.unwrap();
    let stats = s.ivr_node_stats("main", T0, T0 + 10_000).await.unwrap();
    s.close().await;

    let s = db.open().await;
    let mut newest_first = answers.clone();
    newest_first.reverse();
    assert_eq!(s.survey_answers(&SurveyFilter::default(), 10).await.unwrap(), newest_first);
    assert_eq!(s.survey_summary(&SurveyFilter::default()).await.unwrap(), summary);
    assert_eq!(s.last_survey_at("+493011111").await.unwrap(), Some(T0 + 7));
    assert_eq!(s.last_survey_at("+49300001").await.unwrap(), Some(T0 + 100), "from the answers");
    assert_eq!(s.ivr_node_stats("main", T0, T0 + 10_000).await.unwrap(), stats);
    assert_eq!(stats[0].entered, 2);
    assert_eq!(s.call("call-1").await.unwrap(), Some(rec.clone()));
    assert_eq!(s.calls_of_contact(1).await.unwrap(), vec![rec.clone()]);
    assert_eq!(s.calls(None, 10).await.unwrap(), vec![rec]);
    s.close().await;
}
