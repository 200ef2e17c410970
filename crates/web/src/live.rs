//! The live driver: the engine on the wall clock inside the server.
//!
//! One task (the *actor*) owns the [`Engine`] and is the only one to touch
//! it: API handlers send it [`Input`]s and closures to read views, and it
//! wakes itself for the engine's next deadline (never polls). Its output
//! goes, in order, to a second task (the *publisher*) that appends the
//! events to the store — several batches per transaction when they queue
//! up, on top of the store's own group commit — and only then answers the
//! callers, feeds the KPI folds and fans the batch out to live connections.
//! So a client that got an answer, and every browser that saw an event, saw
//! something already on disk.
//!
//! On start the engine is rebuilt from the latest snapshot plus the events
//! after it (or, without a usable snapshot, from the whole stored log):
//! configuration, contacts still waiting, agents' states, KPI folds. It is
//! started from the stored configuration when the log is empty. Contact ids
//! continue after the largest one in the log. Every
//! [`LiveOptions::snapshot_every`] events, and on a clean shutdown
//! ([`Live::save_snapshot`]), the actor captures its state between two
//! inputs (a clone), the publisher adds the KPI folds once those events are
//! on disk, and a background task serialises and stores it (see
//! [`crate::snapshot`]).
//!
//! If the store refuses an append, the engine and the log would disagree,
//! so the driver stops taking inputs (every call answers 503) and the
//! health check fails: restart the server to rebuild from the log.

use crate::error::{ApiError, ApiResult};
use crate::hub::{AgentMsg, ConsultFrom, Hub, OfferMsg, Published};
use crate::pop::{self, WebContact};
use crate::snapshot::{self, LiveState};
use engine::kpi::{IntervalFold, KpiConfig, LiveWindow};
use engine::{
    AgentId, Command, ConsultOutcome, ContactId, ContactSpec, DialOutcome, Engine, EngineError, Event, EventRecord,
    Input, Output, Time,
};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use store::{ConfigStore, EventLog, MAX_PAGE, Store, StoreError};
use tokio::sync::{mpsc, oneshot, watch};

/// How many queued batches the publisher appends in one go.
const MAX_BATCHES_PER_APPEND: usize = 256;
/// Appends retried after a pool time-out before the driver stops.
const APPEND_RETRIES: u32 = 6;

/// What a caller gets back once its input's events are on disk.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    /// The engine's output (events and commands).
    pub outputs: Vec<Output>,
    /// The id given to an arriving contact.
    pub contact: Option<ContactId>,
}

type ReadFn = Box<dyn FnOnce(&Engine, &HashMap<ContactId, WebContact>, Time) + Send>;

enum Job {
    Input { input: Input, reply: oneshot::Sender<ApiResult<Applied>> },
    Read(ReadFn),
    Snapshot(oneshot::Sender<Option<u64>>),
}

/// The KPI folds kept live: per queue and agent × interval since the log
/// began, and the sliding window of the wallboard.
pub struct Kpi {
    /// Interval counts (reports, charts).
    pub fold: IntervalFold,
    /// Last minutes (wallboard).
    pub window: LiveWindow,
}

struct Inner {
    jobs: mpsc::UnboundedSender<Job>,
    hub: Hub,
    kpi: Mutex<Kpi>,
    committed: watch::Sender<u64>,
    failed: AtomicBool,
    order_hook: RwLock<Option<String>>,
    /// Answer callback dials of web contacts at once (they have no call to place).
    auto_connect_callbacks: bool,
    /// The telephony layer's feed of committed output, once it subscribed.
    feed: Mutex<Option<mpsc::UnboundedSender<Arc<Feed>>>>,
    /// A snapshot is being captured or written.
    snapshot_busy: AtomicBool,
    /// Held while a snapshot is written; the sequence number of the last
    /// one stored (an older one never replaces a newer one).
    snapshot_saved: tokio::sync::Mutex<u64>,
    /// How the engine was rebuilt on start.
    rebuild: RebuildInfo,
}

/// How the driver rebuilt its state on start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RebuildInfo {
    /// Sequence number of the snapshot resumed from, if one was used.
    pub snapshot_seq: Option<u64>,
    /// Events of the log replayed (after the snapshot, or all of them).
    pub replayed_events: u64,
    /// Wall time of the rebuild in milliseconds.
    pub rebuild_ms: u64,
    /// Why a stored snapshot was not used, if there was one.
    pub snapshot_refused: Option<String>,
}

