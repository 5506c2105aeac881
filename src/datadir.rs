//! Data directories on this machine: a new one must be empty, an existing one is opened with
//! its log key (to serve or sign) or read only after the full check (no key needed).

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use hisaab_store::{open_audited, AuditedDir, Store, StoreConfig, SystemClock};

use crate::keyfile;

/// The data directory must be absent or empty.
pub(crate) fn refuse_non_empty(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!("{} is not empty; refusing to use it", dir.display());
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// Opens the store in `dir` with the log key at `log_key`.
pub(crate) fn open_store(dir: &Path, log_key: Option<&Path>) -> Result<Store> {
    let log_key = log_key.ok_or_else(|| {
        crate::exit::usage(
            "serving a data directory needs its log key, which signs checkpoints: pass \
             --log-key FILE (or set HISAAB_LOG_KEY)",
        )
    })?;
    let key = keyfile::read(log_key)?;
    // The error names the cause (a lock held by another process, damaged files, the seq of
    // the corruption); nothing is guessed here.
    let store = Store::open(dir, key, StoreConfig::default(), Arc::new(SystemClock))
        .with_context(|| format!("cannot open the ledger in {}", dir.display()))?;
    let report = store.open_report();
    if let Some(warning) = report.mark.warning() {
        eprintln!("warning: {}: {warning}", dir.display());
    }
    if report.snapshots_refused > 0 {
        eprintln!(
            "warning: {}: {} snapshot(s) of the replay state did not check out and were passed \
             over (the state was rebuilt from the entries); run `hisaab verify {}` to name them",
            dir.display(),
            report.snapshots_refused,
            dir.display()
        );
    }
    Ok(store)
}

/// Opens the ledger in `dir` read-only, after the full check of `verify`: no key needed.
pub(crate) fn open_read_only(dir: &Path) -> Result<AuditedDir> {
    open_audited(dir, &StoreConfig::default())
        .with_context(|| format!("cannot read the ledger in {}", dir.display()))
}
