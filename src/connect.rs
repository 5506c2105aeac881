//! Talking to a server from the command line: the session of `--server` and the trust flags
//! (opened in one place for every command), and the pins a user gives (`--log-vkey`,
//! `--ledger`, `--witness`, `--min-cosignatures`), parsed strictly: a malformed value is a
//! usage error (exit 2). What is checked and how lives in `hisaab-client`.

use std::path::Path;

use anyhow::{bail, Result};
use hisaab_client::{Client, Credentials, Pins, Session, SessionOptions, WitnessKey};
use hisaab_log::note::VerifierKey;
use hisaab_log::Hash;
use hisaab_model::Reader;

use crate::args::{ServerArgs, TrustArgs};
use crate::exit::usage;

/// Opens a session on `url` with the trust flags, saying so when the log key is pinned on
/// first use.
pub(crate) fn open(url: &str, trust: &TrustArgs) -> Result<Session> {
    let session = Session::open(
        url,
        &SessionOptions {
            state: trust.state.as_deref(),
            log_vkey: parse_log_vkey(trust.log_vkey.as_deref())?,
            repin: trust.repin,
        },
    )?;
    if session.pinned_on_first_use {
        eprintln!(
            "note: pinned the log key {} and ledger {} for {} (trust on first use; pass \
             --log-vkey to pin it yourself)",
            session.log.vkey,
            session.log.ledger,
            session.client.base()
        );
    }
    Ok(session)
}

/// Makes `client` read as the member holding the key in `key` (SPEC §13), found by its public
/// key in the server's registry, which anyone may read; without a key, says that the public
/// view is read. Returns the reader class of SPEC §13.3 that the registry gives that member
/// (what an honest server serves it).
pub(crate) fn read_as(client: &mut Client, key: Option<&Path>) -> Result<Reader> {
    let Some(path) = key else {
        eprintln!(
            "note: reading the public view (no --key): operators' values, evidence, verdicts, \
             scores and the entries that hold them are not shown"
        );
        client.set_credentials(None);
        return Ok(Reader::Public);
    };
    let key = crate::keyfile::read(path)?;
    let (member, reader) = registered_member(client, &crate::keyfile::public(&key))?;
    eprintln!(
        "note: reading as member {member} (requests signed with {})",
        path.display()
    );
    client.set_credentials(Some(Credentials::Key {
        member,
        key: Box::new(key),
    }));
    Ok(reader)
}

/// The member whose current key is `key`, from the server's registry (the public state).
pub(crate) fn member_of_key(client: &Client, key: &hisaab_log::PublicKey) -> Result<String> {
    registered_member(client, key).map(|(member, _)| member)
}

/// The member whose current key is `key` and its reader class, from the server's registry.
fn registered_member(client: &Client, key: &hisaab_log::PublicKey) -> Result<(String, Reader)> {
    let public = client.clone().with_credentials(None).state(None, None)?;
    let Some((id, member)) = public.members.iter().find(|(_, member)| member.key == *key) else {
        bail!(
            "the key {key} is no member's current key in the ledger at {}: a rotated-away key \
             reads nothing",
            client.base()
        );
    };
    if member.status == hisaab_model::MemberStatus::Revoked {
        bail!("member {id} was revoked and may no longer read");
    }
    Ok((id.as_str().to_owned(), Reader::of_member(member)))
}

/// Opens a session on the server the arguments name that reads as the member whose current
/// key `key` is (SPEC §13), so that what a signing command reads (a dispute's resolution
/// replays the bundle; the load generator's replica) is what the signer's role may see. A key
/// that is no member's yet reads the public view; the server decides statements either way.
pub(crate) fn open_server_as_signer(
    server: &ServerArgs,
    key: &hisaab_log::SigningKey,
) -> Result<Session> {
    let mut session = open_server(server)?;
    if let Ok(member) = member_of_key(&session.client, &crate::keyfile::public(key)) {
        session.client.set_credentials(Some(Credentials::Key {
            member,
            key: Box::new(key.clone()),
        }));
    }
    Ok(session)
}

/// Opens a session on the server the arguments name.
pub(crate) fn open_server(server: &ServerArgs) -> Result<Session> {
    open(&server.server, &server.trust)
}

/// Parses `--log-vkey`.
pub(crate) fn parse_log_vkey(text: Option<&str>) -> Result<Option<VerifierKey>> {
    text.map(|v| {
        VerifierKey::try_parse(v).map_err(|e| {
            usage(format!(
                "--log-vkey {v:?} is not a log verifier key \
                 `<origin>+<hex key id>+<base64 key>` (SPEC §3): {e}"
            ))
        })
    })
    .transpose()
}

/// Parses the pins; anything malformed is a usage error.
pub(crate) fn parse_pins(
    log_vkey: Option<&str>,
    ledger: Option<&str>,
    witnesses: &[String],
    min_cosignatures: Option<usize>,
) -> Result<Pins> {
    let log_vkey = parse_log_vkey(log_vkey)?;
    let ledger = ledger
        .map(|l| {
            Hash::try_from_hex(l).map_err(|_| {
                usage(format!(
                    "--ledger {l:?} is not a ledger id (64 lowercase hex digits, SPEC §2)"
                ))
            })
        })
        .transpose()?;
    let witnesses = witnesses
        .iter()
        .map(|w| {
            WitnessKey::try_parse(w).map_err(|e| {
                usage(format!(
                    "--witness {w:?} is not a cosignature/v1 verifier key \
                     `<name>+<hex key id>+<base64(0x04||key)>` (SPEC §3): {e}"
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let min_cosignatures = match (min_cosignatures, witnesses.is_empty()) {
        (Some(k), true) if k > 0 => {
            return Err(usage(
                "--min-cosignatures needs the witnesses' keys (--witness)",
            ))
        }
        (Some(k), false) if k > witnesses.len() => {
            return Err(usage(format!(
                "--min-cosignatures {k} is more than the {} --witness keys given",
                witnesses.len()
            )))
        }
        (Some(k), _) => k,
        (None, true) => 0,
        // Naming witnesses without a number asks for all of them.
        (None, false) => witnesses.len(),
    };
    Ok(Pins {
        log_vkey,
        ledger,
        witnesses,
        min_cosignatures,
    })
}
