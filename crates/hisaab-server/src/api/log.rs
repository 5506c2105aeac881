//! The log itself: the latest checkpoint, entries as their leaf bytes, proofs and bundles
//! (SPEC §2, §3, §6, §7).

use std::io::{self, Write};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hisaab_api::{Withheld, WithheldLine};
use hisaab_log::{merkle, Hash, SealedEntry};
use hisaab_model::sealed::is_sealed_form;
use hisaab_model::view::{entry_access_of, openings_access, EntryAccess, Reader};
use hisaab_model::Scope;
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::{
    blocking, bytes_response, check_integer, check_tree_size, immutable, JSON, JSON_LINES, TEXT,
};
use crate::app::AppState;
use crate::error::{short, ApiError};
use crate::extract::{PathText, Query};
use crate::reader::{private, withheld, ReaderOf};
use crate::schema::doc;
use crate::schema::{self, ConsistencyProof, InclusionProof};

/// The size of the chunks a bundle is streamed in.
const BUNDLE_CHUNK_BYTES: usize = 64 << 10;
/// How many chunks may wait between the exporting thread and the socket.
const BUNDLE_CHUNKS_QUEUED: usize = 8;

/// The latest signed checkpoint, with the witnesses' cosignatures collected for it.
#[utoipa::path(
    get,
    path = "/v1/checkpoint",
    tag = "log",
    responses(
        (status = 200, description = "A C2SP signed note: origin, tree size, base64 root hash, \
            a blank line, the log's signature line and any witnesses' cosignature lines.",
            body = String, content_type = "text/plain"),
        (status = 503, description = "`ledger_empty`, `overloaded`, `timeout` or `unavailable`.",
            body = doc::ErrorBody),
    )
)]
pub(crate) async fn checkpoint(State(app): State<AppState>) -> Result<Response, ApiError> {
    let note = app.store.latest_checkpoint().note;
    if note.is_empty() {
        return Err(ApiError::LedgerEmpty);
    }
    let mut response = bytes_response(TEXT, note.into_bytes());
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// The query of `GET /v1/entries`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntriesQuery {
    /// The seq of the first entry (default 0). At most the ledger's size, where the answer is
    /// empty.
    #[serde(default, deserialize_with = "crate::extract::decimal::optional")]
    #[schemars(range(max = "schema::INTEGER_MAX"))]
    start: Option<u64>,
    /// How many entries at most (default: the server's page size, 1000 by default; a larger
    /// `limit` is cut to it).
    #[serde(default, deserialize_with = "crate::extract::decimal::optional")]
    #[schemars(range(max = "schema::INTEGER_MAX"))]
    limit: Option<u64>,
}

/// Entries as JSON Lines: each line is an entry's leaf bytes, JCS(entry), exactly, then `\n`.
#[utoipa::path(
    get,
    path = "/v1/entries",
    tag = "log",
    params(EntriesQuery),
    responses(
        (status = 200, description = "One entry per line, seq `start` upwards, each line the \
            entry's leaf bytes exactly followed by `\\n`, or, for an entry the reader may not \
            read (SPEC §13), `{\"withheld\":{\"seq\",\"kind\",\"leaf_hash\"}}`. Fewer than \
            `limit` lines at the end of the log; none when `start` is the ledger's size.",
            body = doc::EntryLine, content_type = "application/x-ndjson"),
        (status = 400, description = "`bad_query`: a parameter is unknown, not an integer, or \
            above 2^53 - 1.", body = doc::ErrorBody),
        (status = 404, description = "`index_out_of_range`: `start` is beyond the ledger's \
            size.", body = doc::ErrorBody),
        (status = 401, description = "Credentials were sent and do not hold (SPEC §13): \
            `bad_request_signature`, `stale_request`, `replayed_request`, `unknown_reader`, \
            `revoked_reader`, `session_expired` or `bad_credentials`. Without credentials the \
            request reads as the public.", body = doc::ErrorBody),
        (status = 503, description = "`overloaded`, `timeout` or `unavailable`.",
            body = doc::ErrorBody),
    )
)]
pub(crate) async fn entries(
    State(app): State<AppState>,
    ReaderOf(reader): ReaderOf,
    Query(query): Query<EntriesQuery>,
) -> Result<Response, ApiError> {
    check_integer("start", query.start, 0)?;
    check_integer("limit", query.limit, 0)?;
    let start = query.start.unwrap_or(0);
    let page_max = app.config.entries_page_max;
    let limit = query.limit.unwrap_or(page_max).min(page_max);
    let size = app.store.size();
    if start > size {
        return Err(ApiError::IndexOutOfRange {
            message: format!("start {start} is beyond the ledger's size, {size}"),
        });
    }
    let lines = blocking(move || {
        let entries = app.store.entries(start, limit).map_err(ApiError::from)?;
        lines_for(&app, &entries, &reader)
    })
    .await?;
    Ok(private(bytes_response(JSON_LINES, lines)))
}

