//! The interpreter: one [`Session`] per call.
//!
//! The voice layer feeds [`IvrEvent`]s and carries out the returned
//! [`Action`]s, in order. Every playback, timer and lookup carries an `id`
//! that the matching event echoes; an event with an id the session no longer
//! waits for (a time-out that raced a key press, the end of a playback that
//! was stopped) is ignored, so the consumer never has to reason about races.
//! At most one playback, one timer and one lookup are outstanding at a time:
//! a new `StartTimer` replaces the previous timer. After `StopPlayback` or
//! `CancelTimer` the session no longer expects the matching event (sending
//! it anyway is harmless).
//!
//! Keys pressed while a non-interruptible prompt plays (a `play` node, the
//! answer of a lookup) are kept as type-ahead and answer the next menu,
//! collect or callback offer without its prompt; an invalid key drops the
//! rest of the type-ahead. The session never passes through more than
//! [`MAX_STEPS_PER_EVENT`] nodes on one event nor [`MAX_VISITS`] in one
//! call: beyond, it records an [`Incident`] and hangs up.

use crate::calendar::Calendar;
use crate::flow::{self, Flow, Node, NodeId, NodeKind, Prompt, TransferTarget};
use crate::prompts::{Lang, Sound};
use crate::template::{self, Vars};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// Most visits one event may add: passing through more nodes without
/// waiting ends the call (a cycle in an unvalidated flow must not spin).
pub const MAX_STEPS_PER_EVENT: usize = 64;
/// Most visits in one call (a silent caller in a flow whose failure path
/// loops back must not hold the line forever).
pub const MAX_VISITS: usize = 500;
/// Keys kept as type-ahead.
pub const TYPE_AHEAD: usize = 32;
/// Extra wait for a lookup answer beyond its `timeout_ms`, after which the
/// session itself treats the lookup as failed.
pub const LOOKUP_GRACE_MS: u64 = 2_000;

/// What the voice layer knows about the call when it starts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Context {
    /// Opening hours, when the flow has none of its own (the server's
    /// business hours).
    pub calendar: Option<Calendar>,
    /// Initial attributes (`caller`: the calling number, `dialled`…).
    pub attributes: BTreeMap<String, String>,
    /// Language to start in instead of the flow's.
    pub language: Option<Lang>,
}

/// What happened on the call.
#[derive(Clone, Debug, PartialEq)]
pub enum IvrEvent {
    /// The playback `id` ended (finished or stopped).
    PlaybackDone {
        /// Id of the [`Action::Play`].
        id: u64,
    },
    /// The caller pressed a key (`0`–`9`, `*`, `#`; other characters are
    /// ignored).
    Digit(char),
    /// The timer `id` fired.
    Timeout {
        /// Id of the [`Action::StartTimer`].
        id: u64,
    },
    /// The lookup `id` was answered: the JSON body on a 2xx answer, else a
    /// description of the failure.
    LookupDone {
        /// Id of the [`Action::Lookup`].
        id: u64,
        /// The answer.
        result: Result<Value, String>,
    },
    /// The voicemail recording ended.
    VoicemailDone,
    /// The transfer asked for by [`Action::Transfer`] succeeded (queued, or
    /// the external party answered): the IVR is over.
    Transferred,
    /// The transfer failed (busy, no answer, refused: `reason`). The flow
    /// goes on at the node's `on_fail`, or apologises and hangs up.
    TransferFailed {
        /// Why, for the record (`busy`, `no-answer`, `failed`, …).
        reason: String,
    },
    /// The caller hung up. The session ends and asks for nothing more; the
    /// consumer drops whatever is outstanding.
    CallerHungUp,
}

