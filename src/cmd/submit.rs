//! `hisaab submit`: send an envelope, or sign and send a common statement built as the
//! model's typed body, then verify the receipt: its checkpoint under the pinned log key, its
//! inclusion proof, the entry itself, and consistency with the checkpoint remembered.

use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use hisaab_api::SealedSubmission;
use hisaab_client::{Posted, Session};
use hisaab_log::seal::Sealing;
use hisaab_log::{Date, Envelope, Hash, Period, PublicKey};
use hisaab_model::body::{
    ActionAssignedBody, ActionClosedBody, AssignmentWithdrawnBody, Band,
    ChallengeMeasureRecordedBody, ChallengeRaisedBody, ChallengeResolvedBody, CommitmentClosedBody,
    CommitmentExtendedBody, CommitmentMadeBody, DelegationGrantedBody, DirectiveClosedBody,
    DirectiveIssuedBody, DisputeOpenedBody, DisputeResolvedBody, EscalationRecordedBody,
    EvaluationRecordedBody, FieldErasedBody, KpiAssignedBody, KpiDefinedBody, KpiRetiredBody,
    MeetingAttestedBody, MeetingRecordedBody, MeetingScheduledBody, MemberEnrolledBody,
    MemberKeyRotatedBody, MemberReinstatedBody, MemberRevokedBody, MemberSuspendedBody,
    OperatorLeftBody, OperatorRegisteredBody, ReportPublishedBody, RubricSetBody,
    StakeholderRegisteredBody, SubmissionFiledBody,
};
use hisaab_model::cycle::{ActionOwner, AgendaItem, EscalatedItem};
use hisaab_model::{Body, Decimal, Kind, KpiId, Note, Score, Slug, Text, Verdict};
use serde_json::Value;

use crate::args::{DisputeAction, HelperCommon, SubmitArgs, SubmitHelper};
use crate::connect;
use crate::keyfile;
use crate::util::{self, Draft};

/// Runs `hisaab submit`.
pub(crate) fn run(args: &SubmitArgs) -> Result<ExitCode> {
    match (&args.helper, &args.envelope) {
        (Some(helper), _) => run_helper(helper),
        (None, Some(path)) => {
            let bytes = util::read_input(path)?;
            let (envelope, sealing) = read_submission(&bytes)
                .with_context(|| format!("{} is not a valid envelope", path.display()))?;
            let mut session = connect::open_server(&args.server)?;
            send(&mut session, &envelope, sealing.as_ref(), args.json)
        }
        (None, None) => {
            bail!("give an envelope file, or a helper such as `submit kpi` (see --help)")
        }
    }
}

/// An envelope, or a sealed statement with its sealing (SPEC §12.5), as a file holds it.
fn read_submission(bytes: &[u8]) -> Result<(Envelope, Option<Sealing>)> {
    let value = hisaab_log::jcs::parse_strict(bytes)?;
    if value.get("envelope").is_none() {
        return Ok((Envelope::try_from_value(value)?, None));
    }
    let submission: SealedSubmission =
        serde_json::from_value(value).context("not a sealed submission")?;
    let envelope = Envelope::try_from_value(serde_json::to_value(&submission.envelope)?)?;
    Ok((envelope, Some(submission.sealing)))
}

/// Posts an envelope (with its sealing, for a sealed statement), verifies the receipt and
/// prints it.
fn send(
    session: &mut Session,
    envelope: &Envelope,
    sealing: Option<&Sealing>,
    json_only: bool,
) -> Result<ExitCode> {
    if let Some(ledger) = envelope.statement.ledger {
        if ledger != session.log.ledger {
            bail!(
                "the envelope is for ledger {ledger}, but {} serves ledger {}",
                session.client.base(),
                session.log.ledger
            );
        }
    }
    let posted = session.client.post_sealed(envelope, sealing)?;
    let checkpoint = match session.verify_receipt(&posted.receipt, Some(envelope)) {
        // The statement itself may have ended the signer's credentials (a rotated key, a
        // revocation): the receipt is then checked as the public reader (SPEC §13.4).
        Err(hisaab_client::ClientError::Status { source, .. })
            if source.status.as_u16() == 401 && session.client.has_credentials() =>
        {
            session.client.set_credentials(None);
            session.verify_receipt(&posted.receipt, Some(envelope))
        }
        other => other,
    }
    .context("the receipt does not verify")?;
    print_receipt(&posted, json_only, checkpoint.size, &checkpoint.root)?;
    Ok(ExitCode::SUCCESS)
}

