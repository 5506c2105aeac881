//! The entries and the stored hashes, in three append-only files beside sled's.
//!
//! | file | holds |
//! |---|---|
//! | `hisaab-entries` | for every entry in seq order, back to back: its leaf bytes, JCS(entry); its scope for read access (SPEC §13.4: `r` registry, `s` sector, `o` followed by the operator's id); the CRC-32 of its seq (u64 BE) and scope, 4 bytes BE |
//! | `hisaab-entry-ends` | for entry `seq`, at byte `16 · seq`: the offsets in `hisaab-entries` just past its leaf bytes and just past its record, u64 big-endian each |
//! | `hisaab-hashes` | stored hash `index` at byte `32 · index` (Go `tlog` order, see `hisaab_log::merkle`) |
//!
//! An entry is written once and never moved, so the directory holds each of its bytes once.
//! Inside sled it held them three times or more: sled appends every change of a B-tree leaf
//! to its log and rewrites leaves and segments, and the entries were most of what it wrote.
//! A scope, a few bytes, cost sled about 220 bytes of disk, although its keys only grew.
//! The leaf bytes are checked against their stored leaf hashes wherever they are read; the
//! scope, which decides who may read the entry, has its checksum.
//!
//! A batch's bytes are written at their place (the offset after the batch's first seq's
//! predecessor, never past what the log holds) and `hisaab-entries` synced (`fdatasync`)
//! before the sled transaction that holds the batch's index records and signed checkpoint.
//! The other two files are synced every few thousand entries and on close
//! ([`LogFiles::append_syncing`], [`LogFiles::sync_index`]): what they hold is derived, the
//! ends kept in the batch's transaction until then and the stored hashes computed from the
//! entries, and `open` writes both again after a crash ([`LogFiles::restore`]). So a
//! checkpoint in sled always finds its entries in the files; the files may run ahead of sled's latest
//! checkpoint (a batch whose transaction never landed, given no receipt), and
//! `open` cuts them back to it. An entry is read with two positioned reads (its two
//! ends, then its bytes), and a range of entries with one read of the ends and a few large
//! reads of the bytes; nothing is cached here beyond what the kernel's page cache keeps.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use hisaab_log::merkle::{HashReader, MerkleError};
use hisaab_log::Hash;

use crate::error::{Corruption, StoreError};

/// The file of the entries' leaf bytes.
pub(crate) const ENTRIES_FILE: &str = "hisaab-entries";
/// The file of the entries' end offsets.
pub(crate) const ENDS_FILE: &str = "hisaab-entry-ends";
/// The file of the stored hashes.
pub(crate) const HASHES_FILE: &str = "hisaab-hashes";

/// The width of one entry's two end offsets.
pub(crate) const END_BYTES: usize = 16;
/// [`END_BYTES`] as a file offset.
const END_STRIDE: u64 = END_BYTES as u64;
/// The width of one stored hash.
const HASH_BYTES: usize = 32;
/// [`HASH_BYTES`] as a file offset.
const HASH_STRIDE: u64 = HASH_BYTES as u64;
/// How many entries a range read takes at once: their ends in one read, their bytes in one.
const RANGE_BLOCK: u64 = 1024;
/// The width of a record's checksum.
const CHECKSUM_BYTES: u64 = 4;
/// The most bytes one record may take (an entry, its scope and checksum): ends that say more
/// are damage, and are not read.
const RECORD_BYTES_MAX: u64 = hisaab_log::statement::ENTRY_BYTES_MAX as u64 + 1024;

/// How a store's files are opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Read and written; created where missing.
    ReadWrite,
    /// Read only; they must exist.
    ReadOnly,
}

/// The three files of one store, and how far each is written.
#[derive(Debug)]
pub(crate) struct LogFiles {
    entries: File,
    ends: File,
    hashes: File,
    /// How far they are written, published once a batch is written and `hisaab-entries` synced.
    written: Mutex<Written>,
    /// Held by the one who writes (a batch, or a cut), for the whole write and sync, so that
    /// `written` is held only for a moment and readers never wait on a sync.
    writing: Mutex<()>,
}

/// How far the files are written: what the next append starts from.
#[derive(Clone, Copy, Debug, Default)]
struct Written {
    /// Entries whose ends are in `hisaab-entry-ends`.
    entries: u64,
    /// The end of the last of them (of its scope).
    bytes: u64,
    /// Stored hashes in `hisaab-hashes`.
    hashes: u64,
}

