//! The parts of `hisaab-model` the store uses, and the adapters between the two crates' errors.

use hisaab_log::PublicKey;
pub(crate) use hisaab_model::{History, HistoryError, Ledger, Role, VerifyError};
pub use hisaab_model::{Rule, State, Violation};

use crate::error::StoreError;

/// A store failure as the model's history error.
pub(crate) fn history_error(error: StoreError) -> HistoryError {
    HistoryError::Storage {
        message: error.to_string(),
        source: Some(Box::new(error)),
    }
}

/// The seq a bundle verification failed at, where it names one.
pub(crate) fn verify_error_seq(error: &VerifyError) -> Option<u64> {
    error.seq()
}

/// The current key of the active member `member` if it holds the role `witness` (SPEC §3: a
/// witness cosigns under the key name of its member id).
pub(crate) fn witness_key(ledger: &Ledger, member: &str) -> Option<PublicKey> {
    ledger
        .active_keys_with_role(Role::Witness)
        .into_iter()
        .find(|(id, _)| *id == member)
        .map(|(_, key)| key)
}
