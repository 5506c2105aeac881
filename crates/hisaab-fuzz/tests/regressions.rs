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

#[test]
fn corpus_and_findings_replay_without_failure() {
    let mut replayed = 0usize;
    for (name, target) in hisaab_fuzz::TARGETS {
        for folder in ["corpus", "regressions"] {
            for path in inputs(&fuzz_dir().join(folder).join(name)) {
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
