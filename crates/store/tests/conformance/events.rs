//! The event log: append, read back, duplicates, group commit, durability.

use crate::harness::{TestDb, records, synthetic};
use engine::{AgentId, ContactId};
use store::{EventLog, EventQuery, StoreError};

pub async fn empty_log(db: &TestDb) {
    let s = db.open().await;
    assert_eq!(s.latest_seq().await.unwrap(), 0);
    assert_eq!(s.event_count().await.unwrap(), 0);
    assert!(s.read_events(0, 100).await.unwrap().is_empty());
    s.append(&[]).await.unwrap();
    assert_eq!(s.event_count().await.unwrap(), 0);
    s.close().await;
}

pub async fn append_and_read_back(db: &TestDb) {
    let s = db.open().await;
    let all = records(1..=300);
    s.append(&all[..1]).await.unwrap();
    s.append(&all[1..150]).await.unwrap();
    s.append(&all[150..]).await.unwrap();
    assert_eq!(s.read_events(1, 1000).await.unwrap(), all);
    assert_eq!(s.read_events(0, 1000).await.unwrap(), all, "from 0 is from the start");
    assert_eq!(s.read_events(101, 1000).await.unwrap(), all[100..]);
    assert!(s.read_events(301, 10).await.unwrap().is_empty());
    assert_eq!(s.latest_seq().await.unwrap(), 300);
    assert_eq!(s.event_count().await.unwrap(), 300);
    s.close().await;
}

pub async fn paged_and_filtered_reads(db: &TestDb) {
    let s = db.open().await;
    let all = records(1..=250);
    s.append(&all).await.unwrap();

    // Paging: 100 + 100 + 50.
    let mut got = Vec::new();
    let mut from = 1;
    loop {
        let page = s.read_events(from, 100).await.unwrap();
        assert!(page.len() <= 100);
        let Some(last) = page.last() else { break };
        from = last.seq + 1;
        got.extend(page);
    }
    assert_eq!(got, all);

    // Filters use the contact / agent / type columns.
    let by_contact =
        s.query_events(&EventQuery { contact: Some(ContactId(10)), limit: 100, ..Default::default() }).await.unwrap();
    let want: Vec<_> = all.iter().filter(|r| r.event.contact() == Some(ContactId(10))).cloned().collect();
    assert!(!want.is_empty());
    assert_eq!(by_contact, want);

    let by_agent =
        s.query_events(&EventQuery { agent: Some(AgentId(3)), limit: 1000, ..Default::default() }).await.unwrap();
    let want: Vec<_> = all.iter().filter(|r| r.event.agent() == Some(AgentId(3))).cloned().collect();
    assert!(!want.is_empty());
    assert_eq!(by_agent, want);

    let q = EventQuery { kind: Some("contact_offered".into()), from_seq: 100, limit: 5, ..Default::default() };
    let offered = s.query_events(&q).await.unwrap();
    assert_eq!(offered.len(), 5);
    assert!(offered.iter().all(|r| r.event.name() == "contact_offered" && r.seq >= 100));
    assert!(offered.windows(2).all(|w| w[0].seq < w[1].seq));

    let since = all[199].at;
    let late = s.query_events(&EventQuery { since: Some(since), limit: 1000, ..Default::default() }).await.unwrap();
    assert_eq!(late, all[199..]);
    s.close().await;
}

