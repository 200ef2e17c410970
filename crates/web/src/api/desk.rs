//! The agent desktop: the signed-in user's own agent and the contacts it holds.

use super::{Body, P, audit};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::{DESK, Route, route};
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, post};
use engine::kpi::AgentFigures;
use engine::{AgentId, AgentView, ContactId, Input, Party, QueueId, TransferTarget, WorkPhase};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use store::{CustomerStore, StoreError, WrapUp};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    let a = "agent desktop";
    vec![
        route(
            Method::POST,
            "/api/agent/login",
            DESK,
            a,
            "Log the agent in (ready at once, R-CALL-2)",
            None,
            Some("AgentView"),
            post(agent_login),
        ),
        route(
            Method::POST,
            "/api/agent/logout",
            DESK,
            a,
            "Log the agent out",
            None,
            Some("AgentView"),
            post(agent_logout),
        ),
        route(
            Method::POST,
            "/api/agent/ready",
            DESK,
            a,
            "Ready for contacts (ends wrap-up)",
            None,
            Some("AgentView"),
            post(ready),
        ),
        route(
            Method::POST,
            "/api/agent/not-ready",
            DESK,
            a,
            "Not ready, with a reason",
            Some("NotReady"),
            Some("AgentView"),
            post(not_ready),
        ),
        route(
            Method::GET,
            "/api/agent/stats",
            DESK,
            a,
            "The agent's figures today",
            None,
            Some("AgentStats"),
            get(stats),
        ),
        route(
            Method::POST,
            "/api/contacts/{id}/accept",
            DESK,
            a,
            "Accept an offered contact",
            None,
            Some("AgentView"),
            post(accept),
        ),
        route(
            Method::POST,
            "/api/contacts/{id}/reject",
            DESK,
            a,
            "Decline an offered contact",
            None,
            Some("AgentView"),
            post(reject),
        ),
        route(
            Method::POST,
            "/api/contacts/{id}/hold",
            DESK,
            a,
            "Put the customer on hold",
            None,
            Some("AgentView"),
            post(hold),
        ),
        route(
            Method::POST,
            "/api/contacts/{id}/resume",
            DESK,
            a,
            "Take the customer off hold",
            None,
            Some("AgentView"),
            post(resume),
        ),
        route(
            Method::POST,
            "/api/contacts/{id}/hangup",
            DESK,
            a,
            "End the contact (wrap-up follows)",
            None,
            Some("AgentView"),
            post(hangup),
        ),
        route(
            Method::POST,
            "/api/contacts/{id}/transfer",
            DESK,
            a,
            "Transfer to a queue or an agent",
            Some("Transfer"),
            Some("AgentView"),
            post(transfer),
        ),
        route(
            Method::POST,
            "/api/contacts/{id}/consult",
            DESK,
            a,
            "Consulted transfer, first half: hold the customer and call another agent (who accepts or declines like an offer)",
            Some("Consult"),
            Some("AgentView"),
            post(consult),
        ),
        route(
            Method::POST,
            "/api/contacts/{id}/consult/complete",
            DESK,
            a,
            "Consulted transfer, second half: hand the customer to the consulted agent, who has answered",
            None,
            Some("AgentView"),
            post(complete_consult),
        ),
        route(
            Method::POST,
            "/api/contacts/{id}/consult/cancel",
            DESK,
            a,
            "End the consultation (either agent); the customer goes back to the consulting agent, off hold",
            None,
            Some("AgentView"),
            post(cancel_consult),
        ),
        route(
            Method::POST,
            "/api/contacts/{id}/wrap-up",
            DESK,
            a,
            "Submit the wrap-up and end wrap-up time",
            Some("WrapUp"),
            Some("AgentView"),
            post(wrap_up),
        ),
        route(
            Method::POST,
            "/api/contacts/{id}/wrap-up/extend",
            DESK,
            a,
            "More wrap-up time",
            Some("Extend"),
            Some("AgentView"),
            post(extend),
        ),
    ]
}

/// The caller's agent view after an input.
async fn view(app: &AppState, agent: AgentId) -> ApiResult<Json<AgentView>> {
    let v = app.live.read(move |e, _, _| e.agent_view(agent)).await?;
    v.map(Json).ok_or_else(|| ApiError::not_found(format!("agent {} is not configured", agent.0)))
}

