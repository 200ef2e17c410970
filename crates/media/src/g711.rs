//! G.711 µ-law (PCMU) and A-law (PCMA) companding, as specified by ITU-T G.711.
//!
//! Encoding computes the code word directly (a handful of integer operations);
//! decoding goes through 256-entry tables built at compile time.

/// µ-law bias added to the magnitude before finding the segment.
const ULAW_BIAS: i32 = 0x84;
/// Largest magnitude µ-law can represent before the bias is added.
const ULAW_CLIP: i32 = 32635;

/// Encodes one 16-bit linear sample as a µ-law code word.
pub fn ulaw_encode(s: i16) -> u8 {
    let s = i32::from(s);
    let sign: u8 = if s < 0 { 0x80 } else { 0 };
    let magnitude = s.abs().min(ULAW_CLIP) + ULAW_BIAS;
    // magnitude is in 132..=32767: its highest set bit is 7..=14, the segment 0..=7.
    let exponent = (31 - magnitude.leading_zeros()) as i32 - 7;
    let mantissa = (magnitude >> (exponent + 3)) & 0x0F;
    !(sign | ((exponent as u8) << 4) | mantissa as u8)
}

const fn ulaw_decode_const(b: u8) -> i16 {
    let b = !b;
    let exponent = ((b >> 4) & 0x07) as i32;
    let mantissa = (b & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    if b & 0x80 != 0 { -magnitude as i16 } else { magnitude as i16 }
}

/// Encodes one 16-bit linear sample as an A-law code word.
pub fn alaw_encode(s: i16) -> u8 {
    let s = i32::from(s);
    // Positive samples carry the sign bit set (after the even-bit inversion).
    let (mask, magnitude) = if s >= 0 { (0xD5u8, s) } else { (0x55u8, -s - 1) };
    let m = magnitude >> 3; // 13-bit magnitude, 0..=4095
    let code = if m < 32 {
        (m >> 1) as u8
    } else {
        // highest set bit 5..=11 → segment 1..=7
        let segment = (31 - m.leading_zeros()) as i32 - 4;
        ((segment as u8) << 4) | ((m >> segment) & 0x0F) as u8
    };
    code ^ mask
}

const fn alaw_decode_const(b: u8) -> i16 {
    let a = b ^ 0x55;
    let segment = ((a >> 4) & 0x07) as i32;
    let mantissa = (a & 0x0F) as i32;
    let magnitude = if segment == 0 { (mantissa << 4) + 8 } else { ((mantissa << 4) + 0x108) << (segment - 1) };
    if a & 0x80 != 0 { magnitude as i16 } else { -magnitude as i16 }
}

const fn build_table(alaw: bool) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = if alaw { alaw_decode_const(i as u8) } else { ulaw_decode_const(i as u8) };
        i += 1;
    }
    table
}

/// µ-law code word → linear sample.
static ULAW_TABLE: [i16; 256] = build_table(false);
/// A-law code word → linear sample.
static ALAW_TABLE: [i16; 256] = build_table(true);

/// Decodes one µ-law code word to a 16-bit linear sample.
pub fn ulaw_decode(b: u8) -> i16 {
    ULAW_TABLE[usize::from(b)]
}

/// Decodes one A-law code word to a 16-bit linear sample.
pub fn alaw_decode(b: u8) -> i16 {
    ALAW_TABLE[usize::from(b)]
}

/// The two G.711 codecs, with their static RTP payload types (RFC 3551).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// µ-law, payload type 0.
    Pcmu,
    /// A-law, payload type 8.
    Pcma,
}

impl Codec {
    /// The static RTP payload type: 0 for PCMU, 8 for PCMA.
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The codec for a static payload type, if it is 0 or 8.
    pub fn from_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// The SDP encoding name: "PCMU" or "PCMA".
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The sample (and RTP clock) rate: always 8000 Hz.
    pub fn clock_rate(self) -> u32 {
        8000
    }

    /// Encodes linear samples, appending one byte per sample to `out`.
    pub fn encode(self, pcm: &[i16], out: &mut Vec<u8>) {
        out.reserve(pcm.len());
        match self {
            Codec::Pcmu => out.extend(pcm.iter().map(|&s| ulaw_encode(s))),
            Codec::Pcma => out.extend(pcm.iter().map(|&s| alaw_encode(s))),
        }
    }

    /// Decodes a payload, appending one linear sample per byte to `out`.
    pub fn decode(self, payload: &[u8], out: &mut Vec<i16>) {
        let table = match self {
            Codec::Pcmu => &ULAW_TABLE,
            Codec::Pcma => &ALAW_TABLE,
        };
        out.reserve(payload.len());
        out.extend(payload.iter().map(|&b| table[usize::from(b)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_reference_points() {
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0xFE), 8);
        assert_eq!(ulaw_decode(0x7E), -8);
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(ulaw_encode(-1), 0x7F);
        // Silence in µ-law is 0xFF (positive zero).
        assert_eq!(ulaw_encode(3), 0xFF);
    }

    #[test]
    fn alaw_reference_points() {
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_decode(0x2A), -32256);
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
    }

    #[test]
    fn code_words_round_trip() {
        for b in 0..=255u8 {
            assert_eq!(alaw_encode(alaw_decode(b)), b, "A-law {b:#04x}");
            if b != 0x7F {
                // 0x7F is µ-law's negative zero; it decodes to 0 which encodes as 0xFF.
                assert_eq!(ulaw_encode(ulaw_decode(b)), b, "µ-law {b:#04x}");
            }
        }
    }

    #[test]
    fn round_trip_error_is_bounded_and_monotonic() {
        let mut prev_u = i16::MIN;
        let mut prev_a = i16::MIN;
        for s in i16::MIN..=i16::MAX {
            let u = ulaw_decode(ulaw_encode(s));
            let a = alaw_decode(alaw_encode(s));
            let bound = i32::from(s).abs() / 16 + 16;
            // µ-law clips at 32635 (decodes to 32124 at the top).
            let clipped = i32::from(s).clamp(-32635, 32635);
            assert!((i32::from(u) - clipped).abs() <= bound, "µ-law {s} → {u}");
            assert!((i32::from(a) - i32::from(s)).abs() <= bound, "A-law {s} → {a}");
            assert!(u >= prev_u && a >= prev_a, "companding must be monotonic at {s}");
            prev_u = u;
            prev_a = a;
        }
    }

    #[test]
    fn codec_api() {
        assert_eq!(Codec::Pcmu.payload_type(), 0);
        assert_eq!(Codec::Pcma.payload_type(), 8);
        assert_eq!(Codec::from_payload_type(0), Some(Codec::Pcmu));
        assert_eq!(Codec::from_payload_type(8), Some(Codec::Pcma));
        assert_eq!(Codec::from_payload_type(101), None);
        assert_eq!(Codec::Pcmu.name(), "PCMU");
        assert_eq!(Codec::Pcma.name(), "PCMA");
        let pcm: Vec<i16> = (0..160).map(|i| ((i as f64 * 0.3).sin() * 10000.0) as i16).collect();
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut bytes = vec![0xAB]; // appends, keeps what is there
            codec.encode(&pcm, &mut bytes);
            assert_eq!(bytes.len(), 161);
            let mut back = Vec::new();
            codec.decode(&bytes[1..], &mut back);
            assert_eq!(back.len(), 160);
            for (x, y) in pcm.iter().zip(&back) {
                assert!((i32::from(*x) - i32::from(*y)).abs() <= 10000 / 16 + 16);
            }
        }
    }
}
