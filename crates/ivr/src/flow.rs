//! IVR flows as data: nodes, prompts, JSON parsing and validation.
//!
//! A flow is a graph of named nodes; the administrator edits it as JSON:
//!
//! ```json
//! {
//!   "name": "hotline", "version": 3, "start": "welcome", "language": "zh",
//!   "nodes": {
//!     "welcome": {"type": "play", "prompts": [{"clip": "welcome"}], "next": "main"},
//!     "main": {"type": "menu", "prompt": [{"clip": "main-menu"}], "options": {"1": "sales"},
//!              "timeout_ms": 5000, "retries": 2, "on_failure": "bye"},
//!     "sales": {"type": "queue", "queue": 1},
//!     "bye": {"type": "hangup", "prompts": [{"clip": "goodbye"}]}
//!   }
//! }
//! ```

use crate::calendar::Calendar;
use crate::prompts::{self, Lang, Sound};
use crate::template::{self, Vars};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::marker::PhantomData;

/// The name of a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub String);

impl NodeId {
    /// A node name.
    pub fn new(s: impl Into<String>) -> NodeId {
        NodeId(s.into())
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for NodeId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for NodeId {
    fn from(s: &str) -> Self {
        NodeId(s.to_string())
    }
}

/// A whole IVR flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    /// Flow name (statistics are kept per name and version).
    pub name: String,
    /// Version, raised on every published edit.
    pub version: u32,
    /// The node a call starts in.
    pub start: NodeId,
    /// Language of prompts until a `set` node changes `language`.
    #[serde(default)]
    pub language: Lang,
    /// Opening hours for `hours` nodes; when absent the session's
    /// [`crate::Context::calendar`] is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<Calendar>,
    /// The nodes by name.
    #[serde(deserialize_with = "unique_map")]
    pub nodes: BTreeMap<NodeId, Node>,
}

/// Where a `transfer` node sends the call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TransferTarget {
    /// Another ACD queue (without the IVR's attributes: use `queue` for that).
    Queue(u32),
    /// An agent by login name.
    Agent(String),
    /// An external SIP URI (`sip:desk@example.com`), dialled directly.
    Sip(String),
    /// A telephone number (`+8610…`, 3–20 digits), dialled through the trunk.
    Number(String),
}

