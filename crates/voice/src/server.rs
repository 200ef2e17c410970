//! The SIP side of the server: one endpoint (UDP and TCP on the same
//! port, TLS on another when configured) whose incoming transactions are dispatched here — REGISTER to the
//! registrar, new INVITEs to a call task each, requests inside a dialog to
//! that dialog, OPTIONS answered, the rest refused — and the feed of
//! committed engine output routed to the call each command concerns.

use crate::call::{self, CallMsg};
use crate::digest::DigestAuth;
use crate::prompts::Prompts;
use crate::registrar::{RegisterRequest, Registrar};
use crate::settings::{Flows, VoiceSettings};
use engine::{AgentId, Command, ContactId, Input};
use rsipstack::EndpointBuilder;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Method, StatusCode};
use rsipstack::transaction::endpoint::EndpointInnerRef;
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::tcp_listener::TcpListenerConnection;
use rsipstack::transport::tls::{TlsConfig, TlsConnection, TlsListenerConnection};
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::{SipAddr, SipConnection, TransportLayer};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use web::AppState;
use web::telephony::{Problem, Refusal};

/// Methods we handle (sent in `Allow`).
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REGISTER, UPDATE, REFER, NOTIFY";

/// Where and how telephony runs.
#[derive(Clone, Debug)]
pub struct VoiceConfig {
    /// SIP address (UDP and TCP on the same port); port 0 picks one.
    pub sip: SocketAddr,
    /// Address put in SDP and Contact headers (default: the SIP address,
    /// or 127.0.0.1 when that is unspecified).
    pub advertise: Option<IpAddr>,
    /// RTP port range (inclusive); `None`: any free port.
    pub rtp_ports: Option<(u16, u16)>,
    /// Prompt clips (`<dir>/<lang>/<name>.wav`).
    pub prompts_dir: PathBuf,
    /// Call recordings and voicemail.
    pub recordings_dir: PathBuf,
    /// SIP over TLS on its own address (signalling only; media stays RTP).
    pub tls: Option<crate::tls::SipTls>,
}

