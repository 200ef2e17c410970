//! A media leg: one RTP stream between us and one party (a caller or an
//! agent's phone), run by its own task on its own UDP socket.
//!
//! The task plays prompts and music to the party on a 20 ms clock, reports
//! the party's key presses (RFC 4733), measures what it receives, and, when
//! bridged, relays the party's audio to the other leg's party straight from
//! its receive path — rewritten into the other leg's outgoing stream (same
//! SSRC, continuous sequence numbers) and transcoded only when the two
//! phones chose different G.711 laws. Relaying costs one packet copy and no
//! buffering: the added latency is the time of a `send_to`.

use crate::record::SharedRecorder;
use media::dtmf::DtmfReceiver;
use media::g711::Codec;
use media::playout::{PlayToken, Player};
use media::rtp::{self, RtpHeader, RtpSender};
use media::stats::{Level, RtpReport, RtpStats};

/// One piece of a play request.
#[derive(Clone, Debug)]
pub enum Piece {
    /// Samples (8 kHz mono).
    Audio(Arc<[i16]>),
    /// A pause.
    Silence(u32),
}
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME: usize = 160;
/// No RTP from the party for this long: the line is considered dead.
pub const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);

/// The outgoing side of a leg, shared with the leg it is bridged to (which
/// writes relayed packets into it).
pub struct Outgoing {
    remote: Option<SocketAddr>,
    codec: Codec,
    dtmf_pt: Option<u8>,
    sender: RtpSender,
    sent: u64,
    /// A new talk spurt (after silence, relaying or playing starts): mark it.
    marker: bool,
}

/// What the two tasks of a bridge share about one leg.
pub struct LegShared {
    socket: Arc<UdpSocket>,
    out: Mutex<Outgoing>,
}

impl LegShared {
    /// Send one frame of audio (already encoded for this leg's codec).
    fn send_audio(&self, payload: &[u8], samples: u32, buf: &mut Vec<u8>) {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(remote) = out.remote else {
            out.sender.skip(samples);
            return;
        };
        buf.clear();
        let (pt, marker) = (out.codec.payload_type(), std::mem::take(&mut out.marker));
        out.sender.next_packet(pt, payload, samples, marker, buf);
        out.sent += 1;
        drop(out);
        // UDP: a full socket buffer drops the packet, like the network would.
        let _ = self.socket.try_send_to(buf, remote);
    }

    fn codec(&self) -> Codec {
        self.out.lock().unwrap_or_else(PoisonError::into_inner).codec
    }
}

/// Commands to a leg's task.
enum Cmd {
    Remote { rtp: Option<SocketAddr>, codec: Codec, dtmf_pt: Option<u8> },
    Play { pieces: Vec<Piece>, token: u64 },
    Stop,
    Music(Option<Arc<[i16]>>),
    Bridge(Option<Arc<LegShared>>),
    Record(Option<(SharedRecorder, usize)>),
    Close(oneshot::Sender<LegReport>),
}

/// What a leg tells its call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegEvent {
    /// The party pressed a key.
    Dtmf(char),
    /// A play request finished (or was stopped).
    Played(u64),
    /// Nothing received for [`MEDIA_TIMEOUT`] (reported once per silence).
    MediaTimeout,
}

/// Measurements of one leg, when it closes.
#[derive(Clone, Debug)]
pub struct LegReport {
    /// What we received.
    pub rx: RtpReport,
    /// Packets we sent (our prompts and relayed audio).
    pub tx_packets: u64,
    /// Level of the received audio, dBFS over the call.
    pub rx_level_dbfs: f64,
    /// Received 20 ms frames with voice-level energy.
    pub voiced_frames: u64,
}

/// Handle to a running leg; dropping it does not stop the task (close it).
#[derive(Clone)]
pub struct Leg {
    cmds: mpsc::UnboundedSender<Cmd>,
    shared: Arc<LegShared>,
    local: SocketAddr,
}

