//! The public test vectors (RFC 8785, RFC 9162, C2SP notes) under `cargo test`, with the same
//! runners as `cargo run -p hisaab-log --example vectors -- DIR`.
//!
//! The vectors live outside the repository (`../shared/vectors` beside the checkout, or the
//! folder in `HISAAB_VECTORS`). Where they are absent the test says so and passes, so that
//! `cargo test --workspace` works on a fresh machine; with `HISAAB_REQUIRE_VECTORS=1` (as CI
//! sets it) their absence is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;

#[path = "../examples/vectors/jcs.rs"]
mod jcs;
#[path = "../examples/vectors/merkle.rs"]
mod merkle;
#[path = "../examples/vectors/note.rs"]
mod note;

fn vectors_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("HISAAB_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
        PathBuf::from,
    );
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("HISAAB_REQUIRE_VECTORS").as_deref() != Ok("1"),
        "HISAAB_REQUIRE_VECTORS=1 but {} is not a folder",
        dir.display()
    );
    eprintln!(
        "skipped: the public vectors are not at {} (set HISAAB_VECTORS)",
        dir.display()
    );
    None
}

fn check(name: &str, run: fn(&std::path::Path) -> Result<(usize, usize), String>) {
    let Some(dir) = vectors_dir() else { return };
    let (passed, failed) = run(&dir).unwrap_or_else(|e| panic!("{name}: cannot run: {e}"));
    assert!(passed > 0, "{name}: no cases found in {}", dir.display());
    assert_eq!(
        failed,
        0,
        "{name}: {failed} of {} cases failed",
        passed + failed
    );
}

#[test]
fn rfc_8785_canonical_json_vectors() {
    check("RFC 8785 (jcs_vectors.json)", jcs::run);
}

#[test]
fn rfc_9162_merkle_proof_vectors() {
    check("RFC 9162 (merkle_vectors.json)", merkle::run);
}

#[test]
fn c2sp_signed_note_vectors() {
    check("C2SP notes (note_vectors.json)", note::run);
}
