//! C2SP signed notes, checkpoints and cosignatures (SPEC §3).
//!
//! - [`sign_note`] and [`open_note`] implement C2SP `signed-note` v1.0.0 for Ed25519 keys
//!   (signature type `0x01`): a text ending in a newline, a blank line, and signature lines
//!   `— <key name> <base64(key id || signature)>`. Signatures verify **strictly**
//!   ([`PublicKey::verify_strict`], SPEC §1).
//! - [`VerifierKey`] is the C2SP verifier key string `<name>+<hex key id>+<base64(0x01 || key)>`,
//!   the form of genesis `body.log_key`.
//! - [`Checkpoint`] is a C2SP `tlog-checkpoint` body: origin, tree size, root hash. Hisaab writes
//!   no extension lines and refuses them when parsing (SPEC §3).
//! - [`cosign_checkpoint`] and [`verify_cosignature`] implement C2SP `tlog-cosignature`
//!   (`cosignature/v1`, Ed25519, signature type `0x04`), which witnesses use.
//!
//! This module is pure: it reads no clock (timestamps are parameters) and draws no randomness
//! (Ed25519 signing is deterministic). It does not fetch keys or decide which keys to trust:
//! callers pass the keys they know.
//!
//! The parser is written by hand rather than with the `signed_note` crate: that crate verifies
//! with ed25519-dalek's non-strict `verify`, reports every parse failure as one opaque error and
//! accepts non-canonical base64. Its outputs and ours are cross-checked in the tests.

use std::collections::HashSet;
use std::fmt;

use crate::error::truncate_for_error;
use crate::error::FormatError;
use crate::hash::Hash;
use crate::key::{decode_base64_canonical, encode_base64, PublicKey, Signature, SigningKey};

/// The largest signed note, in bytes, that is parsed or produced.
pub const NOTE_BYTES_MAX: usize = 1 << 20;

/// The most signature lines a note may carry. C2SP requires accepting at least 16; Go's
/// `sumdb/note` stops at 100.
pub const SIGNATURES_MAX: usize = 100;

/// The C2SP signature type byte of Ed25519 note signatures (signed-note §Signature types).
pub const SIGNATURE_TYPE_ED25519: u8 = 0x01;

/// The C2SP signature type byte of timestamped Ed25519 witness cosignatures (`cosignature/v1`).
pub const SIGNATURE_TYPE_COSIGNATURE_V1: u8 = 0x04;

/// The largest cosignature timestamp: C2SP tlog-cosignature requires at most 2^63 - 1.
pub const COSIGNATURE_TIMESTAMP_MAX: u64 = i64::MAX.unsigned_abs();

/// The prefix of every signature line: an em dash (U+2014) and a space.
const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";

/// The header line of the message a `cosignature/v1` signs.
const COSIGNATURE_HEADER: &str = "cosignature/v1\n";

/// Why a note, a verifier key, a checkpoint or a cosignature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The text does not have the form of a signed note, checkpoint or signature line.
    #[error("malformed note: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The note is larger than [`NOTE_BYTES_MAX`].
    #[error("the note is {found} bytes, more than the limit of {max}")]
    TooLarge {
        /// Its size in bytes.
        found: usize,
        /// The limit.
        max: usize,
    },
    /// The note has more than [`SIGNATURES_MAX`] signature lines.
    #[error("the note has more than {max} signature lines")]
    TooManySignatures {
        /// The limit.
        max: usize,
    },
    /// A key name that is empty or contains a Unicode space or a `+`.
    #[error("invalid key name {name:?}: it must be non-empty, without spaces or '+'")]
    BadKeyName {
        /// The name (shortened).
        name: String,
    },
    /// A verifier key string that is not `<name>+<8 hex digits>+<base64>`.
    #[error("malformed verifier key: {reason}")]
    BadVerifierKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// A verifier key of a signature type other than Ed25519 (`0x01`).
    #[error("unsupported verifier key type 0x{found:02x}: only Ed25519 (0x01) is supported")]
    UnsupportedKeyType {
        /// The type byte found.
        found: u8,
    },
    /// A verifier key whose key id is not the one its name and key give.
    #[error(
        "verifier key {name:?} has key id {found:08x}, but its name and key give {expected:08x}"
    )]
    KeyIdMismatch {
        /// The key name (shortened).
        name: String,
        /// The key id computed from the name and key.
        expected: u32,
        /// The key id written in the verifier key.
        found: u32,
    },
    /// The Ed25519 key in a verifier key is not a valid public key (SPEC §1).
    #[error("invalid public key in a verifier key")]
    BadPublicKey {
        /// Why the key was refused.
        #[source]
        source: FormatError,
    },
    /// Two known keys share a name and key id but differ, so a signature cannot be attributed.
    #[error("ambiguous known keys: more than one key is named {name:?} with key id {key_id:08x}")]
    AmbiguousKey {
        /// The shared key name.
        name: String,
        /// The shared key id.
        key_id: u32,
    },
    /// No signature line of the note is from a known key.
    #[error("the note has no signature from a known key")]
    NoKnownSignature,
    /// A signature line from a known key does not verify; the whole note is rejected.
    #[error("the signature by {name:?} (key id {key_id:08x}) does not verify")]
    BadSignature {
        /// The key name of the signature line.
        name: String,
        /// The key id of the signature line.
        key_id: u32,
    },
    /// A signature line that is not from the expected key.
    #[error("the signature line is by {name:?} with key id {key_id:08x}, not by the expected key")]
    KeyMismatch {
        /// The key name of the signature line (shortened).
        name: String,
        /// The key id of the signature line.
        key_id: u32,
    },
    /// A checkpoint whose origin is not the name of the log key that must sign it.
    #[error("checkpoint origin is {found:?}, expected {expected:?}")]
    OriginMismatch {
        /// The origin the verifier key names.
        expected: String,
        /// The origin of the checkpoint (shortened).
        found: String,
    },
    /// A checkpoint body with extension lines, which Hisaab neither writes nor accepts (SPEC §3).
    #[error("the checkpoint has extension lines, which Hisaab checkpoints never carry")]
    ExtensionLines,
    /// A checkpoint tree size that is not a decimal `u64` without leading zeros.
    #[error(
        "invalid checkpoint tree size {found:?}: expected decimal digits without leading zeros"
    )]
    BadSize {
        /// The size line (shortened).
        found: String,
    },
    /// A checkpoint root hash line that is not canonical base64 of 32 bytes.
    #[error("invalid checkpoint root hash {found:?}: expected canonical base64 of 32 bytes")]
    BadRootHash {
        /// The root hash line (shortened).
        found: String,
    },
    /// A cosignature timestamp above 2^63 - 1 (C2SP tlog-cosignature).
    #[error("cosignature timestamp {found} exceeds 2^63 - 1")]
    BadTimestamp {
        /// The timestamp found.
        found: u64,
    },
}

/// An Ed25519 verifier key of a C2SP signed note: a key name, its key id and a public key.
///
/// Constructed only through [`VerifierKey::new`] or [`VerifierKey::try_parse`], so the key id
/// always matches the name and key, and the key is a valid Ed25519 key (SPEC §1).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    key: PublicKey,
}

