//! The audit log.

use crate::harness::TestDb;
use serde_json::json;
use store::{AuditLog, AuditQuery, NewAuditEntry};

fn entry(actor: &str, action: &str, kind: &str, id: &str) -> NewAuditEntry {
    NewAuditEntry {
        actor: actor.into(),
        action: action.into(),
        record_type: kind.into(),
        record_id: id.into(),
        detail: None,
    }
}

pub async fn append_and_query(db: &TestDb) {
    let s = db.open().await;
    let first = s.audit(&entry("ana", "customer.read", "customer", "c-1")).await.unwrap();
    assert!(first.at.0 > 1_600_000_000_000, "wall-clock time");
    let mut e = entry("bo", "customer.update", "customer", "c-1");
    e.detail = Some(json!({"fields": ["phones"], "request": "r-9"}));
    let second = s.audit(&e).await.unwrap();
    assert_eq!(second.detail, e.detail);
    assert!(second.id > first.id);
    s.audit(&entry("ana", "customer.read", "customer", "c-2")).await.unwrap();
    s.audit(&entry("root", "queue.configure", "queue", "1")).await.unwrap();

    let all = s.audit_entries(&AuditQuery { limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert_eq!(all[2], second);

    let c1 = AuditQuery {
        record_type: Some("customer".into()),
        record_id: Some("c-1".into()),
        limit: 100,
        ..Default::default()
    };
    let got = s.audit_entries(&c1).await.unwrap();
    assert_eq!(got.iter().map(|e| e.actor.as_str()).collect::<Vec<_>>(), ["bo", "ana"]);

    let ana = AuditQuery {
        actor: Some("ana".into()),
        action: Some("customer.read".into()),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(s.audit_entries(&ana).await.unwrap().len(), 2);

    // Paging by id.
    let page1 = s.audit_entries(&AuditQuery { limit: 3, ..Default::default() }).await.unwrap();
    let page2 =
        s.audit_entries(&AuditQuery { limit: 3, before_id: Some(page1[2].id), ..Default::default() }).await.unwrap();
    assert_eq!((page1.len(), page2.len()), (3, 1));
    assert_eq!(page2[0], first);

    let future = AuditQuery { since: Some(engine::Time(first.at.0 + 3_600_000)), limit: 10, ..Default::default() };
    assert!(s.audit_entries(&future).await.unwrap().is_empty());
    s.close().await;
}
