//! Replays every kept input of every fuzz target: the corpus (`fuzz/corpus/TARGET/`) and the
//! findings that once failed (`fuzz/regressions/TARGET/`), so `cargo test` keeps them fixed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fs;
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn inputs(folder: &Path) -> Vec<PathBuf> {
    let Ok(read) = fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = read
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_has_a_seed_corpus_and_a_harness() {
    for (name, _) in hisaab_fuzz::TARGETS {
        let corpus = fuzz_dir().join("corpus").join(name);
        assert!(
            !inputs(&corpus).is_empty(),
            "no seeds in {}",
            corpus.display()
        );
        let harness = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        assert!(harness.is_file(), "no harness {}", harness.display());
    }
}

/// Every `apply` input replays 24 statements with a snapshot per statement, slow in a debug
/// build: `cargo test` replays every 8th of its corpus (all of its findings); the fuzzer itself
/// runs the whole corpus.
const APPLY_CORPUS_STRIDE: usize = 8;

#[test]
fn corpus_and_findings_replay_without_failure() {
    let mut replayed = 0usize;
    for (name, target) in hisaab_fuzz::TARGETS {
        for folder in ["corpus", "regressions"] {
            let stride = if *name == "apply" && folder == "corpus" {
                APPLY_CORPUS_STRIDE
            } else {
                1
            };
            for path in inputs(&fuzz_dir().join(folder).join(name))
                .into_iter()
                .step_by(stride)
            {
                let data = fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| target(&data));
                assert!(outcome.is_ok(), "{name}: {} fails", path.display());
                replayed += 1;
            }
        }
    }
    assert!(replayed >= hisaab_fuzz::TARGETS.len());
}

#[test]
fn the_golden_seeds_verify_so_the_fuzzer_starts_from_valid_input() {
    let note = fs::read(fuzz_dir().join("corpus/note/checkpoint")).unwrap();
    let key = hisaab_fuzz::golden_verifier_key();
    let opened = hisaab_log::note::open_note_bytes(&note, &[key]).unwrap();
    assert_eq!(opened.verified.len(), 1);
    let bundle = fs::read(fuzz_dir().join("corpus/bundle/golden")).unwrap();
    let verified = hisaab_model::verify_bundle(bundle.as_slice()).unwrap();
    assert_eq!(verified.size, 8);
}

#[test]
fn the_apply_corpus_gets_statements_of_most_kinds_accepted() {
    let mut kinds = std::collections::BTreeSet::new();
    let corpus = inputs(&fuzz_dir().join("corpus/apply"));
    for path in corpus.into_iter().step_by(APPLY_CORPUS_STRIDE) {
        kinds.extend(hisaab_fuzz::apply_kinds(&fs::read(path).unwrap()));
    }
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    // The fuzzer must get past the rules' refusals: at least these kinds are accepted somewhere.
    // (Evaluations and the disputes on them need a submission and an evaluator's statement
    // naming it in one input; the corpus has not reached them yet: docs/FUZZING.md.)
    for kind in [
        "member.enrolled",
        "member.revoked",
        "kpi.defined",
        "kpi.assigned",
        "submission.filed",
        "commitment.made",
        "challenge.raised",
    ] {
        assert!(
            names.contains(&kind),
            "no accepted {kind} in the corpus: {names:?}"
        );
    }
}
