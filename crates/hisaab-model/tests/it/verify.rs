//! Full verification of bundles (SPEC §6 + §4): the first failing seq and why.

use hisaab_log::bundle::BundleError;
use hisaab_log::chain::ChainError;
use hisaab_log::merkle::Frontier;
use hisaab_log::note::Checkpoint;
use hisaab_log::{Entry, SealedEntry};
use hisaab_model::{verify_bundle, verify_entries, VerifyError};
use hisaab_testkit::{key, log_vkey, seed, submission, Builder, ORIGIN};
use serde_json::json;

fn bundle_of(entries: &[SealedEntry], origin: &str, log_key: &str, size: u64) -> Vec<u8> {
    let mut frontier = Frontier::new();
    for e in entries.iter().take(usize::try_from(size).unwrap()) {
        frontier.push(e.event_hash());
    }
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: frontier.root(),
    }
    .sign(&key(seed::LOG))
    .unwrap();
    let header = json!({"bundle": "hisaab/v1", "origin": origin, "log_key": log_key, "checkpoint": checkpoint});
    let mut out = serde_json::to_vec(&header).unwrap();
    out.push(b'\n');
    for e in entries {
        out.extend_from_slice(e.leaf_bytes());
        out.push(b'\n');
    }
    out
}

fn standard_bundle() -> (Builder, Vec<u8>) {
    let mut b = Builder::standard();
    b.append(
        seed::CISO_INDUS,
        "submission.filed",
        submission("indus", "CR-01", "2026-10", "97.5"),
    );
    let entries = b.ledger.entries().to_vec();
    let bytes = bundle_of(&entries, ORIGIN, &log_vkey(), entries.len() as u64);
    (b, bytes)
}

#[test]
fn a_well_formed_bundle_verifies_with_its_final_state() {
    let (b, bytes) = standard_bundle();
    let verified = verify_bundle(&bytes[..]).unwrap();
    assert_eq!(verified.size, b.ledger.size());
    assert_eq!(verified.ledger_id, b.ledger.ledger().ledger_id().unwrap());
    assert_eq!(verified.origin, ORIGIN);
    assert_eq!(verified.state, b.ledger.ledger().state(None));
    let again = verify_entries(
        b.ledger
            .entries()
            .iter()
            .cloned()
            .map(Ok::<_, std::io::Error>),
    )
    .unwrap();
    assert_eq!(again.root, verified.root);
}

#[test]
fn a_flipped_byte_is_reported_at_its_seq() {
    let (b, bytes) = standard_bundle();
    let lines: Vec<&[u8]> = bytes.split(|c| *c == b'\n').collect();
    // Line 1 + 5 is entry 5; change one letter of its statement's name field.
    let target = String::from_utf8(lines[6].to_vec()).unwrap();
    let tampered = target.replacen("\"name\":\"", "\"name\":\"X", 1);
    assert_ne!(target, tampered);
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if i + 1 == lines.len() {
            break;
        }
        out.extend_from_slice(if i == 6 { tampered.as_bytes() } else { line });
        out.push(b'\n');
    }
    let err = verify_bundle(&out[..]).unwrap_err();
    assert_eq!(err.seq(), Some(5), "{err}");
    assert!(
        matches!(
            err,
            VerifyError::Bundle(BundleError::Chain(ChainError::Signature { seq: 5, .. }))
        ),
        "{err}"
    );
    let _ = b;
}

