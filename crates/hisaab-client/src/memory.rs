//! What a client remembers between runs (the state file): for each server, the log's verifier
//! key and ledger id pinned on first use and the largest checkpoint verified; for each witness,
//! the last checkpoint it cosigned. Consistency with what was remembered is what makes a later
//! rewrite of history by the server detectable (SPEC §3).
//!
//! The file is JSON, written atomically (a temporary file renamed over the old one).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The environment variable that names the state file.
pub const STATE_ENV: &str = "HISAAB_STATE";

/// The remembered facts.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trust {
    /// Per server URL (without a trailing slash).
    #[serde(default)]
    pub servers: BTreeMap<String, ServerMemory>,
    /// Per `<server URL> <witness name>`: the checkpoint note last cosigned.
    #[serde(default)]
    pub witnessed: BTreeMap<String, String>,
}

/// What is remembered about one server.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerMemory {
    /// The log's verifier key (genesis `body.log_key`).
    pub log_vkey: String,
    /// The ledger id (event hash of entry 0).
    pub ledger: String,
    /// The ledger's format (its genesis statement's `v`); absent for format 1, so the files
    /// of clients that knew only format 1 read as they were written.
    #[serde(default = "format_1", skip_serializing_if = "is_format_1")]
    pub format: u64,
    /// The largest checkpoint note verified so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

fn format_1() -> u64 {
    1
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference.
fn is_format_1(format: &u64) -> bool {
    *format == 1
}

/// The state file cannot be found, read, parsed or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateFileError {
    /// No place for it: no path given, no `HISAAB_STATE`, no `XDG_CONFIG_HOME`, no `HOME`.
    #[error("no place for the state file: set --state, {STATE_ENV} or HOME")]
    NoPlace,
    /// It cannot be read or written.
    #[error("cannot {action} {path}")]
    Io {
        /// Read, create, write or replace.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// It is not the JSON of [`Trust`].
    #[error("cannot parse the state file {path}")]
    Parse {
        /// The path.
        path: PathBuf,
        /// What the parser said.
        #[source]
        source: serde_json::Error,
    },
    /// It holds a key or ledger id that does not parse.
    #[error("the state file {path} holds a bad {what} for {server}")]
    Damaged {
        /// The path.
        path: PathBuf,
        /// The server.
        server: String,
        /// `log key` or `ledger id`.
        what: &'static str,
    },
}

/// A state file and its contents.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    /// The contents.
    pub trust: Trust,
}

impl StateFile {
    /// Loads the file at `path`, or at the default location ([`StateFile::default_path`]); a
    /// missing file is an empty state.
    ///
    /// # Errors
    /// [`StateFileError`] when it cannot be located, read or parsed.
    pub fn load(path: Option<&Path>) -> Result<Self, StateFileError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => Self::default_path()?,
        };
        let trust = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| StateFileError::Parse {
                    path: path.clone(),
                    source,
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Trust::default(),
            Err(source) => {
                return Err(StateFileError::Io {
                    action: "read",
                    path,
                    source,
                })
            }
        };
        Ok(StateFile { path, trust })
    }

    /// `$HISAAB_STATE`, else `$XDG_CONFIG_HOME/hisaab/state.json`, else
    /// `~/.config/hisaab/state.json`.
    ///
    /// # Errors
    /// [`StateFileError::NoPlace`] when none of them is set.
    pub fn default_path() -> Result<PathBuf, StateFileError> {
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
        Err(StateFileError::NoPlace)
    }

    /// Where the file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the state back atomically.
    ///
    /// # Errors
    /// [`StateFileError::Io`] when it cannot be written.
    pub fn save(&self) -> Result<(), StateFileError> {
        let io = |action: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| StateFileError::Io {
                action,
                path,
                source,
            }
        };
        if let Some(parent) = self.path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(io("create", parent))?;
            }
        }
        let mut text =
            serde_json::to_vec_pretty(&self.trust).map_err(|source| StateFileError::Parse {
                path: self.path.clone(),
                source,
            })?;
        text.push(b'\n');
        let tmp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, &text).map_err(io("write", &tmp))?;
        std::fs::rename(&tmp, &self.path).map_err(io("replace", &self.path))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_missing_file_is_empty_and_a_saved_one_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("state.json");
        let mut file = StateFile::load(Some(&path)).unwrap();
        assert_eq!(file.trust, Trust::default());
        file.trust.witnessed.insert("a b".into(), "note".into());
        file.save().unwrap();
        assert_eq!(StateFile::load(Some(&path)).unwrap().trust, file.trust);
    }

    #[test]
    fn rejects_a_state_file_that_is_not_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "nope").unwrap();
        assert!(matches!(
            StateFile::load(Some(&path)),
            Err(StateFileError::Parse { .. })
        ));
    }
}
