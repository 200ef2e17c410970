//! Contacts from the web-call channel and the injection API, and the
//! screen-pop of a live contact.

use super::{Body, P, audit};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::pop::{self, ScreenPop};
use crate::routes::{FLOOR, Route, route};
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::{get, post};
use engine::{AgentId, Channel, ContactId, ContactSpec, ContactView, Input, QueueId};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use store::{CustomerSegment, CustomerStore, Role};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    let c = "contacts";
    vec![
        route(
            Method::POST,
            "/api/contacts",
            FLOOR,
            c,
            "A new contact (web call, chat, e-mail) enters a queue",
            Some("NewContact"),
            Some("NewContactAnswer"),
            post(create),
        ),
        route(Method::GET, "/api/contacts", FLOOR, c, "Live contacts", None, Some("ContactViews"), get(list)),
        route(Method::POST, "/api/contacts/{id}/abandon", FLOOR, c, "The web caller left", None, None, post(abandon)),
        route(
            Method::POST,
            "/api/contacts/{id}/callback",
            FLOOR,
            c,
            "The waiting caller asks for a callback (keeps the place)",
            Some("Callback"),
            None,
            post(callback),
        ),
        route(
            Method::GET,
            "/api/contacts/{id}/pop",
            &[Role::Agent, Role::Supervisor, Role::Qa, Role::Admin],
            c,
            "The screen-pop of a live contact",
            None,
            Some("ScreenPop"),
            get(get_pop),
        ),
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewContact {
    queue: u32,
    #[serde(default)]
    channel: Option<Channel>,
    #[serde(default)]
    caller: Option<String>,
    #[serde(default)]
    customer_id: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    problem_type: Option<String>,
    #[serde(default)]
    priority: i32,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

/// Turn a request into an engine contact, identifying the customer by id or
/// by the caller's number (most recently updated match).
async fn spec_of(app: &AppState, b: NewContact) -> ApiResult<(ContactSpec, Option<String>)> {
    if !(-1000..=1000).contains(&b.priority) {
        return Err(ApiError::invalid("priority: -1000 to 1000"));
    }
    let caller = match &b.caller {
        Some(raw) => Some(
            store::normalise_phone(raw)
                .ok_or_else(|| ApiError::invalid(format!("caller {raw:?} is not a phone number")))?,
        ),
        None => None,
    };
    let customer = match (&b.customer_id, &caller) {
        (Some(id), _) => Some(
            app.store
                .customer(id)
                .await?
                .ok_or_else(|| ApiError::invalid(format!("customer {id:?} does not exist")))?,
        ),
        (None, Some(number)) => app.store.customers_by_phone(number).await?.into_iter().next(),
        (None, None) => None,
    };
    let mut spec = ContactSpec::new(ContactId(0), QueueId(b.queue));
    spec.channel = b.channel.unwrap_or(Channel::Voice);
    spec.priority = b.priority;
    spec.language = b.language;
    spec.problem_type = b.problem_type;
    spec.attributes = b.attributes;
    spec.callback_number = caller;
    if let Some(c) = &customer {
        spec.customer = Some(c.id.clone());
        spec.segment = c.segment.to_engine();
        if spec.priority == 0 && c.segment == CustomerSegment::Vip {
            spec.priority = 10;
        }
        // The last agent who handled this customer, for sticky routing.
        let history = app.store.customer_history(&c.id, None, 5).await?;
        spec.last_agent = history.iter().find_map(|r| r.agent);
    }
    Ok((spec, customer.map(|c| c.id)))
}

async fn create(
    State(app): State<Arc<AppState>>,
    _caller: Caller,
    Body(b): Body<NewContact>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (spec, customer) = spec_of(&app, b).await?;
    let id = app.live.arrive(spec).await?;
    Ok((StatusCode::CREATED, Json(json!({ "contact": id, "customer_id": customer }))))
}

/// Inject a contact from inside the server (the demo's callers).
pub async fn inject(
    app: &AppState,
    queue: QueueId,
    caller: Option<String>,
    language: Option<String>,
    problem: Option<String>,
) -> ApiResult<ContactId> {
    let body = NewContact {
        queue: queue.0,
        channel: None,
        caller,
        customer_id: None,
        language,
        problem_type: problem,
        priority: 0,
        attributes: BTreeMap::new(),
    };
    let (spec, _) = spec_of(app, body).await?;
    app.live.arrive(spec).await
}

/// The engine contact for a telephone call leaving the IVR: the customer
/// found by the caller's number (if it is one), priority, language, problem
/// type and the IVR's attributes.
pub async fn call_spec(
    app: &AppState,
    queue: QueueId,
    caller: Option<String>,
    priority: i32,
    attributes: BTreeMap<String, String>,
) -> ApiResult<ContactSpec> {
    let mut attributes = attributes;
    let language = attributes.remove("language");
    let problem_type = attributes.remove("problem_type");
    // A SIP caller id need not be a phone number (`sip:alice@host`).
    let caller = caller.filter(|c| store::normalise_phone(c).is_some());
    let body = NewContact {
        queue: queue.0,
        channel: Some(Channel::Voice),
        caller,
        customer_id: None,
        language,
        problem_type,
        priority: priority.clamp(-1000, 1000),
        attributes,
    };
    Ok(spec_of(app, body).await?.0)
}

async fn list(State(app): State<Arc<AppState>>, _caller: Caller) -> ApiResult<Json<Vec<ContactView>>> {
    Ok(Json(app.live.read(|e, _, _| e.contact_views()).await?))
}

async fn abandon(State(app): State<Arc<AppState>>, _caller: Caller, P(id): P<u64>) -> ApiResult<StatusCode> {
    app.live.input(Input::Abandon { contact: ContactId(id) }).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackBody {
    #[serde(default)]
    number: Option<String>,
}

async fn callback(
    State(app): State<Arc<AppState>>,
    _caller: Caller,
    P(id): P<u64>,
    Body(b): Body<CallbackBody>,
) -> ApiResult<StatusCode> {
    let number = match b.number {
        Some(raw) => Some(
            store::normalise_phone(&raw)
                .ok_or_else(|| ApiError::invalid(format!("number {raw:?} is not a phone number")))?,
        ),
        None => None,
    };
    app.live.input(Input::RequestCallback { contact: ContactId(id), number }).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_pop(State(app): State<Arc<AppState>>, caller: Caller, P(id): P<u64>) -> ApiResult<Json<ScreenPop>> {
    let contact = ContactId(id);
    let own_agent: Option<AgentId> = caller.user.agent_id;
    let (wc, queue_name, holds) = app
        .live
        .read(move |e, contacts, now| {
            let wc = contacts.get(&contact).cloned();
            let name = wc.as_ref().and_then(|c| e.queue_view(c.queue, now)).map(|q| q.name).unwrap_or_default();
            let holds =
                own_agent.and_then(|a| e.agent_view(a)).is_some_and(|v| v.work.iter().any(|w| w.contact == contact));
            (wc, name, holds)
        })
        .await?;
    let wc = wc.ok_or_else(|| ApiError::not_found(format!("contact {id} is not live")))?;
    if caller.role() == Role::Agent && !holds {
        return Err(ApiError::forbidden(format!("contact {id} is not with your agent")));
    }
    let mut p = pop::build(&app.store, &wc, queue_name).await;
    pop::audit_read(&app.store, &p, &caller.actor()).await;
    if let (Some(url), Some(customer)) = (app.desk().order_hook_url, p.customer.as_ref().map(|c| c.id.clone())) {
        p.orders = pop::fetch_orders(&app.http, &url, &customer).await;
    }
    if caller.role() == Role::Qa
        && let Some(c) = &mut p.customer
    {
        pop::mask_customer(c);
    }
    audit(&app, &caller, "contact.pop", "contact", &id.to_string(), None).await;
    Ok(Json(p))
}