impl TransferTarget {
    /// Whether a telephone number is dialable: an optional `+`, then 3–20 digits.
    pub fn is_dialable_number(n: &str) -> bool {
        let digits = n.strip_prefix('+').unwrap_or(n);
        (3..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    }
}

fn default_timeout_ms() -> u64 {
    5_000
}
fn default_retries() -> u32 {
    2
}
fn default_min_digits() -> u32 {
    1
}
fn default_terminator() -> char {
    '#'
}
fn default_accept_digit() -> char {
    '1'
}
fn is_default_terminator(c: &char) -> bool {
    *c == '#'
}

/// One node of a flow. `type` in JSON selects the kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Node {
    /// Play prompts (not interruptible: digits are kept for the next menu
    /// or collect, as type-ahead), then go on.
    Play {
        /// What to play.
        prompts: Vec<Prompt>,
        /// Next node.
        next: NodeId,
    },
    /// Ask for one key. A key pressed during the prompt interrupts it.
    Menu {
        /// The menu prompt.
        prompt: Vec<Prompt>,
        /// Key (`0`–`9`, `*`, `#`) → node.
        #[serde(deserialize_with = "unique_map")]
        options: BTreeMap<String, NodeId>,
        /// Wait for a key after the prompt.
        #[serde(default = "default_timeout_ms")]
        timeout_ms: u64,
        /// How many times the prompt is repeated after a time-out or an
        /// invalid key before giving up.
        #[serde(default = "default_retries")]
        retries: u32,
        /// Played before repeating after an invalid key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invalid_prompt: Option<Vec<Prompt>>,
        /// Played before repeating after a time-out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_prompt: Option<Vec<Prompt>>,
        /// Where to go when the retries are used up.
        on_failure: NodeId,
    },
    /// Collect a number of digits into an attribute.
    Collect {
        /// The prompt (interruptible).
        prompt: Vec<Prompt>,
        /// Attribute the digits are stored under.
        attribute: String,
        /// Fewest digits accepted.
        #[serde(default = "default_min_digits")]
        min_digits: u32,
        /// Most digits; reaching it ends the entry.
        max_digits: u32,
        /// Key that ends the entry (`#` or `*`).
        #[serde(default = "default_terminator", skip_serializing_if = "is_default_terminator")]
        terminator: char,
        /// Wait for the first and between digits. A time-out with at least
        /// `min_digits` digits accepts them.
        #[serde(default = "default_timeout_ms")]
        timeout_ms: u64,
        /// Repeats after a time-out or a too-short entry.
        #[serde(default = "default_retries")]
        retries: u32,
        /// Played before repeating after a wrong entry.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invalid_prompt: Option<Vec<Prompt>>,
        /// Played before repeating after a time-out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_prompt: Option<Vec<Prompt>>,
        /// Next node once collected.
        next: NodeId,
        /// Where to go when the retries are used up.
        on_failure: NodeId,
    },
    /// Branch on the opening hours at the current time: the flow's
    /// calendar, else the session's; with neither, open.
    Hours {
        /// Next node when open.
        open: NodeId,
        /// Next node when closed.
        closed: NodeId,
    },
    /// Set contact attributes (values are templates). Well-known keys:
    /// `language` (`zh` / `en`: the language of all following prompts),
    /// `problem_type` (shown to the agent and used for routing reports),
    /// `priority` (an integer: queue priority when the `queue` node gives
    /// none).
    Set {
        /// Attribute → template.
        attributes: BTreeMap<String, String>,
        /// Next node.
        next: NodeId,
    },
    /// Self-service: an HTTP GET answered with a JSON object. Its fields are
    /// `{result.field}` in templates until the next lookup.
    Lookup {
        /// Base URL (`http://…`).
        url: String,
        /// Query parameter → template; encoded and appended to the URL.
        #[serde(default)]
        query: BTreeMap<String, String>,
        /// Attribute → template, stored on success (`{"order_status":
        /// "{result.status}"}`).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        store: BTreeMap<String, String>,
        /// Played on success (not interruptible).
        #[serde(default)]
        say: Vec<Prompt>,
        /// How long the voice layer waits for the answer.
        #[serde(default = "default_timeout_ms")]
        timeout_ms: u64,
        /// Next node after `say`.
        next: NodeId,
        /// Next node when the lookup fails or times out.
        on_failure: NodeId,
    },
    /// Hand the caller to the ACD with the collected attributes. Ends the IVR.
    Queue {
        /// ACD queue id.
        queue: u32,
        /// Priority; else the `priority` attribute; else 0.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<i32>,
        /// The caller asked to be called back: the ACD keeps the place in
        /// the queue and calls back instead of holding the line.
        #[serde(default)]
        callback: bool,
        /// Played before the hand-over (not interruptible).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        prompts: Vec<Prompt>,
    },
    /// Offer a callback: one key accepts, any other key or silence declines.
    /// The accepted branch normally ends in a `queue` node with
    /// `callback: true`.
    CallbackOffer {
        /// The offer (interruptible).
        prompt: Vec<Prompt>,
        /// Key that accepts.
        #[serde(default = "default_accept_digit")]
        accept_digit: char,
        /// Next node when accepted.
        accepted: NodeId,
        /// Next node when declined or unanswered.
        declined: NodeId,
        /// Wait for a key after the prompt.
        #[serde(default = "default_timeout_ms")]
        timeout_ms: u64,
    },
    /// Record a message: the prompt, then the voice layer records.
    Voicemail {
        /// Played before recording (not interruptible).
        prompt: Vec<Prompt>,
        /// Longest recording.
        max_seconds: u32,
        /// Queue whose agents get the message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue: Option<u32>,
        /// Next node after recording; none hangs up.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<NodeId>,
    },
    /// Transfer the call. Ends the IVR once the transfer succeeds (queued,
    /// or the external party answered).
    Transfer {
        /// Where to.
        to: TransferTarget,
        /// Played before the transfer (not interruptible).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        prompts: Vec<Prompt>,
        /// Next node when the transfer fails (busy, no answer, refused);
        /// none: an apology, then the call ends.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_fail: Option<NodeId>,
    },
    /// Play prompts, then hang up.
    Hangup {
        /// What to play first.
        #[serde(default)]
        prompts: Vec<Prompt>,
    },
}

/// The kind of a node, without its data (for visits and statistics).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// [`Node::Play`].
    Play,
    /// [`Node::Menu`].
    Menu,
    /// [`Node::Collect`].
    Collect,
    /// [`Node::Hours`].
    Hours,
    /// [`Node::Set`].
    Set,
    /// [`Node::Lookup`].
    Lookup,
    /// [`Node::Queue`].
    Queue,
    /// [`Node::CallbackOffer`].
    CallbackOffer,
    /// [`Node::Voicemail`].
    Voicemail,
    /// [`Node::Transfer`].
    Transfer,
    /// [`Node::Hangup`].
    Hangup,
}

impl Node {
    /// The kind of node.
    pub fn kind(&self) -> NodeKind {
        match self {
            Node::Play { .. } => NodeKind::Play,
            Node::Menu { .. } => NodeKind::Menu,
            Node::Collect { .. } => NodeKind::Collect,
            Node::Hours { .. } => NodeKind::Hours,
            Node::Set { .. } => NodeKind::Set,
            Node::Lookup { .. } => NodeKind::Lookup,
            Node::Queue { .. } => NodeKind::Queue,
            Node::CallbackOffer { .. } => NodeKind::CallbackOffer,
            Node::Voicemail { .. } => NodeKind::Voicemail,
            Node::Transfer { .. } => NodeKind::Transfer,
            Node::Hangup { .. } => NodeKind::Hangup,
        }
    }

