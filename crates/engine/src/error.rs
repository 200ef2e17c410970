//! Errors: an input the engine refuses changes nothing.

use crate::ids::{AgentId, ContactId, QueueId};
use thiserror::Error;

/// Why an input was refused. The engine's state is unchanged (timers that
/// were due at `now` have still fired).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EngineError {
    /// No such contact (or it has ended).
    #[error("unknown contact {0}")]
    UnknownContact(ContactId),
    /// No such agent.
    #[error("unknown agent {0}")]
    UnknownAgent(AgentId),
    /// No such queue.
    #[error("unknown queue {0}")]
    UnknownQueue(QueueId),
    /// A contact with this id already exists.
    #[error("contact {0} already exists")]
    DuplicateContact(ContactId),
    /// The input does not fit the contact's or agent's current state.
    #[error("{0}")]
    InvalidState(String),
    /// The agent is not logged in.
    #[error("agent {0} is not logged in")]
    NotLoggedIn(AgentId),
    /// The contact is not offered to this agent.
    #[error("contact {contact} is not offered to agent {agent}")]
    NotOffered {
        /// The contact.
        contact: ContactId,
        /// The agent.
        agent: AgentId,
    },
    /// A transfer target cannot take the contact; the contact stays where it is.
    #[error("transfer refused: {0}")]
    TransferRefused(String),
    /// A callback cannot be created; the caller keeps waiting.
    #[error("callback refused: {0}")]
    CallbackRefused(String),
    /// A configuration change was refused.
    #[error("configuration refused: {0}")]
    Config(String),
}

impl EngineError {
    /// A stable machine-readable code, for APIs.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::UnknownContact(_) => "unknown_contact",
            EngineError::UnknownAgent(_) => "unknown_agent",
            EngineError::UnknownQueue(_) => "unknown_queue",
            EngineError::DuplicateContact(_) => "duplicate_contact",
            EngineError::InvalidState(_) => "invalid_state",
            EngineError::NotLoggedIn(_) => "not_logged_in",
            EngineError::NotOffered { .. } => "not_offered",
            EngineError::TransferRefused(_) => "transfer_refused",
            EngineError::CallbackRefused(_) => "callback_refused",
            EngineError::Config(_) => "config_refused",
        }
    }
}
