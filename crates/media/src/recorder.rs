//! Two-channel call recording: channel 0 the caller, channel 1 the agent, written as
//! an 8 kHz 16-bit stereo WAV file while the call goes on.
//!
//! Samples are placed by RTP timestamp, not by arrival: each channel's first packet
//! is anchored at its arrival time (relative to the recording's start), later packets
//! at the anchor plus their timestamp difference. So lost packets, silence
//! suppression and hold become silence, and a reordered packet still lands in its
//! place as long as it arrives within the reorder window. Everything older than the
//! window (measured on the arrival clock) is written out, so memory stays bounded
//! whatever the call's length.
//!
//! Re-anchoring: a timestamp that lands more than [`REANCHOR_AHEAD_MS`] ahead of its
//! arrival time (a new SSRC, a timestamp jump after a re-INVITE) re-anchors the
//! channel at the arrival time; so does a run of packets all too late to place that
//! lasts [`REANCHOR_LATE_MS`] of arrival time. Small steady drift between the sender's
//! clock and ours is absorbed by nudging the anchor a few samples at a time. The
//! consumer should also call [`StereoRecorder::reanchor`] when it sees the SSRC change.
//!
//! Write errors do not interrupt the call: [`push`](StereoRecorder::push) never fails;
//! the first error is kept, later audio is discarded, and
//! [`finish`](StereoRecorder::finish) returns the error.

use std::collections::VecDeque;
use std::io::{Seek, SeekFrom, Write};

use crate::MediaError;
use crate::wav::{HEADER_LEN, write_header};

/// Channel of the caller's audio.
pub const CALLER: usize = 0;
/// Channel of the agent's audio.
pub const AGENT: usize = 1;
/// Sample rate of the recording.
pub const RATE: u32 = 8000;
/// Default reorder window: audio stays in memory this long (arrival time) before it is written.
pub const DEFAULT_WINDOW_MS: u64 = 200;
/// A packet placed more than this ahead of its arrival time re-anchors its channel.
pub const REANCHOR_AHEAD_MS: i64 = 1000;
/// A packet placed more than this ahead of its arrival (but within [`REANCHOR_AHEAD_MS`])
/// pulls the anchor back to this offset (sender clock running fast).
pub const NUDGE_AHEAD_MS: i64 = 400;
/// Packets too late to place for this long (arrival time) re-anchor their channel. A burst
/// of stale packets after a network stall arrives within a few milliseconds and is dropped;
/// a sender whose timestamps fell behind for good (resuming after hold without advancing
/// them) is re-anchored after this much audio.
pub const REANCHOR_LATE_MS: u64 = 300;

/// A packet late by at most this many frames shifts its channel's anchor instead of losing samples.
const DRIFT_SLIP_FRAMES: i64 = 16;
const FRAMES_PER_MS: i64 = (RATE / 1000) as i64;
/// Frames converted and written per `write_all`.
const WRITE_CHUNK_FRAMES: usize = 1024;

/// A summary of a finished recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordingInfo {
    /// Frames written (one sample per channel each) = duration × 8000.
    pub frames: u64,
    /// Duration in milliseconds (end − start).
    pub duration_ms: u64,
    /// Audio samples placed per channel (a duplicate packet counts again; the rest is silence).
    pub samples: [u64; 2],
    /// Samples per channel that arrived too late to be placed (already written out).
    pub late_samples: [u64; 2],
    /// Times each channel was re-anchored (automatically or by [`StereoRecorder::reanchor`]).
    pub reanchors: [u32; 2],
    /// Size of the file in bytes, header included.
    pub file_bytes: u64,
}

/// How one channel maps RTP timestamps to frame positions.
#[derive(Clone, Copy, Debug)]
struct Anchor {
    /// A timestamp and the frame position it maps to (updated to the latest packet placed,
    /// so 32-bit wrap-around is followed).
    ts: u32,
    pos: i64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Channel {
    anchor: Option<Anchor>,
    /// Arrival time of the first of a run of packets too late to place.
    late_since: Option<u64>,
    samples: u64,
    late_samples: u64,
    reanchors: u32,
}

/// A stereo call recorder writing a WAV file as the call goes on.
pub struct StereoRecorder<W: Write + Seek> {
    writer: W,
    start_ms: u64,
    window_frames: i64,
    /// Frames already written to the file.
    written: i64,
    /// Frames from `written` on, not yet written (index 0 = frame `written`).
    pending: VecDeque<[i16; 2]>,
    channels: [Channel; 2],
    /// Latest arrival time seen, in frames since start.
    now: i64,
    header_written: bool,
    scratch: Vec<u8>,
    error: Option<MediaError>,
}

impl<W: Write + Seek> StereoRecorder<W> {
    /// A recorder whose frame 0 is at `start_ms` (the media task's clock). The WAV header is
    /// written with the first audio; the writer should be positioned at its start.
    pub fn new(writer: W, start_ms: u64) -> Self {
        Self::with_window(writer, start_ms, DEFAULT_WINDOW_MS)
    }

