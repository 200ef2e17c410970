//! A server per test, and a small client.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use web::AppState;
use web::demo::{DEMO_PASSWORD, DemoOptions};
use web::live::LiveOptions;

pub struct Server {
    pub base: String,
    pub app: Arc<AppState>,
    pub client: reqwest::Client,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn temp_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "switchboard-web-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub async fn start() -> Server {
    let dir = temp_dir();
    let store = store::Store::open_sqlite_dir(&dir).await.unwrap();
    let opts = DemoOptions { agents: 2, customers: 20, ..DemoOptions::default() };
    assert!(web::demo::seed(&store, &opts).await.unwrap());
    let app = AppState::start(store, LiveOptions::default()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(web::serve(listener, app.clone(), std::future::pending()));
    Server { base, app, client: reqwest::Client::new(), dir }
}

impl Server {
    pub async fn login(&self, login: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/login",
                None,
                Some(serde_json::json!({ "login": login, "password": DEMO_PASSWORD })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{login}: {body}");
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let v = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, v)
    }

    pub async fn get(&self, path: &str, token: &str) -> Value {
        let (s, v) = self.call(Method::GET, path, Some(token), None).await;
        assert!(s.is_success(), "GET {path}: {s} {v}");
        v
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Value {
        let (s, v) = self.call(Method::POST, path, Some(token), Some(body)).await;
        assert!(s.is_success(), "POST {path}: {s} {v}");
        v
    }

    pub async fn stream(&self, token: &str) -> Sse {
        let resp = self.client.get(format!("{}/api/stream", self.base)).bearer_auth(token).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        Sse { resp, buf: String::new() }
    }
}

/// A Server-Sent Events connection.
pub struct Sse {
    resp: reqwest::Response,
    buf: String,
}

impl Sse {
    /// The next event `(name, data)`.
    pub async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut name, mut data) = (String::from("message"), String::new());
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event:") {
                        name = n.trim().to_string();
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // keep-alive comment
                }
                return (name, serde_json::from_str(&data).unwrap_or(Value::String(data)));
            }
            let chunk = self.resp.chunk().await.unwrap().expect("stream ended");
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Wait (at most `secs`) for an event named `name` that satisfies `pred`.
    pub async fn wait_for(&mut self, name: &str, secs: u64, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (n, v) =
                tokio::time::timeout(left, self.next()).await.unwrap_or_else(|_| panic!("no {name} event in {secs} s"));
            if n == name && pred(&v) {
                return v;
            }
        }
    }
}

/// Poll `f` until it gives `Some` (at most `secs`).
pub async fn eventually<T, F: AsyncFnMut() -> Option<T>>(secs: u64, mut f: F) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "condition not met in {secs} s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
