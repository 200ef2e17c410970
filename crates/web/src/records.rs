//! Contact records (the customer history) written from the event log: one
//! row per contact at arrival, completed when it ends.

use crate::follower;
use crate::live::Live;
use engine::{ContactId, EventRecord};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use store::{ContactRecord, CustomerStore, Store};

const CURSOR: &str = "contact-records";

/// Start the writer; it catches up from its stored cursor first.
pub async fn spawn(store: Store, live: &Live) {
    // First run on an existing log: start at its beginning.
    let start = follower::load_cursor(&store, CURSOR).await.unwrap_or_default();
    let mut follower = follower::Follower::new(store.clone(), live.committed(), CURSOR, start);
    tokio::spawn(async move {
        let mut open: HashMap<ContactId, ContactRecord> = HashMap::new();
        while let Some(page) = follower.next_page().await {
            for rec in &page {
                apply(&store, &mut open, rec).await;
            }
            if let Some(last) = page.last() {
                follower.done(last.seq).await;
            }
        }
    });
}

async fn apply(store: &Store, open: &mut HashMap<ContactId, ContactRecord>, rec: &EventRecord) {
    use engine::Event as E;
    let Some(id) = rec.event.contact() else { return };
    if let E::ContactArrived { contact, queue, channel, details, .. } = &rec.event {
        let mut r = ContactRecord::arrived(*contact, *queue, *channel, rec.at);
        r.customer_id = details.as_ref().and_then(|d| d.customer.clone());
        write(store, &r).await;
        open.insert(*contact, r);
        return;
    }
    let r = match open.entry(id) {
        Entry::Occupied(e) => e.into_mut(),
        // Arrived before a restart: pick the stored row up again.
        Entry::Vacant(slot) => match store.contact_record(id).await {
            Ok(Some(r)) => slot.insert(r),
            Ok(None) => return,
            Err(e) => {
                tracing::warn!("contact record {}: {e}", id.0);
                return;
            }
        },
    };
    match &rec.event {
        E::ContactAnswered { agent, queue, .. } => {
            r.answered_at.get_or_insert(rec.at);
            r.agent = Some(*agent);
            r.queue = *queue;
            if r.dial_attempts > 0 {
                r.dial_outcome = Some(engine::DialOutcome::Connected);
            }
        }
        E::CallbackDialled { attempt, .. } => r.dial_attempts = *attempt,
        E::CallbackAttemptFailed { attempt, outcome, .. } => {
            r.dial_attempts = *attempt;
            r.dial_outcome = Some(*outcome);
            // Written now: the contact may wait a while for its retry.
            write(store, r).await;
        }
        E::ContactOverflowed { to, .. } => r.queue = *to,
        E::ContactEnded { outcome, agent, queue, .. } => {
            r.ended_at = Some(rec.at);
            r.outcome = Some(*outcome);
            r.queue = *queue;
            if agent.is_some() {
                r.agent = *agent;
            }
            if let Some(r) = open.remove(&id) {
                write(store, &r).await;
            }
        }
        _ => {}
    }
}

async fn write(store: &Store, r: &ContactRecord) {
    if let Err(e) = store.put_contact_record(r).await {
        tracing::error!("contact record {}: {e}", r.contact.0);
    }
}