impl Written {
    /// Whether `entries` entries and `hashes` stored hashes are within what is written;
    /// otherwise the error of `what` asking (`asked`) for a place past the files' end.
    fn within(
        &self,
        entries: u64,
        hashes: u64,
        what: &'static str,
        asked: impl FnOnce() -> String,
    ) -> Result<(), StoreError> {
        if entries <= self.entries && hashes <= self.hashes {
            return Ok(());
        }
        Err(StoreError::Io {
            what,
            source: std::io::Error::other(format!(
                "{} is past the files' end ({} entries, {} hashes)",
                asked(),
                self.entries,
                self.hashes
            )),
        })
    }
}

impl LogFiles {
    /// Opens the files of the store in `dir`. What is written is read from their lengths
    /// (whole records only); `open` then cuts them back to the latest checkpoint.
    ///
    /// # Errors
    /// [`Corruption::DamagedFiles`] for a missing file opened [`Access::ReadOnly`]; an I/O error.
    pub(crate) fn open(dir: &Path, access: Access) -> Result<Self, StoreError> {
        let open = |name: &str| {
            let path = dir.join(name);
            OpenOptions::new()
                .read(true)
                .write(access == Access::ReadWrite)
                .create(access == Access::ReadWrite)
                .truncate(false)
                .open(&path)
                .map_err(|source| {
                    if source.kind() == std::io::ErrorKind::NotFound {
                        StoreError::from(Corruption::DamagedFiles {
                            path: path.clone(),
                            reason: "the file is missing".into(),
                        })
                    } else {
                        StoreError::Io {
                            what: "opening the entry files",
                            source,
                        }
                    }
                })
        };
        let files = LogFiles {
            entries: open(ENTRIES_FILE)?,
            ends: open(ENDS_FILE)?,
            hashes: open(HASHES_FILE)?,
            written: Mutex::new(Written::default()),
            writing: Mutex::new(()),
        };
        if access == Access::ReadWrite {
            // Files just created are durable only once the directory's entries are.
            sync_dir(dir)?;
        }
        let entries = files.len(&files.ends)? / END_STRIDE;
        let written = Written {
            entries,
            bytes: files.start_of(entries)?,
            hashes: files.len(&files.hashes)? / HASH_STRIDE,
        };
        *files.lock() = written;
        Ok(files)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Written> {
        self.written.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn len(&self, file: &File) -> Result<u64, StoreError> {
        file.metadata()
            .map(|metadata| metadata.len())
            .map_err(|source| StoreError::Io {
                what: "reading the length of an entry file",
                source,
            })
    }

    /// The three files' bytes on disk.
    pub(crate) fn bytes(&self) -> Result<u64, StoreError> {
        Ok(self.len(&self.entries)? + self.len(&self.ends)? + self.len(&self.hashes)?)
    }

    /// How many entries the files hold (more than the log's size while a torn batch is there).
    pub(crate) fn entry_count(&self) -> u64 {
        self.lock().entries
    }

    /// How many stored hashes the files hold.
    pub(crate) fn stored_hash_count(&self) -> u64 {
        self.lock().hashes
    }

    /// Where entry `seq`'s record (leaf bytes and scope) ends; `seq` must be below
    /// [`LogFiles::entry_count`].
    fn end(&self, seq: u64) -> Result<u64, StoreError> {
        Ok(self.read_ends(seq, seq.saturating_add(1))?[0].1)
    }

    /// Entry `seq`; `None` beyond what the files hold.
    pub(crate) fn entry(&self, seq: u64) -> Result<Option<Stored>, StoreError> {
        if seq >= self.entry_count() {
            return Ok(None);
        }
        self.entries(seq, seq.saturating_add(1)).next().transpose()
    }

    /// Entries `from..to` (those the files hold), in order. Ends that do not rise, or that
    /// point past `hisaab-entries`, are [`Corruption::EntryFiles`] at that seq.
    pub(crate) fn entries(
        &self,
        from: u64,
        to: u64,
    ) -> impl Iterator<Item = Result<Stored, StoreError>> + '_ {
        let to = to.min(self.entry_count());
        let mut next = from;
        let mut block: std::vec::IntoIter<Stored> = Vec::new().into_iter();
        let mut failed = false;
        std::iter::from_fn(move || loop {
            if failed {
                return None;
            }
            if let Some(item) = block.next() {
                return Some(Ok(item));
            }
            if next >= to {
                return None;
            }
            let end = next.saturating_add(RANGE_BLOCK).min(to);
            match self.read_block(next, end) {
                Ok(read) => {
                    block = read.into_iter();
                    next = end;
                }
                Err(error) => {
                    failed = true;
                    return Some(Err(error));
                }
            }
        })
    }

    /// Entries `from..to`, all below [`LogFiles::entry_count`]: their ends, then their bytes,
    /// in one read each.
    fn read_block(&self, from: u64, to: u64) -> Result<Vec<Stored>, StoreError> {
        // The ends of the entry before `from` too, where it starts.
        let before = from.min(1);
        let ends = self.read_ends(from - before, to)?;
        let start = if before == 1 { ends[0].1 } else { 0 };
        self.read_at(from, start, &ends[usize::from(before == 1)..])
    }

    /// The entries from `from` on whose record ends are `ends`, the first starting at offset
    /// `start`, in one read of `hisaab-entries`: offsets that do not rise or point past the
    /// file, and scopes that fail their checksum, are [`Corruption::EntryFiles`] at their seq.
    fn read_at(
        &self,
        from: u64,
        start: u64,
        ends: &[(u64, u64)],
    ) -> Result<Vec<Stored>, StoreError> {
        let length = self.len(&self.entries)?;
        let mut previous = start;
        for (seq, &(leaf, record)) in (from..).zip(ends) {
            check_offsets(seq, previous, leaf, record, length)?;
            previous = record;
        }
        let mut bytes = vec![0u8; usize::try_from(previous - start).map_err(|_| too_large())?];
        read_exact_at(&self.entries, &mut bytes, start)?;
        let at = |offset: u64| usize::try_from(offset - start).map_err(|_| too_large());
        let mut out = Vec::with_capacity(ends.len());
        let mut begin = start;
        for (seq, &(leaf, record)) in (from..).zip(ends) {
            let scope = bytes.get(at(leaf)?..at(record)?).unwrap_or_default();
            out.push(Stored {
                seq,
                leaf: bytes
                    .get(at(begin)?..at(leaf)?)
                    .unwrap_or_default()
                    .to_vec(),
                scope: checked_scope(seq, scope)?.to_vec(),
            });
            begin = record;
        }
        Ok(out)
    }

    /// The scope of entry `seq` alone (its leaf bytes are not read); `None` beyond what the
    /// files hold.
    pub(crate) fn scope(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if seq >= self.entry_count() {
            return Ok(None);
        }
        let (leaf, record) = self.read_ends(seq, seq.saturating_add(1))?[0];
        // The record's start is not read: the scope's own offsets are checked.
        check_offsets(seq, leaf, leaf, record, self.len(&self.entries)?)?;
        let mut bytes = vec![0u8; usize::try_from(record - leaf).map_err(|_| too_large())?];
        read_exact_at(&self.entries, &mut bytes, leaf)?;
        Ok(Some(checked_scope(seq, &bytes)?.to_vec()))
    }

    /// The ends of entries `from..to`, all below [`LogFiles::entry_count`], in one read.
    fn read_ends(&self, from: u64, to: u64) -> Result<Vec<(u64, u64)>, StoreError> {
        let count = usize::try_from(to - from).map_err(|_| too_large())?;
        let mut raw = vec![0u8; count.saturating_mul(END_BYTES)];
        read_exact_at(&self.ends, &mut raw, from.saturating_mul(END_STRIDE))?;
        Ok(u64_pairs(&raw).collect())
    }

    /// Stored hash `index`; `None` beyond what the file holds.
    pub(crate) fn stored_hash(&self, index: u64) -> Result<Option<Hash>, StoreError> {
        if index >= self.stored_hash_count() {
            return Ok(None);
        }
        let mut bytes = [0u8; HASH_BYTES];
        read_exact_at(&self.hashes, &mut bytes, index.saturating_mul(HASH_STRIDE))?;
        Ok(Some(Hash::from_bytes(bytes)))
    }

    /// Writes a batch: `entries` (each its leaf bytes and its scope) from seq `first` on and
    /// `hashes` from stored-hash index `first_hash` on, each at its place, cutting off whatever the files held from there
    /// (a batch that was written but never committed), and syncs the three files. The batch
    /// must start at or before the files' end.
    ///
    /// # Errors
    /// An I/O error; the files may then hold part of the batch, which the next append at the
    /// same place overwrites and `open` cuts off.
    pub(crate) fn append(
        &self,
        first: u64,
        entries: &[(&[u8], &[u8])],
        first_hash: u64,
        hashes: &[Hash],
    ) -> Result<(), StoreError> {
        self.append_syncing(first, entries, first_hash, hashes, Sync::All)
            .map(drop)
    }

    /// [`LogFiles::append`], syncing `sync`: with [`Sync::Entries`] only `hisaab-entries` is
    /// synced, and the caller keeps the batch's ends (answered, as written to
    /// `hisaab-entry-ends`) where they are durable until [`LogFiles::sync_index`]; the stored
    /// hashes can be computed again from the entries. A batch that rewrites a torn one syncs
    /// every file.
    pub(crate) fn append_syncing(
        &self,
        first: u64,
        entries: &[(&[u8], &[u8])],
        first_hash: u64,
        hashes: &[Hash],
        sync: Sync,
    ) -> Result<Vec<u8>, StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let written = *self.lock();
        written.within(first, first_hash, "appending to the entry files", || {
            format!("a batch from seq {first} (stored hash {first_hash})")
        })?;
        let start = if first == written.entries {
            written.bytes
        } else {
            self.start_of(first)?
        };
        let length = entries
            .iter()
            .map(|(leaf, scope)| leaf.len() + scope.len() + 4);
        let mut data = Vec::with_capacity(length.sum());
        let mut ends = Vec::with_capacity(entries.len() * END_BYTES);
        let mut end = start;
        for ((leaf, scope), seq) in entries.iter().zip(first..) {
            data.extend_from_slice(leaf);
            end = end.saturating_add(leaf.len() as u64);
            ends.extend_from_slice(&end.to_be_bytes());
            data.extend_from_slice(scope);
            data.extend_from_slice(&checksum(seq, scope));
            end = end.saturating_add(scope.len() as u64 + CHECKSUM_BYTES);
            ends.extend_from_slice(&end.to_be_bytes());
        }
        let count = entries.len() as u64;
        let hash_count = hashes.len() as u64;
        let rewrites = first < written.entries || first_hash < written.hashes;
        write_all_at(&self.entries, &data, start).map_err(|source| StoreError::Io {
            what: "writing entries",
            source,
        })?;
        self.write_index(first, &ends, first_hash, hashes)?;
        let after = Written {
            entries: first.saturating_add(count),
            bytes: end,
            hashes: first_hash.saturating_add(hash_count),
        };
        if rewrites {
            self.set_lengths(after)?;
        }
        self.sync(if rewrites { Sync::All } else { sync })?;
        *self.lock() = after;
        Ok(ends)
    }

