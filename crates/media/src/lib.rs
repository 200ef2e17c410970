//! Media primitives for voice calls (pure: no sockets, no clock, no threads).
//!
//! The `voice` crate runs one media task per call leg (a UDP socket, a 20 ms
//! tick); everything here is driven by it: packets and times are passed in.
//!
//! * [`g711`] — µ-law / A-law companding and the [`Codec`] enum.
//! * [`rtp`] — RTP header parsing and writing, RTCP detection, [`RtpSender`].
//! * [`dtmf`] — RFC 4733 telephone-event parsing, [`DtmfReceiver`], packet generation.
//! * [`stats`] — receive statistics ([`RtpStats`]), a [`Level`] meter and the
//!   one-way-audio check ([`QualityReport`]).
//! * [`tones`] — generated sines, beeps, ringback and music on hold.

pub mod dtmf;
pub mod g711;
pub mod rtp;
pub mod stats;
pub mod tones;

pub use dtmf::{DtmfEvent, DtmfReceiver};
pub use g711::Codec;
pub use rtp::{RtpError, RtpHeader, RtpSender};
pub use stats::{Level, QualityReport, RtpReport, RtpStats};
