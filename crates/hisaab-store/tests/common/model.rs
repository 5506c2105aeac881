//! What the store's model-based tests share: a reference model's verdict on a statement, the
//! store's answer held against it, and the property tests' configuration.

use hisaab_log::Envelope;
use hisaab_store::{AppendError, Appended, Rule, Store};
use proptest::prop_assert_eq;
use proptest::test_runner::{Config as ProptestConfig, RngSeed, TestCaseError};

/// What a reference model says of a statement: accepted, with its effect on the model, or
/// refused under a rule.
pub enum Verdict<E> {
    Accept(E),
    Refuse(Rule),
}

/// Appends `envelope` to `store` and holds the answer against `verdict` (`at` names the step
/// in failures): an accepted statement gives back its effect and what was appended, for the
/// caller to apply to its model; a refused one must be refused under the expected rule and
/// leave the store's size as it was.
pub fn append_judged<E>(
    store: &Store,
    at: &str,
    envelope: Envelope,
    verdict: Verdict<E>,
) -> Result<Option<(E, Appended)>, TestCaseError> {
    let size = store.size();
    match (store.append_blocking(envelope), verdict) {
        (Ok(appended), Verdict::Accept(effect)) => Ok(Some((effect, appended))),
        (Err(AppendError::Violation(v)), Verdict::Refuse(rule)) => {
            prop_assert_eq!(v.rule, rule, "{}: refused as {}", at, v);
            prop_assert_eq!(store.size(), size, "{}: grew", at);
            Ok(None)
        }
        (Ok(_), Verdict::Refuse(rule)) => Err(TestCaseError::fail(format!(
            "{at}: accepted, but the reference refuses it under {rule:?}"
        ))),
        (Err(e), Verdict::Accept(_)) => Err(TestCaseError::fail(format!(
            "{at}: refused ({e}), but the reference accepts it"
        ))),
        (Err(e), Verdict::Refuse(_)) => Err(TestCaseError::fail(format!("{at}: failed: {e}"))),
    }
}

/// The property tests' configuration: 16 cases and the fixed `seed` unless `PROPTEST_CASES`
/// or `PROPTEST_RNG_SEED` say otherwise, and a bounded shrink.
pub fn proptest_config(seed: u64) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 16;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(seed);
    }
    config.max_shrink_iters = 256;
    config
}