impl VerifierKey {
    /// The verifier key of `key` under the key name `name`.
    ///
    /// # Errors
    /// [`NoteError::BadKeyName`] when `name` is not a valid C2SP key name.
    pub fn new(name: &str, key: PublicKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id: key_id(name, &key),
            key,
        })
    }

    /// Parses a verifier key string `<name>+<8 lowercase hex key id>+<base64(0x01 || key)>`.
    ///
    /// The base64 must be canonical, the key id must be the one [`key_id`] gives, and the key must
    /// be a valid Ed25519 public key (SPEC §1).
    ///
    /// # Errors
    /// - [`NoteError::BadVerifierKey`] when the string does not have that form;
    /// - [`NoteError::BadKeyName`] for an invalid name;
    /// - [`NoteError::KeyIdMismatch`] when the key id does not match;
    /// - [`NoteError::UnsupportedKeyType`] for a type byte other than `0x01`;
    /// - [`NoteError::BadPublicKey`] for an invalid Ed25519 key.
    pub fn try_parse(vkey: &str) -> Result<Self, NoteError> {
        let bad = |reason| NoteError::BadVerifierKey { reason };
        let (name, rest) = vkey
            .split_once('+')
            .ok_or(bad("expected <name>+<key id>+<key>"))?;
        // The base64 key may itself contain '+', so only the first two separate fields.
        let (id_hex, key_base64) = rest
            .split_once('+')
            .ok_or(bad("expected <name>+<key id>+<key>"))?;
        check_key_name(name)?;
        let found =
            parse_key_id_hex(id_hex).ok_or(bad("the key id must be 8 lowercase hex digits"))?;
        let encoded = decode_base64_canonical("a verifier key", key_base64)
            .map_err(|_| bad("the key must be canonical standard base64 with padding"))?;
        let Some((&key_type, key_bytes)) = encoded.split_first() else {
            return Err(bad("the key is empty"));
        };
        // signed-note: key id = SHA-256(name || 0x0A || type || key)[:4], checked before the type
        // so that a mistyped id is reported as such whatever the key type.
        let expected = key_id_with_type(name, key_type, key_bytes);
        if expected != found {
            return Err(NoteError::KeyIdMismatch {
                name: truncate_for_error(name),
                expected,
                found,
            });
        }
        if key_type != SIGNATURE_TYPE_ED25519 {
            return Err(NoteError::UnsupportedKeyType { found: key_type });
        }
        let array: &[u8; 32] = key_bytes
            .try_into()
            .map_err(|_| bad("an Ed25519 key is 32 bytes"))?;
        let key = PublicKey::try_from_bytes(array)
            .map_err(|source| NoteError::BadPublicKey { source })?;
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id: found,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id: the first four bytes of SHA-256(name || 0x0A || 0x01 || key), big-endian.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    /// The verifier key string `<name>+<8 hex key id>+<base64(0x01 || key)>`.
    pub fn to_vkey(&self) -> String {
        let mut encoded = Vec::with_capacity(33);
        encoded.push(SIGNATURE_TYPE_ED25519);
        encoded.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            encode_base64(&encoded)
        )
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({})", self.to_vkey())
    }
}

impl std::str::FromStr for VerifierKey {
    type Err = NoteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VerifierKey::try_parse(s)
    }
}

/// The C2SP key id of an Ed25519 note key: `SHA-256(name || 0x0A || 0x01 || key)[:4]`, big-endian.
pub fn key_id(name: &str, key: &PublicKey) -> u32 {
    key_id_with_type(name, SIGNATURE_TYPE_ED25519, key.as_bytes())
}

/// The C2SP key id of an Ed25519 `cosignature/v1` key: `SHA-256(name || 0x0A || 0x04 || key)[:4]`.
pub fn cosignature_key_id(name: &str, key: &PublicKey) -> u32 {
    key_id_with_type(name, SIGNATURE_TYPE_COSIGNATURE_V1, key.as_bytes())
}

/// The C2SP key id for any signature type: `SHA-256(name || 0x0A || type || key)[:4]`, big-endian.
pub fn key_id_with_type(name: &str, signature_type: u8, key: &[u8]) -> u32 {
    let hash = Hash::sha256_parts(&[name.as_bytes(), b"\n", &[signature_type], key]);
    let [a, b, c, d, ..] = *hash.as_bytes();
    u32::from_be_bytes([a, b, c, d])
}

/// Whether `name` is a valid C2SP key name: non-empty, without Unicode spaces or `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(char::is_whitespace) && !name.contains('+')
}

/// A key that signs notes under a key name (signature type Ed25519, `0x01`).
#[derive(Clone, Copy)]
pub struct NoteSigner<'a> {
    /// The key name written in the signature line.
    pub name: &'a str,
    /// The signing key.
    pub key: &'a SigningKey,
}

impl<'a> NoteSigner<'a> {
    /// A signer of `key` under the key name `name` (checked when signing).
    pub const fn new(name: &'a str, key: &'a SigningKey) -> Self {
        NoteSigner { name, key }
    }

    /// The verifier key that checks this signer's signatures.
    ///
    /// # Errors
    /// [`NoteError::BadKeyName`] when the name is not a valid C2SP key name.
    pub fn verifier_key(&self) -> Result<VerifierKey, NoteError> {
        VerifierKey::new(self.name, PublicKey::from_signing_key(self.key))
    }
}

impl fmt::Debug for NoteSigner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret key.
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("public_key", &PublicKey::from_signing_key(self.key))
            .finish()
    }
}

/// Signs `text` with every signer, in order, and returns the signed note.
///
/// `text` must end in a newline and contain no ASCII control character other than newline; it
/// may contain blank lines (signed-note: the last blank line separates the signatures).
///
/// ```
/// use hisaab_log::note::{open_note, sign_note, NoteSigner};
/// use hisaab_log::SigningKey;
///
/// let key = SigningKey::from_bytes(&[7; 32]);
/// let signer = NoteSigner::new("example.com/log", &key);
/// let note = sign_note("hello\n", &[signer])?;
/// let opened = open_note(&note, &[signer.verifier_key()?])?;
/// assert_eq!(opened.text, "hello\n");
/// assert_eq!(opened.verified, ["example.com/log"]);
/// # Ok::<(), hisaab_log::note::NoteError>(())
/// ```
///
/// # Errors
/// - [`NoteError::Malformed`] when the text does not end in a newline, contains a control
///   character, or there are no signers;
/// - [`NoteError::BadKeyName`] for a signer with an invalid key name;
/// - [`NoteError::TooManySignatures`] or [`NoteError::TooLarge`] when the note would exceed
///   [`SIGNATURES_MAX`] or [`NOTE_BYTES_MAX`], so that every note signed here can be opened.
pub fn sign_note(text: &str, signers: &[NoteSigner<'_>]) -> Result<String, NoteError> {
    check_note_text(text)?;
    if signers.is_empty() {
        return Err(NoteError::Malformed {
            reason: "a signed note needs at least one signature",
        });
    }
    if signers.len() > SIGNATURES_MAX {
        return Err(NoteError::TooManySignatures {
            max: SIGNATURES_MAX,
        });
    }
    let mut note = String::with_capacity(text.len() + 1 + signers.len() * 128);
    note.push_str(text);
    note.push('\n');
    for signer in signers {
        check_key_name(signer.name)?;
        let public = PublicKey::from_signing_key(signer.key);
        let signature = Signature::sign(signer.key, text.as_bytes());
        let mut payload = Vec::with_capacity(4 + 64);
        payload.extend_from_slice(&key_id(signer.name, &public).to_be_bytes());
        payload.extend_from_slice(signature.as_bytes());
        push_signature_line(&mut note, signer.name, &payload);
    }
    check_note_size(note.len())?;
    Ok(note)
}

/// A note whose signatures were checked by [`open_note`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedNote {
    /// The note text, including its final newline, without the blank line and signatures.
    pub text: String,
    /// The key names of the known keys whose signatures verified, in signature order, one per
    /// distinct known key.
    pub verified: Vec<String>,
    /// The signature lines from keys not among the known ones, each ending in `\n`, in order,
    /// without repeats. They are unverified; [`add_signature_lines`] accepts them back.
    pub other_signatures: Vec<String>,
}

