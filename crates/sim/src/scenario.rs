//! The scenario file: what is simulated, in the units people think in
//! (names, seconds, clock times, calls per hour). [`crate::Model::build`]
//! checks it and turns it into an engine configuration plus the simulator's
//! own description of callers and agents.
//!
//! ```toml
//! [simulation]
//! hours = 8
//! seed = 1
//!
//! [[queues]]
//! name = "support"
//!
//! [[agents]]
//! name = "agent"
//! count = 14
//! queues = ["support"]
//!
//! [[arrivals]]
//! queue = "support"
//! calls_per_hour = 200
//! aht_seconds = 180
//! patience_seconds = 300
//! ```

use engine::{Capacity, Channel, Strategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

/// A whole scenario, as read from TOML.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Run length, seed, replications and reporting settings.
    pub simulation: SimulationSpec,
    /// Queues and their routing.
    #[serde(default)]
    pub queues: Vec<QueueSpec>,
    /// Groups of identical agents.
    #[serde(default)]
    pub agents: Vec<AgentGroupSpec>,
    /// Streams of arriving contacts.
    #[serde(default)]
    pub arrivals: Vec<ArrivalSpec>,
}

/// The `[simulation]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSpec {
    /// Length of the run in hours, starting at 00:00 (or give `start` and `end`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<f64>,
    /// Clock time the run starts, `"08:00"` (with `end`, instead of `hours`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Clock time arrivals stop, `"17:30"`. Contacts still in the system
    /// afterwards are served until they end (see `drain_hours`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Seed of the first replication (default 1); replication k uses `seed + k`.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Number of independent replications (default 1).
    #[serde(default = "default_replications")]
    pub replications: i64,
    /// Minutes at the start whose arrivals are left out of the figures.
    #[serde(default)]
    pub warm_up_minutes: f64,
    /// Length of a reporting interval in minutes (default 15).
    #[serde(default = "default_interval")]
    pub interval_minutes: i64,
    /// Service-level threshold in seconds (default 20).
    #[serde(default = "default_sl")]
    pub sl_threshold_seconds: f64,
    /// Abandons quicker than this are short abandons (default 5).
    #[serde(default = "default_short_abandon")]
    pub short_abandon_seconds: f64,
    /// After `end`, contacts still in the system are followed for at most
    /// this many hours (default 24); those left are counted as unfinished.
    #[serde(default = "default_drain")]
    pub drain_hours: f64,
    /// Consecutive missed offers after which the engine sets an agent not
    /// ready (default 1).
    #[serde(default = "default_max_missed")]
    pub max_missed_offers: i64,
}

fn default_seed() -> u64 {
    1
}
fn default_replications() -> i64 {
    1
}
fn default_interval() -> i64 {
    15
}
fn default_sl() -> f64 {
    20.0
}
fn default_short_abandon() -> f64 {
    5.0
}
fn default_drain() -> f64 {
    24.0
}
fn default_max_missed() -> i64 {
    1
}

impl Default for SimulationSpec {
    fn default() -> Self {
        SimulationSpec {
            hours: None,
            start: None,
            end: None,
            seed: default_seed(),
            replications: default_replications(),
            warm_up_minutes: 0.0,
            interval_minutes: default_interval(),
            sl_threshold_seconds: default_sl(),
            short_abandon_seconds: default_short_abandon(),
            drain_hours: default_drain(),
            max_missed_offers: default_max_missed(),
        }
    }
}

/// One `[[queues]]` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    /// Unique name, used by agents, arrivals and overflows.
    pub name: String,
    /// How an agent is chosen among eligible free agents.
    #[serde(default)]
    pub strategy: Strategy,
    /// Routing steps, tried in order as the wait grows (`[[queues.steps]]`).
    #[serde(default)]
    pub steps: Vec<StepSpec>,
    /// Added to the priority of every contact of this queue.
    #[serde(default)]
    pub priority: i32,
    /// How long an offer rings before it counts as missed (default 15).
    #[serde(default = "default_offer_timeout")]
    pub offer_timeout_seconds: f64,
    /// After-contact work per contact (default 0).
    #[serde(default)]
    pub wrap_up_seconds: f64,
    /// Maximum wait and what happens then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wait: Option<MaxWaitSpec>,
    /// Maximum number waiting and what happens to arrivals beyond it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<MaxLengthSpec>,
    /// Overflow to another queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overflow: Option<OverflowSpec>,
    /// Returning customers wait this long for their last agent first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky_agent_seconds: Option<f64>,
    /// New customers go preferably to agents with an attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_customer: Option<NewCustomerSpec>,
    /// Callback settings (enabled by default).
    #[serde(default)]
    pub callbacks: CallbackSpec,
}

