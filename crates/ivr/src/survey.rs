//! The post-call survey: a few one-key questions after the agent hangs up.
//!
//! It speaks the same [`Action`] / [`IvrEvent`] language as the IVR
//! [`crate::Session`]; each question's result is reported as soon as it is
//! known with [`Action::Answer`], and the survey ends with
//! [`Action::Hangup`].

use crate::flow::{self, Problem, ProblemKind, Prompt};
use crate::prompts::Lang;
use crate::session::{Action, IvrEvent, Waits};
use crate::template::Vars;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

fn default_min() -> u8 {
    1
}
fn default_max() -> u8 {
    5
}
fn default_timeout_ms() -> u64 {
    6_000
}
fn default_retries() -> u32 {
    1
}
fn default_cooldown_days() -> u32 {
    30
}

/// One question: a key from `min` to `max`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable id for reports (`agent`, `solved`).
    pub id: String,
    /// The question (interruptible).
    pub prompt: Vec<Prompt>,
    /// Lowest valid key.
    #[serde(default = "default_min")]
    pub min: u8,
    /// Highest valid key.
    #[serde(default = "default_max")]
    pub max: u8,
}

impl Question {
    /// What the question says in `lang`, for reports: the catalog text of
    /// its clips, in order (numbers, digits and pauses say nothing here);
    /// `None` when none of its clips is in the catalog.
    pub fn text(&self, lang: Lang) -> Option<String> {
        let parts: Vec<&str> = self
            .prompt
            .iter()
            .filter(|p| p.when.is_none())
            .filter_map(|p| match &p.say {
                flow::Say::Clip { name, .. } => crate::prompts::lookup(name),
                _ => None,
            })
            .map(|t| t.text(lang))
            .collect();
        // Chinese sentences are not separated by blanks.
        let sep = if lang == Lang::Zh { "" } else { " " };
        (!parts.is_empty()).then(|| parts.join(sep))
    }
}

/// The survey as the administrator configures it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveySpec {
    /// Whether callers are offered the survey at all.
    #[serde(default)]
    pub enabled: bool,
    /// Played first (not interruptible; keys are kept for question 1).
    #[serde(default)]
    pub intro: Vec<Prompt>,
    /// The questions, in order.
    pub questions: Vec<Question>,
    /// Played at the end, before hanging up.
    #[serde(default)]
    pub thanks: Vec<Prompt>,
    /// Played before re-asking after a key out of range.
    #[serde(default)]
    pub invalid_prompt: Vec<Prompt>,
    /// Played before re-asking after silence.
    #[serde(default)]
    pub timeout_prompt: Vec<Prompt>,
    /// Wait for a key after each question.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Repeats of a question before skipping it.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// At most one survey per caller in this many days.
    #[serde(default = "default_cooldown_days")]
    pub cooldown_days: u32,
}

impl SurveySpec {
    /// Every problem at once.
    pub fn validate(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.questions.is_empty() {
            out.push(Problem { node: None, kind: ProblemKind::NoQuestions });
        }
        if self.timeout_ms == 0 {
            out.push(Problem { node: None, kind: ProblemKind::Zero { field: "timeout_ms".into() } });
        }
        for (field, prompts) in [
            ("intro", &self.intro),
            ("thanks", &self.thanks),
            ("invalid_prompt", &self.invalid_prompt),
            ("timeout_prompt", &self.timeout_prompt),
        ] {
            flow::check_prompts(prompts, &None, field, &mut out);
        }
        let mut ids = BTreeSet::new();
        for q in &self.questions {
            let at = Some(q.id.clone());
            if !ids.insert(q.id.as_str()) {
                out.push(Problem { node: at.clone(), kind: ProblemKind::DuplicateQuestion });
            }
            if q.min > q.max || q.max > 9 {
                out.push(Problem { node: at.clone(), kind: ProblemKind::ScoreRange { min: q.min, max: q.max } });
            }
            flow::check_prompts(&q.prompt, &at, "prompt", &mut out);
        }
        out
    }
}

/// Whether a caller last surveyed at `last_survey_ms` may be surveyed now:
/// at most one survey per `cooldown_days`.
pub fn due(last_survey_ms: Option<u64>, now_ms: u64, cooldown_days: u32) -> bool {
    match last_survey_ms {
        None => true,
        Some(last) => now_ms.saturating_sub(last) >= u64::from(cooldown_days) * 86_400_000,
    }
}

/// The result of one question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyAnswer {
    /// Question id.
    pub question: String,
    /// The key pressed, or none after the retries.
    pub score: Option<u8>,
    /// When the result was known.
    pub at_ms: u64,
}

#[derive(Debug, PartialEq, Eq)]
enum Phase {
    Intro,
    Prompt,
    Input,
    Thanks,
    Finished,
}

/// One caller answering the survey.
#[derive(Debug)]
pub struct SurveySession {
    spec: Arc<SurveySpec>,
    lang: Lang,
    phase: Phase,
    question: usize,
    failures: u32,
    typeahead: VecDeque<char>,
    waits: Waits,
    answers: Vec<SurveyAnswer>,
    now: u64,
}

impl SurveySession {
    /// Start the survey in the caller's language. A disabled survey (or one
    /// without questions) hangs up at once.
    pub fn start(spec: Arc<SurveySpec>, lang: Lang, now_ms: u64) -> (SurveySession, Vec<Action>) {
        let mut s = SurveySession {
            spec,
            lang,
            phase: Phase::Intro,
            question: 0,
            failures: 0,
            typeahead: VecDeque::new(),
            waits: Waits::default(),
            answers: Vec::new(),
            now: now_ms,
        };
        let mut out = Vec::new();
        if !s.spec.enabled || s.spec.questions.is_empty() {
            s.phase = Phase::Finished;
            out.push(Action::Hangup);
            return (s, out);
        }
        let intro = s.render(&s.spec.intro.clone());
        if !s.waits.play(intro, false, &mut out) {
            s.ask(&[], &mut out);
        }
        (s, out)
    }

