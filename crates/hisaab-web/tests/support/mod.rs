//! A real store holding the demo scenario's ledger, shared by the tests and the bench.

use std::path::Path;
use std::sync::Arc;

use hisaab_log::Timestamp;
use hisaab_scenario::ScenarioConfig;
use hisaab_store::{ManualClock, Store, StoreConfig};

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
