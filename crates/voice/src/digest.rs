//! SIP digest authentication, server side (RFC 3261 §22 with the RFC 2617
//! MD5 algorithm, `qop=auth` or none): challenges carry a stateless nonce
//! (issue time signed with a per-process secret), so no table of
//! outstanding nonces grows with unanswered challenges.

use md5::{Digest, Md5};

/// Nonces older than this are refused as stale (the phone retries at once).
pub const NONCE_LIFETIME_MS: u64 = 5 * 60 * 1000;

/// Issues and checks challenges for one realm.
#[derive(Clone)]
pub struct DigestAuth {
    realm: String,
    secret: [u8; 16],
}

/// The parameters of an `Authorization` header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    /// `username`.
    pub username: String,
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `uri`.
    pub uri: String,
    /// `response`.
    pub response: String,
    /// `qop` (only `auth` is supported).
    pub qop: Option<String>,
    /// `nc`.
    pub nc: Option<String>,
    /// `cnonce`.
    pub cnonce: Option<String>,
    /// `algorithm`.
    pub algorithm: Option<String>,
}

/// What a check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Right password, fresh nonce.
    Ok,
    /// Right password but an old nonce: challenge again with `stale=true`.
    Stale,
    /// Wrong password, wrong realm, forged nonce or unsupported algorithm.
    Refused,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn md5_hex(parts: &[&str]) -> String {
    let mut h = Md5::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update(b":");
        }
        h.update(p.as_bytes());
    }
    hex(&h.finalize())
}

