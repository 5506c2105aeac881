//! The openings of sealed fields, encrypted at rest (SPEC §12.10).
//!
//! Each entry's [`Openings`] (JCS) are encrypted with XChaCha20-Poly1305 under a fresh random
//! 256-bit data key and nonce, with the entry's seq and event hash as associated data so that
//! a blob moved to another entry fails to decrypt; the data key is wrapped the same way under
//! the ledger's [`MasterKey`]. One record per entry in the sled tree `openings`:
//!
//! | key | value |
//! |---|---|
//! | seq, u64 big-endian | `0x01` ‖ wrap nonce (24) ‖ wrapped data key (48) ‖ nonce (24) ‖ ciphertext |
//! | `master-key-check` | `0x01` ‖ nonce (24) ‖ a constant sealed under the master key |
//!
//! Erasing an entry's openings deletes its record (its wrapped key with it); erasing some of
//! its fields re-encrypts the rest under a new data key. [`OpeningsVault::rewrap`] moves every
//! data key to a new master key, after which the old master key can be destroyed and with it
//! every superseded wrapped key sled may still hold in its log segments.
//!
//! The master key lives in a file of its own (64 hex digits, mode 0600) beside the log key,
//! outside the data directory, so that a copy of the data directory reveals nothing.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use hisaab_log::seal::Openings;
use hisaab_log::{jcs, Hash};
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;
use thiserror::Error;
use zeroize::Zeroizing;

/// The sled tree that holds the openings.
pub const OPENINGS_TREE: &str = "openings";
/// The key of the record that tells a wrong master key at once.
const CHECK_KEY: &[u8] = b"master-key-check";
/// What the check record seals.
const CHECK_PLAINTEXT: &[u8] = b"hisaab openings master key";
/// The associated data of the check record.
const CHECK_AD: &[u8] = b"hisaab/openings-check/v2\n";
/// The domain of a blob's associated data (SPEC §12.10).
const BLOB_DOMAIN: &[u8] = b"hisaab/openings/v2\n";
/// The domain of a wrapped data key's associated data (SPEC §12.10).
const WRAP_DOMAIN: &[u8] = b"hisaab/openings-key/v2\n";
/// The domain of a snapshot's associated data (SPEC §12.10).
const SNAPSHOT_DOMAIN: &[u8] = b"hisaab/snapshot/v2\n";
/// The domain of a snapshot chunk's associated data (SPEC §12.10).
const CHUNK_DOMAIN: &[u8] = b"hisaab/snapshot-chunk/v2\n";
/// The labels of the subkeys that seal snapshot chunks.
const CHUNK_ID_LABEL: &[u8] = b"hisaab/snapshot-chunk-id/v2\n";
const CHUNK_DIGEST_LABEL: &[u8] = b"hisaab/snapshot-digest/v2\n";
const CHUNK_CIPHER_LABEL: &[u8] = b"hisaab/snapshot-chunk-key/v2\n";
/// The first byte of every record: the record format.
const RECORD_VERSION: u8 = 0x01;
/// The first byte of an encrypted snapshot.
const SNAPSHOT_VERSION: u8 = 0x02;
const NONCE_BYTES: usize = 24;
const TAG_BYTES: usize = 16;
const WRAPPED_BYTES: usize = 32 + TAG_BYTES;
const HEADER_BYTES: usize = 1 + NONCE_BYTES + WRAPPED_BYTES + NONCE_BYTES;

/// Why openings could not be kept, read or erased. Each variant names the seq where one is
/// concerned.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OpeningsError {
    /// The master key file could not be created or read.
    #[error("master key file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The master key file exists but is not what it must be.
    #[error("master key file {}: {reason}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The master key is not the one the openings were kept under.
    #[error(
        "the master key does not open this store's openings: it is not the key they were \
         kept under (check the --openings-key file)"
    )]
    WrongMasterKey,
    /// Openings are kept but the record that identifies their master key is gone.
    #[error(
        "the openings tree holds records but no master-key check record: it was altered; \
         refusing to mark it for a key that may not be theirs"
    )]
    NoCheckRecord,
    /// sled failed.
    #[error("openings storage: {0}")]
    Storage(#[from] sled::Error),
    /// A record that does not decrypt: altered, or moved from another entry.
    #[error(
        "seq {seq}: the {what} does not decrypt: the record was altered or moved from another \
         entry"
    )]
    Undecryptable {
        /// The entry whose record fails.
        seq: u64,
        /// `data key` or `openings`.
        what: &'static str,
    },
    /// A record of the wrong form, or openings that name another entry.
    #[error("seq {seq}: {reason}")]
    Malformed {
        /// The entry concerned.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
}

