//! The API handlers, one module per area, each exporting its routes.

pub mod accounts;
pub mod admin;
pub mod contacts;
pub mod customers;
pub mod desk;
pub mod reports;
pub mod stream;
pub mod voice;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;
use store::{AuditLog, NewAuditEntry};

/// A JSON body; a malformed one answers 400 with our error shape.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::Json::<T>::from_request(req, state).await.map(|axum::Json(v)| Body(v)).map_err(ApiError::from)
    }
}

/// Query parameters; bad ones answer 400.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state).await.map(|Query(v)| Q(v)).map_err(ApiError::from)
    }
}

/// Path parameters; bad ones answer 400.
pub struct P<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for P<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state).await.map(|Path(v)| P(v)).map_err(ApiError::from)
    }
}

/// Write an audit entry; a failure is logged (the change itself is done).
pub async fn audit(app: &AppState, caller: &Caller, action: &str, record_type: &str, id: &str, detail: Option<Value>) {
    let entry = NewAuditEntry {
        actor: caller.actor(),
        action: action.into(),
        record_type: record_type.into(),
        record_id: id.into(),
        detail,
    };
    if let Err(e) = app.store.audit(&entry).await {
        tracing::error!("audit {action} {record_type} {id}: {e}");
    }
}