fn default_offer_timeout() -> f64 {
    15.0
}

impl QueueSpec {
    /// A queue with default settings.
    pub fn new(name: impl Into<String>) -> Self {
        QueueSpec {
            name: name.into(),
            strategy: Strategy::default(),
            steps: Vec::new(),
            priority: 0,
            offer_timeout_seconds: default_offer_timeout(),
            wrap_up_seconds: 0.0,
            max_wait: None,
            max_length: None,
            overflow: None,
            sticky_agent_seconds: None,
            new_customer: None,
            callbacks: CallbackSpec::default(),
        }
    }
}

/// A routing step (`[[queues.steps]]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Skills with their minimum level, `{ billing = 5 }`.
    #[serde(default)]
    pub skills: BTreeMap<String, i64>,
    /// The agent's team must be this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Attributes the agent must all have.
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Only the contact's preferred (last) agent.
    #[serde(default)]
    pub preferred_agent: bool,
    /// Only these agents: names of agent groups or of single agents
    /// (`"sales-3"`, the third agent of group `sales`).
    #[serde(default)]
    pub agents: Vec<String>,
    /// How long the step applies; only the last step may omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
}

/// What happens to a contact that leaves a queue by a limit.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ActionSpec {
    /// Closing message and hang-up.
    #[default]
    Disconnect,
    /// To voicemail.
    Voicemail,
    /// To the queue named by `queue`.
    Overflow,
    /// Becomes a callback (maximum wait only).
    Callback,
}

/// `max_wait = { seconds = 600, action = "overflow", queue = "support" }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaxWaitSpec {
    /// Maximum wait in seconds.
    pub seconds: f64,
    /// What happens then (default disconnect).
    #[serde(default)]
    pub action: ActionSpec,
    /// Target queue of an overflow action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
}

/// `max_length = { contacts = 20, action = "voicemail" }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaxLengthSpec {
    /// Maximum number of contacts waiting.
    pub contacts: i64,
    /// What happens to an arrival that finds the queue full (default disconnect).
    #[serde(default)]
    pub action: ActionSpec,
    /// Target queue of an overflow action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
}

/// `overflow = { queue = "support", after_seconds = 60, when_no_agents = true }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverflowSpec {
    /// Target queue name.
    pub queue: String,
    /// Overflow after waiting this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_seconds: Option<f64>,
    /// Overflow at once when no member is logged in.
    #[serde(default)]
    pub when_no_agents: bool,
}

/// `new_customer = { attribute = "experienced", for_seconds = 30 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomerSpec {
    /// Agent attribute of suitable agents.
    pub attribute: String,
    /// How long the preference holds.
    pub for_seconds: f64,
}

/// `callbacks = { ... }`: the queue's policy and how the simulated customers
/// respond when called back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackSpec {
    /// Callers may ask for a callback (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// At most this many callbacks outstanding at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_outstanding: Option<i64>,
    /// Dial attempts before giving up (default 3).
    #[serde(default = "default_attempts")]
    pub max_attempts: i64,
    /// Wait between a failed attempt and the next (default 300).
    #[serde(default = "default_retry")]
    pub retry_delay_seconds: f64,
    /// Time from dialling to the customer answering or the attempt failing
    /// (default 10).
    #[serde(default = "default_dial")]
    pub dial_seconds: f64,
    /// Probability that the customer answers a callback (default 0.9).
    #[serde(default = "default_answer_probability")]
    pub answer_probability: f64,
}

fn yes() -> bool {
    true
}
fn default_attempts() -> i64 {
    3
}
fn default_retry() -> f64 {
    300.0
}
fn default_dial() -> f64 {
    10.0
}
fn default_answer_probability() -> f64 {
    0.9
}

impl Default for CallbackSpec {
    fn default() -> Self {
        CallbackSpec {
            enabled: true,
            max_outstanding: None,
            max_attempts: default_attempts(),
            retry_delay_seconds: default_retry(),
            dial_seconds: default_dial(),
            answer_probability: default_answer_probability(),
        }
    }
}

