//! The RFC 9162 Merkle tree (SPEC §3): leaf and node hashes, roots, inclusion and consistency
//! proofs, computed over *stored hashes*, and their verification.
//!
//! # Stored hashes
//!
//! A log that appends leaf by leaf stores, for each new leaf, its leaf hash followed by the root
//! of every complete (perfect) subtree that the leaf completes. The hashes are numbered in the
//! order they are written, exactly as Go's `golang.org/x/mod/sumdb/tlog` numbers them (after
//! Crosby and Wallach, "Efficient Data Structures for Tamper-Evident Logging", §3.3):
//! [`stored_hash_index`] maps a node `(level, n)` (the `n`-th perfect subtree of `2^level`
//! leaves) to its position, and [`stored_hash_count`] gives how many hashes a tree of a given
//! size has stored. A store that keeps these hashes in order can compute any root and proof of
//! any earlier size by reading `O(log n)` of them through a [`HashReader`].
//!
//! # What this module does not do
//!
//! It does not store anything: [`MemoryTree`] keeps the stored hashes in a `Vec` for tests and
//! small tools, and `hisaab-store` keeps them on disk. It does not decide which root is
//! trustworthy either: a proof is only ever meaningful against a root and size taken together
//! from one signed checkpoint (SPEC §3), because the RFC 9162 verification algorithms bind the
//! size only through the root.
//!
//! # Example
//!
//! ```
//! use hisaab_log::merkle::{leaf_hash, verify_consistency, verify_inclusion, MemoryTree};
//!
//! let mut tree = MemoryTree::new();
//! for leaf in [&b"a"[..], b"b", b"c"] {
//!     tree.push_leaf(leaf_hash(leaf));
//! }
//! let root = tree.root();
//! let proof = tree.inclusion_proof(1, 3)?;
//! verify_inclusion(&leaf_hash(b"b"), 1, 3, &proof, &root)?;
//!
//! let old_root = hisaab_log::merkle::tree_root(2, &tree)?;
//! let proof = tree.consistency_proof(2, 3)?;
//! verify_consistency(2, 3, &proof, &old_root, &root)?;
//! # Ok::<(), hisaab_log::merkle::MerkleError>(())
//! ```

use thiserror::Error;

use crate::hash::Hash;

/// The most hashes an inclusion or consistency proof may hold. Trees of fewer than `2^63` leaves
/// need at most 63 for an inclusion proof and 64 for a consistency proof (a tree of `b`-bit size
/// needs at most `b` and `b + 1`); longer input is refused before any hashing, so that a hostile
/// proof costs nothing to reject.
pub const PROOF_HASHES_MAX: usize = 64;

/// Domain-separation prefix of a leaf hash (RFC 9162 §2.1.1).
const LEAF_PREFIX: [u8; 1] = [0x00];
/// Domain-separation prefix of an interior node hash (RFC 9162 §2.1.1).
const NODE_PREFIX: [u8; 1] = [0x01];

