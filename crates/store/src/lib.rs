//! # Switchboard's store
//!
//! Persistence for the server: the event log (append-only, group commit),
//! the engine's configuration and latest snapshot, accounts (users, teams),
//! customers, contact records with wrap-up, the audit log, and the
//! telephony records (survey answers, IVR node visits, calls).
//!
//! **Backends.** SQLite in WAL mode in a data directory by default (nothing
//! to install), PostgreSQL when given a URL. One migrations folder per
//! backend (`migrations/sqlite`, `migrations/postgres`), embedded in the
//! binary and run on open.
//!
//! **Shape.** The interface is a small set of traits — [`EventLog`],
//! [`ConfigStore`], [`AccountStore`], [`CustomerStore`], [`AuditLog`],
//! [`SessionStore`], [`DocumentStore`], [`VoiceStore`], together [`Storage`] — and one implementation, [`Store`]. A `Store` holds
//! one *typed* pool (`SqlitePool` or `PgPool`, never `AnyPool`), chosen at run
//! time by [`Location`]; its methods are written once and compiled per
//! backend (`with_db!`), and differ only where SQL must (DDL, the bulk event
//! insert). Code above the store (the server, tests) can be generic over
//! `S: Storage` or use `Store` directly; the conformance suite in
//! `tests/conformance` runs against every backend through the traits.
//!
//! ```no_run
//! # async fn demo() -> Result<(), store::StoreError> {
//! use store::{EventLog, Location, Store};
//! let store = Store::open(&Location::DataDir("data".into())).await?;
//! let latest = store.latest_seq().await?;
//! # let _ = latest; Ok(()) }
//! ```
//!
//! **Durability.** An append is acknowledged only after the transaction
//! holding it committed (SQLite: `synchronous = FULL`, the WAL is synced;
//! PostgreSQL: `synchronous_commit` as configured, `on` by default).
//!
//! **Restart.** The engine's log holds its configuration history
//! (`QueueConfigured`/`AgentConfigured`), so the log alone rebuilds the
//! engine: load the [`engine::Settings`] and replay every event
//! ([`replay_engine`]). The server resumes faster from the latest
//! [`Snapshot`] (one row, replaced by each save) plus the events after its
//! `seq`; the snapshot is only a cache — deleting it changes nothing but
//! start-up time. The configuration tables are the administrators' source
//! of truth and start a fresh engine when the log is empty.
//!
//! **Times** are [`engine::Time`] (ms since the Unix epoch) stored as
//! BIGINT; ids of engine objects are the engine's ids.

mod accounts;
mod audit;
mod config;
mod csv;
mod customers;
mod db;
mod error;
mod events;
mod sessions;
mod voice;

pub use accounts::{NewUser, Role, Team, User};
pub use audit::{AuditEntry, AuditQuery, NewAuditEntry};
pub use config::Snapshot;
pub use csv::{CSV_HEADER, CsvRecord, ImportReport, RowError, csv_field, parse_csv};
pub use customers::{
    ContactRecord, Customer, CustomerData, CustomerSegment, Page, UpsertCounts, WrapUp, new_customer_id,
    normalise_phone, valid_email,
};
pub use db::{Backend, Location, SQLITE_FILE, Store};
pub use error::{Result, StoreError};
pub use events::{EventQuery, MAX_GROUP_ROWS, MAX_PAGE, WriterStats};
pub use sessions::Session;
pub use voice::{
    CallRecord, IvrNodeIntervalRow, IvrNodeStatsRow, IvrVisit, SurveyAnswer, SurveyFilter, SurveySummaryRow,
};

use engine::{
    AgentConfig, AgentId, ContactId, Engine, EngineConfig, EventRecord, QueueConfig, QueueId, Settings, Time,
};

