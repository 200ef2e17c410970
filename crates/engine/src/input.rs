//! Everything that can happen to the engine: the closed set of inputs.

use crate::config::{AgentConfig, QueueConfig};
use crate::contact::ContactSpec;
use crate::ids::{AgentId, ContactId, QueueId};
use serde::{Deserialize, Serialize};

/// Who ended a connected contact.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Party {
    /// The customer hung up / left.
    Customer,
    /// The agent hung up / closed.
    Agent,
    /// The system (a dropped call, a shutdown).
    System,
}

/// Where a transfer goes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "id")]
pub enum TransferTarget {
    /// Into a queue (the contact waits there like a new arrival, keeping its id).
    Queue(QueueId),
    /// Straight to an agent, who must be available.
    Agent(AgentId),
}

/// Result of dialling a callback.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DialOutcome {
    /// The customer answered: the agent and customer are connected.
    Connected,
    /// Nobody answered.
    NoAnswer,
    /// The line was busy.
    Busy,
    /// The call could not be placed.
    Failed,
}

/// An input to [`crate::Engine::handle`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Input {
    /// Nothing happened but time passed: fire due timers.
    Tick,
    /// A contact arrives and enters its queue.
    Arrive {
        /// The contact.
        contact: ContactSpec,
    },
    /// The customer left before being connected (hung up while waiting or
    /// while an agent was being offered the contact).
    Abandon {
        /// The contact.
        contact: ContactId,
    },
    /// An agent logs in (not ready until they say so).
    Login {
        /// The agent.
        agent: AgentId,
    },
    /// An agent logs out. Refused while they are connected to a customer.
    Logout {
        /// The agent.
        agent: AgentId,
    },
    /// An agent is ready for contacts (also ends any wrap-up in progress).
    Ready {
        /// The agent.
        agent: AgentId,
    },
    /// An agent is not ready, for a reason. Contacts in progress continue.
    NotReady {
        /// The agent.
        agent: AgentId,
        /// Reason code (break, lunch, training, meeting, …).
        reason: String,
    },
    /// An agent accepts an offered contact.
    Accept {
        /// The contact.
        contact: ContactId,
        /// The agent.
        agent: AgentId,
    },
    /// An agent declines an offered contact.
    Reject {
        /// The contact.
        contact: ContactId,
        /// The agent.
        agent: AgentId,
    },
    /// The agent puts the customer on hold.
    Hold {
        /// The contact.
        contact: ContactId,
    },
    /// The agent takes the customer off hold.
    Resume {
        /// The contact.
        contact: ContactId,
    },
    /// A connected contact ends.
    Hangup {
        /// The contact.
        contact: ContactId,
        /// Who ended it.
        by: Party,
    },
    /// The agent asks for more wrap-up time.
    ExtendWrapUp {
        /// The contact being wrapped up.
        contact: ContactId,
        /// The agent.
        agent: AgentId,
        /// Extra milliseconds.
        ms: u64,
    },
    /// The agent has finished the wrap-up.
    EndWrapUp {
        /// The contact being wrapped up.
        contact: ContactId,
        /// The agent.
        agent: AgentId,
    },
    /// A waiting caller asks to be called back; the entry keeps its place.
    RequestCallback {
        /// The contact.
        contact: ContactId,
        /// Number to call (falls back to the contact's callback number).
        number: Option<String>,
    },
    /// What happened when a callback was dialled.
    CallbackOutcome {
        /// The contact.
        contact: ContactId,
        /// Outcome.
        outcome: DialOutcome,
    },
    /// The agent transfers a connected contact (blind transfer).
    Transfer {
        /// The contact.
        contact: ContactId,
        /// Target.
        to: TransferTarget,
    },
    /// The connected agent puts the customer on hold and calls another
    /// agent to consult (a consulted transfer's first half). The target must
    /// be ready with room for the contact's channel; the target answers with
    /// [`Input::Accept`] or declines with [`Input::Reject`] (same contact id).
    Consult {
        /// The contact (connected to the consulting agent).
        contact: ContactId,
        /// The agent to consult.
        to: AgentId,
    },
    /// The consulting agent hands the customer over to the consulted agent,
    /// who has answered (a consulted transfer's second half).
    CompleteConsult {
        /// The contact.
        contact: ContactId,
    },
    /// Either agent ends the consultation; the customer goes back to the
    /// consulting agent, off hold.
    CancelConsult {
        /// The contact.
        contact: ContactId,
    },
    /// Change the priority of a waiting contact; takes effect at once.
    SetPriority {
        /// The contact.
        contact: ContactId,
        /// New priority (before the queue's own priority is added).
        priority: i32,
    },
    /// Add or change a queue.
    ConfigureQueue {
        /// The queue's new configuration.
        queue: QueueConfig,
    },
    /// Remove a queue (refused while contacts wait in it).
    RemoveQueue {
        /// The queue.
        queue: QueueId,
    },
    /// Add or change an agent.
    ConfigureAgent {
        /// The agent's new configuration.
        agent: AgentConfig,
    },
    /// Remove an agent (refused unless logged out).
    RemoveAgent {
        /// The agent.
        agent: AgentId,
    },
}