    /// Writes entries `first..`'s `ends` and stored hashes `first_hash..` at their place.
    fn write_index(
        &self,
        first: u64,
        ends: &[u8],
        first_hash: u64,
        hashes: &[Hash],
    ) -> Result<(), StoreError> {
        let mut hash_bytes = Vec::with_capacity(hashes.len() * HASH_BYTES);
        for hash in hashes {
            hash_bytes.extend_from_slice(hash.as_bytes());
        }
        let io = |what: &'static str| move |source| StoreError::Io { what, source };
        write_all_at(&self.ends, ends, first.saturating_mul(END_STRIDE))
            .map_err(io("writing entry ends"))?;
        write_all_at(
            &self.hashes,
            &hash_bytes,
            first_hash.saturating_mul(HASH_STRIDE),
        )
        .map_err(io("writing stored hashes"))
    }

    /// Syncs `hisaab-entry-ends` and `hisaab-hashes` (see [`LogFiles::append_syncing`]).
    ///
    /// # Errors
    /// An I/O error.
    pub(crate) fn sync_index(&self) -> Result<(), StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        self.sync_index_files()
    }

    /// Writes entries `from..`'s `ends` and stored hashes `first_hash..` at their place (after
    /// a crash lost what [`LogFiles::append_syncing`] left unsynced), and syncs both files.
    /// `hisaab-entries` must already hold the bytes the ends point at; anything the files
    /// hold beyond is kept for `open` to cut back.
    ///
    /// # Errors
    /// An I/O error; ends that start past the files' end.
    pub(crate) fn restore(
        &self,
        from: u64,
        ends: &[u8],
        first_hash: u64,
        hashes: &[Hash],
    ) -> Result<(), StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let written = *self.lock();
        written.within(from, first_hash, "restoring the entry files", || {
            format!("entries from seq {from} (stored hash {first_hash})")
        })?;
        self.write_index(from, ends, first_hash, hashes)?;
        self.sync_index_files()?;
        let restored = from.saturating_add((ends.len() / END_BYTES) as u64);
        let mut after = written;
        if restored >= written.entries {
            after.entries = restored;
            after.bytes = u64_pairs(ends).last().map_or(written.bytes, |(_, end)| end);
        }
        after.hashes = after
            .hashes
            .max(first_hash.saturating_add(hashes.len() as u64));
        *self.lock() = after;
        Ok(())
    }

    /// The leaf hashes of the entries whose ends are `ends` (pairs, as in
    /// `hisaab-entry-ends`), the first of them `seq` starting at offset `start`: read from
    /// `hisaab-entries` at those places, whatever `hisaab-entry-ends` says.
    ///
    /// # Errors
    /// [`Corruption::EntryFiles`] for ends that do not rise or point past the file; an I/O
    /// error.
    pub(crate) fn leaf_hashes_at(
        &self,
        seq: u64,
        start: u64,
        ends: &[u8],
    ) -> Result<Vec<Hash>, StoreError> {
        let ends: Vec<(u64, u64)> = u64_pairs(ends).collect();
        let mut out = Vec::with_capacity(ends.len());
        let (mut seq, mut start) = (seq, start);
        // A block of entries at a time, as the other range reads go.
        for block in ends.chunks(usize::try_from(RANGE_BLOCK).unwrap_or(usize::MAX)) {
            let stored = self.read_at(seq, start, block)?;
            out.extend(
                stored
                    .iter()
                    .map(|s| hisaab_log::merkle::leaf_hash(&s.leaf)),
            );
            seq += block.len() as u64;
            start = block.last().map_or(start, |&(_, record)| record);
        }
        Ok(out)
    }

    /// Where entry `seq`'s record starts: the end of the one before (0 for genesis); for
    /// the count of entries, where the next one goes.
    pub(crate) fn start_of(&self, seq: u64) -> Result<u64, StoreError> {
        match seq.checked_sub(1) {
            None => Ok(0),
            Some(before) => self.end(before),
        }
    }

    /// The ends of entries `from..to` as `hisaab-entry-ends` holds them, shorter where the
    /// file is.
    pub(crate) fn raw_ends(&self, from: u64, to: u64) -> Result<Vec<u8>, StoreError> {
        let length = self.len(&self.ends)?;
        let begin = from.saturating_mul(END_STRIDE).min(length);
        let end = to.saturating_mul(END_STRIDE).min(length);
        let mut raw = vec![0u8; usize::try_from(end - begin).map_err(|_| too_large())?];
        read_exact_at(&self.ends, &mut raw, begin)?;
        Ok(raw)
    }

    /// Cuts the files back to `entries` entries and `hashes` stored hashes, and syncs them.
    /// It never lengthens a file: a cut past what a file holds is an error.
    pub(crate) fn truncate(&self, entries: u64, hashes: u64) -> Result<(), StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let written = *self.lock();
        written.within(entries, hashes, "cutting the entry files back", || {
            format!("a cut to {entries} entries and {hashes} stored hashes")
        })?;
        let after = Written {
            entries,
            bytes: self.start_of(entries)?,
            hashes,
        };
        self.set_lengths(after)?;
        self.sync(Sync::All)?;
        *self.lock() = after;
        Ok(())
    }

    fn set_lengths(&self, written: Written) -> Result<(), StoreError> {
        let io = |source| StoreError::Io {
            what: "cutting the entry files back",
            source,
        };
        self.entries.set_len(written.bytes).map_err(io)?;
        self.ends
            .set_len(written.entries.saturating_mul(END_STRIDE))
            .map_err(io)?;
        self.hashes
            .set_len(written.hashes.saturating_mul(HASH_STRIDE))
            .map_err(io)
    }

    /// Makes what was written durable (`fdatasync` of the files `sync` names).
    fn sync(&self, sync: Sync) -> Result<(), StoreError> {
        sync_files(&[&self.entries])?;
        match sync {
            Sync::All => self.sync_index_files(),
            Sync::Entries => Ok(()),
        }
    }

    /// `fdatasync` of `hisaab-entry-ends` and `hisaab-hashes`, the writing lock held.
    fn sync_index_files(&self) -> Result<(), StoreError> {
        sync_files(&[&self.ends, &self.hashes])
    }
}

