//! Snapshots stored as content-defined chunks, so that a snapshot costs in proportion to what
//! changed since the kept ones.
//!
//! A snapshot's model bytes are cut where a rolling (gear) hash of the last 64 bytes has its
//! top [`MASK_BITS`] bits clear, between [`MIN_CHUNK`] and [`MAX_CHUNK`] bytes apart: a cut
//! depends only on the bytes just before it, so an insertion moves the cuts near it and no
//! others, and the chunks around it are the ones the previous snapshot already stored. Each
//! chunk is stored once in the tree `chunks` under its id; a snapshot record lists the ids.
//!
//! | snapshot value (`snapshots` tree) | chunk id | chunk value (`chunks` tree) |
//! |---|---|---|
//! | SHA-256(body) ‖ body, body = `0x03` ‖ SHA-256(model bytes) ‖ ids | SHA-256(chunk) | the chunk |
//! | SHA-256(body) ‖ body, body = `0x04` ‖ HMAC(digest key, u64be(size) ‖ model bytes) ‖ ids | HMAC(id key, chunk) | the chunk under XChaCha20-Poly1305, nonce from the id |
//! | SHA-256(body) ‖ body, body = `0x05` ‖ SHA-256(model bytes) ‖ HMAC(tag key, u64be(size) ‖ SHA-256(model bytes)) ‖ ids | SHA-256(chunk) | the chunk |
//!
//! `0x04` is a store with a master key (SPEC §12.10): its keys are subkeys of the master key
//! (`OpeningsVault::chunk_keys`). `0x05` is a store without one: in the clear, with a tag
//! under a key derived from the log's signing key ([`TagKey`]), so that `open` can tell a
//! snapshot this store wrote from one rewritten by anyone without the key, and resume from it
//! without replaying the interval before it; `0x03` (written before the tag) is still read,
//! and checked by that replay. Both `0x04` (its digest is keyed) and `0x05` are
//! [`Chunked::authentic`]; the read-only audit, which holds no key, checks `0x05` as `0x03`. Snapshots written whole before (SHA-256(stored) ‖ stored,
//! the stored bytes a JSON object or `0x02`-sealed) are read as they always were.
//!
//! A chunk goes in the batch that writes the first snapshot naming it, and out in the batch
//! that removes the last snapshot naming it.

use std::collections::{BTreeSet, HashSet};

use hisaab_log::{Hash, SigningKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::files::decode_u64;
use crate::layout::Trees;

/// The first body byte of a snapshot stored in chunks in the clear.
const CHUNKED_PLAIN: u8 = 0x03;
/// The first body byte of a snapshot stored in chunks sealed under the master key.
const CHUNKED_SEALED: u8 = 0x04;
/// The first body byte of a snapshot stored in chunks in the clear, tagged under the log key.
const CHUNKED_TAGGED: u8 = 0x05;
/// The label the tag key is derived under.
const TAG_KEY_LABEL: &[u8] = b"hisaab-store/snapshot-tag/v1";

/// The key of snapshot tags: HMAC-SHA-256 under the log's signing key (its 32 secret bytes) of
/// [`TAG_KEY_LABEL`]. Only the holder of the log key, which the store is opened with, makes or
/// checks a tag.
pub(crate) struct TagKey(Zeroizing<[u8; 32]>);

impl TagKey {
    pub(crate) fn of_log_key(log_key: &SigningKey) -> Self {
        let secret = Zeroizing::new(log_key.to_bytes());
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret[..])
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(TAG_KEY_LABEL);
        TagKey(Zeroizing::new(mac.finalize().into_bytes().into()))
    }

    /// The tag of the snapshot at tree size `size` whose model bytes have SHA-256 `digest`.
    fn tag(&self, size: u64, digest: &Hash) -> Hash {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0[..])
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(&size.to_be_bytes());
        mac.update(digest.as_bytes());
        Hash::from_bytes(mac.finalize().into_bytes().into())
    }
}
/// No cut before this many bytes of a chunk.
const MIN_CHUNK: usize = 512;
/// A cut at this many bytes at the latest.
const MAX_CHUNK: usize = 8192;
/// A cut where the top this many bits of the gear hash are clear: one byte in 1024, so
/// chunks average about `MIN_CHUNK` + 1 KiB.
const MASK_BITS: u32 = 10;

