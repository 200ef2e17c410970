//! Customer records (R-CRM-1) and contact records with wrap-up.

use crate::CustomerStore;
use crate::db::{Db, DbRow, Store, WritePool, now, to_i64, unique_u64, with_db};
use crate::error::{Result, StoreError};
use engine::{AgentId, Channel, ContactId, DialOutcome, Outcome, QueueId, Time};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::types::Json;
use std::fmt;
use std::str::FromStr;

/// Customer segment as kept in the customer record. (The engine's
/// [`engine::Segment`] adds `unknown` for callers without a record.)
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomerSegment {
    /// First-time customer.
    #[default]
    New,
    /// Has been served before.
    Returning,
    /// Very important customer.
    Vip,
}

impl CustomerSegment {
    /// Every segment.
    pub const ALL: [CustomerSegment; 3] = [CustomerSegment::New, CustomerSegment::Returning, CustomerSegment::Vip];

    /// Stable lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            CustomerSegment::New => "new",
            CustomerSegment::Returning => "returning",
            CustomerSegment::Vip => "vip",
        }
    }

    /// The engine's segment, for routing a contact from this customer.
    pub fn to_engine(self) -> engine::Segment {
        match self {
            CustomerSegment::New => engine::Segment::New,
            CustomerSegment::Returning => engine::Segment::Returning,
            CustomerSegment::Vip => engine::Segment::Vip,
        }
    }
}

impl fmt::Display for CustomerSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CustomerSegment {
    type Err = StoreError;
    /// Case-insensitive `new`, `returning` or `vip`.
    fn from_str(s: &str) -> Result<CustomerSegment> {
        let l = s.trim().to_ascii_lowercase();
        CustomerSegment::ALL
            .into_iter()
            .find(|x| x.name() == l)
            .ok_or_else(|| StoreError::Invalid(format!("unknown segment {s:?} (expected new, returning or vip)")))
    }
}

/// A customer's editable fields.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct CustomerData {
    /// Name (required).
    pub name: String,
    /// Phone numbers; stored normalised (digits with an optional leading `+`).
    #[serde(default)]
    pub phones: Vec<String>,
    /// E-mail addresses.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Segment.
    #[serde(default)]
    pub segment: CustomerSegment,
    /// Free attributes (a JSON object).
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

impl CustomerData {
    /// The data as it will be stored: trimmed name, normalised phone numbers
    /// (duplicates dropped), trimmed e-mails; or the reason it is refused.
    pub fn normalised(&self) -> std::result::Result<CustomerData, String> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err("missing name".into());
        }
        let mut phones: Vec<String> = Vec::with_capacity(self.phones.len());
        for p in &self.phones {
            let n = normalise_phone(p).ok_or_else(|| format!("malformed phone number {p:?}"))?;
            if !phones.contains(&n) {
                phones.push(n);
            }
        }
        let mut emails: Vec<String> = Vec::with_capacity(self.emails.len());
        for e in &self.emails {
            let t = e.trim();
            if !valid_email(t) {
                return Err(format!("malformed e-mail {e:?}"));
            }
            if !emails.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                emails.push(t.to_string());
            }
        }
        Ok(CustomerData {
            name: name.to_string(),
            phones,
            emails,
            segment: self.segment,
            attributes: self.attributes.clone(),
        })
    }
}

/// A stored customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// Id: chosen by the caller (an external CRM id) or generated (`c-` and 16 hex digits).
    pub id: String,
    /// Name.
    pub name: String,
    /// Normalised phone numbers.
    pub phones: Vec<String>,
    /// E-mail addresses.
    pub emails: Vec<String>,
    /// Segment.
    pub segment: CustomerSegment,
    /// Free attributes.
    pub attributes: Map<String, Value>,
    /// When it was created (ms since the epoch).
    pub created_at: Time,
    /// When it was last changed.
    pub updated_at: Time,
}

impl Customer {
    /// The editable fields.
    pub fn data(&self) -> CustomerData {
        CustomerData {
            name: self.name.clone(),
            phones: self.phones.clone(),
            emails: self.emails.clone(),
            segment: self.segment,
            attributes: self.attributes.clone(),
        }
    }
}

/// One page of a listing, and the cursor of the next page (`None`: last page).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass this as `after` to get the next page.
    pub next: Option<String>,
}

/// How many rows a bulk upsert inserted and updated.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpsertCounts {
    /// New customers.
    pub inserted: usize,
    /// Existing customers overwritten.
    pub updated: usize,
}

