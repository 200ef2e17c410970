//! Receive-side quality statistics of a call leg: RTP counters and jitter
//! (RFC 3550 §6.4.1, Appendix A.1 and A.8), an audio [`Level`] meter, and a
//! per-leg [`QualityReport`] that flags one-way audio.
//!
//! Arrival times are milliseconds on the caller's monotonic clock; only
//! differences matter.

use crate::rtp::RtpHeader;

/// A forward sequence jump larger than this starts a new sequence space (if confirmed).
const MAX_DROPOUT: u32 = 3000;
/// A backward sequence jump larger than this starts a new sequence space (if confirmed).
const MAX_MISORDER: u32 = 100;
/// Sequence numbers remembered behind the highest one, to recognise duplicates.
const DUP_WINDOW: u32 = 128;

/// The RTP receive counters of one leg at a point in time (plain data for the consumer to serialize).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RtpReport {
    /// Packets received, duplicates included.
    pub packets: u64,
    /// Payload bytes received, duplicates included (counted by [`RtpStats::on_packet_bytes`]).
    pub bytes: u64,
    /// Packets expected from the sequence numbers (highest − first + 1, over all sources).
    pub expected: u64,
    /// Packets never received: expected − distinct received, never negative.
    pub lost: u64,
    /// `lost / expected` in percent (0 when nothing was expected).
    pub loss_percent: f64,
    /// Packets whose sequence number was already received.
    pub duplicates: u64,
    /// Packets that arrived after a higher sequence number (late but not duplicate).
    pub out_of_order: u64,
    /// Interarrival jitter estimate (RFC 3550 §6.4.1) at the last packet, in milliseconds.
    pub jitter_ms: f64,
    /// Largest jitter estimate seen during the call, in milliseconds.
    pub max_jitter_ms: f64,
    /// Longest time between two consecutive arrivals, in milliseconds.
    pub max_gap_ms: u64,
    /// Arrival time of the first packet.
    pub first_arrival_ms: Option<u64>,
    /// Arrival time of the last packet.
    pub last_arrival_ms: Option<u64>,
    /// Extended highest sequence number of the current source (cycles × 65536 + sequence).
    pub highest_sequence: Option<u64>,
    /// SSRC of the current source.
    pub ssrc: Option<u32>,
    /// How many times the source restarted (new SSRC or a confirmed sequence jump).
    pub source_changes: u32,
}

/// Sequence state of one source (one SSRC, one sequence space).
#[derive(Clone, Debug)]
struct Source {
    ssrc: u32,
    /// Extended sequence number of the first packet.
    base: u64,
    /// Extended highest sequence number.
    max: u64,
    /// Distinct packets received from this source.
    received: u64,
    /// Bit i set: extended sequence `max - i` was received (i < DUP_WINDOW).
    seen: u128,
    /// A sequence number that, if it comes next, confirms a restart of the sequence space.
    bad_seq: Option<u16>,
}

impl Source {
    fn new(ssrc: u32, seq: u16) -> Self {
        let s = u64::from(seq) + (1 << 16); // one cycle of headroom so early reordering stays positive
        Source { ssrc, base: s, max: s, received: 1, seen: 1, bad_seq: None }
    }

    fn expected(&self) -> u64 {
        self.max - self.base + 1
    }
}

/// Receive statistics of one RTP stream (one leg's inbound direction).
#[derive(Clone, Debug, Default)]
pub struct RtpStats {
    source: Option<Source>,
    /// Expected / distinct received of earlier sources.
    prior_expected: u64,
    prior_received: u64,
    source_changes: u32,
    packets: u64,
    bytes: u64,
    duplicates: u64,
    out_of_order: u64,
    /// Jitter in timestamp units (RFC 3550's J, kept unscaled as f64).
    jitter: f64,
    jitter_clock: u32,
    max_jitter_ms: f64,
    /// Arrival (ms) and timestamp of the previous packet, for the jitter difference.
    previous: Option<(u64, u32)>,
    max_gap_ms: u64,
    first_arrival_ms: Option<u64>,
    last_arrival_ms: Option<u64>,
    /// Payload type left out of the jitter estimate (telephone-event).
    no_jitter_pt: Option<u8>,
}

impl RtpStats {
    /// Empty statistics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Leaves packets of `payload_type` (the negotiated telephone-event type) out of the
    /// jitter estimate: DTMF packets repeat their event's start timestamp, which would read
    /// as jitter. They still count for sequence numbers, loss and the other counters.
    pub fn exclude_from_jitter(&mut self, payload_type: Option<u8>) {
        self.no_jitter_pt = payload_type;
    }

