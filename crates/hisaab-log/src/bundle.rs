//! Bundles (SPEC §6): a JSON Lines file holding a header and every entry's leaf bytes, which
//! anyone can verify with nothing but the file and the log's public key.
//!
//! [`BundleWriter`] and [`BundleReader`] stream: memory is one line plus the O(log n) Merkle
//! frontier, whatever the bundle's size. [`verify_bundle_structure`] checks everything of
//! SPEC §6 that needs no accountability model (chain, signatures, Merkle root against the
//! checkpoint, checkpoint signature under the genesis `log_key`) and hands each entry to a
//! callback, through which `hisaab-model` adds the rules of SPEC §4.

use std::error::Error as StdError;
use std::io::{self, BufRead, Read, Write};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::chain::{ChainError, ChainVerifier};
use crate::error::FormatError;
use crate::hash::Hash;
use crate::jcs;
use crate::merkle::Frontier;
use crate::note::{verify_checkpoint, Checkpoint, NoteError, VerifierKey};
use crate::statement::{SealedEntry, ENTRY_BYTES_MAX};

/// The value of the header's `bundle` field for a format-1 ledger.
pub const BUNDLE_FORMAT: &str = "hisaab/v1";

/// The value of the header's `bundle` field for a format-2 ledger (SPEC §11).
pub const BUNDLE_FORMAT_V2: &str = "hisaab/v2";

/// The header's `bundle` value for a ledger of format `v` (its genesis statement's `v`).
pub fn bundle_format(v: u64) -> Option<&'static str> {
    match v {
        1 => Some(BUNDLE_FORMAT),
        2 => Some(BUNDLE_FORMAT_V2),
        _ => None,
    }
}

/// The longest header line accepted, in bytes.
pub const HEADER_BYTES_MAX: usize = 1 << 20;

/// Line 1 of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleHeader {
    /// `hisaab/v<v>`, the ledger's format: [`BUNDLE_FORMAT`] or [`BUNDLE_FORMAT_V2`].
    #[schemars(schema_with = "crate::schema::bundle_format")]
    pub bundle: String,
    /// The ledger's origin (genesis `body.origin`).
    #[schemars(regex = "crate::schema::ORIGIN_PATTERN")]
    pub origin: String,
    /// The log's verifier key (genesis `body.log_key`).
    #[schemars(regex = "crate::schema::VKEY_PATTERN")]
    pub log_key: String,
    /// A signed checkpoint note for exactly the entries that follow.
    #[schemars(regex = "crate::schema::SIGNED_CHECKPOINT_PATTERN")]
    pub checkpoint: String,
}

impl BundleHeader {
    /// A header for `checkpoint`, a signed note, of a format-1 ledger.
    pub fn new(origin: &str, log_key: &str, checkpoint: &str) -> Self {
        BundleHeader {
            bundle: BUNDLE_FORMAT.into(),
            origin: origin.into(),
            log_key: log_key.into(),
            checkpoint: checkpoint.into(),
        }
    }

    /// A header for `checkpoint` of a ledger of format `v` (an unknown format writes
    /// `hisaab/v<v>`, which every reader refuses).
    pub fn for_format(v: u64, origin: &str, log_key: &str, checkpoint: &str) -> Self {
        BundleHeader {
            bundle: bundle_format(v).map_or_else(|| format!("hisaab/v{v}"), str::to_owned),
            ..BundleHeader::new(origin, log_key, checkpoint)
        }
    }

    /// The ledger format the header names (1 or 2), if it is one this code knows.
    pub fn format(&self) -> Option<u64> {
        [1, 2]
            .into_iter()
            .find(|v| bundle_format(*v) == Some(self.bundle.as_str()))
    }
}

