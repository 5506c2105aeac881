//! The root integration tests: the `hisaab` command as a user runs it, the real server end to
//! end, the JSON Schemas in `schemas/`, and conformance to SPEC.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod browser;
mod cli;
mod client;
mod common;
mod conformance;
mod diskfull;
mod e2e;
mod erase;
mod kill;
/// The OpenAPI answer checker shared with `hisaab-server`'s handler tests.
#[path = "../../crates/hisaab-server/tests/http/openapi_check.rs"]
mod openapi_check;
mod schemas;
mod sealed;
