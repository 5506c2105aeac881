//! HTTP tests of `hisaab-server`: handlers driven through `router(state)` with `oneshot` over
//! a real sled store, a real socket with graceful shutdown, the limits, and the OpenAPI
//! description (every answer checked against it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub,
    dead_code
)] // Tests unwrap and panic; the fixture is shared by modules that use parts of it.

mod access;
mod common;
mod description;
mod hardening;
mod limits;
mod openapi;
mod openapi_check;
mod reads;
mod socket;
mod statements;
mod witness;