/// Which files [`LogFiles::append_syncing`] syncs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sync {
    /// All three.
    All,
    /// `hisaab-entries` alone.
    Entries,
}

/// `fdatasync` of each of `files`, in order.
fn sync_files(files: &[&File]) -> Result<(), StoreError> {
    for file in files {
        file.sync_data().map_err(|source| StoreError::Io {
            what: "syncing the entry files",
            source,
        })?;
    }
    Ok(())
}

/// Entry `seq`'s record starts at `start`, its leaf bytes end at `leaf` and the record at
/// `record`, in a file of `length` bytes: in order, within the file, no larger than an entry
/// can be, with room for the checksum; otherwise [`Corruption::EntryFiles`].
fn check_offsets(
    seq: u64,
    start: u64,
    leaf: u64,
    record: u64,
    length: u64,
) -> Result<(), StoreError> {
    let reason = if record > length {
        format!("its bytes end at offset {record}, past the end of {ENTRIES_FILE} ({length} bytes)")
    } else if start > leaf || leaf.saturating_add(CHECKSUM_BYTES) > record {
        format!("its offsets in {ENTRIES_FILE} do not rise: {start}, {leaf}, {record}")
    } else if record - start > RECORD_BYTES_MAX {
        format!(
            "its offsets in {ENTRIES_FILE} make a record of {} bytes, more than an entry can be",
            record - start
        )
    } else {
        return Ok(());
    };
    Err(Corruption::EntryFiles { seq, reason }.into())
}

