//! The audit log: who did what to which record, when (R-SEC-5).

use crate::AuditLog;
use crate::db::{DbRow, Store, now, to_i64, with_db};
use crate::error::Result;
use engine::Time;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;

/// An entry to append.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// Who: a user login, or `system`.
    pub actor: String,
    /// What: a dotted verb such as `customer.read`, `customer.update`, `queue.configure`.
    pub action: String,
    /// Kind of record: `customer`, `user`, `queue`, ….
    pub record_type: String,
    /// Id of the record.
    pub record_id: String,
    /// Anything else worth keeping (changed fields, the request id, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

/// A stored entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Increasing id (the order of appends).
    pub id: i64,
    /// When (ms since the epoch), from the store's clock.
    pub at: Time,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Kind of record.
    pub record_type: String,
    /// Id of the record.
    pub record_id: String,
    /// Extra detail.
    pub detail: Option<Value>,
}

/// Filters for [`AuditLog::audit_entries`]; newest first.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AuditQuery {
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this kind of record.
    pub record_type: Option<String>,
    /// Only this record (usually with `record_type`).
    pub record_id: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<Time>,
    /// Only entries with a smaller id (the cursor of the next page).
    pub before_id: Option<i64>,
    /// At most this many (clamped to 1..=1000).
    pub limit: usize,
}

fn entry_from_row(r: &impl DbRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.int("id")?,
        at: r.time("at")?,
        actor: r.text("actor")?,
        action: r.text("action")?,
        record_type: r.text("record_type")?,
        record_id: r.text("record_id")?,
        detail: r.opt_json("detail")?,
    })
}

impl AuditLog for Store {
    async fn audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry> {
        let at = to_i64(now().0, "time")?;
        with_db!(&self.db, pool => {
            let row = sqlx::query(
                "INSERT INTO audit_log (at, actor, action, record_type, record_id, detail) VALUES ($1, $2, $3, $4, $5, $6) \
                 RETURNING id, at, actor, action, record_type, record_id, detail",
            )
            .bind(at)
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.record_type)
            .bind(&entry.record_id)
            .bind(entry.detail.as_ref().map(Json))
            .fetch_one(pool)
            .await?;
            entry_from_row(&row)
        })
    }

    async fn audit_entries(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let limit = crate::events::clamp_limit(q.limit, 1000);
        let since = q.since.map(|t| to_i64(t.0, "time")).transpose()?;
        with_db!(&self.db, pool => {
            let mut b = sqlx::QueryBuilder::new(
                "SELECT id, at, actor, action, record_type, record_id, detail FROM audit_log WHERE 1 = 1",
            );
            if let Some(v) = &q.actor {
                b.push(" AND actor = ").push_bind(v.clone());
            }
            if let Some(v) = &q.action {
                b.push(" AND action = ").push_bind(v.clone());
            }
            if let Some(v) = &q.record_type {
                b.push(" AND record_type = ").push_bind(v.clone());
            }
            if let Some(v) = &q.record_id {
                b.push(" AND record_id = ").push_bind(v.clone());
            }
            if let Some(v) = since {
                b.push(" AND at >= ").push_bind(v);
            }
            if let Some(v) = q.before_id {
                b.push(" AND id < ").push_bind(v);
            }
            b.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
            let rows = b.build().fetch_all(pool).await?;
            rows.iter().map(entry_from_row).collect()
        })
    }
}
