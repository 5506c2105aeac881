//! Integration tests.

mod cli;
mod common;
mod e2e;
mod schemas;
