//! Parsers never panic on arbitrary bytes.

use media::{dtmf, rtp};
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
}
