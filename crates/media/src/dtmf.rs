//! RFC 4733 telephone-event (DTMF carried in RTP): payload parsing, key-press
//! detection and packet generation.
//!
//! One key press is one *event*, identified by its RTP timestamp (the time the
//! key went down). A sender repeats the event while the key is held, the
//! duration growing, and ends it with three identical packets carrying the E bit.
//! [`DtmfReceiver`] reports a press on the first packet it sees with a new
//! timestamp, so a lost first packet, repeats and out-of-order end packets
//! still give exactly one report.

use crate::rtp::{RtpError, RtpHeader};

/// Payload type most peers offer for telephone-event/8000 (dynamic; use the negotiated one).
pub const DEFAULT_PAYLOAD_TYPE: u8 = 101;

/// One telephone-event payload (the first 4 bytes; RFC 4733 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfEvent {
    /// Event code: 0–9 digits, 10 `*`, 11 `#`, 12–15 `A`–`D`.
    pub event: u8,
    /// E bit: the event has ended.
    pub end: bool,
    /// Power level in -dBm0 (0–63).
    pub volume: u8,
    /// Duration so far, in timestamp units (samples at 8000 Hz).
    pub duration: u16,
}

impl DtmfEvent {
    /// The 4-byte payload for this event (the volume is truncated to 6 bits).
    pub fn to_bytes(&self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [self.event, (self.volume & 0x3F) | if self.end { 0x80 } else { 0 }, d[0], d[1]]
    }
}

/// Parses a telephone-event payload (at least 4 bytes; extra bytes are ignored).
pub fn parse_event(payload: &[u8]) -> Result<DtmfEvent, RtpError> {
    match payload {
        [event, flags, d0, d1, ..] => Ok(DtmfEvent {
            event: *event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([*d0, *d1]),
        }),
        _ => Err(RtpError::TooShort { needed: 4, got: payload.len() }),
    }
}

/// The key for a DTMF event code: `0`–`9`, `*` (10), `#` (11), `A`–`D` (12–15).
pub fn event_to_char(e: u8) -> Option<char> {
    match e {
        0..=9 => Some(char::from(b'0' + e)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + e - 12)),
        _ => None,
    }
}

/// The event code for a key (`a`–`d` accepted as `A`–`D`).
pub fn char_to_event(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(c as u8 - b'A' + 12),
        'a'..='d' => Some(c as u8 - b'a' + 12),
        _ => None,
    }
}

/// One packet of a generated key press: send it with the event's start timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfPacket {
    /// Marker bit: set on the first packet of the event.
    pub marker: bool,
    /// The telephone-event payload.
    pub payload: [u8; 4],
}

/// The packets of one key press, in sending order: one packet every `step` samples while
/// the key is held (durations `step`, `2·step`, … below `duration`), then the end packet
/// three times with the full `duration`. All share the event's RTP timestamp; the caller
/// sends them `step` samples apart (e.g. 160 = 20 ms) with
/// [`RtpSender::write_at`](crate::rtp::RtpSender::write_at), then advances its timestamp.
/// A `step` of 0 produces only the three end packets.
pub fn encode_event_packets(event: u8, volume: u8, duration: u16, step: u16) -> Vec<DtmfPacket> {
    let mut packets = Vec::new();
    if step > 0 {
        let mut d = step;
        while d < duration {
            packets.push(DtmfEvent { event, end: false, volume, duration: d });
            d = d.saturating_add(step);
        }
    }
    let end = DtmfEvent { event, end: true, volume, duration };
    packets.extend([end; 3]);
    packets.iter().enumerate().map(|(i, e)| DtmfPacket { marker: i == 0, payload: e.to_bytes() }).collect()
}

/// Events older than this (in timestamp units, 4 s at 8 kHz) than the last one reported are
/// stale repeats; farther back is treated as a new timeline (the sender restarted).
const STALE_WINDOW: i64 = 4 * 8000;

