//! RTP (RFC 3550) fixed header: parsing received packets and writing sent ones.
//!
//! [`parse`] accepts anything a peer may send (CSRC lists, header extensions,
//! padding) and never panics: every malformed packet is an [`RtpError`].
//! [`write()`] always writes the plain 12-byte header (no CSRC, no extension).

use thiserror::Error;

/// Length of the fixed RTP header.
pub const HEADER_LEN: usize = 12;

/// Why a packet (or a telephone-event payload) was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum RtpError {
    /// Fewer bytes than the headers announce.
    #[error("packet too short: need {needed} bytes, got {got}")]
    TooShort {
        /// Bytes required by the headers read so far.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// The version field is not 2.
    #[error("unsupported RTP version {0}")]
    BadVersion(u8),
    /// The padding count is zero or larger than the payload.
    #[error("invalid padding count {padding} for {available} bytes after the header")]
    BadPadding {
        /// The padding count in the last byte.
        padding: u8,
        /// Bytes after the headers, padding included.
        available: usize,
    },
}

/// The fields of the RTP fixed header that a voice leg uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RtpHeader {
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Marker bit (start of a talk spurt; first packet of a DTMF event).
    pub marker: bool,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp in clock-rate units (8000 Hz for G.711).
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
}

/// Parses an RTP packet, returning its header and payload (extension and padding removed).
///
/// Checks the version (2), skips the CSRC list and a header extension, and strips
/// padding. Never panics, whatever the bytes.
pub fn parse(packet: &[u8]) -> Result<(RtpHeader, &[u8]), RtpError> {
    if packet.len() < HEADER_LEN {
        return Err(RtpError::TooShort { needed: HEADER_LEN, got: packet.len() });
    }
    let b0 = packet[0];
    let version = b0 >> 6;
    if version != 2 {
        return Err(RtpError::BadVersion(version));
    }
    let has_padding = b0 & 0x20 != 0;
    let has_extension = b0 & 0x10 != 0;
    let csrc_count = usize::from(b0 & 0x0F);
    let header = RtpHeader {
        payload_type: packet[1] & 0x7F,
        marker: packet[1] & 0x80 != 0,
        sequence: u16::from_be_bytes([packet[2], packet[3]]),
        timestamp: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
        ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
    };
    let mut offset = HEADER_LEN + 4 * csrc_count;
    if has_extension {
        let ext_head = offset + 4;
        if packet.len() < ext_head {
            return Err(RtpError::TooShort { needed: ext_head, got: packet.len() });
        }
        let words = usize::from(u16::from_be_bytes([packet[offset + 2], packet[offset + 3]]));
        offset = ext_head + 4 * words;
    }
    if packet.len() < offset {
        return Err(RtpError::TooShort { needed: offset, got: packet.len() });
    }
    let mut end = packet.len();
    if has_padding {
        let padding = packet[end - 1];
        let available = end - offset;
        if padding == 0 || usize::from(padding) > available {
            return Err(RtpError::BadPadding { padding, available });
        }
        end -= usize::from(padding);
    }
    Ok((header, &packet[offset..end]))
}

/// Appends a 12-byte RTP header (version 2, no padding, extension or CSRC) and the payload to `out`.
pub fn write(header: &RtpHeader, payload: &[u8], out: &mut Vec<u8>) {
    out.reserve(HEADER_LEN + payload.len());
    out.push(0x80);
    out.push((header.payload_type & 0x7F) | if header.marker { 0x80 } else { 0 });
    out.extend_from_slice(&header.sequence.to_be_bytes());
    out.extend_from_slice(&header.timestamp.to_be_bytes());
    out.extend_from_slice(&header.ssrc.to_be_bytes());
    out.extend_from_slice(payload);
}

/// True when a datagram is RTCP rather than RTP (RTP/RTCP multiplexed on one port, RFC 5761).
///
/// Looks at version 2 and the second byte with the marker bit ignored: RTCP packet
/// types 192–223 (SR 200, RR 201, SDES 202, BYE 203, APP 204, and the feedback and
/// XR types 205–207) fall in 64–95, a range RTP payload types must not use when muxed.
pub fn is_rtcp(packet: &[u8]) -> bool {
    packet.len() >= 4 && packet[0] >> 6 == 2 && (64..=95).contains(&(packet[1] & 0x7F))
}

/// Sending side of one RTP stream: owns the SSRC and the next sequence number and timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpSender {
    /// Synchronisation source of every packet sent.
    pub ssrc: u32,
    /// Sequence number of the next packet.
    pub seq: u16,
    /// Timestamp of the next packet.
    pub ts: u32,
}

impl RtpSender {
    /// A sender starting at the given sequence number and timestamp (pick them at random, RFC 3550 §5.1).
    pub fn new(ssrc: u32, seq: u16, ts: u32) -> Self {
        RtpSender { ssrc, seq, ts }
    }

