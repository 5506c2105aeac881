//! [`Client`]: the HTTP API of one server, typed with `hisaab-api`'s documents. It checks
//! statuses and shapes, not signatures or proofs (that is [`crate::Session`]).

use std::io::Read;
use std::time::Duration;

use hisaab_api::access::{session_message, sign_request};
use hisaab_api::{ConsistencyProof, CosignatureAccepted, CosignatureRequest, ErrorBody};
use hisaab_api::{InclusionProof, Obligations, Receipt};
use hisaab_api::{SessionChallenge, SessionGranted, SessionRequest, Withheld, WithheldLine};
use hisaab_log::{Date, Envelope, Hash, SealedEntry, Signature, SigningKey};
use hisaab_model::{KpiId, Slug, State};
use reqwest::blocking::{Client as HttpClient, Response};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{ClientError, HttpError, Mismatch};

/// How long one request may take before the client gives up.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The largest JSON or text answer read into memory (bundles are streamed, not read whole).
const ANSWER_BYTES_MAX: u64 = 64 << 20;

/// The most characters of a non-JSON error answer kept in an [`HttpError`].
const ERROR_TEXT_CHARS_MAX: usize = 500;

/// What `POST /v1/statements` answered: the receipt, and whether the entry is new (201) or
/// was already in the ledger (200, its original receipt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// `true` for 201 Created.
    pub created: bool,
    /// The receipt, not yet verified.
    pub receipt: Receipt,
}

/// Who a client reads as (SPEC §13): a member signing each request with their key, or a
/// session token. Without credentials, a client reads the public view.
#[derive(Clone)]
pub enum Credentials {
    /// Sign each read with the member's key (RFC 9421).
    Key {
        /// The member id (the signature's `keyid`).
        member: String,
        /// The member's current private key.
        key: Box<SigningKey>,
    },
    /// `Authorization: Bearer <token>`, from `POST /v1/session`.
    Session(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Key { member, .. } => write!(f, "Credentials::Key({member})"),
            Credentials::Session(_) => f.write_str("Credentials::Session(..)"),
        }
    }
}

/// A line of `GET /v1/entries` or `GET /v1/history`: an entry, or one withheld from this
/// reader (SPEC §13.4).
#[derive(Debug, Clone, PartialEq)]
pub enum Listed {
    /// An entry, parsed from its leaf bytes.
    Entry(Box<SealedEntry>),
    /// An entry withheld from this reader: its seq, kind and leaf hash.
    Withheld(Withheld),
}

impl Listed {
    /// The entry's seq.
    pub fn seq(&self) -> u64 {
        match self {
            Listed::Entry(entry) => entry.entry().seq,
            Listed::Withheld(withheld) => withheld.seq,
        }
    }

    /// The entry's leaf (event) hash.
    pub fn leaf_hash(&self) -> Hash {
        match self {
            Listed::Entry(entry) => entry.event_hash(),
            Listed::Withheld(withheld) => withheld.leaf_hash,
        }
    }

    /// The entry, unless it was withheld.
    pub fn entry(&self) -> Option<&SealedEntry> {
        match self {
            Listed::Entry(entry) => Some(entry),
            Listed::Withheld(_) => None,
        }
    }
}

/// A plain HTTP client of one server.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: HttpClient,
    credentials: Option<Credentials>,
}

impl Client {
    /// A client of the server at `url` (e.g. `http://127.0.0.1:8080`).
    ///
    /// # Errors
    /// [`ClientError::Https`] or [`ClientError::NotHttp`] for a URL this client cannot speak;
    /// [`ClientError::Build`] if the HTTP client cannot be built.
    pub fn new(url: &str) -> Result<Self, ClientError> {
        let base = normalize_url(url)?;
        let http = HttpClient::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(ClientError::Build)?;
        Ok(Client {
            base,
            http,
            credentials: None,
        })
    }

    /// Reads as `credentials` from now on (`None`: the public view).
    pub fn set_credentials(&mut self, credentials: Option<Credentials>) {
        self.credentials = credentials;
    }

    /// This client, reading as `credentials`.
    #[must_use]
    pub fn with_credentials(mut self, credentials: Option<Credentials>) -> Self {
        self.credentials = credentials;
        self
    }

