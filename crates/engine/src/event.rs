//! The event log: the versioned, append-only record of everything that
//! happened. Applying the events of a run to a fresh engine rebuilds the
//! same state ([`crate::Engine::replay`]); KPI folds, wallboards and reports
//! read nothing else.

use crate::config::{AgentConfig, Channel, ExitAction, QueueConfig};
use crate::contact::{ContactDetails, Segment};
use crate::ids::{AgentId, ContactId, QueueId, Time};
use crate::input::{DialOutcome, Party, TransferTarget};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Version of the event schema. Bump it when a field changes meaning;
/// readers accept every version up to their own.
pub const SCHEMA_VERSION: u16 = 1;

/// An agent's presence: what the agent asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "presence", content = "reason")]
pub enum Presence {
    /// Logged out.
    Offline,
    /// Wants contacts.
    Ready,
    /// Logged in but wants no new contacts, with a reason code.
    NotReady(Arc<str>),
}

/// The single, global state of an agent across every queue, derived from
/// presence and the contacts the agent holds. Precedence when several
/// contacts are held: busy, on hold, reserved, wrap-up, then presence.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentState {
    /// Logged out.
    Offline,
    /// Waiting for a contact.
    Ready,
    /// Logged in, not taking contacts.
    NotReady,
    /// A contact is being offered (ringing).
    Reserved,
    /// Talking / working a contact.
    Busy,
    /// Every connected contact is on hold.
    OnHold,
    /// After-contact work.
    WrapUp,
}

impl AgentState {
    /// All states.
    pub const ALL: [AgentState; 7] = [
        AgentState::Offline,
        AgentState::Ready,
        AgentState::NotReady,
        AgentState::Reserved,
        AgentState::Busy,
        AgentState::OnHold,
        AgentState::WrapUp,
    ];

    /// Stable kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            AgentState::Offline => "offline",
            AgentState::Ready => "ready",
            AgentState::NotReady => "not-ready",
            AgentState::Reserved => "reserved",
            AgentState::Busy => "busy",
            AgentState::OnHold => "on-hold",
            AgentState::WrapUp => "wrap-up",
        }
    }

    /// Index 0..7, for arrays of per-state figures.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Why a contact left a queue for another queue.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OverflowReason {
    /// The queue's overflow time passed.
    Timeout,
    /// No member of the queue was logged in.
    NoAgents,
    /// The maximum wait was reached and its exit is an overflow.
    MaxWait,
    /// The queue was full and its exit is an overflow.
    QueueFull,
}

/// Why a contact left a queue without an agent (other than abandoning).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitReason {
    /// Waited the queue's maximum wait (Asterisk EXITWITHTIMEOUT).
    MaxWait,
    /// The queue was full on arrival.
    QueueFull,
}

/// How a contact's life ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Connected to an agent and then finished.
    Handled,
    /// The customer left before being connected.
    Abandoned,
    /// Left the queue by its maximum wait or length rule.
    Exited,
    /// A callback that could not reach the customer.
    CallbackFailed,
}

/// How a consultation (the first half of a consulted transfer) ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsultOutcome {
    /// The consulting agent handed the customer over: the contact is now
    /// the consulted agent's (a [`Event::ContactTransferred`] follows).
    Completed,
    /// Called off by either agent; the customer stays with the consulting agent.
    Cancelled,
    /// The consulted agent declined.
    Rejected,
    /// The consulted agent did not answer in time.
    TimedOut,
    /// The customer hung up (or the call dropped) during the consultation.
    CustomerLeft,
}

