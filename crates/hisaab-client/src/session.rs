//! [`Session`]: a client bound to a pinned log and to the state file that remembers it.

use std::collections::BTreeMap;
use std::io::{BufReader, Read as _};
use std::path::Path;

use hisaab_api::Receipt;
use hisaab_log::merkle::{verify_consistency, verify_inclusion};
use hisaab_log::note::{verify_checkpoint, Checkpoint, VerifierKey};
use hisaab_log::{Entry, Envelope, Hash, SealedEntry};
use hisaab_model::{Body, VerifiedBundle};

use crate::error::{ClientError, GenesisProblem, Mismatch};
use crate::http::Client;
use crate::memory::{ServerMemory, StateFile, StateFileError};
use crate::pin::PinError;

/// The largest bundle read into memory to replay a state (a stream is verified as it is read
/// elsewhere; this one is read twice).
const BUNDLE_BYTES_MAX: u64 = 4 << 30;

/// The log a server serves, as this client has pinned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogIdentity {
    /// The log's verifier key.
    pub vkey: VerifierKey,
    /// The ledger id.
    pub ledger: Hash,
    /// The ledger's format, 1 or 2: the `v` its statements carry (the genesis statement's).
    pub format: u64,
}

/// How to open a [`Session`].
#[derive(Debug, Clone, Default)]
pub struct SessionOptions<'a> {
    /// The state file (default: [`StateFile::default_path`]).
    pub state: Option<&'a Path>,
    /// A verifier key the caller pins explicitly.
    pub log_vkey: Option<VerifierKey>,
    /// Forget what was remembered about this server and pin anew.
    pub repin: bool,
}

/// How a checkpoint compares with the one remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// Nothing was remembered.
    First,
    /// The same size (and root).
    Same,
    /// The log grew consistently.
    Grew {
        /// The remembered size.
        from: u64,
    },
    /// An older checkpoint, consistent with the larger one remembered.
    Older {
        /// The remembered size.
        remembered: u64,
    },
}

impl std::fmt::Display for Observation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Observation::First => f.write_str("first checkpoint seen from this server; remembered"),
            Observation::Same => f.write_str("same checkpoint as last time"),
            Observation::Grew { from } => {
                write!(
                    f,
                    "consistent with the checkpoint of size {from} seen before"
                )
            }
            Observation::Older { remembered } => write!(
                f,
                "older than, and consistent with, the checkpoint of size {remembered} seen"
            ),
        }
    }
}

/// The server's latest checkpoint, verified and compared with the one remembered.
#[derive(Debug, Clone)]
pub struct LatestCheckpoint {
    /// The signed note as served.
    pub note: String,
    /// What it says.
    pub checkpoint: Checkpoint,
    /// How it compares with the one remembered.
    pub observation: Observation,
}

/// A client bound to a pinned log and to the state file that remembers it.
#[derive(Debug)]
pub struct Session {
    /// The HTTP client.
    pub client: Client,
    /// The pinned log.
    pub log: LogIdentity,
    /// The state file.
    pub file: StateFile,
    /// Whether the log was pinned by this session on first use, trusting the server (no
    /// explicit key was given and nothing was remembered).
    pub pinned_on_first_use: bool,
}

