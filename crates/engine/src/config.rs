//! Configuration of queues, agents and the engine. Configuration is data:
//! it arrives at start in an [`EngineConfig`] and changes at run time through
//! [`crate::Input::ConfigureQueue`] and [`crate::Input::ConfigureAgent`], each
//! recorded as an event so a replay sees the same configuration history.

use crate::ids::{AgentId, QueueId};
use serde::{Deserialize, Serialize};

/// The kind of work a contact is. Callbacks are voice calls the centre places.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// An inbound phone call (or a web call).
    #[default]
    Voice,
    /// A call back to a customer who asked for one while waiting.
    Callback,
    /// A web chat.
    Chat,
    /// An e-mail (or ticket) to answer.
    Email,
}

impl Channel {
    /// All channels, in a fixed order.
    pub const ALL: [Channel; 4] = [Channel::Voice, Channel::Callback, Channel::Chat, Channel::Email];

    /// The capacity slot a channel uses: callbacks occupy the agent's phone line.
    pub fn slot(self) -> Slot {
        match self {
            Channel::Voice | Channel::Callback => Slot::Voice,
            Channel::Chat => Slot::Chat,
            Channel::Email => Slot::Email,
        }
    }

    /// Stable lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Voice => "voice",
            Channel::Callback => "callback",
            Channel::Chat => "chat",
            Channel::Email => "email",
        }
    }
}

/// A capacity slot of an agent: the phone line, chat windows, e-mail inbox.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Slot {
    /// The phone line (voice and callbacks).
    Voice,
    /// Chat sessions.
    Chat,
    /// E-mails.
    Email,
}

impl Slot {
    /// All slots, in index order.
    pub const ALL: [Slot; 3] = [Slot::Voice, Slot::Chat, Slot::Email];

    /// Index 0..3 of the slot.
    pub fn index(self) -> usize {
        match self {
            Slot::Voice => 0,
            Slot::Chat => 1,
            Slot::Email => 2,
        }
    }
}

/// How many contacts of each kind an agent handles at once.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Capacity {
    /// Simultaneous calls (voice and callbacks); 0 or 1 in practice.
    pub voice: u8,
    /// Simultaneous chats.
    pub chat: u8,
    /// Simultaneous e-mails.
    pub email: u8,
    /// When true (the default) a call excludes every other contact and any
    /// chat or e-mail in progress excludes calls: nobody talks on the phone
    /// while typing to someone else.
    pub exclusive_voice: bool,
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity { voice: 1, chat: 0, email: 0, exclusive_voice: true }
    }
}

impl Capacity {
    /// Capacity of one slot.
    pub fn of(&self, slot: Slot) -> u8 {
        match slot {
            Slot::Voice => self.voice,
            Slot::Chat => self.chat,
            Slot::Email => self.email,
        }
    }
}

/// A skill requirement: the agent has `skill` at `min_level` or better.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillReq {
    /// Skill name, e.g. `billing` or `lang:zh`.
    pub skill: String,
    /// Minimum proficiency, 1–10.
    #[serde(default = "one")]
    pub min_level: u8,
}

fn one() -> u8 {
    1
}

/// A skill an agent has, with a proficiency level 1–10.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSkill {
    /// Skill name.
    pub skill: String,
    /// Proficiency, 1 (novice) to 10 (expert).
    pub level: u8,
}

/// A condition on agents. Every listed part must hold; an empty condition
/// matches every member of the queue.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Condition {
    /// Skills the agent must have, each at its minimum level.
    pub skills: Vec<SkillReq>,
    /// The agent's team must be this one.
    pub team: Option<String>,
    /// Free attributes the agent must all have (e.g. `experienced`).
    pub attributes: Vec<String>,
    /// Only the contact's preferred agent (its customer's last agent or an
    /// explicit preferred agent). Such a step is skipped for contacts that
    /// have no preferred agent.
    pub preferred_agent: bool,
    /// Only these agents (empty: no restriction).
    pub agents: Vec<AgentId>,
}

