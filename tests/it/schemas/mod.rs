//! The JSON Schemas in `schemas/`: the generated ones match the types, and real documents
//! (every envelope, entry and body of the scenario, its states, receipts, proofs, bundle headers
//! and error bodies) validate against them while wrong-typed ones do not.
//!
//! Every file is generated from the `JsonSchema` of the type it describes and written as it
//! comes: the bodies of every kind and the state (SPEC §4–5) from `hisaab-model`'s derives;
//! envelope, statement and entry (SPEC §1–2) and the bundle header (§6) from `hisaab-log`'s,
//! with the model's kinds and genesis rule on the statement (`hisaab_model::schema`); the
//! receipt, proof and error documents (§7) from `hisaab-api`'s. Every constraint of the SPEC
//! that a pattern or keyword can say (patterns of hashes, keys, signatures and times, score
//! ranges, integer maxima, sets, list sizes, map keys, "absent, never `null`" in bodies,
//! "present, `null` when absent" in the state) is declared on the types. Run
//! `HISAAB_BLESS=1 cargo test --test it schemas` to rewrite the files.

// Tests fail by panicking (STYLE: tests may unwrap).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod malformed;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hisaab_api::{ConsistencyProof, ErrorBody, InclusionProof, Receipt, Submission};
use hisaab_log::bundle::BundleHeader;
use hisaab_log::merkle::MemoryTree;
use hisaab_log::note::{Checkpoint, VerifierKey};
use hisaab_log::{Entry, Envelope, PublicKey, SealedEntry, Statement};
use hisaab_model::body::{
    ActionAssignedBody, ActionClosedBody, AssignmentWithdrawnBody, ChallengeMeasureRecordedBody,
    ChallengeRaisedBody, ChallengeResolvedBody, CommitmentClosedBody, CommitmentExtendedBody,
    CommitmentMadeBody, DelegationGrantedBody, DirectiveClosedBody, DirectiveIssuedBody,
    DisputeOpenedBody, DisputeResolvedBody, EscalationRecordedBody, EvaluationRecordedBody,
    GenesisBody, KpiAssignedBody, KpiDefinedBody, KpiRetiredBody, MeetingAttestedBody,
    MeetingRecordedBody, MeetingScheduledBody, MemberEnrolledBody, MemberKeyRotatedBody,
    MemberReinstatedBody, MemberRevokedBody, MemberSuspendedBody, OperatorLeftBody,
    OperatorRegisteredBody, RubricSetBody, StakeholderRegisteredBody, SubmissionFiledBody,
};
use hisaab_model::state::State;
use hisaab_model::MemoryLedger;
use hisaab_scenario::{build, Scenario, ScenarioConfig};
use jsonschema::{Draft, JSONSchema};
use schemars::JsonSchema;
use serde_json::{json, Value};

/// The environment variable that makes the test rewrite the generated schemas.
const BLESS: &str = "HISAAB_BLESS";

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

// ---------------------------------------------------------------------------------------------
// Generation.