/// Parses a signed note and verifies its signatures from the `known` keys, strictly.
///
/// Per C2SP signed-note: a signature line whose key name and key id do not both match a known
/// key is ignored (and returned in [`OpenedNote::other_signatures`]); every signature line from a
/// known key must verify, or the whole note is rejected; at least one must be present.
///
/// # Errors
/// - [`NoteError::Malformed`], [`NoteError::BadKeyName`], [`NoteError::TooLarge`] or
///   [`NoteError::TooManySignatures`] when the note is not a well-formed signed note;
/// - [`NoteError::AmbiguousKey`] when two different known keys share a name and key id;
/// - [`NoteError::BadSignature`] when a signature from a known key does not verify;
/// - [`NoteError::NoKnownSignature`] when no signature is from a known key.
pub fn open_note(message: &str, known: &[VerifierKey]) -> Result<OpenedNote, NoteError> {
    let note = split_note(message)?;
    let mut verified = Vec::new();
    let mut verified_keys: HashSet<(&str, u32)> = HashSet::new();
    let mut checked_lines: HashSet<&str> = HashSet::new();
    let mut other_signatures = Vec::new();
    let mut other_lines: HashSet<&str> = HashSet::new();
    for line in &note.signatures {
        let Some(key) = find_known_key(known, line.name, line.key_id)? else {
            if other_lines.insert(line.raw) {
                other_signatures.push(format!("{}\n", line.raw));
            }
            continue;
        };
        // An identical line verifies identically: check it once.
        if !checked_lines.insert(line.raw) {
            continue;
        }
        let bad = || NoteError::BadSignature {
            name: truncate_for_error(line.name),
            key_id: line.key_id,
        };
        let signature: [u8; 64] = line.signature.as_slice().try_into().map_err(|_| bad())?;
        key.key
            .verify_strict(note.text.as_bytes(), &Signature::from_bytes(signature))
            .map_err(|_| bad())?;
        if verified_keys.insert((line.name, line.key_id)) {
            verified.push(line.name.to_owned());
        }
    }
    if verified.is_empty() {
        return Err(NoteError::NoKnownSignature);
    }
    Ok(OpenedNote {
        text: note.text.to_owned(),
        verified,
        other_signatures,
    })
}

/// [`open_note`] for raw bytes, which must be UTF-8 (C2SP signed-note).
///
/// # Errors
/// [`NoteError::Malformed`] when `message` is not UTF-8, and the errors of [`open_note`].
pub fn open_note_bytes(message: &[u8], known: &[VerifierKey]) -> Result<OpenedNote, NoteError> {
    check_note_size(message.len())?;
    let text = std::str::from_utf8(message).map_err(|_| NoteError::Malformed {
        reason: "a note must be valid UTF-8",
    })?;
    open_note(text, known)
}

/// Appends signature lines (such as cosignatures from [`cosign_checkpoint`]) to a signed note.
///
/// Each line must be one well-formed signature line ending in `\n`. Lines already present in
/// the note, or repeated in `lines`, are added once. Nothing is verified here.
///
/// # Errors
/// - [`NoteError::Malformed`] or [`NoteError::BadKeyName`] when the note or a line is not
///   well-formed;
/// - [`NoteError::TooManySignatures`] or [`NoteError::TooLarge`] when the result would exceed
///   [`SIGNATURES_MAX`] or [`NOTE_BYTES_MAX`].
pub fn add_signature_lines(note: &str, lines: &[String]) -> Result<String, NoteError> {
    let parsed = split_note(note)?;
    let mut present: HashSet<&str> = parsed.signatures.iter().map(|line| line.raw).collect();
    let mut count = parsed.signatures.len();
    let mut result = note.to_owned();
    for line in lines {
        let raw = line.strip_suffix('\n').ok_or(NoteError::Malformed {
            reason: "a signature line must end in a newline",
        })?;
        parse_signature_line(raw)?;
        if !present.insert(raw) {
            continue;
        }
        count = count.saturating_add(1);
        if count > SIGNATURES_MAX {
            return Err(NoteError::TooManySignatures {
                max: SIGNATURES_MAX,
            });
        }
        result.push_str(line);
    }
    check_note_size(result.len())?;
    Ok(result)
}

/// The body of a C2SP `tlog-checkpoint` as Hisaab writes it: origin, tree size and root hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// The log's origin: the genesis `body.origin`, also the key name of the log key.
    pub origin: String,
    /// The number of leaves in the tree.
    pub size: u64,
    /// The RFC 9162 root hash of the tree at `size`.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text: `<origin>\n<size>\n<base64 root>\n`, with no extension lines.
    ///
    /// The origin is not checked here; [`Checkpoint::sign`] refuses an invalid one.
    pub fn to_body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            encode_base64(self.root.as_bytes())
        )
    }

    /// Parses a checkpoint body under Hisaab's rules: C2SP tlog-checkpoint, with an origin that
    /// is a valid key name and no extension lines (SPEC §3).
    ///
    /// # Errors
    /// - [`NoteError::Malformed`] when the text is not three newline-terminated lines;
    /// - [`NoteError::BadKeyName`] when the origin is not a valid key name;
    /// - [`NoteError::BadSize`] for a size with leading zeros, a sign, or out of `u64` range;
    /// - [`NoteError::BadRootHash`] for a root that is not canonical base64 of 32 bytes;
    /// - [`NoteError::ExtensionLines`] when lines follow the root hash.
    pub fn try_parse_body(text: &str) -> Result<Self, NoteError> {
        let (checkpoint, extensions) = Self::try_parse_body_with_extensions(text)?;
        if !extensions.is_empty() {
            return Err(NoteError::ExtensionLines);
        }
        check_key_name(&checkpoint.origin)?;
        Ok(checkpoint)
    }

    /// Parses a checkpoint body under the generic C2SP tlog-checkpoint rules, which allow
    /// non-empty extension lines after the root hash, and returns them (without newlines).
    ///
    /// This is for reading other logs' checkpoints; Hisaab's own are parsed with
    /// [`Checkpoint::try_parse_body`].
    ///
    /// # Errors
    /// - [`NoteError::Malformed`] when the text does not end in a newline, contains a control
    ///   character, has fewer than three lines, an empty origin or an empty extension line;
    /// - [`NoteError::BadSize`] and [`NoteError::BadRootHash`] as for
    ///   [`Checkpoint::try_parse_body`].
    pub fn try_parse_body_with_extensions(text: &str) -> Result<(Self, Vec<String>), NoteError> {
        check_note_text(text)?;
        let body = text.strip_suffix('\n').ok_or(NoteError::Malformed {
            reason: "a checkpoint must end in a newline",
        })?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(NoteError::Malformed {
                reason: "a checkpoint needs an origin, a tree size and a root hash line",
            });
        };
        if origin.is_empty() {
            return Err(NoteError::Malformed {
                reason: "the checkpoint origin line is empty",
            });
        }
        let size = parse_tree_size(size)?;
        let root = parse_root_hash(root)?;
        let mut extensions = Vec::new();
        for line in lines {
            // tlog-checkpoint: extension lines, if any, MUST be non-empty.
            if line.is_empty() {
                return Err(NoteError::Malformed {
                    reason: "a checkpoint extension line is empty",
                });
            }
            extensions.push(line.to_owned());
        }
        let checkpoint = Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        };
        Ok((checkpoint, extensions))
    }

    /// Signs the checkpoint with the log key under the key name `origin` (SPEC §3).
    ///
    /// ```
    /// use hisaab_log::note::{verify_checkpoint, Checkpoint, VerifierKey};
    /// use hisaab_log::{Hash, PublicKey, SigningKey};
    ///
    /// let log_key = SigningKey::from_bytes(&[1; 32]);
    /// let checkpoint = Checkpoint {
    ///     origin: "example.com/ledger".to_owned(),
    ///     size: 3,
    ///     root: Hash::sha256(b"root"),
    /// };
    /// let note = checkpoint.sign(&log_key)?;
    /// let vkey = VerifierKey::new("example.com/ledger", PublicKey::from_signing_key(&log_key))?;
    /// assert_eq!(verify_checkpoint(&note, &vkey)?, checkpoint);
    /// # Ok::<(), hisaab_log::note::NoteError>(())
    /// ```
    ///
    /// # Errors
    /// [`NoteError::BadKeyName`] when the origin is not a valid C2SP key name.
    pub fn sign(&self, log_key: &SigningKey) -> Result<String, NoteError> {
        check_key_name(&self.origin)?;
        sign_note(&self.to_body(), &[NoteSigner::new(&self.origin, log_key)])
    }
}