/// The append-only event log.
pub trait EventLog: Send + Sync {
    /// Append records; resolves once the transaction holding them has
    /// committed (concurrent appends share one transaction: group commit).
    /// A `seq` already stored (or repeated within `records`) fails the whole
    /// append with [`StoreError::DuplicateSeq`] and stores none of it.
    ///
    /// Appends are committed in the order they reach the writer, so a driver
    /// that sends its engine's events in order (even without awaiting each
    /// append before sending the next) never exposes a gap to readers. An
    /// append whose caller stops waiting may still be committed.
    fn append(&self, records: &[EventRecord]) -> impl Future<Output = Result<()>> + Send;

    /// Up to `limit` records (at most [`MAX_PAGE`]) with `seq >= from_seq`, in order.
    fn read_events(&self, from_seq: u64, limit: usize) -> impl Future<Output = Result<Vec<EventRecord>>> + Send;

    /// Records matching a filter (contact, agent, type, time), in order.
    fn query_events(&self, query: &EventQuery) -> impl Future<Output = Result<Vec<EventRecord>>> + Send;

    /// The largest stored `seq`, 0 when the log is empty.
    fn latest_seq(&self) -> impl Future<Output = Result<u64>> + Send;

    /// How many records are stored.
    fn event_count(&self) -> impl Future<Output = Result<u64>> + Send;
}

/// The engine's configuration and its latest snapshot.
pub trait ConfigStore: Send + Sync {
    /// Store the engine-wide settings.
    fn save_settings(&self, settings: &Settings) -> impl Future<Output = Result<()>> + Send;
    /// The stored settings, if any were saved.
    fn load_settings(&self) -> impl Future<Output = Result<Option<Settings>>> + Send;
    /// Add or replace a queue (keyed by its id).
    fn put_queue(&self, queue: &QueueConfig) -> impl Future<Output = Result<()>> + Send;
    /// Remove a queue; `false` if it was not stored.
    fn remove_queue(&self, id: QueueId) -> impl Future<Output = Result<bool>> + Send;
    /// Every queue, by id.
    fn queues(&self) -> impl Future<Output = Result<Vec<QueueConfig>>> + Send;
    /// Add or replace an agent (keyed by its id).
    fn put_agent(&self, agent: &AgentConfig) -> impl Future<Output = Result<()>> + Send;
    /// Remove an agent; `false` if it was not stored.
    fn remove_agent(&self, id: AgentId) -> impl Future<Output = Result<bool>> + Send;
    /// Every agent, by id.
    fn agents(&self) -> impl Future<Output = Result<Vec<AgentConfig>>> + Send;
    /// Replace settings, queues and agents in one transaction.
    fn save_engine_config(&self, config: &EngineConfig) -> impl Future<Output = Result<()>> + Send;
    /// Settings (default when never saved), queues and agents.
    fn load_engine_config(&self) -> impl Future<Output = Result<EngineConfig>> + Send;
    /// Keep this snapshot as the latest (replacing the previous one: only
    /// one is ever kept).
    fn save_snapshot(&self, snapshot: &Snapshot) -> impl Future<Output = Result<()>> + Send;
    /// The latest snapshot, if any. A row that cannot be read (an older
    /// format, damage) is an error: callers treat it as no snapshot.
    fn latest_snapshot(&self) -> impl Future<Output = Result<Option<Snapshot>>> + Send;
}

