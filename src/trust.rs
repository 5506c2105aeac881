//! What this client remembers between runs: for each server, the log's verifier key and ledger
//! id it pinned on first use, and the largest checkpoint it has verified; for each witness, the
//! last checkpoint it cosigned. Consistency with what was remembered is what makes a later
//! rewrite of history by the server detectable (SPEC §3).
//!
//! The file is JSON, written atomically (a temporary file renamed over the old one).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

/// The environment variable that names the state file.
pub(crate) const STATE_ENV: &str = "HISAAB_STATE";

/// The remembered facts.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct TrustState {
    /// Per server URL (without a trailing slash).
    #[serde(default)]
    pub(crate) servers: BTreeMap<String, ServerMemory>,
    /// Per `<server URL> <witness name>`: the checkpoint note last cosigned.
    #[serde(default)]
    pub(crate) witnessed: BTreeMap<String, String>,
}

/// What is remembered about one server.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct ServerMemory {
    /// The log's verifier key (genesis `body.log_key`).
    pub(crate) log_vkey: String,
    /// The ledger id (event hash of entry 0).
    pub(crate) ledger: String,
    /// The largest checkpoint note verified so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) checkpoint: Option<String>,
}

/// A state file and its contents.
#[derive(Debug)]
pub(crate) struct TrustFile {
    path: PathBuf,
    /// The contents.
    pub(crate) state: TrustState,
}

impl TrustFile {
    /// Loads the file at `path`, or the default location; a missing file is an empty state.
    pub(crate) fn load(path: Option<&Path>) -> Result<Self> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => default_path()?,
        };
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("cannot parse the state file {}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => TrustState::default(),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", path.display()));
            }
        };
        Ok(TrustFile { path, state })
    }

    /// Where the file lives.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the state back atomically.
    pub(crate) fn save(&self) -> Result<()> {
        if let Some(parent) = self.path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
        }
        let mut text = serde_json::to_vec_pretty(&self.state)?;
        text.push(b'\n');
        let tmp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, &text).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &self.path)
            .with_context(|| format!("cannot replace {}", self.path.display()))?;
        Ok(())
    }
}

/// `$HISAAB_STATE`, else `$XDG_CONFIG_HOME/hisaab/state.json`, else `~/.config/hisaab/state.json`.
fn default_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(STATE_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    if let Some(p) = std::env::var_os("XDG_CONFIG_HOME").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p).join("hisaab").join("state.json"));
    }
    if let Some(home) = std::env::var_os("HOME").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(home)
            .join(".config")
            .join("hisaab")
            .join("state.json"));
    }
    anyhow::bail!("no place for the state file: set --state, {STATE_ENV} or HOME")
}