impl Leg {
    /// Start a leg on an already bound socket; events go to `events` tagged
    /// with `tag`.
    pub fn start<T: Clone + Send + 'static>(
        socket: UdpSocket,
        codec: Codec,
        tag: T,
        events: mpsc::UnboundedSender<(T, LegEvent)>,
    ) -> std::io::Result<Leg> {
        let local = socket.local_addr()?;
        let seed = seed();
        let shared = Arc::new(LegShared {
            socket: Arc::new(socket),
            out: Mutex::new(Outgoing {
                remote: None,
                codec,
                dtmf_pt: None,
                sender: RtpSender::new(seed as u32, (seed >> 32) as u16, (seed >> 48) as u32),
                sent: 0,
                marker: true,
            }),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let task = Task {
            shared: shared.clone(),
            player: Player::new(),
            dtmf: DtmfReceiver::new(crate::sdp::DTMF_PT),
            stats: RtpStats::new(),
            level: Level::default(),
            bridge: None,
            recorder: None,
            playing: Vec::new(),
            started: Instant::now(),
            last_rx: Instant::now(),
            timed_out: false,
            tag,
            events,
        };
        tokio::spawn(task.run(rx));
        Ok(Leg { cmds: tx, shared, local })
    }

    /// Our RTP address (for our SDP).
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// Where the party wants RTP, and in which codec.
    pub fn set_remote(&self, rtp: Option<SocketAddr>, codec: Codec, dtmf_pt: Option<u8>) {
        let _ = self.cmds.send(Cmd::Remote { rtp, codec, dtmf_pt });
    }

    /// Play clips one after the other; [`LegEvent::Played`] with `token` at the end.
    pub fn play(&self, pieces: Vec<Piece>, token: u64) {
        let _ = self.cmds.send(Cmd::Play { pieces, token });
    }

    /// Stop what is playing (each pending request reports `Played`).
    pub fn stop_playing(&self) {
        let _ = self.cmds.send(Cmd::Stop);
    }

    /// Loop this audio whenever nothing else plays (music on hold); `None` stops it.
    pub fn music(&self, music: Option<Arc<[i16]>>) {
        let _ = self.cmds.send(Cmd::Music(music));
    }

    /// Relay this leg's received audio to `other`'s party (`None`: stop).
    pub fn bridge_to(&self, other: Option<&Leg>) {
        let _ = self.cmds.send(Cmd::Bridge(other.map(|o| o.shared.clone())));
    }

    /// Record what this party says into `channel` of the recorder.
    pub fn record(&self, rec: Option<(SharedRecorder, usize)>) {
        let _ = self.cmds.send(Cmd::Record(rec));
    }

    /// Stop the task and get its measurements.
    pub async fn close(&self) -> Option<LegReport> {
        let (tx, rx) = oneshot::channel();
        self.cmds.send(Cmd::Close(tx)).ok()?;
        rx.await.ok()
    }
}

fn seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
    }
    u64::from_le_bytes(b)
}

struct Task<T> {
    shared: Arc<LegShared>,
    player: Player,
    dtmf: DtmfReceiver,
    stats: RtpStats,
    level: Level,
    bridge: Option<Arc<LegShared>>,
    recorder: Option<(SharedRecorder, usize)>,
    /// Play requests in progress: (player token of the last clip, our token).
    playing: Vec<(PlayToken, u64)>,
    started: Instant,
    /// Last RTP received (or the start), and whether the timeout was reported.
    last_rx: Instant,
    timed_out: bool,
    tag: T,
    events: mpsc::UnboundedSender<(T, LegEvent)>,
}

