//! Prompts: the clips of the IVR catalog as 8 kHz samples, read from
//! `<dir>/<lang>/<name>.wav` and kept in memory once read, and the
//! generator that makes the default set with espeak-ng and sox (no
//! third-party audio ships with Switchboard). Music on hold is synthesised.

use ivr::Sound;
use ivr::prompts::{CATALOG, Lang};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::leg::Piece;

type ClipCache = HashMap<(Lang, String), Arc<[i16]>>;

/// Clips by language and name.
pub struct Prompts {
    dir: PathBuf,
    cache: Mutex<ClipCache>,
    music: Arc<[i16]>,
}

impl Prompts {
    /// Prompts read from `dir`.
    pub fn new(dir: PathBuf) -> Prompts {
        Prompts { dir, cache: Mutex::new(HashMap::new()), music: media::tones::music_on_hold(30).into() }
    }

    /// The prompt directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Music on hold (a loop).
    pub fn music(&self) -> Arc<[i16]> {
        self.music.clone()
    }

    /// One clip; a clip that is missing or unreadable plays as a short
    /// beep (and is logged once) so the caller is never left in silence
    /// waiting for a prompt that cannot come.
    pub fn clip(&self, lang: Lang, name: &str) -> Arc<[i16]> {
        let key = (lang, name.to_string());
        if let Some(c) = self.cache.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return c.clone();
        }
        let path = self.dir.join(lang.code()).join(format!("{name}.wav"));
        let clip: Arc<[i16]> = match std::fs::File::open(&path)
            .map_err(|e| e.to_string())
            .and_then(|f| media::wav::read_wav_mono_8k(std::io::BufReader::new(f)).map_err(|e| e.to_string()))
        {
            Ok(samples) => samples.into(),
            Err(e) => {
                tracing::warn!("prompt {} unusable ({e}); a beep plays instead", path.display());
                media::tones::beep(200, 880.0).into()
            }
        };
        self.cache.lock().unwrap_or_else(PoisonError::into_inner).insert(key, clip.clone());
        clip
    }

    /// The pieces of an IVR playback.
    pub fn pieces(&self, sounds: &[Sound]) -> Vec<Piece> {
        sounds
            .iter()
            .map(|s| match s {
                Sound::Clip(c) => Piece::Audio(self.clip(c.lang, &c.name)),
                Sound::Silence { ms } => Piece::Silence(*ms),
            })
            .collect()
    }

    /// Forget cached clips (after the files were regenerated).
    pub fn reload(&self) {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

/// Whether every clip of the catalog exists in `dir`.
pub fn complete(dir: &Path) -> bool {
    CATALOG
        .iter()
        .all(|p| [Lang::Zh, Lang::En].iter().all(|l| dir.join(l.code()).join(format!("{}.wav", p.name)).is_file()))
}

/// Why the prompt set could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// A tool is missing.
    #[error("{0} is not installed (Debian packages espeak-ng and sox)")]
    Missing(&'static str),
    /// A tool failed.
    #[error("{tool} failed for {clip}: {message}")]
    Failed {
        /// Tool.
        tool: &'static str,
        /// Clip.
        clip: String,
        /// Its error output.
        message: String,
    },
    /// Files.
    #[error("prompt directory: {0}")]
    Io(#[from] std::io::Error),
}

fn voice(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "cmn",
        Lang::En => "en-us",
    }
}

/// Synthesise every clip of the catalog into `dir/<lang>/<name>.wav`
/// (8 kHz mono 16-bit). Existing files are kept unless `overwrite`.
/// Returns how many files were written.
pub async fn generate(dir: &Path, overwrite: bool) -> Result<usize, GenerateError> {
    for (tool, arg) in [("espeak-ng", "--version"), ("sox", "--version")] {
        let ok = tokio::process::Command::new(tool).arg(arg).output().await.is_ok_and(|o| o.status.success());
        if !ok {
            return Err(GenerateError::Missing(tool));
        }
    }
    let mut written = 0;
    for lang in [Lang::Zh, Lang::En] {
        let sub = dir.join(lang.code());
        tokio::fs::create_dir_all(&sub).await?;
        for p in CATALOG {
            let out = sub.join(format!("{}.wav", p.name));
            if !overwrite && out.is_file() {
                continue;
            }
            // Private temporary names, renamed into place when complete: two
            // generators running at once never see each other's halves.
            let tag = format!("{}-{}", std::process::id(), crate::leg::now_wall_ms());
            let raw = sub.join(format!(".{}.{tag}.raw.wav", p.name));
            let part = sub.join(format!(".{}.{tag}.part.wav", p.name));
            let speed = if lang == Lang::Zh { "150" } else { "160" };
            let o = tokio::process::Command::new("espeak-ng")
                .args(["-v", voice(lang), "-s", speed, "-w"])
                .arg(&raw)
                .arg(p.text(lang))
                .output()
                .await?;
            if !o.status.success() {
                return Err(GenerateError::Failed {
                    tool: "espeak-ng",
                    clip: p.name.into(),
                    message: String::from_utf8_lossy(&o.stderr).into(),
                });
            }
            // Telephone band: 8 kHz mono 16-bit, a little quieter than full
            // scale so G.711 does not clip, with a short fade at each end.
            let o = tokio::process::Command::new("sox")
                .arg(&raw)
                .args(["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"])
                .arg(&part)
                .args(["gain", "-n", "-3", "fade", "0.01", "0", "0.01"])
                .output()
                .await?;
            let _ = tokio::fs::remove_file(&raw).await;
            if !o.status.success() {
                let _ = tokio::fs::remove_file(&part).await;
                return Err(GenerateError::Failed {
                    tool: "sox",
                    clip: p.name.into(),
                    message: String::from_utf8_lossy(&o.stderr).into(),
                });
            }
            tokio::fs::rename(&part, &out).await?;
            written += 1;
        }
    }
    Ok(written)
}
