//! Calls placed by agents' own phones, and the attended-transfer pieces of
//! RFC 3891 / RFC 5589 they need.
//!
//! An INVITE that claims to come from a configured device (its `From` user
//! is a device's user, or it carries digest credentials) must answer a
//! digest challenge with that device's password, as REGISTER does. What an
//! agent's phone may dial:
//!
//! * another device's user (a colleague's phone). When the calling agent
//!   is connected to a telephone contact, the call is a consultation about
//!   that contact: it goes to the contact's call task, which asks the engine
//!   for `Consult` and rings the colleague through the engine's consult
//!   machinery (a REFER with `Replaces` later completes it). Otherwise it is
//!   an internal call between the two phones, relayed by us and unknown to
//!   the engine (refused 486 when the colleague holds any contact).
//! * one of our numbers, outside a contact: a call like a customer's (an
//!   agent trying the hotline). During a contact it is refused 403 (the
//!   engine consults agents only; a queue is reached by a blind REFER), as
//!   is any other all-digit target; anything else is 404.

use crate::digest::{self, Verdict};
use crate::server::Shared;
use crate::settings::Device;
use engine::{AgentId, Channel, ContactId, WorkPhase};
use rsipstack::dialog::DialogId;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Request, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use std::sync::{Arc, PoisonError};

/// Why our refusals say what they say (a `Warning` header, RFC 3261 §20.43).
fn warning(text: &str) -> Header {
    Header::Warning(format!("399 switchboard \"{}\"", text.replace('"', "'")).into())
}

fn user_of(uri: &rsipstack::sip::Uri) -> String {
    uri.auth.as_ref().map(|a| a.user.clone()).unwrap_or_default()
}

/// The digest credentials of a request (`Authorization` or, from phones that
/// treat us as a proxy, `Proxy-Authorization`).
fn credentials(req: &Request) -> Option<digest::Credentials> {
    req.headers.iter().find_map(|h| match h {
        Header::Authorization(a) => digest::parse_authorization(a.value()),
        Header::ProxyAuthorization(a) => digest::parse_authorization(a.value()),
        _ => None,
    })
}

/// Whether a new INVITE is an agent's phone calling (it must authenticate)
/// rather than a customer calling one of our numbers.
pub(crate) fn from_device(s: &Shared, req: &Request) -> bool {
    let from = req.from_header().ok().and_then(|f| f.uri().ok()).map(|u| user_of(&u)).unwrap_or_default();
    let settings = s.settings();
    settings.devices.iter().any(|d| d.user == from) || credentials(req).is_some()
}

/// The device a request authenticated as; `Err` with the answer to give
/// (a challenge, or 403 for wrong credentials).
fn authenticate(s: &Shared, req: &Request) -> Result<Device, (StatusCode, Vec<Header>)> {
    let now = crate::leg::now_wall_ms();
    let challenge =
        |stale| (StatusCode::Unauthorized, vec![Header::WwwAuthenticate(s.auth.challenge(now, stale).into())]);
    let Some(creds) = credentials(req) else { return Err(challenge(false)) };
    let from = req.from_header().ok().and_then(|f| f.uri().ok()).map(|u| user_of(&u)).unwrap_or_default();
    let settings = s.settings();
    // The identity is the one proven; a From naming another device is refused.
    let device = settings.devices.iter().find(|d| d.user == creds.username && d.user == from);
    let verdict = device.map_or(Verdict::Refused, |d| s.auth.verify(&creds, "INVITE", &d.password, now));
    match (verdict, device) {
        (Verdict::Ok, Some(d)) => Ok(d.clone()),
        (Verdict::Stale, _) => Err(challenge(true)),
        _ => Err((StatusCode::Forbidden, Vec::new())),
    }
}

/// A new INVITE from an agent's phone: authenticate it, then place it (see
/// the module doc for what may be dialled). Returns the transaction when
/// it is a call to one of our numbers to be run like a customer's.
pub(crate) async fn outgoing(s: Arc<Shared>, mut tx: Transaction) -> Option<Transaction> {
    let req = tx.original.clone();
    let device = match authenticate(&s, &req) {
        Ok(d) => d,
        Err((status, headers)) => {
            let _ = tx.reply_with(status, headers, None).await;
            return None;
        }
    };
    let dialled = user_of(&req.uri);
    let settings = s.settings();
    let our_number = settings.numbers.iter().any(|n| n.number == dialled);
    if our_number && current_contact(&s, AgentId(device.agent)).await.is_none() {
        tracing::info!(from = %device.user, %dialled, "an agent's phone calls one of our numbers");
        return Some(tx);
    }
    let Some(target) = settings.devices.iter().find(|d| d.user == dialled) else {
        let ours = our_number || dialled.parse::<u32>().is_ok();
        let (status, why) = if ours {
            (StatusCode::Forbidden, "an agent's phone dials colleagues only (transfer to a queue with REFER)")
        } else {
            (StatusCode::NotFound, "no such colleague")
        };
        tracing::info!(from = %device.user, %dialled, %status, "call from an agent's phone refused");
        let _ = tx.reply_with(status, vec![warning(why)], None).await;
        return None;
    };
    let (from, to) = (AgentId(device.agent), AgentId(target.agent));
    if from == to {
        let _ = tx.reply_with(StatusCode::Forbidden, vec![warning("that is your own phone")], None).await;
        return None;
    }
    // A contact of ours this agent is on the phone with: a consultation about it.
    if let Some(contact) = current_contact(&s, from).await {
        let call = s.calls.lock().unwrap_or_else(PoisonError::into_inner).get(&contact).cloned();
        if let Some(call) = call {
            tracing::info!(
                from = from.0,
                to = to.0,
                contact = contact.0,
                "consultation dialled from the agent's phone"
            );
            if let Err(e) = call.send(crate::call::CallMsg::PhoneConsult(Box::new(crate::call::PhoneInvite { tx, to })))
            {
                // The call ended in between: nobody to consult about.
                if let crate::call::CallMsg::PhoneConsult(mut p) = e.0 {
                    let _ = p.tx.reply(StatusCode::TemporarilyUnavailable).await;
                }
            }
            return None;
        }
    }
    crate::call::internal_call(s, tx, device.user, to).await;
    None
}

