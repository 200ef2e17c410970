//! Third-party SIP peers for the end-to-end tests, all on 127.0.0.1:
//!
//! * [`Baresip`] — a real user agent (Debian `baresip-core`) acting as an
//!   agent's phone: its own config directory, auto-answer, plays a WAV,
//!   records what it hears, driven over its `ctrl_tcp` JSON socket.
//! * [`pjcall`] / [`PjCall`] — a scriptable PJSIP caller
//!   (`tests/sip/pjcall.py`, pjsua2 from PyPI in a virtual environment named
//!   by `SWITCHBOARD_PJSUA_PYTHON`): dial, play, record, RFC 4733 DTMF,
//!   hang up, and a JSON account of the call.
//! * [`sipp`] / [`SippProc`] — SIPp (Debian `sip-tester`) with a scenario,
//!   bounded in calls and time, returning its exit code and statistics.
//!
//! Use it from an integration test with `mod peers;` and start with
//! `if peers::peers_available().is_err() { return; }` (or [`require`]):
//! under `CI` a missing peer fails the test, elsewhere the skip is printed.
//! `.ci/run` installs every peer.
//!
//! Nothing here sends a packet anywhere but loopback: every address handed
//! to a peer is checked by [`assert_loopback_args`].

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod demo;

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// Paths, ports, availability
// ---------------------------------------------------------------------------

/// The repository root (the workspace).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

/// `tests/sip` in the repository: scenarios and `pjcall.py`.
pub fn sip_dir() -> PathBuf {
    repo_root().join("tests/sip")
}

/// A fresh, empty temporary directory for one peer (kept when a test
/// fails, removed otherwise by the owner).
pub fn temp_dir(what: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "switchboard-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn udp_free(port: u16) -> bool {
    UdpSocket::bind(("127.0.0.1", port)).is_ok()
}

fn tcp_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("bind udp").port()
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|s| s.local_addr()).expect("bind tcp").port()
}

/// A port `p` such that `p` and `p + 1` are free for both UDP and TCP on
/// 127.0.0.1 (baresip listens on UDP and TCP `p` and TLS on `p + 1`; SIPp
/// media uses `p` and `p + 2`, so ask for `span` = 3 there).
pub fn free_port_block(span: u16) -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Walk a range well below the kernel's ephemeral ports (32768+), offset
    // by the process id so parallel test binaries rarely collide.
    let base = 20000 + (std::process::id() % 500) as u16 * 20;
    for _ in 0..2000 {
        let step = NEXT.fetch_add(u32::from(span) + 1, Ordering::Relaxed) as u16;
        let p = 20000 + (base - 20000 + step) % 12000;
        if (p..p + span).all(|q| udp_free(q) && tcp_free(q)) {
            return p;
        }
    }
    panic!("no {span} consecutive free ports on 127.0.0.1");
}

/// Two free consecutive ports (UDP and TCP): for a baresip SIP listener.
pub fn free_port_pair() -> u16 {
    free_port_block(2)
}

/// The peers a test may need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// `sipp` (Debian `sip-tester`).
    Sipp,
    /// `baresip` (Debian `baresip-core`).
    Baresip,
    /// pjsua2 in the Python of `SWITCHBOARD_PJSUA_PYTHON`.
    Pjsua,
    /// `sox` (Debian `sox`), for WAV generation and checks.
    Sox,
    /// `espeak-ng` (Debian `espeak-ng`), for spoken prompts.
    Espeak,
    /// baresip whose SIP library (libre) has TLS (linked with OpenSSL).
    BaresipTls,
    /// The `openssl` command, to make test certificates.
    Openssl,
}