/// Why a Merkle computation or verification failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// A leaf index that is not inside the tree.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The size of the tree.
        size: u64,
    },
    /// Tree sizes for which no consistency proof exists (SPEC §3 needs `1 <= from <= to`).
    #[error("no consistency proof exists from size {from} to size {to}: need 1 <= from <= to")]
    BadSizes {
        /// The older tree size.
        from: u64,
        /// The newer tree size.
        to: u64,
    },
    /// A proof with the wrong number of hashes for its index and sizes.
    #[error("the proof must hold {expected} hashes, found {found}")]
    ProofLength {
        /// The number of hashes the index and sizes call for.
        expected: usize,
        /// The number of hashes in the proof.
        found: usize,
    },
    /// A proof longer than [`PROOF_HASHES_MAX`], refused before any hashing.
    #[error("a proof may hold at most {PROOF_HASHES_MAX} hashes, found {found}")]
    ProofTooLong {
        /// The number of hashes in the proof.
        found: usize,
    },
    /// The root the proof leads to is not the root it was checked against. For a consistency
    /// proof this is the root of the newer tree.
    #[error("root mismatch: expected {expected}, the proof computes {computed}")]
    RootMismatch {
        /// The root that was given.
        expected: Hash,
        /// The root the proof computes.
        computed: Hash,
    },
    /// A consistency proof leads to an older root other than the one it was checked against.
    #[error("older root mismatch: expected {expected}, the proof computes {computed}")]
    FromRootMismatch {
        /// The older root that was given.
        expected: Hash,
        /// The older root the proof computes.
        computed: Hash,
    },
    /// A [`HashReader`] has no stored hash at this index.
    #[error("no stored hash at index {index}")]
    MissingStoredHash {
        /// The stored-hash index (see [`stored_hash_index`]).
        index: u64,
    },
    /// A [`HashReader`] returned a different number of hashes than it was asked for.
    #[error("the hash reader returned {found} hashes for {expected} indexes")]
    ReaderCount {
        /// The number of indexes asked for.
        expected: usize,
        /// The number of hashes returned.
        found: usize,
    },
    /// A [`HashReader`] failed for its own reasons (a storage error, say).
    #[error("reading stored hashes failed")]
    Read {
        /// The reader's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

/// Reads stored hashes by their index (see [`stored_hash_index`]). Implemented by
/// [`MemoryTree`], by `Vec<Hash>` and `[Hash]` (the stored hashes in order), and by stores.
pub trait HashReader {
    /// Returns the hashes stored at `indexes`, in the same order and of the same number. The
    /// functions of this module ask for each hash once per call, usually in increasing order.
    ///
    /// # Errors
    /// [`MerkleError::MissingStoredHash`] for an index that is not stored, or
    /// [`MerkleError::Read`] when the storage behind the reader fails.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError>;
}

/// The hash of a leaf: `SHA-256(0x00 || leaf_bytes)` (RFC 9162 §2.1.1).
pub fn leaf_hash(leaf_bytes: &[u8]) -> Hash {
    Hash::sha256_parts(&[&LEAF_PREFIX, leaf_bytes])
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)` (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash::sha256_parts(&[&NODE_PREFIX, left.as_bytes(), right.as_bytes()])
}

/// The root of the empty tree: `SHA-256("")` (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Hash::sha256(b"")
}

/// The position of node `(level, n)`, the root of the `n`-th perfect subtree of `2^level`
/// leaves, among the stored hashes, in Go `tlog`'s order: leaf `i`'s hash is followed by the
/// roots of the subtrees it completes, lowest level first.
///
/// `stored_hash_index(0, n) == stored_hash_count(n)`.
///
/// # Panics
/// Never. Coordinates beyond a tree of `2^62` leaves, which no store can hold, saturate at
/// `u64::MAX`, which a reader then reports as missing.
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    // Go's loop walks down to the last leaf of the subtree, m = (n + 1) * 2^level - 1, then adds
    // m + m/2 + m/4 + ... = 2m - popcount(m), then the level (the hashes written after that
    // leaf's own). The closed form is computed in u128 so that it cannot overflow.
    if level >= 64 {
        return u64::MAX;
    }
    let last_leaf = ((u128::from(n) + 1) << level) - 1;
    let index = 2 * last_leaf - u128::from(last_leaf.count_ones()) + u128::from(level);
    u64::try_from(index).unwrap_or(u64::MAX)
}

/// The number of stored hashes of a tree of `leaf_count` leaves: `2 * leaf_count -
/// popcount(leaf_count)`, the same as Go `tlog`'s `StoredHashCount`.
///
/// # Panics
/// Never; saturates at `u64::MAX` beyond `2^63` leaves.
pub fn stored_hash_count(leaf_count: u64) -> u64 {
    let count = 2 * u128::from(leaf_count) - u128::from(leaf_count.count_ones());
    u64::try_from(count).unwrap_or(u64::MAX)
}

/// The stored-hash indexes of the perfect subtrees that make up the first `size` leaves,
/// largest (leftmost) first: one per set bit of `size`, the roots a [`Frontier`] keeps.
pub fn perfect_subtree_indexes(size: u64) -> Vec<u64> {
    let mut indexes = Vec::new();
    push_perfect_subtree_indexes(LeafRange { lo: 0, hi: size }, &mut indexes);
    indexes
}

/// The stored hashes to append, at position `stored_hash_count(index)`, when adding leaf `index`
/// with hash `leaf_hash` to a tree of `index` leaves: the leaf hash, then the root of every
/// perfect subtree the leaf completes, lowest first. Reads the `trailing_ones(index)` earlier
/// subtree roots it needs from `reader` in one call, in increasing order.
///
/// # Errors
/// Whatever `reader` returns, or [`MerkleError::ReaderCount`] if it returns the wrong number of
/// hashes.
pub fn stored_hashes_for_leaf(
    index: u64,
    leaf_hash: Hash,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, MerkleError> {
    // Each trailing one bit of `index` is a left sibling subtree of 2^level leaves, complete
    // and already stored, that the new leaf's subtree of the same size joins.
    let completed = index.trailing_ones();
    let indexes: Vec<u64> = (0..completed)
        .rev()
        .map(|level| {
            let level = level_u8(level);
            stored_hash_index(level, (index >> level) - 1)
        })
        .collect();
    let siblings = read_exact(reader, &indexes)?;
    let mut hashes = Vec::with_capacity(siblings.len() + 1);
    hashes.push(leaf_hash);
    let mut hash = leaf_hash;
    // `siblings` are in increasing index order, which is decreasing level order.
    for sibling in siblings.iter().rev() {
        hash = node_hash(sibling, &hash);
        hashes.push(hash);
    }
    Ok(hashes)
}

/// The root of the tree of the first `size` leaves (MTH, RFC 9162 §2.1.1), from at most
/// `1 + log2(size)` stored hashes read in one call. The empty tree's root is [`empty_root`].
///
/// # Errors
/// Whatever `reader` returns (for a `size` beyond the stored tree,
/// [`MerkleError::MissingStoredHash`]), or [`MerkleError::ReaderCount`].
pub fn tree_root(size: u64, reader: &(impl HashReader + ?Sized)) -> Result<Hash, MerkleError> {
    if size == 0 {
        return Ok(empty_root());
    }
    let hashes = range_hashes(&[LeafRange { lo: 0, hi: size }], reader)?;
    hashes.into_iter().next().ok_or(MerkleError::ReaderCount {
        expected: 1,
        found: 0,
    })
}

/// The inclusion proof (audit path, RFC 9162 §2.1.3.1) of leaf `index` in the tree of the first
/// `size` leaves, leaf side first, from stored hashes read in one call.
///
/// # Errors
/// [`MerkleError::IndexOutOfRange`] unless `index < size`; whatever `reader` returns, or
/// [`MerkleError::ReaderCount`].
pub fn inclusion_proof(
    index: u64,
    size: u64,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    // RFC 9162 §2.1.3.1: PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) when m < k, else
    // PATH(m - k, D[k:n]) : MTH(D[0:k]), with k the largest power of two smaller than n. Walk
    // from the root down, collecting the subtree not taken, then put the leaf side first.
    let mut ranges = Vec::new();
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let k = largest_power_of_two_below(hi - lo);
        if index < lo + k {
            ranges.push(LeafRange { lo: lo + k, hi });
            hi = lo + k;
        } else {
            ranges.push(LeafRange { lo, hi: lo + k });
            lo += k;
        }
    }
    ranges.reverse();
    range_hashes(&ranges, reader)
}

/// The consistency proof (RFC 9162 §2.1.4.1) that the tree of the first `from` leaves is a
/// prefix of the tree of the first `to` leaves, from stored hashes read in one call. Empty when
/// `from == to`.
///
/// # Errors
/// [`MerkleError::BadSizes`] unless `1 <= from <= to`; whatever `reader` returns, or
/// [`MerkleError::ReaderCount`].
pub fn consistency_proof(
    from: u64,
    to: u64,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, MerkleError> {
    if from == 0 || from > to {
        return Err(MerkleError::BadSizes { from, to });
    }
    // RFC 9162 §2.1.4.1: SUBPROOF(m, D[n], b) is [] when m == n and b, [MTH(D[n])] when m == n
    // and not b; otherwise, with k the largest power of two smaller than n,
    // SUBPROOF(m, D[0:k], b) : MTH(D[k:n]) when m <= k, else
    // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]). Walk down, then put the deepest first.
    let mut ranges = Vec::new();
    let (mut lo, mut hi) = (0, to);
    let mut old_root_known = true;
    loop {
        if from == hi {
            if !old_root_known {
                ranges.push(LeafRange { lo, hi });
            }
            break;
        }
        let k = largest_power_of_two_below(hi - lo);
        if from <= lo + k {
            ranges.push(LeafRange { lo: lo + k, hi });
            hi = lo + k;
        } else {
            ranges.push(LeafRange { lo, hi: lo + k });
            lo += k;
            old_root_known = false;
        }
    }
    ranges.reverse();
    range_hashes(&ranges, reader)
}

/// Verifies that `proof` shows the leaf with hash `leaf_hash` at `index` in the tree of `size`
/// leaves whose root is `root`, by the algorithm of RFC 9162 §2.1.3.2. `size` and `root` must
/// come from one signed checkpoint.
///
/// # Errors
/// [`MerkleError::ProofTooLong`], [`MerkleError::IndexOutOfRange`] unless `index < size`,
/// [`MerkleError::ProofLength`] when the proof has the wrong number of hashes for `index` and
/// `size`, and [`MerkleError::RootMismatch`] when it does not lead to `root`.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    if proof.len() > PROOF_HASHES_MAX {
        return Err(MerkleError::ProofTooLong { found: proof.len() });
    }
    // RFC 9162 §2.1.3.2 step 1: leaf_index must be less than tree_size.
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    // The RFC's loop fails a proof of the wrong length at steps 4a and 5; checking the length
    // first names the failure precisely.
    let expected = inclusion_proof_length(index, size);
    if proof.len() != expected {
        return Err(MerkleError::ProofLength {
            expected,
            found: proof.len(),
        });
    }
    // Step 2: fn = leaf_index, sn = tree_size - 1. Step 3: r = hash.
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf_hash;
    // Step 4.
    for p in proof {
        // 4a.
        if s == 0 {
            return Err(MerkleError::ProofLength {
                expected,
                found: proof.len(),
            });
        }
        // 4b.
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        // 4c.
        f >>= 1;
        s >>= 1;
    }
    // Step 5: sn must be 0 and r must equal root_hash.
    if s != 0 {
        return Err(MerkleError::ProofLength {
            expected,
            found: proof.len(),
        });
    }
    if r != *root {
        return Err(MerkleError::RootMismatch {
            expected: *root,
            computed: r,
        });
    }
    Ok(())
}