/// One thing that happened. Every variant names the contact, agent and
/// queue it concerns, so consumers need no other lookups.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Event {
    /// A queue was added or changed.
    QueueConfigured {
        /// New configuration.
        queue: Box<QueueConfig>,
    },
    /// A queue was removed.
    QueueRemoved {
        /// The queue.
        queue: QueueId,
    },
    /// An agent was added or changed.
    AgentConfigured {
        /// New configuration.
        agent: Box<AgentConfig>,
    },
    /// An agent was removed.
    AgentRemoved {
        /// The agent.
        agent: AgentId,
    },
    /// A contact arrived (see [`crate::ContactSpec`] for the fields).
    ContactArrived {
        /// The contact.
        contact: ContactId,
        /// The queue it asked for.
        queue: QueueId,
        /// Channel.
        channel: Channel,
        /// Priority given on arrival (before the queue's own).
        priority: i32,
        /// Customer segment.
        segment: Segment,
        /// The customer's last agent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_agent: Option<AgentId>,
        /// Customer, language, problem type, required skills, callback
        /// number and free attributes, when any is known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        details: Option<Box<ContactDetails>>,
    },
    /// A contact entered a queue and waits (Asterisk ENTERQUEUE).
    ContactQueued {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
        /// Effective priority (contact + queue).
        priority: i32,
        /// The time the contact's age counts from: its first arrival, kept
        /// through overflows, transfers back to a queue and callback retries.
        waiting_since: Time,
        /// Channel it waits as (a callback retry waits as a callback).
        channel: Channel,
    },
    /// A waiting contact moved to its next routing step.
    StepChanged {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
        /// Index of the new step in the contact's plan.
        step: u32,
    },
    /// A contact was offered to an agent (ringing; Asterisk AgentCalled).
    ContactOffered {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
        /// The agent.
        agent: AgentId,
        /// Channel.
        channel: Channel,
        /// When the offer times out.
        deadline: Time,
    },
    /// The agent did not answer in time (Asterisk RINGNOANSWER).
    OfferTimedOut {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
        /// The agent.
        agent: AgentId,
        /// Consecutive misses of this agent, this one included.
        missed: u32,
    },
    /// The agent declined the offer.
    OfferRejected {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
        /// The agent.
        agent: AgentId,
    },
    /// The offer was withdrawn (another agent answered a ring-all offer,
    /// the customer left, or the agent logged out).
    OfferRescinded {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
        /// The agent.
        agent: AgentId,
    },
    /// Agent and customer are connected (Asterisk CONNECT).
    ContactAnswered {
        /// The contact.
        contact: ContactId,
        /// The queue it was answered from.
        queue: QueueId,
        /// The agent.
        agent: AgentId,
        /// Channel.
        channel: Channel,
        /// Time waited in this queue.
        wait_ms: u64,
    },
    /// The customer was put on hold.
    ContactHeld {
        /// The contact.
        contact: ContactId,
        /// The agent.
        agent: AgentId,
    },
    /// The customer was taken off hold.
    ContactResumed {
        /// The contact.
        contact: ContactId,
        /// The agent.
        agent: AgentId,
        /// Length of this hold.
        held_ms: u64,
    },
    /// The agent transferred the contact (Asterisk BLINDTRANSFER).
    ContactTransferred {
        /// The contact.
        contact: ContactId,
        /// The queue it had been answered from.
        queue: QueueId,
        /// The transferring agent.
        agent: AgentId,
        /// Target.
        to: TransferTarget,
        /// The transferring agent's talk time on this contact.
        talk_ms: u64,
        /// The transferring agent's hold time on this contact.
        hold_ms: u64,
    },
    /// A connected agent, with the customer on hold, called another agent
    /// to consult before handing the customer over (Asterisk ATTENDEDTRANSFER's
    /// first half). The consulted agent is reserved until answering.
    ConsultOffered {
        /// The contact (the customer on hold).
        contact: ContactId,
        /// The queue it had been answered from.
        queue: QueueId,
        /// The consulting agent, connected to the customer.
        agent: AgentId,
        /// The agent consulted.
        target: AgentId,
        /// Channel of the contact.
        channel: Channel,
        /// When the consultation call stops ringing.
        deadline: Time,
    },
    /// The consulted agent answered: the two agents talk, the customer holds.
    ConsultAnswered {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
        /// The consulting agent.
        agent: AgentId,
        /// The agent consulted.
        target: AgentId,
    },
    /// The consultation ended. On [`ConsultOutcome::Completed`] a
    /// `ContactTransferred` to the target and its `ContactOffered` /
    /// `ContactAnswered` follow at the same time; otherwise the customer is
    /// still the consulting agent's (back off hold unless it left).
    ConsultEnded {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
        /// The consulting agent.
        agent: AgentId,
        /// The agent consulted.
        target: AgentId,
        /// How it ended.
        outcome: ConsultOutcome,
    },
    /// The contact moved to another queue without an agent.
    ContactOverflowed {
        /// The contact.
        contact: ContactId,
        /// Queue left.
        from: QueueId,
        /// Queue entered.
        to: QueueId,
        /// Why.
        reason: OverflowReason,
        /// Time waited in the queue left.
        wait_ms: u64,
    },
    /// The customer left before being connected (Asterisk ABANDON).
    ContactAbandoned {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
        /// Time waited in this queue.
        wait_ms: u64,
        /// An agent was being offered the contact when it happened.
        while_offered: bool,
    },
    /// The contact left the queue by a limit (Asterisk EXITWITHTIMEOUT).
    ContactExited {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
        /// Why.
        reason: ExitReason,
        /// What the driver must do with it.
        action: ExitAction,
        /// Time waited in this queue.
        wait_ms: u64,
    },
    /// A waiting caller became a callback, keeping its place.
    CallbackRequested {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
        /// Number to call.
        number: String,
        /// Time waited so far in this queue.
        wait_ms: u64,
    },
    /// An agent was reserved for a callback and the customer is being dialled.
    CallbackDialled {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
        /// The agent.
        agent: AgentId,
        /// Attempt number, from 1.
        attempt: u32,
        /// Number dialled.
        number: String,
    },
    /// A callback attempt did not reach the customer.
    CallbackAttemptFailed {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
        /// The agent who was waiting for the connection.
        agent: AgentId,
        /// Attempt number, from 1.
        attempt: u32,
        /// What happened.
        outcome: DialOutcome,
        /// When the next attempt re-enters the queue (none: no more attempts).
        retry_at: Option<Time>,
    },
    /// A callback whose retry delay passed re-entered its queue at its old place.
    CallbackRetry {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
    },
    /// A contact's life ended (exactly once per contact).
    ContactEnded {
        /// The contact.
        contact: ContactId,
        /// Last queue.
        queue: QueueId,
        /// How it ended.
        outcome: Outcome,
        /// The agent connected at the end, if any.
        agent: Option<AgentId>,
        /// Who ended it, for handled contacts.
        by: Option<Party>,
        /// Last agent's talk time.
        talk_ms: u64,
        /// Last agent's hold time.
        hold_ms: u64,
    },
    /// After-contact work began.
    WrapUpStarted {
        /// The contact.
        contact: ContactId,
        /// The queue the contact was handled for.
        queue: QueueId,
        /// The agent.
        agent: AgentId,
        /// Channel of the contact (its capacity slot stays taken).
        channel: Channel,
        /// When it ends unless extended or ended earlier.
        deadline: Time,
    },
    /// The agent got more wrap-up time.
    WrapUpExtended {
        /// The contact.
        contact: ContactId,
        /// The agent.
        agent: AgentId,
        /// New deadline.
        deadline: Time,
    },
    /// After-contact work ended.
    WrapUpEnded {
        /// The contact.
        contact: ContactId,
        /// The queue the contact was handled for.
        queue: QueueId,
        /// The agent.
        agent: AgentId,
        /// Length of the wrap-up.
        wrap_ms: u64,
    },
    /// An agent's presence changed (login, logout, ready, not ready).
    AgentPresenceChanged {
        /// The agent.
        agent: AgentId,
        /// New presence.
        presence: Presence,
    },
    /// An agent's global state changed (derived; drives wallboards and the
    /// time-per-state KPIs).
    AgentStateChanged {
        /// The agent.
        agent: AgentId,
        /// Previous state.
        from: AgentState,
        /// New state.
        to: AgentState,
        /// Not-ready reason, when `to` is not-ready.
        reason: Option<Arc<str>>,
        /// Time spent in the previous state.
        in_state_ms: u64,
    },
    /// A waiting contact's priority changed.
    PriorityChanged {
        /// The contact.
        contact: ContactId,
        /// The queue.
        queue: QueueId,
        /// New effective priority.
        priority: i32,
    },
}