/// The gear table: 256 pseudo-random words (SplitMix64 from a fixed seed). Changing it
/// changes every cut, which only costs one snapshot's worth of new chunks.
const GEAR: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut state: u64 = 0x6869_7361_6162_2f31; // "hisaab/1"
    let mut i = 0;
    while i < 256 {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        table[i] = z ^ (z >> 31);
        i += 1;
    }
    table
};

/// The lengths of the chunks `data` is cut into, in order.
pub(crate) fn chunk_lengths(data: &[u8]) -> Vec<usize> {
    let mask = !0u64 << (64 - MASK_BITS);
    let mut lengths = Vec::with_capacity(data.len() / 1024 + 1);
    let mut rest = data;
    while !rest.is_empty() {
        let limit = rest.len().min(MAX_CHUNK);
        let mut length = limit;
        let mut hash = 0u64;
        for (i, &byte) in rest.iter().enumerate().take(limit).skip(MIN_CHUNK) {
            hash = (hash << 1).wrapping_add(GEAR[usize::from(byte)]);
            if hash & mask == 0 {
                length = i + 1;
                break;
            }
        }
        lengths.push(length);
        rest = &rest[length..];
    }
    lengths
}

/// A snapshot record as stored: the record (for `snapshots`) and the chunks it names that are
/// neither in `chunks` nor written earlier in the same batch (id, stored value).
pub(crate) struct Encoded {
    pub(crate) record: Vec<u8>,
    pub(crate) new_chunks: Vec<(Hash, Vec<u8>)>,
}

/// Cuts the model bytes of the snapshot at `size` into chunks, each to be stored once, and
/// makes its record; sealed under the master key's subkeys when the store has one (the model
/// then holds opened values, which must not lie in the clear at rest, SPEC §12.10), else
/// tagged under `tag_key`. `written` holds the chunk ids already in the batch and gains the
/// new ones.
pub(crate) fn encode(
    trees: &Trees,
    size: u64,
    model_bytes: &[u8],
    tag_key: &TagKey,
    written: &mut HashSet<Hash>,
) -> Result<Encoded, StoreError> {
    let keys = trees.vault.as_ref().map(|vault| vault.chunk_keys());
    let (kind, digest) = match &keys {
        Some(keys) => (CHUNKED_SEALED, keys.snapshot_digest(size, model_bytes)),
        None => (CHUNKED_TAGGED, Hash::sha256(model_bytes)),
    };
    let lengths = chunk_lengths(model_bytes);
    let mut body = Vec::with_capacity(1 + 32 * (lengths.len() + 2));
    body.push(kind);
    body.extend_from_slice(digest.as_bytes());
    if kind == CHUNKED_TAGGED {
        body.extend_from_slice(tag_key.tag(size, &digest).as_bytes());
    }
    let mut new_chunks = Vec::new();
    let mut start = 0;
    for length in lengths {
        let chunk = &model_bytes[start..start + length];
        start += length;
        let id = match &keys {
            Some(keys) => keys.chunk_id(chunk),
            None => Hash::sha256(chunk),
        };
        body.extend_from_slice(id.as_bytes());
        if written.contains(&id)
            || trees
                .chunks
                .contains_key(id.as_bytes())
                .map_err(StoreError::sled("reading snapshot chunks"))?
        {
            continue;
        }
        written.insert(id);
        let stored = match &keys {
            Some(keys) => keys.seal_chunk(&id, chunk),
            None => chunk.to_vec(),
        };
        new_chunks.push((id, stored));
    }
    let mut record = Hash::sha256(&body).as_bytes().to_vec();
    record.extend_from_slice(&body);
    Ok(Encoded { record, new_chunks })
}

/// A snapshot record whose checksum holds.
pub(crate) enum Record<'a> {
    /// Written whole: the stored bytes (model bytes, or `0x02`-sealed ones).
    Whole(&'a [u8]),
    /// Written in chunks.
    Chunked(Chunked),
}

/// A snapshot written in chunks: its digest, its tag if it has one, and its chunk ids.
pub(crate) struct Chunked {
    sealed: bool,
    digest: Hash,
    tag: Option<Hash>,
    ids: Vec<Hash>,
}