/// Users and teams.
pub trait AccountStore: Send + Sync {
    /// Create a team; [`StoreError::Conflict`] if the name is taken.
    fn create_team(&self, name: &str) -> impl Future<Output = Result<Team>> + Send;
    /// A team by id.
    fn team(&self, id: i64) -> impl Future<Output = Result<Option<Team>>> + Send;
    /// Every team, by name.
    fn teams(&self) -> impl Future<Output = Result<Vec<Team>>> + Send;
    /// Rename a team.
    fn rename_team(&self, id: i64, name: &str) -> impl Future<Output = Result<Team>> + Send;
    /// Delete a team (its users keep their accounts, without a team).
    fn delete_team(&self, id: i64) -> impl Future<Output = Result<bool>> + Send;
    /// Create a user; [`StoreError::Conflict`] if the login or agent link is taken.
    fn create_user(&self, user: &NewUser) -> impl Future<Output = Result<User>> + Send;
    /// A user by id.
    fn user(&self, id: i64) -> impl Future<Output = Result<Option<User>>> + Send;
    /// A user by login (case-insensitive).
    fn user_by_login(&self, login: &str) -> impl Future<Output = Result<Option<User>>> + Send;
    /// Users by login, all or one team's.
    fn users(&self, team_id: Option<i64>) -> impl Future<Output = Result<Vec<User>>> + Send;
    /// Write every editable field of `user` (found by `user.id`).
    fn update_user(&self, user: &User) -> impl Future<Output = Result<User>> + Send;
    /// Delete a user.
    fn delete_user(&self, id: i64) -> impl Future<Output = Result<bool>> + Send;
    /// Count a failed login atomically; with `lock_until`, also lock the account until then.
    fn record_login_failure(&self, id: i64, lock_until: Option<Time>) -> impl Future<Output = Result<User>> + Send;
    /// Reset the failed-login counter and the lock (after a good login or an admin unlock).
    fn clear_login_failures(&self, id: i64) -> impl Future<Output = Result<User>> + Send;
}