/// A group of identical agents (`[[agents]]`), named `name-1` … `name-count`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentGroupSpec {
    /// Group name, the prefix of its agents' names.
    pub name: String,
    /// Number of agents (default 1).
    #[serde(default = "default_count")]
    pub count: i64,
    /// Skills with their level 1–10, `{ billing = 7, "lang:zh" = 5 }`.
    #[serde(default)]
    pub skills: BTreeMap<String, i64>,
    /// Team name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Free attributes.
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Queues served: names, or `{ queue = "sales", position = 1, weight = 2 }`.
    #[serde(default)]
    pub queues: Vec<MembershipSpec>,
    /// Simultaneous contacts per channel (default one call).
    #[serde(default)]
    pub capacity: Capacity,
    /// Working hours; none means the whole run.
    #[serde(default)]
    pub shifts: Vec<ShiftSpec>,
    /// Working hours of each agent of the group (one list per agent,
    /// `count` lists), instead of `shifts`; an empty list: that agent does
    /// not work in this run. The digital twin ([`crate::twin`]) staffs
    /// groups this way from a schedule or a staffing plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_shifts: Option<Vec<Vec<ShiftSpec>>>,
    /// Seconds from an offer to the answer (default 0: answered at once).
    #[serde(default)]
    pub answer_delay_seconds: f64,
    /// Probability that an offer is not answered at all (it times out).
    #[serde(default)]
    pub miss_probability: f64,
    /// An agent the engine set not ready for missed offers is ready again
    /// after this many seconds (default 30).
    #[serde(default = "default_ready_again")]
    pub ready_again_seconds: f64,
}

fn default_count() -> i64 {
    1
}
fn default_ready_again() -> f64 {
    30.0
}

impl AgentGroupSpec {
    /// A group of `count` agents serving the given queues all run long.
    pub fn new(name: impl Into<String>, count: i64, queues: &[&str]) -> Self {
        AgentGroupSpec {
            name: name.into(),
            count,
            skills: BTreeMap::new(),
            team: None,
            attributes: Vec::new(),
            queues: queues.iter().map(|q| MembershipSpec::Name(q.to_string())).collect(),
            capacity: Capacity::default(),
            shifts: Vec::new(),
            agent_shifts: None,
            answer_delay_seconds: 0.0,
            miss_probability: 0.0,
            ready_again_seconds: default_ready_again(),
        }
    }
}

/// A queue membership: a name or a table with position and weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MembershipSpec {
    /// Just the queue name.
    Name(String),
    /// With position (top-down, round-robin) and weight (weighted-random).
    Full(MembershipTable),
}

/// `{ queue = "sales", position = 1, weight = 2 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipTable {
    /// Queue name.
    pub queue: String,
    /// Order for top-down and round-robin.
    #[serde(default)]
    pub position: u32,
    /// Weight for weighted-random (at least 1).
    #[serde(default = "one")]
    pub weight: i64,
}

fn one() -> i64 {
    1
}

impl MembershipSpec {
    /// The queue name.
    pub fn queue(&self) -> &str {
        match self {
            MembershipSpec::Name(n) => n,
            MembershipSpec::Full(t) => &t.queue,
        }
    }
}

/// `{ start = "08:00", end = "16:30" }`, clock times of the simulated day
/// (hours may pass 24 for runs longer than a day: `"30:00"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftSpec {
    /// Login time.
    pub start: String,
    /// Time the agent stops taking contacts (and logs out once free).
    pub end: String,
}

/// A distribution of handle time or patience.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Distribution {
    /// Exponential with the given mean (the default; Erlang's assumption).
    #[default]
    Exponential,
    /// Log-normal with the given mean and coefficient of variation.
    Lognormal,
    /// Always exactly the mean.
    Fixed,
}

