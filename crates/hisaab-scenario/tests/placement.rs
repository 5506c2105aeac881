//! Where each entry of the demo belongs, asked four ways that must agree (SPEC §12.8, §13.4):
//! the scope the log-order fold gives it (`Scopes`, as an audit folds the stored log), the
//! scope and subject the ledger answers once it has applied the entry (`Ledger::scope_of`,
//! `Ledger::subject_of`), what the ledger returns as it applies it (`Ledger::apply_indexed`,
//! as the store's sequencer indexes it), and the operator whose state the entry concerns,
//! asked before it is applied (`Ledger::concern_of`, as the ledger marks an operator whose
//! entry kept a sealed field unopened).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use hisaab_model::place::Concern;
use hisaab_model::view::{Scope, Scopes};
use hisaab_model::{Body, Ledger, MemoryLedger};
use hisaab_scenario::{build, ScenarioConfig};

fn agree(config: &ScenarioConfig) {
    let scenario = build(config).expect("the demo builds");
    let entries = scenario.sealed_entries().expect("the demo's entries");
    let mut ledger = Ledger::new();
    // The history the rules consult: the same entries, one step behind.
    let mut history = MemoryLedger::new();
    let mut scopes = Scopes::new();
    let mut seen = HashSet::new();
    for entry in entries {
        let seq = entry.entry().seq;
        let statement = &entry.entry().statement;
        let body = Body::try_parse(&statement.kind, &statement.body).expect("an accepted body");
        let concern = ledger.concern_of(&body);
        let applied = ledger
            .apply_indexed(&entry, None, &history)
            .unwrap_or_else(|v| panic!("seq {seq}: {v}"));
        assert_eq!(applied.scope, ledger.scope_of(statement), "seq {seq}");
        assert_eq!(applied.subject, ledger.subject_of(statement), "seq {seq}");
        assert_eq!(scopes.push(&entry), applied.scope, "seq {seq}");
        // The operator the entry concerns is where the scope puts it; a registry entry
        // concerns the operator its body names, if any.
        let expected = match &applied.scope {
            Scope::Operator(operator) => Concern::Operator(operator.clone()),
            Scope::Sector => Concern::Nothing,
            Scope::Registry => body.subject().0.map_or(Concern::Unknown, |operator| {
                Concern::Operator(operator.clone())
            }),
        };
        assert_eq!(concern, expected, "seq {seq} ({})", statement.kind);
        seen.insert(std::mem::discriminant(&applied.scope));
        history.append(entry).expect("the history takes the entry");
    }
    // The demo reaches every kind of scope, so each arm above was compared.
    assert_eq!(seen.len(), 3, "registry, operator and sector entries");
}

#[test]
fn placement_agrees_on_every_entry_of_the_demo() {
    agree(&ScenarioConfig::default());
}

#[test]
fn placement_agrees_on_every_entry_of_the_format_1_demo() {
    agree(&ScenarioConfig {
        format: 1,
        ..ScenarioConfig::default()
    });
}
