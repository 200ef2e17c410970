//! Telephony over the API: status and registered phones, settings (phones,
//! numbers, queue media, recording, survey), IVR flows with their versions,
//! the call log with recordings, the survey and IVR reports, and the demo's
//! order system that the sample IVR's self-service looks up.

use super::{Body, P, Q, audit};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::{ADMIN, PUBLIC, Route, WATCHERS, route};
use crate::telephony::Refusal;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use store::{Role, SurveyFilter, VoiceStore};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    let v = "telephony";
    let r = "reports";
    vec![
        route(
            Method::GET,
            "/api/voice/status",
            WATCHERS,
            v,
            "SIP address, registered phones, calls in progress",
            None,
            Some("VoiceStatus"),
            get(status),
        ),
        route(
            Method::GET,
            "/api/voice/settings",
            ADMIN,
            v,
            "Telephony settings",
            None,
            Some("VoiceSettings"),
            get(settings),
        ),
        route(
            Method::PUT,
            "/api/voice/settings",
            ADMIN,
            v,
            "Change the telephony settings (422 lists every problem)",
            Some("VoiceSettings"),
            Some("VoiceSettings"),
            put(set_settings),
        ),
        route(
            Method::GET,
            "/api/voice/flows",
            ADMIN,
            v,
            "IVR flows and their latest versions",
            None,
            Some("Flows"),
            get(flows),
        ),
        route(
            Method::GET,
            "/api/voice/flows/{name}",
            ADMIN,
            v,
            "One IVR flow (`?version=` for an older one)",
            None,
            Some("Flow"),
            get(flow),
        ),
        route(
            Method::PUT,
            "/api/voice/flows/{name}",
            ADMIN,
            v,
            "Save a new version of a flow (422 lists every problem)",
            Some("Flow"),
            Some("FlowVersion"),
            put(save_flow),
        ),
        route(
            Method::GET,
            "/api/voice/calls",
            WATCHERS,
            v,
            "Telephone calls, newest first (`?before=&limit=`)",
            None,
            Some("Calls"),
            get(calls),
        ),
        route(Method::GET, "/api/voice/calls/{id}", WATCHERS, v, "One call", None, Some("Call"), get(call)),
        route(
            Method::GET,
            "/api/voice/calls/{id}/recording",
            WATCHERS,
            v,
            "The call's recording (WAV, caller left, agent right)",
            None,
            None,
            get(recording),
        ),
        route(
            Method::GET,
            "/api/voice/calls/{id}/voicemail",
            &[Role::Agent, Role::Supervisor, Role::Qa, Role::Admin],
            v,
            "The voicemail left on a call (WAV); an agent only for a voicemail contact offered to or held by them",
            None,
            None,
            get(voicemail),
        ),
        route(
            Method::GET,
            "/api/reports/surveys",
            WATCHERS,
            r,
            "Post-call survey per agent, queue and question, with the question's text \
             (`?since=&until=&agent=&queue=&lang=zh|en&format=json|csv`)",
            None,
            Some("SurveySummary"),
            get(surveys),
        ),
        route(
            Method::GET,
            "/api/reports/ivr/{flow}",
            WATCHERS,
            r,
            "Per-node IVR statistics (`?since=&until=`)",
            None,
            Some("IvrNodeStats"),
            get(ivr_stats),
        ),
        route(
            Method::GET,
            "/api/reports/ivr/{flow}/intervals",
            WATCHERS,
            r,
            "Per-node IVR statistics per interval (`?from=&to=&interval=15|30|60&format=json|csv`)",
            None,
            Some("IvrNodeIntervals"),
            get(ivr_intervals),
        ),
        route(
            Method::GET,
            "/api/demo/order-status",
            PUBLIC,
            "demo",
            "The demo company's order system (`?account=`), looked up by the sample IVR",
            None,
            None,
            get(order_status),
        ),
    ]
}