/// What went wrong with a bundle. Errors about an entry name its seq.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The header line is not a valid header.
    #[error("bundle header: {reason}")]
    Header {
        /// What is wrong.
        reason: String,
    },
    /// The header's checkpoint does not open under the header's log key.
    #[error("bundle header: the checkpoint does not verify: {0}")]
    Checkpoint(#[source] NoteError),
    /// A line that is not an entry's canonical leaf bytes.
    #[error("seq {seq}: {source}")]
    Entry {
        /// The line's seq (line number minus 2).
        seq: u64,
        /// Why it was refused.
        #[source]
        source: FormatError,
    },
    /// A line that starts as a withheld line (SPEC §6.1) but is not one.
    #[error("seq {seq}: not a withheld line of SPEC §6.1: {reason}")]
    Withheld {
        /// The line's seq.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
    /// A line longer than any entry may be.
    #[error("seq {seq}: the line is longer than {max} bytes")]
    LineTooLong {
        /// The line's seq.
        seq: u64,
        /// The limit.
        max: usize,
    },
    /// The last line does not end in a newline.
    #[error("seq {seq}: the line does not end in a newline")]
    MissingNewline {
        /// The line's seq.
        seq: u64,
    },
    /// The chain breaks.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The header disagrees with the genesis statement.
    #[error("seq 0: the header's {field} is {header:?}, but the genesis says {genesis:?}")]
    GenesisMismatch {
        /// `origin`, `log_key` or `bundle` (the format, against the genesis statement's `v`).
        field: &'static str,
        /// The header's value.
        header: String,
        /// The genesis value.
        genesis: String,
    },
    /// No entries.
    #[error("the bundle has no entries")]
    Empty,
    /// The checkpoint covers another number of entries.
    #[error("the checkpoint is for {checkpoint} entries, but the bundle has {entries}")]
    SizeMismatch {
        /// The checkpoint's size.
        checkpoint: u64,
        /// The number of entries in the bundle.
        entries: u64,
    },
    /// The entries' Merkle root is not the checkpoint's.
    #[error(
        "the Merkle root of the {size} entries is {computed}, but the checkpoint says {expected}"
    )]
    RootMismatch {
        /// The tree size.
        size: u64,
        /// The checkpoint's root.
        expected: Hash,
        /// The root computed from the entries.
        computed: Hash,
    },
    /// An entry broke a rule that the caller checks (the accountability model).
    #[error("seq {seq}: {source}")]
    Rejected {
        /// The entry's seq.
        seq: u64,
        /// The caller's reason.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

impl BundleError {
    /// The seq of the entry at fault, when the error is about one entry.
    pub fn seq(&self) -> Option<u64> {
        match self {
            BundleError::Entry { seq, .. }
            | BundleError::Withheld { seq, .. }
            | BundleError::LineTooLong { seq, .. }
            | BundleError::MissingNewline { seq }
            | BundleError::Rejected { seq, .. } => Some(*seq),
            BundleError::Chain(e) => Some(e.seq()),
            BundleError::GenesisMismatch { .. } => Some(0),
            _ => None,
        }
    }
}

/// Writes a bundle line by line.
#[derive(Debug)]
pub struct BundleWriter<W: Write> {
    out: W,
    count: u64,
}

impl<W: Write> BundleWriter<W> {
    /// Writes the header line.
    ///
    /// # Errors
    /// [`BundleError::Io`] when writing fails; [`BundleError::Header`] when it does not serialise.
    pub fn new(mut out: W, header: &BundleHeader) -> Result<Self, BundleError> {
        let line = jcs::to_canonical(header).map_err(|e| BundleError::Header {
            reason: e.to_string(),
        })?;
        out.write_all(&line)?;
        out.write_all(b"\n")?;
        Ok(BundleWriter { out, count: 0 })
    }

    /// Writes one entry's leaf bytes as the next line.
    ///
    /// # Errors
    /// [`BundleError::Io`] when writing fails.
    pub fn write_leaf(&mut self, leaf_bytes: &[u8]) -> Result<(), BundleError> {
        self.out.write_all(leaf_bytes)?;
        self.out.write_all(b"\n")?;
        self.count = self.count.saturating_add(1);
        Ok(())
    }

    /// How many entries were written.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Flushes and gives back the writer.
    ///
    /// # Errors
    /// [`BundleError::Io`] when flushing fails.
    pub fn finish(mut self) -> Result<W, BundleError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads a bundle line by line.
#[derive(Debug)]
pub struct BundleReader<R: BufRead> {
    input: R,
    header: BundleHeader,
    next_seq: u64,
    line: Vec<u8>,
}

/// Reads one line of at most `max` bytes (newline excluded). `Ok(None)` at the end of input.
fn read_line<R: BufRead>(
    input: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<LineEnd>> {
    buf.clear();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let read = input.by_ref().take(limit).read_until(b'\n', buf)?;
    if read == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        Ok(Some(LineEnd::Newline))
    } else if buf.len() > max {
        Ok(Some(LineEnd::TooLong))
    } else {
        Ok(Some(LineEnd::Eof))
    }
}

enum LineEnd {
    Newline,
    Eof,
    TooLong,
}

impl<R: BufRead> BundleReader<R> {
    /// Reads and parses the header line.
    ///
    /// # Errors
    /// [`BundleError::Header`] when the first line is not a header of SPEC §6.
    pub fn new(mut input: R) -> Result<Self, BundleError> {
        let mut line = Vec::new();
        let header_error = |reason: &str| BundleError::Header {
            reason: reason.to_owned(),
        };
        match read_line(&mut input, &mut line, HEADER_BYTES_MAX)? {
            None => return Err(header_error("the bundle is empty")),
            Some(LineEnd::TooLong) => return Err(header_error("the header line is too long")),
            Some(LineEnd::Eof) => return Err(header_error("the header line has no newline")),
            Some(LineEnd::Newline) => {}
        }
        let value = jcs::parse_strict(&line).map_err(|e| BundleError::Header {
            reason: e.to_string(),
        })?;
        let header: BundleHeader =
            serde_json::from_value(value).map_err(|e| BundleError::Header {
                reason: e.to_string(),
            })?;
        if header.format().is_none() {
            return Err(BundleError::Header {
                reason: format!(
                    "`bundle` must be {BUNDLE_FORMAT:?} or {BUNDLE_FORMAT_V2:?}, found {:?}",
                    header.bundle
                ),
            });
        }
        Ok(BundleReader {
            input,
            header,
            next_seq: 0,
            line,
        })
    }

    /// The header.
    pub fn header(&self) -> &BundleHeader {
        &self.header
    }

    /// Reads the next entry; `Ok(None)` at the end.
    ///
    /// # Errors
    /// A [`BundleError`] naming the seq of the line that is not an entry's leaf bytes.
    pub fn next_entry(&mut self) -> Result<Option<SealedEntry>, BundleError> {
        let Some((seq, line)) = self.next_line()? else {
            return Ok(None);
        };
        SealedEntry::try_from_leaf_bytes(line)
            .map(Some)
            .map_err(|source| BundleError::Entry { seq, source })
    }

    /// Reads the next line: an entry, or a withheld line (SPEC §6.1) with the leaf hash it
    /// stands for; `Ok(None)` at the end.
    ///
    /// # Errors
    /// As [`BundleReader::next_entry`]; [`BundleError::Withheld`] for a line that begins as a
    /// withheld line and is not one.
    pub fn next_item(&mut self) -> Result<Option<BundleLine>, BundleError> {
        let Some((seq, line)) = self.next_line()? else {
            return Ok(None);
        };
        if let Some(leaf_hash) = parse_withheld(seq, line)? {
            return Ok(Some(BundleLine::Withheld { seq, leaf_hash }));
        }
        parse_line(seq, line).map(|entry| Some(BundleLine::Entry(Box::new(entry))))
    }

    /// Reads the next line with its seq, unparsed (for callers that parse lines elsewhere,
    /// e.g. on other threads, with [`parse_line`]); `Ok(None)` at the end.
    ///
    /// # Errors
    /// [`BundleError::LineTooLong`] or [`BundleError::MissingNewline`] naming the line's seq;
    /// [`BundleError::Io`].
    pub fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, BundleError> {
        let seq = self.next_seq;
        match read_line(&mut self.input, &mut self.line, ENTRY_BYTES_MAX)? {
            None => return Ok(None),
            Some(LineEnd::TooLong) => {
                return Err(BundleError::LineTooLong {
                    seq,
                    max: ENTRY_BYTES_MAX,
                })
            }
            Some(LineEnd::Eof) => return Err(BundleError::MissingNewline { seq }),
            Some(LineEnd::Newline) => {}
        }
        self.next_seq = seq.saturating_add(1);
        Ok(Some((seq, &self.line)))
    }
}

/// A line of a bundle after its header (SPEC §6.1).
#[derive(Debug, Clone)]
pub enum BundleLine {
    /// An entry's leaf bytes, parsed.
    Entry(Box<SealedEntry>),
    /// A withheld line: the entry at `seq` is not the reader's to read.
    Withheld {
        /// Its seq.
        seq: u64,
        /// The leaf hash of the entry it stands for.
        leaf_hash: Hash,
    },
}

/// Parses the line of `seq` as an entry's leaf bytes, as [`BundleReader::next_entry`] does.
///
/// # Errors
/// [`BundleError::Entry`] naming `seq`.
pub fn parse_line(seq: u64, line: &[u8]) -> Result<SealedEntry, BundleError> {
    SealedEntry::try_from_leaf_bytes(line).map_err(|source| BundleError::Entry { seq, source })
}

/// How a withheld line (SPEC §6.1) begins; no entry's leaf bytes do.
const WITHHELD_PREFIX: &[u8] = b"{\"withheld\":";

/// The leaf hash a withheld line of `seq` stands for (SPEC §6.1), or `None` when the line is
/// not one (an entry's leaf bytes, to parse with [`parse_line`]).
///
/// # Errors
/// [`BundleError::Withheld`] for a line that begins as a withheld line and is not one: other
/// fields, another seq, an empty kind, a leaf hash that is not 64 lowercase hex digits.
pub fn parse_withheld(seq: u64, line: &[u8]) -> Result<Option<Hash>, BundleError> {
    if !line.starts_with(WITHHELD_PREFIX) {
        return Ok(None);
    }
    let fail = |reason: &str| BundleError::Withheld {
        seq,
        reason: reason.to_owned(),
    };
    let value = jcs::parse_strict(line).map_err(|e| fail(&e.to_string()))?;
    let inner = value
        .as_object()
        .filter(|outer| outer.len() == 1)
        .and_then(|outer| outer.get("withheld"))
        .and_then(|inner| inner.as_object())
        .filter(|inner| inner.len() == 3)
        .ok_or_else(|| fail("it must be {\"withheld\":{\"seq\",\"kind\",\"leaf_hash\"}}"))?;
    if inner.get("seq").and_then(serde_json::Value::as_u64) != Some(seq) {
        return Err(fail(&format!("its seq must be {seq}, its position")));
    }
    let kind = inner.get("kind").and_then(serde_json::Value::as_str);
    if kind.is_none_or(str::is_empty) {
        return Err(fail("its kind must be a non-empty string"));
    }
    let leaf_hash = inner
        .get("leaf_hash")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| fail("its leaf_hash must be a string"))?;
    Hash::try_from_hex(leaf_hash)
        .map(Some)
        .map_err(|e| fail(&format!("leaf_hash: {e}")))
}

/// The structural checks of a bundle (SPEC §6 without the rules of §4) as a state machine
/// fed one entry at a time, in order, in O(log n) memory: what [`verify_bundle_structure`]
/// runs, for callers that read, parse and verify signatures elsewhere (in parallel, say).
#[derive(Debug)]
pub struct BundleChecker {
    header: BundleHeader,
    checkpoint: Checkpoint,
    chain: ChainVerifier,
    frontier: Frontier,
    withheld: Vec<u64>,
}

impl BundleChecker {
    /// Checks the header: its log key names the origin, and its checkpoint opens under it.
    ///
    /// # Errors
    /// [`BundleError::Header`] or [`BundleError::Checkpoint`].
    pub fn new(header: BundleHeader) -> Result<Self, BundleError> {
        if header.format().is_none() {
            return Err(BundleError::Header {
                reason: format!(
                    "`bundle` must be {BUNDLE_FORMAT:?} or {BUNDLE_FORMAT_V2:?}, found {:?}",
                    header.bundle
                ),
            });
        }
        let log_key = VerifierKey::try_parse(&header.log_key).map_err(|e| BundleError::Header {
            reason: format!("log_key: {e}"),
        })?;
        if log_key.name() != header.origin {
            return Err(BundleError::Header {
                reason: format!(
                    "log_key names {:?}, but the origin is {:?}",
                    log_key.name(),
                    header.origin
                ),
            });
        }
        let checkpoint =
            verify_checkpoint(&header.checkpoint, &log_key).map_err(BundleError::Checkpoint)?;
        Ok(BundleChecker {
            header,
            checkpoint,
            chain: ChainVerifier::new(),
            frontier: Frontier::new(),
            withheld: Vec::new(),
        })
    }

    /// The verified checkpoint of the header.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// How many entries have passed.
    pub fn size(&self) -> u64 {
        self.chain.size()
    }

    /// Checks the next entry's chain links, its signature (whose outcome the caller passes
    /// as `signature_ok`, from [`SealedEntry::verify_signature`]) and, for entry 0, the
    /// header against the genesis; then adds it to the Merkle frontier.
    ///
    /// # Errors
    /// [`BundleError::Chain`] or [`BundleError::GenesisMismatch`]; after an error the
    /// bundle has failed and the checker is of no further use.
    pub fn push(&mut self, sealed: &SealedEntry, signature_ok: bool) -> Result<(), BundleError> {
        self.chain.push_checked(sealed, signature_ok)?;
        if sealed.entry().seq == 0 {
            check_genesis_matches_header(sealed, &self.header)?;
        }
        self.frontier.push(sealed.event_hash());
        Ok(())
    }

    /// Takes the withheld line of `seq` standing for an entry with `leaf_hash` (SPEC §6.2):
    /// the hash goes into the Merkle frontier and is the `prev` the next entry must carry.
    ///
    /// # Errors
    /// [`BundleError::Chain`]; after an error the bundle has failed.
    pub fn push_withheld(&mut self, seq: u64, leaf_hash: Hash) -> Result<(), BundleError> {
        self.chain.push_withheld(seq, leaf_hash)?;
        self.frontier.push(leaf_hash);
        self.withheld.push(seq);
        Ok(())
    }

    /// Adds the next leaf's hash ([`crate::merkle::leaf_hash`] of its line) to the Merkle
    /// frontier only, without any other check: for a caller that needs the entries up to
    /// some size and, of the rest, only that the checkpoint commits to them.
    pub fn push_leaf_hash(&mut self, leaf_hash: Hash) {
        self.frontier.push(leaf_hash);
    }

    /// The number of leaves in the frontier (entries checked plus leaves only).
    pub fn leaf_count(&self) -> u64 {
        self.frontier.size()
    }

    /// Checks that the checkpoint covers exactly the leaves pushed, with their root.
    ///
    /// # Errors
    /// [`BundleError::Empty`], [`BundleError::SizeMismatch`] or [`BundleError::RootMismatch`].
    pub fn finish(self) -> Result<BundleSummary, BundleError> {
        let ledger_id = self.chain.ledger_id().ok_or(BundleError::Empty)?;
        let size = self.frontier.size();
        if self.checkpoint.size != size {
            return Err(BundleError::SizeMismatch {
                checkpoint: self.checkpoint.size,
                entries: size,
            });
        }
        let computed = self.frontier.root();
        if computed != self.checkpoint.root {
            return Err(BundleError::RootMismatch {
                size,
                expected: self.checkpoint.root,
                computed,
            });
        }
        Ok(BundleSummary {
            header: self.header,
            checkpoint: self.checkpoint,
            ledger_id,
            last_event_hash: self.chain.last_event_hash(),
            withheld: self.withheld,
        })
    }
}

/// What a verified bundle holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSummary {
    /// The header.
    pub header: BundleHeader,
    /// The verified checkpoint.
    pub checkpoint: Checkpoint,
    /// The ledger id (event hash of entry 0).
    pub ledger_id: Hash,
    /// The last entry's event hash.
    pub last_event_hash: Hash,
    /// The seqs of the withheld lines, ascending (SPEC §6.2): empty unless the bundle is
    /// partial.
    pub withheld: Vec<u64>,
}

