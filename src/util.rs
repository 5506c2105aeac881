//! Small helpers shared by the commands: the clock, files and stdin, and building statements.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _, Result};
use hisaab_log::seal::{Sealing, Seed};
use hisaab_log::{jcs, Envelope, Hash, SigningKey, Statement, StatementId, Timestamp};
use hisaab_model::body::Evidence;
use hisaab_model::sealed::seal_statement;
use hisaab_model::{Body, Kind, Text};
use serde_json::{Map, Value};

use crate::keyfile;

/// The largest input file read whole (envelopes and bodies are far smaller).
const INPUT_BYTES_MAX: u64 = 16 << 20;

/// Milliseconds since the Unix epoch.
pub(crate) fn now_unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Now, in whole seconds, as a SPEC §1 timestamp.
pub(crate) fn now_timestamp() -> Result<Timestamp> {
    Ok(Timestamp::from_unix_seconds(
        now_unix_millis().div_euclid(1000),
    )?)
}

/// Reads a file, or stdin for `-`, up to [`INPUT_BYTES_MAX`].
pub(crate) fn read_input(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(INPUT_BYTES_MAX)
            .read_to_end(&mut bytes)
            .context("cannot read stdin")?;
    } else {
        std::fs::File::open(path)
            .with_context(|| format!("cannot open {}", path.display()))?
            .take(INPUT_BYTES_MAX)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    Ok(bytes)
}

/// Writes `bytes` to a new file (never overwriting), or to stdout when `path` is `None`/`-`.
pub(crate) fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match path {
        Some(p) if p.as_os_str() != "-" => {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(p)
                .with_context(|| format!("cannot create {} (it must not exist)", p.display()))?;
            file.write_all(bytes)
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write {}", p.display()))?;
        }
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()?;
        }
    }
    Ok(())
}

/// Writes `text` to stdout; a reader that went away (`hisaab replay … | head`) is not an error.
pub(crate) fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Parses a JSON object strictly (no duplicate keys, SPEC §1 numbers).
pub(crate) fn parse_body(bytes: &[u8]) -> Result<Map<String, Value>> {
    let value = jcs::parse_strict(bytes).context("the body is not valid JSON for a statement")?;
    jcs::check_profile(&value).context("the body breaks the canonical JSON profile")?;
    match value {
        Value::Object(map) => Ok(map),
        _ => bail!("the body must be a JSON object"),
    }
}

/// What a statement to be signed says, besides its signer.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    /// The ledger's format, the statement's `v` (1 or 2).
    pub(crate) v: u64,
    /// The kind.
    pub(crate) kind: Kind,
    /// The ledger id (`None` only for a genesis).
    pub(crate) ledger: Option<Hash>,
    /// The id [default: a new UUID v7].
    pub(crate) id: Option<String>,
    /// When [default: now].
    pub(crate) issued_at: Option<String>,
    /// The body: a typed body's object, or a JSON object a user gave (checked when signed).
    pub(crate) body: Map<String, Value>,
}

impl Draft {
    /// A draft of `body` for `ledger` of format `v`, with a new id, issued now.
    pub(crate) fn of(body: &Body, ledger: Hash, v: u64) -> Result<Self> {
        Ok(Draft {
            v,
            kind: body.kind(),
            ledger: Some(ledger),
            id: None,
            issued_at: None,
            body: body.to_object().context("cannot encode the body")?,
        })
    }
}

/// Signs a draft with `key`, checking what can be checked offline. The body is signed as it
/// is (in the clear); [`seal_and_sign_draft`] seals it first.
pub(crate) fn sign_draft(draft: Draft, key: &SigningKey) -> Result<Envelope> {
    signed(statement_of(draft, key)?, key)
}

/// Signs a draft with `key` as its signer seals it (SPEC §12.5): a format-2 statement of a
/// kind with sealed fields is sealed with a fresh seed from the operating system's generator
/// and signed in its sealed form, and comes back with the sealing to post beside it; any
/// other statement is signed as it is, with no sealing. A format-2 `operator.registered`
/// without a `blinding` gets 256 fresh random bits for it here, the one place they are drawn:
/// they blind the operator's leaf of the full-state digest tree (SPEC §12.8), and without them
/// the body cannot be sealed.
pub(crate) fn seal_and_sign_draft(
    mut draft: Draft,
    key: &SigningKey,
) -> Result<(Envelope, Option<Sealing>)> {
    if draft.v >= 2
        && draft.kind == Kind::OperatorRegistered
        && !draft.body.contains_key("blinding")
    {
        let blinding = hisaab_log::seal::Blinding::from_bytes(rand::random());
        draft
            .body
            .insert("blinding".to_owned(), serde_json::to_value(blinding)?);
    }
    let statement = statement_of(draft, key)?;
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
    let (statement, sealing) =
        seal_statement(&statement, &Seed::from_bytes(seed)).context("the body cannot be sealed")?;
    Ok((signed(statement, key)?, sealing.map(|(sealing, _)| sealing)))
}