#[test]
fn truncated_reordered_and_mismatched_bundles_fail() {
    let (b, _) = standard_bundle();
    let entries = b.ledger.entries().to_vec();
    let n = entries.len() as u64;
    // Truncated: the checkpoint is for n entries, the bundle has n - 1.
    let bytes = bundle_of(&entries[..entries.len() - 1], ORIGIN, &log_vkey(), n);
    assert!(matches!(
        verify_bundle(&bytes[..]),
        Err(VerifyError::Bundle(BundleError::SizeMismatch { .. }))
    ));
    // A checkpoint for fewer entries than the bundle holds.
    let bytes = bundle_of(&entries, ORIGIN, &log_vkey(), n - 1);
    assert!(matches!(
        verify_bundle(&bytes[..]),
        Err(VerifyError::Bundle(BundleError::SizeMismatch { .. }))
    ));
    // Reordered: the chain breaks at the first moved entry.
    let mut swapped = entries.clone();
    swapped.swap(3, 7);
    let bytes = bundle_of(&swapped, ORIGIN, &log_vkey(), n);
    let err = verify_bundle(&bytes[..]).unwrap_err();
    assert_eq!(err.seq(), Some(3), "{err}");
    // Duplicated entry.
    let mut duplicated = entries.clone();
    duplicated.insert(4, entries[3].clone());
    let err = verify_bundle(&bundle_of(&duplicated, ORIGIN, &log_vkey(), n)[..]).unwrap_err();
    assert_eq!(err.seq(), Some(4), "{err}");
    // A header whose origin is not the genesis's.
    let other =
        hisaab_log::note::VerifierKey::new("other.test/x", hisaab_testkit::public(seed::LOG))
            .unwrap()
            .to_vkey();
    assert!(verify_bundle(&bundle_of(&entries, ORIGIN, &other, n)[..]).is_err());
    assert!(matches!(
        verify_bundle(&bundle_of(&entries, "other.test/x", &log_vkey(), n)[..]),
        // The header's own log key names another origin: refused before any entry is read.
        Err(VerifyError::Bundle(BundleError::Header { .. }))
    ));
    // An empty bundle, and a header only.
    assert!(verify_bundle(&b""[..]).is_err());
    let header_only = bundle_of(&[], ORIGIN, &log_vkey(), 0);
    assert!(verify_bundle(&header_only[..]).is_err());
}

#[test]
fn a_properly_signed_and_chained_entry_that_breaks_a_rule_is_found() {
    let mut b = Builder::standard();
    // Build an entry that breaks rule 5 (MN-01 is not assigned to karakoram), then seal it into the
    // chain anyway, as a dishonest log would.
    let bad = b.entry(
        seed::CISO_KARAKORAM,
        "submission.filed",
        submission("karakoram", "MN-01", "2026-10", "1"),
    );
    let mut entries = b.ledger.entries().to_vec();
    let seq = entries.len() as u64;
    let e: Entry = bad.entry().clone();
    assert_eq!(e.seq, seq);
    entries.push(bad);
    let bytes = bundle_of(&entries, ORIGIN, &log_vkey(), seq + 1);
    let err = verify_bundle(&bytes[..]).unwrap_err();
    assert_eq!(err.seq(), Some(seq));
    assert!(err.to_string().contains("rule 5"), "{err}");
}

/// `bytes` with the line of `seq` replaced by its withheld line (SPEC §6.1).
fn withhold(bytes: &[u8], entries: &[SealedEntry], seq: usize) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    let entry = &entries[seq];
    lines[seq + 1] = json!({"withheld": {
        "seq": seq,
        "kind": entry.entry().statement.kind,
        "leaf_hash": entry.event_hash().to_hex(),
    }})
    .to_string()
    .into_bytes();
    lines.join(&b'\n')
}

#[test]
fn a_partial_bundle_verifies_replays_up_to_its_first_withheld_line_and_says_which() {
    let (b, bytes) = standard_bundle();
    let entries = b.ledger.entries().to_vec();
    let last = entries.len() - 1;
    let partial = withhold(&bytes, &entries, 1);
    let verified = verify_bundle(&partial[..]).unwrap();
    assert_eq!(verified.withheld, vec![1]);
    assert_eq!(verified.replayed, 1);
    assert_eq!(verified.root, verify_bundle(&bytes[..]).unwrap().root);

    // The resolution an operator checks its sub-state against is read past withheld lines;
    // a withheld one is named as such.
    let error = hisaab_model::resolution_at(&partial[..], last as u64).unwrap_err();
    assert!(
        error.to_string().contains("not a dispute.resolved"),
        "{error}"
    );
    let error = hisaab_model::resolution_at(&partial[..], 1).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("seq 1 is withheld from this bundle"),
        "{error}"
    );
}