    /// Counts one received packet (without payload bytes; see [`on_packet_bytes`](Self::on_packet_bytes)).
    /// `clock_rate` is the payload's RTP clock (8000 for G.711 and telephone-event).
    pub fn on_packet(&mut self, header: &RtpHeader, arrival_ms: u64, clock_rate: u32) {
        self.on_packet_bytes(header, 0, arrival_ms, clock_rate);
    }

    /// Counts one received packet with `payload_len` payload bytes.
    pub fn on_packet_bytes(&mut self, header: &RtpHeader, payload_len: usize, arrival_ms: u64, clock_rate: u32) {
        self.packets += 1;
        self.bytes += payload_len as u64;
        if let Some(last) = self.last_arrival_ms {
            self.max_gap_ms = self.max_gap_ms.max(arrival_ms.saturating_sub(last));
        }
        self.first_arrival_ms.get_or_insert(arrival_ms);
        self.last_arrival_ms = Some(arrival_ms);

        let restarted = self.track_sequence(header);
        if restarted {
            self.previous = None;
        }
        if self.no_jitter_pt != Some(header.payload_type) {
            self.update_jitter(header.timestamp, arrival_ms, clock_rate);
        }
    }

    /// Sequence accounting (RFC 3550 A.1, with a duplicate window). Returns true on a new source.
    fn track_sequence(&mut self, header: &RtpHeader) -> bool {
        let seq = header.sequence;
        let Some(src) = self.source.as_mut().filter(|s| s.ssrc == header.ssrc) else {
            self.start_source(header);
            return true;
        };
        let max16 = src.max as u16;
        let delta = seq.wrapping_sub(max16);
        if delta == 0 {
            self.duplicates += 1;
        } else if u32::from(delta) < MAX_DROPOUT {
            // In order, possibly with a gap; the 16-bit sequence may have wrapped.
            src.max += u64::from(delta);
            src.seen = if u32::from(delta) >= DUP_WINDOW { 0 } else { src.seen << delta };
            src.seen |= 1;
            src.received += 1;
            src.bad_seq = None;
        } else if u32::from(delta) >= (1 << 16) - MAX_MISORDER {
            // Late: behind the highest sequence number by 65536 − delta.
            let behind = (1u32 << 16) - u32::from(delta);
            let ext = src.max - u64::from(behind);
            if ext < src.base {
                // Reordered before the first packet we saw: extend the start.
                src.base = ext;
                src.received += 1;
                self.out_of_order += 1;
                if behind < DUP_WINDOW {
                    src.seen |= 1 << behind;
                }
            } else if behind < DUP_WINDOW && src.seen & (1 << behind) != 0 {
                self.duplicates += 1;
            } else {
                if behind < DUP_WINDOW {
                    src.seen |= 1 << behind;
                }
                src.received += 1;
                self.out_of_order += 1;
            }
        } else if src.bad_seq == Some(seq) {
            // Two consecutive packets after a big jump: the sender restarted its sequence.
            self.start_source(header);
            return true;
        } else {
            src.bad_seq = Some(seq.wrapping_add(1));
        }
        false
    }

    fn start_source(&mut self, header: &RtpHeader) {
        if let Some(old) = self.source.take() {
            self.prior_expected += old.expected();
            self.prior_received += old.received.min(old.expected());
            self.source_changes += 1;
        }
        self.source = Some(Source::new(header.ssrc, header.sequence));
    }

    fn update_jitter(&mut self, timestamp: u32, arrival_ms: u64, clock_rate: u32) {
        if clock_rate == 0 {
            return;
        }
        if clock_rate != self.jitter_clock {
            self.jitter_clock = clock_rate;
            self.jitter = 0.0;
            self.previous = None;
        }
        if let Some((prev_arrival, prev_ts)) = self.previous {
            let arrival_units = (arrival_ms as f64 - prev_arrival as f64) * f64::from(clock_rate) / 1000.0;
            let ts_units = f64::from(timestamp.wrapping_sub(prev_ts) as i32);
            let d = (arrival_units - ts_units).abs();
            self.jitter += (d - self.jitter) / 16.0;
            self.max_jitter_ms = self.max_jitter_ms.max(self.jitter * 1000.0 / f64::from(clock_rate));
        }
        self.previous = Some((arrival_ms, timestamp));
    }

