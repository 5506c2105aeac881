//! Runs the public test vectors (RFC 9162 proofs, C2SP notes, RFC 8785) against hisaab-log.
//!
//! ```text
//! cargo run -p hisaab-log --example vectors -- ../shared/vectors
//! ```
//!
//! Every case runs with its expected outcome; the run fails on any mismatch, on a missing
//! folder or file, and when a file yields no cases at all.
#![allow(clippy::print_stdout)]

mod jcs;
mod merkle;
mod note;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!(
            "usage: vectors <folder with merkle_vectors.json, note_vectors.json, jcs_vectors.json>"
        );
        return ExitCode::from(2);
    };
    if !dir.is_dir() {
        eprintln!("vectors: {} is not a folder", dir.display());
        return ExitCode::FAILURE;
    }
    type Runner = fn(&std::path::Path) -> Result<(usize, usize), String>;
    let runners: [(&str, Runner); 3] = [
        ("RFC 8785 (jcs_vectors.json)", jcs::run),
        ("RFC 9162 (merkle_vectors.json)", merkle::run),
        ("C2SP notes (note_vectors.json)", note::run),
    ];
    let (mut passed, mut failed) = (0usize, 0usize);
    for (name, run) in runners {
        match run(&dir) {
            Ok((0, 0)) => {
                println!("{name}: no cases found");
                failed += 1;
            }
            Ok((p, f)) => {
                println!("{name}: {p} passed, {f} failed");
                passed += p;
                failed += f;
            }
            Err(e) => {
                println!("{name}: cannot run: {e}");
                failed += 1;
            }
        }
    }
    println!("vectors: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
