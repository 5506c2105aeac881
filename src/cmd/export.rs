//! `hisaab export`: a bundle (SPEC §6) of a data directory, streamed to a file.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};

use hisaab_model::view::{identify, openings_access};
use hisaab_store::Store;

use crate::args::ExportArgs;
use crate::datadir::{open_read_only, open_store};
use crate::keyfile;
use crate::progress::ProgressWriter;

/// Runs `hisaab export`.
pub(crate) fn run(args: &ExportArgs) -> Result<ExitCode> {
    let (count, size, root) = match &args.log_key {
        // Without the log key: read only, at a size the log signed a checkpoint for.
        None => {
            let dir = open_read_only(&args.data)?;
            let size = args.tree_size.unwrap_or(dir.report().size);
            let count = write_bundle(&args.out, |out| dir.export_bundle(size, out))?;
            let root = (size == dir.report().size).then_some(dir.report().root);
            (count, size, root)
        }
        Some(log_key) => {
            let store = open_store(&args.data, Some(log_key), args.master_key.as_deref())?;
            let size = args.tree_size.unwrap_or_else(|| store.size());
            let count = write_bundle(&args.out, |out| store.export_bundle(size, out))?;
            if let (Some(path), Some(key)) = (&args.openings, &args.key) {
                let written = write_openings(&store, size, key, path)?;
                eprintln!(
                    "wrote the openings of {written} entries to {}",
                    path.display()
                );
            }
            let root = store.checkpoint_at(size)?.map(|c| c.checkpoint.root);
            store.close()?;
            (count, size, root)
        }
    };
    eprintln!(
        "exported {count} entries (size {size}){}{}",
        if args.out.as_os_str() == "-" {
            String::new()
        } else {
            format!(" to {}", args.out.display())
        },
        root.map(|r| format!(" (root {r})")).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the openings file (SPEC §12.6) of the first `size` entries for the member whose
/// current key is the one in `key_path`: the openings of every entry that member may read in
/// full (SPEC §13.4). Returns how many entries it holds.
fn write_openings(store: &Store, size: u64, key_path: &Path, path: &Path) -> Result<usize> {
    let public = keyfile::public(&keyfile::read(key_path)?);
    let state = store.state(Some(size), None)?;
    let member = state
        .members
        .iter()
        .find(|(_, m)| m.key == public)
        .map(|(id, _)| id.as_str().to_owned())
        .with_context(|| format!("{} is no member's current key", key_path.display()))?;
    let reader = identify(&state, &member, &public)
        .with_context(|| format!("{member} may not read the ledger"))?;
    let file = store
        .openings_file(size, |scope, entry| {
            openings_access(&reader, scope, &entry.entry().statement)
        })
        .context("cannot read the openings (is the master key given?)")?;
    let out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist)", path.display()))?;
    let mut out = BufWriter::new(out);
    file.write(&mut out)?;
    out.flush()?;
    Ok(file.entries.len())
}

/// Writes a bundle with `export` to stdout (`-`) or a new file, removing a partial file.
fn write_bundle(
    out_path: &Path,
    export: impl FnOnce(&mut dyn Write) -> Result<u64, hisaab_store::StoreError>,
) -> Result<u64> {
    if out_path.as_os_str() == "-" {
        let out = std::io::stdout().lock();
        let mut out = BufWriter::with_capacity(1 << 16, out);
        let count = export(&mut out)?;
        out.flush()?;
        return Ok(count);
    }
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out_path)
        .with_context(|| format!("cannot create {} (it must not exist)", out_path.display()))?;
    let mut out = ProgressWriter::new(BufWriter::with_capacity(1 << 16, file), "exporting");
    let result = export(&mut out)
        .map_err(anyhow::Error::new)
        .and_then(|count| {
            let mut inner = out.into_inner();
            inner.flush()?;
            inner.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            Ok(count)
        });
    result.map_err(|e| {
        // A partial bundle would not verify; do not leave one behind.
        let _ = std::fs::remove_file(out_path);
        e.context("the export failed")
    })
}