/// The telephone contact an agent is connected to (talking or holding).
async fn current_contact(s: &Shared, agent: AgentId) -> Option<ContactId> {
    s.app
        .live
        .read(move |e, _, _| {
            e.agent_view(agent)?
                .work
                .iter()
                .find(|w| w.channel == Channel::Voice && matches!(w.phase, WorkPhase::Talking | WorkPhase::Held))
                .map(|w| w.contact)
        })
        .await
        .ok()
        .flatten()
}

/// Whether an agent holds any contact in the engine (a phone then is busy
/// for internal calls).
pub(crate) async fn agent_busy(s: &Shared, agent: AgentId) -> bool {
    s.app.live.read(move |e, _, _| e.agent_view(agent).is_some_and(|v| !v.work.is_empty())).await.unwrap_or(true)
}

/// The dialog a `Replaces` names (RFC 3891 §6.1): its Call-ID and tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Replaces {
    pub call_id: String,
    pub to_tag: Option<String>,
    pub from_tag: Option<String>,
}

impl Replaces {
    /// Whether this names `dialog`. Phones disagree on whose view the two
    /// tags take (RFC 3891's is the recipient's), so either order matches.
    pub fn names(&self, dialog: &DialogId) -> bool {
        if self.call_id != dialog.call_id {
            return false;
        }
        let (local, remote) = (dialog.local_tag.as_str(), dialog.remote_tag.as_str());
        match (self.to_tag.as_deref(), self.from_tag.as_deref()) {
            (Some(t), Some(f)) => (t == local && f == remote) || (t == remote && f == local),
            (Some(t), None) | (None, Some(t)) => t == local || t == remote,
            (None, None) => true,
        }
    }
}

/// The `Replaces` carried in a `Refer-To` value as a URI header
/// (`<sip:bob@host?Replaces=id%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>`);
/// `None` when there is none (a blind transfer).
pub(crate) fn replaces_in(refer_to: &str) -> Option<Replaces> {
    let inner = refer_to.trim();
    let inner = inner.strip_prefix('<').map_or(inner, |r| r.split('>').next().unwrap_or(r));
    let (_, headers) = inner.split_once('?')?;
    let value = headers.split('&').find_map(|h| {
        let (k, v) = h.split_once('=')?;
        k.trim().eq_ignore_ascii_case("replaces").then_some(v)
    })?;
    let decoded = percent_decode(value)?;
    let mut parts = decoded.split(';');
    let call_id = parts.next()?.trim().to_string();
    if call_id.is_empty() {
        return None;
    }
    let mut r = Replaces { call_id, to_tag: None, from_tag: None };
    for p in parts {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        match k.trim().to_ascii_lowercase().as_str() {
            "to-tag" => r.to_tag = Some(v.trim().to_string()),
            "from-tag" => r.from_tag = Some(v.trim().to_string()),
            _ => {}
        }
    }
    Some(r)
}

/// `%XX` escapes of a URI header value; `None` for a broken escape.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(call_id: &str, local: &str, remote: &str) -> DialogId {
        DialogId { call_id: call_id.into(), local_tag: local.into(), remote_tag: remote.into() }
    }

    #[test]
    fn replaces_is_read_from_a_refer_to() {
        let r = replaces_in("<sip:agent2@127.0.0.1:5060?Replaces=abc%40host%3Bto-tag%3Dt1%3Bfrom-tag%3Df1>").unwrap();
        assert_eq!(r, Replaces { call_id: "abc@host".into(), to_tag: Some("t1".into()), from_tag: Some("f1".into()) });
        // pjsua's form: more URI headers, the name in another case.
        let r = replaces_in("\"Bob\" <sip:b@h;transport=udp?replaces=x%3Bfrom-tag%3Df%3Bto-tag%3Dt&Require=replaces>")
            .unwrap();
        assert_eq!((r.call_id.as_str(), r.to_tag.as_deref(), r.from_tag.as_deref()), ("x", Some("t"), Some("f")));
        assert_eq!(replaces_in("<sip:agent2@127.0.0.1>"), None, "a blind transfer");
        assert_eq!(replaces_in("<sip:a@h?Replaces=%4>"), None, "broken escape");
        assert_eq!(replaces_in("<sip:a@h?Replaces=>"), None, "no Call-ID");
    }

    #[test]
    fn replaces_matches_tags_in_either_order() {
        let d = id("c1", "ours", "theirs");
        let r = |to: &str, from: &str| Replaces {
            call_id: "c1".into(),
            to_tag: Some(to.into()),
            from_tag: Some(from.into()),
        };
        assert!(r("ours", "theirs").names(&d));
        assert!(r("theirs", "ours").names(&d));
        assert!(!r("ours", "stale").names(&d));
        assert!(!Replaces { call_id: "c2".into(), ..r("ours", "theirs") }.names(&d));
    }
}