fn telephony(app: &AppState) -> ApiResult<&Arc<dyn crate::telephony::Telephony>> {
    app.telephony().ok_or_else(|| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "telephony_off", "telephony is not running on this server")
    })
}

/// A refused document: 422 with every problem (path, node, field,
/// message) next to the usual `code` and `message`, or 500 when it could
/// not be stored.
fn refused(r: Refusal, code: &str, what: &str) -> Response {
    match r {
        Refusal::Invalid(problems) => {
            let message = match problems.len() {
                1 => format!("{what}: {}", problems[0].message),
                n => format!("{what}: {n} problems"),
            };
            let body = json!({ "error": { "code": code, "message": message, "problems": problems } });
            (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
        }
        Refusal::Failed(e) => ApiError::internal(what, e).into_response(),
    }
}

async fn status(State(app): State<Arc<AppState>>, _c: Caller) -> ApiResult<Json<Value>> {
    match app.telephony() {
        Some(t) => Ok(Json(t.status())),
        None => Ok(Json(json!({ "enabled": false }))),
    }
}

async fn settings(State(app): State<Arc<AppState>>, _c: Caller) -> ApiResult<Json<Value>> {
    Ok(Json(telephony(&app)?.settings()))
}

async fn set_settings(State(app): State<Arc<AppState>>, c: Caller, Body(v): Body<Value>) -> ApiResult<Response> {
    let t = telephony(&app)?;
    if let Err(r) = t.set_settings(v).await {
        return Ok(refused(r, "invalid_settings", "telephony settings"));
    }
    audit(&app, &c, "update", "voice-settings", "voice", None).await;
    Ok(Json(t.settings()).into_response())
}

async fn flows(State(app): State<Arc<AppState>>, _c: Caller) -> ApiResult<Json<Value>> {
    Ok(Json(telephony(&app)?.flows()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionQ {
    version: Option<u32>,
}

async fn flow(
    State(app): State<Arc<AppState>>,
    _c: Caller,
    P(name): P<String>,
    Q(q): Q<VersionQ>,
) -> ApiResult<Json<Value>> {
    telephony(&app)?.flow(&name, q.version).map(Json).ok_or_else(|| ApiError::not_found(format!("no flow {name:?}")))
}

async fn save_flow(
    State(app): State<Arc<AppState>>,
    c: Caller,
    P(name): P<String>,
    Body(v): Body<Value>,
) -> ApiResult<Response> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_".contains(ch)) {
        return Err(ApiError::invalid("flow name: 1 to 64 letters, digits, - or _"));
    }
    let version = match telephony(&app)?.save_flow(name.clone(), v).await {
        Ok(v) => v,
        Err(r) => return Ok(refused(r, "invalid_flow", &format!("flow {name}"))),
    };
    audit(&app, &c, "update", "ivr-flow", &name, Some(json!({ "version": version }))).await;
    Ok((StatusCode::CREATED, Json(json!({ "name": name, "version": version }))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQ {
    before: Option<i64>,
    limit: Option<usize>,
}

async fn calls(State(app): State<Arc<AppState>>, _c: Caller, Q(q): Q<PageQ>) -> ApiResult<Json<Value>> {
    let limit = q.limit.unwrap_or(100).clamp(1, store::MAX_PAGE);
    let rows = app.store.calls(q.before, limit).await?;
    Ok(Json(json!(rows)))
}

async fn call(State(app): State<Arc<AppState>>, _c: Caller, P(id): P<String>) -> ApiResult<Json<Value>> {
    let c = app.store.call(&id).await?.ok_or_else(|| ApiError::not_found(format!("no call {id:?}")))?;
    Ok(Json(json!(c)))
}

async fn recording(State(app): State<Arc<AppState>>, c: Caller, P(id): P<String>) -> ApiResult<Response> {
    let call = app.store.call(&id).await?.ok_or_else(|| ApiError::not_found(format!("no call {id:?}")))?;
    let path = call.recording.ok_or_else(|| ApiError::not_found("this call was not recorded"))?;
    let bytes =
        tokio::fs::read(&path).await.map_err(|e| ApiError::not_found(format!("recording file unavailable: {e}")))?;
    // Listening to a conversation is a read of personal data: audited.
    audit(&app, &c, "read", "recording", &id, None).await;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], bytes).into_response())
}

async fn voicemail(State(app): State<Arc<AppState>>, c: Caller, P(id): P<String>) -> ApiResult<Response> {
    if c.role() == Role::Agent {
        // An agent hears only the voicemails they are working on.
        let agent = c.user.agent_id.ok_or_else(|| ApiError::forbidden("no agent for this user"))?;
        let wanted = id.clone();
        let holds = app
            .live
            .read(move |e, contacts, _| {
                e.agent_view(agent).is_some_and(|v| {
                    v.work.iter().any(|w| {
                        contacts
                            .get(&w.contact)
                            .and_then(|c| c.details.as_ref())
                            .and_then(|d| d.attributes.get(VOICEMAIL_ATTRIBUTE))
                            .is_some_and(|call| *call == wanted)
                    })
                })
            })
            .await?;
        if !holds {
            return Err(ApiError::forbidden(format!("the voicemail of call {id:?} is not with your agent")));
        }
    }
    let call = app.store.call(&id).await?.ok_or_else(|| ApiError::not_found(format!("no call {id:?}")))?;
    let path = call.voicemail.ok_or_else(|| ApiError::not_found("no voicemail was left on this call"))?;
    let bytes =
        tokio::fs::read(&path).await.map_err(|e| ApiError::not_found(format!("voicemail file unavailable: {e}")))?;
    audit(&app, &c, "read", "voicemail", &id, None).await;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], bytes).into_response())
}

