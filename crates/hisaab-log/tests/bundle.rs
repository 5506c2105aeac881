//! Bundles and the chain against the negative space: tampered, truncated, reordered,
//! duplicated and re-signed entries, each reported at the right seq.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;

use hisaab_log::bundle::{verify_bundle_structure, BundleError, BundleHeader, BundleWriter};
use hisaab_log::chain::ChainError;
use hisaab_log::merkle::MemoryTree;
use hisaab_log::note::{Checkpoint, VerifierKey};
use hisaab_log::{
    Entry, Envelope, Hash, PublicKey, SealedEntry, SigningKey, Statement, StatementId, Timestamp,
};
use proptest::prelude::*;
use serde_json::json;

const ORIGIN: &str = "test.hisaab.example/bundle";

struct Fixture {
    log_key: SigningKey,
    author: SigningKey,
    vkey: String,
    entries: Vec<SealedEntry>,
}

fn statement(author: &SigningKey, seq: u64, ledger: Option<Hash>, vkey: &str, v: u64) -> Statement {
    let (kind, body) = if seq == 0 {
        ("ledger.genesis", json!({"origin": ORIGIN, "log_key": vkey}))
    } else {
        (
            "operator.registered",
            json!({"operator": format!("op-{seq}"), "name": format!("Operator {seq}")}),
        )
    };
    Statement {
        v,
        ledger,
        id: StatementId::try_new(&format!("00000000-0000-7000-8000-{seq:012x}")).unwrap(),
        kind: kind.into(),
        signer: PublicKey::from_signing_key(author),
        issued_at: Timestamp::from_unix_seconds(1_790_000_000 + i64::try_from(seq).unwrap())
            .unwrap(),
        body: body.as_object().unwrap().clone(),
    }
}

fn fixture(count: u64) -> Fixture {
    fixture_of_format(count, 1)
}

fn fixture_of_format(count: u64, v: u64) -> Fixture {
    let log_key = SigningKey::from_bytes(&[2u8; 32]);
    let author = SigningKey::from_bytes(&[1u8; 32]);
    let vkey = VerifierKey::new(ORIGIN, PublicKey::from_signing_key(&log_key))
        .unwrap()
        .to_vkey();
    let mut entries: Vec<SealedEntry> = Vec::new();
    let mut ledger = None;
    for seq in 0..count {
        let prev = entries.last().map_or(Hash::ZERO, SealedEntry::event_hash);
        let envelope = Envelope::sign(statement(&author, seq, ledger, &vkey, v), &author).unwrap();
        let recorded_at =
            Timestamp::from_unix_millis(1_790_000_000_500 + i64::try_from(seq).unwrap() * 1000)
                .unwrap();
        let sealed = SealedEntry::seal(Entry::new(seq, prev, recorded_at, envelope)).unwrap();
        if seq == 0 {
            ledger = Some(sealed.event_hash());
        }
        entries.push(sealed);
    }
    Fixture {
        log_key,
        author,
        vkey,
        entries,
    }
}

fn write_bundle(f: &Fixture, lines: &[Vec<u8>], checkpoint_size: usize) -> Vec<u8> {
    write_bundle_of_format(f, lines, checkpoint_size, 1)
}

fn write_bundle_of_format(
    f: &Fixture,
    lines: &[Vec<u8>],
    checkpoint_size: usize,
    format: u64,
) -> Vec<u8> {
    let mut tree = MemoryTree::new();
    for line in lines.iter().take(checkpoint_size) {
        tree.push_leaf(hisaab_log::merkle::leaf_hash(line));
    }
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: tree.size(),
        root: tree.root(),
    };
    let header = BundleHeader::for_format(
        format,
        ORIGIN,
        &f.vkey,
        &checkpoint.sign(&f.log_key).unwrap(),
    );
    let mut writer = BundleWriter::new(Vec::new(), &header).unwrap();
    for line in lines {
        writer.write_leaf(line).unwrap();
    }
    writer.finish().unwrap()
}

fn lines(f: &Fixture) -> Vec<Vec<u8>> {
    f.entries.iter().map(|e| e.leaf_bytes().to_vec()).collect()
}

fn verify(bytes: &[u8]) -> Result<hisaab_log::bundle::BundleSummary, BundleError> {
    verify_bundle_structure(bytes, |_| Ok::<(), Infallible>(()))
}

