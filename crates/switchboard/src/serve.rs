//! `switchboard serve` and `switchboard demo`: the server, for production
//! (a config file, environment overrides, an admin created on first start)
//! and with the demo company and its simulated traffic.

use crate::UsageError;
use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use store::{AccountStore, Location, NewUser, Role, Store};
use web::AppState;
use web::demo::{DEMO_PASSWORD, DemoOptions};
use web::live::LiveOptions;

/// Where to listen and where the data lives (shared by `serve` and `demo`).
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0: any free port).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<String>,
    /// Directory of the embedded SQLite database.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://user:pass@host:port/db) instead of SQLite.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Save a snapshot of the engine every N events (0: only on a clean
    /// shutdown); a restart resumes from it plus the events after it.
    #[arg(long, value_name = "N", default_value_t = web::snapshot::DEFAULT_SNAPSHOT_EVERY)]
    snapshot_every: u64,
    #[command(flatten)]
    voice: VoiceArgs,
}

/// Telephony options.
#[derive(Debug, clap::Args)]
pub struct VoiceArgs {
    /// SIP address (UDP and TCP) for trunks and agents' phones [default:
    /// 127.0.0.1:5060; if that is taken the server runs without telephony].
    #[arg(long, value_name = "ADDR:PORT")]
    sip: Option<String>,
    /// Run without telephony.
    #[arg(long, conflicts_with_all = ["sip", "sip_tls"])]
    no_sip: bool,
    /// SIP over TLS on this address, e.g. 0.0.0.0:5061 [default: off]
    /// (signalling only: media stays plain RTP).
    #[arg(long, value_name = "ADDR:PORT")]
    sip_tls: Option<String>,
    /// Certificate chain for --sip-tls (PEM, the leaf first).
    #[arg(long, value_name = "FILE")]
    sip_tls_cert: Option<PathBuf>,
    /// Private key for --sip-tls (PEM: PKCS#8 or PKCS#1 RSA).
    #[arg(long, value_name = "FILE")]
    sip_tls_key: Option<PathBuf>,
    /// RTP port range, e.g. 30000-30999 [default: any free port].
    #[arg(long, value_name = "LOW-HIGH")]
    rtp_ports: Option<String>,
    /// Address announced in SDP and Contact headers [default: the SIP address].
    #[arg(long, value_name = "IP")]
    advertise: Option<std::net::IpAddr>,
    /// Prompt directory (`<lang>/<name>.wav`) [default: <data dir>/prompts].
    #[arg(long, value_name = "DIR")]
    prompts: Option<PathBuf>,
    /// Recordings and voicemail [default: <data dir>/recordings].
    #[arg(long, value_name = "DIR")]
    recordings: Option<PathBuf>,
}

/// Run the server.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    common: Common,
    /// TOML file with `listen`, `data_dir`, `database_url`, `sip_tls`,
    /// `sip_tls_cert`, `sip_tls_key`. Environment variables
    /// SWITCHBOARD_LISTEN, SWITCHBOARD_DATA_DIR, SWITCHBOARD_DATABASE_URL,
    /// SWITCHBOARD_SIP_TLS, SWITCHBOARD_SIP_TLS_CERT and
    /// SWITCHBOARD_SIP_TLS_KEY override it; flags override both.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Run the server with the demo company and simulated traffic.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    common: Common,
    /// Simulated agents.
    #[arg(long, default_value_t = 24)]
    agents: u32,
    /// Simulated calls per minute.
    #[arg(long, default_value_t = 16.0)]
    calls_per_minute: f64,
    /// Start from an empty data directory (deletes the demo's old data).
    #[arg(long)]
    fresh: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    sip_tls: Option<String>,
    sip_tls_cert: Option<PathBuf>,
    sip_tls_key: Option<PathBuf>,
}

struct Resolved {
    listen: String,
    snapshot_every: u64,
    location: Location,
    voice: Option<(voice::VoiceConfig, bool)>,
}