    /// Every node this one can lead to, with the field naming it.
    pub fn targets(&self) -> Vec<(String, &NodeId)> {
        let f = |s: &str, n| (s.to_string(), n);
        match self {
            Node::Play { next, .. } | Node::Set { next, .. } => vec![f("next", next)],
            Node::Menu { options, on_failure, .. } => {
                let mut v: Vec<_> = options.iter().map(|(k, n)| (format!("options.{k}"), n)).collect();
                v.push(f("on_failure", on_failure));
                v
            }
            Node::Collect { next, on_failure, .. } | Node::Lookup { next, on_failure, .. } => {
                vec![f("next", next), f("on_failure", on_failure)]
            }
            Node::Hours { open, closed } => vec![f("open", open), f("closed", closed)],
            Node::CallbackOffer { accepted, declined, .. } => vec![f("accepted", accepted), f("declined", declined)],
            Node::Voicemail { next, .. } => next.iter().map(|n| f("next", n)).collect(),
            Node::Transfer { on_fail, .. } => on_fail.iter().map(|n| f("on_fail", n)).collect(),
            Node::Queue { .. } | Node::Hangup { .. } => Vec::new(),
        }
    }

    /// Whether the node waits for the caller (a key or a recording), so a
    /// cycle through it does not spin.
    pub fn waits_for_caller(&self) -> bool {
        matches!(self, Node::Menu { .. } | Node::Collect { .. } | Node::CallbackOffer { .. } | Node::Voicemail { .. })
    }

    fn prompt_lists(&self) -> Vec<(&'static str, &[Prompt])> {
        let mut v: Vec<(&'static str, &[Prompt])> = Vec::new();
        match self {
            Node::Play { prompts, .. }
            | Node::Hangup { prompts }
            | Node::Queue { prompts, .. }
            | Node::Transfer { prompts, .. } => v.push(("prompts", prompts)),
            Node::Menu { prompt, invalid_prompt, timeout_prompt, .. }
            | Node::Collect { prompt, invalid_prompt, timeout_prompt, .. } => {
                v.push(("prompt", prompt));
                if let Some(p) = invalid_prompt {
                    v.push(("invalid_prompt", p));
                }
                if let Some(p) = timeout_prompt {
                    v.push(("timeout_prompt", p));
                }
            }
            Node::CallbackOffer { prompt, .. } | Node::Voicemail { prompt, .. } => v.push(("prompt", prompt)),
            Node::Lookup { say, .. } => v.push(("say", say)),
            Node::Hours { .. } | Node::Set { .. } => {}
        }
        v
    }
}

/// What one prompt item says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Say {
    /// A catalog clip; the name may be a template (`status-{result.status}`).
    Clip {
        /// Clip name or template.
        name: String,
        /// Clip used when the filled-in name is not in the catalog.
        fallback: Option<String>,
    },
    /// A number, spoken as a cardinal (template resolving to an integer).
    Number {
        /// Template of the value.
        value: String,
        /// Unit clip after the number, singular/plural by the value
        /// (`day` → `day` / `days`).
        unit: Option<String>,
    },
    /// A string spoken key by key (template).
    Digits(String),
    /// A pause.
    Silence(u32),
}

/// One item of a prompt list. JSON: `{"clip": "welcome"}`,
/// `{"clip": "status-{result.status}", "fallback": "status-unknown"}`,
/// `{"number": "{result.days}", "unit": "day"}`, `{"digits": "{account}"}`,
/// `{"silence_ms": 500}`; any of them may add `"lang": "en"` (play in that
/// language whatever the caller's) and `"when": "{result.days}"` (play only
/// if the template is not empty).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PromptRepr", into = "PromptRepr")]
pub struct Prompt {
    /// What to say.
    pub say: Say,
    /// Fixed language of this item.
    pub lang: Option<Lang>,
    /// Condition: a template that must not be empty.
    pub when: Option<String>,
}

impl Prompt {
    /// A plain catalog clip.
    pub fn clip(name: &str) -> Prompt {
        Prompt { say: Say::Clip { name: name.into(), fallback: None }, lang: None, when: None }
    }

    /// A plain catalog clip in a fixed language.
    pub fn clip_in(name: &str, lang: Lang) -> Prompt {
        Prompt { lang: Some(lang), ..Prompt::clip(name) }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromptRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fallback: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    digits: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    silence_ms: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lang: Option<Lang>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    when: Option<String>,
}

impl TryFrom<PromptRepr> for Prompt {
    type Error = String;