/// The ledger's master key: 32 bytes that wrap every entry's data key. Never printed.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    /// A new key from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        MasterKey(bytes)
    }

    /// A key from its 32 bytes (tests, and a caller that keeps it elsewhere).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        MasterKey(Zeroizing::new(bytes))
    }

    /// Creates a new key file at `path`: 64 lowercase hex digits and a newline, mode 0600.
    /// Refuses to overwrite anything.
    ///
    /// # Errors
    /// [`OpeningsError::Io`] when the file exists or cannot be written.
    pub fn create_file(path: &Path) -> Result<Self, OpeningsError> {
        let key = MasterKey::generate();
        let io = |source| OpeningsError::Io {
            path: path.to_owned(),
            source,
        };
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        let text = Zeroizing::new(format!("{}\n", Hash::from_bytes(*key.0).to_hex()));
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(io)?;
        Ok(key)
    }

    /// Reads the key file at `path`. Refuses a file its group or others may read (Unix).
    ///
    /// # Errors
    /// [`OpeningsError::Io`] when it cannot be read, [`OpeningsError::KeyFile`] when it is not
    /// 64 lowercase hex digits (and an optional newline) or its mode is too open.
    pub fn read_file(path: &Path) -> Result<Self, OpeningsError> {
        let bad = |reason: String| OpeningsError::KeyFile {
            path: path.to_owned(),
            reason,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path)
                .map_err(|source| OpeningsError::Io {
                    path: path.to_owned(),
                    source,
                })?
                .permissions()
                .mode()
                & 0o777;
            if mode & 0o077 != 0 {
                return Err(bad(format!(
                    "mode {mode:04o} lets its group or others read it; run `chmod 600 {}`",
                    path.display()
                )));
            }
        }
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| OpeningsError::Io {
                    path: path.to_owned(),
                    source,
                })?,
            );
        let digits = text.strip_suffix('\n').unwrap_or(&text);
        let hash = Hash::try_from_hex(digits)
            .map_err(|_| bad("must hold 64 lowercase hex digits and a newline".into()))?;
        Ok(MasterKey::from_bytes(*hash.as_bytes()))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().into())
    }
}

fn nonce() -> [u8; NONCE_BYTES] {
    let mut nonce = [0u8; NONCE_BYTES];
    OsRng.fill_bytes(&mut nonce);
    nonce
}

fn associated_data(domain: &[u8], seq: u64, event_hash: &Hash) -> Vec<u8> {
    let mut ad = Vec::with_capacity(domain.len() + 8 + 32);
    ad.extend_from_slice(domain);
    ad.extend_from_slice(&seq.to_be_bytes());
    ad.extend_from_slice(event_hash.as_bytes());
    ad
}

/// The associated data of the snapshot at tree size `size` (SPEC §12.10).
fn snapshot_ad(size: u64) -> Vec<u8> {
    let mut ad = SNAPSHOT_DOMAIN.to_vec();
    ad.extend_from_slice(&size.to_be_bytes());
    ad
}

/// The keys that seal a snapshot's chunks (see `crate::chunks`), derived from the master key
/// by HMAC-SHA-256 under a label each.
pub(crate) struct ChunkKeys {
    /// Keys a chunk's id: HMAC(id key, chunk).
    id: Zeroizing<[u8; 32]>,
    /// Keys a snapshot's digest: HMAC(digest key, u64be(size) ‖ model bytes).
    digest: Zeroizing<[u8; 32]>,
    /// Encrypts a chunk under the nonce its id gives (synthetic IV: a nonce repeats only with
    /// its plaintext).
    cipher: XChaCha20Poly1305,
}