impl Session {
    /// Connects to `url`: uses the log key and ledger id remembered for it, or pins them from
    /// the genesis entry (checked against `options.log_vkey` when given) and remembers them.
    ///
    /// # Errors
    /// [`ClientError`]: the URL, the state file, the server unreachable, a genesis that does
    /// not verify, or a key other than the pinned one ([`PinError::LogKey`]).
    pub fn open(url: &str, options: &SessionOptions<'_>) -> Result<Self, ClientError> {
        let client = Client::new(url)?;
        let mut file = StateFile::load(options.state)?;
        if options.repin {
            file.trust.servers.remove(client.base());
        }
        if let Some(memory) = file.trust.servers.get(client.base()) {
            let damaged = |what| StateFileError::Damaged {
                path: file.path().to_path_buf(),
                server: client.base().to_owned(),
                what,
            };
            let vkey = VerifierKey::try_parse(&memory.log_vkey).map_err(|_| damaged("log key"))?;
            let ledger = Hash::try_from_hex(&memory.ledger).map_err(|_| damaged("ledger id"))?;
            if let Some(explicit) = &options.log_vkey {
                if explicit != &vkey {
                    return Err(PinError::LogKey {
                        expected: Box::new(explicit.clone()),
                        found: Box::new(vkey),
                        found_in: format!(
                            "remembered for {} in {}; pass --repin to forget it",
                            client.base(),
                            file.path().display()
                        ),
                    }
                    .into());
                }
            }
            return Ok(Session {
                client,
                log: LogIdentity {
                    vkey,
                    ledger,
                    format: memory.format,
                },
                file,
                pinned_on_first_use: false,
            });
        }
        let log = discover(&client, options.log_vkey.as_ref())?;
        file.trust.servers.insert(
            client.base().to_owned(),
            ServerMemory {
                log_vkey: log.vkey.to_vkey(),
                ledger: log.ledger.to_hex(),
                format: log.format,
                checkpoint: None,
            },
        );
        file.save()?;
        Ok(Session {
            client,
            log,
            file,
            pinned_on_first_use: options.log_vkey.is_none(),
        })
    }

    /// Verifies a checkpoint note against the log key.
    ///
    /// # Errors
    /// [`ClientError::Checkpoint`].
    pub fn verify_checkpoint(&self, note: &str) -> Result<Checkpoint, ClientError> {
        verify_checkpoint(note, &self.log.vkey).map_err(|source| ClientError::Checkpoint {
            what: "the checkpoint",
            source,
        })
    }

    /// The largest checkpoint note remembered for this server, unverified.
    pub fn remembered_checkpoint(&self) -> Option<&str> {
        self.file
            .trust
            .servers
            .get(self.client.base())
            .and_then(|m| m.checkpoint.as_deref())
    }

    /// Fetches and verifies the latest checkpoint, and checks it against the remembered one.
    ///
    /// # Errors
    /// As [`Session::observe`], and the fetch's.
    pub fn latest_checkpoint(&mut self) -> Result<LatestCheckpoint, ClientError> {
        let note = self.client.checkpoint_note()?;
        let checkpoint = self.verify_checkpoint(&note)?;
        let observation = self.observe(&note, &checkpoint)?;
        Ok(LatestCheckpoint {
            note,
            checkpoint,
            observation,
        })
    }

    /// Checks a verified checkpoint for consistency with the largest one remembered, and
    /// remembers it when it is larger.
    ///
    /// # Errors
    /// [`ClientError::Rewritten`] when it is not consistent; the state file's errors.
    pub fn observe(
        &mut self,
        note: &str,
        checkpoint: &Checkpoint,
    ) -> Result<Observation, ClientError> {
        let observation = match self.remembered_checkpoint().map(str::to_owned) {
            None => Observation::First,
            Some(old_note) => {
                let old = verify_checkpoint(&old_note, &self.log.vkey).map_err(|source| {
                    ClientError::Checkpoint {
                        what: "the remembered checkpoint (state file damaged?)",
                        source,
                    }
                })?;
                check_consistent(&self.client, &old, checkpoint).map_err(|source| {
                    ClientError::Rewritten {
                        size: checkpoint.size,
                        remembered: old.size,
                        source: Box::new(source),
                    }
                })?;
                match checkpoint.size.cmp(&old.size) {
                    std::cmp::Ordering::Greater => Observation::Grew { from: old.size },
                    std::cmp::Ordering::Equal => Observation::Same,
                    std::cmp::Ordering::Less => Observation::Older {
                        remembered: old.size,
                    },
                }
            }
        };
        if matches!(observation, Observation::First | Observation::Grew { .. }) {
            if let Some(memory) = self.file.trust.servers.get_mut(self.client.base()) {
                memory.checkpoint = Some(note.to_owned());
            }
            self.file.save()?;
        }
        Ok(observation)
    }