/// JSON Lines of `entries` as `reader` may read them: each entry's leaf bytes exactly, or the
/// line standing for it when it is withheld (SPEC §13.4). Blocking.
fn lines_for(
    app: &AppState,
    entries: &[SealedEntry],
    reader: &Reader,
) -> Result<Vec<u8>, ApiError> {
    let seqs: Vec<u64> = entries.iter().map(|sealed| sealed.entry().seq).collect();
    let scopes = app.store.scopes(&seqs)?;
    let mut out = Vec::with_capacity(
        entries
            .iter()
            .map(|sealed| sealed.leaf_bytes().len().saturating_add(1))
            .sum(),
    );
    for (sealed, scope) in entries.iter().zip(&scopes) {
        match withheld_line(sealed, scope, reader) {
            None => out.extend_from_slice(sealed.leaf_bytes()),
            Some(line) => out.extend_from_slice(&line),
        }
        out.push(b'\n');
    }
    Ok(out)
}

/// The line standing for `sealed`, an entry of `scope`, when it is withheld from `reader`
/// (SPEC §13.4): `{"withheld":{"seq","kind","leaf_hash"}}`, without its newline; `None` when
/// the reader gets its leaf bytes.
fn withheld_line(sealed: &SealedEntry, scope: &Scope, reader: &Reader) -> Option<Vec<u8>> {
    match access_to(sealed, scope, reader) {
        EntryAccess::Full | EntryAccess::Sealed => None,
        _ => {
            let line = WithheldLine {
                withheld: Withheld {
                    seq: sealed.entry().seq,
                    kind: sealed.entry().statement.kind.clone(),
                    leaf_hash: sealed.event_hash(),
                },
            };
            // A struct of a number and two strings always serialises.
            Some(serde_json::to_vec(&line).unwrap_or_default())
        }
    }
}

/// How `reader` gets `sealed`, an entry of `scope`: an entry in sealed form is served to every
/// reader (SPEC §12.4, §13.4), any other as its scope says.
fn access_to(sealed: &SealedEntry, scope: &Scope, reader: &Reader) -> EntryAccess {
    let statement = &sealed.entry().statement;
    entry_access_of(
        reader,
        scope,
        is_sealed_form(&statement.kind, &statement.body),
    )
}

/// One entry as `reader` may read it: its leaf bytes, cacheable by anyone when it is a
/// registry entry and private otherwise; or 403 `forbidden` when it is withheld.
fn entry_for(sealed: &SealedEntry, scope: &Scope, reader: &Reader) -> Result<Response, ApiError> {
    match access_to(sealed, scope, reader) {
        EntryAccess::Full | EntryAccess::Sealed => {
            let response = bytes_response(JSON, sealed.leaf_bytes().to_vec());
            if *scope == Scope::Registry {
                Ok(immutable(response))
            } else {
                Ok(private(response))
            }
        }
        _ => Err(withheld(
            sealed.entry().seq,
            &sealed.entry().statement.kind,
            scope,
            reader,
        )),
    }
}

/// The path of `GET /v1/entries/{seq}`, as the description gives it; the handler reads the seq
/// itself ([`PathText`]), to answer `bad_path` for what is not one.
#[derive(JsonSchema)]
#[allow(dead_code)] // Described here, read as text by the handler.
pub(crate) struct EntryPath {
    /// The entry's seq, from 0.
    #[schemars(range(max = "schema::INTEGER_MAX"))]
    seq: u64,
}

