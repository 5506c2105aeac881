//! A client of a Hisaab server (SPEC §7) that trusts nothing it has not verified: every
//! checkpoint is checked against the log's key, every proof against a checkpoint, and every new
//! checkpoint for consistency with the largest one this client remembers (see [`crate::trust`]).

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use hisaab_log::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use hisaab_log::note::{verify_checkpoint, Checkpoint, VerifierKey};
use hisaab_log::{Envelope, Hash, SealedEntry};
use reqwest::blocking::{Client as HttpClient, Response};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use crate::trust::{ServerMemory, TrustFile};

/// How long one request may take before the client gives up.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The largest JSON answer read into memory (bundles are streamed, not read whole).
const ANSWER_BYTES_MAX: u64 = 64 << 20;

/// An error answer of the server: `{"error":{"code":"...","message":"..."}}`.
#[derive(Debug, Clone)]
pub(crate) struct HttpError {
    /// The HTTP status.
    pub(crate) status: StatusCode,
    /// The error code, when the body had one.
    pub(crate) code: String,
    /// The message.
    pub(crate) message: String,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the server answered {}: {}: {}",
            self.status, self.code, self.message
        )
    }
}

impl std::error::Error for HttpError {}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

/// A receipt of `POST /v1/statements`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Receipt {
    /// The entry's seq.
    pub(crate) seq: u64,
    /// The entry's event hash.
    pub(crate) event_hash: Hash,
    /// When the ledger recorded it.
    pub(crate) recorded_at: String,
    /// A checkpoint that covers the entry.
    pub(crate) checkpoint: String,
    /// The inclusion proof for the checkpoint's size.
    pub(crate) inclusion_proof: Vec<Hash>,
}

/// `GET /v1/proofs/inclusion`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct InclusionAnswer {
    /// The leaf index.
    pub(crate) index: u64,
    /// The tree size.
    pub(crate) tree_size: u64,
    /// The leaf hash.
    pub(crate) leaf_hash: Hash,
    /// The proof.
    pub(crate) proof: Vec<Hash>,
}

/// `GET /v1/proofs/consistency`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ConsistencyAnswer {
    /// The smaller size.
    pub(crate) from: u64,
    /// The larger size.
    pub(crate) to: u64,
    /// The proof.
    pub(crate) proof: Vec<Hash>,
}

/// A plain HTTP client of one server.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    base: String,
    http: HttpClient,
}