fn print_receipt(posted: &Posted, json_only: bool, size: u64, root: &Hash) -> Result<()> {
    let receipt = &posted.receipt;
    if json_only {
        let mut value = serde_json::to_value(receipt)?;
        if let Value::Object(map) = &mut value {
            map.insert("created".into(), Value::Bool(posted.created));
        }
        println!("{}", serde_json::to_string(&value)?);
        return Ok(());
    }
    println!(
        "{}: seq {} event {}",
        if posted.created {
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

/// Signs the helper's statement for the server's ledger and sends it, in one session.
fn run_helper(helper: &SubmitHelper) -> Result<ExitCode> {
    let common = common_of(helper);
    let key = keyfile::read(&common.key)?;
    let mut session = connect::open_server_as_signer(&common.server, &key)?;
    let draft = match helper {
        SubmitHelper::Raw { kind, body, .. } => {
            let kind =
                Kind::try_from_str(kind).with_context(|| format!("unknown kind {kind:?}"))?;
            Draft {
                v: session.log.format,
                kind,
                ledger: Some(session.log.ledger),
                id: None,
                issued_at: None,
                body: util::parse_body(&util::read_input(body)?)?,
            }
        }
        _ => Draft::of(
            &helper_body(helper, &mut session)?,
            session.log.ledger,
            session.log.format,
        )?,
    };
    let (envelope, sealing) = util::seal_and_sign_draft(draft, &key)?;
    if let Some(path) = &common.save {
        // What was posted, which `hisaab submit FILE` posts again as it is.
        let bytes = util::submission_bytes(&envelope, sealing.as_ref())?;
        util::write_output(Some(path), &bytes)?;
    }
    send(&mut session, &envelope, sealing.as_ref(), common.json)
}

/// The flags every helper has.
fn common_of(helper: &SubmitHelper) -> &HelperCommon {
    match helper {
        SubmitHelper::Kpi { common, .. }
        | SubmitHelper::Operator { common, .. }
        | SubmitHelper::Member { common, .. }
        | SubmitHelper::DefineKpi { common, .. }
        | SubmitHelper::Assign { common, .. }
        | SubmitHelper::Evaluate { common, .. }
        | SubmitHelper::Challenge { common, .. }
        | SubmitHelper::ResolveChallenge { common, .. }
        | SubmitHelper::Commitment { common, .. }
        | SubmitHelper::CloseCommitment { common, .. }
        | SubmitHelper::Action { common, .. }
        | SubmitHelper::CloseAction { common, .. }
        | SubmitHelper::Directive { common, .. }
        | SubmitHelper::Extend { common, .. }
        | SubmitHelper::Escalate { common, .. }
        | SubmitHelper::Meeting { common, .. }
        | SubmitHelper::Attest { common, .. }
        | SubmitHelper::RotateKey { common, .. }
        | SubmitHelper::Revoke { common, .. }
        | SubmitHelper::Measure { common, .. }
        | SubmitHelper::Schedule { common, .. }
        | SubmitHelper::Rubric { common, .. }
        | SubmitHelper::RetireKpi { common, .. }
        | SubmitHelper::Erase { common, .. }
        | SubmitHelper::Report { common, .. }
        | SubmitHelper::Withdraw { common, .. }
        | SubmitHelper::Leave { common, .. }
        | SubmitHelper::Delegate { common, .. }
        | SubmitHelper::Suspend { common, .. }
        | SubmitHelper::Reinstate { common, .. }
        | SubmitHelper::Stakeholder { common, .. }
        | SubmitHelper::Raw { common, .. } => common,
        SubmitHelper::Dispute { action } => match action {
            DisputeAction::Open { common, .. } | DisputeAction::Resolve { common, .. } => common,
        },
    }
}

/// Parses the value of `--flag`.
fn arg<T, E>(flag: &str, text: &str, parse: impl Fn(&str) -> Result<T, E>) -> Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    parse(text).with_context(|| format!("--{flag} {text:?}"))
}

/// Parses the value of an optional `--flag`.
fn opt<T, E>(
    flag: &str,
    text: Option<&String>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>>
where
    E: std::error::Error + Send + Sync + 'static,
{
    text.map(|t| arg(flag, t, parse)).transpose()
}

/// The owner given by a pair of flags `--<prefix>-member` and `--<prefix>-operator`, at most
/// one of which is present.
fn owner(
    prefix: &str,
    member: Option<&String>,
    operator: Option<&String>,
) -> Result<Option<ActionOwner>> {
    Ok(match (member, operator) {
        (Some(member), None) => Some(ActionOwner::Member(arg(
            &format!("{prefix}-member"),
            member,
            Slug::try_new,
        )?)),
        (None, Some(operator)) => Some(ActionOwner::Operator(arg(
            &format!("{prefix}-operator"),
            operator,
            Slug::try_new,
        )?)),
        (None, None) => None,
        (Some(_), Some(_)) => {
            bail!("give at most one of --{prefix}-member and --{prefix}-operator")
        }
    })
}

/// The stakeholders of `--stakeholder` flags: `None` when there are none.
fn stakeholders(ids: &[String]) -> Result<Option<Vec<Slug>>> {
    if ids.is_empty() {
        return Ok(None);
    }
    ids.iter()
        .map(|id| arg("stakeholder", id, Slug::try_new))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// An agenda item of `--item`: `TITLE|operator=ID|kpi=ID|dispute=ID|challenge=ID|stakeholder=ID`.
fn agenda_item(text: &str) -> Result<AgendaItem> {
    let mut parts = text.split('|');
    let title = parts.next().unwrap_or_default();
    let mut item = AgendaItem {
        title: arg("item", title, Text::try_new)?,
        operator: None,
        kpi: None,
        dispute: None,
        challenge: None,
        stakeholder: None,
    };
    for part in parts {
        let Some((name, id)) = part.split_once('=') else {
            bail!("--item {text:?}: {part:?} is not NAME=ID");
        };
        match name {
            "operator" => item.operator = Some(arg("item", id, Slug::try_new)?),
            "kpi" => item.kpi = Some(arg("item", id, KpiId::try_new)?),
            "dispute" => item.dispute = Some(arg("item", id, Slug::try_new)?),
            "challenge" => item.challenge = Some(arg("item", id, Slug::try_new)?),
            "stakeholder" => item.stakeholder = Some(arg("item", id, Slug::try_new)?),
            other => bail!(
                "--item {text:?}: {other:?} is not one of operator, kpi, dispute, challenge, \
                 stakeholder"
            ),
        }
    }
    Ok(item)
}

/// A band of `--band`: `VERDICT=MIN-MAX`.
fn band(text: &str) -> Result<Band> {
    let parse = || -> Option<(Verdict, u64, u64)> {
        let (verdict, range) = text.split_once('=')?;
        let (min, max) = range.split_once('-')?;
        Some((
            Verdict::try_from_str(verdict)?,
            min.parse().ok()?,
            max.parse().ok()?,
        ))
    };
    let (verdict, min, max) =
        parse().with_context(|| format!("--band {text:?} is not VERDICT=MIN-MAX"))?;
    let score = |n: u64| Score::try_new(n).with_context(|| format!("--band {text:?}"));
    Ok(Band {
        verdict,
        min: score(min)?,
        max: score(max)?,
    })
}

/// The typed body of a helper (not `raw`). `dispute resolve` replays the state here first.
fn helper_body(helper: &SubmitHelper, session: &mut Session) -> Result<Body> {
    Ok(match helper {
        SubmitHelper::Kpi {
            operator,
            kpi,
            period,
            value,
            evidence,
            note,
            supersedes,
            ..
        } => Body::SubmissionFiled(SubmissionFiledBody {
            operator: arg("operator", operator, Slug::try_new)?,
            kpi: arg("kpi", kpi, KpiId::try_new)?,
            period: arg("period", period, Period::try_parse)?,
            value: Some(arg("value", value, Decimal::try_new)?),
            evidence: evidence
                .iter()
                .map(|p| util::evidence_of(p))
                .collect::<Result<Vec<_>>>()
                .map(Some)?,
            note: Some(arg("note", note, Note::try_new)?),
            supersedes: opt("supersedes", supersedes.as_ref(), Hash::try_from_hex)?,
            ext: None,
        }),
        SubmitHelper::Operator { operator, name, .. } => {
            Body::OperatorRegistered(OperatorRegisteredBody {
                operator: arg("operator", operator, Slug::try_new)?,
                name: arg("name", name, Text::try_new)?,
                // Format 2: drawn when the statement is sealed (`util::seal_and_sign_draft`).
                blinding: None,
                ext: None,
            })
        }
        SubmitHelper::Member {
            member,
            name,
            roles,
            operator,
            member_key,
            ..
        } => Body::MemberEnrolled(MemberEnrolledBody {
            member: arg("member", member, Slug::try_new)?,
            name: arg("name", name, Text::try_new)?,
            roles: roles.clone(),
            operator: opt("operator", operator.as_ref(), Slug::try_new)?,
            key: member_public_key(member_key)?,
            ext: None,
        }),
        SubmitHelper::DefineKpi {
            kpi,
            pillar,
            title,
            unit,
            direction,
            cadence,
            evidence_required,
            ..
        } => Body::KpiDefined(KpiDefinedBody {
            kpi: arg("kpi", kpi, KpiId::try_new)?,
            pillar: *pillar,
            title: arg("title", title, Text::try_new)?,
            unit: arg("unit", unit, Text::try_new)?,
            direction: *direction,
            cadence: *cadence,
            evidence_required: *evidence_required,
            ext: None,
        }),
        SubmitHelper::Assign {
            kpi,
            operator,
            target,
            baseline,
            due,
            first_period,
            ..
        } => Body::KpiAssigned(KpiAssignedBody {
            kpi: arg("kpi", kpi, KpiId::try_new)?,
            operator: arg("operator", operator, Slug::try_new)?,
            target: arg("target", target, Decimal::try_new)?,
            baseline: opt("baseline", baseline.as_ref(), Decimal::try_new)?,
            due: arg("due", due, Date::try_parse)?,
            first_period: arg("first-period", first_period, Period::try_parse)?,
            ext: None,
        }),
        SubmitHelper::Evaluate {
            submission,
            verdict,
            score,
            rationale,
            supersedes,
            reason,
            ..
        } => Body::EvaluationRecorded(EvaluationRecordedBody {
            submission: arg("submission", submission, Hash::try_from_hex)?,
            verdict: Some(*verdict),
            score: Some(
                Score::try_new(u64::from(*score)).with_context(|| format!("--score {score}"))?,
            ),
            rationale: Some(arg("rationale", rationale, Text::try_new)?),
            supersedes: opt("supersedes", supersedes.as_ref(), Hash::try_from_hex)?,
            reason: opt("reason", reason.as_ref(), Text::try_new)?,
            ext: None,
        }),
        SubmitHelper::Challenge {
            challenge,
            pillar,
            operator,
            kpi,
            description,
            owner_member,
            owner_operator,
            due,
            severity,
            ..
        } => Body::ChallengeRaised(ChallengeRaisedBody {
            challenge: arg("challenge", challenge, Slug::try_new)?,
            pillar: *pillar,
            operator: opt("operator", operator.as_ref(), Slug::try_new)?,
            kpi: opt("kpi", kpi.as_ref(), KpiId::try_new)?,
            description: Some(arg("description", description, Text::try_new)?),
            owner: owner("owner", owner_member.as_ref(), owner_operator.as_ref())?,
            due: opt("due", due.as_ref(), Date::try_parse)?,
            severity: *severity,
            ext: None,
        }),
        SubmitHelper::Measure {
            challenge,
            by_member,
            by_operator,
            measure,
            ..
        } => Body::ChallengeMeasureRecorded(ChallengeMeasureRecordedBody {
            challenge: arg("challenge", challenge, Slug::try_new)?,
            by: owner("by", by_member.as_ref(), by_operator.as_ref())?
                .context("give one of --by-member and --by-operator")?,
            measure: Some(arg("measure", measure, Text::try_new)?),
            ext: None,
        }),
        SubmitHelper::ResolveChallenge {
            challenge,
            resolution,
            ..
        } => Body::ChallengeResolved(ChallengeResolvedBody {
            challenge: arg("challenge", challenge, Slug::try_new)?,
            resolution: Some(arg("resolution", resolution, Text::try_new)?),
            ext: None,
        }),
        SubmitHelper::Commitment {
            commitment,
            operator,
            kpi,
            action,
            due,
            in_response_to,
            ..
        } => Body::CommitmentMade(CommitmentMadeBody {
            commitment: arg("commitment", commitment, Slug::try_new)?,
            operator: arg("operator", operator, Slug::try_new)?,
            kpi: opt("kpi", kpi.as_ref(), KpiId::try_new)?,
            action: Some(arg("action", action, Text::try_new)?),
            due: arg("due", due, Date::try_parse)?,
            in_response_to: opt(
                "in-response-to",
                in_response_to.as_ref(),
                Hash::try_from_hex,
            )?,
            ext: None,
        }),
        SubmitHelper::CloseCommitment {
            commitment,
            outcome,
            note,
            ..
        } => Body::CommitmentClosed(CommitmentClosedBody {
            commitment: arg("commitment", commitment, Slug::try_new)?,
            outcome: Some(*outcome),
            note: Some(arg("note", note, Note::try_new)?),
            ext: None,
        }),
        SubmitHelper::Action {
            action,
            meeting,
            owner_member,
            owner_operator,
            due,
            text,
            stakeholders: ids,
            ..
        } => Body::ActionAssigned(ActionAssignedBody {
            action: arg("action", action, Slug::try_new)?,
            meeting: arg("meeting", meeting, Slug::try_new)?,
            owner: owner("owner", owner_member.as_ref(), owner_operator.as_ref())?
                .context("give one of --owner-member and --owner-operator")?,
            due: arg("due", due, Date::try_parse)?,
            text: Some(arg("text", text, Text::try_new)?),
            stakeholders: stakeholders(ids)?,
            ext: None,
        }),
        SubmitHelper::CloseAction {
            action,
            directive,
            outcome,
            note,
            ..
        } => {
            let id = arg("action", action, Slug::try_new)?;
            let note = arg("note", note, Note::try_new)?;
            if *directive {
                Body::DirectiveClosed(DirectiveClosedBody {
                    directive: id,
                    outcome: *outcome,
                    note: Some(note),
                    ext: None,
                })
            } else {
                Body::ActionClosed(ActionClosedBody {
                    action: id,
                    outcome: *outcome,
                    note: Some(note),
                    ext: None,
                })
            }
        }
        SubmitHelper::Directive {
            directive,
            operator,
            due,
            text,
            stakeholders: ids,
            ..
        } => Body::DirectiveIssued(DirectiveIssuedBody {
            directive: arg("directive", directive, Slug::try_new)?,
            operator: arg("operator", operator, Slug::try_new)?,
            due: arg("due", due, Date::try_parse)?,
            text: Some(arg("text", text, Text::try_new)?),
            stakeholders: stakeholders(ids)?,
            ext: None,
        }),
        SubmitHelper::Schedule {
            meeting,
            date,
            items,
            ..
        } => Body::MeetingScheduled(MeetingScheduledBody {
            meeting: arg("meeting", meeting, Slug::try_new)?,
            date: arg("date", date, Date::try_parse)?,
            agenda: items
                .iter()
                .map(|item| agenda_item(item))
                .collect::<Result<_>>()?,
            ext: None,
        }),
        SubmitHelper::Rubric { bands, .. } => Body::RubricSet(RubricSetBody {
            bands: bands.iter().map(|b| band(b)).collect::<Result<_>>()?,
            ext: None,
        }),
        SubmitHelper::RetireKpi { kpi, reason, .. } => Body::KpiRetired(KpiRetiredBody {
            kpi: arg("kpi", kpi, KpiId::try_new)?,
            reason: arg("reason", reason, Text::try_new)?,
            ext: None,
        }),
        SubmitHelper::Erase {
            entry,
            fields,
            reason,
            ..
        } => Body::FieldErased(FieldErasedBody {
            entry: arg("entry", entry, Hash::try_from_hex)?,
            fields: fields.clone(),
            reason: arg("reason", reason, Text::try_new)?,
            ext: None,
        }),
        SubmitHelper::Report { from, to, .. } => {
            let from = arg("from", from, Period::try_parse)?;
            let to = arg("to", to, Period::try_parse)?;
            let (as_of, verified) = replayed(session, None)?;
            let state_digest = verified.resolution_digest.map_err(|reason| {
                anyhow::anyhow!(
                    "the bundle at size {as_of} gives no full state to report on: {reason}"
                )
            })?;
            eprintln!(
                "the full state at size {as_of}, replayed and verified here, has digest \
                 {state_digest}"
            );
            Body::ReportPublished(ReportPublishedBody {
                from,
                to,
                as_of,
                state_digest,
                pillars: hisaab_model::view::sector_aggregates(&verified.state),
                ext: None,
            })
        }
        SubmitHelper::Withdraw {
            operator,
            kpi,
            reason,
            ..
        } => Body::AssignmentWithdrawn(AssignmentWithdrawnBody {
            operator: arg("operator", operator, Slug::try_new)?,
            kpi: arg("kpi", kpi, KpiId::try_new)?,
            reason: arg("reason", reason, Text::try_new)?,
            ext: None,
        }),
        SubmitHelper::Leave {
            operator, reason, ..
        } => Body::OperatorLeft(OperatorLeftBody {
            operator: arg("operator", operator, Slug::try_new)?,
            reason: arg("reason", reason, Text::try_new)?,
            ext: None,
        }),
        SubmitHelper::Delegate {
            operator,
            deputy,
            expires,
            ..
        } => Body::DelegationGranted(DelegationGrantedBody {
            operator: arg("operator", operator, Slug::try_new)?,
            deputy: arg("deputy", deputy, Slug::try_new)?,
            expires: arg("expires", expires, Date::try_parse)?,
            ext: None,
        }),
        SubmitHelper::Suspend { member, reason, .. } => {
            Body::MemberSuspended(MemberSuspendedBody {
                member: arg("member", member, Slug::try_new)?,
                reason: arg("reason", reason, Text::try_new)?,
                ext: None,
            })
        }
        SubmitHelper::Reinstate { member, .. } => Body::MemberReinstated(MemberReinstatedBody {
            member: arg("member", member, Slug::try_new)?,
            ext: None,
        }),
        SubmitHelper::Stakeholder {
            stakeholder,
            name,
            kind,
            ..
        } => Body::StakeholderRegistered(StakeholderRegisteredBody {
            stakeholder: arg("stakeholder", stakeholder, Slug::try_new)?,
            name: arg("name", name, Text::try_new)?,
            kind: *kind,
            ext: None,
        }),
        SubmitHelper::Extend {
            commitment,
            due,
            reason,
            ..
        } => Body::CommitmentExtended(CommitmentExtendedBody {
            commitment: arg("commitment", commitment, Slug::try_new)?,
            due: arg("due", due, Date::try_parse)?,
            reason: Some(arg("reason", reason, Text::try_new)?),
            ext: None,
        }),
        SubmitHelper::Escalate {
            escalation,
            commitment,
            directive,
            action,
            reason,
            ..
        } => Body::EscalationRecorded(EscalationRecordedBody {
            escalation: arg("escalation", escalation, Slug::try_new)?,
            item: match (commitment, directive, action) {
                (Some(c), None, None) => {
                    EscalatedItem::Commitment(arg("commitment", c, Slug::try_new)?)
                }
                (None, Some(d), None) => {
                    EscalatedItem::Directive(arg("directive", d, Slug::try_new)?)
                }
                (None, None, Some(a)) => EscalatedItem::Action(arg("action", a, Slug::try_new)?),
                _ => bail!("give exactly one of --commitment, --directive and --action"),
            },
            reason: Some(arg("reason", reason, Text::try_new)?),
            ext: None,
        }),
        SubmitHelper::Dispute { action } => match action {
            DisputeAction::Open {
                dispute,
                evaluation,
                grounds,
                ..
            } => Body::DisputeOpened(DisputeOpenedBody {
                dispute: arg("dispute", dispute, Slug::try_new)?,
                evaluation: arg("evaluation", evaluation, Hash::try_from_hex)?,
                grounds: Some(arg("grounds", grounds, Text::try_new)?),
                ext: None,
            }),
            DisputeAction::Resolve {
                dispute,
                outcome,
                rationale,
                as_of,
                ..
            } => {
                let dispute = arg("dispute", dispute, Slug::try_new)?;
                let rationale = arg("rationale", rationale, Text::try_new)?;
                let (as_of, state_digest) = replayed_digest(session, *as_of)?;
                eprintln!(
                    "the state at size {as_of}, replayed and verified here, has digest \
                     {state_digest}"
                );
                Body::DisputeResolved(DisputeResolvedBody {
                    dispute,
                    outcome: Some(*outcome),
                    as_of,
                    state_digest,
                    rationale: Some(rationale),
                    ext: None,
                })
            }
        },
        SubmitHelper::Meeting {
            meeting,
            held_on,
            attendees,
            minutes,
            decisions,
            ..
        } => Body::MeetingRecorded(MeetingRecordedBody {
            meeting: arg("meeting", meeting, Slug::try_new)?,
            held_on: arg("held-on", held_on, Date::try_parse)?,
            attendees: attendees
                .iter()
                .map(|a| arg("attendee", a, Slug::try_new))
                .collect::<Result<_>>()?,
            minutes_sha256: util::evidence_of(minutes)?.sha256,
            decisions: decisions
                .iter()
                .map(|d| arg("decision", d, Text::try_new))
                .collect::<Result<_>>()?,
            ext: None,
        }),
        SubmitHelper::Attest { meeting, .. } => Body::MeetingAttested(MeetingAttestedBody {
            meeting: arg("meeting", meeting, Slug::try_new)?,
            ext: None,
        }),
        SubmitHelper::RotateKey {
            member, new_key, ..
        } => Body::MemberKeyRotated(MemberKeyRotatedBody {
            member: arg("member", member, Slug::try_new)?,
            new_key: member_public_key(new_key)?,
            ext: None,
        }),
        SubmitHelper::Revoke { member, reason, .. } => Body::MemberRevoked(MemberRevokedBody {
            member: arg("member", member, Slug::try_new)?,
            reason: arg("reason", reason, Text::try_new)?,
            ext: None,
        }),
        SubmitHelper::Raw { kind, .. } => {
            bail!("internal: `submit raw --kind {kind}` has no typed body")
        }
    })
}

/// The digest a resolution names (SPEC §5.7; format 2: the full-state digest, §12.8) at
/// `as_of` (default: the latest checkpoint's size), from the
/// server's bundle at that size, verified here in full and checked against the pinned ledger
/// and the latest checkpoint: a resolution signs only what this client replayed itself.
fn replayed_digest(session: &mut Session, as_of: Option<u64>) -> Result<(u64, Hash)> {
    let (as_of, verified) = replayed(session, as_of)?;
    let digest = verified.resolution_digest.map_err(|reason| {
        anyhow::anyhow!(
            "the bundle at size {as_of} gives no digest for a resolution to name: {reason}"
        )
    })?;
    Ok((as_of, digest))
}

/// The server's bundle at `as_of` (default: the latest checkpoint's size), verified here in
/// full over the openings the key may read, and checked against the pinned ledger and the
/// latest checkpoint.
fn replayed(
    session: &mut Session,
    as_of: Option<u64>,
) -> Result<(u64, hisaab_model::VerifiedBundle)> {
    let latest = session.latest_checkpoint()?.checkpoint;
    let as_of = as_of.unwrap_or(latest.size);
    if as_of == 0 || as_of > latest.size {
        return Err(crate::exit::usage(format!(
            "--as-of {as_of} is not a size of the log (1..={})",
            latest.size
        )));
    }
    let (_bytes, verified) = session
        .verified_bundle(as_of, &latest)
        .context("the bundle at --as-of")?;
    Ok((as_of, verified))
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
