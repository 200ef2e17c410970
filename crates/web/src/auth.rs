//! Accounts: Argon2 password hashes, session tokens, the lock-out policy and
//! the [`Caller`] every API handler receives.
//!
//! A token is 32 random bytes (hex) given to the browser once, as an
//! HttpOnly cookie and in the login answer; the store keeps only its
//! SHA-256, so a copy of the database signs nobody in.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use engine::Time;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use store::{AccountStore, Role, Session, SessionStore, User};

/// Name of the session cookie.
pub const COOKIE: &str = "sb_session";
/// A session ends this long after login, whatever happens.
pub const SESSION_MAX_MS: u64 = 12 * 3_600_000;
/// A session ends after this long without a request.
pub const SESSION_IDLE_MS: u64 = 30 * 60_000;
/// Failed logins in a row that lock an account.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// How long a lock lasts.
pub const LOCK_MS: u64 = 15 * 60_000;
/// `last_seen` is written at most this often per session.
const TOUCH_EVERY_MS: u64 = 60_000;
/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_LEN: usize = 8;

thread_local! {
    /// Argon2's working memory (19 MiB with the default parameters), kept by
    /// each password thread and reused: allocating it per run let malloc
    /// keep every freed copy (1.5 GB resident after 500 logins).
    static ARGON2_MEMORY: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Argon2id of `password` and `salt` with `params` into `out`, in the
/// thread's reused memory.
fn argon2id(password: &[u8], salt: &[u8], params: argon2::Params, out: &mut [u8]) -> Result<(), argon2::Error> {
    let need = params.block_count();
    let ctx = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    ARGON2_MEMORY.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() < need {
            m.resize(need, argon2::Block::default());
        }
        ctx.hash_password_into_with_memory(password, salt, out, &mut m[..need])
    })
}

/// Hash a password (Argon2id, default parameters, random 16-byte salt) into
/// a PHC string. Slow on purpose: call [`hash_password_async`].
pub fn hash_password(password: &str) -> ApiResult<String> {
    use argon2::password_hash::phc::{Output, ParamsString, Salt};
    let fail = |e: &dyn std::fmt::Display| ApiError::internal("password hashing", e);
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| fail(&e))?;
    let params = argon2::Params::DEFAULT;
    let mut out = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
    argon2id(password.as_bytes(), &salt, params.clone(), &mut out).map_err(|e| fail(&e))?;
    let phc = PasswordHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(argon2::Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| fail(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| fail(&e))?),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches a stored PHC hash (Argon2id with the stored
/// parameters). A malformed stored hash, or another algorithm, matches
/// nothing. Slow on purpose: call [`verify_password_async`].
pub fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    if parsed.algorithm != argon2::Algorithm::Argon2id.ident() {
        return false;
    }
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else { return false };
    let Ok(params) = argon2::Params::try_from(&parsed) else { return false };
    let expected = expected.as_bytes();
    let mut out = vec![0u8; expected.len()];
    if argon2id(password.as_bytes(), salt, params, &mut out).is_err() {
        return false;
    }
    // Constant time: look at every byte whatever the first difference.
    out.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Threads that hash and verify passwords. Each Argon2 run takes 19 MiB;
/// on tokio's blocking pool (hundreds of threads, each with its own malloc
/// arena) a burst of logins left gigabytes resident. Two fixed threads keep
/// it to two reused buffers and bound the CPU a login storm can take.
const HASH_THREADS: usize = 2;

type HashJob = Box<dyn FnOnce() + Send>;

static HASHERS: std::sync::LazyLock<Option<std::sync::Mutex<std::sync::mpsc::Sender<HashJob>>>> =
    std::sync::LazyLock::new(|| {
        let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..HASH_THREADS {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("argon2-{i}")).spawn(move || {
                loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!("password hashing thread: {e}");
                return None;
            }
        }
        Some(std::sync::Mutex::new(tx))
    });

/// Run `f` on the password threads.
async fn on_hasher<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: HashJob = Box::new(move || {
        let _ = tx.send(f());
    });
    let sent = HASHERS.as_ref().and_then(|h| h.lock().ok().map(|s| s.send(job).is_ok())).unwrap_or(false);
    if !sent {
        return Err(ApiError::internal("password hashing", "no hashing thread"));
    }
    rx.await.map_err(|e| ApiError::internal("password hashing", e))
}

/// [`hash_password`] on the password threads.
pub async fn hash_password_async(password: String) -> ApiResult<String> {
    check_password_rules(&password)?;
    on_hasher(move || hash_password(&password)).await?
}

/// [`verify_password`] on the password threads.
pub async fn verify_password_async(password: String, hash: String) -> ApiResult<bool> {
    on_hasher(move || verify_password(&password, &hash)).await
}

/// The rules a new password must meet.
pub fn check_password_rules(password: &str) -> ApiResult<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ApiError::invalid(format!("a password needs at least {MIN_PASSWORD_LEN} characters")));
    }
    Ok(())
}

/// A fresh random token (64 hex digits).
pub fn new_token() -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal("random token", e))?;
    Ok(hex(&bytes))
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The current wall-clock time.
pub fn now() -> Time {
    let ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    Time(ms)
}

/// What a login attempt gives.
pub enum LoginOutcome {
    /// Signed in: the token and its session.
    Ok {
        /// The user.
        user: Box<User>,
        /// The token to hand to the client.
        token: String,
        /// The session stored.
        session: Session,
    },
    /// Unknown login or wrong password (the same answer for both).
    BadCredentials,
    /// Locked until then.
    Locked(Time),
}

