//! What an administrator configures for telephony, stored as documents and
//! applied without a restart: phones (devices) and the agents they belong
//! to, dialled numbers and the IVR flow each one runs, the queue experience,
//! recording and the post-call survey; and the IVR flows themselves, every
//! saved version kept (calls in progress keep the version they started with).

use ivr::{Flow, SurveySpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use store::{DocumentStore, Store, StoreError};
use web::telephony::Problem;

const SETTINGS_DOC: &str = "voice-settings";
const FLOWS_DOC: &str = "ivr-flows";

/// An agent's SIP phone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// SIP user name (the phone registers as `sip:<user>@<our address>`).
    pub user: String,
    /// Digest password.
    pub password: String,
    /// The agent whose offers ring this phone.
    pub agent: u32,
}

/// A dialled number and the flow it runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Number {
    /// The number as it arrives in the request URI (`100`, `+8621…`).
    pub number: String,
    /// Name of the IVR flow.
    pub flow: String,
}

/// Where outbound calls (callbacks) go: `sip:<number>@<address>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trunk {
    /// The carrier's or PBX's SIP address (`host:port`).
    pub address: String,
    /// The user part of our From (the number customers see), if any.
    #[serde(default)]
    pub caller_id: Option<String>,
    /// Give up on an unanswered callback after this many seconds.
    #[serde(default = "default_ring_s")]
    pub ring_timeout_s: u32,
}

fn default_ring_s() -> u32 {
    30
}

/// What callers hear while they wait.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueMedia {
    /// Seconds between announcements (0: none).
    pub announce_every_s: u32,
    /// Announce the caller's position.
    pub announce_position: bool,
    /// Announce the expected wait.
    pub announce_wait: bool,
    /// The key that turns the wait into a callback that keeps the place.
    pub callback_key: Option<char>,
}

impl Default for QueueMedia {
    fn default() -> Self {
        QueueMedia { announce_every_s: 30, announce_position: true, announce_wait: true, callback_key: Some('9') }
    }
}

/// Everything on the telephony settings page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceSettings {
    /// Agents' phones.
    #[serde(default)]
    pub devices: Vec<Device>,
    /// Dialled numbers.
    #[serde(default)]
    pub numbers: Vec<Number>,
    /// The queue experience.
    #[serde(default)]
    pub queue_media: QueueMedia,
    /// Record calls from answer to hang-up (caller and agent on two channels).
    #[serde(default = "yes")]
    pub record_calls: bool,
    /// The post-call survey.
    #[serde(default = "SurveySpec::sample")]
    pub survey: SurveySpec,
    /// Outbound calls (callbacks); none: callbacks of phone calls fail.
    #[serde(default)]
    pub trunk: Option<Trunk>,
    /// Calls at the same time beyond which new calls get 503 (protects the
    /// calls in progress when the machine is full).
    #[serde(default = "default_max_calls")]
    pub max_calls: u32,
}

fn default_max_calls() -> u32 {
    2000
}

fn yes() -> bool {
    true
}

impl Default for VoiceSettings {
    fn default() -> Self {
        VoiceSettings {
            devices: Vec::new(),
            numbers: vec![Number { number: "100".into(), flow: "main".into() }],
            queue_media: QueueMedia::default(),
            record_calls: true,
            survey: SurveySpec::sample(),
            trunk: None,
            max_calls: default_max_calls(),
        }
    }
}

