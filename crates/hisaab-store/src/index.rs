//! The index from event hash and statement id to seq, outside sled: sorted runs in the
//! directory `hisaab-index`, and the entries since the last run in memory.
//!
//! Every entry has two keys of 8 bytes: its event hash's first 8 bytes, and the first 8
//! bytes of SHA-256(`hisaab statement id` ‖ 0x00 ‖ its statement id). A lookup answers the
//! seqs whose key matches (candidates); the caller reads each candidate entry and keeps the
//! one whose event hash or statement id is the one asked for, so that two keys that share
//! their 8 bytes cost one more read and never a wrong answer.
//!
//! A run file, `{from}-{to}.run` (seqs `from..to`, 20 decimal digits each), holds:
//!
//! | part | bytes |
//! |---|---|
//! | records | (key u64 BE ‖ seq u64 BE), sorted by key then seq: two for each entry `from..to`, one for an entry whose bytes were damaged when it was indexed |
//! | fences | for each block of 256 records, its first key, u64 BE |
//! | block checksums | for each block, the CRC-32 of its bytes, u32 BE |
//! | Bloom filter | `words` u64 BE (10 bits a key, 7 probes) |
//! | footer, 48 bytes | `from`, `to`, record count, `words` (u64 BE each); CRC-32 of fences, checksums, filter and these four, u32 BE; 4 zero bytes; `hsbidx01` |
//!
//! Why not sled: the keys are hashes, so each entry's two records landed on two random B-tree
//! leaves, and sled appends every change of a leaf to its log and rewrites leaves and segments:
//! at 10^5 entries its files held 99 MB for 13 MB of live records. A run is written once
//! (to a temporary name, synced, renamed), and two runs of like size are merged into one, so a
//! log of `n` entries has O(log n) runs and a lookup reads one 4 KiB block (two when a key's
//! records begin a block) of those whose filter lets the key through. A run is checked whole
//! when it is opened (its footer's checksum over the fences, block checksums and filter, and
//! every block against its own), and every block a lookup reads is checked again.
//!
//! The index is derived from the entries: what the runs do not cover is read again from the
//! entry files on open (after a crash, the entries since the last run; a run that is damaged,
//! or a store whose index was in sled, from where the runs stop). A run is written only for
//! entries whose batch sled has committed, so none ever covers entries that open cuts off.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use hisaab_log::Hash;
use sha2::{Digest, Sha256};

use crate::error::{Corruption, StoreError};
use crate::files::{decode_u64, positioned, sync_dir, u64_pairs, Access};

/// The index's name in errors.
pub(crate) const INDEX_NAME: &str = "event hash and statement id";
/// The directory of the runs, in the data directory.
pub(crate) const INDEX_DIR: &str = "hisaab-index";
/// Keys per entry: its event hash's and its statement id's.
const KEYS_PER_ENTRY: u64 = 2;
const RECORD_BYTES: usize = 16;
const BLOCK_RECORDS: usize = 256;
const BLOCK_BYTES: usize = RECORD_BYTES * BLOCK_RECORDS;
const FOOTER_BYTES: usize = 48;
const MAGIC: &[u8; 8] = b"hsbidx01";
const BLOOM_BITS_PER_KEY: u64 = 10;
const BLOOM_PROBES: u64 = 7;
/// The domain of a statement id's key.
const STATEMENT_DOMAIN: &[u8] = b"hisaab statement id\0";

/// The key of an event hash.
pub(crate) fn event_key(hash: &Hash) -> u64 {
    first_u64(hash.as_bytes())
}

/// The key of a statement id.
pub(crate) fn statement_key(id: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update(STATEMENT_DOMAIN)
        .chain_update(id.as_bytes())
        .finalize();
    first_u64(&digest)
}

/// The first 8 bytes of a 32-byte digest, big-endian.
fn first_u64(digest: &[u8]) -> u64 {
    digest.get(..8).and_then(decode_u64).unwrap_or_default()
}

/// The index of one store.
#[derive(Debug)]
pub(crate) struct EntryIndex {
    dir: PathBuf,
    access: Access,
    /// The entries kept in memory before they are written as a run.
    run_entries: u64,
    /// The runs, oldest first, covering `0..covered` back to back.
    runs: RwLock<Vec<Arc<Run>>>,
    /// The entries after the runs, in memory.
    recent: Mutex<Recent>,
    /// Held by whoever adds entries or writes runs (the sequencer, or `open`).
    writing: Mutex<()>,
    /// The thread that merges runs, once the store runs ([`EntryIndex::start_merging`]);
    /// until then (while `open` indexes entries again) runs are merged as they are written.
    merger: Mutex<Option<Merger>>,
    /// Set to stop the merger, which gives up a merge under way (its partial file is removed
    /// on the next open).
    stopping: AtomicBool,
    /// Runs found damaged when opened (opened for writing: deleted, their entries read again).
    discarded: u64,
}