/// Verifies a signed checkpoint against the log's verifier key and returns its body.
///
/// The note must carry a valid signature by `log_vkey` (other signatures, such as witnesses'
/// cosignatures, are ignored), its body must follow [`Checkpoint::try_parse_body`], and its
/// origin must be the key name of `log_vkey` (SPEC §3).
///
/// # Errors
/// The errors of [`open_note`] and [`Checkpoint::try_parse_body`], and
/// [`NoteError::OriginMismatch`] when the origin is not the verifier key's name.
pub fn verify_checkpoint(note: &str, log_vkey: &VerifierKey) -> Result<Checkpoint, NoteError> {
    let opened = open_note(note, std::slice::from_ref(log_vkey))?;
    let checkpoint = Checkpoint::try_parse_body(&opened.text)?;
    if checkpoint.origin != log_vkey.name() {
        return Err(NoteError::OriginMismatch {
            expected: log_vkey.name().to_owned(),
            found: truncate_for_error(&checkpoint.origin),
        });
    }
    Ok(checkpoint)
}

/// Cosigns a checkpoint per C2SP tlog-cosignature (`cosignature/v1`, Ed25519) and returns the
/// signature line, `— <witness_name> <base64(key id || timestamp || signature)>\n`.
///
/// The signed message is `cosignature/v1\ntime <timestamp_s>\n` followed by the checkpoint body;
/// the key id uses signature type `0x04`. The caller must first have checked the checkpoint's
/// consistency with the last one it cosigned (SPEC §3).
///
/// # Errors
/// - [`NoteError::BadKeyName`] when `witness_name` or the checkpoint's origin is not a valid
///   C2SP key name;
/// - [`NoteError::BadTimestamp`] when `timestamp_s` exceeds 2^63 - 1.
pub fn cosign_checkpoint(
    checkpoint: &Checkpoint,
    witness_name: &str,
    key: &SigningKey,
    timestamp_s: u64,
) -> Result<String, NoteError> {
    check_key_name(witness_name)?;
    check_key_name(&checkpoint.origin)?;
    check_timestamp(timestamp_s)?;
    let message = cosignature_message(checkpoint, timestamp_s);
    let signature = Signature::sign(key, message.as_bytes());
    let public = PublicKey::from_signing_key(key);
    let mut payload = Vec::with_capacity(4 + 8 + 64);
    payload.extend_from_slice(&cosignature_key_id(witness_name, &public).to_be_bytes());
    payload.extend_from_slice(&timestamp_s.to_be_bytes());
    payload.extend_from_slice(signature.as_bytes());
    let mut line = String::new();
    push_signature_line(&mut line, witness_name, &payload);
    Ok(line)
}

/// Verifies one `cosignature/v1` signature line over `checkpoint` by the witness `witness_name`
/// with `key`, strictly, and returns its timestamp in seconds.
///
/// `line` is one signature line, with or without its final newline.
///
/// # Errors
/// - [`NoteError::Malformed`] or [`NoteError::BadKeyName`] when the line is not a well-formed
///   cosignature line;
/// - [`NoteError::KeyMismatch`] when the line's name or key id is not the witness's;
/// - [`NoteError::BadTimestamp`] when the timestamp exceeds 2^63 - 1;
/// - [`NoteError::BadSignature`] when the signature does not verify.
pub fn verify_cosignature(
    checkpoint: &Checkpoint,
    line: &str,
    witness_name: &str,
    key: &PublicKey,
) -> Result<u64, NoteError> {
    let raw = line.strip_suffix('\n').unwrap_or(line);
    let parsed = parse_signature_line(raw)?;
    let expected_id = cosignature_key_id(witness_name, key);
    if parsed.name != witness_name || parsed.key_id != expected_id {
        return Err(NoteError::KeyMismatch {
            name: truncate_for_error(parsed.name),
            key_id: parsed.key_id,
        });
    }
    // tlog-cosignature: timestamped_signature = u64 timestamp (big-endian) || 64-byte signature.
    let (timestamp, signature) =
        parsed
            .signature
            .split_first_chunk::<8>()
            .ok_or(NoteError::Malformed {
                reason: "a cosignature is a key id, an 8-byte timestamp and a 64-byte signature",
            })?;
    let signature: [u8; 64] = signature.try_into().map_err(|_| NoteError::Malformed {
        reason: "a cosignature is a key id, an 8-byte timestamp and a 64-byte signature",
    })?;
    let timestamp_s = u64::from_be_bytes(*timestamp);
    check_timestamp(timestamp_s)?;
    let message = cosignature_message(checkpoint, timestamp_s);
    key.verify_strict(message.as_bytes(), &Signature::from_bytes(signature))
        .map_err(|_| NoteError::BadSignature {
            name: witness_name.to_owned(),
            key_id: expected_id,
        })?;
    Ok(timestamp_s)
}

/// Checks the form of a signed note (C2SP signed-note §Format) and splits it, as Go's
/// `note.Open` does: at the last blank line.
fn split_note(message: &str) -> Result<SplitNote<'_>, NoteError> {
    check_note_size(message.len())?;
    check_no_control_characters(message)?;
    // The text is everything up to and including the newline before the last blank line.
    let split = message.rfind("\n\n").ok_or(NoteError::Malformed {
        reason: "no blank line before the signatures",
    })?;
    let (text, rest) = message.split_at(split.saturating_add(1));
    let signatures = rest.strip_prefix('\n').ok_or(NoteError::Malformed {
        reason: "no blank line before the signatures",
    })?;
    let signatures = signatures.strip_suffix('\n').ok_or(NoteError::Malformed {
        reason: "the signature block must be non-empty and end in a newline",
    })?;
    let mut lines = Vec::new();
    for raw in signatures.split('\n') {
        if lines.len() >= SIGNATURES_MAX {
            return Err(NoteError::TooManySignatures {
                max: SIGNATURES_MAX,
            });
        }
        lines.push(parse_signature_line(raw)?);
    }
    Ok(SplitNote {
        text,
        signatures: lines,
    })
}