/// Keep the digits and a leading `+`. Accepts the usual separators (space,
/// `-`, `.`, `/`, parentheses) and refuses anything else, or fewer than 3 or
/// more than 20 digits. `"+1 (555) 010-0199"` → `"+15550100199"`.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let t = raw.trim();
    let (plus, rest) = match t.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let mut out = String::with_capacity(t.len());
    if plus {
        out.push('+');
    }
    let mut digits = 0;
    for c in rest.chars() {
        match c {
            '0'..='9' => {
                out.push(c);
                digits += 1;
            }
            ' ' | '-' | '.' | '/' | '(' | ')' => {}
            _ => return None,
        }
    }
    (3..=20).contains(&digits).then_some(out)
}

/// A plausible e-mail address: one `@`, a non-empty local part, a domain
/// with a dot not at either end, no white space or control characters.
pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && s.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == ';')
}

fn check_customer_id(id: &str) -> Result<String> {
    let t = id.trim();
    if t.is_empty() || t.chars().count() > 64 || t.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!("customer id {id:?}: 1–64 printable characters")));
    }
    Ok(t.to_string())
}

/// A fresh customer id: `c-` and 16 hex digits.
pub fn new_customer_id() -> String {
    format!("c-{:016x}", unique_u64())
}

const CUSTOMER_COLUMNS: &str = "id, name, phones, emails, segment, attributes, created_at, updated_at";

fn customer_from_row(r: &impl DbRow) -> Result<Customer> {
    let id = r.text("id")?;
    let segment: CustomerSegment =
        r.text("segment")?.parse().map_err(|e: StoreError| StoreError::Corrupt(format!("customer {id:?}: {e}")))?;
    Ok(Customer {
        name: r.text("name")?,
        phones: r.json("phones")?,
        emails: r.json("emails")?,
        segment,
        attributes: r.json("attributes")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        id,
    })
}

/// A contact's after-contact work (R-CALL-6): need, service, disposition.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WrapUp {
    /// What the customer needed.
    pub need: String,
    /// What service was given.
    pub service_given: String,
    /// Disposition code (required).
    pub disposition: String,
    /// Free notes.
    pub notes: String,
    /// Someone must follow up.
    pub follow_up: bool,
}

/// One contact as the customer history shows it: one row per engine contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRecord {
    /// Engine contact id.
    pub contact: ContactId,
    /// Customer, if identified.
    pub customer_id: Option<String>,
    /// Queue (the last one).
    pub queue: QueueId,
    /// Agent who handled it (the last one).
    pub agent: Option<AgentId>,
    /// Channel.
    pub channel: Channel,
    /// Arrival.
    pub arrived_at: Time,
    /// When an agent answered.
    pub answered_at: Option<Time>,
    /// When it ended.
    pub ended_at: Option<Time>,
    /// How it ended.
    pub outcome: Option<Outcome>,
    /// Wrap-up, once given.
    pub wrap_up: Option<WrapUp>,
    /// Callback dials made for it so far (0: never dialled).
    #[serde(default)]
    pub dial_attempts: u32,
    /// How the last dial went (`busy`, `no-answer`, `failed`, `connected`).
    #[serde(default)]
    pub dial_outcome: Option<DialOutcome>,
}

impl ContactRecord {
    /// A record for a contact that has just arrived.
    pub fn arrived(contact: ContactId, queue: QueueId, channel: Channel, at: Time) -> Self {
        ContactRecord {
            contact,
            customer_id: None,
            queue,
            agent: None,
            channel,
            arrived_at: at,
            answered_at: None,
            ended_at: None,
            outcome: None,
            wrap_up: None,
            dial_attempts: 0,
            dial_outcome: None,
        }
    }
}

/// The serde name of a unit enum variant (`"handled"`, `"voice"`, …).
fn enum_name<T: Serialize>(v: &T) -> Result<String> {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => Ok(s),
        _ => Err(StoreError::Invalid("value has no name".into())),
    }
}

fn enum_parse<T: for<'de> Deserialize<'de>>(col: &str, s: String) -> Result<T> {
    serde_json::from_value(Value::String(s)).map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
}

const CONTACT_COLUMNS: &str = "contact_id, customer_id, queue_id, agent_id, channel, arrived_at, answered_at, ended_at, \
     outcome, wrap_need, wrap_service, wrap_disposition, wrap_notes, wrap_follow_up, dial_attempts, dial_outcome";