/// The merging thread and what wakes it.
#[derive(Debug)]
struct Merger {
    wake: std::sync::mpsc::Sender<()>,
    handle: std::thread::JoinHandle<()>,
}

/// The entries `from..to` that no run holds yet.
#[derive(Debug, Default)]
struct Recent {
    from: u64,
    to: u64,
    seqs: HashMap<u64, Vec<u64>>,
}

impl Recent {
    /// None yet, after the runs' end `covered`.
    fn after(covered: u64) -> Self {
        Recent {
            from: covered,
            to: covered,
            seqs: HashMap::new(),
        }
    }
}

impl EntryIndex {
    /// Opens the runs in `dir`'s `hisaab-index` (created when opened for writing). The runs
    /// kept are those that cover `0..n` back to back, the largest at each start; opened for
    /// writing, the rest (left by a merge or flush that stopped, or damaged) are deleted.
    ///
    /// # Errors
    /// Opened [`Access::ReadOnly`], a damaged run is [`Corruption::IndexRun`]; an I/O error.
    pub(crate) fn open(dir: &Path, access: Access, run_entries: u64) -> Result<Self, StoreError> {
        let dir = dir.join(INDEX_DIR);
        let mut discarded = 0;
        if access == Access::ReadWrite {
            std::fs::create_dir_all(&dir).map_err(io("creating the index directory"))?;
        }
        let mut found: Vec<Run> = Vec::new();
        let mut leftovers: Vec<PathBuf> = Vec::new();
        let listing = match std::fs::read_dir(&dir) {
            Ok(listing) => Some(listing),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(io("listing the index directory")(error)),
        };
        for item in listing.into_iter().flatten() {
            let path = item.map_err(io("listing the index directory"))?.path();
            let Some(range) = run_range(&path) else {
                leftovers.push(path);
                continue;
            };
            match Run::open(&path, range) {
                Ok(run) => found.push(run),
                Err(StoreError::Corrupt(Corruption::IndexRun { .. }))
                    if access == Access::ReadWrite =>
                {
                    tracing::warn!(
                        run = %path.display(),
                        "a damaged index run is read again from the entries"
                    );
                    discarded += 1;
                    leftovers.push(path);
                }
                Err(error) => return Err(error),
            }
        }
        // From 0, at each start the run reaching furthest; the rest are left over.
        found.sort_by_key(|run| (run.from, std::cmp::Reverse(run.to)));
        let mut runs = Vec::new();
        let mut covered = 0;
        for run in found {
            if run.from == covered {
                covered = run.to;
                runs.push(Arc::new(run));
            } else {
                leftovers.push(run.path.clone());
            }
        }
        if access == Access::ReadWrite {
            for path in leftovers {
                remove(&path)?;
            }
        }
        Ok(EntryIndex {
            dir,
            access,
            run_entries: run_entries.max(1),
            runs: RwLock::new(runs),
            recent: Mutex::new(Recent::after(covered)),
            writing: Mutex::new(()),
            merger: Mutex::new(None),
            stopping: AtomicBool::new(false),
            discarded,
        })
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, Recent> {
        self.recent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn runs(&self) -> Vec<Arc<Run>> {
        self.runs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs found damaged when opened (opened for writing, deleted and their entries indexed
    /// again).
    pub(crate) fn discarded(&self) -> u64 {
        self.discarded
    }

    /// The entries kept in memory before they are written as a run.
    pub(crate) fn run_entries(&self) -> u64 {
        self.run_entries
    }

    /// The runs' bytes on disk.
    pub(crate) fn bytes(&self) -> u64 {
        self.runs().iter().map(|run| run.bytes).sum()
    }

    /// The entries the index holds: `0..indexed_to()`.
    pub(crate) fn indexed_to(&self) -> u64 {
        self.recent().to
    }

    /// Lets go of runs reaching past `size` (a log cut back by open; runs are written only
    /// for committed entries, so this is damage elsewhere, not a crash) and of the entries in
    /// memory: the index then holds `0..covered` for the caller to read the rest again.
    pub(crate) fn settle(&self, size: u64) -> Result<u64, StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let mut runs = self.runs.write().unwrap_or_else(PoisonError::into_inner);
        while runs.last().is_some_and(|run| run.to > size) {
            if let Some(run) = runs.pop() {
                if self.access == Access::ReadWrite {
                    remove(&run.path)?;
                }
            }
        }
        let covered = runs.last().map_or(0, |run| run.to);
        *self.recent() = Recent::after(covered);
        Ok(covered)
    }

    /// Adds entries `first..` with their event hash and statement id (`None` for an entry
    /// whose bytes are damaged: it keeps only its event hash, which the stored hashes give),
    /// which must follow the index's end, then writes a run when enough have gathered and has
    /// runs of like size merged.
    /// Writing a run is not the entries' durability (they are in the entry files): one that
    /// fails is tried again with the next entries, and a merge that fails leaves the runs as
    /// they were.
    pub(crate) fn add<'a>(
        &self,
        first: u64,
        keys: impl IntoIterator<Item = (Hash, Option<&'a str>)>,
    ) -> Result<(), StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let due = {
            let mut recent = self.recent();
            if first != recent.to {
                return Err(Corruption::Index {
                    index: INDEX_NAME,
                    seq: first,
                }
                .into());
            }
            let mut seq = first;
            for (hash, id) in keys {
                recent.seqs.entry(event_key(&hash)).or_default().push(seq);
                if let Some(id) = id {
                    recent.seqs.entry(statement_key(id)).or_default().push(seq);
                }
                seq += 1;
            }
            recent.to = seq;
            recent.to - recent.from >= self.run_entries
        };
        if due && self.access == Access::ReadWrite {
            if let Err(error) = self.write_recent() {
                tracing::warn!(%error, "writing an index run failed; tried again later");
                return Ok(());
            }
            let merger = self.merger.lock().unwrap_or_else(PoisonError::into_inner);
            match merger.as_ref() {
                Some(merger) => {
                    let _sent = merger.wake.send(());
                }
                None => {
                    drop(merger);
                    self.merge_all_due();
                }
            }
        }
        Ok(())
    }

    /// Merges runs until none are due (or the merger is told to stop); a merge that fails
    /// leaves the runs as they were.
    fn merge_all_due(&self) {
        loop {
            match self.merge_next() {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => {
                    tracing::warn!(%error, "merging index runs failed; left as they were");
                    break;
                }
            }
        }
    }

    /// Starts the thread that merges runs off the sequencer's path (a merge at 10^6 entries
    /// rewrites tens of megabytes), and has it merge what is due now.
    pub(crate) fn start_merging(index: &Arc<EntryIndex>) {
        if index.access != Access::ReadWrite {
            return;
        }
        let mut merger = index.merger.lock().unwrap_or_else(PoisonError::into_inner);
        if merger.is_some() {
            return;
        }
        let (wake, woken) = std::sync::mpsc::channel::<()>();
        let weak = Arc::downgrade(index);
        let spawned = std::thread::Builder::new()
            .name("hisaab-index".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    match weak.upgrade() {
                        Some(index) => index.merge_all_due(),
                        None => return,
                    }
                }
            });
        if let Ok(handle) = spawned {
            let _sent = wake.send(());
            *merger = Some(Merger { wake, handle });
        }
    }