impl Chunked {
    /// Whether this store wrote it, as far as keys can show: a sealed one's digest is keyed
    /// under the master key (so it holds once [`Chunked::assemble`] gave its bytes), a tagged
    /// one's tag is the one `tag_key` gives its size and digest. One in the clear without a
    /// tag (written before tags) cannot be shown to be.
    pub(crate) fn authentic(&self, size: u64, tag_key: &TagKey) -> bool {
        self.sealed
            || self
                .tag
                .is_some_and(|tag| tag == tag_key.tag(size, &self.digest))
    }

    /// Whether it is sealed under the master key.
    pub(crate) fn sealed(&self) -> bool {
        self.sealed
    }

    /// The SHA-256 of its model bytes (for one in the clear).
    pub(crate) fn digest(&self) -> Hash {
        self.digest
    }

    /// Whether every chunk it names is stored (read without opening any).
    pub(crate) fn chunks_present(&self, trees: &Trees) -> Result<bool, StoreError> {
        for id in &self.ids {
            let present = trees
                .chunks
                .contains_key(id.as_bytes())
                .map_err(StoreError::sled("reading snapshot chunks"))?;
            if !present {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether its model bytes declare the snapshot format of this version
    /// ([`hisaab_model::snapshot_is_current`]), read from its first chunk alone (the version
    /// line is shorter than any chunk but a last one): a snapshot written before an upgrade is
    /// passed over without reading the rest. A first chunk that is missing or does not check
    /// answers `true`, so that [`Chunked::assemble`] finds the snapshot damaged.
    pub(crate) fn declares_current_format(&self, trees: &Trees) -> Result<bool, StoreError> {
        let Some(id) = self.ids.first() else {
            return Ok(true);
        };
        let Some(stored) = trees
            .chunks
            .get(id.as_bytes())
            .map_err(StoreError::sled("reading snapshot chunks"))?
        else {
            return Ok(true);
        };
        let first = match (self.sealed, &trees.vault) {
            (false, _) if Hash::sha256(&stored) == *id => Zeroizing::new(stored.to_vec()),
            (true, Some(vault)) => match vault.chunk_keys().open_chunk(id, &stored) {
                Some(chunk) => chunk,
                None => return Ok(true),
            },
            _ => return Ok(true),
        };
        Ok(hisaab_model::snapshot_is_current(&first))
    }

    /// Its model bytes, checked whole against the digest (a chunk in the clear is not
    /// hashed alone as well: the digest covers every byte of it; a sealed one is opened, and
    /// so authenticated, alone); `None` when a chunk is missing or damaged, or a sealed one
    /// cannot be opened (no master key, or another one).
    ///
    /// The chunks are read in the order of their ids, which is the tree's, in one range scan:
    /// each of sled's leaves is then loaded once, where reading them in the snapshot's own
    /// order (random ids) loaded about one leaf per chunk, far more than its page cache keeps
    /// at 10^6 entries. Each chunk is opened (when sealed) as it is read, then put in its place.
    pub(crate) fn assemble(
        &self,
        trees: &Trees,
        size: u64,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        let keys = match (self.sealed, &trees.vault) {
            (false, _) => None,
            (true, Some(vault)) => Some(vault.chunk_keys()),
            (true, None) => return Ok(None),
        };
        let Some(chunks) = read_in_order(trees, &self.ids, keys.as_ref())? else {
            return Ok(None);
        };
        let length = chunks.iter().map(|chunk| chunk.len()).sum();
        let mut model = Zeroizing::new(Vec::with_capacity(length));
        for chunk in &chunks {
            model.extend_from_slice(chunk);
        }
        let digest = match &keys {
            Some(keys) => keys.snapshot_digest(size, &model),
            None => Hash::sha256(&model),
        };
        Ok((digest == self.digest).then_some(model))
    }
}

/// A chunk as read: sled's bytes as they are, or a sealed one opened.
#[derive(Clone)]
enum Piece {
    Stored(sled::IVec),
    Opened(Zeroizing<Vec<u8>>),
}

impl std::ops::Deref for Piece {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Piece::Stored(bytes) => bytes,
            Piece::Opened(bytes) => bytes,
        }
    }
}

/// The chunks `ids` names, in its order, read in the order of the ids in one range scan (each
/// sealed one opened with `keys`); `None` when one is missing or does not open.
fn read_in_order(
    trees: &Trees,
    ids: &[Hash],
    keys: Option<&crate::openings::ChunkKeys>,
) -> Result<Option<Vec<Piece>>, StoreError> {
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_unstable_by_key(|&index| ids[index]);
    let mut chunks = vec![Piece::Stored(sled::IVec::default()); ids.len()];
    let (Some(&first), Some(&last)) = (order.first(), order.last()) else {
        return Ok(Some(chunks));
    };
    let mut scan = trees
        .chunks
        .range::<&[u8], _>(ids[first].as_bytes().as_slice()..=ids[last].as_bytes().as_slice());
    let mut wanted = order.iter().peekable();
    while let Some(&index) = wanted.next() {
        let id = &ids[index];
        // Chunks of other snapshots in the range are passed over.
        let stored = loop {
            let Some(item) = scan.next() else {
                return Ok(None);
            };
            let (key, stored) = item.map_err(StoreError::sled("reading snapshot chunks"))?;
            match key.as_ref().cmp(id.as_bytes().as_slice()) {
                std::cmp::Ordering::Less => continue,
                std::cmp::Ordering::Equal => break stored,
                std::cmp::Ordering::Greater => return Ok(None),
            }
        };
        let chunk = match keys {
            Some(keys) => match keys.open_chunk(id, &stored) {
                Some(chunk) => Piece::Opened(chunk),
                None => return Ok(None),
            },
            None => Piece::Stored(stored),
        };
        // A chunk named more than once (repeated bytes) is read once.
        while let Some(&again) = wanted.next_if(|&&next| ids[next] == *id) {
            chunks[again] = chunk.clone();
        }
        chunks[index] = chunk;
    }
    Ok(Some(chunks))
}

/// The record in a `snapshots` value, if its checksum holds and it has a known form.
pub(crate) fn parse(value: &[u8]) -> Option<Record<'_>> {
    let (checksum, body) = value.split_first_chunk::<32>()?;
    if Hash::sha256(body).as_bytes() != checksum {
        return None;
    }
    Some(match body.first() {
        Some(&kind @ (CHUNKED_PLAIN | CHUNKED_SEALED | CHUNKED_TAGGED)) => {
            Record::Chunked(parse_chunked(kind, body.get(1..)?)?)
        }
        _ => Record::Whole(body),
    })
}