/// Why telephony could not start.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    /// The SIP stack refused (address in use, …).
    #[error("SIP: {0}")]
    Sip(#[from] rsipstack::Error),
    /// Sockets.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// Storage.
    #[error("storage: {0}")]
    Store(#[from] store::StoreError),
    /// The TLS certificate or key cannot be used.
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
}

/// What every call task shares.
pub(crate) struct Shared {
    pub app: Arc<AppState>,
    pub config: VoiceConfig,
    pub dialogs: Arc<DialogLayer>,
    pub registrar: Registrar,
    pub auth: DigestAuth,
    pub settings: RwLock<Arc<VoiceSettings>>,
    pub flows: RwLock<Arc<Flows>>,
    pub prompts: Prompts,
    /// Calls by engine contact, once they left the IVR.
    pub calls: Mutex<HashMap<ContactId, mpsc::UnboundedSender<CallMsg>>>,
    /// Calls entering the engine, by call id, until their arrival event
    /// names their contact (the offer may be in the same batch).
    pub pending: Mutex<HashMap<String, mpsc::UnboundedSender<CallMsg>>>,
    pub local_sip: SocketAddr,
    /// The TLS listener's address, when there is one.
    pub local_tls: Option<SocketAddr>,
    pub advertise: IpAddr,
    next_port: AtomicU64,
    next_call: AtomicU64,
    /// Calls in progress.
    pub active: std::sync::atomic::AtomicUsize,
    pub cancel: CancellationToken,
}

impl Shared {
    pub fn settings(&self) -> Arc<VoiceSettings> {
        self.settings.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn flows(&self) -> Arc<Flows> {
        self.flows.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// A fresh call id (unique across restarts: time-based prefix).
    pub fn call_id(&self) -> String {
        let n = self.next_call.fetch_add(1, Ordering::Relaxed);
        format!("{:x}-{n}", crate::leg::now_wall_ms())
    }

    /// A socket for a new media leg.
    pub async fn rtp_socket(&self) -> std::io::Result<UdpSocket> {
        let ip = self.config.sip.ip();
        let Some((lo, hi)) = self.config.rtp_ports else {
            return UdpSocket::bind(SocketAddr::new(ip, 0)).await;
        };
        let span = u64::from(hi.saturating_sub(lo)) + 1;
        for _ in 0..span {
            let off = self.next_port.fetch_add(1, Ordering::Relaxed) % span;
            let port = lo + off as u16;
            if let Ok(s) = UdpSocket::bind(SocketAddr::new(ip, port)).await {
                return Ok(s);
            }
        }
        Err(std::io::Error::new(std::io::ErrorKind::AddrInUse, "no free RTP port in the configured range"))
    }

    /// The phone of an agent, if it is registered now.
    pub fn agent_phone(&self, agent: AgentId) -> Option<rsipstack::sip::Uri> {
        let settings = self.settings();
        let device = settings.devices.iter().find(|d| d.agent == agent.0)?;
        self.registrar.lookup(&device.user, crate::leg::now_wall_ms()).map(|b| b.contact)
    }

    /// Our own SIP URI with a user part.
    pub fn our_uri(&self, user: &str) -> String {
        format!("sip:{user}@{}", SocketAddr::new(self.advertise, self.local_sip.port()))
    }

    /// Our SIP URI for a dialog over TLS (its Contact: the phone's
    /// requests come back over TLS).
    pub fn our_tls_uri(&self, user: &str) -> Option<String> {
        let port = self.local_tls?.port();
        Some(format!("sip:{user}@{};transport=tls", SocketAddr::new(self.advertise, port)))
    }
}

/// One configured device (an agent's phone) and its registration.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeviceStatus {
    /// The device's SIP user.
    pub user: String,
    /// The agent it rings.
    pub agent: u32,
    /// Whether a registration is live now.
    pub registered: bool,
    /// Where the phone said it is (the last registration, even lapsed).
    pub contact: Option<String>,
    /// Seconds until the live registration lapses.
    pub expires_in_s: Option<u64>,
    /// The phone's `User-Agent`, as sent with its last registration.
    pub user_agent: Option<String>,
}

/// A flow problem as the API reports it: path, node and field.
fn flow_problem(p: &ivr::Problem) -> Problem {
    Problem { path: p.path(), node: p.node.clone(), field: p.field(), message: p.to_string() }
}

/// Telephony, running; cheap to clone.
#[derive(Clone)]
pub struct Voice(pub(crate) Arc<Shared>);

impl Voice {
    /// Bind SIP, load the settings and flows, and start serving.
    pub async fn start(app: Arc<AppState>, config: VoiceConfig) -> Result<Voice, VoiceError> {
        let cancel = CancellationToken::new();
        // The transport layer's own token (cancelled when it drops): our
        // TLS accept loop and its connections stop with it.
        let transport_cancel = cancel.child_token();
        let transport = TransportLayer::new(transport_cancel.clone());
        // Our own socket, screened: rsipstack drops what it cannot parse
        // unanswered (see crate::screen).
        let socket = crate::screen::ScreenedUdp::new(UdpSocket::bind(config.sip).await?);
        let udp = UdpConnection::from_socket(Arc::new(socket), None, Some(cancel.child_token())).await?;
        let local_sip = udp.get_addr().get_socketaddr()?;
        transport.add_transport(udp.into());
        let tcp = TcpListenerConnection::new(local_sip, None).await?;
        transport.add_transport(tcp.into());
        let tls_listener = match &config.tls {
            Some(tls) => {
                tls.check()?;
                let acceptor = crate::tls::acceptor(tls)?;
                // Accepted by us (rsipstack's listener gives a handshake
                // no deadline; see crate::tls).
                let listener = tokio::net::TcpListener::bind(tls.addr).await?;
                let addr = listener.local_addr()?;
                // The stack still needs a TLS listener among its transports:
                // the Via of requests it sends over TLS takes that
                // listener's address. Give it one whose address is ours and
                // which itself listens only on an unused loopback port.
                let loopback: IpAddr =
                    if addr.is_ipv6() { Ipv6Addr::LOCALHOST.into() } else { Ipv4Addr::LOCALHOST.into() };
                let tls_config = TlsConfig {
                    cert: Some(tls.cert_pem.clone()),
                    key: Some(tls.key_pem.clone()),
                    ..Default::default()
                };
                let entry = TlsListenerConnection::new(SocketAddr::new(loopback, 0), Some(addr), tls_config).await?;
                transport.add_transport(entry.into());
                Some((listener, acceptor, addr))
            }
            None => None,
        };
        let local_tls = tls_listener.as_ref().map(|(_, _, addr)| *addr);
        let endpoint = EndpointBuilder::new()
            .with_user_agent("Switchboard")
            .with_transport_layer(transport)
            .with_cancel_token(cancel.child_token())
            .build();
        let incoming = endpoint.incoming_transactions()?;
        let inner = endpoint.inner.clone();
        tokio::spawn(async move {
            if let Err(e) = inner.serve().await {
                tracing::error!("SIP endpoint stopped: {e}");
            }
        });
        if let Some((listener, acceptor, addr)) = tls_listener {
            tokio::spawn(serve_tls(listener, acceptor, addr, endpoint.inner.clone(), transport_cancel));
        }
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let settings = VoiceSettings::load(&app.store).await?;
        let flows = Flows::load(&app.store).await?;
        let advertise = config.advertise.unwrap_or(if config.sip.ip().is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            config.sip.ip()
        });
        let shared = Arc::new(Shared {
            prompts: Prompts::new(config.prompts_dir.clone()),
            app: app.clone(),
            config,
            dialogs,
            registrar: Registrar::default(),
            auth: DigestAuth::new("switchboard"),
            settings: RwLock::new(Arc::new(settings)),
            flows: RwLock::new(Arc::new(flows)),
            calls: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            local_sip,
            local_tls,
            advertise,
            next_port: AtomicU64::new(0),
            next_call: AtomicU64::new(1),
            active: std::sync::atomic::AtomicUsize::new(0),
            cancel: cancel.clone(),
        });
        let feed = app.live.subscribe_feed();
        release_orphans(&app).await;
        tokio::spawn(route_feed(shared.clone(), feed));
        tokio::spawn(dispatch(shared.clone(), incoming, endpoint));
        tracing::info!(%local_sip, "SIP listening (UDP and TCP)");
        if let Some(tls) = local_tls {
            tracing::info!(%tls, "SIP listening (TLS)");
        }
        let voice = Voice(shared);
        app.set_telephony(Arc::new(voice.clone()));
        Ok(voice)
    }

    /// The bound SIP address.
    pub fn sip_addr(&self) -> SocketAddr {
        self.0.local_sip
    }

    /// The TLS listener's address, when SIP over TLS is on.
    pub fn sip_tls_addr(&self) -> Option<SocketAddr> {
        self.0.local_tls
    }

    /// Current settings.
    pub fn settings(&self) -> Arc<VoiceSettings> {
        self.0.settings()
    }

    /// Replace the settings (validated against the flows first); nothing
    /// is stored when a problem is found.
    pub async fn set_settings(&self, s: VoiceSettings) -> Result<(), Refusal> {
        let problems = s.problems(&self.0.flows());
        if !problems.is_empty() {
            return Err(Refusal::Invalid(problems));
        }
        s.save(&self.0.app.store).await.map_err(|e| Refusal::Failed(e.to_string()))?;
        *self.0.settings.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(s);
        Ok(())
    }

    /// All flows.
    pub fn flows(&self) -> Arc<Flows> {
        self.0.flows()
    }

    /// Save a new version of a flow (validated first: every problem with
    /// the node and field it concerns; nothing is stored then); returns the
    /// version.
    pub async fn save_flow(&self, name: &str, flow: ivr::Flow) -> Result<u32, Refusal> {
        let queues =
            self.0.app.live.read(|e, _, now| e.queue_views(now).into_iter().map(|q| q.id.0).collect::<Vec<_>>()).await;
        let queues = queues.map_err(|e| Refusal::Failed(e.message))?;
        let mut problems: Vec<Problem> = flow.validate(|q| queues.contains(&q)).iter().map(flow_problem).collect();
        // Numbers are dialled through the trunk: without one they cannot be.
        if self.0.settings().trunk.is_none() {
            for (id, node) in &flow.nodes {
                if let ivr::Node::Transfer { to: ivr::TransferTarget::Number(n), .. } = node {
                    problems.push(Problem {
                        node: Some(id.to_string()),
                        ..Problem::at(format!("nodes.{id}.to"), format!("`{id}`: number {n} needs a trunk (settings)"))
                    });
                }
            }
        }
        if !problems.is_empty() {
            return Err(Refusal::Invalid(problems));
        }
        let mut flows = (*self.0.flows()).clone();
        let version = flows.push(name, flow);
        flows.save(&self.0.app.store).await.map_err(|e| Refusal::Failed(e.to_string()))?;
        *self.0.flows.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(flows);
        Ok(version)
    }

    /// Phones registered now: (device user, contact).
    pub fn registered(&self) -> Vec<(String, String)> {
        self.0
            .registrar
            .registered(crate::leg::now_wall_ms())
            .into_iter()
            .map(|(u, b)| (u, b.contact.to_string()))
            .collect()
    }

    /// Every configured device with its registration (registered or not).
    pub fn devices(&self) -> Vec<DeviceStatus> {
        let now = crate::leg::now_wall_ms();
        self.0
            .settings()
            .devices
            .iter()
            .map(|d| {
                let b = self.0.registrar.binding(&d.user);
                let live = b.as_ref().is_some_and(|b| b.expires_at > now);
                DeviceStatus {
                    user: d.user.clone(),
                    agent: d.agent,
                    registered: live,
                    contact: b.as_ref().map(|b| b.contact.to_string()),
                    expires_in_s: b.as_ref().filter(|_| live).map(|b| b.expires_at.saturating_sub(now) / 1000),
                    user_agent: b.and_then(|b| b.user_agent),
                }
            })
            .collect()
    }

    /// Calls in progress.
    pub fn active_calls(&self) -> usize {
        self.0.active.load(Ordering::Relaxed)
    }

    /// The prompt store.
    pub fn prompts(&self) -> &Prompts {
        &self.0.prompts
    }

    /// Stop listening (calls in progress end when their peers hang up).
    pub fn shutdown(&self) {
        self.0.cancel.cancel();
    }
}

async fn dispatch(
    s: Arc<Shared>,
    mut incoming: rsipstack::transaction::TransactionReceiver,
    _endpoint: rsipstack::transaction::Endpoint,
) {
    loop {
        let tx = tokio::select! {
            tx = incoming.recv() => tx,
            () = s.cancel.cancelled() => None,
        };
        let Some(tx) = tx else { break };
        let s = s.clone();
        tokio::spawn(async move {
            let method = tx.original.method;
            if let Err(e) = on_transaction(s, tx).await {
                tracing::debug!(%method, "SIP transaction ended with an error: {e}");
            }
        });
    }
}

/// Extensions we implement (none need a `Require`).
const SUPPORTED: &[&str] = &[];

/// Why a request is refused before it is looked at (RFC 3261 §8.2.2–8.2.3).
fn precheck(req: &rsipstack::sip::Request) -> Option<(StatusCode, Vec<Header>)> {
    if req.version != rsipstack::sip::Version::V2 {
        return Some((StatusCode::VersionNotSupported, Vec::new()));
    }
    match req.cseq_header().ok().and_then(|c| c.method().ok()) {
        Some(m) if m == req.method || (req.method == Method::Ack && m == Method::Invite) => {}
        Some(_) if req.method == Method::Cancel || req.method == Method::Ack => {}
        _ => return Some((StatusCode::BadRequest, Vec::new())),
    }
    // A Require we do not know (not for ACK and CANCEL: they cannot be refused).
    if !matches!(req.method, Method::Ack | Method::Cancel) {
        let unknown: Vec<String> = req
            .headers
            .iter()
            .filter_map(|h| match h {
                Header::Require(r) => Some(r.value().to_string()),
                _ => None,
            })
            .flat_map(|v| v.split(',').map(|t| t.trim().to_string()).collect::<Vec<_>>())
            .filter(|t| !t.is_empty() && !SUPPORTED.contains(&t.as_str()))
            .collect();
        if !unknown.is_empty() {
            return Some((StatusCode::BadExtension, vec![Header::Unsupported(unknown.join(", ").into())]));
        }
    }
    // A body we cannot read.
    if req.method == Method::Invite && !req.body.is_empty() {
        let ctype = req.headers.iter().find_map(|h| match h {
            Header::ContentType(c) => Some(c.value().trim().to_ascii_lowercase()),
            _ => None,
        });
        if ctype.as_deref().is_some_and(|c| !c.starts_with("application/sdp")) {
            return Some((StatusCode::UnsupportedMediaType, vec![Header::Accept("application/sdp".into())]));
        }
    }
    None
}

async fn on_transaction(s: Arc<Shared>, mut tx: Transaction) -> Result<(), rsipstack::Error> {
    if let Some((status, headers)) = precheck(&tx.original) {
        if tx.original.method == Method::Ack {
            return Ok(());
        }
        // Our answer is SIP/2.0 whatever version the request claimed (the
        // stack copies the request's into the response).
        tx.original.version = rsipstack::sip::Version::V2;
        return tx.reply_with(status, headers, None).await;
    }
    let in_dialog = tx.original.to_header().ok().and_then(|t| t.tag().ok().flatten()).is_some();
    match tx.original.method {
        Method::Register => register(&s, &mut tx).await,
        Method::Invite if !in_dialog => {
            call::inbound(s, tx).await;
            Ok(())
        }
        Method::Options if !in_dialog => {
            let headers = vec![
                Header::Allow(ALLOW.into()),
                Header::Accept("application/sdp".into()),
                Header::Other("Accept-Language".into(), "zh, en".into()),
            ];
            tx.reply_with(StatusCode::OK, headers, None).await
        }
        Method::Ack => Ok(()),
        Method::Invite
        | Method::Bye
        | Method::Info
        | Method::Update
        | Method::Refer
        | Method::Notify
        | Method::Options
        | Method::PRack
        | Method::Message
            if in_dialog =>
        {
            match s.dialogs.match_dialog(&tx) {
                Some(mut d) => d.handle(&mut tx).await,
                None => tx.reply(StatusCode::CallTransactionDoesNotExist).await,
            }
        }
        // BYE, INFO, UPDATE, PRACK without a To tag can only name a dialog we never made.
        Method::Bye | Method::Info | Method::Update | Method::PRack => {
            tx.reply(StatusCode::CallTransactionDoesNotExist).await
        }
        Method::Cancel => tx.reply(StatusCode::CallTransactionDoesNotExist).await,
        _ => tx.reply_with(StatusCode::MethodNotAllowed, vec![Header::Allow(ALLOW.into())], None).await,
    }
}

async fn register(s: &Shared, tx: &mut Transaction) -> Result<(), rsipstack::Error> {
    let req = &tx.original;
    let user = req.to_header().ok().and_then(|t| t.uri().ok()).and_then(|u| u.auth.map(|a| a.user)).unwrap_or_default();
    let request = RegisterRequest {
        user,
        authorization: req.headers.iter().find_map(|h| match h {
            Header::Authorization(a) => Some(a.value().to_string()),
            _ => None,
        }),
        contacts: req
            .headers
            .iter()
            .filter_map(|h| match h {
                Header::Contact(c) => Some(c.value().to_string()),
                _ => None,
            })
            .collect(),
        expires: req.expires_header().and_then(|e| e.value().trim().parse().ok()),
        user_agent: req.headers.iter().find_map(|h| match h {
            Header::UserAgent(u) => Some(u.value().to_string()),
            _ => None,
        }),
        flow: tls_flow(tx),
    };
    let reply = s.registrar.register(&s.auth, &s.settings().devices, &request, crate::leg::now_wall_ms());
    tracing::debug!(user = %request.user, authorization = ?request.authorization, status = %reply.status, "REGISTER");
    if reply.status == StatusCode::OK {
        tracing::info!(user = %request.user, "phone registered");
    }
    tx.reply_with(reply.status, reply.headers, None).await
}

/// Accept SIP over TLS on `listener` (bound at `local`) and hand each
/// connection to the stack as its own listener would.
async fn serve_tls(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    local: SocketAddr,
    endpoint: EndpointInnerRef,
    cancel: CancellationToken,
) {
    let local = SipAddr { r#type: Some(rsipstack::sip::Transport::Tls), addr: local.into() };
    let token = cancel.clone();
    let ready = move |stream, remote: SocketAddr| {
        let (endpoint, local, token) = (endpoint.clone(), local.clone(), token.child_token());
        async move {
            let remote = SipAddr { r#type: Some(rsipstack::sip::Transport::Tls), addr: remote.into() };
            match TlsConnection::from_server_stream(stream, local, remote.clone(), Some(token)).await {
                Ok(conn) => endpoint.transport_layer.add_connection(SipConnection::Tls(conn)),
                Err(e) => tracing::warn!(%remote, "TLS connection not taken: {e}"),
            }
        }
    };
    crate::tls::accept_loop(listener, acceptor, crate::tls::HANDSHAKE_TIMEOUT, cancel, ready).await;
}

/// The TLS connection a request came over (its remote address), if any.
fn tls_flow(tx: &Transaction) -> Option<SipAddr> {
    let conn = tx.connection.as_ref()?;
    (conn.transport() == rsipstack::sip::Transport::Tls).then(|| conn.get_remote_addr().cloned()).flatten()
}

/// Route committed engine output to the calls it concerns.
async fn route_feed(s: Arc<Shared>, mut feed: mpsc::UnboundedReceiver<Arc<web::live::Feed>>) {
    while let Some(batch) = feed.recv().await {
        for rec in &batch.records {
            if let engine::Event::ContactArrived { contact, details: Some(d), .. } = &rec.event
                && let Some(call) = d.attributes.get(web::live::TELEPHONY_ATTRIBUTE)
                && let Some(tx) = s.pending.lock().unwrap_or_else(PoisonError::into_inner).remove(call)
            {
                s.calls.lock().unwrap_or_else(PoisonError::into_inner).insert(*contact, tx);
            }
        }
        // Events before commands: a transfer's `transferred` must reach the
        // call before the offer that rings the next agent.
        for rec in &batch.records {
            if let Some(contact) = rec.event.contact() {
                // A voicemail accepted on the desktop, nobody dialling it
                // yet: call the customer back.
                if let engine::Event::ContactAnswered { agent, .. } = &rec.event
                    && !s.calls.lock().unwrap_or_else(PoisonError::into_inner).contains_key(&contact)
                    && ours(&s, contact).await == Some(call::Dial::Voicemail)
                {
                    tokio::spawn(call::voicemail_callback(s.clone(), contact, *agent));
                    continue;
                }
                send(&s, contact, CallMsg::Event(rec.clone()));
            }
        }
        for c in &batch.commands {
            tracing::debug!(command = ?c, "engine command");
            let (contact, msg) = match c {
                Command::Offer { contact, agent, .. } => {
                    let known = s.calls.lock().unwrap_or_else(PoisonError::into_inner).contains_key(contact);
                    // A callback of one of our calls, its caller gone: ring
                    // the agent's phone before the customer is dialled.
                    if !known
                        && s.agent_phone(*agent).is_some()
                        && let Some(dial) = ours(&s, *contact).await
                    {
                        tokio::spawn(call::callback_offer(s.clone(), *contact, *agent, dial));
                        continue;
                    }
                    (*contact, CallMsg::Offer(*agent))
                }
                Command::CancelOffer { contact, agent } => (*contact, CallMsg::CancelOffer(*agent)),
                Command::Exit { contact, action, .. } => (*contact, CallMsg::Exit(action.clone())),
                Command::ReleaseCaller { contact } => {
                    // The line is going: from now on the contact's callback
                    // is dialled afresh, not connected to this call.
                    let tx = s.calls.lock().unwrap_or_else(PoisonError::into_inner).remove(contact);
                    if let Some(tx) = tx {
                        let _ = tx.send(CallMsg::ReleaseCaller);
                    }
                    continue;
                }
                Command::DialCallback { contact, agent, number, .. } => {
                    let known = s.calls.lock().unwrap_or_else(PoisonError::into_inner).contains_key(contact);
                    if !known {
                        // Only our own calls' callbacks are ours to dial.
                        if ours(&s, *contact).await == Some(call::Dial::Callback) {
                            let dial = call::Dial::Callback;
                            tokio::spawn(call::callback(s.clone(), *contact, *agent, number.clone(), None, dial));
                        }
                        continue;
                    }
                    (*contact, CallMsg::DialCallback { agent: *agent, number: number.clone() })
                }
            };
            send(&s, contact, msg);
        }
    }
}

fn send(s: &Shared, contact: ContactId, msg: CallMsg) {
    let calls = s.calls.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(tx) = calls.get(&contact) {
        let _ = tx.send(msg);
    }
}

/// Whether a contact is ours to dial: one that came in by telephone (an
/// engine callback), a voicemail with a number (an engine callback from its
/// arrival, see `ContactSpec::dial_back`), or another voicemail (called
/// back once accepted).
async fn ours(s: &Shared, contact: ContactId) -> Option<call::Dial> {
    s.app
        .live
        .read(move |_, contacts, _| {
            let d = contacts.get(&contact).and_then(|c| c.details.as_ref())?;
            if d.attributes.contains_key(web::live::TELEPHONY_ATTRIBUTE) || d.dial_back {
                Some(call::Dial::Callback)
            } else if d.attributes.contains_key(call::VOICEMAIL_ATTRIBUTE) {
                Some(call::Dial::Voicemail)
            } else {
                None
            }
        })
        .await
        .ok()
        .flatten()
}

/// Calls do not survive a restart: the engine's telephone contacts from
/// before it (waiting callers, connected calls) lost their line. Waiting
/// ones abandon, connected ones end as dropped; callbacks already released
/// and voicemails keep their place (they need no line until they are
/// dialled).
async fn release_orphans(app: &AppState) {
    let orphans = app
        .live
        .read(|e, contacts, _| {
            e.contact_views()
                .into_iter()
                .filter_map(|v| {
                    let d = contacts.get(&v.id).and_then(|c| c.details.as_ref())?;
                    let voicemail = d.attributes.contains_key(call::VOICEMAIL_ATTRIBUTE);
                    (voicemail || d.attributes.contains_key(web::live::TELEPHONY_ATTRIBUTE)).then_some((v, voicemail))
                })
                .map(|(v, voicemail)| (v.id, v.phase, v.callback.is_some() || voicemail))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
    for (contact, phase, callback) in orphans {
        let input = match phase {
            engine::ContactPhase::Connected { .. } => Input::Hangup { contact, by: engine::Party::System },
            // A dial in progress was lost: the retry policy decides.
            engine::ContactPhase::Dialling { .. } => {
                Input::CallbackOutcome { contact, outcome: engine::DialOutcome::Failed }
            }
            _ if callback => continue,
            _ => Input::Abandon { contact },
        };
        tracing::info!(contact = contact.0, "telephone contact from before the restart released");
        if let Err(e) = app.live.input(input).await {
            tracing::warn!(contact = contact.0, "could not release: {}", e.message);
        }
    }
}

/// Report an outcome the engine is waiting for, logging a refusal.
pub(crate) async fn input(s: &Shared, input: Input) -> bool {
    match s.app.live.input(input).await {
        Ok(_) => true,
        Err(e) => {
            tracing::debug!("engine refused a telephony input: {}", e.message);
            false
        }
    }
}
