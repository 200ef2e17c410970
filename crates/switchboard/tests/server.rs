//! `switchboard serve` as a process: killed with SIGKILL in the middle of
//! traffic and restarted on the same data directory, it has lost nothing it
//! acknowledged; it resumes from its latest snapshot plus the tail of the
//! log. Plus the server's usage errors (exit code 2).
//!
//! The client is a few lines of HTTP/1.1 over `TcpStream` (one request per
//! connection), so the test needs nothing beyond the standard library and
//! `serde_json`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

use common::{TempDir, call, login, ok, try_call};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A running `switchboard serve`; killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
    /// The admin password printed on first start.
    admin_password: Option<String>,
    _stdout: BufReader<ChildStdout>,
}

/// The server's log lines (stderr), collected by a thread.
type Log = Arc<Mutex<Vec<String>>>;

impl Server {
    fn start(dir: &Path) -> Server {
        Server::start_with(dir, &[], None)
    }

    /// Start with extra flags; with `log`, the engine driver logs at info
    /// and its lines are collected there (and echoed to this stderr).
    fn start_with(dir: &Path, extra: &[&str], log: Option<Log>) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--no-sip", "--data-dir"])
            .arg(dir)
            .args(extra)
            .env("RUST_LOG", if log.is_some() { "warn,web::live=info" } else { "warn" })
            .env_remove("SWITCHBOARD_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if log.is_some() { Stdio::piped() } else { Stdio::inherit() })
            .spawn()
            .expect("the binary starts");
        if let (Some(log), Some(stderr)) = (log, child.stderr.take()) {
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    eprintln!("[server] {line}");
                    log.lock().unwrap().push(line);
                }
            });
        }
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut admin_password = None;
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            assert!(Instant::now() < deadline, "no `listening` line within 30 s");
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let status = child.wait().unwrap();
                panic!("the server exited before listening: {status}");
            }
            if let Some(rest) = line.strip_prefix("First start: created user `admin` with password `") {
                admin_password = Some(rest.split('`').next().unwrap().to_string());
            }
            if let Some(rest) = line.strip_prefix("Switchboard listening on http://") {
                break rest.split('/').next().unwrap().parse::<SocketAddr>().unwrap();
            }
        };
        assert!(addr.ip().is_loopback());
        Server { child, addr, admin_password, _stdout: stdout }
    }

    /// SIGKILL (what `Child::kill` sends on Unix), and reap.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGINT (Ctrl-C: a clean shutdown), and wait for the exit.
    fn interrupt(self) {
        self.signal("-INT");
    }

    /// Send a signal (`-INT`, `-TERM`) and wait for the exit.
    fn signal(mut self, which: &str) {
        let status = Command::new("kill").args([which, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "no exit within 20 s of SIGINT");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Live contacts by id, with their phase.
fn live_contacts(addr: SocketAddr, admin: &str) -> Vec<(u64, String)> {
    let v = ok(addr, "GET", "/api/contacts", admin, None);
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_u64().unwrap(), c["phase"]["phase"].as_str().unwrap_or("?").to_string()))
        .collect()
}

fn agent_of(addr: SocketAddr, token: &str) -> Value {
    ok(addr, "GET", "/api/me", token, None)["agent"].clone()
}

