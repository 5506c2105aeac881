//! Full verification (SPEC §6 + §4): the structure of a bundle or a sequence of entries (the
//! chain, every signature, the Merkle root against a checkpoint signed by the genesis log key),
//! checked by `hisaab-log`, and then every rule of acceptance, entry by entry. The first
//! failing seq is reported, whichever check fails.
//!
//! **Streaming and parallel.** The calling thread reads; parsing, the canonical-form check and
//! the strict signature checks (SPEC §1.4), which need no state, run on every core in batches;
//! the chain, the Merkle frontier and the rules run on one thread in order. So the first
//! failing seq is the one a sequential check would name. Memory does not grow with the log,
//! apart from the O(log n) frontier, the model's state, a 40-byte record per statement id
//! (to refuse a reused id) and, when the sizes that `dispute.resolved` statements cite are
//! known beforehand ([`cited_sizes`]), one digest per cited size. Without them
//! ([`verify_bundle`], [`verify_entries`]), the entries are kept in memory to answer past
//! state digests, as before.
//!
//! **No batch verification.** Ed25519 batch verification (a random linear combination of the
//! equations) cannot give `verify_strict`'s answer: strict verification is cofactorless, and a
//! signature whose R has a small-order component (say of order 2) fails it, yet passes a
//! batch with probability 1/2 (when its random coefficient is even). Ruling that out needs a
//! torsion check of every R, which costs as much as the strict check itself. So every
//! signature is checked with `verify_strict`, on all cores.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;

use hisaab_log::bundle::{
    parse_line, parse_withheld, BundleChecker, BundleError, BundleLine, BundleReader, BundleSummary,
};
use hisaab_log::chain::{ChainError, ChainVerifier};
use hisaab_log::merkle::{leaf_hash, Frontier};
use hisaab_log::seal::{
    Disclosed, Disclosure, Openings, OpeningsFile, OpeningsReader, SubStateProof,
};
use hisaab_log::{Date, Hash, SealedEntry, StatementId};
use sha2::{Digest as _, Sha256};

use crate::body::{DisclosedEntry, DisclosureRecordedBody, FieldErasedBody};
use crate::kind::{Body, Kind};
use crate::ledger::Ledger;
use crate::memory::MemoryLedger;
use crate::parallel::ordered_map;
use crate::rule::{History, HistoryError, Violation};
use crate::state::State;
use crate::value::{Slug, Text};

/// What a verified bundle proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBundle {
    /// The number of entries (= the checkpoint's size).
    pub size: u64,
    /// Their Merkle root (= the checkpoint's root).
    pub root: Hash,
    /// The ledger id.
    pub ledger_id: Hash,
    /// The origin.
    pub origin: String,
    /// The state after the last entry, with the default `at`.
    pub state: State,
    /// The digest a dispute resolution names for that state ([`Ledger::resolution_digest`]:
    /// §5.7's in format 1, the full-state digest of §12.8 in format 2), or why there is none
    /// (a replay without every opening, an operator without a blinding).
    pub resolution_digest: Result<Hash, String>,
    /// The number of entries replayed under the rules: `size`, unless the bundle is partial
    /// (SPEC §6.2), where it is the seq of the first withheld line, and `state` is the state
    /// after those entries.
    pub replayed: u64,
    /// The seqs of the withheld lines, ascending: the entries whose signature and own chain
    /// links could not be checked (SPEC §6.2). Empty for a whole bundle.
    pub withheld: Vec<u64>,
}

/// What verified entries prove.
#[derive(Clone, Debug)]
pub struct VerifiedEntries {
    /// The number of entries.
    pub size: u64,
    /// Their Merkle root.
    pub root: Hash,
    /// The replay state after the last entry.
    pub ledger: Ledger,
    /// SHA-256 of the replay state's snapshot bytes ([`Ledger::to_snapshot`]) at each size
    /// asked for (see [`verify_entries_cited`]), so that a store can check the snapshots it
    /// keeps against the log.
    pub snapshots: BTreeMap<u64, Hash>,
}

/// What [`replay_bundle`] found: the bundle's checkpoint and the states asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayedBundle {
    /// The checkpoint's size (the number of leaves in the bundle).
    pub size: u64,
    /// The checkpoint's root, which the bundle's leaves hash to.
    pub root: Hash,
    /// The ledger id.
    pub ledger_id: Hash,
    /// The origin.
    pub origin: String,
    /// The states, one for each size asked for, in the order asked.
    pub states: Vec<State>,
}

/// Why verification failed. [`VerifyError::seq`] names the failing entry, where there is one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The bundle's structure: header, checkpoint, a line, the chain, a signature, the root.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The chain or a signature breaks (for entries not read from a bundle).
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// An entry breaks a rule of acceptance.
    #[error(transparent)]
    Rule(#[from] Violation),
    /// The entries could not be read from their source.
    #[error("seq {seq}: the entry could not be read: {source}")]
    Read {
        /// The seq that was being read.
        seq: u64,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// No entry at all.
    #[error("there is no entry; a ledger has at least its genesis")]
    Empty,
    /// An openings file that does not go with the bundle, or an entry's openings that name
    /// another entry (SPEC §12.6).
    #[error("the openings do not go with the bundle: {0}")]
    Openings(String),
    /// A line of an openings file that is not one (SPEC §12.6).
    #[error("the openings file: {0}")]
    OpeningsFile(hisaab_log::seal::SealError),
    /// A sub-state proof could not be made or does not hold (SPEC §12.8).
    #[error("sub-state proof: {0}")]
    SubState(String),
    /// A disclosure does not check against the bundle (SPEC §12.7).
    #[error("disclosure: {0}")]
    Disclosure(String),
    /// A state asked for past a partial bundle's first withheld line (SPEC §6.2).
    #[error(
        "no state at size {size}: the bundle is partial, and entry {first_withheld} is \
         withheld from it, so the state replays up to size {first_withheld} only"
    )]
    Partial {
        /// The size asked for.
        size: u64,
        /// The seq of the first withheld line.
        first_withheld: u64,
    },
    /// A state was asked for at a size the bundle does not reach.
    #[error("no state at size {size}: the bundle has {entries} entries")]
    SizeOutOfRange {
        /// The size asked for.
        size: u64,
        /// The number of entries in the bundle.
        entries: u64,
    },
}

impl VerifyError {
    /// The seq of the failing entry, when the failure is one entry's.
    pub fn seq(&self) -> Option<u64> {
        match self {
            VerifyError::Bundle(e) => e.seq(),
            VerifyError::Chain(e) => Some(e.seq()),
            VerifyError::Rule(violation) => Some(violation.seq),
            VerifyError::Read { seq, .. } => Some(*seq),
            VerifyError::Empty
            | VerifyError::SizeOutOfRange { .. }
            | VerifyError::Partial { .. }
            | VerifyError::Openings(_)
            | VerifyError::OpeningsFile(_)
            | VerifyError::SubState(_)
            | VerifyError::Disclosure(_) => None,
        }
    }
}