    fn try_from(r: PromptRepr) -> Result<Self, String> {
        let say = match (r.clip, r.number, r.digits, r.silence_ms) {
            (Some(name), None, None, None) if r.unit.is_none() => Say::Clip { name, fallback: r.fallback },
            (None, Some(value), None, None) if r.fallback.is_none() => Say::Number { value, unit: r.unit },
            (None, None, Some(d), None) if r.fallback.is_none() && r.unit.is_none() => Say::Digits(d),
            (None, None, None, Some(ms)) if r.fallback.is_none() && r.unit.is_none() => Say::Silence(ms),
            (None, None, None, None) => {
                return Err("a prompt item needs one of clip, number, digits, silence_ms".into());
            }
            _ => {
                return Err("a prompt item takes exactly one of clip, number, digits, silence_ms \
                            (fallback goes with clip, unit with number)"
                    .into());
            }
        };
        Ok(Prompt { say, lang: r.lang, when: r.when })
    }
}

impl From<Prompt> for PromptRepr {
    fn from(p: Prompt) -> Self {
        let mut r = PromptRepr {
            clip: None,
            fallback: None,
            number: None,
            unit: None,
            digits: None,
            silence_ms: None,
            lang: p.lang,
            when: p.when,
        };
        match p.say {
            Say::Clip { name, fallback } => (r.clip, r.fallback) = (Some(name), fallback),
            Say::Number { value, unit } => (r.number, r.unit) = (Some(value), unit),
            Say::Digits(d) => r.digits = Some(d),
            Say::Silence(ms) => r.silence_ms = Some(ms),
        }
        r
    }
}

/// Turn prompt items into sounds in `lang`; what cannot be said is
/// skipped and described in `problems`.
pub(crate) fn render(prompts: &[Prompt], lang: Lang, vars: &Vars<'_>, problems: &mut Vec<String>) -> Vec<Sound> {
    let mut out = Vec::new();
    for p in prompts {
        if p.when.as_deref().is_some_and(|w| template::render(w, vars).trim().is_empty()) {
            continue;
        }
        let lang = p.lang.unwrap_or(lang);
        match &p.say {
            Say::Clip { name, fallback } => {
                let filled = template::render(name, vars);
                if prompts::is_known(&filled) {
                    out.push(Sound::Clip(prompts::Clip::new(lang, filled)));
                } else if let Some(fb) = fallback.as_deref().filter(|f| prompts::is_known(f)) {
                    out.push(Sound::Clip(prompts::Clip::new(lang, fb)));
                } else {
                    problems.push(format!("clip {filled:?} (from {name:?}) is not in the catalog; skipped"));
                }
            }
            Say::Number { value, unit } => {
                let filled = template::render(value, vars);
                let Some(n) = parse_count(&filled) else {
                    problems.push(format!("number {filled:?} (from {value:?}) is not a whole number; skipped"));
                    continue;
                };
                let clips = match unit {
                    Some(u) => crate::speak::quantity(n, u, lang),
                    None => crate::speak::number(n, lang),
                };
                out.extend(clips.into_iter().map(Sound::Clip));
            }
            Say::Digits(tpl) => {
                let filled = template::render(tpl, vars);
                out.extend(crate::speak::digits(&filled, lang).into_iter().map(Sound::Clip));
            }
            Say::Silence(ms) => out.push(Sound::Silence { ms: *ms }),
        }
    }
    out
}

/// A non-negative whole number, also from JSON numbers like `3.0`.
fn parse_count(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    let f = s.parse::<f64>().ok()?;
    (0.0..1e18).contains(&f).then(|| f.round() as u64)
}

/// A flow that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FlowError {
    /// Not JSON, or not the shape of a flow.
    #[error("flow JSON, line {line}, column {column}: {message}")]
    Json {
        /// What is wrong.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// One node is not a valid node.
    #[error("node `{node}`: {message}")]
    Node {
        /// The node's name.
        node: String,
        /// What is wrong.
        message: String,
    },
}

/// Deserialize a JSON object into a map, refusing a key given twice (plain
/// maps keep the last silently, which would hide an editing mistake).
fn unique_map<'de, D, K, V>(d: D) -> Result<BTreeMap<K, V>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + Ord + fmt::Debug,
    V: Deserialize<'de>,
{
    struct V_<K, V>(PhantomData<(K, V)>);
    impl<'de, K: Deserialize<'de> + Ord + fmt::Debug, V: Deserialize<'de>> Visitor<'de> for V_<K, V> {
        type Value = BTreeMap<K, V>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(k) = map.next_key::<K>()? {
                if out.contains_key(&k) {
                    return Err(serde::de::Error::custom(format!("key {k:?} appears twice")));
                }
                let v = map.next_value()?;
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    d.deserialize_map(V_(PhantomData))
}

/// One thing wrong with a flow or a survey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The node (or survey question) concerned, if any.
    pub node: Option<String>,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// The kinds of problems [`Flow::validate`] and
/// [`crate::SurveySpec::validate`] report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProblemKind {
    /// `start` names no node.
    MissingStart {
        /// The start named.
        start: String,
    },
    /// A field names a node that does not exist.
    DanglingTarget {
        /// The field (`next`, `options.1`, …).
        field: String,
        /// The missing node.
        target: String,
    },
    /// No path from the start leads here.
    Unreachable,
    /// A key that is not a DTMF key (`0`–`9`, `*`, `#`).
    InvalidDigit {
        /// The key as written.
        digit: String,
    },
    /// A menu without options.
    NoOptions,
    /// `min_digits` / `max_digits` impossible.
    DigitRange {
        /// Fewest.
        min: u32,
        /// Most.
        max: u32,
    },
    /// A collect terminator other than `#` or `*`.
    BadTerminator {
        /// The terminator.
        terminator: char,
    },
    /// An empty attribute name.
    EmptyAttribute,
    /// A cycle through nodes none of which waits for the caller: the call
    /// would spin forever.
    InputFreeCycle {
        /// The nodes of the cycle.
        nodes: Vec<String>,
    },
    /// A clip name not in the catalog.
    UnknownClip {
        /// The name.
        clip: String,
    },
    /// A malformed template.
    BadTemplate {
        /// What is wrong.
        detail: String,
    },
    /// An empty or non-HTTP lookup URL.
    BadUrl {
        /// The URL.
        url: String,
    },
    /// A queue the ACD does not know.
    UnknownQueue {
        /// Queue id.
        queue: u32,
    },
    /// `language` set to something other than `zh` / `en`.
    BadLanguage {
        /// The value.
        value: String,
    },
    /// A zero time-out or length.
    Zero {
        /// The field.
        field: String,
    },
    /// A transfer target that cannot be dialled.
    BadTransfer {
        /// The target as written.
        target: String,
    },
    /// The calendar is wrong.
    BadCalendar {
        /// What is wrong.
        detail: String,
    },
    /// A survey without questions.
    NoQuestions,
    /// Two survey questions with the same id.
    DuplicateQuestion,
    /// A survey score range that is not within 0–9 with min ≤ max.
    ScoreRange {
        /// Lowest score.
        min: u8,
        /// Highest score.
        max: u8,
    },
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::MissingStart { start } => write!(f, "the start node `{start}` does not exist"),
            ProblemKind::DanglingTarget { field, target } => {
                write!(f, "{field} leads to `{target}`, which does not exist")
            }
            ProblemKind::Unreachable => write!(f, "no path from the start reaches this node"),
            ProblemKind::InvalidDigit { digit } => write!(f, "key {digit:?} is not a phone key (0-9, *, #)"),
            ProblemKind::NoOptions => write!(f, "the menu has no options"),
            ProblemKind::DigitRange { min, max } => {
                write!(f, "min_digits {min} and max_digits {max}: need 1 ≤ min ≤ max ≤ 64")
            }
            ProblemKind::BadTerminator { terminator } => write!(f, "terminator {terminator:?} must be # or *"),
            ProblemKind::EmptyAttribute => write!(f, "an attribute name is empty"),
            ProblemKind::InputFreeCycle { nodes } => write!(
                f,
                "the cycle {} never waits for the caller and would loop forever",
                nodes.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" → ")
            ),
            ProblemKind::UnknownClip { clip } => write!(f, "clip {clip:?} is not in the prompt catalog"),
            ProblemKind::BadTemplate { detail } => f.write_str(detail),
            ProblemKind::BadUrl { url } => write!(f, "url {url:?}: expected http://host/…"),
            ProblemKind::UnknownQueue { queue } => write!(f, "queue {queue} does not exist"),
            ProblemKind::BadLanguage { value } => write!(f, "language {value:?}: expected zh or en"),
            ProblemKind::Zero { field } => write!(f, "{field} must be more than 0"),
            ProblemKind::BadTransfer { target } => write!(f, "transfer target {target:?} cannot be dialled"),
            ProblemKind::BadCalendar { detail } => write!(f, "calendar: {detail}"),
            ProblemKind::NoQuestions => write!(f, "the survey has no questions"),
            ProblemKind::DuplicateQuestion => write!(f, "two questions have this id"),
            ProblemKind::ScoreRange { min, max } => write!(f, "scores {min}–{max}: need keys 0–9 with min ≤ max"),
        }
    }
}