/// One routing step: a condition, and how long it applies before the next,
/// usually wider, step takes over.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RoutingStep {
    /// Which agents may take the contact during this step.
    #[serde(default)]
    pub condition: Condition,
    /// How long the step lasts, counted from entering it. `None` means
    /// forever; only the last step may omit it. When the last step has a
    /// time-out and it expires, every member of the queue becomes eligible.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

/// How a queue picks among eligible available agents.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// The agent who has been free the longest (the default; fair load).
    #[default]
    LongestIdle,
    /// The agent who has handled the fewest contacts since login.
    FewestContacts,
    /// The agent with the least talk time since login.
    LeastTalkTime,
    /// Agents in member order, continuing after the last one offered.
    RoundRobin,
    /// Always the first free agent in member order (linear / top-down).
    TopDown,
    /// Uniformly at random, from the engine's seeded generator.
    Random,
    /// At random, weighted by the membership weight.
    WeightedRandom,
    /// Offer to every eligible agent at once; the first to accept wins.
    RingAll,
}

impl Strategy {
    /// Stable kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::LongestIdle => "longest-idle",
            Strategy::FewestContacts => "fewest-contacts",
            Strategy::LeastTalkTime => "least-talk-time",
            Strategy::RoundRobin => "round-robin",
            Strategy::TopDown => "top-down",
            Strategy::Random => "random",
            Strategy::WeightedRandom => "weighted-random",
            Strategy::RingAll => "ring-all",
        }
    }
}

/// What happens to a contact that must leave a queue without an agent.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case", tag = "action", deny_unknown_fields)]
pub enum ExitAction {
    /// Play a closing message and hang up (the driver decides the message).
    #[default]
    Disconnect,
    /// Send the caller to voicemail (the driver records it).
    Voicemail,
    /// Move the contact to another queue, keeping its age.
    Overflow {
        /// Target queue.
        queue: QueueId,
    },
    /// Convert to a callback that keeps its place (needs a number to call).
    Callback,
}

/// A limit with the exit taken when it is reached.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// The limit: milliseconds for a maximum wait, contacts for a maximum length.
    pub value: u64,
    /// What happens to the contact.
    #[serde(default)]
    pub action: ExitAction,
}

/// Overflow to another queue, after a wait or when nobody can serve here.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overflow {
    /// Target queue.
    pub queue: QueueId,
    /// Overflow after waiting this long in this queue.
    #[serde(default)]
    pub after_ms: Option<u64>,
    /// Overflow at once when no member of this queue is logged in.
    #[serde(default)]
    pub when_no_agents: bool,
}

/// Callback settings of a queue.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallbackPolicy {
    /// Callers may ask for a callback.
    pub enabled: bool,
    /// At most this many callbacks outstanding in the queue at once.
    pub max_outstanding: Option<u32>,
    /// Dial attempts before giving up (at least 1).
    pub max_attempts: u32,
    /// Wait between a failed attempt and the next one.
    pub retry_delay_ms: u64,
}

impl Default for CallbackPolicy {
    fn default() -> Self {
        CallbackPolicy { enabled: true, max_outstanding: None, max_attempts: 3, retry_delay_ms: 300_000 }
    }
}

/// New customers go preferably to agents with an attribute (R-ACD-3).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomerPreference {
    /// Agent attribute that marks suitable agents, e.g. `experienced`.
    pub attribute: String,
    /// How long the preference holds before the queue's own steps apply.
    pub for_ms: u64,
}

/// A queue and its routing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    /// Queue id.
    pub id: QueueId,
    /// Display name.
    pub name: String,
    /// Agent selection among eligible agents.
    #[serde(default)]
    pub strategy: Strategy,
    /// Routing steps, tried in order as the wait grows. Empty: any member.
    #[serde(default)]
    pub steps: Vec<RoutingStep>,
    /// Added to the priority of every contact entering this queue, so a
    /// VIP queue outranks others for agents that serve several queues.
    #[serde(default)]
    pub priority: i32,
    /// How long an offer rings before it counts as missed.
    #[serde(default = "default_offer_timeout")]
    pub offer_timeout_ms: u64,
    /// After-contact work time given to the agent (0: none).
    #[serde(default)]
    pub wrap_up_ms: u64,
    /// Maximum wait in this queue and the exit taken then.
    #[serde(default)]
    pub max_wait: Option<Limit>,
    /// Maximum number of waiting contacts; arrivals beyond take the exit.
    #[serde(default)]
    pub max_length: Option<Limit>,
    /// Overflow to another queue.
    #[serde(default)]
    pub overflow: Option<Overflow>,
    /// Returning customers wait this long for their last agent first.
    #[serde(default)]
    pub sticky_agent_ms: Option<u64>,
    /// New customers go preferably to agents with an attribute.
    #[serde(default)]
    pub new_customer: Option<NewCustomerPreference>,
    /// Callback settings.
    #[serde(default)]
    pub callbacks: CallbackPolicy,
}