/// The tree sizes whose state digests `dispute.resolved` statements in a bundle cite
/// (`body.as_of`), read from the bundle cheaply (only lines naming the kind are parsed): the
/// first pass of a streaming verification ([`verify_bundle_cited`], [`replay_bundle`]).
/// Lines that do not parse are skipped; verification reports them.
///
/// # Errors
/// Reading fails.
pub fn cited_sizes<R: BufRead>(reader: R) -> std::io::Result<BTreeSet<u64>> {
    let mut cited = BTreeSet::new();
    each_entry_line(reader, |line| {
        if let Some(size) = cited_size(line) {
            cited.insert(size);
        }
    })?;
    Ok(cited)
}

/// The seqs of a bundle's `report.published` entries (SPEC §12.12), read cheaply as
/// [`cited_sizes`] is: a replay without every opening does not check their aggregates, and
/// says which it could not check.
///
/// # Errors
/// Reading fails.
pub fn report_seqs<R: BufRead>(reader: R) -> std::io::Result<Vec<u64>> {
    const NEEDLE: &[u8] = b"\"kind\":\"report.published\"";
    let mut seqs = Vec::new();
    each_entry_line(reader, |line| {
        if line.windows(NEEDLE.len()).any(|w| w == NEEDLE) {
            if let Ok(entry) = serde_json::from_slice::<hisaab_log::Entry>(line) {
                if entry.statement.kind == Kind::ReportPublished.as_str() {
                    seqs.push(entry.seq);
                }
            }
        }
    })?;
    Ok(seqs)
}

/// Calls `each` with the bytes of every line of a bundle after its header line (which names
/// no entry), for the cheap first passes ([`cited_sizes`], [`erased_fields`]).
fn each_entry_line<R: BufRead>(mut reader: R, mut each: impl FnMut(&[u8])) -> std::io::Result<()> {
    let mut line = Vec::new();
    let mut header = true;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        if !std::mem::take(&mut header) {
            each(&line);
        }
    }
}

/// The `body.as_of` of an entry's leaf bytes when the entry holds a `dispute.resolved`
/// statement (see [`cited_sizes`]).
pub fn cited_size(leaf_bytes: &[u8]) -> Option<u64> {
    // Leaf bytes are canonical JSON (RFC 8785), which writes this text without escapes.
    const NEEDLE: &[u8] = b"\"kind\":\"dispute.resolved\"";
    if !leaf_bytes.windows(NEEDLE.len()).any(|w| w == NEEDLE) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(leaf_bytes).ok()?;
    let statement = value.get("statement")?;
    if statement.get("kind")?.as_str()? != "dispute.resolved" {
        return None;
    }
    statement.get("body")?.get("as_of")?.as_u64()
}

/// The fields a bundle's `field.erased` statements erase (SPEC §12.9): by the event hash of
/// the entry erased, each field with the seq of the erasure. A first pass, read cheaply as
/// [`cited_sizes`] is (only lines naming the kind are parsed); lines that do not parse are
/// skipped, and verification reports them.
pub type Erasures = BTreeMap<Hash, BTreeMap<String, u64>>;

/// Reads the [`Erasures`] of a bundle.
///
/// # Errors
/// Reading fails.
pub fn erased_fields<R: BufRead>(reader: R) -> std::io::Result<Erasures> {
    let mut erased = Erasures::new();
    each_entry_line(reader, |line| {
        if let Some((seq, body)) = erasure_of(line) {
            add_erasure(&mut erased, seq, body);
        }
    })?;
    Ok(erased)
}

/// Adds the fields a `field.erased` at `seq` erases to `erased` (the first erasure of a field
/// is the one that counts).
fn add_erasure(erased: &mut Erasures, seq: u64, body: FieldErasedBody) {
    let fields = erased.entry(body.entry).or_default();
    for field in body.fields {
        fields.entry(field).or_insert(seq);
    }
}

/// Removes from `values` (one entry's openings or disclosed values, by field) each field that
/// `erased` says was erased, noting it in `ignored`.
fn drop_erased_of<V>(
    values: &mut BTreeMap<String, V>,
    (seq, event_hash, kind): (u64, &Hash, &str),
    erased: &Erasures,
    ignored: &mut Vec<IgnoredOpening>,
) {
    let Some(fields) = erased.get(event_hash) else {
        return;
    };
    values.retain(|field, _| match fields.get(field) {
        Some(&erased_at) => {
            ignored.push(IgnoredOpening {
                seq,
                kind: kind.to_owned(),
                field: field.clone(),
                erased_at,
            });
            false
        }
        None => true,
    });
}

/// The seq and body of an entry's leaf bytes when the entry holds a `field.erased` statement.
fn erasure_of(leaf_bytes: &[u8]) -> Option<(u64, FieldErasedBody)> {
    // Leaf bytes are canonical JSON (RFC 8785), which writes this text without escapes.
    const NEEDLE: &[u8] = b"\"kind\":\"field.erased\"";
    if !leaf_bytes.windows(NEEDLE.len()).any(|w| w == NEEDLE) {
        return None;
    }
    let entry: hisaab_log::Entry = serde_json::from_slice(leaf_bytes).ok()?;
    if entry.statement.kind != Kind::FieldErased.as_str() {
        return None;
    }
    match Body::try_parse(&entry.statement.kind, &entry.statement.body).ok()? {
        Body::FieldErased(body) => Some((entry.seq, body)),
        _ => None,
    }
}

/// An opening a verifier ignored because its field was erased (SPEC §12.9): an openings file
/// or a disclosure made before the erasure may still hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredOpening {
    /// The entry's seq.
    pub seq: u64,
    /// Its kind.
    pub kind: String,
    /// The field erased.
    pub field: String,
    /// The seq of the `field.erased` that erased it.
    pub erased_at: u64,
}

impl std::fmt::Display for IgnoredOpening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the opening of `{}` of the {} at seq {} is ignored: that field was erased by the \
             field.erased at seq {} (SPEC §12.9)",
            self.field, self.kind, self.seq, self.erased_at
        )
    }
}

/// Removes from `openings` every opening of a field that `erased` says was erased, and the
/// entries left with none; returns what it removed, by seq and field.
pub fn drop_erased(openings: &mut OpeningsFile, erased: &Erasures) -> Vec<IgnoredOpening> {
    let mut ignored = Vec::new();
    for item in &mut openings.entries {
        let entry = (item.seq, &item.event_hash, item.kind.as_str());
        drop_erased_of(&mut item.fields, entry, erased, &mut ignored);
    }
    openings.entries.retain(|item| !item.fields.is_empty());
    ignored
}

/// Where the rules learn about the past: statement ids as 32-byte hashes, and the state
/// digests at the sizes cited, recorded as the replay passes them.
#[derive(Debug, Default)]
struct CitedHistory {
    ids: HashMap<[u8; 32], u64>,
    cited: BTreeSet<u64>,
    /// The digest a resolution names at each size cited, or why there is none.
    digests: HashMap<u64, Result<Hash, String>>,
}