    /// A recorder with a different reorder window (the default is 200 ms).
    pub fn with_window(writer: W, start_ms: u64, window_ms: u64) -> Self {
        StereoRecorder {
            writer,
            start_ms,
            window_frames: (window_ms.min(60_000) as i64) * FRAMES_PER_MS,
            written: 0,
            pending: VecDeque::new(),
            channels: [Channel::default(); 2],
            now: 0,
            header_written: false,
            scratch: Vec::new(),
            error: None,
        }
    }

    fn frames_at(&self, ms: u64) -> i64 {
        (ms as i64).saturating_sub(self.start_ms as i64).saturating_mul(FRAMES_PER_MS)
    }

    /// Adds one packet's decoded samples to `channel` ([`CALLER`] or [`AGENT`]; other values
    /// are ignored). `arrival_ms` is the media task's clock; `rtp_timestamp` the packet's.
    /// Also writes out whatever has left the reorder window.
    pub fn push(&mut self, channel: usize, arrival_ms: u64, rtp_timestamp: u32, pcm: &[i16]) {
        if channel > 1 {
            return;
        }
        let arrival = self.frames_at(arrival_ms);
        self.now = self.now.max(arrival);
        // Write out what left the window first: a packet is placeable iff it is still open.
        self.flush_to(self.now - self.window_frames);
        let len = pcm.len() as i64;
        let ch = &mut self.channels[channel];
        let mut pos = match ch.anchor {
            None => arrival,
            Some(a) => a.pos + i64::from(rtp_timestamp.wrapping_sub(a.ts) as i32),
        };
        let ahead = pos - arrival;
        if ch.anchor.is_some() && ahead > REANCHOR_AHEAD_MS * FRAMES_PER_MS {
            pos = arrival;
            ch.reanchors += 1;
        } else if ahead > NUDGE_AHEAD_MS * FRAMES_PER_MS {
            pos = arrival + NUDGE_AHEAD_MS * FRAMES_PER_MS;
        }
        if pos < self.written {
            let late_by = self.written - pos;
            if ch.anchor.is_none() || late_by <= DRIFT_SLIP_FRAMES {
                // First packet, or a slip of a few samples (the sender's clock slower than
                // ours): shift the anchor so the packet starts at the first open frame.
                pos = self.written;
            } else {
                let since = *ch.late_since.get_or_insert(arrival_ms);
                if arrival_ms.saturating_sub(since) >= REANCHOR_LATE_MS {
                    pos = arrival.max(self.written);
                    ch.reanchors += 1;
                } else {
                    let dropped = late_by.min(len);
                    ch.late_samples += dropped as u64;
                    if dropped == len {
                        return;
                    }
                    // The tail is still open: the part before `written` is lost.
                }
            }
        }
        ch.late_since = None;
        ch.anchor = Some(Anchor { ts: rtp_timestamp, pos });
        let skip = (self.written - pos).clamp(0, len);
        ch.samples += (len - skip) as u64;
        if self.error.is_none() {
            let first = pos + skip - self.written; // index into pending
            let end = (pos + len - self.written) as usize;
            if self.pending.len() < end {
                self.pending.resize(end, [0, 0]);
            }
            for (slot, &s) in self.pending.range_mut(first as usize..end).zip(&pcm[skip as usize..]) {
                slot[channel] = s;
            }
        }
    }

    /// Tells the recorder time has passed (call it on the media tick): writes out everything
    /// older than the reorder window, silence included, even when no packets arrive.
    pub fn tick(&mut self, now_ms: u64) {
        self.now = self.now.max(self.frames_at(now_ms));
        self.flush_to(self.now - self.window_frames);
    }

    /// Forgets `channel`'s anchor: its next packet is placed at its arrival time. Call it when
    /// the channel's SSRC changes (re-INVITE, transfer).
    pub fn reanchor(&mut self, channel: usize) {
        if let Some(ch) = self.channels.get_mut(channel) {
            ch.late_since = None;
            if ch.anchor.take().is_some() {
                ch.reanchors += 1;
            }
        }
    }

