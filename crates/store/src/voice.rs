//! Telephony records for the `voice` crate: post-call survey answers (and
//! when each caller was last asked, so nobody is surveyed too often), IVR
//! node visits with per-node statistics, and one row per telephone call.
//!
//! Times here are plain `i64` milliseconds since the Unix epoch, ids the
//! engine's numbers (`u64` contacts, `u32` agents and queues). Aggregates
//! (survey summaries, node statistics) are grouped in SQL.

use crate::VoiceStore;
use crate::db::{DbRow, Store, WritePool, to_i64, with_db};
use crate::error::{Result, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use std::collections::{BTreeMap, HashMap};

/// The largest page the list queries return.
const MAX_ROWS: usize = 1000;

/// One answer to one question of a post-call survey (DTMF 1–5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyAnswer {
    /// The contact surveyed.
    pub contact: u64,
    /// The agent who handled the contact, if any.
    pub agent: Option<u32>,
    /// The queue the contact came through, if any.
    pub queue: Option<u32>,
    /// The caller: a normalised number or a SIP URI (compared as given).
    pub caller: Option<String>,
    /// The question's key (e.g. `"resolved"`, `"agent"`).
    pub question: String,
    /// The score, 1 to 5.
    pub score: u8,
    /// When it was answered (ms since the Unix epoch).
    pub at: i64,
}

/// Which survey answers to read or summarise; every field narrows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyFilter {
    /// Only answers at or after this time (ms).
    pub since: Option<i64>,
    /// Only answers strictly before this time (ms).
    pub until: Option<i64>,
    /// Only this agent's answers.
    pub agent: Option<u32>,
    /// Only this queue's answers.
    pub queue: Option<u32>,
}

/// The survey results of one (agent, queue, question).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SurveySummaryRow {
    /// The agent (`None`: answers without an agent).
    pub agent: Option<u32>,
    /// The queue (`None`: answers without a queue).
    pub queue: Option<u32>,
    /// The question.
    pub question: String,
    /// How many answers.
    pub count: u64,
    /// Their mean score.
    pub mean: f64,
    /// How many answers gave each score: `scores[0]` counts 1s, …,
    /// `scores[4]` counts 5s.
    pub scores: [u64; 5],
}

/// One visit of a call to one node of an IVR flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IvrVisit {
    /// The call id.
    pub call: String,
    /// The flow's name.
    pub flow: String,
    /// The flow's version.
    pub version: u32,
    /// The node's id within the flow.
    pub node: String,
    /// The node's kind (menu, play, collect, …).
    pub kind: String,
    /// When the call entered the node (ms).
    pub entered_at: i64,
    /// When it left the node (ms), if known; not before `entered_at`.
    pub left_at: Option<i64>,
    /// How it left: `"next"`, `"chose:1"`, `"timeout"`, `"invalid"`,
    /// `"dropped"` (the caller hung up here), `"queued"`, …
    pub outcome: String,
}

/// Statistics of one node of one flow version over a period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IvrNodeStatsRow {
    /// The flow version.
    pub version: u32,
    /// The node's id.
    pub node: String,
    /// The node's kind (as recorded by its visits).
    pub kind: String,
    /// Visits (calls that entered the node, counting re-entries).
    pub entered: u64,
    /// Visits with outcome `"dropped"`.
    pub dropped: u64,
    /// Visits per outcome.
    pub outcomes: BTreeMap<String, u64>,
    /// Visits whose `left_at` is known (the ones timed).
    pub timed: u64,
    /// Total time spent in the node by the timed visits (ms).
    pub total_ms: i64,
    /// Mean time spent per timed visit (ms); `None` when none was timed.
    pub mean_ms: Option<f64>,
}

/// Statistics of one node of one flow version in one interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IvrNodeIntervalRow {
    /// Start of the interval (ms).
    pub start: i64,
    /// End of the interval (ms, excluded).
    pub end: i64,
    /// The node's statistics for visits that entered it in the interval.
    #[serde(flatten)]
    pub stats: IvrNodeStatsRow,
}