/// A statement id's key in [`CitedHistory`]: SHA-256 of its text, so that a record costs 40
/// bytes whatever the id's length (collisions are ruled out as everywhere in the format).
fn id_key(id: &StatementId) -> [u8; 32] {
    Sha256::digest(id.as_str().as_bytes()).into()
}

impl History for CitedHistory {
    fn statement_seq(&self, id: &StatementId) -> Result<Option<u64>, HistoryError> {
        Ok(self.ids.get(&id_key(id)).copied())
    }

    fn state_digest_at(&self, size: u64) -> Result<Hash, HistoryError> {
        match self.digests.get(&size) {
            Some(Ok(digest)) => Ok(*digest),
            Some(Err(reason)) => Err(HistoryError::NoDigest {
                size,
                reason: reason.clone(),
            }),
            None => Err(HistoryError::Storage {
                message: format!(
                    "the state at size {size} was not kept: the bundle changed between the \
                     pass that found the cited sizes and the verifying pass"
                ),
                source: None,
            }),
        }
    }
}

/// The model's side of a verification: the rules, and what they need of the past.
trait Rules: Send {
    /// Applies an entry whose signature was checked (every rule of SPEC §4).
    fn apply(&mut self, entry: &SealedEntry) -> Result<(), Violation>;
    /// The state after the entries applied.
    fn ledger(&self) -> &Ledger;
    /// Called once after the last entry.
    fn finish(&mut self) {}
    /// The snapshot digests recorded on the way.
    fn snapshot_digests(&mut self) -> BTreeMap<u64, Hash> {
        BTreeMap::new()
    }
}

impl Rules for MemoryLedger {
    fn apply(&mut self, entry: &SealedEntry) -> Result<(), Violation> {
        self.append_unverified(entry.clone())
    }

    fn ledger(&self) -> &Ledger {
        MemoryLedger::ledger(self)
    }
}

/// Where the streaming rules take each entry's openings from (SPEC §12.6), as the entries are
/// applied in order.
trait OpeningsFeed: Send + std::fmt::Debug {
    /// The openings of entry `seq`, if the source holds any.
    fn take(&mut self, seq: u64) -> Option<Openings>;
}

/// Openings held in memory, by seq.
impl OpeningsFeed for BTreeMap<u64, Openings> {
    fn take(&mut self, seq: u64) -> Option<Openings> {
        self.remove(&seq)
    }
}

/// Openings read from a file one line at a time as their entries are applied, in memory that
/// does not grow with the file; the fields erased since the file was made are left out as
/// they are read, and noted.
#[derive(Debug)]
struct StreamedOpenings<O> {
    reader: OpeningsReader<O>,
    /// The line read ahead: the openings of an entry not applied yet.
    next: Option<Openings>,
    done: bool,
    erased: Erasures,
    ignored: Vec<IgnoredOpening>,
    opened: u64,
    /// The first line that could not be read: the rest of the file is not read.
    error: Option<hisaab_log::seal::SealError>,
}

impl<O: BufRead> StreamedOpenings<O> {
    /// The feed of the openings file `openings` (its header read and checked here), leaving
    /// out the fields `erased` names.
    fn new(openings: O, erased: &Erasures) -> Result<Self, VerifyError> {
        Ok(StreamedOpenings {
            reader: OpeningsReader::new(openings).map_err(VerifyError::OpeningsFile)?,
            next: None,
            done: false,
            erased: erased.clone(),
            ignored: Vec::new(),
            opened: 0,
            error: None,
        })
    }

    /// Reads the lines left (the openings of entries not applied: past the sizes replayed,
    /// or past a partial bundle's first withheld line), each held to the file's form as
    /// [`OpeningsFile::read`] holds it; then the first line of the file that could not be
    /// read, as the error it is.
    fn check_read(&mut self) -> Result<(), VerifyError> {
        while self.error.is_none() && !self.done {
            match self.reader.next_openings() {
                Ok(Some(_)) => {}
                Ok(None) => self.done = true,
                Err(error) => self.error = Some(error),
            }
        }
        match &self.error {
            Some(error) => Err(VerifyError::OpeningsFile(error.clone())),
            None => Ok(()),
        }
    }
}

impl<O: BufRead + Send + std::fmt::Debug> OpeningsFeed for StreamedOpenings<O> {
    fn take(&mut self, seq: u64) -> Option<Openings> {
        loop {
            if self.next.is_none() && !self.done {
                match self.reader.next_openings() {
                    Ok(Some(openings)) => self.next = Some(openings),
                    Ok(None) => self.done = true,
                    Err(error) => {
                        self.error = Some(error);
                        self.done = true;
                    }
                }
            }
            match &self.next {
                // Entries are applied in seq order from 0, each asking for its openings, so a
                // line for an earlier seq cannot be left; were it, it would open nothing.
                Some(next) if next.seq < seq => self.next = None,
                Some(next) if next.seq == seq => {
                    let mut openings = self.next.take()?;
                    let entry = (openings.seq, &openings.event_hash, openings.kind.as_str());
                    drop_erased_of(&mut openings.fields, entry, &self.erased, &mut self.ignored);
                    if openings.fields.is_empty() {
                        return None;
                    }
                    self.opened += 1;
                    return Some(openings);
                }
                _ => return None,
            }
        }
    }
}

/// Rules over [`CitedHistory`]: memory bounded by the state, not the log.
#[derive(Debug, Default)]
struct Streaming<F = BTreeMap<u64, Openings>> {
    ledger: Ledger,
    history: CitedHistory,
    /// The sizes at which to record the snapshot digest, and what was recorded.
    snapshot_sizes: BTreeSet<u64>,
    snapshots: BTreeMap<u64, Hash>,
    /// The openings to replay the entries with (SPEC §12.6); each is taken as its entry is
    /// applied.
    openings: F,
}

impl Streaming {
    fn new(cited: &BTreeSet<u64>, snapshot_sizes: &BTreeSet<u64>) -> Self {
        Streaming::with_feed(cited, snapshot_sizes, BTreeMap::new())
    }
}

impl<F: OpeningsFeed> Streaming<F> {
    fn with_feed(cited: &BTreeSet<u64>, snapshot_sizes: &BTreeSet<u64>, openings: F) -> Self {
        Streaming {
            ledger: Ledger::new(),
            history: CitedHistory {
                cited: cited.clone(),
                ..CitedHistory::default()
            },
            snapshot_sizes: snapshot_sizes.clone(),
            snapshots: BTreeMap::new(),
            openings,
        }
    }

    fn record_snapshot(&mut self) {
        let size = self.ledger.size();
        if self.snapshot_sizes.contains(&size) {
            let digest = Hash::sha256(&self.ledger.to_snapshot());
            self.snapshots.insert(size, digest);
        }
    }
}

