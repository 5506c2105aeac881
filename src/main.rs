//! The `hisaab` command: keys, ledgers, the server, signing, submitting, verifying, replaying,
//! exporting, proofs, witnessing, load generation and the demo (SPEC §8).
//!
//! It is the only part of Hisaab that knows argv, the environment, key files and the terminal;
//! everything it checks, it checks with `hisaab-log` and `hisaab-model`, so what it says is
//! what an independent verifier would say. Errors are printed with their chain of causes and
//! the command exits non-zero.

// A command-line program talks to its user on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod cmd;
mod connect;
mod datadir;
mod exit;
mod keyfile;
mod progress;
mod serving;
mod util;

use std::process::ExitCode;

use clap::Parser as _;

use crate::args::{Cli, Command};

/// mimalloc rather than the system's allocator: a restart decodes a state of a million records
/// and frees it, a server allocates and frees per request on every core; with glibc's malloc
/// a tenth to a quarter of that time went to `malloc`, `free` and pages faulted in afresh
/// (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    without_huge_pages();
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(exit::code_of(&error))
        }
    }
}

/// Turns transparent huge pages off for this process (Linux). Where the system enables them
/// for every mapping, each first touch of a fresh 2 MB region had the kernel zero all of it:
/// under load a server gives freed memory back and takes it again, and zeroing whole huge pages
/// was about 5 % of its time (and 12 % of `hisaab load`'s); with ordinary pages ingest over HTTP
/// went up by about a tenth and a restart at 10^6 entries stayed as fast (docs/PERFORMANCE.md).
/// A kernel that refuses leaves things as they were.
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    let _refused = rustix::thread::disable_transparent_huge_pages(true);
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Keygen(a) => cmd::keygen::run(&a),
        Command::Pubkey(a) => cmd::keygen::run_pubkey(&a),
        Command::Init(a) => cmd::init::run(&a),
        Command::Serve(a) => cmd::serve::run(&a),
        Command::Sign(a) => cmd::sign::run(&a),
        Command::Submit(a) => cmd::submit::run(&a),
        Command::Verify(a) => cmd::verify::run(&a),
        Command::Replay(a) => cmd::replay::run(&a),
        Command::Obligations(a) => cmd::obligations::run(&a),
        Command::Export(a) => cmd::export::run(&a),
        Command::Disclose(a) => cmd::disclose::run(&a),
        Command::Proof(a) => cmd::proof::run(&a),
        Command::History(a) => cmd::history::run(&a),
        Command::Login(a) => cmd::history::login(&a),
        Command::Witness(a) => cmd::witness::run(&a),
        Command::Load(a) => cmd::load::run(&a),
        Command::Demo(a) => cmd::demo::run(&a),
    }
}