impl VoiceSettings {
    /// Problems that make the settings unusable, all at once.
    pub fn problems(&self, flows: &Flows) -> Vec<Problem> {
        let mut p = Vec::new();
        let mut users = std::collections::HashSet::new();
        for (i, d) in self.devices.iter().enumerate() {
            if d.user.is_empty() || !d.user.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                p.push(Problem::at(
                    format!("devices[{i}].user"),
                    format!("device user {:?}: letters, digits, - _ . only", d.user),
                ));
            }
            if d.password.len() < 4 {
                p.push(Problem::at(
                    format!("devices[{i}].password"),
                    format!("device {}: password of at least 4 characters", d.user),
                ));
            }
            if !users.insert(&d.user) {
                p.push(Problem::at(format!("devices[{i}].user"), format!("device {}: listed twice", d.user)));
            }
        }
        let mut numbers = std::collections::HashSet::new();
        for (i, n) in self.numbers.iter().enumerate() {
            if n.number.is_empty() {
                p.push(Problem::at(format!("numbers[{i}].number"), "a number is empty"));
            }
            if !numbers.insert(&n.number) {
                p.push(Problem::at(format!("numbers[{i}].number"), format!("number {}: listed twice", n.number)));
            }
            if flows.current(&n.flow).is_none() {
                p.push(Problem::at(
                    format!("numbers[{i}].flow"),
                    format!("number {}: no flow named {:?}", n.number, n.flow),
                ));
            }
        }
        if let Some(k) = self.queue_media.callback_key
            && !"0123456789*#".contains(k)
        {
            p.push(Problem::at("queue_media.callback_key", format!("callback key {k:?}: one of 0-9 * #")));
        }
        for e in self.survey.validate() {
            let path = match &e.node {
                Some(q) => format!("survey.questions.{q}"),
                None => "survey".to_string(),
            };
            p.push(Problem { node: e.node.clone(), ..Problem::at(path, format!("survey: {e}")) });
        }
        if self.max_calls == 0 {
            p.push(Problem::at("max_calls", "max_calls: at least 1"));
        }
        if let Some(t) = &self.trunk {
            if format!("sip:x@{}", t.address).parse::<rsipstack::sip::Uri>().is_err() || t.address.is_empty() {
                p.push(Problem::at("trunk.address", format!("trunk address {:?}: host:port", t.address)));
            }
            if !(5..=120).contains(&t.ring_timeout_s) {
                p.push(Problem::at("trunk.ring_timeout_s", "trunk ring timeout: 5 to 120 seconds"));
            }
        }
        p
    }

    /// Load, or the defaults when never saved.
    pub async fn load(store: &Store) -> Result<VoiceSettings, StoreError> {
        match store.document(SETTINGS_DOC).await? {
            Some(v) => Ok(serde_json::from_value(v).unwrap_or_else(|e| {
                tracing::error!("stored voice settings unreadable, using defaults: {e}");
                VoiceSettings::default()
            })),
            None => Ok(VoiceSettings::default()),
        }
    }

    /// Store.
    pub async fn save(&self, store: &Store) -> Result<(), StoreError> {
        let v = serde_json::to_value(self).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        store.put_document(SETTINGS_DOC, &v).await
    }
}

/// Every version of every flow.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Flows {
    flows: BTreeMap<String, Vec<Arc<Flow>>>,
}

impl Flows {
    /// The sample hotline as flow `main`, version 1.
    pub fn sample() -> Flows {
        let mut f = Flows::default();
        let mut flow = Flow::sample();
        flow.version = 1;
        f.flows.insert("main".into(), vec![Arc::new(flow)]);
        f
    }

    /// The latest version of a flow.
    pub fn current(&self, name: &str) -> Option<Arc<Flow>> {
        self.flows.get(name).and_then(|v| v.last().cloned())
    }

    /// A given version.
    pub fn version(&self, name: &str, version: u32) -> Option<Arc<Flow>> {
        self.flows.get(name)?.iter().find(|f| f.version == version).cloned()
    }

    /// Names and latest versions.
    pub fn list(&self) -> Vec<(String, u32)> {
        self.flows.iter().filter_map(|(n, v)| Some((n.clone(), v.last()?.version))).collect()
    }

    /// Add a new version of `name`; returns its version number.
    pub fn push(&mut self, name: &str, mut flow: Flow) -> u32 {
        let versions = self.flows.entry(name.to_string()).or_default();
        let version = versions.last().map_or(1, |f| f.version + 1);
        flow.version = version;
        flow.name = name.to_string();
        versions.push(Arc::new(flow));
        version
    }

