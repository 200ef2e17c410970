//! The event log: one writer task with group commit, and paged reads.
//!
//! Callers serialise their records on their own task and hand the rows to
//! the writer through a channel. The writer takes whatever has queued up
//! since its last commit (up to [`MAX_GROUP_ROWS`] rows), inserts it in one
//! transaction, commits, and only then answers every caller in the group.
//! While one group commits (one fsync), the next one gathers, so the cost of
//! a sync is shared by every append that arrived meanwhile.
//!
//! If a group fails (say one caller re-sent a sequence number that is
//! already stored), the writer rolls it back and retries each caller's
//! records in a transaction of their own, so only the offending append fails
//! and it changes nothing.

use crate::EventLog;
use crate::db::{Db, DbRow, Store, WritePool, to_i64, with_db};
use crate::error::{Result, StoreError, is_unique_violation};
use engine::{AgentId, ContactId, Event, EventRecord, Time};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use tokio::sync::{mpsc, oneshot};

/// The most rows one group commit takes before it commits (a single append
/// larger than this is still one transaction).
pub const MAX_GROUP_ROWS: usize = 10_000;

/// The most records one page of [`EventLog::read_events`] returns.
pub const MAX_PAGE: usize = 10_000;

/// Rows per multi-row INSERT on SQLite (7 parameters each).
const SQLITE_CHUNK: usize = 128;

/// How many times the writer yields to let more appends queue before it
/// starts a group.
const GATHER_YIELDS: u32 = 2;

/// Multi-row INSERTs for 1, 2, 4, … [`SQLITE_CHUNK`] rows: any number of
/// rows goes in at most log2(chunk) + (n / chunk) statements, all of them
/// from this fixed set (so every one stays in the statement cache).
static SQLITE_INSERTS: LazyLock<Vec<(usize, String)>> = LazyLock::new(|| {
    let mut sizes = Vec::new();
    let mut n = SQLITE_CHUNK;
    while n >= 1 {
        let mut sql = String::from("INSERT INTO events (seq, v, at, kind, contact, agent, payload) VALUES ");
        for i in 0..n {
            let b = i * 7;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7
            ));
        }
        sizes.push((n, sql));
        n /= 2;
    }
    sizes
});

const PG_INSERT: &str = "INSERT INTO events (seq, v, at, kind, contact, agent, payload) \
     SELECT seq, v, at, kind, contact, agent, payload::jsonb \
     FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::text[]) \
     AS t(seq, v, at, kind, contact, agent, payload)";

/// One event, ready for its row: serialised on the caller's task.
pub(crate) struct EventRow {
    seq: i64,
    v: i64,
    at: i64,
    kind: &'static str,
    contact: Option<i64>,
    agent: Option<i64>,
    payload: String,
}

impl EventRow {
    fn new(rec: &EventRecord) -> Result<EventRow> {
        let payload = serde_json::to_string(&rec.event)
            .map_err(|e| StoreError::Invalid(format!("event seq {} cannot be serialised: {e}", rec.seq)))?;
        Ok(EventRow {
            seq: to_i64(rec.seq, "seq")?,
            v: i64::from(rec.v),
            at: to_i64(rec.at.0, "time")?,
            kind: rec.event.name(),
            contact: rec.event.contact().map(|c| to_i64(c.0, "contact id")).transpose()?,
            agent: rec.event.agent().map(|a| i64::from(a.0)),
            payload,
        })
    }
}

struct Pending {
    rows: Vec<EventRow>,
    reply: oneshot::Sender<Result<()>>,
}

enum Msg {
    Append(Pending),
    Close(oneshot::Sender<()>),
}

/// What the event writer has committed since the store was opened.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed (groups).
    pub commits: u64,
    /// Appends acknowledged.
    pub appends: u64,
    /// Events stored.
    pub events: u64,
}

#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    appends: AtomicU64,
    events: AtomicU64,
}

impl Counters {
    fn add(&self, appends: usize, events: usize) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.appends.fetch_add(appends as u64, Ordering::Relaxed);
        self.events.fetch_add(events as u64, Ordering::Relaxed);
    }
}

/// The senders' end of the writer task.
pub(crate) struct WriterHandle {
    tx: mpsc::Sender<Msg>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for WriterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterHandle").field("closed", &self.tx.is_closed()).finish()
    }
}

