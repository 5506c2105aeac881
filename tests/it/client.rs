//! `hisaab-client` against the real server: pinning, receipts, proofs, the remembered
//! checkpoint and the bundle, and what it refuses (another log key, a forged receipt, a
//! checkpoint that forks from the one remembered).

use hisaab_client::{ClientError, Credentials, Observation, PinError, Session, SessionOptions};
use hisaab_log::note::Checkpoint;
use hisaab_log::Hash;
use hisaab_model::body::OperatorRegisteredBody;
use hisaab_model::{Body, Slug, Text};

use crate::common::{self, fixed_key, Sandbox, Server};

const ORIGIN: &str = "client.test/hisaab";

#[test]
#[allow(clippy::too_many_lines)] // One story: pin, append, verify, remember, refuse.
fn verifies_receipts_remembers_checkpoints_and_refuses_forks_and_other_keys() {
    let sb = Sandbox::new();
    let (log_key, pta) = (fixed_key(1), fixed_key(2));
    let data = sb.join("ledger");
    common::init_ledger(&sb, &data, ORIGIN, "Client ledger");
    let server = Server::start(&sb, &data, &sb.join("log.pem"));
    let state = sb.join("client-lib-state.json");
    let vkey = common::vkey(ORIGIN, &log_key);

    // Another log key is refused before anything is remembered.
    let other = common::vkey(ORIGIN, &fixed_key(9));
    let refused = Session::open(
        &server.url,
        &SessionOptions {
            state: Some(&state),
            log_vkey: Some(other),
            repin: false,
        },
    );
    assert!(
        matches!(refused, Err(ClientError::Pin(PinError::LogKey { .. }))),
        "{refused:?}"
    );
    assert!(!state.exists());

    // Pinned by key: the ledger id is the genesis event hash.
    let mut session = Session::open(
        &server.url,
        &SessionOptions {
            state: Some(&state),
            log_vkey: Some(vkey.clone()),
            repin: false,
        },
    )
    .unwrap();
    // It reads as the authority, a full reader (SPEC §13): the bundle is for full readers.
    session.client.set_credentials(Some(Credentials::Key {
        member: "pta".to_owned(),
        key: Box::new(pta.clone()),
    }));
    assert!(!session.pinned_on_first_use);
    assert_eq!(
        session.log.ledger,
        session.client.entry(0).unwrap().event_hash()
    );
    let first = session.latest_checkpoint().unwrap();
    assert_eq!(
        (first.checkpoint.size, first.observation),
        (1, Observation::First)
    );
    assert_eq!(
        session.latest_checkpoint().unwrap().observation,
        Observation::Same
    );

    // A typed body, signed and posted; the receipt verifies, and a resubmission gets it back.
    let body = Body::OperatorRegistered(OperatorRegisteredBody {
        operator: Slug::try_new("indus").unwrap(),
        name: Text::try_new("Indus Mobile").unwrap(),
        blinding: None,
        ext: None,
    });
    let envelope = common::sign(
        &pta,
        session.log.ledger,
        body.kind().as_str(),
        serde_json::Value::Object(body.to_object().unwrap()),
    );
    let posted = session.client.post_envelope(&envelope).unwrap();
    assert!(posted.created);
    let checkpoint = session
        .verify_receipt(&posted.receipt, Some(&envelope))
        .unwrap();
    assert_eq!((posted.receipt.seq, checkpoint.size), (1, 2));
    let again = session.client.post_envelope(&envelope).unwrap();
    assert!(!again.created);
    assert_eq!(again.receipt.event_hash, posted.receipt.event_hash);
    assert_eq!(
        session
            .verify_receipt_proofs(&[posted.receipt.clone(), again.receipt])
            .unwrap(),
        2
    );

    // A receipt whose event hash was changed does not verify.
    let mut forged = posted.receipt.clone();
    forged.event_hash = Hash::sha256(b"not the entry");
    assert!(matches!(
        session.verify_receipt(&forged, None),
        Err(ClientError::Proof { .. })
    ));

    // The bundle at the latest size verifies here and holds the operator.
    let latest = session.latest_checkpoint().unwrap();
    assert_eq!(latest.observation, Observation::Same);
    let (_, verified) = session
        .verified_bundle(latest.checkpoint.size, &latest.checkpoint)
        .unwrap();
    let indus = Slug::try_new("indus").unwrap();
    assert_eq!(
        verified.state.operators[&indus].name.as_str(),
        "Indus Mobile"
    );

    // Pages of entries, the server's state (its digest checked here, the same as the replayed
    // one) and a history with nothing in it yet.
    let entries = session.client.entries(0, 10).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].leaf_hash(), posted.receipt.event_hash);
    let served = session.client.state(None, None).unwrap();
    assert_eq!(served.digest(), verified.state.digest());
    let kpi = hisaab_model::KpiId::try_new("CR-01").unwrap();
    assert!(session
        .client
        .history(&indus, &kpi, 0, 10)
        .unwrap()
        .is_empty());

    // A new session remembers the pin and the checkpoint, with no key given.
    let options = SessionOptions {
        state: Some(&state),
        log_vkey: None,
        repin: false,
    };
    let mut reopened = Session::open(&server.url, &options).unwrap();
    assert!(!reopened.pinned_on_first_use);
    assert_eq!(reopened.log, session.log);
    assert_eq!(reopened.remembered_checkpoint(), Some(latest.note.as_str()));

    // A checkpoint signed by the log key for another root of the same size is a fork.
    let fork = Checkpoint {
        origin: ORIGIN.to_owned(),
        size: latest.checkpoint.size,
        root: Hash::sha256(b"another history"),
    };
    let note = fork.sign(&log_key).unwrap();
    let refused = reopened.observe(&note, &fork);
    assert!(
        matches!(&refused, Err(ClientError::Rewritten { source, .. })
            if matches!(**source, ClientError::Forked { .. })),
        "{refused:?}"
    );
    assert!(refused
        .unwrap_err()
        .to_string()
        .contains("may have been rewritten"));
    server.stop();
}
