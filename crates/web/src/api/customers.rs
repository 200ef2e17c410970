//! Customer records: read (masked for agents and QA), change, import and
//! export. Every read and change is audited.

use super::{Body, P, Q, audit};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::pop::mask_customer;
use crate::routes::{ADMIN, CUSTOMER_READERS, FLOOR, Route, route};
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use engine::{ContactId, Time};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use store::{ContactRecord, Customer, CustomerData, CustomerStore, ImportReport, Page, Role};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    let c = "customers";
    vec![
        route(
            Method::GET,
            "/api/customers",
            CUSTOMER_READERS,
            c,
            "Customers by id, a page at a time",
            None,
            Some("CustomerPage"),
            get(list),
        ),
        route(
            Method::GET,
            "/api/customers/search",
            CUSTOMER_READERS,
            c,
            "Find customers by phone number (phone=) or by text in name, id, e-mail, attributes or phone digits (q=; Chinese works)",
            None,
            Some("Customers"),
            get(search),
        ),
        route(Method::GET, "/api/customers/export", ADMIN, c, "Every customer as CSV", None, None, get(export)),
        route(
            Method::POST,
            "/api/customers/import",
            ADMIN,
            c,
            "Import customers from CSV (bad rows reported, good rows stored)",
            Some("Csv"),
            Some("ImportReport"),
            post(import),
        ),
        route(
            Method::POST,
            "/api/customers",
            FLOOR,
            c,
            "Create a customer",
            Some("CustomerData"),
            Some("Customer"),
            post(create),
        ),
        route(
            Method::GET,
            "/api/customers/{id}",
            CUSTOMER_READERS,
            c,
            "One customer",
            None,
            Some("Customer"),
            get(one),
        ),
        route(
            Method::PUT,
            "/api/customers/{id}",
            FLOOR,
            c,
            "Change a customer",
            Some("CustomerData"),
            Some("Customer"),
            put(update),
        ),
        route(
            Method::DELETE,
            "/api/customers/{id}",
            ADMIN,
            c,
            "Delete a customer (their contact records stay)",
            None,
            None,
            delete(remove),
        ),
        route(
            Method::GET,
            "/api/customers/{id}/history",
            CUSTOMER_READERS,
            c,
            "A customer's contacts, newest first",
            None,
            Some("ContactRecords"),
            get(history),
        ),
    ]
}

/// Agents and QA see phone numbers and e-mails masked.
fn masked(caller: &Caller) -> bool {
    matches!(caller.role(), Role::Agent | Role::Qa)
}

fn shown(caller: &Caller, mut c: Customer) -> Customer {
    if masked(caller) {
        mask_customer(&mut c);
    }
    c
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

async fn list(State(app): State<Arc<AppState>>, caller: Caller, Q(q): Q<ListQuery>) -> ApiResult<Json<Page<Customer>>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit: 1 to 1000"));
    }
    let page = app.store.list_customers(q.after.as_deref(), limit).await?;
    let ids: Vec<&str> = page.items.iter().map(|c| c.id.as_str()).collect();
    audit(&app, &caller, "customer.list", "customer", "*", Some(json!({ "ids": ids }))).await;
    let Page { items, next } = page;
    Ok(Json(Page { items: items.into_iter().map(|c| shown(&caller, c)).collect(), next }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    /// Exact phone number (normalised), as a caller-id lookup.
    #[serde(default)]
    phone: Option<String>,
    /// Text in the name, id, e-mail or attributes, or phone digits.
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

async fn search(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Q(q): Q<SearchQuery>,
) -> ApiResult<Json<Vec<Customer>>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit: 1 to 1000"));
    }
    let (found, via) = match (&q.phone, &q.q) {
        (Some(phone), None) => (app.store.customers_by_phone(phone).await?, "phone search"),
        (None, Some(text)) if text.trim().chars().count() >= 2 || !text.trim().is_ascii() => {
            (app.store.search_customers(text, limit).await?, "text search")
        }
        (None, Some(_)) => return Err(ApiError::invalid("q: at least two characters (or one Chinese character)")),
        _ => return Err(ApiError::invalid("give either phone or q")),
    };
    for c in &found {
        audit(&app, &caller, "customer.read", "customer", &c.id, Some(json!({ "via": via }))).await;
    }
    Ok(Json(found.into_iter().map(|c| shown(&caller, c)).collect()))
}

async fn one(State(app): State<Arc<AppState>>, caller: Caller, P(id): P<String>) -> ApiResult<Json<Customer>> {
    let c = app.store.customer(&id).await?.ok_or_else(|| ApiError::not_found(format!("customer {id:?}")))?;
    audit(&app, &caller, "customer.read", "customer", &id, None).await;
    Ok(Json(shown(&caller, c)))
}

async fn create(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    Body(d): Body<CustomerData>,
) -> ApiResult<(StatusCode, Json<Customer>)> {
    let c = app.store.create_customer(None, &d).await?;
    audit(&app, &caller, "customer.create", "customer", &c.id, None).await;
    Ok((StatusCode::CREATED, Json(c)))
}

async fn update(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    P(id): P<String>,
    Body(d): Body<CustomerData>,
) -> ApiResult<Json<Customer>> {
    let before = app.store.customer(&id).await?.ok_or_else(|| ApiError::not_found(format!("customer {id:?}")))?;
    let c = app.store.update_customer(&id, &d).await?;
    let detail = json!({ "before": before.data(), "after": c.data() });
    audit(&app, &caller, "customer.update", "customer", &id, Some(detail)).await;
    Ok(Json(c))
}

async fn remove(State(app): State<Arc<AppState>>, caller: Caller, P(id): P<String>) -> ApiResult<StatusCode> {
    if !app.store.delete_customer(&id).await? {
        return Err(ApiError::not_found(format!("customer {id:?}")));
    }
    audit(&app, &caller, "customer.delete", "customer", &id, None).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    #[serde(default)]
    before_at: Option<u64>,
    #[serde(default)]
    before_contact: Option<u64>,
    #[serde(default)]
    limit: Option<usize>,
}

async fn history(
    State(app): State<Arc<AppState>>,
    caller: Caller,
    P(id): P<String>,
    Q(q): Q<HistoryQuery>,
) -> ApiResult<Json<Vec<ContactRecord>>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit: 1 to 1000"));
    }
    let before = match (q.before_at, q.before_contact) {
        (Some(t), Some(c)) => Some((Time(t), ContactId(c))),
        (None, None) => None,
        _ => return Err(ApiError::invalid("before_at and before_contact go together")),
    };
    let rows = app.store.customer_history(&id, before, limit).await?;
    audit(&app, &caller, "customer.history", "customer", &id, None).await;
    Ok(Json(rows))
}

async fn import(State(app): State<Arc<AppState>>, caller: Caller, body: String) -> ApiResult<Json<ImportReport>> {
    let report = app.store.import_customers_csv(&body).await?;
    let detail = json!({ "inserted": report.inserted, "updated": report.updated, "errors": report.errors.len() });
    audit(&app, &caller, "customer.import", "customer", "*", Some(detail)).await;
    Ok(Json(report))
}

async fn export(State(app): State<Arc<AppState>>, caller: Caller) -> ApiResult<Response> {
    let csv = app.store.export_customers_csv().await?;
    audit(&app, &caller, "customer.export", "customer", "*", None).await;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"customers.csv\""),
        ],
        csv,
    )
        .into_response())
}