impl Client {
    /// A client of the server at `url` (e.g. `http://127.0.0.1:8080`).
    pub(crate) fn new(url: &str) -> Result<Self> {
        let base = normalize_url(url)?;
        let http = HttpClient::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Client { base, http })
    }

    /// A request that got no answer: names the server and how to choose another.
    fn send_error(&self, method: &str, url: &str, error: reqwest::Error) -> anyhow::Error {
        let why = if error.is_connect() {
            "cannot connect"
        } else if error.is_timeout() {
            "no answer in time"
        } else {
            "the request failed"
        };
        anyhow::Error::new(error).context(format!(
            "{method} {url}: {why}. Is a Hisaab server running at {}? Choose the server with \
             --server URL or the HISAAB_SERVER environment variable",
            self.base
        ))
    }

    /// The server's URL without a trailing slash.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// `GET path`, checking the status.
    pub(crate) fn get(&self, path: &str) -> Result<Response> {
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .get(&url)
            .send()
            .map_err(|e| self.send_error("GET", &url, e))?;
        check_status(response).with_context(|| format!("GET {url}"))
    }

    /// `GET path` as text.
    pub(crate) fn get_text(&self, path: &str) -> Result<String> {
        let response = self.get(path)?;
        read_text(response)
    }

    /// `GET path` as JSON.
    pub(crate) fn get_json<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T> {
        let text = self.get_text(path)?;
        serde_json::from_str(&text).with_context(|| format!("GET {path}: unexpected answer"))
    }

    /// The latest checkpoint note, unverified.
    pub(crate) fn checkpoint_note(&self) -> Result<String> {
        self.get_text("/v1/checkpoint")
    }

    /// Entry `seq`, parsed from its leaf bytes.
    pub(crate) fn entry(&self, seq: u64) -> Result<SealedEntry> {
        let text = self.get_text(&format!("/v1/entries/{seq}"))?;
        let bytes = text.strip_suffix('\n').unwrap_or(&text);
        SealedEntry::try_from_leaf_bytes(bytes.as_bytes())
            .with_context(|| format!("entry {seq} from the server is not valid leaf bytes"))
    }

    /// The inclusion proof of `index` in the tree of `size`.
    pub(crate) fn inclusion(&self, index: u64, size: u64) -> Result<InclusionAnswer> {
        let answer: InclusionAnswer = self.get_json(&format!(
            "/v1/proofs/inclusion?index={index}&tree_size={size}"
        ))?;
        if answer.index != index || answer.tree_size != size {
            bail!("the server answered an inclusion proof for other sizes");
        }
        Ok(answer)
    }

    /// The consistency proof between sizes `from` and `to`.
    pub(crate) fn consistency(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        let answer: ConsistencyAnswer =
            self.get_json(&format!("/v1/proofs/consistency?from={from}&to={to}"))?;
        if answer.from != from || answer.to != to {
            bail!("the server answered a consistency proof for other sizes");
        }
        Ok(answer.proof)
    }

    /// Posts canonical envelope bytes; `Ok((created, receipt))` on 201 or 200.
    pub(crate) fn post_envelope_bytes(&self, body: Vec<u8>) -> Result<(bool, Receipt)> {
        let url = format!("{}/v1/statements", self.base);
        let response = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .map_err(|e| self.send_error("POST", &url, e))?;
        let status = response.status();
        let response = check_status(response)?;
        let text = read_text(response)?;
        let receipt: Receipt =
            serde_json::from_str(&text).context("the server's receipt is not a receipt")?;
        Ok((status == StatusCode::CREATED, receipt))
    }

    /// Posts an envelope.
    pub(crate) fn post_envelope(&self, envelope: &Envelope) -> Result<(bool, Receipt)> {
        let body = envelope
            .canonical_bytes()
            .context("cannot encode the envelope")?;
        self.post_envelope_bytes(body)
    }

    /// Posts a witness's cosignature line for `checkpoint`.
    pub(crate) fn post_cosignature(
        &self,
        line: &str,
        checkpoint: &str,
    ) -> Result<serde_json::Value> {
        let url = format!("{}/v1/cosignatures", self.base);
        let body = serde_json::json!({ "cosignature": line, "checkpoint": checkpoint });
        let response = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .map_err(|e| self.send_error("POST", &url, e))?;
        let text = read_text(check_status(response)?)?;
        serde_json::from_str(&text).context("unexpected answer to a cosignature")
    }
}

/// The log a server serves, as this client has pinned it.
#[derive(Debug, Clone)]
pub(crate) struct LogIdentity {
    /// The log's verifier key.
    pub(crate) vkey: VerifierKey,
    /// The ledger id.
    pub(crate) ledger: Hash,
}

/// A client bound to a pinned log and to the state file that remembers it.
#[derive(Debug)]
pub(crate) struct Session {
    /// The HTTP client.
    pub(crate) client: Client,
    /// The pinned log.
    pub(crate) log: LogIdentity,
    /// The state file.
    pub(crate) trust: TrustFile,
}

/// How to open a [`Session`].
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionOptions<'a> {
    /// The state file (default: see [`crate::trust`]).
    pub(crate) state: Option<&'a Path>,
    /// A verifier key the user pins explicitly.
    pub(crate) log_vkey: Option<&'a str>,
    /// Forget what was remembered about this server and pin anew.
    pub(crate) repin: bool,
}

