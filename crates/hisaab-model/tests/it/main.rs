//! Integration tests of hisaab-model: the permission table, every rule of SPEC §4, the
//! projection of §5, replay and snapshots, and bundle verification.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod cycle;
mod erasure;
mod format_v2;
mod golden_state;
mod obligations;
mod permissions;
mod projection;
mod register;
mod replay;
mod rules;
mod stream;
mod verify;
