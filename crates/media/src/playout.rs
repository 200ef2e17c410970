//! The sending side of a leg: a queue of clips (prompts, generated tones) and silences
//! played out as 20 ms frames of 160 samples, with a looping clip (music on hold)
//! filling in when the queue is empty.
//!
//! Every play request gets a [`PlayToken`]. When its last sample has gone out in a
//! frame, the token shows up in [`Player::finished_tokens`]; a request removed by
//! [`Player::clear`] (barge-in) is returned by `clear` instead. Either way each
//! token comes back exactly once, so the IVR can emit one "PlaybackDone" per request.

use std::collections::VecDeque;
use std::sync::Arc;

/// Samples per 20 ms frame at 8 kHz.
pub const FRAME: usize = 160;

/// Identifies one play request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlayToken(pub u64);

#[derive(Debug)]
enum Source {
    Clip(Arc<[i16]>),
    Silence,
}

#[derive(Debug)]
struct Item {
    token: PlayToken,
    source: Source,
    len: usize,
    pos: usize,
}

/// Plays queued clips and silences as 20 ms frames, then a looping clip if one is set.
#[derive(Debug, Default)]
pub struct Player {
    queue: VecDeque<Item>,
    looping: Option<(Arc<[i16]>, usize)>,
    finished: Vec<PlayToken>,
    next_token: u64,
}

impl Player {
    /// An idle player with nothing queued and no loop.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, source: Source, len: usize) -> PlayToken {
        let token = PlayToken(self.next_token);
        self.next_token += 1;
        self.queue.push_back(Item { token, source, len, pos: 0 });
        token
    }

    /// Queues a clip (8 kHz samples); returns its token. Clips play back to back, without gaps.
    pub fn enqueue(&mut self, clip: Arc<[i16]>) -> PlayToken {
        let len = clip.len();
        self.push(Source::Clip(clip), len)
    }

    /// Queues `ms` milliseconds of silence (a pause between prompts); returns its token.
    pub fn enqueue_silence(&mut self, ms: u32) -> PlayToken {
        self.push(Source::Silence, ms as usize * 8)
    }

    /// Removes everything queued (the loop stays) and returns the tokens of the requests
    /// that will now never finish, in queue order (the one playing first).
    pub fn clear(&mut self) -> Vec<PlayToken> {
        self.queue.drain(..).map(|item| item.token).collect()
    }

    /// Sets (or with `None` removes) the clip played in a loop whenever the queue is empty,
    /// e.g. music on hold. It restarts from its beginning. An empty clip counts as `None`.
    pub fn set_loop(&mut self, clip: Option<Arc<[i16]>>) {
        self.looping = clip.filter(|c| !c.is_empty()).map(|c| (c, 0));
    }

    /// True when a loop clip is set.
    pub fn is_looping(&self) -> bool {
        self.looping.is_some()
    }

    /// True when no play request is queued or playing (a loop may still be sounding).
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    /// Milliseconds of queued audio not yet played (the loop excluded).
    pub fn remaining_ms(&self) -> u64 {
        self.queue.iter().map(|i| (i.len - i.pos) as u64).sum::<u64>() / 8
    }

    /// Takes the tokens of the requests that finished playing since the last call, in order.
    pub fn finished_tokens(&mut self) -> Vec<PlayToken> {
        std::mem::take(&mut self.finished)
    }

    /// Fills `out` with the next 20 ms. Returns false when nothing is playing (queue empty, no
    /// loop): `out` is then all zeros. A clip's end is followed immediately by the next queued
    /// item, then by the loop; only when nothing follows is the frame padded with silence.
    pub fn next_frame(&mut self, out: &mut [i16; FRAME]) -> bool {
        let mut filled = 0;
        let mut sounding = false;
        while filled < FRAME {
            if let Some(item) = self.queue.front_mut() {
                let n = (item.len - item.pos).min(FRAME - filled);
                match &item.source {
                    Source::Clip(clip) => out[filled..filled + n].copy_from_slice(&clip[item.pos..item.pos + n]),
                    Source::Silence => out[filled..filled + n].fill(0),
                }
                item.pos += n;
                filled += n;
                sounding |= n > 0;
                if item.pos == item.len {
                    self.finished.push(item.token);
                    self.queue.pop_front();
                }
            } else if let Some((clip, pos)) = self.looping.as_mut() {
                let n = (clip.len() - *pos).min(FRAME - filled);
                out[filled..filled + n].copy_from_slice(&clip[*pos..*pos + n]);
                *pos = (*pos + n) % clip.len();
                filled += n;
                sounding = true;
            } else {
                break;
            }
        }
        out[filled..].fill(0);
        sounding
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(v: i16, n: usize) -> Arc<[i16]> {
        vec![v; n].into()
    }

    #[test]
    fn queue_plays_back_to_back_and_reports_completion() {
        let mut p = Player::new();
        let mut f = [9i16; FRAME];
        assert!(!p.next_frame(&mut f));
        assert_eq!(f, [0; FRAME]);
        assert!(p.is_idle());
        let a = p.enqueue(clip(1, 200));
        let s = p.enqueue_silence(10);
        let b = p.enqueue(clip(2, 100));
        assert_eq!(p.remaining_ms(), (200 + 80 + 100) / 8);
        assert!(p.next_frame(&mut f));
        assert_eq!(f, [1; FRAME]);
        assert!(p.finished_tokens().is_empty());
        assert!(p.next_frame(&mut f));
        assert_eq!(&f[..40], &[1; 40]);
        assert_eq!(&f[40..120], &[0; 80]);
        assert_eq!(&f[120..], &[2; 40]);
        assert_eq!(p.finished_tokens(), vec![a, s]);
        assert!(p.next_frame(&mut f));
        assert_eq!(&f[..60], &[2; 60]);
        assert_eq!(&f[60..], &[0; 100], "last partial frame padded");
        assert_eq!(p.finished_tokens(), vec![b]);
        assert!(p.is_idle());
        assert!(!p.next_frame(&mut f));
        assert!(p.finished_tokens().is_empty());
    }

    #[test]
    fn clear_returns_unfinished_and_loop_fills_in() {
        let mut p = Player::new();
        let mut f = [0i16; FRAME];
        p.set_loop(Some((0..100).collect::<Vec<i16>>().into()));
        assert!(p.is_idle() && p.is_looping());
        assert!(p.next_frame(&mut f));
        assert_eq!(f[99], 99);
        assert_eq!(f[100], 0);
        assert_eq!(f[159], 59);
        let a = p.enqueue(clip(5, 320));
        let b = p.enqueue(clip(6, 320));
        p.next_frame(&mut f);
        assert_eq!(f, [5; FRAME]);
        assert_eq!(p.clear(), vec![a, b]);
        assert!(p.finished_tokens().is_empty());
        // Back to the loop where it left off.
        p.next_frame(&mut f);
        assert_eq!(f[0], 60);
        p.set_loop(None);
        assert!(!p.next_frame(&mut f));
        p.set_loop(Some(clip(1, 0)));
        assert!(!p.is_looping());
    }

    #[test]
    fn empty_clips_finish_and_tokens_are_unique() {
        let mut p = Player::new();
        let a = p.enqueue(clip(1, 0));
        let b = p.enqueue_silence(0);
        assert_ne!(a, b);
        let mut f = [0i16; FRAME];
        assert!(!p.next_frame(&mut f));
        assert_eq!(p.finished_tokens(), vec![a, b]);
        assert!(p.is_idle());
    }
}
