//! API errors: a status, a stable machine code and a message for people,
//! answered as `{"error": {"code", "message"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use engine::EngineError;
use serde_json::json;
use store::StoreError;

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code (`bad_request`, `forbidden`, `engine_…`, …).
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with any status and code.
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError { status, code: code.into(), message: message.into() }
    }
    /// 400: the request cannot be understood.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    /// 400: the request is understood but its content is not acceptable.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
    }
    /// 401: nobody signed in.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in first")
    }
    /// 403: signed in, but the role may not do this.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    /// 409: the state does not allow it.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }
    /// 500: our fault; the details go to the log, not to the client.
    pub fn internal(context: &str, err: impl std::fmt::Display) -> ApiError {
        tracing::error!("{context}: {err}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("{context} failed; see the server log"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let status = match &e {
            StoreError::NotFound { .. } => StatusCode::NOT_FOUND,
            StoreError::Conflict { .. } | StoreError::DuplicateSeq { .. } => StatusCode::CONFLICT,
            StoreError::Invalid(_) => StatusCode::BAD_REQUEST,
            _ => return ApiError::internal("storage", e),
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<EngineError> for ApiError {
    /// The engine refuses what the state does not allow (409) and configuration
    /// it cannot run (400); unknown ids are 404.
    fn from(e: EngineError) -> ApiError {
        let code = format!("engine_{}", e.code());
        let status = match e.code() {
            c if c.starts_with("unknown") => StatusCode::NOT_FOUND,
            "config_refused" => StatusCode::BAD_REQUEST,
            _ => StatusCode::CONFLICT,
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> ApiError {
        ApiError::bad_request(e.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> ApiError {
        ApiError::bad_request(e.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(e: axum::extract::rejection::PathRejection) -> ApiError {
        ApiError::bad_request(e.body_text())
    }
}