/// One telephone call: the call log, its recording and its quality.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// Our call id (unique).
    pub call: String,
    /// The engine contact the call became, if any.
    pub contact: Option<u64>,
    /// `"inbound"`, `"outbound"` or `"callback"`.
    pub direction: String,
    /// The calling number or SIP URI.
    pub caller: String,
    /// The number called (a DID for inbound calls).
    pub callee: String,
    /// When the call started (ms).
    pub started_at: i64,
    /// When it was answered (ms).
    pub answered_at: Option<i64>,
    /// When it ended (ms).
    pub ended_at: Option<i64>,
    /// Why it ended: `"caller-hangup"`, `"agent-hangup"`, `"dropped"`,
    /// `"abandoned"`, `"voicemail"`, …
    pub end_reason: Option<String>,
    /// The agent who took it.
    pub agent: Option<u32>,
    /// Path of the recording.
    pub recording: Option<String>,
    /// Length of the recording (ms).
    pub recording_ms: Option<u64>,
    /// Quality measures (per leg: packets, loss, jitter, one-way audio).
    pub quality: Option<Value>,
    /// Path of a voicemail left on the call.
    pub voicemail: Option<String>,
}

const CALL_COLUMNS: &str = "call_id, contact_id, direction, caller, callee, started_at, answered_at, ended_at, \
                            end_reason, agent_id, recording, recording_ms, quality, voicemail";

fn opt_u32(r: &impl DbRow, col: &str) -> Result<Option<u32>> {
    r.opt_int(col)?
        .map(|v| u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("column {col}: {v} is not a u32"))))
        .transpose()
}

fn u32_col(r: &impl DbRow, col: &str) -> Result<u32> {
    let v = r.int(col)?;
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("column {col}: {v} is not a u32")))
}

fn opt_u64(r: &impl DbRow, col: &str) -> Result<Option<u64>> {
    r.opt_int(col)?
        .map(|v| u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("column {col}: negative value {v}"))))
        .transpose()
}

fn answer_from_row(r: &impl DbRow) -> Result<SurveyAnswer> {
    let score = r.int("score")?;
    Ok(SurveyAnswer {
        contact: r.uint("contact_id")?,
        agent: opt_u32(r, "agent_id")?,
        queue: opt_u32(r, "queue_id")?,
        caller: r.opt_text("caller")?,
        question: r.text("question")?,
        score: u8::try_from(score)
            .ok()
            .filter(|s| (1..=5).contains(s))
            .ok_or_else(|| StoreError::Corrupt(format!("column score: {score} is not 1..=5")))?,
        at: r.int("at")?,
    })
}

fn summary_from_row(r: &impl DbRow) -> Result<SurveySummaryRow> {
    Ok(SurveySummaryRow {
        agent: opt_u32(r, "agent_id")?,
        queue: opt_u32(r, "queue_id")?,
        question: r.text("question")?,
        count: r.uint("n")?,
        mean: r.float("mean")?,
        scores: [r.uint("s1")?, r.uint("s2")?, r.uint("s3")?, r.uint("s4")?, r.uint("s5")?],
    })
}

fn call_from_row(r: &impl DbRow) -> Result<CallRecord> {
    Ok(CallRecord {
        call: r.text("call_id")?,
        contact: opt_u64(r, "contact_id")?,
        direction: r.text("direction")?,
        caller: r.text("caller")?,
        callee: r.text("callee")?,
        started_at: r.int("started_at")?,
        answered_at: r.opt_int("answered_at")?,
        ended_at: r.opt_int("ended_at")?,
        end_reason: r.opt_text("end_reason")?,
        agent: opt_u32(r, "agent_id")?,
        recording: r.opt_text("recording")?,
        recording_ms: opt_u64(r, "recording_ms")?,
        quality: r.opt_json("quality")?,
        voicemail: r.opt_text("voicemail")?,
    })
}

/// One group of `ivr_node_stats`' query: a (version, node, outcome).
struct OutcomeGroup {
    version: u32,
    node: String,
    outcome: String,
    kind: String,
    count: u64,
    timed: u64,
    total_ms: i64,
}

fn outcome_group_from_row(r: &impl DbRow) -> Result<OutcomeGroup> {
    Ok(OutcomeGroup {
        version: u32_col(r, "version")?,
        node: r.text("node")?,
        outcome: r.text("outcome")?,
        kind: r.text("kind")?,
        count: r.uint("n")?,
        timed: r.uint("timed")?,
        total_ms: r.int("total_ms")?,
    })
}

