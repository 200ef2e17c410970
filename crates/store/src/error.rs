//! The one error type of the store, with a stable code per kind.

/// Everything that can go wrong in the store. [`StoreError::code`] is stable
/// and meant for API error bodies and logs; the message is for people.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An event with this sequence number is already in the log; the append
    /// that carried it changed nothing.
    #[error("event seq {seq} is already in the log")]
    DuplicateSeq {
        /// The first sequence number found already stored.
        seq: u64,
    },
    /// A record with the same unique key exists (login, team name, customer id).
    #[error("{what} already exists")]
    Conflict {
        /// What collided, e.g. `user login "ana"`.
        what: String,
    },
    /// The record does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. `customer "c-1"`.
        what: String,
    },
    /// The caller gave data the store refuses (empty name, malformed phone
    /// number, a value out of range, a reference to a missing record).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Stored data could not be decoded (a hand-edited row, a newer schema).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The store was closed, or its event writer stopped.
    #[error("the store is closed")]
    Closed,
    /// Running the migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Creating the data directory (or another file operation) failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The database refused or failed (connection lost, disk full, …).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Stable, snake_case code of the error kind.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::DuplicateSeq { .. } => "duplicate_seq",
            StoreError::Conflict { .. } => "conflict",
            StoreError::NotFound { .. } => "not_found",
            StoreError::Invalid(_) => "invalid",
            StoreError::Corrupt(_) => "corrupt",
            StoreError::Closed => "closed",
            StoreError::Migration(_) => "migration",
            StoreError::Io(_) => "io",
            StoreError::Database(_) => "database",
        }
    }

    /// Nothing was written and trying again may work: no connection was
    /// free within the pool's time-out (a machine saturated for a while).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::PoolTimedOut))
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        StoreError::NotFound { what: what.into() }
    }

    pub(crate) fn conflict(what: impl Into<String>) -> Self {
        StoreError::Conflict { what: what.into() }
    }

    /// Map a unique-key violation to [`StoreError::Conflict`] and a
    /// foreign-key violation to [`StoreError::Invalid`]; anything else stays
    /// a database error.
    pub(crate) fn from_write(e: sqlx::Error, what: impl FnOnce() -> String) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::conflict(what());
            }
            if db.is_foreign_key_violation() {
                return StoreError::Invalid(format!("{} refers to a record that does not exist", what()));
            }
        }
        StoreError::Database(e)
    }
}

/// Result with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