/// Verifies a bundle's structure (SPEC §6 without the rules of §4), streaming; a partial
/// bundle's withheld lines (§6.2) are taken by their leaf hashes, and listed in the summary.
///
/// Each entry that passes the structural checks is handed to `on_entry` in order; an error it
/// returns stops verification and is reported as [`BundleError::Rejected`] at that seq. So the
/// first failing seq is reported, whichever check fails.
///
/// # Errors
/// The first [`BundleError`] found.
pub fn verify_bundle_structure<R, E, F>(
    input: R,
    mut on_entry: F,
) -> Result<BundleSummary, BundleError>
where
    R: BufRead,
    E: StdError + Send + Sync + 'static,
    F: FnMut(&SealedEntry) -> Result<(), E>,
{
    let mut reader = BundleReader::new(input)?;
    let mut checker = BundleChecker::new(reader.header().clone())?;
    while let Some(line) = reader.next_item()? {
        let sealed = match line {
            BundleLine::Entry(sealed) => *sealed,
            BundleLine::Withheld { seq, leaf_hash } => {
                checker.push_withheld(seq, leaf_hash)?;
                continue;
            }
        };
        let seq = sealed.entry().seq;
        let signature_ok = sealed.entry().envelope().verify_signature().is_ok();
        checker.push(&sealed, signature_ok)?;
        on_entry(&sealed).map_err(|e| BundleError::Rejected {
            seq,
            source: Box::new(e),
        })?;
    }
    checker.finish()
}

fn check_genesis_matches_header(
    genesis: &SealedEntry,
    header: &BundleHeader,
) -> Result<(), BundleError> {
    let statement = &genesis.entry().statement;
    if header.format() != Some(statement.v) {
        return Err(BundleError::GenesisMismatch {
            field: "bundle",
            header: header.bundle.clone(),
            genesis: format!("v {}", statement.v),
        });
    }
    let body = &statement.body;
    for (field, header_value) in [("origin", &header.origin), ("log_key", &header.log_key)] {
        let genesis_value = body.get(field).and_then(|v| v.as_str()).unwrap_or("");
        if genesis_value != header_value {
            return Err(BundleError::GenesisMismatch {
                field,
                header: header_value.clone(),
                genesis: genesis_value.to_owned(),
            });
        }
    }
    Ok(())
}
