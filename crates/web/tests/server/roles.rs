//! Every path checks roles: a forbidden role gets 403 and nothing is
//! written; nobody signed in gets 401.

use crate::harness::start;
use reqwest::{Method, StatusCode};
use store::{AuditLog, AuditQuery, EventLog, Role};

fn login_of(role: Role) -> &'static str {
    match role {
        Role::Agent => "agent1",
        Role::Supervisor => "supervisor",
        Role::Qa => "qa",
        Role::Planner => "planner",
        Role::Admin => "admin",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_paths_answer_403_and_write_nothing() {
    let s = start().await;
    let mut tokens = Vec::new();
    for role in Role::ALL {
        tokens.push((role, s.login(login_of(role)).await));
    }
    let audit_count =
        async || s.app.store.audit_entries(&AuditQuery { limit: 1000, ..AuditQuery::default() }).await.unwrap().len();
    let events_before = s.app.store.event_count().await.unwrap();
    let audit_before = audit_count().await;
    let mut checked = 0;
    for doc in web::routes::docs() {
        let path = doc.path.replace("{id}", "1");
        if doc.roles.is_empty() {
            continue;
        }
        // Nobody signed in.
        let (status, body) = s.call(doc.method.clone(), &path, None, Some(serde_json::json!({}))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{} {path}: {body}", doc.method);
        assert_eq!(body["error"]["code"], "unauthenticated");
        for (role, token) in &tokens {
            if doc.roles.contains(role) {
                continue;
            }
            let (status, body) = s.call(doc.method.clone(), &path, Some(token), Some(serde_json::json!({}))).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} {} {path}: {body}", doc.method);
            assert_eq!(body["error"]["code"], "forbidden");
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} forbidden combinations checked");
    assert_eq!(s.app.store.event_count().await.unwrap(), events_before, "a refused request wrote events");
    assert_eq!(audit_count().await, audit_before, "a refused request wrote audit entries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_see_customers_masked_and_reads_are_audited() {
    let s = start().await;
    let agent = s.login("agent1").await;
    let sup = s.login("supervisor").await;
    let masked = s.get("/api/customers/cust-0001", &agent).await;
    let phone = masked["phones"][0].as_str().unwrap();
    assert!(phone.contains('*') && phone.ends_with(&web::demo::demo_phone(1)[10..]), "{phone}");
    assert!(masked["emails"][0].as_str().unwrap().contains('*'));
    let full = s.get("/api/customers/cust-0001", &sup).await;
    assert_eq!(full["phones"][0], web::demo::demo_phone(1));
    // Listing and phone search are masked for agents too.
    let page = s.get("/api/customers?limit=5", &agent).await;
    assert!(page["items"].as_array().unwrap().iter().all(|c| c["phones"][0].as_str().unwrap().contains('*')));
    let found =
        s.get(&format!("/api/customers/search?phone={}", web::demo::demo_phone(2).replace('+', "%2B")), &agent).await;
    assert_eq!(found[0]["id"], "cust-0002");
    // Text search: a Chinese name part, masked for agents, audited.
    let name = web::demo::customer(4).name;
    let part: String = name.chars().take(1).collect();
    let hits = s.get(&format!("/api/customers/search?q={}", urlencode(&part)), &agent).await;
    assert!(hits.as_array().unwrap().iter().any(|c| c["id"] == "cust-0004"), "{part}: {hits}");
    assert!(hits.as_array().unwrap().iter().all(|c| c["phones"][0].as_str().unwrap().contains('*')));
    let (status, _) = s.call(Method::GET, "/api/customers/search?q=a", Some(&agent), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let q = AuditQuery {
        record_type: Some("customer".into()),
        record_id: Some("cust-0001".into()),
        limit: 100,
        ..AuditQuery::default()
    };
    let entries = s.app.store.audit_entries(&q).await.unwrap();
    let actors: Vec<(&str, &str)> = entries.iter().map(|e| (e.actor.as_str(), e.action.as_str())).collect();
    assert!(actors.contains(&("agent1", "customer.read")), "{actors:?}");
    assert!(actors.contains(&("supervisor", "customer.read")), "{actors:?}");
    let searched = AuditQuery {
        record_id: Some("cust-0002".into()),
        action: Some("customer.read".into()),
        limit: 10,
        ..AuditQuery::default()
    };
    assert_eq!(s.app.store.audit_entries(&searched).await.unwrap().len(), 1);

    // Agents may not change customers.
    let (status, _) =
        s.call(Method::PUT, "/api/customers/cust-0001", Some(&agent), Some(serde_json::json!({ "name": "X" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_after_five_failures_and_admin_unlock() {
    let s = start().await;
    let bad = serde_json::json!({ "login": "qa", "password": "wrong-password" });
    for i in 1..=5 {
        let (status, body) = s.call(Method::POST, "/api/login", None, Some(bad.clone())).await;
        let want = if i < 5 { StatusCode::UNAUTHORIZED } else { StatusCode::LOCKED };
        assert_eq!(status, want, "attempt {i}: {body}");
    }
    let good = serde_json::json!({ "login": "qa", "password": web::demo::DEMO_PASSWORD });
    let (status, body) = s.call(Method::POST, "/api/login", None, Some(good.clone())).await;
    assert_eq!(status, StatusCode::LOCKED, "the right password does not open a locked account: {body}");
    assert_eq!(body["error"]["code"], "locked");
    // Unknown logins get the same answer as wrong passwords.
    let (status, body) =
        s.call(Method::POST, "/api/login", None, Some(serde_json::json!({ "login": "nobody", "password": "x" }))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_credentials")));

    let admin = s.login("admin").await;
    let users = s.get("/api/admin/users", &admin).await;
    let qa = users.as_array().unwrap().iter().find(|u| u["login"] == "qa").unwrap();
    assert!(qa.get("password_hash").is_none(), "hashes never leave the server");
    s.post(&format!("/api/admin/users/{}/unlock", qa["id"]), &admin, serde_json::json!({})).await;
    let (status, _) = s.call(Method::POST, "/api/login", None, Some(good)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session() {
    let s = start().await;
    let t = s.login("planner").await;
    s.get("/api/me", &t).await;
    let (status, _) = s.call(Method::POST, "/api/logout", Some(&t), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = s.call(Method::GET, "/api/me", Some(&t), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_expired_sessions_are_refused_and_removed() {
    use store::{AccountStore, Session, SessionStore};
    let s = start().await;
    let user = s.app.store.user_by_login("planner").await.unwrap().unwrap();
    let now = web::auth::now().0;
    let cases = [
        ("idle", now - web::auth::SESSION_IDLE_MS - 1_000, now + 3_600_000),
        ("expired", now - 1_000, now - 1),
        ("fresh", now - 1_000, now + 3_600_000),
    ];
    for (name, last_seen, expires) in cases {
        let token = web::auth::new_token().unwrap();
        let hash = web::auth::token_hash(&token);
        let session = Session {
            token_hash: hash.clone(),
            user_id: user.id,
            created_at: engine::Time(last_seen),
            last_seen: engine::Time(last_seen),
            expires_at: engine::Time(expires),
        };
        s.app.store.create_session(&session).await.unwrap();
        let (status, _) = s.call(Method::GET, "/api/me", Some(&token), None).await;
        if name == "fresh" {
            assert_eq!(status, StatusCode::OK, "{name}");
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
            assert!(s.app.store.session(&hash).await.unwrap().is_none(), "{name} session removed");
        }
    }
}
