//! What the engine asks its driver to do, next to the events it records.

use crate::config::{Channel, ExitAction};
use crate::event::EventRecord;
use crate::ids::{AgentId, ContactId, QueueId, Time};
use serde::{Deserialize, Serialize};

/// An instruction to the driver (ring a phone, dial a customer, play an exit).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Command {
    /// Present the contact to the agent (ring the phone, pop the screen).
    Offer {
        /// The contact.
        contact: ContactId,
        /// The agent.
        agent: AgentId,
        /// Channel.
        channel: Channel,
        /// When the offer times out.
        deadline: Time,
    },
    /// Stop presenting the contact to the agent.
    CancelOffer {
        /// The contact.
        contact: ContactId,
        /// The agent.
        agent: AgentId,
    },
    /// Dial the customer for a callback; the agent is already reserved.
    /// Report the result with [`crate::Input::CallbackOutcome`].
    DialCallback {
        /// The contact.
        contact: ContactId,
        /// The agent waiting for the connection.
        agent: AgentId,
        /// Number to dial.
        number: String,
        /// Attempt number, from 1.
        attempt: u32,
    },
    /// The contact left the queue without an agent: carry out the action.
    Exit {
        /// The contact.
        contact: ContactId,
        /// The queue left.
        queue: QueueId,
        /// What to do.
        action: ExitAction,
    },
    /// The caller is now a callback: the driver may end the call leg.
    ReleaseCaller {
        /// The contact.
        contact: ContactId,
    },
}

/// One output of the engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Output {
    /// An event, already applied to the engine's state.
    Event(EventRecord),
    /// A command for the driver.
    Command(Command),
}

/// Where the engine puts what it produces, in order: every event (already
/// applied to its state) and every command.
///
/// A `Vec<Output>` keeps them for the caller to read after
/// [`crate::Engine::handle`] returns, which is what most drivers want. A
/// driver that reacts to each output at once (the simulator) can take them
/// as they come instead: the engine's calls are statically dispatched and
/// inlined where each event is made, so neither side has to look up again
/// which kind of event it holds, and nothing is buffered.
pub trait Outputs {
    /// An event, already applied.
    fn event(&mut self, rec: EventRecord);
    /// A command for the driver.
    fn command(&mut self, cmd: Command);
}

impl Outputs for Vec<Output> {
    #[inline]
    fn event(&mut self, rec: EventRecord) {
        self.push(Output::Event(rec));
    }

    #[inline]
    fn command(&mut self, cmd: Command) {
        self.push(Output::Command(cmd));
    }
}
