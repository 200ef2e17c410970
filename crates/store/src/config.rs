//! Engine configuration (settings, queues, agents) and the latest snapshot.

use crate::ConfigStore;
use crate::db::{DbRow, Store, WritePool, now, to_i64, with_db};
use crate::error::{Result, StoreError};
use engine::{AgentConfig, AgentId, EngineConfig, QueueConfig, QueueId, Settings};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

/// A saved snapshot of the server's state at one event sequence number: an
/// opaque, versioned blob. The store does not read `data`; the server
/// writes the engine's state (and its own folds) there and decides, from
/// `format` and the contents, whether it can resume from it. A snapshot is
/// only a cache: without it a restart replays the whole log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Sequence number of the last event the state includes.
    pub seq: u64,
    /// Format of `data` (the writer's own version number).
    pub format: u32,
    /// The serialised state (JSON text; kept as a string so the database
    /// stores it byte for byte, whatever its JSON type does to objects).
    pub data: String,
}

const UPSERT_SETTINGS: &str = "INSERT INTO settings (id, data, updated_at) VALUES (1, $1, $2) \
     ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at";
const UPSERT_QUEUE: &str = "INSERT INTO queues (id, config, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at";
const UPSERT_AGENT: &str = "INSERT INTO agents (id, config, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at";

impl ConfigStore for Store {
    async fn save_settings(&self, settings: &Settings) -> Result<()> {
        let at = to_i64(now().0, "time")?;
        with_db!(&self.db, pool => {
            sqlx::query(UPSERT_SETTINGS).bind(Json(settings)).bind(at).execute(pool).await?;
        });
        Ok(())
    }

    async fn load_settings(&self) -> Result<Option<Settings>> {
        with_db!(&self.db, pool => {
            let row = sqlx::query("SELECT data FROM settings WHERE id = 1").fetch_optional(pool).await?;
            row.map(|r| r.json::<Settings>("data")).transpose()
        })
    }

    async fn put_queue(&self, queue: &QueueConfig) -> Result<()> {
        let at = to_i64(now().0, "time")?;
        with_db!(&self.db, pool => {
            sqlx::query(UPSERT_QUEUE).bind(i64::from(queue.id.0)).bind(Json(queue)).bind(at).execute(pool).await?;
        });
        Ok(())
    }

    async fn remove_queue(&self, id: QueueId) -> Result<bool> {
        with_db!(&self.db, pool => {
            let r = sqlx::query("DELETE FROM queues WHERE id = $1").bind(i64::from(id.0)).execute(pool).await?;
            Ok(r.rows_affected() > 0)
        })
    }

    async fn queues(&self) -> Result<Vec<QueueConfig>> {
        with_db!(&self.db, pool => {
            let rows = sqlx::query("SELECT config FROM queues ORDER BY id").fetch_all(pool).await?;
            rows.iter().map(|r| r.json::<QueueConfig>("config")).collect()
        })
    }

    async fn put_agent(&self, agent: &AgentConfig) -> Result<()> {
        let at = to_i64(now().0, "time")?;
        with_db!(&self.db, pool => {
            sqlx::query(UPSERT_AGENT).bind(i64::from(agent.id.0)).bind(Json(agent)).bind(at).execute(pool).await?;
        });
        Ok(())
    }

    async fn remove_agent(&self, id: AgentId) -> Result<bool> {
        with_db!(&self.db, pool => {
            let r = sqlx::query("DELETE FROM agents WHERE id = $1").bind(i64::from(id.0)).execute(pool).await?;
            Ok(r.rows_affected() > 0)
        })
    }

    async fn agents(&self) -> Result<Vec<AgentConfig>> {
        with_db!(&self.db, pool => {
            let rows = sqlx::query("SELECT config FROM agents ORDER BY id").fetch_all(pool).await?;
            rows.iter().map(|r| r.json::<AgentConfig>("config")).collect()
        })
    }

    async fn save_engine_config(&self, config: &EngineConfig) -> Result<()> {
        let at = to_i64(now().0, "time")?;
        with_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(UPSERT_SETTINGS).bind(Json(&config.settings)).bind(at).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM queues").execute(&mut *tx).await?;
            sqlx::query("DELETE FROM agents").execute(&mut *tx).await?;
            for q in &config.queues {
                sqlx::query(UPSERT_QUEUE).bind(i64::from(q.id.0)).bind(Json(q)).bind(at).execute(&mut *tx).await?;
            }
            for a in &config.agents {
                sqlx::query(UPSERT_AGENT).bind(i64::from(a.id.0)).bind(Json(a)).bind(at).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn load_engine_config(&self) -> Result<EngineConfig> {
        Ok(EngineConfig {
            settings: self.load_settings().await?.unwrap_or_default(),
            queues: self.queues().await?,
            agents: self.agents().await?,
        })
    }

    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<()> {
        let seq = to_i64(snapshot.seq, "seq")?;
        let at = to_i64(now().0, "time")?;
        with_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO snapshots (id, seq, data, saved_at) VALUES (1, $1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, data = excluded.data, saved_at = excluded.saved_at",
            )
            .bind(seq)
            .bind(Json(snapshot))
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn latest_snapshot(&self) -> Result<Option<Snapshot>> {
        with_db!(&self.db, pool => {
            let row = sqlx::query("SELECT seq, data FROM snapshots WHERE id = 1").fetch_optional(pool).await?;
            match row {
                None => Ok(None),
                Some(r) => {
                    let seq = r.uint("seq")?;
                    let snap: Snapshot = r.json("data")?;
                    if snap.seq != seq {
                        return Err(StoreError::Corrupt(format!("snapshot row seq {seq} holds a snapshot of seq {}", snap.seq)));
                    }
                    Ok(Some(snap))
                }
            }
        })
    }
}