impl Session {
    /// Connects to `url`: uses the log key and ledger id remembered for it, or pins them on
    /// first use from the genesis entry (checked against `--log-vkey` when given).
    pub(crate) fn open(url: &str, options: &SessionOptions<'_>) -> Result<Self> {
        let client = Client::new(url)?;
        let mut trust = TrustFile::load(options.state)?;
        if options.repin {
            trust.state.servers.remove(client.base());
        }
        let explicit = options
            .log_vkey
            .map(|v| {
                VerifierKey::try_parse(v).map_err(|e| {
                    crate::exit::usage(format!(
                        "--log-vkey {v:?} is not a log verifier key \
                         `<origin>+<hex key id>+<base64 key>` (SPEC §3): {e}"
                    ))
                })
            })
            .transpose()?;
        if let Some(memory) = trust.state.servers.get(client.base()) {
            let vkey = VerifierKey::try_parse(&memory.log_vkey).with_context(|| {
                format!("the state file {} holds a bad key", trust.path().display())
            })?;
            let ledger = Hash::try_from_hex(&memory.ledger)?;
            if let Some(explicit) = &explicit {
                if explicit != &vkey {
                    bail!(
                        "the log key is not the pinned one: expected {explicit} (--log-vkey), \
                         found {vkey} (remembered for {} in {}; pass --repin to forget it)",
                        client.base(),
                        trust.path().display()
                    );
                }
            }
            return Ok(Session {
                client,
                log: LogIdentity { vkey, ledger },
                trust,
            });
        }
        let log = discover(&client, explicit.as_ref())?;
        if explicit.is_none() {
            eprintln!(
                "note: pinned the log key {} and ledger {} for {} (trust on first use; pass \
                 --log-vkey to pin it yourself)",
                log.vkey,
                log.ledger,
                client.base()
            );
        }
        trust.state.servers.insert(
            client.base().to_owned(),
            ServerMemory {
                log_vkey: log.vkey.to_vkey(),
                ledger: log.ledger.to_hex(),
                checkpoint: None,
            },
        );
        trust.save()?;
        Ok(Session { client, log, trust })
    }

    /// Verifies a checkpoint note against the log key.
    pub(crate) fn verify_checkpoint(&self, note: &str) -> Result<Checkpoint> {
        verify_checkpoint(note, &self.log.vkey)
            .context("the checkpoint does not verify under the log key")
    }

    /// Fetches and verifies the latest checkpoint, and checks it against the remembered one.
    pub(crate) fn latest_checkpoint(&mut self) -> Result<(String, Checkpoint, Observation)> {
        let note = self.client.checkpoint_note()?;
        let checkpoint = self.verify_checkpoint(&note)?;
        let observation = self.observe(&note, &checkpoint)?;
        Ok((note, checkpoint, observation))
    }

    /// Checks a verified checkpoint for consistency with the largest one remembered, and
    /// remembers it when it is larger.
    pub(crate) fn observe(&mut self, note: &str, checkpoint: &Checkpoint) -> Result<Observation> {
        let base = self.client.base().to_owned();
        let remembered = self
            .trust
            .state
            .servers
            .get(&base)
            .and_then(|m| m.checkpoint.clone());
        let observation = match remembered {
            None => Observation::First,
            Some(old_note) => {
                let old = self
                    .verify_checkpoint(&old_note)
                    .context("the remembered checkpoint does not verify (state file damaged?)")?;
                check_consistent(&self.client, &old, checkpoint).with_context(|| {
                    format!(
                        "the server's checkpoint (size {}) is not consistent with the one \
                         remembered (size {}): the log may have been rewritten",
                        checkpoint.size, old.size
                    )
                })?;
                if checkpoint.size > old.size {
                    Observation::Grew { from: old.size }
                } else if checkpoint.size == old.size {
                    Observation::Same
                } else {
                    Observation::Older {
                        remembered: old.size,
                    }
                }
            }
        };
        if matches!(observation, Observation::First | Observation::Grew { .. }) {
            if let Some(memory) = self.trust.state.servers.get_mut(&base) {
                memory.checkpoint = Some(note.to_owned());
            }
            self.trust.save()?;
        }
        Ok(observation)
    }

    /// Verifies a receipt: its checkpoint under the log key, its inclusion proof for the event
    /// hash, that the entry at its seq has that event hash and records `envelope` (when given),
    /// and the checkpoint's consistency with the one remembered.
    pub(crate) fn verify_receipt(
        &mut self,
        receipt: &Receipt,
        envelope: Option<&Envelope>,
    ) -> Result<Checkpoint> {
        let checkpoint = self.verify_checkpoint(&receipt.checkpoint)?;
        verify_inclusion(
            &receipt.event_hash,
            receipt.seq,
            checkpoint.size,
            &receipt.inclusion_proof,
            &checkpoint.root,
        )
        .context("the receipt's inclusion proof does not verify against its checkpoint")?;
        let entry = self.client.entry(receipt.seq)?;
        if entry.event_hash() != receipt.event_hash {
            bail!(
                "entry {} on the server has event hash {}, not the receipt's {}",
                receipt.seq,
                entry.event_hash(),
                receipt.event_hash
            );
        }
        if let Some(envelope) = envelope {
            if &entry.entry().envelope() != envelope {
                bail!(
                    "entry {} does not record the envelope that was sent",
                    receipt.seq
                );
            }
        }
        self.observe(&receipt.checkpoint, &checkpoint)?;
        Ok(checkpoint)
    }
}

