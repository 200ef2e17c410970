//! What the integration tests share: temporary directories and a few
//! lines of HTTP/1.1 over `TcpStream` (one request per connection), so the
//! tests need nothing beyond the standard library and `serde_json`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(what: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "switchboard-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One HTTP/1.1 request on its own connection; `Err` when the connection
/// fails or the answer is cut short (the server died).
pub fn try_call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let cut = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "answer cut short");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(cut)?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut payload = raw[split + 4..].to_vec();
    let status: u16 = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).ok_or_else(cut)?;
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        payload = dechunk(&payload).ok_or_else(cut)?;
    } else if let Some(len) = header("content-length") {
        let len: usize = len.parse().map_err(|_| cut())?;
        if payload.len() < len {
            return Err(cut());
        }
        payload.truncate(len);
    }
    let v = if payload.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&payload).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&payload).into()))
    };
    Ok((status, v))
}

pub fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&b[..eol]).ok()?.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

pub fn call(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    try_call(addr, method, path, token, body.as_ref()).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// A call that must succeed (2xx); its JSON answer.
pub fn ok(addr: SocketAddr, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let (status, v) = call(addr, method, path, Some(token), body);
    assert!((200..300).contains(&status), "{method} {path}: {status} {v}");
    v
}

pub fn login(addr: SocketAddr, user: &str, password: &str) -> String {
    let (status, v) = call(addr, "POST", "/api/login", None, Some(json!({ "login": user, "password": password })));
    assert_eq!(status, 200, "login {user}: {v}");
    v["token"].as_str().unwrap().to_string()
}

/// Run the `openssl` command in `dir`; panics with its error output on failure.
pub fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl").current_dir(dir).args(args).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Make a private CA (`ca.pem`, `ca.key`) and a certificate for localhost /
/// 127.0.0.1 issued by it (`leaf.pem`, `leaf.key`) in `dir`, with the
/// `openssl` command (tests that use it check it is installed).
pub fn make_certificates(dir: &std::path::Path) {
    let ca = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Switchboard test CA"];
    openssl(dir, &[&ca[..], &["-keyout", "ca.key", "-out", "ca.pem"]].concat());
    openssl(
        dir,
        &["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "leaf.key", "-out", "leaf.csr"],
    );
    std::fs::write(dir.join("leaf.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
        .unwrap();
    let sign = ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"];
    openssl(dir, &[&sign[..], &["-days", "2", "-extfile", "leaf.ext", "-out", "leaf.pem"]].concat());
}
