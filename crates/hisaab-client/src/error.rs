//! What can go wrong talking to a server: it cannot be reached, it answered an error, or what
//! it answered does not verify.

use std::fmt;

use hisaab_log::merkle::MerkleError;
use hisaab_log::note::NoteError;
use hisaab_log::{FormatError, Hash, SignatureError};
use reqwest::StatusCode;

use crate::memory::StateFileError;

/// An error answer of the server: `{"error":{"code":"...","message":"..."}}`.
#[derive(Debug, Clone)]
pub struct HttpError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The error code, when the body had one (`unknown` otherwise).
    pub code: String,
    /// The message (the start of the body when it was not an error body).
    pub message: String,
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

/// Why a request or its verification failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL is `https://`, which this client does not speak.
    #[error("{url}: this build speaks plain HTTP only; put a TLS proxy on loopback")]
    Https {
        /// The URL given.
        url: String,
    },
    /// The URL is not an `http://` URL.
    #[error("{url} is not an http:// URL (--server or HISAAB_SERVER)")]
    NotHttp {
        /// The URL given.
        url: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Build(#[source] reqwest::Error),
    /// A request got no answer.
    #[error(
        "{method} {url}: {why}. Is a Hisaab server running at {base}? Choose the server with \
         --server URL or the HISAAB_SERVER environment variable"
    )]
    Unreachable {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL requested.
        url: String,
        /// Cannot connect, no answer in time, or another failure.
        why: &'static str,
        /// The server's URL.
        base: String,
        /// What the HTTP client said.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered an error status.
    #[error("{method} {url}")]
    Status {
        /// `GET` or `POST`.
        method: &'static str,
        /// The URL requested.
        url: String,
        /// The answer.
        #[source]
        source: HttpError,
    },
    /// The answer could not be read.
    #[error("cannot read the server's answer")]
    Read(#[source] std::io::Error),
    /// The server's openings file (SPEC §12.6) does not read as one.
    #[error("the server's openings file")]
    Openings(#[source] hisaab_log::seal::SealError),
    /// The answer is not the JSON document expected.
    #[error("{what}: unexpected answer")]
    Answer {
        /// The request or document.
        what: String,
        /// What the parser said.
        #[source]
        source: serde_json::Error,
    },
    /// An entry from the server is not valid leaf bytes.
    #[error("entry {what} from the server is not valid leaf bytes")]
    Entry {
        /// The seq or event hash asked for.
        what: String,
        /// What the parser said.
        #[source]
        source: FormatError,
    },
    /// An envelope cannot be encoded as canonical JSON.
    #[error("cannot encode the envelope")]
    Encode(#[source] FormatError),
    /// The server answered for other sizes, another entry or another ledger than asked.
    #[error("{0}")]
    Mismatch(Mismatch),
    /// A checkpoint does not verify under the log key.
    #[error("{what} does not verify under the log key")]
    Checkpoint {
        /// Which checkpoint.
        what: &'static str,
        /// What the note check said.
        #[source]
        source: NoteError,
    },
    /// A proof does not verify.
    #[error("{what}")]
    Proof {
        /// Which proof, and against what.
        what: String,
        /// What the Merkle check said.
        #[source]
        source: MerkleError,
    },
    /// Two checkpoints of one size have different roots.
    #[error("two checkpoints of size {size} have different roots {a} and {b}: the log forked")]
    Forked {
        /// The size.
        size: u64,
        /// One root.
        a: Hash,
        /// The other.
        b: Hash,
    },
    /// The server's checkpoint is not consistent with the one remembered.
    #[error(
        "the server's checkpoint (size {size}) is not consistent with the one remembered \
         (size {remembered}): the log may have been rewritten"
    )]
    Rewritten {
        /// The server's size.
        size: u64,
        /// The remembered size.
        remembered: u64,
        /// Why.
        #[source]
        source: Box<ClientError>,
    },
    /// The genesis entry is not what a log's first entry must be.
    #[error("the genesis entry of {base}: {why}")]
    Genesis {
        /// The server.
        base: String,
        /// What is wrong.
        why: GenesisProblem,
    },
    /// The genesis statement's signature does not verify.
    #[error("the genesis statement's signature does not verify")]
    GenesisSignature(#[source] SignatureError),
    /// A bundle from the server does not verify.
    #[error("the server's bundle does not verify")]
    Bundle(#[source] hisaab_model::VerifyError),
    /// A pin does not hold.
    #[error(transparent)]
    Pin(#[from] crate::pin::PinError),
    /// The state file cannot be read or written.
    #[error(transparent)]
    StateFile(#[from] StateFileError),
}

/// What the server answered other than what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mismatch {
    /// An inclusion proof for other sizes.
    InclusionSizes,
    /// A consistency proof for other sizes.
    ConsistencySizes,
    /// An entry with another event hash than the one asked for or the receipt's.
    EventHash {
        /// The seq.
        seq: u64,
        /// Expected.
        expected: Hash,
        /// Found.
        found: Hash,
    },
    /// The entry at the receipt's seq does not record the envelope sent.
    Envelope {
        /// The seq.
        seq: u64,
    },
    /// A proof's leaf hash is not the entry's event hash.
    LeafHash,
    /// An entry of a page is not at the seq it should be.
    Seq {
        /// The seq expected.
        expected: u64,
        /// The seq found.
        found: u64,
    },
    /// A history is not in log order.
    Order,
    /// A state's digest is not the digest of its content.
    StateDigest,
    /// A bundle of another ledger or size than asked.
    Bundle {
        /// Its ledger.
        ledger: Hash,
        /// Its size.
        size: u64,
        /// The pinned ledger.
        expected_ledger: Hash,
        /// The size asked for.
        expected_size: u64,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::InclusionSizes => {
                f.write_str("the server answered an inclusion proof for other sizes")
            }
            Mismatch::ConsistencySizes => {
                f.write_str("the server answered a consistency proof for other sizes")
            }
            Mismatch::EventHash {
                seq,
                expected,
                found,
            } => write!(
                f,
                "entry {seq} on the server has event hash {found}, not the expected {expected}"
            ),
            Mismatch::Envelope { seq } => {
                write!(f, "entry {seq} does not record the envelope that was sent")
            }
            Mismatch::LeafHash => {
                f.write_str("the proof's leaf hash is not the entry's event hash")
            }
            Mismatch::Seq { expected, found } => {
                write!(
                    f,
                    "the server answered entry {found} where entry {expected} belongs"
                )
            }
            Mismatch::Order => f.write_str("the server's history is not in log order"),
            Mismatch::StateDigest => {
                f.write_str("the server's state does not have the digest it carries (SPEC §5)")
            }
            Mismatch::Bundle {
                ledger,
                size,
                expected_ledger,
                expected_size,
            } => write!(
                f,
                "the server's bundle is of ledger {ledger} size {size}, not of the pinned ledger \
                 {expected_ledger} size {expected_size}"
            ),
        }
    }
}

/// What is wrong with a server's entry 0.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GenesisProblem {
    /// It is not a `ledger.genesis` statement.
    NotGenesis,
    /// Its body is not a genesis body.
    Body(String),
    /// Its `log_key` is not a verifier key.
    LogKey(String),
    /// The latest checkpoint does not include it.
    NotIncluded,
}

impl fmt::Display for GenesisProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenesisProblem::NotGenesis => f.write_str("entry 0 is not a ledger.genesis statement"),
            GenesisProblem::Body(why) => write!(f, "not a genesis body: {why}"),
            GenesisProblem::LogKey(why) => write!(f, "the genesis log_key is not a vkey: {why}"),
            GenesisProblem::NotIncluded => {
                f.write_str("the genesis entry is not included in the server's checkpoint")
            }
        }
    }
}

impl ClientError {
    /// Whether the server could not be reached or its answer could not be read (rather than
    /// answering something that does not verify).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ClientError::Unreachable { .. } | ClientError::Read(_))
    }

    /// Whether the caller gave something unusable (a URL this client cannot speak).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            ClientError::Https { .. } | ClientError::NotHttp { .. }
        )
    }

    /// The server's error answer, if this is one.
    pub fn http(&self) -> Option<&HttpError> {
        match self {
            ClientError::Status { source, .. } => Some(source),
            _ => None,
        }
    }
}
