//! The seam between the web server and the telephony layer (crate `voice`,
//! which builds on this one): telephony installs itself into the server
//! state, and the API reaches it through this trait. Values cross as JSON so
//! the server does not depend on the telephony crate's types.

use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// A boxed future (the trait is used as an object).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the API asks of telephony.
pub trait Telephony: Send + Sync {
    /// SIP address, phones registered, calls in progress.
    fn status(&self) -> Value;
    /// The telephony settings (devices, numbers, queue media, recording, survey).
    fn settings(&self) -> Value;
    /// Validate and store new settings; the problems when refused.
    fn set_settings(&self, settings: Value) -> BoxFuture<'_, Result<(), Vec<String>>>;
    /// Every flow with its latest version.
    fn flows(&self) -> Value;
    /// One flow (the latest version, or the one asked for).
    fn flow(&self, name: &str, version: Option<u32>) -> Option<Value>;
    /// Validate and store a new version of a flow; its version number, or the problems.
    fn save_flow(&self, name: String, flow: Value) -> BoxFuture<'_, Result<u32, Vec<String>>>;
}