fn parse_chunked(kind: u8, rest: &[u8]) -> Option<Chunked> {
    let (digest, rest) = rest.split_first_chunk::<32>()?;
    let (tag, ids) = if kind == CHUNKED_TAGGED {
        let (tag, ids) = rest.split_first_chunk::<32>()?;
        (Some(Hash::from_bytes(*tag)), ids)
    } else {
        (None, rest)
    };
    if ids.len() % 32 != 0 {
        return None;
    }
    Some(Chunked {
        sealed: kind == CHUNKED_SEALED,
        digest: Hash::from_bytes(*digest),
        tag,
        ids: ids
            .chunks_exact(32)
            .filter_map(|id| Hash::try_from_slice(id).ok())
            .collect(),
    })
}

/// The chunk ids a `snapshots` value names, read by its layout alone (a record whose checksum
/// fails still keeps the chunks it names until it is removed).
fn named_chunks(value: &[u8]) -> impl Iterator<Item = Hash> + '_ {
    let ids = match value.get(32..) {
        Some([kind @ (CHUNKED_PLAIN | CHUNKED_SEALED | CHUNKED_TAGGED), rest @ ..]) => {
            parse_chunked(*kind, rest).map(|chunked| chunked.ids)
        }
        _ => None,
    };
    ids.into_iter().flatten()
}