    /// Packets received so far (duplicates included).
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// The counters now.
    pub fn snapshot(&self) -> RtpReport {
        let (cur_expected, cur_received) =
            self.source.as_ref().map_or((0, 0), |s| (s.expected(), s.received.min(s.expected())));
        let expected = self.prior_expected + cur_expected;
        let received = self.prior_received + cur_received;
        let lost = expected.saturating_sub(received);
        let jitter_ms = if self.jitter_clock == 0 { 0.0 } else { self.jitter * 1000.0 / f64::from(self.jitter_clock) };
        RtpReport {
            packets: self.packets,
            bytes: self.bytes,
            expected,
            lost,
            loss_percent: if expected == 0 { 0.0 } else { lost as f64 * 100.0 / expected as f64 },
            duplicates: self.duplicates,
            out_of_order: self.out_of_order,
            jitter_ms,
            max_jitter_ms: self.max_jitter_ms,
            max_gap_ms: self.max_gap_ms,
            first_arrival_ms: self.first_arrival_ms,
            last_arrival_ms: self.last_arrival_ms,
            highest_sequence: self.source.as_ref().map(|s| s.max - (1 << 16)),
            ssrc: self.source.as_ref().map(|s| s.ssrc),
            source_changes: self.source_changes,
        }
    }
}

/// dBFS reported for digital silence (instead of −∞, which does not serialize).
pub const SILENCE_DBFS: f64 = -120.0;
/// Default threshold above which a 20 ms frame counts as voiced.
pub const DEFAULT_VOICE_THRESHOLD_DBFS: f64 = -45.0;
/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

/// Level of a signal as dBFS from its mean square (full scale = 32768), floored at [`SILENCE_DBFS`].
pub fn dbfs(mean_square: f64) -> f64 {
    if mean_square <= 0.0 {
        return SILENCE_DBFS;
    }
    (10.0 * (mean_square / (32768.0 * 32768.0)).log10()).max(SILENCE_DBFS)
}

/// RMS level of a block of samples in dBFS.
pub fn rms_dbfs(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return SILENCE_DBFS;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    dbfs(sum / samples.len() as f64)
}

/// What a [`Level`] meter measured.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LevelReport {
    /// Samples metered.
    pub samples: u64,
    /// Complete 20 ms frames metered.
    pub frames: u64,
    /// Frames whose RMS exceeded the voice threshold.
    pub voiced_frames: u64,
    /// RMS over everything metered, in dBFS ([`SILENCE_DBFS`] for nothing or silence).
    pub rms_dbfs: f64,
    /// Largest absolute sample.
    pub peak: u16,
}

/// Audio level meter over a whole call: overall RMS and a count of voiced 20 ms frames.
#[derive(Clone, Debug)]
pub struct Level {
    /// Sum of squares a 160-sample frame must exceed to count as voiced.
    frame_threshold: u64,
    samples: u64,
    sum_squares: u128,
    frames: u64,
    voiced_frames: u64,
    frame_sum: u64,
    frame_fill: usize,
    peak: u16,
}

impl Default for Level {
    /// A meter with the [`DEFAULT_VOICE_THRESHOLD_DBFS`] (−45 dBFS) threshold.
    fn default() -> Self {
        Self::new(DEFAULT_VOICE_THRESHOLD_DBFS)
    }
}

impl Level {
    /// A meter counting frames above `threshold_dbfs` as voiced.
    pub fn new(threshold_dbfs: f64) -> Self {
        let threshold = 10f64.powf(threshold_dbfs / 10.0) * 32768.0 * 32768.0 * FRAME_SAMPLES as f64;
        Level {
            // Saturating float → int conversion; a frame's sum of squares is below 2^38.
            frame_threshold: threshold.max(0.0) as u64,
            samples: 0,
            sum_squares: 0,
            frames: 0,
            voiced_frames: 0,
            frame_sum: 0,
            frame_fill: 0,
            peak: 0,
        }
    }

    /// Meters samples (any block size; frames are cut every 160 samples across calls).
    pub fn on_samples(&mut self, mut pcm: &[i16]) {
        self.samples += pcm.len() as u64;
        while !pcm.is_empty() {
            let n = (FRAME_SAMPLES - self.frame_fill).min(pcm.len());
            let (part, rest) = pcm.split_at(n);
            let mut sum = 0u64;
            let mut peak = self.peak;
            for &s in part {
                sum += (i32::from(s) * i32::from(s)) as u64;
                peak = peak.max(s.unsigned_abs());
            }
            self.peak = peak;
            self.frame_sum += sum;
            self.sum_squares += u128::from(sum);
            self.frame_fill += n;
            if self.frame_fill == FRAME_SAMPLES {
                self.frames += 1;
                if self.frame_sum > self.frame_threshold {
                    self.voiced_frames += 1;
                }
                self.frame_sum = 0;
                self.frame_fill = 0;
            }
            pcm = rest;
        }
    }