/// What the voice layer must do.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Play these sounds one after the other, then report
    /// [`IvrEvent::PlaybackDone`] with `id`. `barge_in`: a key press will
    /// stop it (the session sends [`Action::StopPlayback`]).
    Play {
        /// Echoed by `PlaybackDone`.
        id: u64,
        /// Clips and pauses.
        sounds: Vec<Sound>,
        /// Whether keys interrupt it.
        barge_in: bool,
    },
    /// Stop the current playback.
    StopPlayback,
    /// Start (or restart) the timer; report [`IvrEvent::Timeout`] with `id`.
    StartTimer {
        /// Echoed by `Timeout`.
        id: u64,
        /// Delay.
        ms: u64,
    },
    /// Cancel the timer.
    CancelTimer,
    /// HTTP GET `url`; report [`IvrEvent::LookupDone`] with `id`.
    Lookup {
        /// Echoed by `LookupDone`.
        id: u64,
        /// Full URL, query already encoded.
        url: String,
        /// Give up after this long and report an error.
        timeout_ms: u64,
    },
    /// Put the caller in an ACD queue. The IVR is over.
    Queue {
        /// Queue id.
        queue: u32,
        /// Priority.
        priority: i32,
        /// Call back instead of holding the line.
        callback: bool,
        /// The caller's language (for announcements while waiting).
        language: Lang,
        /// Contact attributes collected.
        attributes: BTreeMap<String, String>,
    },
    /// Record a message (after a beep), then report [`IvrEvent::VoicemailDone`].
    Voicemail {
        /// Longest recording.
        max_seconds: u32,
        /// Queue whose agents get the message.
        queue: Option<u32>,
    },
    /// Transfer the call, then report [`IvrEvent::Transferred`] or
    /// [`IvrEvent::TransferFailed`].
    Transfer {
        /// Where to.
        to: TransferTarget,
    },
    /// Survey only: the answer to one question (`None`: no valid answer).
    Answer {
        /// Question id.
        question: String,
        /// Score.
        score: Option<u8>,
    },
    /// Hang up. The session is over.
    Hangup,
}

/// Why a menu or collect gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// The last attempt timed out.
    Timeout,
    /// The last attempt was a wrong key.
    Invalid,
}

/// How a visit of a node ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Went on to `next` (play, set).
    Next,
    /// A menu key was chosen.
    Chose(char),
    /// Digits were collected.
    Collected,
    /// Callback accepted.
    Accepted,
    /// Callback declined (or unanswered).
    Declined,
    /// Hours: open.
    Open,
    /// Hours: closed.
    Closed,
    /// Lookup answered.
    Found,
    /// Lookup failed or timed out.
    LookupFailed,
    /// Retries used up.
    Failed(Failure),
    /// Handed to the ACD.
    Queued,
    /// Transferred.
    Transferred,
    /// The transfer failed (busy, no answer, refused).
    TransferFailed,
    /// A message was recorded.
    Recorded,
    /// The flow hung up.
    Ended,
    /// The caller hung up here.
    Dropped,
    /// The session gave up (missing node, endless loop).
    Aborted,
}

impl Outcome {
    /// A short label for reports (`chose:1`, `failed:timeout`, `queued`).
    pub fn label(&self) -> String {
        match self {
            Outcome::Chose(d) => format!("chose:{d}"),
            Outcome::Failed(Failure::Timeout) => "failed:timeout".into(),
            Outcome::Failed(Failure::Invalid) => "failed:invalid".into(),
            other => serde_json::to_value(other).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        }
    }
}

/// One pass through a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    /// The node.
    pub node: NodeId,
    /// Its kind.
    pub kind: NodeKind,
    /// When the call entered it.
    pub entered_ms: u64,
    /// When the call left it.
    pub left_ms: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Time-outs during the visit (including the last, on failure).
    pub timeouts: u32,
    /// Invalid entries during the visit.
    pub invalid: u32,
}

/// Something that went wrong at run time (not the caller's doing): an
/// unspeakable prompt, a missing node, a loop cut short.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Incident {
    /// When.
    pub at_ms: u64,
    /// In which node.
    pub node: Option<NodeId>,
    /// What.
    pub message: String,
}

/// Playbacks, timers and lookups the session waits for; shared with the
/// survey.
#[derive(Debug, Default)]
pub(crate) struct Waits {
    last_id: u64,
    play: Option<u64>,
    timer: Option<u64>,
    lookup: Option<u64>,
}

