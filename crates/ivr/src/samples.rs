//! The demo company's bilingual hotline and survey.

use crate::calendar::Calendar;
use crate::flow::{Flow, Node, NodeId, Prompt, Say};
use crate::prompts::Lang;
use crate::survey::{Question, SurveySpec};
use std::collections::BTreeMap;

/// The demo's queues: 1 Sales, 2 Support, 3 Billing.
pub const DEMO_QUEUES: [u32; 3] = [1, 2, 3];

/// The URL the order-status lookup calls in the sample flow.
pub const SAMPLE_ORDER_URL: &str = "http://127.0.0.1:8080/api/ivr/order-status";

fn clips(names: &[&str]) -> Vec<Prompt> {
    names.iter().map(|n| Prompt::clip(n)).collect()
}

/// Both languages, Chinese first, before the caller has chosen.
fn both(name: &str) -> Vec<Prompt> {
    vec![Prompt::clip_in(name, Lang::Zh), Prompt::clip_in(name, Lang::En)]
}

fn id(s: &str) -> NodeId {
    NodeId::new(s)
}

fn set(pairs: &[(&str, &str)], next: &str) -> Node {
    Node::Set { attributes: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), next: id(next) }
}

fn queue(q: u32, callback: bool, prompts: Vec<Prompt>) -> Node {
    Node::Queue { queue: q, priority: None, callback, prompts }
}

fn menu(prompt: Vec<Prompt>, options: &[(&str, &str)], on_failure: &str) -> Node {
    Node::Menu {
        prompt,
        options: options.iter().map(|(k, v)| (k.to_string(), id(v))).collect(),
        timeout_ms: 5_000,
        retries: 2,
        invalid_prompt: Some(clips(&["invalid"])),
        timeout_prompt: Some(clips(&["timeout"])),
        on_failure: id(on_failure),
    }
}

impl Flow {
    /// The demo hotline: welcome → hours (closed: message, voicemail) →
    /// language menu (1 中文, 2 English) → main menu (1 sales, 2 support,
    /// 3 billing, 4 order status by account number, 9 callback, 0 repeat)
    /// → queues 1/2/3 with `problem_type` set.
    pub fn sample() -> Flow {
        let hold = || clips(&["transferring", "please-hold"]);
        let status_say = vec![
            Prompt::clip("order-status-is"),
            Prompt {
                say: Say::Clip { name: "status-{result.status}".into(), fallback: Some("status-unknown".into()) },
                lang: None,
                when: None,
            },
            Prompt { when: Some("{result.days}".into()), ..Prompt::clip("expected-in") },
            Prompt {
                say: Say::Number { value: "{result.days}".into(), unit: Some("day".into()) },
                lang: None,
                when: Some("{result.days}".into()),
            },
            Prompt { say: Say::Silence(500), lang: None, when: None },
        ];
        let lang_menu = vec![Prompt::clip_in("lang-menu-zh", Lang::Zh), Prompt::clip_in("lang-menu-en", Lang::En)];
        let nodes: BTreeMap<NodeId, Node> = [
            ("welcome", Node::Play { prompts: both("welcome"), next: id("hours") }),
            ("hours", Node::Hours { open: id("language"), closed: id("closed") }),
            ("closed", Node::Play { prompts: both("closed"), next: id("voicemail") }),
            (
                "voicemail",
                Node::Voicemail {
                    prompt: both("voicemail-prompt"),
                    max_seconds: 120,
                    queue: Some(2),
                    next: Some(id("voicemail-thanks")),
                },
            ),
            ("voicemail-thanks", Node::Hangup { prompts: both("voicemail-thanks") }),
            (
                "language",
                Node::Menu {
                    prompt: lang_menu,
                    options: [("1".to_string(), id("set-zh")), ("2".to_string(), id("set-en"))].into(),
                    timeout_ms: 4_000,
                    retries: 1,
                    invalid_prompt: None,
                    timeout_prompt: None,
                    // Most callers of the demo company speak Chinese.
                    on_failure: id("set-zh"),
                },
            ),
            ("set-zh", set(&[("language", "zh")], "main")),
            ("set-en", set(&[("language", "en")], "main")),
            (
                "main",
                menu(
                    clips(&["main-menu"]),
                    &[
                        ("1", "sales"),
                        ("2", "support"),
                        ("3", "billing"),
                        ("4", "account"),
                        ("9", "callback"),
                        ("0", "main"),
                    ],
                    "operator",
                ),
            ),
            ("sales", set(&[("problem_type", "sales")], "queue-sales")),
            ("support", set(&[("problem_type", "support")], "queue-support")),
            ("billing", set(&[("problem_type", "billing")], "queue-billing")),
            ("operator", set(&[("problem_type", "ivr-no-choice")], "queue-support")),
            ("queue-sales", queue(1, false, hold())),
            ("queue-support", queue(2, false, hold())),
            ("queue-billing", queue(3, false, hold())),
            (
                "account",
                Node::Collect {
                    prompt: clips(&["enter-account"]),
                    attribute: "account".into(),
                    min_digits: 4,
                    max_digits: 12,
                    terminator: '#',
                    timeout_ms: 6_000,
                    retries: 2,
                    invalid_prompt: Some(clips(&["invalid"])),
                    timeout_prompt: Some(clips(&["timeout"])),
                    next: id("order-status"),
                    on_failure: id("main"),
                },
            ),
            (
                "order-status",
                Node::Lookup {
                    url: SAMPLE_ORDER_URL.into(),
                    query: [("account".to_string(), "{account}".to_string())].into(),
                    store: [("order_status".to_string(), "{result.status}".to_string())].into(),
                    say: status_say,
                    timeout_ms: 3_000,
                    next: id("main"),
                    on_failure: id("lookup-failed"),
                },
            ),
            ("lookup-failed", Node::Play { prompts: clips(&["lookup-failed"]), next: id("main") }),
            (
                "callback",
                Node::CallbackOffer {
                    prompt: clips(&["callback-offer"]),
                    accept_digit: '1',
                    accepted: id("callback-set"),
                    declined: id("main"),
                    timeout_ms: 5_000,
                },
            ),
            ("callback-set", set(&[("problem_type", "callback")], "queue-callback")),
            ("queue-callback", queue(2, true, clips(&["callback-confirmed", "goodbye"]))),
        ]
        .into_iter()
        .map(|(k, v)| (id(k), v))
        .collect();
        Flow {
            name: "hotline".into(),
            version: 1,
            start: id("welcome"),
            language: Lang::Zh,
            calendar: Some(Calendar::default()),
            nodes,
        }
    }
}

impl SurveySpec {
    /// The demo survey: agent satisfaction 1–5, problem solved 1/2.
    pub fn sample() -> SurveySpec {
        SurveySpec {
            enabled: true,
            intro: clips(&["survey-intro"]),
            questions: vec![
                Question { id: "agent".into(), prompt: clips(&["survey-q1"]), min: 1, max: 5 },
                Question { id: "solved".into(), prompt: clips(&["survey-q2"]), min: 1, max: 2 },
            ],
            thanks: clips(&["survey-thanks"]),
            invalid_prompt: clips(&["invalid"]),
            timeout_prompt: clips(&["timeout"]),
            timeout_ms: 6_000,
            retries: 1,
            cooldown_days: 30,
        }
    }
}
