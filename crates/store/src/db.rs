//! Opening a store: the two backends, their pools and migrations, and the
//! small amount of glue that lets one body of SQL code serve both.

use crate::error::{Result, StoreError};
use crate::events::{self, WriterHandle};
use engine::Time;
use serde::de::DeserializeOwned;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::types::Json;
use sqlx::{Connection, PgPool, Postgres, Row, Sqlite, SqlitePool, Transaction};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Name of the SQLite database file inside a data directory.
pub const SQLITE_FILE: &str = "switchboard.db";

// The proc macro behind `sqlx::migrate!`, called directly: the `migrate!`
// wrapper needs sqlx's `macros` feature (the query macros and their offline
// data), which this crate does not use.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::sqlx_macros::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::sqlx_macros::migrate!("migrations/postgres");

/// Where the data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// SQLite in WAL mode: the file [`SQLITE_FILE`] in this directory, which
    /// is created when missing. The embedded default: nothing to install.
    DataDir(PathBuf),
    /// SQLite in WAL mode in exactly this file.
    SqliteFile(PathBuf),
    /// PostgreSQL at `url` (`postgres://user:password@host:port/db`). With a
    /// `schema`, every table lives in that schema (created when missing and
    /// put first on the `search_path` of every connection): several stores
    /// can share one database, as the tests do.
    Postgres {
        /// Connection URL.
        url: String,
        /// Schema to use instead of `public`.
        schema: Option<String>,
    },
}

impl Location {
    /// A PostgreSQL URL (`postgres://` or `postgresql://`) selects PostgreSQL;
    /// anything else is taken as a data directory for SQLite.
    pub fn parse(s: &str) -> Location {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Location::Postgres { url: s.to_string(), schema: None }
        } else {
            Location::DataDir(PathBuf::from(s))
        }
    }
}

/// Which database a store runs on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite (bundled), WAL mode, `synchronous = FULL`.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// Stable lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// One typed pool per backend, chosen at run time. No `AnyPool`: each arm
/// keeps its own types, and [`with_db!`] compiles a body of SQL code once
/// per arm.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Run `$body` with `$pool` bound to the backend's typed pool (`&SqlitePool`
/// or `&PgPool`). The body is compiled twice, once per backend, so it may use
/// any sqlx API both backends implement; both arms must give the same type.
macro_rules! with_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_db;

/// The store: a handle to one database, cheap to clone (pools and the event
/// writer are shared). Implements every storage trait of this crate.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) db: Db,
    pub(crate) writer: Arc<WriterHandle>,
}

impl Store {
    /// Open (and create or migrate) the store at `location`. Must be called
    /// inside a Tokio runtime: the event writer is a task on it.
    pub async fn open(location: &Location) -> Result<Store> {
        match location {
            Location::DataDir(dir) => Store::open_sqlite_dir(dir).await,
            Location::SqliteFile(file) => Store::open_sqlite_file(file).await,
            Location::Postgres { url, schema } => Store::open_postgres(url, schema.as_deref()).await,
        }
    }