    /// The first write error, if any (the recording continues in memory-safe degraded mode).
    pub fn error(&self) -> Option<&MediaError> {
        self.error.as_ref()
    }

    /// Approximate heap and inline memory held by the recorder (the writer's own buffers excluded).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.pending.capacity() * 4 + self.scratch.capacity()
    }

    /// Writes frames up to (excluding) frame `target`: pending audio first, then silence.
    fn flush_to(&mut self, target: i64) {
        if target <= self.written {
            return;
        }
        if self.error.is_some() {
            let n = ((target - self.written) as usize).min(self.pending.len());
            self.pending.drain(..n);
            self.written = target;
            return;
        }
        if let Err(e) = self.write_frames(target) {
            self.error = Some(e);
            self.pending.clear();
            self.written = target;
        }
        // Keep memory bounded after a burst: give back capacity far above what is in use.
        if self.pending.capacity() > 4 * (self.pending.len() + self.window_frames as usize) {
            self.pending.shrink_to(2 * (self.pending.len() + self.window_frames as usize));
        }
    }

    fn write_frames(&mut self, target: i64) -> Result<(), MediaError> {
        if !self.header_written {
            write_header(&mut self.writer, 2, RATE, None)?;
            self.header_written = true;
        }
        while self.written < target {
            let n = ((target - self.written) as usize).min(WRITE_CHUNK_FRAMES);
            self.scratch.clear();
            let from_pending = n.min(self.pending.len());
            for [a, b] in self.pending.drain(..from_pending) {
                self.scratch.extend_from_slice(&a.to_le_bytes());
                self.scratch.extend_from_slice(&b.to_le_bytes());
            }
            self.scratch.resize(n * 4, 0);
            self.writer.write_all(&self.scratch)?;
            self.written += n as i64;
        }
        Ok(())
    }

    /// Ends the recording at `end_ms`: both channels are padded (or cut) to exactly
    /// (end − start) × 8 frames, the header gets its sizes, and the writer is flushed.
    pub fn finish(self, end_ms: u64) -> Result<RecordingInfo, MediaError> {
        self.finish_into(end_ms).map(|(info, _)| info)
    }

