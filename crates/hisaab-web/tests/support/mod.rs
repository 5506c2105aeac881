//! A real store holding the demo scenario's ledger, shared by the tests and the bench.

use std::path::Path;
use std::sync::Arc;

use hisaab_log::Timestamp;
use hisaab_scenario::ScenarioConfig;
use hisaab_store::{ManualClock, MasterKey, Store, StoreConfig};

fn millis(t: &Timestamp) -> i64 {
    i64::try_from(t.unix_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The demo scenario's ledger over `months` months, appended to a new store in `dir` at the
/// times the scenario gives, as `hisaab demo` does.
pub(crate) fn demo_store(dir: &Path, months: u32) -> Store {
    let config = ScenarioConfig {
        months,
        ..ScenarioConfig::default()
    };
    let scenario = hisaab_scenario::build(&config).unwrap();
    let mut steps = scenario.steps.iter();
    let genesis = steps.next().unwrap();
    let clock = Arc::new(ManualClock::new(millis(&genesis.recorded_at)));
    let store = Store::create(
        dir,
        genesis.envelope.clone(),
        scenario.log_key.clone(),
        StoreConfig::default(),
        clock.clone(),
    )
    .unwrap();
    for step in steps {
        clock.set(millis(&step.recorded_at));
        store.append_blocking(step.envelope.clone()).unwrap();
    }
    store
}

/// The same ledger as its signers seal it (format 2, SPEC §12.5): every entry stored in sealed
/// form and its openings kept under a fresh master key, as `hisaab demo` serves it.
#[allow(dead_code)] // the tests' (the bench reads the plain store)
pub(crate) fn sealed_demo_store(dir: &Path, months: u32) -> Store {
    let config = ScenarioConfig {
        months,
        ..ScenarioConfig::default()
    };
    let scenario = hisaab_scenario::build(&config).unwrap();
    let sealed = scenario.sealed().unwrap();
    let genesis = sealed.steps[0].entry.entry();
    let clock = Arc::new(ManualClock::new(millis(&genesis.recorded_at)));
    let store = Store::create_with_master_key(
        dir,
        genesis.envelope(),
        scenario.log_key.clone(),
        MasterKey::generate(),
        StoreConfig::default(),
        clock.clone(),
    )
    .unwrap();
    for step in &sealed.steps[1..] {
        let entry = step.entry.entry();
        clock.set(millis(&entry.recorded_at));
        store
            .append_sealed_blocking(entry.envelope(), step.sealing.clone())
            .unwrap();
    }
    store
}
