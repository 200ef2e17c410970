//! The seam between the web server and the telephony layer (crate `voice`,
//! which builds on this one): telephony installs itself into the server
//! state, and the API reaches it through this trait. Values cross as JSON so
//! the server does not depend on the telephony crate's types.

use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// A boxed future (the trait is used as an object).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One thing wrong with a document (a flow, the settings): where and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where, as a path into the document: `nodes.main.options.1`,
    /// `devices[2].password`, `start`; empty for the document as a whole.
    pub path: String,
    /// The flow node concerned, if any (so an editor can mark it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The field concerned, if any (`next`, `timeout_ms`, `password`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong, for people.
    pub message: String,
}

impl Problem {
    /// A problem at a path (no node).
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Problem {
        let path = path.into();
        let field = path.rsplit(['.', ']']).next().filter(|f| !f.is_empty()).map(str::to_string);
        Problem { path, node: None, field, message: message.into() }
    }
}

/// Why telephony refused to store a document.
#[derive(Debug)]
pub enum Refusal {
    /// The document is invalid (answered 422 with every problem).
    Invalid(Vec<Problem>),
    /// It could not be stored (answered 500; the detail goes to the log).
    Failed(String),
}

/// What the API asks of telephony.
pub trait Telephony: Send + Sync {
    /// SIP address, each device's registration, calls in progress.
    fn status(&self) -> Value;
    /// The telephony settings (devices, numbers, queue media, recording, survey).
    fn settings(&self) -> Value;
    /// Validate and store new settings; every problem when refused.
    fn set_settings(&self, settings: Value) -> BoxFuture<'_, Result<(), Refusal>>;
    /// Every flow with its latest version.
    fn flows(&self) -> Value;
    /// One flow (the latest version, or the one asked for).
    fn flow(&self, name: &str, version: Option<u32>) -> Option<Value>;
    /// Validate and store a new version of a flow; its version number, or
    /// every problem.
    fn save_flow(&self, name: String, flow: Value) -> BoxFuture<'_, Result<u32, Refusal>>;
    /// What each configured survey question says, for reports:
    /// `{"<question id>": {"zh": "…", "en": "…"}}`; a language may be
    /// missing when the question's prompt has no text in it.
    fn survey_questions(&self) -> Value;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_names_its_field() {
        let p = Problem::at("devices[2].password", "too short");
        assert_eq!(p.field.as_deref(), Some("password"));
        assert_eq!(Problem::at("max_calls", "x").field.as_deref(), Some("max_calls"));
        assert_eq!(Problem::at("", "x").field, None);
        let v = serde_json::to_value(Problem::at("trunk.address", "host:port")).unwrap();
        assert_eq!(v, serde_json::json!({"path": "trunk.address", "field": "address", "message": "host:port"}));
    }
}
