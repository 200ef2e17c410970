//! Append throughput with group commit (ignored by default; run with
//! `cargo test -p store --release --test conformance -- --ignored perf`).
//! Prints events per second for 8 concurrent appenders at several batch sizes.

use crate::harness::{TestDb, records, test_db};
use std::io::Write;
use std::time::Instant;
use store::{Backend, EventLog};

const APPENDERS: u64 = 8;

async fn measure(db: &TestDb, events: u64, batch: u64) -> f64 {
    let s = db.open().await;
    let base = s.latest_seq().await.unwrap() + 1;
    let per_task = events / APPENDERS;
    // Pre-build the records so that only appending is timed.
    let work: Vec<Vec<Vec<engine::EventRecord>>> = (0..APPENDERS)
        .map(|t| {
            let first = base + t * per_task;
            (0..per_task / batch).map(|b| records(first + b * batch..first + (b + 1) * batch)).collect()
        })
        .collect();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for batches in work {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for b in &batches {
                s.append(b).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let stats = s.writer_stats();
    let _ = writeln!(
        std::io::stderr(),
        "  {} commits for {} appends ({:.1} appends per commit)",
        stats.commits,
        stats.appends,
        stats.appends as f64 / stats.commits.max(1) as f64
    );
    let stored = s.event_count().await.unwrap();
    assert!(stored >= APPENDERS * per_task / batch * batch);
    s.close().await;
    (APPENDERS * (per_task / batch) * batch) as f64 / secs
}

async fn report(backend: Backend) {
    let Some(db) = test_db(backend) else { return };
    let total: u64 = std::env::var("STORE_PERF_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    for batch in [1, 10, 100] {
        // One event per append means one commit per group of at most 8
        // appends: keep that run shorter.
        let events = if batch == 1 { total.min(20_000) } else { total };
        let rate = measure(&db, events, batch).await;
        let _ = writeln!(
            std::io::stderr(),
            "append rate {}: {events} events, {APPENDERS} appenders, {batch} per append: {rate:.0} events/s",
            backend.name()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run with --ignored"]
async fn perf_append_rate_sqlite() {
    report(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run with --ignored"]
async fn perf_append_rate_postgres() {
    report(Backend::Postgres).await;
}
