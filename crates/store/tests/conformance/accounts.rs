//! Users and teams.

use crate::harness::TestDb;
use engine::{AgentId, Time};
use store::{AccountStore, NewUser, Role, StoreError};

fn new_user(login: &str, role: Role) -> NewUser {
    NewUser {
        login: login.into(),
        display_name: format!("{login} display"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role,
        team_id: None,
        agent_id: None,
    }
}

pub async fn teams_crud(db: &TestDb) {
    let s = db.open().await;
    let north = s.create_team("North").await.unwrap();
    let south = s.create_team("  South ").await.unwrap();
    assert_eq!(south.name, "South", "trimmed");
    assert!(north.created_at.0 > 0 && north.created_at == north.updated_at);
    let err = s.create_team("North").await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert_eq!(err.code(), "conflict");
    assert!(matches!(s.create_team(" ").await.unwrap_err(), StoreError::Invalid(_)));

    assert_eq!(s.teams().await.unwrap().iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["North", "South"]);
    let renamed = s.rename_team(south.id, "Alpha").await.unwrap();
    assert_eq!(renamed.name, "Alpha");
    assert_eq!(s.team(south.id).await.unwrap(), Some(renamed));
    assert!(matches!(s.rename_team(south.id, "North").await.unwrap_err(), StoreError::Conflict { .. }));
    assert!(matches!(s.rename_team(9_999, "X").await.unwrap_err(), StoreError::NotFound { .. }));
    assert_eq!(s.teams().await.unwrap().iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["Alpha", "North"]);
    assert!(s.delete_team(north.id).await.unwrap());
    assert!(!s.delete_team(north.id).await.unwrap());
    assert_eq!(s.team(north.id).await.unwrap(), None);
    s.close().await;
}

pub async fn users_crud(db: &TestDb) {
    let s = db.open().await;
    let team = s.create_team("North").await.unwrap();
    let mut ana = new_user(" Ana ", Role::Agent);
    ana.team_id = Some(team.id);
    ana.agent_id = Some(AgentId(7));
    let ana = s.create_user(&ana).await.unwrap();
    assert_eq!(ana.login, "ana", "trimmed and lower-cased");
    assert_eq!((ana.role, ana.team_id, ana.agent_id), (Role::Agent, Some(team.id), Some(AgentId(7))));
    assert_eq!((ana.failed_logins, ana.locked_until), (0, None));

    // Unique login (case-insensitively) and unique agent link.
    let err = s.create_user(&new_user("ANA", Role::Admin)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    let mut bo = new_user("bo", Role::Supervisor);
    bo.agent_id = Some(AgentId(7));
    assert!(matches!(s.create_user(&bo).await.unwrap_err(), StoreError::Conflict { .. }));
    bo.agent_id = None;
    bo.team_id = Some(9_999);
    let err = s.create_user(&bo).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "a missing team: {err:?}");
    bo.team_id = None;
    assert!(matches!(s.create_user(&new_user("has space", Role::Qa)).await.unwrap_err(), StoreError::Invalid(_)));
    let bo = s.create_user(&bo).await.unwrap();
    for (login, role) in [("qa1", Role::Qa), ("plan", Role::Planner), ("root", Role::Admin)] {
        s.create_user(&new_user(login, role)).await.unwrap();
    }

    assert_eq!(s.user(ana.id).await.unwrap(), Some(ana.clone()));
    assert_eq!(s.user_by_login("ANA").await.unwrap(), Some(ana.clone()));
    assert_eq!(s.user_by_login("nobody").await.unwrap(), None);
    let all = s.users(None).await.unwrap();
    assert_eq!(all.iter().map(|u| u.login.as_str()).collect::<Vec<_>>(), ["ana", "bo", "plan", "qa1", "root"]);
    assert_eq!(all.iter().find(|u| u.login == "root").unwrap().role, Role::Admin);
    assert_eq!(s.users(Some(team.id)).await.unwrap(), vec![ana.clone()]);

    // Update every editable field.
    let mut changed = ana.clone();
    changed.display_name = "Ana María".into();
    changed.role = Role::Supervisor;
    changed.team_id = None;
    changed.agent_id = Some(AgentId(8));
    changed.password_hash = "new-hash".into();
    let updated = s.update_user(&changed).await.unwrap();
    assert_eq!(
        (
            updated.display_name.as_str(),
            updated.role,
            updated.team_id,
            updated.agent_id,
            updated.password_hash.as_str()
        ),
        ("Ana María", Role::Supervisor, None, Some(AgentId(8)), "new-hash")
    );
    assert_eq!(updated.created_at, ana.created_at);
    let mut clash = updated.clone();
    clash.login = "bo".into();
    assert!(matches!(s.update_user(&clash).await.unwrap_err(), StoreError::Conflict { .. }));
    let mut ghost = updated.clone();
    ghost.id = 9_999;
    assert!(matches!(s.update_user(&ghost).await.unwrap_err(), StoreError::NotFound { .. }));

    // Deleting a team keeps its users, without a team.
    let mut bo2 = bo.clone();
    bo2.team_id = Some(team.id);
    s.update_user(&bo2).await.unwrap();
    assert!(s.delete_team(team.id).await.unwrap());
    assert_eq!(s.user(bo.id).await.unwrap().unwrap().team_id, None);

    assert!(s.delete_user(bo.id).await.unwrap());
    assert!(!s.delete_user(bo.id).await.unwrap());
    assert_eq!(s.user(bo.id).await.unwrap(), None);
    assert_eq!("qa".parse::<Role>().unwrap(), Role::Qa);
    assert!("root".parse::<Role>().is_err());
    s.close().await;
}

pub async fn login_failures_and_lock(db: &TestDb) {
    let s = db.open().await;
    let u = s.create_user(&new_user("ana", Role::Agent)).await.unwrap();
    // Concurrent failures are all counted.
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move { s.record_login_failure(u.id, None).await.unwrap() }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let locked = s.record_login_failure(u.id, Some(Time(1_900_000_000_000))).await.unwrap();
    assert_eq!((locked.failed_logins, locked.locked_until), (5, Some(Time(1_900_000_000_000))));
    // A later failure without a lock keeps the lock.
    assert_eq!(s.record_login_failure(u.id, None).await.unwrap().locked_until, Some(Time(1_900_000_000_000)));
    let cleared = s.clear_login_failures(u.id).await.unwrap();
    assert_eq!((cleared.failed_logins, cleared.locked_until), (0, None));
    assert!(matches!(s.record_login_failure(9_999, None).await.unwrap_err(), StoreError::NotFound { .. }));
    s.close().await;
}