/// Per-(version, node) rows from per-(version, node, outcome) groups, by
/// version then node.
fn assemble_node_stats(groups: Vec<OutcomeGroup>) -> Vec<IvrNodeStatsRow> {
    let mut rows: BTreeMap<(u32, String), IvrNodeStatsRow> = BTreeMap::new();
    for g in groups {
        let row = rows.entry((g.version, g.node.clone())).or_insert_with(|| IvrNodeStatsRow {
            version: g.version,
            node: g.node.clone(),
            kind: g.kind.clone(),
            entered: 0,
            dropped: 0,
            outcomes: BTreeMap::new(),
            timed: 0,
            total_ms: 0,
            mean_ms: None,
        });
        row.entered += g.count;
        if g.outcome == "dropped" {
            row.dropped += g.count;
        }
        row.timed += g.timed;
        row.total_ms = row.total_ms.saturating_add(g.total_ms);
        *row.outcomes.entry(g.outcome).or_insert(0) += g.count;
    }
    rows.into_values()
        .map(|mut r| {
            // Precision loss only beyond 2^53 ms or visits: not a concern.
            #[allow(clippy::cast_precision_loss)]
            let mean = (r.timed > 0).then(|| r.total_ms as f64 / r.timed as f64);
            r.mean_ms = mean;
            r
        })
        .collect()
}

fn check_answer(a: &SurveyAnswer) -> Result<()> {
    if !(1..=5).contains(&a.score) {
        return Err(StoreError::Invalid(format!("survey score {} (expected 1 to 5)", a.score)));
    }
    if a.question.trim().is_empty() {
        return Err(StoreError::Invalid("survey answer without a question".into()));
    }
    if a.caller.as_deref().is_some_and(|c| c.trim().is_empty()) {
        return Err(StoreError::Invalid("survey answer with an empty caller".into()));
    }
    Ok(())
}

fn check_visit(v: &IvrVisit) -> Result<()> {
    if v.call.is_empty() || v.flow.is_empty() || v.node.is_empty() || v.outcome.is_empty() {
        return Err(StoreError::Invalid("IVR visit needs a call, flow, node and outcome".into()));
    }
    if v.left_at.is_some_and(|l| l < v.entered_at) {
        return Err(StoreError::Invalid(format!("IVR visit of {} to {}: left before it entered", v.call, v.node)));
    }
    Ok(())
}

/// Add the `WHERE` clauses of a survey filter to a query builder that
/// already has a `WHERE` condition.
macro_rules! push_survey_filter {
    ($b:expr, $f:expr) => {{
        if let Some(v) = $f.since {
            $b.push(" AND at >= ").push_bind(v);
        }
        if let Some(v) = $f.until {
            $b.push(" AND at < ").push_bind(v);
        }
        if let Some(v) = $f.agent {
            $b.push(" AND agent_id = ").push_bind(i64::from(v));
        }
        if let Some(v) = $f.queue {
            $b.push(" AND queue_id = ").push_bind(i64::from(v));
        }
    }};
}