    /// Stops the merging thread, giving up a merge under way, and waits for it.
    pub(crate) fn stop_merging(&self) {
        let merger = self
            .merger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(Merger { wake, handle }) = merger {
            self.stopping.store(true, Ordering::Release);
            drop(wake);
            let _joined = handle.join();
            self.stopping.store(false, Ordering::Release);
        }
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Writes the entries in memory as a run and lets go of them.
    fn write_recent(&self) -> Result<(), StoreError> {
        let (from, to, mut records) = {
            let recent = self.recent();
            let records: Vec<(u64, u64)> = recent
                .seqs
                .iter()
                .flat_map(|(&key, seqs)| seqs.iter().map(move |&seq| (key, seq)))
                .collect();
            (recent.from, recent.to, records)
        };
        records.sort_unstable();
        let mut writer = RunWriter::new(&self.dir, from, to)?;
        for (key, seq) in records {
            writer.push(key, seq)?;
        }
        let run = writer.finish()?;
        // The run is visible before the entries in memory go: a lookup reads memory first.
        self.runs
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(run));
        let mut recent = self.recent();
        recent.from = to;
        recent.seqs.retain(|_, seqs| {
            seqs.retain(|&seq| seq >= to);
            !seqs.is_empty()
        });
        Ok(())
    }

