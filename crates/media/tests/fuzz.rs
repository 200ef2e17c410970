//! Parsers never panic on arbitrary bytes.

use media::{dtmf, rtp, wav};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn rtp_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok((_, payload)) = rtp::parse(&bytes) {
            prop_assert!(payload.len() + rtp::HEADER_LEN <= bytes.len());
        }
        let _ = rtp::is_rtcp(&bytes);
    }

    #[test]
    fn rtp_parse_biased_headers(
        b0 in prop_oneof![Just(0x80u8), Just(0x90), Just(0xA0), Just(0xB0), 0x80u8..=0xBF],
        rest in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        let mut bytes = vec![b0];
        bytes.extend(rest);
        let _ = rtp::parse(&bytes);
    }

    #[test]
    fn rtp_write_parse_round_trip(pt in 0u8..128, marker: bool, sequence: u16, timestamp: u32, ssrc: u32,
                                  payload in proptest::collection::vec(any::<u8>(), 0..200)) {
        let h = rtp::RtpHeader { payload_type: pt, marker, sequence, timestamp, ssrc };
        let mut out = Vec::new();
        rtp::write(&h, &payload, &mut out);
        let (back, p) = rtp::parse(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, h);
        prop_assert_eq!(p, &payload[..]);
    }

    #[test]
    fn dtmf_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..12)) {
        let _ = dtmf::parse_event(&bytes);
        let mut rx = dtmf::DtmfReceiver::default();
        let h = rtp::RtpHeader { payload_type: 101, ..Default::default() };
        let _ = rx.on_packet(&h, &bytes);
    }

    #[test]
    fn wav_readers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = wav::read_wav_mono_8k(&bytes[..]);
        let _ = wav::read_wav(&bytes[..]);
        let _ = wav::read_wav_info(&bytes[..]);
    }

    #[test]
    fn wav_readers_never_panic_on_plausible_headers(
        tag in prop_oneof![Just(1u16), Just(6), Just(7), Just(3), Just(0xFFFE), any::<u16>()],
        channels in 0u16..4,
        rate in prop_oneof![Just(8000u32), any::<u32>()],
        bits in prop_oneof![Just(16u16), Just(8), any::<u16>()],
        fmt_len in prop_oneof![Just(16u32), Just(18), Just(40), any::<u32>()],
        data_len in prop_oneof![Just(0u32), Just(u32::MAX), 0u32..64, any::<u32>()],
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut v = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        v.extend_from_slice(&fmt_len.to_le_bytes());
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&channels.to_le_bytes());
        v.extend_from_slice(&rate.to_le_bytes());
        v.extend_from_slice(&[0; 6]);
        v.extend_from_slice(&bits.to_le_bytes());
        if fmt_len > 16 && fmt_len < 64 {
            v.extend(std::iter::repeat_n(0u8, fmt_len as usize - 16));
        }
        v.extend_from_slice(b"data");
        v.extend_from_slice(&data_len.to_le_bytes());
        v.extend_from_slice(&tail);
        let _ = wav::read_wav_mono_8k(&v[..]);
        let _ = wav::read_wav(&v[..]);
        let _ = wav::read_wav_info(&v[..]);
    }
}
