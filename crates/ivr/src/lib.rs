//! IVR flows and post-call surveys (pure: no I/O, no clock).