#[derive(Clone, Copy, Debug)]
struct Current {
    ssrc: u32,
    timestamp: u32,
    event: u8,
    ended: bool,
    duration: u16,
}

/// Turns received telephone-event packets into key presses, each reported exactly once.
#[derive(Clone, Debug)]
pub struct DtmfReceiver {
    payload_type: u8,
    current: Option<Current>,
}

impl Default for DtmfReceiver {
    /// A receiver for payload type [`DEFAULT_PAYLOAD_TYPE`] (101).
    fn default() -> Self {
        Self::new(DEFAULT_PAYLOAD_TYPE)
    }
}

impl DtmfReceiver {
    /// A receiver for the negotiated telephone-event payload type; packets of other
    /// payload types are ignored, so every received packet may be passed in.
    pub fn new(payload_type: u8) -> Self {
        DtmfReceiver { payload_type, current: None }
    }

    /// The telephone-event payload type this receiver accepts.
    pub fn payload_type(&self) -> u8 {
        self.payload_type
    }

    /// Changes the accepted payload type (after a re-negotiation).
    pub fn set_payload_type(&mut self, payload_type: u8) {
        self.payload_type = payload_type;
    }

    /// Feeds one received packet; returns the key when this packet starts a new press.
    ///
    /// A press is reported on the first packet seen with a new timestamp (start, repeat
    /// or end packet alike); later packets of the same timestamp, and late packets of an
    /// earlier event, return `None`. A key held beyond the 16-bit duration (about 8 s),
    /// which the sender continues under a new timestamp, is not reported twice.
    pub fn on_packet(&mut self, header: &RtpHeader, payload: &[u8]) -> Option<char> {
        if header.payload_type != self.payload_type {
            return None;
        }
        let ev = parse_event(payload).ok()?;
        let key = event_to_char(ev.event)?;
        if let Some(cur) = self.current.as_mut()
            && cur.ssrc == header.ssrc
        {
            let diff = i64::from(header.timestamp.wrapping_sub(cur.timestamp) as i32);
            if diff == 0 {
                cur.ended |= ev.end;
                cur.duration = cur.duration.max(ev.duration);
                return None;
            }
            if (-STALE_WINDOW..0).contains(&diff) {
                return None;
            }
            let continuation = !cur.ended
                && cur.event == ev.event
                && cur.duration >= 0xFF00
                && diff > 0
                && diff <= i64::from(cur.duration) + 1600;
            if continuation {
                *cur = Current { timestamp: header.timestamp, ended: ev.end, duration: ev.duration, ..*cur };
                return None;
            }
        }
        self.current = Some(Current {
            ssrc: header.ssrc,
            timestamp: header.timestamp,
            event: ev.event,
            ended: ev.end,
            duration: ev.duration,
        });
        Some(key)
    }

    /// Forgets the current event (e.g. after a re-INVITE); SSRC changes are detected anyway.
    pub fn reset(&mut self) {
        self.current = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ts: u32, seq: u16) -> RtpHeader {
        RtpHeader { payload_type: 101, marker: false, sequence: seq, timestamp: ts, ssrc: 1 }
    }

    #[test]
    fn chars_and_codes() {
        let keys = "0123456789*#ABCD";
        for (i, c) in keys.chars().enumerate() {
            assert_eq!(event_to_char(i as u8), Some(c));
            assert_eq!(char_to_event(c), Some(i as u8));
        }
        assert_eq!(char_to_event('b'), Some(13));
        assert_eq!(event_to_char(16), None);
        assert_eq!(char_to_event('E'), None);
    }