/// The Python interpreter that has pjsua2: `$SWITCHBOARD_PJSUA_PYTHON`, else
/// the virtual environment `.ci/run` makes (`target/sip-venv`).
pub fn pjsua_python() -> PathBuf {
    match std::env::var_os("SWITCHBOARD_PJSUA_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo_root().join("target/sip-venv/bin/python"),
    }
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// Why `peer` cannot be used here, or `None` when it can.
pub fn missing(peer: Peer) -> Option<String> {
    match peer {
        Peer::Sipp => (!runs("sipp", &["-v"])).then(|| "sipp not found (apt-get install sip-tester)".to_string()),
        Peer::Baresip => {
            if !runs("baresip", &["-h"]) {
                Some("baresip not found (apt-get install baresip-core)".into())
            } else if !Path::new(BARESIP_MODULES).join("ctrl_tcp.so").exists() {
                Some(format!("{BARESIP_MODULES}/ctrl_tcp.so not found (apt-get install baresip-core)"))
            } else {
                None
            }
        }
        Peer::Pjsua => {
            let py = pjsua_python();
            let ok = Command::new(&py)
                .args(["-c", "import pjsua2"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            (!ok).then(|| {
                format!(
                    "no pjsua2 in {} (set SWITCHBOARD_PJSUA_PYTHON, or: python3 -m venv target/sip-venv && \
                     target/sip-venv/bin/pip install -r tests/sip/requirements.txt)",
                    py.display()
                )
            })
        }
        Peer::Sox => (!runs("sox", &["--version"])).then(|| "sox not found (apt-get install sox)".to_string()),
        Peer::Espeak => {
            (!runs("espeak-ng", &["--version"])).then(|| "espeak-ng not found (apt-get install espeak-ng)".to_string())
        }
        Peer::BaresipTls => missing(Peer::Baresip).or_else(|| {
            // libre does TLS only when built with OpenSSL.
            let linked = Command::new("sh")
                .args(["-c", "ldd \"$(command -v baresip)\" 2>/dev/null | grep -q libssl"])
                .stdin(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            (!linked).then(|| "baresip/libre without TLS (not linked with libssl)".to_string())
        }),
        Peer::Openssl => {
            (!runs("openssl", &["version"])).then(|| "openssl not found (apt-get install openssl)".to_string())
        }
    }
}

/// The skip/fail policy for tests that need `peers`: `Ok` when all are
/// there; otherwise, under `CI`, a panic naming what is missing, and
/// elsewhere `Err(reason)` after printing `skipping: <reason>` on stderr.
pub fn require(peers: &[Peer]) -> Result<(), String> {
    let why: Vec<String> = peers.iter().filter_map(|p| missing(*p)).collect();
    if why.is_empty() {
        return Ok(());
    }
    let why = why.join("; ");
    assert!(std::env::var_os("CI").is_none(), "SIP peers missing under CI: {why}");
    eprintln!("skipping: {why}");
    Err(why)
}

/// [`require`] for all three SIP peers (SIPp, baresip, pjsua2) and sox.
pub fn peers_available() -> Result<(), String> {
    require(&[Peer::Sipp, Peer::Baresip, Peer::Pjsua, Peer::Sox])
}

/// Panics unless every IPv4/IPv6 address or host name in `args` (bare, in
/// `host:port`, or inside a `sip:` URI) is on loopback: 127.0.0.0/8, ::1
/// or localhost. Traffic must never leave this machine.
pub fn assert_loopback_args(args: &[&str]) {
    for arg in args {
        let mut s = *arg;
        if let Some(rest) = s.strip_prefix("sip:").or_else(|| s.strip_prefix("sips:")) {
            s = rest;
            if let Some(at) = s.rfind('@') {
                s = &s[at + 1..];
            }
            s = s.split([';', '?', '>']).next().unwrap_or(s);
        } else if s.starts_with('-') || s.contains('/') || s.contains('=') {
            continue;
        }
        let host = if let Some(v6) = s.strip_prefix('[') {
            v6.split(']').next().unwrap_or(v6)
        } else {
            s.split(':').next().unwrap_or(s)
        };
        let looks_like_ip = host.parse::<std::net::IpAddr>().is_ok();
        if looks_like_ip {
            let ip: std::net::IpAddr = host.parse().expect("ip");
            assert!(ip.is_loopback(), "refusing a non-loopback address in peer arguments: {arg}");
        } else if arg.starts_with("sip:") || arg.starts_with("sips:") {
            assert!(host == "localhost", "refusing a non-loopback SIP host: {arg}");
        }
    }
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

/// A child in its own process group, killed (the whole group) on drop.
pub struct Proc {
    child: Option<Child>,
    /// What it is, for messages.
    pub name: String,
}

impl Proc {
    fn spawn(name: &str, cmd: &mut Command) -> Result<Proc> {
        cmd.process_group(0);
        let child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        Ok(Proc { child: Some(child), name: name.to_string() })
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Waits at most `timeout` for it to end; kills it (and its group)
    /// after that and says so in the error.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let child = self.child.as_mut().ok_or_else(|| anyhow!("{} already reaped", self.name))?;
        let end = Instant::now() + timeout;
        loop {
            if let Some(st) = child.try_wait()? {
                self.child = None;
                return Ok(st);
            }
            if Instant::now() >= end {
                self.kill();
                bail!("{} did not finish within {:?}: killed", self.name, timeout);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM to the group, waits up to `grace`, then SIGKILL.
    pub fn terminate(&mut self, grace: Duration) {
        if let Some(child) = self.child.as_mut() {
            let pgid = child.id();
            let _ = Command::new("kill").args(["-TERM", "--", &format!("-{pgid}")]).stderr(Stdio::null()).status();
            let end = Instant::now() + grace;
            while Instant::now() < end {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    self.child = None;
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.kill();
    }

    /// SIGKILL to the whole group, then reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pgid = child.id();
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pgid}")]).stderr(Stdio::null()).status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

// ---------------------------------------------------------------------------
// WAV files
// ---------------------------------------------------------------------------

/// Writes a 16-bit mono PCM WAV of a sine tone (`amplitude` 0..1 of full
/// scale) — the prompt a peer plays when no file is given.
pub fn write_tone_wav(path: &Path, rate: u32, freq_hz: f64, seconds: f64, amplitude: f64) -> Result<()> {
    let n = (f64::from(rate) * seconds) as usize;
    let samples: Vec<i16> = (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            (amplitude * 32767.0 * (2.0 * std::f64::consts::PI * freq_hz * t).sin()).round() as i16
        })
        .collect();
    write_wav(path, rate, &samples)
}

/// Writes 16-bit mono PCM samples as a WAV file.
pub fn write_wav(path: &Path, rate: u32, samples: &[i16]) -> Result<()> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}

/// A decoded 16-bit PCM WAV file (all channels interleaved).
#[derive(Clone, Debug)]
pub struct Wav {
    /// Samples per second.
    pub rate: u32,
    /// Channel count.
    pub channels: u16,
    /// Interleaved samples.
    pub samples: Vec<i16>,
}

impl Wav {
    /// Length in seconds.
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.rate) / f64::from(self.channels.max(1))
    }

    /// RMS level in dBFS of every whole second (a last part second of at
    /// least a quarter second counts too); -120 for digital silence.
    pub fn rms_dbfs_per_second(&self) -> Vec<f64> {
        let per = (self.rate as usize) * usize::from(self.channels.max(1));
        self.samples.chunks(per.max(1)).filter(|c| c.len() >= per / 4).map(rms_dbfs).collect()
    }

    /// RMS level in dBFS of the whole file.
    pub fn rms_dbfs(&self) -> f64 {
        rms_dbfs(&self.samples)
    }

    /// Rough frequency of a pure tone in the first channel, Hz, from the
    /// zero crossings of the samples louder than -40 dBFS (0 if none).
    pub fn tone_hz(&self) -> f64 {
        let ch = usize::from(self.channels.max(1));
        let mono: Vec<i16> = self.samples.iter().step_by(ch).copied().collect();
        let per = (self.rate as usize / 10).max(1);
        let (mut crossings, mut loud) = (0usize, 0usize);
        for block in mono.chunks(per) {
            if block.len() < per || rms_dbfs(block) < -40.0 {
                continue;
            }
            loud += block.len();
            crossings += block.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        }
        if loud == 0 { 0.0 } else { crossings as f64 / 2.0 / (loud as f64 / f64::from(self.rate)) }
    }
}

/// RMS level of samples in dBFS (-120 for silence or nothing).
pub fn rms_dbfs(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return -120.0;
    }
    let mean_sq = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / samples.len() as f64;
    let rms = mean_sq.sqrt() / 32768.0;
    if rms > 0.0 { (20.0 * rms.log10()).max(-120.0) } else { -120.0 }
}

/// Reads a 16-bit PCM WAV file (walks the RIFF chunks; a data chunk whose
/// length field was never finalised is read to the end of the file).
pub fn read_wav(path: &Path) -> Result<Wav> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        bail!("{}: not a RIFF/WAVE file", path.display());
    }
    let (mut rate, mut channels, mut bits, mut format) = (0u32, 0u16, 0u16, 0u16);
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into()?) as usize;
        let body = pos + 8;
        if id == b"fmt " && body + 16 <= bytes.len() {
            format = u16::from_le_bytes(bytes[body..body + 2].try_into()?);
            channels = u16::from_le_bytes(bytes[body + 2..body + 4].try_into()?);
            rate = u32::from_le_bytes(bytes[body + 4..body + 8].try_into()?);
            bits = u16::from_le_bytes(bytes[body + 14..body + 16].try_into()?);
        } else if id == b"data" {
            if bits != 16 || (format != 1 && format != 0xFFFE) {
                bail!("{}: not 16-bit PCM (format {format}, {bits} bits)", path.display());
            }
            let end = if len == 0 || body + len > bytes.len() { bytes.len() } else { body + len };
            let samples = bytes[body..end].chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
            return Ok(Wav { rate, channels, samples });
        }
        pos = body + len + (len & 1);
    }
    bail!("{}: no data chunk", path.display())
}

// ---------------------------------------------------------------------------
// baresip
// ---------------------------------------------------------------------------

const BARESIP_MODULES: &str = "/usr/lib/baresip/modules";

/// How to start a [`Baresip`].
#[derive(Clone, Debug)]
pub struct BaresipOptions {
    /// User part of its address (`agent1` → `sip:agent1@127.0.0.1`).
    pub user: String,
    /// Registrar to register with (`127.0.0.1:5060`); `None`: no
    /// registration (`regint=0`), calls come straight to its port.
    pub registrar: Option<String>,
    /// Digest user name (`auth_user`; baresip defaults it to `user`).
    pub auth_user: Option<String>,
    /// Digest password (`auth_pass`).
    pub auth_pass: Option<String>,
    /// Registration interval in seconds when registering.
    pub regint: u32,
    /// `auto` (answer at once), `manual` (answer with `accept`) or `early`.
    pub answermode: String,
    /// WAV (8 kHz mono 16-bit) it sends into calls. baresip 1.0 plays it
    /// once and then sends silence, so make it as long as the call. `None`:
    /// a 120 s tone of `tone_hz` is generated.
    pub play: Option<PathBuf>,
    /// Tone frequency when `play` is `None`.
    pub tone_hz: f64,
    /// Extra `;name=value` account parameters.
    pub extra_account_params: String,
    /// SIP port (UDP and TCP; TLS takes port + 1); `None`: a free pair.
    pub sip_port: Option<u16>,
    /// Commands run at start (`-e`), e.g. `d sip:100@127.0.0.1:5060`.
    pub exec: Vec<String>,
    /// CA certificate (PEM) it trusts for SIP over TLS (`sip_cafile`).
    pub sip_cafile: Option<PathBuf>,
}

impl Default for BaresipOptions {
    fn default() -> BaresipOptions {
        BaresipOptions {
            user: "agent1".into(),
            registrar: None,
            auth_user: None,
            auth_pass: None,
            regint: 60,
            answermode: "auto".into(),
            play: None,
            tone_hz: 440.0,
            extra_account_params: String::new(),
            sip_port: None,
            exec: Vec::new(),
            sip_cafile: None,
        }
    }
}

/// A running baresip user agent in its own directory, killed on drop (its
/// directory is kept and its log printed when the test is panicking).
pub struct Baresip {
    proc: Proc,
    dir: PathBuf,
    sip_port: u16,
    ctrl_port: u16,
    log_path: PathBuf,
    user: String,
}

impl Baresip {
    /// Writes the config directory and starts `baresip -n 127.0.0.1 -f DIR`;
    /// returns once its control socket answers (at most 10 s).
    pub fn start(opts: BaresipOptions) -> Result<Baresip> {
        let dir = temp_dir("baresip");
        let sip_port = opts.sip_port.unwrap_or_else(free_port_pair);
        let ctrl_port = free_tcp_port();
        let rtp = free_port_block(40);
        let play = match &opts.play {
            Some(p) => p.canonicalize().with_context(|| format!("audio file {}", p.display()))?,
            None => {
                let p = dir.join("prompt.wav");
                write_tone_wav(&p, 8000, opts.tone_hz, 120.0, 0.5)?;
                p
            }
        };
        let rec_dir = dir.join("recordings");
        std::fs::create_dir_all(&rec_dir)?;
        // audio_player: baresip 1.0's aufile is a source only, so the
        // player is an in-process bridge (a clock that drops the audio) and
        // the sndfile filter writes what the agent hears (and says) to
        // recordings/dump-<time>-dec.wav (-enc.wav).
        let config = format!(
            "poll_method\t\tepoll\n\
             sip_listen\t\t127.0.0.1:{sip_port}\n\
             call_local_timeout\t120\n\
             call_max_calls\t\t4\n\
             audio_player\t\taubridge,{user}\n\
             audio_alert\t\taubridge,{user}-alert\n\
             audio_source\t\taufile,{play}\n\
             audio_buffer\t\t20-160\n\
             rtp_ports\t\t{rtp}-{rtp_end}\n\
             rtp_timeout\t\t60\n\
             dns_server\t\t127.0.0.1:53\n\
             module_path\t\t{BARESIP_MODULES}\n\
             module\t\t\tg711.so\n\
             module\t\t\taufile.so\n\
             module\t\t\taubridge.so\n\
             module\t\t\tsndfile.so\n\
             module_tmp\t\taccount.so\n\
             module_app\t\tmenu.so\n\
             module_app\t\tctrl_tcp.so\n\
             ctrl_tcp_listen\t\t127.0.0.1:{ctrl_port}\n\
             snd_path\t\t{rec}\n",
            user = opts.user,
            play = play.display(),
            rtp_end = rtp + 39,
            rec = rec_dir.display(),
        );
        let config = match &opts.sip_cafile {
            Some(ca) => format!("{config}sip_cafile\t\t{}\n", ca.display()),
            None => config,
        };
        std::fs::write(dir.join("config"), config)?;
        let mut account = match &opts.registrar {
            Some(reg) => {
                assert_loopback_args(&[reg]);
                format!("<sip:{}@{reg}>;regint={}", opts.user, opts.regint)
            }
            None => format!("<sip:{}@127.0.0.1>;regint=0", opts.user),
        };
        account.push_str(&format!(";answermode={};audio_codecs=PCMU,PCMA", opts.answermode));
        if let Some(u) = &opts.auth_user {
            account.push_str(&format!(";auth_user={u}"));
        }
        if let Some(p) = &opts.auth_pass {
            account.push_str(&format!(";auth_pass={p}"));
        }
        account.push_str(&opts.extra_account_params);
        std::fs::write(dir.join("accounts"), format!("{account}\n"))?;
        std::fs::write(dir.join("contacts"), "")?;

        let log_path = dir.join("baresip.log");
        let log = File::create(&log_path)?;
        let mut cmd = Command::new("baresip");
        cmd.args(["-n", "127.0.0.1", "-f"]).arg(&dir);
        for e in &opts.exec {
            assert_loopback_args(&e.split_whitespace().collect::<Vec<_>>());
            cmd.args(["-e", e]);
        }
        cmd.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log);
        let proc = Proc::spawn("baresip", &mut cmd)?;
        let mut b = Baresip { proc, dir, sip_port, ctrl_port, log_path, user: opts.user };
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            if !b.proc.running() {
                bail!("baresip exited at start:\n{}", tail(&b.log(), 30));
            }
            if b.log().contains("baresip is ready") && b.command("listcalls", "").is_ok() {
                return Ok(b);
            }
            if Instant::now() >= end {
                bail!("baresip not ready within 10 s:\n{}", tail(&b.log(), 30));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Its SIP port on 127.0.0.1.
    pub fn sip_port(&self) -> u16 {
        self.sip_port
    }

    /// A URI that reaches it directly: `sip:<user>@127.0.0.1:<port>`.
    pub fn uri(&self) -> String {
        format!("sip:{}@127.0.0.1:{}", self.user, self.sip_port)
    }

    /// Its config directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Everything it printed so far.
    pub fn log(&self) -> String {
        read_lossy(&self.log_path)
    }

    /// Sends one `ctrl_tcp` command (`listcalls`, `reginfo`, `dial`
    /// with a URI, `accept`, `hangup`, `quit`, … — the long names of
    /// `help`) and returns its response object
    /// (`{"response":true,"ok":true,"data":"…"}`); `ok: false` is an error.
    pub fn command(&self, cmd: &str, params: &str) -> Result<Value> {
        if cmd == "dial" {
            assert_loopback_args(&[params]);
        }
        let addr: SocketAddr = ([127, 0, 0, 1], self.ctrl_port).into();
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        let token = format!("t{}", std::process::id());
        let mut msg = json!({"command": cmd, "token": token});
        if !params.is_empty() {
            msg["params"] = json!(params);
        }
        let body = msg.to_string();
        s.write_all(format!("{}:{},", body.len(), body).as_bytes())?;
        // Netstrings `LEN:JSON,`; events may come before the response.
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            while let Some(colon) = buf.iter().position(|&b| b == b':') {
                let len: usize = std::str::from_utf8(&buf[..colon])?.trim().parse().context("netstring length")?;
                if buf.len() < colon + 1 + len + 1 {
                    break;
                }
                let v: Value = serde_json::from_slice(&buf[colon + 1..colon + 1 + len])?;
                buf.drain(..colon + 1 + len + 1);
                if v["response"] == json!(true) {
                    if v["ok"] != json!(true) {
                        bail!("baresip {cmd} {params}: {}", v["data"].as_str().unwrap_or_default().trim());
                    }
                    return Ok(v);
                }
            }
            let n = s.read(&mut chunk).context("reading the ctrl_tcp response")?;
            if n == 0 {
                bail!("baresip closed the control connection");
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The `data` text of a command's response.
    pub fn command_text(&self, cmd: &str, params: &str) -> Result<String> {
        Ok(self.command(cmd, params)?["data"].as_str().unwrap_or_default().to_string())
    }

    /// Waits until its account is registered (`reginfo` says OK).
    pub fn wait_registered(&self, timeout: Duration) -> Result<()> {
        let end = Instant::now() + timeout;
        loop {
            let info = self.command_text("reginfo", "").unwrap_or_default();
            if info.contains("OK") {
                return Ok(());
            }
            if Instant::now() >= end {
                bail!("baresip not registered within {timeout:?}: {info}\n{}", tail(&self.log(), 30));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until its log contains `needle` (e.g. `"Call established"`,
    /// `"received event: '1'"`, `"terminated"`).
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> Result<()> {
        let end = Instant::now() + timeout;
        loop {
            if self.log().contains(needle) {
                return Ok(());
            }
            if Instant::now() >= end {
                bail!("baresip log has no {needle:?} within {timeout:?}:\n{}", tail(&self.log(), 30));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Number of active calls (`listcalls`).
    pub fn active_calls(&self) -> Result<usize> {
        let text = self.command_text("listcalls", "")?;
        let n = text
            .split("Active calls (")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| anyhow!("unexpected listcalls answer: {text}"))?;
        Ok(n)
    }

    /// Waits until it has no call (after a hang-up, BYE or CANCEL).
    pub fn wait_no_calls(&self, timeout: Duration) -> Result<()> {
        let end = Instant::now() + timeout;
        loop {
            if self.active_calls()? == 0 {
                return Ok(());
            }
            if Instant::now() >= end {
                bail!("baresip still has a call after {timeout:?}:\n{}", tail(&self.log(), 30));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// DTMF digits it received (RFC 4733 events, in order), from its log:
    /// one per key press, whether baresip logged its start (`end=0`), its
    /// end (`end=1`) or both.
    pub fn dtmf_received(&self) -> String {
        let mut digits = String::new();
        let mut open: Option<String> = None;
        for r in self.log().split("received event: '").skip(1) {
            let Some((digit, rest)) = r.split_once('\'') else { continue };
            let end = rest.trim_start().starts_with("(end=1)");
            if !end {
                digits.push_str(digit);
                open = Some(digit.to_string());
            } else {
                if open.as_deref() != Some(digit) {
                    digits.push_str(digit);
                }
                open = None;
            }
        }
        digits
    }

    /// WAV files of what it heard, one per call, oldest first
    /// (`recordings/dump-*-dec.wav`; complete once the call ended).
    pub fn recordings(&self) -> Vec<PathBuf> {
        self.dumps("-dec.wav")
    }

    /// WAV files of what it sent, one per call (`dump-*-enc.wav`).
    pub fn sent_recordings(&self) -> Vec<PathBuf> {
        self.dumps("-enc.wav")
    }

    fn dumps(&self, suffix: &str) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.dir.join("recordings"))
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.retain(|p| p.to_string_lossy().ends_with(suffix));
        v.sort();
        v
    }

    /// Asks it to quit (so its recordings are closed) and waits up to 5 s;
    /// kills it after that. Its directory stays until it is dropped.
    pub fn stop(&mut self) -> Result<()> {
        if !self.proc.running() {
            return Ok(());
        }
        let _ = self.command("quit", "");
        match self.proc.wait_timeout(Duration::from_secs(5)) {
            Ok(_) => Ok(()),
            Err(e) => Err(e.context(tail(&self.log(), 20))),
        }
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        self.proc.kill();
        if std::thread::panicking() {
            eprintln!("--- baresip log ({}):\n{}", self.dir.display(), tail(&self.log(), 60));
        } else if std::env::var_os("SWITCHBOARD_KEEP_PEER_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

// ---------------------------------------------------------------------------
// PJSIP caller (tests/sip/pjcall.py)
// ---------------------------------------------------------------------------

/// What `pjcall.py --json` reported (see the script's docstring).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PjResult {
    /// 200 OK received and ACKed.
    pub answered: bool,
    /// Seconds from the INVITE to the answer.
    pub answered_at_s: Option<f64>,
    /// Seconds from the INVITE to the end of the call.
    pub ended_at_s: Option<f64>,
    /// `remote_bye`, `local_hangup`, `rejected`, `timeout` or `error`.
    pub end_reason: Option<String>,
    /// Last SIP status code of the call.
    pub last_status: Option<u16>,
    /// Its reason phrase.
    pub last_reason: Option<String>,
    /// DTMF digits sent.
    pub dtmf_sent: String,
    /// DTMF that could not be sent, with PJSIP's reason.
    pub dtmf_errors: Vec<String>,
    /// Level of what the caller heard, dBFS per second of media.
    pub rx_rms_dbfs_per_second: Vec<f64>,
    /// RTP packets sent.
    pub tx_packets: u64,
    /// RTP packets received.
    pub rx_packets: u64,
    /// RTP packets lost on receive.
    pub rx_loss: u64,
    /// Negotiated codec.
    pub codec: Option<String>,
    /// The `--record` file, if any.
    pub record: Option<String>,
    /// Anything that went wrong in the script.
    pub error: Option<String>,
    /// The script's exit code.
    #[serde(skip)]
    pub exit_code: Option<i32>,
    /// PJSIP's log (stderr), for failure messages.
    #[serde(skip)]
    pub log: String,
}

impl PjResult {
    /// Highest per-second level heard, dBFS (-120 when nothing).
    pub fn max_rx_dbfs(&self) -> f64 {
        self.rx_rms_dbfs_per_second.iter().copied().fold(-120.0, f64::max)
    }
}

/// A `pjcall.py` running in the background.
pub struct PjCall {
    proc: Proc,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
    dir: PathBuf,
}

impl PjCall {
    /// Starts `$SWITCHBOARD_PJSUA_PYTHON tests/sip/pjcall.py ARGS --json`.
    pub fn spawn(args: &[&str]) -> Result<PjCall> {
        assert_loopback_args(args);
        let dir = temp_dir("pjcall");
        let stdout_path = dir.join("stdout.json");
        let stderr_path = dir.join("pjsip.log");
        let mut cmd = Command::new(pjsua_python());
        cmd.arg(sip_dir().join("pjcall.py"))
            .args(args)
            .arg("--json")
            .stdin(Stdio::null())
            .stdout(File::create(&stdout_path)?)
            .stderr(File::create(&stderr_path)?);
        let proc = Proc::spawn("pjcall.py", &mut cmd)?;
        Ok(PjCall { proc, stdout_path, stderr_path, dir })
    }

    /// Waits at most `timeout` for it to finish (killed after that) and
    /// parses its JSON. An error when it printed no JSON.
    pub fn wait(mut self, timeout: Duration) -> Result<PjResult> {
        let status = self.proc.wait_timeout(timeout);
        let out = read_lossy(&self.stdout_path);
        let log = read_lossy(&self.stderr_path);
        let status = status.with_context(|| format!("pjcall.py log:\n{}", tail(&log, 40)))?;
        let line = out.lines().rev().find(|l| l.trim_start().starts_with('{')).ok_or_else(|| {
            anyhow!("pjcall.py printed no JSON (exit {status}); stdout: {out}\nlog:\n{}", tail(&log, 40))
        })?;
        let mut r: PjResult = serde_json::from_str(line).with_context(|| format!("pjcall.py JSON: {line}"))?;
        r.exit_code = status.code();
        r.log = log;
        Ok(r)
    }
}

impl Drop for PjCall {
    fn drop(&mut self) {
        self.proc.kill();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Runs one call with `pjcall.py` (arguments as documented there, without
/// `--json`) and returns its report; waits `--timeout` (default 60) + 20 s.
pub fn pjcall(args: &[&str]) -> Result<PjResult> {
    let limit = args
        .iter()
        .position(|a| *a == "--timeout")
        .and_then(|i| args.get(i + 1))
        .and_then(|t| t.parse::<f64>().ok())
        .unwrap_or(60.0);
    PjCall::spawn(args)?.wait(Duration::from_secs_f64(limit + 20.0))
}

// ---------------------------------------------------------------------------
// PJSIP desk phone (tests/sip/pjphone.py)
// ---------------------------------------------------------------------------

/// One call of a `pjphone.py` run.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PjPhoneCall {
    /// Answered (ours or theirs).
    pub answered: bool,
    /// Last SIP status of the call.
    pub end_status: Option<u16>,
    /// `remote` (a BYE from the server) or `local`.
    pub ended_by: Option<String>,
    /// RTP packets sent.
    pub tx_packets: u64,
    /// RTP packets received.
    pub rx_packets: u64,
    /// Level of what the phone heard on this call, dBFS.
    pub rx_rms_dbfs: Option<f64>,
}

/// What `pjphone.py` reported (see the script's docstring).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PjPhoneResult {
    /// Registered with the server.
    pub registered: bool,
    /// Calls in order: 0 the incoming one, then the ones it placed.
    pub calls: Vec<PjPhoneCall>,
    /// The last final status NOTIFY reported for a transfer.
    pub xfer_status: Option<u16>,
    /// Every final status NOTIFY reported, in order.
    pub xfer_statuses: Vec<u16>,
    /// Anything that went wrong in the script.
    pub error: Option<String>,
    /// PJSIP's log (stderr), for failure messages.
    #[serde(skip)]
    pub log: String,
}

/// An agent's desk phone (`pjphone.py`) running in the background.
pub struct PjPhone {
    proc: Proc,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
    dir: PathBuf,
}

impl PjPhone {
    /// Starts `$SWITCHBOARD_PJSUA_PYTHON tests/sip/pjphone.py ARGS --json`.
    pub fn spawn(args: &[&str]) -> Result<PjPhone> {
        assert_loopback_args(args);
        let dir = temp_dir("pjphone");
        let stdout_path = dir.join("stdout.json");
        let stderr_path = dir.join("pjsip.log");
        let mut cmd = Command::new(pjsua_python());
        cmd.arg(sip_dir().join("pjphone.py"))
            .args(args)
            .arg("--json")
            .stdin(Stdio::null())
            .stdout(File::create(&stdout_path)?)
            .stderr(File::create(&stderr_path)?);
        let proc = Proc::spawn("pjphone.py", &mut cmd)?;
        Ok(PjPhone { proc, stdout_path, stderr_path, dir })
    }

    /// Whether the script is still running.
    pub fn running(&mut self) -> bool {
        self.proc.running()
    }

    /// Its output so far (JSON, if it ended) and the tail of PJSIP's log,
    /// for a failure message.
    pub fn report_so_far(&self) -> String {
        format!("{}\n{}", read_lossy(&self.stdout_path), tail(&read_lossy(&self.stderr_path), 60))
    }

    /// Waits at most `timeout` for it to finish and parses its JSON.
    pub fn wait(mut self, timeout: Duration) -> Result<PjPhoneResult> {
        let status = self.proc.wait_timeout(timeout);
        let out = read_lossy(&self.stdout_path);
        let log = read_lossy(&self.stderr_path);
        let status = status.with_context(|| format!("pjphone.py log:\n{}", tail(&log, 40)))?;
        let line = out.lines().rev().find(|l| l.trim_start().starts_with('{')).ok_or_else(|| {
            anyhow!("pjphone.py printed no JSON (exit {status}); stdout: {out}\nlog:\n{}", tail(&log, 40))
        })?;
        let mut r: PjPhoneResult = serde_json::from_str(line).with_context(|| format!("pjphone.py JSON: {line}"))?;
        r.log = log;
        Ok(r)
    }
}

impl Drop for PjPhone {
    fn drop(&mut self) {
        self.proc.kill();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

// ---------------------------------------------------------------------------
// SIPp
// ---------------------------------------------------------------------------

/// The outcome of a SIPp run.
#[derive(Clone, Debug)]
pub struct SippResult {
    /// Exit code: 0 all calls succeeded, 1 some failed, 97 stopped by an
    /// internal command, 99 no call processed, 255/254 fatal errors;
    /// `None` when killed.
    pub code: Option<i32>,
    /// `SuccessfulCall(C)` from the statistics file.
    pub successful: u64,
    /// `FailedCall(C)`.
    pub failed: u64,
    /// The last row of the statistics CSV (`-trace_stat`), by column.
    pub stats: BTreeMap<String, String>,
    /// SIPp's stdout and stderr.
    pub output: String,
    /// Unexpected messages (`-trace_err`).
    pub errors: String,
    /// Its working directory (logs, `-trace_msg` output).
    pub dir: PathBuf,
}

/// SIPp running in the background (e.g. a UAS while a UAC runs).
pub struct SippProc {
    proc: Proc,
    dir: PathBuf,
    output_path: PathBuf,
    /// Its SIP port on 127.0.0.1.
    pub port: u16,
}

impl SippProc {
    /// Starts `sipp ARGS` with `-i 127.0.0.1 -mi 127.0.0.1`, a free SIP port
    /// (unless ARGS has `-p`), free media ports (unless `-mp`), `-nostdin`,
    /// statistics to a CSV and unexpected messages to a log, in a fresh
    /// working directory. Give `-m` and/or `-timeout` to bound it.
    pub fn spawn(args: &[&str]) -> Result<SippProc> {
        assert_loopback_args(args);
        let dir = temp_dir("sipp");
        let port = match args.iter().position(|a| *a == "-p") {
            Some(i) => args.get(i + 1).and_then(|p| p.parse().ok()).context("-p needs a port")?,
            None => free_udp_port(),
        };
        let output_path = dir.join("sipp.out");
        let out = File::create(&output_path)?;
        let mut cmd = Command::new("sipp");
        cmd.current_dir(&dir).args(args).args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-nostdin"]);
        if !args.contains(&"-p") {
            cmd.args(["-p", &port.to_string()]);
        }
        if !args.contains(&"-mp") {
            cmd.args(["-mp", &free_port_block(4).to_string()]);
        }
        cmd.args(["-trace_stat", "-stf", "stat.csv", "-fd", "1", "-trace_err", "-error_file", "errors.log"])
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        let proc = Proc::spawn("sipp", &mut cmd)?;
        Ok(SippProc { proc, dir, output_path, port })
    }

    /// Waits at most `timeout` (killed after that, `code` None) and reads
    /// the statistics.
    pub fn wait(mut self, timeout: Duration) -> Result<SippResult> {
        let code = match self.proc.wait_timeout(timeout) {
            Ok(st) => st.code(),
            Err(_) => None,
        };
        let stats_text = read_lossy(&self.dir.join("stat.csv"));
        let mut lines = stats_text.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<&str> = lines.next().unwrap_or_default().split(';').collect();
        let last: Vec<&str> = lines.next_back().unwrap_or_default().split(';').collect();
        let stats: BTreeMap<String, String> =
            header.iter().zip(last.iter()).map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let num = |k: &str| stats.get(k).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
        Ok(SippResult {
            code,
            successful: num("SuccessfulCall(C)"),
            failed: num("FailedCall(C)"),
            output: read_lossy(&self.output_path),
            errors: read_lossy(&self.dir.join("errors.log")),
            dir: self.dir.clone(),
            stats,
        })
    }

    /// Stops it now (SIGTERM, then SIGKILL after 2 s).
    pub fn stop(mut self) -> SippResult {
        self.proc.terminate(Duration::from_secs(2));
        self.wait(Duration::from_secs(1)).expect("sipp result")
    }
}

/// Runs `sipp ARGS` to the end (see [`SippProc::spawn`]), killing it after
/// `timeout`.
pub fn sipp(args: &[&str], timeout: Duration) -> Result<SippResult> {
    SippProc::spawn(args)?.wait(timeout)
}