/// Verifies that `proof` shows the tree of `from` leaves with root `from_root` to be a prefix of
/// the tree of `to` leaves with root `to_root`, by the algorithm of RFC 9162 §2.1.4.2. When
/// `from == to` the proof must be empty and the roots equal (SPEC §3); `from == 0` is an error,
/// as in Go's `tlog.CheckTree`. Each size and root must come from one signed checkpoint.
///
/// # Errors
/// [`MerkleError::ProofTooLong`], [`MerkleError::BadSizes`] unless `1 <= from <= to`,
/// [`MerkleError::ProofLength`] when the proof has the wrong number of hashes for the sizes,
/// [`MerkleError::FromRootMismatch`] when it does not lead to `from_root`, and
/// [`MerkleError::RootMismatch`] when it does not lead to `to_root` (or, when `from == to`, when
/// the roots differ).
pub fn verify_consistency(
    from: u64,
    to: u64,
    proof: &[Hash],
    from_root: &Hash,
    to_root: &Hash,
) -> Result<(), MerkleError> {
    if proof.len() > PROOF_HASHES_MAX {
        return Err(MerkleError::ProofTooLong { found: proof.len() });
    }
    if from == 0 || from > to {
        return Err(MerkleError::BadSizes { from, to });
    }
    if from == to {
        if !proof.is_empty() {
            return Err(MerkleError::ProofLength {
                expected: 0,
                found: proof.len(),
            });
        }
        if from_root != to_root {
            return Err(MerkleError::RootMismatch {
                expected: *to_root,
                computed: *from_root,
            });
        }
        return Ok(());
    }
    // Step 1 fails an empty proof; checking the exact length first names the failure precisely.
    let expected = consistency_proof_length(from, to);
    if proof.len() != expected {
        return Err(MerkleError::ProofLength {
            expected,
            found: proof.len(),
        });
    }
    let length_error = || MerkleError::ProofLength {
        expected,
        found: proof.len(),
    };
    // Step 2: when first is an exact power of 2, first_hash is prepended to the path.
    let prepended = from.is_power_of_two().then_some(from_root);
    let mut path = prepended.into_iter().chain(proof);
    // Step 3.
    let (mut f, mut s) = (from - 1, to - 1);
    // Step 4.
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    // Step 5.
    let first = path.next().ok_or_else(length_error)?;
    let (mut fr, mut sr) = (*first, *first);
    // Step 6.
    for c in path {
        // 6a.
        if s == 0 {
            return Err(length_error());
        }
        // 6b.
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        // 6c.
        f >>= 1;
        s >>= 1;
    }
    // Step 7: fr == first_hash, sr == second_hash, sn == 0.
    if s != 0 {
        return Err(length_error());
    }
    if fr != *from_root {
        return Err(MerkleError::FromRootMismatch {
            expected: *from_root,
            computed: fr,
        });
    }
    if sr != *to_root {
        return Err(MerkleError::RootMismatch {
            expected: *to_root,
            computed: sr,
        });
    }
    Ok(())
}

