//! `hisaab export`: a bundle (SPEC §6) of a data directory, streamed to a file.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, Context as _, Result};
use hisaab_store::{Store, StoreConfig, SystemClock};

use crate::args::ExportArgs;
use crate::keyfile;
use crate::progress::ProgressWriter;

/// Opens the store in `dir` with the log key at `log_key`.
pub(crate) fn open_store(dir: &Path, log_key: Option<&Path>) -> Result<Store> {
    let log_key = log_key.ok_or_else(|| {
        anyhow!("opening a data directory needs its log key: pass --log-key FILE (or set HISAAB_LOG_KEY)")
    })?;
    let key = keyfile::read(log_key)?;
    Store::open(dir, key, StoreConfig::default(), Arc::new(SystemClock)).with_context(|| {
        format!(
            "cannot open the ledger in {} (is a server running on it? stop it first)",
            dir.display()
        )
    })
}

/// Runs `hisaab export`.
pub(crate) fn run(args: &ExportArgs) -> Result<ExitCode> {
    let store = open_store(&args.data.data, Some(&args.data.log_key))?;
    let size = args.tree_size.unwrap_or_else(|| store.size());
    let count = if args.out.as_os_str() == "-" {
        let out = std::io::stdout().lock();
        let mut out = BufWriter::with_capacity(1 << 16, out);
        let count = store.export_bundle(size, &mut out)?;
        out.flush()?;
        count
    } else {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&args.out)
            .with_context(|| format!("cannot create {} (it must not exist)", args.out.display()))?;
        let mut out = ProgressWriter::new(BufWriter::with_capacity(1 << 16, file), "exporting");
        let result = store
            .export_bundle(size, &mut out)
            .map_err(anyhow::Error::new)
            .and_then(|count| {
                let mut inner = out.into_inner();
                inner.flush()?;
                inner.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                Ok(count)
            });
        match result {
            Ok(count) => count,
            Err(e) => {
                // A partial bundle would not verify; do not leave one behind.
                let _ = std::fs::remove_file(&args.out);
                return Err(e.context("the export failed"));
            }
        }
    };
    let checkpoint = store.checkpoint_at(size)?;
    store.close()?;
    eprintln!(
        "exported {count} entries{}{}",
        if args.out.as_os_str() == "-" {
            String::new()
        } else {
            format!(" to {}", args.out.display())
        },
        checkpoint
            .map(|c| format!(" (root {})", c.checkpoint.root))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
