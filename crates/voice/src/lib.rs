//! Telephony for Switchboard: SIP signalling (numbers that run IVR flows,
//! a registrar for agents' phones), RTP media legs (prompts, music on hold,
//! key presses, bridging, recording) and the call task that ties a phone
//! call to the engine's contact. See ARCHITECTURE.md for the invariants.

pub mod api;
pub mod call;
pub mod digest;
pub mod leg;
mod phone;
pub mod prompts;
pub mod record;
pub mod registrar;
pub mod screen;
pub mod sdp;
pub mod server;
pub mod settings;
pub mod tls;

pub use server::{Voice, VoiceConfig, VoiceError};
pub use settings::{Device, Flows, Number, QueueMedia, Trunk, VoiceSettings, demo_flows, demo_settings};
pub use tls::{SipTls, TlsError};