/// Committed engine output for the telephony layer: one batch's events and
/// the commands that came with them, in order, once they are on disk.
#[derive(Debug, Default)]
pub struct Feed {
    /// The events.
    pub records: Vec<Arc<EventRecord>>,
    /// The commands (offers to ring, callbacks to dial, exits to carry out).
    pub commands: Vec<Command>,
}

/// The attribute that marks a contact as a telephone call the telephony
/// layer carries: its callbacks are really dialled, not connected at once.
pub const TELEPHONY_ATTRIBUTE: &str = "sip_call";

/// Options of the driver.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// KPI settings (interval length, service-level threshold, window).
    pub kpi: KpiConfig,
    /// Callbacks of web contacts connect as soon as they are dialled.
    pub auto_connect_callbacks: bool,
    /// Save a snapshot every this many events (0: only on a clean
    /// shutdown). Default [`snapshot::DEFAULT_SNAPSHOT_EVERY`].
    pub snapshot_every: u64,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            kpi: KpiConfig::default(),
            auto_connect_callbacks: true,
            snapshot_every: snapshot::DEFAULT_SNAPSHOT_EVERY,
        }
    }
}

/// Handle to the running driver; cheap to clone.
#[derive(Clone)]
pub struct Live(Arc<Inner>);

impl Live {
    /// Rebuild the engine from `store` — the latest snapshot and the
    /// events after it, or the whole log — (or start it from the stored
    /// configuration) and start the driver's tasks.
    pub async fn start(store: Store, options: LiveOptions) -> Result<Live, StartError> {
        let started = std::time::Instant::now();
        let settings = store.load_settings().await?.unwrap_or_default();
        let (resumed, refused) = match snapshot::load(&store, &settings, &options.kpi).await {
            Ok(r) => (r, None),
            Err(reason) => {
                tracing::warn!("snapshot not used, replaying the whole event log: {reason}");
                (None, Some(reason))
            }
        };
        let snapshot_seq = resumed.as_ref().map(|r| r.seq);
        let (mut engine, mut fold, mut window, mut contacts, mut next_contact) = match resumed {
            Some(r) => (r.engine, r.fold, r.window, r.contacts, r.next_contact),
            None => (
                Engine::replay(settings, std::iter::empty()),
                IntervalFold::new(options.kpi.clone()),
                LiveWindow::new(options.kpi.clone()),
                HashMap::new(),
                1,
            ),
        };
        let mut next = snapshot_seq.map_or(0, |s| s + 1);
        let mut replayed = 0u64;
        loop {
            let page = store.read_events(next, MAX_PAGE).await?;
            let Some(last) = page.last() else { break };
            next = last.seq.saturating_add(1);
            for rec in &page {
                engine.apply_record(rec);
                fold.apply(rec);
                window.apply(rec);
                next_contact = next_contact.max(rec.event.contact().map_or(0, |c| c.0).saturating_add(1));
                track_contact(&mut contacts, rec);
            }
            replayed += page.len() as u64;
            if page.len() < MAX_PAGE {
                break;
            }
        }
        let last_event = match engine.last_seq() {
            0 => None,
            seq => store.read_events(seq, 1).await?.first().map(|r| (r.at, r.event.name().to_string())),
        };
        let now = crate::auth::now();
        let mut first = Vec::new();
        if engine.last_seq() == 0 {
            let config = store.load_engine_config().await?;
            engine = Engine::start(config, now, &mut first)?;
        }
        let rebuild = RebuildInfo {
            snapshot_seq,
            replayed_events: replayed,
            rebuild_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            snapshot_refused: refused,
        };
        tracing::info!(
            snapshot_seq = snapshot_seq.unwrap_or(0),
            replayed_events = replayed,
            rebuild_ms = rebuild.rebuild_ms,
            live_contacts = contacts.len(),
            "engine rebuilt from {} and {replayed} events of the log in {} ms",
            snapshot_seq.map_or_else(|| "no snapshot".to_string(), |s| format!("the snapshot at seq {s}")),
            rebuild.rebuild_ms
        );
        let (jobs_tx, jobs_rx) = mpsc::unbounded_channel();
        let (pub_tx, pub_rx) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            jobs: jobs_tx,
            hub: Hub::default(),
            kpi: Mutex::new(Kpi { fold, window }),
            committed: watch::channel(engine.last_seq()).0,
            failed: AtomicBool::new(false),
            order_hook: RwLock::new(None),
            auto_connect_callbacks: options.auto_connect_callbacks,
            feed: Mutex::new(None),
            snapshot_busy: AtomicBool::new(false),
            snapshot_saved: tokio::sync::Mutex::new(snapshot_seq.unwrap_or(0)),
            rebuild,
        });
        let live = Live(inner);
        let actor = Actor {
            engine,
            contacts,
            next_contact,
            last_now: now,
            publisher: pub_tx,
            live: live.clone(),
            snapshot_every: options.snapshot_every,
            // A long tail replayed: snapshot again soon.
            since_snapshot: replayed,
            last_event,
        };
        let publisher = Publisher { store, live: live.clone(), http: reqwest::Client::new() };
        tokio::spawn(publisher.run(pub_rx));
        tokio::spawn(actor.run(jobs_rx, first));
        Ok(live)
    }

    /// Apply an input; resolves once its events are on disk.
    pub async fn input(&self, input: Input) -> ApiResult<Applied> {
        if self.failed() {
            return Err(unavailable());
        }
        let (tx, rx) = oneshot::channel();
        self.0.jobs.send(Job::Input { input, reply: tx }).map_err(|_| unavailable())?;
        rx.await.map_err(|_| unavailable())?
    }

    /// A new contact: the driver gives it the next id (whatever `spec.id` says).
    pub async fn arrive(&self, spec: ContactSpec) -> ApiResult<ContactId> {
        let applied = self.input(Input::Arrive { contact: spec }).await?;
        applied.contact.ok_or_else(|| ApiError::internal("contact arrival", "no id given"))
    }

    /// Read the engine (and the driver's contacts) at the current time.
    pub async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Engine, &HashMap<ContactId, WebContact>, Time) -> R + Send + 'static,
    ) -> ApiResult<R> {
        let (tx, rx) = oneshot::channel();
        let job = Job::Read(Box::new(move |e, c, now| {
            let _ = tx.send(f(e, c, now));
        }));
        self.0.jobs.send(job).map_err(|_| unavailable())?;
        rx.await.map_err(|_| unavailable())
    }

    /// Save a snapshot of the current state now (on a clean shutdown);
    /// resolves once it is stored, with its sequence number, or `None` when
    /// nothing changed since the last one or it could not be saved (logged).
    pub async fn save_snapshot(&self) -> Option<u64> {
        let (tx, rx) = oneshot::channel();
        self.0.jobs.send(Job::Snapshot(tx)).ok()?;
        rx.await.ok().flatten()
    }

    /// How the engine was rebuilt on start (snapshot used, events replayed, time).
    pub fn rebuild_info(&self) -> &RebuildInfo {
        &self.0.rebuild
    }

    /// The subscriber registry.
    pub fn hub(&self) -> &Hub {
        &self.0.hub
    }

    /// Run `f` on the KPI folds.
    pub fn with_kpi<R>(&self, f: impl FnOnce(&mut Kpi) -> R) -> R {
        f(&mut self.0.kpi.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The largest sequence number on disk; changes wake watchers.
    pub fn committed(&self) -> watch::Receiver<u64> {
        self.0.committed.subscribe()
    }

    /// The driver stopped after a storage failure.
    pub fn failed(&self) -> bool {
        self.0.failed.load(Ordering::Relaxed)
    }

    /// Set (or clear) the order-history hook URL.
    pub fn set_order_hook(&self, url: Option<String>) {
        *self.0.order_hook.write().unwrap_or_else(PoisonError::into_inner) = url;
    }

    /// Receive every committed batch from now on (the telephony layer; one
    /// subscriber: a second call replaces the first).
    pub fn subscribe_feed(&self) -> mpsc::UnboundedReceiver<Arc<Feed>> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.0.feed.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx);
        rx
    }

    fn order_hook(&self) -> Option<String> {
        self.0.order_hook.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Why the driver could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The stored configuration is refused by the engine.
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    /// The driver stopped while starting.
    #[error("engine driver: {0}")]
    Driver(String),
}