    /// Merges the next pair of runs due ([`merge_due`]) into one; `false` when none is due, or
    /// the merger is stopping.
    fn merge_next(&self) -> Result<bool, StoreError> {
        let runs = self.runs();
        let Some(pair) = merge_due(&runs) else {
            return Ok(false);
        };
        let (older, newer) = (&runs[pair], &runs[pair + 1]);
        let mut writer = RunWriter::new(&self.dir, older.from, newer.to)?;
        let mut left = older.records().peekable();
        let mut right = newer.records().peekable();
        loop {
            let next = match (left.peek(), right.peek()) {
                (None, None) => break,
                (Some(Ok(l)), Some(Ok(r))) => {
                    if l <= r {
                        left.next()
                    } else {
                        right.next()
                    }
                }
                // An error ends the merge when it is taken (one in the newer run, once the
                // older run's records before it are written).
                (Some(_), _) => left.next(),
                (None, Some(_)) => right.next(),
            };
            if let Some(record) = next {
                let (key, seq) = record?;
                writer.push(key, seq)?;
            }
            if self.is_stopping() {
                return Ok(false);
            }
        }
        let merged = Arc::new(writer.finish()?);
        {
            let mut list = self.runs.write().unwrap_or_else(PoisonError::into_inner);
            let at = list
                .iter()
                .position(|run| Arc::ptr_eq(run, older))
                .filter(|&at| list.get(at + 1).is_some_and(|run| Arc::ptr_eq(run, newer)));
            let Some(at) = at else {
                drop(list);
                remove(&merged.path)?;
                return Ok(false);
            };
            list.splice(at..at + 2, [merged]);
        }
        remove(&older.path)?;
        remove(&newer.path)?;
        Ok(true)
    }

    /// The seqs whose key is `key`, in memory and in the runs, below `indexed_to()`.
    pub(crate) fn candidates(&self, key: u64) -> Result<Vec<u64>, StoreError> {
        // Memory first: a run written meanwhile is in the list before memory lets go.
        let mut found = self.recent().seqs.get(&key).cloned().unwrap_or_default();
        for run in self.runs().iter().rev() {
            run.find(key, &mut found)?;
        }
        found.sort_unstable();
        found.dedup();
        Ok(found)
    }

    /// Whether `key` maps to `seq`.
    pub(crate) fn holds(&self, key: u64, seq: u64) -> Result<bool, StoreError> {
        Ok(self.candidates(key)?.contains(&seq))
    }
}

/// The pair of neighbouring runs to merge next, if any: of those whose older run is at most
/// twice the newer, the smallest. Sizes then at least double from newest to oldest, so a log
/// of `n` entries keeps O(log n) runs and each record is rewritten O(log n) times.
fn merge_due(runs: &[Arc<Run>]) -> Option<usize> {
    runs.windows(2)
        .enumerate()
        .filter(|(_, pair)| pair[0].entries() <= 2 * pair[1].entries())
        .min_by_key(|(_, pair)| pair[0].entries() + pair[1].entries())
        .map(|(at, _)| at)
}

/// The seq range a run file's name gives.
fn run_range(path: &Path) -> Option<(u64, u64)> {
    let name = path.file_name()?.to_str()?.strip_suffix(".run")?;
    let (from, to) = name.split_once('-')?;
    let range = (from.parse().ok()?, to.parse().ok()?);
    (range.0 < range.1 && name == run_name(range.0, range.1)).then_some(range)
}

fn run_name(from: u64, to: u64) -> String {
    format!("{from:020}-{to:020}")
}

/// One run, open for reading: its fences, block checksums and filter in memory.
#[derive(Debug)]
struct Run {
    from: u64,
    to: u64,
    path: PathBuf,
    file: File,
    /// The file's length.
    bytes: u64,
    records: u64,
    fences: Vec<u64>,
    checksums: Vec<u32>,
    bloom: Vec<u64>,
}