impl Event {
    /// Whether dropping the event frees memory. A consumer that takes
    /// events by value and sees `false` may forget the event instead of
    /// dropping it: inlined where the kind of event is known, this answer
    /// is a constant and the call to the drop code (a dispatch on the kind
    /// of event) goes away. The events of a simulated call are spelled out
    /// field by field, each field checked to be `Copy`, so that a new field
    /// or one that comes to own memory fails to compile here; every other
    /// kind answers `true`.
    #[inline(always)]
    pub fn owns_memory(&self) -> bool {
        fn copied<T: Copy>(_: T) {}
        match self {
            Event::ContactArrived { contact, queue, channel, priority, segment, last_agent, details } => {
                copied((*contact, *queue, *channel, *priority, *segment, *last_agent));
                details.is_some()
            }
            Event::ContactQueued { contact, queue, priority, waiting_since, channel } => {
                copied((*contact, *queue, *priority, *waiting_since, *channel));
                false
            }
            Event::ContactOffered { contact, queue, agent, channel, deadline } => {
                copied((*contact, *queue, *agent, *channel, *deadline));
                false
            }
            Event::OfferTimedOut { contact, queue, agent, missed } => {
                copied((*contact, *queue, *agent, *missed));
                false
            }
            Event::OfferRescinded { contact, queue, agent } => {
                copied((*contact, *queue, *agent));
                false
            }
            Event::ContactAnswered { contact, queue, agent, channel, wait_ms } => {
                copied((*contact, *queue, *agent, *channel, *wait_ms));
                false
            }
            Event::ContactAbandoned { contact, queue, wait_ms, while_offered } => {
                copied((*contact, *queue, *wait_ms, *while_offered));
                false
            }
            Event::ContactEnded { contact, queue, outcome, agent, by, talk_ms, hold_ms } => {
                copied((*contact, *queue, *outcome, *agent, *by, *talk_ms, *hold_ms));
                false
            }
            Event::AgentStateChanged { agent, from, to, reason, in_state_ms } => {
                copied((*agent, *from, *to, *in_state_ms));
                reason.is_some()
            }
            _ => true,
        }
    }

