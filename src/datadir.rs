//! Data directories on this machine: a new one must be empty, an existing one is opened with
//! its log key (to serve or sign) or read only after the full check (no key needed).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use hisaab_store::{open_audited, AuditedDir, MasterKey, Store, StoreConfig, SystemClock};

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

/// Where the master key lives when no `--master-key` is given: beside the log key, with the
/// extension `.master` (`keys/log.pem` → `keys/log.master`).
pub(crate) fn default_master_key(log_key: &Path) -> PathBuf {
    log_key.with_extension("master")
}

/// The master key to open a store with: the one `--master-key` names (which must exist), else
/// the default beside the log key if it exists, else none.
pub(crate) fn master_key(log_key: &Path, given: Option<&Path>) -> Result<Option<MasterKey>> {
    let path = given.map_or_else(|| default_master_key(log_key), Path::to_owned);
    if given.is_none() && !path.exists() {
        return Ok(None);
    }
    MasterKey::read_file(&path)
        .map(Some)
        .with_context(|| format!("cannot read the master key {}", path.display()))
}

/// Opens the store in `dir` with the log key at `log_key` and the master key `master` (or the
/// default beside the log key, when it exists).
pub(crate) fn open_store(
    dir: &Path,
    log_key: Option<&Path>,
    master: Option<&Path>,
) -> Result<Store> {
    let log_key = log_key.ok_or_else(|| {
        crate::exit::usage(
            "serving a data directory needs its log key, which signs checkpoints: pass \
             --log-key FILE (or set HISAAB_LOG_KEY)",
        )
    })?;
    let master = master_key(log_key, master)?;
    let key = keyfile::read(log_key)?;
    let (config, clock) = (StoreConfig::default(), Arc::new(SystemClock));
    // The error names the cause (a lock held by another process, damaged files, the seq of
    // the corruption, a wrong master key); nothing is guessed here.
    let store = match master {
        Some(master) => Store::open_with_master_key(dir, key, master, config, clock),
        None => Store::open(dir, key, config, clock),
    }
    .with_context(|| format!("cannot open the ledger in {}", dir.display()))?;
    if store.format() >= 2 && !store.keeps_openings() {
        eprintln!(
            "warning: {}: no master key ({} does not exist): sealed statements are refused and \
             sealed entries are replayed as the public sees them; pass --master-key FILE",
            dir.display(),
            default_master_key(log_key).display()
        );
    }
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