impl Run {
    fn open(path: &Path, (from, to): (u64, u64)) -> Result<Self, StoreError> {
        let damaged = |reason| {
            StoreError::from(Corruption::IndexRun {
                path: path.to_owned(),
                reason,
            })
        };
        let file = File::open(path).map_err(io("opening an index run"))?;
        let length = file
            .metadata()
            .map_err(io("reading the length of an index run"))?
            .len();
        if length < FOOTER_BYTES as u64 {
            return Err(damaged("shorter than its footer"));
        }
        let mut footer = [0u8; FOOTER_BYTES];
        read_at(&file, &mut footer, length - FOOTER_BYTES as u64)?;
        if &footer[40..] != MAGIC {
            return Err(damaged("its footer does not end in the run's marker"));
        }
        let field = |at: usize| decode_u64(&footer[at..at + 8]).unwrap_or_default();
        let (named_from, named_to, records, words) = (field(0), field(8), field(16), field(24));
        if (named_from, named_to) != (from, to) {
            return Err(damaged("its footer names other entries than its file name"));
        }
        if !(to - from..=(to - from).saturating_mul(KEYS_PER_ENTRY)).contains(&records) {
            return Err(damaged(
                "it holds another number of records than its entries have keys",
            ));
        }
        if words != bloom_words(to - from) {
            return Err(damaged("its filter is not the size its entries give"));
        }
        let blocks = records.div_ceil(BLOCK_RECORDS as u64);
        let meta_bytes = blocks
            .checked_mul(12)
            .and_then(|bytes| bytes.checked_add(words.checked_mul(8)?))
            .ok_or_else(|| damaged("too large"))?;
        let expected = records
            .checked_mul(RECORD_BYTES as u64)
            .and_then(|bytes| bytes.checked_add(meta_bytes))
            .and_then(|bytes| bytes.checked_add(FOOTER_BYTES as u64));
        if expected != Some(length) {
            return Err(damaged("its length is not what its footer says"));
        }
        let mut meta = vec![0u8; usize::try_from(meta_bytes).map_err(|_| damaged("too large"))?];
        read_at(&file, &mut meta, records * RECORD_BYTES as u64)?;
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&meta);
        hasher.update(&footer[..32]);
        if hasher.finalize().to_be_bytes() != footer[32..36] {
            return Err(damaged(
                "its fences, checksums or filter fail their checksum",
            ));
        }
        let blocks = usize::try_from(blocks).map_err(|_| damaged("too large"))?;
        let (fences, rest) = meta.split_at(blocks * 8);
        let (checksums, bloom) = rest.split_at(blocks * 4);
        let run = Run {
            from,
            to,
            path: path.to_owned(),
            file,
            bytes: length,
            records,
            fences: fences.chunks_exact(8).filter_map(decode_u64).collect(),
            checksums: checksums
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes(c.try_into().unwrap_or([0; 4])))
                .collect(),
            bloom: bloom.chunks_exact(8).filter_map(decode_u64).collect(),
        };
        run.check_blocks()?;
        Ok(run)
    }

    /// Reads every block against its checksum, a mebibyte at a time (a run of 10^6 entries
    /// is 32 MB, read in a few milliseconds from the page cache).
    fn check_blocks(&self) -> Result<(), StoreError> {
        const BLOCKS_AT_ONCE: usize = 256;
        let mut bytes = Vec::new();
        for first in (0..self.checksums.len()).step_by(BLOCKS_AT_ONCE) {
            let start = first as u64 * BLOCK_RECORDS as u64;
            let end = (start + (BLOCKS_AT_ONCE * BLOCK_RECORDS) as u64).min(self.records);
            let records = usize::try_from(end - start).map_err(|_| self.damaged_block())?;
            bytes.resize(records * RECORD_BYTES, 0);
            read_at(&self.file, &mut bytes, start * RECORD_BYTES as u64)?;
            for (block, checksum) in bytes.chunks(BLOCK_BYTES).zip(&self.checksums[first..]) {
                if crc32fast::hash(block) != *checksum {
                    return Err(self.damaged_block());
                }
            }
        }
        Ok(())
    }

    fn damaged_block(&self) -> StoreError {
        Corruption::IndexRun {
            path: self.path.clone(),
            reason: "a block of records fails its checksum",
        }
        .into()
    }

    fn entries(&self) -> u64 {
        self.to - self.from
    }

    /// Block `block`'s records, checked against its checksum.
    fn block(&self, block: usize) -> Result<Vec<(u64, u64)>, StoreError> {
        let first = block as u64 * BLOCK_RECORDS as u64;
        let count = usize::try_from((self.records - first).min(BLOCK_RECORDS as u64))
            .unwrap_or(BLOCK_RECORDS);
        let mut bytes = vec![0u8; count * RECORD_BYTES];
        read_at(&self.file, &mut bytes, first * RECORD_BYTES as u64)?;
        if crc32fast::hash(&bytes) != self.checksums[block] {
            return Err(self.damaged_block());
        }
        Ok(u64_pairs(&bytes).collect())
    }

    /// Appends to `found` the seqs of `key` here.
    fn find(&self, key: u64, found: &mut Vec<u64>) -> Result<(), StoreError> {
        if !bloom_may_hold(&self.bloom, key) {
            return Ok(());
        }
        // Records of `key` start in the last block whose first key is below it, or later.
        let start = self
            .fences
            .partition_point(|&fence| fence < key)
            .saturating_sub(1);
        for (block, &fence) in self.fences.iter().enumerate().skip(start) {
            if fence > key {
                break;
            }
            let records = self.block(block)?;
            found.extend(records.iter().filter(|r| r.0 == key).map(|r| r.1));
            if records.last().is_some_and(|r| r.0 > key) {
                break;
            }
        }
        Ok(())
    }

    /// The records in order, a block at a time.
    fn records(&self) -> impl Iterator<Item = Result<(u64, u64), StoreError>> + '_ {
        (0..self.fences.len()).flat_map(move |block| match self.block(block) {
            Ok(records) => records.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(error) => vec![Err(error)],
        })
    }
}

