//! # hisaab-client
//!
//! A client of a Hisaab server (SPEC §7) that trusts nothing it has not verified. [`Client`]
//! speaks the HTTP API with the wire types of `hisaab-api` (a blocking client, bounded answers,
//! a timeout per request): checkpoints, entries and pages of them, histories, proofs, the
//! state, bundles, statements and cosignatures. [`Session`] binds a client to a pinned log: the log's verifier key
//! and ledger id learnt from the genesis entry on first use (or pinned by the caller), every
//! checkpoint checked under that key, every proof against a checkpoint, every receipt against
//! its checkpoint and the entry it names, and every new checkpoint for consistency with the
//! largest one remembered in the [`StateFile`] (SPEC §3: a rewrite of history shows).
//! [`Pins`] check a log key, ledger id and witness policy found against what a user pinned.
//!
//! It does not parse argv, print, or decide exit codes (the `hisaab` binary does), and it
//! knows no server internals: the same client serves the CLI, the load generator, the tests
//! and a web front end.
//!
//! ```no_run
//! use hisaab_client::{Session, SessionOptions};
//!
//! # fn main() -> Result<(), hisaab_client::ClientError> {
//! let mut session = Session::open("http://127.0.0.1:8080", &SessionOptions::default())?;
//! let latest = session.latest_checkpoint()?;
//! println!("size {} root {}", latest.checkpoint.size, latest.checkpoint.root);
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod error;
mod http;
mod memory;
mod pin;
mod session;

pub use error::{ClientError, HttpError};
pub use hisaab_api as api;
pub use http::{is_url, normalize_url, Client, Credentials, Listed, Posted};
pub use memory::{ServerMemory, StateFile, StateFileError, Trust, STATE_ENV};
pub use pin::{PinError, Pins, WitnessKey};
pub use session::{
    check_consistent, LatestCheckpoint, LogIdentity, Observation, Session, SessionOptions,
};
