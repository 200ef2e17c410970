//! What the engine knows about a contact when it arrives.

use crate::config::{Channel, SkillReq};
use crate::ids::{AgentId, ContactId, QueueId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Customer segment, as known from the customer record.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Segment {
    /// Not known (no customer record found).
    #[default]
    Unknown,
    /// A first-time customer.
    New,
    /// A customer who has called before.
    Returning,
    /// A very important customer.
    Vip,
}

/// A contact as it arrives: channel, target queue and the attributes routing
/// looks at (set by the IVR, the customer lookup or the API).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ContactSpec {
    /// Contact id, chosen by the driver, unique for the life of the engine.
    pub id: ContactId,
    /// Channel.
    #[serde(default)]
    pub channel: Channel,
    /// Queue the contact enters.
    pub queue: QueueId,
    /// Priority: higher is served first (VIP, crisis). Added to the queue's.
    #[serde(default)]
    pub priority: i32,
    /// Customer id in the customer records, if found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// Customer segment.
    #[serde(default)]
    pub segment: Segment,
    /// The agent who last served this customer (for sticky routing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_agent: Option<AgentId>,
    /// The only agent who may take the contact (a caller put through to one
    /// agent's line): it waits for that agent alone, within the queue's
    /// maximum wait and overflow; once answered or overflowed, it routes as usual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_agent: Option<AgentId>,
    /// Language of the caller (e.g. `zh`, `en`), for reports and routing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Problem type chosen in the IVR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem_type: Option<String>,
    /// Skills every agent must have for this contact, on top of the queue's
    /// routing steps (e.g. `lang:zh`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_skills: Vec<SkillReq>,
    /// Number to call back, if the contact may become a callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_number: Option<String>,
    /// The contact is a callback from its arrival (a voicemail to return):
    /// an agent accepting it has `callback_number` dialled
    /// ([`crate::Command::DialCallback`]), and a failed dial is retried by
    /// the queue's callback policy, as for a caller who asked for a
    /// callback. Needs the callback channel and a number.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dial_back: bool,
    /// Anything else the driver wants kept with the contact.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

impl ContactSpec {
    /// A plain voice contact for a queue.
    pub fn new(id: ContactId, queue: QueueId) -> Self {
        ContactSpec { id, queue, ..Default::default() }
    }
}

/// The optional part of an arriving contact: what the customer lookup and
/// the IVR found. Kept apart (and boxed) in the event log so that a plain
/// contact costs no allocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ContactDetails {
    /// Customer id in the customer records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// Language of the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Problem type chosen in the IVR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem_type: Option<String>,
    /// Skills every agent must have for this contact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_skills: Vec<SkillReq>,
    /// Number to call back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_number: Option<String>,
    /// The only agent who may take the contact (see [`ContactSpec::required_agent`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_agent: Option<AgentId>,
    /// A callback from its arrival (see [`ContactSpec::dial_back`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dial_back: bool,
    /// Anything else the driver keeps with the contact.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

impl ContactSpec {
    /// The optional part, `None` when it is all empty.
    pub fn take_details(&mut self) -> Option<Box<ContactDetails>> {
        if self.customer.is_none()
            && self.language.is_none()
            && self.problem_type.is_none()
            && self.required_skills.is_empty()
            && self.callback_number.is_none()
            && self.required_agent.is_none()
            && !self.dial_back
            && self.attributes.is_empty()
        {
            return None;
        }
        let d = ContactDetails {
            customer: self.customer.take(),
            language: self.language.take(),
            problem_type: self.problem_type.take(),
            required_skills: std::mem::take(&mut self.required_skills),
            callback_number: self.callback_number.take(),
            required_agent: self.required_agent.take(),
            dial_back: std::mem::take(&mut self.dial_back),
            attributes: std::mem::take(&mut self.attributes),
        };
        Some(Box::new(d))
    }
}
