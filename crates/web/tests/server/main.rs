//! The server's integration tests: one binary, each test with its own
//! server (demo company seeded, no simulated traffic) on a fresh SQLite
//! directory and a port chosen by the OS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod api;
mod desk;
mod dial_back;
mod roles;
mod snapshot;
mod voice_reports;