/// The stored hashes of a tree, in memory, in [`stored_hash_index`] order. For tests and small
/// tools; a log keeps them in `hisaab-store`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    hashes: Vec<Hash>,
    size: u64,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf by its hash (see [`leaf_hash`]).
    ///
    /// # Panics
    /// Never in practice: a MemoryTree holds every stored hash the new ones are computed from.
    pub fn push_leaf(&mut self, leaf_hash: Hash) {
        #[allow(clippy::expect_used)] // A MemoryTree holds every stored hash of its leaves.
        let new = stored_hashes_for_leaf(self.size, leaf_hash, self)
            .expect("a MemoryTree holds every earlier stored hash");
        self.hashes.extend(new);
        self.size += 1;
        debug_assert_eq!(
            Ok(self.hashes.len()),
            usize::try_from(stored_hash_count(self.size))
        );
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The stored hashes, in [`stored_hash_index`] order.
    pub fn stored_hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The root of the whole tree.
    ///
    /// # Panics
    /// Never in practice: a MemoryTree holds every stored hash its root needs.
    pub fn root(&self) -> Hash {
        #[allow(clippy::expect_used)] // A MemoryTree holds every stored hash of its leaves.
        tree_root(self.size, self).expect("a MemoryTree holds every stored hash its root needs")
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves; see
    /// [`inclusion_proof`].
    ///
    /// # Errors
    /// [`MerkleError::IndexOutOfRange`] unless `index < size`, and
    /// [`MerkleError::MissingStoredHash`] when `size` is larger than this tree.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, MerkleError> {
        inclusion_proof(index, size, self)
    }

    /// The consistency proof from the tree of `from` leaves to the tree of `to` leaves; see
    /// [`consistency_proof`].
    ///
    /// # Errors
    /// [`MerkleError::BadSizes`] unless `1 <= from <= to`, and
    /// [`MerkleError::MissingStoredHash`] when `to` is larger than this tree.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, MerkleError> {
        consistency_proof(from, to, self)
    }
}

impl HashReader for MemoryTree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        self.hashes.as_slice().read_hashes(indexes)
    }
}

impl HashReader for [Hash] {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        indexes
            .iter()
            .map(|&index| {
                usize::try_from(index)
                    .ok()
                    .and_then(|position| self.get(position))
                    .copied()
                    .ok_or(MerkleError::MissingStoredHash { index })
            })
            .collect()
    }
}

impl HashReader for Vec<Hash> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        self.as_slice().read_hashes(indexes)
    }
}

/// The root of a growing tree in `O(log n)` memory: the roots of its perfect subtrees, largest
/// (leftmost) first, one per set bit of the size (the compact range `[0, size)`, as in
/// transparency-dev/merkle's `compact` package).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    /// Invariant: `subtree_roots.len() == size.count_ones()`; the i-th root covers the leaves of
    /// the i-th set bit of `size`, from the most significant.
    subtree_roots: Vec<Hash>,
    size: u64,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The frontier of the tree of the first `size` leaves, from its perfect-subtree roots among
    /// the stored hashes.
    ///
    /// # Errors
    /// Whatever `reader` returns, or [`MerkleError::ReaderCount`].
    pub fn try_from_reader(
        size: u64,
        reader: &(impl HashReader + ?Sized),
    ) -> Result<Self, MerkleError> {
        let subtree_roots = read_exact(reader, &perfect_subtree_indexes(size))?;
        Ok(Frontier {
            subtree_roots,
            size,
        })
    }

    /// Appends a leaf by its hash (see [`leaf_hash`]).
    ///
    /// # Panics
    /// Never in practice: only after 2^64 leaves, which would take millennia of hashing.
    pub fn push(&mut self, leaf_hash: Hash) {
        // Each trailing one bit of the size is a perfect subtree of the same size as the one
        // the new leaf completes; merge them, smallest first.
        let mut hash = leaf_hash;
        let mut size = self.size;
        while size & 1 == 1 {
            match self.subtree_roots.pop() {
                Some(left) => hash = node_hash(&left, &hash),
                // Unreachable by the invariant: one root per set bit of the size.
                None => break,
            }
            size >>= 1;
        }
        self.subtree_roots.push(hash);
        #[allow(clippy::expect_used)] // 2^64 leaves would take millennia of hashing.
        let next = self.size.checked_add(1).expect("fewer than 2^64 leaves");
        self.size = next;
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The roots of the perfect subtrees, largest (leftmost) first.
    pub fn subtree_roots(&self) -> &[Hash] {
        &self.subtree_roots
    }

    /// The root of the tree (MTH, RFC 9162 §2.1.1); [`empty_root`] when empty.
    pub fn root(&self) -> Hash {
        // The tree's right spine: each perfect subtree is the left child of the node whose
        // right child is everything after it.
        let mut roots = self.subtree_roots.iter().rev();
        match roots.next() {
            None => empty_root(),
            Some(last) => roots.fold(*last, |right, left| node_hash(left, &right)),
        }
    }
}

/// The leaves `lo..hi` of a subtree of the RFC 9162 decomposition.
#[derive(Debug, Clone, Copy)]
struct LeafRange {
    lo: u64,
    hi: u64,
}

/// The hash of each range (MTH of its leaves), reading every stored hash they need in one call.
fn range_hashes(
    ranges: &[LeafRange],
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, MerkleError> {
    let mut indexes = Vec::new();
    let mut counts = Vec::with_capacity(ranges.len());
    for &range in ranges {
        counts.push(push_perfect_subtree_indexes(range, &mut indexes));
    }
    let stored = read_exact(reader, &indexes)?;
    let mut rest = stored.as_slice();
    let mut hashes = Vec::with_capacity(ranges.len());
    for count in counts {
        let (parts, tail) = rest
            .split_at_checked(count)
            .ok_or(MerkleError::ReaderCount {
                expected: indexes.len(),
                found: stored.len(),
            })?;
        rest = tail;
        // MTH over a range split into perfect subtrees, largest first: the right spine.
        let mut parts = parts.iter().rev();
        let Some(last) = parts.next() else {
            // Only an empty range has no parts, and the decomposition makes none.
            return Err(MerkleError::ReaderCount {
                expected: indexes.len(),
                found: stored.len(),
            });
        };
        hashes.push(parts.fold(*last, |right, left| node_hash(left, &right)));
    }
    Ok(hashes)
}

/// Appends the stored indexes of the perfect subtrees that make up `range`, largest first,
/// and returns how many there are. Every range of the RFC 9162 decomposition starts at a
/// multiple of a power of two at least as large as the range, so each piece is a stored node.
fn push_perfect_subtree_indexes(range: LeafRange, indexes: &mut Vec<u64>) -> usize {
    let LeafRange { mut lo, hi } = range;
    let mut count = 0;
    while lo < hi {
        let level = floor_log2(hi - lo);
        debug_assert_eq!(lo % (1 << level), 0, "subtree ranges are aligned");
        indexes.push(stored_hash_index(level, lo >> level));
        lo += 1 << level;
        count += 1;
    }
    count
}

/// Calls `reader` and checks that it returned one hash per index.
fn read_exact(
    reader: &(impl HashReader + ?Sized),
    indexes: &[u64],
) -> Result<Vec<Hash>, MerkleError> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(MerkleError::ReaderCount {
            expected: indexes.len(),
            found: hashes.len(),
        });
    }
    Ok(hashes)
}

