//! Live updates over Server-Sent Events, and the wallboard snapshot.

use crate::AppState;
use crate::auth::Caller;
use crate::board::Board;
use crate::error::ApiResult;
use crate::hub::{AgentMsg, Published};
use crate::routes::{ANY, Route, WATCHERS, route};
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::stream::{self, Stream, StreamExt};
use serde::Serialize;
use serde_json::json;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use store::Role;
use tokio::sync::{broadcast, mpsc, watch};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        route(
            Method::GET,
            "/api/stream",
            ANY,
            "live",
            "Live updates (Server-Sent Events; what depends on the role)",
            None,
            None,
            get(stream),
        ),
        route(Method::GET, "/api/board", WATCHERS, "live", "The wallboard now", None, Some("Board"), get(board)),
    ]
}

async fn board(State(app): State<Arc<AppState>>, _caller: Caller) -> ApiResult<Json<Arc<Board>>> {
    Ok(Json(crate::board::compute(&app.live).await?))
}

fn sse<T: Serialize>(name: &str, data: &T) -> Event {
    match serde_json::to_string(data) {
        Ok(s) => Event::default().event(name).data(s),
        Err(e) => Event::default().event("error").data(e.to_string()),
    }
}

struct Conn {
    agent: Option<mpsc::Receiver<AgentMsg>>,
    all: Option<broadcast::Receiver<Arc<Published>>>,
    board: Option<watch::Receiver<Arc<Board>>>,
    first: Vec<Event>,
}

impl Conn {
    async fn next(&mut self) -> Option<Vec<Event>> {
        if !self.first.is_empty() {
            return Some(std::mem::take(&mut self.first));
        }
        tokio::select! {
            msg = recv_agent(&mut self.agent) => msg.map(|m| vec![agent_event(m)]),
            batch = recv_all(&mut self.all) => match batch {
                Ok(b) => Some(b.records.iter().map(|r| sse("event", &**r)).collect()),
                Err(broadcast::error::RecvError::Lagged(n)) => Some(vec![sse("lagged", &json!({ "missed_batches": n }))]),
                Err(broadcast::error::RecvError::Closed) => None,
            },
            b = changed(&mut self.board) => b.map(|b| vec![sse("board", &*b)]),
        }
    }
}

async fn recv_agent(rx: &mut Option<mpsc::Receiver<AgentMsg>>) -> Option<AgentMsg> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn recv_all(
    rx: &mut Option<broadcast::Receiver<Arc<Published>>>,
) -> Result<Arc<Published>, broadcast::error::RecvError> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn changed(rx: &mut Option<watch::Receiver<Arc<Board>>>) -> Option<Arc<Board>> {
    match rx {
        Some(rx) => match rx.changed().await {
            Ok(()) => Some(rx.borrow_and_update().clone()),
            Err(_) => None,
        },
        None => std::future::pending().await,
    }
}

fn agent_event(m: AgentMsg) -> Event {
    match m {
        AgentMsg::Me(v) => sse("me", &*v),
        AgentMsg::Offer(o) => sse("offer", &*o),
        AgentMsg::OfferCancelled { contact } => sse("offer_cancelled", &json!({ "contact": contact })),
        AgentMsg::Orders { contact, orders } => sse("orders", &json!({ "contact": contact, "orders": &*orders })),
        AgentMsg::Event(r) => sse("event", &*r),
    }
}

async fn stream(
    State(app): State<Arc<AppState>>,
    caller: Caller,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let role = caller.role();
    let seq = *app.live.committed().borrow();
    let mut first =
        vec![sse("hello", &json!({ "user": crate::api::accounts::UserOut::from(&caller.user), "seq": seq }))];
    let agent = match caller.user.agent_id {
        Some(a) => {
            let rx = app.live.hub().subscribe_agent(a);
            if let Some(v) = app.live.read(move |e, _, _| e.agent_view(a)).await? {
                first.push(sse("me", &v));
            }
            Some(rx)
        }
        None => None,
    };
    let all = matches!(role, Role::Supervisor | Role::Admin).then(|| app.live.hub().subscribe_all());
    let board = matches!(role, Role::Supervisor | Role::Admin | Role::Qa | Role::Planner).then(|| {
        let rx = app.board.clone();
        first.push(sse("board", &*rx.borrow()));
        rx
    });
    let conn = Conn { agent, all, board, first };
    let s = stream::unfold(conn, |mut c| async move { c.next().await.map(|evs| (evs, c)) })
        .flat_map(|evs| stream::iter(evs.into_iter().map(Ok)));
    Ok(Sse::new(s).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