impl Problem {
    /// The field of the node (or of the flow, when no node is concerned)
    /// that is wrong, when the problem names one (`next`, `options.1`,
    /// `timeout_ms`, `to`, …).
    pub fn field(&self) -> Option<String> {
        let f = |s: &str| Some(s.to_string());
        match &self.kind {
            ProblemKind::MissingStart { .. } => f("start"),
            ProblemKind::DanglingTarget { field, .. } | ProblemKind::Zero { field } => Some(field.clone()),
            ProblemKind::NoOptions => f("options"),
            ProblemKind::DigitRange { .. } => f("max_digits"),
            ProblemKind::BadTerminator { .. } => f("terminator"),
            ProblemKind::BadUrl { .. } => f("url"),
            ProblemKind::BadLanguage { .. } => f("attributes.language"),
            ProblemKind::BadTransfer { .. } => f("to"),
            ProblemKind::BadCalendar { .. } => f("calendar"),
            _ => None,
        }
    }

    /// Where the problem is, as a path into the flow document:
    /// `nodes.<node>.<field>`, `nodes.<node>`, or a top-level field.
    pub fn path(&self) -> String {
        match (&self.node, self.field()) {
            (Some(n), Some(f)) => format!("nodes.{n}.{f}"),
            (Some(n), None) => format!("nodes.{n}"),
            (None, Some(f)) => f,
            (None, None) => String::new(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node {
            Some(n) => write!(f, "`{n}`: {}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl Serialize for Problem {
    /// `{"node": "main", "kind": "no_options", …fields, "message": "…"}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            node: &'a Option<String>,
            #[serde(flatten)]
            kind: &'a ProblemKind,
            message: String,
        }
        Out { node: &self.node, kind: &self.kind, message: self.to_string() }.serialize(s)
    }
}

pub(crate) fn is_dtmf(c: char) -> bool {
    c.is_ascii_digit() || c == '*' || c == '#'
}

/// Check the prompt items of one list; shared with the survey.
pub(crate) fn check_prompts(prompts: &[Prompt], at: &Option<String>, field: &str, out: &mut Vec<Problem>) {
    let mut push = |kind| out.push(Problem { node: at.clone(), kind });
    for p in prompts {
        let mut templates: Vec<&str> = p.when.iter().map(String::as_str).collect();
        match &p.say {
            Say::Clip { name, fallback } => {
                templates.push(name);
                if !template::is_template(name) && !prompts::is_known(name) {
                    push(ProblemKind::UnknownClip { clip: name.clone() });
                }
                if let Some(fb) = fallback.as_ref().filter(|fb| !prompts::is_known(fb)) {
                    push(ProblemKind::UnknownClip { clip: fb.clone() });
                }
            }
            Say::Number { value, unit } => {
                templates.push(value);
                if let Some(u) = unit {
                    for name in [u.clone(), format!("{u}s")] {
                        if !prompts::is_known(&name) {
                            push(ProblemKind::UnknownClip { clip: name });
                        }
                    }
                }
            }
            Say::Digits(d) => templates.push(d),
            Say::Silence(_) => {}
        }
        for t in templates {
            if let Err(e) = template::check(t) {
                push(ProblemKind::BadTemplate { detail: format!("{field}: {e}") });
            }
        }
    }
}

impl Flow {
    /// Read a flow from JSON. Errors name the line and column, or the node.
    pub fn from_json(json: &str) -> Result<Flow, FlowError> {
        serde_json::from_str::<Flow>(json).map_err(|e| {
            // Point at the node when a node is what is wrong: its name
            // helps more than a line number in a browser editor.
            if e.is_data()
                && let Ok(serde_json::Value::Object(top)) = serde_json::from_str::<serde_json::Value>(json)
                && let Some(serde_json::Value::Object(nodes)) = top.get("nodes")
            {
                for (name, node) in nodes {
                    if let Err(ne) = serde_json::from_value::<Node>(node.clone()) {
                        return FlowError::Node { node: name.clone(), message: ne.to_string() };
                    }
                }
            }
            let message = e.to_string();
            let message = match message.rfind(" at line ") {
                Some(i) => message[..i].to_string(),
                None => message,
            };
            FlowError::Json { message, line: e.line(), column: e.column() }
        })
    }

    /// The flow as pretty JSON.
    pub fn to_json(&self) -> String {
        // Every field is plain data with string keys: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The node of a name.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// Every problem of the flow at once; `known_queue` tells which ACD
    /// queue ids exist. (A menu key or node name given twice is refused
    /// earlier, by [`Flow::from_json`].)
    pub fn validate(&self, known_queue: impl Fn(u32) -> bool) -> Vec<Problem> {
        let mut out = Vec::new();
        if !self.nodes.contains_key(&self.start) {
            out.push(Problem { node: None, kind: ProblemKind::MissingStart { start: self.start.0.clone() } });
        }
        if let Some(cal) = &self.calendar {
            for detail in cal.problems() {
                out.push(Problem { node: None, kind: ProblemKind::BadCalendar { detail } });
            }
        }
        for (id, node) in &self.nodes {
            self.check_node(id, node, &known_queue, &mut out);
        }
        self.check_reachability(&mut out);
        self.check_cycles(&mut out);
        out
    }

    fn check_node(&self, id: &NodeId, node: &Node, known_queue: &impl Fn(u32) -> bool, out: &mut Vec<Problem>) {
        let at = Some(id.0.clone());
        let mut push = |kind| out.push(Problem { node: at.clone(), kind });
        for (field, target) in node.targets() {
            if !self.nodes.contains_key(target) {
                push(ProblemKind::DanglingTarget { field, target: target.0.clone() });
            }
        }
        let zero = |field: &str, v: u64, push: &mut dyn FnMut(ProblemKind)| {
            if v == 0 {
                push(ProblemKind::Zero { field: field.into() });
            }
        };
        let mut templates: Vec<(String, &str)> = Vec::new();
        match node {
            Node::Menu { options, timeout_ms, .. } => {
                if options.is_empty() {
                    push(ProblemKind::NoOptions);
                }
                for key in options.keys() {
                    let mut cs = key.chars();
                    if !matches!((cs.next(), cs.next()), (Some(c), None) if is_dtmf(c)) {
                        push(ProblemKind::InvalidDigit { digit: key.clone() });
                    }
                }
                zero("timeout_ms", *timeout_ms, &mut push);
            }
            Node::Collect { attribute, min_digits, max_digits, terminator, timeout_ms, .. } => {
                if attribute.trim().is_empty() {
                    push(ProblemKind::EmptyAttribute);
                }
                if *min_digits == 0 || min_digits > max_digits || *max_digits > 64 {
                    push(ProblemKind::DigitRange { min: *min_digits, max: *max_digits });
                }
                if !matches!(terminator, '#' | '*') {
                    push(ProblemKind::BadTerminator { terminator: *terminator });
                }
                zero("timeout_ms", *timeout_ms, &mut push);
            }
            Node::Set { attributes, .. } => {
                for (k, v) in attributes {
                    if k.trim().is_empty() {
                        push(ProblemKind::EmptyAttribute);
                    }
                    if k == "language" && !template::is_template(v) && Lang::parse(v).is_none() {
                        push(ProblemKind::BadLanguage { value: v.clone() });
                    }
                    templates.push((format!("attributes.{k}"), v));
                }
            }
            Node::Lookup { url, query, store, timeout_ms, .. } => {
                let ok = ["http://", "https://"]
                    .iter()
                    .any(|p| url.strip_prefix(p).is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/')));
                if !ok || url.contains(char::is_whitespace) || template::is_template(url) {
                    push(ProblemKind::BadUrl { url: url.clone() });
                }
                for (k, v) in query {
                    templates.push((format!("query.{k}"), v));
                }
                for (k, v) in store {
                    if k.trim().is_empty() {
                        push(ProblemKind::EmptyAttribute);
                    }
                    templates.push((format!("store.{k}"), v));
                }
                zero("timeout_ms", *timeout_ms, &mut push);
            }
            Node::Queue { queue, .. } => {
                if !known_queue(*queue) {
                    push(ProblemKind::UnknownQueue { queue: *queue });
                }
            }
            Node::CallbackOffer { accept_digit, timeout_ms, .. } => {
                if !is_dtmf(*accept_digit) {
                    push(ProblemKind::InvalidDigit { digit: accept_digit.to_string() });
                }
                zero("timeout_ms", *timeout_ms, &mut push);
            }
            Node::Voicemail { max_seconds, queue, .. } => {
                zero("max_seconds", u64::from(*max_seconds), &mut push);
                if let Some(q) = queue.filter(|q| !known_queue(*q)) {
                    push(ProblemKind::UnknownQueue { queue: q });
                }
            }
            Node::Transfer { to, .. } => match to {
                TransferTarget::Queue(q) if !known_queue(*q) => push(ProblemKind::UnknownQueue { queue: *q }),
                TransferTarget::Agent(a) if a.trim().is_empty() => push(ProblemKind::BadTransfer { target: a.clone() }),
                TransferTarget::Sip(uri)
                    if !(uri.starts_with("sip:") || uri.starts_with("sips:"))
                        || !uri.contains(|c: char| c.is_ascii_alphanumeric()) =>
                {
                    push(ProblemKind::BadTransfer { target: uri.clone() })
                }
                TransferTarget::Number(n) if !TransferTarget::is_dialable_number(n) => {
                    push(ProblemKind::BadTransfer { target: n.clone() })
                }
                _ => {}
            },
            Node::Play { .. } | Node::Hours { .. } | Node::Hangup { .. } => {}
        }
        for (field, t) in templates {
            if let Err(e) = template::check(t) {
                push(ProblemKind::BadTemplate { detail: format!("{field}: {e}") });
            }
        }
        for (field, prompts) in node.prompt_lists() {
            check_prompts(prompts, &at, field, out);
        }
    }

    fn check_reachability(&self, out: &mut Vec<Problem>) {
        let mut seen = BTreeSet::new();
        let mut todo = VecDeque::new();
        if self.nodes.contains_key(&self.start) {
            seen.insert(&self.start);
            todo.push_back(&self.start);
        }
        while let Some(id) = todo.pop_front() {
            for (_, t) in self.nodes.get(id).map(Node::targets).unwrap_or_default() {
                if self.nodes.contains_key(t) && seen.insert(t) {
                    todo.push_back(t);
                }
            }
        }
        for id in self.nodes.keys().filter(|id| !seen.contains(id)) {
            out.push(Problem { node: Some(id.0.clone()), kind: ProblemKind::Unreachable });
        }
    }

    /// Strongly connected groups of nodes that never wait for the caller.
    fn check_cycles(&self, out: &mut Vec<Problem>) {
        let spinning: Vec<&NodeId> =
            self.nodes.iter().filter(|(_, n)| !n.waits_for_caller()).map(|(id, _)| id).collect();
        let edges = |id: &NodeId| -> Vec<&NodeId> {
            self.nodes
                .get(id)
                .map(|n| {
                    n.targets()
                        .into_iter()
                        .map(|(_, t)| t)
                        .filter(|t| self.nodes.get(*t).is_some_and(|n| !n.waits_for_caller()))
                        .collect()
                })
                .unwrap_or_default()
        };
        // Flows are small (tens to hundreds of nodes): one search per node
        // is simple and fast enough.
        let reach: BTreeMap<&NodeId, BTreeSet<&NodeId>> = spinning
            .iter()
            .map(|&start| {
                let mut seen = BTreeSet::new();
                let mut todo: Vec<&NodeId> = edges(start);
                while let Some(n) = todo.pop() {
                    if seen.insert(n) {
                        todo.extend(edges(n));
                    }
                }
                (start, seen)
            })
            .collect();
        let mut reported = BTreeSet::new();
        for &id in &spinning {
            if reported.contains(id) || !reach[id].contains(id) {
                continue;
            }
            let group: Vec<&NodeId> =
                spinning.iter().copied().filter(|&o| reach[id].contains(o) && reach[o].contains(id)).collect();
            reported.extend(group.iter().copied());
            out.push(Problem {
                node: Some(id.0.clone()),
                kind: ProblemKind::InputFreeCycle { nodes: group.iter().map(|n| n.0.clone()).collect() },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_example_parses_and_validates() {
        let doc = include_str!("flow.rs");
        let start = doc.find("//! ```json").unwrap() + "//! ```json".len();
        let end = start + doc[start..].find("//! ```").unwrap();
        let json: String = doc[start..end].lines().map(|l| l.trim_start_matches("//!")).collect::<Vec<_>>().join("\n");
        let flow = Flow::from_json(&json).unwrap();
        assert_eq!(flow.validate(|q| q == 1), Vec::new());
        assert_eq!(flow.node("main").map(Node::kind), Some(NodeKind::Menu));
    }

    fn transfer_flow(to: &str, on_fail: Option<&str>) -> String {
        let on_fail = on_fail.map(|n| format!(r#","on_fail":"{n}""#)).unwrap_or_default();
        format!(
            r#"{{"name":"t","version":1,"start":"xfer","nodes":{{
                "xfer":{{"type":"transfer","to":{to}{on_fail}}},
                "sorry":{{"type":"hangup","prompts":[{{"clip":"goodbye"}}]}}}}}}"#
        )
    }

    #[test]
    fn transfer_nodes_take_numbers_and_a_failure_branch() {
        let flow = Flow::from_json(&transfer_flow(r#"{"number":"+8613800138000"}"#, Some("sorry"))).unwrap();
        assert_eq!(flow.validate(|_| true), Vec::new());
        let Some(Node::Transfer { to, on_fail, .. }) = flow.node("xfer") else { panic!() };
        assert_eq!(to, &TransferTarget::Number("+8613800138000".into()));
        assert_eq!(on_fail.as_ref().map(NodeId::as_str), Some("sorry"));
        assert_eq!(flow.node("xfer").map(Node::targets).unwrap_or_default().len(), 1);
        // Round trip keeps `on_fail`; a flow without it still reads.
        assert_eq!(Flow::from_json(&flow.to_json()).unwrap(), flow);
        let plain = Flow::from_json(&transfer_flow(r#"{"sip":"sip:desk@example.com"}"#, None)).unwrap();
        assert!(plain.to_json().find("on_fail").is_none());
        let problems = plain.validate(|_| true);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].kind, ProblemKind::Unreachable);
        assert_eq!(problems[0].path(), "nodes.sorry");
    }

    #[test]
    fn transfer_validation_names_node_and_field() {
        for (to, bad) in [
            (r#"{"number":"12"}"#, "12"),
            (r#"{"number":"010-1234"}"#, "010-1234"),
            (r#"{"sip":"tel:123"}"#, "tel:123"),
            (r#"{"agent":" "}"#, " "),
        ] {
            let flow = Flow::from_json(&transfer_flow(to, Some("sorry"))).unwrap();
            let problems = flow.validate(|_| true);
            assert_eq!(problems.len(), 1, "{to}: {problems:?}");
            assert_eq!(problems[0].kind, ProblemKind::BadTransfer { target: bad.into() });
            assert_eq!(problems[0].path(), "nodes.xfer.to");
        }
        let flow = Flow::from_json(&transfer_flow(r#"{"queue":7}"#, Some("gone"))).unwrap();
        let problems = flow.validate(|q| q == 1);
        let paths: Vec<String> = problems.iter().map(Problem::path).collect();
        assert!(paths.contains(&"nodes.xfer.on_fail".to_string()), "{problems:?}");
        assert!(problems.iter().any(|p| p.kind == ProblemKind::UnknownQueue { queue: 7 }), "{problems:?}");
        // A failure branch looping straight back to the transfer never
        // waits for the caller.
        let looped = transfer_flow(r#"{"queue":1}"#, Some("xfer"));
        let problems = Flow::from_json(&looped).unwrap().validate(|_| true);
        assert!(problems.iter().any(|p| matches!(p.kind, ProblemKind::InputFreeCycle { .. })), "{problems:?}");
        assert!(matches!(
            Flow::from_json(&transfer_flow(r#"{"number":"123","x":1}"#, None)),
            Err(FlowError::Node { node, .. }) if node == "xfer"
        ));
    }

    #[test]
    fn prompt_items_round_trip() {
        for item in [
            r#"{"clip":"welcome"}"#,
            r#"{"clip":"status-{result.status}","fallback":"status-unknown"}"#,
            r#"{"number":"{result.days}","unit":"day","when":"{result.days}"}"#,
            r#"{"digits":"{account}","lang":"en"}"#,
            r#"{"silence_ms":500}"#,
        ] {
            let p: Prompt = serde_json::from_str(item).unwrap();
            assert_eq!(serde_json::to_string(&p).unwrap(), item);
        }
        for bad in
            [r#"{}"#, r#"{"clip":"a","unit":"day"}"#, r#"{"number":"1","fallback":"x"}"#, r#"{"clip":"a","x":1}"#]
        {
            assert!(serde_json::from_str::<Prompt>(bad).is_err(), "{bad}");
        }
    }
}