/// What a signer carries to the server, as `hisaab submit FILE` reads it, ending in a
/// newline: the envelope's canonical JSON, or for a sealed statement the sealed submission
/// `{"envelope","sealing"}` (SPEC §12.5; the sealing holds the openings, so the file is as
/// confidential as the body).
pub(crate) fn submission_bytes(envelope: &Envelope, sealing: Option<&Sealing>) -> Result<Vec<u8>> {
    let mut bytes = match sealing {
        Some(sealing) => hisaab_log::jcs::to_canonical(&hisaab_api::Submission::Sealed(
            hisaab_api::SealedSubmission {
                envelope: envelope.clone(),
                sealing: sealing.clone(),
            },
        ))?,
        None => envelope.canonical_bytes()?,
    };
    bytes.push(b'\n');
    Ok(bytes)
}

/// The statement of a draft signed by `key`, its body checked against its kind's form.
fn statement_of(draft: Draft, key: &SigningKey) -> Result<Statement> {
    let is_genesis = draft.kind == Kind::LedgerGenesis;
    if is_genesis && draft.ledger.is_some() {
        bail!("a ledger.genesis statement has no ledger id (drop --ledger)");
    }
    if !is_genesis && draft.ledger.is_none() {
        bail!("a {} statement needs the ledger id (--ledger)", draft.kind);
    }
    let id = match draft.id {
        Some(id) => StatementId::try_new(&id)?,
        None => new_statement_id()?,
    };
    let issued_at = match draft.issued_at {
        Some(t) => Timestamp::try_parse(&t)?,
        None => now_timestamp()?,
    };
    if draft.kind.since() > draft.v {
        bail!(
            "{} is a kind of format {}; a ledger of format {} does not know it",
            draft.kind,
            draft.kind.since(),
            draft.v
        );
    }
    let statement = Statement {
        v: draft.v,
        ledger: draft.ledger,
        id,
        kind: draft.kind.as_str().to_owned(),
        signer: keyfile::public(key),
        issued_at,
        body: draft.body,
    };
    check_body(&statement)?;
    Ok(statement)
}

/// `statement` signed by `key`, parsed back as a server parses it.
fn signed(statement: Statement, key: &SigningKey) -> Result<Envelope> {
    let envelope = Envelope::sign(statement, key)?;
    // Round-trip through the parser a server uses, so a bad envelope fails here, offline.
    let bytes = envelope.canonical_bytes()?;
    Envelope::try_from_json(&bytes).context("the signed envelope does not parse back")?;
    Ok(envelope)
}

/// Checks the body against its kind's form (SPEC §4 rule 1), offline.
fn check_body(statement: &Statement) -> Result<()> {
    hisaab_model::Body::try_parse(&statement.kind, &statement.body)
        .map(|_| ())
        .with_context(|| format!("the body is not a valid {} body", statement.kind))
}

/// A new lowercase UUID v7.
pub(crate) fn new_statement_id() -> Result<StatementId> {
    let id = uuid::Uuid::now_v7().hyphenated().to_string();
    Ok(StatementId::try_new(&id)?)
}

/// Hashes a file for a submission's evidence or a meeting's minutes: `{name, sha256, bytes}`.
pub(crate) fn evidence_of(path: &Path) -> Result<Evidence> {
    use sha2::Digest as _;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty())
        .with_context(|| format!("{} has no usable file name", path.display()))?;
    let name = Text::try_new(name)
        .with_context(|| format!("{} is not a usable evidence name", path.display()))?;
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let bytes = std::io::copy(&mut file, &mut hasher)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let sha256 = Hash::from_bytes(hasher.finalize().into());
    Ok(Evidence {
        name,
        sha256,
        bytes,
    })
}

/// Text from the ledger made safe to print: a control character other than tab and line feed,
/// a C1 control or a bidi override or isolate is shown as `\u{XXXX}` instead of being sent to
/// the terminal, where it could move the cursor, rewrite lines or reorder text. Appends refuse
/// such characters in texts; a v1 ledger may hold them from before.
pub(crate) fn escape_for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\n' || c == '\t' || !(c.is_control() || hisaab_model::value::is_refused_in_text(c))
        {
            out.push(c);
        } else {
            let _ =
                std::fmt::Write::write_fmt(&mut out, format_args!("\\u{{{:04X}}}", u32::from(c)));
        }
    }
    out
}

/// A table with a header row, columns padded to their widest cell.
pub(crate) fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut line = |cells: Vec<String>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                let pad = width.saturating_sub(cell.chars().count());
                text.push_str(cell);
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        let _ = writeln!(out, "  {}", text.trim_end());
    };
    line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// What `body` reads, in an anonymous temporary file (unlinked, gone when closed): a download
/// read as a file is, as often as needed, in memory that does not grow with it.
pub(crate) fn spooled(mut body: impl std::io::Read) -> Result<std::fs::File> {
    let mut file = tempfile::tempfile().context("cannot make a temporary file")?;
    std::io::copy(&mut body, &mut file).context("cannot read the download")?;
    Ok(file)
}

/// A reader of `file` from its start.
pub(crate) fn from_start(file: &mut std::fs::File) -> Result<std::io::BufReader<std::fs::File>> {
    use std::io::Seek as _;
    file.seek(std::io::SeekFrom::Start(0))
        .context("cannot read the download back")?;
    Ok(std::io::BufReader::with_capacity(
        1 << 16,
        file.try_clone()?,
    ))
}