    #[test]
    fn payload_round_trip() {
        let e = DtmfEvent { event: 11, end: true, volume: 10, duration: 1280 };
        assert_eq!(e.to_bytes(), [11, 0x8A, 0x05, 0x00]);
        assert_eq!(parse_event(&e.to_bytes()), Ok(e));
        assert_eq!(parse_event(&[1, 2, 3]), Err(RtpError::TooShort { needed: 4, got: 3 }));
        // R bit ignored, extra bytes ignored.
        assert_eq!(parse_event(&[5, 0x40 | 7, 0, 160, 9]).unwrap().volume, 7);
    }

    #[test]
    fn generated_packets() {
        let p = encode_event_packets(5, 10, 800, 160);
        assert_eq!(p.len(), 4 + 3);
        assert!(p[0].marker && !p[1].marker);
        let durations: Vec<u16> = p.iter().map(|p| parse_event(&p.payload).unwrap().duration).collect();
        assert_eq!(durations, vec![160, 320, 480, 640, 800, 800, 800]);
        assert!(p[4..].iter().all(|p| parse_event(&p.payload).unwrap().end));
        assert_eq!(encode_event_packets(1, 10, 100, 0).len(), 3);
    }

    #[test]
    fn one_report_per_press() {
        let mut rx = DtmfReceiver::default();
        let mut seq = 0;
        let mut got = String::new();
        for (i, key) in "1155#".chars().enumerate() {
            let ts = 1000 + i as u32 * 4000;
            for p in encode_event_packets(char_to_event(key).unwrap(), 10, 800, 160) {
                seq += 1;
                got.extend(rx.on_packet(&header(ts, seq), &p.payload));
            }
        }
        assert_eq!(got, "1155#");
    }

    #[test]
    fn loss_reorder_and_other_payload_types() {
        let mut rx = DtmfReceiver::new(96);
        let p = encode_event_packets(3, 10, 800, 160);
        let mut h = header(500, 1);
        h.payload_type = 101;
        assert_eq!(rx.on_packet(&h, &p[0].payload), None); // wrong PT
        h.payload_type = 96;
        // First two packets lost; an end packet arrives before a repeat.
        assert_eq!(rx.on_packet(&h, &p[5].payload), Some('3'));
        assert_eq!(rx.on_packet(&h, &p[2].payload), None);
        assert_eq!(rx.on_packet(&h, &p[6].payload), None);
        // Next press (same key) then a straggler from the first one.
        let h2 = RtpHeader { timestamp: 3000, ..h };
        assert_eq!(rx.on_packet(&h2, &p[1].payload), Some('3'));
        assert_eq!(rx.on_packet(&h, &p[4].payload), None);
        // Short payload and non-DTMF event are ignored.
        let h3 = RtpHeader { timestamp: 6000, ..h };
        assert_eq!(rx.on_packet(&h3, &[1, 2]), None);
        assert_eq!(rx.on_packet(&h3, &[16, 0, 0, 160]), None);
        // A new SSRC starts over even with an "older" timestamp.
        let h4 = RtpHeader { timestamp: 2000, ssrc: 99, ..h };
        assert_eq!(rx.on_packet(&h4, &p[0].payload), Some('3'));
    }

    #[test]
    fn timestamp_wrap_and_long_press() {
        let mut rx = DtmfReceiver::default();
        let end = encode_event_packets(0, 10, 800, 160);
        assert_eq!(rx.on_packet(&header(u32::MAX - 100, 1), &end[0].payload), Some('0'));
        assert_eq!(rx.on_packet(&header(2000, 2), &end[0].payload), Some('0'));
        // A key held past 65535 samples continues under a new timestamp: one report.
        let held = DtmfEvent { event: 7, end: false, volume: 10, duration: 0xFFFF }.to_bytes();
        let more = DtmfEvent { event: 7, end: false, volume: 10, duration: 160 }.to_bytes();
        assert_eq!(rx.on_packet(&header(10_000, 3), &held), Some('7'));
        assert_eq!(rx.on_packet(&header(10_000 + 0xFFFF, 4), &more), None);
        assert_eq!(rx.on_packet(&header(200_000, 5), &more), Some('7'));
    }
}