/// Every schema of `schemas/`: its path and its content, exactly as the types' `JsonSchema`
/// writes it.
fn generated() -> Vec<(String, Value)> {
    let mut schemas = Vec::new();
    let mut body = |kind: &str, schema: Value| {
        schemas.push((format!("body/{kind}.schema.json"), schema));
    };
    body("ledger.genesis", derive::<GenesisBody>());
    body("operator.registered", derive::<OperatorRegisteredBody>());
    body("member.enrolled", derive::<MemberEnrolledBody>());
    body("member.key_rotated", derive::<MemberKeyRotatedBody>());
    body("member.revoked", derive::<MemberRevokedBody>());
    body("kpi.defined", derive::<KpiDefinedBody>());
    body("kpi.assigned", derive::<KpiAssignedBody>());
    body("submission.filed", derive::<SubmissionFiledBody>());
    body("evaluation.recorded", derive::<EvaluationRecordedBody>());
    body("commitment.made", derive::<CommitmentMadeBody>());
    body("commitment.closed", derive::<CommitmentClosedBody>());
    body("challenge.raised", derive::<ChallengeRaisedBody>());
    body("challenge.resolved", derive::<ChallengeResolvedBody>());
    body("meeting.recorded", derive::<MeetingRecordedBody>());
    body("meeting.attested", derive::<MeetingAttestedBody>());
    body("dispute.opened", derive::<DisputeOpenedBody>());
    body("dispute.resolved", derive::<DisputeResolvedBody>());
    body("meeting.scheduled", derive::<MeetingScheduledBody>());
    body("action.assigned", derive::<ActionAssignedBody>());
    body("action.closed", derive::<ActionClosedBody>());
    body("directive.issued", derive::<DirectiveIssuedBody>());
    body("directive.closed", derive::<DirectiveClosedBody>());
    body("commitment.extended", derive::<CommitmentExtendedBody>());
    body("escalation.recorded", derive::<EscalationRecordedBody>());
    body("rubric.set", derive::<RubricSetBody>());
    body("kpi.retired", derive::<KpiRetiredBody>());
    body("delegation.granted", derive::<DelegationGrantedBody>());
    body("member.suspended", derive::<MemberSuspendedBody>());
    body("member.reinstated", derive::<MemberReinstatedBody>());
    body("assignment.withdrawn", derive::<AssignmentWithdrawnBody>());
    body("operator.left", derive::<OperatorLeftBody>());
    body(
        "stakeholder.registered",
        derive::<StakeholderRegisteredBody>(),
    );
    body(
        "challenge.measure_recorded",
        derive::<ChallengeMeasureRecordedBody>(),
    );
    body(
        "disclosure.recorded",
        derive::<hisaab_model::body::DisclosureRecordedBody>(),
    );
    body(
        "field.erased",
        derive::<hisaab_model::body::FieldErasedBody>(),
    );
    body(
        "report.published",
        derive::<hisaab_model::body::ReportPublishedBody>(),
    );
    schemas.push(("state.schema.json".to_owned(), derive::<State>()));
    let mut document = |name: &str, schema: Value| {
        schemas.push((format!("{name}.schema.json"), schema));
    };
    document("statement", with_statement::<Statement>());
    document("envelope", with_statement::<Envelope>());
    document("submission", with_statement::<Submission>());
    document("entry", with_statement::<Entry>());
    document("bundle-header", derive::<BundleHeader>());
    document("receipt", derive::<Receipt>());
    document("inclusion-proof", derive::<InclusionProof>());
    document("consistency-proof", derive::<ConsistencyProof>());
    document("error", derive::<ErrorBody>());
    schemas
}

/// The schema of `T` in which statements are the model's (its kinds, the genesis rule).
fn with_statement<T: JsonSchema>() -> Value {
    serde_json::to_value(hisaab_model::schema::root_schema_for::<T>()).expect("a schema serialises")
}

/// The derived schema of `T`.
fn derive<T: JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("a schema serialises")
}

