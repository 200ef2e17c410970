//! One telephone call, from the caller's INVITE to the last BYE, run by one
//! task: answer, walk the IVR, queue in the engine with music and
//! announcements, ring the offered agent's phone, bridge and record, follow
//! the agent's hold / transfer / hang-up (from the phone or the desktop),
//! then the survey, and finally write the call's record, its IVR path and
//! its media quality.
//!
//! The engine stays the only judge of routing and agent state: the call
//! task reports what the phones did (answered, rejected, hung up) as engine
//! inputs and acts on the engine's committed events and commands.

use crate::leg::{Leg, LegEvent, LegReport, Piece};
use crate::record::{self, SharedRecorder};
use crate::sdp::{self, Direction};
use crate::server::{self, Shared};
use engine::{AgentId, ConsultOutcome, ContactId, DialOutcome, Event, EventRecord, ExitAction, Input, Party, QueueId};
use ivr::{Action, IvrEvent, Lang, Session, Sound, SurveySession};
use media::g711::Codec;
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TerminatedReason};
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long a caller waits for the ACK of our answer before we give up.
const ACK_TIMEOUT: Duration = Duration::from_secs(32);
/// Longest a call may last (a stuck peer cannot hold resources forever).
const MAX_CALL: Duration = Duration::from_secs(4 * 3600);
/// How long an internal call rings before the caller hears 480.
const INTERNAL_RING: Duration = Duration::from_secs(45);
/// Pause between the end of the IVR and the first queue announcement.
const FIRST_ANNOUNCEMENT: Duration = Duration::from_secs(2);

/// What the server tells a call.
#[derive(Debug)]
pub(crate) enum CallMsg {
    /// Ring this agent.
    Offer(AgentId),
    /// Stop ringing this agent.
    CancelOffer(AgentId),
    /// The contact left the queue without an agent.
    Exit(ExitAction),
    /// The caller became a callback: end the line.
    ReleaseCaller,
    /// Dial the callback (the agent is reserved).
    DialCallback {
        /// The reserved agent.
        agent: AgentId,
        /// Number to dial.
        number: String,
    },
    /// A committed event of this contact.
    Event(Arc<EventRecord>),
    /// The agent's own phone dialled a colleague during this call: a
    /// consultation about the contact (the INVITE is ours to answer).
    PhoneConsult(Box<PhoneInvite>),
}

/// A consultation call from the agent's phone, not answered yet.
pub(crate) struct PhoneInvite {
    /// The phone's INVITE transaction.
    pub tx: Transaction,
    /// The colleague dialled.
    pub to: AgentId,
}

impl std::fmt::Debug for PhoneInvite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneInvite")
            .field("call_id", &self.tx.original.call_id_header().ok())
            .field("to", &self.to)
            .finish()
    }
}

/// Which leg an event came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Caller,
    Agent(u64),
}

#[derive(Debug)]
enum Phase {
    /// Answered; waiting for the ACK.
    Answering,
    Ivr(Box<Session>),
    /// In the engine, waiting for an agent.
    Queued,
    /// Connected to an agent.
    Connected {
        agent: AgentId,
        held: bool,
    },
    Survey(Box<SurveySession>),
    /// Bridged to an outside party the IVR transferred the caller to.
    External,
    /// Saying goodbye; hang up when the prompt ends.
    Closing,
    Voicemail,
}

/// The agent's phone leg.
struct AgentLeg {
    attempt: u64,
    agent: AgentId,
    dialog: InviteDialog,
    leg: Leg,
    answered: bool,
    /// The phone itself put this call on hold (its last re-INVITE).
    held_by_phone: bool,
}

/// The consultation call the agent's own phone placed to a colleague (we
/// are its UAS): bridged to the consulted agent's leg once that answers.
struct Consulting {
    attempt: u64,
    dialog: InviteDialog,
    leg: Leg,
    codec: Codec,
    answered: bool,
}

/// An outside party (SIP URI or number) the IVR transfers the caller to.
struct External {
    attempt: u64,
    dialog: InviteDialog,
    leg: Leg,
    answered: bool,
    /// Give up ringing at this time.
    ring_until: Option<Instant>,
}

struct Call {
    s: Arc<Shared>,
    id: String,
    dialog: InviteDialog,
    leg: Leg,
    codec: Codec,
    caller: String,
    dialled: String,
    lang: Lang,
    contact: Option<ContactId>,
    phase: Phase,
    agent: Option<AgentLeg>,
    attempts: u64,
    timer: Option<(u64, Instant)>,
    announce_at: Option<Instant>,
    last_position: Option<u32>,
    last_wait_s: Option<u64>,
    recorder: Option<SharedRecorder>,
    voicemail: Option<SharedRecorder>,
    voicemail_end: Option<Instant>,
    record: store::CallRecord,
    visits: Vec<ivr::Visit>,
    flow: Option<(String, u32)>,
    survey_answers: Vec<ivr::SurveyAnswer>,
    survey_agent: Option<AgentId>,
    survey_queue: Option<QueueId>,
    queue: Option<QueueId>,
    reports: Vec<(String, LegReport)>,
    ended: bool,
    leg_events: mpsc::UnboundedReceiver<(Side, LegEvent)>,
    leg_tx: mpsc::UnboundedSender<(Side, LegEvent)>,
    lookups: mpsc::UnboundedReceiver<(u64, Result<serde_json::Value, String>)>,
    lookup_tx: mpsc::UnboundedSender<(u64, Result<serde_json::Value, String>)>,
    agent_states: mpsc::UnboundedReceiver<(u64, Option<DialogState>)>,
    agent_state_tx: mpsc::UnboundedSender<(u64, Option<DialogState>)>,
    /// Where the server sends this call's engine output (registered under
    /// the call id just before the contact enters the engine).
    msg_tx: Option<mpsc::UnboundedSender<CallMsg>>,
    /// What the caller was told while waiting (kept with the call).
    announcements: Vec<serde_json::Value>,
    /// The caller's phone put us on hold (no media expected).
    caller_held: bool,
    /// The outside party of an IVR transfer.
    external: Option<External>,
    /// What the IVR transfer did (kept with the call's quality).
    transfer: Option<serde_json::Value>,
    /// The engine contact a voicemail left on this call became.
    voicemail_contact: Option<ContactId>,
    /// The consulted agent's phone during a consulted transfer (bridged
    /// to the consulting agent's phone while the caller holds).
    consult: Option<AgentLeg>,
    /// A completed consultation handed the caller to the consulted agent,
    /// whose leg is now `agent`: the `ContactTransferred` that follows must
    /// not hang it up.
    handover: bool,
    /// The consultation call the agent's phone placed (desk-phone attended
    /// transfer), bridged to `consult` instead of the agent's leg.
    consulting: Option<Consulting>,
}

fn user_of(uri: &rsipstack::sip::Uri) -> String {
    uri.auth.as_ref().map(|a| a.user.clone()).unwrap_or_default()
}

/// Answer a new INVITE and run the call.
pub(crate) async fn inbound(s: Arc<Shared>, tx: Transaction) {
    if crate::phone::from_device(&s, &tx.original) {
        // An agent's phone: placed by `phone`, unless it dials one of our
        // numbers outside a contact (an agent trying the hotline), which is
        // a call like any customer's.
        if let Some(tx) = crate::phone::outgoing(s.clone(), tx).await {
            customer_call(s, tx).await;
        }
        return;
    }
    customer_call(s, tx).await;
}

/// A call to one of our numbers: answer it and run the IVR and the rest.
async fn customer_call(s: Arc<Shared>, mut tx: Transaction) {
    let req = tx.original.clone();
    let dialled = user_of(&req.uri);
    let caller = req.from_header().ok().and_then(|f| f.uri().ok()).map(|u| user_of(&u)).unwrap_or_default();
    let settings = s.settings();
    if s.active.load(std::sync::atomic::Ordering::Relaxed) >= settings.max_calls as usize {
        tracing::warn!(%dialled, max = settings.max_calls, "call refused: too many calls in progress");
        let _ = tx.reply_with(StatusCode::ServiceUnavailable, vec![Header::RetryAfter("30".into())], None).await;
        return;
    }
    let Some(number) = settings.numbers.iter().find(|n| n.number == dialled) else {
        tracing::info!(%dialled, "call to an unknown number refused");
        let _ = tx.reply(StatusCode::NotFound).await;
        return;
    };
    let Some(flow) = s.flows().current(&number.flow) else {
        let _ = tx.reply(StatusCode::ServiceUnavailable).await;
        return;
    };
    // We answer with G.711 only; an INVITE without an offer is not supported.
    let remote = match sdp::parse(&req.body) {
        Ok(r) => r,
        Err(e) => {
            tracing::info!("INVITE refused: {e}");
            let _ = tx.reply(StatusCode::NotAcceptableHere).await;
            return;
        }
    };
    let Some(codec) = remote.codec() else {
        let _ = tx
            .reply_with(
                StatusCode::NotAcceptableHere,
                vec![Header::Warning("304 switchboard \"only PCMU and PCMA\"".into())],
                None,
            )
            .await;
        return;
    };
    let socket = match s.rtp_socket().await {
        Ok(sock) => sock,
        Err(e) => {
            tracing::error!("no RTP port for a call: {e}");
            let _ = tx.reply(StatusCode::ServiceUnavailable).await;
            return;
        }
    };
    let (state_tx, states) = s.dialogs.new_dialog_state_channel();
    let contact_uri = s.our_uri(&dialled).parse().ok();
    let dialog = match s.dialogs.get_or_create_server_invite(&tx, state_tx, None, contact_uri) {
        Ok(d) => d,
        Err(e) => {
            tracing::info!("INVITE refused: {e}");
            let _ = tx.reply(StatusCode::BadRequest).await;
            return;
        }
    };
    let (leg_tx, leg_events) = mpsc::unbounded_channel();
    let leg = match Leg::start(socket, codec, Side::Caller, leg_tx.clone()) {
        Ok(l) => l,
        Err(_) => {
            let _ = tx.reply(StatusCode::ServiceUnavailable).await;
            return;
        }
    };
    leg.set_remote(remote.rtp, codec, remote.dtmf_pt);
    let local = std::net::SocketAddr::new(s.advertise, leg.local().port());
    let answer = sdp::build(
        local,
        crate::leg::now_wall_ms(),
        1,
        &[codec],
        remote.dtmf_pt.unwrap_or(sdp::DTMF_PT),
        Direction::SendRecv,
    );
    let id = s.call_id();
    let now = crate::leg::now_wall_ms() as i64;
    let record = store::CallRecord {
        call: id.clone(),
        contact: None,
        direction: "inbound".into(),
        caller: caller.clone(),
        callee: dialled.clone(),
        started_at: now,
        answered_at: Some(now),
        ended_at: None,
        end_reason: None,
        agent: None,
        recording: None,
        recording_ms: None,
        quality: None,
        voicemail: None,
    };
    if let Err(e) = dialog.accept(Some(vec![Header::ContentType("application/sdp".into())]), Some(answer)) {
        tracing::warn!("could not answer: {e}");
        let _ = leg.close().await;
        return;
    }
    let mut handler = dialog.clone();
    tokio::spawn(async move {
        let _ = handler.handle(&mut tx).await;
    });
    tracing::info!(call = %id, %caller, %dialled, codec = codec.name(), "call answered");
    let mut call = Call::new(s, id, dialog, (leg, leg_tx, leg_events), codec, record, flow.language);
    call.flow = Some((flow.name.clone(), flow.version));
    call.run(states, Some(flow)).await;
}

/// Contact attribute naming the call whose voicemail a contact is (its
/// message is `GET /api/voice/calls/{id}/voicemail`).
pub const VOICEMAIL_ATTRIBUTE: &str = web::api::voice::VOICEMAIL_ATTRIBUTE;

