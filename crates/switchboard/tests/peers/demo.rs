//! `switchboard demo` with telephony as the SIP tests' server, and the
//! prompt set it plays (generated once per target directory).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// The prompt set, generated once per test binary (its tests run at the
/// same time) and kept in the target directory between runs.
pub fn prompts() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = super::repo_root().join("target").join("test-prompts");
        let out = Command::new(BIN).args(["prompts", "--dir"]).arg(&dir).output().expect("switchboard prompts runs");
        assert!(out.status.success(), "prompts: {}", String::from_utf8_lossy(&out.stderr));
        dir
    })
    .clone()
}

/// A running `switchboard demo` with telephony and no simulated agents;
/// killed on drop. `SWITCHBOARD_TEST_LOG` sets its log filter.
pub struct Demo {
    child: Child,
    /// The HTTP address.
    pub http: SocketAddr,
    /// The SIP address.
    pub sip: SocketAddr,
    /// The SIP-over-TLS address, when started with `--sip-tls`.
    pub tls: Option<SocketAddr>,
}

impl Demo {
    /// Start on a fresh data directory and wait for both addresses.
    pub fn start(data: &Path, prompts: &Path) -> Demo {
        Demo::start_with(data, prompts, &[])
    }

    /// [`Demo::start`] with extra flags (e.g. `--sip-tls …`).
    pub fn start_with(data: &Path, prompts: &Path, extra: &[&str]) -> Demo {
        let mut child = Command::new(BIN)
            .args(["demo", "--fresh", "--agents", "0", "--calls-per-minute", "0.0001"])
            .args(["--listen", "127.0.0.1:0", "--sip", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .arg("--prompts")
            .arg(prompts)
            .args(extra)
            .env("RUST_LOG", std::env::var("SWITCHBOARD_TEST_LOG").unwrap_or_else(|_| "error".into()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (mut http, mut sip, mut tls) = (None, None, None);
        let deadline = Instant::now() + Duration::from_secs(60);
        while http.is_none() || sip.is_none() {
            assert!(Instant::now() < deadline, "the demo did not start within 60 s");
            let mut line = String::new();
            assert!(out.read_line(&mut line).unwrap() > 0, "the demo exited: {:?}", child.wait());
            if let Some(rest) = line.strip_prefix("SIP on ") {
                sip = rest.split_whitespace().next().and_then(|a| a.parse().ok());
            }
            if let Some(rest) = line.strip_prefix("SIP over TLS on ") {
                tls = rest.split_whitespace().next().and_then(|a| a.parse().ok());
            }
            if let Some(i) = line.find("at http://") {
                http = line[i + 10..].trim().trim_end_matches('/').parse().ok();
            }
        }
        // Keep reading so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while out.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        Demo { child, http: http.unwrap(), sip: sip.unwrap(), tls }
    }

    /// The process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Resident memory in kB (Linux).
    pub fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