fn contact_from_row(r: &impl DbRow) -> Result<ContactRecord> {
    let queue = r.int("queue_id")?;
    let wrap_up = match r.opt_text("wrap_disposition")? {
        None => None,
        Some(disposition) => Some(WrapUp {
            need: r.opt_text("wrap_need")?.unwrap_or_default(),
            service_given: r.opt_text("wrap_service")?.unwrap_or_default(),
            disposition,
            notes: r.opt_text("wrap_notes")?.unwrap_or_default(),
            follow_up: r.boolean("wrap_follow_up")?,
        }),
    };
    Ok(ContactRecord {
        contact: ContactId(r.uint("contact_id")?),
        customer_id: r.opt_text("customer_id")?,
        queue: QueueId(u32::try_from(queue).map_err(|_| StoreError::Corrupt(format!("queue id {queue}")))?),
        agent: r
            .opt_int("agent_id")?
            .map(|a| u32::try_from(a).map(AgentId).map_err(|_| StoreError::Corrupt(format!("agent id {a}"))))
            .transpose()?,
        channel: enum_parse("channel", r.text("channel")?)?,
        arrived_at: r.time("arrived_at")?,
        answered_at: r.opt_time("answered_at")?,
        ended_at: r.opt_time("ended_at")?,
        outcome: r.opt_text("outcome")?.map(|o| enum_parse("outcome", o)).transpose()?,
        wrap_up,
        dial_attempts: {
            let n = r.int("dial_attempts")?;
            u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("dial attempts {n}")))?
        },
        dial_outcome: r.opt_text("dial_outcome")?.map(|o| enum_parse("dial_outcome", o)).transpose()?,
    })
}

/// The body of [`write_customer`], for use inside any transaction (one
/// customer, or a whole CSV import).
macro_rules! write_customer_tx {
    ($conn:expr, $id:expr, $data:expr, $must:expr, $at:expr) => {
        async {
            let id: &str = $id;
            let data: &CustomerData = $data;
            let exists = sqlx::query("SELECT 1 FROM customers WHERE id = $1").bind(id).fetch_optional(&mut *$conn).await?.is_some();
            match ($must, exists) {
                (Some(true), true) => return Err(StoreError::conflict(format!("customer {id:?}"))),
                (Some(false), false) => return Err(StoreError::not_found(format!("customer {id:?}"))),
                _ => {}
            }
            let sql = format!(
                "INSERT INTO customers ({CUSTOMER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, phones = excluded.phones, emails = excluded.emails, \
                 segment = excluded.segment, attributes = excluded.attributes, updated_at = excluded.updated_at \
                 RETURNING {CUSTOMER_COLUMNS}"
            );
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(&data.name)
                .bind(Json(&data.phones))
                .bind(Json(&data.emails))
                .bind(data.segment.name())
                .bind(Json(&data.attributes))
                .bind($at)
                .fetch_one(&mut *$conn)
                .await?;
            sqlx::query("DELETE FROM customer_phones WHERE customer_id = $1").bind(id).execute(&mut *$conn).await?;
            for p in &data.phones {
                sqlx::query("INSERT INTO customer_phones (customer_id, phone) VALUES ($1, $2)")
                    .bind(id)
                    .bind(p)
                    .execute(&mut *$conn)
                    .await?;
            }
            Ok::<_, StoreError>((!exists, customer_from_row(&row)?))
        }
        .await
    };
}

/// Write one validated customer inside a transaction; `true` if inserted.
/// `must` = Some(true): must be new; Some(false): must exist; None: either.
async fn write_customer(db: &Db, id: &str, data: &CustomerData, must: Option<bool>) -> Result<(bool, Customer)> {
    let at = to_i64(now().0, "time")?;
    with_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let r = write_customer_tx!(&mut *tx, id, data, must, at);
        let r = r?;
        tx.commit().await?;
        Ok(r)
    })
}

impl CustomerStore for Store {
    async fn create_customer(&self, id: Option<&str>, data: &CustomerData) -> Result<Customer> {
        let data = data.normalised().map_err(StoreError::Invalid)?;
        let id = match id {
            Some(id) => check_customer_id(id)?,
            None => new_customer_id(),
        };
        write_customer(&self.db, &id, &data, Some(true)).await.map(|(_, c)| c)
    }

    async fn update_customer(&self, id: &str, data: &CustomerData) -> Result<Customer> {
        let data = data.normalised().map_err(StoreError::Invalid)?;
        write_customer(&self.db, id, &data, Some(false)).await.map(|(_, c)| c)
    }