/// A left voicemail becomes work: a contact on the callback channel in
/// `queue`, carrying the call id, offered to an agent like any contact;
/// when the agent accepts, the customer is dialled back
/// ([`callback`] with [`Dial::Voicemail`]).
async fn voicemail_contact(
    s: &Shared,
    queue: QueueId,
    call: &str,
    caller: &str,
    dialled: &str,
    lang: Lang,
) -> Result<ContactId, String> {
    let mut attributes = BTreeMap::new();
    attributes.insert(VOICEMAIL_ATTRIBUTE.to_string(), call.to_string());
    attributes.insert("language".to_string(), lang.code().to_string());
    attributes.insert("dialled".to_string(), dialled.to_string());
    let mut spec = web::api::contacts::call_spec(&s.app, queue, Some(caller.to_string()), 0, attributes)
        .await
        .map_err(|e| e.message)?;
    spec.channel = engine::Channel::Callback;
    // With a number to dial it is an engine callback from the start: the
    // engine asks for the dial once an agent accepts, and retries a failed
    // one by the queue's callback policy. Without one (a SIP address) it is
    // connected on accept and dialled as it is.
    spec.dial_back = spec.callback_number.is_some();
    s.app.live.arrive(spec).await.map_err(|e| e.message)
}

/// What a dial-out connects: an engine callback (the engine hears how the
/// dial went) or a voicemail's call-back (the engine has connected the
/// agent already when it is dialled).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dial {
    /// A callback the engine asked for (`DialCallback`).
    Callback,
    /// The call-back of a voicemail contact, accepted by the agent.
    Voicemail,
}

/// A voicemail contact was accepted without its agent's phone being rung
/// first (on the desktop): dial the customer, then ring the agent's phone.
pub(crate) async fn voicemail_callback(s: Arc<Shared>, contact: ContactId, agent: AgentId) {
    let number = s
        .app
        .live
        .read(move |_, contacts, _| {
            contacts.get(&contact).and_then(|c| c.details.as_ref()).and_then(|d| d.callback_number.clone())
        })
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    callback(s, contact, agent, number, None, Dial::Voicemail).await;
}

/// Dial a callback for a contact whose caller's line already ended: call
/// the customer through the trunk (the agent is already reserved); once
/// they answer, the engine connects the agent, whose phone then rings.
pub(crate) async fn callback(
    s: Arc<Shared>,
    contact: ContactId,
    agent: AgentId,
    number: String,
    ringing: Option<Ringing>,
    dial: Dial,
) {
    // A voicemail's call-back is connected in the engine already: a failed
    // dial ends it.
    let outcome = |o| match dial {
        Dial::Callback => Input::CallbackOutcome { contact, outcome: o },
        Dial::Voicemail => Input::Hangup { contact, by: Party::System },
    };
    let hang_up_agent = |r: Option<Ringing>| async move {
        if let Some(r) = r {
            let _ = r.agent.dialog.hangup().await;
            let _ = r.agent.leg.close().await;
        }
    };
    let settings = s.settings();
    let Some(trunk) = settings.trunk.clone() else {
        tracing::warn!(contact = contact.0, agent = agent.0, "no trunk configured: the callback cannot be dialled");
        hang_up_agent(ringing).await;
        server::input(&s, outcome(DialOutcome::Failed)).await;
        return;
    };
    let (Ok(callee), Ok(from), Ok(contact_uri)) = (
        format!("sip:{number}@{}", trunk.address).parse::<rsipstack::sip::Uri>(),
        s.our_uri(trunk.caller_id.as_deref().unwrap_or("switchboard")).parse::<rsipstack::sip::Uri>(),
        s.our_uri("switchboard").parse::<rsipstack::sip::Uri>(),
    ) else {
        tracing::warn!(contact = contact.0, %number, "callback number cannot be dialled");
        hang_up_agent(ringing).await;
        server::input(&s, outcome(DialOutcome::Failed)).await;
        return;
    };
    let Ok(socket) = s.rtp_socket().await else {
        hang_up_agent(ringing).await;
        server::input(&s, outcome(DialOutcome::Failed)).await;
        return;
    };
    let (leg_tx, leg_events, mut ringing) = match ringing {
        Some(Ringing { agent, leg_tx, leg_events, state_tx, states }) => {
            (leg_tx, leg_events, Some((agent, state_tx, states)))
        }
        None => {
            let (tx, rx) = mpsc::unbounded_channel();
            (tx, rx, None)
        }
    };
    let Ok(leg) = Leg::start(socket, Codec::Pcmu, Side::Caller, leg_tx.clone()) else {
        if let Some((a, _, _)) = ringing.take() {
            let _ = a.dialog.hangup().await;
            let _ = a.leg.close().await;
        }
        server::input(&s, outcome(DialOutcome::Failed)).await;
        return;
    };
    let local = std::net::SocketAddr::new(s.advertise, leg.local().port());
    let offer =
        sdp::build(local, crate::leg::now_wall_ms(), 1, &[Codec::Pcmu, Codec::Pcma], sdp::DTMF_PT, Direction::SendRecv);
    let opt = InviteOption {
        caller: from,
        callee,
        contact: contact_uri,
        content_type: Some("application/sdp".into()),
        offer: Some(offer),
        ..Default::default()
    };
    let (state_tx, mut states) = s.dialogs.new_dialog_state_channel();
    let id = s.call_id();
    let started = crate::leg::now_wall_ms() as i64;
    tracing::info!(call = %id, contact = contact.0, %number, "dialling a callback");
    let Ok((dialog, _handle)) = s.dialogs.do_invite_async(opt, state_tx) else {
        let _ = leg.close().await;
        if let Some((a, _, _)) = ringing.take() {
            let _ = a.dialog.hangup().await;
            let _ = a.leg.close().await;
        }
        server::input(&s, outcome(DialOutcome::Failed)).await;
        return;
    };
    let ring = tokio::time::sleep(Duration::from_secs(u64::from(trunk.ring_timeout_s)));
    tokio::pin!(ring);
    let answer = loop {
        tokio::select! {
            st = states.recv() => match st {
                Some(DialogState::Confirmed(_, resp)) => break Ok(resp),
                Some(DialogState::Terminated(_, reason)) => break Err(match reason {
                    TerminatedReason::UasBusy => DialOutcome::Busy,
                    TerminatedReason::Timeout => DialOutcome::NoAnswer,
                    _ => DialOutcome::Failed,
                }),
                Some(_) => {}
                None => break Err(DialOutcome::Failed),
            },
            () = &mut ring => {
                let _ = dialog.cancel().await;
                break Err(DialOutcome::NoAnswer);
            }
        }
    };
    // The call log entry of this attempt; each outcome fills in its end.
    let record = store::CallRecord {
        call: id.clone(),
        contact: Some(contact.0),
        direction: "callback".into(),
        caller: trunk.caller_id.clone().unwrap_or_default(),
        callee: number.clone(),
        started_at: started,
        answered_at: None,
        ended_at: None,
        end_reason: None,
        agent: Some(agent.0),
        recording: None,
        recording_ms: None,
        quality: None,
        voicemail: None,
    };
    let resp = match answer {
        Ok(r) => r,
        Err(o) => {
            tracing::info!(call = %id, contact = contact.0, outcome = ?o, "callback not answered");
            // The attempt goes in the call log with the contact, whatever the
            // engine then decides (retry or give up).
            let ended = crate::leg::now_wall_ms() as i64;
            let attempt = store::CallRecord {
                ended_at: Some(ended.max(started)),
                end_reason: Some(dial_outcome_name(o).into()),
                ..record
            };
            if let Err(e) = store::VoiceStore::put_call(&s.app.store, &attempt).await {
                tracing::error!(call = %id, "call record of a failed callback: {e}");
            }
            let _ = leg.close().await;
            if let Some((a, _, _)) = ringing.take() {
                let _ = a.dialog.hangup().await;
                let _ = a.leg.close().await;
            }
            server::input(&s, outcome(o)).await;
            return;
        }
    };
    let codec = take_answer(&leg, &resp.body);
    let record = store::CallRecord { answered_at: Some(crate::leg::now_wall_ms() as i64), ..record };
    let lang = s
        .app
        .live
        .read(move |_, contacts, _| {
            contacts.get(&contact).and_then(|c| c.details.as_ref()).and_then(|d| d.language.clone())
        })
        .await
        .ok()
        .flatten()
        .and_then(|l| Lang::parse(&l))
        .unwrap_or_default();
    let mut call = Call::new(s.clone(), id, dialog, (leg, leg_tx, leg_events), codec, record, lang);
    if let Some((a, state_tx, states)) = ringing {
        // The agent is on the line already: the engine's `answered` bridges them.
        a.leg.music(None);
        call.attempts = a.attempt;
        call.agent = Some(a);
        call.agent_state_tx = state_tx;
        call.agent_states = states;
    }
    call.caller = number;
    call.contact = Some(contact);
    call.phase = Phase::Queued;
    let (msg_tx, msgs) = mpsc::unbounded_channel();
    call.msg_tx = Some(msg_tx.clone());
    s.calls.lock().unwrap_or_else(PoisonError::into_inner).insert(contact, msg_tx);
    call.leg.play(call.clips(&["please-hold"]), 0);
    call.leg.music(Some(s.prompts.music()));
    match dial {
        Dial::Callback => {
            if !server::input(&s, outcome(DialOutcome::Connected)).await {
                call.hangup("callback-refused").await;
            }
        }
        Dial::Voicemail => {
            // The agent accepted already: connect (ringing their phone first
            // when it is not on the line yet) — unless the agent hung up
            // while the customer's phone rang (the feed reached nobody).
            let still = engine_connected(&s, contact, agent).await;
            if still {
                call.phase = Phase::Connected { agent, held: false };
                call.survey_agent = Some(agent);
                if call.agent.is_some() {
                    call.connect_audio();
                } else {
                    call.ring_agent(agent).await;
                }
            } else {
                call.phase = Phase::Closing;
                call.record.end_reason = Some("agent-hangup".into());
                call.leg.music(None);
                call.goodbye().await;
            }
        }
    }
    call.run_with(states, None, msgs).await;
}

/// How a failed dial is named in the call log (`end_reason`), as in the
/// event log.
fn dial_outcome_name(o: DialOutcome) -> &'static str {
    match o {
        DialOutcome::Connected => "connected",
        DialOutcome::NoAnswer => "no-answer",
        DialOutcome::Busy => "busy",
        DialOutcome::Failed => "failed",
    }
}

/// Ring a phone from a new media leg: its dialog states (and `None` for a
/// transport failure) go to `states` tagged with `attempt`.
async fn invite_phone(
    s: &Shared,
    target: rsipstack::sip::Uri,
    from_user: &str,
    codec: Codec,
    attempt: u64,
    leg_tx: mpsc::UnboundedSender<(Side, LegEvent)>,
    states_out: mpsc::UnboundedSender<(u64, Option<DialogState>)>,
) -> Option<(InviteDialog, Leg)> {
    let socket = match s.rtp_socket().await {
        Ok(sock) => sock,
        Err(e) => {
            tracing::error!("no RTP port to ring a phone: {e}");
            return None;
        }
    };
    let leg = Leg::start(socket, codec, Side::Agent(attempt), leg_tx).ok()?;
    let local = std::net::SocketAddr::new(s.advertise, leg.local().port());
    let offer =
        sdp::build(local, crate::leg::now_wall_ms(), 1, &[Codec::Pcmu, Codec::Pcma], sdp::DTMF_PT, Direction::SendRecv);
    let caller_uri = format!("sip:{from_user}@{}", std::net::SocketAddr::new(s.advertise, s.local_sip.port()));
    // A phone registered over TLS is rung over its TLS connection, and
    // its requests in the dialog come back over TLS.
    let flow = s.registrar.flow_of(&target);
    let our_contact = match &flow {
        Some(_) => s.our_tls_uri("switchboard").unwrap_or_else(|| s.our_uri("switchboard")),
        None => s.our_uri("switchboard"),
    };
    let (Ok(caller), Ok(contact)) = (caller_uri.parse(), our_contact.parse()) else {
        let _ = leg.close().await;
        return None;
    };
    let opt = InviteOption {
        caller,
        callee: target,
        destination: flow,
        contact,
        content_type: Some("application/sdp".into()),
        offer: Some(offer),
        ..Default::default()
    };
    let (state_tx, mut states) = s.dialogs.new_dialog_state_channel();
    let fwd = states_out.clone();
    tokio::spawn(async move {
        while let Some(st) = states.recv().await {
            if fwd.send((attempt, Some(st))).is_err() {
                break;
            }
        }
    });
    match s.dialogs.do_invite_async(opt, state_tx) {
        Ok((dialog, handle)) => {
            tokio::spawn(async move {
                // The final answer also arrives as a dialog state; a
                // transport failure only here.
                if let Ok(Err(e)) = handle.await {
                    tracing::info!("phone INVITE failed: {e}");
                    let _ = states_out.send((attempt, None));
                }
            });
            Some((dialog, leg))
        }
        Err(e) => {
            tracing::warn!("could not ring {from_user}'s target: {e}");
            let _ = leg.close().await;
            None
        }
    }
}

