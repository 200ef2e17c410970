//! The server's own settings, edited on the admin page: not-ready reasons,
//! wrap-up codes, business hours, the order-history hook and webhooks.
//! Stored as one document; unknown keys are refused.

use crate::error::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use store::{DocumentStore, Store};

const DOC: &str = "desk-settings";

/// One webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// Where to POST (`http://…` or `https://…`).
    pub url: String,
    /// Key of the HMAC-SHA256 signature.
    pub secret: String,
    /// Event types to send (`contact_answered`, …); empty: all.
    #[serde(default)]
    pub events: Vec<String>,
}

/// Opening hours of one weekday.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayHours {
    /// `mon` … `sun`.
    pub day: String,
    /// `HH:MM`.
    pub open: String,
    /// `HH:MM`.
    pub close: String,
}

/// When the hotline is open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// Offset of local time from UTC, minutes (480 for China).
    #[serde(default)]
    pub utc_offset_minutes: i32,
    /// Open hours per weekday; a day not listed is closed.
    #[serde(default)]
    pub days: Vec<DayHours>,
    /// Closed dates (`YYYY-MM-DD`).
    #[serde(default)]
    pub holidays: Vec<String>,
}

impl Default for BusinessHours {
    fn default() -> Self {
        let days = ["mon", "tue", "wed", "thu", "fri"]
            .iter()
            .map(|d| DayHours { day: d.to_string(), open: "08:00".into(), close: "20:00".into() })
            .collect();
        BusinessHours { utc_offset_minutes: 480, days, holidays: Vec::new() }
    }
}

/// Everything on the desk settings page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskSettings {
    /// Reasons an agent may give for not ready.
    pub not_ready_reasons: Vec<String>,
    /// Disposition codes of the wrap-up form.
    pub wrap_up_codes: Vec<String>,
    /// Opening hours.
    #[serde(default)]
    pub business_hours: BusinessHours,
    /// `GET url?customer_id=…` answers the customer's orders as JSON.
    #[serde(default)]
    pub order_hook_url: Option<String>,
    /// Event webhooks.
    #[serde(default)]
    pub webhooks: Vec<Webhook>,
}

impl Default for DeskSettings {
    fn default() -> Self {
        DeskSettings {
            not_ready_reasons: ["break", "lunch", "training", "meeting", "after-call"].map(String::from).to_vec(),
            wrap_up_codes: ["resolved", "follow-up", "sale", "complaint", "information", "wrong-number"]
                .map(String::from)
                .to_vec(),
            business_hours: BusinessHours::default(),
            order_hook_url: None,
            webhooks: Vec::new(),
        }
    }
}

/// A hook URL must be absolute `http://` or `https://` with a host
/// (https is verified against the system's CA store, or `SSL_CERT_FILE`).
fn check_url(what: &str, url: &str) -> ApiResult<()> {
    let parsed = reqwest::Url::parse(url).map_err(|e| ApiError::invalid(format!("{what} {url:?}: not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ApiError::invalid(format!("{what} {url:?}: expected an http:// or https:// URL")));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(ApiError::invalid(format!("{what} {url:?}: the URL has no host")));
    }
    Ok(())
}

fn check_hhmm(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && b[2] == b':'
        && s[..2].parse::<u8>().is_ok_and(|h| h < 24)
        && s[3..].parse::<u8>().is_ok_and(|m| m < 60)
}

impl DeskSettings {
    /// Refuse settings that cannot work, naming the field.
    pub fn validate(&self) -> ApiResult<()> {
        for (what, list) in [("not_ready_reasons", &self.not_ready_reasons), ("wrap_up_codes", &self.wrap_up_codes)] {
            if list.is_empty() {
                return Err(ApiError::invalid(format!("{what}: give at least one")));
            }
            if let Some(bad) = list.iter().find(|s| s.trim().is_empty() || s.len() > 64) {
                return Err(ApiError::invalid(format!("{what}: {bad:?} must be 1–64 characters")));
            }
        }
        if let Some(url) = &self.order_hook_url {
            check_url("order_hook_url", url)?;
        }
        for w in &self.webhooks {
            check_url("webhook", &w.url)?;
            if w.secret.len() < 16 {
                return Err(ApiError::invalid(format!("webhook {}: the secret needs at least 16 characters", w.url)));
            }
        }
        const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        for d in &self.business_hours.days {
            if !DAYS.contains(&d.day.as_str()) {
                return Err(ApiError::invalid(format!("business_hours: unknown day {:?} (mon … sun)", d.day)));
            }
            if !check_hhmm(&d.open) || !check_hhmm(&d.close) || d.open >= d.close {
                return Err(ApiError::invalid(format!(
                    "business_hours {}: open {:?} and close {:?} must be HH:MM with open before close",
                    d.day, d.open, d.close
                )));
            }
        }
        for h in &self.business_hours.holidays {
            let ok = h.len() == 10 && h.as_bytes()[4] == b'-' && h.as_bytes()[7] == b'-';
            if !ok || h.split('-').any(|p| p.parse::<u32>().is_err()) {
                return Err(ApiError::invalid(format!("business_hours: holiday {h:?} is not YYYY-MM-DD")));
            }
        }
        if self.business_hours.utc_offset_minutes.abs() > 14 * 60 {
            return Err(ApiError::invalid("business_hours: utc_offset_minutes must be within ±840"));
        }
        Ok(())
    }

    /// The stored settings, or the defaults.
    pub async fn load(store: &Store) -> ApiResult<DeskSettings> {
        match store.document(DOC).await? {
            Some(v) => serde_json::from_value(v).map_err(|e| ApiError::internal("desk settings", e)),
            None => Ok(DeskSettings::default()),
        }
    }

    /// Validate and store.
    pub async fn save(&self, store: &Store) -> ApiResult<()> {
        self.validate()?;
        let v = serde_json::to_value(self).map_err(|e| ApiError::internal("desk settings", e))?;
        store.put_document(DOC, &v).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_named() {
        DeskSettings::default().validate().unwrap();
        let s = DeskSettings { order_hook_url: Some("ftp://x".into()), ..DeskSettings::default() };
        assert!(s.validate().unwrap_err().message.contains("order_hook_url"));
        for bad in ["http://", "https://", "not a url", "mailto:x@example.com", "file:///etc/passwd"] {
            let s = DeskSettings { order_hook_url: Some(bad.into()), ..DeskSettings::default() };
            assert!(s.validate().is_err(), "{bad} accepted");
        }
        for good in ["http://127.0.0.1:8081/orders", "https://crm.example.com/api/orders?tenant=7"] {
            let s = DeskSettings { order_hook_url: Some(good.into()), ..DeskSettings::default() };
            s.validate().unwrap();
        }
        let mut s = DeskSettings::default();
        s.business_hours.days[0].open = "25:00".into();
        assert!(s.validate().unwrap_err().message.contains("business_hours mon"));
        let mut s = DeskSettings::default();
        s.webhooks.push(Webhook { url: "http://127.0.0.1:9/x".into(), secret: "short".into(), events: vec![] });
        assert!(s.validate().unwrap_err().message.contains("secret"));
        let err =
            serde_json::from_str::<DeskSettings>(r#"{"not_ready_reasons":["a"],"wrap_up_codes":["b"],"colour":1}"#);
        assert!(err.unwrap_err().to_string().contains("unknown field"));
    }
}