    /// Open SQLite in `dir` (created when missing), file [`SQLITE_FILE`].
    pub async fn open_sqlite_dir(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir)?;
        Store::open_sqlite_file(&dir.join(SQLITE_FILE)).await
    }

    /// Open SQLite in exactly this file (created when missing).
    ///
    /// WAL mode with `synchronous = FULL`: every commit syncs the WAL, so an
    /// acknowledged append survives a power cut, not only a crash of the
    /// process. (`NORMAL` in WAL mode stays consistent but may lose the last
    /// commits on power loss — wrong for a log whose acknowledgements reach
    /// clients.) Group commit makes the cost one sync per batch, not per event.
    pub async fn open_sqlite_file(file: &Path) -> Result<Store> {
        if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let options = SqliteConnectOptions::new()
            .filename(file)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // Readers run in parallel under WAL; writers take turns (BEGIN IMMEDIATE).
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        SQLITE_MIGRATIONS.run(&pool).await?;
        Ok(Store::with_db(Db::Sqlite(pool)))
    }

    /// Open PostgreSQL at `url`, optionally in `schema` (see [`Location::Postgres`]).
    pub async fn open_postgres(url: &str, schema: Option<&str>) -> Result<Store> {
        let mut options = PgConnectOptions::from_str(url)?;
        if let Some(schema) = schema {
            check_identifier(schema)?;
            let mut conn = sqlx::PgConnection::connect_with(&options).await?;
            let sql = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
            conn.close().await?;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        POSTGRES_MIGRATIONS.run(&pool).await?;
        Ok(Store::with_db(Db::Postgres(pool)))
    }

    fn with_db(db: Db) -> Store {
        let writer = events::spawn_writer(db.clone());
        Store { db, writer: Arc::new(writer) }
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Counters of the event writer (commits, appends, events) since open:
    /// `appends / commits` is the group-commit factor.
    pub fn writer_stats(&self) -> crate::events::WriterStats {
        self.writer.stats()
    }

    /// Finish the appends already queued, stop the event writer and close
    /// the connections. Every clone of this store is closed: later calls
    /// fail with [`StoreError::Closed`] (appends) or a database error.
    pub async fn close(&self) {
        self.writer.close().await;
        with_db!(&self.db, pool => pool.close().await);
    }
}

/// PostgreSQL schema names we accept: lower-case ASCII letters, digits and
/// underscores, starting with a letter or underscore, at most 63 bytes.
fn check_identifier(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if ok { Ok(()) } else { Err(StoreError::Invalid(format!("schema name {name:?}: use [a-z_][a-z0-9_]*"))) }
}

/// Starting a write transaction. SQLite's default deferred `BEGIN` would
/// start as a reader and could fail with `SQLITE_BUSY` when it later tries
/// to write; `BEGIN IMMEDIATE` takes the write lock up front (waiting up to
/// the busy timeout).
pub(crate) trait WritePool {
    type Db: sqlx::Database;
    fn begin_write(&self) -> impl Future<Output = sqlx::Result<Transaction<'static, Self::Db>>> + Send;
}

impl WritePool for SqlitePool {
    type Db = Sqlite;
    async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Sqlite>> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl WritePool for PgPool {
    type Db = Postgres;
    async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Postgres>> {
        self.begin().await
    }
}

/// Typed column access shared by both backends' rows, mapping decode
/// failures to [`StoreError::Corrupt`].
pub(crate) trait DbRow {
    fn int(&self, col: &str) -> Result<i64>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
    fn text(&self, col: &str) -> Result<String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn boolean(&self, col: &str) -> Result<bool>;
    fn float(&self, col: &str) -> Result<f64>;
    fn json<T: DeserializeOwned>(&self, col: &str) -> Result<T>;
    fn opt_json<T: DeserializeOwned>(&self, col: &str) -> Result<Option<T>>;

    /// A non-negative integer column as u64.
    fn uint(&self, col: &str) -> Result<u64> {
        let v = self.int(col)?;
        u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("column {col}: negative value {v}")))
    }

    /// A millisecond timestamp column.
    fn time(&self, col: &str) -> Result<Time> {
        self.uint(col).map(Time)
    }

    /// An optional millisecond timestamp column.
    fn opt_time(&self, col: &str) -> Result<Option<Time>> {
        match self.opt_int(col)? {
            None => Ok(None),
            Some(v) => u64::try_from(v)
                .map(|v| Some(Time(v)))
                .map_err(|_| StoreError::Corrupt(format!("column {col}: negative time {v}"))),
        }
    }
}

fn corrupt(col: &str, e: sqlx::Error) -> StoreError {
    StoreError::Corrupt(format!("column {col}: {e}"))
}

macro_rules! impl_db_row {
    ($row:ty) => {
        impl DbRow for $row {
            fn int(&self, col: &str) -> Result<i64> {
                self.try_get::<i64, _>(col).map_err(|e| corrupt(col, e))
            }
            fn opt_int(&self, col: &str) -> Result<Option<i64>> {
                self.try_get::<Option<i64>, _>(col).map_err(|e| corrupt(col, e))
            }
            fn text(&self, col: &str) -> Result<String> {
                self.try_get::<String, _>(col).map_err(|e| corrupt(col, e))
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>> {
                self.try_get::<Option<String>, _>(col).map_err(|e| corrupt(col, e))
            }
            fn boolean(&self, col: &str) -> Result<bool> {
                self.try_get::<bool, _>(col).map_err(|e| corrupt(col, e))
            }
            fn float(&self, col: &str) -> Result<f64> {
                self.try_get::<f64, _>(col).map_err(|e| corrupt(col, e))
            }
            fn json<T: DeserializeOwned>(&self, col: &str) -> Result<T> {
                self.try_get::<Json<T>, _>(col).map(|j| j.0).map_err(|e| corrupt(col, e))
            }
            fn opt_json<T: DeserializeOwned>(&self, col: &str) -> Result<Option<T>> {
                self.try_get::<Option<Json<T>>, _>(col).map(|j| j.map(|j| j.0)).map_err(|e| corrupt(col, e))
            }
        }
    };
}
impl_db_row!(SqliteRow);
impl_db_row!(PgRow);

/// Milliseconds since the Unix epoch, from the wall clock.
pub(crate) fn now() -> Time {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    Time(ms)
}

/// A value for a BIGINT column; values above `i64::MAX` are refused.
pub(crate) fn to_i64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Invalid(format!("{what} {v} is too large (max {})", i64::MAX)))
}

/// A 64-bit value that differs between calls and processes, without a
/// random-number crate: std's per-process random hash keys, a counter and
/// the clock.
pub(crate) fn unique_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u64(now().0);
    h.write_u32(std::process::id());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u32(d.subsec_nanos());
    }
    h.finish()
}