/// An agent's phone calls a colleague outside any contact: ring the
/// colleague's phone and relay the two phones' audio until either hangs up.
/// The engine is not told (no contact is involved); a colleague holding
/// any contact is busy.
pub(crate) async fn internal_call(s: Arc<Shared>, mut tx: Transaction, from_user: String, to: AgentId) {
    let Some(target) = s.agent_phone(to) else {
        let _ = tx.reply(StatusCode::TemporarilyUnavailable).await;
        return;
    };
    if crate::phone::agent_busy(&s, to).await {
        let _ = tx.reply(StatusCode::BusyHere).await;
        return;
    }
    let (leg_tx, mut leg_events) = mpsc::unbounded_channel();
    let (state_tx, mut states) = mpsc::unbounded_channel();
    // Attempt 0: the calling phone's dialog; 1: the colleague's.
    let Some((caller, caller_leg, codec)) =
        take_phone_invite(&s, tx, Side::Caller, 0, leg_tx.clone(), state_tx.clone()).await
    else {
        return;
    };
    let Some((callee, callee_leg)) = invite_phone(&s, target, &from_user, codec, 1, leg_tx, state_tx).await else {
        let _ = caller.reject(Some(StatusCode::ServiceUnavailable), None);
        let _ = caller_leg.close().await;
        return;
    };
    let _ = caller.ringing(None, None);
    tracing::info!(from = %from_user, to = to.0, "internal call: ringing the colleague's phone");
    s.active.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut answered = false;
    let deadline = tokio::time::sleep(MAX_CALL);
    tokio::pin!(deadline);
    let ring = tokio::time::sleep(INTERNAL_RING);
    tokio::pin!(ring);
    loop {
        tokio::select! {
            Some((attempt, st)) = states.recv() => {
                let st = st.unwrap_or(DialogState::Terminated(callee.id(), TerminatedReason::Timeout));
                match (attempt, st) {
                    (0, DialogState::Terminated(..)) => {
                        if answered {
                            let _ = callee.hangup().await;
                        } else {
                            let _ = callee.cancel().await;
                        }
                        break;
                    }
                    (_, DialogState::Terminated(_, reason)) => {
                        if answered {
                            let _ = caller.hangup().await;
                        } else {
                            let status = match reason {
                                TerminatedReason::UasBusy => StatusCode::BusyHere,
                                TerminatedReason::UasDecline => StatusCode::Decline,
                                _ => StatusCode::TemporarilyUnavailable,
                            };
                            let _ = caller.reject(Some(status), None);
                        }
                        break;
                    }
                    (1, DialogState::Confirmed(_, resp)) if !answered => {
                        answered = true;
                        take_answer(&callee_leg, &resp.body);
                        let local = std::net::SocketAddr::new(s.advertise, caller_leg.local().port());
                        let body = sdp::build(local, crate::leg::now_wall_ms(), 1, &[codec], sdp::DTMF_PT, Direction::SendRecv);
                        if caller.accept(Some(vec![Header::ContentType("application/sdp".into())]), Some(body)).is_err() {
                            let _ = callee.hangup().await;
                            break;
                        }
                        caller_leg.bridge_to(Some(&callee_leg));
                        callee_leg.bridge_to(Some(&caller_leg));
                    }
                    (0, DialogState::Updated(_, req, handle)) => {
                        answer_reinvite(&s, &caller_leg, codec, &req, handle).await;
                    }
                    (_, DialogState::Updated(_, req, handle)) => {
                        answer_reinvite(&s, &callee_leg, codec, &req, handle).await;
                    }
                    (_, other) => answer_in_dialog(other).await,
                }
            }
            // Media is relayed by the legs themselves; nothing to do here.
            Some(_) = leg_events.recv() => {}
            () = &mut ring, if !answered => {
                let _ = callee.cancel().await;
                let _ = caller.reject(Some(StatusCode::TemporarilyUnavailable), None);
                break;
            }
            () = &mut deadline => {
                let _ = caller.hangup().await;
                let _ = callee.hangup().await;
                break;
            }
        }
    }
    let _ = caller_leg.close().await;
    let _ = callee_leg.close().await;
    s.active.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(from = %from_user, to = to.0, "internal call ended");
}

/// A callback offered to an agent whose phone is registered: ring the
/// phone; when the agent answers, accept (the engine then asks to dial the
/// customer) and dial the customer with the agent already on the line.
pub(crate) async fn callback_offer(s: Arc<Shared>, contact: ContactId, agent: AgentId, dial: Dial) {
    let Some(target) = s.agent_phone(agent) else { return };
    let voicemail_number = match dial {
        Dial::Voicemail => Some(
            s.app
                .live
                .read(move |_, contacts, _| {
                    contacts.get(&contact).and_then(|c| c.details.as_ref()).and_then(|d| d.callback_number.clone())
                })
                .await
                .ok()
                .flatten()
                .unwrap_or_default(),
        ),
        Dial::Callback => None,
    };
    let (msg_tx, mut msgs) = mpsc::unbounded_channel();
    s.calls.lock().unwrap_or_else(PoisonError::into_inner).insert(contact, msg_tx.clone());
    let (leg_tx, leg_events) = mpsc::unbounded_channel();
    let (state_tx, mut states) = mpsc::unbounded_channel();
    let release = |s: &Shared| {
        let mut calls = s.calls.lock().unwrap_or_else(PoisonError::into_inner);
        if calls.get(&contact).is_some_and(|t| t.same_channel(&msg_tx)) {
            calls.remove(&contact);
        }
    };
    let Some((dialog, leg)) =
        invite_phone(&s, target, "callback", Codec::Pcmu, 1, leg_tx.clone(), state_tx.clone()).await
    else {
        release(&s);
        return;
    };
    tracing::info!(contact = contact.0, agent = agent.0, "callback offered: ringing the agent's phone");
    let mut answered = false;
    let number = loop {
        tokio::select! {
            Some((_, st)) = states.recv() => match st {
                Some(DialogState::Confirmed(_, resp)) if !answered => {
                    answered = true;
                    take_answer(&leg, &resp.body);
                    // The agent hears ringing while the customer is dialled.
                    leg.music(Some(media::tones::ringback().into()));
                    if !server::input(&s, Input::Accept { contact, agent }).await {
                        let _ = dialog.hangup().await;
                        break None;
                    }
                }
                Some(DialogState::Terminated(..)) | None => {
                    if !answered {
                        server::input(&s, Input::Reject { contact, agent }).await;
                    }
                    break None;
                }
                Some(_) => {}
            },
            Some(msg) = msgs.recv() => match msg {
                CallMsg::CancelOffer(a) if a == agent && !answered => {
                    let _ = dialog.cancel().await;
                    break None;
                }
                CallMsg::DialCallback { number, .. } if answered => break Some(number),
                // Accepted on the desktop while the phone rang (a callback,
                // or a voicemail with a number): dial the customer now; the
                // phone is rung again once they answer.
                CallMsg::DialCallback { agent: by, number } => {
                    let _ = dialog.cancel().await;
                    release(&s);
                    let _ = leg.close().await;
                    callback(s, contact, by, number, None, dial).await;
                    return;
                }
                // A voicemail's call-back: the engine connected the agent.
                CallMsg::Event(rec) if matches!(rec.event, Event::ContactAnswered { agent: a, .. } if a == agent) => {
                    if let Some(number) = voicemail_number.clone() {
                        if answered {
                            break Some(number);
                        }
                        // Accepted on the desktop while the phone rang:
                        // dial the customer, ring the phone again after.
                        let _ = dialog.cancel().await;
                        release(&s);
                        let _ = leg.close().await;
                        callback(s, contact, agent, number, None, dial).await;
                        return;
                    }
                }
                CallMsg::Event(rec) if matches!(rec.event, Event::ContactEnded { .. }) => {
                    if answered {
                        let _ = dialog.hangup().await;
                    } else {
                        let _ = dialog.cancel().await;
                    }
                    break None;
                }
                _ => {}
            },
        }
    };
    release(&s);
    let Some(number) = number else {
        let _ = leg.close().await;
        return;
    };
    let ringing = Ringing {
        agent: AgentLeg { attempt: 1, agent, dialog, leg, answered: true, held_by_phone: false },
        leg_tx,
        leg_events,
        state_tx,
        states,
    };
    callback(s, contact, agent, number, Some(ringing), dial).await;
}

/// An agent's phone already connected for a callback.
pub(crate) struct Ringing {
    agent: AgentLeg,
    leg_tx: mpsc::UnboundedSender<(Side, LegEvent)>,
    leg_events: mpsc::UnboundedReceiver<(Side, LegEvent)>,
    state_tx: mpsc::UnboundedSender<(u64, Option<DialogState>)>,
    states: mpsc::UnboundedReceiver<(u64, Option<DialogState>)>,
}

type LegParts = (Leg, mpsc::UnboundedSender<(Side, LegEvent)>, mpsc::UnboundedReceiver<(Side, LegEvent)>);

impl Call {
    fn new(
        s: Arc<Shared>,
        id: String,
        dialog: InviteDialog,
        leg: LegParts,
        codec: Codec,
        record: store::CallRecord,
        lang: Lang,
    ) -> Call {
        let (leg, leg_tx, leg_events) = leg;
        let (lookup_tx, lookups) = mpsc::unbounded_channel();
        let (agent_state_tx, agent_states) = mpsc::unbounded_channel();
        Call {
            s,
            id,
            dialog,
            leg,
            codec,
            caller: record.caller.clone(),
            dialled: record.callee.clone(),
            lang,
            contact: None,
            phase: Phase::Answering,
            agent: None,
            attempts: 0,
            timer: None,
            announce_at: None,
            last_position: None,
            last_wait_s: None,
            recorder: None,
            voicemail: None,
            voicemail_end: None,
            record,
            visits: Vec::new(),
            flow: None,
            survey_answers: Vec::new(),
            survey_agent: None,
            survey_queue: None,
            queue: None,
            reports: Vec::new(),
            ended: false,
            leg_events,
            leg_tx,
            lookups,
            lookup_tx,
            agent_states,
            agent_state_tx,
            msg_tx: None,
            announcements: Vec::new(),
            caller_held: false,
            external: None,
            transfer: None,
            voicemail_contact: None,
            consult: None,
            handover: false,
            consulting: None,
        }
    }

    async fn run(mut self, states: DialogStateReceiver, flow: Option<Arc<ivr::Flow>>) {
        let (msg_tx, msgs) = mpsc::unbounded_channel();
        self.msg_tx = Some(msg_tx);
        self.run_with(states, flow, msgs).await;
    }

    async fn run_with(
        mut self,
        mut states: DialogStateReceiver,
        flow: Option<Arc<ivr::Flow>>,
        mut msgs: mpsc::UnboundedReceiver<CallMsg>,
    ) {
        self.s.active.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let deadline = Instant::now() + MAX_CALL;
        let ack_deadline = Instant::now() + ACK_TIMEOUT;
        let mut flow = flow;
        while !self.ended {
            let timer = self.timer.map(|(_, at)| at);
            let announce = self.announce_at;
            let vm_end = self.voicemail_end;
            let ext_ring = self.external.as_ref().and_then(|e| e.ring_until);
            let answering = matches!(self.phase, Phase::Answering);
            tokio::select! {
                st = states.recv() => match st {
                    Some(DialogState::Confirmed(..)) if answering => {
                        if let Some(f) = flow.take() {
                            self.start_ivr(f).await;
                        }
                    }
                    Some(DialogState::Terminated(_, reason)) => self.caller_gone(reason).await,
                    Some(DialogState::Info(_, req, handle)) => {
                        let _ = handle.reply(StatusCode::OK).await;
                        if let Some(d) = info_digit(&req.body) {
                            self.on_digit(d).await;
                        }
                    }
                    Some(DialogState::Updated(_, req, handle)) => {
                        let body = self.reoffer(&req.body, Side::Caller);
                        let _ = handle.respond(StatusCode::OK, Some(vec![Header::ContentType("application/sdp".into())]), Some(body)).await;
                    }
                    Some(DialogState::Options(_, _, handle)) => {
                        let _ = handle.reply(StatusCode::OK).await;
                    }
                    Some(DialogState::Refer(_, _, handle)) | Some(DialogState::Notify(_, _, handle)) | Some(DialogState::Message(_, _, handle)) | Some(DialogState::Publish(_, _, handle)) => {
                        let _ = handle.reply(StatusCode::NotImplemented).await;
                    }
                    Some(_) => {}
                    None => self.caller_gone(TerminatedReason::Timeout).await,
                },
                Some((side, ev)) = self.leg_events.recv() => self.on_leg(side, ev).await,
                Some((id, result)) = self.lookups.recv() => self.ivr(IvrEvent::LookupDone { id, result }).await,
                Some((attempt, st)) = self.agent_states.recv() => self.on_agent_state(attempt, st).await,
                Some(msg) = msgs.recv() => self.on_msg(msg).await,
                () = sleep_until(timer) => {
                    if let Some((id, _)) = self.timer.take() {
                        self.ivr(IvrEvent::Timeout { id }).await;
                    }
                }
                () = sleep_until(announce) => self.announce().await,
                () = sleep_until(vm_end) => self.end_voicemail().await,
                () = sleep_until(ext_ring) => self.transfer_failed("no-answer").await,
                () = tokio::time::sleep_until(ack_deadline), if answering => {
                    tracing::info!(call = %self.id, "no ACK for our answer");
                    self.hangup("no-ack").await;
                }
                () = tokio::time::sleep_until(deadline) => {
                    tracing::warn!(call = %self.id, "call too long: ended");
                    self.hangup("too-long").await;
                }
            }
        }
        self.finish().await;
    }