/// One stream of arriving contacts (`[[arrivals]]`): a Poisson process with
/// a constant rate or a rate per reporting interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrivalSpec {
    /// Queue the contacts enter.
    pub queue: String,
    /// Constant rate (or give `profile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls_per_hour: Option<f64>,
    /// Calls per hour for each reporting interval of the run, from its start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Vec<f64>>,
    /// Mean handle (talk) time in seconds.
    pub aht_seconds: f64,
    /// Mean handle time for each reporting interval of the run, from its
    /// start (seconds; replaces `aht_seconds` for contacts arriving in that
    /// interval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aht_profile: Option<Vec<f64>>,
    /// Distribution of handle times (default exponential).
    #[serde(default)]
    pub handle_distribution: Distribution,
    /// Coefficient of variation of a log-normal handle time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle_cv: Option<f64>,
    /// Mean patience in seconds; absent: callers never abandon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patience_seconds: Option<f64>,
    /// Distribution of patience (default exponential).
    #[serde(default)]
    pub patience_distribution: Distribution,
    /// Coefficient of variation of a log-normal patience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patience_cv: Option<f64>,
    /// Priority of the contacts.
    #[serde(default)]
    pub priority: i32,
    /// Customer segment mix, `{ new = 0.2, returning = 0.7, vip = 0.1 }`
    /// (weights, normalised; segments `new`, `returning`, `vip`, `unknown`).
    /// Default: all unknown. Returning and VIP customers get a last agent
    /// (a member of the queue drawn at random) for sticky routing.
    #[serde(default)]
    pub segments: BTreeMap<String, f64>,
    /// Skills every agent must have for these contacts, `{ "lang:zh" = 1 }`.
    #[serde(default)]
    pub required_skills: BTreeMap<String, i64>,
    /// Probability that a caller still waiting after `callback_after_seconds`
    /// asks for a callback.
    #[serde(default)]
    pub callback_probability: f64,
    /// When a caller who wants a callback asks for it (default 60).
    #[serde(default = "default_callback_after")]
    pub callback_after_seconds: f64,
    /// Channel (default voice).
    #[serde(default)]
    pub channel: Channel,
}

fn default_callback_after() -> f64 {
    60.0
}

impl ArrivalSpec {
    /// A constant-rate stream with exponential handle times and no abandonment.
    pub fn new(queue: impl Into<String>, calls_per_hour: f64, aht_seconds: f64) -> Self {
        ArrivalSpec {
            queue: queue.into(),
            calls_per_hour: Some(calls_per_hour),
            profile: None,
            aht_seconds,
            aht_profile: None,
            handle_distribution: Distribution::Exponential,
            handle_cv: None,
            patience_seconds: None,
            patience_distribution: Distribution::Exponential,
            patience_cv: None,
            priority: 0,
            segments: BTreeMap::new(),
            required_skills: BTreeMap::new(),
            callback_probability: 0.0,
            callback_after_seconds: default_callback_after(),
            channel: Channel::Voice,
        }
    }
}

/// A problem with a scenario.
#[derive(Debug, Error)]
pub enum ScenarioError {
    /// The file is not valid TOML or does not fit the schema (unknown key,
    /// wrong type); the message carries the line and column.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// The file parsed but describes something impossible; every problem
    /// is listed with its place in the file.
    #[error("{}", render_issues(.0))]
    Invalid(Vec<engine::ConfigIssue>),
}

impl ScenarioError {
    /// The problems, for [`ScenarioError::Invalid`].
    pub fn issues(&self) -> &[engine::ConfigIssue] {
        match self {
            ScenarioError::Invalid(v) => v,
            ScenarioError::Toml(_) => &[],
        }
    }
}

fn render_issues(issues: &[engine::ConfigIssue]) -> String {
    let mut s = format!("the scenario has {} problem{}:", issues.len(), if issues.len() == 1 { "" } else { "s" });
    for i in issues {
        s.push_str("\n  ");
        s.push_str(&i.path);
        s.push_str(": ");
        s.push_str(&i.message);
    }
    s
}

impl Scenario {
    /// Parse a scenario from TOML text. Only the syntax and the schema are
    /// checked here; [`crate::Model::build`] checks the meaning.
    pub fn from_toml_str(text: &str) -> Result<Scenario, ScenarioError> {
        Ok(toml::from_str(text)?)
    }

    /// The engine configuration of this scenario (dense ids from 0, names
    /// resolved, milliseconds), after every check of [`crate::Model::build`].
    pub fn engine_config(&self) -> Result<engine::EngineConfig, ScenarioError> {
        crate::Model::build(self).map(|m| m.config)
    }

    /// The scenario as TOML text.
    pub fn to_toml_string(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot serialise scenario: {e}\n"))
    }

    /// The simplest scenario: one queue (`queue`), `agents` agents always
    /// present, one constant Poisson stream.
    pub fn one_queue(agents: i64, calls_per_hour: f64, aht_seconds: f64, hours: f64) -> Scenario {
        Scenario {
            simulation: SimulationSpec { hours: Some(hours), ..SimulationSpec::default() },
            queues: vec![QueueSpec::new("queue")],
            agents: vec![AgentGroupSpec::new("agent", agents, &["queue"])],
            arrivals: vec![ArrivalSpec::new("queue", calls_per_hour, aht_seconds)],
        }
    }
}