/// Writes one run from records in order, to a temporary name until it is whole and synced.
struct RunWriter {
    from: u64,
    to: u64,
    dir: PathBuf,
    temporary: PathBuf,
    out: BufWriter<File>,
    records: u64,
    block: Vec<u8>,
    fences: Vec<u64>,
    checksums: Vec<u32>,
    bloom: Vec<u64>,
}

impl RunWriter {
    fn new(dir: &Path, from: u64, to: u64) -> Result<Self, StoreError> {
        let temporary = dir.join(format!("{}.partial", run_name(from, to)));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temporary)
            .map_err(io("creating an index run"))?;
        let words = usize::try_from(bloom_words(to - from))
            .map_err(|_| io("sizing an index run")(std::io::Error::other("too large")))?;
        Ok(RunWriter {
            from,
            to,
            dir: dir.to_owned(),
            temporary,
            out: BufWriter::with_capacity(1 << 16, file),
            records: 0,
            block: Vec::with_capacity(BLOCK_BYTES),
            fences: Vec::new(),
            checksums: Vec::new(),
            bloom: vec![0; words],
        })
    }

    fn push(&mut self, key: u64, seq: u64) -> Result<(), StoreError> {
        if self.block.is_empty() {
            self.fences.push(key);
        }
        self.block.extend_from_slice(&key.to_be_bytes());
        self.block.extend_from_slice(&seq.to_be_bytes());
        bloom_insert(&mut self.bloom, key);
        self.records += 1;
        if self.block.len() == BLOCK_BYTES {
            self.end_block()?;
        }
        Ok(())
    }

    fn end_block(&mut self) -> Result<(), StoreError> {
        self.checksums.push(crc32fast::hash(&self.block));
        self.out
            .write_all(&self.block)
            .map_err(io("writing an index run"))?;
        self.block.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<Run, StoreError> {
        if !self.block.is_empty() {
            self.end_block()?;
        }
        let entries = self.to - self.from;
        if !(entries..=entries.saturating_mul(KEYS_PER_ENTRY)).contains(&self.records) {
            return Err(Corruption::Index {
                index: INDEX_NAME,
                seq: self.from,
            }
            .into());
        }
        let mut meta = Vec::with_capacity(self.fences.len() * 12 + self.bloom.len() * 8 + 32);
        self.fences
            .iter()
            .for_each(|f| meta.extend_from_slice(&f.to_be_bytes()));
        self.checksums
            .iter()
            .for_each(|c| meta.extend_from_slice(&c.to_be_bytes()));
        self.bloom
            .iter()
            .for_each(|w| meta.extend_from_slice(&w.to_be_bytes()));
        let mut footer = Vec::with_capacity(FOOTER_BYTES);
        for field in [self.from, self.to, self.records, self.bloom.len() as u64] {
            footer.extend_from_slice(&field.to_be_bytes());
        }
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&meta);
        hasher.update(&footer);
        footer.extend_from_slice(&hasher.finalize().to_be_bytes());
        footer.extend_from_slice(&[0; 4]);
        footer.extend_from_slice(MAGIC);
        self.out
            .write_all(&meta)
            .and_then(|()| self.out.write_all(&footer))
            .map_err(io("writing an index run"))?;
        let file = self
            .out
            .into_inner()
            .map_err(|error| io("writing an index run")(error.into_error()))?;
        file.sync_data().map_err(io("syncing an index run"))?;
        drop(file);
        let path = self
            .dir
            .join(format!("{}.run", run_name(self.from, self.to)));
        std::fs::rename(&self.temporary, &path).map_err(io("naming an index run"))?;
        sync_dir(&self.dir)?;
        Run::open(&path, (self.from, self.to))
    }
}