impl<F: OpeningsFeed> Rules for Streaming<F> {
    fn apply(&mut self, entry: &SealedEntry) -> Result<(), Violation> {
        self.record_snapshot();
        let size = self.ledger.size();
        if self.history.cited.contains(&size) && size >= 1 {
            let digest = self.ledger.resolution_digest();
            self.history.digests.insert(size, digest);
        }
        let statement = &entry.entry().statement;
        let fields = match self.openings.take(entry.entry().seq) {
            None => None,
            Some(openings) => {
                if openings.event_hash != entry.event_hash() || openings.kind != statement.kind {
                    return Err(Violation::new(
                        entry.entry().seq,
                        crate::rule::Rule::Form,
                        format!(
                            "the openings of seq {} name a {} entry with event hash {}; the \
                             bundle's is a {} entry with event hash {} (SPEC §12.6)",
                            openings.seq,
                            openings.kind,
                            openings.event_hash,
                            statement.kind,
                            entry.event_hash()
                        ),
                    ));
                }
                Some(openings.fields)
            }
        };
        self.ledger
            .apply_with(entry, fields.as_ref(), &self.history)?;
        self.history
            .ids
            .insert(id_key(&statement.id), entry.entry().seq);
        Ok(())
    }

    fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    fn finish(&mut self) {
        self.record_snapshot();
    }

    fn snapshot_digests(&mut self) -> BTreeMap<u64, Hash> {
        std::mem::take(&mut self.snapshots)
    }
}

/// What a worker makes of one line of a bundle.
enum Line {
    /// The line's entry and whether its signature verifies strictly.
    Entry(Box<SealedEntry>, bool),
    /// A line past the sizes needed: only its leaf hash.
    Leaf(Hash),
    /// A withheld line (SPEC §6.1): its seq and the leaf hash it stands for.
    Withheld(u64, Hash),
    /// The line is not an entry, or could not be read.
    Failed(BundleError),
}

/// What the reading thread hands the workers.
enum Read {
    /// A line to parse and check.
    Check(u64, Vec<u8>),
    /// A line of which only the leaf hash is needed, with its seq.
    Hash(u64, Vec<u8>),
    /// Reading failed here.
    Failed(BundleError),
}

fn check_line(read: Read) -> Line {
    match read {
        Read::Check(seq, bytes) => match parse_withheld(seq, &bytes) {
            Ok(Some(hash)) => Line::Withheld(seq, hash),
            Err(error) => Line::Failed(error),
            Ok(None) => match parse_line(seq, &bytes) {
                Ok(sealed) => {
                    let signature_ok = sealed.verify_signature().is_ok();
                    Line::Entry(Box::new(sealed), signature_ok)
                }
                Err(error) => Line::Failed(error),
            },
        },
        Read::Hash(seq, bytes) => match parse_withheld(seq, &bytes) {
            Ok(Some(hash)) => Line::Leaf(hash),
            Ok(None) => Line::Leaf(leaf_hash(&bytes)),
            Err(error) => Line::Failed(error),
        },
        Read::Failed(error) => Line::Failed(error),
    }
}

/// States to take as a replay passes their sizes.
struct Takes {
    /// The sizes asked for (`None`: the last), in the order asked.
    sizes: Vec<Option<u64>>,
    /// The states taken so far, by position in `sizes`.
    states: Vec<Option<State>>,
    at: Option<Date>,
}

impl Takes {
    fn none() -> Self {
        Takes {
            sizes: Vec::new(),
            states: Vec::new(),
            at: None,
        }
    }

    /// Takes the states asked for at the ledger's current size.
    fn take(&mut self, ledger: &Ledger) {
        let size = ledger.size();
        for (wanted, state) in self.sizes.iter().zip(self.states.iter_mut()) {
            if *wanted == Some(size) && state.is_none() {
                *state = Some(ledger.state(self.at));
            }
        }
    }
}

/// Reads a bundle on this thread, checks lines below `check_below` on every core and folds
/// them into `rules` in order; lines from `check_below` on are only hashed into the Merkle
/// frontier. Then checks the checkpoint's size and root.
fn run_bundle<R: BufRead, M: Rules>(
    reader: R,
    mut rules: M,
    check_below: u64,
    mut takes: Takes,
) -> Result<(BundleSummary, M, Takes), VerifyError> {
    let mut reader = BundleReader::new(reader)?;
    let mut checker = BundleChecker::new(reader.header().clone())?;
    let produce = |emit: &mut dyn FnMut(Read) -> bool| loop {
        let read = match reader.next_line() {
            Ok(None) => return,
            Ok(Some((seq, bytes))) if seq < check_below => Read::Check(seq, bytes.to_vec()),
            Ok(Some((seq, bytes))) => Read::Hash(seq, bytes.to_vec()),
            Err(error) => Read::Failed(error),
        };
        let failed = matches!(read, Read::Failed(_));
        if !emit(read) || failed {
            return;
        }
    };
    // The rules are checked, and the state replayed, up to the first withheld line; past it,
    // the chain and signatures only (SPEC §6.2).
    let mut replaying = true;
    let mut consume = |lines: &mut dyn Iterator<Item = Line>| -> Result<(), VerifyError> {
        for line in lines {
            match line {
                Line::Entry(sealed, signature_ok) => {
                    checker.push(&sealed, signature_ok)?;
                    if replaying {
                        takes.take(rules.ledger());
                        rules.apply(&sealed)?;
                    }
                }
                Line::Withheld(seq, hash) => {
                    checker.push_withheld(seq, hash)?;
                    if replaying {
                        takes.take(rules.ledger());
                    }
                    replaying = false;
                }
                Line::Leaf(hash) => checker.push_leaf_hash(hash),
                Line::Failed(error) => return Err(error.into()),
            }
        }
        if replaying {
            takes.take(rules.ledger());
        }
        Ok(())
    };
    ordered_map(produce, check_line, |ordered| consume(ordered))?;
    let summary = checker.finish()?;
    Ok((summary, rules, takes))
}

/// Verifies a bundle (SPEC §6 and §4): the header, the checkpoint's signature by the header's
/// log key, every entry's canonical form, chain link, strict signature and rules, the
/// header against the genesis, and the checkpoint's size and root against the entries.
///
/// Signatures are checked on every core; the entries are kept in memory to answer the past
/// state digests that `dispute.resolved` statements cite. [`verify_bundle_cited`] needs
/// memory that does not grow with the log, given the sizes cited (a first pass over the
/// bundle, [`cited_sizes`]).
///
/// ```
/// # use hisaab_model::verify_bundle;
/// let err = verify_bundle(&b"not a bundle\n"[..]).unwrap_err();
/// assert!(err.to_string().contains("header"));
/// ```
///
/// # Errors
/// The first failure, as a [`VerifyError`]; [`VerifyError::seq`] names the failing entry.
pub fn verify_bundle<R: BufRead>(reader: R) -> Result<VerifiedBundle, VerifyError> {
    let (summary, rules, _) = run_bundle(reader, MemoryLedger::new(), u64::MAX, Takes::none())?;
    Ok(verified_bundle(summary, rules.ledger()))
}