    // ----- IVR ------------------------------------------------------------

    async fn start_ivr(&mut self, flow: Arc<ivr::Flow>) {
        let mut attributes = BTreeMap::new();
        attributes.insert("caller".to_string(), self.caller.clone());
        attributes.insert("dialled".to_string(), self.dialled.clone());
        let ctx = ivr::Context { calendar: None, attributes, language: None };
        let (session, actions) = Session::start(flow, ctx, crate::leg::now_wall_ms());
        self.phase = Phase::Ivr(Box::new(session));
        self.actions(actions).await;
    }

    async fn ivr(&mut self, event: IvrEvent) {
        let now = crate::leg::now_wall_ms();
        let actions = match &mut self.phase {
            Phase::Ivr(s) => {
                let a = s.handle(now, event);
                self.lang = s.language();
                a
            }
            Phase::Survey(s) => s.handle(now, event),
            _ => return,
        };
        self.actions(actions).await;
    }

    async fn actions(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Play { id, sounds, .. } => self.leg.play(self.s.prompts.pieces(&sounds), id),
                Action::StopPlayback => self.leg.stop_playing(),
                Action::StartTimer { id, ms } => self.timer = Some((id, Instant::now() + Duration::from_millis(ms))),
                Action::CancelTimer => self.timer = None,
                Action::Lookup { id, url, timeout_ms } => {
                    let (http, tx) = (self.s.app.http.clone(), self.lookup_tx.clone());
                    tokio::spawn(async move {
                        let r = lookup(&http, &url, timeout_ms).await;
                        let _ = tx.send((id, r));
                    });
                }
                Action::Queue { queue, priority, callback, language, attributes } => {
                    self.lang = language;
                    if let Err(e) = self.enqueue(QueueId(queue), priority, callback, attributes, None).await {
                        tracing::warn!(call = %self.id, "queue refused the call: {e}");
                        self.take_visits();
                        self.leg.play(self.clips(&["all-busy"]), 0);
                        self.goodbye().await;
                    }
                }
                Action::Voicemail { max_seconds, queue } => self.start_voicemail(max_seconds, queue),
                Action::Transfer { to } => self.transfer(to).await,
                Action::Answer { question, score } => {
                    self.survey_answers.push(ivr::SurveyAnswer { question, score, at_ms: crate::leg::now_wall_ms() });
                }
                Action::Hangup => {
                    self.take_visits();
                    self.hangup("ivr-hangup").await;
                    return;
                }
            }
        }
    }

    /// Keep the IVR's visits so far (the session keeps them all: the copy
    /// is replaced, so taking them twice is harmless).
    fn take_visits(&mut self) {
        if let Phase::Ivr(s) = &self.phase {
            self.visits = s.visits().to_vec();
        }
    }

    // ----- IVR transfers --------------------------------------------------

    /// Carry out an IVR `transfer` node: into a queue, to an agent (through
    /// the engine), or dial an outside party and bridge the caller to it.
    async fn transfer(&mut self, to: ivr::TransferTarget) {
        use ivr::TransferTarget as T;
        let label = match &to {
            T::Queue(q) => format!("queue:{q}"),
            T::Agent(a) => format!("agent:{a}"),
            T::Sip(uri) => uri.clone(),
            T::Number(n) => format!("number:{n}"),
        };
        tracing::info!(call = %self.id, to = %label, "IVR transfer");
        self.transfer = Some(serde_json::json!({ "to": label, "at": crate::leg::now_wall_ms() }));
        let started = match to {
            T::Queue(q) => self.enqueue(QueueId(q), 0, false, BTreeMap::new(), None).await,
            T::Agent(who) => match self.find_agent(&who).await {
                Ok((agent, queue)) => self.enqueue(queue, 0, false, BTreeMap::new(), Some(agent)).await,
                Err(e) => Err(e),
            },
            T::Sip(uri) => self.dial_external(&uri).await,
            T::Number(n) => match self.s.settings().trunk.as_ref() {
                Some(trunk) => self.dial_external(&format!("sip:{n}@{}", trunk.address)).await,
                None => Err("no trunk is configured to dial numbers".into()),
            },
        };
        match started {
            // Into the engine: the IVR is over (`enqueue` said so).
            Ok(()) if self.external.is_none() => self.note_transfer("queued"),
            Ok(()) => {}
            Err(e) => {
                tracing::info!(call = %self.id, "IVR transfer failed: {e}");
                self.transfer_failed("failed").await;
            }
        }
    }

    fn note_transfer(&mut self, outcome: &str) {
        if let Some(serde_json::Value::Object(t)) = &mut self.transfer {
            t.insert("outcome".into(), outcome.into());
            t.insert("outcome_at".into(), crate::leg::now_wall_ms().into());
        }
    }

    /// An agent by login (or id, or name) and the queue to reach them in:
    /// their first queue, with the agent as the only one who may take the call.
    async fn find_agent(&self, who: &str) -> Result<(AgentId, QueueId), String> {
        let st = &self.s.app.store;
        let by_login = store::AccountStore::user_by_login(st, who).await.ok().flatten().and_then(|u| u.agent_id);
        let id = by_login.or_else(|| who.trim().parse::<u32>().ok().map(AgentId));
        let agents = store::ConfigStore::agents(st).await.map_err(|e| e.to_string())?;
        let cfg =
            agents.iter().find(|a| Some(a.id) == id || a.name == who).ok_or_else(|| format!("no agent {who:?}"))?;
        let queue = cfg.queues.iter().min_by_key(|m| m.position).map(|m| m.queue);
        let queue = queue.ok_or_else(|| format!("agent {who:?} is in no queue"))?;
        let agent = cfg.id;
        let online = self
            .s
            .app
            .live
            .read(move |e, _, _| e.agent_view(agent).is_some_and(|v| v.state != engine::AgentState::Offline))
            .await
            .unwrap_or(false);
        if !online {
            return Err(format!("agent {who:?} is not logged in"));
        }
        Ok((agent, queue))
    }

    /// Ring an outside party for an IVR transfer; the caller hears ringing.
    async fn dial_external(&mut self, uri: &str) -> Result<(), String> {
        let target: rsipstack::sip::Uri = uri.parse().map_err(|_| format!("{uri:?} is not a SIP URI"))?;
        self.attempts += 1;
        let attempt = self.attempts;
        let from = if self.caller.is_empty() { "anonymous".to_string() } else { self.caller.clone() };
        let rung =
            invite_phone(&self.s, target, &from, self.codec, attempt, self.leg_tx.clone(), self.agent_state_tx.clone())
                .await;
        let (dialog, leg) = rung.ok_or_else(|| format!("could not dial {uri}"))?;
        let ring_s = self.s.settings().trunk.as_ref().map_or(30, |t| t.ring_timeout_s.max(1));
        let ring_until = Some(Instant::now() + Duration::from_secs(u64::from(ring_s)));
        self.external = Some(External { attempt, dialog, leg, answered: false, ring_until });
        self.leg.music(Some(media::tones::ringback().into()));
        Ok(())
    }

    /// The outside party did not answer (or refused): the flow goes on.
    async fn transfer_failed(&mut self, reason: &str) {
        if let Some(e) = self.external.take() {
            if e.answered {
                let _ = e.dialog.hangup().await;
            } else {
                let _ = e.dialog.cancel().await;
            }
            self.close_leg(e.leg, "external").await;
        }
        self.leg.music(None);
        self.note_transfer(reason);
        if matches!(self.phase, Phase::Ivr(_)) {
            // Boxed: the flow's next node may transfer again.
            Box::pin(self.ivr(IvrEvent::TransferFailed { reason: reason.into() })).await;
        } else {
            self.goodbye().await;
        }
    }

    /// Signalling of the outside party's leg.
    async fn on_external_state(&mut self, st: Option<DialogState>) {
        let Some(e) = self.external.as_mut() else { return };
        let st = st.unwrap_or(DialogState::Terminated(e.dialog.id(), TerminatedReason::Timeout));
        match st {
            DialogState::Confirmed(_, resp) if !e.answered => {
                e.answered = true;
                e.ring_until = None;
                take_answer(&e.leg, &resp.body);
                tracing::info!(call = %self.id, "IVR transfer answered: bridged");
                self.note_transfer("answered");
                if let Phase::Ivr(s) = &mut self.phase {
                    s.handle(crate::leg::now_wall_ms(), IvrEvent::Transferred);
                }
                self.take_visits();
                self.phase = Phase::External;
                self.timer = None;
                self.leg.music(None);
                self.leg.stop_playing();
                if let Some(e) = &self.external {
                    self.leg.bridge_to(Some(&e.leg));
                    e.leg.bridge_to(Some(&self.leg));
                }
                self.start_recording();
                if let (Some(rec), Some(e)) = (&self.recorder, &self.external) {
                    self.leg.record(Some((rec.clone(), record::CALLER)));
                    e.leg.record(Some((rec.clone(), record::AGENT)));
                }
                self.put_record().await;
            }
            DialogState::Terminated(_, reason) => {
                if e.answered {
                    tracing::info!(call = %self.id, "the transferred-to party hung up");
                    if let Some(e) = self.external.take() {
                        self.leg.bridge_to(None);
                        self.close_leg(e.leg, "external").await;
                    }
                    self.record.end_reason.get_or_insert_with(|| "transfer-hangup".into());
                    self.hangup("transfer-hangup").await;
                } else {
                    let why = match reason {
                        TerminatedReason::UasBusy => "busy",
                        TerminatedReason::UasDecline => "declined",
                        TerminatedReason::Timeout => "no-answer",
                        _ => "failed",
                    };
                    self.transfer_failed(why).await;
                }
            }
            DialogState::Updated(_, req, handle) => {
                answer_reinvite(&self.s, &e.leg, self.codec, &req, handle).await;
            }
            other => answer_in_dialog(other).await,
        }
    }

    async fn on_digit(&mut self, d: char) {
        if self.voicemail_end.is_some() {
            if d == '#' {
                self.end_voicemail().await;
            }
            return;
        }
        match &self.phase {
            Phase::Ivr(_) | Phase::Survey(_) => self.ivr(IvrEvent::Digit(d)).await,
            Phase::Queued => {
                if self.s.settings().queue_media.callback_key == Some(d)
                    && let Some(contact) = self.contact
                {
                    let number = Some(self.caller.clone()).filter(|c| store::normalise_phone(c).is_some());
                    if !server::input(&self.s, Input::RequestCallback { contact, number }).await {
                        self.leg.play(self.clips(&["invalid"]), 0);
                    }
                }
            }
            _ => {}
        }
    }

    fn start_voicemail(&mut self, max_seconds: u32, queue: Option<u32>) {
        let path = self.s.config.recordings_dir.join("voicemail").join(format!("{}.wav", self.id));
        match SharedRecorder::create(&path, crate::leg::now_wall_ms()) {
            Ok(rec) => {
                self.leg.record(Some((rec.clone(), record::CALLER)));
                self.voicemail = Some(rec);
                self.record.voicemail = Some(path.display().to_string());
                self.queue = queue.map(QueueId);
            }
            Err(e) => tracing::error!("voicemail file {}: {e}", path.display()),
        }
        self.voicemail_end = Some(Instant::now() + Duration::from_secs(u64::from(max_seconds.max(1))));
    }

    /// The message is complete (`#`, or its time is up).
    async fn end_voicemail(&mut self) {
        self.voicemail_end = None;
        self.finish_voicemail().await;
        self.record.end_reason.get_or_insert_with(|| "voicemail".into());
        if matches!(self.phase, Phase::Ivr(_)) {
            self.ivr(IvrEvent::VoicemailDone).await;
        } else {
            self.leg.play(self.clips(&["voicemail-thanks"]), 0);
            self.goodbye().await;
        }
    }

    /// Close the message's file and make it work for an agent of its queue.
    async fn finish_voicemail(&mut self) {
        let Some(vm) = self.voicemail.take() else { return };
        self.leg.record(None);
        if let Some(Err(e)) = vm.finish(crate::leg::now_wall_ms()) {
            tracing::error!("voicemail {}: {e}", vm.path().display());
            return;
        }
        let Some(queue) = self.queue else { return };
        match voicemail_contact(&self.s, queue, &self.id, &self.caller, &self.dialled, self.lang).await {
            Ok(contact) => {
                tracing::info!(call = %self.id, contact = contact.0, queue = queue.0, "voicemail left for the queue");
                self.voicemail_contact = Some(contact);
                if self.record.contact.is_none() {
                    self.record.contact = Some(contact.0);
                }
            }
            Err(e) => tracing::error!(call = %self.id, "voicemail not given to an agent: {e}"),
        }
    }

    // ----- queue ----------------------------------------------------------

    /// Put the caller into the engine; on success the IVR is over.
    async fn enqueue(
        &mut self,
        queue: QueueId,
        priority: i32,
        callback: bool,
        mut attributes: BTreeMap<String, String>,
        preferred: Option<AgentId>,
    ) -> Result<(), String> {
        attributes.insert(web::live::TELEPHONY_ATTRIBUTE.into(), self.id.clone());
        attributes.insert("language".into(), self.lang.code().into());
        attributes.entry("dialled".into()).or_insert_with(|| self.dialled.clone());
        let caller = Some(self.caller.clone());
        let mut spec = web::api::contacts::call_spec(&self.s.app, queue, caller, priority, attributes)
            .await
            .map_err(|e| format!("contact refused: {}", e.message))?;
        // A caller put through to one agent waits for that agent alone
        // (within the queue's maximum wait and overflow).
        if preferred.is_some() {
            spec.required_agent = preferred;
        }
        if let Some(tx) = self.msg_tx.clone() {
            self.s.pending.lock().unwrap_or_else(PoisonError::into_inner).insert(self.id.clone(), tx);
        }
        let arrived = self.s.app.live.arrive(spec).await;
        // The server may or may not have bound the contact from the feed
        // yet: bind it here too before forgetting the pending entry.
        if let (Ok(contact), Some(tx)) = (&arrived, self.msg_tx.clone()) {
            self.s.calls.lock().unwrap_or_else(PoisonError::into_inner).insert(*contact, tx);
        }
        self.s.pending.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.id);
        match arrived {
            Ok(contact) => {
                tracing::info!(call = %self.id, contact = contact.0, queue = queue.0, "call queued");
                if let Phase::Ivr(s) = &mut self.phase {
                    s.handle(crate::leg::now_wall_ms(), IvrEvent::Transferred);
                }
                self.take_visits();
                self.contact = Some(contact);
                self.record.contact = Some(contact.0);
                self.queue = Some(queue);
                self.phase = Phase::Queued;
                self.put_record().await;
                self.leg.play(self.clips(&["please-hold"]), 0);
                self.leg.music(Some(self.s.prompts.music()));
                self.announce_at = Some(Instant::now() + FIRST_ANNOUNCEMENT);
                if callback {
                    let number = Some(self.caller.clone()).filter(|c| store::normalise_phone(c).is_some());
                    server::input(&self.s, Input::RequestCallback { contact, number }).await;
                }
                Ok(())
            }
            Err(e) => Err(e.message),
        }
    }

    fn clips(&self, names: &[&str]) -> Vec<Piece> {
        names.iter().map(|n| Piece::Audio(self.s.prompts.clip(self.lang, n))).collect()
    }

    /// Announce position and expected wait when they improved (never the
    /// same or a worse figure twice), then again after the period.
    async fn announce(&mut self) {
        self.announce_at = None;
        let (Phase::Queued, Some(contact)) = (&self.phase, self.contact) else { return };
        let media = self.s.settings().queue_media.clone();
        let read = self.s.app.live.read(move |e, _, _| (e.queue_position(contact), e.expected_wait_ms(contact))).await;
        let Ok((position, wait)) = read else { return };
        let mut sounds: Vec<Sound> = Vec::new();
        let mut said = serde_json::Map::new();
        if media.announce_position
            && let Some(p) = position
            && self.last_position.is_none_or(|last| p < last)
        {
            sounds.extend(ivr::speak::position(u64::from(p), self.lang).into_iter().map(Sound::Clip));
            self.last_position = Some(p);
            said.insert("position".into(), p.into());
        }
        if media.announce_wait
            && let Some(ms) = wait
        {
            let secs = ms / 1000;
            if self.last_wait_s.is_none_or(|last| secs + 30 <= last) {
                sounds.push(Sound::Silence { ms: 300 });
                sounds.extend(ivr::speak::expected_wait(secs, self.lang).into_iter().map(Sound::Clip));
                self.last_wait_s = Some(secs);
                said.insert("wait_s".into(), secs.into());
            }
        }
        if !sounds.is_empty() {
            self.leg.play(self.s.prompts.pieces(&sounds), 0);
            said.insert("at".into(), crate::leg::now_wall_ms().into());
            self.announcements.push(said.into());
        }
        if media.announce_every_s > 0 {
            self.announce_at = Some(Instant::now() + Duration::from_secs(u64::from(media.announce_every_s)));
        }
    }

    // ----- agent leg ------------------------------------------------------

    async fn on_msg(&mut self, msg: CallMsg) {
        match msg {
            CallMsg::Offer(agent) => self.ring_agent(agent).await,
            CallMsg::CancelOffer(agent) => {
                if let Some(a) = &self.agent
                    && a.agent == agent
                    && !a.answered
                {
                    let a = self.agent.take();
                    if let Some(a) = a {
                        let _ = a.dialog.cancel().await;
                        self.close_leg(a.leg, "agent").await;
                    }
                }
            }
            CallMsg::Exit(action) => {
                self.announce_at = None;
                self.leg.music(None);
                match action {
                    ExitAction::Voicemail => {
                        self.leg.stop_playing();
                        self.phase = Phase::Voicemail;
                        let mut intro = self.clips(&["voicemail-prompt"]);
                        intro.push(Piece::Audio(media::tones::beep(300, 1000.0).into()));
                        self.leg.play(intro, 0);
                        self.start_voicemail(120, self.queue.map(|q| q.0));
                    }
                    _ => {
                        self.leg.play(self.clips(&["all-busy"]), 0);
                        self.goodbye().await;
                    }
                }
            }
            CallMsg::ReleaseCaller => {
                self.announce_at = None;
                self.leg.music(None);
                self.leg.stop_playing();
                self.record.end_reason = Some("callback".into());
                self.leg.play(self.clips(&["callback-confirmed"]), 0);
                self.goodbye().await;
            }
            CallMsg::DialCallback { agent, number } => {
                // The caller is still on the line (a callback requested but
                // not released): connect them to the agent right away.
                tracing::info!(call = %self.id, agent = agent.0, %number, "callback reached the front while the caller waits");
                if let Some(contact) = self.contact {
                    server::input(&self.s, Input::CallbackOutcome { contact, outcome: engine::DialOutcome::Connected })
                        .await;
                }
            }
            CallMsg::Event(rec) => self.on_event(&rec).await,
            CallMsg::PhoneConsult(p) => self.phone_consult(*p).await,
        }
    }

    async fn ring_agent(&mut self, agent: AgentId) {
        // Already ringing or talking to this agent's phone: nothing to do.
        if self.agent.as_ref().is_some_and(|a| a.agent == agent) {
            return;
        }
        let Some(target) = self.s.agent_phone(agent) else {
            // No phone registered: the agent answers on the desktop.
            return;
        };
        if let Some(old) = self.agent.take() {
            self.unbridge();
            if old.answered {
                let _ = old.dialog.hangup().await;
            } else {
                let _ = old.dialog.cancel().await;
            }
            self.close_leg(old.leg, "agent").await;
        }
        self.attempts += 1;
        let attempt = self.attempts;
        let from = if self.caller.is_empty() { "anonymous".to_string() } else { self.caller.clone() };
        let rung =
            invite_phone(&self.s, target, &from, self.codec, attempt, self.leg_tx.clone(), self.agent_state_tx.clone())
                .await;
        if let Some((dialog, leg)) = rung {
            tracing::info!(call = %self.id, agent = agent.0, "ringing the agent's phone");
            self.agent = Some(AgentLeg { attempt, agent, dialog, leg, answered: false, held_by_phone: false });
        }
    }

    async fn on_agent_state(&mut self, attempt: u64, st: Option<DialogState>) {
        if self.external.as_ref().is_some_and(|e| e.attempt == attempt) {
            self.on_external_state(st).await;
            return;
        }
        if self.consult.as_ref().is_some_and(|c| c.attempt == attempt) {
            self.on_consult_state(st).await;
            return;
        }
        if self.consulting.as_ref().is_some_and(|c| c.attempt == attempt) {
            self.on_consulting_state(st).await;
            return;
        }
        let Some(a) = self.agent.as_mut().filter(|a| a.attempt == attempt) else { return };
        // `None`: the INVITE failed at the transport (nobody answered at all).
        let st = st.unwrap_or(DialogState::Terminated(a.dialog.id(), TerminatedReason::Timeout));
        match st {
            DialogState::Confirmed(_, resp) if !a.answered => {
                a.answered = true;
                take_answer(&a.leg, &resp.body);
                let (agent, contact) = (a.agent, self.contact);
                let Some(contact) = contact else { return };
                tracing::info!(call = %self.id, agent = agent.0, "agent answered on the phone");
                // Answered on the desktop already? Then just connect the audio.
                let connected = matches!(self.phase, Phase::Connected { agent: x, .. } if x == agent);
                // The desktop may have accepted while the phone rang (its
                // event still on its way here): the engine knows.
                let accepted = connected
                    || server::input(&self.s, Input::Accept { contact, agent }).await
                    || engine_connected(&self.s, contact, agent).await;
                if accepted {
                    self.connect_audio();
                } else {
                    // The offer lapsed while the phone rang.
                    if let Some(a) = self.agent.take() {
                        let _ = a.dialog.hangup().await;
                        self.close_leg(a.leg, "agent").await;
                    }
                }
            }
            DialogState::Updated(_, req, handle) => {
                // The phone's hold key: a re-INVITE with sendonly/inactive.
                let remote = answer_reinvite(&self.s, &a.leg, self.codec, &req, handle).await;
                a.held_by_phone = remote.as_ref().is_some_and(|r| r.is_hold());
                let held = matches!(self.phase, Phase::Connected { held: true, .. });
                if let (Some(contact), Some(r)) = (self.contact, remote) {
                    if r.is_hold() && !held {
                        server::input(&self.s, Input::Hold { contact }).await;
                    } else if !r.is_hold() && held {
                        server::input(&self.s, Input::Resume { contact }).await;
                    }
                }
            }
            DialogState::Refer(_, req, handle) => {
                let refer_to = refer_to(&req);
                // Attended transfer: Refer-To names the consultation call.
                if let Some(r) = refer_to.as_deref().and_then(crate::phone::replaces_in) {
                    self.attended_transfer(r, handle, false).await;
                    return;
                }
                // Blind transfer from the phone: Refer-To names a phone
                // (an agent) or a queue number.
                let target = refer_to.and_then(|v| self.transfer_target(&v));
                let Some((contact, to)) = self.contact.zip(target) else {
                    let _ = handle.reply(StatusCode::BadRequest).await;
                    return;
                };
                if server::input(&self.s, Input::Transfer { contact, to }).await {
                    let _ = handle.reply(StatusCode::Accepted).await;
                    // The phone learns it worked and hangs up (we hang up
                    // its leg anyway when the transfer event arrives).
                    if let Some(a) = &self.agent {
                        let _ = a.dialog.notify_refer(StatusCode::OK, "terminated;reason=noresource").await;
                    }
                } else {
                    let _ = handle.reply(StatusCode::Forbidden).await;
                }
            }
            DialogState::Terminated(_, reason) => {
                let a = self.agent.take();
                let Some(a) = a else { return };
                self.close_leg(a.leg.clone(), "agent").await;
                let Some(contact) = self.contact else { return };
                if a.answered {
                    tracing::info!(call = %self.id, agent = a.agent.0, "agent hung up on the phone");
                    if matches!(self.phase, Phase::Connected { .. }) {
                        server::input(&self.s, Input::Hangup { contact, by: Party::Agent }).await;
                    }
                } else if matches!(
                    reason,
                    TerminatedReason::UasBusy | TerminatedReason::UasDecline | TerminatedReason::UasOther(_)
                ) {
                    tracing::info!(call = %self.id, agent = a.agent.0, ?reason, "agent's phone refused the call");
                    server::input(&self.s, Input::Reject { contact, agent: a.agent }).await;
                }
            }
            other => answer_in_dialog(other).await,
        }
    }

    /// A consultation rings the consulted agent's phone (when registered;
    /// otherwise the agent answers on the desktop and the two agents talk
    /// by other means).
    async fn ring_consult(&mut self, target: AgentId) {
        self.drop_consult().await;
        let Some(uri) = self.s.agent_phone(target) else { return };
        self.attempts += 1;
        let attempt = self.attempts;
        let from = if self.caller.is_empty() { "anonymous".to_string() } else { self.caller.clone() };
        let rung =
            invite_phone(&self.s, uri, &from, self.codec, attempt, self.leg_tx.clone(), self.agent_state_tx.clone())
                .await;
        if let Some((dialog, leg)) = rung {
            tracing::info!(call = %self.id, agent = target.0, "ringing the consulted agent's phone");
            self.consult =
                Some(AgentLeg { attempt, agent: target, dialog, leg, answered: false, held_by_phone: false });
        }
    }

    /// The two agents' phones talk to each other (the caller holds, with
    /// music): the consulted phone with the consulting agent's own
    /// consultation call when the phone placed one (answered now), else
    /// with the consulting agent's leg of this call.
    fn bridge_consult(&mut self) {
        let Some(c) = self.consult.as_ref().filter(|c| c.answered) else { return };
        if let Some(k) = self.consulting.as_mut() {
            if !k.answered {
                let local = std::net::SocketAddr::new(self.s.advertise, k.leg.local().port());
                let sdp =
                    sdp::build(local, crate::leg::now_wall_ms(), 1, &[k.codec], sdp::DTMF_PT, Direction::SendRecv);
                if let Err(e) = k.dialog.accept(Some(vec![Header::ContentType("application/sdp".into())]), Some(sdp)) {
                    tracing::warn!(call = %self.id, "could not answer the agent's consultation call: {e}");
                    return;
                }
                k.answered = true;
            }
            k.leg.bridge_to(Some(&c.leg));
            c.leg.bridge_to(Some(&k.leg));
        } else if let Some(a) = self.agent.as_ref().filter(|a| a.answered) {
            a.leg.bridge_to(Some(&c.leg));
            c.leg.bridge_to(Some(&a.leg));
        }
    }

    /// Hang up (or stop ringing) the consulted agent's phone.
    async fn drop_consult(&mut self) {
        if let Some(c) = self.consult.take() {
            if let Some(a) = &self.agent {
                a.leg.bridge_to(None);
            }
            c.leg.bridge_to(None);
            if c.answered {
                let _ = c.dialog.hangup().await;
            } else {
                let _ = c.dialog.cancel().await;
            }
            self.close_leg(c.leg, "consult").await;
        }
    }

    /// The consultation ended. Completed: the consulting agent's phone is
    /// hung up and the consulted one becomes the call's agent leg (the
    /// `ContactAnswered` that follows bridges it to the caller and records
    /// it). Otherwise the consulted phone goes; `ContactResumed` brings the
    /// caller back to the consulting agent.
    async fn end_consult(&mut self, outcome: ConsultOutcome) {
        if outcome != ConsultOutcome::Completed {
            self.drop_consult().await;
            let refusal = match outcome {
                ConsultOutcome::Rejected => StatusCode::Decline,
                ConsultOutcome::TimedOut => StatusCode::TemporarilyUnavailable,
                _ => StatusCode::RequestTerminated,
            };
            if self.end_consulting(refusal).await && outcome != ConsultOutcome::CustomerLeft {
                self.keep_phone_hold().await;
            }
            return;
        }
        self.hand_over().await;
    }

    /// A completed consultation: the consulting agent's phone (its leg of
    /// this call and its own consultation call, if any) is hung up and the
    /// consulted leg becomes the call's agent leg.
    async fn hand_over(&mut self) {
        let Some(c) = self.consult.take() else { return };
        c.leg.bridge_to(None);
        self.end_consulting(StatusCode::RequestTerminated).await;
        if let Some(old) = self.agent.take() {
            old.leg.bridge_to(None);
            let _ = old.dialog.hangup().await;
            self.close_leg(old.leg, "agent").await;
        }
        if c.answered {
            self.agent = Some(c);
            self.handover = true;
        } else {
            let _ = c.dialog.cancel().await;
            self.close_leg(c.leg, "consult").await;
        }
    }

    /// End the consultation call the agent's phone placed: refused with
    /// `status` while unanswered, else hung up. Whether there was one.
    async fn end_consulting(&mut self, status: StatusCode) -> bool {
        let Some(k) = self.consulting.take() else { return false };
        k.leg.bridge_to(None);
        if k.answered {
            let _ = k.dialog.hangup().await;
        } else {
            let _ = k.dialog.reject(Some(status), None);
        }
        self.close_leg(k.leg, "consulting").await;
        true
    }

    /// The engine resumes the customer when a consultation ends without a
    /// transfer, but a desk phone still holds them until its own resume
    /// key (a re-INVITE, reported as `Resume`): hold again so the engine
    /// keeps counting hold time.
    async fn keep_phone_hold(&mut self) {
        if let (Some(contact), Some(true)) = (self.contact, self.agent.as_ref().map(|a| a.held_by_phone)) {
            server::input(&self.s, Input::Hold { contact }).await;
        }
    }

    /// The agent's phone dialled a colleague during this call: ask the
    /// engine for a consultation; the phone hears ringing until the
    /// colleague answers (then `bridge_consult` answers it), and is refused
    /// when the engine refuses.
    async fn phone_consult(&mut self, p: PhoneInvite) {
        let PhoneInvite { mut tx, to } = p;
        let Some(contact) = self.contact else {
            let _ = tx.reply(StatusCode::TemporarilyUnavailable).await;
            return;
        };
        if self.consulting.is_some() || self.consult.is_some() {
            let why = Header::Warning("399 switchboard \"a consultation is in progress already\"".into());
            let _ = tx.reply_with(StatusCode::BusyHere, vec![why], None).await;
            return;
        }
        self.attempts += 1;
        let attempt = self.attempts;
        let (leg_tx, state_tx) = (self.leg_tx.clone(), self.agent_state_tx.clone());
        let Some((dialog, leg, codec)) =
            take_phone_invite(&self.s, tx, Side::Agent(attempt), attempt, leg_tx, state_tx).await
        else {
            return;
        };
        match self.s.app.live.input(Input::Consult { contact, to }).await {
            Ok(_) => {
                let _ = dialog.ringing(None, None);
                self.consulting = Some(Consulting { attempt, dialog, leg, codec, answered: false });
            }
            Err(e) => {
                tracing::info!(call = %self.id, to = to.0, "consultation from the phone refused: {}", e.message);
                let reason = format!("SIP;cause=486;text=\"{}\"", e.message.replace('"', "'"));
                let _ = dialog.reject(Some(StatusCode::BusyHere), Some(reason));
                let _ = leg.close().await;
            }
        }
    }

    /// What the agent's own consultation call did.
    async fn on_consulting_state(&mut self, st: Option<DialogState>) {
        let Some(k) = self.consulting.as_mut() else { return };
        let st = st.unwrap_or(DialogState::Terminated(k.dialog.id(), TerminatedReason::Timeout));
        match st {
            DialogState::Terminated(..) => {
                // The agent hung up the consultation (or gave up ringing):
                // the consultation is off, the customer stays on hold.
                let Some(k) = self.consulting.take() else { return };
                k.leg.bridge_to(None);
                self.close_leg(k.leg, "consulting").await;
                if let Some(contact) = self.contact
                    && self.consult.is_some()
                {
                    tracing::info!(call = %self.id, "the agent's phone ended the consultation");
                    if server::input(&self.s, Input::CancelConsult { contact }).await {
                        self.keep_phone_hold().await;
                    }
                }
            }
            DialogState::Refer(_, req, handle) => {
                // Some phones send the transfer on the consultation call,
                // its Refer-To naming the customer's call with Replaces.
                match refer_to(&req).as_deref().and_then(crate::phone::replaces_in) {
                    Some(r) => self.attended_transfer(r, handle, true).await,
                    None => {
                        let _ = handle.reply(StatusCode::Forbidden).await;
                    }
                }
            }
            DialogState::Updated(_, req, handle) => {
                answer_reinvite(&self.s, &k.leg, k.codec, &req, handle).await;
            }
            other => answer_in_dialog(other).await,
        }
    }

    /// REFER with `Replaces` from the consulting agent's phone (on this
    /// call's agent leg, or on its consultation call when `on_consulting`):
    /// the `Replaces` must name the phone's other call with us and the
    /// consulted agent must have answered. Then the consultation completes
    /// (`CompleteConsult`), the phone hears NOTIFY 200 and both its calls
    /// are hung up; otherwise it hears the failure and nothing changes.
    async fn attended_transfer(
        &mut self,
        replaces: crate::phone::Replaces,
        handle: rsipstack::dialog::dialog::TransactionHandle,
        on_consulting: bool,
    ) {
        let _ = handle.reply(StatusCode::Accepted).await;
        let named = if on_consulting {
            self.agent.as_ref().map(|a| a.dialog.id())
        } else {
            self.consulting.as_ref().map(|k| k.dialog.id())
        };
        let status = if !named.is_some_and(|id| replaces.names(&id)) {
            tracing::info!(call = %self.id, ?replaces, "attended transfer names no call of this consultation");
            StatusCode::CallTransactionDoesNotExist
        } else if !self.consult.as_ref().is_some_and(|c| c.answered) {
            StatusCode::TemporarilyUnavailable
        } else {
            match self.contact {
                Some(contact) if server::input(&self.s, Input::CompleteConsult { contact }).await => StatusCode::OK,
                _ => StatusCode::ServiceUnavailable,
            }
        };
        let dialog = if on_consulting {
            self.consulting.as_ref().map(|k| k.dialog.clone())
        } else {
            self.agent.as_ref().map(|a| a.dialog.clone())
        };
        if let Some(d) = dialog {
            let _ = d.notify_refer(status.clone(), "terminated;reason=noresource").await;
        }
        if status == StatusCode::OK {
            tracing::info!(call = %self.id, "attended transfer from the agent's phone");
            // At once, not on `ConsultEnded`: the phone may hang up its
            // calls any moment, and those ends must not read as the agent
            // leaving the customer.
            self.hand_over().await;
        }
    }

    /// What the consulted agent's phone did.
    async fn on_consult_state(&mut self, st: Option<DialogState>) {
        let Some(c) = self.consult.as_mut() else { return };
        let st = st.unwrap_or(DialogState::Terminated(c.dialog.id(), TerminatedReason::Timeout));
        let Some(contact) = self.contact else { return };
        match st {
            DialogState::Confirmed(_, resp) if !c.answered => {
                c.answered = true;
                take_answer(&c.leg, &resp.body);
                let agent = c.agent;
                tracing::info!(call = %self.id, agent = agent.0, "consulted agent answered on the phone");
                // The engine answers the consultation (or it already was,
                // on the desktop); a lapsed one is hung up.
                let answered = server::input(&self.s, Input::Accept { contact, agent }).await
                    || self
                        .s
                        .app
                        .live
                        .read(move |e, _, _| {
                            e.agent_view(agent).is_some_and(|v| {
                                v.work.iter().any(|w| w.contact == contact && w.phase == engine::WorkPhase::Consulting)
                            })
                        })
                        .await
                        .unwrap_or(false);
                if answered {
                    self.bridge_consult();
                } else {
                    self.drop_consult().await;
                }
            }
            DialogState::Updated(_, req, handle) => {
                // A hold key on the consulted phone: answer the re-INVITE, keep going.
                answer_reinvite(&self.s, &c.leg, self.codec, &req, handle).await;
            }
            DialogState::Terminated(_, reason) => {
                let Some(c) = self.consult.take() else { return };
                if let Some(a) = &self.agent {
                    a.leg.bridge_to(None);
                }
                self.close_leg(c.leg.clone(), "consult").await;
                if c.answered {
                    // The consulted agent hung up: the consultation is over.
                    tracing::info!(call = %self.id, agent = c.agent.0, "consulted agent hung up");
                    server::input(&self.s, Input::CancelConsult { contact }).await;
                } else if matches!(
                    reason,
                    TerminatedReason::UasBusy | TerminatedReason::UasDecline | TerminatedReason::UasOther(_)
                ) {
                    tracing::info!(call = %self.id, agent = c.agent.0, ?reason, "consulted agent's phone refused");
                    server::input(&self.s, Input::Reject { contact, agent: c.agent }).await;
                }
            }
            other => answer_in_dialog(other).await,
        }
    }

    /// What a `Refer-To` URI names: a registered device's user (its agent)
    /// or a queue by number.
    fn transfer_target(&self, refer_to: &str) -> Option<engine::TransferTarget> {
        let uri = refer_to.trim().trim_start_matches('<').split(['>', ';', '?']).next()?.to_string();
        let uri: rsipstack::sip::Uri = uri.parse().ok()?;
        let user = user_of(&uri);
        let settings = self.s.settings();
        if let Some(d) = settings.devices.iter().find(|d| d.user == user) {
            return Some(engine::TransferTarget::Agent(AgentId(d.agent)));
        }
        user.parse::<u32>().ok().map(|q| engine::TransferTarget::Queue(QueueId(q)))
    }

    /// Bridge caller and agent and start recording.
    fn connect_audio(&mut self) {
        let Some(a) = &self.agent else { return };
        if !a.answered {
            return;
        }
        self.leg.music(None);
        self.leg.stop_playing();
        self.leg.bridge_to(Some(&a.leg));
        a.leg.bridge_to(Some(&self.leg));
        self.start_recording();
        if let (Some(rec), Some(a)) = (&self.recorder, &self.agent) {
            self.leg.record(Some((rec.clone(), record::CALLER)));
            a.leg.record(Some((rec.clone(), record::AGENT)));
        }
    }

    /// Open the call's recording (once), when calls are recorded.
    fn start_recording(&mut self) {
        if self.recorder.is_none() && self.s.settings().record_calls {
            let path = self.s.config.recordings_dir.join(format!("{}.wav", self.id));
            match SharedRecorder::create(&path, crate::leg::now_wall_ms()) {
                Ok(rec) => {
                    self.record.recording = Some(path.display().to_string());
                    self.recorder = Some(rec);
                }
                Err(e) => tracing::error!("recording {}: {e}", path.display()),
            }
        }
    }

    fn unbridge(&mut self) {
        self.leg.bridge_to(None);
        if let Some(a) = &self.agent {
            a.leg.bridge_to(None);
        }
    }

    async fn on_event(&mut self, rec: &EventRecord) {
        match &rec.event {
            Event::ContactAnswered { agent, .. } => {
                self.announce_at = None;
                self.record.agent = Some(agent.0);
                self.phase = Phase::Connected { agent: *agent, held: false };
                self.survey_agent = Some(*agent);
                self.survey_queue = self.queue;
                self.leg.music(None);
                self.leg.stop_playing();
                if self.agent.as_ref().is_none_or(|a| a.agent != *agent) {
                    // Connected without ringing the phone (a callback, or an
                    // answer on the desktop): ring it now; hold music until then.
                    self.ring_agent(*agent).await;
                    if self.agent.is_some() {
                        self.leg.music(Some(self.s.prompts.music()));
                    }
                }
                self.connect_audio();
            }
            Event::ContactHeld { .. } => {
                if let Phase::Connected { held, .. } = &mut self.phase {
                    *held = true;
                }
                self.unbridge();
                self.leg.music(Some(self.s.prompts.music()));
            }
            Event::ContactResumed { .. } => {
                if let Phase::Connected { held, .. } = &mut self.phase {
                    *held = false;
                }
                self.leg.music(None);
                self.connect_audio();
            }
            Event::ConsultOffered { target, .. } => self.ring_consult(*target).await,
            Event::ConsultAnswered { .. } => self.bridge_consult(),
            Event::ConsultEnded { outcome, .. } => self.end_consult(*outcome).await,
            Event::ContactTransferred { .. } if std::mem::take(&mut self.handover) => {
                // A completed consultation: the consulted agent's phone is
                // already on the line (now `agent`); nothing to hang up.
            }
            Event::ContactTransferred { .. } => {
                // To a queue or another agent: this agent's phone is done.
                self.unbridge();
                if let Some(a) = self.agent.take() {
                    let _ = a.dialog.hangup().await;
                    self.close_leg(a.leg, "agent").await;
                }
                self.phase = Phase::Queued;
                self.last_position = None;
                self.last_wait_s = None;
                self.leg.play(self.clips(&["transferring"]), 0);
                self.leg.music(Some(self.s.prompts.music()));
                self.announce_at = Some(Instant::now() + FIRST_ANNOUNCEMENT);
            }
            Event::ContactEnded { by, .. } => {
                self.unbridge();
                if let Some(a) = self.agent.take() {
                    if a.answered {
                        let _ = a.dialog.hangup().await;
                    } else {
                        let _ = a.dialog.cancel().await;
                    }
                    self.close_leg(a.leg, "agent").await;
                }
                if *by != Some(Party::Customer) {
                    self.record.end_reason =
                        Some(if *by == Some(Party::Agent) { "agent-hangup" } else { "system" }.into());
                    self.after_agent().await;
                }
            }
            _ => {}
        }
    }

    /// The agent is gone and the caller still there: survey or goodbye.
    async fn after_agent(&mut self) {
        if let Some(rec) = self.recorder.take() {
            self.finish_recording(rec);
        }
        self.leg.music(None);
        self.leg.stop_playing();
        let spec = self.s.settings().survey.clone();
        let caller = self.caller.clone();
        let now = crate::leg::now_wall_ms();
        let due = spec.enabled
            && self.survey_agent.is_some()
            && match store::VoiceStore::last_survey_at(&self.s.app.store, &caller).await {
                Ok(last) => ivr::due(last.map(|t| t.max(0) as u64), now, spec.cooldown_days),
                Err(e) => {
                    tracing::warn!("survey history unreadable: {e}");
                    false
                }
            };
        if !due {
            self.goodbye().await;
            return;
        }
        if let Err(e) = store::VoiceStore::note_survey_offered(&self.s.app.store, &caller, now as i64).await {
            tracing::warn!("survey offer not noted: {e}");
        }
        let (session, actions) = SurveySession::start(Arc::new(spec), self.lang, now);
        self.phase = Phase::Survey(Box::new(session));
        self.actions(actions).await;
    }

    fn finish_recording(&mut self, rec: SharedRecorder) {
        match rec.finish(crate::leg::now_wall_ms()) {
            Some(Ok(info)) => self.record.recording_ms = Some(info.duration_ms),
            Some(Err(e)) => tracing::error!("recording {}: {e}", rec.path().display()),
            None => {}
        }
    }

    // ----- endings --------------------------------------------------------

    async fn on_leg(&mut self, side: Side, ev: LegEvent) {
        match (side, ev) {
            (Side::Caller, LegEvent::Dtmf(d)) => self.on_digit(d).await,
            (Side::Caller, LegEvent::MediaTimeout) if !self.caller_held => {
                // The caller's phone went silent without a BYE (crash,
                // network loss): a dropped call (R-CALL-8).
                tracing::info!(call = %self.id, "no media from the caller: dropped");
                self.record.end_reason = Some("dropped".into());
                let _ = self.dialog.hangup().await;
                self.leave_engine(Party::System).await;
                self.ended = true;
            }
            (Side::Agent(attempt), LegEvent::MediaTimeout)
                if self.external.as_ref().is_some_and(|e| e.attempt == attempt && e.answered) =>
            {
                // The transferred-to party went silent without a BYE.
                tracing::info!(call = %self.id, "no media from the transferred-to party: dropped");
                if let Some(e) = self.external.take() {
                    self.leg.bridge_to(None);
                    let _ = e.dialog.hangup().await;
                    self.close_leg(e.leg, "external").await;
                }
                self.record.end_reason = Some("transfer-dropped".into());
                self.hangup("transfer-dropped").await;
            }
            (Side::Agent(attempt), LegEvent::MediaTimeout)
                if !matches!(self.phase, Phase::Connected { held: true, .. }) =>
            {
                if let Some(a) = self.agent.as_ref().filter(|a| a.attempt == attempt && a.answered)
                    && let Some(contact) = self.contact
                {
                    tracing::info!(call = %self.id, agent = a.agent.0, "no media from the agent's phone: dropped");
                    let _ = a.dialog.hangup().await;
                    server::input(&self.s, Input::Hangup { contact, by: Party::System }).await;
                }
            }
            (Side::Caller, LegEvent::Played(id)) => {
                if matches!(self.phase, Phase::Closing) && id == u64::MAX - 1 {
                    self.hangup("").await;
                } else if matches!(self.phase, Phase::Ivr(_) | Phase::Survey(_)) && id != 0 {
                    self.ivr(IvrEvent::PlaybackDone { id }).await;
                    if let Phase::Survey(s) = &self.phase
                        && s.is_finished()
                    {
                        self.hangup("").await;
                    }
                }
            }
            _ => {}
        }
    }

    /// Say goodbye, then hang up.
    async fn goodbye(&mut self) {
        self.phase = Phase::Closing;
        self.timer = None;
        self.announce_at = None;
        self.leg.play(self.clips(&["goodbye"]), u64::MAX - 1);
    }

    /// We end the call.
    async fn hangup(&mut self, reason: &str) {
        if self.ended {
            return;
        }
        if self.record.end_reason.is_none() && !reason.is_empty() {
            self.record.end_reason = Some(reason.into());
        }
        let _ = self.dialog.hangup().await;
        self.leave_engine(Party::System).await;
        self.ended = true;
    }

    /// The caller hung up (or the dialog failed).
    async fn caller_gone(&mut self, reason: TerminatedReason) {
        if self.ended {
            return;
        }
        let why = match reason {
            TerminatedReason::UacBye | TerminatedReason::UacCancel => "caller-hangup",
            TerminatedReason::Timeout => "dropped",
            _ => "caller-hangup",
        };
        if self.record.end_reason.is_none() {
            self.record.end_reason = Some(why.into());
        }
        if let Phase::Ivr(s) = &mut self.phase {
            s.handle(crate::leg::now_wall_ms(), IvrEvent::CallerHungUp);
            self.take_visits();
        }
        let party = if why == "dropped" { Party::System } else { Party::Customer };
        self.leave_engine(party).await;
        self.ended = true;
    }

    /// Tell the engine the caller's line is gone.
    async fn leave_engine(&mut self, by: Party) {
        let Some(contact) = self.contact else { return };
        match &self.phase {
            Phase::Queued => {
                server::input(&self.s, Input::Abandon { contact }).await;
            }
            Phase::Connected { .. } => {
                server::input(&self.s, Input::Hangup { contact, by }).await;
            }
            _ => {}
        }
        if let Some(a) = self.agent.take() {
            if a.answered {
                let _ = a.dialog.hangup().await;
            } else {
                let _ = a.dialog.cancel().await;
            }
            self.close_leg(a.leg, "agent").await;
        }
        self.drop_consult().await;
        self.end_consulting(StatusCode::RequestTerminated).await;
    }

    async fn close_leg(&mut self, leg: Leg, name: &str) {
        if let Some(r) = leg.close().await {
            self.reports.push((name.to_string(), r));
        }
    }

    /// SDP answer to a re-INVITE/UPDATE from one side.
    fn reoffer(&mut self, body: &[u8], side: Side) -> Vec<u8> {
        let dir = match sdp::parse(body) {
            Ok(r) => {
                if side == Side::Caller {
                    self.caller_held = r.is_hold();
                }
                if side == Side::Caller && !r.is_hold() {
                    self.leg.set_remote(r.rtp, r.codec().unwrap_or(self.codec), r.dtmf_pt);
                }
                r.direction.answer()
            }
            Err(_) => Direction::SendRecv,
        };
        let local = std::net::SocketAddr::new(self.s.advertise, self.leg.local().port());
        sdp::build(local, crate::leg::now_wall_ms(), 2, &[self.codec], sdp::DTMF_PT, dir)
    }

    async fn put_record(&self) {
        if let Err(e) = store::VoiceStore::put_call(&self.s.app.store, &self.record).await {
            tracing::warn!(call = %self.id, "call record not stored: {e}");
        }
    }

    /// Write everything down and release the media.
    async fn finish(mut self) {
        if let Some(contact) = self.contact {
            // Only our own entry: a callback's call may have taken the contact over.
            let mut calls = self.s.calls.lock().unwrap_or_else(PoisonError::into_inner);
            if let (Some(mine), Some(theirs)) = (&self.msg_tx, calls.get(&contact))
                && mine.same_channel(theirs)
            {
                calls.remove(&contact);
            }
        }
        if let Some(a) = self.agent.take() {
            let _ = a.dialog.hangup().await;
            self.close_leg(a.leg, "agent").await;
        }
        self.drop_consult().await;
        self.end_consulting(StatusCode::RequestTerminated).await;
        if let Some(e) = self.external.take() {
            if e.answered {
                let _ = e.dialog.hangup().await;
            } else {
                let _ = e.dialog.cancel().await;
            }
            self.close_leg(e.leg, "external").await;
        }
        if let Some(rec) = self.recorder.take() {
            self.finish_recording(rec);
        }
        // A caller who hangs up while recording has left a message.
        self.finish_voicemail().await;
        let caller_leg = self.leg.clone();
        self.close_leg(caller_leg, "caller").await;
        let now = crate::leg::now_wall_ms() as i64;
        self.record.ended_at = Some(now);
        let mut quality = quality_json(&self.reports);
        quality["announcements"] = serde_json::Value::Array(std::mem::take(&mut self.announcements));
        if let Some(t) = self.transfer.take() {
            quality["transfer"] = t;
        }
        if let Some(c) = self.voicemail_contact {
            quality["voicemail_contact"] = c.0.into();
        }
        self.record.quality = Some(quality);
        self.put_record().await;
        if let Some((flow, version)) = &self.flow
            && !self.visits.is_empty()
        {
            let rows: Vec<store::IvrVisit> = self
                .visits
                .iter()
                .map(|v| store::IvrVisit {
                    call: self.id.clone(),
                    flow: flow.clone(),
                    version: *version,
                    node: v.node.to_string(),
                    kind: serde_json::to_value(v.kind)
                        .ok()
                        .and_then(|k| k.as_str().map(String::from))
                        .unwrap_or_default(),
                    entered_at: v.entered_ms as i64,
                    left_at: Some(v.left_ms as i64),
                    outcome: v.outcome.label(),
                })
                .collect();
            if let Err(e) = store::VoiceStore::add_ivr_visits(&self.s.app.store, &rows).await {
                tracing::warn!("IVR visits not stored: {e}");
            }
        }
        if !self.survey_answers.is_empty()
            && let Some(contact) = self.contact
        {
            let rows: Vec<store::SurveyAnswer> = self
                .survey_answers
                .iter()
                .filter_map(|a| {
                    Some(store::SurveyAnswer {
                        contact: contact.0,
                        agent: self.survey_agent.map(|a| a.0),
                        queue: self.survey_queue.map(|q| q.0),
                        caller: Some(self.caller.clone()),
                        question: a.question.clone(),
                        score: a.score?,
                        at: a.at_ms as i64,
                    })
                })
                .collect();
            if let Err(e) = store::VoiceStore::add_survey_answers(&self.s.app.store, &rows).await {
                tracing::warn!("survey answers not stored: {e}");
            }
        }
        self.s.active.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(call = %self.id, reason = ?self.record.end_reason, "call ended");
    }
}