    /// Appends one packet to `out` stamped with the current sequence number and timestamp,
    /// then advances the sequence by 1 and the timestamp by `samples` (both wrapping).
    /// Returns the header written.
    pub fn next_packet(&mut self, pt: u8, payload: &[u8], samples: u32, marker: bool, out: &mut Vec<u8>) -> RtpHeader {
        let header = self.write_at(pt, payload, self.ts, marker, out);
        self.ts = self.ts.wrapping_add(samples);
        header
    }

    /// Appends one packet with an explicit timestamp (DTMF events repeat the event's start
    /// timestamp); advances only the sequence number. Returns the header written.
    pub fn write_at(&mut self, pt: u8, payload: &[u8], timestamp: u32, marker: bool, out: &mut Vec<u8>) -> RtpHeader {
        let header = RtpHeader { payload_type: pt, marker, sequence: self.seq, timestamp, ssrc: self.ssrc };
        write(&header, payload, out);
        self.seq = self.seq.wrapping_add(1);
        header
    }

    /// Advances the timestamp without sending (time that passed while nothing was sent).
    pub fn skip(&mut self, samples: u32) {
        self.ts = self.ts.wrapping_add(samples);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_parse() {
        let h = RtpHeader { payload_type: 8, marker: true, sequence: 65535, timestamp: 0xDEAD_BEEF, ssrc: 42 };
        let mut out = vec![];
        write(&h, &[1, 2, 3], &mut out);
        assert_eq!(out.len(), 15);
        assert_eq!(&out[..2], &[0x80, 0x88]);
        let (p, payload) = parse(&out).unwrap();
        assert_eq!(p, h);
        assert_eq!(payload, &[1, 2, 3]);
        assert!(!is_rtcp(&out));
    }

    #[test]
    fn csrc_extension_and_padding() {
        let mut pkt = vec![0x80 | 0x20 | 0x10 | 2, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9];
        pkt.extend_from_slice(&[0; 8]); // two CSRCs
        pkt.extend_from_slice(&[0xBE, 0xDE, 0, 1, 9, 9, 9, 9]); // one-word extension
        pkt.extend_from_slice(&[7, 7, 7]); // payload
        pkt.extend_from_slice(&[0, 0, 3]); // padding of 3
        let (h, payload) = parse(&pkt).unwrap();
        assert_eq!(h.sequence, 1);
        assert_eq!(h.timestamp, 160);
        assert_eq!(h.ssrc, 9);
        assert_eq!(payload, &[7, 7, 7]);
    }

    #[test]
    fn malformed_packets() {
        assert_eq!(parse(&[0x80; 11]), Err(RtpError::TooShort { needed: 12, got: 11 }));
        let mut pkt = vec![0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&pkt), Err(RtpError::BadVersion(1)));
        pkt[0] = 0x81; // one CSRC missing
        assert!(matches!(parse(&pkt), Err(RtpError::TooShort { needed: 16, .. })));
        pkt[0] = 0x90; // extension header missing
        assert!(matches!(parse(&pkt), Err(RtpError::TooShort { needed: 16, .. })));
        pkt[0] = 0xA0;
        pkt.push(0); // padding count 0
        assert!(matches!(parse(&pkt), Err(RtpError::BadPadding { padding: 0, .. })));
        *pkt.last_mut().unwrap() = 2; // more padding than bytes
        assert!(matches!(parse(&pkt), Err(RtpError::BadPadding { padding: 2, available: 1 })));
        *pkt.last_mut().unwrap() = 1; // padding is the whole payload
        assert_eq!(parse(&pkt).unwrap().1, &[] as &[u8]);
    }

    #[test]
    fn rtcp_detection() {
        // Receiver report: V=2, RC=0, PT=201.
        assert!(is_rtcp(&[0x80, 201, 0, 1, 0, 0, 0, 1]));
        for pt in 200..=207u8 {
            assert!(is_rtcp(&[0x81, pt, 0, 7]));
        }
        assert!(!is_rtcp(&[0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
        assert!(!is_rtcp(&[0x80, 0x80 | 101, 0, 1]));
        assert!(!is_rtcp(&[0x80, 96, 0, 1]));
        assert!(!is_rtcp(&[0x80]));
        assert!(!is_rtcp(&[0x00, 201, 0, 1]));
    }

    #[test]
    fn sender_advances_and_wraps() {
        let mut s = RtpSender::new(7, 65535, u32::MAX - 100);
        let mut out = vec![];
        let h1 = s.next_packet(0, &[0xFF; 160], 160, true, &mut out);
        assert_eq!((h1.sequence, h1.timestamp, h1.marker), (65535, u32::MAX - 100, true));
        assert_eq!((s.seq, s.ts), (0, 59));
        out.clear();
        s.next_packet(0, &[0xFF; 160], 160, false, &mut out);
        let (h2, p) = parse(&out).unwrap();
        assert_eq!((h2.sequence, h2.timestamp, h2.ssrc, h2.marker), (0, 59, 7, false));
        assert_eq!(p.len(), 160);
        s.write_at(101, &[1, 0, 0, 160], 59, true, &mut out);
        assert_eq!((s.seq, s.ts), (2, 219));
        s.skip(1);
        assert_eq!(s.ts, 220);
    }
}