/// [`verify_bundle`] in memory that does not grow with the log: `cited` must hold every size
/// that a `dispute.resolved` statement of the bundle cites, as [`cited_sizes`] finds them in
/// a first pass over the same bytes. The same answer as [`verify_bundle`] for the same bytes.
///
/// ```
/// # use hisaab_model::{cited_sizes, verify_bundle_cited};
/// let bytes = &b"not a bundle\n"[..];
/// let cited = cited_sizes(bytes).unwrap();
/// assert!(verify_bundle_cited(bytes, &cited).is_err());
/// ```
///
/// # Errors
/// As [`verify_bundle`]; a size cited but missing from `cited` is reported as a
/// [`crate::Rule::HistoryUnavailable`] violation at the citing seq.
pub fn verify_bundle_cited<R: BufRead>(
    reader: R,
    cited: &BTreeSet<u64>,
) -> Result<VerifiedBundle, VerifyError> {
    let (summary, rules, _) = run_bundle(
        reader,
        Streaming::new(cited, &BTreeSet::new()),
        u64::MAX,
        Takes::none(),
    )?;
    Ok(verified_bundle(summary, rules.ledger()))
}

/// What [`verify_bundle_opened`] proves: the bundle, verified as [`verify_bundle_cited`]
/// verifies it, and the state replayed with the openings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedBundle {
    /// The bundle, with the state replayed over the opened bodies.
    pub bundle: VerifiedBundle,
    /// How many entries were opened (each opening checked against its commitment).
    pub opened: u64,
    /// Whether some sealed field stayed unopened: the state is then not the full state.
    pub partial: bool,
    /// The full-state digest (SPEC §12.8) when every sealed field was opened.
    pub full_digest: Option<Hash>,
}

/// [`verify_bundle_cited`] with an openings file (SPEC §12.6): the file must be for the
/// bundle's ledger and size; each line must name its entry's event hash and kind, and each
/// field's opening must match its commitment; the state is replayed over the opened bodies
/// (the full state when every sealed field is opened, §12.8).
///
/// # Errors
/// As [`verify_bundle_cited`]; [`VerifyError::Openings`] for a file of another ledger or size;
/// an opening that names another entry or does not match is a rule 1 violation at its seq.
pub fn verify_bundle_opened<R: BufRead>(
    reader: R,
    cited: &BTreeSet<u64>,
    openings: &OpeningsFile,
) -> Result<OpenedBundle, VerifyError> {
    let opened = u64::try_from(openings.entries.len()).unwrap_or(u64::MAX);
    let (summary, rules, _) = run_opened(reader, cited, openings, Takes::none())?;
    Ok(opened_bundle(summary, rules.ledger(), opened))
}

/// What a verification with openings proves, from the ledger it replayed.
fn opened_bundle(summary: BundleSummary, ledger: &Ledger, opened: u64) -> OpenedBundle {
    OpenedBundle {
        opened,
        partial: ledger.is_partial(),
        full_digest: ledger.full_state_digest(None),
        bundle: verified_bundle(summary, ledger),
    }
}

/// A bundle verified with an openings file, and the state at one size of it.
struct OpenedAt {
    bundle: VerifiedBundle,
    /// The state at the size asked for, with the default `at`.
    state: State,
    /// The ledger after the last entry (the blindings opened).
    ledger: Ledger,
}

/// Verifies a bundle with an openings file for it, taking the states `takes` asks for.
fn run_opened<R: BufRead>(
    reader: R,
    cited: &BTreeSet<u64>,
    openings: &OpeningsFile,
    takes: Takes,
) -> Result<(BundleSummary, Streaming, Takes), VerifyError> {
    let (summary, rules, takes) =
        run_bundle(reader, opened_rules(cited, openings), u64::MAX, takes)?;
    check_openings_fit(
        &openings.header,
        summary.ledger_id,
        summary.checkpoint.size,
        true,
    )?;
    Ok((summary, rules, takes))
}

/// That an openings file goes with a bundle of ledger `ledger_id` and `size` entries: of the
/// same ledger, and of that size or (`earlier_ok`, for a verification) an earlier one, since
/// entries are only appended: a file made at an earlier size opens the same entries of a
/// later bundle, and the entries after it stay unopened (SPEC §12.6). A replay takes the file
/// of its own size.
fn check_openings_fit(
    header: &hisaab_log::seal::OpeningsHeader,
    ledger_id: Hash,
    size: u64,
    earlier_ok: bool,
) -> Result<(), VerifyError> {
    let fits = if earlier_ok {
        header.size <= size
    } else {
        header.size == size
    };
    if header.ledger != ledger_id || !fits {
        return Err(VerifyError::Openings(format!(
            "the file is for ledger {} at size {}; the bundle is ledger {ledger_id} at size \
             {size}",
            header.ledger, header.size
        )));
    }
    Ok(())
}

/// [`verify_bundle_opened`] with the openings file read one line at a time as the entries it
/// opens are applied, so that memory does not grow with the file (SPEC §12.6); the fields
/// `erased` names (from [`erased_fields`] of the same bundle) are left out as they are read,
/// and returned with the outcome, as [`drop_erased`] returns them.
///
/// # Errors
/// As [`verify_bundle_opened`]; [`VerifyError::OpeningsFile`] for a line of the file that is
/// not one of an openings file.
pub fn verify_bundle_opened_streaming<R: BufRead, O: BufRead + Send + std::fmt::Debug>(
    reader: R,
    cited: &BTreeSet<u64>,
    openings: O,
    erased: &Erasures,
) -> Result<(OpenedBundle, Vec<IgnoredOpening>), VerifyError> {
    let feed = StreamedOpenings::new(openings, erased)?;
    let header = feed.reader.header().clone();
    let rules = Streaming::with_feed(cited, &BTreeSet::new(), feed);
    let (summary, mut rules, _) = run_bundle(reader, rules, u64::MAX, Takes::none())?;
    check_openings_fit(&header, summary.ledger_id, summary.checkpoint.size, true)?;
    rules.openings.check_read()?;
    let feed = &rules.openings;
    Ok((
        opened_bundle(summary, &rules.ledger, feed.opened),
        feed.ignored.clone(),
    ))
}

/// [`verify_bundle_opened`], also taking the state at size `as_of`.
fn verify_opened_at<R: BufRead>(
    reader: R,
    cited: &BTreeSet<u64>,
    openings: &OpeningsFile,
    as_of: u64,
) -> Result<OpenedAt, VerifyError> {
    let takes = Takes {
        sizes: vec![Some(as_of)],
        states: vec![None],
        at: None,
    };
    let (summary, rules, takes) = run_opened(reader, cited, openings, takes)?;
    let entries = summary.checkpoint.size;
    let state = takes
        .states
        .into_iter()
        .next()
        .flatten()
        .filter(|_| as_of >= 1)
        .ok_or(VerifyError::SizeOutOfRange {
            size: as_of,
            entries,
        })?;
    let ledger = rules.ledger().clone();
    Ok(OpenedAt {
        bundle: verified_bundle(summary, &ledger),
        state,
        ledger,
    })
}