fn unavailable() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "the engine is not running (storage failure or shutdown); see the server log",
    )
}

/// Keep the driver's contact table in step with the log.
fn track_contact(contacts: &mut HashMap<ContactId, WebContact>, rec: &EventRecord) {
    match &rec.event {
        Event::ContactArrived { contact, queue, channel, priority, segment, details, .. } => {
            contacts.insert(
                *contact,
                WebContact {
                    id: *contact,
                    queue: *queue,
                    channel: *channel,
                    arrived_at: rec.at,
                    priority: *priority,
                    segment: *segment,
                    details: details.clone(),
                    dial_attempts: Vec::new(),
                },
            );
        }
        Event::CallbackAttemptFailed { contact, attempt, outcome, retry_at, .. } => {
            if let Some(c) = contacts.get_mut(contact) {
                c.dial_attempts.push(crate::pop::DialAttempt {
                    attempt: *attempt,
                    at: rec.at,
                    outcome: *outcome,
                    retry_at: *retry_at,
                });
            }
        }
        Event::ContactEnded { contact, .. } => {
            contacts.remove(contact);
        }
        _ => {}
    }
}

/// One input's worth of output, on its way to the publisher.
/// An offer (or a consultation offer) to pop on an agent's desktop.
struct Offer {
    agent: AgentId,
    contact: ContactId,
    deadline: Time,
    wc: WebContact,
    queue_name: String,
    consult_from: Option<ConsultFrom>,
}