/// A signed note split into its text and parsed signature lines, not yet verified.
struct SplitNote<'a> {
    text: &'a str,
    signatures: Vec<ParsedLine<'a>>,
}

/// One parsed signature line, owning its decoded payload.
struct ParsedLine<'a> {
    /// The line without its final newline.
    raw: &'a str,
    /// The key name.
    name: &'a str,
    /// The key id: the first four payload bytes, big-endian.
    key_id: u32,
    /// The payload after the key id.
    signature: Vec<u8>,
}

/// Parses `— <name> <base64(key id || signature)>` (without the newline).
fn parse_signature_line(raw: &str) -> Result<ParsedLine<'_>, NoteError> {
    let malformed = |reason| NoteError::Malformed { reason };
    if raw.contains('\n') {
        return Err(malformed("a signature line spans more than one line"));
    }
    let rest = raw.strip_prefix(SIGNATURE_LINE_PREFIX).ok_or(malformed(
        "a signature line must start with an em dash and a space",
    ))?;
    let (name, payload_base64) = rest.split_once(' ').ok_or(malformed(
        "a signature line needs a key name and a signature",
    ))?;
    check_key_name(name)?;
    let payload = decode_base64_canonical("a note signature", payload_base64)
        .map_err(|_| malformed("a signature must be canonical standard base64 with padding"))?;
    // signed-note: a signature is 4 bytes of key id followed by at least one byte.
    let Some((id, signature)) = payload.split_first_chunk::<4>() else {
        return Err(malformed(
            "a signature must hold a key id and signature bytes",
        ));
    };
    if signature.is_empty() {
        return Err(malformed(
            "a signature must hold a key id and signature bytes",
        ));
    }
    Ok(ParsedLine {
        raw,
        name,
        key_id: u32::from_be_bytes(*id),
        signature: signature.to_vec(),
    })
}

/// The known key with this name and key id, if any.
fn find_known_key<'k>(
    known: &'k [VerifierKey],
    name: &str,
    key_id: u32,
) -> Result<Option<&'k VerifierKey>, NoteError> {
    let mut found: Option<&VerifierKey> = None;
    for key in known
        .iter()
        .filter(|key| key.name == name && key.key_id == key_id)
    {
        match found {
            Some(previous) if previous.key != key.key => {
                return Err(NoteError::AmbiguousKey {
                    name: truncate_for_error(name),
                    key_id,
                });
            }
            _ => found = Some(key),
        }
    }
    Ok(found)
}

/// Appends `— <name> <base64(payload)>\n`.
fn push_signature_line(out: &mut String, name: &str, payload: &[u8]) {
    out.push_str(SIGNATURE_LINE_PREFIX);
    out.push_str(name);
    out.push(' ');
    out.push_str(&encode_base64(payload));
    out.push('\n');
}

/// The message a `cosignature/v1` signs (C2SP tlog-cosignature §Ed25519 signed message).
fn cosignature_message(checkpoint: &Checkpoint, timestamp_s: u64) -> String {
    format!(
        "{COSIGNATURE_HEADER}time {timestamp_s}\n{}",
        checkpoint.to_body()
    )
}

/// Checks a note text: ends in a newline, no control characters, not too large.
fn check_note_text(text: &str) -> Result<(), NoteError> {
    check_note_size(text.len())?;
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed {
            reason: "the note text must end in a newline",
        });
    }
    check_no_control_characters(text)
}

/// signed-note: notes MUST NOT contain ASCII control characters other than newline.
fn check_no_control_characters(text: &str) -> Result<(), NoteError> {
    if text.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(NoteError::Malformed {
            reason: "a note must not contain control characters other than newline",
        });
    }
    Ok(())
}

fn check_note_size(found: usize) -> Result<(), NoteError> {
    if found > NOTE_BYTES_MAX {
        return Err(NoteError::TooLarge {
            found,
            max: NOTE_BYTES_MAX,
        });
    }
    Ok(())
}

fn check_key_name(name: &str) -> Result<(), NoteError> {
    if is_valid_key_name(name) {
        Ok(())
    } else {
        Err(NoteError::BadKeyName {
            name: truncate_for_error(name),
        })
    }
}

fn check_timestamp(timestamp_s: u64) -> Result<(), NoteError> {
    if timestamp_s > COSIGNATURE_TIMESTAMP_MAX {
        return Err(NoteError::BadTimestamp { found: timestamp_s });
    }
    Ok(())
}