    /// Stable snake_case name of the event type.
    pub fn name(&self) -> &'static str {
        match self {
            Event::QueueConfigured { .. } => "queue_configured",
            Event::QueueRemoved { .. } => "queue_removed",
            Event::AgentConfigured { .. } => "agent_configured",
            Event::AgentRemoved { .. } => "agent_removed",
            Event::ContactArrived { .. } => "contact_arrived",
            Event::ContactQueued { .. } => "contact_queued",
            Event::StepChanged { .. } => "step_changed",
            Event::ContactOffered { .. } => "contact_offered",
            Event::OfferTimedOut { .. } => "offer_timed_out",
            Event::OfferRejected { .. } => "offer_rejected",
            Event::OfferRescinded { .. } => "offer_rescinded",
            Event::ContactAnswered { .. } => "contact_answered",
            Event::ContactHeld { .. } => "contact_held",
            Event::ContactResumed { .. } => "contact_resumed",
            Event::ContactTransferred { .. } => "contact_transferred",
            Event::ConsultOffered { .. } => "consult_offered",
            Event::ConsultAnswered { .. } => "consult_answered",
            Event::ConsultEnded { .. } => "consult_ended",
            Event::ContactOverflowed { .. } => "contact_overflowed",
            Event::ContactAbandoned { .. } => "contact_abandoned",
            Event::ContactExited { .. } => "contact_exited",
            Event::CallbackRequested { .. } => "callback_requested",
            Event::CallbackDialled { .. } => "callback_dialled",
            Event::CallbackAttemptFailed { .. } => "callback_attempt_failed",
            Event::CallbackRetry { .. } => "callback_retry",
            Event::ContactEnded { .. } => "contact_ended",
            Event::WrapUpStarted { .. } => "wrap_up_started",
            Event::WrapUpExtended { .. } => "wrap_up_extended",
            Event::WrapUpEnded { .. } => "wrap_up_ended",
            Event::AgentPresenceChanged { .. } => "agent_presence_changed",
            Event::AgentStateChanged { .. } => "agent_state_changed",
            Event::PriorityChanged { .. } => "priority_changed",
        }
    }

    /// The contact the event concerns, if any.
    pub fn contact(&self) -> Option<ContactId> {
        match self {
            Event::ContactArrived { contact, .. }
            | Event::ContactQueued { contact, .. }
            | Event::StepChanged { contact, .. }
            | Event::ContactOffered { contact, .. }
            | Event::OfferTimedOut { contact, .. }
            | Event::OfferRejected { contact, .. }
            | Event::OfferRescinded { contact, .. }
            | Event::ContactAnswered { contact, .. }
            | Event::ContactHeld { contact, .. }
            | Event::ContactResumed { contact, .. }
            | Event::ContactTransferred { contact, .. }
            | Event::ConsultOffered { contact, .. }
            | Event::ConsultAnswered { contact, .. }
            | Event::ConsultEnded { contact, .. }
            | Event::ContactOverflowed { contact, .. }
            | Event::ContactAbandoned { contact, .. }
            | Event::ContactExited { contact, .. }
            | Event::CallbackRequested { contact, .. }
            | Event::CallbackDialled { contact, .. }
            | Event::CallbackAttemptFailed { contact, .. }
            | Event::CallbackRetry { contact, .. }
            | Event::ContactEnded { contact, .. }
            | Event::WrapUpStarted { contact, .. }
            | Event::WrapUpExtended { contact, .. }
            | Event::WrapUpEnded { contact, .. }
            | Event::PriorityChanged { contact, .. } => Some(*contact),
            _ => None,
        }
    }

    /// The agent the event concerns, if any.
    pub fn agent(&self) -> Option<AgentId> {
        match self {
            Event::AgentConfigured { agent } => Some(agent.id),
            Event::AgentRemoved { agent }
            | Event::ContactOffered { agent, .. }
            | Event::OfferTimedOut { agent, .. }
            | Event::OfferRejected { agent, .. }
            | Event::OfferRescinded { agent, .. }
            | Event::ContactAnswered { agent, .. }
            | Event::ContactHeld { agent, .. }
            | Event::ContactResumed { agent, .. }
            | Event::ContactTransferred { agent, .. }
            | Event::ConsultOffered { agent, .. }
            | Event::ConsultAnswered { agent, .. }
            | Event::ConsultEnded { agent, .. }
            | Event::CallbackDialled { agent, .. }
            | Event::CallbackAttemptFailed { agent, .. }
            | Event::WrapUpStarted { agent, .. }
            | Event::WrapUpExtended { agent, .. }
            | Event::WrapUpEnded { agent, .. }
            | Event::AgentPresenceChanged { agent, .. }
            | Event::AgentStateChanged { agent, .. } => Some(*agent),
            Event::ContactEnded { agent, .. } => *agent,
            _ => None,
        }
    }
}