/// The filter's 64-bit words for a run of `entries` entries: [`BLOOM_BITS_PER_KEY`] bits for
/// each of their keys, at least one word.
fn bloom_words(entries: u64) -> u64 {
    entries
        .saturating_mul(KEYS_PER_ENTRY)
        .saturating_mul(BLOOM_BITS_PER_KEY)
        .div_ceil(64)
        .max(1)
}

/// The filter's bits for `key`: double hashing over the key's own bits (a hash already).
fn bloom_bits(words: usize, key: u64) -> impl Iterator<Item = (usize, u64)> {
    let bits = words as u64 * 64;
    let step = key.rotate_left(32) | 1;
    (0..BLOOM_PROBES).map(move |probe| {
        let bit = key.wrapping_add(probe.wrapping_mul(step)) % bits;
        ((bit / 64) as usize, 1u64 << (bit % 64))
    })
}

fn bloom_insert(bloom: &mut [u64], key: u64) {
    for (word, mask) in bloom_bits(bloom.len(), key) {
        bloom[word] |= mask;
    }
}

fn bloom_may_hold(bloom: &[u64], key: u64) -> bool {
    bloom_bits(bloom.len(), key).all(|(word, mask)| bloom[word] & mask != 0)
}

fn read_at(file: &File, buf: &mut [u8], offset: u64) -> Result<(), StoreError> {
    positioned::read_exact_at(file, buf, offset).map_err(io("reading an index run"))
}