/// How a checkpoint compares with the one remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Observation {
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

/// Checks that two verified checkpoints of one log are consistent, fetching the proof.
pub(crate) fn check_consistent(client: &Client, a: &Checkpoint, b: &Checkpoint) -> Result<()> {
    let (small, large) = if a.size <= b.size { (a, b) } else { (b, a) };
    if small.size == large.size {
        if small.root != large.root {
            bail!(
                "two checkpoints of size {} have different roots {} and {}: the log forked",
                small.size,
                small.root,
                large.root
            );
        }
        return Ok(());
    }
    let proof = client.consistency(small.size, large.size)?;
    verify_consistency(small.size, large.size, &proof, &small.root, &large.root).with_context(
        || {
            format!(
                "the consistency proof {} -> {} does not verify",
                small.size, large.size
            )
        },
    )
}

/// Learns the log's key and ledger id from the genesis entry, and checks that the latest
/// checkpoint verifies under that key and includes the genesis entry.
fn discover(client: &Client, explicit: Option<&VerifierKey>) -> Result<LogIdentity> {
    let genesis = client.entry(0).context("cannot read the genesis entry")?;
    let statement = &genesis.entry().statement;
    if !statement.is_genesis() {
        bail!(
            "entry 0 of {} is not a ledger.genesis statement",
            client.base()
        );
    }
    genesis
        .entry()
        .envelope()
        .verify_signature()
        .context("the genesis statement's signature does not verify")?;
    let log_key = statement
        .body
        .get("log_key")
        .and_then(|v| v.as_str())
        .ok_or_else(|| anyhow!("the genesis statement has no log_key"))?;
    let vkey = VerifierKey::try_parse(log_key).context("the genesis log_key is not a vkey")?;
    if let Some(explicit) = explicit {
        if explicit != &vkey {
            bail!(
                "the log key is not the pinned one (SPEC §3): expected {explicit} \
                 (--log-vkey), found {vkey} (the server's genesis log_key)"
            );
        }
    }
    let note = client.checkpoint_note()?;
    let checkpoint = verify_checkpoint(&note, &vkey)
        .context("the server's checkpoint does not verify under its genesis log key")?;
    let proof = client.inclusion(0, checkpoint.size)?;
    verify_inclusion(
        &genesis.event_hash(),
        0,
        checkpoint.size,
        &proof.proof,
        &checkpoint.root,
    )
    .context("the genesis entry is not included in the server's checkpoint")?;
    debug_assert_eq!(genesis.event_hash(), leaf_hash(genesis.leaf_bytes()));
    Ok(LogIdentity {
        vkey,
        ledger: genesis.event_hash(),
    })
}

/// Turns a non-success answer into an [`HttpError`].
fn check_status(response: Response) -> Result<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = read_text(response).unwrap_or_default();
    let (code, message) = match serde_json::from_str::<ErrorEnvelope>(&text) {
        Ok(e) => (e.error.code, e.error.message),
        Err(_) => ("unknown".to_owned(), text.chars().take(500).collect()),
    };
    Err(HttpError {
        status,
        code,
        message,
    }
    .into())
}

/// Reads a bounded text answer.
fn read_text(response: Response) -> Result<String> {
    let mut text = String::new();
    response
        .take(ANSWER_BYTES_MAX)
        .read_to_string(&mut text)
        .context("cannot read the server's answer")?;
    Ok(text)
}

/// `http://host:port` without a trailing slash; only plain HTTP is supported (no TLS built in).
pub(crate) fn normalize_url(url: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    if !trimmed.starts_with("http://") {
        if trimmed.starts_with("https://") {
            return Err(crate::exit::usage(format!(
                "{url}: this build speaks plain HTTP only; put a TLS proxy on loopback"
            )));
        }
        return Err(crate::exit::usage(format!(
            "{url} is not an http:// URL (--server or HISAAB_SERVER)"
        )));
    }
    Ok(trimmed.to_owned())
}

/// Whether `target` looks like a server URL rather than a path.
pub(crate) fn is_url(target: &str) -> bool {
    target.starts_with("http://") || target.starts_with("https://")
}
