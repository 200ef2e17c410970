//! Fan-out of committed engine output to live connections: each agent's
//! own channel (their state, offers with the screen-pop, their events), and
//! one broadcast of every batch for supervisors, the record writer and the
//! webhooks.
//!
//! Agents get their own bounded channel rather than filtering the broadcast:
//! with 500 agents connected, a batch wakes only the connections it concerns.

use crate::pop::ScreenPop;
use engine::{AgentId, AgentView, Channel, ContactId, EventRecord, Time};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{broadcast, mpsc};

/// How many messages an agent connection may lag before it is dropped (the
/// browser reconnects and reloads its state).
const AGENT_QUEUE: usize = 256;
/// How many batches the broadcast keeps for slow readers.
const BROADCAST_QUEUE: usize = 4_096;

/// An offer as sent to the agent's browser.
#[derive(Clone, Debug, Serialize)]
pub struct OfferMsg {
    /// The contact.
    pub contact: ContactId,
    /// The agent.
    pub agent: AgentId,
    /// When the offer times out.
    pub deadline: Time,
    /// Channel.
    pub channel: Channel,
    /// The screen-pop.
    pub pop: ScreenPop,
    /// Set when this is a consultation: the agent who holds the customer
    /// and asks to talk first (accepting answers the consultation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consult_from: Option<ConsultFrom>,
}

/// The consulting agent of a consultation offer.
#[derive(Clone, Debug, Serialize)]
pub struct ConsultFrom {
    /// The agent.
    pub agent: AgentId,
    /// The agent's name.
    pub name: String,
}

/// One message for one agent's connections.
#[derive(Clone, Debug)]
pub enum AgentMsg {
    /// The agent's own state after a change.
    Me(Arc<AgentView>),
    /// An offer with its screen-pop.
    Offer(Arc<OfferMsg>),
    /// An offer withdrawn.
    OfferCancelled {
        /// The contact.
        contact: ContactId,
    },
    /// The order-history hook's answer for an offered contact.
    Orders {
        /// The contact.
        contact: ContactId,
        /// Whatever the hook answered.
        orders: Arc<Value>,
    },
    /// One of the agent's events.
    Event(Arc<EventRecord>),
}

/// A committed batch of engine events.
#[derive(Debug, Default)]
pub struct Published {
    /// Events, in order, all on disk.
    pub records: Vec<Arc<EventRecord>>,
}

/// The subscriber registry.
pub struct Hub {
    agents: Mutex<HashMap<AgentId, Vec<mpsc::Sender<AgentMsg>>>>,
    all: broadcast::Sender<Arc<Published>>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub { agents: Mutex::new(HashMap::new()), all: broadcast::channel(BROADCAST_QUEUE).0 }
    }
}

impl Hub {
    /// A new connection for `agent`.
    pub fn subscribe_agent(&self, agent: AgentId) -> mpsc::Receiver<AgentMsg> {
        let (tx, rx) = mpsc::channel(AGENT_QUEUE);
        self.agents.lock().unwrap_or_else(PoisonError::into_inner).entry(agent).or_default().push(tx);
        rx
    }

    /// Every committed batch.
    pub fn subscribe_all(&self) -> broadcast::Receiver<Arc<Published>> {
        self.all.subscribe()
    }

    /// Send to every connection of `agent`; connections that are gone or
    /// too far behind are dropped.
    pub fn send_agent(&self, agent: AgentId, msg: AgentMsg) {
        let mut map = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(subs) = map.get_mut(&agent) {
            subs.retain(|tx| tx.try_send(msg.clone()).is_ok());
            if subs.is_empty() {
                map.remove(&agent);
            }
        }
    }

    /// Broadcast a committed batch.
    pub fn publish(&self, batch: Arc<Published>) {
        // No receiver is not an error.
        let _ = self.all.send(batch);
    }
}