#[test]
fn sigkill_in_the_middle_of_traffic_loses_nothing_acknowledged() {
    let started = Instant::now();
    let dir = TempDir::new("sigkill");
    let server = Server::start(&dir.0);
    let addr = server.addr;
    let password = server.admin_password.clone().expect("first start prints the admin password");
    let admin = login(addr, "admin", &password);

    ok(addr, "PUT", "/api/admin/queues/1", &admin, Some(json!({ "id": 1, "name": "Q" })));
    ok(addr, "PUT", "/api/admin/agents/1", &admin, Some(json!({ "id": 1, "name": "A", "queues": [{ "queue": 1 }] })));
    let (status, v) = call(
        addr,
        "POST",
        "/api/admin/users",
        Some(&admin),
        Some(
            json!({ "login": "ann", "display_name": "Ann", "password": "ann-secret-1", "role": "agent", "agent_id": 1 }),
        ),
    );
    assert_eq!(status, 201, "{v}");
    let ann = login(addr, "ann", "ann-secret-1");
    ok(addr, "POST", "/api/agent/login", &ann, None);
    let v = ok(addr, "POST", "/api/agent/not-ready", &ann, Some(json!({ "reason": "break" })));
    assert_eq!(v["state"], "not-ready", "{v}");

    // Several clients inject contacts as fast as the server answers; every
    // 201 is an acknowledgement. The server is killed while they are at it.
    let acked = Arc::new(Mutex::new(Vec::<u64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicU32::new(0));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (acked, stop, failures, admin) = (acked.clone(), stop.clone(), failures.clone(), admin.clone());
            std::thread::spawn(move || {
                let body = json!({ "queue": 1, "caller": format!("+861380000{t:04}") });
                while !stop.load(Ordering::Relaxed) {
                    match try_call(addr, "POST", "/api/contacts", Some(&admin), Some(&body)) {
                        Ok((201, v)) => acked.lock().unwrap().push(v["contact"].as_u64().expect("contact id")),
                        Ok((status, v)) => panic!("injection answered {status} {v}"),
                        // The server is gone (or going): not acknowledged.
                        Err(_) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    let t0 = Instant::now();
    while acked.lock().unwrap().len() < 150 && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let before_kill = acked.lock().unwrap().len();
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("an injecting thread panicked");
    }
    let acked: BTreeSet<u64> = acked.lock().unwrap().iter().copied().collect();
    assert!(before_kill >= 50, "only {before_kill} contacts acknowledged before the kill");
    assert!(failures.load(Ordering::Relaxed) > 0, "no injection was cut off: the kill came too late");

    // Restart on the same data: no first-start admin, same password.
    let server = Server::start(&dir.0);
    assert_eq!(server.admin_password, None, "the restart created a new admin");
    let addr = server.addr;
    let admin = login(addr, "admin", &password);
    let live = live_contacts(addr, &admin);
    let live_ids: BTreeSet<u64> = live.iter().map(|(id, _)| *id).collect();
    let lost: Vec<u64> = acked.difference(&live_ids).copied().collect();
    assert!(lost.is_empty(), "{} acknowledged contacts lost (of {}): {lost:?}", lost.len(), acked.len());
    for (id, phase) in &live {
        assert_eq!(phase, "waiting", "contact {id} is {phase}, not waiting");
    }
    // Injections cut off by the kill may or may not have made it; nothing else may appear.
    let max_acked = *acked.last().unwrap();
    let extra = live_ids.len() - acked.len();
    eprintln!(
        "{} contacts acknowledged before SIGKILL, {} live after restart ({extra} cut off in flight but committed)",
        acked.len(),
        live_ids.len()
    );
    assert!(extra <= 8, "{extra} unacknowledged contacts appeared");
    let board = ok(addr, "GET", "/api/board", &admin, None);
    let waiting =
        board["queues"].as_array().unwrap().iter().find(|q| q["id"] == 1).expect("queue 1 on the board")["waiting"]
            .as_u64()
            .unwrap();
    assert_eq!(waiting as usize, live_ids.len(), "{board}");

    // The agent's session and state survived.
    let agent = agent_of(addr, &ann);
    assert_eq!(agent["state"], "not-ready", "{agent}");
    assert_eq!(agent["reason"], "break", "{agent}");

    // Contact ids continue after the log's largest.
    let (status, v) = call(addr, "POST", "/api/contacts", Some(&admin), Some(json!({ "queue": 1 })));
    assert_eq!(status, 201, "{v}");
    let new_id = v["contact"].as_u64().unwrap();
    assert!(new_id > *live_ids.last().unwrap() && new_id > max_acked, "new id {new_id} reuses an old one");

    // Ready: the oldest waiting contact is offered at once.
    ok(addr, "POST", "/api/agent/ready", &ann, None);
    let agent = agent_of(addr, &ann);
    assert_eq!(agent["state"], "reserved", "{agent}");
    let offered = agent["work"][0]["contact"].as_u64().unwrap();
    assert!(live_ids.contains(&offered), "offered {offered}, not one of the waiting contacts");
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
}

/// The numbers of the latest log line containing `what`: `key=value` pairs.
fn log_field(log: &Log, what: &str, key: &str) -> Option<u64> {
    let lines = log.lock().unwrap();
    let line = lines.iter().rev().find(|l| l.contains(what))?;
    let pat = format!("{key}=");
    let at = line.find(&pat)? + pat.len();
    line[at..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Wait for a log line containing `what`.
fn wait_log(log: &Log, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !log.lock().unwrap().iter().any(|l| l.contains(what)) {
        assert!(Instant::now() < deadline, "no log line with {what:?} within 20 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn restart_resumes_from_the_snapshot_and_replays_only_the_tail() {
    const EVERY: u64 = 40;
    let every = EVERY.to_string();
    let flags = ["--snapshot-every", every.as_str()];
    let dir = TempDir::new("snapshot");
    let log: Log = Arc::default();
    let server = Server::start_with(&dir.0, &flags, Some(log.clone()));
    let addr = server.addr;
    let password = server.admin_password.clone().expect("first start prints the admin password");
    let admin = login(addr, "admin", &password);
    assert_eq!(log_field(&log, "engine rebuilt", "snapshot_seq"), Some(0), "a first start has no snapshot");

    ok(addr, "PUT", "/api/admin/queues/1", &admin, Some(json!({ "id": 1, "name": "Q" })));
    let mut tokens = Vec::new();
    for (id, name) in [(1, "ann"), (2, "bob")] {
        ok(
            addr,
            "PUT",
            &format!("/api/admin/agents/{id}"),
            &admin,
            Some(json!({ "id": id, "name": name, "queues": [{ "queue": 1 }] })),
        );
        let body = json!({ "login": name, "display_name": name, "password": "agent-secret-1", "role": "agent", "agent_id": id });
        let (status, v) = call(addr, "POST", "/api/admin/users", Some(&admin), Some(body));
        assert_eq!(status, 201, "{v}");
        tokens.push(login(addr, name, "agent-secret-1"));
    }
    let (ann, bob) = (tokens[0].clone(), tokens[1].clone());
    ok(addr, "POST", "/api/agent/login", &ann, None);
    ok(addr, "POST", "/api/agent/not-ready", &ann, Some(json!({ "reason": "break" })));
    ok(addr, "POST", "/api/agent/login", &bob, None);
    ok(addr, "POST", "/api/agent/ready", &bob, None);

    // Bob takes the first contact; the others wait. Enough events for a few snapshots.
    let first = ok(addr, "POST", "/api/contacts", &admin, Some(json!({ "queue": 1 })))["contact"].as_u64().unwrap();
    ok(addr, "POST", &format!("/api/contacts/{first}/accept"), &bob, None);
    let mut waiting = BTreeSet::new();
    for i in 0..60 {
        let v =
            ok(addr, "POST", "/api/contacts", &admin, Some(json!({ "queue": 1, "caller": format!("+86138{i:06}") })));
        waiting.insert(v["contact"].as_u64().unwrap());
    }
    wait_log(&log, "snapshot saved at seq");
    std::thread::sleep(Duration::from_millis(500));
    let snapshot_seq = log_field(&log, "snapshot saved at seq", "seq").unwrap();
    // The tail: a few events after the latest snapshot, fewer than would trigger the next.
    for _ in 0..3 {
        let v = ok(addr, "POST", "/api/contacts", &admin, Some(json!({ "queue": 1 })));
        waiting.insert(v["contact"].as_u64().unwrap());
    }
    assert_eq!(log_field(&log, "snapshot saved at seq", "seq"), Some(snapshot_seq), "no newer snapshot");
    server.kill();

    // kill -9, restart: the latest snapshot plus the tail.
    let log: Log = Arc::default();
    let server = Server::start_with(&dir.0, &flags, Some(log.clone()));
    let addr = server.addr;
    wait_log(&log, "engine rebuilt");
    assert_eq!(log_field(&log, "engine rebuilt", "snapshot_seq"), Some(snapshot_seq));
    let replayed = log_field(&log, "engine rebuilt", "replayed_events").unwrap();
    assert!(replayed > 0 && replayed < EVERY, "replayed {replayed} events after the snapshot at {snapshot_seq}");
    assert!(replayed < snapshot_seq);
    eprintln!("restart: snapshot at seq {snapshot_seq}, {replayed} events replayed");

    let admin = login(addr, "admin", &password);
    let live = live_contacts(addr, &admin);
    let mut still_waiting = BTreeSet::new();
    for (id, phase) in &live {
        if *id == first {
            assert_eq!(phase, "connected", "bob's contact {id}");
        } else {
            assert_eq!(phase, "waiting", "contact {id}");
            still_waiting.insert(*id);
        }
    }
    assert_eq!(still_waiting, waiting, "the waiting contacts are still waiting");
    let board = ok(addr, "GET", "/api/board", &admin, None);
    let q1 = board["queues"].as_array().unwrap().iter().find(|q| q["id"] == 1).expect("queue 1 on the board").clone();
    assert_eq!(q1["waiting"].as_u64(), Some(waiting.len() as u64), "{board}");
    let a = agent_of(addr, &ann);
    assert_eq!((a["state"].as_str(), a["reason"].as_str()), (Some("not-ready"), Some("break")), "{a}");
    let b = agent_of(addr, &bob);
    assert_eq!(b["state"], "busy", "{b}");
    assert_eq!(b["work"][0]["contact"].as_u64(), Some(first), "{b}");

    // It carries on: ids continue, and Ann ready gets the oldest waiting contact.
    let v = ok(addr, "POST", "/api/contacts", &admin, Some(json!({ "queue": 1 })));
    assert!(v["contact"].as_u64().unwrap() > *waiting.last().unwrap());
    ok(addr, "POST", "/api/agent/ready", &ann, None);
    let a = agent_of(addr, &ann);
    assert_eq!(a["state"], "reserved", "{a}");
    assert_eq!(a["work"][0]["contact"].as_u64(), waiting.first().copied(), "{a}");

    // A clean shutdown saves a snapshot: the next start replays nothing.
    server.interrupt();
    let log: Log = Arc::default();
    let server = Server::start_with(&dir.0, &flags, Some(log.clone()));
    wait_log(&log, "engine rebuilt");
    assert_eq!(log_field(&log, "engine rebuilt", "replayed_events"), Some(0));
    assert!(log_field(&log, "engine rebuilt", "snapshot_seq").unwrap() > snapshot_seq);
    let admin = login(server.addr, "admin", &password);
    assert_eq!(live_contacts(server.addr, &admin).len(), waiting.len() + 2);

    // SIGTERM (how systemd and Docker stop a service) is a clean shutdown too.
    ok(server.addr, "POST", "/api/contacts", &admin, Some(json!({ "queue": 1 })));
    server.signal("-TERM");
    let log: Log = Arc::default();
    let server = Server::start_with(&dir.0, &flags, Some(log.clone()));
    wait_log(&log, "engine rebuilt");
    assert_eq!(log_field(&log, "engine rebuilt", "replayed_events"), Some(0), "SIGTERM saved no snapshot");
    let admin = login(server.addr, "admin", &password);
    assert_eq!(live_contacts(server.addr, &admin).len(), waiting.len() + 3);
    drop(server);
}

#[test]
fn usage_errors_exit_with_code_2() {
    let dir = TempDir::new("usage");
    let config = dir.0.join("switchboard.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\ncolour = \"blue\"\n").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--data-dir"])
        .arg(dir.0.join("data"))
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("colour"), "the unknown key is not named: {stderr}");

    let out = Command::new(BIN)
        .args(["demo", "--listen", "nonsense", "--data-dir"])
        .arg(dir.0.join("demo"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nonsense"), "{stderr}");
}