/// Pretty JSON with keys sorted at every level, so the files do not depend on whether
/// serde_json's `preserve_order` feature happens to be on.
fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&sorted(value)).expect("a schema serialises");
    text.push('\n');
    text
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<(&String, &Value)> = object.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[test]
fn generated_schemas_match_the_committed_files() {
    let dir = schema_dir();
    let bless = std::env::var_os(BLESS).is_some_and(|v| v == "1");
    let schemas = generated();
    let mut stale = Vec::new();
    for (name, schema) in &schemas {
        let path = dir.join(name);
        let expected = pretty(schema);
        let found = std::fs::read_to_string(&path).unwrap_or_default();
        // The same JSON is up to date whatever its layout; blessing writes the canonical layout.
        let same = serde_json::from_str::<Value>(&found).is_ok_and(|found| &found == schema);
        if !same || (bless && found != expected) {
            if bless {
                std::fs::create_dir_all(path.parent().expect("a parent")).unwrap();
                std::fs::write(&path, expected).unwrap();
            } else {
                stale.push(name.clone());
            }
        }
    }
    // A body schema for a kind that no longer exists is stale too, and every kind has one.
    let names: BTreeSet<&str> = schemas.iter().map(|(n, _)| n.as_str()).collect();
    for kind in hisaab_model::Kind::ALL {
        let name = format!("body/{kind}.schema.json");
        assert!(
            names.contains(name.as_str()),
            "no schema generated for {name}"
        );
    }
    for file in std::fs::read_dir(dir.join("body")).expect("schemas/body/ exists") {
        let file = file.unwrap().file_name().into_string().unwrap();
        let name = format!("body/{file}");
        if !names.contains(name.as_str()) {
            if bless {
                std::fs::remove_file(dir.join(&name)).unwrap();
            } else {
                stale.push(name);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "schemas/ is out of date with the types: {stale:?}\n\
         regenerate with `{BLESS}=1 cargo test --test it schemas` and review the diff"
    );
}

#[test]
fn every_schema_is_a_valid_draft_07_schema_and_the_statements_agree() {
    for (name, _) in generated() {
        compile(&name);
    }
    // The statement inside the envelope and the entry is the statement schema itself.
    let statement = load("statement.schema.json");
    let mut inline = statement.as_object().unwrap().clone();
    inline.remove("$schema");
    inline.remove("title");
    inline.remove("definitions");
    for name in ["envelope.schema.json", "entry.schema.json"] {
        let schema = load(name);
        assert_eq!(
            schema["definitions"]["Statement"],
            Value::Object(inline.clone()),
            "{name}: definitions.Statement differs from statement.schema.json"
        );
        for (key, definition) in statement["definitions"].as_object().unwrap() {
            assert_eq!(&schema["definitions"][key], definition, "{name}: {key}");
        }
    }
    // One body schema per kind the statement schema admits.
    let kinds: BTreeSet<String> = statement["properties"]["kind"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    let bodies: BTreeSet<String> = generated()
        .into_iter()
        .filter_map(|(n, _)| {
            n.strip_prefix("body/")
                .and_then(|n| n.strip_suffix(".schema.json"))
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(kinds, bodies);
}

// ---------------------------------------------------------------------------------------------
// Validation of real documents.

fn load(name: &str) -> Value {
    let path = schema_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn compile(name: &str) -> JSONSchema {
    JSONSchema::options()
        .with_draft(Draft::Draft7)
        .compile(&load(name))
        .unwrap_or_else(|e| panic!("{name} is not a valid schema: {e}"))
}

fn errors(schema: &JSONSchema, instance: &Value) -> Vec<String> {
    match schema.validate(instance) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .map(|e| format!("{}: {e}", e.instance_path))
            .collect(),
    }
}

fn assert_valid(schema: &JSONSchema, instance: &Value, what: &str) {
    let errors = errors(schema, instance);
    assert!(
        errors.is_empty(),
        "{what} does not validate: {errors:#?}\n{instance}"
    );
}

fn assert_invalid(schema: &JSONSchema, instance: &Value, what: &str) {
    assert!(
        !schema.is_valid(instance),
        "{what} validates but should not:\n{instance}"
    );
}

struct Fixture {
    scenario: Scenario,
    entries: Vec<SealedEntry>,
    ledger: MemoryLedger,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let scenario = build(&ScenarioConfig::default()).unwrap();
        let entries = scenario.sealed_entries().unwrap();
        let ledger = scenario.into_memory_ledger().unwrap();
        Fixture {
            scenario,
            entries,
            ledger,
        }
    })
}

#[test]
fn every_envelope_entry_and_body_of_the_scenario_validates() {
    let fixture = fixture();
    let envelope = compile("envelope.schema.json");
    let statement = compile("statement.schema.json");
    let entry = compile("entry.schema.json");
    let bodies: Vec<(String, JSONSchema)> = generated()
        .into_iter()
        .filter_map(|(name, _)| {
            let kind = name
                .strip_prefix("body/")?
                .strip_suffix(".schema.json")?
                .to_owned();
            Some((kind, compile(&name)))
        })
        .collect();
    let mut kinds_seen = BTreeSet::new();
    for (step, sealed) in fixture.scenario.steps.iter().zip(&fixture.entries) {
        let what = &step.label;
        let value = serde_json::to_value(&step.envelope).unwrap();
        assert_valid(&envelope, &value, what);
        assert_valid(&statement, &value["statement"], what);
        let leaf: Value = serde_json::from_slice(sealed.leaf_bytes()).unwrap();
        assert_valid(&entry, &leaf, what);
        let kind = step.envelope.statement.kind.as_str();
        let (_, body) = bodies
            .iter()
            .find(|(k, _)| k == kind)
            .unwrap_or_else(|| panic!("no body schema for {kind}"));
        assert_valid(body, &value["statement"]["body"], what);
        kinds_seen.insert(kind.to_owned());
    }
    assert_eq!(
        kinds_seen.len(),
        bodies.len(),
        "the scenario uses every kind"
    );
}

#[test]
fn every_submission_of_the_sealed_scenario_validates() {
    let submission = compile("submission.schema.json");
    let sealed = fixture().scenario.sealed().unwrap();
    let mut with_sealing = 0;
    for step in &sealed.steps {
        let envelope = step.entry.entry().envelope();
        let posted = match &step.sealing {
            Some(sealing) => {
                with_sealing += 1;
                serde_json::to_value(Submission::Sealed(hisaab_api::SealedSubmission {
                    envelope: envelope.clone(),
                    sealing: sealing.clone(),
                }))
                .unwrap()
            }
            None => serde_json::to_value(&envelope).unwrap(),
        };
        assert_valid(&submission, &posted, &step.entry.entry().statement.kind);
        if posted.get("sealing").is_some() {
            let mut missing = posted.clone();
            missing.as_object_mut().unwrap().remove("sealing");
            assert_invalid(
                &submission,
                &missing,
                "a sealed submission without its sealing",
            );
            let mut extra = posted.clone();
            extra["more"] = json!(1);
            assert_invalid(
                &submission,
                &extra,
                "a sealed submission with another member",
            );
            let mut short_seed = posted.clone();
            short_seed["sealing"]["seed"] = json!("abcd");
            assert_invalid(&submission, &short_seed, "a seed of 2 bytes");
        }
    }
    assert!(with_sealing > 100, "{with_sealing}");
}

#[test]
fn states_of_the_scenario_validate() {
    let fixture = fixture();
    let schema = compile("state.schema.json");
    let size = fixture.ledger.entries().len() as u64;
    for at in [1, 2, size / 3, size / 2, size] {
        let state = fixture.ledger.state_at(at, None).unwrap();
        assert_valid(
            &schema,
            &serde_json::to_value(&state).unwrap(),
            &format!("state at {at}"),
        );
    }
    let state = serde_json::to_value(fixture.ledger.state_at(size, None).unwrap()).unwrap();
    // Every status and a `null` baseline appear, so the schema is exercised in full.
    let text = state.to_string();
    for status in [
        "disputed",
        "met",
        "overdue",
        "submitted",
        "partially_met",
        "not_met",
    ] {
        assert!(
            text.contains(&format!("\"status\":\"{status}\"")),
            "{status}"
        );
    }
    assert!(
        text.contains("\"baseline\":null"),
        "no KPI without a baseline"
    );
}

#[test]
fn receipts_proofs_bundle_headers_and_errors_validate() {
    let fixture = fixture();
    let mut tree = MemoryTree::new();
    for sealed in &fixture.entries {
        tree.push_leaf(sealed.event_hash());
    }
    let size = tree.size();
    let scenario = &fixture.scenario;
    let checkpoint = Checkpoint {
        origin: scenario.origin.clone(),
        size,
        root: tree.root(),
    }
    .sign(&scenario.log_key)
    .unwrap();
    let receipt = compile("receipt.schema.json");
    let inclusion = compile("inclusion-proof.schema.json");
    for index in [0, 1, size / 2, size - 1] {
        let sealed = &fixture.entries[usize::try_from(index).unwrap()];
        let proof: Vec<String> = tree
            .inclusion_proof(index, size)
            .unwrap()
            .iter()
            .map(|h| h.to_hex())
            .collect();
        let document = json!({
            "seq": index,
            "event_hash": sealed.event_hash().to_hex(),
            "recorded_at": sealed.entry().recorded_at.as_str(),
            "checkpoint": checkpoint,
            "inclusion_proof": proof,
        });
        assert_valid(&receipt, &document, "a receipt");
        let document = json!({
            "index": index,
            "tree_size": size,
            "leaf_hash": sealed.event_hash().to_hex(),
            "proof": proof,
        });
        assert_valid(&inclusion, &document, "an inclusion proof");
    }
    let consistency = compile("consistency-proof.schema.json");
    for (from, to) in [(1, size), (size / 3, size), (size, size)] {
        let proof: Vec<String> = tree
            .consistency_proof(from, to)
            .unwrap()
            .iter()
            .map(|h| h.to_hex())
            .collect();
        let document = json!({"from": from, "to": to, "proof": proof});
        assert_valid(&consistency, &document, "a consistency proof");
    }
    let vkey = VerifierKey::new(
        &scenario.origin,
        PublicKey::from_signing_key(&scenario.log_key),
    )
    .unwrap()
    .to_vkey();
    let header = BundleHeader::new(&scenario.origin, &vkey, &checkpoint);
    let header = serde_json::to_value(&header).unwrap();
    let schema = compile("bundle-header.schema.json");
    assert_valid(&schema, &header, "a bundle header");
    let mut wrong = header.clone();
    wrong["bundle"] = json!("hisaab/v3");
    assert_invalid(&schema, &wrong, "a bundle header of another format");
    let mut v2 = header.clone();
    v2["bundle"] = json!("hisaab/v2");
    assert_valid(&schema, &v2, "a bundle header of a format-2 ledger");
    let mut wrong = header.clone();
    wrong["checkpoint"] = json!(format!("{}\n{size}\n", scenario.origin));
    assert_invalid(
        &schema,
        &wrong,
        "a bundle header with an unsigned checkpoint",
    );

    let error = compile("error.schema.json");
    let document = json!({"error": {"code": "rule_violation", "message": "seq 3: ..."}});
    assert_valid(&error, &document, "an error body");
    assert_invalid(
        &error,
        &json!({"error": {"code": "BadRequest", "message": "x"}}),
        "a code",
    );
    assert_invalid(
        &error,
        &json!({"error": {"code": "x"}}),
        "an error without message",
    );
    assert_invalid(&error, &json!({"error": "x"}), "a bare error string");
}
