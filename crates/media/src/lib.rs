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
//! * [`wav`] — WAV reading (prompts) and writing.
//! * [`recorder`] — the two-channel call recorder ([`StereoRecorder`]).
//! * [`playout`] — the sending side: prompts, silences and music on hold as 20 ms frames ([`Player`]).

pub mod dtmf;
pub mod g711;
pub mod playout;
pub mod recorder;
pub mod rtp;
pub mod stats;
pub mod tones;
pub mod wav;

pub use dtmf::{DtmfEvent, DtmfReceiver};
pub use g711::Codec;
pub use playout::{PlayToken, Player};
pub use recorder::{RecordingInfo, StereoRecorder};
pub use rtp::{RtpError, RtpHeader, RtpSender};
pub use stats::{Level, QualityReport, RtpReport, RtpStats};

/// Errors of the file-facing parts (WAV files, the recorder).
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The reader or writer failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The bytes are not a well-formed WAV file.
    #[error("invalid WAV file: {0}")]
    InvalidWav(String),
    /// A well-formed WAV file in a format that is not accepted here.
    #[error("unsupported WAV format: {0}")]
    UnsupportedWav(String),
    /// More audio than a WAV file can hold (4 GiB of data).
    #[error("audio too long for a WAV file")]
    TooLong,
}