/// The full-state digest at size `as_of` of a bundle and `operator`'s sub-state proof in it
/// (SPEC §12.8), from the bundle verified with `openings`, which must open every sealed
/// field (what `hisaab export` writes for a `full` reader).
///
/// # Errors
/// As [`verify_bundle_opened`]; [`VerifyError::SizeOutOfRange`] for `as_of` outside the
/// bundle; [`VerifyError::SubState`] when some field stayed unopened, the full-state digest is
/// not defined (an operator without a blinding) or `operator` has no leaf.
pub fn sub_state_proof<R: BufRead>(
    reader: R,
    cited: &BTreeSet<u64>,
    openings: &OpeningsFile,
    as_of: u64,
    operator: &Slug,
) -> Result<(Hash, SubStateProof), VerifyError> {
    let opened = verify_opened_at(reader, cited, openings, as_of)?;
    if opened.ledger.is_partial() {
        return Err(VerifyError::SubState(
            "some sealed fields were not opened: a sub-state proof is made from the full \
             state, with every opening"
                .to_owned(),
        ));
    }
    let tree = crate::view::state_tree(&opened.state, |id| opened.ledger.blinding(id))
        .map_err(VerifyError::SubState)?;
    let proof = tree.proof(operator.as_str()).ok_or_else(|| {
        VerifyError::SubState(format!(
            "operator `{operator}` is not registered at size {as_of}"
        ))
    })?;
    Ok((tree.digest(), proof))
}

/// The `as_of` and `state_digest` of the `dispute.resolved` entry at `seq` of a bundle: the
/// size and full-state digest an operator checks its sub-state against (SPEC §12.8). Only
/// read here; [`verify_sub_state`] verifies the same bytes.
///
/// # Errors
/// [`VerifyError::Bundle`] for a bundle that cannot be read up to `seq`;
/// [`VerifyError::SubState`] when there is no entry at `seq` or it is no resolution.
pub fn resolution_at<R: BufRead>(reader: R, seq: u64) -> Result<(u64, Hash), VerifyError> {
    let mut reader = BundleReader::new(reader)?;
    while let Some(line) = reader.next_item()? {
        let entry = match line {
            BundleLine::Entry(entry) if entry.entry().seq == seq => entry,
            BundleLine::Withheld { seq: withheld, .. } if withheld == seq => {
                return Err(VerifyError::SubState(format!(
                    "the entry at seq {seq} is withheld from this bundle (SPEC §6.1): a bundle \
                     served to a reader who may read it holds it"
                )));
            }
            _ => continue,
        };
        let statement = &entry.entry().statement;
        return match crate::Body::try_parse(&statement.kind, &statement.body) {
            Ok(crate::Body::DisputeResolved(body)) => Ok((body.as_of, body.state_digest)),
            Ok(_) => Err(VerifyError::SubState(format!(
                "the entry at seq {seq} is a {}, not a dispute.resolved",
                statement.kind
            ))),
            Err(error) => Err(VerifyError::SubState(format!(
                "the entry at seq {seq} does not parse: {error}"
            ))),
        };
    }
    Err(VerifyError::SubState(format!(
        "the bundle has no entry at seq {seq}"
    )))
}

/// What [`check_disclosure`] proves.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedDisclosure {
    /// Per entry disclosed, the values its openings prove.
    pub disclosed: Vec<Disclosed>,
    /// The seq of the `disclosure.recorded` entry of the bundle that records this disclosure
    /// (its SHA-256, entries and fields), if the bundle holds one.
    pub recorded_at: Option<u64>,
    /// The disclosed fields that the bundle's `field.erased` statements erased: their values
    /// are left out of `disclosed` (SPEC §12.9).
    pub ignored: Vec<IgnoredOpening>,
    /// The seqs of the bundle's withheld lines (SPEC §6.1), when it is partial: a withheld
    /// line's kind is the server's word, so an erasure or a record among them is not ruled
    /// out.
    pub withheld: Vec<u64>,
}

/// The body of the `disclosure.recorded` statement that records `disclosure` (SPEC §12.7):
/// its recipient, each entry's event hash with the fields disclosed, and the SHA-256 of the
/// disclosure's canonical JSON.
///
/// # Errors
/// [`VerifyError::Disclosure`] when the recipient is no text of §1.7 or the disclosure is not
/// canonical JSON.
pub fn disclosure_record(disclosure: &Disclosure) -> Result<DisclosureRecordedBody, VerifyError> {
    let fail = |e: &dyn std::fmt::Display| VerifyError::Disclosure(e.to_string());
    let bytes = hisaab_log::jcs::to_canonical(disclosure).map_err(|e| fail(&e))?;
    Ok(DisclosureRecordedBody {
        to: Text::try_new(&disclosure.to).map_err(|e| fail(&e))?,
        entries: disclosure
            .entries
            .iter()
            .map(|o| DisclosedEntry {
                entry: o.event_hash,
                fields: o.fields.keys().cloned().collect(),
            })
            .collect(),
        disclosure_sha256: Hash::sha256(&bytes),
        ext: None,
    })
}

/// Checks a disclosure against a bundle (SPEC §12.7), reading the bundle once: each entry it
/// discloses must be the bundle's entry at that seq, with that event hash and kind, of the
/// disclosure's ledger, and each field's opening must match its commitment. Also finds the
/// `disclosure.recorded` entry that records it, if any. The bundle itself is verified by
/// [`verify_bundle_cited`]; this reads its entries only.
///
/// # Errors
/// [`VerifyError::Bundle`] for a bundle that cannot be read; [`VerifyError::Disclosure`] for
/// a disclosure that does not check, or a record with its SHA-256 that names other entries
/// or fields.
pub fn check_disclosure<R: BufRead>(
    reader: R,
    disclosure: &Disclosure,
) -> Result<CheckedDisclosure, VerifyError> {
    let fail = |e: &dyn std::fmt::Display| VerifyError::Disclosure(e.to_string());
    disclosure.check_form().map_err(|e| fail(&e))?;
    let record = disclosure_record(disclosure)?;
    let wanted: BTreeSet<u64> = disclosure.entries.iter().map(|o| o.seq).collect();
    let mut entries = BTreeMap::new();
    let mut recorded_at = None;
    let mut erased = Erasures::new();
    let mut withheld = Vec::new();
    let mut reader = BundleReader::new(reader)?;
    while let Some(line) = reader.next_item()? {
        let entry = match line {
            BundleLine::Entry(entry) => *entry,
            // An entry disclosed must be in the bundle. Records and erasures are public, never
            // withheld by an honest server (SPEC §13.4); the caller is told of the withheld
            // lines, whose kinds are the server's word.
            BundleLine::Withheld { seq, .. } if wanted.contains(&seq) => {
                return Err(VerifyError::Disclosure(format!(
                    "entry {seq}, which it discloses, is withheld from this bundle (SPEC §6.1): \
                     check it against a bundle that holds it, such as the public one of a \
                     format-2 ledger"
                )));
            }
            BundleLine::Withheld { seq, .. } => {
                withheld.push(seq);
                continue;
            }
        };
        let seq = entry.entry().seq;
        let statement = &entry.entry().statement;
        if statement.kind == Kind::DisclosureRecorded.as_str() && recorded_at.is_none() {
            if let Ok(Body::DisclosureRecorded(body)) =
                Body::try_parse(&statement.kind, &statement.body)
            {
                if body.disclosure_sha256 == record.disclosure_sha256 {
                    if body.entries != record.entries || body.to != record.to {
                        return Err(VerifyError::Disclosure(format!(
                            "the disclosure.recorded at seq {seq} has this disclosure's SHA-256 \
                             but names other entries, fields or recipient"
                        )));
                    }
                    recorded_at = Some(seq);
                }
            }
        }
        if statement.kind == Kind::FieldErased.as_str() {
            if let Ok(Body::FieldErased(body)) = Body::try_parse(&statement.kind, &statement.body) {
                add_erasure(&mut erased, seq, body);
            }
        }
        if wanted.contains(&seq) {
            entries.insert(seq, entry);
        }
    }
    let mut disclosed = disclosure
        .verify(|seq| entries.get(&seq), hisaab_log::seal::sealed_fields)
        .map_err(|e| fail(&e))?;
    let mut ignored = Vec::new();
    for item in &mut disclosed {
        let entry = (item.seq, &item.event_hash, item.kind.as_str());
        drop_erased_of(&mut item.values, entry, &erased, &mut ignored);
    }
    Ok(CheckedDisclosure {
        disclosed,
        recorded_at,
        ignored,
        withheld,
    })
}

