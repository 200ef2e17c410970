//! Telephony as the web server sees it (the [`web::telephony::Telephony`]
//! seam): values cross as JSON.

use crate::server::Voice;
use crate::settings::VoiceSettings;
use serde_json::{Value, json};
use web::telephony::{BoxFuture, Problem, Refusal, Telephony};

impl Telephony for Voice {
    fn status(&self) -> Value {
        let registered: Vec<Value> =
            self.registered().into_iter().map(|(user, contact)| json!({ "user": user, "contact": contact })).collect();
        json!({
            "enabled": true,
            "sip": self.sip_addr().to_string(),
            "sip_tls": self.sip_tls_addr().map(|a| a.to_string()),
            "registered": registered,
            "devices": self.devices(),
            "calls": self.active_calls(),
        })
    }

    fn settings(&self) -> Value {
        serde_json::to_value(&*Voice::settings(self)).unwrap_or(Value::Null)
    }

    fn set_settings(&self, settings: Value) -> BoxFuture<'_, Result<(), Refusal>> {
        Box::pin(async move {
            let s: VoiceSettings = serde_json::from_value(settings)
                .map_err(|e| Refusal::Invalid(vec![Problem::at("", format!("settings: {e}"))]))?;
            Voice::set_settings(self, s).await
        })
    }

    fn survey_questions(&self) -> Value {
        let settings = Voice::settings(self);
        let mut out = serde_json::Map::new();
        for q in &settings.survey.questions {
            let mut texts = serde_json::Map::new();
            for lang in [ivr::Lang::Zh, ivr::Lang::En] {
                if let Some(t) = q.text(lang) {
                    texts.insert(lang.code().to_string(), Value::String(t));
                }
            }
            out.insert(q.id.clone(), Value::Object(texts));
        }
        Value::Object(out)
    }

    fn flows(&self) -> Value {
        let list: Vec<Value> = Voice::flows(self)
            .list()
            .into_iter()
            .map(|(name, version)| json!({ "name": name, "version": version }))
            .collect();
        json!(list)
    }

    fn flow(&self, name: &str, version: Option<u32>) -> Option<Value> {
        let flows = Voice::flows(self);
        let f = match version {
            Some(v) => flows.version(name, v),
            None => flows.current(name),
        }?;
        serde_json::to_value(&*f).ok()
    }

    fn save_flow(&self, name: String, flow: Value) -> BoxFuture<'_, Result<u32, Refusal>> {
        Box::pin(async move {
            let text = flow.to_string();
            let flow = ivr::Flow::from_json(&text).map_err(|e| {
                let p = match &e {
                    // A node that is not a node: name it, so the editor marks it.
                    ivr::FlowError::Node { node, .. } => {
                        Problem { node: Some(node.clone()), ..Problem::at(format!("nodes.{node}"), e.to_string()) }
                    }
                    ivr::FlowError::Json { .. } => Problem::at("", e.to_string()),
                };
                Refusal::Invalid(vec![p])
            })?;
            Voice::save_flow(self, &name, flow).await
        })
    }
}