    /// Handle one event; returns what to do.
    pub fn handle(&mut self, now_ms: u64, event: IvrEvent) -> Vec<Action> {
        let mut out = Vec::new();
        if self.phase == Phase::Finished {
            return out;
        }
        self.now = self.now.max(now_ms);
        match event {
            IvrEvent::CallerHungUp => {
                self.waits.forget();
                self.phase = Phase::Finished;
            }
            IvrEvent::PlaybackDone { id } if self.waits.played(id) => match self.phase {
                Phase::Intro => self.ask(&[], &mut out),
                Phase::Prompt => {
                    self.phase = Phase::Input;
                    self.waits.start_timer(self.spec.timeout_ms, &mut out);
                }
                Phase::Thanks => self.finish(&mut out),
                Phase::Input | Phase::Finished => {}
            },
            IvrEvent::Timeout { id } if self.waits.fired(id) && self.phase == Phase::Input => {
                self.retry(false, &mut out);
            }
            IvrEvent::Digit(d) if flow::is_dtmf(d) => match self.phase {
                Phase::Intro => {
                    if self.typeahead.len() < crate::session::TYPE_AHEAD {
                        self.typeahead.push_back(d);
                    }
                }
                Phase::Prompt | Phase::Input => {
                    self.waits.stop_playback(&mut out);
                    self.waits.cancel_timer(&mut out);
                    self.key(d, &mut out);
                }
                Phase::Thanks | Phase::Finished => {}
            },
            _ => {}
        }
        out
    }

    /// Results so far.
    pub fn answers(&self) -> &[SurveyAnswer] {
        &self.answers
    }

    /// Whether the survey is over.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    fn render(&mut self, prompts: &[Prompt]) -> Vec<crate::Sound> {
        let attributes = BTreeMap::new();
        let mut problems = Vec::new();
        // Problems are the administrator's (validated on save): skip quietly.
        flow::render(prompts, self.lang, &Vars { attributes: &attributes, result: None }, &mut problems)
    }

    /// Ask the current question (after `lead`), or finish when none is left.
    fn ask(&mut self, lead: &[Prompt], out: &mut Vec<Action>) {
        let spec = Arc::clone(&self.spec);
        let Some(q) = spec.questions.get(self.question) else {
            let thanks = self.render(&spec.thanks);
            self.phase = Phase::Thanks;
            if !self.waits.play(thanks, false, out) {
                self.finish(out);
            }
            return;
        };
        if let Some(d) = self.typeahead.pop_front() {
            self.key(d, out);
            return;
        }
        let mut all = lead.to_vec();
        all.extend(q.prompt.iter().cloned());
        let sounds = self.render(&all);
        if self.waits.play(sounds, true, out) {
            self.phase = Phase::Prompt;
        } else {
            self.phase = Phase::Input;
            self.waits.start_timer(spec.timeout_ms, out);
        }
    }

    fn key(&mut self, d: char, out: &mut Vec<Action>) {
        let spec = Arc::clone(&self.spec);
        let Some(q) = spec.questions.get(self.question) else { return };
        match d.to_digit(10).map(|v| v as u8) {
            Some(v) if (q.min..=q.max).contains(&v) => self.record(Some(v), out),
            _ => {
                self.typeahead.clear();
                self.retry(true, out);
            }
        }
    }

    fn retry(&mut self, invalid: bool, out: &mut Vec<Action>) {
        self.failures += 1;
        if self.failures > self.spec.retries {
            self.record(None, out);
            return;
        }
        let spec = Arc::clone(&self.spec);
        self.ask(if invalid { &spec.invalid_prompt } else { &spec.timeout_prompt }, out);
    }

    fn record(&mut self, score: Option<u8>, out: &mut Vec<Action>) {
        let Some(q) = self.spec.questions.get(self.question) else { return };
        let question = q.id.clone();
        self.answers.push(SurveyAnswer { question: question.clone(), score, at_ms: self.now });
        out.push(Action::Answer { question, score });
        self.question += 1;
        self.failures = 0;
        self.ask(&[], out);
    }

    fn finish(&mut self, out: &mut Vec<Action>) {
        self.phase = Phase::Finished;
        out.push(Action::Hangup);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cooldown() {
        let day = 86_400_000;
        assert!(due(None, 0, 30));
        assert!(!due(Some(10 * day), 39 * day, 30));
        assert!(due(Some(10 * day), 40 * day, 30));
        assert!(due(Some(5), 5, 0));
        assert!(!due(Some(100 * day), day, 30), "a last survey in the future is not due");
    }

    #[test]
    fn question_text_from_its_clips() {
        let spec = SurveySpec::sample();
        let q = &spec.questions[1];
        assert_eq!(q.text(Lang::En).as_deref(), Some("Was your problem solved? Press 1 for yes, or 2 for no."));
        assert_eq!(q.text(Lang::Zh).as_deref(), Some("您的问题解决了吗？已解决请按一，未解决请按二。"));
        let two = Question { prompt: vec![Prompt::clip("survey-q2"), Prompt::clip("goodbye")], ..q.clone() };
        assert!(two.text(Lang::En).is_some_and(|t| t.ends_with("no. Thank you for calling. Goodbye.")));
        let custom = Question { prompt: vec![Prompt::clip("my-own-recording")], ..q.clone() };
        assert_eq!(custom.text(Lang::En), None, "a clip outside the catalog has no text");
    }
}
