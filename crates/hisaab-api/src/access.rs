//! Read access (SPEC §13): the documents of sessions and withheld entries, and the subset of
//! RFC 9421 (HTTP Message Signatures) with which a member signs a read request.
//!
//! A signed request carries three headers:
//!
//! ```text
//! Date: Sun, 06 Dec 2026 10:46:24 GMT
//! Signature-Input: hisaab=("@method" "@path" "@query" "date");created=1796546784;keyid="pta";alg="ed25519";nonce="q1w2e3r4t5y6u7i8o9p0a1s2"
//! Signature: hisaab=:<base64 of the 64-byte Ed25519 signature>:
//! ```
//!
//! The covered components are exactly `"@method" "@path" "@query" "date"`, in this order; the
//! parameters are `created` (Unix seconds), `keyid` (the member id), `alg` (`"ed25519"`) and
//! `nonce`, each once, in any order. The signature base is RFC 9421 §2.5's: one line per
//! component, `"<name>": <value>`, then `"@signature-params": ` and the Signature-Input's
//! value after `<label>=` exactly, joined by `\n` with no final newline ([`signature_base`]).
//! These functions only build and parse; the client signs and the server verifies.

use hisaab_log::jcs::INTEGER_MAX;
use hisaab_log::{Hash, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The label of Hisaab's request signatures in `Signature-Input` and `Signature`.
pub const SIGNATURE_LABEL: &str = "hisaab";
/// The only signature algorithm: RFC 9421 §3.3.6 `ed25519`.
pub const SIGNATURE_ALG: &str = "ed25519";
/// The components a request signature covers, in order.
pub const COVERED_COMPONENTS: [&str; 4] = ["@method", "@path", "@query", "date"];
/// The shortest nonce taken.
pub const NONCE_CHARS_MIN: usize = 16;
/// The longest nonce taken.
pub const NONCE_CHARS_MAX: usize = 64;
/// The longest `keyid` taken (a member id is at most 63 characters).
pub const KEYID_CHARS_MAX: usize = 63;
/// The cookie a browser session is kept in.
pub const SESSION_COOKIE: &str = "hisaab_session";
/// The first line of what a member signs to open a session.
pub const SESSION_CONTEXT: &str = "hisaab-session-v1";

/// A line of `GET /v1/entries` or `GET /v1/history`, or the body of a 403 on an entry, standing
/// for an entry the reader may not read: its seq, kind and leaf hash (which proofs carry
/// anyway), nothing of its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WithheldLine {
    /// The withheld entry.
    pub withheld: Withheld,
}

/// What a reader learns of an entry withheld from them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Withheld {
    /// The entry's seq.
    #[schemars(range(max = "INTEGER_MAX"))]
    pub seq: u64,
    /// The statement's kind.
    pub kind: String,
    /// The entry's leaf hash (its event hash), hex.
    pub leaf_hash: Hash,
}

/// `POST /v1/session/challenge`: a random challenge to sign, good once, until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionChallenge {
    /// 32 random bytes, base64url without padding.
    #[schemars(regex(pattern = "^[A-Za-z0-9_-]{43}$"))]
    pub challenge: String,
    /// When the challenge expires.
    pub expires_at: Timestamp,
}

/// The body of `POST /v1/session`: a member's signature of a challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    /// The member's id.
    #[schemars(regex(pattern = "^[a-z0-9][a-z0-9-]{0,62}$"))]
    pub member: String,
    /// The challenge, as `POST /v1/session/challenge` gave it.
    #[schemars(regex(pattern = "^[A-Za-z0-9_-]{43}$"))]
    pub challenge: String,
    /// Base64 of the Ed25519 signature, by the member's current key, of
    /// [`session_message`]`(origin, challenge)`.
    #[schemars(regex(pattern = "^[A-Za-z0-9+/]{86}==$"))]
    pub signature: String,
}

/// `POST /v1/session` granted: a bearer token, also set as an HttpOnly cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionGranted {
    /// The token: `Authorization: Bearer <token>`, or the `hisaab_session` cookie.
    #[schemars(regex(pattern = "^[A-Za-z0-9_-]{43}$"))]
    pub token: String,
    /// The member the session reads as.
    pub member: String,
    /// Their reader class now: `full`, `operator:<id>` or `public`.
    pub reader: String,
    /// When the session ends.
    pub expires_at: Timestamp,
}