    /// Frames above the threshold so far.
    pub fn voiced_frames(&self) -> u64 {
        self.voiced_frames
    }

    /// The measurements now.
    pub fn report(&self) -> LevelReport {
        let mean = if self.samples == 0 { 0.0 } else { self.sum_squares as f64 / self.samples as f64 };
        LevelReport {
            samples: self.samples,
            frames: self.frames,
            voiced_frames: self.voiced_frames,
            rms_dbfs: dbfs(mean),
            peak: self.peak,
        }
    }
}

/// Why a leg is considered one-way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OneWay {
    /// No RTP arrived at all (NAT, firewall, wrong address in the SDP).
    NoPackets,
    /// Packets arrived but every frame was below the voice threshold.
    Silent,
}

/// Quality of one call leg, both directions: what was received (RTP counters and the level
/// of the decoded audio) and what was sent.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct QualityReport {
    /// Receive counters of the inbound stream.
    pub received: RtpReport,
    /// Level of the inbound audio (decoded).
    pub received_level: LevelReport,
    /// Packets sent on this leg.
    pub sent_packets: u64,
    /// Level of the audio sent.
    pub sent_level: LevelReport,
}

impl QualityReport {
    /// Combines both directions of a leg.
    pub fn new(received: &RtpStats, received_level: &Level, sent_packets: u64, sent_level: &Level) -> Self {
        QualityReport {
            received: received.snapshot(),
            received_level: received_level.report(),
            sent_packets,
            sent_level: sent_level.report(),
        }
    }

    /// Why the leg is one-way, if it is: nothing received, or only silence received.
    pub fn one_way_reason(&self) -> Option<OneWay> {
        if self.received.packets == 0 {
            Some(OneWay::NoPackets)
        } else if self.received_level.voiced_frames == 0 {
            Some(OneWay::Silent)
        } else {
            None
        }
    }

    /// True when the leg received no packets, or received only silence.
    pub fn one_way(&self) -> bool {
        self.one_way_reason().is_some()
    }