    /// Verifies a receipt: its checkpoint under the log key, its inclusion proof for the event
    /// hash, that the entry at its seq has that event hash and records `envelope` (when given),
    /// and the checkpoint's consistency with the one remembered. Returns the checkpoint.
    ///
    /// # Errors
    /// [`ClientError::Checkpoint`], [`ClientError::Proof`], [`ClientError::Mismatch`], and
    /// those of [`Session::observe`].
    pub fn verify_receipt(
        &mut self,
        receipt: &Receipt,
        envelope: Option<&Envelope>,
    ) -> Result<Checkpoint, ClientError> {
        let checkpoint = verify_receipt_proof(&self.log.vkey, receipt)?;
        let entry = match (self.client.entry(receipt.seq), envelope) {
            (Ok(entry), _) => entry,
            // Withheld from this reader (SPEC §13.4): the entry is rebuilt from the envelope
            // sent, the receipt's seq and time, and the previous entry's leaf hash, itself
            // proven against the same checkpoint; its event hash must be the receipt's.
            (Err(ClientError::Status { source, .. }), Some(envelope))
                if source.status.as_u16() == 403 && receipt.seq > 0 =>
            {
                self.rebuild_entry(receipt, envelope, &checkpoint)?
            }
            (Err(error), _) => return Err(error),
        };
        if entry.event_hash() != receipt.event_hash {
            return Err(ClientError::Mismatch(Mismatch::EventHash {
                seq: receipt.seq,
                expected: receipt.event_hash,
                found: entry.event_hash(),
            }));
        }
        if let Some(envelope) = envelope {
            if &entry.entry().envelope() != envelope {
                return Err(ClientError::Mismatch(Mismatch::Envelope {
                    seq: receipt.seq,
                }));
            }
        }
        self.observe(&receipt.checkpoint, &checkpoint)?;
        Ok(checkpoint)
    }

    /// The entry a receipt names, rebuilt from the envelope sent and the previous entry's leaf
    /// hash (proven against `checkpoint`), for a reader the entry is withheld from.
    fn rebuild_entry(
        &self,
        receipt: &Receipt,
        envelope: &Envelope,
        checkpoint: &Checkpoint,
    ) -> Result<SealedEntry, ClientError> {
        let previous = receipt.seq - 1;
        let proof = self.client.inclusion(previous, checkpoint.size)?;
        verify_inclusion(
            &proof.leaf_hash,
            previous,
            checkpoint.size,
            &proof.proof,
            &checkpoint.root,
        )
        .map_err(|source| ClientError::Proof {
            what: format!(
                "the inclusion proof of entry {previous}, the one before the receipt's, against \
                 the receipt's checkpoint"
            ),
            source,
        })?;
        let entry = Entry::new(
            receipt.seq,
            proof.leaf_hash,
            receipt.recorded_at.clone(),
            envelope.clone(),
        );
        SealedEntry::seal(entry).map_err(ClientError::Encode)
    }

    /// Verifies many receipts offline: each checkpoint's signature (once per distinct note)
    /// and each inclusion proof, without fetching the entries. Returns how many verified.
    ///
    /// # Errors
    /// The first receipt that does not verify.
    pub fn verify_receipt_proofs(&self, receipts: &[Receipt]) -> Result<u64, ClientError> {
        let mut checkpoints: BTreeMap<&str, Checkpoint> = BTreeMap::new();
        let mut count = 0u64;
        for receipt in receipts {
            let checkpoint = match checkpoints.get(receipt.checkpoint.as_str()) {
                Some(c) => c.clone(),
                None => {
                    let c = verify_receipt_proof(&self.log.vkey, receipt)?;
                    checkpoints.insert(&receipt.checkpoint, c.clone());
                    c
                }
            };
            check_inclusion(receipt, &checkpoint)?;
            count += 1;
        }
        Ok(count)
    }