    /// Whether this client sends credentials (reads more than the public view).
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// A GET of `path`, signed or carrying the session token when this client has credentials.
    fn request(&self, path: &str) -> reqwest::blocking::RequestBuilder {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.get(&url);
        match &self.credentials {
            None => {}
            Some(Credentials::Session(token)) => {
                request = request.header(reqwest::header::AUTHORIZATION, format!("Bearer {token}"));
            }
            Some(Credentials::Key { member, key }) => {
                let (only_path, query) = path.split_once('?').unwrap_or((path, ""));
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let signed = sign_request(key, member, "GET", only_path, query, now, &nonce());
                request = request
                    .header(reqwest::header::DATE, signed.date)
                    .header("Signature-Input", signed.signature_input)
                    .header("Signature", signed.signature);
            }
        }
        request
    }

    /// Opens a browser-style session (SPEC §13.2) for `member` with `key`: asks for a
    /// challenge, signs it with the ledger's origin (from the latest checkpoint) and returns
    /// the token granted.
    ///
    /// # Errors
    /// As [`Client::get_text`]; [`ClientError::Answer`] for answers of another shape.
    pub fn open_session(
        &self,
        member: &str,
        key: &SigningKey,
    ) -> Result<SessionGranted, ClientError> {
        let note = self.checkpoint_note()?;
        let origin = note.lines().next().unwrap_or_default().to_owned();
        let challenge: SessionChallenge = self.post_json("/v1/session/challenge", None)?;
        let signature = Signature::sign(key, &session_message(&origin, &challenge.challenge));
        let request = SessionRequest {
            member: member.to_owned(),
            challenge: challenge.challenge,
            signature: signature.to_base64(),
        };
        let body = serde_json::to_vec(&request).map_err(|source| ClientError::Answer {
            what: "the session request".to_owned(),
            source,
        })?;
        self.post_json("/v1/session", Some(body))
    }

    fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, ClientError> {
        let what = format!("POST {path}");
        self.post(path, body, &what).map(|(_, answer)| answer)
    }