/// The path of `GET /v1/events/{event_hash}`, as the description gives it; the handler reads
/// the hash itself, to answer `bad_path` for what is not one.
#[derive(JsonSchema)]
#[allow(dead_code)] // Described here, read as text by the handler.
pub(crate) struct EventPath {
    /// The entry's event hash: 64 lowercase hex digits.
    #[schemars(regex(pattern = "^[0-9a-f]{64}$"))]
    event_hash: String,
}

schema::parameters_of! {
    EntriesQuery => Query,
    EntryPath => Path,
    EventPath => Path,
    InclusionQuery => Query,
    ConsistencyQuery => Query,
    BundleQuery => Query,
    HistoryQuery => Query,
}

/// One entry by its seq, as its leaf bytes exactly.
#[utoipa::path(
    get,
    path = "/v1/entries/{seq}",
    tag = "log",
    params(EntryPath),
    responses(
        (status = 200, description = "The entry's leaf bytes, JCS(entry), exactly.",
            body = doc::Entry, content_type = "application/json"),
        (status = 400, description = "`bad_path`: the seq is not an integer from 0 to \
            2^53 - 1 in plain decimal digits (`+5` and `05` are refused).", body = doc::ErrorBody),
        (status = 404, description = "`not_found`: no entry with this seq.", body = doc::ErrorBody),
        (status = 401, description = "Credentials were sent and do not hold (SPEC §13): \
            `bad_request_signature`, `stale_request`, `replayed_request`, `unknown_reader`, \
            `revoked_reader`, `session_expired` or `bad_credentials`. Without credentials the \
            request reads as the public.", body = doc::ErrorBody),
        (status = 403, description = "`forbidden`: the entry is about an operator (or the \
            sector) the reader may not read; the message says who may. Its leaf hash stays \
            provable.", body = doc::ErrorBody),
        (status = 503, description = "`overloaded`, `timeout` or `unavailable`.",
            body = doc::ErrorBody),
    )
)]
pub(crate) async fn entry(
    State(app): State<AppState>,
    ReaderOf(reader): ReaderOf,
    PathText(seq): PathText,
) -> Result<Response, ApiError> {
    let seq = parse_seq(&seq)?;
    let found = blocking(move || {
        let Some(sealed) = app.store.entry(seq).map_err(ApiError::from)? else {
            return Ok(None);
        };
        let scope = app
            .store
            .scopes(&[sealed.entry().seq])?
            .pop()
            .unwrap_or(Scope::Sector);
        Ok(Some((sealed, scope)))
    })
    .await?;
    match found {
        Some((sealed, scope)) => entry_for(&sealed, &scope, &reader),
        None => Err(ApiError::not_found(format!("no entry with seq {seq}"))),
    }
}

/// The `{seq}` of a path: plain decimal digits, at most 2^53 - 1 (SPEC §7.1).
fn parse_seq(seq: &str) -> Result<u64, ApiError> {
    crate::extract::decimal::parse(seq)
        .filter(|seq| *seq <= schema::INTEGER_MAX)
        .ok_or_else(|| ApiError::BadPath {
            message: format!(
                "seq must be an integer from 0 to 2^53 - 1 in plain decimal digits (no sign, no \
                 leading zero), found {:?}",
                short(seq)
            ),
        })
}