/// The scope in entry `seq`'s scope bytes followed by their checksum, once the checksum holds.
fn checked_scope(seq: u64, bytes: &[u8]) -> Result<&[u8], StoreError> {
    let (scope, stored) = bytes.split_at(bytes.len().saturating_sub(4));
    if stored != checksum(seq, scope) {
        return Err(Corruption::EntryFiles {
            seq,
            reason: "its scope for read access does not match its checksum".into(),
        }
        .into());
    }
    Ok(scope)
}

/// The checksum of entry `seq`'s scope, as its record ends with it.
fn checksum(seq: u64, scope: &[u8]) -> [u8; 4] {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&seq.to_be_bytes());
    hasher.update(scope);
    hasher.finalize().to_be_bytes()
}

/// A big-endian u64 of exactly 8 bytes.
pub(crate) fn decode_u64(bytes: &[u8]) -> Option<u64> {
    let array: [u8; 8] = bytes.try_into().ok()?;
    Some(u64::from_be_bytes(array))
}

/// `bytes` read as back-to-back pairs of big-endian u64s (a trailing part pair is left out).
pub(crate) fn u64_pairs(bytes: &[u8]) -> impl Iterator<Item = (u64, u64)> + '_ {
    bytes.chunks_exact(16).filter_map(|pair| {
        let (first, second) = pair.split_at(8);
        Some((decode_u64(first)?, decode_u64(second)?))
    })
}