    /// Received loss in percent.
    pub fn loss_percent(&self) -> f64 {
        self.received.loss_percent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tones;

    fn h(seq: u16, ts: u32) -> RtpHeader {
        RtpHeader { payload_type: 0, marker: false, sequence: seq, timestamp: ts, ssrc: 5 }
    }

    fn feed(stats: &mut RtpStats, seqs: &[u16], start_seq: u16) {
        for (i, &s) in seqs.iter().enumerate() {
            let offset = s.wrapping_sub(start_seq);
            stats.on_packet_bytes(&h(s, u32::from(offset) * 160), 160, 1000 + i as u64 * 20, 8000);
        }
    }

    #[test]
    fn perfect_stream() {
        let mut st = RtpStats::new();
        let seqs: Vec<u16> = (0..500u16).map(|i| i.wrapping_add(65300)).collect();
        feed(&mut st, &seqs, 65300);
        let r = st.snapshot();
        assert_eq!((r.packets, r.bytes, r.expected, r.lost, r.duplicates, r.out_of_order), (500, 80_000, 500, 0, 0, 0));
        assert_eq!(r.jitter_ms, 0.0);
        assert_eq!(r.max_gap_ms, 20);
        assert_eq!(r.highest_sequence, Some(65300 + 499));
        assert_eq!((r.first_arrival_ms, r.last_arrival_ms), (Some(1000), Some(1000 + 499 * 20)));
        assert_eq!(r.loss_percent, 0.0);
    }

    #[test]
    fn loss_duplicates_reordering() {
        let mut st = RtpStats::new();
        // 10 and 11 lost, 5 duplicated, 7/8 swapped, 3 arrives very late.
        let seqs = [1, 2, 4, 5, 5, 6, 8, 7, 9, 12, 3, 13, 14, 15, 16, 17, 18, 19, 20];
        feed(&mut st, &seqs, 1);
        let r = st.snapshot();
        assert_eq!(r.packets, 19);
        assert_eq!(r.expected, 20);
        assert_eq!(r.lost, 2);
        assert_eq!(r.duplicates, 1);
        assert_eq!(r.out_of_order, 2);
        assert!((r.loss_percent - 10.0).abs() < 1e-9);
        assert!(r.jitter_ms > 0.0, "irregular timestamps vs arrivals give jitter");
    }

    #[test]
    fn reorder_before_first_and_duplicate_of_first() {
        let mut st = RtpStats::new();
        feed(&mut st, &[10, 9, 10, 11, 9], 9);
        let r = st.snapshot();
        assert_eq!((r.expected, r.lost, r.duplicates, r.out_of_order), (3, 0, 2, 1));
    }

    #[test]
    fn jitter_from_irregular_arrival() {
        let mut st = RtpStats::new();
        for i in 0..200u16 {
            let arrival = 1000 + u64::from(i) * 20 + if i % 2 == 0 { 0 } else { 10 };
            st.on_packet(&h(i, u32::from(i) * 160), arrival, 8000);
        }
        let r = st.snapshot();
        // |D| is 10 ms for every packet: J converges to 10 ms.
        assert!((r.jitter_ms - 10.0).abs() < 0.1, "{}", r.jitter_ms);
        assert_eq!(r.max_gap_ms, 30);
    }

    #[test]
    fn new_ssrc_and_sequence_restart() {
        let mut st = RtpStats::new();
        feed(&mut st, &[100, 101, 102, 104], 100);
        st.on_packet(&RtpHeader { ssrc: 9, ..h(5000, 0) }, 2000, 8000);
        st.on_packet(&RtpHeader { ssrc: 9, ..h(5001, 160) }, 2020, 8000);
        let r = st.snapshot();
        assert_eq!((r.expected, r.lost, r.source_changes, r.ssrc), (7, 1, 1, Some(9)));
        // Same SSRC, sequence jumps by 30000: one stray packet is ignored, two in a row restart.
        st.on_packet(&RtpHeader { ssrc: 9, ..h(35000, 320) }, 2040, 8000);
        assert_eq!(st.snapshot().source_changes, 1);
        st.on_packet(&RtpHeader { ssrc: 9, ..h(35001, 480) }, 2060, 8000);
        let r = st.snapshot();
        assert_eq!((r.source_changes, r.expected, r.lost), (2, 8, 1));
    }

    #[test]
    fn dtmf_packets_can_be_left_out_of_jitter() {
        let run = |exclude: bool| {
            let mut st = RtpStats::new();
            st.exclude_from_jitter(exclude.then_some(101));
            for i in 0..100u16 {
                // Packets 40–49 are a key press: all carry the event's start timestamp.
                let (pt, ts) = if (40..50).contains(&i) { (101, 40 * 160) } else { (0, u32::from(i) * 160) };
                st.on_packet(&RtpHeader { payload_type: pt, ..h(i, ts) }, u64::from(i) * 20, 8000);
            }
            st.snapshot()
        };
        let (with, without) = (run(false), run(true));
        assert!(with.max_jitter_ms > 10.0);
        assert_eq!(without.max_jitter_ms, 0.0);
        assert_eq!((without.expected, without.lost), (100, 0));
    }

    #[test]
    fn level_meter_and_one_way() {
        let mut lv = Level::default();
        lv.on_samples(&tones::silence(1000));
        assert_eq!(lv.report().voiced_frames, 0);
        assert_eq!(lv.report().rms_dbfs, SILENCE_DBFS);
        lv.on_samples(&tones::sine(440.0, 1000, 0.5));
        let r = lv.report();
        assert_eq!((r.frames, r.voiced_frames), (100, 50));
        // A 0.5 FS sine is −9 dBFS; over twice its length with silence, −12 dBFS.
        assert!((r.rms_dbfs - (-12.04)).abs() < 0.1, "{}", r.rms_dbfs);
        assert!((rms_dbfs(&tones::sine(1000.0, 100, 0.5)) - (-9.03)).abs() < 0.1);
        // Frames are cut across calls.
        let mut lv2 = Level::default();
        for chunk in tones::sine(440.0, 100, 0.5).chunks(37) {
            lv2.on_samples(chunk);
        }
        assert_eq!(lv2.report().voiced_frames, 5);

        let mut q = QualityReport::new(&RtpStats::new(), &Level::default(), 50, &lv);
        assert_eq!(q.one_way_reason(), Some(OneWay::NoPackets));
        let mut st = RtpStats::new();
        st.on_packet(&h(1, 0), 0, 8000);
        q = QualityReport::new(&st, &Level::default(), 50, &lv);
        assert_eq!(q.one_way_reason(), Some(OneWay::Silent));
        q = QualityReport::new(&st, &lv, 50, &lv);
        assert!(!q.one_way());
        assert_eq!(q.loss_percent(), 0.0);
    }
}
