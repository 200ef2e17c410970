//! Login sessions and the server's named JSON documents.
//!
//! A session row is keyed by a hash of its token (the token itself is only
//! ever in the user's cookie), so a copy of the database does not let anyone
//! sign in. Documents are small named JSON values the server owns, such as
//! its desk settings (wrap-up codes, not-ready reasons, hooks).

use crate::db::{DbRow, Store, now, to_i64, with_db};
use crate::error::Result;
use crate::{DocumentStore, SessionStore};
use engine::Time;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;

/// A stored session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Hash of the token (hex).
    pub token_hash: String,
    /// The signed-in user.
    pub user_id: i64,
    /// When it was created.
    pub created_at: Time,
    /// Last request seen.
    pub last_seen: Time,
    /// Hard expiry.
    pub expires_at: Time,
}

fn session_from_row(r: &impl DbRow) -> Result<Session> {
    Ok(Session {
        token_hash: r.text("token_hash")?,
        user_id: r.int("user_id")?,
        created_at: r.time("created_at")?,
        last_seen: r.time("last_seen")?,
        expires_at: r.time("expires_at")?,
    })
}

impl SessionStore for Store {
    async fn create_session(&self, session: &Session) -> Result<()> {
        let created = to_i64(session.created_at.0, "time")?;
        let seen = to_i64(session.last_seen.0, "time")?;
        let expires = to_i64(session.expires_at.0, "time")?;
        with_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&session.token_hash)
            .bind(session.user_id)
            .bind(created)
            .bind(seen)
            .bind(expires)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        with_db!(&self.db, pool => {
            let row = sqlx::query(
                "SELECT token_hash, user_id, created_at, last_seen, expires_at FROM sessions WHERE token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await?;
            row.as_ref().map(session_from_row).transpose()
        })
    }

    async fn touch_session(&self, token_hash: &str, at: Time) -> Result<()> {
        let at = to_i64(at.0, "time")?;
        with_db!(&self.db, pool => {
            sqlx::query("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2 AND last_seen < $1")
                .bind(at)
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<bool> {
        with_db!(&self.db, pool => {
            let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(pool).await?;
            Ok(done.rows_affected() > 0)
        })
    }

    async fn delete_user_sessions(&self, user_id: i64) -> Result<u64> {
        with_db!(&self.db, pool => {
            let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(pool).await?;
            Ok(done.rows_affected())
        })
    }

    async fn purge_sessions(&self, idle_before: Time, at: Time) -> Result<u64> {
        let idle = to_i64(idle_before.0, "time")?;
        let at = to_i64(at.0, "time")?;
        with_db!(&self.db, pool => {
            let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen < $2")
                .bind(at)
                .bind(idle)
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }
}

impl DocumentStore for Store {
    async fn put_document(&self, name: &str, data: &Value) -> Result<()> {
        let at = to_i64(now().0, "time")?;
        with_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO documents (name, data, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            )
            .bind(name)
            .bind(Json(data))
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn document(&self, name: &str) -> Result<Option<Value>> {
        with_db!(&self.db, pool => {
            let row = sqlx::query("SELECT data FROM documents WHERE name = $1").bind(name).fetch_optional(pool).await?;
            row.as_ref().map(|r| r.json::<Value>("data")).transpose()
        })
    }
}
