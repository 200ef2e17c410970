//! The registrar: agents' SIP phones sign in with digest authentication and
//! tell us where to ring them. Bindings live in memory (a phone re-registers
//! every few minutes, and after a restart at its next refresh).

use crate::digest::{self, DigestAuth, Verdict};
use crate::settings::Device;
use rsipstack::sip::headers::typed;
use rsipstack::sip::{Header, StatusCode, Uri};
use rsipstack::transport::SipAddr;
use std::collections::HashMap;
use std::sync::Mutex;

/// Shortest registration we grant (seconds); shorter requests are raised.
pub const MIN_EXPIRES: u32 = 60;
/// Longest registration we grant (seconds).
pub const MAX_EXPIRES: u32 = 3600;

/// Where a phone is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The phone's Contact URI (where to send INVITEs).
    pub contact: Uri,
    /// When the binding lapses (ms since the epoch).
    pub expires_at: u64,
    /// The phone's `User-Agent` header, if it sent one.
    pub user_agent: Option<String>,
    /// The TLS connection the phone registered over (its remote address):
    /// INVITEs to the phone ride that connection, so a phone behind TLS is
    /// rung over TLS without us dialling (and verifying) it.
    pub flow: Option<SipAddr>,
}

/// The answer to a REGISTER: status and extra headers.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: StatusCode,
    /// Headers to add (challenge, Contact with expires).
    pub headers: Vec<Header>,
}

/// What a REGISTER asked for, read from its headers.
#[derive(Debug, Default)]
pub struct RegisterRequest {
    /// User part of the To URI (the device's user name).
    pub user: String,
    /// `Authorization` header value.
    pub authorization: Option<String>,
    /// Contact header values.
    pub contacts: Vec<String>,
    /// `Expires` header.
    pub expires: Option<u32>,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
    /// The TLS connection the REGISTER came over (`None` for UDP and TCP).
    pub flow: Option<SipAddr>,
}

/// Bindings of devices to phones.
#[derive(Default)]
pub struct Registrar {
    bindings: Mutex<HashMap<String, Binding>>,
}

impl Registrar {
    /// Handle one REGISTER; `devices` are the configured phones.
    pub fn register(&self, auth: &DigestAuth, devices: &[Device], req: &RegisterRequest, now_ms: u64) -> Reply {
        let challenge = |stale| Reply {
            status: StatusCode::Unauthorized,
            headers: vec![Header::WwwAuthenticate(auth.challenge(now_ms, stale).into())],
        };
        let Some(creds) = req.authorization.as_deref().and_then(digest::parse_authorization) else {
            return challenge(false);
        };
        // Unknown users get the same answer as wrong passwords.
        let device = devices.iter().find(|d| d.user == creds.username && d.user == req.user);
        let verdict = device.map_or(Verdict::Refused, |d| auth.verify(&creds, "REGISTER", &d.password, now_ms));
        match verdict {
            Verdict::Stale => return challenge(true),
            Verdict::Refused => return Reply { status: StatusCode::Forbidden, headers: Vec::new() },
            Verdict::Ok => {}
        }
        let mut bindings = self.bindings.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // `Contact: *` with `Expires: 0` removes every binding of the user.
        if req.contacts.iter().any(|c| c.trim() == "*") {
            if req.expires != Some(0) {
                return Reply { status: StatusCode::BadRequest, headers: Vec::new() };
            }
            bindings.remove(&req.user);
            return Reply { status: StatusCode::OK, headers: Vec::new() };
        }
        let mut granted_headers = Vec::new();
        for raw in &req.contacts {
            let Ok(contact) = typed::Contact::parse(raw) else {
                return Reply { status: StatusCode::BadRequest, headers: Vec::new() };
            };
            let asked = contact.expires().or(req.expires).unwrap_or(MAX_EXPIRES);
            if asked == 0 {
                if bindings.get(&req.user).is_some_and(|b| b.contact == contact.uri) {
                    bindings.remove(&req.user);
                }
                continue;
            }
            let granted = asked.clamp(MIN_EXPIRES, MAX_EXPIRES);
            bindings.insert(
                req.user.clone(),
                Binding {
                    contact: contact.uri.clone(),
                    expires_at: now_ms + u64::from(granted) * 1000,
                    user_agent: req.user_agent.clone(),
                    flow: req.flow.clone(),
                },
            );
            granted_headers.push(Header::Contact(format!("<{}>;expires={granted}", contact.uri).into()));
        }
        // A REGISTER without Contact is a query: list the current binding.
        if req.contacts.is_empty()
            && let Some(b) = bindings.get(&req.user)
        {
            let left = b.expires_at.saturating_sub(now_ms) / 1000;
            granted_headers.push(Header::Contact(format!("<{}>;expires={left}", b.contact).into()));
        }
        Reply { status: StatusCode::OK, headers: granted_headers }
    }

