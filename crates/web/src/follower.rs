//! Following the event log from a durable cursor: for work that must see
//! every committed event exactly in order even across restarts (contact
//! records, webhooks), rather than the lossy live broadcast.

use engine::EventRecord;
use serde_json::json;
use std::time::Duration;
use store::{DocumentStore, EventLog, MAX_PAGE, Store};
use tokio::sync::watch;

/// Where a follower's cursor is kept.
pub fn cursor_doc(name: &str) -> String {
    format!("cursor:{name}")
}

/// The stored cursor (the last seq handled), if any.
pub async fn load_cursor(store: &Store, name: &str) -> Option<u64> {
    match store.document(&cursor_doc(name)).await {
        Ok(Some(v)) => v.get("seq").and_then(|s| s.as_u64()),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!("cursor {name}: {e}");
            None
        }
    }
}

/// Store the cursor.
pub async fn save_cursor(store: &Store, name: &str, seq: u64) {
    if let Err(e) = store.put_document(&cursor_doc(name), &json!({ "seq": seq })).await {
        tracing::warn!("cursor {name}: {e}");
    }
}

/// Reads every committed event after a cursor, page by page, waiting on
/// the driver's latest committed seq for more; the cursor is saved under
/// its name after each page is done.
pub struct Follower {
    store: Store,
    committed: watch::Receiver<u64>,
    name: String,
    after: u64,
}

impl Follower {
    /// Follow from just after `after`.
    pub fn new(store: Store, committed: watch::Receiver<u64>, name: &str, after: u64) -> Follower {
        Follower { store, committed, name: name.to_string(), after }
    }

    /// The next page of events; `None` when the driver is gone.
    pub async fn next_page(&mut self) -> Option<Vec<EventRecord>> {
        loop {
            let latest = *self.committed.borrow_and_update();
            if self.after < latest {
                match self.store.read_events(self.after + 1, MAX_PAGE).await {
                    Ok(page) if !page.is_empty() => return Some(page),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!("{}: reading the log: {e}; retrying", self.name);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                }
            }
            self.committed.changed().await.ok()?;
        }
    }

    /// Everything up to `seq` is handled: save the cursor.
    pub async fn done(&mut self, seq: u64) {
        self.after = seq;
        save_cursor(&self.store, &self.name, seq).await;
    }
}