    /// The server's bundle at `size`, read whole and verified here in full (SPEC §6), checked
    /// to be of the pinned ledger and size, and consistent with `latest`.
    ///
    /// # Errors
    /// [`ClientError::Bundle`], [`ClientError::Mismatch`], a consistency failure, or the
    /// fetch's.
    pub fn verified_bundle(
        &self,
        size: u64,
        latest: &Checkpoint,
    ) -> Result<(Vec<u8>, VerifiedBundle), ClientError> {
        let mut bytes = Vec::new();
        self.client
            .bundle(size)?
            .take(BUNDLE_BYTES_MAX)
            .read_to_end(&mut bytes)
            .map_err(ClientError::Read)?;
        // A reader with credentials replays over the openings it may have (SPEC §12.6, §13.4),
        // so that its state is the one the server shows it, not only the public replay.
        let verified = match self.openings_file(size)? {
            Some(openings) => {
                let cited = hisaab_model::cited_sizes(BufReader::new(bytes.as_slice()))
                    .map_err(ClientError::Read)?;
                hisaab_model::verify_bundle_opened(
                    BufReader::new(bytes.as_slice()),
                    &cited,
                    &openings,
                )
                .map_err(ClientError::Bundle)?
                .bundle
            }
            None => hisaab_model::verify_bundle(BufReader::new(bytes.as_slice()))
                .map_err(ClientError::Bundle)?,
        };
        if verified.ledger_id != self.log.ledger || verified.size != size {
            return Err(ClientError::Mismatch(Mismatch::Bundle {
                ledger: verified.ledger_id,
                size: verified.size,
                expected_ledger: self.log.ledger,
                expected_size: size,
            }));
        }
        let bundle_checkpoint = Checkpoint {
            origin: verified.origin.clone(),
            size: verified.size,
            root: verified.root,
        };
        check_consistent(&self.client, &bundle_checkpoint, latest)?;
        Ok((bytes, verified))
    }
}

impl Session {
    /// The openings file (SPEC §12.6) of the first `size` entries that this client's reader
    /// may have, from `GET /v1/openings`; `None` without credentials, or when the server
    /// keeps none (a format-1 ledger, or one served without its master key: 503
    /// `unavailable`). Each opening is checked against its entry when the bundle is replayed
    /// over it.
    ///
    /// # Errors
    /// Any other failure of the request, and a file that does not read as an openings file
    /// ([`ClientError::Openings`]): a reader entitled to openings is not silently given the
    /// public replay.
    pub fn openings_file(
        &self,
        size: u64,
    ) -> Result<Option<hisaab_log::seal::OpeningsFile>, ClientError> {
        let Some(response) = self.openings_response(size)? else {
            return Ok(None);
        };
        hisaab_log::seal::OpeningsFile::read(BufReader::new(response))
            .map(Some)
            .map_err(ClientError::Openings)
    }