#[test]
fn a_good_bundle_verifies_and_reports_its_checkpoint() {
    let f = fixture(12);
    let bytes = write_bundle(&f, &lines(&f), 12);
    let summary = verify(&bytes).unwrap();
    assert_eq!(summary.checkpoint.size, 12);
    assert_eq!(summary.ledger_id, f.entries[0].event_hash());
    assert_eq!(summary.last_event_hash, f.entries[11].event_hash());
}

#[test]
fn a_format_2_bundle_says_so_in_its_header_and_nothing_else_passes() {
    let f = fixture_of_format(4, 2);
    let good = write_bundle_of_format(&f, &lines(&f), 4, 2);
    assert!(good.starts_with(b"{\"bundle\":\"hisaab/v2\","));
    let summary = verify(&good).unwrap();
    assert_eq!(summary.header.format(), Some(2));
    // The header's format is the genesis statement's `v`, both ways.
    let v1_header = write_bundle_of_format(&f, &lines(&f), 4, 1);
    assert!(matches!(
        verify(&v1_header),
        Err(BundleError::GenesisMismatch {
            field: "bundle",
            ..
        })
    ));
    let v1 = fixture(4);
    let v2_header = write_bundle_of_format(&v1, &lines(&v1), 4, 2);
    assert!(matches!(
        verify(&v2_header),
        Err(BundleError::GenesisMismatch {
            field: "bundle",
            ..
        })
    ));
    // A format this code does not know is refused at the header.
    let unknown = write_bundle_of_format(&f, &lines(&f), 4, 3);
    assert!(matches!(verify(&unknown), Err(BundleError::Header { .. })));
}

#[test]
fn rejects_a_truncated_bundle() {
    let f = fixture(6);
    let bytes = write_bundle(&f, &lines(&f), 6);
    // A checkpoint for 6 entries, only 5 present.
    let mut short = bytes.clone();
    short.truncate(short.len() - f.entries[5].leaf_bytes().len() - 1);
    assert!(matches!(
        verify(&short),
        Err(BundleError::SizeMismatch {
            checkpoint: 6,
            entries: 5
        })
    ));
    // A cut in the middle of the last line.
    let cut = &bytes[..bytes.len() - 10];
    let err = verify(cut).unwrap_err();
    assert_eq!(err.seq(), Some(5), "{err}");
}

#[test]
fn rejects_reordered_and_duplicated_entries_at_the_right_seq() {
    let f = fixture(8);
    let mut swapped = lines(&f);
    swapped.swap(3, 4);
    let err = verify(&write_bundle(&f, &swapped, 8)).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::Chain(ChainError::Seq {
                expected: 3,
                found: 4
            })
        ),
        "{err}"
    );

    let mut duplicated = lines(&f);
    duplicated.insert(5, duplicated[4].clone());
    let err = verify(&write_bundle(&f, &duplicated, 9)).unwrap_err();
    assert_eq!(err.seq(), Some(5), "{err}");
}

#[test]
fn rejects_a_re_signed_entry_and_a_forged_prev() {
    let f = fixture(6);
    // Someone re-signs entry 3 with another key but keeps the signer field: signature fails.
    let mut entry = f.entries[3].entry().clone();
    let other = SigningKey::from_bytes(&[7u8; 32]);
    entry.signature = Envelope::sign(entry.statement.clone(), &other)
        .unwrap()
        .signature;
    let mut tampered = lines(&f);
    tampered[3] = entry.leaf_bytes().unwrap();
    let err = verify(&write_bundle(&f, &tampered, 6)).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::Chain(ChainError::Signature { seq: 3, .. })
        ),
        "{err}"
    );

    // A correctly signed but rewritten statement breaks the next entry's prev link.
    let mut entry = f.entries[2].entry().clone();
    entry
        .statement
        .body
        .insert("name".into(), json!("Renamed Operator"));
    entry.signature = Envelope::sign(entry.statement.clone(), &f.author)
        .unwrap()
        .signature;
    let mut tampered = lines(&f);
    tampered[2] = entry.leaf_bytes().unwrap();
    let err = verify(&write_bundle(&f, &tampered, 6)).unwrap_err();
    assert!(
        matches!(err, BundleError::Chain(ChainError::Prev { seq: 3, .. })),
        "{err}"
    );
}