impl<T: Clone + Send + 'static> Task<T> {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    async fn run(mut self, mut cmds: mpsc::UnboundedReceiver<Cmd>) {
        let socket = self.shared.socket.clone();
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut buf = vec![0u8; 2048];
        let mut scratch = Scratch::default();
        loop {
            tokio::select! {
                r = socket.recv_from(&mut buf) => {
                    if let Ok((n, from)) = r {
                        self.on_packet(&buf[..n], from, &mut scratch);
                    }
                }
                _ = tick.tick() => self.on_tick(&mut scratch),
                cmd = cmds.recv() => match cmd {
                    None => break,
                    Some(Cmd::Close(reply)) => {
                        self.player.clear();
                        self.report_stopped();
                        let _ = reply.send(self.report());
                        break;
                    }
                    Some(cmd) => self.on_cmd(cmd),
                },
            }
        }
    }

    fn on_cmd(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Remote { rtp, codec, dtmf_pt } => {
                let mut out = self.shared.out.lock().unwrap_or_else(PoisonError::into_inner);
                out.remote = rtp;
                out.codec = codec;
                out.dtmf_pt = dtmf_pt;
                drop(out);
                self.dtmf.set_payload_type(dtmf_pt.unwrap_or(crate::sdp::DTMF_PT));
            }
            Cmd::Play { pieces, token } => {
                let mut last = None;
                for p in pieces {
                    last = Some(match p {
                        Piece::Audio(a) => self.player.enqueue(a),
                        Piece::Silence(ms) => self.player.enqueue_silence(ms),
                    });
                }
                match last {
                    Some(t) => self.playing.push((t, token)),
                    None => self.emit(LegEvent::Played(token)),
                }
            }
            Cmd::Stop => {
                let stopped = self.player.clear();
                self.finish_tokens(&stopped);
            }
            Cmd::Music(m) => self.player.set_loop(m),
            Cmd::Bridge(b) => {
                if let Some(peer) = &b {
                    peer.out.lock().unwrap_or_else(PoisonError::into_inner).marker = true;
                }
                self.bridge = b;
            }
            Cmd::Record(r) => self.recorder = r,
            Cmd::Close(_) => {}
        }
    }

    /// Report the requests whose last piece is among `tokens`.
    fn finish_tokens(&mut self, tokens: &[PlayToken]) {
        for t in tokens {
            if let Some(i) = self.playing.iter().position(|(p, _)| p == t) {
                let (_, token) = self.playing.remove(i);
                self.emit(LegEvent::Played(token));
            }
        }
    }

    /// Requests still playing when the leg closes get their `Played`.
    fn report_stopped(&mut self) {
        for (_, token) in std::mem::take(&mut self.playing) {
            self.emit(LegEvent::Played(token));
        }
    }

    fn emit(&self, e: LegEvent) {
        let _ = self.events.send((self.tag.clone(), e));
    }

    fn on_tick(&mut self, s: &mut Scratch) {
        if !self.timed_out && self.last_rx.elapsed() >= MEDIA_TIMEOUT {
            self.timed_out = true;
            self.emit(LegEvent::MediaTimeout);
        }
        // While bridged, the other party's relayed audio is this party's
        // stream; our own playout pauses (prompts resume after the bridge).
        if self.bridge_inbound() {
            return;
        }
        let mut frame = [0i16; FRAME];
        let active = self.player.next_frame(&mut frame);
        let done = self.player.finished_tokens();
        self.finish_tokens(&done);
        if let Some((rec, _)) = &self.recorder {
            rec.tick(now_wall_ms());
        }
        if !active {
            // Keep the stream's clock running through silence so the next
            // talk spurt lands at the right timestamp.
            self.shared.out.lock().unwrap_or_else(PoisonError::into_inner).sender.skip(FRAME as u32);
            self.shared.out.lock().unwrap_or_else(PoisonError::into_inner).marker = true;
            return;
        }
        s.payload.clear();
        self.shared.codec().encode(&frame, &mut s.payload);
        self.shared.send_audio(&s.payload, FRAME as u32, &mut s.packet);
    }

    /// Whether another leg relays into this one (we must stay quiet).
    fn bridge_inbound(&self) -> bool {
        // A bridge is always set up in both directions.
        self.bridge.is_some()
    }

    fn on_packet(&mut self, packet: &[u8], from: SocketAddr, s: &mut Scratch) {
        if rtp::is_rtcp(packet) {
            return;
        }
        let Ok((header, payload)) = rtp::parse(packet) else { return };
        self.last_rx = Instant::now();
        self.timed_out = false;
        // Symmetric RTP (RFC 4961): answer where the party really sends from
        // when it has not told us (or sits behind a NAT).
        {
            let mut out = self.shared.out.lock().unwrap_or_else(PoisonError::into_inner);
            if out.remote.is_none() {
                out.remote = Some(from);
            }
        }
        let now = self.now_ms();
        if header.payload_type == self.dtmf.payload_type() {
            if let Some(d) = self.dtmf.on_packet(&header, payload) {
                self.emit(LegEvent::Dtmf(d));
            }
            return;
        }
        let Some(codec) = Codec::from_payload_type(header.payload_type) else { return };
        self.stats.on_packet(&header, now, 8000);
        s.pcm.clear();
        codec.decode(payload, &mut s.pcm);
        self.level.on_samples(&s.pcm);
        if let Some((rec, channel)) = &self.recorder {
            rec.push(*channel, now_wall_ms(), header.timestamp, &s.pcm);
        }
        if let Some(peer) = &self.bridge {
            relay(peer, &header, codec, payload, &s.pcm, &mut s.relay, &mut s.packet);
        }
    }

    fn report(&self) -> LegReport {
        let out = self.shared.out.lock().unwrap_or_else(PoisonError::into_inner);
        LegReport {
            rx: self.stats.snapshot(),
            tx_packets: out.sent,
            rx_level_dbfs: self.level.report().rms_dbfs,
            voiced_frames: self.level.voiced_frames(),
        }
    }
}

/// Milliseconds on the wall clock (the recorder lines both channels up on it).
pub fn now_wall_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Forward one received audio packet to the bridged leg's party.
fn relay(
    peer: &LegShared,
    header: &RtpHeader,
    codec: Codec,
    payload: &[u8],
    pcm: &[i16],
    relayed: &mut Vec<u8>,
    packet: &mut Vec<u8>,
) {
    let peer_codec = peer.codec();
    let samples = pcm.len() as u32;
    relayed.clear();
    if peer_codec == codec {
        relayed.extend_from_slice(payload);
    } else {
        peer_codec.encode(pcm, relayed);
    }
    let mut out = peer.out.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(remote) = out.remote else { return };
    out.marker |= header.marker;
    let (pt, marker) = (out.codec.payload_type(), std::mem::take(&mut out.marker));
    packet.clear();
    out.sender.next_packet(pt, relayed, samples, marker, packet);
    out.sent += 1;
    drop(out);
    let _ = peer.socket.try_send_to(packet, remote);
}

/// Buffers reused for every packet.
#[derive(Default)]
struct Scratch {
    pcm: Vec<i16>,
    payload: Vec<u8>,
    packet: Vec<u8>,
    relay: Vec<u8>,
}
