//! Load benchmark of the server (issue 3's target): 500 agents connected to
//! live updates, 50 new contacts a second through the API; p99 API latency
//! under 50 ms, the screen-pop on the agent's connection within 100 ms of
//! the offer, idle memory under 100 MB.
//!
//! ```text
//! cargo run --release -p web --example load -- [--agents 500] [--rate 50] [--seconds 60]
//!     [--talk-ms 2000-6000] [--queues 4] [--server-bin target/release/switchboard]
//! ```
//!
//! The store is seeded directly (agents, users with one precomputed Argon2
//! hash, customers, queues with no wrap-up); then the server runs in this
//! process on its own runtime (default), or as `switchboard serve` on the
//! seeded data directory (`--server-bin`, so its memory is its own). The
//! clients sign every agent in through the API, open one SSE connection per
//! agent, make them ready, and inject contacts at a fixed rate (open loop:
//! a slow answer does not slow the arrivals). An agent accepts an offer as
//! soon as its connection delivers `event: offer`, talks for a while and
//! hangs up.
//!
//! Measured: client-side latency of every API call (request sent → whole
//! answer read); the screen-pop delay, arrival of the `offer` event minus
//! the offer's creation on the server's clock (`deadline − offer_timeout_ms`,
//! millisecond resolution, same host clock); resident memory (VmRSS) at
//! start, idle with every agent connected and ready, and at the end. In
//! the in-process mode the memory includes the load generator's side of
//! the 500 connections.

use engine::{AgentConfig, AgentId, EngineConfig, QueueConfig, QueueId};
use std::collections::BTreeMap;
use std::error::Error;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use store::{AccountStore, ConfigStore, CustomerStore, NewUser, Role, Store};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

const PASSWORD: &str = "load-test-password";
const OFFER_TIMEOUT_MS: u64 = 15_000;
const CUSTOMERS: u32 = 2_000;

#[derive(Clone, Debug)]
struct Opts {
    agents: u32,
    rate: f64,
    seconds: u64,
    talk_ms: (u64, u64),
    queues: u32,
    server_bin: Option<PathBuf>,
}

