//! The high-water mark: a small file beside sled's that records the size and root of the last
//! committed batch.
//!
//! sled treats a damaged log record as the torn end of its log and silently recovers the
//! prefix before it, so a flipped byte in its files can roll the store back to an older,
//! self-consistent state, losing receipted entries without a trace inside sled. The mark,
//! written after each batch is durable and before any receipt is given, lets `open` notice:
//! a mark ahead of sled's latest checkpoint means entries were lost. The mark is not fsynced
//! (it only ever lags sled, so a lost write cannot raise a false alarm), and a missing or
//! unreadable mark is reported rather than refused: it guards against accidents; tampering is
//! what checkpoints and witnesses are for.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use hisaab_log::Hash;

use crate::error::{Corruption, StoreError};
use crate::report::MarkStatus;

/// The file name of the mark in the store's directory.
pub(crate) const MARK_FILE: &str = "hisaab-mark";
/// Magic, size (8 bytes BE), root (32 bytes), SHA-256 of the preceding bytes.
const MAGIC: &[u8; 8] = b"hisaabm1";
const MARK_BYTES: usize = 8 + 8 + 32 + 32;

/// A committed size and its root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) size: u64,
    pub(crate) root: Hash,
}

/// Reads the mark: `None` when there is no mark file, `Some(None)` when it is unreadable.
pub(crate) fn read(dir: &Path) -> Option<Option<Mark>> {
    let mut file = File::open(dir.join(MARK_FILE)).ok()?;
    let mut bytes = Vec::with_capacity(MARK_BYTES);
    if file.read_to_end(&mut bytes).is_err() {
        return Some(None);
    }
    Some(decode(&bytes))
}

/// What the mark in `dir` says of a store whose latest checkpoint has `size` and `root`.
///
/// # Errors
/// [`Corruption::LostEntries`] for a mark ahead of the store (a rollback to an older copy, or
/// records sled lost); [`Corruption::MarkRoot`] for a mark of the same size with another root.
pub(crate) fn status(dir: &Path, size: u64, root: &Hash) -> Result<MarkStatus, Corruption> {
    match read(dir) {
        None => Ok(MarkStatus::Missing),
        Some(None) => Ok(MarkStatus::Unreadable),
        Some(Some(mark)) if mark.size > size => Err(Corruption::LostEntries {
            size,
            mark_size: mark.size,
        }),
        Some(Some(mark)) if mark.size == size && mark.root != *root => Err(Corruption::MarkRoot {
            size,
            mark: mark.root,
            checkpoint: *root,
        }),
        Some(Some(mark)) if mark.size == size => Ok(MarkStatus::Agrees),
        Some(Some(_)) => Ok(MarkStatus::Behind),
    }
}

fn decode(bytes: &[u8]) -> Option<Mark> {
    let bytes: &[u8; MARK_BYTES] = bytes.try_into().ok()?;
    let (body, digest) = bytes.split_at(MARK_BYTES - 32);
    if Hash::sha256(body).as_bytes() != digest || !body.starts_with(MAGIC) {
        return None;
    }
    let size = u64::from_be_bytes(body.get(8..16)?.try_into().ok()?);
    let root = Hash::try_from_slice(body.get(16..48)?).ok()?;
    Some(Mark { size, root })
}

fn encode(mark: &Mark) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(MARK_BYTES);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&mark.size.to_be_bytes());
    bytes.extend_from_slice(mark.root.as_bytes());
    let digest = Hash::sha256(&bytes);
    bytes.extend_from_slice(digest.as_bytes());
    bytes
}

/// The open mark file, overwritten in place after each batch.
#[derive(Debug)]
pub(crate) struct Marker {
    file: File,
}

impl Marker {
    /// Opens (creating) the mark file of the store in `dir`.
    pub(crate) fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(MARK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| StoreError::Io {
                what: "opening the high-water mark",
                source,
            })?;
        Ok(Marker { file })
    }

    /// Records `mark`: one write of 80 bytes at offset 0.
    pub(crate) fn write(&mut self, mark: &Mark) -> Result<(), StoreError> {
        let io = |source| StoreError::Io {
            what: "writing the high-water mark",
            source,
        };
        self.file.seek(SeekFrom::Start(0)).map_err(io)?;
        self.file.write_all(&encode(mark)).map_err(io)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_round_trip_and_a_flipped_byte_is_unreadable() {
        let mark = Mark {
            size: 41,
            root: Hash::sha256(b"root"),
        };
        let bytes = encode(&mark);
        assert_eq!(decode(&bytes), Some(mark));
        for i in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 1;
            assert_eq!(decode(&flipped), None, "byte {i}");
        }
        assert_eq!(decode(&bytes[..10]), None);
    }
}
