//! Customers (R-CRM-1) and contact records.

use crate::harness::TestDb;
use engine::{AgentId, Channel, ContactId, Outcome, QueueId, Time};
use serde_json::json;
use store::{ContactRecord, CustomerData, CustomerSegment, CustomerStore, StoreError, WrapUp};

pub fn data(name: &str, phones: &[&str], emails: &[&str], segment: CustomerSegment) -> CustomerData {
    CustomerData {
        name: name.into(),
        phones: phones.iter().map(|s| s.to_string()).collect(),
        emails: emails.iter().map(|s| s.to_string()).collect(),
        segment,
        attributes: Default::default(),
    }
}

pub async fn customer_crud_and_validation(db: &TestDb) {
    let s = db.open().await;
    let mut d = data(
        " Li Wei ",
        &["+86 138-0013-8000", "(010) 6552 9988", "+8613800138000"],
        &["li.wei@example.cn"],
        CustomerSegment::Vip,
    );
    d.attributes.insert("tier".into(), json!("gold"));
    d.attributes.insert("orders".into(), json!([1, 2, {"id": "A-1"}]));
    let c = s.create_customer(Some("crm-1"), &d).await.unwrap();
    assert_eq!(c.id, "crm-1");
    assert_eq!(c.name, "Li Wei");
    assert_eq!(c.phones, ["+8613800138000", "01065529988"], "normalised, duplicates dropped");
    assert_eq!(c.segment, CustomerSegment::Vip);
    assert_eq!(c.attributes.get("orders"), Some(&json!([1, 2, {"id": "A-1"}])));
    assert_eq!(s.customer("crm-1").await.unwrap(), Some(c.clone()));

    let generated = s.create_customer(None, &data("Anon", &[], &[], CustomerSegment::New)).await.unwrap();
    assert!(generated.id.starts_with("c-") && generated.id.len() == 18, "{}", generated.id);
    assert_ne!(s.create_customer(None, &data("Anon", &[], &[], CustomerSegment::New)).await.unwrap().id, generated.id);

    let err = s.create_customer(Some("crm-1"), &d).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    for (bad, why) in [
        (data("  ", &[], &[], CustomerSegment::New), "missing name"),
        (data("X", &["12ab34"], &[], CustomerSegment::New), "malformed phone"),
        (data("X", &["12"], &[], CustomerSegment::New), "malformed phone"),
        (data("X", &["1+234"], &[], CustomerSegment::New), "malformed phone"),
        (data("X", &[], &["not-an-email"], CustomerSegment::New), "malformed e-mail"),
        (data("X", &[], &["a@b"], CustomerSegment::New), "malformed e-mail"),
    ] {
        match s.create_customer(None, &bad).await {
            Err(StoreError::Invalid(m)) => assert!(m.contains(why), "{m} should mention {why}"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }

    let mut d2 = c.data();
    d2.segment = CustomerSegment::Returning;
    d2.emails.push("wei@example.com".into());
    d2.phones = vec!["+86 138 0013 8000".into()];
    let u = s.update_customer("crm-1", &d2).await.unwrap();
    assert_eq!((u.segment, u.emails.len(), u.phones.len()), (CustomerSegment::Returning, 2, 1));
    assert_eq!(u.created_at, c.created_at);
    assert!(u.updated_at >= c.updated_at);
    assert!(matches!(s.update_customer("nope", &d2).await.unwrap_err(), StoreError::NotFound { .. }));

    assert_eq!(s.count_customers().await.unwrap(), 3);
    assert!(s.delete_customer("crm-1").await.unwrap());
    assert!(!s.delete_customer("crm-1").await.unwrap());
    assert_eq!(s.customer("crm-1").await.unwrap(), None);
    assert!(s.customers_by_phone("+8613800138000").await.unwrap().is_empty(), "phones go with the customer");
    assert_eq!(s.count_customers().await.unwrap(), 2);
    s.close().await;
}

pub async fn lookup_by_phone(db: &TestDb) {
    let s = db.open().await;
    s.create_customer(Some("a"), &data("A", &["+1 (555) 010-0199"], &[], CustomerSegment::New)).await.unwrap();
    s.create_customer(Some("b"), &data("B", &["555.010.0100", "+15550100199"], &[], CustomerSegment::Vip))
        .await
        .unwrap();
    s.create_customer(Some("c"), &data("C", &["5550100199"], &[], CustomerSegment::New)).await.unwrap();

    let ids = |v: Vec<store::Customer>| {
        let mut ids: Vec<String> = v.into_iter().map(|c| c.id).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(s.customers_by_phone("+15550100199").await.unwrap()), ["a", "b"]);
    assert_eq!(ids(s.customers_by_phone(" +1 555 010 0199 ").await.unwrap()), ["a", "b"], "caller id formatting");
    assert_eq!(ids(s.customers_by_phone("555-010-0199").await.unwrap()), ["c"], "a leading + is significant");
    assert_eq!(ids(s.customers_by_phone("5550100100").await.unwrap()), ["b"]);
    assert!(s.customers_by_phone("anonymous").await.unwrap().is_empty());
    assert!(s.customers_by_phone("").await.unwrap().is_empty());

    // Changing the numbers moves the index.
    s.update_customer("b", &data("B", &["+44 20 7946 0000"], &[], CustomerSegment::Vip)).await.unwrap();
    assert_eq!(ids(s.customers_by_phone("+15550100199").await.unwrap()), ["a"]);
    assert_eq!(ids(s.customers_by_phone("+442079460000").await.unwrap()), ["b"]);
    s.close().await;
}

pub async fn paged_listing(db: &TestDb) {
    let s = db.open().await;
    let rows: Vec<(Option<String>, CustomerData)> = (0..25)
        .map(|i| {
            (
                Some(format!("cust-{i:03}")),
                data(&format!("Customer {i}"), &[&format!("+1555000{i:04}")], &[], CustomerSegment::New),
            )
        })
        .collect();
    let counts = s.upsert_customers(&rows).await.unwrap();
    assert_eq!((counts.inserted, counts.updated), (25, 0));
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = s.list_customers(after.as_deref(), 10).await.unwrap();
        pages += 1;
        seen.extend(page.items.iter().map(|c| c.id.clone()));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, (0..25).map(|i| format!("cust-{i:03}")).collect::<Vec<_>>());
    assert_eq!(s.list_customers(None, 0).await.unwrap().items.len(), 1, "limit clamped to at least 1");
    assert_eq!(s.list_customers(Some("cust-024"), 10).await.unwrap().items.len(), 0);

    // Upsert again: all updates, in one transaction; a bad row refuses the lot.
    let counts = s.upsert_customers(&rows[..5]).await.unwrap();
    assert_eq!((counts.inserted, counts.updated), (0, 5));
    let mut bad = rows[..3].to_vec();
    bad.push((Some("new-one".into()), data("", &[], &[], CustomerSegment::New)));
    assert!(matches!(s.upsert_customers(&bad).await.unwrap_err(), StoreError::Invalid(_)));
    assert_eq!(s.customer("new-one").await.unwrap(), None);
    assert_eq!(s.count_customers().await.unwrap(), 25);
    s.close().await;
}

fn record(contact: u64, customer: Option<&str>, arrived: u64) -> ContactRecord {
    let mut r = ContactRecord::arrived(ContactId(contact), QueueId(1), Channel::Voice, Time(arrived));
    r.customer_id = customer.map(str::to_string);
    r
}

pub async fn contact_records_and_history(db: &TestDb) {
    let s = db.open().await;
    s.create_customer(Some("cu"), &data("Cu", &["+15550001"], &[], CustomerSegment::Returning)).await.unwrap();

    // One record per contact, written as the contact progresses.
    let mut r1 = record(1, Some("cu"), 1_000);
    s.put_contact_record(&r1).await.unwrap();
    r1.agent = Some(AgentId(3));
    r1.answered_at = Some(Time(5_000));
    r1.ended_at = Some(Time(65_000));
    r1.outcome = Some(Outcome::Handled);
    s.put_contact_record(&r1).await.unwrap();
    assert_eq!(s.contact_record(ContactId(1)).await.unwrap(), Some(r1.clone()));
    // A callback's dial attempts and the last one's outcome.
    let mut cb = record(9, None, 2_000);
    cb.channel = Channel::Callback;
    cb.dial_attempts = 2;
    cb.dial_outcome = Some(engine::DialOutcome::NoAnswer);
    cb.outcome = Some(Outcome::CallbackFailed);
    s.put_contact_record(&cb).await.unwrap();
    assert_eq!(s.contact_record(ContactId(9)).await.unwrap(), Some(cb));

    let wrap = WrapUp {
        need: "refund".into(),
        service_given: "refund issued".into(),
        disposition: "RESOLVED".into(),
        notes: "said \"thanks\", 谢谢".into(),
        follow_up: true,
    };
    s.set_wrap_up(ContactId(1), &wrap).await.unwrap();
    r1.wrap_up = Some(wrap.clone());
    assert_eq!(s.contact_record(ContactId(1)).await.unwrap(), Some(r1.clone()));
    assert!(matches!(s.set_wrap_up(ContactId(99), &wrap).await.unwrap_err(), StoreError::NotFound { .. }));
    let no_code = WrapUp { disposition: " ".into(), ..wrap.clone() };
    assert!(matches!(s.set_wrap_up(ContactId(1), &no_code).await.unwrap_err(), StoreError::Invalid(_)));
    // A later put without a wrap-up (the end of the contact written after
    // the agent's wrap-up) keeps the wrap-up.
    let mut ended = r1.clone();
    ended.wrap_up = None;
    ended.ended_at = Some(Time(99_000));
    s.put_contact_record(&ended).await.unwrap();
    r1.ended_at = Some(Time(99_000));
    assert_eq!(s.contact_record(ContactId(1)).await.unwrap(), Some(r1.clone()));

    // More contacts; two arrive at the same moment.
    let mut r2 = record(2, Some("cu"), 9_000);
    r2.channel = Channel::Chat;
    r2.outcome = Some(Outcome::Abandoned);
    r2.ended_at = Some(Time(20_000));
    let r3 = record(3, Some("cu"), 9_000);
    let r4 = record(4, None, 10_000);
    for r in [&r2, &r3, &r4] {
        s.put_contact_record(r).await.unwrap();
    }
    let err = s.put_contact_record(&record(5, Some("ghost"), 1)).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");

    let h = s.customer_history("cu", None, 10).await.unwrap();
    assert_eq!(h, vec![r3.clone(), r2.clone(), r1.clone()], "newest first; ties by contact id, descending");
    let first = s.customer_history("cu", None, 2).await.unwrap();
    assert_eq!(first, vec![r3.clone(), r2.clone()]);
    let last = first.last().unwrap();
    let rest = s.customer_history("cu", Some((last.arrived_at, last.contact)), 2).await.unwrap();
    assert_eq!(rest, vec![r1.clone()]);
    assert!(s.customer_history("nobody", None, 10).await.unwrap().is_empty());

    // Deleting the customer keeps the records, unlinked.
    s.delete_customer("cu").await.unwrap();
    assert_eq!(s.contact_record(ContactId(1)).await.unwrap().unwrap().customer_id, None);
    assert!(s.customer_history("cu", None, 10).await.unwrap().is_empty());
    s.close().await;
}

pub async fn search_by_text(db: &TestDb) {
    let s = db.open().await;
    let mut attrs = serde_json::Map::new();
    attrs.insert("city".into(), "上海".into());
    let zh = CustomerData {
        name: "王伟".into(),
        phones: vec!["+8613812345678".into()],
        emails: vec!["Wang.Wei@Example.com".into()],
        segment: CustomerSegment::Vip,
        attributes: attrs,
    };
    s.create_customer(Some("c-zh"), &zh).await.unwrap();
    s.create_customer(
        Some("c-en"),
        &data("Anna 50%_off Smith", &["+15550001"], &["anna@example.org"], CustomerSegment::New),
    )
    .await
    .unwrap();
    let ids = |v: Vec<store::Customer>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(s.search_customers("王", 10).await.unwrap()), ["c-zh"], "a Chinese character");
    assert_eq!(ids(s.search_customers("上海", 10).await.unwrap()), ["c-zh"], "an attribute");
    assert_eq!(ids(s.search_customers("wang.wei@", 10).await.unwrap()), ["c-zh"], "e-mail, any case");
    assert_eq!(ids(s.search_customers("SMITH", 10).await.unwrap()), ["c-en"], "name, any case");
    assert_eq!(ids(s.search_customers("12345678", 10).await.unwrap()), ["c-zh"], "phone digits");
    assert_eq!(ids(s.search_customers("50%_", 10).await.unwrap()), ["c-en"], "wildcards are literal");
    assert!(s.search_customers("%%", 10).await.unwrap().is_empty(), "% is not a wildcard");
    assert!(s.search_customers("  ", 10).await.unwrap().is_empty());
    assert_eq!(s.search_customers("example", 1).await.unwrap().len(), 1, "limit");
    s.close().await;
}
