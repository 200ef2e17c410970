//! Administration: users, teams, queues and routing, agents, desk settings
//! and the audit log. Changes apply at once (the engine takes queue and
//! agent changes live) and are audited.

use super::accounts::UserOut;
use super::{Body, P, Q, audit};
use crate::AppState;
use crate::auth::{self, Caller};
use crate::desk::DeskSettings;
use crate::error::{ApiError, ApiResult};
use crate::routes::{ADMIN, FLOOR, Route, route};
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};
use engine::{AgentConfig, AgentId, Input, QueueConfig, QueueId};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use store::{AccountStore, AuditEntry, AuditLog, AuditQuery, ConfigStore, NewUser, Role, SessionStore, Team};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    let a = "admin";
    vec![
        route(Method::GET, "/api/admin/users", ADMIN, a, "Users", None, Some("Users"), get(users)),
        route(
            Method::POST,
            "/api/admin/users",
            ADMIN,
            a,
            "Create a user",
            Some("UserInput"),
            Some("User"),
            post(create_user),
        ),
        route(
            Method::PUT,
            "/api/admin/users/{id}",
            ADMIN,
            a,
            "Change a user (password optional)",
            Some("UserInput"),
            Some("User"),
            put(update_user),
        ),
        route(Method::DELETE, "/api/admin/users/{id}", ADMIN, a, "Delete a user", None, None, delete(delete_user)),
        route(
            Method::POST,
            "/api/admin/users/{id}/unlock",
            ADMIN,
            a,
            "Unlock a user locked by failed logins",
            None,
            Some("User"),
            post(unlock_user),
        ),
        route(Method::GET, "/api/admin/teams", FLOOR, a, "Teams", None, Some("Teams"), get(teams)),
        route(
            Method::POST,
            "/api/admin/teams",
            ADMIN,
            a,
            "Create a team",
            Some("TeamInput"),
            Some("Team"),
            post(create_team),
        ),
        route(
            Method::PUT,
            "/api/admin/teams/{id}",
            ADMIN,
            a,
            "Rename a team",
            Some("TeamInput"),
            Some("Team"),
            put(rename_team),
        ),
        route(Method::DELETE, "/api/admin/teams/{id}", ADMIN, a, "Delete a team", None, None, delete(delete_team)),
        route(
            Method::GET,
            "/api/admin/queues",
            FLOOR,
            a,
            "Queues with their routing",
            None,
            Some("QueueConfigs"),
            get(queues),
        ),
        route(
            Method::PUT,
            "/api/admin/queues/{id}",
            ADMIN,
            a,
            "Add or change a queue (applies at once)",
            Some("QueueConfig"),
            Some("QueueConfig"),
            put(put_queue),
        ),
        route(
            Method::DELETE,
            "/api/admin/queues/{id}",
            ADMIN,
            a,
            "Remove a queue (refused while contacts wait)",
            None,
            None,
            delete(delete_queue),
        ),
        route(
            Method::GET,
            "/api/admin/agents",
            FLOOR,
            a,
            "Agents with skills and queues",
            None,
            Some("AgentConfigs"),
            get(agents),
        ),
        route(
            Method::PUT,
            "/api/admin/agents/{id}",
            ADMIN,
            a,
            "Add or change an agent (applies at once)",
            Some("AgentConfig"),
            Some("AgentConfig"),
            put(put_agent),
        ),
        route(
            Method::DELETE,
            "/api/admin/agents/{id}",
            ADMIN,
            a,
            "Remove an agent (refused unless logged out)",
            None,
            None,
            delete(delete_agent),
        ),
        route(Method::GET, "/api/admin/settings", FLOOR, a, "Desk settings", None, Some("DeskSettings"), get(settings)),
        route(
            Method::PUT,
            "/api/admin/settings",
            ADMIN,
            a,
            "Change the desk settings",
            Some("DeskSettings"),
            Some("DeskSettings"),
            put(put_settings),
        ),
        route(
            Method::GET,
            "/api/admin/audit",
            ADMIN,
            a,
            "The audit log, newest first",
            None,
            Some("AuditEntries"),
            get(audit_log),
        ),
    ]
}

