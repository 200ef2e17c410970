//! CSV import and export of customers.

use crate::customers::data;
use crate::harness::TestDb;
use serde_json::json;
use store::{CustomerSegment, CustomerStore, RowError};

const MIXED: &str = "\u{feff}id,name,phones,emails,segment,attributes\r\n\
c-1,\"Li, Wei\",+86 138 0013 8000;010-6552-9988,li.wei@example.cn,VIP,\"{\"\"tier\"\":\"\"gold\"\"}\"\r\n\
c-2,,+1 555 0100,,new,\n\
c-3,Bad Phone,555-CALL-NOW,,new,\n\
c-4,Bad Mail,,no-at-sign.example.com,returning,\n\
c-5,Bad Segment,,,gold,\n\
c-6,Too,Few\n\
\"c-7\",\"Multi\nLine Name\",\"+44 20 7946 0000\",\"a@example.com; b@example.org\",returning,\n\
\n\
c-8,Bad Attrs,,,new,[1]\n\
c-9,Extra,,,new,,surplus\n\
,Fresh Person,+1 555 0199,,,\n\
c-10,Broken \"quote,,,new,\n\
c-11,Last,,,new,\"{\"\"a\"\": 1}\n";

pub async fn import_reports_bad_rows_and_stores_good_ones(db: &TestDb) {
    let s = db.open().await;
    let report = s.import_customers_csv(MIXED).await.unwrap();
    let errors: Vec<(usize, &str)> = report.errors.iter().map(|e: &RowError| (e.line, e.reason.as_str())).collect();
    let expect = [
        (3, "missing name"),
        (4, "malformed phone"),
        (5, "malformed e-mail"),
        (6, "unknown segment"),
        (7, "expected 6 fields, found 3"),
        (11, "attributes must be a JSON object"),
        (12, "expected 6 fields, found 7"),
        (14, "quote inside an unquoted field"),
        (15, "unterminated quoted field"),
    ];
    assert_eq!(errors.len(), expect.len(), "{errors:#?}");
    for ((line, reason), (want_line, want)) in errors.iter().zip(expect) {
        assert_eq!(*line, want_line, "{reason}");
        assert!(reason.contains(want), "line {line}: {reason:?} should say {want:?}");
    }
    assert_eq!((report.inserted, report.updated), (3, 0));

    let c1 = s.customer("c-1").await.unwrap().unwrap();
    assert_eq!(c1.name, "Li, Wei");
    assert_eq!(c1.phones, ["+8613800138000", "01065529988"]);
    assert_eq!(c1.segment, CustomerSegment::Vip);
    assert_eq!(c1.attributes.get("tier"), Some(&json!("gold")));
    let c7 = s.customer("c-7").await.unwrap().unwrap();
    assert_eq!(c7.name, "Multi\nLine Name");
    assert_eq!(c7.emails, ["a@example.com", "b@example.org"]);
    let fresh = s.customers_by_phone("+15550199").await.unwrap();
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].name, "Fresh Person");
    assert_eq!(fresh[0].segment, CustomerSegment::New, "empty segment = new");
    for bad in ["c-2", "c-3", "c-4", "c-5", "c-6", "c-8", "c-9", "c-10", "c-11"] {
        assert_eq!(s.customer(bad).await.unwrap(), None, "{bad} must not be stored");
    }
    assert_eq!(s.count_customers().await.unwrap(), 3);
    s.close().await;
}

pub async fn import_updates_by_id(db: &TestDb) {
    let s = db.open().await;
    let before =
        s.create_customer(Some("k-1"), &data("Old Name", &["+15550001"], &[], CustomerSegment::New)).await.unwrap();
    let csv = "id,name,phones,emails,segment,attributes\n\
               k-1,New Name,+15550002,,returning,\n\
               k-2,Second,,,new,\n\
               k-2,Second Again,,,vip,\n";
    let report = s.import_customers_csv(csv).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!((report.inserted, report.updated), (1, 2), "k-2's second row updates its first");
    let k1 = s.customer("k-1").await.unwrap().unwrap();
    assert_eq!(
        (k1.name.as_str(), k1.segment, k1.created_at),
        ("New Name", CustomerSegment::Returning, before.created_at)
    );
    assert!(s.customers_by_phone("+15550001").await.unwrap().is_empty());
    assert_eq!(s.customers_by_phone("+15550002").await.unwrap().len(), 1);
    let k2 = s.customer("k-2").await.unwrap().unwrap();
    assert_eq!((k2.name.as_str(), k2.segment), ("Second Again", CustomerSegment::Vip));
    s.close().await;
}

pub async fn export_round_trips(db: &TestDb) {
    let s = db.open().await;
    let mut tricky = data(
        "Quote \"Q\", Comma\nNewline  ",
        &["+1 555 0100", "0044 20 7946 0000"],
        &["x@example.com", "y@example.org"],
        CustomerSegment::Vip,
    );
    tricky.attributes.insert("note".into(), json!("a,b \"c\"\nd"));
    tricky.attributes.insert("n".into(), json!(3));
    s.create_customer(Some("r-1"), &tricky).await.unwrap();
    s.create_customer(Some("r-2"), &data(" leading space kept? no: trimmed", &[], &[], CustomerSegment::New))
        .await
        .unwrap();
    s.create_customer(Some("r-3, with comma"), &data("中文 名字", &["13800138000"], &[], CustomerSegment::Returning))
        .await
        .unwrap();
    let before = [s.customer("r-1").await.unwrap().unwrap(), s.customer("r-2").await.unwrap().unwrap()];

    let exported = s.export_customers_csv().await.unwrap();
    assert!(exported.starts_with("id,name,phones,emails,segment,attributes\r\n"), "{exported}");
    assert_eq!(exported.matches("\r\n").count(), 4, "header + 3 rows (the name's own newline is LF): {exported}");

    for id in ["r-1", "r-2", "r-3, with comma"] {
        assert!(s.delete_customer(id).await.unwrap());
    }
    let report = s.import_customers_csv(&exported).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!((report.inserted, report.updated), (3, 0));
    for b in &before {
        let a = s.customer(&b.id).await.unwrap().unwrap();
        assert_eq!(a.data(), b.data(), "{}", b.id);
    }
    assert_eq!(s.export_customers_csv().await.unwrap(), exported, "export → import → export is stable");
    s.close().await;
}

pub async fn bad_header_stores_nothing(db: &TestDb) {
    let s = db.open().await;
    let report = s.import_customers_csv("name,id\nAna,1\n").await.unwrap();
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].line, 1);
    assert!(report.errors[0].reason.contains("header"), "{:?}", report.errors);
    let report = s.import_customers_csv("").await.unwrap();
    assert_eq!((report.errors.len(), report.errors[0].line), (1, 1));
    let report = s.import_customers_csv("id,name,phones,emails,segment,attributes\n").await.unwrap();
    assert_eq!(report, store::ImportReport::default(), "a header alone imports nothing");
    assert_eq!(s.count_customers().await.unwrap(), 0);
    s.close().await;
}
