//! Sign in, sign out, and who am I.

use super::Body;
use crate::AppState;
use crate::auth::{self, COOKIE, Caller, LoginOutcome, SESSION_MAX_MS};
use crate::error::{ApiError, ApiResult};
use crate::routes::{ANY, PUBLIC, Route, route};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use engine::{AgentId, AgentView, QueueId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use store::{Role, SessionStore, User};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        route(
            Method::POST,
            "/api/login",
            PUBLIC,
            "accounts",
            "Sign in",
            Some("Login"),
            Some("LoginAnswer"),
            post(login),
        ),
        route(Method::POST, "/api/logout", ANY, "accounts", "Sign out", None, None, post(logout)),
        route(
            Method::GET,
            "/api/me",
            ANY,
            "accounts",
            "The signed-in user, their agent and menus",
            None,
            Some("Me"),
            get(me),
        ),
    ]
}

/// A user as the API shows it (never the password hash).
#[derive(Clone, Debug, Serialize)]
pub struct UserOut {
    /// Id.
    pub id: i64,
    /// Login.
    pub login: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Team.
    pub team_id: Option<i64>,
    /// Engine agent.
    pub agent_id: Option<AgentId>,
    /// Failed logins in a row.
    pub failed_logins: u32,
    /// Locked until.
    pub locked_until: Option<engine::Time>,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> UserOut {
        UserOut {
            id: u.id,
            login: u.login.clone(),
            display_name: u.display_name.clone(),
            role: u.role,
            team_id: u.team_id,
            agent_id: u.agent_id,
            failed_logins: u.failed_logins,
            locked_until: u.locked_until,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    login: String,
    password: String,
}

async fn login(State(app): State<Arc<AppState>>, Body(b): Body<LoginBody>) -> ApiResult<Response> {
    match auth::login(&app, &b.login, &b.password).await? {
        LoginOutcome::Ok { user, token, session } => {
            let cookie =
                format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}", SESSION_MAX_MS / 1000);
            let body = json!({ "token": token, "expires_at": session.expires_at, "user": UserOut::from(&*user) });
            let mut resp = Json(body).into_response();
            let value = HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal("cookie", e))?;
            resp.headers_mut().insert(header::SET_COOKIE, value);
            tracing::info!(login = %user.login, "signed in");
            Ok(resp)
        }
        LoginOutcome::BadCredentials => {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", "unknown login or wrong password"))
        }
        LoginOutcome::Locked(until) => Err(ApiError::new(
            StatusCode::LOCKED,
            "locked",
            format!("too many failed logins; the account is locked until {} (ms since the epoch)", until.0),
        )),
    }
}

async fn logout(State(app): State<Arc<AppState>>, caller: Caller) -> ApiResult<Response> {
    app.store.delete_session(&caller.token_hash).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let clear = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&clear) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// A queue or agent in a menu.
#[derive(Clone, Debug, Serialize)]
pub struct MenuItem<I> {
    /// Id.
    pub id: I,
    /// Name.
    pub name: String,
}

/// What the desktop's menus need.
#[derive(Clone, Debug, Serialize)]
pub struct UiSettings {
    /// Not-ready reasons.
    pub not_ready_reasons: Vec<String>,
    /// Wrap-up codes.
    pub wrap_up_codes: Vec<String>,
    /// Queues (transfer targets).
    pub queues: Vec<MenuItem<QueueId>>,
    /// Agents (transfer targets).
    pub agents: Vec<MenuItem<AgentId>>,
}

async fn me(State(app): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<serde_json::Value>> {
    let agent_id = caller.user.agent_id;
    let (agent, queues, agents): (Option<AgentView>, _, _) = app
        .live
        .read(move |e, _, now| {
            let queues: Vec<MenuItem<QueueId>> =
                e.queue_views(now).into_iter().map(|q| MenuItem { id: q.id, name: q.name }).collect();
            let agents: Vec<MenuItem<AgentId>> =
                e.agent_views().into_iter().map(|a| MenuItem { id: a.id, name: a.name }).collect();
            (agent_id.and_then(|a| e.agent_view(a)), queues, agents)
        })
        .await?;
    let desk = app.desk();
    let settings = UiSettings {
        not_ready_reasons: desk.not_ready_reasons.clone(),
        wrap_up_codes: desk.wrap_up_codes.clone(),
        queues,
        agents,
    };
    Ok(Json(json!({ "user": UserOut::from(&caller.user), "agent": agent, "settings": settings })))
}