#[test]
fn rejects_a_checkpoint_from_another_key_or_for_another_root() {
    let f = fixture(4);
    let all = lines(&f);
    let good = write_bundle(&f, &all, 4);
    let text = String::from_utf8(good).unwrap();
    // A checkpoint signed by a stranger under the same origin.
    let stranger = SigningKey::from_bytes(&[9u8; 32]);
    let mut tree = MemoryTree::new();
    for line in &all {
        tree.push_leaf(hisaab_log::merkle::leaf_hash(line));
    }
    let forged = Checkpoint {
        origin: ORIGIN.into(),
        size: 4,
        root: tree.root(),
    }
    .sign(&stranger)
    .unwrap();
    let header = BundleHeader::new(ORIGIN, &f.vkey, &forged);
    let mut lines_out = vec![serde_json::to_string(&header).unwrap()];
    lines_out.extend(text.lines().skip(1).map(str::to_owned));
    let bytes = lines_out.join("\n") + "\n";
    assert!(matches!(
        verify(bytes.as_bytes()),
        Err(BundleError::Checkpoint(_))
    ));

    // The right key, but the root of other entries.
    let wrong_root = Checkpoint {
        origin: ORIGIN.into(),
        size: 4,
        root: Hash::sha256(b"x"),
    }
    .sign(&f.log_key)
    .unwrap();
    let header = BundleHeader::new(ORIGIN, &f.vkey, &wrong_root);
    let mut lines_out = vec![serde_json::to_string(&header).unwrap()];
    lines_out.extend(text.lines().skip(1).map(str::to_owned));
    let bytes = lines_out.join("\n") + "\n";
    assert!(matches!(
        verify(bytes.as_bytes()),
        Err(BundleError::RootMismatch { size: 4, .. })
    ));
}