    /// Like [`finish`](Self::finish), also giving the writer back.
    pub fn finish_into(mut self, end_ms: u64) -> Result<(RecordingInfo, W), MediaError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let duration_ms = end_ms.saturating_sub(self.start_ms);
        let frames = duration_ms * RATE as u64 / 1000;
        let data_bytes = u32::try_from(frames * 4).map_err(|_| MediaError::TooLong)?;
        if (frames as i64) < self.written {
            // Already wrote past the end (end_ms earlier than the media clock): cut the file.
            self.writer.seek(SeekFrom::Start(HEADER_LEN + frames * 4))?;
        } else {
            self.pending.truncate((frames as i64 - self.written) as usize);
            self.write_frames(frames as i64)?;
        }
        self.writer.seek(SeekFrom::Start(0))?;
        write_header(&mut self.writer, 2, RATE, Some(data_bytes))?;
        self.writer.seek(SeekFrom::Start(HEADER_LEN + frames * 4))?;
        self.writer.flush()?;
        let info = RecordingInfo {
            frames,
            duration_ms,
            samples: [self.channels[0].samples, self.channels[1].samples],
            late_samples: [self.channels[0].late_samples, self.channels[1].late_samples],
            reanchors: [self.channels[0].reanchors, self.channels[1].reanchors],
            file_bytes: HEADER_LEN + frames * 4,
        };
        Ok((info, self.writer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wav::{read_wav, read_wav_info};
    use std::io::Cursor;

    fn ramp(start: i16, n: usize) -> Vec<i16> {
        (0..n).map(|i| start + i as i16).collect()
    }

    fn channel(samples: &[i16], c: usize) -> Vec<i16> {
        samples.chunks(2).map(|f| f[c]).collect()
    }

    fn finish(rec: StereoRecorder<Cursor<Vec<u8>>>, end: u64) -> (RecordingInfo, Vec<i16>) {
        let (info, file) = rec.finish_into(end).unwrap();
        let (wi, samples) = read_wav(&file.get_ref()[..]).unwrap();
        assert_eq!((wi.channels, wi.sample_rate, wi.bits_per_sample, wi.frames), (2, 8000, 16, info.frames));
        assert_eq!(read_wav_info(&file.get_ref()[..]).unwrap().frames, info.frames);
        (info, samples)
    }

    #[test]
    fn placement_by_timestamp() {
        let mut rec = StereoRecorder::new(Cursor::new(Vec::new()), 10_000);
        // Caller's first packet arrives 100 ms after start, timestamps from 5000.
        rec.push(CALLER, 10_100, 5000, &ramp(1, 160));
        // Packet 5160 lost; 5320 arrives, then 5480 before a late 5640... reordered.
        rec.push(CALLER, 10_140, 5320, &ramp(1000, 160));
        rec.push(CALLER, 10_180, 5640, &ramp(3000, 160));
        rec.push(CALLER, 10_185, 5480, &ramp(2000, 160));
        // Agent independent, own timestamps.
        rec.push(AGENT, 10_050, 77, &[500; 80]);
        let (info, s) = finish(rec, 11_000);
        assert_eq!(info.frames, 8000);
        let c = channel(&s, CALLER);
        assert_eq!(&c[800..960], &ramp(1, 160)[..]);
        assert!(c[960..1120].iter().all(|&x| x == 0), "lost packet is silence");
        assert_eq!(&c[1120..1280], &ramp(1000, 160)[..]);
        assert_eq!(&c[1280..1440], &ramp(2000, 160)[..]);
        assert_eq!(&c[1440..1600], &ramp(3000, 160)[..]);
        assert!(c[1600..].iter().all(|&x| x == 0));
        let a = channel(&s, AGENT);
        assert!(a[400..480].iter().all(|&x| x == 500));
        assert_eq!(a.iter().filter(|&&x| x != 0).count(), 80);
        assert_eq!(info.samples, [640, 80]);
    }

    #[test]
    fn exact_length_long_call_bounded_memory() {
        let mut rec = StereoRecorder::new(Cursor::new(Vec::new()), 0);
        let mut max_mem = 0;
        let pcm = [100i16; 160];
        for i in 0..3000u64 {
            // 60 s of 20 ms packets on both channels, with ±15 ms jitter and a 32-bit wrap.
            let jitter = (i * 7919) % 31;
            rec.push(CALLER, 20 + i * 20 + jitter, (u32::MAX - 8000).wrapping_add(i as u32 * 160), &pcm);
            rec.push(AGENT, 25 + i * 20 + (jitter * 3) % 31, 12345 + i as u32 * 160, &pcm);
            rec.tick(i * 20);
            max_mem = max_mem.max(rec.memory_bytes());
        }
        assert!(max_mem <= 16 * 1024, "memory {max_mem}");
        let (info, s) = finish(rec, 60_000);
        assert_eq!(info.frames, 480_000);
        assert_eq!(s.len(), 960_000);
        assert_eq!(info.reanchors, [0, 0]);
        assert_eq!(info.late_samples, [0, 0]);
        let c = channel(&s, CALLER);
        // Everything after the first packet's arrival is audio (no drift, no gaps).
        assert!(c[160..479_000].iter().all(|&x| x == 100));
    }

    #[test]
    fn timestamp_jump_reanchors_and_late_packets_drop() {
        let mut rec = StereoRecorder::new(Cursor::new(Vec::new()), 0);
        rec.push(CALLER, 0, 1000, &[1; 160]);
        rec.push(CALLER, 20, 1160, &[2; 160]);
        // Re-INVITE: timestamps jump by hours; placed at arrival, not hours later.
        rec.push(CALLER, 500, 900_000_000, &[3; 160]);
        rec.push(CALLER, 520, 900_000_160, &[4; 160]);
        // A straggler from before the jump arrives 600 ms late: dropped (already written).
        rec.push(CALLER, 620, 1320, &[9; 160]);
        // A 380 ms stall, then its packets in one burst: those older than the window are
        // dropped, the rest placed, no re-anchoring.
        for k in 0..20 {
            rec.push(CALLER, 900, 900_000_320 + 160 * k, &[8; 160]);
        }
        // Explicit re-anchor for a new SSRC whose timestamps happen to be close.
        rec.reanchor(CALLER);
        rec.push(CALLER, 1000, 900_000_320, &[5; 160]);
        let (info, s) = finish(rec, 1200);
        assert_eq!(info.frames, 9600);
        assert_eq!(info.reanchors, [2, 0]);
        assert_eq!(info.late_samples, [160 + 8 * 160, 0]);
        let c = channel(&s, CALLER);
        assert!(c[0..160].iter().all(|&x| x == 1));
        assert!(c[160..320].iter().all(|&x| x == 2));
        assert!(c[320..4000].iter().all(|&x| x == 0));
        assert!(c[4000..4160].iter().all(|&x| x == 3));
        assert!(c[4160..4320].iter().all(|&x| x == 4));
        assert!(c[8000..8160].iter().all(|&x| x == 5));
        assert!(c[4320..5600].iter().all(|&x| x == 0));
        assert!(c[5600..7360].iter().all(|&x| x == 8));
        assert!(!c.contains(&9));
    }

    #[test]
    fn persistent_lateness_reanchors_and_drift_is_absorbed() {
        let mut rec = StereoRecorder::new(Cursor::new(Vec::new()), 0);
        rec.push(CALLER, 0, 0, &[1; 160]);
        // Timestamps fall 2 s behind (a sender restarting its clock backwards by 2 s).
        for i in 0..60u32 {
            rec.push(CALLER, 3000 + u64::from(i) * 20, (160 + i * 160).wrapping_sub(16000), &[2; 160]);
        }
        let (info, s) = finish(rec, 5000);
        assert_eq!(info.reanchors, [1, 0]);
        assert_eq!(info.late_samples[0], 15 * 160);
        // The run of late packets re-anchored after 300 ms of arrivals: the rest is recorded.
        let c = channel(&s, CALLER);
        assert_eq!(c.iter().filter(|&&x| x == 2).count(), 45 * 160);

        // Sender clock 1 % slow (158 samples per 20 ms): absorbed by nudges, nothing dropped.
        let mut rec = StereoRecorder::new(Cursor::new(Vec::new()), 0);
        for i in 0..2000u32 {
            rec.push(AGENT, u64::from(i) * 20, i * 158, &[3; 158]);
        }
        let (info, s) = finish(rec, 45_000);
        assert_eq!(info.reanchors, [0, 0]);
        assert_eq!(info.late_samples[1], 0);
        assert_eq!(info.samples[1], 316_000);
        assert_eq!(channel(&s, AGENT).iter().filter(|&&x| x == 3).count(), 316_000);
    }

    #[test]
    fn fast_sender_clock_and_hold_without_timestamp_advance() {
        // Sender clock 1 % fast (162 samples per 20 ms) for 60 s: held at most 400 ms ahead.
        let mut rec = StereoRecorder::new(Cursor::new(Vec::new()), 0);
        let mut max_mem = 0;
        for i in 0..3000u32 {
            rec.push(CALLER, u64::from(i) * 20, i * 162, &[4; 162]);
            max_mem = max_mem.max(rec.memory_bytes());
        }
        assert!(max_mem <= 32 * 1024, "memory {max_mem}");
        // Then hold: 10 s without packets, and the sender resumes without advancing its timestamps.
        for i in 0..50u32 {
            rec.push(CALLER, 70_000 + u64::from(i) * 20, (3000 + i) * 162, &[6; 162]);
        }
        let (info, s) = finish(rec, 72_000);
        assert_eq!(info.reanchors, [1, 0]);
        let c = channel(&s, CALLER);
        assert!(c[..480_000].iter().all(|&x| x == 4), "no gap while drifting");
        // Re-anchored after 300 ms: the rest of the resumed audio is recorded at its arrival.
        assert!(c[562_400..568_000].iter().all(|&x| x == 6));
        assert!(c[560_000..562_400].iter().all(|&x| x == 0) && c[568_100..].iter().all(|&x| x == 0));
    }

    #[test]
    fn finish_before_anything_and_short_end() {
        let rec = StereoRecorder::new(Cursor::new(Vec::new()), 1000);
        let (info, s) = finish(rec, 1000);
        assert_eq!((info.frames, s.len(), info.file_bytes), (0, 0, 44));

        let mut rec = StereoRecorder::new(Cursor::new(Vec::new()), 0);
        rec.push(AGENT, 0, 0, &[7; 160]);
        rec.tick(5000);
        // End earlier than what was already written: cut to the end.
        let (info, s) = finish(rec, 1000);
        assert_eq!((info.frames, s.len()), (8000, 16000));
    }

    #[test]
    fn write_errors_are_kept_not_raised() {
        struct Failing(u64);
        impl Write for Failing {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.0 > 100 {
                    return Err(std::io::Error::other("disk full"));
                }
                self.0 += buf.len() as u64;
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        impl Seek for Failing {
            fn seek(&mut self, _: SeekFrom) -> std::io::Result<u64> {
                Ok(0)
            }
        }
        let mut rec = StereoRecorder::new(Failing(0), 0);
        for i in 0..100u64 {
            rec.push(CALLER, i * 20, i as u32 * 160, &[1; 160]);
        }
        assert!(rec.error().is_some());
        assert!(rec.memory_bytes() < 16 * 1024);
        assert!(matches!(rec.finish(2000), Err(MediaError::Io(_))));
    }
}