pub async fn duplicate_seq_changes_nothing(db: &TestDb) {
    let s = db.open().await;
    s.append(&records(1..=10)).await.unwrap();

    // 11 and 12 are new, 5 is not: the whole append fails and stores nothing.
    let err = s.append(&records([11, 12, 5])).await.unwrap_err();
    assert!(matches!(err, StoreError::DuplicateSeq { seq: 5 }), "{err:?}");
    assert_eq!(err.code(), "duplicate_seq");
    assert_eq!(s.event_count().await.unwrap(), 10);
    assert_eq!(s.latest_seq().await.unwrap(), 10);

    // A seq repeated inside one append.
    let err = s.append(&records([13, 14, 13])).await.unwrap_err();
    assert!(matches!(err, StoreError::DuplicateSeq { seq: 13 }), "{err:?}");
    assert_eq!(s.event_count().await.unwrap(), 10);

    // The same content again is still a duplicate (no silent idempotence).
    let err = s.append(&[synthetic(10)]).await.unwrap_err();
    assert!(matches!(err, StoreError::DuplicateSeq { seq: 10 }), "{err:?}");

    // The log is unchanged and still takes new events.
    s.append(&records(11..=14)).await.unwrap();
    assert_eq!(s.read_events(1, 100).await.unwrap(), records(1..=14));
    s.close().await;
}

pub async fn concurrent_appends_group_commit(db: &TestDb) {
    let s = db.open().await;
    const TASKS: u64 = 8;
    const BATCHES: u64 = 40;
    const BATCH: u64 = 10;
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            for b in 0..BATCHES {
                let first = 1 + (t * BATCHES + b) * BATCH;
                s.append(&records(first..first + BATCH)).await.unwrap();
            }
        }));
    }
    // A troublemaker re-sends a seq the first task stores early on, racing
    // the others: it must fail alone and store nothing, however it is grouped.
    let bad = {
        let s = s.clone();
        tokio::spawn(async move {
            let mut failures = 0;
            for i in 0..20u64 {
                // 1_000_000 + i is new, 1 is (eventually) a duplicate.
                while s.read_events(1, 1).await.unwrap().first().map(|r| r.seq) != Some(1) {
                    tokio::task::yield_now().await;
                }
                match s.append(&records([1_000_000 + i, 1])).await {
                    Err(StoreError::DuplicateSeq { .. }) => failures += 1,
                    other => panic!("expected a duplicate, got {other:?}"),
                }
            }
            failures
        })
    };
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(bad.await.unwrap(), 20);
    let n = TASKS * BATCHES * BATCH;
    assert_eq!(s.event_count().await.unwrap(), n);
    assert_eq!(s.latest_seq().await.unwrap(), n);
    let mut got = Vec::new();
    let mut from = 1;
    while let Some(last) = {
        let page = s.read_events(from, 1000).await.unwrap();
        let last = page.last().map(|r| r.seq);
        got.extend(page);
        last
    } {
        from = last + 1;
    }
    assert_eq!(got, records(1..=n), "every acknowledged append stored, in seq order, nothing else");
    let stats = s.writer_stats();
    assert_eq!((stats.appends, stats.events), (TASKS * BATCHES, n), "{stats:?}");
    assert!(stats.commits < stats.appends, "concurrent appends share commits: {stats:?}");
    s.close().await;
}

pub async fn acknowledged_appends_survive_reopen(db: &TestDb) {
    let s = db.open().await;
    let all = records(1..=500);
    let mut tasks = Vec::new();
    for chunk in all.chunks(50) {
        let s = s.clone();
        let chunk = chunk.to_vec();
        tasks.push(tokio::spawn(async move { s.append(&chunk).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    // No close: a crash right after the acknowledgements. Dropping every
    // handle is the nearest a test can get inside one process.
    drop(s);
    let s = db.open().await;
    assert_eq!(s.read_events(1, 1000).await.unwrap(), all);
    s.append(&records(501..=502)).await.unwrap();
    assert_eq!(s.latest_seq().await.unwrap(), 502);
    s.close().await;
}

pub async fn closed_store_refuses_appends(db: &TestDb) {
    let s = db.open().await;
    s.append(&records(1..=3)).await.unwrap();
    let other = s.clone();
    s.close().await;
    let err = other.append(&records(4..=5)).await.unwrap_err();
    assert!(matches!(err, StoreError::Closed), "{err:?}");
    assert_eq!(err.code(), "closed");
    s.close().await; // closing twice is harmless
    let s = db.open().await;
    assert_eq!(s.latest_seq().await.unwrap(), 3);
    s.close().await;
}