/// What a member signs to open a session on the ledger of `origin`:
/// `hisaab-session-v1\n<origin>\n<challenge>`.
pub fn session_message(origin: &str, challenge: &str) -> Vec<u8> {
    format!("{SESSION_CONTEXT}\n{origin}\n{challenge}").into_bytes()
}

/// The parameters of a request signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureParams {
    /// `created`: Unix seconds.
    pub created: u64,
    /// `keyid`: the member id.
    pub keyid: String,
    /// `nonce`: 16 to 64 characters of `A-Z a-z 0-9 - _`.
    pub nonce: String,
}

impl SignatureParams {
    /// The Signature-Input member's value, as [`signature_base`] covers it, in Hisaab's order:
    /// `("@method" "@path" "@query" "date");created=N;keyid="...";alg="ed25519";nonce="..."`.
    pub fn to_value(&self) -> String {
        let components: Vec<String> = COVERED_COMPONENTS
            .iter()
            .map(|name| format!("\"{name}\""))
            .collect();
        format!(
            "({});created={};keyid=\"{}\";alg=\"{SIGNATURE_ALG}\";nonce=\"{}\"",
            components.join(" "),
            self.created,
            self.keyid,
            self.nonce
        )
    }
}

/// Why a `Signature-Input` or `Signature` header is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaderError(pub String);

impl std::fmt::Display for SignatureHeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SignatureHeaderError {}

fn refuse<T>(message: impl Into<String>) -> Result<T, SignatureHeaderError> {
    Err(SignatureHeaderError(message.into()))
}

/// Parses a `Signature-Input` header: one member labelled [`SIGNATURE_LABEL`], covering
/// exactly [`COVERED_COMPONENTS`], with `created`, `keyid`, `alg="ed25519"` and `nonce` once
/// each and no other parameter. Returns the parameters and the member's value as sent (what
/// the signature base covers).
///
/// # Errors
/// [`SignatureHeaderError`] saying what is wrong.
pub fn parse_signature_input(
    header: &str,
) -> Result<(SignatureParams, String), SignatureHeaderError> {
    let Some(value) = header
        .strip_prefix(SIGNATURE_LABEL)
        .and_then(|rest| rest.strip_prefix('='))
    else {
        return refuse(format!(
            "Signature-Input must be one member labelled {SIGNATURE_LABEL:?}: \
             {SIGNATURE_LABEL}=(\"@method\" \"@path\" \"@query\" \"date\");created=...;\
             keyid=\"...\";alg=\"ed25519\";nonce=\"...\""
        ));
    };
    let expected_list = format!(
        "({})",
        COVERED_COMPONENTS
            .iter()
            .map(|name| format!("\"{name}\""))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let Some(params) = value.strip_prefix(&expected_list) else {
        return refuse(format!(
            "a request signature covers exactly {expected_list}, in this order"
        ));
    };
    let (mut created, mut keyid, mut alg, mut nonce) = (None, None, None, None);
    for param in params.split(';').skip(1) {
        let Some((name, raw)) = param.split_once('=') else {
            return refuse(format!("parameter {param:?} has no value"));
        };
        let slot = match name {
            "created" => &mut created,
            "keyid" => &mut keyid,
            "alg" => &mut alg,
            "nonce" => &mut nonce,
            other => {
                return refuse(format!(
                    "unknown signature parameter {other:?}: only created, keyid, alg and nonce"
                ))
            }
        };
        if slot.is_some() {
            return refuse(format!("signature parameter {name} is given twice"));
        }
        *slot = Some(raw);
    }
    if !params.starts_with(';') && !params.is_empty() {
        return refuse("the parameters must follow the component list, each after a `;`");
    }
    let (Some(created), Some(keyid), Some(alg), Some(nonce)) = (created, keyid, alg, nonce) else {
        return refuse("created, keyid, alg and nonce are all required");
    };
    let created = match created.parse::<u64>() {
        Ok(n) if !created.starts_with('0') || created == "0" => n,
        _ => {
            return refuse("created must be Unix seconds, an integer without sign or leading zero")
        }
    };
    let keyid = sf_string(keyid, "keyid")?;
    if keyid.is_empty() || keyid.len() > KEYID_CHARS_MAX {
        return refuse(format!(
            "keyid must be a member id of 1 to {KEYID_CHARS_MAX} characters"
        ));
    }
    if sf_string(alg, "alg")? != SIGNATURE_ALG {
        return refuse(format!("alg must be \"{SIGNATURE_ALG}\""));
    }
    let nonce = sf_string(nonce, "nonce")?;
    let nonce_ok = (NONCE_CHARS_MIN..=NONCE_CHARS_MAX).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !nonce_ok {
        return refuse(format!(
            "nonce must be {NONCE_CHARS_MIN} to {NONCE_CHARS_MAX} characters of A-Z a-z 0-9 - _"
        ));
    }
    let params = SignatureParams {
        created,
        keyid: keyid.to_owned(),
        nonce: nonce.to_owned(),
    };
    Ok((params, value.to_owned()))
}

/// The content of an sf-string without escapes (`"..."` of printable ASCII, no `"` or `\`).
fn sf_string<'a>(raw: &'a str, name: &str) -> Result<&'a str, SignatureHeaderError> {
    let inner = raw
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'));
    match inner {
        Some(text)
            if text
                .bytes()
                .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') =>
        {
            Ok(text)
        }
        _ => refuse(format!(
            "{name} must be a quoted string of printable ASCII without escapes"
        )),
    }
}