/// Makes the directory's entries (the files' names) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|directory| directory.sync_all())
            .map_err(|source| StoreError::Io {
                what: "syncing the data directory",
                source,
            })?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn too_large() -> StoreError {
    StoreError::Io {
        what: "reading the entry files",
        source: std::io::Error::other("a read larger than this machine's address space"),
    }
}

/// Reads exactly `buf.len()` bytes at `offset`: a file cut short is an error.
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> Result<(), StoreError> {
    positioned::read_exact_at(file, buf, offset).map_err(|source| StoreError::Io {
        what: "reading the entry files",
        source,
    })
}

fn write_all_at(file: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    positioned::write_all_at(file, buf, offset)
}

#[cfg(unix)]
pub(crate) mod positioned {
    use std::fs::File;
    use std::os::unix::fs::FileExt;

    pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        file.read_exact_at(buf, offset)
    }

    pub(super) fn write_all_at(file: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
        file.write_all_at(buf, offset)
    }
}

#[cfg(windows)]
pub(crate) mod positioned {
    use std::fs::File;
    use std::os::windows::fs::FileExt;

    pub(crate) fn read_exact_at(
        file: &File,
        mut buf: &mut [u8],
        mut offset: u64,
    ) -> std::io::Result<()> {
        while !buf.is_empty() {
            match file.seek_read(buf, offset)? {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                n => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
            }
        }
        Ok(())
    }

    pub(super) fn write_all_at(
        file: &File,
        mut buf: &[u8],
        mut offset: u64,
    ) -> std::io::Result<()> {
        while !buf.is_empty() {
            match file.seek_write(buf, offset)? {
                0 => return Err(std::io::ErrorKind::WriteZero.into()),
                n => {
                    buf = &buf[n..];
                    offset += n as u64;
                }
            }
        }
        Ok(())
    }
}

