//! The screen-pop: what an agent sees when a contact is offered — the
//! contact's details, the customer record, their recent history — and the
//! masking of personal data for roles that do not need it.

use engine::{Channel, ContactDetails, ContactId, DialOutcome, QueueId, Segment, Time};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use store::{AuditLog, ContactRecord, Customer, CustomerStore, NewAuditEntry, Store};

/// How many past contacts a pop shows.
pub const POP_HISTORY: usize = 10;
/// How long the order-history hook may take.
pub const ORDER_HOOK_TIMEOUT: Duration = Duration::from_secs(2);

/// A live contact as the driver knows it (the engine keeps routing state;
/// the driver keeps what the agent's screen needs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WebContact {
    /// Contact id.
    pub id: ContactId,
    /// Queue it arrived in.
    pub queue: QueueId,
    /// Channel.
    pub channel: Channel,
    /// Arrival.
    pub arrived_at: Time,
    /// Priority given on arrival.
    pub priority: i32,
    /// Customer segment.
    pub segment: Segment,
    /// Customer, language, problem type, caller number, attributes.
    pub details: Option<Box<ContactDetails>>,
    /// Callback dials that failed so far, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dial_attempts: Vec<DialAttempt>,
}

/// A callback dial that did not reach the customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialAttempt {
    /// Attempt number, from 1.
    pub attempt: u32,
    /// When it failed.
    pub at: Time,
    /// Busy, no answer or failed.
    pub outcome: DialOutcome,
    /// When it is offered again; `None`: it was the last attempt.
    pub retry_at: Option<Time>,
}

impl WebContact {
    /// The customer id, if identified.
    pub fn customer(&self) -> Option<&str> {
        self.details.as_ref().and_then(|d| d.customer.as_deref())
    }
}

/// The contact part of a pop.
#[derive(Clone, Debug, Serialize)]
pub struct PopContact {
    /// Contact id.
    pub id: ContactId,
    /// Queue.
    pub queue: QueueId,
    /// Queue name.
    pub queue_name: String,
    /// Channel.
    pub channel: Channel,
    /// The caller's number (or address).
    pub caller: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// Problem type chosen in the IVR or the web form.
    pub problem_type: Option<String>,
    /// Priority.
    pub priority: i32,
    /// Segment.
    pub segment: Segment,
    /// Arrival.
    pub arrived_at: Time,
    /// Free attributes.
    pub attributes: BTreeMap<String, String>,
    /// Earlier callback dials that did not reach the customer.
    pub dial_attempts: Vec<DialAttempt>,
}

/// Everything an agent's screen shows for an offered contact.
#[derive(Clone, Debug, Serialize)]
pub struct ScreenPop {
    /// The contact.
    pub contact: PopContact,
    /// The customer record, if the caller was identified.
    pub customer: Option<Customer>,
    /// The customer's latest contacts, newest first.
    pub history: Vec<ContactRecord>,
    /// Orders from the order-history hook (sent separately when it answers).
    pub orders: Option<Value>,
    /// An `orders` message will follow (a hook is configured and the
    /// customer is known).
    pub orders_pending: bool,
}

/// Build the pop (audit it with [`audit_read`] once shown).
pub async fn build(store: &Store, c: &WebContact, queue_name: String) -> ScreenPop {
    let d = c.details.as_deref();
    let contact = PopContact {
        id: c.id,
        queue: c.queue,
        queue_name,
        channel: c.channel,
        caller: d.and_then(|d| d.callback_number.clone()),
        language: d.and_then(|d| d.language.clone()),
        problem_type: d.and_then(|d| d.problem_type.clone()),
        priority: c.priority,
        segment: c.segment,
        arrived_at: c.arrived_at,
        attributes: d.map(|d| d.attributes.clone()).unwrap_or_default(),
        dial_attempts: c.dial_attempts.clone(),
    };
    let (mut customer, mut history) = (None, Vec::new());
    if let Some(id) = c.customer() {
        match store.customer(id).await {
            Ok(found) => customer = found,
            Err(e) => tracing::warn!("screen-pop: customer {id}: {e}"),
        }
        match store.customer_history(id, None, POP_HISTORY).await {
            Ok(h) => history = h,
            Err(e) => tracing::warn!("screen-pop: history of {id}: {e}"),
        }
    }
    ScreenPop { contact, customer, history, orders: None, orders_pending: false }
}

/// Audit the customer read of a pop shown to `actor` (after it was sent:
/// the audit write shares the database's writer and must not delay the pop).
pub async fn audit_read(store: &Store, pop: &ScreenPop, actor: &str) {
    let Some(customer) = &pop.customer else { return };
    let entry = NewAuditEntry {
        actor: actor.to_string(),
        action: "customer.read".into(),
        record_type: "customer".into(),
        record_id: customer.id.clone(),
        detail: Some(serde_json::json!({ "via": "screen-pop", "contact": pop.contact.id })),
    };
    if let Err(e) = store.audit(&entry).await {
        tracing::error!("audit of a screen-pop read failed: {e}");
    }
}

/// Ask the order-history hook about a customer: `GET url?customer_id=ID`,
/// expecting JSON. `None` (logged) when it fails or is slow.
pub async fn fetch_orders(client: &reqwest::Client, url: &str, customer_id: &str) -> Option<Value> {
    let req = client.get(url).query(&[("customer_id", customer_id)]).timeout(ORDER_HOOK_TIMEOUT);
    match req.send().await {
        Ok(resp) if resp.status().is_success() => match resp.json::<Value>().await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!("order hook {url}: not JSON: {e}");
                None
            }
        },
        Ok(resp) => {
            tracing::warn!("order hook {url}: HTTP {}", resp.status());
            None
        }
        Err(e) => {
            tracing::warn!("order hook {url}: {}", crate::outbound::why(&e));
            None
        }
    }
}

/// `+8613812345678` → `+86*******5678`: the first three and last four
/// characters stay.
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    chars.iter().enumerate().map(|(i, &c)| if i < 3 || i >= n - 4 { c } else { '*' }).collect()
}

/// `ana.li@example.com` → `a*****@example.com`.
pub fn mask_email(e: &str) -> String {
    match e.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}{}@{domain}", "*".repeat(local.chars().count().saturating_sub(1).max(1)))
        }
        None => "*".repeat(e.chars().count()),
    }
}

/// Mask a customer's phone numbers and e-mails.
pub fn mask_customer(c: &mut Customer) {
    for p in &mut c.phones {
        *p = mask_phone(p);
    }
    for e in &mut c.emails {
        *e = mask_email(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_phone("+8613812345678"), "+86*******5678");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_email("ana.li@example.com"), "a*****@example.com");
        assert_eq!(mask_email("a@x.cn"), "a*@x.cn");
        assert_eq!(mask_email("broken"), "******");
    }
}