impl DigestAuth {
    /// A realm with a fresh random secret.
    pub fn new(realm: impl Into<String>) -> Self {
        let mut secret = [0u8; 16];
        if getrandom::fill(&mut secret).is_err() {
            // No OS randomness: fall back to the address of a heap value and
            // the time; nonces are then guessable but still time-limited.
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            secret[..16].copy_from_slice(&t.to_le_bytes());
        }
        DigestAuth { realm: realm.into(), secret }
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    fn sign(&self, issued_ms: u64) -> String {
        let mut h = Md5::new();
        h.update(self.secret);
        h.update(issued_ms.to_be_bytes());
        hex(&h.finalize())
    }

    /// A nonce issued at `now_ms`.
    pub fn nonce(&self, now_ms: u64) -> String {
        format!("{now_ms:x}.{}", self.sign(now_ms))
    }

    /// The value of a `WWW-Authenticate` header.
    pub fn challenge(&self, now_ms: u64, stale: bool) -> String {
        let stale = if stale { ", stale=true" } else { "" };
        format!("Digest realm=\"{}\", nonce=\"{}\", algorithm=MD5, qop=\"auth\"{stale}", self.realm, self.nonce(now_ms))
    }

    /// Check an answer to a challenge for `method` with `password`.
    pub fn verify(&self, c: &Credentials, method: &str, password: &str, now_ms: u64) -> Verdict {
        if c.realm != self.realm || c.algorithm.as_deref().is_some_and(|a| !a.eq_ignore_ascii_case("md5")) {
            return Verdict::Refused;
        }
        let Some((issued, sig)) = c.nonce.split_once('.') else { return Verdict::Refused };
        let Ok(issued) = u64::from_str_radix(issued, 16) else { return Verdict::Refused };
        if sig != self.sign(issued) {
            return Verdict::Refused;
        }
        let ha1 = md5_hex(&[&c.username, &self.realm, password]);
        let ha2 = md5_hex(&[method, &c.uri]);
        let expected = match (c.qop.as_deref(), &c.nc, &c.cnonce) {
            (Some(q), Some(nc), Some(cnonce)) if q.eq_ignore_ascii_case("auth") => {
                md5_hex(&[&ha1, &c.nonce, nc, cnonce, "auth", &ha2])
            }
            (None, _, _) => md5_hex(&[&ha1, &c.nonce, &ha2]),
            _ => return Verdict::Refused,
        };
        if !expected.eq_ignore_ascii_case(&c.response) {
            return Verdict::Refused;
        }
        if now_ms.saturating_sub(issued) > NONCE_LIFETIME_MS || issued > now_ms + 60_000 {
            return Verdict::Stale;
        }
        Verdict::Ok
    }
}

/// Read `Digest k=v, k="v", …` (the value of an `Authorization` header).
pub fn parse_authorization(value: &str) -> Option<Credentials> {
    let rest = value.trim().strip_prefix("Digest").or_else(|| value.trim().strip_prefix("digest"))?;
    let mut c = Credentials::default();
    let mut chars = rest.trim_start();
    while !chars.is_empty() {
        let (key, after) = chars.split_once('=')?;
        let key = key.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (val, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        let v = val.to_string();
        match key.as_str() {
            "username" => c.username = v,
            "realm" => c.realm = v,
            "nonce" => c.nonce = v,
            "uri" => c.uri = v,
            "response" => c.response = v,
            "qop" => c.qop = Some(v),
            "nc" => c.nc = Some(v),
            "cnonce" => c.cnonce = Some(v),
            "algorithm" => c.algorithm = Some(v),
            _ => {}
        }
        chars = next.trim_start().trim_start_matches(',').trim_start();
    }
    (!c.username.is_empty() && !c.nonce.is_empty() && !c.response.is_empty()).then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(auth: &DigestAuth, now: u64, user: &str, password: &str, qop: bool) -> Credentials {
        let nonce = auth.nonce(now);
        let uri = "sip:127.0.0.1:5060".to_string();
        let ha1 = md5_hex(&[user, auth.realm(), password]);
        let ha2 = md5_hex(&["REGISTER", &uri]);
        let (response, qop, nc, cnonce) = if qop {
            (
                md5_hex(&[&ha1, &nonce, "00000001", "abc", "auth", &ha2]),
                Some("auth".into()),
                Some("00000001".into()),
                Some("abc".into()),
            )
        } else {
            (md5_hex(&[&ha1, &nonce, &ha2]), None, None, None)
        };
        Credentials {
            username: user.into(),
            realm: auth.realm().into(),
            nonce,
            uri,
            response,
            qop,
            nc,
            cnonce,
            algorithm: None,
        }
    }

    #[test]
    fn right_and_wrong_passwords() {
        let auth = DigestAuth::new("switchboard");
        for qop in [true, false] {
            let c = answer(&auth, 1_000, "agent1", "secret", qop);
            assert_eq!(auth.verify(&c, "REGISTER", "secret", 2_000), Verdict::Ok);
            assert_eq!(auth.verify(&c, "REGISTER", "wrong", 2_000), Verdict::Refused);
            assert_eq!(auth.verify(&c, "INVITE", "secret", 2_000), Verdict::Refused);
            assert_eq!(auth.verify(&c, "REGISTER", "secret", 1_000 + NONCE_LIFETIME_MS + 1), Verdict::Stale);
        }
        // A nonce signed by another process's secret is refused.
        let other = DigestAuth::new("switchboard");
        let c = answer(&other, 1_000, "agent1", "secret", true);
        assert_eq!(auth.verify(&c, "REGISTER", "secret", 2_000), Verdict::Refused);
    }

    #[test]
    fn reads_authorization_headers() {
        let h = r#"Digest username="agent1",realm="switchboard",nonce="1f.abc",uri="sip:127.0.0.1",response="0123",algorithm=MD5,cnonce="xyz",qop=auth,nc=00000001"#;
        let c = parse_authorization(h).unwrap();
        assert_eq!(c.username, "agent1");
        assert_eq!(c.nonce, "1f.abc");
        assert_eq!(c.qop.as_deref(), Some("auth"));
        assert_eq!(c.nc.as_deref(), Some("00000001"));
        assert_eq!(c.cnonce.as_deref(), Some("xyz"));
        assert!(parse_authorization("Basic abc").is_none());
        assert!(parse_authorization("Digest username=\"x").is_none());
        assert!(parse_authorization("Digest").is_none());
    }
}
