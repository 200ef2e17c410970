//! Webhooks over https: `switchboard serve` as a process posts signed event
//! batches to an https receiver whose certificate is issued by a private CA
//! the server trusts through `SSL_CERT_FILE`; with the system store only,
//! the same receiver is refused (the certificate is checked, not ignored).
//!
//! The CA and the receiver's certificate are made by the `openssl` command;
//! the receiver is Python's standard `http.server` wrapped in `ssl`. The
//! test skips, saying why, where either is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;

use common::{TempDir, call, login, make_certificates, ok};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// An https receiver: prints `PORT n` once listening, then one JSON line per
/// POST (`path`, the signature header, the body) and answers 200.
const RECEIVER: &str = r#"
import http.server, json, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        print(json.dumps({"path": self.path, "signature": self.headers.get("X-Switchboard-Signature"),
                          "body": body.decode()}), flush=True)
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("PORT", srv.server_address[1], flush=True)
srv.serve_forever()
"#;

/// Kills the child on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have(cmd: &str, arg: &str) -> bool {
    Command::new(cmd).arg(arg).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Start the receiver; its POSTs arrive on the channel.
fn receiver(dir: &Path) -> (Killed, u16, mpsc::Receiver<Value>) {
    let mut child = Command::new("python3")
        .args(["-c", RECEIVER])
        .arg(dir.join("leaf.pem"))
        .arg(dir.join("leaf.key"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("the receiver prints its port").unwrap();
    let port: u16 = first.strip_prefix("PORT ").expect("PORT line").parse().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if tx.send(serde_json::from_str::<Value>(&line).unwrap()).is_err() {
                break;
            }
        }
    });
    (Killed(child), port, rx)
}

/// `switchboard serve` on fresh data with `SSL_CERT_FILE` set (or not):
/// its address and the admin password printed on first start.
fn serve(data: &Path, ca_file: Option<&Path>) -> (Killed, SocketAddr, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--no-sip", "--data-dir"])
        .arg(data)
        .env("RUST_LOG", "warn")
        .env_remove("SWITCHBOARD_DATABASE_URL")
        .env_remove("SSL_CERT_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    match ca_file {
        Some(f) => cmd.env("SSL_CERT_FILE", f),
        None => cmd.env_remove("SSL_CERT_FILE"),
    };
    let mut child = cmd.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut password = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = loop {
        assert!(Instant::now() < deadline, "no `listening` line within 30 s");
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the server exited before listening");
        if let Some(rest) = line.strip_prefix("First start: created user `admin` with password `") {
            password = Some(rest.split('`').next().unwrap().to_string());
        }
        if let Some(rest) = line.strip_prefix("Switchboard listening on http://") {
            break rest.split('/').next().unwrap().parse::<SocketAddr>().unwrap();
        }
    };
    // Keep reading stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in stdout.lines().map_while(Result::ok) {});
    (Killed(child), addr, password.expect("first start prints the admin password"))
}

/// Configure an https webhook for `contact_arrived` and inject a contact.
fn hook_and_inject(addr: SocketAddr, password: &str, url: &str, secret: &str) -> u64 {
    let admin = login(addr, "admin", password);
    ok(addr, "PUT", "/api/admin/queues/1", &admin, Some(json!({ "id": 1, "name": "Q" })));
    let mut settings = ok(addr, "GET", "/api/admin/settings", &admin, None);
    settings["webhooks"] = json!([{ "url": url, "secret": secret, "events": ["contact_arrived"] }]);
    ok(addr, "PUT", "/api/admin/settings", &admin, Some(settings));
    let (status, v) = call(addr, "POST", "/api/contacts", Some(&admin), Some(json!({ "queue": 1 })));
    assert_eq!(status, 201, "{v}");
    v["contact"].as_u64().unwrap()
}

#[test]
fn webhooks_are_delivered_over_verified_https() {
    if !have("openssl", "version") || !have("python3", "--version") {
        eprintln!("SKIP: needs the openssl command and python3");
        return;
    }
    let dir = TempDir::new("https-hooks");
    make_certificates(&dir.0);
    let (_receiver, port, got) = receiver(&dir.0);
    let secret = "an-https-webhook-secret";
    let url = format!("https://localhost:{port}/hook");

    // The private CA trusted: the batch arrives, signed.
    let data = dir.0.join("trusting");
    let (server, addr, password) = serve(&data, Some(&dir.0.join("ca.pem")));
    let contact = hook_and_inject(addr, &password, &url, secret);
    let post = got.recv_timeout(Duration::from_secs(20)).expect("a webhook POST over https within 20 s");
    assert_eq!(post["path"], "/hook");
    let body = post["body"].as_str().unwrap();
    let sig = post["signature"].as_str().expect("signed");
    assert_eq!(sig, web::webhooks::signature(secret, body.as_bytes()));
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["events"][0]["type"], "contact_arrived", "{v}");
    assert_eq!(v["events"][0]["contact"], contact, "{v}");
    drop(server);
    while got.try_recv().is_ok() {}

    // The system store only (no SSL_CERT_FILE): the private CA is unknown,
    // so the TLS handshake fails and nothing reaches the receiver.
    let data = dir.0.join("untrusting");
    let (_server, addr, password) = serve(&data, None);
    hook_and_inject(addr, &password, &url, secret);
    assert!(got.recv_timeout(Duration::from_secs(4)).is_err(), "a certificate from an unknown CA was accepted");
}