/// Customers and their contact history.
pub trait CustomerStore: Send + Sync {
    /// Create a customer with the given id (or a generated one);
    /// [`StoreError::Conflict`] if the id exists, [`StoreError::Invalid`] for bad data.
    fn create_customer(&self, id: Option<&str>, data: &CustomerData) -> impl Future<Output = Result<Customer>> + Send;
    /// Overwrite a customer's data; [`StoreError::NotFound`] if missing.
    fn update_customer(&self, id: &str, data: &CustomerData) -> impl Future<Output = Result<Customer>> + Send;
    /// Insert or update many customers in one transaction (all or nothing).
    fn upsert_customers(
        &self,
        rows: &[(Option<String>, CustomerData)],
    ) -> impl Future<Output = Result<UpsertCounts>> + Send;
    /// A customer by id.
    fn customer(&self, id: &str) -> impl Future<Output = Result<Option<Customer>>> + Send;
    /// Customers with this phone number (normalised before the lookup), most
    /// recently updated first; empty for a number that cannot be normalised.
    fn customers_by_phone(&self, number: &str) -> impl Future<Output = Result<Vec<Customer>>> + Send;
    /// Customers whose name, id, e-mail or attributes contain `text`
    /// (case-insensitive for ASCII; any script, Chinese included), or whose
    /// phone number contains its digits (at least four); most recently
    /// updated first, at most `limit` (1..=1000).
    fn search_customers(&self, text: &str, limit: usize) -> impl Future<Output = Result<Vec<Customer>>> + Send;
    /// Customers by id, `limit` (1..=1000) at a time, after the cursor `after`.
    fn list_customers(&self, after: Option<&str>, limit: usize) -> impl Future<Output = Result<Page<Customer>>> + Send;
    /// How many customers are stored.
    fn count_customers(&self) -> impl Future<Output = Result<u64>> + Send;
    /// Delete a customer (their contact records stay, unlinked).
    fn delete_customer(&self, id: &str) -> impl Future<Output = Result<bool>> + Send;
    /// Insert or replace the record of a contact. A record without a wrap-up
    /// keeps the wrap-up already stored (it may have been given first).
    fn put_contact_record(&self, record: &ContactRecord) -> impl Future<Output = Result<()>> + Send;
    /// Store the wrap-up of a recorded contact.
    fn set_wrap_up(&self, contact: ContactId, wrap_up: &WrapUp) -> impl Future<Output = Result<()>> + Send;
    /// One contact record.
    fn contact_record(&self, contact: ContactId) -> impl Future<Output = Result<Option<ContactRecord>>> + Send;
    /// A customer's contacts, newest first, strictly before the cursor
    /// `(arrived_at, contact)` of the last record of the previous page.
    fn customer_history(
        &self,
        customer_id: &str,
        before: Option<(Time, ContactId)>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ContactRecord>>> + Send;

    /// Import customers from CSV (format: [`CSV_HEADER`], see the `csv`
    /// module docs). Bad rows are reported with line and reason; the good
    /// rows are stored in one transaction; an existing id is updated.
    fn import_customers_csv(&self, text: &str) -> impl Future<Output = Result<ImportReport>> + Send {
        async move {
            let (rows, errors) = csv::read_customers(text);
            let rows: Vec<(Option<String>, CustomerData)> = rows.into_iter().map(|(_, id, d)| (id, d)).collect();
            let counts = if rows.is_empty() { UpsertCounts::default() } else { self.upsert_customers(&rows).await? };
            Ok(ImportReport { errors, ..ImportReport::default() }.with_counts(counts))
        }
    }

    /// Every customer as CSV, by id, in the format the import reads.
    fn export_customers_csv(&self) -> impl Future<Output = Result<String>> + Send {
        async move {
            let mut out = csv::header_line();
            let mut after: Option<String> = None;
            loop {
                let page = self.list_customers(after.as_deref(), 1000).await?;
                for c in &page.items {
                    out.push_str(&csv::customer_line(c));
                }
                match page.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            Ok(out)
        }
    }
}

/// The audit log.
pub trait AuditLog: Send + Sync {
    /// Append an entry (timestamped by the store).
    fn audit(&self, entry: &NewAuditEntry) -> impl Future<Output = Result<AuditEntry>> + Send;
    /// Entries matching the query, newest first.
    fn audit_entries(&self, query: &AuditQuery) -> impl Future<Output = Result<Vec<AuditEntry>>> + Send;
}

/// Login sessions (the server issues tokens; the store keeps their hashes).
pub trait SessionStore: Send + Sync {
    /// Store a new session.
    fn create_session(&self, session: &Session) -> impl Future<Output = Result<()>> + Send;
    /// A session by token hash (expired ones too: the caller checks times).
    fn session(&self, token_hash: &str) -> impl Future<Output = Result<Option<Session>>> + Send;
    /// Record a request at `at` (never moves `last_seen` back).
    fn touch_session(&self, token_hash: &str, at: Time) -> impl Future<Output = Result<()>> + Send;
    /// End one session; `false` if it did not exist.
    fn delete_session(&self, token_hash: &str) -> impl Future<Output = Result<bool>> + Send;
    /// End every session of a user (password change, lock, deletion); how many.
    fn delete_user_sessions(&self, user_id: i64) -> impl Future<Output = Result<u64>> + Send;
    /// Remove sessions expired at `at` or idle since before `idle_before`; how many.
    fn purge_sessions(&self, idle_before: Time, at: Time) -> impl Future<Output = Result<u64>> + Send;
}

/// Small named JSON documents the server owns (its desk settings, hooks).
pub trait DocumentStore: Send + Sync {
    /// Store (or replace) a document.
    fn put_document(&self, name: &str, data: &serde_json::Value) -> impl Future<Output = Result<()>> + Send;
    /// A document by name.
    fn document(&self, name: &str) -> impl Future<Output = Result<Option<serde_json::Value>>> + Send;
}

/// Telephony records for the `voice` crate: post-call surveys, IVR node
/// visits and the call log. Times are ms since the Unix epoch.
pub trait VoiceStore: Send + Sync {
    /// Store survey answers in one transaction (all or nothing; scores must
    /// be 1..=5). Each caller's anti-fatigue time moves to their latest
    /// answer (see [`VoiceStore::last_survey_at`]).
    fn add_survey_answers(&self, answers: &[SurveyAnswer]) -> impl Future<Output = Result<()>> + Send;
    /// Answers matching the filter, newest first (by `at`, then by insertion),
    /// at most `limit` (clamped to 1..=1000).
    fn survey_answers(
        &self,
        filter: &SurveyFilter,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<SurveyAnswer>>> + Send;
    /// When this caller (as given, e.g. a normalised number) was last offered
    /// a survey or answered one; `None` if never.
    fn last_survey_at(&self, caller: &str) -> impl Future<Output = Result<Option<i64>>> + Send;
    /// Record that the caller was offered a survey at `at` (upsert; never
    /// moves the time back), so one who hung up on it is not asked again
    /// within the anti-fatigue period.
    fn note_survey_offered(&self, caller: &str, at: i64) -> impl Future<Output = Result<()>> + Send;
    /// Per (agent, queue, question) of the filtered answers: count, mean
    /// score and how many gave each score, computed in SQL. Sorted by agent,
    /// queue (each with `None` last), then question.
    fn survey_summary(&self, filter: &SurveyFilter) -> impl Future<Output = Result<Vec<SurveySummaryRow>>> + Send;

    /// Store IVR node visits in one transaction (all or nothing).
    fn add_ivr_visits(&self, visits: &[IvrVisit]) -> impl Future<Output = Result<()>> + Send;
    /// Per (version, node) of a flow, over the visits entered in
    /// `since..until` (ms, `until` excluded): visits, drops, visits per
    /// outcome, and the total and mean time spent by the visits whose
    /// `left_at` is known. Sorted by version, then node.
    fn ivr_node_stats(
        &self,
        flow: &str,
        since: i64,
        until: i64,
    ) -> impl Future<Output = Result<Vec<IvrNodeStatsRow>>> + Send;
    /// The same statistics per interval of `interval_ms` (aligned on the
    /// epoch, so on the hour for 15/30/60 minutes): each visit counts in the
    /// interval in which it entered the node, time spent included. Only
    /// intervals with visits; sorted by interval start, version, node.
    fn ivr_node_stats_by_interval(
        &self,
        flow: &str,
        since: i64,
        until: i64,
        interval_ms: i64,
    ) -> impl Future<Output = Result<Vec<IvrNodeIntervalRow>>> + Send;

    /// Insert a call, or replace every field of the stored call with this id
    /// (a call is written when it starts and again when it ends).
    fn put_call(&self, call: &CallRecord) -> impl Future<Output = Result<()>> + Send;
    /// A call by id.
    fn call(&self, call: &str) -> impl Future<Output = Result<Option<CallRecord>>> + Send;
    /// The calls of a contact, oldest first.
    fn calls_of_contact(&self, contact: u64) -> impl Future<Output = Result<Vec<CallRecord>>> + Send;
    /// Calls started strictly before `before` (all when `None`), newest first
    /// (ties by call id, descending), `limit` at a time (clamped to
    /// 1..=1000). For the next page pass the last call's `started_at`: a full
    /// page also carries every call sharing that start time (so it may be a
    /// little longer than `limit`), and none is skipped.
    fn calls(&self, before: Option<i64>, limit: usize) -> impl Future<Output = Result<Vec<CallRecord>>> + Send;
}

/// Everything the server needs from storage.
pub trait Storage:
    EventLog
    + ConfigStore
    + AccountStore
    + CustomerStore
    + AuditLog
    + SessionStore
    + DocumentStore
    + VoiceStore
    + Clone
    + 'static
{
}

impl<T> Storage for T where
    T: EventLog
        + ConfigStore
        + AccountStore
        + CustomerStore
        + AuditLog
        + SessionStore
        + DocumentStore
        + VoiceStore
        + Clone
        + 'static
{
}

/// Rebuild the engine after a restart: the stored settings (default when
/// none were saved) and every event of the log, applied in order, read in
/// pages of [`MAX_PAGE`]. With an empty log the engine is empty: start a
/// fresh one with `Engine::start(store.load_engine_config())` and append its
/// events.
pub async fn replay_engine<S: EventLog + ConfigStore>(store: &S) -> Result<Engine> {
    let settings = store.load_settings().await?.unwrap_or_default();
    let mut engine = Engine::replay(settings, std::iter::empty());
    let mut next = 0;
    loop {
        let page = store.read_events(next, MAX_PAGE).await?;
        let Some(last) = page.last() else { break };
        next = last.seq.saturating_add(1);
        for rec in &page {
            engine.apply_record(rec);
        }
        if page.len() < MAX_PAGE {
            break;
        }
    }
    Ok(engine)
}
