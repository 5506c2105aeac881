//! Exit codes a script can rely on, and the error markers that choose them:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done; for `verify`, everything verified |
//! | 1 | verification failed: integrity, a signature, a rule of SPEC §4, or a pin |
//! | 2 | usage: a bad flag, argument or value (clap's own errors exit 2 too) |
//! | 3 | unreachable or I/O: connection refused, a missing file, a locked database |
//!
//! Errors are `anyhow` chains; [`code_of`] looks for a [`Usage`] marker, then for a cause that is
//! an I/O, network or lock failure, and calls everything else a failed verification.

use std::fmt;

/// Verification failed (integrity, signature, rule, pin).
pub(crate) const FAILED: u8 = 1;
/// A usage error.
pub(crate) const USAGE: u8 = 2;
/// Unreachable server, missing file, locked database or another I/O failure.
pub(crate) const UNREACHABLE: u8 = 3;

/// What `--help` says about exit codes.
pub(crate) const HELP: &str = "Exit codes:
  0  done; for verify: everything verified
  1  verification failed (integrity, signature, a rule of SPEC §4, a --log-vkey/--ledger pin)
  2  usage error (a bad flag, argument or value, e.g. a malformed --log-vkey)
  3  unreachable or I/O (connection refused, missing file, data directory locked by a server)

The server is --server URL or HISAAB_SERVER (default http://127.0.0.1:8080).";

/// A usage error: the command was given something it cannot use.
#[derive(Debug)]
pub(crate) struct Usage(pub(crate) String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// A server that cannot be reached, or a local resource that cannot be read.
#[derive(Debug)]
pub(crate) struct Unreachable(pub(crate) String);

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreachable {}

/// A usage error with `message`.
pub(crate) fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Usage(message.into()))
}

/// The exit code for `error`.
pub(crate) fn code_of(error: &anyhow::Error) -> u8 {
    let is_usage = |cause: &(dyn std::error::Error + 'static)| {
        cause.is::<Usage>()
            || cause
                .downcast_ref::<hisaab_client::ClientError>()
                .is_some_and(hisaab_client::ClientError::is_usage)
    };
    if error.chain().any(is_usage) {
        return USAGE;
    }
    if error.chain().any(is_unreachable) {
        return UNREACHABLE;
    }
    FAILED
}

fn is_unreachable(cause: &(dyn std::error::Error + 'static)) -> bool {
    if cause.is::<Unreachable>() {
        return true;
    }
    if let Some(e) = cause.downcast_ref::<std::io::Error>() {
        // Bytes that were read but are not what they should be are a verification failure.
        return e.kind() != std::io::ErrorKind::InvalidData;
    }
    if let Some(e) = cause.downcast_ref::<reqwest::Error>() {
        // A request that never got an answer; an answer that does not verify is another matter.
        return e.is_connect() || e.is_timeout() || e.is_request() || e.is_body();
    }
    if let Some(e) = cause.downcast_ref::<hisaab_store::StoreError>() {
        return matches!(
            e,
            hisaab_store::StoreError::Locked { .. }
                | hisaab_store::StoreError::Io { .. }
                | hisaab_store::StoreError::NotAStore { .. }
                | hisaab_store::StoreError::EarlierLayout { .. }
                | hisaab_store::StoreError::IndexNotSynced { .. }
        );
    }
    false
}