struct Batch {
    records: Vec<EventRecord>,
    commands: Vec<Command>,
    /// Offers with the contact as the driver knows it.
    offers: Vec<Offer>,
    /// Agents whose state changed, with their new view.
    agents: Vec<engine::AgentView>,
    reply: Option<(oneshot::Sender<ApiResult<Applied>>, Applied)>,
    /// The driver's state just after this batch, to be saved once the
    /// batch is on disk (the publisher adds the KPI folds).
    snapshot: Option<Box<Capture>>,
}

/// The actor's part of a snapshot.
struct Capture {
    engine: engine::EngineState,
    contacts: Vec<WebContact>,
    next_contact: u64,
    last_at: Time,
    last_event: String,
    /// Told the stored sequence number (a shutdown waits for it).
    done: Option<oneshot::Sender<Option<u64>>>,
}

struct Actor {
    engine: Engine,
    contacts: HashMap<ContactId, WebContact>,
    next_contact: u64,
    last_now: Time,
    publisher: mpsc::UnboundedSender<Batch>,
    live: Live,
    /// Snapshot every this many events (0: never by count).
    snapshot_every: u64,
    /// Events since the last snapshot (or replayed after it on start).
    since_snapshot: u64,
    /// Time and type of the latest event.
    last_event: Option<(Time, String)>,
}

impl Actor {
    fn clock(&mut self) -> Time {
        let t = crate::auth::now().max(self.last_now);
        self.last_now = t;
        t
    }