/// Per-leg quality as stored with the call.
fn quality_json(reports: &[(String, LegReport)]) -> serde_json::Value {
    let legs: Vec<serde_json::Value> = reports
        .iter()
        .map(|(name, r)| {
            // One-way audio: the party's stream never arrived, or carried
            // nothing but silence while we were sending to it.
            let one_way = r.rx.packets == 0 || (r.voiced_frames == 0 && r.tx_packets > 50);
            serde_json::json!({
                "leg": name,
                "rx_packets": r.rx.packets,
                "rx_lost": r.rx.lost,
                "loss_percent": r.rx.loss_percent,
                "jitter_ms": r.rx.jitter_ms,
                "max_gap_ms": r.rx.max_gap_ms,
                "tx_packets": r.tx_packets,
                "rx_level_dbfs": r.rx_level_dbfs,
                "voiced_frames": r.voiced_frames,
                "one_way": one_way,
            })
        })
        .collect();
    serde_json::json!({ "legs": legs })
}

/// A leg's 200 answer: send to the address, codec and DTMF payload type its
/// SDP names (PCMU when it names none we know); the codec chosen.
fn take_answer(leg: &Leg, body: &[u8]) -> Codec {
    let remote = sdp::parse(body).ok();
    let codec = remote.as_ref().and_then(|r| r.codec()).unwrap_or(Codec::Pcmu);
    leg.set_remote(remote.as_ref().and_then(|r| r.rtp), codec, remote.as_ref().and_then(|r| r.dtmf_pt));
    codec
}

