//! The route table: every API path with its method, the roles allowed, and
//! its documentation. The router, the role guard and the OpenAPI document
//! are all built from this one table, so a path cannot be served without a
//! role check, nor undocumented.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use std::sync::Arc;
use store::Role;

/// Every role.
pub const ANY: &[Role] = &Role::ALL;
/// Roles that take contacts.
pub const DESK: &[Role] = &[Role::Agent, Role::Supervisor];
/// Roles that run the floor.
pub const FLOOR: &[Role] = &[Role::Supervisor, Role::Admin];
/// Roles that may read customer records (agents see them masked).
pub const CUSTOMER_READERS: &[Role] = &[Role::Agent, Role::Supervisor, Role::Qa, Role::Admin];
/// Roles that read reports and the wallboard.
pub const WATCHERS: &[Role] = &[Role::Supervisor, Role::Planner, Role::Qa, Role::Admin];
/// Administrators only.
pub const ADMIN: &[Role] = &[Role::Admin];
/// Nobody needs to sign in.
pub const PUBLIC: &[Role] = &[];

/// The documentation of one route.
#[derive(Clone, Debug)]
pub struct RouteDoc {
    /// HTTP method.
    pub method: Method,
    /// Path, with `{name}` parameters.
    pub path: &'static str,
    /// Roles allowed; empty for public routes.
    pub roles: &'static [Role],
    /// Group in the document.
    pub tag: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Request body schema (a name in [`crate::openapi`]), if any.
    pub body: Option<&'static str>,
    /// Response schema name, if JSON.
    pub response: Option<&'static str>,
}

/// A route: its documentation and its handler.
pub struct Route {
    /// Documentation and roles.
    pub doc: RouteDoc,
    /// The handler for `doc.method`.
    pub handler: MethodRouter<Arc<AppState>>,
}

/// Shorthand for a table row.
#[allow(clippy::too_many_arguments)]
pub fn route(
    method: Method,
    path: &'static str,
    roles: &'static [Role],
    tag: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    response: Option<&'static str>,
    handler: MethodRouter<Arc<AppState>>,
) -> Route {
    Route { doc: RouteDoc { method, path, roles, tag, summary, body, response }, handler }
}

/// The whole table.
pub fn table() -> Vec<Route> {
    let mut t = Vec::new();
    t.extend(crate::api::accounts::routes());
    t.extend(crate::api::desk::routes());
    t.extend(crate::api::contacts::routes());
    t.extend(crate::api::stream::routes());
    t.extend(crate::api::customers::routes());
    t.extend(crate::api::reports::routes());
    t.extend(crate::api::admin::routes());
    t.extend(crate::api::voice::routes());
    t
}

/// The documentation of every route.
pub fn docs() -> Vec<RouteDoc> {
    table().into_iter().map(|r| r.doc).collect()
}

/// The API router: each handler behind the guard of its roles.
pub fn api_router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    let mut router = Router::new();
    for r in table() {
        let roles = r.doc.roles;
        let handler = if roles.is_empty() {
            r.handler
        } else {
            r.handler.route_layer(middleware::from_fn_with_state((state.clone(), roles), guard))
        };
        router = router.route(r.doc.path, handler);
    }
    router
}

/// Resolve the caller and check the route's roles before the handler runs.
async fn guard(State((app, roles)): State<(Arc<AppState>, &'static [Role])>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let caller =
        match <Caller as axum::extract::FromRequestParts<Arc<AppState>>>::from_request_parts(&mut parts, &app).await {
            Ok(c) => c,
            Err(e) => return e.into_response(),
        };
    if !roles.contains(&caller.role()) {
        let e = ApiError::forbidden(format!(
            "the {} role may not use {} {}",
            caller.role(),
            parts.method,
            parts.uri.path()
        ));
        return e.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}
