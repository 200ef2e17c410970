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

//!
//! # One leg's media task, in outline
//!
//! ```
//! use std::io::Cursor;
//! use std::sync::Arc;
//! use media::{Codec, DtmfReceiver, Level, Player, QualityReport, RtpSender, RtpStats, StereoRecorder};
//! use media::{recorder::CALLER, rtp, tones};
//!
//! let codec = Codec::Pcmu;
//! let mut stats = RtpStats::new();
//! stats.exclude_from_jitter(Some(101));
//! let (mut rx_level, mut tx_level) = (Level::default(), Level::default());
//! let mut dtmf = DtmfReceiver::new(101);
//! let mut recorder = StereoRecorder::new(Cursor::new(Vec::new()), 0);
//! let mut player = Player::new();
//! let mut sender = RtpSender::new(0x1234_5678, 1, 0);
//! let welcome = player.enqueue(Arc::from(tones::beep(200, 440.0)));
//!
//! // A datagram arrives (here: one we make up) at 20 ms on the task's clock.
//! let mut datagram = Vec::new();
//! let mut peer = RtpSender::new(42, 7, 1000);
//! peer.next_packet(0, &[0xFF; 160], 160, true, &mut datagram);
//! let now_ms = 20;
//! if !rtp::is_rtcp(&datagram) {
//!     if let Ok((header, payload)) = rtp::parse(&datagram) {
//!         stats.on_packet_bytes(&header, payload.len(), now_ms, 8000);
//!         if let Some(key) = dtmf.on_packet(&header, payload) {
//!             println!("pressed {key}");
//!         } else if let Some(c) = Codec::from_payload_type(header.payload_type) {
//!             let mut pcm = Vec::new();
//!             c.decode(payload, &mut pcm);
//!             rx_level.on_samples(&pcm);
//!             recorder.push(CALLER, now_ms, header.timestamp, &pcm);
//!         }
//!     }
//! }
//!
//! // Every 20 ms tick: one frame out, completions to the IVR, the recorder told the time.
//! let mut frame = [0i16; 160];
//! for tick in 1..=10 {
//!     if player.next_frame(&mut frame) {
//!         tx_level.on_samples(&frame);
//!         let mut payload = Vec::new();
//!         codec.encode(&frame, &mut payload);
//!         let mut out = Vec::new();
//!         sender.next_packet(codec.payload_type(), &payload, 160, false, &mut out);
//!         // socket.send(&out) …
//!     } else {
//!         sender.skip(160); // keep the timestamp running through pauses
//!     }
//!     for token in player.finished_tokens() {
//!         assert_eq!(token, welcome); // → PlaybackDone
//!     }
//!     recorder.tick(tick * 20);
//! }
//!
//! let quality = QualityReport::new(&stats, &rx_level, 10, &tx_level);
//! assert!(quality.one_way()); // the made-up caller sent only silence
//! let info = recorder.finish(200).expect("recording");
//! assert_eq!(info.frames, 1600);
//! ```

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
