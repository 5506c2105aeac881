//! Format v2's sealed fields over the demo ledger (SPEC §12): every statement of the demo
//! scenario sealed as v2 seals it, its openings kept in a real encrypted store and read back,
//! nothing of a sealed value left in the sealed entries or in sled's files, erasure, and the
//! bytes and times that `docs/PERFORMANCE.md` quotes (printed with `--nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Instant;

mod common;

use common::files_under;
use hisaab_log::seal::{seal_body, sealed_fields, text_leaves, Openings, Seed, BLINDING_FIELD};
use hisaab_log::{Entry, Hash, SealedEntry, Statement};
use hisaab_scenario::{build, ScenarioConfig};
use hisaab_store::{Erased, MasterKey, OpeningsVault, OPENINGS_TREE};
use serde_json::Value;

/// One demo entry, in the clear and sealed.
struct Pair {
    plain: SealedEntry,
    sealed: SealedEntry,
    openings: Option<Openings>,
}

/// The demo ledger's entries, each with its v2 sealed form. Seeds and blindings are derived
/// from the seq (deterministic). The sealed entries keep the demo's signatures: only their
/// bytes are measured here; signing v2 statements is §11's.
fn demo() -> Vec<Pair> {
    let scenario = build(&ScenarioConfig::default()).unwrap();
    let mut prev = Hash::ZERO;
    let mut out = Vec::new();
    for (seq, plain) in (0u64..).zip(scenario.sealed_entries().unwrap()) {
        let statement: &Statement = &plain.entry().statement;
        let kind = statement.kind.as_str();
        let fields = sealed_fields(kind);
        let mut body = statement.body.clone();
        if fields.iter().any(|f| f.name == BLINDING_FIELD) {
            let blinding = Hash::sha256(format!("blinding {seq}").as_bytes());
            body.insert(BLINDING_FIELD.into(), Value::String(blinding.to_hex()));
        }
        let seed = Seed::from_bytes(*Hash::sha256(&seq.to_be_bytes()).as_bytes());
        let sealed = seal_body(kind, fields, &body, &seed).unwrap();
        let mut entry: Entry = plain.entry().clone();
        entry.prev = prev;
        entry.statement.body = sealed.body;
        let entry = SealedEntry::seal(entry).unwrap();
        prev = entry.event_hash();
        let openings = (!fields.is_empty()).then(|| Openings {
            seq,
            event_hash: entry.event_hash(),
            kind: kind.to_owned(),
            fields: sealed.openings,
        });
        out.push(Pair {
            plain,
            sealed: entry,
            openings,
        });
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Strings of sealed values long enough not to occur in public fields by chance (notes,
/// rationales, evidence names and digests, commitment texts, grounds).
const NEEDLE_CHARS_MIN: usize = 12;

#[test]
fn the_sealed_demo_ledger_holds_no_sealed_value() {
    let pairs = demo();
    let mut needles = 0;
    for pair in &pairs {
        let Some(openings) = &pair.openings else {
            continue;
        };
        let bytes = pair.sealed.leaf_bytes();
        for opening in openings.fields.values() {
            for text in text_leaves(&opening.value, NEEDLE_CHARS_MIN) {
                needles += 1;
                assert!(
                    !contains(bytes, text.as_bytes()),
                    "entry {} ({}) still shows {text:?}",
                    openings.seq,
                    openings.kind
                );
            }
        }
        // And every opening opens its entry.
        let opened = openings.open(&pair.sealed, sealed_fields).unwrap();
        assert!(opened.is_complete());
    }
    assert!(
        needles > 100,
        "the demo ledger has sealed texts to look for ({needles})"
    );
}

#[derive(Default)]
struct Sizes {
    entries: u64,
    plain: u64,
    sealed: u64,
    record: u64,
}

#[test]
fn the_demo_ledgers_openings_are_kept_encrypted_read_back_and_erased() {
    let pairs = demo();
    let dir = tempfile::tempdir().unwrap();
    let db = sled::open(dir.path().join("db")).unwrap();
    let master = MasterKey::generate();
    let vault = OpeningsVault::open(&db, master.clone()).unwrap();
    let tree = db.open_tree(OPENINGS_TREE).unwrap();

    let mut by_kind: BTreeMap<String, Sizes> = BTreeMap::new();
    let mut total = Sizes::default();
    let started = Instant::now();
    let mut kept = 0u32;
    for pair in &pairs {
        let plain = u64::try_from(pair.plain.leaf_bytes().len()).unwrap();
        let sealed = u64::try_from(pair.sealed.leaf_bytes().len()).unwrap();
        let record = match &pair.openings {
            Some(openings) => {
                // As the sequencer would: the record written in the caller's own batch.
                let record = vault.seal_record(openings).unwrap();
                let len = u64::try_from(record.len()).unwrap();
                tree.insert(OpeningsVault::key(openings.seq), record)
                    .unwrap();
                kept += 1;
                len
            }
            None => 0,
        };
        for sizes in [
            by_kind
                .entry(pair.plain.entry().statement.kind.clone())
                .or_default(),
            &mut total,
        ] {
            sizes.entries += 1;
            sizes.plain += plain;
            sizes.sealed += sealed;
            sizes.record += record;
        }
    }
    let put = started.elapsed();
    let started = Instant::now();
    vault.flush().unwrap();
    let flush = started.elapsed();

    let started = Instant::now();
    for pair in &pairs {
        let seq = pair.sealed.entry().seq;
        let got = vault.get(seq, &pair.sealed.event_hash()).unwrap();
        assert_eq!(got.as_ref(), pair.openings.as_ref(), "seq {seq}");
    }
    let get = started.elapsed();

    println!("kind | entries | plain B/entry | sealed B/entry | openings record B/entry");
    for (kind, s) in by_kind.iter().chain([(&"all".to_owned(), &total)]) {
        println!(
            "{kind} | {} | {} | {} | {}",
            s.entries,
            s.plain / s.entries,
            s.sealed / s.entries,
            s.record / s.entries
        );
    }
    println!(
        "{kept} openings sealed and inserted in {put:?} ({:.1} µs each), then one flush in \
         {flush:?}; all {} entries read back in {get:?}",
        put.as_secs_f64() * 1e6 / f64::from(kept),
        pairs.len()
    );

    // Nothing of a sealed value is in sled's files.
    drop(vault);
    db.flush().unwrap();
    let needles: Vec<String> = pairs
        .iter()
        .filter_map(|p| p.openings.as_ref())
        .flat_map(|o| o.fields.values())
        .flat_map(|f| text_leaves(&f.value, NEEDLE_CHARS_MIN))
        .map(str::to_owned)
        .collect();
    for file in files_under(&dir.path().join("db")) {
        // Lossy text: a UTF-8 needle found in the bytes is found in the text too.
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        for needle in &needles {
            assert!(
                !text.contains(needle.as_str()),
                "{} holds {needle:?}",
                file.display()
            );
        }
    }

    // Another master key is refused; the right one reopens.
    assert!(OpeningsVault::open(&db, MasterKey::generate()).is_err());
    let vault = OpeningsVault::open(&db, master).unwrap();

    // Erasing a field of one submission: the rest still opens its entry, the field stays
    // sealed; erasing a whole evaluation leaves nothing to open.
    let find = |kind: &str| {
        pairs
            .iter()
            .find(|p| p.plain.entry().statement.kind == kind)
            .unwrap()
    };
    let submission = find("submission.filed");
    let (seq, hash) = (
        submission.sealed.entry().seq,
        submission.sealed.event_hash(),
    );
    assert_eq!(
        vault.erase_fields(seq, &hash, &["note"]).unwrap(),
        Erased::Fields(vec!["note".into()])
    );
    let left = vault.get(seq, &hash).unwrap().unwrap();
    let opened = left.open(&submission.sealed, sealed_fields).unwrap();
    assert_eq!(opened.unopened, ["note"]);
    assert!(opened.body["note"].get("commitment").is_some());
    assert_eq!(
        opened.body["value"],
        submission.openings.as_ref().unwrap().fields["value"].value
    );
    let evaluation = find("evaluation.recorded");
    let seq = evaluation.sealed.entry().seq;
    assert!(vault.erase(seq).unwrap());
    assert_eq!(
        vault.get(seq, &evaluation.sealed.event_hash()).unwrap(),
        None
    );
}