/// The openings of one entry's sealed fields (SPEC §12.6), for a reader who may read the entry
/// in full (SPEC §13.4): the values and salts the ledger keeps, encrypted, beside the sealed
/// entry.
#[utoipa::path(
    get,
    path = "/v1/entries/{seq}/openings",
    tag = "log",
    params(EntryPath),
    responses(
        (status = 200, description = "The entry's openings: `{\"seq\",\"event_hash\",\"kind\",\
            \"fields\":{\"<field>\":{\"salt\",\"value\"}}}`, each checkable against the entry's \
            commitment (SPEC §12.2, §12.6).", body = doc::Openings),
        (status = 400, description = "`bad_path`: the seq is not an integer from 0 to \
            2^53 - 1 in plain decimal digits.", body = doc::ErrorBody),
        (status = 404, description = "`not_found`: no entry with this seq, or none of its \
            fields is kept sealed (a kind that seals nothing, a body in the clear, openings \
            erased).", body = doc::ErrorBody),
        (status = 401, description = "Credentials were sent and do not hold (SPEC §13): \
            `bad_request_signature`, `stale_request`, `replayed_request`, `unknown_reader`, \
            `revoked_reader`, `session_expired` or `bad_credentials`. Without credentials the \
            request reads as the public.", body = doc::ErrorBody),
        (status = 403, description = "`forbidden`: the entry is about an operator (or the \
            sector) the reader may not read in full; the message says who may.",
            body = doc::ErrorBody),
        (status = 503, description = "`overloaded`, `timeout` or `unavailable` (also: the \
            server holds no master key).", body = doc::ErrorBody),
    )
)]
pub(crate) async fn openings(
    State(app): State<AppState>,
    ReaderOf(reader): ReaderOf,
    PathText(seq): PathText,
) -> Result<Response, ApiError> {
    let seq = parse_seq(&seq)?;
    let found = blocking(move || {
        let Some(sealed) = app.store.entry(seq).map_err(ApiError::from)? else {
            return Ok(None);
        };
        let scope = app.store.scopes(&[seq])?.pop().unwrap_or(Scope::Sector);
        if !openings_access(&reader, &scope, &sealed.entry().statement) {
            return Err(withheld(
                seq,
                &sealed.entry().statement.kind,
                &scope,
                &reader,
            ));
        }
        Ok(Some(app.store.openings(seq).map_err(ApiError::from)?))
    })
    .await?;
    match found {
        None => Err(ApiError::not_found(format!("no entry with seq {seq}"))),
        Some(None) => Err(ApiError::not_found(format!(
            "entry {seq} has no openings kept: its kind seals nothing, its body is in the \
             clear, or its openings were erased"
        ))),
        Some(Some(openings)) => Ok(private(Json(openings).into_response())),
    }
}

/// One entry by its event hash, as its leaf bytes exactly.
#[utoipa::path(
    get,
    path = "/v1/events/{event_hash}",
    tag = "log",
    params(EventPath),
    responses(
        (status = 200, description = "The entry's leaf bytes, JCS(entry), exactly.",
            body = doc::Entry, content_type = "application/json"),
        (status = 400, description = "`bad_path`: not 64 lowercase hex digits.",
            body = doc::ErrorBody),
        (status = 404, description = "`not_found`: no entry with this event hash.",
            body = doc::ErrorBody),
        (status = 401, description = "Credentials were sent and do not hold (SPEC §13): \
            `bad_request_signature`, `stale_request`, `replayed_request`, `unknown_reader`, \
            `revoked_reader`, `session_expired` or `bad_credentials`. Without credentials the \
            request reads as the public.", body = doc::ErrorBody),
        (status = 403, description = "`forbidden`: the entry is about an operator (or the \
            sector) the reader may not read; the message says who may. Its leaf hash stays \
            provable.", body = doc::ErrorBody),
        (status = 503, description = "`overloaded`, `timeout` or `unavailable`.",
            body = doc::ErrorBody),
    )
)]
pub(crate) async fn event(
    State(app): State<AppState>,
    ReaderOf(reader): ReaderOf,
    PathText(text): PathText,
) -> Result<Response, ApiError> {
    let event_hash = Hash::try_from_hex(&text).map_err(|_| ApiError::BadPath {
        message: format!(
            "an event hash is 64 lowercase hex digits, found {:?}",
            short(&text)
        ),
    })?;
    let found = blocking(move || {
        let Some(sealed) = app
            .store
            .entry_by_event_hash(&event_hash)
            .map_err(ApiError::from)?
        else {
            return Ok(None);
        };
        let scope = app
            .store
            .scopes(&[sealed.entry().seq])?
            .pop()
            .unwrap_or(Scope::Sector);
        Ok(Some((sealed, scope)))
    })
    .await?;
    match found {
        Some((sealed, scope)) => entry_for(&sealed, &scope, &reader),
        None => Err(ApiError::not_found(format!(
            "no entry with event hash {event_hash}"
        ))),
    }
}