fn parse_args() -> Res<Opts> {
    let mut o = Opts { agents: 500, rate: 50.0, seconds: 60, talk_ms: (2_000, 6_000), queues: 4, server_bin: None };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{a}: value missing"));
        match a.as_str() {
            "--agents" => o.agents = val()?.parse()?,
            "--rate" => o.rate = val()?.parse()?,
            "--seconds" => o.seconds = val()?.parse()?,
            "--queues" => o.queues = val()?.parse::<u32>()?.max(1),
            "--talk-ms" => {
                let v = val()?;
                let (lo, hi) = v.split_once('-').unwrap_or((&v, &v));
                o.talk_ms = (lo.parse()?, hi.parse()?);
            }
            "--server-bin" => o.server_bin = Some(PathBuf::from(val()?)),
            "-h" | "--help" => {
                println!(
                    "load [--agents N] [--rate PER_S] [--seconds S] [--talk-ms LO-HI] [--queues N] [--server-bin PATH]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(o)
}

/// Milliseconds since the Unix epoch, with a fraction.
fn wall_ms() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64() * 1e3).unwrap_or(0.0)
}

fn rss_kib(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Latency samples (milliseconds) by name, and counters.
#[derive(Default)]
struct Stats {
    samples: Mutex<BTreeMap<&'static str, Vec<f64>>>,
    errors: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    fn add(&self, name: &'static str, ms: f64) {
        self.samples.lock().unwrap_or_else(PoisonError::into_inner).entry(name).or_default().push(ms);
    }
    fn error(&self, what: String) {
        *self.errors.lock().unwrap_or_else(PoisonError::into_inner).entry(what).or_default() += 1;
    }
    fn take(&self, name: &'static str) -> Vec<f64> {
        self.samples.lock().unwrap_or_else(PoisonError::into_inner).remove(name).unwrap_or_default()
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

struct Client {
    http: reqwest::Client,
    base: String,
    stats: Arc<Stats>,
}

impl Client {
    /// A timed API call; the status and the JSON answer (Null when empty).
    async fn call(
        &self,
        name: &'static str,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> Res<(u16, serde_json::Value)> {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(b) = &body {
            req = req.json(b);
        }
        let t = Instant::now();
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?;
        self.stats.add(name, t.elapsed().as_secs_f64() * 1e3);
        let v = if bytes.is_empty() { serde_json::Value::Null } else { serde_json::from_slice(&bytes)? };
        if !(200..300).contains(&status) {
            let code = v["error"]["code"].as_str().unwrap_or("?");
            self.stats.error(format!("{name}: {status} {code}"));
        }
        Ok((status, v))
    }

    async fn login(&self, login: &str) -> Res<String> {
        let t = Instant::now();
        let resp = self
            .http
            .post(format!("{}/api/login", self.base))
            .json(&serde_json::json!({ "login": login, "password": PASSWORD }))
            .send()
            .await?;
        let status = resp.status();
        let v: serde_json::Value = resp.json().await?;
        self.stats.add("login (Argon2)", t.elapsed().as_secs_f64() * 1e3);
        if !status.is_success() {
            return Err(format!("login {login}: {status} {v}").into());
        }
        Ok(v["token"].as_str().ok_or("no token")?.to_string())
    }
}

/// Seed queues, agents, users and customers straight into the store.
async fn seed(store: &Store, o: &Opts) -> Res<()> {
    let t = Instant::now();
    let hash = web::auth::hash_password(PASSWORD)?;
    let queues: Vec<QueueConfig> = (1..=o.queues)
        .map(|q| {
            let mut c = QueueConfig::new(QueueId(q), format!("Queue {q}"));
            c.wrap_up_ms = 0;
            c.offer_timeout_ms = OFFER_TIMEOUT_MS;
            c
        })
        .collect();
    let ids: Vec<QueueId> = queues.iter().map(|q| q.id).collect();
    let agents = (1..=o.agents).map(|a| AgentConfig::new(AgentId(a), format!("Agent {a}"), &ids)).collect();
    store.save_engine_config(&EngineConfig { settings: engine::Settings::default(), queues, agents }).await?;
    for a in 1..=o.agents {
        store
            .create_user(&NewUser {
                login: format!("agent{a}"),
                display_name: format!("Agent {a}"),
                password_hash: hash.clone(),
                role: Role::Agent,
                team_id: None,
                agent_id: Some(AgentId(a)),
            })
            .await?;
    }
    store
        .create_user(&NewUser {
            login: "sup".into(),
            display_name: "Supervisor".into(),
            password_hash: hash,
            role: Role::Supervisor,
            team_id: None,
            agent_id: None,
        })
        .await?;
    let rows: Vec<_> = (0..CUSTOMERS).map(|i| (Some(format!("cust-{i:05}")), web::demo::customer(i))).collect();
    store.upsert_customers(&rows).await?;
    println!(
        "seeded {} agents, {} queues, {CUSTOMERS} customers in {:.1} s",
        o.agents,
        o.queues,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Where the server runs.
enum Server {
    InProcess { _rt: tokio::runtime::Runtime },
    Child(std::process::Child),
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Server::Child(c) = self {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start_server(o: &Opts, dir: &std::path::Path) -> Res<(Server, String, u32)> {
    let seed_rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    seed_rt.block_on(async {
        let store = Store::open_sqlite_dir(dir).await?;
        seed(&store, o).await?;
        store.close().await;
        Res::Ok(())
    })?;
    drop(seed_rt);
    match &o.server_bin {
        None => {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("server").build()?;
            let addr = rt.block_on(async {
                let store = Store::open_sqlite_dir(dir).await?;
                let app = web::AppState::start(store, web::live::LiveOptions::default()).await?;
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let addr = listener.local_addr()?;
                tokio::spawn(web::serve(listener, app, std::future::pending()));
                Res::Ok(addr)
            })?;
            Ok((Server::InProcess { _rt: rt }, format!("http://{addr}"), std::process::id()))
        }
        Some(bin) => {
            use std::io::BufRead;
            let mut child = std::process::Command::new(bin)
                .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
                .arg(dir)
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::piped())
                .spawn()?;
            let pid = child.id();
            let mut out = std::io::BufReader::new(child.stdout.take().ok_or("no stdout")?);
            let mut line = String::new();
            loop {
                line.clear();
                if out.read_line(&mut line)? == 0 {
                    return Err("the server exited before listening".into());
                }
                if let Some(rest) = line.strip_prefix("Switchboard listening on ") {
                    let base = rest.split_whitespace().next().ok_or("no address")?.trim_end_matches('/').to_string();
                    // Keep reading (and discarding) its output.
                    std::thread::spawn(move || while out.read_line(&mut String::new()).is_ok_and(|n| n > 0) {});
                    return Ok((Server::Child(child), base, pid));
                }
            }
        }
    }
}

/// Shared by the agents' tasks.
struct Floor {
    client: Client,
    talk_ms: (u64, u64),
    connected: AtomicUsize,
    offers: AtomicU64,
    busy: AtomicUsize,
    handled: AtomicU64,
    rng: Mutex<engine::rng::Rng>,
}

/// One agent's live connection: accept offers as they arrive.
async fn agent_conn(floor: Arc<Floor>, agent: u32, token: String) {
    let resp = match floor.client.http.get(format!("{}/api/stream", floor.client.base)).bearer_auth(&token).send().await
    {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => {
            floor.client.stats.error(format!("stream: {}", r.status()));
            return;
        }
        Err(e) => {
            floor.client.stats.error(format!("stream: {e}"));
            return;
        }
    };
    let mut resp = resp;
    let mut buf = String::new();
    loop {
        let chunk = match resp.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                floor.client.stats.error(format!("stream read: {e}"));
                break;
            }
        };
        let received = wall_ms();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut name, mut data) = ("message", String::new());
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event:") {
                    name = if n.trim() == "offer" {
                        "offer"
                    } else if n.trim() == "hello" {
                        "hello"
                    } else if n.trim() == "lagged" {
                        "lagged"
                    } else {
                        "other"
                    };
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            match name {
                "hello" => {
                    floor.connected.fetch_add(1, Ordering::Relaxed);
                }
                "lagged" => floor.client.stats.error("stream: lagged".into()),
                "offer" => {
                    let v: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
                    let (Some(contact), Some(deadline)) = (v["contact"].as_u64(), v["deadline"].as_u64()) else {
                        floor.client.stats.error("offer without contact/deadline".into());
                        continue;
                    };
                    let created = deadline.saturating_sub(OFFER_TIMEOUT_MS) as f64;
                    floor.client.stats.add("offer → SSE (screen-pop)", received - created);
                    floor.offers.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(handle(floor.clone(), agent, contact, token.clone()));
                }
                _ => {}
            }
        }
    }
    floor.connected.fetch_sub(1, Ordering::Relaxed);
}

async fn handle(floor: Arc<Floor>, _agent: u32, contact: u64, token: String) {
    floor.busy.fetch_add(1, Ordering::Relaxed);
    let c = &floor.client;
    let accepted = c
        .call(
            "POST /api/contacts/{id}/accept",
            reqwest::Method::POST,
            &format!("/api/contacts/{contact}/accept"),
            &token,
            None,
        )
        .await;
    if let Ok((200, _)) = accepted {
        let talk = {
            let (lo, hi) = floor.talk_ms;
            let mut rng = floor.rng.lock().unwrap_or_else(PoisonError::into_inner);
            lo + rng.below(hi.saturating_sub(lo).max(1))
        };
        tokio::time::sleep(Duration::from_millis(talk)).await;
        let path = format!("/api/contacts/{contact}/hangup");
        if let Ok((200, _)) = c.call("POST /api/contacts/{id}/hangup", reqwest::Method::POST, &path, &token, None).await
        {
            floor.handled.fetch_add(1, Ordering::Relaxed);
        }
    } else if let Err(e) = accepted {
        c.stats.error(format!("accept: {e}"));
    }
    floor.busy.fetch_sub(1, Ordering::Relaxed);
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

async fn run(o: Opts, base: String, pid: u32) -> Res<()> {
    let stats = Arc::new(Stats::default());
    let http = reqwest::Client::builder().pool_max_idle_per_host(1_000).build()?;
    let client = Client { http, base, stats: stats.clone() };
    let mut memory = vec![("server started (seeded, no client)", rss_kib(pid))];

    // Sign everyone in (Argon2 on the server's blocking pool, a few at a time).
    let t = Instant::now();
    let sup = client.login("sup").await?;
    let logins: Vec<u32> = (1..=o.agents).collect();
    let mut tokens = vec![String::new(); o.agents as usize];
    let client = Arc::new(client);
    for batch in logins.chunks(8) {
        let mut set = tokio::task::JoinSet::new();
        for &a in batch {
            let c = client.clone();
            set.spawn(async move { (a, c.login(&format!("agent{a}")).await) });
        }
        while let Some(r) = set.join_next().await {
            let (a, token) = r?;
            tokens[a as usize - 1] = token?;
        }
    }
    println!("{} agents signed in in {:.1} s", o.agents, t.elapsed().as_secs_f64());

    let client = Arc::try_unwrap(client).map_err(|_| "client still shared")?;
    let floor = Arc::new(Floor {
        client,
        talk_ms: o.talk_ms,
        connected: AtomicUsize::new(0),
        offers: AtomicU64::new(0),
        busy: AtomicUsize::new(0),
        handled: AtomicU64::new(0),
        rng: Mutex::new(engine::rng::Rng::new(42)),
    });
    let t = Instant::now();
    for (i, token) in tokens.iter().enumerate() {
        tokio::spawn(agent_conn(floor.clone(), i as u32 + 1, token.clone()));
    }
    while floor.connected.load(Ordering::Relaxed) < o.agents as usize {
        if t.elapsed() > Duration::from_secs(60) {
            return Err(format!("only {} SSE connections after 60 s", floor.connected.load(Ordering::Relaxed)).into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("{} SSE connections open in {:.2} s", o.agents, t.elapsed().as_secs_f64());
    let c = &floor.client;
    for chunk in tokens.chunks(50) {
        let mut set = tokio::task::JoinSet::new();
        for token in chunk {
            let (f, token) = (floor.clone(), token.clone());
            set.spawn(async move {
                let c = &f.client;
                let a = c.call("POST /api/agent/login", reqwest::Method::POST, "/api/agent/login", &token, None).await;
                let b = c.call("POST /api/agent/ready", reqwest::Method::POST, "/api/agent/ready", &token, None).await;
                a.and(b).map(|_| ())
            });
        }
        while let Some(r) = set.join_next().await {
            r??;
        }
    }
    let board = c.call("GET /api/board", reqwest::Method::GET, "/api/board", &sup, None).await?.1;
    println!("agents ready: {}", board["states"]["ready"]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    memory.push(("idle: all agents signed in, connected, ready", rss_kib(pid)));

    // Contacts at a fixed rate.
    println!("injecting {} contacts/s for {} s …", o.rate, o.seconds);
    let period = Duration::from_secs_f64(1.0 / o.rate);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = (o.rate * o.seconds as f64).round() as u64;
    let started = Instant::now();
    let injected = Arc::new(AtomicU64::new(0));
    let mut pending = tokio::task::JoinSet::new();
    let mut peak_busy = 0;
    let mut rng = engine::rng::Rng::new(7);
    for n in 0..total {
        tick.tick().await;
        let queue = (n % u64::from(o.queues)) as u32 + 1;
        // Most callers are known customers (screen-pop with history).
        let caller = if rng.below(10) < 8 {
            web::demo::demo_phone(rng.below(u64::from(CUSTOMERS)) as u32)
        } else {
            format!("+86139{:08}", rng.below(100_000_000))
        };
        let (f, sup, injected) = (floor.clone(), sup.clone(), injected.clone());
        pending.spawn(async move {
            let body =
                serde_json::json!({ "queue": queue, "caller": caller, "language": "zh", "problem_type": "order" });
            match f.client.call("POST /api/contacts", reqwest::Method::POST, "/api/contacts", &sup, Some(body)).await {
                Ok((201, _)) => {
                    injected.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(e) => f.client.stats.error(format!("inject: {e}")),
            }
        });
        while pending.try_join_next().is_some() {}
        peak_busy = peak_busy.max(floor.busy.load(Ordering::Relaxed));
    }
    while pending.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    memory.push(("end of injection", rss_kib(pid)));
    // Let the last calls end.
    let t = Instant::now();
    while floor.busy.load(Ordering::Relaxed) > 0 && t.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let board = c.call("GET /api/board", reqwest::Method::GET, "/api/board", &sup, None).await?.1;
    let waiting: u64 =
        board["queues"].as_array().map(|qs| qs.iter().filter_map(|q| q["waiting"].as_u64()).sum()).unwrap_or(0);
    memory.push(("after the last call ended", rss_kib(pid)));

    println!();
    println!(
        "{} contacts injected in {elapsed:.1} s ({:.1}/s); {} offers reached agents; {} handled; peak {peak_busy} agents busy; {waiting} still waiting; {} SSE connections open",
        injected.load(Ordering::Relaxed),
        injected.load(Ordering::Relaxed) as f64 / elapsed,
        floor.offers.load(Ordering::Relaxed),
        floor.handled.load(Ordering::Relaxed),
        floor.connected.load(Ordering::Relaxed),
    );
    println!();
    println!("{:<36} {:>7} {:>9} {:>9} {:>9} {:>9}", "latency (ms)", "n", "p50", "p99", "p99.9", "max");
    let mut api_all = Vec::new();
    let names = [
        "POST /api/contacts",
        "POST /api/contacts/{id}/accept",
        "POST /api/contacts/{id}/hangup",
        "POST /api/agent/login",
        "POST /api/agent/ready",
        "GET /api/board",
        "login (Argon2)",
        "offer → SSE (screen-pop)",
    ];
    let mut rows = Vec::new();
    for name in names {
        let mut v = stats.take(name);
        v.sort_by(f64::total_cmp);
        if name.starts_with("POST /api/contacts") {
            api_all.extend_from_slice(&v);
        }
        rows.push((name.to_string(), v));
    }
    api_all.sort_by(f64::total_cmp);
    rows.insert(3, ("all API calls under load".to_string(), api_all));
    for (name, v) in &rows {
        println!(
            "{:<36} {:>7} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            name,
            v.len(),
            pct(v, 50.0),
            pct(v, 99.0),
            pct(v, 99.9),
            v.last().copied().unwrap_or(f64::NAN)
        );
    }
    println!();
    let mode = if o.server_bin.is_some() { "server process" } else { "this process (server + load generator)" };
    println!("{:<48} {:>12} {:>12}   ({mode})", "memory", "VmRSS", "VmHWM");
    for (what, (rss, hwm)) in &memory {
        println!("{what:<48} {:>12} {:>12}", mib(*rss), mib(*hwm));
    }
    let errors = stats.errors.lock().unwrap_or_else(PoisonError::into_inner);
    if !errors.is_empty() {
        println!();
        println!("errors:");
        for (what, n) in errors.iter() {
            println!("  {n:>6}  {what}");
        }
    }
    Ok(())
}

fn main() -> Res<()> {
    let o = parse_args()?;
    let dir = std::env::temp_dir().join(format!("switchboard-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let outcome = (|| {
        let (server, base, pid) = start_server(&o, &dir)?;
        println!("server at {base} (pid {pid})");
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("load").build()?;
        let r = rt.block_on(run(o.clone(), base, pid));
        rt.shutdown_timeout(Duration::from_secs(1));
        drop(server);
        r
    })();
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}
