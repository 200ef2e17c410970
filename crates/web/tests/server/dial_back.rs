//! A voicemail to return (a dial-back contact) whose call-back does not
//! reach the customer: each failed attempt is on the contact (the agent's
//! screen-pop, the customer's history), the contact is offered again after
//! the queue's retry delay, and after the last attempt it closes as a
//! failed callback. Telephony's part (dialling, reporting the outcome) is
//! played by the test through the same `Live` handle it uses.

use crate::harness::{Server, eventually, start};
use engine::{Channel, ContactId, DialOutcome, Input, QueueId};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_back_that_fails_is_retried_then_closed_unreached() {
    let s = start().await;
    let (a1, sup, admin) = (s.login("agent1").await, s.login("supervisor").await, s.login("admin").await);
    let mut stream = s.stream(&a1).await;

    // Sales allows two attempts, 300 ms apart.
    let queues = s.get("/api/admin/queues", &admin).await;
    let mut q1 = queues.as_array().unwrap().iter().find(|q| q["id"] == 1).cloned().unwrap();
    q1["callbacks"] = json!({ "enabled": true, "max_outstanding": null, "max_attempts": 2, "retry_delay_ms": 300 });
    let (status, body) = s.call(Method::PUT, "/api/admin/queues/1", Some(&admin), Some(q1)).await;
    assert!(status.is_success(), "{body}");

    // A voicemail left by a known customer, filed as telephony files it.
    let attributes = BTreeMap::from([("voicemail".to_string(), "call-1".to_string())]);
    let mut spec =
        web::api::contacts::call_spec(&s.app, QueueId(1), Some(web::demo::demo_phone(5)), 0, attributes).await.unwrap();
    spec.channel = Channel::Callback;
    spec.dial_back = true;
    let contact = s.app.live.arrive(spec).await.unwrap();
    let id = contact.0;

    s.post("/api/agent/login", &a1, json!({})).await;
    s.post("/api/agent/ready", &a1, json!({})).await;
    let offer = stream.wait_for("offer", 5, |o| o["contact"] == id).await;
    assert_eq!(offer["pop"]["contact"]["dial_attempts"], json!([]));
    s.post(&format!("/api/contacts/{id}/accept"), &a1, json!({})).await;
    // Accepted, it is dialled, not connected.
    let live = s.get("/api/contacts", &sup).await;
    let v = live.as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap();
    assert_eq!(v["phase"]["phase"], "dialling", "{v}");

    // The line is busy: the agent is free, the attempt is on the contact.
    s.app.live.input(Input::CallbackOutcome { contact, outcome: DialOutcome::Busy }).await.unwrap();
    let row = eventually(5, async || record(&s, &sup, id).await.filter(|r| r["dial_attempts"] == 1)).await;
    assert_eq!((row["dial_outcome"].as_str(), row["outcome"].as_str()), (Some("busy"), None), "{row}");

    // Offered again after the delay, the pop lists the failed attempt.
    let again = stream.wait_for("offer", 5, |o| o["contact"] == id).await;
    let tried = &again["pop"]["contact"]["dial_attempts"];
    assert_eq!((tried[0]["attempt"].as_u64(), tried[0]["outcome"].as_str()), (Some(1), Some("busy")), "{again}");
    assert!(tried[0]["retry_at"].as_u64() > tried[0]["at"].as_u64(), "{again}");
    s.post(&format!("/api/contacts/{id}/accept"), &a1, json!({})).await;

    // Nobody answers the last attempt: closed as a failed callback.
    s.app.live.input(Input::CallbackOutcome { contact, outcome: DialOutcome::NoAnswer }).await.unwrap();
    let row = eventually(5, async || record(&s, &sup, id).await.filter(|r| r["ended_at"].is_u64())).await;
    assert_eq!(
        (row["dial_attempts"].as_u64(), row["dial_outcome"].as_str(), row["outcome"].as_str()),
        (Some(2), Some("no-answer"), Some("callback-failed")),
        "{row}"
    );
    let live = s.get("/api/contacts", &sup).await;
    assert!(live.as_array().unwrap().iter().all(|c| c["id"] != id), "{live}");
    assert_eq!(s.get("/api/me", &a1).await["agent"]["state"], "ready");
    // Telephony cannot report an outcome for a contact no longer dialled.
    assert!(
        s.app.live.input(Input::CallbackOutcome { contact: ContactId(id), outcome: DialOutcome::Busy }).await.is_err()
    );
}

/// The contact's row in the customer's history.
async fn record(s: &Server, token: &str, id: u64) -> Option<Value> {
    let h = s.get("/api/customers/cust-0005/history", token).await;
    h.as_array()?.iter().find(|r| r["contact"] == id).cloned()
}