/// Telephony configuration from the flags; `bool`: the address was asked
/// for explicitly (then failing to bind it is an error).
fn resolve_voice(v: VoiceArgs, location: &Location) -> Result<Option<(voice::VoiceConfig, bool)>> {
    if v.no_sip {
        return Ok(None);
    }
    let tls = resolve_tls(&v)?;
    // TLS asked for: failing to start telephony is an error.
    let explicit = v.sip.is_some() || tls.is_some();
    let raw = v.sip.unwrap_or_else(|| "127.0.0.1:5060".into());
    let sip =
        raw.parse().map_err(|_| UsageError(format!("--sip {raw:?}: expected ADDR:PORT such as 127.0.0.1:5060")))?;
    let rtp_ports = match v.rtp_ports {
        None => None,
        Some(r) => {
            let parsed = r
                .split_once('-')
                .and_then(|(a, b)| Some((a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?)));
            match parsed {
                Some((lo, hi)) if lo > 0 && lo <= hi => Some((lo, hi)),
                _ => return Err(UsageError(format!("--rtp-ports {r:?}: expected LOW-HIGH such as 30000-30999")).into()),
            }
        }
    };
    let base = match location {
        Location::DataDir(d) => d.clone(),
        _ => PathBuf::from("switchboard-media"),
    };
    Ok(Some((
        voice::VoiceConfig {
            sip,
            advertise: v.advertise,
            rtp_ports,
            prompts_dir: v.prompts.unwrap_or_else(|| base.join("prompts")),
            recordings_dir: v.recordings.unwrap_or_else(|| base.join("recordings")),
            tls,
        },
        explicit,
    )))
}

/// SIP over TLS from the flags (already merged with the file and the
/// environment): the certificate and key are read and checked here, so a
/// bad one is a usage error before anything starts.
fn resolve_tls(v: &VoiceArgs) -> Result<Option<voice::SipTls>> {
    let Some(raw) = &v.sip_tls else {
        if v.sip_tls_cert.is_some() || v.sip_tls_key.is_some() {
            return Err(UsageError("--sip-tls-cert/--sip-tls-key need --sip-tls ADDR:PORT".into()).into());
        }
        return Ok(None);
    };
    if v.no_sip {
        return Err(UsageError("--sip-tls and --no-sip exclude each other".into()).into());
    }
    let addr =
        raw.parse().map_err(|_| UsageError(format!("--sip-tls {raw:?}: expected ADDR:PORT such as 0.0.0.0:5061")))?;
    let read = |flag: &str, path: &Option<PathBuf>| -> Result<Vec<u8>> {
        let Some(path) = path else {
            return Err(UsageError(format!("--sip-tls needs {flag} FILE (PEM)")).into());
        };
        std::fs::read(path).map_err(|e| UsageError(format!("{flag} {}: {e}", path.display())).into())
    };
    let tls = voice::SipTls {
        addr,
        cert_pem: read("--sip-tls-cert", &v.sip_tls_cert)?,
        key_pem: read("--sip-tls-key", &v.sip_tls_key)?,
    };
    if let Err(e) = tls.check() {
        let (cert, key) = (v.sip_tls_cert.as_deref(), v.sip_tls_key.as_deref());
        let file = match e {
            voice::TlsError::Key(_) => key,
            _ => cert,
        };
        let file = file.map(|p| p.display().to_string()).unwrap_or_default();
        return Err(UsageError(format!("--sip-tls: {file}: {e}")).into());
    }
    Ok(Some(tls))
}

/// Start telephony next to the web server; prompts are generated in the
/// background on first start when espeak-ng and sox are installed.
async fn start_voice(app: &Arc<AppState>, voice: Option<(voice::VoiceConfig, bool)>) -> Result<Option<voice::Voice>> {
    let Some((config, explicit)) = voice else { return Ok(None) };
    let sip = config.sip;
    let v = match voice::Voice::start(app.clone(), config).await {
        Ok(v) => v,
        Err(e) if !explicit => {
            crate::emit(&format!("Telephony off: SIP {sip}: {e} (give --sip ADDR:PORT, or --no-sip)\n"))?;
            return Ok(None);
        }
        Err(e) => return Err(anyhow::anyhow!("SIP {sip}: {e}")),
    };
    let dir = v.prompts().dir().to_path_buf();
    if !voice::prompts::complete(&dir) {
        let v2 = v.clone();
        tokio::spawn(async move {
            match voice::prompts::generate(&dir, false).await {
                Ok(n) => {
                    tracing::info!(written = n, dir = %dir.display(), "prompts generated");
                    v2.prompts().reload();
                }
                Err(e) => tracing::warn!("prompts not generated ({e}); missing clips play as a beep"),
            }
        });
    }
    Ok(Some(v))
}