    /// Where to ring `user`'s phone now.
    pub fn lookup(&self, user: &str, now_ms: u64) -> Option<Binding> {
        let bindings = self.bindings.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        bindings.get(user).filter(|b| b.expires_at > now_ms).cloned()
    }

    /// The last binding of `user`, live or lapsed (an explicit
    /// unregistration removes it).
    pub fn binding(&self, user: &str) -> Option<Binding> {
        let bindings = self.bindings.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        bindings.get(user).cloned()
    }

    /// The TLS connection to ring `contact` through, when the phone bound
    /// to it registered over TLS.
    pub fn flow_of(&self, contact: &Uri) -> Option<SipAddr> {
        let bindings = self.bindings.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        bindings.values().find(|b| &b.contact == contact).and_then(|b| b.flow.clone())
    }

    /// Users with a live binding (for the admin page).
    pub fn registered(&self, now_ms: u64) -> Vec<(String, Binding)> {
        let bindings = self.bindings.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut v: Vec<_> =
            bindings.iter().filter(|(_, b)| b.expires_at > now_ms).map(|(u, b)| (u.clone(), b.clone())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest, Md5};

    fn md5_hex(s: &str) -> String {
        Md5::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    fn authorization(auth: &DigestAuth, user: &str, password: &str, now: u64) -> String {
        let nonce = auth.nonce(now);
        let uri = "sip:127.0.0.1";
        let ha1 = md5_hex(&format!("{user}:{}:{password}", auth.realm()));
        let ha2 = md5_hex(&format!("REGISTER:{uri}"));
        let resp = md5_hex(&format!("{ha1}:{nonce}:{ha2}"));
        format!(
            r#"Digest username="{user}", realm="{}", nonce="{nonce}", uri="{uri}", response="{resp}""#,
            auth.realm()
        )
    }

    fn devices() -> Vec<Device> {
        vec![Device { user: "agent1".into(), password: "pw1".into(), agent: 1 }]
    }

    fn req(user: &str, authorization: Option<String>, contact: &str) -> RegisterRequest {
        RegisterRequest {
            user: user.into(),
            authorization,
            contacts: vec![contact.into()],
            expires: Some(120),
            user_agent: Some("baresip v3".into()),
            flow: None,
        }
    }

    #[test]
    fn challenge_then_bind_then_expire() {
        let (reg, auth) = (Registrar::default(), DigestAuth::new("switchboard"));
        let r = reg.register(&auth, &devices(), &req("agent1", None, "<sip:agent1@127.0.0.1:5070>"), 1000);
        assert_eq!(r.status, StatusCode::Unauthorized);
        let a = authorization(&auth, "agent1", "pw1", 1000);
        let r = reg.register(&auth, &devices(), &req("agent1", Some(a), "<sip:agent1@127.0.0.1:5070>"), 1000);
        assert_eq!(r.status, StatusCode::OK);
        let b = reg.lookup("agent1", 2000).unwrap();
        assert_eq!(b.contact.to_string(), "sip:agent1@127.0.0.1:5070");
        assert_eq!(b.user_agent.as_deref(), Some("baresip v3"));
        assert!(reg.lookup("agent1", 1000 + 121_000).is_none());
        // A lapsed binding is still known (for the status page), not live.
        assert!(reg.binding("agent1").is_some_and(|b| b.expires_at == 121_000));
        assert!(reg.registered(1000 + 121_000).is_empty());
    }

    #[test]
    fn wrong_password_and_unknown_user_are_refused_alike() {
        let (reg, auth) = (Registrar::default(), DigestAuth::new("switchboard"));
        let bad = authorization(&auth, "agent1", "nope", 1000);
        let r = reg.register(&auth, &devices(), &req("agent1", Some(bad), "<sip:a@127.0.0.1:1>"), 1000);
        assert_eq!(r.status, StatusCode::Forbidden);
        let ghost = authorization(&auth, "ghost", "pw1", 1000);
        let r = reg.register(&auth, &devices(), &req("ghost", Some(ghost), "<sip:a@127.0.0.1:1>"), 1000);
        assert_eq!(r.status, StatusCode::Forbidden);
        assert!(reg.registered(1000).is_empty());
    }

    #[test]
    fn unregister_with_star() {
        let (reg, auth) = (Registrar::default(), DigestAuth::new("switchboard"));
        let a = authorization(&auth, "agent1", "pw1", 1000);
        reg.register(&auth, &devices(), &req("agent1", Some(a.clone()), "<sip:agent1@127.0.0.1:5070>"), 1000);
        let mut r = req("agent1", Some(a), "*");
        r.expires = Some(0);
        assert_eq!(reg.register(&auth, &devices(), &r, 1000).status, StatusCode::OK);
        assert!(reg.lookup("agent1", 1000).is_none());
    }
}