impl Waits {
    fn next(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    /// Play; `false` when there is nothing to play (nothing to wait for).
    pub(crate) fn play(&mut self, sounds: Vec<Sound>, barge_in: bool, out: &mut Vec<Action>) -> bool {
        if sounds.is_empty() {
            return false;
        }
        let id = self.next();
        self.play = Some(id);
        out.push(Action::Play { id, sounds, barge_in });
        true
    }

    pub(crate) fn stop_playback(&mut self, out: &mut Vec<Action>) {
        if self.play.take().is_some() {
            out.push(Action::StopPlayback);
        }
    }

    pub(crate) fn start_timer(&mut self, ms: u64, out: &mut Vec<Action>) {
        let id = self.next();
        self.timer = Some(id);
        out.push(Action::StartTimer { id, ms });
    }

    pub(crate) fn cancel_timer(&mut self, out: &mut Vec<Action>) {
        if self.timer.take().is_some() {
            out.push(Action::CancelTimer);
        }
    }

    fn lookup(&mut self, url: String, timeout_ms: u64, out: &mut Vec<Action>) {
        let id = self.next();
        self.lookup = Some(id);
        out.push(Action::Lookup { id, url, timeout_ms });
    }

    /// Whether the event's id is the playback waited for (then no longer).
    pub(crate) fn played(&mut self, id: u64) -> bool {
        take_if(&mut self.play, id)
    }

    pub(crate) fn fired(&mut self, id: u64) -> bool {
        take_if(&mut self.timer, id)
    }

    fn answered(&mut self, id: u64) -> bool {
        take_if(&mut self.lookup, id)
    }

    /// Forget everything (the call is gone).
    pub(crate) fn forget(&mut self) {
        self.play = None;
        self.timer = None;
        self.lookup = None;
    }
}

fn take_if(slot: &mut Option<u64>, id: u64) -> bool {
    if *slot == Some(id) {
        *slot = None;
        true
    } else {
        false
    }
}

#[derive(Debug)]
enum Then {
    Go(NodeId, Outcome),
    Finish(Action, Outcome),
    Record,
    Transfer(flow::TransferTarget),
}

#[derive(Debug)]
enum Phase {
    /// A non-interruptible playback; keys are type-ahead.
    Playing(Then),
    /// The interruptible prompt of a menu, collect or callback offer.
    Prompt,
    /// Waiting for a key; the timer runs.
    Input,
    /// Waiting for a lookup answer; keys are type-ahead.
    LookingUp,
    /// The voice layer records a message.
    Recording,
    /// The voice layer transfers the call and reports how it went.
    Transferring,
    /// Over: queued, transferred, hung up, dropped or aborted.
    Finished,
}

/// The result of one key or time-out in an input node.
enum Step {
    Done(NodeId, Outcome),
    More,
    Retry(Failure),
}

#[derive(Debug)]
struct Current {
    id: NodeId,
    kind: NodeKind,
    entered_ms: u64,
    timeouts: u32,
    invalid: u32,
    failures: u32,
    entry: String,
}

impl Current {
    fn new(id: NodeId, kind: NodeKind, now: u64) -> Current {
        Current { id, kind, entered_ms: now, timeouts: 0, invalid: 0, failures: 0, entry: String::new() }
    }
}

/// One call going through a flow.
#[derive(Debug)]
pub struct Session {
    flow: Arc<Flow>,
    calendar: Option<Calendar>,
    attributes: BTreeMap<String, String>,
    language: Lang,
    result: Option<Value>,
    typeahead: VecDeque<char>,
    waits: Waits,
    phase: Phase,
    current: Option<Current>,
    visits: Vec<Visit>,
    incidents: Vec<Incident>,
    now: u64,
}

impl Session {
    /// Start a call in the flow's start node. The flow's calendar, else the
    /// context's, decides `hours` nodes; with neither the line is open.
    pub fn start(flow: Arc<Flow>, ctx: Context, now_ms: u64) -> (Session, Vec<Action>) {
        let language = ctx.language.unwrap_or(flow.language);
        let mut attributes = ctx.attributes;
        attributes.insert("language".into(), language.code().into());
        let start = flow.start.clone();
        let mut s = Session {
            calendar: flow.calendar.clone().or(ctx.calendar),
            flow,
            attributes,
            language,
            result: None,
            typeahead: VecDeque::new(),
            waits: Waits::default(),
            phase: Phase::Finished,
            current: None,
            visits: Vec::new(),
            incidents: Vec::new(),
            now: now_ms,
        };
        let mut out = Vec::new();
        s.run(Some(start), &mut out);
        (s, out)
    }