#[test]
fn rejects_a_header_that_disagrees_with_the_genesis() {
    let f = fixture(3);
    let other_log = SigningKey::from_bytes(&[5u8; 32]);
    let other_vkey = VerifierKey::new(ORIGIN, PublicKey::from_signing_key(&other_log))
        .unwrap()
        .to_vkey();
    let mut tree = MemoryTree::new();
    for e in &f.entries {
        tree.push_leaf(e.event_hash());
    }
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: 3,
        root: tree.root(),
    }
    .sign(&other_log)
    .unwrap();
    let header = BundleHeader::new(ORIGIN, &other_vkey, &cp);
    let mut writer = BundleWriter::new(Vec::new(), &header).unwrap();
    for e in &f.entries {
        writer.write_leaf(e.leaf_bytes()).unwrap();
    }
    let err = verify(&writer.finish().unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::GenesisMismatch {
                field: "log_key",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn the_callback_sees_every_entry_in_order_and_its_error_names_the_seq() {
    let f = fixture(5);
    let bytes = write_bundle(&f, &lines(&f), 5);
    let mut seen = Vec::new();
    verify_bundle_structure(&bytes[..], |e| {
        seen.push(e.entry().seq);
        Ok::<(), Infallible>(())
    })
    .unwrap();
    assert_eq!(seen, vec![0, 1, 2, 3, 4]);
    let err = verify_bundle_structure(&bytes[..], |e| {
        if e.entry().seq == 3 {
            Err(std::io::Error::other("rule broken"))
        } else {
            Ok(())
        }
    })
    .unwrap_err();
    assert!(matches!(err, BundleError::Rejected { seq: 3, .. }), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Flipping any one byte of any entry line makes verification fail, and the error names
    /// that entry or (for a byte that still parses and chains) a later one, never an earlier.
    #[test]
    fn any_flipped_entry_byte_fails_verification(line in 0usize..6, pick in any::<prop::sample::Index>(), bit in 0u8..8) {
        let f = fixture(6);
        let mut all = lines(&f);
        let target = &mut all[line];
        let at = pick.index(target.len());
        target[at] ^= 1 << bit;
        let bytes = write_bundle(&f, &lines(&f), 6);
        // Rebuild the bundle text with the tampered line but the original checkpoint.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let header = text.lines().next().unwrap().as_bytes().to_vec();
        let mut tampered = header;
        tampered.push(b'\n');
        for l in &all {
            tampered.extend_from_slice(l);
            tampered.push(b'\n');
        }
        let err = verify(&tampered).unwrap_err();
        if let Some(seq) = err.seq() {
            prop_assert!(seq >= u64::try_from(line).unwrap(), "{err}");
        }
    }

    /// Leaf bytes round-trip through parsing, and the event hash is the leaf hash.
    #[test]
    fn entries_round_trip(count in 1u64..8) {
        let f = fixture(count);
        for e in &f.entries {
            let back = SealedEntry::try_from_leaf_bytes(e.leaf_bytes()).unwrap();
            prop_assert_eq!(&back, e);
            prop_assert_eq!(back.event_hash(), hisaab_log::merkle::leaf_hash(e.leaf_bytes()));
        }
    }
}

fn withheld_line(seq: u64, kind: &str, hash: &str) -> Vec<u8> {
    format!("{{\"withheld\":{{\"seq\":{seq},\"kind\":\"{kind}\",\"leaf_hash\":\"{hash}\"}}}}")
        .into_bytes()
}

#[test]
fn a_withheld_line_stands_for_its_leaf_hash_and_a_wrong_one_fails_at_its_seq() {
    let f = fixture(5);
    let leaves = lines(&f);
    let hash = |seq: usize| f.entries[seq].event_hash().to_hex();
    // The bundle's checkpoint is over the real leaves; seqs 2 and 4 are withheld.
    let whole = write_bundle(&f, &leaves, 5);
    let mut partial_lines = leaves.clone();
    partial_lines[2] = withheld_line(2, "operator.registered", &hash(2));
    partial_lines[4] = withheld_line(4, "operator.registered", &hash(4));
    let header_end = whole.iter().position(|b| *b == b'\n').unwrap() + 1;
    let with = |lines: &[Vec<u8>]| {
        let mut bytes = whole[..header_end].to_vec();
        for line in lines {
            bytes.extend_from_slice(line);
            bytes.push(b'\n');
        }
        bytes
    };
    let summary = verify(&with(&partial_lines)).unwrap();
    assert_eq!(summary.withheld, vec![2, 4]);
    assert_eq!(summary, {
        let mut expected = verify(&whole).unwrap();
        expected.withheld = vec![2, 4];
        expected
    });
    // The callback sees the entries present, in order, and none for a withheld line.
    let mut seen = Vec::new();
    verify_bundle_structure(&with(&partial_lines)[..], |e| {
        seen.push(e.entry().seq);
        Ok::<(), Infallible>(())
    })
    .unwrap();
    assert_eq!(seen, vec![0, 1, 3]);

    // A wrong leaf hash: at its seq when an entry follows, at the root when it is the last.
    let other = Hash::sha256(b"another entry").to_hex();
    let mut wrong = partial_lines.clone();
    wrong[2] = withheld_line(2, "operator.registered", &other);
    let error = verify(&with(&wrong)).unwrap_err();
    assert!(
        matches!(
            error,
            BundleError::Chain(ChainError::WithheldLeafHash { seq: 2, .. })
        ),
        "{error}"
    );
    let mut wrong_last = partial_lines.clone();
    wrong_last[4] = withheld_line(4, "operator.registered", &other);
    assert!(matches!(
        verify(&with(&wrong_last)).unwrap_err(),
        BundleError::RootMismatch { .. }
    ));

    // Malformed withheld lines fail at their seq; the genesis is never withheld.
    let malformed = [
        withheld_line(3, "operator.registered", &hash(2)),
        withheld_line(2, "", &hash(2)),
        withheld_line(2, "operator.registered", &hash(2).to_uppercase()),
        b"{\"withheld\":{\"seq\":2,\"kind\":\"k\",\"leaf_hash\":\"00\",\"x\":1}}".to_vec(),
        b"{\"withheld\":{\"seq\":2},\"seq\":2}".to_vec(),
    ];
    for line in malformed {
        let mut bad = partial_lines.clone();
        bad[2] = line.clone();
        let error = verify(&with(&bad)).unwrap_err();
        assert!(
            matches!(error, BundleError::Withheld { seq: 2, .. }),
            "{}: {error}",
            String::from_utf8_lossy(&line)
        );
    }
    let mut genesis = leaves;
    genesis[0] = withheld_line(0, "ledger.genesis", &hash(0));
    assert!(matches!(
        verify(&with(&genesis)).unwrap_err(),
        BundleError::Chain(ChainError::WithheldGenesis)
    ));
}