/// What [`verify_sub_state`] proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSubState {
    /// The bundle, verified with the operator's openings.
    pub bundle: VerifiedBundle,
    /// The operator whose sub-state was checked.
    pub operator: Slug,
    /// The size of the state the digest is of.
    pub as_of: u64,
    /// The full-state digest the sub-state is in.
    pub digest: Hash,
}

/// Checks an operator's sub-state proof (SPEC §12.8) against the full-state digest `digest`
/// of the state at size `as_of`, from the public bundle and that operator's own openings
/// (`openings` need hold no other operator's): the bundle is verified with `openings`, the
/// operator's sub-state at `as_of` and its blinding are rebuilt from them, and the proof's
/// index, size and path are checked against the registry and `digest`.
///
/// # Errors
/// As [`verify_bundle_opened`]; [`VerifyError::SizeOutOfRange`] for `as_of` outside the
/// bundle; [`VerifyError::SubState`] when the proof names no operator, the openings lack
/// the operator's blinding, or the proof does not lead to `digest`.
pub fn verify_sub_state<R: BufRead>(
    reader: R,
    cited: &BTreeSet<u64>,
    openings: &OpeningsFile,
    proof: &SubStateProof,
    as_of: u64,
    digest: &Hash,
) -> Result<VerifiedSubState, VerifyError> {
    let operator = proof
        .operator
        .as_deref()
        .ok_or_else(|| {
            VerifyError::SubState(
                "the proof is of the public part (leaf 0), not of an operator's sub-state"
                    .to_owned(),
            )
        })
        .and_then(|o| {
            Slug::try_new(o).map_err(|e| VerifyError::SubState(format!("operator {o:?}: {e}")))
        })?;
    let opened = verify_opened_at(reader, cited, openings, as_of)?;
    let blinding = opened.ledger.blinding(&operator).ok_or_else(|| {
        VerifyError::SubState(format!(
            "the openings do not open the `blinding` of operator `{operator}`'s registration \
             (SPEC §12.8)"
        ))
    })?;
    crate::view::check_sub_state(&opened.state, &operator, blinding, proof, digest)
        .map_err(VerifyError::SubState)?;
    Ok(VerifiedSubState {
        bundle: opened.bundle,
        operator,
        as_of,
        digest: *digest,
    })
}

fn verified_bundle(summary: BundleSummary, ledger: &Ledger) -> VerifiedBundle {
    let state = ledger.state(None);
    VerifiedBundle {
        size: summary.checkpoint.size,
        root: summary.checkpoint.root,
        ledger_id: summary.ledger_id,
        origin: summary.checkpoint.origin,
        resolution_digest: ledger.resolution_digest_of(&state),
        state,
        replayed: ledger.size(),
        withheld: summary.withheld,
    }
}

/// The states of a bundle at `sizes` (`None`: the last entry) and date `at`, in memory that
/// does not grow with the log (`cited` as for [`verify_bundle_cited`]).
///
/// The entries up to the largest size asked for are verified in full, as
/// [`verify_bundle_cited`] does; of the entries after it, only the leaf hashes are computed,
/// to check that the header's checkpoint (verified under the log key) commits to exactly
/// these leaves. So the cost grows with the largest size asked for, plus one SHA-256 pass
/// over the rest of the file. `sizes` all `None` verifies every entry.
///
/// # Errors
/// As [`verify_bundle`] for the entries verified, and for the checkpoint's size and root;
/// [`VerifyError::SizeOutOfRange`] for a size of 0 or past the bundle's end.
pub fn replay_bundle<R: BufRead>(
    reader: R,
    cited: &BTreeSet<u64>,
    sizes: &[Option<u64>],
    at: Option<Date>,
) -> Result<ReplayedBundle, VerifyError> {
    replay_with(reader, Streaming::new(cited, &BTreeSet::new()), sizes, at).map(|(r, _)| r)
}

/// [`replay_bundle`] over the openings of an openings file (SPEC §12.6), as
/// [`verify_bundle_opened`] opens the entries: the states are those of a reader holding these
/// openings (the full states, with every opening).
///
/// # Errors
/// As [`replay_bundle`]; [`VerifyError::Openings`] for a file of another ledger or size; an
/// opening that names another entry or does not match is a rule 1 violation at its seq.
pub fn replay_bundle_opened<R: BufRead>(
    reader: R,
    cited: &BTreeSet<u64>,
    sizes: &[Option<u64>],
    at: Option<Date>,
    openings: &OpeningsFile,
) -> Result<ReplayedBundle, VerifyError> {
    let (replayed, _) = replay_with(reader, opened_rules(cited, openings), sizes, at)?;
    check_openings_fit(&openings.header, replayed.ledger_id, replayed.size, false)?;
    Ok(replayed)
}

/// [`replay_bundle_opened`] with the openings file read one line at a time as the entries it
/// opens are applied, so that memory does not grow with the file (SPEC §12.6).
///
/// # Errors
/// As [`replay_bundle_opened`]; [`VerifyError::OpeningsFile`] for a line of the file that is
/// not one of an openings file.
pub fn replay_bundle_opened_streaming<R: BufRead, O: BufRead + Send + std::fmt::Debug>(
    reader: R,
    cited: &BTreeSet<u64>,
    sizes: &[Option<u64>],
    at: Option<Date>,
    openings: O,
) -> Result<ReplayedBundle, VerifyError> {
    let feed = StreamedOpenings::new(openings, &Erasures::new())?;
    let header = feed.reader.header().clone();
    let rules = Streaming::with_feed(cited, &BTreeSet::new(), feed);
    let (replayed, mut rules) = replay_with(reader, rules, sizes, at)?;
    rules.openings.check_read()?;
    check_openings_fit(&header, replayed.ledger_id, replayed.size, false)?;
    Ok(replayed)
}