/// The number of hashes in the inclusion proof of leaf `index` in a tree of `size > index`
/// leaves: the path inside the perfect subtree shared with the last leaf (`inner`), plus one
/// hash per perfect subtree to its left on the right border (`border`).
fn inclusion_proof_length(index: u64, size: u64) -> usize {
    let inner = bit_length(index ^ (size - 1));
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    count_usize(inner + border)
}

/// The number of hashes in the consistency proof from `from` to `to` leaves, `1 <= from < to`:
/// the inclusion path of the older tree's last perfect subtree, at its level, plus the seed hash
/// unless the older tree is itself perfect (then its root is the seed).
fn consistency_proof_length(from: u64, to: u64) -> usize {
    let level = from.trailing_zeros();
    let index = (from - 1) >> level;
    let last = (to - 1) >> level;
    let inner = bit_length(index ^ last);
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    let seed = u32::from(index != 0);
    count_usize(seed + inner + border)
}

/// The largest power of two strictly smaller than `n`, for `n >= 2` (the `k` of RFC 9162).
fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << floor_log2(n - 1)
}

/// `floor(log2(n))` for `n >= 1`, as a level.
fn floor_log2(n: u64) -> u8 {
    debug_assert!(n >= 1);
    level_u8(63 - n.leading_zeros())
}

/// The number of significant bits of `n`.
fn bit_length(n: u64) -> u32 {
    64 - n.leading_zeros()
}

/// A level below 64 as `u8`.
fn level_u8(level: u32) -> u8 {
    // Levels of a u64-sized tree are below 64.
    u8::try_from(level).unwrap_or(u8::MAX)
}

