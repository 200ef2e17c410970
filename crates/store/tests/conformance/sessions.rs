//! Login sessions and named documents.

use crate::harness::TestDb;
use engine::Time;
use serde_json::json;
use store::{AccountStore, DocumentStore, NewUser, Role, Session, SessionStore};

fn session(hash: &str, user_id: i64, at: u64) -> Session {
    Session {
        token_hash: hash.into(),
        user_id,
        created_at: Time(at),
        last_seen: Time(at),
        expires_at: Time(at + 1_000),
    }
}

pub async fn sessions_lifecycle(db: &TestDb) {
    let s = db.open().await;
    let user = NewUser {
        login: "ana".into(),
        display_name: "Ana".into(),
        password_hash: "x".into(),
        role: Role::Agent,
        team_id: None,
        agent_id: None,
    };
    let ana = s.create_user(&user).await.unwrap();
    s.create_session(&session("h1", ana.id, 100)).await.unwrap();
    s.create_session(&session("h2", ana.id, 200)).await.unwrap();
    assert!(s.create_session(&session("h1", ana.id, 300)).await.is_err(), "token hashes are unique");
    assert_eq!(s.session("h1").await.unwrap(), Some(session("h1", ana.id, 100)));
    assert_eq!(s.session("nope").await.unwrap(), None);

    s.touch_session("h1", Time(150)).await.unwrap();
    s.touch_session("h1", Time(120)).await.unwrap();
    assert_eq!(s.session("h1").await.unwrap().unwrap().last_seen, Time(150), "never moves back");

    // h1 idle since 150, h2 since 200: purge what is idle before 180.
    assert_eq!(s.purge_sessions(Time(180), Time(190)).await.unwrap(), 1);
    assert_eq!(s.session("h1").await.unwrap(), None);
    // Hard expiry.
    assert_eq!(s.purge_sessions(Time(0), Time(1_200)).await.unwrap(), 1);
    assert_eq!(s.session("h2").await.unwrap(), None);

    s.create_session(&session("h3", ana.id, 300)).await.unwrap();
    s.create_session(&session("h4", ana.id, 300)).await.unwrap();
    assert!(s.delete_session("h3").await.unwrap());
    assert!(!s.delete_session("h3").await.unwrap());
    assert_eq!(s.delete_user_sessions(ana.id).await.unwrap(), 1);

    // Deleting a user ends their sessions.
    s.create_session(&session("h5", ana.id, 300)).await.unwrap();
    assert!(s.delete_user(ana.id).await.unwrap());
    assert_eq!(s.session("h5").await.unwrap(), None);
    s.close().await;
}

pub async fn documents_round_trip(db: &TestDb) {
    let s = db.open().await;
    assert_eq!(s.document("desk").await.unwrap(), None);
    let v = json!({"wrap_up_codes": ["sale", "问题已解决"], "n": 3});
    s.put_document("desk", &v).await.unwrap();
    assert_eq!(s.document("desk").await.unwrap(), Some(v));
    let w = json!({"wrap_up_codes": []});
    s.put_document("desk", &w).await.unwrap();
    assert_eq!(s.document("desk").await.unwrap(), Some(w));
    s.close().await;
    let s = db.open().await;
    assert!(s.document("desk").await.unwrap().is_some(), "survives a reopen");
    s.close().await;
}
