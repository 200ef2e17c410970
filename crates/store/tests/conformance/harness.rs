//! Test databases: a temporary SQLite directory or a PostgreSQL schema, both
//! removed when the test ends (also when it panics).

use engine::{AgentId, AgentState, Channel, ContactId, Event, EventRecord, Presence, QueueId, SCHEMA_VERSION, Time};
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Once;
use store::{Backend, Location, Store};

/// The variable naming the PostgreSQL server for the tests.
pub const PG_URL_VAR: &str = "SWITCHBOARD_TEST_PG_URL";

/// A database for one test.
pub struct TestDb {
    /// Where it is.
    pub location: Location,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Schema { url: String, schema: String },
}

impl TestDb {
    /// Open the store (again).
    pub async fn open(&self) -> Store {
        match Store::open(&self.location).await {
            Ok(s) => s,
            Err(e) => panic!("opening {:?} failed: {e}", self.location),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { url, schema } => {
                let (url, schema) = (url.clone(), schema.clone());
                // Drop may run inside the test's runtime: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                    rt.block_on(async {
                        use sqlx::Connection;
                        let mut conn = sqlx::PgConnection::connect(&url).await.ok()?;
                        let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.ok()?;
                        conn.close().await.ok()
                    })
                })
                .join();
            }
        }
    }
}

fn unique() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.write_u32(std::process::id());
    h.finish()
}

/// A fresh, empty test database, or `None` when PostgreSQL is not configured
/// (said once on stderr; a failure under CI).
pub fn test_db(backend: Backend) -> Option<TestDb> {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("switchboard-store-{:016x}", unique()));
            Some(TestDb { location: Location::DataDir(dir.clone()), cleanup: Cleanup::Dir(dir) })
        }
        Backend::Postgres => {
            let url = std::env::var(PG_URL_VAR).ok().filter(|u| !u.trim().is_empty());
            let Some(url) = url else {
                let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
                if ci {
                    panic!(
                        "{PG_URL_VAR} is not set but CI is: the PostgreSQL conformance tests must run in CI \
                         (.ci/run starts a server and sets the variable)"
                    );
                }
                static SAID: Once = Once::new();
                SAID.call_once(|| {
                    // Straight to stderr: libtest captures print!/eprint! of passing tests.
                    let _ = writeln!(
                        std::io::stderr(),
                        "\nstore conformance: PostgreSQL tests SKIPPED: {PG_URL_VAR} is not set \
                         (set it to postgres://user:pass@127.0.0.1:PORT/DB, or run .ci/run, to test PostgreSQL)\n"
                    );
                });
                return None;
            };
            let schema = format!("t_{:016x}", unique());
            Some(TestDb {
                location: Location::Postgres { url: url.clone(), schema: Some(schema.clone()) },
                cleanup: Cleanup::Schema { url, schema },
            })
        }
    }
}

/// Run one conformance test on one backend.
pub async fn run(backend: Backend, test: impl AsyncFnOnce(&TestDb)) {
    let Some(db) = test_db(backend) else { return };
    test(&db).await;
}

/// A made-up but well-formed record of several event types; contact ids
/// `seq / 4`, agents `seq % 7`.
pub fn synthetic(seq: u64) -> EventRecord {
    let agent = AgentId((seq % 7) as u32);
    let contact = ContactId(seq / 4);
    let event = match seq % 4 {
        0 => Event::ContactQueued {
            contact,
            queue: QueueId(1),
            priority: 0,
            waiting_since: Time(seq * 10),
            channel: Channel::Voice,
        },
        1 => Event::AgentStateChanged {
            agent,
            from: AgentState::Ready,
            to: AgentState::NotReady,
            reason: Some("lunch".into()),
            in_state_ms: seq,
        },
        2 => Event::ContactOffered {
            contact,
            queue: QueueId(2),
            agent,
            channel: Channel::Chat,
            deadline: Time(seq * 10 + 15_000),
        },
        _ => Event::AgentPresenceChanged { agent, presence: Presence::NotReady("training \"quoted\" 中文".into()) },
    };
    EventRecord { v: SCHEMA_VERSION, seq, at: Time(1_700_000_000_000 + seq * 10), event }
}

/// Synthetic records for `seqs`.
pub fn records(seqs: impl IntoIterator<Item = u64>) -> Vec<EventRecord> {
    seqs.into_iter().map(synthetic).collect()
}