/// Adds to `chunks` the removal of every chunk that the snapshots at `removed` name and no
/// other snapshot does, kept or `added` in the same batch.
pub(crate) fn release(
    trees: &Trees,
    removed: &BTreeSet<u64>,
    added: &[&[u8]],
    chunks: &mut sled::Batch,
) -> Result<(), StoreError> {
    let mut orphans: HashSet<Hash> = HashSet::new();
    let mut kept: Vec<sled::IVec> = Vec::new();
    for item in trees.snapshots.iter() {
        let (key, value) = item.map_err(StoreError::sled("reading snapshots"))?;
        if decode_u64(&key).is_some_and(|size| removed.contains(&size)) {
            orphans.extend(named_chunks(&value));
        } else {
            kept.push(value);
        }
    }
    if orphans.is_empty() {
        return Ok(());
    }
    for value in kept.iter().map(|v| &v[..]).chain(added.iter().copied()) {
        for id in named_chunks(value) {
            orphans.remove(&id);
        }
    }
    for id in orphans {
        chunks.remove(id.as_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn chunks_cover_the_bytes_within_their_bounds() {
        let data = bytes(200_000, 7);
        let lengths = chunk_lengths(&data);
        assert_eq!(lengths.iter().sum::<usize>(), data.len());
        let (last, rest) = lengths.split_last().unwrap();
        assert!(rest.iter().all(|&l| (MIN_CHUNK..=MAX_CHUNK).contains(&l)));
        assert!(*last <= MAX_CHUNK);
        let mean = data.len() / lengths.len();
        assert!((1024..=2560).contains(&mean), "mean chunk {mean} bytes");
        assert!(chunk_lengths(&[]).is_empty());
    }

    #[test]
    fn an_insertion_changes_only_the_chunks_around_it() {
        let data = bytes(200_000, 11);
        let mut changed = data[..100_000].to_vec();
        changed.extend_from_slice(b"an inserted record");
        changed.extend_from_slice(&data[100_000..]);
        let cut = |data: &[u8]| -> HashSet<Vec<u8>> {
            let mut start = 0;
            chunk_lengths(data)
                .into_iter()
                .map(|l| {
                    start += l;
                    data[start - l..start].to_vec()
                })
                .collect()
        };
        let (before, after) = (cut(&data), cut(&changed));
        let new = after.difference(&before).count();
        assert!(new <= 3, "{new} new chunks of {}", after.len());
    }

    /// Chunks stored in a real store are read back in the snapshot's order whatever the order
    /// of their ids, a chunk named several times included; one missing, even among others,
    /// gives nothing; the version is told from the first chunk.
    #[test]
    fn a_snapshot_is_put_back_together_from_its_chunks_and_its_version_read_first() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _clock) =
            crate::store::testing::fixture_store(dir.path(), crate::StoreConfig::default());
        let shared = store.shared().unwrap();
        let trees = &shared.trees;
        let tag_key = TagKey::of_log_key(&hisaab_testkit::fixture::log_key());
        let block = bytes(30_000, 3);
        let stored = |size: u64, line: &str| {
            let mut model = line.as_bytes().to_vec();
            for _ in 0..3 {
                model.extend_from_slice(&block);
            }
            let encoded = encode(trees, size, &model, &tag_key, &mut HashSet::new()).unwrap();
            for (id, chunk) in &encoded.new_chunks {
                trees
                    .chunks
                    .insert(id.as_bytes(), chunk.as_slice())
                    .unwrap();
            }
            let Some(Record::Chunked(chunked)) = parse(&encoded.record) else {
                panic!("a record in chunks");
            };
            (model, chunked)
        };
        let current = format!("{}\n", hisaab_model::SNAPSHOT_FORMAT);
        let (model, chunked) = stored(100, &current);
        let distinct: HashSet<&Hash> = chunked.ids.iter().collect();
        assert!(
            distinct.len() < chunked.ids.len(),
            "the repeated block repeats chunks"
        );
        assert!(chunked.declares_current_format(trees).unwrap());
        assert_eq!(
            chunked.assemble(trees, 100).unwrap().unwrap().as_slice(),
            model
        );
        // Its tag holds at its own size only.
        assert!(chunked.authentic(100, &tag_key));
        assert!(!chunked.authentic(101, &tag_key));

        let (_, older) = stored(200, "hisaab-model/ledger-snapshot/v6\n");
        assert!(!older.declares_current_format(trees).unwrap());
        let (_, json) = stored(
            300,
            r#"{"format":"hisaab-model/ledger-snapshot/v6","ledger":{"#,
        );
        assert!(!json.declares_current_format(trees).unwrap());

        // A chunk of the middle gone: nothing, not a snapshot with a hole.
        let middle = chunked.ids[chunked.ids.len() / 2];
        trees.chunks.remove(middle.as_bytes()).unwrap();
        assert!(chunked.assemble(trees, 100).unwrap().is_none());
        store.close().unwrap();
    }
}