    async fn run(mut self, mut jobs: mpsc::UnboundedReceiver<Job>, first: Vec<Output>) {
        if !first.is_empty() {
            self.dispatch(first, None);
        }
        // Time passed while the server was down: fire what is due.
        self.step(Input::Tick, None);
        loop {
            let deadline = self.engine.next_deadline();
            let sleep = async {
                match deadline {
                    Some(d) => {
                        let wait = d.0.saturating_sub(crate::auth::now().0);
                        tokio::time::sleep(std::time::Duration::from_millis(wait)).await
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                job = jobs.recv() => match job {
                    Some(Job::Input { input, reply }) => {
                        if self.live.failed() {
                            let _ = reply.send(Err(unavailable()));
                        } else {
                            self.step(input, Some(reply));
                        }
                    }
                    Some(Job::Read(f)) => {
                        let now = self.clock();
                        f(&self.engine, &self.contacts, now);
                    }
                    Some(Job::Snapshot(done)) => self.snapshot_now(done),
                    None => break,
                },
                () = sleep => {
                    if !self.live.failed() {
                        self.step(Input::Tick, None);
                    }
                }
            }
        }
    }

    /// Handle an input (and the follow-ups the driver answers itself).
    fn step(&mut self, input: Input, reply: Option<oneshot::Sender<ApiResult<Applied>>>) {
        let now = self.clock();
        let mut contact = None;
        let input = match input {
            Input::Arrive { contact: mut spec } => {
                spec.id = ContactId(self.next_contact);
                self.next_contact += 1;
                contact = Some(spec.id);
                Input::Arrive { contact: spec }
            }
            other => other,
        };
        let mut out = Vec::new();
        let result = self.engine.handle(now, input, &mut out);
        // Web contacts have no telephony: a callback dial connects at once.
        if self.live.0.auto_connect_callbacks {
            let mut i = 0;
            while i < out.len() {
                if let Output::Command(Command::DialCallback { contact, .. }) = &out[i]
                    && !self.is_telephone_call(*contact)
                {
                    let follow = Input::CallbackOutcome { contact: *contact, outcome: DialOutcome::Connected };
                    if let Err(e) = self.engine.handle(now, follow, &mut out) {
                        tracing::warn!("callback connect refused: {e}");
                    }
                }
                i += 1;
            }
        }
        match result {
            Ok(()) => self.dispatch(out, reply.map(|r| (r, Applied { outputs: Vec::new(), contact }))),
            Err(e) => {
                if !out.is_empty() {
                    self.dispatch(out, None);
                }
                if let Some(r) = reply {
                    let _ = r.send(Err(e.into()));
                }
            }
        }
    }

    /// Whether telephony dials the contact's callbacks: a call that came in
    /// by telephone, or a dial-back contact (a voicemail to return).
    fn is_telephone_call(&self, contact: ContactId) -> bool {
        self.contacts
            .get(&contact)
            .and_then(|c| c.details.as_ref())
            .is_some_and(|d| d.dial_back || d.attributes.contains_key(TELEPHONY_ATTRIBUTE))
    }

    fn dispatch(&mut self, out: Vec<Output>, reply: Option<(oneshot::Sender<ApiResult<Applied>>, Applied)>) {
        let mut records = Vec::new();
        let mut commands = Vec::new();
        let mut touched: HashSet<AgentId> = HashSet::new();
        for o in &out {
            match o {
                Output::Event(rec) => {
                    if let Some(a) = rec.event.agent() {
                        touched.insert(a);
                    }
                    if let Some(t) = consulted(&rec.event) {
                        touched.insert(t);
                    }
                    track_contact(&mut self.contacts, rec);
                    records.push(rec.clone());
                }
                Output::Command(c) => commands.push(c.clone()),
            }
        }
        let mut offers = Vec::new();
        for c in &commands {
            if let Command::Offer { contact, agent, deadline, .. } = c
                && let Some(wc) = self.contacts.get(contact)
            {
                let queue_name = self.engine.queue_view(wc.queue, self.last_now).map(|q| q.name).unwrap_or_default();
                let (agent, contact, deadline, wc) = (*agent, *contact, *deadline, wc.clone());
                offers.push(Offer { agent, contact, deadline, wc, queue_name, consult_from: None });
            }
        }
        // A consultation rings the consulted agent's desktop like an offer.
        for rec in &records {
            if let Event::ConsultOffered { contact, agent, target, deadline, .. } = &rec.event
                && let Some(wc) = self.contacts.get(contact)
            {
                let queue_name = self.engine.queue_view(wc.queue, self.last_now).map(|q| q.name).unwrap_or_default();
                let name = self.engine.agent_view(*agent).map(|v| v.name).unwrap_or_default();
                let consult_from = Some(ConsultFrom { agent: *agent, name });
                let (agent, contact, deadline, wc) = (*target, *contact, *deadline, wc.clone());
                offers.push(Offer { agent, contact, deadline, wc, queue_name, consult_from });
            }
        }
        let mut touched: Vec<AgentId> = touched.into_iter().collect();
        touched.sort();
        let agents = touched.into_iter().filter_map(|a| self.engine.agent_view(a)).collect();
        let reply = reply.map(|(r, mut applied)| {
            applied.outputs = out;
            (r, applied)
        });
        self.since_snapshot += records.len() as u64;
        if let Some(r) = records.last() {
            self.last_event = Some((r.at, r.event.name().to_string()));
        }
        let snapshot = if self.snapshot_every > 0
            && self.since_snapshot >= self.snapshot_every
            && !self.live.0.snapshot_busy.swap(true, Ordering::AcqRel)
        {
            self.capture(records.last(), None)
        } else {
            None
        };
        let batch = Batch { records, commands, offers, agents, reply, snapshot };
        if self.publisher.send(batch).is_err() {
            tracing::error!("publisher gone; output dropped");
        }
    }
}

impl Actor {
    /// Capture the state after the events dispatched so far (`last`: the
    /// latest of them when at hand). `None` when there is nothing to save.
    fn capture(
        &mut self,
        last: Option<&EventRecord>,
        done: Option<oneshot::Sender<Option<u64>>>,
    ) -> Option<Box<Capture>> {
        let (last_at, last_event) = match last {
            Some(rec) => (rec.at, rec.event.name().to_string()),
            None => match self.last_event.clone() {
                Some(l) => l,
                None => {
                    self.live.0.snapshot_busy.store(false, Ordering::Release);
                    if let Some(d) = done {
                        let _ = d.send(None);
                    }
                    return None;
                }
            },
        };
        self.since_snapshot = 0;
        let mut contacts: Vec<WebContact> = self.contacts.values().cloned().collect();
        contacts.sort_by_key(|c| c.id);
        Some(Box::new(Capture {
            engine: self.engine.save_state(),
            contacts,
            next_contact: self.next_contact,
            last_at,
            last_event,
            done,
        }))
    }

    /// A snapshot asked for (shutdown): unless nothing changed since the last one.
    fn snapshot_now(&mut self, done: oneshot::Sender<Option<u64>>) {
        if self.since_snapshot == 0 || self.live.failed() {
            let _ = done.send(None);
            return;
        }
        self.live.0.snapshot_busy.store(true, Ordering::Release);
        let snapshot = self.capture(None, Some(done));
        let batch = Batch {
            records: Vec::new(),
            commands: Vec::new(),
            offers: Vec::new(),
            agents: Vec::new(),
            reply: None,
            snapshot,
        };
        let _ = self.publisher.send(batch);
    }
}

struct Publisher {
    store: Store,
    live: Live,
    http: reqwest::Client,
}

impl Publisher {
    async fn run(self, mut rx: mpsc::UnboundedReceiver<Batch>) {
        let mut batches = Vec::new();
        while rx.recv_many(&mut batches, MAX_BATCHES_PER_APPEND).await > 0 {
            let records: Vec<EventRecord> = batches.iter().flat_map(|b| b.records.iter().cloned()).collect();
            let result = if records.is_empty() { Ok(()) } else { self.append(&records).await };
            if let Err(e) = result {
                tracing::error!("event log append failed; the engine stops taking inputs: {e}");
                self.live.0.failed.store(true, Ordering::Relaxed);
                for b in batches.drain(..) {
                    if let Some((r, _)) = b.reply {
                        let _ = r.send(Err(unavailable()));
                    }
                    if let Some(c) = b.snapshot {
                        self.live.0.snapshot_busy.store(false, Ordering::Release);
                        if let Some(d) = c.done {
                            let _ = d.send(None);
                        }
                    }
                }
                continue;
            }
            let mut captures = Vec::new();
            if !records.is_empty() || batches.iter().any(|b| b.snapshot.is_some()) {
                self.live.with_kpi(|k| {
                    for b in batches.iter_mut() {
                        for rec in &b.records {
                            k.fold.apply(rec);
                            k.window.apply(rec);
                        }
                        // The folds at exactly the snapshot's sequence number.
                        if let Some(c) = b.snapshot.take() {
                            captures.push((c, k.fold.clone(), k.window.clone()));
                        }
                    }
                });
            }
            if let Some(last) = records.last() {
                self.live.0.committed.send_replace(last.seq);
            }
            for (c, fold, window) in captures {
                self.spawn_snapshot(*c, fold, window);
            }
            for b in batches.drain(..) {
                self.publish(b);
            }
        }
    }

    /// Serialise and store a snapshot in the background (the events it
    /// includes are on disk). One is written at a time; an older one never
    /// replaces a newer one.
    fn spawn_snapshot(&self, c: Capture, fold: IntervalFold, window: LiveWindow) {
        let (store, live) = (self.store.clone(), self.live.clone());
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let seq = c.engine.seq;
            let state = LiveState {
                engine: c.engine,
                fold,
                window,
                contacts: c.contacts,
                next_contact: c.next_contact,
                last_at: c.last_at,
                last_event: c.last_event,
            };
            let stored = {
                let mut saved = live.0.snapshot_saved.lock().await;
                if seq <= *saved {
                    Ok(None)
                } else {
                    let r = snapshot::save(&store, state).await.map(Some);
                    if matches!(r, Ok(Some(_))) {
                        *saved = seq;
                    }
                    r
                }
            };
            live.0.snapshot_busy.store(false, Ordering::Release);
            let result = match stored {
                Ok(Some(bytes)) => {
                    let ms = started.elapsed().as_millis();
                    tracing::info!(seq, bytes, ms = ms as u64, "snapshot saved at seq {seq} ({bytes} bytes, {ms} ms)");
                    Some(seq)
                }
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!("snapshot at seq {seq} not saved (a restart replays more of the log): {e}");
                    None
                }
            };
            if let Some(d) = c.done {
                let _ = d.send(result);
            }
        });
    }

    /// Append, riding out a saturated machine: when no database connection
    /// came free in time nothing was written, so the same batch is tried
    /// again (the engine is only stopped when storage really fails).
    async fn append(&self, records: &[EventRecord]) -> Result<(), StoreError> {
        let mut wait = std::time::Duration::from_millis(250);
        let mut tries = 0;
        loop {
            match self.store.append(records).await {
                Err(e) if e.is_transient() && tries < APPEND_RETRIES => {
                    tries += 1;
                    tracing::warn!("event log append delayed ({e}); retry {tries} of {APPEND_RETRIES}");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(std::time::Duration::from_secs(5));
                }
                other => return other,
            }
        }
    }

    fn publish(&self, b: Batch) {
        let hub = self.live.hub();
        let records: Vec<Arc<EventRecord>> = b.records.into_iter().map(Arc::new).collect();
        for rec in &records {
            if let Some(a) = rec.event.agent() {
                hub.send_agent(a, AgentMsg::Event(rec.clone()));
            }
            if let Some(t) = consulted(&rec.event) {
                hub.send_agent(t, AgentMsg::Event(rec.clone()));
            }
            // A consultation that ends unanswered stops ringing there.
            if let Event::ConsultEnded { contact, target, outcome, .. } = &rec.event
                && *outcome != ConsultOutcome::Completed
            {
                hub.send_agent(*target, AgentMsg::OfferCancelled { contact: *contact });
            }
        }
        for view in b.agents {
            hub.send_agent(view.id, AgentMsg::Me(Arc::new(view)));
        }
        for c in &b.commands {
            if let Command::CancelOffer { contact, agent } = c {
                hub.send_agent(*agent, AgentMsg::OfferCancelled { contact: *contact });
            }
        }
        for offer in b.offers {
            self.spawn_pop(offer);
        }
        let feed = self.live.0.feed.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(feed) = feed
            && (!records.is_empty() || !b.commands.is_empty())
        {
            let _ = feed.send(Arc::new(Feed { records: records.clone(), commands: b.commands }));
        }
        hub.publish(Arc::new(Published { records }));
        if let Some((r, applied)) = b.reply {
            let _ = r.send(Ok(applied));
        }
    }

    /// Build the screen-pop off the publisher's path, then ask the order hook.
    fn spawn_pop(&self, offer: Offer) {
        let Offer { agent, contact, deadline, wc, queue_name, consult_from } = offer;
        let (store, live, http) = (self.store.clone(), self.live.clone(), self.http.clone());
        tokio::spawn(async move {
            let actor = format!("agent:{}", agent.0);
            let mut pop = pop::build(&store, &wc, queue_name).await;
            let customer = pop.customer.as_ref().map(|c| c.id.clone());
            let hook = live.order_hook();
            pop.orders_pending = hook.is_some() && customer.is_some();
            let msg = Arc::new(OfferMsg { contact, agent, deadline, channel: wc.channel, pop, consult_from });
            live.hub().send_agent(agent, AgentMsg::Offer(msg.clone()));
            pop::audit_read(&store, &msg.pop, &actor).await;
            if let (Some(url), Some(customer)) = (hook, customer) {
                // Always answer a pending pop: `null` when the hook failed.
                let orders = pop::fetch_orders(&http, &url, &customer).await.unwrap_or(serde_json::Value::Null);
                live.hub().send_agent(agent, AgentMsg::Orders { contact, orders: Arc::new(orders) });
            }
        });
    }
}

/// The consulted agent of a consultation event (who must hear of it too:
/// [`Event::agent`] names the consulting one).
fn consulted(e: &Event) -> Option<AgentId> {
    match e {
        Event::ConsultOffered { target, .. }
        | Event::ConsultAnswered { target, .. }
        | Event::ConsultEnded { target, .. } => Some(*target),
        _ => None,
    }
}