fn live_options(r: &Resolved) -> LiveOptions {
    LiveOptions { snapshot_every: r.snapshot_every, ..LiveOptions::default() }
}

/// On a clean shutdown: save a snapshot so the next start replays nothing.
async fn save_snapshot(app: &AppState) {
    match app.live.save_snapshot().await {
        Some(seq) => tracing::info!("snapshot saved at seq {seq} on shutdown"),
        None => tracing::debug!("no snapshot on shutdown (nothing new, or not saved)"),
    }
}

fn resolve(common: Common, file: FileConfig, default_dir: &str) -> Result<Resolved> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let listen =
        common.listen.or_else(|| env("SWITCHBOARD_LISTEN")).or(file.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
    let url = common.database_url.or_else(|| env("SWITCHBOARD_DATABASE_URL")).or(file.database_url);
    let dir = common.data_dir.or_else(|| env("SWITCHBOARD_DATA_DIR").map(PathBuf::from)).or(file.data_dir);
    let mut voice_args = common.voice;
    voice_args.sip_tls = voice_args.sip_tls.or_else(|| env("SWITCHBOARD_SIP_TLS")).or(file.sip_tls);
    voice_args.sip_tls_cert =
        voice_args.sip_tls_cert.or_else(|| env("SWITCHBOARD_SIP_TLS_CERT").map(PathBuf::from)).or(file.sip_tls_cert);
    voice_args.sip_tls_key =
        voice_args.sip_tls_key.or_else(|| env("SWITCHBOARD_SIP_TLS_KEY").map(PathBuf::from)).or(file.sip_tls_key);
    let location = match (url, dir) {
        (Some(_), Some(_)) => {
            return Err(UsageError("give either a database URL or a data directory, not both".into()).into());
        }
        (Some(url), None) => match Location::parse(&url) {
            l @ Location::Postgres { .. } => l,
            _ => return Err(UsageError(format!("database URL {url:?}: expected postgres://…")).into()),
        },
        (None, dir) => Location::DataDir(dir.unwrap_or_else(|| PathBuf::from(default_dir))),
    };
    let voice = resolve_voice(voice_args, &location)?;
    Ok(Resolved { listen, snapshot_every: common.snapshot_every, location, voice })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

async fn open(location: &Location) -> Result<Store> {
    Store::open(location).await.with_context(|| format!("opening the store at {location:?}"))
}

fn parse_listen(listen: &str) -> Result<std::net::SocketAddr> {
    let addr = listen
        .parse()
        .map_err(|_| UsageError(format!("--listen {listen:?}: expected ADDR:PORT such as 127.0.0.1:8080")))?;
    Ok(addr)
}

async fn bind(addr: std::net::SocketAddr) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))
}

/// Ctrl-C, or SIGTERM (what systemd, Docker and Kubernetes send to stop a
/// service): either way the server stops cleanly and saves its snapshot.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            // Without a SIGTERM handler only Ctrl-C stops cleanly.
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}