/// Parses a `Signature` header: `hisaab=:<base64>:`, returning the base64 text.
///
/// # Errors
/// [`SignatureHeaderError`] for another shape.
pub fn parse_signature(header: &str) -> Result<&str, SignatureHeaderError> {
    header
        .strip_prefix(SIGNATURE_LABEL)
        .and_then(|rest| rest.strip_prefix("=:"))
        .and_then(|rest| rest.strip_suffix(':'))
        .filter(|b64| !b64.contains(':'))
        .map_or_else(
            || {
                refuse(format!(
                    "Signature must be one member labelled {SIGNATURE_LABEL:?}: \
                     {SIGNATURE_LABEL}=:<base64 of the signature>:"
                ))
            },
            Ok,
        )
}

/// The signature base of RFC 9421 §2.5 for Hisaab's components: `method` as sent (upper
/// case), `path` the request target's path, `query` the query string without `?` (empty when
/// there is none: `@query` is then `?`), `date` the `Date` header's value, and `params_value`
/// the Signature-Input member's value.
pub fn signature_base(
    method: &str,
    path: &str,
    query: &str,
    date: &str,
    params_value: &str,
) -> String {
    let path = if path.is_empty() { "/" } else { path };
    format!(
        "\"@method\": {method}\n\"@path\": {path}\n\"@query\": ?{query}\n\"date\": {date}\n\
         \"@signature-params\": {params_value}"
    )
}

/// The three headers of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `Date`.
    pub date: String,
    /// `Signature-Input`.
    pub signature_input: String,
    /// `Signature`.
    pub signature: String,
}

/// Signs a read request as member `keyid` with `key`: `method` upper case, `path` and `query`
/// (without `?`) as sent, at `created` (Unix seconds, also the `Date`), with a fresh `nonce`
/// (16 to 64 characters of `A-Z a-z 0-9 - _`, never reused).
pub fn sign_request(
    key: &hisaab_log::SigningKey,
    keyid: &str,
    method: &str,
    path: &str,
    query: &str,
    created: u64,
    nonce: &str,
) -> SignedHeaders {
    let params = SignatureParams {
        created,
        keyid: keyid.to_owned(),
        nonce: nonce.to_owned(),
    };
    let value = params.to_value();
    let date = http_date(created);
    let base = signature_base(method, path, query, &date, &value);
    let signature = hisaab_log::Signature::sign(key, base.as_bytes());
    SignedHeaders {
        date,
        signature_input: format!("{SIGNATURE_LABEL}={value}"),
        signature: format!("{SIGNATURE_LABEL}=:{}:", signature.to_base64()),
    }
}

