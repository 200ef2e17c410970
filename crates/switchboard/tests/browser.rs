//! The agent desktop, the wallboard, the telephony and IVR administration
//! and the call and survey reports in real Chromium: runs
//! `tests/browser/desktop.mjs` (playwright-core driving Debian's Chromium)
//! against `switchboard demo` with telephony on a free local SIP port. Needs `node`, `/usr/bin/chromium` and
//! `npm ci` in `tests/browser` (`.ci/run` does all three); without them the
//! test says why it skipped, and under `CI` it fails instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

struct Killed(Child, PathBuf);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn missing(root: &Path) -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!("{chromium} not found (apt-get install chromium)"));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node not found".into());
    }
    if !root.join("tests/browser/node_modules/playwright-core").exists() {
        return Some("playwright-core not installed (cd tests/browser && npm ci)".into());
    }
    None
}

#[test]
fn agent_desktop_and_wallboard_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if let Some(why) = missing(&root) {
        assert!(std::env::var_os("CI").is_none(), "browser test cannot run under CI: {why}");
        eprintln!("browser test SKIPPED: {why}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("switchboard-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--agents",
            "0",
            "--calls-per-minute",
            "0.001",
            "--sip",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let guard = Killed(child, dir);
    let mut url = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(at) = line.find("http://") {
            url = Some(line[at..].trim_end_matches('/').to_string());
            break;
        }
    }
    let url = url.expect("the demo printed no URL");
    let shots = root.join("target/browser-artifacts");
    let status =
        Command::new("node").arg(root.join("tests/browser/desktop.mjs")).arg(&url).arg(&shots).status().unwrap();
    drop(guard);
    assert!(status.success(), "the browser test failed (screenshots in {})", shots.display());
    for shot in ["agent-offer.png", "wallboard.png", "admin-telephony.png", "admin-ivr.png", "reports-calls-survey.png"]
    {
        assert!(shots.join(shot).exists(), "{shot} missing");
    }
}