/// The `Refer-To` value of a REFER.
fn refer_to(req: &rsipstack::sip::Request) -> Option<String> {
    req.headers.iter().find_map(|h| match h {
        Header::ReferTo(r) => Some(r.value().to_string()),
        _ => None,
    })
}

/// Our UAS dialog for a phone's INVITE, its states forwarded to `states_out`
/// tagged with `attempt`; our Contact rides TLS when the INVITE did.
/// Whether the engine has `contact` connected to `agent` now (an accept
/// from the desktop may be ahead of its event reaching the call).
async fn engine_connected(s: &Shared, contact: ContactId, agent: AgentId) -> bool {
    s.app
        .live
        .read(move |e, _, _| {
            e.contact_view(contact)
                .is_some_and(|v| matches!(v.phase, engine::ContactPhase::Connected { agent: x, .. } if x == agent))
        })
        .await
        .unwrap_or(false)
}

/// Take a phone's INVITE with a leg of our own: the offer's codec, an RTP
/// socket, the leg (sending to the phone) and the server dialog, whose
/// transaction is handled in the background. `None` when it was refused
/// (the refusal is sent).
async fn take_phone_invite(
    s: &Shared,
    mut tx: Transaction,
    side: Side,
    attempt: u64,
    leg_tx: mpsc::UnboundedSender<(Side, LegEvent)>,
    states_out: mpsc::UnboundedSender<(u64, Option<DialogState>)>,
) -> Option<(InviteDialog, Leg, Codec)> {
    let Some((remote, codec)) = sdp::parse(&tx.original.body).ok().and_then(|r| r.codec().map(|c| (r, c))) else {
        let _ = tx.reply(StatusCode::NotAcceptableHere).await;
        return None;
    };
    let Ok(socket) = s.rtp_socket().await else {
        let _ = tx.reply(StatusCode::ServiceUnavailable).await;
        return None;
    };
    let Ok(leg) = Leg::start(socket, codec, side, leg_tx) else {
        let _ = tx.reply(StatusCode::ServiceUnavailable).await;
        return None;
    };
    leg.set_remote(remote.rtp, codec, remote.dtmf_pt);
    let dialog = match server_dialog(s, &tx, attempt, states_out) {
        Ok(d) => d,
        Err(e) => {
            tracing::info!("a phone's INVITE refused: {e}");
            let _ = tx.reply(StatusCode::BadRequest).await;
            let _ = leg.close().await;
            return None;
        }
    };
    let mut handler = dialog.clone();
    tokio::spawn(async move {
        let _ = handler.handle(&mut tx).await;
    });
    Some((dialog, leg, codec))
}