async fn users(State(app): State<Arc<AppState>>, _c: Caller) -> ApiResult<Json<Vec<UserOut>>> {
    Ok(Json(app.store.users(None).await?.iter().map(UserOut::from).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserInput {
    login: String,
    display_name: String,
    #[serde(default)]
    password: Option<String>,
    role: Role,
    #[serde(default)]
    team_id: Option<i64>,
    #[serde(default)]
    agent_id: Option<u32>,
}

async fn create_user(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Body(b): Body<UserInput>,
) -> ApiResult<(StatusCode, Json<UserOut>)> {
    let password = b.password.ok_or_else(|| ApiError::invalid("password: required for a new user"))?;
    let hash = auth::hash_password_async(password).await?;
    let user = NewUser {
        login: b.login,
        display_name: b.display_name,
        password_hash: hash,
        role: b.role,
        team_id: b.team_id,
        agent_id: b.agent_id.map(AgentId),
    };
    let u = app.store.create_user(&user).await?;
    audit(&app, &caller, "user.create", "user", &u.id.to_string(), Some(json!({ "login": u.login, "role": u.role })))
        .await;
    Ok((StatusCode::CREATED, Json(UserOut::from(&u))))
}

async fn update_user(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    P(id): P<i64>,
    Body(b): Body<UserInput>,
) -> ApiResult<Json<UserOut>> {
    let mut u = app.store.user(id).await?.ok_or_else(|| ApiError::not_found(format!("user {id}")))?;
    let password_changed = b.password.is_some();
    if let Some(pw) = b.password {
        u.password_hash = auth::hash_password_async(pw).await?;
    }
    let role_changed = u.role != b.role;
    u.login = b.login;
    u.display_name = b.display_name;
    u.role = b.role;
    u.team_id = b.team_id;
    u.agent_id = b.agent_id.map(AgentId);
    let u = app.store.update_user(&u).await?;
    if password_changed || role_changed {
        app.store.delete_user_sessions(id).await?;
    }
    let detail = json!({ "login": u.login, "role": u.role, "password_changed": password_changed });
    audit(&app, &caller, "user.update", "user", &id.to_string(), Some(detail)).await;
    Ok(Json(UserOut::from(&u)))
}

async fn delete_user(State(app): State<Arc<AppState>>, caller: Caller, P(id): P<i64>) -> ApiResult<StatusCode> {
    if id == caller.user.id {
        return Err(ApiError::conflict("you cannot delete your own account"));
    }
    if !app.store.delete_user(id).await? {
        return Err(ApiError::not_found(format!("user {id}")));
    }
    audit(&app, &caller, "user.delete", "user", &id.to_string(), None).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn unlock_user(State(app): State<Arc<AppState>>, caller: Caller, P(id): P<i64>) -> ApiResult<Json<UserOut>> {
    if app.store.user(id).await?.is_none() {
        return Err(ApiError::not_found(format!("user {id}")));
    }
    let u = app.store.clear_login_failures(id).await?;
    audit(&app, &caller, "user.unlock", "user", &id.to_string(), None).await;
    Ok(Json(UserOut::from(&u)))
}

async fn teams(State(app): State<Arc<AppState>>, _c: Caller) -> ApiResult<Json<Vec<Team>>> {
    Ok(Json(app.store.teams().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamInput {
    name: String,
}

async fn create_team(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Body(b): Body<TeamInput>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    let t = app.store.create_team(&b.name).await?;
    audit(&app, &caller, "team.create", "team", &t.id.to_string(), Some(json!({ "name": t.name }))).await;
    Ok((StatusCode::CREATED, Json(t)))
}

async fn rename_team(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    P(id): P<i64>,
    Body(b): Body<TeamInput>,
) -> ApiResult<Json<Team>> {
    let t = app.store.rename_team(id, &b.name).await?;
    audit(&app, &caller, "team.rename", "team", &id.to_string(), Some(json!({ "name": t.name }))).await;
    Ok(Json(t))
}

async fn delete_team(State(app): State<Arc<AppState>>, caller: Caller, P(id): P<i64>) -> ApiResult<StatusCode> {
    if !app.store.delete_team(id).await? {
        return Err(ApiError::not_found(format!("team {id}")));
    }
    audit(&app, &caller, "team.delete", "team", &id.to_string(), None).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn queues(State(app): State<Arc<AppState>>, _c: Caller) -> ApiResult<Json<Vec<QueueConfig>>> {
    Ok(Json(app.live.read(|e, _, _| e.current_config().queues).await?))
}

async fn put_queue(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    P(id): P<u32>,
    Body(q): Body<QueueConfig>,
) -> ApiResult<Json<QueueConfig>> {
    if q.id != QueueId(id) {
        return Err(ApiError::invalid(format!("the body's id {} differs from the path's {id}", q.id.0)));
    }
    // The engine validates and applies; only then is the table written.
    app.live.input(Input::ConfigureQueue { queue: q.clone() }).await?;
    app.store.put_queue(&q).await?;
    audit(&app, &caller, "queue.configure", "queue", &id.to_string(), Some(json!(q))).await;
    Ok(Json(q))
}

async fn delete_queue(State(app): State<Arc<AppState>>, caller: Caller, P(id): P<u32>) -> ApiResult<StatusCode> {
    app.live.input(Input::RemoveQueue { queue: QueueId(id) }).await?;
    app.store.remove_queue(QueueId(id)).await?;
    audit(&app, &caller, "queue.remove", "queue", &id.to_string(), None).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn agents(State(app): State<Arc<AppState>>, _c: Caller) -> ApiResult<Json<Vec<AgentConfig>>> {
    Ok(Json(app.live.read(|e, _, _| e.current_config().agents).await?))
}

async fn put_agent(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    P(id): P<u32>,
    Body(a): Body<AgentConfig>,
) -> ApiResult<Json<AgentConfig>> {
    if a.id != AgentId(id) {
        return Err(ApiError::invalid(format!("the body's id {} differs from the path's {id}", a.id.0)));
    }
    app.live.input(Input::ConfigureAgent { agent: a.clone() }).await?;
    app.store.put_agent(&a).await?;
    audit(&app, &caller, "agent.configure", "agent", &id.to_string(), Some(json!(a))).await;
    Ok(Json(a))
}

async fn delete_agent(State(app): State<Arc<AppState>>, caller: Caller, P(id): P<u32>) -> ApiResult<StatusCode> {
    app.live.input(Input::RemoveAgent { agent: AgentId(id) }).await?;
    app.store.remove_agent(AgentId(id)).await?;
    audit(&app, &caller, "agent.remove", "agent", &id.to_string(), None).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn settings(State(app): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<DeskSettings>> {
    let mut s = app.desk();
    if caller.role() != Role::Admin {
        // Webhook secrets are for administrators.
        for w in &mut s.webhooks {
            w.secret = "********".into();
        }
    }
    Ok(Json(s))
}

async fn put_settings(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Body(s): Body<DeskSettings>,
) -> ApiResult<Json<DeskSettings>> {
    app.apply_desk(s.clone()).await?;
    let mut shown = json!(s);
    if let Some(hooks) = shown.get_mut("webhooks").and_then(|h| h.as_array_mut()) {
        for h in hooks {
            h["secret"] = json!("********");
        }
    }
    audit(&app, &caller, "settings.update", "settings", "desk", Some(shown)).await;
    Ok(Json(s))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditParams {
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    before_id: Option<i64>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    record_type: Option<String>,
    #[serde(default)]
    record_id: Option<String>,
}

async fn audit_log(
    State(app): State<Arc<AppState>>,
    _c: Caller,
    Q(q): Q<AuditParams>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let query = AuditQuery {
        actor: q.actor,
        action: q.action,
        record_type: q.record_type,
        record_id: q.record_id,
        since: None,
        before_id: q.before_id,
        limit: q.limit.unwrap_or(100),
    };
    Ok(Json(app.store.audit_entries(&query).await?))
}