impl ChunkKeys {
    fn mac(key: &[u8; 32], parts: &[&[u8]]) -> Hash {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        for part in parts {
            mac.update(part);
        }
        Hash::from_bytes(mac.finalize().into_bytes().into())
    }

    /// The id of a chunk of a snapshot.
    pub(crate) fn chunk_id(&self, chunk: &[u8]) -> Hash {
        Self::mac(&self.id, &[chunk])
    }

    /// The keyed digest of a snapshot's model bytes at tree size `size`.
    pub(crate) fn snapshot_digest(&self, size: u64, model_bytes: &[u8]) -> Hash {
        Self::mac(&self.digest, &[&size.to_be_bytes(), model_bytes])
    }

    /// A chunk encrypted under the nonce its id `id` gives, with `id` as associated data.
    pub(crate) fn seal_chunk(&self, id: &Hash, chunk: &[u8]) -> Vec<u8> {
        let aad = chunk_ad(id);
        self.cipher
            .encrypt(
                XNonce::from_slice(&id.as_bytes()[..NONCE_BYTES]),
                Payload {
                    msg: chunk,
                    aad: &aad,
                },
            )
            // XChaCha20-Poly1305 fails only past 256 GiB; an empty record is refused on read.
            .unwrap_or_default()
    }

    /// The chunk [`ChunkKeys::seal_chunk`] sealed under `id`, if it decrypts and its id is
    /// `id`; `None` for anything else.
    pub(crate) fn open_chunk(&self, id: &Hash, stored: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let aad = chunk_ad(id);
        let chunk = self
            .cipher
            .decrypt(
                XNonce::from_slice(&id.as_bytes()[..NONCE_BYTES]),
                Payload {
                    msg: stored,
                    aad: &aad,
                },
            )
            .ok()
            .map(Zeroizing::new)?;
        (self.chunk_id(&chunk) == *id).then_some(chunk)
    }
}

/// The associated data of the chunk with id `id`.
fn chunk_ad(id: &Hash) -> Vec<u8> {
    let mut ad = CHUNK_DOMAIN.to_vec();
    ad.extend_from_slice(id.as_bytes());
    ad
}

/// What [`OpeningsVault::erase_fields`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Erased {
    /// The entry had no openings kept.
    Nothing,
    /// The named fields are gone; the rest are kept under a new data key.
    Fields(Vec<String>),
    /// No field was left: the entry's record (wrapped key and blob) is deleted.
    Entry,
}

/// The encrypted openings of a store: a sled tree and the master key.
#[derive(Clone, Debug)]
pub struct OpeningsVault {
    tree: sled::Tree,
    master: MasterKey,
}

impl OpeningsVault {
    /// Opens the `openings` tree of `db` with `master`. A tree used for the first time is
    /// marked with a check record for this master key; otherwise the key must match it.
    ///
    /// # Errors
    /// [`OpeningsError::WrongMasterKey`] for another key, [`OpeningsError::Storage`] when
    /// sled fails.
    pub fn open(db: &sled::Db, master: MasterKey) -> Result<Self, OpeningsError> {
        Self::new(db.open_tree(OPENINGS_TREE)?, master)
    }

    /// As [`OpeningsVault::open`], for a tree the caller opened.
    ///
    /// # Errors
    /// As [`OpeningsVault::open`].
    pub fn new(tree: sled::Tree, master: MasterKey) -> Result<Self, OpeningsError> {
        let vault = OpeningsVault { tree, master };
        match vault.tree.get(CHECK_KEY)? {
            Some(record) => vault.check_master(&record)?,
            None if vault.tree.is_empty() => {
                vault.tree.insert(CHECK_KEY, vault.check_record())?;
            }
            None => return Err(OpeningsError::NoCheckRecord),
        }
        Ok(vault)
    }

    fn check_record(&self) -> Vec<u8> {
        self.seal_under_master(RECORD_VERSION, CHECK_AD, CHECK_PLAINTEXT)
    }

    fn check_master(&self, record: &[u8]) -> Result<(), OpeningsError> {
        match self.open_under_master(RECORD_VERSION, CHECK_AD, record) {
            Some(text) if text.as_slice() == CHECK_PLAINTEXT => Ok(()),
            _ => Err(OpeningsError::WrongMasterKey),
        }
    }