    /// Handle one event at `now_ms`; returns what to do, in order.
    pub fn handle(&mut self, now_ms: u64, event: IvrEvent) -> Vec<Action> {
        let mut out = Vec::new();
        if matches!(self.phase, Phase::Finished) {
            return out;
        }
        self.now = self.now.max(now_ms);
        let next = match event {
            IvrEvent::CallerHungUp => {
                self.waits.forget();
                self.leave(Outcome::Dropped);
                self.phase = Phase::Finished;
                None
            }
            IvrEvent::Digit(d) if flow::is_dtmf(d) => self.on_digit(d, &mut out),
            IvrEvent::Digit(_) => None,
            IvrEvent::PlaybackDone { id } => {
                if !self.waits.played(id) {
                    return out;
                }
                match std::mem::replace(&mut self.phase, Phase::Input) {
                    Phase::Playing(then) => self.then(then, &mut out),
                    Phase::Prompt => {
                        self.waits.start_timer(self.timeout_ms(), &mut out);
                        None
                    }
                    other => {
                        self.phase = other;
                        None
                    }
                }
            }
            IvrEvent::Timeout { id } => {
                if !self.waits.fired(id) {
                    return out;
                }
                match self.phase {
                    Phase::Input => {
                        let step = self.on_timeout();
                        self.after_step(step, &mut out)
                    }
                    Phase::LookingUp => {
                        self.waits.lookup = None;
                        self.lookup_failed()
                    }
                    _ => None,
                }
            }
            IvrEvent::LookupDone { id, result } => {
                if !self.waits.answered(id) || !matches!(self.phase, Phase::LookingUp) {
                    return out;
                }
                self.waits.cancel_timer(&mut out);
                self.on_lookup(result, &mut out)
            }
            IvrEvent::VoicemailDone => {
                if !matches!(self.phase, Phase::Recording) {
                    return out;
                }
                let next = match self.current_node() {
                    Some(Node::Voicemail { next, .. }) => next.clone(),
                    _ => None,
                };
                match next {
                    Some(n) => {
                        self.leave(Outcome::Recorded);
                        Some(n)
                    }
                    None => self.then(Then::Finish(Action::Hangup, Outcome::Recorded), &mut out),
                }
            }
            IvrEvent::Transferred => {
                if !matches!(self.phase, Phase::Transferring) {
                    return out;
                }
                self.leave(Outcome::Transferred);
                self.phase = Phase::Finished;
                None
            }
            IvrEvent::TransferFailed { reason } => {
                if !matches!(self.phase, Phase::Transferring) {
                    return out;
                }
                self.incident(format!("transfer failed: {reason}"));
                match self.current_node() {
                    Some(Node::Transfer { on_fail: Some(next), .. }) => {
                        let next = next.clone();
                        self.leave(Outcome::TransferFailed);
                        Some(next)
                    }
                    _ => {
                        let sorry = [Prompt::clip("transfer-failed"), Prompt::clip("goodbye")];
                        self.play_then(&sorry, Then::Finish(Action::Hangup, Outcome::TransferFailed), &mut out)
                    }
                }
            }
        };
        self.run(next, &mut out);
        out
    }

    /// The contact attributes so far (always including `language`).
    pub fn attributes(&self) -> &BTreeMap<String, String> {
        &self.attributes
    }

    /// The language prompts are played in now.
    pub fn language(&self) -> Lang {
        self.language
    }

    /// The nodes passed through and left, in order.
    pub fn visits(&self) -> &[Visit] {
        &self.visits
    }

    /// Run-time problems met so far.
    pub fn incidents(&self) -> &[Incident] {
        &self.incidents
    }