fn remove(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(io("removing an index run")(error)),
    }
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> StoreError {
    move |source| StoreError::Io { what, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(seq: u64) -> Hash {
        Hash::from_bytes(Sha256::digest(seq.to_be_bytes()).into())
    }

    fn id_of(seq: u64) -> String {
        format!("00000000-0000-4000-8000-{seq:012}")
    }

    fn add_all(index: &EntryIndex, from: u64, to: u64) {
        let ids: Vec<String> = (from..to).map(id_of).collect();
        index
            .add(
                from,
                (from..to)
                    .zip(&ids)
                    .map(|(seq, id)| (hash_of(seq), Some(id.as_str()))),
            )
            .unwrap();
    }

    fn assert_finds_all(index: &EntryIndex, to: u64) {
        for seq in 0..to {
            assert!(index.holds(event_key(&hash_of(seq)), seq).unwrap(), "{seq}");
            assert!(
                index.holds(statement_key(&id_of(seq)), seq).unwrap(),
                "{seq}"
            );
        }
        assert!(index
            .candidates(event_key(&hash_of(to)))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn runs_stay_few_and_every_key_is_found_before_and_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let index = EntryIndex::open(dir.path(), Access::ReadWrite, 4).unwrap();
        let mut seq = 0;
        // Batches of uneven sizes, as the sequencer hands them over.
        for batch in [1u64, 3, 7, 2, 9, 1, 1, 30, 5, 64, 13, 100]
            .iter()
            .cycle()
            .take(40)
        {
            add_all(&index, seq, seq + batch);
            seq += batch;
            assert!(index.runs().len() <= 2 * (64 - (seq / 4).max(1).leading_zeros()) as usize + 1);
        }
        assert_finds_all(&index, seq);
        let covered = index.runs().last().unwrap().to;
        drop(index);
        let index = EntryIndex::open(dir.path(), Access::ReadWrite, 4).unwrap();
        assert_eq!(index.discarded(), 0);
        assert_eq!(index.settle(seq).unwrap(), covered);
        add_all(&index, covered, seq);
        assert_finds_all(&index, seq);
        // Nothing is left over but the runs in use.
        let files = std::fs::read_dir(dir.path().join(INDEX_DIR))
            .unwrap()
            .count();
        assert_eq!(files, index.runs().len());
    }

    #[test]
    fn the_merging_thread_keeps_runs_few_while_entries_are_added_and_stops_when_told() {
        let dir = tempfile::tempdir().unwrap();
        let index = EntryIndex::open(dir.path(), Access::ReadWrite, 4).unwrap();
        let index = Arc::new(index);
        EntryIndex::start_merging(&index);
        for batch in 0..200 {
            add_all(&index, batch * 5, batch * 5 + 5);
        }
        // Every key is found while merges run beside the adds, and once they are done.
        assert_finds_all(&index, 1000);
        index.stop_merging();
        index.merge_all_due();
        assert!(index.runs().len() <= 8, "{}", index.runs().len());
        assert_finds_all(&index, 1000);
        // Stopped, it merges as it writes; started again, it merges in the background.
        EntryIndex::start_merging(&index);
        add_all(&index, 1000, 1100);
        index.stop_merging();
        assert_finds_all(&index, 1100);
    }

    #[test]
    fn a_run_whose_footer_is_rewritten_consistently_but_wrongly_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let index = EntryIndex::open(dir.path(), Access::ReadWrite, 4).unwrap();
        add_all(&index, 0, 4);
        let path = index.runs()[0].path.clone();
        drop(index);
        // A filter of no words (or of too many), its length and checksum made to agree: a
        // lookup would divide by zero, so the run is refused when opened.
        let bytes = std::fs::read(&path).unwrap();
        let footer_at = bytes.len() - FOOTER_BYTES;
        let words_at = footer_at + 24;
        let words = u64::from_be_bytes(bytes[words_at..words_at + 8].try_into().unwrap());
        for forged in [0, u64::MAX / 8] {
            let meta_start = 8 * RECORD_BYTES; // 8 records: one block
            let mut meta = bytes[meta_start..meta_start + 12].to_vec(); // its fence and checksum
            meta.extend(std::iter::repeat_n(
                0u8,
                usize::try_from(forged.min(words)).unwrap() * 8,
            ));
            let mut footer = bytes[footer_at..footer_at + 24].to_vec();
            footer.extend_from_slice(&forged.to_be_bytes());
            let crc = crc32fast::hash(&[meta.as_slice(), footer.as_slice()].concat());
            let mut forged_file = bytes[..meta_start].to_vec();
            forged_file.extend_from_slice(&meta);
            forged_file.extend_from_slice(&footer);
            forged_file.extend_from_slice(&crc.to_be_bytes());
            forged_file.extend_from_slice(&[0; 4]);
            forged_file.extend_from_slice(MAGIC);
            std::fs::write(&path, forged_file).unwrap();
            let error = Run::open(&path, (0, 4)).unwrap_err();
            assert!(
                matches!(error, StoreError::Corrupt(Corruption::IndexRun { .. })),
                "{error}"
            );
        }
    }

    #[test]
    fn a_key_shared_by_two_entries_answers_both_and_a_damaged_entry_keeps_its_event_key() {
        let dir = tempfile::tempdir().unwrap();
        let index = EntryIndex::open(dir.path(), Access::ReadWrite, 2).unwrap();
        let shared = "00000000-0000-4000-8000-000000000000";
        for seq in 0..6 {
            let id = (seq % 3 != 2).then_some(shared);
            index.add(seq, [(hash_of(seq), id)]).unwrap();
        }
        assert_eq!(
            index.candidates(statement_key(shared)).unwrap(),
            vec![0, 1, 3, 4]
        );
        assert!(index.holds(event_key(&hash_of(5)), 5).unwrap());
        // A gap is refused and changes nothing.
        assert!(index.add(9, [(hash_of(9), None)]).is_err());
        assert_eq!(index.indexed_to(), 6);
    }

    #[test]
    fn an_interrupted_merge_or_flush_leaves_files_that_open_removes() {
        let dir = tempfile::tempdir().unwrap();
        let index = EntryIndex::open(dir.path(), Access::ReadWrite, 4).unwrap();
        add_all(&index, 0, 4);
        add_all(&index, 4, 8);
        let merged = index.runs();
        assert_eq!(merged.len(), 1, "two runs of like size are merged");
        drop((index, merged));
        // A run the merge had replaced, still there, and a partial file.
        let runs = dir.path().join(INDEX_DIR);
        let index = EntryIndex::open(&dir.path().join("other"), Access::ReadWrite, 4).unwrap();
        add_all(&index, 0, 4);
        drop(index);
        let stale = dir
            .path()
            .join("other")
            .join(INDEX_DIR)
            .join(format!("{}.run", run_name(0, 4)));
        std::fs::copy(&stale, runs.join(format!("{}.run", run_name(0, 4)))).unwrap();
        std::fs::write(runs.join(format!("{}.partial", run_name(8, 12))), b"half").unwrap();
        let index = EntryIndex::open(dir.path(), Access::ReadWrite, 4).unwrap();
        assert_eq!(index.discarded(), 0);
        assert_eq!(index.settle(8).unwrap(), 8);
        assert_finds_all(&index, 8);
        assert_eq!(std::fs::read_dir(&runs).unwrap().count(), 1);
    }
}
