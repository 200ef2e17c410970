//! Webhooks: batches of committed events POSTed to each configured URL,
//! signed with HMAC-SHA256 of the body, retried with back-off. Each webhook
//! follows the event log from its own durable cursor, so a restart or a
//! receiver that was down loses nothing; a new webhook starts at the
//! present.

use crate::desk::Webhook;
use crate::follower;
use crate::live::Live;
use engine::EventRecord;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use std::sync::Mutex;
use std::time::Duration;
use store::Store;
use tokio::task::JoinHandle;

/// Header carrying the signature: `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Switchboard-Signature";
/// Events per POST.
pub const MAX_BATCH: usize = 100;
/// Attempts per batch (waits of 1, 2, 4, 8 s between them).
pub const ATTEMPTS: u32 = 5;

/// `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", crate::auth::hex(&mac.finalize().into_bytes()))
}

/// The running webhook tasks; replaced whole when the settings change.
#[derive(Default)]
pub struct Webhooks {
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Webhooks {
    /// Stop the current tasks and start one per webhook.
    pub async fn configure(&self, store: &Store, live: &Live, hooks: &[Webhook]) {
        let mut new = Vec::new();
        for hook in hooks {
            let name = format!("webhook:{}", hook.url);
            let start = match follower::load_cursor(store, &name).await {
                Some(s) => s,
                None => {
                    let now = *live.committed().borrow();
                    follower::save_cursor(store, &name, now).await;
                    now
                }
            };
            new.push(tokio::spawn(run(store.clone(), live.clone(), hook.clone(), name, start)));
        }
        let old = std::mem::replace(&mut *self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner), new);
        for t in old {
            t.abort();
        }
    }
}

async fn run(store: Store, live: Live, hook: Webhook, name: String, start: u64) {
    let client = crate::outbound::client();
    let mut follower = follower::Follower::new(store, live.committed(), &name, start);
    while let Some(page) = follower.next_page().await {
        let wanted: Vec<&EventRecord> =
            page.iter().filter(|r| hook.events.is_empty() || hook.events.iter().any(|e| e == r.event.name())).collect();
        for chunk in wanted.chunks(MAX_BATCH) {
            deliver(&client, &hook, chunk).await;
        }
        if let Some(last) = page.last() {
            follower.done(last.seq).await;
        }
    }
}

async fn deliver(client: &reqwest::Client, hook: &Webhook, events: &[&EventRecord]) {
    let body = match serde_json::to_vec(&json!({ "events": events })) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("webhook {}: {e}", hook.url);
            return;
        }
    };
    let sig = signature(&hook.secret, &body);
    let mut wait = Duration::from_secs(1);
    for attempt in 1..=ATTEMPTS {
        let resp = client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, &sig)
            .timeout(Duration::from_secs(10))
            .body(body.clone())
            .send()
            .await;
        match resp {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => tracing::warn!("webhook {} attempt {attempt}: HTTP {}", hook.url, r.status()),
            Err(e) => tracing::warn!("webhook {} attempt {attempt}: {}", hook.url, crate::outbound::why(&e)),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    tracing::error!("webhook {}: gave up on {} events after {ATTEMPTS} attempts", hook.url, events.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        let sig = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
