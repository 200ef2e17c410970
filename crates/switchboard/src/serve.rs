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
}

/// Run the server.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    common: Common,
    /// TOML file with `listen`, `data_dir`, `database_url`. Environment
    /// variables SWITCHBOARD_LISTEN, SWITCHBOARD_DATA_DIR and
    /// SWITCHBOARD_DATABASE_URL override it; flags override both.
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
}

struct Resolved {
    listen: String,
    location: Location,
}

fn resolve(common: Common, file: FileConfig, default_dir: &str) -> Result<Resolved> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let listen =
        common.listen.or_else(|| env("SWITCHBOARD_LISTEN")).or(file.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
    let url = common.database_url.or_else(|| env("SWITCHBOARD_DATABASE_URL")).or(file.database_url);
    let dir = common.data_dir.or_else(|| env("SWITCHBOARD_DATA_DIR").map(PathBuf::from)).or(file.data_dir);
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
    Ok(Resolved { listen, location })
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

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
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
        let app = AppState::start(store, LiveOptions::default()).await?;
        let listener = bind(addr).await?;
        let addr = listener.local_addr()?;
        crate::emit(&format!("Switchboard listening on http://{addr}/ (API document: /api/openapi.json)\n"))?;
        web::serve(listener, app, shutdown_signal()).await?;
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
        let app: Arc<AppState> = AppState::start(store, LiveOptions::default()).await?;
        web::demo::simulate(app.clone(), opts.clone()).await;
        let listener = bind(addr).await?;
        let addr = listener.local_addr()?;
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
        web::serve(listener, app, shutdown_signal()).await?;
        Ok(())
    })
}