    async fn upsert_customers(&self, rows: &[(Option<String>, CustomerData)]) -> Result<UpsertCounts> {
        let mut valid = Vec::with_capacity(rows.len());
        for (id, data) in rows {
            let data = data.normalised().map_err(StoreError::Invalid)?;
            let id = match id {
                Some(id) => check_customer_id(id)?,
                None => new_customer_id(),
            };
            valid.push((id, data));
        }
        let at = to_i64(now().0, "time")?;
        let mut counts = UpsertCounts::default();
        with_db!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            for (id, data) in &valid {
                let (inserted, _) = write_customer_tx!(&mut *tx, id, data, None::<bool>, at)?;
                if inserted {
                    counts.inserted += 1;
                } else {
                    counts.updated += 1;
                }
            }
            tx.commit().await?;
        });
        Ok(counts)
    }

    async fn customer(&self, id: &str) -> Result<Option<Customer>> {
        let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1");
        with_db!(&self.db, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
            row.map(|r| customer_from_row(&r)).transpose()
        })
    }

    async fn customers_by_phone(&self, number: &str) -> Result<Vec<Customer>> {
        let Some(phone) = normalise_phone(number) else { return Ok(Vec::new()) };
        let sql = format!(
            "SELECT {} FROM customers c JOIN customer_phones p ON p.customer_id = c.id WHERE p.phone = $1 \
             ORDER BY c.updated_at DESC, c.id",
            CUSTOMER_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ")
        );
        with_db!(&self.db, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&phone).fetch_all(pool).await?;
            rows.iter().map(customer_from_row).collect()
        })
    }

    async fn search_customers(&self, text: &str, limit: usize) -> Result<Vec<Customer>> {
        let text = text.trim().to_lowercase();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let limit = crate::events::clamp_limit(limit, 1000);
        // LIKE with the wildcards of the text escaped: a substring search,
        // which for Chinese (no spaces, no case) is what people expect.
        let escaped: String = text
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("%{escaped}%");
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let phone_pattern = if digits.len() >= 4 { format!("%{digits}%") } else { String::from("\u{1}") };
        let cast = match self.backend() {
            crate::Backend::Sqlite => "",
            crate::Backend::Postgres => "::text",
        };
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE lower(name) LIKE $1 ESCAPE '\\' \
             OR lower(id) LIKE $1 ESCAPE '\\' OR lower(emails{cast}) LIKE $1 ESCAPE '\\' \
             OR lower(attributes{cast}) LIKE $1 ESCAPE '\\' \
             OR id IN (SELECT customer_id FROM customer_phones WHERE phone LIKE $2) \
             ORDER BY updated_at DESC, id LIMIT $3"
        );
        with_db!(&self.db, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(&pattern)
                .bind(&phone_pattern)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.iter().map(customer_from_row).collect()
        })
    }

    async fn list_customers(&self, after: Option<&str>, limit: usize) -> Result<Page<Customer>> {
        let limit = crate::events::clamp_limit(limit, 1000);
        let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id > $1 ORDER BY id LIMIT $2");
        let items: Vec<Customer> = with_db!(&self.db, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after.unwrap_or("")).bind(limit).fetch_all(pool).await?;
            rows.iter().map(customer_from_row).collect::<Result<_>>()?
        });
        let full = i64::try_from(items.len()).unwrap_or(i64::MAX) == limit;
        let next = if full { items.last().map(|c| c.id.clone()) } else { None };
        Ok(Page { items, next })
    }

    async fn count_customers(&self) -> Result<u64> {
        let n: i64 = with_db!(&self.db, pool => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM customers").fetch_one(pool).await?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn delete_customer(&self, id: &str) -> Result<bool> {
        with_db!(&self.db, pool => {
            let r = sqlx::query("DELETE FROM customers WHERE id = $1").bind(id).execute(pool).await?;
            Ok(r.rows_affected() > 0)
        })
    }

    async fn put_contact_record(&self, rec: &ContactRecord) -> Result<()> {
        let contact = to_i64(rec.contact.0, "contact id")?;
        let arrived = to_i64(rec.arrived_at.0, "time")?;
        let answered = rec.answered_at.map(|t| to_i64(t.0, "time")).transpose()?;
        let ended = rec.ended_at.map(|t| to_i64(t.0, "time")).transpose()?;
        let channel = enum_name(&rec.channel)?;
        let outcome = rec.outcome.as_ref().map(enum_name).transpose()?;
        let dial_outcome = rec.dial_outcome.as_ref().map(enum_name).transpose()?;
        let w = rec.wrap_up.as_ref();
        let at = to_i64(now().0, "time")?;
        with_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO contact_records (contact_id, customer_id, queue_id, agent_id, channel, arrived_at, \
                 answered_at, ended_at, outcome, wrap_need, wrap_service, wrap_disposition, wrap_notes, wrap_follow_up, \
                 updated_at, dial_attempts, dial_outcome) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                 ON CONFLICT (contact_id) DO UPDATE SET customer_id = excluded.customer_id, queue_id = excluded.queue_id, \
                 agent_id = excluded.agent_id, channel = excluded.channel, arrived_at = excluded.arrived_at, \
                 answered_at = excluded.answered_at, ended_at = excluded.ended_at, outcome = excluded.outcome, \
                 wrap_need = CASE WHEN excluded.wrap_disposition IS NULL THEN contact_records.wrap_need ELSE excluded.wrap_need END, \
                 wrap_service = CASE WHEN excluded.wrap_disposition IS NULL THEN contact_records.wrap_service ELSE excluded.wrap_service END, \
                 wrap_disposition = COALESCE(excluded.wrap_disposition, contact_records.wrap_disposition), \
                 wrap_notes = CASE WHEN excluded.wrap_disposition IS NULL THEN contact_records.wrap_notes ELSE excluded.wrap_notes END, \
                 wrap_follow_up = CASE WHEN excluded.wrap_disposition IS NULL THEN contact_records.wrap_follow_up ELSE excluded.wrap_follow_up END, \
                 updated_at = excluded.updated_at, dial_attempts = excluded.dial_attempts, \
                 dial_outcome = excluded.dial_outcome",
            )
            .bind(contact)
            .bind(rec.customer_id.as_deref())
            .bind(i64::from(rec.queue.0))
            .bind(rec.agent.map(|a| i64::from(a.0)))
            .bind(&channel)
            .bind(arrived)
            .bind(answered)
            .bind(ended)
            .bind(outcome.as_deref())
            .bind(w.map(|w| w.need.as_str()))
            .bind(w.map(|w| w.service_given.as_str()))
            .bind(w.map(|w| w.disposition.as_str()))
            .bind(w.map(|w| w.notes.as_str()))
            .bind(w.is_some_and(|w| w.follow_up))
            .bind(at)
            .bind(i64::from(rec.dial_attempts))
            .bind(dial_outcome.as_deref())
            .execute(pool)
            .await
            .map_err(|e| StoreError::from_write(e, || format!("contact record {} (customer {:?})", rec.contact.0, rec.customer_id)))?;
        });
        Ok(())
    }

    async fn set_wrap_up(&self, contact: ContactId, wrap_up: &WrapUp) -> Result<()> {
        if wrap_up.disposition.trim().is_empty() {
            return Err(StoreError::Invalid("wrap-up needs a disposition code".into()));
        }
        let id = to_i64(contact.0, "contact id")?;
        let at = to_i64(now().0, "time")?;
        let n = with_db!(&self.db, pool => {
            sqlx::query(
                "UPDATE contact_records SET wrap_need = $1, wrap_service = $2, wrap_disposition = $3, wrap_notes = $4, \
                 wrap_follow_up = $5, updated_at = $6 WHERE contact_id = $7",
            )
            .bind(&wrap_up.need)
            .bind(&wrap_up.service_given)
            .bind(wrap_up.disposition.trim())
            .bind(&wrap_up.notes)
            .bind(wrap_up.follow_up)
            .bind(at)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if n == 0 { Err(StoreError::not_found(format!("contact record {}", contact.0))) } else { Ok(()) }
    }

    async fn contact_record(&self, contact: ContactId) -> Result<Option<ContactRecord>> {
        let id = to_i64(contact.0, "contact id")?;
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contact_records WHERE contact_id = $1");
        with_db!(&self.db, pool => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
            row.map(|r| contact_from_row(&r)).transpose()
        })
    }

    async fn customer_history(
        &self,
        customer_id: &str,
        before: Option<(Time, ContactId)>,
        limit: usize,
    ) -> Result<Vec<ContactRecord>> {
        let limit = crate::events::clamp_limit(limit, 1000);
        let (t, c) = match before {
            Some((t, c)) => (to_i64(t.0, "time")?, to_i64(c.0, "contact id")?),
            None => (i64::MAX, i64::MAX),
        };
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contact_records WHERE customer_id = $1 \
             AND (arrived_at < $2 OR (arrived_at = $2 AND contact_id < $3)) \
             ORDER BY arrived_at DESC, contact_id DESC LIMIT $4"
        );
        with_db!(&self.db, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(customer_id).bind(t).bind(c).bind(limit).fetch_all(pool).await?;
            rows.iter().map(contact_from_row).collect()
        })
    }
}