impl WriterHandle {
    async fn append(&self, rows: Vec<EventRow>) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Msg::Append(Pending { rows, reply })).await.map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) fn stats(&self) -> WriterStats {
        WriterStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            appends: self.counters.appends.load(Ordering::Relaxed),
            events: self.counters.events.load(Ordering::Relaxed),
        }
    }

    pub(crate) async fn close(&self) {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Msg::Close(done)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

pub(crate) fn spawn_writer(db: Db) -> WriterHandle {
    let (tx, rx) = mpsc::channel(4096);
    let counters = Arc::new(Counters::default());
    tokio::spawn(run_writer(db, rx, counters.clone()));
    WriterHandle { tx, counters }
}

async fn run_writer(db: Db, mut rx: mpsc::Receiver<Msg>, counters: Arc<Counters>) {
    let mut closing = None;
    while closing.is_none() {
        let Some(first) = rx.recv().await else { break };
        let mut group = Vec::new();
        let mut rows = 0;
        let mut gathered = 0;
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Append(p) => {
                    rows += p.rows.len();
                    group.push(p);
                }
                Msg::Close(done) => {
                    closing = Some(done);
                    break;
                }
            }
            if rows >= MAX_GROUP_ROWS {
                break;
            }
            next = rx.try_recv().ok();
            if next.is_none() && gathered < GATHER_YIELDS {
                // Let appenders that are ready to run (typically the ones
                // the last commit just answered) queue up first: a yield
                // costs microseconds, a commit costs a disk sync.
                gathered += 1;
                tokio::task::yield_now().await;
                next = rx.try_recv().ok();
            }
        }
        if !group.is_empty() {
            commit_group(&db, group, &counters).await;
        }
    }
    // Refuse what was queued after the close, and anything sent later.
    rx.close();
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Append(p) => {
                let _ = p.reply.send(Err(StoreError::Closed));
            }
            Msg::Close(done) => {
                let _ = done.send(());
            }
        }
    }
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

async fn commit_group(db: &Db, group: Vec<Pending>, counters: &Counters) {
    let all: Vec<&EventRow> = group.iter().flat_map(|p| p.rows.iter()).collect();
    let result = insert(db, &all).await;
    match result {
        Ok(()) => {
            counters.add(group.len(), all.len());
            for p in group {
                let _ = p.reply.send(Ok(()));
            }
        }
        Err(e) if group.len() == 1 => {
            if let Some(p) = group.into_iter().next() {
                let err = explain(db, &p.rows, e).await;
                let _ = p.reply.send(Err(err));
            }
        }
        Err(_) => {
            // One bad append must not fail its neighbours: retry each alone.
            for p in group {
                let rows: Vec<&EventRow> = p.rows.iter().collect();
                let r = match insert(db, &rows).await {
                    Ok(()) => {
                        counters.add(1, rows.len());
                        Ok(())
                    }
                    Err(e) => Err(explain(db, &p.rows, e).await),
                };
                let _ = p.reply.send(r);
            }
        }
    }
}

/// Turn a failed insert into the error its caller sees: a unique violation
/// becomes [`StoreError::DuplicateSeq`] naming the first stored seq.
async fn explain(db: &Db, rows: &[EventRow], e: sqlx::Error) -> StoreError {
    if !is_unique_violation(&e) {
        return StoreError::Database(e);
    }
    let (Some(lo), Some(hi)) = (rows.iter().map(|r| r.seq).min(), rows.iter().map(|r| r.seq).max()) else {
        return StoreError::Database(e);
    };
    let wanted: HashSet<i64> = rows.iter().map(|r| r.seq).collect();
    let found: Result<Vec<i64>> = with_db!(db, pool => {
        sqlx::query_scalar::<_, i64>("SELECT seq FROM events WHERE seq >= $1 AND seq <= $2 ORDER BY seq")
            .bind(lo)
            .bind(hi)
            .fetch_all(pool)
            .await
            .map_err(StoreError::from)
    });
    let seq = found.ok().and_then(|f| f.into_iter().find(|s| wanted.contains(s))).unwrap_or(lo);
    StoreError::DuplicateSeq { seq: u64::try_from(seq).unwrap_or(0) }
}

