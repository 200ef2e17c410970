//! Media primitives for voice calls (pure: no sockets, no clock).