    /// Whether the call has left the IVR (no event does anything any more).
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Finished)
    }

    /// The node the call is in, if not finished.
    pub fn current(&self) -> Option<&NodeId> {
        self.current.as_ref().map(|c| &c.id)
    }

    /// The flow.
    pub fn flow(&self) -> &Arc<Flow> {
        &self.flow
    }

    /// The answer of the last successful lookup.
    pub fn lookup_result(&self) -> Option<&Value> {
        self.result.as_ref()
    }

    // ---- moving between nodes ----

    fn run(&mut self, mut next: Option<NodeId>, out: &mut Vec<Action>) {
        let mut steps = 0;
        while let Some(id) = next.take() {
            steps += 1;
            let limit = if steps >= MAX_STEPS_PER_EVENT {
                Some(format!("{MAX_STEPS_PER_EVENT} nodes on one event without waiting for the caller"))
            } else if self.visits.len() + 1 >= MAX_VISITS {
                Some(format!("{MAX_VISITS} nodes in one call"))
            } else {
                None
            };
            if let Some(message) = limit {
                // Record the abort on the node the call was about to enter,
                // so statistics show where flows spin.
                if let Some(node) = self.flow.nodes.get(&id) {
                    self.current = Some(Current::new(id, node.kind(), self.now));
                }
                self.abort(message, out);
                return;
            }
            next = self.enter(id, out);
        }
    }

    fn abort(&mut self, message: String, out: &mut Vec<Action>) {
        self.incident(message);
        self.waits.stop_playback(out);
        self.waits.cancel_timer(out);
        self.waits.forget();
        self.leave(Outcome::Aborted);
        self.phase = Phase::Finished;
        out.push(Action::Hangup);
    }

    fn incident(&mut self, message: String) {
        let node = self.current.as_ref().map(|c| c.id.clone());
        self.incidents.push(Incident { at_ms: self.now, node, message });
    }

    fn leave(&mut self, outcome: Outcome) {
        if let Some(c) = self.current.take() {
            self.visits.push(Visit {
                node: c.id,
                kind: c.kind,
                entered_ms: c.entered_ms,
                left_ms: self.now,
                outcome,
                timeouts: c.timeouts,
                invalid: c.invalid,
            });
        }
    }

    fn current_node(&self) -> Option<&Node> {
        self.current.as_ref().and_then(|c| self.flow.nodes.get(&c.id))
    }

    fn vars(&self) -> Vars<'_> {
        Vars { attributes: &self.attributes, result: self.result.as_ref() }
    }

    fn render(&mut self, prompts: &[Prompt]) -> Vec<Sound> {
        let mut problems = Vec::new();
        let sounds = flow::render(prompts, self.language, &self.vars(), &mut problems);
        for p in problems {
            self.incident(p);
        }
        sounds
    }

    /// Enter a node; returns the next node when this one does not wait.
    fn enter(&mut self, id: NodeId, out: &mut Vec<Action>) -> Option<NodeId> {
        let flow = Arc::clone(&self.flow);
        let Some(node) = flow.nodes.get(&id) else {
            self.abort(format!("node `{id}` does not exist"), out);
            return None;
        };
        self.current = Some(Current::new(id, node.kind(), self.now));
        match node {
            Node::Play { prompts, next } => self.play_then(prompts, Then::Go(next.clone(), Outcome::Next), out),
            Node::Menu { .. } | Node::Collect { .. } | Node::CallbackOffer { .. } => self.present(&[], out),
            Node::Hours { open, closed } => {
                let is_open = self.calendar.as_ref().is_none_or(|c| c.is_open(self.now));
                self.leave(if is_open { Outcome::Open } else { Outcome::Closed });
                Some(if is_open { open.clone() } else { closed.clone() })
            }
            Node::Set { attributes, next } => {
                for (k, tpl) in attributes {
                    self.set_attribute(k, tpl);
                }
                self.leave(Outcome::Next);
                Some(next.clone())
            }
            Node::Lookup { url, query, timeout_ms, .. } => {
                let mut full = url.clone();
                for (i, (k, tpl)) in query.iter().enumerate() {
                    let sep = if i > 0 || url.contains('?') { '&' } else { '?' };
                    let v = template::render(tpl, &self.vars());
                    full.push(sep);
                    full.push_str(&template::percent_encode(k));
                    full.push('=');
                    full.push_str(&template::percent_encode(&v));
                }
                self.waits.lookup(full, *timeout_ms, out);
                self.waits.start_timer(timeout_ms.saturating_add(LOOKUP_GRACE_MS), out);
                self.phase = Phase::LookingUp;
                None
            }
            Node::Queue { queue, priority, callback, prompts } => {
                let priority = priority
                    .or_else(|| self.attributes.get("priority").and_then(|p| p.trim().parse().ok()))
                    .unwrap_or(0);
                let action = Action::Queue {
                    queue: *queue,
                    priority,
                    callback: *callback,
                    language: self.language,
                    attributes: self.attributes.clone(),
                };
                self.play_then(prompts, Then::Finish(action, Outcome::Queued), out)
            }
            Node::Voicemail { prompt, .. } => self.play_then(prompt, Then::Record, out),
            Node::Transfer { to, prompts, .. } => self.play_then(prompts, Then::Transfer(to.clone()), out),
            Node::Hangup { prompts } => self.play_then(prompts, Then::Finish(Action::Hangup, Outcome::Ended), out),
        }
    }

    fn set_attribute(&mut self, key: &str, tpl: &str) {
        let value = template::render(tpl, &self.vars());
        if key == "language" {
            match Lang::parse(&value) {
                Some(lang) => {
                    self.language = lang;
                    self.attributes.insert(key.into(), lang.code().into());
                }
                None => self.incident(format!("language {value:?} is not zh or en; unchanged")),
            }
        } else {
            self.attributes.insert(key.into(), value);
        }
    }

    fn play_then(&mut self, prompts: &[Prompt], then: Then, out: &mut Vec<Action>) -> Option<NodeId> {
        let sounds = self.render(prompts);
        if self.waits.play(sounds, false, out) {
            self.phase = Phase::Playing(then);
            None
        } else {
            self.then(then, out)
        }
    }

    fn then(&mut self, then: Then, out: &mut Vec<Action>) -> Option<NodeId> {
        match then {
            Then::Go(next, outcome) => {
                self.leave(outcome);
                Some(next)
            }
            Then::Finish(action, outcome) => {
                self.leave(outcome);
                self.phase = Phase::Finished;
                out.push(action);
                None
            }
            Then::Record => {
                if let Some(Node::Voicemail { max_seconds, queue, .. }) = self.current_node() {
                    out.push(Action::Voicemail { max_seconds: *max_seconds, queue: *queue });
                }
                self.phase = Phase::Recording;
                None
            }
            Then::Transfer(to) => {
                self.phase = Phase::Transferring;
                out.push(Action::Transfer { to });
                None
            }
        }
    }

    // ---- lookups ----

    fn on_lookup(&mut self, result: Result<Value, String>, out: &mut Vec<Action>) -> Option<NodeId> {
        let value = match result {
            Ok(v @ Value::Object(_)) => v,
            Ok(other) => {
                let what = match other {
                    Value::Array(_) => "an array",
                    Value::Null => "null",
                    _ => "a scalar",
                };
                self.incident(format!("the lookup answered {what}, not a JSON object"));
                return self.lookup_failed();
            }
            Err(_) => return self.lookup_failed(),
        };
        self.result = Some(value);
        let flow = Arc::clone(&self.flow);
        let Some(Node::Lookup { store, say, next, .. }) = self.current.as_ref().and_then(|c| flow.nodes.get(&c.id))
        else {
            return None;
        };
        for (k, tpl) in store {
            self.set_attribute(k, tpl);
        }
        self.play_then(say, Then::Go(next.clone(), Outcome::Found), out)
    }

    fn lookup_failed(&mut self) -> Option<NodeId> {
        let next = match self.current_node() {
            Some(Node::Lookup { on_failure, .. }) => on_failure.clone(),
            _ => return None,
        };
        self.leave(Outcome::LookupFailed);
        Some(next)
    }

    // ---- menus, collects and callback offers ----

    fn timeout_ms(&self) -> u64 {
        match self.current_node() {
            Some(Node::Menu { timeout_ms, .. })
            | Some(Node::Collect { timeout_ms, .. })
            | Some(Node::CallbackOffer { timeout_ms, .. }) => *timeout_ms,
            _ => 5_000,
        }
    }

    fn on_digit(&mut self, d: char, out: &mut Vec<Action>) -> Option<NodeId> {
        match self.phase {
            Phase::Playing(_) | Phase::LookingUp => {
                if self.typeahead.len() < TYPE_AHEAD {
                    self.typeahead.push_back(d);
                }
                None
            }
            Phase::Prompt => {
                self.waits.stop_playback(out);
                self.phase = Phase::Input;
                let step = self.on_key(d);
                self.after_step(step, out)
            }
            Phase::Input => {
                let step = self.on_key(d);
                self.after_step(step, out)
            }
            Phase::Recording | Phase::Transferring | Phase::Finished => None,
        }
    }

    /// Play the prompt (after `lead`), unless type-ahead answers it.
    fn present(&mut self, lead: &[Prompt], out: &mut Vec<Action>) -> Option<NodeId> {
        self.phase = Phase::Input;
        while let Some(d) = self.typeahead.pop_front() {
            match self.on_key(d) {
                Step::More => continue,
                step => return self.after_step(step, out),
            }
        }
        if self.current.as_ref().is_some_and(|c| !c.entry.is_empty()) {
            return self.after_step(Step::More, out);
        }
        let prompt = match self.current_node() {
            Some(Node::Menu { prompt, .. } | Node::Collect { prompt, .. } | Node::CallbackOffer { prompt, .. }) => {
                prompt.clone()
            }
            _ => Vec::new(),
        };
        let mut all = lead.to_vec();
        all.extend(prompt);
        let sounds = self.render(&all);
        if self.waits.play(sounds, true, out) {
            self.phase = Phase::Prompt;
        } else {
            self.waits.start_timer(self.timeout_ms(), out);
        }
        None
    }

    fn after_step(&mut self, step: Step, out: &mut Vec<Action>) -> Option<NodeId> {
        match step {
            Step::Done(next, outcome) => {
                self.waits.cancel_timer(out);
                self.leave(outcome);
                Some(next)
            }
            Step::More => {
                self.phase = Phase::Input;
                self.waits.start_timer(self.timeout_ms(), out);
                None
            }
            Step::Retry(failure) => {
                self.waits.cancel_timer(out);
                self.retry(failure, out)
            }
        }
    }

    fn retry(&mut self, failure: Failure, out: &mut Vec<Action>) -> Option<NodeId> {
        let flow = Arc::clone(&self.flow);
        let cur = self.current.as_mut()?;
        match failure {
            Failure::Timeout => cur.timeouts += 1,
            Failure::Invalid => cur.invalid += 1,
        }
        cur.failures += 1;
        cur.entry.clear();
        let failures = cur.failures;
        if failure == Failure::Invalid {
            // Keys typed after a mistake were typed blind: drop them.
            self.typeahead.clear();
        }
        let (retries, invalid_prompt, timeout_prompt, on_failure) = match flow.nodes.get(&cur.id) {
            Some(Node::Menu { retries, invalid_prompt, timeout_prompt, on_failure, .. })
            | Some(Node::Collect { retries, invalid_prompt, timeout_prompt, on_failure, .. }) => {
                (*retries, invalid_prompt, timeout_prompt, on_failure)
            }
            _ => return None,
        };
        if failures > retries {
            self.leave(Outcome::Failed(failure));
            return Some(on_failure.clone());
        }
        let lead = match failure {
            Failure::Timeout => timeout_prompt,
            Failure::Invalid => invalid_prompt,
        };
        self.present(lead.as_deref().unwrap_or_default(), out)
    }

    fn on_key(&mut self, d: char) -> Step {
        let flow = Arc::clone(&self.flow);
        let Some(cur) = self.current.as_mut() else { return Step::More };
        match flow.nodes.get(&cur.id) {
            Some(Node::Menu { options, .. }) => match options.get(d.encode_utf8(&mut [0; 4]) as &str) {
                Some(next) => Step::Done(next.clone(), Outcome::Chose(d)),
                None => Step::Retry(Failure::Invalid),
            },
            Some(Node::Collect { attribute, min_digits, max_digits, terminator, next, .. }) => {
                if d == *terminator {
                    if !cur.entry.is_empty() && cur.entry.len() >= *min_digits as usize {
                        let value = std::mem::take(&mut cur.entry);
                        self.attributes.insert(attribute.clone(), value);
                        Step::Done(next.clone(), Outcome::Collected)
                    } else {
                        Step::Retry(Failure::Invalid)
                    }
                } else if d.is_ascii_digit() {
                    cur.entry.push(d);
                    if cur.entry.len() >= *max_digits as usize {
                        let value = std::mem::take(&mut cur.entry);
                        self.attributes.insert(attribute.clone(), value);
                        Step::Done(next.clone(), Outcome::Collected)
                    } else {
                        Step::More
                    }
                } else {
                    Step::Retry(Failure::Invalid)
                }
            }
            Some(Node::CallbackOffer { accept_digit, accepted, declined, .. }) => {
                if d == *accept_digit {
                    Step::Done(accepted.clone(), Outcome::Accepted)
                } else {
                    Step::Done(declined.clone(), Outcome::Declined)
                }
            }
            _ => Step::More,
        }
    }

    fn on_timeout(&mut self) -> Step {
        let flow = Arc::clone(&self.flow);
        let Some(cur) = self.current.as_mut() else { return Step::More };
        match flow.nodes.get(&cur.id) {
            Some(Node::Collect { attribute, min_digits, next, .. })
                if !cur.entry.is_empty() && cur.entry.len() >= *min_digits as usize =>
            {
                let value = std::mem::take(&mut cur.entry);
                self.attributes.insert(attribute.clone(), value);
                Step::Done(next.clone(), Outcome::Collected)
            }
            Some(Node::CallbackOffer { declined, .. }) => {
                cur.timeouts += 1;
                Step::Done(declined.clone(), Outcome::Declined)
            }
            _ => Step::Retry(Failure::Timeout),
        }
    }
}