/// One entry as the files hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    pub(crate) seq: u64,
    /// Its leaf bytes, JCS(entry).
    pub(crate) leaf: Vec<u8>,
    /// Its scope for read access, as `crate::layout::encode_scope` writes it.
    pub(crate) scope: Vec<u8>,
}

/// Reads stored hashes from `hisaab-hashes`.
#[derive(Clone, Copy)]
pub(crate) struct FileHashes<'a>(pub(crate) &'a LogFiles);

impl HashReader for FileHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        indexes
            .iter()
            .map(|&index| match self.0.stored_hash(index) {
                Ok(Some(hash)) => Ok(hash),
                Ok(None) => Err(MerkleError::MissingStoredHash { index }),
                Err(error) => Err(MerkleError::Read {
                    source: Box::new(error),
                }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: u8) -> Hash {
        Hash::from_bytes([n; 32])
    }

    type Pair = (Vec<u8>, Vec<u8>);

    fn read_all(files: &LogFiles) -> Vec<Pair> {
        files
            .entries(0, u64::MAX)
            .map(|item| item.map(|stored| (stored.leaf, stored.scope)).unwrap())
            .collect()
    }

    fn pairs(all: &[Pair]) -> Vec<(&[u8], &[u8])> {
        all.iter()
            .map(|(l, s)| (l.as_slice(), s.as_slice()))
            .collect()
    }

    /// `error` is damage of the entry files at `seq`, saying `says`.
    fn assert_damaged_at(error: &StoreError, seq: u64, says: &str) {
        assert!(
            matches!(error, StoreError::Corrupt(Corruption::EntryFiles { seq: at, .. }) if *at == seq),
            "{error}"
        );
        let message = error.to_string();
        assert!(
            message.contains(&format!("seq {seq}")) && message.contains(says),
            "{message}"
        );
    }

    fn entry(text: &str) -> Pair {
        (text.as_bytes().to_vec(), b"s".to_vec())
    }

    #[test]
    fn unsynced_ends_are_answered_and_leaf_hashes_read_at_them_across_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let files = LogFiles::open(dir.path(), Access::ReadWrite).unwrap();
        let all: Vec<Pair> = (0..2500).map(|n| entry(&format!("entry {n}"))).collect();
        let first = files
            .append_syncing(0, &pairs(&all[..1]), 0, &[], Sync::All)
            .unwrap();
        let rest = files
            .append_syncing(1, &pairs(&all[1..]), 0, &[], Sync::Entries)
            .unwrap();
        // The ends answered are those written.
        assert_eq!(files.raw_ends(0, 1).unwrap(), first);
        assert_eq!(files.raw_ends(1, 2500).unwrap(), rest);
        assert_eq!(files.raw_ends(2499, 4000).unwrap().len(), 16);
        // Leaf hashes read at them, from any entry on, across blocks of RANGE_BLOCK.
        let start = files.start_of(1).unwrap();
        let leaves = files.leaf_hashes_at(1, start, &rest).unwrap();
        let expected: Vec<Hash> = all[1..]
            .iter()
            .map(|(leaf, _)| hisaab_log::merkle::leaf_hash(leaf))
            .collect();
        assert_eq!(leaves, expected);
        // Restoring them after a loss gives the files back, and what they count.
        drop(files);
        let path = dir.path().join(ENDS_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(16 * 700);
        std::fs::write(&path, bytes).unwrap();
        let files = LogFiles::open(dir.path(), Access::ReadWrite).unwrap();
        assert_eq!(files.entry_count(), 700);
        files.restore(1, &rest, 0, &[]).unwrap();
        assert_eq!(files.entry_count(), 2500);
        assert_eq!(read_all(&files), all);
    }

    #[test]
    fn entries_scopes_and_hashes_round_trip_across_blocks_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let files = LogFiles::open(dir.path(), Access::ReadWrite).unwrap();
        let all: Vec<Pair> = (0..2500u32)
            .map(|n| {
                let leaf = format!("entry {n} {}", "x".repeat((n % 37) as usize)).into_bytes();
                let scope = match n % 3 {
                    0 => b"r".to_vec(),
                    1 => Vec::new(),
                    _ => format!("oop-{n}").into_bytes(),
                };
                (leaf, scope)
            })
            .collect();
        for (batch, chunk) in all.chunks(300).enumerate() {
            let first = (batch * 300) as u64;
            let hashes: Vec<Hash> = (0..=u8::MAX).cycle().take(chunk.len()).map(hash).collect();
            files.append(first, &pairs(chunk), first, &hashes).unwrap();
        }
        assert_eq!(read_all(&files), all);
        assert_eq!(files.scope(1234).unwrap().unwrap(), all[1234].1);
        assert_eq!(files.scope(2500).unwrap(), None);
        let one = files.entry(1234).unwrap().unwrap();
        assert_eq!((one.seq, (one.leaf, one.scope)), (1234, all[1234].clone()));
        assert_eq!(files.entry(2500).unwrap(), None);
        assert_eq!(files.stored_hash(301).unwrap(), Some(hash(1)));
        assert_eq!(files.stored_hash(2500).unwrap(), None);
        drop(files);
        let files = LogFiles::open(dir.path(), Access::ReadOnly).unwrap();
        assert_eq!(files.entry_count(), 2500);
        assert_eq!(files.stored_hash_count(), 2500);
        let middle: Vec<Pair> = files
            .entries(1000, 1030)
            .map(|i| i.map(|s| (s.leaf, s.scope)).unwrap())
            .collect();
        assert_eq!(middle, all[1000..1030].to_vec());
    }

    #[test]
    fn a_batch_written_again_replaces_what_followed_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let files = LogFiles::open(dir.path(), Access::ReadWrite).unwrap();
        let first = [entry("genesis"), entry("one"), entry("two, torn")];
        let hashes = [hash(0), hash(1), hash(2), hash(3)];
        files.append(0, &pairs(&first), 0, &hashes).unwrap();
        let again = [entry("one again")];
        files.append(1, &pairs(&again), 1, &[hash(9)]).unwrap();
        assert_eq!(read_all(&files), vec![entry("genesis"), entry("one again")]);
        assert_eq!(files.stored_hash_count(), 2);
        assert_eq!(files.stored_hash(1).unwrap(), Some(hash(9)));
        assert!(files.append(3, &pairs(&[entry("a gap")]), 2, &[]).is_err());
        files.truncate(1, 1).unwrap();
        drop(files);
        let files = LogFiles::open(dir.path(), Access::ReadWrite).unwrap();
        assert_eq!(read_all(&files), vec![entry("genesis")]);
        assert_eq!(files.stored_hash_count(), 1);
    }

    #[test]
    fn ends_past_the_entries_file_are_named_by_seq() {
        let dir = tempfile::tempdir().unwrap();
        let files = LogFiles::open(dir.path(), Access::ReadWrite).unwrap();
        let all = [entry("genesis"), entry("one"), entry("two")];
        files.append(0, &pairs(&all), 0, &[]).unwrap();
        drop(files);
        let path = dir.path().join(ENTRIES_FILE);
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(14).unwrap();
        let files = LogFiles::open(dir.path(), Access::ReadOnly).unwrap();
        let error = files.entries(0, 3).find_map(Result::err).unwrap();
        assert_damaged_at(&error, 1, "past the end");
    }

    #[test]
    fn a_scope_changed_on_disk_is_named_by_its_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let files = LogFiles::open(dir.path(), Access::ReadWrite).unwrap();
        let all = [entry("genesis"), (b"one".to_vec(), b"r".to_vec())];
        files.append(0, &pairs(&all), 0, &[]).unwrap();
        drop(files);
        let path = dir.path().join(ENTRIES_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() - 5;
        assert_eq!(bytes[at], b'r');
        bytes[at] = b's';
        std::fs::write(&path, bytes).unwrap();
        let files = LogFiles::open(dir.path(), Access::ReadOnly).unwrap();
        assert!(files.entry(0).unwrap().is_some());
        assert_damaged_at(&files.entry(1).unwrap_err(), 1, "checksum");
        assert_damaged_at(&files.scope(1).unwrap_err(), 1, "checksum");
    }

    #[test]
    fn a_cut_never_lengthens_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let files = LogFiles::open(dir.path(), Access::ReadWrite).unwrap();
        files
            .append(0, &pairs(&[entry("genesis")]), 0, &[hash(0)])
            .unwrap();
        assert!(files.truncate(2, 1).is_err());
        assert!(files.truncate(1, 2).is_err());
        assert_eq!(read_all(&files), vec![entry("genesis")]);
    }

    #[test]
    fn read_only_files_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let error = LogFiles::open(dir.path(), Access::ReadOnly).unwrap_err();
        assert!(error.to_string().contains(ENTRIES_FILE), "{error}");
    }
}