async fn act(app: &AppState, caller: &Caller, input: impl FnOnce(AgentId) -> Input) -> ApiResult<Json<AgentView>> {
    let agent = caller.agent()?;
    app.live.input(input(agent)).await?;
    view(app, agent).await
}

/// Fails with 403 unless the caller's agent holds the contact (as its
/// agent: being consulted about it is not holding it).
async fn own(app: &AppState, caller: &Caller, contact: ContactId) -> ApiResult<AgentId> {
    holds(app, caller, contact, false).await
}

async fn holds(app: &AppState, caller: &Caller, contact: ContactId, or_consulted: bool) -> ApiResult<AgentId> {
    let agent = caller.agent()?;
    let consulting = |p: &WorkPhase| matches!(p, WorkPhase::ConsultRinging | WorkPhase::Consulting);
    let holds = app
        .live
        .read(move |e, _, _| {
            e.agent_view(agent)
                .is_some_and(|v| v.work.iter().any(|w| w.contact == contact && (or_consulted || !consulting(&w.phase))))
        })
        .await?;
    if holds {
        Ok(agent)
    } else {
        Err(ApiError::forbidden(format!("contact {} is not with agent {}", contact.0, agent.0)))
    }
}

async fn agent_login(State(app): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<AgentView>> {
    act(&app, &caller, |agent| Input::Login { agent }).await
}

async fn agent_logout(State(app): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<AgentView>> {
    act(&app, &caller, |agent| Input::Logout { agent }).await
}

async fn ready(State(app): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<AgentView>> {
    act(&app, &caller, |agent| Input::Ready { agent }).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotReadyBody {
    reason: String,
}

async fn not_ready(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Body(b): Body<NotReadyBody>,
) -> ApiResult<Json<AgentView>> {
    if !app.desk().not_ready_reasons.contains(&b.reason) {
        return Err(ApiError::invalid(format!(
            "unknown not-ready reason {:?} (configured: {})",
            b.reason,
            app.desk().not_ready_reasons.join(", ")
        )));
    }
    act(&app, &caller, |agent| Input::NotReady { agent, reason: b.reason }).await
}

async fn accept(State(app): State<Arc<AppState>>, caller: Caller, P(id): P<u64>) -> ApiResult<Json<AgentView>> {
    act(&app, &caller, |agent| Input::Accept { contact: ContactId(id), agent }).await
}

async fn reject(State(app): State<Arc<AppState>>, caller: Caller, P(id): P<u64>) -> ApiResult<Json<AgentView>> {
    act(&app, &caller, |agent| Input::Reject { contact: ContactId(id), agent }).await
}

async fn hold(State(app): State<Arc<AppState>>, caller: Caller, P(id): P<u64>) -> ApiResult<Json<AgentView>> {
    let agent = own(&app, &caller, ContactId(id)).await?;
    app.live.input(Input::Hold { contact: ContactId(id) }).await?;
    view(&app, agent).await
}

async fn resume(State(app): State<Arc<AppState>>, caller: Caller, P(id): P<u64>) -> ApiResult<Json<AgentView>> {
    let agent = own(&app, &caller, ContactId(id)).await?;
    app.live.input(Input::Resume { contact: ContactId(id) }).await?;
    view(&app, agent).await
}

async fn hangup(State(app): State<Arc<AppState>>, caller: Caller, P(id): P<u64>) -> ApiResult<Json<AgentView>> {
    let agent = own(&app, &caller, ContactId(id)).await?;
    app.live.input(Input::Hangup { contact: ContactId(id), by: Party::Agent }).await?;
    view(&app, agent).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferBody {
    to: TargetBody,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
#[serde(tag = "kind", content = "id")]
enum TargetBody {
    Queue(u32),
    Agent(u32),
}

async fn transfer(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    P(id): P<u64>,
    Body(b): Body<TransferBody>,
) -> ApiResult<Json<AgentView>> {
    let agent = own(&app, &caller, ContactId(id)).await?;
    let to = match b.to {
        TargetBody::Queue(q) => TransferTarget::Queue(QueueId(q)),
        TargetBody::Agent(a) => TransferTarget::Agent(AgentId(a)),
    };
    app.live.input(Input::Transfer { contact: ContactId(id), to }).await?;
    audit(&app, &caller, "contact.transfer", "contact", &id.to_string(), Some(json!({ "to": to }))).await;
    view(&app, agent).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsultBody {
    /// The agent to consult.
    to: u32,
}

async fn consult(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    P(id): P<u64>,
    Body(b): Body<ConsultBody>,
) -> ApiResult<Json<AgentView>> {
    let contact = ContactId(id);
    let agent = own(&app, &caller, contact).await?;
    app.live.input(Input::Consult { contact, to: AgentId(b.to) }).await?;
    audit(&app, &caller, "contact.consult", "contact", &id.to_string(), Some(json!({ "to": b.to }))).await;
    view(&app, agent).await
}

async fn complete_consult(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    P(id): P<u64>,
) -> ApiResult<Json<AgentView>> {
    let agent = own(&app, &caller, ContactId(id)).await?;
    app.live.input(Input::CompleteConsult { contact: ContactId(id) }).await?;
    audit(&app, &caller, "contact.transfer", "contact", &id.to_string(), Some(json!({ "consulted": true }))).await;
    view(&app, agent).await
}

async fn cancel_consult(State(app): State<Arc<AppState>>, caller: Caller, P(id): P<u64>) -> ApiResult<Json<AgentView>> {
    let agent = holds(&app, &caller, ContactId(id), true).await?;
    app.live.input(Input::CancelConsult { contact: ContactId(id) }).await?;
    view(&app, agent).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WrapUpBody {
    #[serde(default)]
    need: String,
    #[serde(default)]
    service_given: String,
    disposition: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    follow_up: bool,
}

async fn wrap_up(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    P(id): P<u64>,
    Body(b): Body<WrapUpBody>,
) -> ApiResult<Json<AgentView>> {
    let contact = ContactId(id);
    let agent = own(&app, &caller, contact).await?;
    if !app.desk().wrap_up_codes.contains(&b.disposition) {
        return Err(ApiError::invalid(format!(
            "unknown disposition {:?} (configured: {})",
            b.disposition,
            app.desk().wrap_up_codes.join(", ")
        )));
    }
    if b.notes.len() > 10_000 {
        return Err(ApiError::invalid("notes: at most 10,000 bytes"));
    }
    let w = WrapUp {
        need: b.need,
        service_given: b.service_given,
        disposition: b.disposition,
        notes: b.notes,
        follow_up: b.follow_up,
    };
    // The record is written from the log just after the contact arrived;
    // give that writer a moment if it has not caught up yet.
    let mut tries = 0;
    loop {
        match app.store.set_wrap_up(contact, &w).await {
            Ok(()) => break,
            Err(StoreError::NotFound { .. }) if tries < 20 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    app.live.input(Input::EndWrapUp { contact, agent }).await?;
    view(&app, agent).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtendBody {
    seconds: u32,
}

async fn extend(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    P(id): P<u64>,
    Body(b): Body<ExtendBody>,
) -> ApiResult<Json<AgentView>> {
    if b.seconds == 0 || b.seconds > 3_600 {
        return Err(ApiError::invalid("seconds: 1 to 3600"));
    }
    let agent = own(&app, &caller, ContactId(id)).await?;
    app.live.input(Input::ExtendWrapUp { contact: ContactId(id), agent, ms: u64::from(b.seconds) * 1000 }).await?;
    view(&app, agent).await
}

async fn stats(State(app): State<Arc<AppState>>, caller: Caller) -> ApiResult<Json<serde_json::Value>> {
    let agent = caller.agent()?;
    let now = crate::auth::now();
    let offset = i64::from(app.desk().business_hours.utc_offset_minutes) * 60_000;
    let midnight = crate::api::reports::local_midnight(now, offset);
    let counts = app.live.with_kpi(|k| {
        k.fold.finish(now);
        let mut sum = engine::kpi::AgentCounts::default();
        for row in k.fold.report().agent_intervals.iter().filter(|r| r.agent == agent && r.start >= midnight) {
            sum.add(&row.counts);
        }
        sum
    });
    let f = AgentFigures::of(&counts);
    Ok(Json(json!({
        "handled": counts.handled,
        "answered": counts.answered,
        "offers": counts.offers,
        "missed": counts.missed,
        "rejected": counts.rejected,
        "transfers": counts.transfers,
        "talk_seconds": counts.talk_ms as f64 / 1000.0,
        "aht_seconds": f.aht_seconds,
        "occupancy": f.occupancy,
        "state_seconds": f.state_seconds,
        "since": midnight,
    })))
}
