//! # Switchboard's server
//!
//! The live driver of the engine ([`live`]), the JSON API with its route
//! table, role guard and OpenAPI document ([`routes`], [`api`],
//! [`openapi`]), accounts and sessions ([`auth`]), live updates over SSE
//! ([`hub`], [`api::stream`], [`board`]), contact records and webhooks
//! that follow the event log ([`records`], [`webhooks`]), and the embedded
//! browser UI ([`assets`]).
//!
//! Start with [`AppState::start`] on an open [`store::Store`], then serve
//! [`router`] on an already-bound listener with [`serve`].

pub mod api;
pub mod assets;
pub mod auth;
pub mod board;
pub mod demo;
pub mod desk;
pub mod error;
pub mod follower;
pub mod hub;
pub mod live;
pub mod openapi;
pub mod outbound;
pub mod pop;
pub mod records;
pub mod routes;
pub mod snapshot;
pub mod telephony;
pub mod webhooks;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use board::Board;
use desk::DeskSettings;
use error::ApiResult;
use live::{Live, LiveOptions, StartError};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How often the wallboard is recomputed while things change.
pub const BOARD_EVERY: Duration = Duration::from_millis(500);
/// The wallboard is recomputed at least this often (clocks tick on screen).
pub const BOARD_IDLE: Duration = Duration::from_secs(5);

/// Everything the handlers share.
pub struct AppState {
    /// Storage.
    pub store: Store,
    /// The live engine.
    pub live: Live,
    desk: RwLock<DeskSettings>,
    /// The latest wallboard.
    pub board: watch::Receiver<Arc<Board>>,
    webhooks: webhooks::Webhooks,
    /// HTTP client for hooks called while answering a request.
    pub http: reqwest::Client,
    telephony: std::sync::OnceLock<Arc<dyn telephony::Telephony>>,
}

impl AppState {
    /// Rebuild the engine from the store and start the background tasks
    /// (contact records, webhooks, wallboard).
    pub async fn start(store: Store, options: LiveOptions) -> Result<Arc<AppState>, StartError> {
        let live = Live::start(store.clone(), options).await?;
        let desk = match DeskSettings::load(&store).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!("desk settings unreadable, using defaults: {e}");
                DeskSettings::default()
            }
        };
        live.set_order_hook(desk.order_hook_url.clone());
        records::spawn(store.clone(), &live).await;
        let first = board::compute(&live).await.map_err(|e| StartError::Driver(e.message))?;
        let (board_tx, board_rx) = watch::channel(first);
        tokio::spawn(board_loop(live.clone(), board_tx));
        let state = Arc::new(AppState {
            store,
            live,
            desk: RwLock::new(desk.clone()),
            board: board_rx,
            webhooks: webhooks::Webhooks::default(),
            http: outbound::client(),
            telephony: std::sync::OnceLock::new(),
        });
        state.webhooks.configure(&state.store, &state.live, &desk.webhooks).await;
        tokio::spawn(purge_sessions(state.store.clone()));
        Ok(state)
    }

    /// Install the telephony layer (once).
    pub fn set_telephony(&self, t: Arc<dyn telephony::Telephony>) {
        let _ = self.telephony.set(t);
    }

    /// The telephony layer, when it runs.
    pub fn telephony(&self) -> Option<&Arc<dyn telephony::Telephony>> {
        self.telephony.get()
    }

    /// The current desk settings.
    pub fn desk(&self) -> DeskSettings {
        self.desk.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Validate, store and apply new desk settings.
    pub async fn apply_desk(&self, s: DeskSettings) -> ApiResult<()> {
        s.save(&self.store).await?;
        self.live.set_order_hook(s.order_hook_url.clone());
        self.webhooks.configure(&self.store, &self.live, &s.webhooks).await;
        *self.desk.write().unwrap_or_else(PoisonError::into_inner) = s;
        Ok(())
    }
}

/// Recompute the wallboard when events were committed (at most every
/// [`BOARD_EVERY`]) and at least every [`BOARD_IDLE`].
async fn board_loop(live: Live, tx: watch::Sender<Arc<Board>>) {
    let mut committed = live.committed();
    loop {
        let _ = tokio::time::timeout(BOARD_IDLE, committed.changed()).await;
        committed.borrow_and_update();
        match board::compute(&live).await {
            Ok(b) => {
                if tx.send(b).is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!("wallboard: {e}");
                if live.failed() {
                    return;
                }
            }
        }
        tokio::time::sleep(BOARD_EVERY).await;
    }
}

/// How often expired and idle sessions are deleted (they are refused on
/// use anyway; this keeps the table small).
pub const SESSION_PURGE_EVERY: Duration = Duration::from_secs(600);

async fn purge_sessions(store: Store) {
    use store::SessionStore;
    let mut tick = tokio::time::interval(SESSION_PURGE_EVERY);
    loop {
        tick.tick().await;
        let now = auth::now();
        let idle_before = engine::Time(now.0.saturating_sub(auth::SESSION_IDLE_MS));
        match store.purge_sessions(idle_before, now).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!("purged {n} expired sessions"),
            Err(e) => tracing::warn!("purging sessions: {e}"),
        }
    }
}

async fn healthz(axum::extract::State(app): axum::extract::State<Arc<AppState>>) -> impl IntoResponse {
    if app.live.failed() {
        return (StatusCode::SERVICE_UNAVAILABLE, "engine stopped after a storage failure");
    }
    match app.live.read(|_, _, _| ()).await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "engine not running"),
    }
}

async fn openapi_json() -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], openapi::document_text())
}

async fn not_found() -> error::ApiError {
    error::ApiError::not_found("no such path")
}

/// The whole HTTP service: API, OpenAPI document, health check and UI.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(routes::api_router(state.clone()))
        .route("/api/openapi.json", get(openapi_json))
        .route("/healthz", get(healthz))
        .merge(assets::router())
        .fallback(not_found)
        .with_state(state)
}

/// How long requests in flight may finish after a shutdown signal. Live
/// update streams never finish by themselves, so they are cut after this.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Serve on an already-bound listener until `shutdown` resolves, then let
/// requests in flight finish for at most [`SHUTDOWN_GRACE`].
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, router(state)).with_graceful_shutdown(async move {
        let _ = stop_rx.await;
    });
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        r = &mut server => return r,
        () = shutdown => {}
    }
    let _ = stop_tx.send(());
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(r) => r,
        Err(_) => {
            tracing::info!("closing the live connections still open");
            Ok(())
        }
    }
}