impl VoiceStore for Store {
    async fn add_survey_answers(&self, answers: &[SurveyAnswer]) -> Result<()> {
        if answers.is_empty() {
            return Ok(());
        }
        let mut rows = Vec::with_capacity(answers.len());
        // The latest answer per caller moves their anti-fatigue time.
        let mut latest: HashMap<&str, i64> = HashMap::new();
        for a in answers {
            check_answer(a)?;
            rows.push((to_i64(a.contact, "contact id")?, a));
            if let Some(c) = a.caller.as_deref() {
                let t = latest.entry(c).or_insert(a.at);
                *t = (*t).max(a.at);
            }
        }
        with_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            for (contact, a) in &rows {
                sqlx::query(
                    "INSERT INTO survey_answers (contact_id, agent_id, queue_id, caller, question, score, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(*contact)
                .bind(a.agent.map(i64::from))
                .bind(a.queue.map(i64::from))
                .bind(a.caller.as_deref())
                .bind(&a.question)
                .bind(i64::from(a.score))
                .bind(a.at)
                .execute(&mut *tx)
                .await?;
            }
            for (caller, at) in &latest {
                sqlx::query(NOTE_OFFER_SQL).bind(*caller).bind(*at).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn survey_answers(&self, filter: &SurveyFilter, limit: usize) -> Result<Vec<SurveyAnswer>> {
        let limit = crate::events::clamp_limit(limit, MAX_ROWS);
        with_db!(&self.db, pool => {
            let mut b = sqlx::QueryBuilder::new(
                "SELECT contact_id, agent_id, queue_id, caller, question, score, at FROM survey_answers WHERE 1 = 1",
            );
            push_survey_filter!(b, filter);
            b.push(" ORDER BY at DESC, id DESC LIMIT ").push_bind(limit);
            let rows = b.build().fetch_all(pool).await?;
            rows.iter().map(answer_from_row).collect()
        })
    }

    async fn last_survey_at(&self, caller: &str) -> Result<Option<i64>> {
        with_db!(&self.db, pool => {
            let row = sqlx::query("SELECT last_at FROM survey_offers WHERE caller = $1")
                .bind(caller)
                .fetch_optional(pool)
                .await?;
            row.map(|r| r.int("last_at")).transpose()
        })
    }

    async fn note_survey_offered(&self, caller: &str, at: i64) -> Result<()> {
        if caller.trim().is_empty() {
            return Err(StoreError::Invalid("survey offered to an empty caller".into()));
        }
        with_db!(&self.db, pool => {
            sqlx::query(NOTE_OFFER_SQL).bind(caller).bind(at).execute(pool).await?;
        });
        Ok(())
    }

    async fn survey_summary(&self, filter: &SurveyFilter) -> Result<Vec<SurveySummaryRow>> {
        let mut rows = with_db!(&self.db, pool => {
            let mut b = sqlx::QueryBuilder::new(
                "SELECT agent_id, queue_id, question, COUNT(*) AS n, CAST(AVG(score) AS DOUBLE PRECISION) AS mean, \
                 COUNT(CASE WHEN score = 1 THEN 1 END) AS s1, COUNT(CASE WHEN score = 2 THEN 1 END) AS s2, \
                 COUNT(CASE WHEN score = 3 THEN 1 END) AS s3, COUNT(CASE WHEN score = 4 THEN 1 END) AS s4, \
                 COUNT(CASE WHEN score = 5 THEN 1 END) AS s5 FROM survey_answers WHERE 1 = 1",
            );
            push_survey_filter!(b, filter);
            b.push(" GROUP BY agent_id, queue_id, question");
            let rows = b.build().fetch_all(pool).await?;
            rows.iter().map(summary_from_row).collect::<Result<Vec<_>>>()
        })?;
        // Sorted here, not in SQL: the backends order NULLs and text differently.
        rows.sort_by(|a, b| {
            (a.agent.is_none(), a.agent, a.queue.is_none(), a.queue, &a.question).cmp(&(
                b.agent.is_none(),
                b.agent,
                b.queue.is_none(),
                b.queue,
                &b.question,
            ))
        });
        Ok(rows)
    }

    async fn add_ivr_visits(&self, visits: &[IvrVisit]) -> Result<()> {
        if visits.is_empty() {
            return Ok(());
        }
        for v in visits {
            check_visit(v)?;
        }
        with_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            for v in visits {
                sqlx::query(
                    "INSERT INTO ivr_visits (call_id, flow, version, node, kind, entered_at, left_at, outcome) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&v.call)
                .bind(&v.flow)
                .bind(i64::from(v.version))
                .bind(&v.node)
                .bind(&v.kind)
                .bind(v.entered_at)
                .bind(v.left_at)
                .bind(&v.outcome)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn ivr_node_stats(&self, flow: &str, since: i64, until: i64) -> Result<Vec<IvrNodeStatsRow>> {
        let groups = with_db!(&self.db, pool => {
            let rows = sqlx::query(
                "SELECT version, node, outcome, MAX(kind) AS kind, COUNT(*) AS n, COUNT(left_at) AS timed, \
                 CAST(COALESCE(SUM(left_at - entered_at), 0) AS BIGINT) AS total_ms \
                 FROM ivr_visits WHERE flow = $1 AND entered_at >= $2 AND entered_at < $3 \
                 GROUP BY version, node, outcome",
            )
            .bind(flow)
            .bind(since)
            .bind(until)
            .fetch_all(pool)
            .await?;
            rows.iter().map(outcome_group_from_row).collect::<Result<Vec<_>>>()
        })?;
        Ok(assemble_node_stats(groups))
    }

    async fn ivr_node_stats_by_interval(
        &self,
        flow: &str,
        since: i64,
        until: i64,
        interval_ms: i64,
    ) -> Result<Vec<IvrNodeIntervalRow>> {
        if interval_ms <= 0 {
            return Err(StoreError::Invalid(format!("interval of {interval_ms} ms")));
        }
        let groups = with_db!(&self.db, pool => {
            // Integer division on both backends: the interval's start.
            let rows = sqlx::query(
                "SELECT (entered_at / $4) * $4 AS bucket, version, node, outcome, MAX(kind) AS kind, COUNT(*) AS n, \
                 COUNT(left_at) AS timed, CAST(COALESCE(SUM(left_at - entered_at), 0) AS BIGINT) AS total_ms \
                 FROM ivr_visits WHERE flow = $1 AND entered_at >= $2 AND entered_at < $3 \
                 GROUP BY bucket, version, node, outcome",
            )
            .bind(flow)
            .bind(since)
            .bind(until)
            .bind(interval_ms)
            .fetch_all(pool)
            .await?;
            rows.iter().map(|r| Ok((r.int("bucket")?, outcome_group_from_row(r)?))).collect::<Result<Vec<_>>>()
        })?;
        let mut by_bucket: BTreeMap<i64, Vec<OutcomeGroup>> = BTreeMap::new();
        for (bucket, g) in groups {
            by_bucket.entry(bucket).or_default().push(g);
        }
        Ok(by_bucket
            .into_iter()
            .flat_map(|(start, groups)| {
                assemble_node_stats(groups).into_iter().map(move |stats| IvrNodeIntervalRow {
                    start,
                    end: start.saturating_add(interval_ms),
                    stats,
                })
            })
            .collect())
    }

    async fn put_call(&self, call: &CallRecord) -> Result<()> {
        if call.call.is_empty() {
            return Err(StoreError::Invalid("call record without a call id".into()));
        }
        let contact = call.contact.map(|c| to_i64(c, "contact id")).transpose()?;
        let recording_ms = call.recording_ms.map(|v| to_i64(v, "recording length")).transpose()?;
        with_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO calls (call_id, contact_id, direction, caller, callee, started_at, answered_at, ended_at, \
                 end_reason, agent_id, recording, recording_ms, quality, voicemail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT (call_id) DO UPDATE SET contact_id = excluded.contact_id, direction = excluded.direction, \
                 caller = excluded.caller, callee = excluded.callee, started_at = excluded.started_at, \
                 answered_at = excluded.answered_at, ended_at = excluded.ended_at, end_reason = excluded.end_reason, \
                 agent_id = excluded.agent_id, recording = excluded.recording, recording_ms = excluded.recording_ms, \
                 quality = excluded.quality, voicemail = excluded.voicemail",
            )
            .bind(&call.call)
            .bind(contact)
            .bind(&call.direction)
            .bind(&call.caller)
            .bind(&call.callee)
            .bind(call.started_at)
            .bind(call.answered_at)
            .bind(call.ended_at)
            .bind(call.end_reason.as_deref())
            .bind(call.agent.map(i64::from))
            .bind(call.recording.as_deref())
            .bind(recording_ms)
            .bind(call.quality.as_ref().map(Json))
            .bind(call.voicemail.as_deref())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn call(&self, call: &str) -> Result<Option<CallRecord>> {
        let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE call_id = $1");
        with_db!(&self.db, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(call).fetch_optional(pool).await?;
            row.map(|r| call_from_row(&r)).transpose()
        })
    }

    async fn calls_of_contact(&self, contact: u64) -> Result<Vec<CallRecord>> {
        let contact = to_i64(contact, "contact id")?;
        let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE contact_id = $1 ORDER BY started_at, call_id");
        with_db!(&self.db, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(contact).fetch_all(pool).await?;
            rows.iter().map(call_from_row).collect()
        })
    }

    async fn calls(&self, before: Option<i64>, limit: usize) -> Result<Vec<CallRecord>> {
        let limit = crate::events::clamp_limit(limit, MAX_ROWS);
        let before = before.unwrap_or(i64::MAX);
        let page_sql = format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE started_at < $1 ORDER BY started_at DESC, call_id DESC LIMIT $2"
        );
        let ties_sql =
            format!("SELECT {CALL_COLUMNS} FROM calls WHERE started_at = $1 AND call_id < $2 ORDER BY call_id DESC");
        with_db!(&self.db, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(page_sql)).bind(before).bind(limit).fetch_all(pool).await?;
            let mut page = rows.iter().map(call_from_row).collect::<Result<Vec<_>>>()?;
            // A full page takes every call sharing its last start time, so the
            // next page (before = that time) skips none of them.
            let full = usize::try_from(limit).is_ok_and(|l| page.len() >= l);
            if let Some(last) = page.last().filter(|_| full).map(|c| (c.started_at, c.call.clone())) {
                let rows = sqlx::query(sqlx::AssertSqlSafe(ties_sql)).bind(last.0).bind(last.1).fetch_all(pool).await?;
                for r in &rows {
                    page.push(call_from_row(r)?);
                }
            }
            Ok(page)
        })
    }
}

/// Record that `$1` was offered a survey at `$2`; never moves back.
const NOTE_OFFER_SQL: &str = "INSERT INTO survey_offers (caller, last_at) VALUES ($1, $2) \
     ON CONFLICT (caller) DO UPDATE SET last_at = CASE WHEN excluded.last_at > survey_offers.last_at \
     THEN excluded.last_at ELSE survey_offers.last_at END";