    /// `POST path` with a JSON body, if any: the answer's status (a success) and its body
    /// parsed, `what` naming it in errors.
    fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<Vec<u8>>,
        what: &str,
    ) -> Result<(StatusCode, T), ClientError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.post(&url);
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request
            .send()
            .map_err(|e| self.unreachable("POST", &url, e))?;
        let status = response.status();
        let response = check_status(response).map_err(|source| ClientError::Status {
            method: "POST",
            url,
            source,
        })?;
        let text = read_text(response)?;
        let answer = serde_json::from_str(&text).map_err(|source| ClientError::Answer {
            what: what.to_owned(),
            source,
        })?;
        Ok((status, answer))
    }

    /// The server's URL without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET path` (e.g. `/v1/bundle?tree_size=9`), checking the status; the body is the
    /// caller's to read (bundles are streamed).
    ///
    /// # Errors
    /// [`ClientError::Unreachable`] without an answer, [`ClientError::Status`] for an error
    /// answer.
    pub fn get(&self, path: &str) -> Result<Response, ClientError> {
        let url = format!("{}{path}", self.base);
        let response = self
            .request(path)
            .send()
            .map_err(|e| self.unreachable("GET", &url, e))?;
        check_status(response).map_err(|source| ClientError::Status {
            method: "GET",
            url,
            source,
        })
    }

    /// `GET path` as text.
    ///
    /// # Errors
    /// As [`Client::get`], and [`ClientError::Read`].
    pub fn get_text(&self, path: &str) -> Result<String, ClientError> {
        read_text(self.get(path)?)
    }

    /// `GET path` as the JSON document `T`.
    ///
    /// # Errors
    /// As [`Client::get_text`], and [`ClientError::Answer`] for another shape.
    pub fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let text = self.get_text(path)?;
        serde_json::from_str(&text).map_err(|source| ClientError::Answer {
            what: format!("GET {path}"),
            source,
        })
    }

    /// The latest checkpoint note, unverified.
    ///
    /// # Errors
    /// As [`Client::get_text`].
    pub fn checkpoint_note(&self) -> Result<String, ClientError> {
        self.get_text("/v1/checkpoint")
    }

    /// Entry `seq`, parsed from its leaf bytes.
    ///
    /// # Errors
    /// As [`Client::get_text`], and [`ClientError::Entry`] for bytes that are not an entry.
    pub fn entry(&self, seq: u64) -> Result<SealedEntry, ClientError> {
        let text = self.get_text(&format!("/v1/entries/{seq}"))?;
        parse_entry(&text, seq.to_string())
    }

    /// The entry with event hash `hash`, checked to have it.
    ///
    /// # Errors
    /// As [`Client::entry`], and [`ClientError::Mismatch`] for an entry with another hash.
    pub fn event(&self, hash: &Hash) -> Result<SealedEntry, ClientError> {
        let text = self.get_text(&format!("/v1/events/{hash}"))?;
        let entry = parse_entry(&text, hash.to_hex())?;
        if entry.event_hash() != *hash {
            return Err(ClientError::Mismatch(Mismatch::EventHash {
                seq: entry.entry().seq,
                expected: *hash,
                found: entry.event_hash(),
            }));
        }
        Ok(entry)
    }

    /// Up to `limit` entries from seq `start` (`GET /v1/entries`, JSON Lines of leaf bytes),
    /// each parsed and checked to be at its seq.
    ///
    /// # Errors
    /// As [`Client::get_text`], [`ClientError::Entry`] for a line that is not an entry, and
    /// [`ClientError::Mismatch`] for an entry out of place.
    pub fn entries(&self, start: u64, limit: u64) -> Result<Vec<Listed>, ClientError> {
        let text = self.get_text(&format!("/v1/entries?start={start}&limit={limit}"))?;
        let entries = parse_lines(&text)?;
        for (seq, entry) in (start..).zip(&entries) {
            if entry.seq() != seq {
                return Err(ClientError::Mismatch(Mismatch::Seq {
                    expected: seq,
                    found: entry.seq(),
                }));
            }
        }
        Ok(entries)
    }

    /// Up to `limit` entries about `operator` and `kpi` from seq `start` (`GET /v1/history`),
    /// in log order.
    ///
    /// # Errors
    /// As [`Client::entries`].
    pub fn history(
        &self,
        operator: &Slug,
        kpi: &KpiId,
        start: u64,
        limit: u64,
    ) -> Result<Vec<Listed>, ClientError> {
        let text = self.get_text(&format!(
            "/v1/history?operator={operator}&kpi={kpi}&start={start}&limit={limit}"
        ))?;
        let entries = parse_lines(&text)?;
        if entries.windows(2).any(|pair| match pair {
            [a, b] => a.seq() >= b.seq(),
            _ => false,
        }) {
            return Err(ClientError::Mismatch(Mismatch::Order));
        }
        Ok(entries)
    }

    /// The state of SPEC §5 at `as_of` (default: every entry) and `at` (default: the last
    /// entry's date), as the server projects it, with its digest recomputed here. It is what
    /// the server says; to know it, replay a verified bundle ([`crate::Session::verified_bundle`]).
    ///
    /// # Errors
    /// As [`Client::get_json`], and [`ClientError::Mismatch`] when the digest is not the
    /// state's.
    pub fn state(&self, as_of: Option<u64>, at: Option<Date>) -> Result<State, ClientError> {
        let path = with_query(
            "/v1/state",
            &[
                ("as_of", as_of.map(|size| size.to_string())),
                ("at", at.map(|date| date.to_string())),
            ],
        );
        let state: State = self.get_json(&path)?;
        if state.compute_digest() != state.digest() {
            return Err(ClientError::Mismatch(Mismatch::StateDigest));
        }
        Ok(state)
    }

    /// Who owes what by when (SPEC §11.4), as the server projects it: on date `at` (default:
    /// the last entry's date), for the ledger as recorded by the end of `as_of_date` (default:
    /// every entry), only what concerns `operator` or what `member` owes.
    ///
    /// # Errors
    /// As [`Client::get_json`].
    pub fn obligations(
        &self,
        operator: Option<&Slug>,
        member: Option<&Slug>,
        at: Option<Date>,
        as_of_date: Option<Date>,
    ) -> Result<Obligations, ClientError> {
        let path = with_query(
            "/v1/obligations",
            &[
                ("operator", operator.map(ToString::to_string)),
                ("member", member.map(ToString::to_string)),
                ("at", at.map(|date| date.to_string())),
                ("as_of_date", as_of_date.map(|date| date.to_string())),
            ],
        );
        self.get_json(&path)
    }

    /// The inclusion proof of `index` in the tree of `size`, checked to be for those sizes.
    ///
    /// # Errors
    /// As [`Client::get_json`], and [`ClientError::Mismatch`] for other sizes.
    pub fn inclusion(&self, index: u64, size: u64) -> Result<InclusionProof, ClientError> {
        let answer: InclusionProof = self.get_json(&format!(
            "/v1/proofs/inclusion?index={index}&tree_size={size}"
        ))?;
        if answer.index != index || answer.tree_size != size {
            return Err(ClientError::Mismatch(Mismatch::InclusionSizes));
        }
        Ok(answer)
    }

    /// The consistency proof between sizes `from` and `to`, checked to be for those sizes.
    ///
    /// # Errors
    /// As [`Client::get_json`], and [`ClientError::Mismatch`] for other sizes.
    pub fn consistency(&self, from: u64, to: u64) -> Result<Vec<Hash>, ClientError> {
        let answer: ConsistencyProof =
            self.get_json(&format!("/v1/proofs/consistency?from={from}&to={to}"))?;
        if answer.from != from || answer.to != to {
            return Err(ClientError::Mismatch(Mismatch::ConsistencySizes));
        }
        Ok(answer.proof)
    }

    /// The bundle (SPEC §6) at `size`, as a stream of bytes.
    ///
    /// # Errors
    /// As [`Client::get`].
    pub fn bundle(&self, size: u64) -> Result<Response, ClientError> {
        self.get(&format!("/v1/bundle?tree_size={size}"))
    }

    /// Posts canonical envelope bytes as they are (the load generator signs ahead).
    ///
    /// # Errors
    /// As [`Client::get_json`] for a `POST`.
    pub fn post_envelope_bytes(&self, body: Vec<u8>) -> Result<Posted, ClientError> {
        let (status, receipt) = self.post("/v1/statements", Some(body), "the server's receipt")?;
        let created = status == StatusCode::CREATED;
        Ok(Posted { created, receipt })
    }

    /// Posts an envelope (its canonical bytes).
    ///
    /// # Errors
    /// As [`Client::post_envelope_bytes`]; [`ClientError::Answer`] if the envelope cannot be
    /// encoded.
    pub fn post_envelope(&self, envelope: &Envelope) -> Result<Posted, ClientError> {
        let body = envelope.canonical_bytes().map_err(ClientError::Encode)?;
        self.post_envelope_bytes(body)
    }

    /// Posts a sealed statement's envelope with its sealing (SPEC §7.2, §12.5), or, with no
    /// sealing, the envelope alone as [`Client::post_envelope`].
    ///
    /// # Errors
    /// As [`Client::post_envelope`].
    pub fn post_sealed(
        &self,
        envelope: &Envelope,
        sealing: Option<&hisaab_log::seal::Sealing>,
    ) -> Result<Posted, ClientError> {
        let Some(sealing) = sealing else {
            return self.post_envelope(envelope);
        };
        let submission = hisaab_api::SealedSubmission {
            envelope: envelope.clone(),
            sealing: sealing.clone(),
        };
        let body = hisaab_log::jcs::to_canonical(&submission).map_err(ClientError::Encode)?;
        self.post_envelope_bytes(body)
    }

    /// Posts a witness's cosignature line for `checkpoint`.
    ///
    /// # Errors
    /// As [`Client::post_envelope_bytes`].
    pub fn post_cosignature(
        &self,
        line: &str,
        checkpoint: &str,
    ) -> Result<CosignatureAccepted, ClientError> {
        let request = CosignatureRequest {
            cosignature: line.to_owned(),
            checkpoint: Some(checkpoint.to_owned()),
        };
        let body = serde_json::to_vec(&request).map_err(|source| ClientError::Answer {
            what: "the cosignature request".to_owned(),
            source,
        })?;
        self.post_json("/v1/cosignatures", Some(body))
    }

    /// A request that got no answer: names the server.
    fn unreachable(&self, method: &'static str, url: &str, error: reqwest::Error) -> ClientError {
        let why = if error.is_connect() {
            "cannot connect"
        } else if error.is_timeout() {
            "no answer in time"
        } else {
            "the request failed"
        };
        ClientError::Unreachable {
            method,
            url: url.to_owned(),
            why,
            base: self.base.clone(),
            source: error,
        }
    }
}

