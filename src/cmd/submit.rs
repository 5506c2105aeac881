//! `hisaab submit`: send an envelope, or sign and send a common statement, then verify the
//! receipt: its checkpoint under the pinned log key, its inclusion proof, the entry itself, and
//! consistency with the checkpoint remembered.

use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use hisaab_log::{Envelope, Hash, PublicKey};
use serde_json::{json, Map, Value};

use std::io::Read as _;

use crate::args::{wire_name, DisputeAction, HelperCommon, ServerArgs, SubmitArgs, SubmitHelper};
use crate::client::{Observation, Receipt, Session, SessionOptions};
use crate::keyfile;
use crate::util::{self, Draft};

/// Runs `hisaab submit`.
pub(crate) fn run(args: &SubmitArgs) -> Result<ExitCode> {
    match (&args.helper, &args.envelope) {
        (Some(helper), _) => run_helper(helper),
        (None, Some(path)) => {
            let bytes = util::read_input(path)?;
            let envelope = Envelope::try_from_json(&bytes)
                .with_context(|| format!("{} is not a valid envelope", path.display()))?;
            send(&args.server, &envelope, args.json)
        }
        (None, None) => {
            bail!("give an envelope file, or a helper such as `submit kpi` (see --help)")
        }
    }
}

/// Opens a session on the server the arguments name.
pub(crate) fn open_session(server: &ServerArgs) -> Result<Session> {
    Session::open(
        &server.server,
        &SessionOptions {
            state: server.trust.state.as_deref(),
            log_vkey: server.trust.log_vkey.as_deref(),
            repin: server.trust.repin,
        },
    )
}

/// Posts an envelope, verifies the receipt and prints it.
fn send(server: &ServerArgs, envelope: &Envelope, json_only: bool) -> Result<ExitCode> {
    let mut session = open_session(server)?;
    if let Some(ledger) = envelope.statement.ledger {
        if ledger != session.log.ledger {
            bail!(
                "the envelope is for ledger {ledger}, but {} serves ledger {}",
                session.client.base(),
                session.log.ledger
            );
        }
    }
    let (created, receipt) = session.client.post_envelope(envelope)?;
    let checkpoint = session
        .verify_receipt(&receipt, Some(envelope))
        .context("the receipt does not verify")?;
    print_receipt(
        &receipt,
        created,
        json_only,
        checkpoint.size,
        &checkpoint.root,
    )?;
    Ok(ExitCode::SUCCESS)
}

fn print_receipt(
    receipt: &Receipt,
    created: bool,
    json_only: bool,
    size: u64,
    root: &Hash,
) -> Result<()> {
    if json_only {
        let mut value = serde_json::to_value(receipt)?;
        if let Value::Object(map) = &mut value {
            map.insert("created".into(), Value::Bool(created));
        }
        println!("{}", serde_json::to_string(&value)?);
        return Ok(());
    }
    println!(
        "{}: seq {} event {}",
        if created {
            "created"
        } else {
            "already in the ledger"
        },
        receipt.seq,
        receipt.event_hash
    );
    println!("recorded_at: {}", receipt.recorded_at);
    println!("verified: included in the checkpoint of size {size} (root {root})");
    Ok(())
}