/// Contact attribute naming the call whose voicemail a contact is (set by
/// telephony).
pub const VOICEMAIL_ATTRIBUTE: &str = "voicemail";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SurveyQ {
    since: Option<i64>,
    until: Option<i64>,
    agent: Option<u32>,
    queue: Option<u32>,
    /// Language of the questions' text: `zh` (default) or `en`.
    lang: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// One summary row with what its question says.
#[derive(Serialize)]
struct SurveyRowOut {
    #[serde(flatten)]
    row: store::SurveySummaryRow,
    /// The question's text in the language asked for; its id when the
    /// question is no longer configured or its prompt has no text.
    question_text: String,
}

/// The text of each configured question in `lang` (none without telephony).
fn question_texts(app: &AppState, lang: &str) -> BTreeMap<String, String> {
    let Some(Value::Object(all)) = app.telephony().map(|t| t.survey_questions()) else { return BTreeMap::new() };
    all.into_iter()
        .filter_map(|(id, texts)| texts.get(lang).and_then(Value::as_str).map(|t| (id, t.to_string())))
        .collect()
}

async fn surveys(State(app): State<Arc<AppState>>, _c: Caller, Q(q): Q<SurveyQ>) -> ApiResult<Response> {
    let lang = match q.lang.as_deref().map(str::trim) {
        None | Some("") | Some("zh") => "zh",
        Some("en") => "en",
        Some(other) => return Err(ApiError::invalid(format!("lang {other:?}: zh or en"))),
    };
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => return Err(ApiError::invalid(format!("format {other:?}: json or csv"))),
    };
    let f = SurveyFilter { since: q.since, until: q.until, agent: q.agent, queue: q.queue };
    let texts = question_texts(&app, lang);
    let rows: Vec<SurveyRowOut> = app
        .store
        .survey_summary(&f)
        .await?
        .into_iter()
        .map(|row| SurveyRowOut { question_text: texts.get(&row.question).unwrap_or(&row.question).clone(), row })
        .collect();
    if !csv {
        return Ok(Json(rows).into_response());
    }
    let (agents, queues) = app
        .live
        .read(|e, _, now| {
            let agents: BTreeMap<u32, String> = e.agent_views().into_iter().map(|a| (a.id.0, a.name)).collect();
            let queues: BTreeMap<u32, String> = e.queue_views(now).into_iter().map(|q| (q.id.0, q.name)).collect();
            (agents, queues)
        })
        .await?;
    let id = |v: Option<u32>| v.map(|x| x.to_string()).unwrap_or_default();
    let name = |names: &BTreeMap<u32, String>, v: Option<u32>| {
        store::csv_field(v.and_then(|x| names.get(&x)).map_or("", String::as_str))
    };
    let header = "agent,agent_name,queue,queue_name,question,question_text,count,mean,score_1,score_2,score_3,\
                  score_4,score_5";
    let lines = rows.iter().map(|x| {
        let r = &x.row;
        let mut fields = vec![
            id(r.agent),
            name(&agents, r.agent),
            id(r.queue),
            name(&queues, r.queue),
            store::csv_field(&r.question),
            store::csv_field(&x.question_text),
            r.count.to_string(),
            format!("{:.4}", r.mean),
        ];
        fields.extend(r.scores.iter().map(u64::to_string));
        fields
    });
    Ok(super::reports::csv_response("surveys.csv", super::reports::csv(header, lines)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeQ {
    since: Option<i64>,
    until: Option<i64>,
}

async fn ivr_stats(
    State(app): State<Arc<AppState>>,
    _c: Caller,
    P(flow): P<String>,
    Q(q): Q<RangeQ>,
) -> ApiResult<Json<Value>> {
    let rows = app.store.ivr_node_stats(&flow, q.since.unwrap_or(0), q.until.unwrap_or(i64::MAX)).await?;
    Ok(Json(json!(rows)))
}

async fn ivr_intervals(
    State(app): State<Arc<AppState>>,
    _c: Caller,
    P(flow): P<String>,
    Q(q): Q<super::reports::ReportQuery>,
) -> ApiResult<Response> {
    let r = super::reports::range(&app, &q)?;
    // The store keeps times as i64 ms; a `to` beyond that range means "no end".
    let ms = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let rows = app.store.ivr_node_stats_by_interval(&flow, ms(r.from.0), ms(r.to.0), ms(r.interval_ms)).await?;
    if !r.csv {
        return Ok(Json(rows).into_response());
    }
    let header = "start,end,version,node,kind,entered,dropped,outcomes,timed,total_ms,mean_ms";
    let lines = rows.iter().map(|x| {
        let s = &x.stats;
        // Outcomes in one field, `chose:1=3;dropped=1`, so the columns stay fixed.
        let outcomes: Vec<String> = s.outcomes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        vec![
            x.start.to_string(),
            x.end.to_string(),
            s.version.to_string(),
            store::csv_field(&s.node),
            store::csv_field(&s.kind),
            s.entered.to_string(),
            s.dropped.to_string(),
            store::csv_field(&outcomes.join(";")),
            s.timed.to_string(),
            s.total_ms.to_string(),
            s.mean_ms.map(|m| format!("{m:.1}")).unwrap_or_default(),
        ]
    });
    let name: String = flow.chars().filter(|c| c.is_ascii_alphanumeric() || "-_".contains(*c)).collect();
    Ok(super::reports::csv_response(&format!("ivr-{name}.csv"), super::reports::csv(header, lines)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountQ {
    account: String,
}

/// A made-up but stable order status per account number (4–12 digits).
async fn order_status(Q(q): Q<AccountQ>) -> ApiResult<Json<Value>> {
    let a = q.account.trim();
    if !(4..=12).contains(&a.len()) || !a.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::not_found(format!("no account {a:?}")));
    }
    let h = a.bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let (status, days) = match h % 3 {
        0 => ("shipped", Some(1 + h % 4)),
        1 => ("processing", Some(3 + h % 5)),
        _ => ("delivered", None),
    };
    Ok(Json(json!({ "account": a, "status": status, "days": days })))
}