/// The query of `GET /v1/proofs/inclusion`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InclusionQuery {
    /// The leaf index (the entry's seq).
    #[serde(deserialize_with = "crate::extract::decimal::required")]
    #[schemars(range(max = "schema::INTEGER_MAX"))]
    index: u64,
    /// The tree size of the checkpoint to prove against: 1 to the ledger's size (default: the
    /// ledger's current size).
    #[serde(default, deserialize_with = "crate::extract::decimal::optional")]
    #[schemars(range(min = 1, max = "schema::INTEGER_MAX"))]
    tree_size: Option<u64>,
}

/// An RFC 9162 inclusion proof of an entry in the tree of a given size.
#[utoipa::path(
    get,
    path = "/v1/proofs/inclusion",
    tag = "proofs",
    params(InclusionQuery),
    responses(
        (status = 200, description = "The proof.", body = doc::InclusionProof),
        (status = 400, description = "`bad_query`: `index` is missing, a parameter is unknown, \
            not an integer, or out of its bounds (`tree_size` 0, above 2^53 - 1).",
            body = doc::ErrorBody),
        (status = 404, description = "`tree_size_out_of_range`: `tree_size` is beyond the \
            ledger's size; `index_out_of_range`: `index` is not below `tree_size`.",
            body = doc::ErrorBody),
        (status = 503, description = "`overloaded`, `timeout` or `unavailable`.",
            body = doc::ErrorBody),
    )
)]
pub(crate) async fn inclusion_proof(
    State(app): State<AppState>,
    Query(query): Query<InclusionQuery>,
) -> Result<Response, ApiError> {
    check_integer("index", Some(query.index), 0)?;
    check_integer("tree_size", query.tree_size, 1)?;
    let size = app.store.size();
    let index = query.index;
    let tree_size = query.tree_size.unwrap_or(size);
    check_tree_size("tree_size", tree_size, size)?;
    if index >= tree_size {
        return Err(ApiError::IndexOutOfRange {
            message: format!("index {index} is not in a tree of size {tree_size}"),
        });
    }
    let (leaf, proof) = blocking(move || {
        let leaf = app
            .store
            .entry_bytes(index)
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::internal("inclusion proof", &"entry missing below size"))?;
        let proof = app
            .store
            .inclusion_proof(index, tree_size)
            .map_err(ApiError::from)?;
        Ok((leaf, proof))
    })
    .await?;
    let body = InclusionProof {
        index,
        tree_size,
        leaf_hash: merkle::leaf_hash(&leaf),
        proof,
    };
    let response = Json(body).into_response();
    // Without `tree_size` the proof is for the current size, which grows: not cacheable.
    if query.tree_size.is_some() {
        Ok(immutable(response))
    } else {
        Ok(response)
    }
}

/// The query of `GET /v1/proofs/consistency`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsistencyQuery {
    /// The older tree size, at least 1.
    #[serde(deserialize_with = "crate::extract::decimal::required")]
    #[schemars(range(min = 1, max = "schema::INTEGER_MAX"))]
    from: u64,
    /// The newer tree size: at least `from`, at most the ledger's size.
    #[serde(deserialize_with = "crate::extract::decimal::required")]
    #[schemars(range(min = 1, max = "schema::INTEGER_MAX"))]
    to: u64,
}

/// An RFC 9162 consistency proof between two tree sizes.
#[utoipa::path(
    get,
    path = "/v1/proofs/consistency",
    tag = "proofs",
    params(ConsistencyQuery),
    responses(
        (status = 200, description = "The proof; empty when `from == to`.",
            body = doc::ConsistencyProof),
        (status = 400, description = "`bad_query`: a parameter is missing, unknown, not an \
            integer, or out of its bounds (0, above 2^53 - 1).", body = doc::ErrorBody),
        (status = 404, description = "`tree_size_out_of_range`: `to` is beyond the ledger's \
            size, or `from > to`.", body = doc::ErrorBody),
        (status = 503, description = "`overloaded`, `timeout` or `unavailable`.",
            body = doc::ErrorBody),
    )
)]
pub(crate) async fn consistency_proof(
    State(app): State<AppState>,
    Query(query): Query<ConsistencyQuery>,
) -> Result<Response, ApiError> {
    let ConsistencyQuery { from, to } = query;
    check_integer("from", Some(from), 1)?;
    check_integer("to", Some(to), 1)?;
    check_tree_size("to", to, app.store.size())?;
    if from == 0 || from > to {
        return Err(ApiError::TreeSizeOutOfRange {
            message: format!("no consistency proof from {from} to {to}: need 1 <= from <= to"),
        });
    }
    let proof = blocking(move || {
        app.store
            .consistency_proof(from, to)
            .map_err(ApiError::from)
    })
    .await?;
    let body = ConsistencyProof { from, to, proof };
    Ok(immutable(Json(body).into_response()))
}