    /// `version` ‖ nonce (24) ‖ `msg` encrypted under the master key with `aad`.
    fn seal_under_master(&self, version: u8, aad: &[u8], msg: &[u8]) -> Vec<u8> {
        let nonce = nonce();
        let sealed = self
            .master
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg, aad })
            // XChaCha20-Poly1305 fails only past 256 GiB; an empty record is refused on read.
            .unwrap_or_default();
        let mut record = Vec::with_capacity(1 + NONCE_BYTES + sealed.len());
        record.push(version);
        record.extend_from_slice(&nonce);
        record.extend_from_slice(&sealed);
        record
    }

    /// The plaintext of a [`OpeningsVault::seal_under_master`] record of `version` and `aad`;
    /// `None` for anything else.
    fn open_under_master(
        &self,
        version: u8,
        aad: &[u8],
        record: &[u8],
    ) -> Option<Zeroizing<Vec<u8>>> {
        if record.first() != Some(&version) || record.len() < 1 + NONCE_BYTES + TAG_BYTES {
            return None;
        }
        self.master
            .cipher()
            .decrypt(
                XNonce::from_slice(&record[1..=NONCE_BYTES]),
                Payload {
                    msg: &record[1 + NONCE_BYTES..],
                    aad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }

    /// The record that keeps `openings` under a fresh data key: for a caller that writes it
    /// in its own batch or transaction under [`OpeningsVault::key`].
    ///
    /// # Errors
    /// [`OpeningsError::Malformed`] when the openings break the canonical-JSON profile.
    pub fn seal_record(&self, openings: &Openings) -> Result<Vec<u8>, OpeningsError> {
        let seq = openings.seq;
        let plaintext =
            Zeroizing::new(
                jcs::to_canonical(openings).map_err(|e| OpeningsError::Malformed {
                    seq,
                    reason: e.to_string(),
                })?,
            );
        let mut data_key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(data_key.as_mut());
        let failed = |what: &str| OpeningsError::Malformed {
            seq,
            reason: format!("cannot encrypt the {what}"),
        };
        let wrap_nonce = nonce();
        let wrapped = self
            .master
            .cipher()
            .encrypt(
                XNonce::from_slice(&wrap_nonce),
                Payload {
                    msg: data_key.as_ref(),
                    aad: &associated_data(WRAP_DOMAIN, seq, &openings.event_hash),
                },
            )
            .map_err(|_| failed("data key"))?;
        let blob_nonce = nonce();
        let blob = XChaCha20Poly1305::new(data_key.as_ref().into())
            .encrypt(
                XNonce::from_slice(&blob_nonce),
                Payload {
                    msg: plaintext.as_slice(),
                    aad: &associated_data(BLOB_DOMAIN, seq, &openings.event_hash),
                },
            )
            .map_err(|_| failed("openings"))?;
        let mut record = Vec::with_capacity(HEADER_BYTES + blob.len());
        record.push(RECORD_VERSION);
        record.extend_from_slice(&wrap_nonce);
        record.extend_from_slice(&wrapped);
        record.extend_from_slice(&blob_nonce);
        record.extend_from_slice(&blob);
        Ok(record)
    }

    /// The sled key of entry `seq`'s record.
    pub fn key(seq: u64) -> [u8; 8] {
        seq.to_be_bytes()
    }

    /// Keeps `openings` (replacing any kept for that seq). Durable after the caller's flush.
    ///
    /// # Errors
    /// As [`OpeningsVault::seal_record`], and [`OpeningsError::Storage`].
    pub fn put(&self, openings: &Openings) -> Result<(), OpeningsError> {
        let record = self.seal_record(openings)?;
        self.tree.insert(Self::key(openings.seq), record)?;
        Ok(())
    }

    /// The openings kept for entry `seq`, whose event hash is `event_hash`; `None` when none
    /// are kept (never sealed anything, or erased).
    ///
    /// # Errors
    /// [`OpeningsError::Undecryptable`] for a record altered or moved from another entry
    /// (or kept under another master key), [`OpeningsError::Malformed`] for one of the wrong
    /// form, [`OpeningsError::Storage`].
    pub fn get(&self, seq: u64, event_hash: &Hash) -> Result<Option<Openings>, OpeningsError> {
        let Some(record) = self.tree.get(Self::key(seq))? else {
            return Ok(None);
        };
        self.decrypt(seq, event_hash, &record).map(Some)
    }

    fn data_key(
        &self,
        seq: u64,
        event_hash: &Hash,
        record: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, OpeningsError> {
        if record.len() < HEADER_BYTES + TAG_BYTES || record[0] != RECORD_VERSION {
            return Err(OpeningsError::Malformed {
                seq,
                reason: "the openings record has the wrong length or version".into(),
            });
        }
        let wrap_nonce = &record[1..=NONCE_BYTES];
        let wrapped = &record[1 + NONCE_BYTES..1 + NONCE_BYTES + WRAPPED_BYTES];
        self.master
            .cipher()
            .decrypt(
                XNonce::from_slice(wrap_nonce),
                Payload {
                    msg: wrapped,
                    aad: &associated_data(WRAP_DOMAIN, seq, event_hash),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| OpeningsError::Undecryptable {
                seq,
                what: "data key",
            })
    }

    fn decrypt(
        &self,
        seq: u64,
        event_hash: &Hash,
        record: &[u8],
    ) -> Result<Openings, OpeningsError> {
        let data_key = self.data_key(seq, event_hash, record)?;
        let blob_nonce = &record[1 + NONCE_BYTES + WRAPPED_BYTES..HEADER_BYTES];
        let plaintext = XChaCha20Poly1305::new_from_slice(&data_key)
            .map_err(|_| OpeningsError::Undecryptable {
                seq,
                what: "data key",
            })?
            .decrypt(
                XNonce::from_slice(blob_nonce),
                Payload {
                    msg: &record[HEADER_BYTES..],
                    aad: &associated_data(BLOB_DOMAIN, seq, event_hash),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| OpeningsError::Undecryptable {
                seq,
                what: "openings",
            })?;
        let openings: Openings =
            serde_json::from_slice(&plaintext).map_err(|e| OpeningsError::Malformed {
                seq,
                reason: format!("the decrypted openings do not parse: {e}"),
            })?;
        if openings.seq != seq || openings.event_hash != *event_hash {
            return Err(OpeningsError::Malformed {
                seq,
                reason: format!(
                    "the decrypted openings name seq {} and event hash {}",
                    openings.seq, openings.event_hash
                ),
            });
        }
        Ok(openings)
    }

    /// Erases entry `seq`'s openings of `fields` (SPEC §12.9): the rest are re-encrypted
    /// under a new data key, or, when none is left, the record is deleted.
    ///
    /// # Errors
    /// As [`OpeningsVault::get`] and [`OpeningsVault::put`].
    pub fn erase_fields(
        &self,
        seq: u64,
        event_hash: &Hash,
        fields: &[&str],
    ) -> Result<Erased, OpeningsError> {
        let Some(mut openings) = self.get(seq, event_hash)? else {
            return Ok(Erased::Nothing);
        };
        let mut gone = Vec::new();
        for field in fields {
            if openings.fields.remove(*field).is_some() {
                gone.push((*field).to_owned());
            }
        }
        if openings.fields.is_empty() {
            self.tree.remove(Self::key(seq))?;
            return Ok(Erased::Entry);
        }
        self.put(&openings)?;
        Ok(Erased::Fields(gone))
    }

    /// Erases all of entry `seq`'s openings: deletes its record. Returns whether there was one.
    ///
    /// # Errors
    /// [`OpeningsError::Storage`].
    pub fn erase(&self, seq: u64) -> Result<bool, OpeningsError> {
        Ok(self.tree.remove(Self::key(seq))?.is_some())
    }

    /// Re-wraps every data key under `new_master` and marks the tree for it; returns the
    /// number of records re-wrapped and the vault under the new key. `event_hash_of` gives
    /// each entry's event hash (from the entries). The blobs are not touched.
    ///
    /// # Errors
    /// As [`OpeningsVault::get`] for any record that does not open under the current key.
    pub fn rewrap(
        self,
        new_master: MasterKey,
        event_hash_of: impl Fn(u64) -> Option<Hash>,
    ) -> Result<(OpeningsVault, u64), OpeningsError> {
        let next = OpeningsVault {
            tree: self.tree.clone(),
            master: new_master,
        };
        // Unwrap everything first, so that a failure leaves the store as it was.
        let mut updates = Vec::new();
        for item in self.tree.iter() {
            let (key, record) = item?;
            let Ok(seq_bytes) = <[u8; 8]>::try_from(key.as_ref()) else {
                continue;
            };
            let seq = u64::from_be_bytes(seq_bytes);
            let event_hash = event_hash_of(seq).ok_or_else(|| OpeningsError::Malformed {
                seq,
                reason: "openings are kept for an entry the log does not hold".into(),
            })?;
            let data_key = self.data_key(seq, &event_hash, &record)?;
            let wrap_nonce = nonce();
            let wrapped = next
                .master
                .cipher()
                .encrypt(
                    XNonce::from_slice(&wrap_nonce),
                    Payload {
                        msg: data_key.as_slice(),
                        aad: &associated_data(WRAP_DOMAIN, seq, &event_hash),
                    },
                )
                .map_err(|_| OpeningsError::Malformed {
                    seq,
                    reason: "cannot wrap the data key".into(),
                })?;
            let mut new_record = record.to_vec();
            new_record[1..=NONCE_BYTES].copy_from_slice(&wrap_nonce);
            new_record[1 + NONCE_BYTES..1 + NONCE_BYTES + WRAPPED_BYTES].copy_from_slice(&wrapped);
            updates.push((key, new_record));
        }
        let count = u64::try_from(updates.len()).unwrap_or(u64::MAX);
        let mut batch = sled::Batch::default();
        for (key, record) in updates {
            batch.insert(key, record);
        }
        batch.insert(CHECK_KEY, next.check_record());
        self.tree.apply_batch(batch)?;
        Ok((next, count))
    }

    /// A model snapshot at tree size `size`, encrypted for the data directory (SPEC §12.10):
    /// the model holds the opened values, which must not lie in the clear at rest.
    /// XChaCha20-Poly1305 under the master key, a fresh nonce, the associated data
    /// `hisaab/snapshot/v2\n` ‖ u64be(size) so that a snapshot cannot pass for another size's.
    /// `0x02` ‖ nonce (24) ‖ ciphertext.
    pub fn seal_snapshot(&self, size: u64, model_bytes: &[u8]) -> Vec<u8> {
        self.seal_under_master(SNAPSHOT_VERSION, &snapshot_ad(size), model_bytes)
    }

    /// The model bytes of a snapshot [`OpeningsVault::seal_snapshot`] made at `size`; `None`
    /// for anything else (another size's, altered, another master key's, or a plain one).
    pub fn open_snapshot(&self, size: u64, record: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        self.open_under_master(SNAPSHOT_VERSION, &snapshot_ad(size), record)
    }

    /// The keys of snapshot chunks (SPEC §12.10): subkeys of the master key, so that equal
    /// chunks get equal ids and equal ciphertexts (and are stored once) while a copy of the data
    /// directory reveals nothing but which chunks repeat.
    pub(crate) fn chunk_keys(&self) -> ChunkKeys {
        let derive = |label: &[u8]| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.master.0[..])
                .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
            mac.update(label);
            Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()))
        };
        let cipher_key = derive(CHUNK_CIPHER_LABEL);
        ChunkKeys {
            id: derive(CHUNK_ID_LABEL),
            digest: derive(CHUNK_DIGEST_LABEL),
            cipher: XChaCha20Poly1305::new(cipher_key.as_ref().into()),
        }
    }

    /// Makes every change so far durable.
    ///
    /// # Errors
    /// [`OpeningsError::Storage`].
    pub fn flush(&self) -> Result<(), OpeningsError> {
        self.tree.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use hisaab_log::seal::{seal_body, sealed_fields, Seed};
    use serde_json::{json, Value};

    fn openings(seq: u64) -> Openings {
        let kind = "submission.filed";
        let plain = match json!({
            "operator": "indus-mobile", "kpi": "CR-01", "period": "2026-10",
            "value": format!("9{seq}.5"), "evidence": [], "note": "confidential note"
        }) {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let sealed = seal_body(
            kind,
            sealed_fields(kind),
            &plain,
            &Seed::from_bytes([u8::try_from(seq).unwrap(); 32]),
        )
        .unwrap();
        Openings {
            seq,
            event_hash: event_hash(seq),
            kind: kind.into(),
            fields: sealed.openings,
        }
    }

    fn event_hash(seq: u64) -> Hash {
        Hash::sha256(&seq.to_be_bytes())
    }

    /// The sled database under `dir`, opened as the store opens it: sled lets go of its
    /// directory lock a moment after the last handle is dropped, and the store's open waits
    /// for that where a bare `sled::open` fails.
    fn db(dir: &Path) -> sled::Db {
        crate::db::open_db(&dir.join("db"), &crate::config::StoreConfig::default()).unwrap()
    }

    fn vault(dir: &Path, master: MasterKey) -> Result<OpeningsVault, OpeningsError> {
        OpeningsVault::open(&db(dir), master)
    }

    #[test]
    fn openings_round_trip_and_are_not_stored_in_the_clear() {
        let dir = tempfile::tempdir().unwrap();
        let master = MasterKey::from_bytes([7; 32]);
        {
            let v = vault(dir.path(), master.clone()).unwrap();
            for seq in 1..=3 {
                v.put(&openings(seq)).unwrap();
            }
            v.flush().unwrap();
        }
        // Reopened from disk.
        let v = vault(dir.path(), master).unwrap();
        for seq in 1..=3 {
            assert_eq!(v.get(seq, &event_hash(seq)).unwrap(), Some(openings(seq)));
        }
        assert_eq!(v.get(4, &event_hash(4)).unwrap(), None);
        drop(v);
        // No plaintext anywhere in sled's files.
        for file in walk(&dir.path().join("db")) {
            let bytes = std::fs::read(&file).unwrap();
            for needle in [&b"confidential note"[..], b"91.5", b"submission.filed"] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{} holds plaintext",
                    file.display()
                );
            }
        }
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn a_wrong_master_key_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        {
            let v = vault(dir.path(), MasterKey::from_bytes([7; 32])).unwrap();
            v.put(&openings(1)).unwrap();
            v.flush().unwrap();
        }
        let err = vault(dir.path(), MasterKey::from_bytes([8; 32])).unwrap_err();
        assert!(matches!(err, OpeningsError::WrongMasterKey), "{err}");
        assert!(err.to_string().contains("master key"));
        // With its check record gone, a tree holding openings is not re-marked for any key.
        let db = db(dir.path());
        db.open_tree(OPENINGS_TREE)
            .unwrap()
            .remove(CHECK_KEY)
            .unwrap();
        assert!(matches!(
            OpeningsVault::open(&db, MasterKey::from_bytes([8; 32])),
            Err(OpeningsError::NoCheckRecord)
        ));
    }

    #[test]
    fn a_moved_or_flipped_record_is_detected_and_named_by_seq() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path());
        let v = OpeningsVault::open(&db, MasterKey::from_bytes([7; 32])).unwrap();
        v.put(&openings(1)).unwrap();
        v.put(&openings(2)).unwrap();
        let tree = db.open_tree(OPENINGS_TREE).unwrap();
        // Entry 1's record copied over entry 2's.
        let record1 = tree.get(OpeningsVault::key(1)).unwrap().unwrap();
        tree.insert(OpeningsVault::key(2), record1.clone()).unwrap();
        match v.get(2, &event_hash(2)) {
            Err(OpeningsError::Undecryptable { seq: 2, .. }) => {}
            other => panic!("{other:?}"),
        }
        // Entry 1's record asked for with another event hash.
        assert!(matches!(
            v.get(1, &event_hash(9)),
            Err(OpeningsError::Undecryptable { seq: 1, .. })
        ));
        // One bit flipped in the ciphertext, then in the wrapped key.
        for (position, what) in [
            (record1.len() - 1, "openings"),
            (1 + NONCE_BYTES, "data key"),
        ] {
            let mut flipped = record1.to_vec();
            flipped[position] ^= 0x01;
            tree.insert(OpeningsVault::key(1), flipped).unwrap();
            match v.get(1, &event_hash(1)) {
                Err(e @ OpeningsError::Undecryptable { seq: 1, what: w }) => {
                    assert_eq!(w, what);
                    assert!(e.to_string().starts_with("seq 1: "), "{e}");
                }
                other => panic!("{other:?}"),
            }
        }
        // A truncated record.
        tree.insert(OpeningsVault::key(1), &record1[..10]).unwrap();
        assert!(matches!(
            v.get(1, &event_hash(1)),
            Err(OpeningsError::Malformed { seq: 1, .. })
        ));
    }

    #[test]
    fn erasure_makes_openings_unrecoverable() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path());
        let master = MasterKey::from_bytes([7; 32]);
        let v = OpeningsVault::open(&db, master.clone()).unwrap();
        v.put(&openings(1)).unwrap();
        v.put(&openings(2)).unwrap();
        let tree = db.open_tree(OPENINGS_TREE).unwrap();
        let old = tree.get(OpeningsVault::key(1)).unwrap().unwrap();

        // One field: the rest stay, under a new data key; the old record no longer matters.
        assert_eq!(
            v.erase_fields(1, &event_hash(1), &["note"]).unwrap(),
            Erased::Fields(vec!["note".into()])
        );
        let kept = v.get(1, &event_hash(1)).unwrap().unwrap();
        assert!(!kept.fields.contains_key("note"));
        assert_eq!(kept.fields["value"], openings(1).fields["value"]);
        let new = tree.get(OpeningsVault::key(1)).unwrap().unwrap();
        assert_ne!(
            old[1..HEADER_BYTES],
            new[1..HEADER_BYTES],
            "fresh data key and nonces"
        );

        // Everything left: the record is deleted; the other entry is untouched.
        assert_eq!(
            v.erase_fields(1, &event_hash(1), &["value", "evidence", "ext"])
                .unwrap(),
            Erased::Entry
        );
        assert_eq!(v.get(1, &event_hash(1)).unwrap(), None);
        assert_eq!(
            v.erase_fields(1, &event_hash(1), &["value"]).unwrap(),
            Erased::Nothing
        );
        assert!(v.erase(2).unwrap());
        assert!(!v.erase(2).unwrap());
        assert_eq!(v.get(2, &event_hash(2)).unwrap(), None);

        // After a master-key rotation, a wrapped key sled might still hold from before is
        // useless: the old record does not open under the new key.
        v.put(&openings(3)).unwrap();
        let before = tree.get(OpeningsVault::key(3)).unwrap().unwrap();
        let new_master = MasterKey::from_bytes([9; 32]);
        let (v, count) = v
            .rewrap(new_master.clone(), |seq| Some(event_hash(seq)))
            .unwrap();
        assert_eq!(count, 1);
        assert_eq!(v.get(3, &event_hash(3)).unwrap(), Some(openings(3)));
        tree.insert(OpeningsVault::key(3), before).unwrap();
        assert!(matches!(
            v.get(3, &event_hash(3)),
            Err(OpeningsError::Undecryptable {
                seq: 3,
                what: "data key"
            })
        ));
        drop(v);
        assert!(matches!(
            OpeningsVault::open(&db, master),
            Err(OpeningsError::WrongMasterKey)
        ));
        OpeningsVault::open(&db, new_master).unwrap();
    }

    #[test]
    fn the_master_key_file_is_private_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openings.key");
        let key = MasterKey::create_file(&path).unwrap();
        assert_eq!(
            MasterKey::read_file(&path).unwrap().0.as_ref(),
            key.0.as_ref()
        );
        assert!(matches!(
            MasterKey::create_file(&path),
            Err(OpeningsError::Io { .. })
        ));
        assert_eq!(format!("{key:?}"), "MasterKey(…)");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = MasterKey::read_file(&path).unwrap_err();
            assert!(err.to_string().contains("chmod 600"), "{err}");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        std::fs::write(&path, "not hex\n").unwrap();
        assert!(matches!(
            MasterKey::read_file(&path),
            Err(OpeningsError::KeyFile { .. })
        ));
        assert!(matches!(
            MasterKey::read_file(&dir.path().join("absent")),
            Err(OpeningsError::Io { .. })
        ));
    }
}