fn server_dialog(
    s: &Shared,
    tx: &Transaction,
    attempt: u64,
    states_out: mpsc::UnboundedSender<(u64, Option<DialogState>)>,
) -> Result<InviteDialog, String> {
    let user = user_of(&tx.original.uri);
    let tls = tx.connection.as_ref().is_some_and(|c| c.transport() == rsipstack::sip::Transport::Tls);
    let contact = if tls { s.our_tls_uri(&user) } else { None }.unwrap_or_else(|| s.our_uri(&user));
    let (state_tx, mut states) = s.dialogs.new_dialog_state_channel();
    let dialog =
        s.dialogs.get_or_create_server_invite(tx, state_tx, None, contact.parse().ok()).map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        while let Some(st) = states.recv().await {
            if states_out.send((attempt, Some(st))).is_err() {
                break;
            }
        }
    });
    Ok(dialog)
}

/// Answer what else a phone leg's dialog may send: keep-alives (INFO,
/// OPTIONS) get 200, requests we do not take from a leg (REFER where it is
/// not a transfer, NOTIFY, MESSAGE, PUBLISH) 501; other states need nothing.
async fn answer_in_dialog(st: DialogState) {
    match st {
        DialogState::Info(_, _, handle) | DialogState::Options(_, _, handle) => {
            let _ = handle.reply(StatusCode::OK).await;
        }
        DialogState::Refer(_, _, handle)
        | DialogState::Notify(_, _, handle)
        | DialogState::Message(_, _, handle)
        | DialogState::Publish(_, _, handle) => {
            let _ = handle.reply(StatusCode::NotImplemented).await;
        }
        _ => {}
    }
}