/// The query of `GET /v1/bundle`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BundleQuery {
    /// The number of entries to export, 1 to the ledger's size (default: all).
    #[serde(default, deserialize_with = "crate::extract::decimal::optional")]
    #[schemars(range(min = 1, max = "schema::INTEGER_MAX"))]
    tree_size: Option<u64>,
}

/// The openings file (SPEC §12.6) of the first `tree_size` entries: the openings of every
/// entry the reader may read in full (SPEC §13.4), to replay the full state (or the reader's
/// view) from the bundle with `hisaab verify BUNDLE --openings FILE`.
#[utoipa::path(
    get,
    path = "/v1/openings",
    tag = "log",
    params(BundleQuery),
    responses(
        (status = 200, description = "An openings file: the header line `{openings, ledger, \
            size}`, then one line per entry whose openings the reader may have, ascending seq, \
            each `{seq, event_hash, kind, fields}` (SPEC §12.6); every line ends in `\\n`. A \
            public reader gets the header alone.", body = String,
            content_type = "application/x-ndjson"),
        (status = 400, description = "`bad_query`: a parameter is unknown, not an integer, or \
            out of its bounds (0, above 2^53 - 1).", body = doc::ErrorBody),
        (status = 404, description = "`tree_size_out_of_range`: beyond the ledger's size.",
            body = doc::ErrorBody),
        (status = 401, description = "Credentials were sent and do not hold (SPEC §13): \
            `bad_request_signature`, `stale_request`, `replayed_request`, `unknown_reader`, \
            `revoked_reader`, `session_expired` or `bad_credentials`. Without credentials the \
            request reads as the public.", body = doc::ErrorBody),
        (status = 503, description = "`ledger_empty`, `overloaded`, `timeout` or \
            `unavailable` (also: the server holds no master key).", body = doc::ErrorBody),
    )
)]
pub(crate) async fn openings_file(
    State(app): State<AppState>,
    ReaderOf(reader): ReaderOf,
    Query(query): Query<BundleQuery>,
) -> Result<Response, ApiError> {
    check_integer("tree_size", query.tree_size, 1)?;
    let size = app.store.size();
    if size == 0 {
        return Err(ApiError::LedgerEmpty);
    }
    let tree_size = query.tree_size.unwrap_or(size);
    check_tree_size("tree_size", tree_size, size)?;
    let bytes = blocking(move || {
        let file = app
            .store
            .openings_file(tree_size, |scope, entry| {
                openings_access(&reader, scope, &entry.entry().statement)
            })
            .map_err(ApiError::from)?;
        let mut out = Vec::new();
        file.write(&mut out)
            .map_err(|error| ApiError::internal("openings file", &error))?;
        Ok(out)
    })
    .await?;
    Ok(private(bytes_response(JSON_LINES, bytes)))
}

