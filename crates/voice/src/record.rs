//! A call's recording shared by its two legs: the caller's leg writes
//! channel 0, the agent's leg channel 1, both on the wall clock.

use media::recorder::{RecordingInfo, StereoRecorder};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// Channel of the caller.
pub const CALLER: usize = 0;
/// Channel of the agent.
pub const AGENT: usize = 1;

type Inner = Option<StereoRecorder<BufWriter<File>>>;

/// A recording in progress; cheap to clone.
#[derive(Clone)]
pub struct SharedRecorder {
    inner: Arc<Mutex<Inner>>,
    path: Arc<PathBuf>,
}

impl SharedRecorder {
    /// Create the file and start recording at `start_ms`.
    pub fn create(path: &Path, start_ms: u64) -> std::io::Result<SharedRecorder> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = BufWriter::new(File::create(path)?);
        Ok(SharedRecorder {
            inner: Arc::new(Mutex::new(Some(StereoRecorder::new(file, start_ms)))),
            path: Arc::new(path.to_path_buf()),
        })
    }

    /// Where the recording is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Place received audio of one party.
    pub fn push(&self, channel: usize, arrival_ms: u64, rtp_timestamp: u32, pcm: &[i16]) {
        if let Some(r) = self.inner.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            r.push(channel, arrival_ms, rtp_timestamp, pcm);
        }
    }

    /// Time passed: write out what is older than the reorder window.
    pub fn tick(&self, now_ms: u64) {
        if let Some(r) = self.inner.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            r.tick(now_ms);
        }
    }

    /// A party's stream restarted (new SSRC after a re-INVITE or transfer).
    pub fn reanchor(&self, channel: usize) {
        if let Some(r) = self.inner.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            r.reanchor(channel);
        }
    }

    /// Stop at `end_ms`: pad both channels to the call's length and close the
    /// file. Later pushes are ignored; a second finish returns `None`.
    pub fn finish(&self, end_ms: u64) -> Option<Result<RecordingInfo, media::MediaError>> {
        let r = self.inner.lock().unwrap_or_else(PoisonError::into_inner).take()?;
        Some(r.finish(end_ms))
    }
}