/// An IMF-fixdate (RFC 9110 §5.6.7) of Unix seconds: `Sun, 06 Dec 2026 10:46:24 GMT`.
pub fn http_date(unix_s: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_s / 86_400;
    let seconds = unix_s % 86_400;
    let date = i64::try_from(days)
        .ok()
        .and_then(hisaab_log::Date::from_days_since_epoch);
    let (year, month, day) = date.map_or((1970, 1, 1), |d| (d.year(), d.month(), d.day()));
    let weekday = DAYS
        .get(usize::try_from(days % 7).unwrap_or(0))
        .copied()
        .unwrap_or("Thu");
    let month = MONTHS
        .get(usize::from(month.saturating_sub(1)))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{weekday}, {day:02} {month} {year:04} {:02}:{:02}:{:02} GMT",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn params() -> SignatureParams {
        SignatureParams {
            created: 1_796_546_784,
            keyid: "pta".to_owned(),
            nonce: "q1w2e3r4t5y6u7i8o9p0".to_owned(),
        }
    }

    #[test]
    fn the_input_round_trips_and_the_base_is_rfc_9421s() {
        let value = params().to_value();
        let header = format!("{SIGNATURE_LABEL}={value}");
        let (parsed, raw) = parse_signature_input(&header).unwrap();
        assert_eq!(parsed, params());
        assert_eq!(raw, value);
        let base = signature_base(
            "GET",
            "/v1/state",
            "as_of=5",
            "Sun, 06 Dec 2026 10:46:24 GMT",
            &raw,
        );
        assert_eq!(
            base,
            "\"@method\": GET\n\"@path\": /v1/state\n\"@query\": ?as_of=5\n\
             \"date\": Sun, 06 Dec 2026 10:46:24 GMT\n\"@signature-params\": \
             (\"@method\" \"@path\" \"@query\" \"date\");created=1796546784;keyid=\"pta\";\
             alg=\"ed25519\";nonce=\"q1w2e3r4t5y6u7i8o9p0\""
        );
        assert!(signature_base("GET", "/v1/state", "", "d", &raw).contains("\"@query\": ?\n"));
        // Parameters in another order are taken, and covered as sent.
        let reordered = "hisaab=(\"@method\" \"@path\" \"@query\" \"date\");nonce=\"q1w2e3r4t5y6u7i8o9p0\";alg=\"ed25519\";keyid=\"pta\";created=1796546784";
        let (again, raw) = parse_signature_input(reordered).unwrap();
        assert_eq!(again, params());
        assert!(raw.starts_with("(\"@method\""));
    }

    #[test]
    fn dates_are_imf_fixdates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(1_796_553_984), "Sun, 06 Dec 2026 10:46:24 GMT");
    }

    #[test]
    fn a_signed_request_verifies_over_its_base() {
        let key = hisaab_log::SigningKey::from_bytes(&[7; 32]);
        let signed = sign_request(
            &key,
            "pta",
            "GET",
            "/v1/state",
            "",
            784_111_777,
            "abcdefghijklmnop",
        );
        let (params, value) = parse_signature_input(&signed.signature_input).unwrap();
        assert_eq!(params.keyid, "pta");
        let signature =
            hisaab_log::Signature::try_from_base64(parse_signature(&signed.signature).unwrap())
                .unwrap();
        let base = signature_base("GET", "/v1/state", "", &signed.date, &value);
        let public = hisaab_log::PublicKey::from_signing_key(&key);
        assert!(public.verify_strict(base.as_bytes(), &signature).is_ok());
        let other = signature_base("GET", "/v1/bundle", "", &signed.date, &value);
        assert!(public.verify_strict(other.as_bytes(), &signature).is_err());
    }

    #[test]
    fn inputs_outside_the_subset_are_refused() {
        let good = format!("{SIGNATURE_LABEL}={}", params().to_value());
        for bad in [
            good.replace("hisaab=", "sig1="),
            good.replace(" \"date\"", ""),
            good.replace("\"@path\" \"@query\"", "\"@query\" \"@path\""),
            good.replace("ed25519", "rsa-pss-sha512"),
            good.replace(";nonce=\"q1w2e3r4t5y6u7i8o9p0\"", ""),
            good.replace("nonce=\"q1w2e3r4t5y6u7i8o9p0\"", "nonce=\"short\""),
            good.replace("created=1796546784", "created=01796546784"),
            good.replace("created=1796546784", "created=-1"),
            good.clone() + ";expires=1796546999",
            good.clone() + ";keyid=\"other\"",
            good.replace("keyid=\"pta\"", "keyid=pta"),
            good.replace("keyid=\"pta\"", "keyid=\"\""),
        ] {
            assert!(parse_signature_input(&bad).is_err(), "{bad}");
        }
        assert_eq!(parse_signature("hisaab=:AAAA:").unwrap(), "AAAA");
        assert!(parse_signature("sig1=:AAAA:").is_err());
        assert!(parse_signature("hisaab=AAAA").is_err());
    }
}