/// `http://host:port` without a trailing slash; only plain HTTP is supported (no TLS built in).
///
/// # Errors
/// [`ClientError::Https`] or [`ClientError::NotHttp`].
pub fn normalize_url(url: &str) -> Result<String, ClientError> {
    let trimmed = url.trim().trim_end_matches('/');
    if trimmed.starts_with("https://") {
        return Err(ClientError::Https {
            url: url.to_owned(),
        });
    }
    if !trimmed.starts_with("http://") {
        return Err(ClientError::NotHttp {
            url: url.to_owned(),
        });
    }
    Ok(trimmed.to_owned())
}

/// Whether `target` looks like a server URL rather than a path.
pub fn is_url(target: &str) -> bool {
    target.starts_with("http://") || target.starts_with("https://")
}

/// Parses an entry's leaf bytes as served (with a final newline).
fn parse_entry(text: &str, what: String) -> Result<SealedEntry, ClientError> {
    let bytes = text.strip_suffix('\n').unwrap_or(text);
    SealedEntry::try_from_leaf_bytes(bytes.as_bytes())
        .map_err(|source| ClientError::Entry { what, source })
}

/// Parses JSON Lines of leaf bytes.
fn parse_lines(text: &str) -> Result<Vec<Listed>, ClientError> {
    text.lines()
        .enumerate()
        .map(|(line, bytes)| {
            if bytes.starts_with("{\"withheld\":") {
                return serde_json::from_str::<WithheldLine>(bytes)
                    .map(|line| Listed::Withheld(line.withheld))
                    .map_err(|source| ClientError::Answer {
                        what: format!("the withheld entry on line {}", line + 1),
                        source,
                    });
            }
            SealedEntry::try_from_leaf_bytes(bytes.as_bytes())
                .map(|entry| Listed::Entry(Box::new(entry)))
                .map_err(|source| ClientError::Entry {
                    what: format!("on line {}", line + 1),
                    source,
                })
        })
        .collect()
}