/// A bundle (SPEC §6) of the first `tree_size` entries, streamed.
#[utoipa::path(
    get,
    path = "/v1/bundle",
    tag = "log",
    params(BundleQuery),
    responses(
        (status = 200, description = "A bundle: the header line `{bundle, origin, log_key, \
            checkpoint}`, then one line per entry, seq 0 upwards, each its leaf bytes exactly, \
            or, for an entry the reader may not read (SPEC §13.4), \
            `{\"withheld\":{\"seq\",\"kind\",\"leaf_hash\"}}`; every line ends in `\\n`. \
            Streamed; a failure midway cuts the stream short, which a verifier detects.",
            body = String, content_type = "application/x-ndjson"),
        (status = 400, description = "`bad_query`: a parameter is unknown, not an integer, or \
            out of its bounds (0, above 2^53 - 1).", body = doc::ErrorBody),
        (status = 404, description = "`tree_size_out_of_range`: beyond the ledger's size.",
            body = doc::ErrorBody),
        (status = 401, description = "Credentials were sent and do not hold (SPEC §13): \
            `bad_request_signature`, `stale_request`, `replayed_request`, `unknown_reader`, \
            `revoked_reader`, `session_expired` or `bad_credentials`. Without credentials the \
            request reads as the public.", body = doc::ErrorBody),
        (status = 503, description = "`ledger_empty`, `overloaded` (a download counts against \
            the reads' budget until its end), `timeout` or `unavailable`.",
            body = doc::ErrorBody),
    )
)]
pub(crate) async fn bundle(
    State(app): State<AppState>,
    ReaderOf(reader): ReaderOf,
    axum::Extension(slot): axum::Extension<crate::limit::Slot>,
    Query(query): Query<BundleQuery>,
) -> Result<Response, ApiError> {
    check_integer("tree_size", query.tree_size, 1)?;
    let size = app.store.size();
    if size == 0 {
        return Err(ApiError::LedgerEmpty);
    }
    let tree_size = query.tree_size.unwrap_or(size);
    check_tree_size("tree_size", tree_size, size)?;
    // The download counts against the reads' budget until its last byte is taken (or the
    // connection is dropped), not only while its headers are made.
    let slot = slot
        .take()
        .ok_or_else(|| ApiError::internal("bundle", &"the request's slot was taken already"))?;
    let (sender, mut receiver) = mpsc::channel::<io::Result<Bytes>>(BUNDLE_CHUNKS_QUEUED);
    let store = app.store.clone();
    let send_timeout = app.config.send_timeout;
    let runtime = tokio::runtime::Handle::current();
    // The export runs on a blocking thread and hands its output over in chunks, so memory is
    // bounded by the queue whatever the ledger's size. If the client goes away, or takes
    // nothing for the send timeout, sends fail and the export stops with an I/O error, which
    // frees the thread.
    tokio::task::spawn_blocking(move || {
        let writer = ChannelWriter {
            sender: sender.clone(),
            runtime,
            send_timeout,
        };
        let mut buffered = io::BufWriter::with_capacity(BUNDLE_CHUNK_BYTES, writer);
        // A full reader's bundle is every entry's leaf bytes; anyone else's has the withheld
        // line of `GET /v1/entries` in place of an entry they may not read (SPEC §13.4).
        let exported = if reader == Reader::Full {
            store.export_bundle(tree_size, &mut buffered)
        } else {
            store.export_bundle_for(tree_size, &mut buffered, |sealed, scope| {
                withheld_line(sealed, scope, &reader)
            })
        };
        let result = exported
            .map_err(|error| io::Error::other(error.to_string()))
            .and_then(|_count| buffered.flush());
        if let Err(error) = result {
            tracing::warn!(tree_size, %error, "bundle export stopped");
            let _ = sender.try_send(Err(io::Error::other("the bundle export failed")));
        } else {
            tracing::info!(tree_size, "bundle exported");
        }
    });
    let stream = futures_util::stream::poll_fn(move |context| {
        // Kept with the body: dropped when the body ends or the connection is dropped.
        let _slot = &slot;
        receiver.poll_recv(context)
    });
    let mut response = private(Response::new(Body::from_stream(stream)));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_LINES));
    if let Ok(disposition) = HeaderValue::from_str(&format!(
        "attachment; filename=\"hisaab-bundle-{tree_size}.jsonl\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

/// A `Write` that sends what it is given, as chunks, into a channel read by the response body,
/// failing when the body takes nothing for `send_timeout`.
struct ChannelWriter {
    sender: mpsc::Sender<io::Result<Bytes>>,
    runtime: tokio::runtime::Handle,
    send_timeout: std::time::Duration,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let chunk = Ok(Bytes::copy_from_slice(buf));
        let sent = self.runtime.block_on(tokio::time::timeout(
            self.send_timeout,
            self.sender.send(chunk),
        ));
        match sent {
            Ok(Ok(())) => Ok(buf.len()),
            Ok(Err(_)) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client went away",
            )),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client took nothing of the bundle for the send timeout",
            )),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The query of `GET /v1/history`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryQuery {
    /// The operator's id.
    #[schemars(regex(pattern = "^[a-z0-9][a-z0-9-]{0,62}$"))]
    operator: String,
    /// The KPI's id.
    #[schemars(regex(pattern = "^[A-Z]{2,6}-[0-9]{1,4}$"))]
    kpi: String,
    /// Only entries with a seq of at least this (default 0), for paging.
    #[serde(default, deserialize_with = "crate::extract::decimal::optional")]
    #[schemars(range(max = "schema::INTEGER_MAX"))]
    start: Option<u64>,
    /// How many entries at most (default: the server's page size; a larger `limit` is cut to
    /// it).
    #[serde(default, deserialize_with = "crate::extract::decimal::optional")]
    #[schemars(range(max = "schema::INTEGER_MAX"))]
    limit: Option<u64>,
}

