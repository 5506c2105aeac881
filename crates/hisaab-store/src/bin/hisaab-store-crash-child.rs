//! The child process of the store's crash test: opens (or creates) the fixture ledger in a
//! directory and appends from several threads as fast as it can, printing each receipt as one
//! JSON line the moment it has it, until it is killed or has appended `max` entries.
//!
//! Usage: `hisaab-store-crash-child <dir> <namespace> <threads> <max>`

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hisaab_store::fixture;
use hisaab_store::{ManualClock, Store, StoreConfig};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("crash child: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, namespace, threads, max] = args.as_slice() else {
        return Err("usage: hisaab-store-crash-child <dir> <namespace> <threads> <max>".into());
    };
    let namespace: u32 = namespace.parse()?;
    let threads: u64 = threads.parse()?;
    let max: u64 = max.parse()?;
    // Time moves a minute per run so that recorded_at visibly never goes back across restarts.
    let clock = Arc::new(ManualClock::new(
        fixture::EPOCH_MILLIS + i64::from(namespace) * 60_000,
    ));
    let config = StoreConfig {
        batch_entries_max: 64,
        snapshot_every: 8,
        tail_check_entries: 4,
        ..StoreConfig::default()
    };
    let path = std::path::Path::new(dir);
    let store = if path.join("conf").exists() {
        Store::open(path, fixture::log_key(), config, clock)?
    } else {
        Store::create(path, fixture::genesis()?, fixture::log_key(), config, clock)?
    };
    let ledger_id = store
        .entry(0)?
        .ok_or("the store has no genesis")?
        .event_hash();
    let next = Arc::new(AtomicU64::new(0));
    let stdout = Arc::new(Mutex::new(std::io::stdout()));
    let mut handles = Vec::new();
    for _ in 0..threads {
        let (store, next, stdout) = (store.clone(), Arc::clone(&next), Arc::clone(&stdout));
        handles.push(std::thread::spawn(move || -> Result<(), String> {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= max {
                    return Ok(());
                }
                let envelope = fixture::register_operator(ledger_id, namespace, n)
                    .map_err(|e| e.to_string())?;
                let appended = store.append_blocking(envelope).map_err(|e| e.to_string())?;
                let line = serde_json::json!({"namespace": namespace, "n": n,
                                              "receipt": appended.receipt});
                let mut out = stdout.lock().map_err(|_| "stdout lock poisoned")?;
                writeln!(out, "{line}").map_err(|e| e.to_string())?;
                out.flush().map_err(|e| e.to_string())?;
            }
        }));
    }
    for handle in handles {
        handle.join().map_err(|_| "an appender thread panicked")??;
    }
    store.close()?;
    Ok(())
}