/// A fresh nonce for a signed request: 24 random bytes, base64url (32 characters).
fn nonce() -> String {
    use rand::RngCore;
    let mut bytes = [0_u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    bytes
        .chunks(3)
        .flat_map(|chunk| {
            let n = chunk
                .iter()
                .fold(0_u32, |acc, byte| (acc << 8) | u32::from(*byte));
            (0..4).rev().map(move |i| {
                let index = usize::try_from((n >> (6 * i)) & 63).unwrap_or(0);
                char::from(ALPHABET[index])
            })
        })
        .collect()
}

/// Turns a non-success answer into an [`HttpError`].
fn check_status(response: Response) -> Result<Response, HttpError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = read_text(response).unwrap_or_default();
    let (code, message) = match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => (body.error.code, body.error.message),
        Err(_) => (
            "unknown".to_owned(),
            text.chars().take(ERROR_TEXT_CHARS_MAX).collect(),
        ),
    };
    Err(HttpError {
        status,
        code,
        message,
    })
}

/// Reads a bounded text answer.
fn read_text(response: Response) -> Result<String, ClientError> {
    let mut text = String::new();
    response
        .take(ANSWER_BYTES_MAX)
        .read_to_string(&mut text)
        .map_err(ClientError::Read)?;
    Ok(text)
}

/// `path` with the parameters that have a value as its query (values of slugs, dates and
/// integers, which need no escaping).
fn with_query(path: &str, parameters: &[(&str, Option<String>)]) -> String {
    let query: Vec<String> = parameters
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|value| format!("{name}={value}")))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_http_urls_and_refuses_others() {
        assert_eq!(
            normalize_url(" http://127.0.0.1:8080/ ").ok().as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert!(matches!(
            normalize_url("https://example.org"),
            Err(ClientError::Https { .. })
        ));
        assert!(matches!(
            normalize_url("example.org"),
            Err(ClientError::NotHttp { .. })
        ));
        assert!(is_url("https://x") && is_url("http://x") && !is_url("./x"));
    }
}