/// A count of at most 129 as `usize`.
fn count_usize(count: u32) -> usize {
    usize::try_from(count).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// RFC 6962's test leaves (transparency-dev/merkle testonly/constants.go).
    const LEAVES_HEX: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];

    /// Expected roots of the trees of the first 1..=8 of those leaves.
    const ROOTS_HEX: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn hex_hash(text: &str) -> Hash {
        Hash::try_from_hex(text).unwrap()
    }

    /// Distinct leaf hashes for synthetic trees.
    fn synthetic_leaves(count: u64) -> Vec<Hash> {
        (0..count).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    fn memory_tree(leaves: &[Hash]) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for leaf in leaves {
            tree.push_leaf(*leaf);
        }
        tree
    }

    fn usize_of(n: u64) -> usize {
        usize::try_from(n).unwrap()
    }

    /// A direct, recursive transcription of RFC 9162 §2.1, over the leaf hashes.
    mod naive {
        use super::super::*;

        fn k_of(n: usize) -> usize {
            let mut k = 1;
            while k << 1 < n {
                k <<= 1;
            }
            k
        }

        /// MTH(D[n]), §2.1.1.
        pub(super) fn root(leaves: &[Hash]) -> Hash {
            match leaves.len() {
                0 => empty_root(),
                1 => leaves[0],
                n => {
                    let k = k_of(n);
                    node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
                }
            }
        }

        /// PATH(m, D[n]), §2.1.3.1.
        pub(super) fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
            let n = leaves.len();
            if n <= 1 {
                return Vec::new();
            }
            let k = k_of(n);
            if m < k {
                let mut proof = path(m, &leaves[..k]);
                proof.push(root(&leaves[k..]));
                proof
            } else {
                let mut proof = path(m - k, &leaves[k..]);
                proof.push(root(&leaves[..k]));
                proof
            }
        }

        /// PROOF(m, D[n]) = SUBPROOF(m, D[n], true), §2.1.4.1.
        pub(super) fn proof(m: usize, leaves: &[Hash]) -> Vec<Hash> {
            subproof(m, leaves, true)
        }

        fn subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
            let n = leaves.len();
            if m == n {
                return if b { Vec::new() } else { vec![root(leaves)] };
            }
            let k = k_of(n);
            if m <= k {
                let mut proof = subproof(m, &leaves[..k], b);
                proof.push(root(&leaves[k..]));
                proof
            } else {
                let mut proof = subproof(m - k, &leaves[k..], false);
                proof.push(root(&leaves[..k]));
                proof
            }
        }
    }

    /// Go tlog's StoredHashIndex, loop for loop.
    fn go_stored_hash_index(level: u8, n: u64) -> u64 {
        let mut n = n;
        for _ in 0..level {
            n = 2 * n + 1;
        }
        let mut i = 0;
        while n > 0 {
            i += n;
            n >>= 1;
        }
        i + u64::from(level)
    }

    /// Go tlog's StoredHashCount, loop for loop.
    fn go_stored_hash_count(n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let mut count = go_stored_hash_index(0, n - 1) + 1;
        let mut i = n - 1;
        while i & 1 != 0 {
            count += 1;
            i >>= 1;
        }
        count
    }

    #[test]
    fn hashes_are_domain_separated_as_rfc_9162_says() {
        assert_eq!(
            empty_root(),
            hex_hash("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(leaf_hash(b""), Hash::sha256(&[0x00]));
        let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
        let mut bytes = vec![0x01];
        bytes.extend_from_slice(a.as_bytes());
        bytes.extend_from_slice(b.as_bytes());
        assert_eq!(node_hash(&a, &b), Hash::sha256(&bytes));
        assert_ne!(node_hash(&a, &b), node_hash(&b, &a));
    }

    #[test]
    fn rfc_6962_reference_leaves_give_the_published_roots() {
        let leaves: Vec<Hash> = LEAVES_HEX
            .iter()
            .map(|text| leaf_hash(&hex::decode(text).unwrap()))
            .collect();
        assert_eq!(
            leaves[0],
            hex_hash("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        );
        let mut tree = MemoryTree::new();
        let mut frontier = Frontier::new();
        assert_eq!(tree.root(), empty_root());
        assert_eq!(frontier.root(), empty_root());
        for (leaf, expected) in leaves.iter().zip(ROOTS_HEX) {
            tree.push_leaf(*leaf);
            frontier.push(*leaf);
            assert_eq!(tree.root(), hex_hash(expected), "size {}", tree.size());
            assert_eq!(frontier.root(), hex_hash(expected), "size {}", tree.size());
        }
        for size in 0..=8u64 {
            let expected = if size == 0 {
                empty_root()
            } else {
                hex_hash(ROOTS_HEX[usize_of(size) - 1])
            };
            assert_eq!(tree_root(size, &tree).unwrap(), expected);
            assert_eq!(naive::root(&leaves[..usize_of(size)]), expected);
        }
    }

    #[test]
    fn stored_hash_layout_is_go_tlogs() {
        for level in 0..=12u8 {
            for n in 0..300u64 {
                assert_eq!(
                    stored_hash_index(level, n),
                    go_stored_hash_index(level, n),
                    "({level}, {n})"
                );
            }
        }
        for n in 0..2000u64 {
            assert_eq!(stored_hash_count(n), go_stored_hash_count(n), "{n}");
            assert_eq!(stored_hash_index(0, n), stored_hash_count(n));
        }
        // Large coordinates agree too, and the absurd ones saturate instead of panicking.
        let big = (1u64 << 40) + 12345;
        assert_eq!(stored_hash_index(3, big), go_stored_hash_index(3, big));
        assert_eq!(stored_hash_count(big), go_stored_hash_count(big));
        assert_eq!(stored_hash_index(64, 1), u64::MAX);
        assert_eq!(stored_hash_index(63, u64::MAX), u64::MAX);
        assert_eq!(stored_hash_count(1 << 63), u64::MAX);
        assert_eq!(stored_hash_count(u64::MAX), u64::MAX);
    }

    #[test]
    fn memory_tree_stores_hashes_where_the_layout_says() {
        let leaves = synthetic_leaves(100);
        let tree = memory_tree(&leaves);
        assert_eq!(tree.stored_hashes().len(), usize_of(stored_hash_count(100)));
        for (i, leaf) in leaves.iter().enumerate() {
            let index = stored_hash_index(0, i as u64);
            assert_eq!(tree.stored_hashes()[usize_of(index)], *leaf);
        }
        // Node (level, n) holds the root of leaves n * 2^level .. (n + 1) * 2^level.
        for level in 1..=6u8 {
            let width = 1usize << level;
            for n in 0..(100 / width) {
                let expected = naive::root(&leaves[n * width..(n + 1) * width]);
                let index = stored_hash_index(level, n as u64);
                assert_eq!(tree.stored_hashes()[usize_of(index)], expected);
            }
        }
    }

    #[test]
    fn proofs_from_stored_hashes_equal_the_naive_rfc_proofs_up_to_64() {
        let leaves = synthetic_leaves(64);
        let tree = memory_tree(&leaves);
        let roots: Vec<Hash> = (0..=64).map(|n| naive::root(&leaves[..n])).collect();
        for size in 1..=64u64 {
            let root = tree_root(size, &tree).unwrap();
            assert_eq!(root, roots[usize_of(size)]);
            for index in 0..size {
                let proof = tree.inclusion_proof(index, size).unwrap();
                let expected = naive::path(usize_of(index), &leaves[..usize_of(size)]);
                assert_eq!(proof, expected, "inclusion ({index}, {size})");
                assert_eq!(proof.len(), inclusion_proof_length(index, size));
                verify_inclusion(&leaves[usize_of(index)], index, size, &proof, &root).unwrap();
            }
        }
        for to in 1..=64u64 {
            for from in 1..=to {
                let proof = tree.consistency_proof(from, to).unwrap();
                let expected = naive::proof(usize_of(from), &leaves[..usize_of(to)]);
                assert_eq!(proof, expected, "consistency ({from}, {to})");
                if from < to {
                    assert_eq!(proof.len(), consistency_proof_length(from, to));
                }
                let (from_root, to_root) = (&roots[usize_of(from)], &roots[usize_of(to)]);
                verify_consistency(from, to, &proof, from_root, to_root).unwrap();
            }
        }
    }

    #[test]
    fn frontier_memory_tree_and_naive_roots_agree_up_to_300() {
        let leaves = synthetic_leaves(300);
        let mut tree = MemoryTree::new();
        let mut frontier = Frontier::new();
        for size in 1..=300usize {
            tree.push_leaf(leaves[size - 1]);
            frontier.push(leaves[size - 1]);
            let expected = naive::root(&leaves[..size]);
            assert_eq!(tree.root(), expected, "size {size}");
            assert_eq!(frontier.root(), expected, "size {size}");
            assert_eq!(frontier.size(), size as u64);
            assert_eq!(
                frontier.subtree_roots().len(),
                (size as u64).count_ones() as usize
            );
            let rebuilt = Frontier::try_from_reader(size as u64, &tree).unwrap();
            assert_eq!(rebuilt, frontier);
        }
    }

    #[test]
    fn stored_hashes_for_leaf_reads_only_earlier_hashes_and_matches_push() {
        let leaves = synthetic_leaves(40);
        let mut stored: Vec<Hash> = Vec::new();
        for (index, leaf) in leaves.iter().enumerate() {
            let index = index as u64;
            assert_eq!(stored.len(), usize_of(stored_hash_count(index)));
            let new = stored_hashes_for_leaf(index, *leaf, &stored).unwrap();
            assert_eq!(new.len(), 1 + index.trailing_ones() as usize);
            stored.extend(new);
        }
        assert_eq!(stored, memory_tree(&leaves).stored_hashes());
    }

    #[test]
    fn invalid_requests_are_errors() {
        let tree = memory_tree(&synthetic_leaves(10));
        assert!(matches!(
            tree.inclusion_proof(10, 10),
            Err(MerkleError::IndexOutOfRange {
                index: 10,
                size: 10
            })
        ));
        assert!(matches!(
            tree.inclusion_proof(0, 0),
            Err(MerkleError::IndexOutOfRange { index: 0, size: 0 })
        ));
        assert!(matches!(
            tree.consistency_proof(0, 5),
            Err(MerkleError::BadSizes { from: 0, to: 5 })
        ));
        assert!(matches!(
            tree.consistency_proof(6, 5),
            Err(MerkleError::BadSizes { from: 6, to: 5 })
        ));
        assert_eq!(tree.consistency_proof(7, 7).unwrap(), Vec::<Hash>::new());
        // Beyond the stored tree, the reader reports the hash it does not have.
        assert!(matches!(
            tree.inclusion_proof(3, 11),
            Err(MerkleError::MissingStoredHash { .. })
        ));
        assert!(matches!(
            tree_root(11, &tree),
            Err(MerkleError::MissingStoredHash { .. })
        ));
        assert!(matches!(
            tree.consistency_proof(3, 12),
            Err(MerkleError::MissingStoredHash { .. })
        ));
    }

    #[test]
    fn a_reader_returning_the_wrong_number_of_hashes_is_an_error_not_a_panic() {
        struct Short;
        impl HashReader for Short {
            fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
                Ok(vec![Hash::ZERO; indexes.len().saturating_sub(1)])
            }
        }
        struct Long;
        impl HashReader for Long {
            fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
                Ok(vec![Hash::ZERO; indexes.len() + 1])
            }
        }
        for result in [
            tree_root(5, &Short).map(|_| ()),
            tree_root(5, &Long).map(|_| ()),
            inclusion_proof(2, 7, &Short).map(|_| ()),
            consistency_proof(3, 7, &Long).map(|_| ()),
            stored_hashes_for_leaf(3, Hash::ZERO, &Short).map(|_| ()),
            Frontier::try_from_reader(7, &Long).map(|_| ()),
        ] {
            assert!(
                matches!(result, Err(MerkleError::ReaderCount { .. })),
                "{result:?}"
            );
        }
    }

    #[test]
    fn a_readers_own_error_is_kept_as_the_source() {
        struct Failing;
        impl HashReader for Failing {
            fn read_hashes(&self, _: &[u64]) -> Result<Vec<Hash>, MerkleError> {
                Err(MerkleError::Read {
                    source: "disk on fire".into(),
                })
            }
        }
        let error = tree_root(3, &Failing).unwrap_err();
        let source = std::error::Error::source(&error).unwrap();
        assert_eq!(source.to_string(), "disk on fire");
    }

    #[test]
    fn verification_names_what_is_wrong() {
        let leaves = synthetic_leaves(9);
        let tree = memory_tree(&leaves);
        let root = tree.root();
        let proof = tree.inclusion_proof(4, 9).unwrap();
        let leaf = leaves[4];
        assert!(matches!(
            verify_inclusion(&leaf, 9, 9, &proof, &root),
            Err(MerkleError::IndexOutOfRange { index: 9, size: 9 })
        ));
        assert!(matches!(
            verify_inclusion(&leaf, 4, 9, &proof[1..], &root),
            Err(MerkleError::ProofLength {
                expected: 4,
                found: 3
            })
        ));
        let long = vec![Hash::ZERO; PROOF_HASHES_MAX + 1];
        assert!(matches!(
            verify_inclusion(&leaf, 4, 9, &long, &root),
            Err(MerkleError::ProofTooLong { found: 65 })
        ));
        assert!(matches!(
            verify_inclusion(&leaves[3], 4, 9, &proof, &root),
            Err(MerkleError::RootMismatch { expected, .. }) if expected == root
        ));

        let old_root = tree_root(5, &tree).unwrap();
        let proof = tree.consistency_proof(5, 9).unwrap();
        verify_consistency(5, 9, &proof, &old_root, &root).unwrap();
        assert!(matches!(
            verify_consistency(0, 9, &proof, &old_root, &root),
            Err(MerkleError::BadSizes { from: 0, to: 9 })
        ));
        assert!(matches!(
            verify_consistency(0, 0, &[], &empty_root(), &empty_root()),
            Err(MerkleError::BadSizes { from: 0, to: 0 })
        ));
        assert!(matches!(
            verify_consistency(9, 5, &proof, &root, &old_root),
            Err(MerkleError::BadSizes { from: 9, to: 5 })
        ));
        assert!(matches!(
            verify_consistency(5, 9, &[], &old_root, &root),
            Err(MerkleError::ProofLength { found: 0, .. })
        ));
        assert!(matches!(
            verify_consistency(5, 9, &proof, &root, &root),
            Err(MerkleError::FromRootMismatch { .. })
        ));
        assert!(matches!(
            verify_consistency(5, 9, &proof, &old_root, &old_root),
            Err(MerkleError::RootMismatch { .. })
        ));
        assert!(matches!(
            verify_consistency(5, 9, &long, &old_root, &root),
            Err(MerkleError::ProofTooLong { .. })
        ));
        // Equal sizes: empty proof and equal roots, nothing else.
        verify_consistency(9, 9, &[], &root, &root).unwrap();
        assert!(matches!(
            verify_consistency(9, 9, &[root], &root, &root),
            Err(MerkleError::ProofLength {
                expected: 0,
                found: 1
            })
        ));
        assert!(matches!(
            verify_consistency(9, 9, &[], &old_root, &root),
            Err(MerkleError::RootMismatch { .. })
        ));
    }

    #[test]
    fn the_size_is_bound_only_through_the_root() {
        // RFC 9162's verifier walks the same path for leaf 0 in trees of 3 and 4 leaves, so the
        // size-3 proof checks against the size-3 root even when called with size 4. This is why
        // SPEC §3 takes the size and root from one signed checkpoint: no signer ever paired
        // size 4 with that root.
        let leaves = synthetic_leaves(4);
        let tree = memory_tree(&leaves);
        let root3 = tree_root(3, &tree).unwrap();
        let proof = tree.inclusion_proof(0, 3).unwrap();
        verify_inclusion(&leaves[0], 0, 4, &proof, &root3).unwrap();
        assert!(verify_inclusion(&leaves[0], 0, 4, &proof, &tree.root()).is_err());
    }

    #[test]
    fn huge_sizes_do_not_overflow_in_verification() {
        let proof = vec![Hash::ZERO; 64];
        let leaf = Hash::ZERO;
        assert!(verify_inclusion(&leaf, u64::MAX - 1, u64::MAX, &proof, &leaf).is_err());
        assert!(verify_inclusion(&leaf, 0, u64::MAX, &proof[..63], &leaf).is_err());
        assert!(verify_consistency(1, u64::MAX, &proof, &leaf, &leaf).is_err());
        assert!(verify_consistency(u64::MAX - 1, u64::MAX, &proof, &leaf, &leaf).is_err());
        assert_eq!(inclusion_proof_length(1 << 63, u64::MAX), 64);
        assert_eq!(inclusion_proof_length(0, u64::MAX), 64);
        assert_eq!(consistency_proof_length(u64::MAX - 1, u64::MAX), 64);
    }

    /// A tree of up to 300 leaves with every root, built once per property case.
    fn tree_and_roots(size: u64) -> (Vec<Hash>, MemoryTree, Vec<Hash>) {
        let leaves = synthetic_leaves(size);
        let tree = memory_tree(&leaves);
        let roots = (0..=size).map(|n| tree_root(n, &tree).unwrap()).collect();
        (leaves, tree, roots)
    }

    fn flipped(hash: &Hash, byte: usize, mask: u8) -> Hash {
        let mut bytes = *hash.as_bytes();
        bytes[byte] ^= mask;
        Hash::from_bytes(bytes)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn inclusion_proofs_verify_and_any_tampering_fails(
            size in 1u64..=300,
            index_seed in any::<u64>(),
            other_seed in any::<u64>(),
            mask in 1u8..=255,
        ) {
            let index = index_seed % size;
            let (leaves, tree, roots) = tree_and_roots(size);
            let (leaf, root) = (leaves[usize_of(index)], roots[usize_of(size)]);
            let proof = tree.inclusion_proof(index, size).unwrap();
            prop_assert!(verify_inclusion(&leaf, index, size, &proof, &root).is_ok());

            for element in 0..proof.len() {
                for byte in 0..32 {
                    let mut bad = proof.clone();
                    bad[element] = flipped(&bad[element], byte, mask);
                    prop_assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
                }
            }
            for byte in 0..32 {
                let bad_root = flipped(&root, byte, mask);
                prop_assert!(verify_inclusion(&leaf, index, size, &proof, &bad_root).is_err());
                let bad_leaf = flipped(&leaf, byte, mask);
                prop_assert!(verify_inclusion(&bad_leaf, index, size, &proof, &root).is_err());
            }
            // Another index in the same tree fails, as does another size with its own root.
            let other_index = other_seed % size;
            if other_index != index {
                prop_assert!(verify_inclusion(&leaf, other_index, size, &proof, &root).is_err());
            }
            for other_size in [size - 1, size + 1, 1 + other_seed % 300] {
                if other_size != size && other_size > index && other_size <= 300 {
                    let other_root = naive::root(&synthetic_leaves(other_size));
                    prop_assert!(
                        verify_inclusion(&leaf, index, other_size, &proof, &other_root).is_err()
                    );
                }
            }
            let mut longer = proof.clone();
            longer.push(root);
            prop_assert!(verify_inclusion(&leaf, index, size, &longer, &root).is_err());
            if !proof.is_empty() {
                prop_assert!(
                    verify_inclusion(&leaf, index, size, &proof[1..], &root).is_err()
                );
            }
        }

        #[test]
        fn consistency_proofs_verify_and_any_tampering_fails(
            to in 1u64..=300,
            from_seed in any::<u64>(),
            other_seed in any::<u64>(),
            mask in 1u8..=255,
        ) {
            let from = 1 + from_seed % to;
            let (_, tree, roots) = tree_and_roots(to);
            let (from_root, to_root) = (roots[usize_of(from)], roots[usize_of(to)]);
            let proof = tree.consistency_proof(from, to).unwrap();
            prop_assert!(verify_consistency(from, to, &proof, &from_root, &to_root).is_ok());

            for element in 0..proof.len() {
                for byte in 0..32 {
                    let mut bad = proof.clone();
                    bad[element] = flipped(&bad[element], byte, mask);
                    prop_assert!(
                        verify_consistency(from, to, &bad, &from_root, &to_root).is_err()
                    );
                }
            }
            for byte in 0..32 {
                let bad_from = flipped(&from_root, byte, mask);
                prop_assert!(verify_consistency(from, to, &proof, &bad_from, &to_root).is_err());
                let bad_to = flipped(&to_root, byte, mask);
                prop_assert!(verify_consistency(from, to, &proof, &from_root, &bad_to).is_err());
            }
            // Other sizes, each with its own root, fail with this proof.
            let other = 1 + other_seed % to;
            for other_from in [from - 1, from + 1, other] {
                if other_from != from && other_from >= 1 && other_from <= to {
                    let other_root = roots[usize_of(other_from)];
                    prop_assert!(
                        verify_consistency(other_from, to, &proof, &other_root, &to_root)
                            .is_err()
                    );
                }
            }
            for other_to in [to - 1, to + 1, other] {
                if other_to != to && other_to >= from && other_to <= 300 {
                    let other_root = naive::root(&synthetic_leaves(other_to));
                    prop_assert!(
                        verify_consistency(from, other_to, &proof, &from_root, &other_root)
                            .is_err()
                    );
                }
            }
            let mut longer = proof.clone();
            longer.push(to_root);
            prop_assert!(verify_consistency(from, to, &longer, &from_root, &to_root).is_err());
        }
    }
}