    /// [`Session::openings_file`] unread: the response whose body is the file, for a caller
    /// that reads it a line at a time.
    ///
    /// # Errors
    /// As [`Session::openings_file`], for the request.
    pub fn openings_response(
        &self,
        size: u64,
    ) -> Result<Option<reqwest::blocking::Response>, ClientError> {
        if !self.client.has_credentials() || self.log.format < 2 {
            return Ok(None);
        }
        match self.client.get(&format!("/v1/openings?tree_size={size}")) {
            Ok(response) => Ok(Some(response)),
            Err(error)
                if error
                    .http()
                    .is_some_and(|h| h.status.as_u16() == 503 && h.code == "unavailable") =>
            {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }
}

/// Checks that two verified checkpoints of one log are consistent, fetching the proof.
///
/// # Errors
/// [`ClientError::Forked`] for two roots of one size, [`ClientError::Proof`] for a proof that
/// does not verify, and the fetch's.
pub fn check_consistent(
    client: &Client,
    a: &Checkpoint,
    b: &Checkpoint,
) -> Result<(), ClientError> {
    let (small, large) = if a.size <= b.size { (a, b) } else { (b, a) };
    if small.size == large.size {
        if small.root != large.root {
            return Err(ClientError::Forked {
                size: small.size,
                a: small.root,
                b: large.root,
            });
        }
        return Ok(());
    }
    let proof = client.consistency(small.size, large.size)?;
    verify_consistency(small.size, large.size, &proof, &small.root, &large.root).map_err(|source| {
        ClientError::Proof {
            what: format!(
                "the consistency proof {} -> {} does not verify",
                small.size, large.size
            ),
            source,
        }
    })
}

/// A receipt's checkpoint under `vkey`, and its inclusion proof against it.
fn verify_receipt_proof(vkey: &VerifierKey, receipt: &Receipt) -> Result<Checkpoint, ClientError> {
    let checkpoint =
        verify_checkpoint(&receipt.checkpoint, vkey).map_err(|source| ClientError::Checkpoint {
            what: "the receipt's checkpoint",
            source,
        })?;
    check_inclusion(receipt, &checkpoint)?;
    Ok(checkpoint)
}

fn check_inclusion(receipt: &Receipt, checkpoint: &Checkpoint) -> Result<(), ClientError> {
    verify_inclusion(
        &receipt.event_hash,
        receipt.seq,
        checkpoint.size,
        &receipt.inclusion_proof,
        &checkpoint.root,
    )
    .map_err(|source| ClientError::Proof {
        what: format!(
            "the receipt of seq {}: its inclusion proof does not verify against its checkpoint",
            receipt.seq
        ),
        source,
    })
}

/// Learns the log's key and ledger id from the genesis entry, and checks that the latest
/// checkpoint verifies under that key and includes the genesis entry.
fn discover(client: &Client, explicit: Option<&VerifierKey>) -> Result<LogIdentity, ClientError> {
    let problem = |why| ClientError::Genesis {
        base: client.base().to_owned(),
        why,
    };
    let genesis = client.entry(0)?;
    let statement = &genesis.entry().statement;
    if !statement.is_genesis() {
        return Err(problem(GenesisProblem::NotGenesis));
    }
    genesis
        .entry()
        .envelope()
        .verify_signature()
        .map_err(ClientError::GenesisSignature)?;
    let body = match Body::try_parse(&statement.kind, &statement.body) {
        Ok(Body::Genesis(body)) => body,
        Ok(_) => return Err(problem(GenesisProblem::NotGenesis)),
        Err(e) => return Err(problem(GenesisProblem::Body(e.to_string()))),
    };
    let vkey = VerifierKey::try_parse(&body.log_key)
        .map_err(|e| problem(GenesisProblem::LogKey(e.to_string())))?;
    if let Some(explicit) = explicit {
        if explicit != &vkey {
            return Err(PinError::LogKey {
                expected: Box::new(explicit.clone()),
                found: Box::new(vkey),
                found_in: "the server's genesis log_key".to_owned(),
            }
            .into());
        }
    }
    let note = client.checkpoint_note()?;
    let checkpoint = verify_checkpoint(&note, &vkey).map_err(|source| ClientError::Checkpoint {
        what: "the server's checkpoint",
        source,
    })?;
    let proof = client.inclusion(0, checkpoint.size)?;
    verify_inclusion(
        &genesis.event_hash(),
        0,
        checkpoint.size,
        &proof.proof,
        &checkpoint.root,
    )
    .map_err(|_| problem(GenesisProblem::NotIncluded))?;
    Ok(LogIdentity {
        vkey,
        ledger: genesis.event_hash(),
        format: statement.v,
    })
}