/// Check a login and password, apply the lock-out policy, and open a session.
pub async fn login(state: &AppState, login: &str, password: &str) -> ApiResult<LoginOutcome> {
    let at = now();
    let Some(user) = state.store.user_by_login(login).await? else {
        // Spend the same time as a real check so logins cannot be probed by timing.
        let _ = verify_password_async(password.to_string(), DUMMY_HASH.to_string()).await;
        return Ok(LoginOutcome::BadCredentials);
    };
    if let Some(until) = user.locked_until
        && until > at
    {
        return Ok(LoginOutcome::Locked(until));
    }
    let good = verify_password_async(password.to_string(), user.password_hash.clone()).await?;
    if !good {
        let lock = (user.failed_logins + 1 >= MAX_FAILED_LOGINS).then_some(Time(at.0 + LOCK_MS));
        let user = state.store.record_login_failure(user.id, lock).await?;
        if let Some(until) = lock {
            tracing::warn!(login = %user.login, "account locked after {} failed logins", user.failed_logins);
            state.store.delete_user_sessions(user.id).await?;
            return Ok(LoginOutcome::Locked(until));
        }
        return Ok(LoginOutcome::BadCredentials);
    }
    let user = if user.failed_logins > 0 || user.locked_until.is_some() {
        state.store.clear_login_failures(user.id).await?
    } else {
        user
    };
    let token = new_token()?;
    let session = Session {
        token_hash: token_hash(&token),
        user_id: user.id,
        created_at: at,
        last_seen: at,
        expires_at: Time(at.0 + SESSION_MAX_MS),
    };
    state.store.create_session(&session).await?;
    Ok(LoginOutcome::Ok { user: Box::new(user), token, session })
}

/// A valid Argon2id hash of a random password: verifying against it costs
/// what a real check costs.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$7CAq5Ma9Jt5ZZZZBmS3K8g$0QbDvmB1p1xxYmMrPwZQ4sB1nS1G1zD3fKzD0Ck8k4Q";

/// The token a request carries: the session cookie, or `Authorization: Bearer`.
pub fn request_token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(t) = v.strip_prefix("Bearer ")
    {
        return Some(t.trim().to_string());
    }
    for v in headers.get_all(header::COOKIE) {
        let Ok(v) = v.to_str() else { continue };
        for part in v.split(';') {
            if let Some((k, val)) = part.trim().split_once('=')
                && k == COOKIE
                && !val.is_empty()
            {
                return Some(val.to_string());
            }
        }
    }
    None
}

/// The signed-in user of a request. Extracting it fails with 401 when there
/// is no valid session.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user.
    pub user: User,
    /// Hash of the session token (for logout).
    pub token_hash: String,
}

impl Caller {
    /// The user's role.
    pub fn role(&self) -> Role {
        self.user.role
    }
    /// The engine agent this user works as; 409 when the account has none.
    pub fn agent(&self) -> ApiResult<engine::AgentId> {
        self.user
            .agent_id
            .ok_or_else(|| ApiError::conflict(format!("user {} is not linked to an agent", self.user.login)))
    }
    /// Who to name in the audit log.
    pub fn actor(&self) -> String {
        self.user.login.clone()
    }
}

/// Resolve a token to its user, or `None` when the session is missing,
/// expired or idle too long (which also removes it).
pub async fn resolve(state: &AppState, token: &str) -> ApiResult<Option<Caller>> {
    let hash = token_hash(token);
    let Some(session) = state.store.session(&hash).await? else { return Ok(None) };
    let at = now();
    if session.expires_at <= at || session.last_seen.0 + SESSION_IDLE_MS <= at.0 {
        state.store.delete_session(&hash).await?;
        return Ok(None);
    }
    let Some(user) = state.store.user(session.user_id).await? else { return Ok(None) };
    if at.0 >= session.last_seen.0 + TOUCH_EVERY_MS {
        state.store.touch_session(&hash, at).await?;
    }
    Ok(Some(Caller { user, token_hash: hash }))
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Caller, ApiError> {
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(c.clone());
        }
        let token = request_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        let caller = resolve(state, &token).await?.ok_or_else(ApiError::unauthenticated)?;
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert_ne!(a, b, "random salt");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("wrong horse", &a));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn reads_hashes_made_by_the_argon2_crate() {
        use argon2::password_hash::PasswordHasher;
        let standard = Argon2::default().hash_password(b"s3cret-pass").unwrap().to_string();
        assert!(verify_password("s3cret-pass", &standard));
        assert!(!verify_password("s3cret-pasS", &standard));
        // And the crate reads ours.
        use argon2::password_hash::PasswordVerifier;
        let ours = hash_password("s3cret-pass").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"s3cret-pass", &parsed).is_ok());
    }

    #[test]
    fn dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn tokens_from_cookie_or_bearer() {
        let mut h = HeaderMap::new();
        assert_eq!(request_token(&h), None);
        h.insert(header::COOKIE, "a=b; sb_session=abc; c=d".parse().unwrap());
        assert_eq!(request_token(&h).as_deref(), Some("abc"));
        h.insert(header::AUTHORIZATION, "Bearer xyz".parse().unwrap());
        assert_eq!(request_token(&h).as_deref(), Some("xyz"));
        let t = new_token().unwrap();
        assert_eq!(t.len(), 64);
        assert_eq!(token_hash(&t).len(), 64);
        assert_ne!(token_hash(&t), t);
    }
}