/// Every entry about an operator and a KPI, in log order, as JSON Lines: assignments,
/// submissions, their evaluations, commitments and challenges naming the KPI, and disputes
/// opened and resolved on those evaluations.
#[utoipa::path(
    get,
    path = "/v1/history",
    tag = "log",
    params(HistoryQuery),
    responses(
        (status = 200, description = "One entry per line, in log order, each line the entry's \
            leaf bytes exactly followed by `\\n`, or the withheld line of an entry the reader \
            may not read (SPEC §13); empty when nothing names the pair.",
            body = doc::EntryLine, content_type = "application/x-ndjson"),
        (status = 400, description = "`bad_query`: a parameter is missing, unknown, or does \
            not match its pattern or bounds.",
            body = doc::ErrorBody),
        (status = 401, description = "Credentials were sent and do not hold (SPEC §13): \
            `bad_request_signature`, `stale_request`, `replayed_request`, `unknown_reader`, \
            `revoked_reader`, `session_expired` or `bad_credentials`. Without credentials the \
            request reads as the public.", body = doc::ErrorBody),
        (status = 503, description = "`overloaded`, `timeout` or `unavailable`.",
            body = doc::ErrorBody),
    )
)]
pub(crate) async fn history(
    State(app): State<AppState>,
    ReaderOf(reader): ReaderOf,
    Query(query): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let slug_ok = |text: &str| {
        let bytes = text.as_bytes();
        (1..=63).contains(&bytes.len())
            && bytes
                .first()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
    };
    let kpi_ok = |text: &str| {
        text.split_once('-').is_some_and(|(letters, digits)| {
            (2..=6).contains(&letters.len())
                && letters.bytes().all(|b| b.is_ascii_uppercase())
                && (1..=4).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
        })
    };
    if !slug_ok(&query.operator) {
        return Err(ApiError::bad_query(format!(
            "operator must be a slug such as `indus`, found {:?}",
            short(&query.operator)
        )));
    }
    if !kpi_ok(&query.kpi) {
        return Err(ApiError::bad_query(format!(
            "kpi must be an id such as `CR-01`, found {:?}",
            short(&query.kpi)
        )));
    }
    check_integer("start", query.start, 0)?;
    check_integer("limit", query.limit, 0)?;
    let start = query.start.unwrap_or(0);
    let page_max = app.config.entries_page_max;
    let limit =
        usize::try_from(query.limit.unwrap_or(page_max).min(page_max)).unwrap_or(usize::MAX);
    let lines = blocking(move || {
        let seqs = app
            .store
            .history(&query.operator, &query.kpi)
            .map_err(ApiError::from)?;
        let mut entries = Vec::new();
        for seq in seqs.into_iter().filter(|seq| *seq >= start).take(limit) {
            let sealed = app
                .store
                .entry(seq)
                .map_err(ApiError::from)?
                .ok_or_else(|| ApiError::internal("history", &"indexed entry missing"))?;
            entries.push(sealed);
        }
        lines_for(&app, &entries, &reader)
    })
    .await?;
    Ok(private(bytes_response(JSON_LINES, lines)))
}
