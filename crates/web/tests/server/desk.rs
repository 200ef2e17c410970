//! The agent desktop end to end over the API and the live stream: offer
//! with screen-pop, accept, transfer to a queue, a second agent accepts,
//! hang up, wrap-up stored in the customer's history; the supervisor's
//! stream follows.

use crate::harness::{eventually, start};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offer_pop_accept_transfer_wrap_up() {
    let s = start().await;
    let (a1, a2, sup) = (s.login("agent1").await, s.login("agent2").await, s.login("supervisor").await);
    let mut stream1 = s.stream(&a1).await;
    let mut stream2 = s.stream(&a2).await;
    let mut board = s.stream(&sup).await;
    let hello = stream1.wait_for("hello", 5, |_| true).await;
    assert_eq!(hello["user"]["login"], "agent1");

    for t in [&a1, &a2] {
        s.post("/api/agent/login", t, json!({})).await;
    }
    let v = s.post("/api/agent/ready", &a1, json!({})).await;
    assert_eq!(v["state"], "ready");
    // An unknown reason is refused, a configured one accepted.
    let (status, body) =
        s.call(Method::POST, "/api/agent/not-ready", Some(&a2), Some(json!({ "reason": "nap" }))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid")));
    let v = s.post("/api/agent/not-ready", &a2, json!({ "reason": "training" })).await;
    assert_eq!((v["state"].as_str(), v["reason"].as_str()), (Some("not-ready"), Some("training")));

    // A caller whose number is on file: the offer carries the customer.
    let sent = Instant::now();
    let c = s
        .post(
            "/api/contacts",
            &sup,
            json!({ "queue": 1, "caller": web::demo::demo_phone(5), "problem_type": "refund" }),
        )
        .await;
    assert_eq!(c["customer_id"], "cust-0005");
    let id = c["contact"].as_u64().unwrap();
    // The agent's state comes first, then the offer with its screen-pop.
    let me = stream1.wait_for("me", 5, |m| m["state"] == "reserved").await;
    assert_eq!(me["work"][0]["contact"], id);
    let offer = stream1.wait_for("offer", 5, |o| o["contact"] == id).await;
    let pop_ms = sent.elapsed().as_millis();
    assert_eq!(offer["pop"]["customer"]["name"], web::demo::customer(5).name);
    assert_eq!(offer["pop"]["contact"]["problem_type"], "refund");
    assert_eq!(offer["pop"]["contact"]["queue_name"], "Sales 销售");
    assert!(pop_ms < 2_000, "screen-pop took {pop_ms} ms");

    // agent2 may not act on agent1's contact.
    let (status, _) = s.call(Method::POST, &format!("/api/contacts/{id}/hangup"), Some(&a2), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let v = s.post(&format!("/api/contacts/{id}/accept"), &a1, json!({})).await;
    assert_eq!(v["state"], "busy");
    // The supervisor's wallboard shows it without a reload.
    board
        .wait_for("board", 5, |b| b["agents"].as_array().unwrap().iter().any(|a| a["id"] == 1 && a["state"] == "busy"))
        .await;

    let v = s.post(&format!("/api/contacts/{id}/hold"), &a1, json!({})).await;
    assert_eq!(v["state"], "on-hold");
    s.post(&format!("/api/contacts/{id}/resume"), &a1, json!({})).await;

    // A refused transfer says why and keeps the call.
    let (status, body) = s
        .call(
            Method::POST,
            &format!("/api/contacts/{id}/transfer"),
            Some(&a1),
            Some(json!({ "to": { "kind": "agent", "id": 2 } })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("not ready"), "{body}");
    assert_eq!(s.get("/api/me", &a1).await["agent"]["state"], "busy");

    // Transfer to the Support queue; agent2 gets ready and takes it.
    let v = s.post(&format!("/api/contacts/{id}/transfer"), &a1, json!({ "to": { "kind": "queue", "id": 2 } })).await;
    assert_eq!(v["state"], "wrap-up");
    s.post("/api/agent/ready", &a2, json!({})).await;
    let offer2 = stream2.wait_for("offer", 5, |o| o["contact"] == id).await;
    assert_eq!(offer2["pop"]["customer"]["id"], "cust-0005");
    s.post(&format!("/api/contacts/{id}/accept"), &a2, json!({})).await;
    let v = s.post(&format!("/api/contacts/{id}/hangup"), &a2, json!({})).await;
    assert_eq!(v["state"], "wrap-up");
    let (status, body) = s
        .call(
            Method::POST,
            &format!("/api/contacts/{id}/wrap-up"),
            Some(&a2),
            Some(json!({ "disposition": "no-such-code" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let v = s
        .post(
            &format!("/api/contacts/{id}/wrap-up"),
            &a2,
            json!({ "need": "refund", "service_given": "refund issued", "disposition": "resolved", "notes": "ok", "follow_up": true }),
        )
        .await;
    assert_eq!(v["state"], "ready");

    // The customer's history has the contact, handled by agent 2, with the wrap-up.
    let rec = eventually(5, async || {
        let h = s.get("/api/customers/cust-0005/history", &sup).await;
        h.as_array().unwrap().iter().find(|r| r["contact"] == id && r["ended_at"].is_u64()).cloned()
    })
    .await;
    assert_eq!(rec["agent"], 2);
    assert_eq!(rec["queue"], 2);
    assert_eq!(rec["wrap_up"]["disposition"], "resolved");
    assert_eq!(rec["wrap_up"]["follow_up"], true);
    assert_eq!(rec["outcome"], "handled");

    // The agent's day: one handled (agent 1's segment ended by the transfer).
    let stats = s.get("/api/agent/stats", &a2).await;
    assert_eq!(stats["answered"], 1);
    let rows = s.get("/api/reports/queues?interval=60", &sup).await;
    let offered: u64 = rows.as_array().unwrap().iter().map(|r| r["offered"].as_u64().unwrap()).sum();
    assert!(offered >= 2, "queue 1 and the transfer into queue 2: {rows}");
    for (kind, header, name) in [
        ("queues", "queue,name,start,end,offered,", "Sales 销售"),
        ("agents", "agent,name,start,end,offers,", "Bo Chen 陈波"),
    ] {
        let resp = s
            .client
            .get(format!("{}/api/reports/{kind}?interval=30&format=csv", s.base))
            .bearer_auth(&sup)
            .send()
            .await
            .unwrap();
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let text = resp.text().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with(header), "{text}");
        assert!(lines.iter().skip(1).any(|l| l.contains(name)), "{text}");
        let columns = lines[0].split(',').count();
        assert!(lines.iter().all(|l| l.split(',').count() == columns), "{text}");
    }
    let (status, _) = s.call(Method::GET, "/api/reports/queues?interval=7", Some(&sup), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Consulted transfer from the desktop: agent 1 consults agent 2, whose
/// desktop rings with the customer's screen-pop and who it is from; agent 2
/// answers, cannot touch the held customer, agent 1 hands over; agent 1
/// wraps up, agent 2 has the customer. A declined consultation leaves the
/// customer with agent 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consulted_transfer_from_the_desktop() {
    let s = start().await;
    let (a1, a2, sup) = (s.login("agent1").await, s.login("agent2").await, s.login("supervisor").await);
    let mut stream2 = s.stream(&a2).await;
    for t in [&a1, &a2] {
        s.post("/api/agent/login", t, json!({})).await;
    }
    s.post("/api/agent/not-ready", &a2, json!({ "reason": "training" })).await;
    let c = s.post("/api/contacts", &sup, json!({ "queue": 1, "caller": web::demo::demo_phone(7) })).await;
    let id = c["contact"].as_u64().unwrap();
    eventually(5, async || (s.get("/api/me", &a1).await["agent"]["state"] == "reserved").then_some(())).await;
    s.post(&format!("/api/contacts/{id}/accept"), &a1, json!({})).await;

    // Not ready: refused with the reason, the call as it was.
    let consult = format!("/api/contacts/{id}/consult");
    let (status, body) = s.call(Method::POST, &consult, Some(&a1), Some(json!({ "to": 2 }))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("not ready"), "{body}");
    let (status, _) = s.call(Method::POST, &consult, Some(&a1), Some(json!({ "to": "two" }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.post("/api/agent/ready", &a2, json!({})).await;

    // Declined: the customer is back with agent 1, off hold.
    let v = s.post(&consult, &a1, json!({ "to": 2 })).await;
    assert_eq!(v["state"], "on-hold");
    assert_eq!(v["work"][0]["consult_with"], 2);
    let offer = stream2.wait_for("offer", 5, |o| o["contact"] == id).await;
    assert_eq!(offer["consult_from"]["agent"], 1, "{offer}");
    assert_eq!(offer["pop"]["customer"]["id"], "cust-0007");
    s.post(&format!("/api/contacts/{id}/reject"), &a2, json!({})).await;
    stream2.wait_for("offer_cancelled", 5, |o| o["contact"] == id).await;
    assert_eq!(s.get("/api/me", &a1).await["agent"]["state"], "busy");

    // Answered and completed.
    s.post(&consult, &a1, json!({ "to": 2 })).await;
    stream2.wait_for("offer", 5, |o| o["contact"] == id && o["consult_from"]["agent"] == 1).await;
    let v = s.post(&format!("/api/contacts/{id}/accept"), &a2, json!({})).await;
    assert_eq!((v["state"].as_str(), v["work"][0]["phase"].as_str()), (Some("busy"), Some("consulting")));
    // Being consulted is not holding the customer.
    let (status, _) = s.call(Method::POST, &format!("/api/contacts/{id}/hangup"), Some(&a2), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = s.call(Method::POST, &format!("/api/contacts/{id}/resume"), Some(&a1), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let v = s.post(&format!("/api/contacts/{id}/consult/complete"), &a1, json!({})).await;
    assert_eq!(v["state"], "wrap-up");
    let me2 = s.get("/api/me", &a2).await;
    assert_eq!(
        (me2["agent"]["state"].as_str(), me2["agent"]["work"][0]["phase"].as_str()),
        (Some("busy"), Some("talking"))
    );
    let v = s.post(&format!("/api/contacts/{id}/hangup"), &a2, json!({})).await;
    assert_eq!(v["state"], "wrap-up");
    let audit = s.get("/api/admin/audit?action=contact.consult", &s.login("admin").await).await;
    assert!(audit.to_string().contains("contact.consult"), "{audit}");
}