    /// Load, or the sample when never saved.
    pub async fn load(store: &Store) -> Result<Flows, StoreError> {
        match store.document(FLOWS_DOC).await? {
            Some(v) => Ok(serde_json::from_value(v).unwrap_or_else(|e| {
                tracing::error!("stored IVR flows unreadable, using the sample: {e}");
                Flows::sample()
            })),
            None => Ok(Flows::sample()),
        }
    }

    /// Store.
    pub async fn save(&self, store: &Store) -> Result<(), StoreError> {
        let v = serde_json::to_value(self).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        store.put_document(FLOWS_DOC, &v).await
    }
}

/// The demo's flows: the sample hotline, open around the clock (a demo
/// started at night should not only take voicemail), its self-service
/// lookup pointed at the demo's own order system at `base_url`.
pub fn demo_flows(base_url: &str) -> Flows {
    let mut flow = Flow::sample();
    let all_week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| serde_json::json!({"day": d, "open": "00:00", "close": "24:00"}))
        .collect::<Vec<_>>();
    flow.calendar = serde_json::from_value(serde_json::json!({"utc_offset_minutes": 480, "days": all_week})).ok();
    for node in flow.nodes.values_mut() {
        if let ivr::Node::Lookup { url, .. } = node {
            *url = format!("{base_url}/api/demo/order-status");
        }
    }
    let mut f = Flows::default();
    f.push("main", flow);
    f
}

/// The demo's telephony: the hotline on number 100 running the sample flow,
/// and phones for the two human agents (`agent1`, `agent2`, password
/// `switchboard`), the survey on.
pub fn demo_settings() -> VoiceSettings {
    let mut s = VoiceSettings {
        devices: vec![
            Device { user: "agent1".into(), password: "switchboard".into(), agent: 1 },
            Device { user: "agent2".into(), password: "switchboard".into(), agent: 2 },
        ],
        ..VoiceSettings::default()
    };
    s.survey.enabled = true;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_demo_are_valid() {
        let flows = Flows::sample();
        assert!(VoiceSettings::default().problems(&flows).is_empty());
        assert!(demo_settings().problems(&demo_flows("http://127.0.0.1:8080")).is_empty());
        let f = demo_flows("http://127.0.0.1:9");
        assert!(f.current("main").is_some_and(|m| m.calendar.is_some()));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut s = demo_settings();
        s.devices.push(Device { user: "agent1".into(), password: "x".into(), agent: 3 });
        s.devices.push(Device { user: "bad user".into(), password: "long enough".into(), agent: 4 });
        s.numbers.push(Number { number: "200".into(), flow: "nowhere".into() });
        s.queue_media.callback_key = Some('x');
        s.trunk = Some(Trunk { address: String::new(), caller_id: None, ring_timeout_s: 1 });
        s.max_calls = 0;
        let p = s.problems(&Flows::sample());
        for needle in [
            "listed twice",
            "at least 4",
            "letters, digits",
            "no flow named",
            "callback key",
            "trunk address",
            "ring timeout",
            "max_calls",
        ] {
            assert!(p.iter().any(|x| x.message.contains(needle)), "{needle} missing from {p:?}");
        }
        let paths: Vec<&str> = p.iter().map(|x| x.path.as_str()).collect();
        for path in ["devices[2].password", "devices[3].user", "numbers[1].flow", "trunk.address", "max_calls"] {
            assert!(paths.contains(&path), "{path} missing from {paths:?}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let mut v = serde_json::to_value(VoiceSettings::default()).unwrap();
        v["recrod_calls"] = serde_json::json!(false);
        assert!(serde_json::from_value::<VoiceSettings>(v).is_err());
    }

    #[test]
    fn flow_versions_accumulate() {
        let mut f = Flows::sample();
        let v = f.push("main", Flow::sample());
        assert_eq!(v, 2);
        assert_eq!(f.current("main").map(|x| x.version), Some(2));
        assert_eq!(f.version("main", 1).map(|x| x.version), Some(1));
        assert_eq!(f.list(), vec![("main".to_string(), 2)]);
    }
}