/// Answer a phone leg's re-INVITE (its hold key, or a new address): follow
/// its new media address unless it holds, and answer 200 with our SDP in
/// the mirrored direction. The parsed offer, for the caller to act on.
async fn answer_reinvite(
    s: &Shared,
    leg: &Leg,
    codec: Codec,
    req: &rsipstack::sip::Request,
    handle: rsipstack::dialog::dialog::TransactionHandle,
) -> Option<sdp::Remote> {
    let remote = sdp::parse(&req.body).ok();
    let dir = remote.as_ref().map_or(Direction::SendRecv, |r| r.direction.answer());
    if let Some(r) = remote.as_ref().filter(|r| !r.is_hold()) {
        leg.set_remote(r.rtp, r.codec().unwrap_or(codec), r.dtmf_pt);
    }
    let local = std::net::SocketAddr::new(s.advertise, leg.local().port());
    let body = sdp::build(local, crate::leg::now_wall_ms(), 2, &[Codec::Pcmu, Codec::Pcma], sdp::DTMF_PT, dir);
    let _ = handle.respond(StatusCode::OK, Some(vec![Header::ContentType("application/sdp".into())]), Some(body)).await;
    remote
}

/// A key sent by SIP INFO (`application/dtmf-relay`: `Signal=5`, or `application/dtmf`: `5`).
fn info_digit(body: &[u8]) -> Option<char> {
    let text = std::str::from_utf8(body).ok()?;
    let value = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim().eq_ignore_ascii_case("signal").then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| text.trim().to_string());
    let c = value.chars().next()?;
    (value.chars().count() == 1 && "0123456789*#ABCD".contains(c)).then_some(c)
}

async fn lookup(http: &reqwest::Client, url: &str, timeout_ms: u64) -> Result<serde_json::Value, String> {
    let resp = http
        .get(url)
        .timeout(Duration::from_millis(timeout_ms.max(100)))
        .send()
        .await
        .map_err(|e| format!("lookup failed: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("lookup answered {}", resp.status()));
    }
    resp.json().await.map_err(|e| format!("lookup answer is not JSON: {e}"))
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_bodies() {
        assert_eq!(info_digit(b"Signal=5\r\nDuration=160\r\n"), Some('5'));
        assert_eq!(info_digit(b"Signal= #\r\n"), Some('#'));
        assert_eq!(info_digit(b"7"), Some('7'));
        assert_eq!(info_digit(b"Signal=55"), None);
        assert_eq!(info_digit(b""), None);
        assert_eq!(info_digit(&[0xff]), None);
    }
}