/// Exactly 8 lowercase hex digits, as [`VerifierKey::to_vkey`] writes them.
fn parse_key_id_hex(text: &str) -> Option<u32> {
    if text.len() != 8 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// tlog-checkpoint: ASCII decimal without leading zeros (`0` for the empty tree).
fn parse_tree_size(line: &str) -> Result<u64, NoteError> {
    let bad = || NoteError::BadSize {
        found: truncate_for_error(line),
    };
    let digits_only = !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (line.len() > 1 && line.starts_with('0')) {
        return Err(bad());
    }
    line.parse::<u64>().map_err(|_| bad())
}

/// tlog-checkpoint: the root hash in standard base64; Hisaab requires it canonical and 32 bytes.
fn parse_root_hash(line: &str) -> Result<Hash, NoteError> {
    let bad = || NoteError::BadRootHash {
        found: truncate_for_error(line),
    };
    let bytes = decode_base64_canonical("a root hash", line).map_err(|_| bad())?;
    Hash::try_from_slice(&bytes).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The C2SP signed-note v1.0.0 example key and note.
    const EXAMPLE_VKEY: &str =
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    const EXAMPLE_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo \
        Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    fn signing_key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn vkey(name: &str, seed: u8) -> VerifierKey {
        VerifierKey::new(name, PublicKey::from_signing_key(&signing_key(seed))).unwrap()
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "example.com/hisaab".to_owned(),
            size: 13,
            root: Hash::sha256(b"root"),
        }
    }

    #[test]
    fn example_key_has_the_published_key_id_and_round_trips() {
        let key = VerifierKey::try_parse(EXAMPLE_VKEY).unwrap();
        assert_eq!(key.name(), "example.com/foo");
        assert_eq!(key.key_id(), 0x530d_903a);
        assert_eq!(key_id("example.com/foo", key.public_key()), 0x530d_903a);
        assert_eq!(key.to_vkey(), EXAMPLE_VKEY);
        assert_eq!(key.to_string(), EXAMPLE_VKEY);
        assert_eq!(EXAMPLE_VKEY.parse::<VerifierKey>().unwrap(), key);
        // The reference crate agrees on the key id.
        let mut encoded = vec![SIGNATURE_TYPE_ED25519];
        encoded.extend_from_slice(key.public_key().as_bytes());
        assert_eq!(
            signed_note::key_id("example.com/foo", &encoded),
            key.key_id()
        );
    }

    #[test]
    fn opens_the_c2sp_example_note() {
        let key = VerifierKey::try_parse(EXAMPLE_VKEY).unwrap();
        let opened = open_note(EXAMPLE_NOTE, &[key]).unwrap();
        assert_eq!(opened.text, "This is an example message.\n");
        assert_eq!(opened.verified, ["example.com/foo"]);
        assert!(opened.other_signatures.is_empty());
    }

    #[test]
    fn refuses_malformed_verifier_keys() {
        let cases = [
            "",
            "example.com/foo",
            "example.com/foo+530d903a",
            "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",
            "example.com/foo+530d903a+",
            "exa mple+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        ];
        for case in cases {
            assert!(VerifierKey::try_parse(case).is_err(), "{case:?}");
        }
        assert!(matches!(
            VerifierKey::try_parse(
                "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
            ),
            Err(NoteError::KeyIdMismatch {
                found: 0x530d_903b,
                expected: 0x530d_903a,
                ..
            })
        ));
        assert!(VerifierKey::new("", PublicKey::from_signing_key(&signing_key(1))).is_err());
    }

    #[test]
    fn refuses_other_key_types_and_invalid_ed25519_keys() {
        // A well-formed vkey of type 0x04 (a cosignature key) is not a note key.
        let public = PublicKey::from_signing_key(&signing_key(3));
        let mut encoded = vec![SIGNATURE_TYPE_COSIGNATURE_V1];
        encoded.extend_from_slice(public.as_bytes());
        let id = key_id_with_type("w", SIGNATURE_TYPE_COSIGNATURE_V1, public.as_bytes());
        let vkey = format!("w+{id:08x}+{}", encode_base64(&encoded));
        assert_eq!(
            VerifierKey::try_parse(&vkey),
            Err(NoteError::UnsupportedKeyType { found: 0x04 })
        );
        // The identity point has small order (SPEC §1).
        let mut identity = vec![SIGNATURE_TYPE_ED25519, 1];
        identity.extend_from_slice(&[0; 31]);
        let id = key_id_with_type("w", SIGNATURE_TYPE_ED25519, &identity[1..]);
        let vkey = format!("w+{id:08x}+{}", encode_base64(&identity));
        assert!(matches!(
            VerifierKey::try_parse(&vkey),
            Err(NoteError::BadPublicKey { .. })
        ));
    }

    #[test]
    fn key_names_follow_c2sp() {
        assert!(is_valid_key_name("example.com/log42"));
        assert!(is_valid_key_name("é"));
        for bad in ["", "a b", "a+b", "a\tb", "a\u{a0}b", "a\u{2003}b", "a\nb"] {
            assert!(!is_valid_key_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn sign_then_open_round_trips_and_matches_the_reference_crate() {
        let key = signing_key(1);
        let signer = NoteSigner::new("example.com/a", &key);
        let text = "line one\n\nline three after a blank line\n";
        let note = sign_note(text, &[signer]).unwrap();
        let opened = open_note(&note, &[vkey("example.com/a", 1)]).unwrap();
        assert_eq!(opened.text, text);
        assert_eq!(opened.verified, ["example.com/a"]);
        // Cloudflare's signed_note parses and verifies what we sign.
        let parsed = signed_note::Note::from_bytes(note.as_bytes()).unwrap();
        let verifier =
            signed_note::StandardVerifier::new(&vkey("example.com/a", 1).to_vkey()).unwrap();
        let list = signed_note::VerifierList::new(vec![Box::new(verifier)]);
        let (verified, _) = parsed.verify(&list).unwrap();
        assert_eq!(verified.len(), 1);
        assert_eq!(parsed.text(), text.as_bytes());
    }

    #[test]
    fn several_signers_verify_in_signature_order() {
        let (k1, k2, k3) = (signing_key(1), signing_key(2), signing_key(3));
        let signers = [
            NoteSigner::new("b.example", &k2),
            NoteSigner::new("a.example", &k1),
            NoteSigner::new("c.example", &k3),
        ];
        let note = sign_note("hello\n", &signers).unwrap();
        let known = [
            vkey("a.example", 1),
            vkey("b.example", 2),
            vkey("c.example", 3),
        ];
        let opened = open_note(&note, &known).unwrap();
        assert_eq!(opened.verified, ["b.example", "a.example", "c.example"]);
        let opened = open_note(&note, &known[2..]).unwrap();
        assert_eq!(opened.verified, ["c.example"]);
        assert_eq!(opened.other_signatures.len(), 2);
        assert!(opened.other_signatures[0].starts_with("\u{2014} b.example "));
        assert!(opened.other_signatures.iter().all(|l| l.ends_with('\n')));
    }

    #[test]
    fn unknown_signatures_are_ignored_but_one_known_one_is_required() {
        let (k1, k2) = (signing_key(1), signing_key(2));
        let note = sign_note(
            "hello\n",
            &[
                NoteSigner::new("a.example", &k1),
                NoteSigner::new("b.example", &k2),
            ],
        )
        .unwrap();
        let opened = open_note(&note, &[vkey("b.example", 2)]).unwrap();
        assert_eq!(opened.verified, ["b.example"]);
        // Same name, other key: a different key id, so it is an unknown key.
        assert_eq!(
            open_note(&note, &[vkey("a.example", 9)]),
            Err(NoteError::NoKnownSignature)
        );
        assert_eq!(open_note(&note, &[]), Err(NoteError::NoKnownSignature));
    }

    #[test]
    fn a_bad_signature_from_a_known_key_rejects_the_note() {
        let (k1, k2) = (signing_key(1), signing_key(2));
        let good = sign_note("hello\n", &[NoteSigner::new("a.example", &k1)]).unwrap();
        // A line that claims a.example's key id but carries b's signature.
        let forged_payload = {
            let mut p = key_id("a.example", &PublicKey::from_signing_key(&k1))
                .to_be_bytes()
                .to_vec();
            p.extend_from_slice(Signature::sign(&k2, b"hello\n").as_bytes());
            p
        };
        let mut forged_line = String::new();
        push_signature_line(&mut forged_line, "a.example", &forged_payload);
        let note = add_signature_lines(&good, &[forged_line]).unwrap();
        assert!(matches!(
            open_note(&note, &[vkey("a.example", 1)]),
            Err(NoteError::BadSignature { .. })
        ));
    }

    #[test]
    fn ambiguous_known_keys_are_refused() {
        // Two keys with the same name and id cannot be built honestly; forge the id.
        let a = vkey("a.example", 1);
        let mut b = vkey("a.example", 2);
        b.key_id = a.key_id;
        let key = signing_key(1);
        let note = sign_note("x\n", &[NoteSigner::new("a.example", &key)]).unwrap();
        assert!(matches!(
            open_note(&note, &[a.clone(), b]),
            Err(NoteError::AmbiguousKey { .. })
        ));
        // The same key twice is not ambiguous.
        assert!(open_note(&note, &[a.clone(), a]).is_ok());
    }

    #[test]
    fn every_flipped_byte_of_a_signed_note_fails() {
        let key = signing_key(5);
        let note = sign_note(
            "some text\nmore text\n",
            &[NoteSigner::new("n.example", &key)],
        )
        .unwrap();
        let known = [vkey("n.example", 5)];
        assert!(open_note_bytes(note.as_bytes(), &known).is_ok());
        for index in 0..note.len() {
            for mask in [0x01u8, 0x80] {
                let mut bytes = note.clone().into_bytes();
                bytes[index] ^= mask;
                assert!(
                    open_note_bytes(&bytes, &known).is_err(),
                    "byte {index} ^ {mask:#x} still verifies"
                );
            }
        }
    }

    #[test]
    fn every_flipped_byte_of_a_signed_checkpoint_fails() {
        let key = signing_key(6);
        let cp = checkpoint();
        let note = cp.sign(&key).unwrap();
        let log = vkey(&cp.origin, 6);
        assert_eq!(verify_checkpoint(&note, &log).unwrap(), cp);
        for index in 0..note.len() {
            for mask in [0x01u8, 0x80] {
                let mut bytes = note.clone().into_bytes();
                bytes[index] ^= mask;
                if let Ok(text) = String::from_utf8(bytes) {
                    assert!(
                        verify_checkpoint(&text, &log).is_err(),
                        "byte {index} ^ {mask:#x} still verifies"
                    );
                }
            }
        }
    }

    #[test]
    fn malformed_notes_are_refused() {
        let key = signing_key(1);
        let known = [vkey("a.example", 1)];
        let note = sign_note("hello\n", &[NoteSigner::new("a.example", &key)]).unwrap();
        let sig_line = note.strip_prefix("hello\n\n").unwrap();
        let cases: Vec<String> = vec![
            "hello\n".to_owned(),
            "hello\n\n".to_owned(),
            note.trim_end_matches('\n').to_owned(),
            format!("\u{1}{note}"),
            format!("hello\r\n\n{sig_line}"),
            format!("{note}trailing line\n"),
            format!("{note}\n"),
            format!("hello\n\n-- a.example {}", &sig_line[14..]),
            format!("hello\n\n\u{2014} a.example  {}", &sig_line[16..]),
            note.replace('=', ""),
            "hello\n\n\u{2014} a.example AAAAAA==\n".to_owned(),
            "hello\n\n\u{2014} a.example \n".to_owned(),
            "hello\n\n\u{2014} a+b AAAAAAA=\n".to_owned(),
        ];
        for case in &cases {
            let result = open_note(case, &known);
            assert!(
                matches!(
                    result,
                    Err(NoteError::Malformed { .. } | NoteError::BadKeyName { .. })
                ),
                "{case:?}: {result:?}"
            );
        }
        assert!(matches!(
            open_note_bytes(b"\xffhello\n\n", &known),
            Err(NoteError::Malformed { .. })
        ));
    }

    #[test]
    fn limits_are_enforced_both_ways() {
        let key = signing_key(1);
        let signer = NoteSigner::new("a.example", &key);
        let too_many = vec![signer; SIGNATURES_MAX + 1];
        assert_eq!(
            sign_note("x\n", &too_many),
            Err(NoteError::TooManySignatures {
                max: SIGNATURES_MAX
            })
        );
        let note = sign_note("x\n", &vec![signer; SIGNATURES_MAX]).unwrap();
        assert!(open_note(&note, &[vkey("a.example", 1)]).is_ok());
        let line = note.lines().last().unwrap().to_owned();
        let over = format!("{note}{line}\n");
        assert_eq!(
            open_note(&over, &[vkey("a.example", 1)]),
            Err(NoteError::TooManySignatures {
                max: SIGNATURES_MAX
            })
        );
        let big = "a".repeat(NOTE_BYTES_MAX) + "\n";
        assert!(matches!(
            sign_note(&big, &[signer]),
            Err(NoteError::TooLarge { .. })
        ));
        assert!(matches!(
            open_note(&big, &[]),
            Err(NoteError::TooLarge { .. })
        ));
    }

    #[test]
    fn sign_refuses_bad_text_and_names() {
        let key = signing_key(1);
        let signer = NoteSigner::new("a.example", &key);
        assert!(matches!(
            sign_note("no newline", &[signer]),
            Err(NoteError::Malformed { .. })
        ));
        assert!(matches!(
            sign_note("", &[signer]),
            Err(NoteError::Malformed { .. })
        ));
        assert!(matches!(
            sign_note("tab\there\n", &[signer]),
            Err(NoteError::Malformed { .. })
        ));
        assert!(matches!(
            sign_note("x\n", &[]),
            Err(NoteError::Malformed { .. })
        ));
        assert!(matches!(
            sign_note("x\n", &[NoteSigner::new("bad name", &key)]),
            Err(NoteError::BadKeyName { .. })
        ));
        // Debug never shows the secret key.
        assert!(!format!("{signer:?}").contains(&encode_base64(key.as_bytes())));
    }

    #[test]
    fn checkpoint_body_round_trips() {
        let cp = checkpoint();
        let body = cp.to_body();
        assert_eq!(
            body,
            format!(
                "example.com/hisaab\n13\n{}\n",
                encode_base64(cp.root.as_bytes())
            )
        );
        assert_eq!(Checkpoint::try_parse_body(&body).unwrap(), cp);
        let empty = Checkpoint {
            size: 0,
            root: Hash::sha256(b""),
            ..cp
        };
        assert_eq!(
            empty.to_body(),
            "example.com/hisaab\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        );
        assert_eq!(Checkpoint::try_parse_body(&empty.to_body()).unwrap(), empty);
    }

    #[test]
    fn checkpoint_body_rejections() {
        let root = encode_base64(Hash::sha256(b"root").as_bytes());
        let o = "example.com/hisaab";
        let bad_size = |size: &str| format!("{o}\n{size}\n{root}\n");
        for size in [
            "013",
            "00",
            "-1",
            "+1",
            "",
            " 1",
            "1 ",
            "18446744073709551616",
            "1e3",
        ] {
            assert!(
                matches!(
                    Checkpoint::try_parse_body(&bad_size(size)),
                    Err(NoteError::BadSize { .. })
                ),
                "{size:?}"
            );
        }
        assert_eq!(
            Checkpoint::try_parse_body(&bad_size("18446744073709551615"))
                .unwrap()
                .size,
            u64::MAX
        );
        let short = encode_base64(&[7; 31]);
        let long = encode_base64(&[7; 33]);
        let unpadded = root.trim_end_matches('=').to_owned();
        let mut non_canonical = root.clone();
        non_canonical.replace_range(42..43, "V"); // 'U' -> 'V' sets a trailing bit.
        for bad_root in [
            short,
            long,
            unpadded,
            non_canonical,
            "not base64!".to_owned(),
        ] {
            assert!(
                matches!(
                    Checkpoint::try_parse_body(&format!("{o}\n13\n{bad_root}\n")),
                    Err(NoteError::BadRootHash { .. })
                ),
                "{bad_root:?}"
            );
        }
        assert!(matches!(
            Checkpoint::try_parse_body(&format!("{o}\n13\n{root}")),
            Err(NoteError::Malformed { .. })
        ));
        assert!(matches!(
            Checkpoint::try_parse_body(&format!("{o}\n13\n")),
            Err(NoteError::Malformed { .. })
        ));
        assert!(matches!(
            Checkpoint::try_parse_body(&format!("\n13\n{root}\n")),
            Err(NoteError::Malformed { .. })
        ));
        assert!(matches!(
            Checkpoint::try_parse_body(&format!("bad origin\n13\n{root}\n")),
            Err(NoteError::BadKeyName { .. })
        ));
        let with_extension = format!("{o}\n13\n{root}\nextension\n");
        assert_eq!(
            Checkpoint::try_parse_body(&with_extension),
            Err(NoteError::ExtensionLines)
        );
        let (cp, extensions) = Checkpoint::try_parse_body_with_extensions(&with_extension).unwrap();
        assert_eq!((cp.size, extensions), (13, vec!["extension".to_owned()]));
        assert!(
            Checkpoint::try_parse_body_with_extensions(&format!("{o}\n13\n{root}\n\nx\n")).is_err()
        );
    }

    #[test]
    fn verify_checkpoint_requires_the_origin_key() {
        let cp = checkpoint();
        let key = signing_key(6);
        let note = cp.sign(&key).unwrap();
        // Right key under another name: no known signature.
        assert_eq!(
            verify_checkpoint(&note, &vkey("other.example", 6)),
            Err(NoteError::NoKnownSignature)
        );
        // A note signed under the vkey's name whose origin differs.
        let other = Checkpoint {
            origin: "other.example".to_owned(),
            ..cp.clone()
        };
        let mislabeled = sign_note(&other.to_body(), &[NoteSigner::new(&cp.origin, &key)]).unwrap();
        assert!(matches!(
            verify_checkpoint(&mislabeled, &vkey(&cp.origin, 6)),
            Err(NoteError::OriginMismatch { .. })
        ));
        let bad_origin = Checkpoint {
            origin: "bad origin".to_owned(),
            ..cp
        };
        assert!(matches!(
            bad_origin.sign(&key),
            Err(NoteError::BadKeyName { .. })
        ));
    }

    #[test]
    fn cosignature_signs_verifies_and_appends() {
        let cp = checkpoint();
        let (log_key, witness_key) = (signing_key(6), signing_key(7));
        let witness = PublicKey::from_signing_key(&witness_key);
        let line = cosign_checkpoint(&cp, "operator-a", &witness_key, 1_679_315_147).unwrap();
        assert!(line.starts_with("\u{2014} operator-a "));
        assert!(line.ends_with('\n'));
        assert_eq!(
            verify_cosignature(&cp, &line, "operator-a", &witness),
            Ok(1_679_315_147)
        );
        assert_eq!(
            verify_cosignature(&cp, line.trim_end(), "operator-a", &witness),
            Ok(1_679_315_147)
        );
        // The payload is key id (type 0x04) || timestamp || signature, over the C2SP message.
        let payload =
            decode_base64_canonical("t", line.trim_end().rsplit(' ').next().unwrap()).unwrap();
        assert_eq!(payload.len(), 76);
        assert_eq!(
            payload[..4],
            cosignature_key_id("operator-a", &witness).to_be_bytes()
        );
        assert_eq!(payload[4..12], 1_679_315_147u64.to_be_bytes());
        let message = format!("cosignature/v1\ntime 1679315147\n{}", cp.to_body());
        let signature = Signature::from_bytes(payload[12..].try_into().unwrap());
        assert!(witness
            .verify_strict(message.as_bytes(), &signature)
            .is_ok());

        // Appended to the signed checkpoint, the log signature still verifies alone.
        let note = cp.sign(&log_key).unwrap();
        let cosigned = add_signature_lines(&note, &[line.clone(), line.clone()]).unwrap();
        assert_eq!(cosigned, format!("{note}{line}"));
        assert_eq!(
            add_signature_lines(&cosigned, std::slice::from_ref(&line)).unwrap(),
            cosigned
        );
        let log = vkey(&cp.origin, 6);
        assert_eq!(verify_checkpoint(&cosigned, &log).unwrap(), cp);
        let opened = open_note(&cosigned, &[log]).unwrap();
        assert_eq!(opened.other_signatures, [line]);
    }

    #[test]
    fn tampered_cosignatures_fail() {
        let cp = checkpoint();
        let witness_key = signing_key(7);
        let witness = PublicKey::from_signing_key(&witness_key);
        let line = cosign_checkpoint(&cp, "operator-a", &witness_key, 100).unwrap();
        let other_cp = Checkpoint {
            size: 14,
            ..cp.clone()
        };
        assert!(matches!(
            verify_cosignature(&other_cp, &line, "operator-a", &witness),
            Err(NoteError::BadSignature { .. })
        ));
        assert!(matches!(
            verify_cosignature(&cp, &line, "operator-b", &witness),
            Err(NoteError::KeyMismatch { .. })
        ));
        let other_key = PublicKey::from_signing_key(&signing_key(8));
        assert!(matches!(
            verify_cosignature(&cp, &line, "operator-a", &other_key),
            Err(NoteError::KeyMismatch { .. })
        ));
        // Any flipped byte of the line fails.
        for index in 0..line.len() - 1 {
            let mut bytes = line.clone().into_bytes();
            bytes[index] ^= 0x01;
            if let Ok(text) = String::from_utf8(bytes) {
                assert!(
                    verify_cosignature(&cp, &text, "operator-a", &witness).is_err(),
                    "byte {index}"
                );
            }
        }
        // A changed timestamp no longer verifies.
        let mut payload =
            decode_base64_canonical("t", line.trim_end().rsplit(' ').next().unwrap()).unwrap();
        payload[11] ^= 1;
        let mut altered = String::new();
        push_signature_line(&mut altered, "operator-a", &payload);
        assert!(matches!(
            verify_cosignature(&cp, &altered, "operator-a", &witness),
            Err(NoteError::BadSignature { .. })
        ));
        // Timestamps above 2^63 - 1 are refused both ways.
        assert_eq!(
            cosign_checkpoint(&cp, "operator-a", &witness_key, 1 << 63),
            Err(NoteError::BadTimestamp { found: 1 << 63 })
        );
        payload[4..12].copy_from_slice(&(1u64 << 63).to_be_bytes());
        let mut huge = String::new();
        push_signature_line(&mut huge, "operator-a", &payload);
        assert_eq!(
            verify_cosignature(&cp, &huge, "operator-a", &witness),
            Err(NoteError::BadTimestamp { found: 1 << 63 })
        );
        assert!(cosign_checkpoint(&cp, "bad name", &witness_key, 1).is_err());
    }

    #[test]
    fn add_signature_lines_refuses_malformed_lines() {
        let key = signing_key(1);
        let note = sign_note("x\n", &[NoteSigner::new("a.example", &key)]).unwrap();
        for bad in [
            "",
            "\u{2014} a.example AAAAAAA=",
            "junk\n",
            "\u{2014} a.example AAAAAAA=\nmore\n",
        ] {
            assert!(
                add_signature_lines(&note, &[bad.to_owned()]).is_err(),
                "{bad:?}"
            );
        }
        assert!(add_signature_lines("not a note", &[]).is_err());
    }

    proptest! {
        #[test]
        fn checkpoint_bodies_round_trip(
            origin in "[a-z0-9.]{1,20}(/[a-zA-Z0-9._~-]{1,20}){0,3}",
            size in any::<u64>(),
            root in any::<[u8; 32]>(),
        ) {
            let cp = Checkpoint { origin, size, root: Hash::from_bytes(root) };
            let body = cp.to_body();
            prop_assert_eq!(Checkpoint::try_parse_body(&body).unwrap(), cp.clone());
            let (lenient, extensions) = Checkpoint::try_parse_body_with_extensions(&body).unwrap();
            prop_assert_eq!(lenient, cp);
            prop_assert!(extensions.is_empty());
        }

        #[test]
        fn parsers_never_panic(text in "(\\PC|\n|\u{2014} ){0,200}") {
            let _ = open_note(&text, &[]);
            let _ = Checkpoint::try_parse_body(&text);
            let _ = VerifierKey::try_parse(&text);
            let _ = add_signature_lines(&text, std::slice::from_ref(&text));
        }
    }

    proptest! {
        // Each case signs and verifies in a debug build: keep the count low.
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn signed_texts_open_to_themselves(text in "([ -~é\u{2014}]{0,30}\n){1,5}") {
            let key = signing_key(9);
            let note = sign_note(&text, &[NoteSigner::new("p.example", &key)]).unwrap();
            let opened = open_note(&note, &[vkey("p.example", 9)]).unwrap();
            prop_assert_eq!(opened.text, text);
        }
    }
}