/// `switchboard serve`.
pub fn run_serve(args: ServeArgs) -> Result<()> {
    let file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            toml::from_str(&text).map_err(|e| UsageError(format!("{}: {e}", path.display())))?
        }
        None => FileConfig::default(),
    };
    let r = resolve(args.common, file, "switchboard-data")?;
    let addr = parse_listen(&r.listen)?;
    runtime()?.block_on(async move {
        let store = open(&r.location).await?;
        if store.users(None).await?.is_empty() {
            let password = web::auth::new_token().map_err(|e| anyhow::anyhow!("{e}"))?[..20].to_string();
            let hash = web::auth::hash_password_async(password.clone()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let admin = NewUser {
                login: "admin".into(),
                display_name: "Administrator".into(),
                password_hash: hash,
                role: Role::Admin,
                team_id: None,
                agent_id: None,
            };
            store.create_user(&admin).await?;
            crate::emit(&format!(
                "First start: created user `admin` with password `{password}` (shown once; change it on the admin page).\n"
            ))?;
        }
        let app = AppState::start(store, live_options(&r)).await?;
        let listener = bind(addr).await?;
        let addr = listener.local_addr()?;
        let voice = start_voice(&app, r.voice).await?;
        crate::emit(&format!("Switchboard listening on http://{addr}/ (API document: /api/openapi.json)\n"))?;
        if let Some(v) = &voice {
            crate::emit(&format!("SIP on {} (UDP and TCP)\n", v.sip_addr()))?;
            if let Some(tls) = v.sip_tls_addr() {
                crate::emit(&format!("SIP over TLS on {tls}\n"))?;
            }
        }
        web::serve(listener, app.clone(), shutdown_signal()).await?;
        save_snapshot(&app).await;
        Ok(())
    })
}

/// `switchboard demo`.
pub fn run_demo(args: DemoArgs) -> Result<()> {
    if !(args.calls_per_minute > 0.0 && args.calls_per_minute <= 6_000.0) {
        return Err(UsageError("--calls-per-minute: above 0, at most 6000".into()).into());
    }
    if args.agents > 2_000 {
        return Err(UsageError("--agents: at most 2000".into()).into());
    }
    let r = resolve(args.common, FileConfig::default(), "switchboard-demo")?;
    let addr = parse_listen(&r.listen)?;
    if args.fresh
        && let Location::DataDir(dir) = &r.location
        && dir.join(store::SQLITE_FILE).exists()
    {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    let opts = DemoOptions { agents: args.agents, calls_per_minute: args.calls_per_minute, ..DemoOptions::default() };
    runtime()?.block_on(async move {
        let store = open(&r.location).await?;
        let seeded = web::demo::seed(&store, &opts).await.map_err(|e| anyhow::anyhow!("seeding the demo: {e}"))?;
        let listener = bind(addr).await?;
        let addr = listener.local_addr()?;
        if seeded {
            // Telephony settings before the engine starts taking calls; the
            // sample IVR's self-service looks up this server's demo orders.
            voice::demo_settings().save(&store).await?;
            voice::demo_flows(&format!("http://{addr}")).save(&store).await?;
        }
        let app: Arc<AppState> = AppState::start(store, live_options(&r)).await?;
        web::demo::simulate(app.clone(), opts.clone()).await;
        let voice = start_voice(&app, r.voice).await?;
        if let Some(v) = &voice {
            crate::emit(&format!(
                "SIP on {sip} (UDP and TCP): dial sip:100@{sip} for the hotline; phones register as agent1 / agent2 (password `{DEMO_PASSWORD}`)\n",
                sip = v.sip_addr()
            ))?;
            if let Some(tls) = v.sip_tls_addr() {
                crate::emit(&format!("SIP over TLS on {tls} (phones: sip:…;transport=tls)\n"))?;
            }
        }
        crate::emit(&format!(
            "Switchboard demo {} at http://{addr}/\n\
             Sign in (password `{DEMO_PASSWORD}` for all):\n  \
             agent1, agent2   agent desktop (take contacts alongside {} simulated agents)\n  \
             supervisor       live wallboard\n  \
             admin            users, queues, routing, settings, audit\n  \
             planner, qa      reports\n\
             Simulated callers: {} per minute into Sales, Support and Billing. Ctrl-C stops.\n",
            if seeded { "created" } else { "resumed" },
            opts.agents,
            opts.calls_per_minute
        ))?;
        web::serve(listener, app.clone(), shutdown_signal()).await?;
        save_snapshot(&app).await;
        Ok(())
    })
}