/// Signs the helper's statement as the ledger's, and sends it.
fn run_helper(helper: &SubmitHelper) -> Result<ExitCode> {
    let (common, kind, mut body) = helper_body(helper)?;
    let key = keyfile::read(&common.key)?;
    let mut session = open_session(&common.server)?;
    let ledger = session.log.ledger;
    if let SubmitHelper::Dispute {
        action: DisputeAction::Resolve { as_of, .. },
    } = helper
    {
        let (as_of, digest) = replayed_digest(&mut session, *as_of)?;
        body.insert("as_of".into(), json!(as_of));
        body.insert("state_digest".into(), json!(digest.to_hex()));
        eprintln!("the state at size {as_of}, replayed and verified here, has digest {digest}");
    }
    drop(session);
    let envelope = util::sign_draft(
        Draft {
            kind: kind.to_owned(),
            ledger: Some(ledger),
            id: None,
            issued_at: None,
            body,
        },
        &key,
    )?;
    if let Some(path) = &common.save {
        let mut bytes = envelope.canonical_bytes()?;
        bytes.push(b'\n');
        util::write_output(Some(path), &bytes)?;
    }
    send(&common.server, &envelope, common.json)
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The kind and body of a helper.
fn helper_body(helper: &SubmitHelper) -> Result<(&HelperCommon, &'static str, Map<String, Value>)> {
    Ok(match helper {
        SubmitHelper::Kpi {
            common,
            operator,
            kpi,
            period,
            value,
            evidence,
            note,
            supersedes,
        } => {
            let evidence = evidence
                .iter()
                .map(|p| util::evidence_of(p))
                .collect::<Result<Vec<_>>>()?;
            let mut body = object(json!({
                "operator": operator, "kpi": kpi, "period": period, "value": value,
                "evidence": evidence, "note": note,
            }));
            if let Some(s) = supersedes {
                body.insert("supersedes".into(), json!(s));
            }
            (common, "submission.filed", body)
        }
        SubmitHelper::Operator {
            common,
            operator,
            name,
        } => (
            common,
            "operator.registered",
            object(json!({ "operator": operator, "name": name })),
        ),
        SubmitHelper::Member {
            common,
            member,
            name,
            roles,
            operator,
            member_key,
        } => {
            let key = member_public_key(member_key)?;
            let roles: Vec<String> = roles.iter().map(wire_name).collect();
            let mut body = object(json!({
                "member": member, "name": name, "roles": roles, "key": key.to_base64(),
            }));
            if let Some(o) = operator {
                body.insert("operator".into(), json!(o));
            }
            (common, "member.enrolled", body)
        }
        SubmitHelper::DefineKpi {
            common,
            kpi,
            pillar,
            title,
            unit,
            direction,
            cadence,
            evidence_required,
        } => (
            common,
            "kpi.defined",
            object(json!({
                "kpi": kpi, "pillar": wire_name(pillar), "title": title, "unit": unit,
                "direction": wire_name(direction), "cadence": wire_name(cadence),
                "evidence_required": evidence_required,
            })),
        ),
        SubmitHelper::Assign {
            common,
            kpi,
            operator,
            target,
            baseline,
            due,
            first_period,
        } => {
            let mut body = object(json!({
                "kpi": kpi, "operator": operator, "target": target, "due": due,
                "first_period": first_period,
            }));
            if let Some(b) = baseline {
                body.insert("baseline".into(), json!(b));
            }
            (common, "kpi.assigned", body)
        }
        SubmitHelper::Evaluate {
            common,
            submission,
            verdict,
            score,
            rationale,
            supersedes,
        } => {
            let mut body = object(json!({
                "submission": submission, "verdict": wire_name(verdict), "score": score,
                "rationale": rationale,
            }));
            if let Some(s) = supersedes {
                body.insert("supersedes".into(), json!(s));
            }
            (common, "evaluation.recorded", body)
        }
        SubmitHelper::Challenge {
            common,
            challenge,
            pillar,
            operator,
            kpi,
            description,
        } => {
            let mut body = object(json!({
                "challenge": challenge, "pillar": wire_name(pillar), "description": description,
            }));
            if let Some(o) = operator {
                body.insert("operator".into(), json!(o));
            }
            if let Some(k) = kpi {
                body.insert("kpi".into(), json!(k));
            }
            (common, "challenge.raised", body)
        }
        SubmitHelper::ResolveChallenge {
            common,
            challenge,
            resolution,
        } => (
            common,
            "challenge.resolved",
            object(json!({ "challenge": challenge, "resolution": resolution })),
        ),
        SubmitHelper::Commitment {
            common,
            commitment,
            operator,
            kpi,
            action,
            due,
            in_response_to,
        } => {
            let mut body = object(json!({
                "commitment": commitment, "operator": operator, "action": action, "due": due,
            }));
            if let Some(k) = kpi {
                body.insert("kpi".into(), json!(k));
            }
            if let Some(r) = in_response_to {
                body.insert("in_response_to".into(), json!(r));
            }
            (common, "commitment.made", body)
        }
        SubmitHelper::CloseCommitment {
            common,
            commitment,
            outcome,
            note,
        } => (
            common,
            "commitment.closed",
            object(json!({
                "commitment": commitment, "outcome": wire_name(outcome), "note": note,
            })),
        ),
        SubmitHelper::Dispute { action } => match action {
            DisputeAction::Open {
                common,
                dispute,
                evaluation,
                grounds,
            } => (
                common,
                "dispute.opened",
                object(json!({
                    "dispute": dispute, "evaluation": evaluation, "grounds": grounds,
                })),
            ),
            // `as_of` and `state_digest` are added once the state is replayed.
            DisputeAction::Resolve {
                common,
                dispute,
                outcome,
                rationale,
                as_of: _,
            } => (
                common,
                "dispute.resolved",
                object(json!({
                    "dispute": dispute, "outcome": wire_name(outcome), "rationale": rationale,
                })),
            ),
        },
        SubmitHelper::Meeting {
            common,
            meeting,
            held_on,
            attendees,
            minutes,
            decisions,
        } => {
            let minutes = util::evidence_of(minutes)?;
            (
                common,
                "meeting.recorded",
                object(json!({
                    "meeting": meeting, "held_on": held_on, "attendees": attendees,
                    "minutes_sha256": minutes["sha256"], "decisions": decisions,
                })),
            )
        }
        SubmitHelper::Attest { common, meeting } => (
            common,
            "meeting.attested",
            object(json!({ "meeting": meeting })),
        ),
        SubmitHelper::RotateKey {
            common,
            member,
            new_key,
        } => {
            let key = member_public_key(new_key)?;
            (
                common,
                "member.key_rotated",
                object(json!({ "member": member, "new_key": key.to_base64() })),
            )
        }
        SubmitHelper::Revoke {
            common,
            member,
            reason,
        } => (
            common,
            "member.revoked",
            object(json!({ "member": member, "reason": reason })),
        ),
        SubmitHelper::Raw { common, kind, body } => {
            let body = util::parse_body(&util::read_input(body)?)?;
            let kind = hisaab_model::Kind::try_from_str(kind)
                .with_context(|| format!("unknown kind {kind:?}"))?;
            (common, kind.as_str(), body)
        }
    })
}

/// The state digest (SPEC §5) at `as_of` (default: the latest checkpoint's size), from the
/// server's bundle at that size, verified here in full and checked against the pinned ledger
/// and the latest checkpoint: a resolution signs only what this client replayed itself.
fn replayed_digest(session: &mut Session, as_of: Option<u64>) -> Result<(u64, Hash)> {
    let (_note, latest, _) = session.latest_checkpoint()?;
    let as_of = as_of.unwrap_or(latest.size);
    if as_of == 0 || as_of > latest.size {
        return Err(crate::exit::usage(format!(
            "--as-of {as_of} is not a size of the log (1..={})",
            latest.size
        )));
    }
    let mut bytes = Vec::new();
    session
        .client
        .get(&format!("/v1/bundle?tree_size={as_of}"))?
        .read_to_end(&mut bytes)
        .context("cannot read the bundle")?;
    let verified = hisaab_model::verify_bundle(bytes.as_slice())
        .context("the server's bundle does not verify")?;
    if verified.ledger_id != session.log.ledger || verified.size != as_of {
        bail!(
            "the server's bundle is of ledger {} size {}, not of the pinned ledger {} size {as_of}",
            verified.ledger_id,
            verified.size,
            session.log.ledger
        );
    }
    let bundle_checkpoint = hisaab_log::note::Checkpoint {
        origin: verified.origin.clone(),
        size: verified.size,
        root: verified.root,
    };
    crate::client::check_consistent(&session.client, &bundle_checkpoint, &latest)
        .context("the bundle is not consistent with the server's latest checkpoint")?;
    Ok((as_of, verified.state.digest()))
}

/// A public key given as base64, or read from a PEM private key file.
fn member_public_key(text: &str) -> Result<PublicKey> {
    if let Ok(key) = PublicKey::try_from_base64(text) {
        return Ok(key);
    }
    let key = keyfile::read(std::path::Path::new(text))
        .context("--member-key is neither a base64 public key nor a readable PEM key file")?;
    Ok(keyfile::public(&key))
}

/// Describes an observation for humans.
pub(crate) fn describe(observation: Observation) -> String {
    match observation {
        Observation::First => "first checkpoint seen from this server; remembered".to_owned(),
        Observation::Same => "same checkpoint as last time".to_owned(),
        Observation::Grew { from } => {
            format!("consistent with the checkpoint of size {from} seen before")
        }
        Observation::Older { remembered } => {
            format!("older than, and consistent with, the checkpoint of size {remembered} seen")
        }
    }
}