async fn insert(db: &Db, rows: &[&EventRow]) -> sqlx::Result<()> {
    match db {
        Db::Sqlite(pool) => {
            let mut tx = pool.begin_write().await?;
            let mut rest = rows;
            for (size, sql) in SQLITE_INSERTS.iter() {
                while rest.len() >= *size {
                    let (chunk, tail) = rest.split_at(*size);
                    let mut q = sqlx::query(sql.as_str());
                    for r in chunk {
                        q = q
                            .bind(r.seq)
                            .bind(r.v)
                            .bind(r.at)
                            .bind(r.kind)
                            .bind(r.contact)
                            .bind(r.agent)
                            .bind(&r.payload);
                    }
                    q.execute(&mut *tx).await?;
                    rest = tail;
                }
            }
            tx.commit().await
        }
        Db::Postgres(pool) => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(PG_INSERT)
                .bind(rows.iter().map(|r| r.seq).collect::<Vec<i64>>())
                .bind(rows.iter().map(|r| r.v).collect::<Vec<i64>>())
                .bind(rows.iter().map(|r| r.at).collect::<Vec<i64>>())
                .bind(rows.iter().map(|r| r.kind).collect::<Vec<&str>>())
                .bind(rows.iter().map(|r| r.contact).collect::<Vec<Option<i64>>>())
                .bind(rows.iter().map(|r| r.agent).collect::<Vec<Option<i64>>>())
                .bind(rows.iter().map(|r| r.payload.as_str()).collect::<Vec<&str>>())
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }
    }
}

fn record_from_row(row: &impl DbRow) -> Result<EventRecord> {
    let seq = row.uint("seq")?;
    let v = row.int("v")?;
    let v = u16::try_from(v).map_err(|_| StoreError::Corrupt(format!("event seq {seq}: schema version {v}")))?;
    let event: Event = row.json("payload").map_err(|e| StoreError::Corrupt(format!("event seq {seq}: {e}")))?;
    Ok(EventRecord { v, seq, at: row.time("at")?, event })
}

/// A filtered read of the event log (all filters optional).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// First sequence number to return (inclusive).
    pub from_seq: u64,
    /// Only events about this contact.
    pub contact: Option<ContactId>,
    /// Only events about this agent.
    pub agent: Option<AgentId>,
    /// Only events of this type (`contact_offered`, …; see [`Event::name`]).
    pub kind: Option<String>,
    /// Only events at or after this time.
    pub since: Option<Time>,
    /// At most this many (clamped to 1..=[`MAX_PAGE`]).
    pub limit: usize,
}

pub(crate) fn clamp_limit(limit: usize, max: usize) -> i64 {
    i64::try_from(limit.clamp(1, max)).unwrap_or(1)
}

impl EventLog for Store {
    async fn append(&self, records: &[EventRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut seen = HashSet::with_capacity(records.len());
        let mut rows = Vec::with_capacity(records.len());
        for rec in records {
            if !seen.insert(rec.seq) {
                return Err(StoreError::DuplicateSeq { seq: rec.seq });
            }
            rows.push(EventRow::new(rec)?);
        }
        self.writer.append(rows).await
    }

    async fn read_events(&self, from_seq: u64, limit: usize) -> Result<Vec<EventRecord>> {
        self.query_events(&EventQuery { from_seq, limit, ..EventQuery::default() }).await
    }

    async fn query_events(&self, q: &EventQuery) -> Result<Vec<EventRecord>> {
        let from = to_i64(q.from_seq, "seq")?;
        let contact = q.contact.map(|c| to_i64(c.0, "contact id")).transpose()?;
        let agent = q.agent.map(|a| i64::from(a.0));
        let since = q.since.map(|t| to_i64(t.0, "time")).transpose()?;
        let limit = clamp_limit(q.limit, MAX_PAGE);
        with_db!(&self.db, pool => {
            let mut b = sqlx::QueryBuilder::new("SELECT seq, v, at, payload FROM events WHERE seq >= ");
            b.push_bind(from);
            if let Some(c) = contact {
                b.push(" AND contact = ").push_bind(c);
            }
            if let Some(a) = agent {
                b.push(" AND agent = ").push_bind(a);
            }
            if let Some(k) = &q.kind {
                b.push(" AND kind = ").push_bind(k.as_str());
            }
            if let Some(t) = since {
                b.push(" AND at >= ").push_bind(t);
            }
            b.push(" ORDER BY seq LIMIT ").push_bind(limit);
            let rows = b.build().fetch_all(pool).await?;
            rows.iter().map(record_from_row).collect()
        })
    }

    async fn latest_seq(&self) -> Result<u64> {
        let max: i64 = with_db!(&self.db, pool => {
            sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(seq), 0) FROM events").fetch_one(pool).await?
        });
        u64::try_from(max).map_err(|_| StoreError::Corrupt(format!("negative seq {max}")))
    }

    async fn event_count(&self) -> Result<u64> {
        let n: i64 = with_db!(&self.db, pool => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM events").fetch_one(pool).await?
        });
        u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative count {n}")))
    }
}