/// An event with its envelope: schema version, sequence number and time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Schema version ([`SCHEMA_VERSION`]).
    pub v: u16,
    /// Sequence number, from 1, without gaps within one engine's life.
    pub seq: u64,
    /// When it happened.
    pub at: Time,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Events that own memory say so (a consumer forgetting them would leak).
    #[test]
    fn events_owning_memory_say_so() {
        let (c, q, a) = (ContactId(1), QueueId(1), AgentId(1));
        let arrived = |details: Option<Box<ContactDetails>>| Event::ContactArrived {
            contact: c,
            queue: q,
            channel: Channel::Voice,
            priority: 0,
            segment: Segment::Unknown,
            last_agent: None,
            details,
        };
        assert!(!arrived(None).owns_memory());
        assert!(arrived(Some(Box::default())).owns_memory());
        let state = |reason: Option<Arc<str>>| Event::AgentStateChanged {
            agent: a,
            from: AgentState::Ready,
            to: AgentState::NotReady,
            reason,
            in_state_ms: 0,
        };
        assert!(!state(None).owns_memory());
        assert!(state(Some(Arc::from("lunch"))).owns_memory());
        assert!(!Event::OfferRescinded { contact: c, queue: q, agent: a }.owns_memory());
        let presence = Event::AgentPresenceChanged { agent: a, presence: Presence::NotReady(Arc::from("lunch")) };
        assert!(presence.owns_memory(), "kinds not spelled out answer true");
    }
}