fn default_offer_timeout() -> u64 {
    15_000
}

impl QueueConfig {
    /// A queue with default settings: longest-idle, one step matching every member.
    pub fn new(id: QueueId, name: impl Into<String>) -> Self {
        QueueConfig {
            id,
            name: name.into(),
            strategy: Strategy::default(),
            steps: Vec::new(),
            priority: 0,
            offer_timeout_ms: default_offer_timeout(),
            wrap_up_ms: 0,
            max_wait: None,
            max_length: None,
            overflow: None,
            sticky_agent_ms: None,
            new_customer: None,
            callbacks: CallbackPolicy::default(),
        }
    }
}

/// An agent's membership in a queue.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    /// The queue.
    pub queue: QueueId,
    /// Order for top-down and round-robin (lower first; ties by agent id).
    #[serde(default)]
    pub position: u32,
    /// Weight for weighted-random (at least 1).
    #[serde(default = "one_u32")]
    pub weight: u32,
}

fn one_u32() -> u32 {
    1
}

impl Membership {
    /// Membership with default position and weight.
    pub fn of(queue: QueueId) -> Self {
        Membership { queue, position: 0, weight: 1 }
    }
}

/// An agent.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Agent id.
    pub id: AgentId,
    /// Display name.
    pub name: String,
    /// Skills with proficiency.
    #[serde(default)]
    pub skills: Vec<AgentSkill>,
    /// Team name.
    #[serde(default)]
    pub team: Option<String>,
    /// Free attributes (`experienced`, `senior`, …).
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Queues served.
    #[serde(default)]
    pub queues: Vec<Membership>,
    /// Simultaneous contacts per channel.
    #[serde(default)]
    pub capacity: Capacity,
    /// Offers are answered at once, without ringing (auto-answer headsets,
    /// simulated agents). The offer and the answer are both recorded.
    #[serde(default)]
    pub auto_answer: bool,
}

impl AgentConfig {
    /// An agent with no skills serving the given queues.
    pub fn new(id: AgentId, name: impl Into<String>, queues: &[QueueId]) -> Self {
        AgentConfig {
            id,
            name: name.into(),
            skills: Vec::new(),
            team: None,
            attributes: Vec::new(),
            queues: queues.iter().map(|q| Membership::of(*q)).collect(),
            capacity: Capacity::default(),
            auto_answer: false,
        }
    }

    /// Builder: add a skill.
    pub fn with_skill(mut self, skill: &str, level: u8) -> Self {
        self.skills.push(AgentSkill { skill: skill.to_string(), level });
        self
    }
}

/// Engine-wide settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Consecutive missed offers after which an agent is set not-ready.
    pub max_missed_offers: u32,
    /// Reason code given to agents set not-ready for missed offers.
    pub missed_offers_reason: String,
    /// Seed of the engine's random generator (random strategies).
    pub seed: u64,
    /// After a missed offer (below the limit) the agent gets no offer for this long.
    pub no_answer_delay_ms: u64,
    /// After declining an offer the agent gets no offer for this long.
    pub reject_delay_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_missed_offers: 1,
            missed_offers_reason: "missed-offers".into(),
            seed: 0,
            no_answer_delay_ms: 10_000,
            reject_delay_ms: 5_000,
        }
    }
}

/// Everything the engine needs to start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Engine-wide settings.
    pub settings: Settings,
    /// Queues.
    pub queues: Vec<QueueConfig>,
    /// Agents.
    pub agents: Vec<AgentConfig>,
}