/// The streaming rules that open each entry with its line of `openings`.
fn opened_rules(cited: &BTreeSet<u64>, openings: &OpeningsFile) -> Streaming {
    let mut rules = Streaming::new(cited, &BTreeSet::new());
    rules.openings = openings
        .entries
        .iter()
        .map(|o| (o.seq, o.clone()))
        .collect();
    rules
}

/// Replays a bundle with `rules`, taking the states at `sizes`; the rules are returned with
/// what they hold at the end.
fn replay_with<R: BufRead, F: OpeningsFeed>(
    reader: R,
    rules: Streaming<F>,
    sizes: &[Option<u64>],
    at: Option<Date>,
) -> Result<(ReplayedBundle, Streaming<F>), VerifyError> {
    let check_below = if sizes.iter().any(Option::is_none) {
        u64::MAX
    } else {
        sizes.iter().flatten().copied().max().unwrap_or(u64::MAX)
    };
    let takes = Takes {
        sizes: sizes.to_vec(),
        states: vec![None; sizes.len()],
        at,
    };
    let (summary, rules, mut takes) = run_bundle(reader, rules, check_below, takes)?;
    let last = rules.ledger().size();
    // A partial bundle replays up to its first withheld line only (SPEC §6.2).
    if let Some(&first_withheld) = summary.withheld.first() {
        for (wanted, state) in takes.sizes.iter().zip(&takes.states) {
            if state.is_none() {
                return Err(VerifyError::Partial {
                    size: wanted.unwrap_or(summary.checkpoint.size),
                    first_withheld,
                });
            }
        }
    }
    // `None` stands for the last entry; when every entry was verified that is the bundle's.
    for (wanted, state) in takes.sizes.iter().zip(takes.states.iter_mut()) {
        if wanted.is_none() && state.is_none() {
            *state = Some(rules.ledger().state(at));
        }
    }
    let states = takes
        .sizes
        .iter()
        .zip(takes.states)
        .map(|(wanted, state)| {
            state.ok_or(VerifyError::SizeOutOfRange {
                size: wanted.unwrap_or(last),
                entries: summary.checkpoint.size,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let replayed = ReplayedBundle {
        size: summary.checkpoint.size,
        root: summary.checkpoint.root,
        ledger_id: summary.ledger_id,
        origin: summary.checkpoint.origin,
        states,
    };
    Ok((replayed, rules))
}

/// Verifies a sequence of entries from seq 0: chain, strict signatures and every rule (for
/// the store's full check). Keeps the entries in memory while it runs, to answer
/// `dispute.resolved`'s past state digests; [`verify_entries_cited`] does not.
///
/// # Errors
/// The first failure; [`VerifyError::Read`] when the source fails.
pub fn verify_entries<I, E>(entries: I) -> Result<VerifiedEntries, VerifyError>
where
    I: IntoIterator<Item = Result<SealedEntry, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
{
    run_entries(entries, MemoryLedger::new())
}

/// [`verify_entries`] in memory that does not grow with the log, given every size that a
/// `dispute.resolved` statement among the entries cites (see [`cited_size`]). Signatures are
/// checked on every core; the source is read on the calling thread. At each size in
/// `snapshot_sizes` the digest of the replay state's snapshot bytes is recorded in
/// [`VerifiedEntries::snapshots`].
///
/// # Errors
/// As [`verify_entries`].
pub fn verify_entries_cited<I, E>(
    entries: I,
    cited: &BTreeSet<u64>,
    snapshot_sizes: &BTreeSet<u64>,
) -> Result<VerifiedEntries, VerifyError>
where
    I: IntoIterator<Item = Result<SealedEntry, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
{
    run_entries(entries, Streaming::new(cited, snapshot_sizes))
}

fn run_entries<I, E, M>(entries: I, mut rules: M) -> Result<VerifiedEntries, VerifyError>
where
    I: IntoIterator<Item = Result<SealedEntry, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    M: Rules,
{
    let mut chain = ChainVerifier::new();
    let mut frontier = Frontier::new();
    let produce = |emit: &mut dyn FnMut(Result<SealedEntry, VerifyError>) -> bool| {
        for (seq, entry) in (0u64..).zip(entries) {
            let entry = entry.map_err(|e| VerifyError::Read {
                seq,
                source: e.into(),
            });
            let failed = entry.is_err();
            if !emit(entry) || failed {
                return;
            }
        }
    };
    let check = |entry: Result<SealedEntry, VerifyError>| {
        entry.map(|sealed| {
            let signature_ok = sealed.verify_signature().is_ok();
            (sealed, signature_ok)
        })
    };
    let mut consume =
        |checked: &mut dyn Iterator<Item = Result<(SealedEntry, bool), VerifyError>>| {
            for item in checked {
                let (sealed, signature_ok) = item?;
                chain.push_checked(&sealed, signature_ok)?;
                frontier.push(sealed.event_hash());
                rules.apply(&sealed)?;
            }
            Ok::<(), VerifyError>(())
        };
    ordered_map(produce, check, |ordered| consume(ordered))?;
    rules.finish();
    let size = rules.ledger().size();
    if size == 0 {
        return Err(VerifyError::Empty);
    }
    Ok(VerifiedEntries {
        size,
        root: frontier.root(),
        ledger: rules.ledger().clone(),
        snapshots: rules.snapshot_digests(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_malformed_headers() {
        for bad in [
            &b""[..],
            b"{}\n",
            b"{\"bundle\":\"hisaab/v2\",\"origin\":\"o\",\"log_key\":\"k\",\"checkpoint\":\"c\"}\n",
            b"{\"bundle\":\"hisaab/v1\",\"origin\":\"o\",\"log_key\":\"k\",\"checkpoint\":\"c\",\"x\":1}\n",
            b"{\"bundle\":\"hisaab/v1\",\"bundle\":\"hisaab/v1\"}\n",
            b"{\"bundle\":\"hisaab/v1\",\"origin\":\"o\",\"log_key\":\"k\",\"checkpoint\":\"c\"}",
        ] {
            let err = verify_bundle(bad).unwrap_err();
            assert!(err.seq().is_none(), "{err}");
        }
    }

    #[test]
    fn verify_entries_needs_at_least_one_entry() {
        let none: Vec<Result<SealedEntry, std::io::Error>> = Vec::new();
        assert!(matches!(verify_entries(none), Err(VerifyError::Empty)));
        let failing = vec![Err::<SealedEntry, _>(std::io::Error::other("disk"))];
        assert_eq!(verify_entries(failing).unwrap_err().seq(), Some(0));
    }
}
