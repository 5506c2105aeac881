//! Runs the public RFC 6962/9162 Merkle vectors of `merkle_vectors.json` (transparency-dev/merkle
//! testdata): every inclusion and consistency probe with its expected outcome, and the roots and
//! node hashes of the reference tree.
//!
//! A probe passes when verification fails exactly when the probe says `wantErr`, as in
//! transparency-dev's `TestVerifyInclusionProbes` and `TestVerifyConsistencyProbes`. Hashes in
//! probes are standard base64 and some `wantErr` probes carry byte strings that are not 32 bytes
//! long. Following the file's `semantics_notes`:
//! - a leaf hash or proof element that is not 32 bytes is not a hash, so the probe's outcome is
//!   an error;
//! - consistency from size 0 is an error;
//! - when both sizes are equal the proof must be empty and the two given roots byte-equal, even
//!   when they are not 32 bytes long (one probe expects success with two equal 12-byte roots).
//!
//! For that last rule a given root that is not 32 bytes is stood in for by a domain-separated
//! SHA-256 of its bytes ([`stand_in_root`]) before it is handed to the typed verifier: equal
//! byte strings give equal stand-ins and different ones different stand-ins, and no stand-in is
//! the root that a proof computes (that would take a SHA-256 preimage), so every other probe
//! with such a root still fails, as Go's byte comparison makes it fail.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hisaab_log::merkle::{
    leaf_hash, stored_hash_index, tree_root, verify_consistency, verify_inclusion, MemoryTree,
    MerkleError,
};
use hisaab_log::Hash;
use serde_json::Value;

/// The vectors file inside `dir`.
const FILE_NAME: &str = "merkle_vectors.json";

/// Runs every probe and reference-tree check of `dir/merkle_vectors.json` and returns (passed,
/// failed), printing a line to stderr per failure.
///
/// # Errors
/// When the file is missing, unreadable, not JSON, or lacks the `inclusion`, `consistency` or
/// `reference_tree` sections.
pub(crate) fn run(dir: &Path) -> Result<(usize, usize), String> {
    let path = dir.join(FILE_NAME);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let root: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let section = |name: &str| {
        root.get(name)
            .ok_or_else(|| format!("{}: no `{name}` section", path.display()))
    };
    let inclusion = section("inclusion")?
        .as_array()
        .ok_or_else(|| format!("{}: `inclusion` is not a list", path.display()))?;
    let consistency = section("consistency")?
        .as_array()
        .ok_or_else(|| format!("{}: `consistency` is not a list", path.display()))?;
    let reference_tree = section("reference_tree")?;

    let mut checks: Vec<(String, Result<(), String>)> = Vec::new();
    checks.extend(reference_tree_checks(reference_tree));
    for probe in inclusion {
        checks.push((
            probe_name("inclusion", probe),
            run_probe(probe, inclusion_outcome),
        ));
    }
    for probe in consistency {
        checks.push((
            probe_name("consistency", probe),
            run_probe(probe, consistency_outcome),
        ));
    }

    let (mut passed, mut failed) = (0usize, 0usize);
    for (name, result) in checks {
        match result {
            Ok(()) => passed += 1,
            Err(why) => {
                failed += 1;
                eprintln!("merkle vectors: {name} FAILED: {why}");
            }
        }
    }
    Ok((passed, failed))
}

/// The result of verifying a probe: `Ok` when it verified, `Err` with the reason when not.
type Outcome = Result<(), Rejection>;

/// Why a probe did not verify.
enum Rejection {
    /// A leaf hash or proof element that is not 32 bytes.
    NotAHash { field: &'static str, length: usize },
    /// The verifier's error.
    Verify(MerkleError),
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::NotAHash { field, length } => {
                write!(f, "`{field}` holds {length} bytes, not a 32-byte hash")
            }
            Rejection::Verify(error) => write!(f, "{error}"),
        }
    }
}

/// Runs one probe and compares its outcome with its `wantErr`.
fn run_probe(probe: &Value, outcome: fn(&Value) -> Result<Outcome, String>) -> Result<(), String> {
    let want_error = probe
        .get("wantErr")
        .and_then(Value::as_bool)
        .ok_or("malformed probe: no boolean `wantErr`")?;
    match (outcome(probe)?, want_error) {
        (Ok(()), false) | (Err(_), true) => Ok(()),
        (Ok(()), true) => Err("verified, but the probe wants an error".to_owned()),
        (Err(rejection), false) => Err(format!("the probe should verify: {rejection}")),
    }
}

/// Verifies an inclusion probe.
fn inclusion_outcome(probe: &Value) -> Result<Outcome, String> {
    let index = number(probe, "leafIdx")?;
    let size = number(probe, "treeSize")?;
    let root = stand_in_root(&bytes(probe, "root")?);
    let leaf = bytes(probe, "leafHash")?;
    let proof = proof_bytes(probe)?;
    let outcome = (|| {
        let leaf = to_hash("leafHash", &leaf)?;
        let proof = to_hashes(&proof)?;
        verify_inclusion(&leaf, index, size, &proof, &root).map_err(Rejection::Verify)
    })();
    Ok(outcome)
}

/// Verifies a consistency probe.
fn consistency_outcome(probe: &Value) -> Result<Outcome, String> {
    let from = number(probe, "size1")?;
    let to = number(probe, "size2")?;
    let from_root = stand_in_root(&bytes(probe, "root1")?);
    let to_root = stand_in_root(&bytes(probe, "root2")?);
    let proof = proof_bytes(probe)?;
    let outcome = (|| {
        let proof = to_hashes(&proof)?;
        verify_consistency(from, to, &proof, &from_root, &to_root).map_err(Rejection::Verify)
    })();
    Ok(outcome)
}

/// A given root as the typed verifier takes it: 32 bytes as they are; any other byte string,
/// which cannot be the root of a tree, as `SHA-256("hisaab vectors: not a root\n" || bytes)`.
/// See the module documentation for why this keeps Go's byte comparison of roots.
fn stand_in_root(bytes: &[u8]) -> Hash {
    Hash::try_from_slice(bytes)
        .unwrap_or_else(|_| Hash::sha256_parts(&[b"hisaab vectors: not a root\n", bytes]))
}

/// A leaf hash or proof element: exactly 32 bytes, or the probe is rejected.
fn to_hash(field: &'static str, bytes: &[u8]) -> Result<Hash, Rejection> {
    Hash::try_from_slice(bytes).map_err(|_| Rejection::NotAHash {
        field,
        length: bytes.len(),
    })
}

fn to_hashes(proof: &[Vec<u8>]) -> Result<Vec<Hash>, Rejection> {
    proof
        .iter()
        .map(|element| to_hash("proof", element))
        .collect()
}

/// The reference tree: roots of every prefix and every stored node hash, from the leaf inputs.
fn reference_tree_checks(tree: &Value) -> Vec<(String, Result<(), String>)> {
    let list = |name: &str| -> Result<&Vec<Value>, String> {
        tree.get(name)
            .and_then(Value::as_array)
            .ok_or_else(|| format!("reference_tree has no `{name}` list"))
    };
    let leaves = match list("leaf_inputs_hex").and_then(|values| {
        values
            .iter()
            .map(|value| {
                let text = value.as_str().ok_or("a leaf input is not a string")?;
                hex::decode(text).map_err(|e| format!("leaf input {text:?}: {e}"))
            })
            .collect::<Result<Vec<_>, String>>()
    }) {
        Ok(leaves) => leaves,
        Err(why) => return vec![("reference_tree".to_owned(), Err(why))],
    };
    let mut memory = MemoryTree::new();
    for leaf in &leaves {
        memory.push_leaf(leaf_hash(leaf));
    }

    let mut checks = Vec::new();
    match list("root_hashes_hex_by_size") {
        Ok(roots) => {
            for (size, expected) in (0u64..).zip(roots) {
                let name = format!("reference_tree root of size {size}");
                let result = expect_hash(expected).and_then(|expected| {
                    let computed = tree_root(size, &memory).map_err(|e| e.to_string())?;
                    if size == memory.size() && memory.root() != computed {
                        return Err("MemoryTree::root differs from tree_root".to_owned());
                    }
                    same(expected, computed)
                });
                checks.push((name, result));
            }
        }
        Err(why) => checks.push(("reference_tree roots".to_owned(), Err(why))),
    }
    match list("node_hashes_hex_by_level") {
        Ok(levels) => {
            for (level, nodes) in (0u8..).zip(levels) {
                let Some(nodes) = nodes.as_array() else {
                    let name = format!("reference_tree level {level}");
                    checks.push((name, Err("not a list".to_owned())));
                    continue;
                };
                for (n, expected) in (0u64..).zip(nodes) {
                    let name = format!("reference_tree node ({level}, {n})");
                    let index = stored_hash_index(level, n);
                    let result = expect_hash(expected).and_then(|expected| {
                        let stored = usize::try_from(index)
                            .ok()
                            .and_then(|index| memory.stored_hashes().get(index))
                            .ok_or(format!("no stored hash at index {index}"))?;
                        same(expected, *stored)
                    });
                    checks.push((name, result));
                }
            }
        }
        Err(why) => checks.push(("reference_tree nodes".to_owned(), Err(why))),
    }
    checks
}

fn expect_hash(value: &Value) -> Result<Hash, String> {
    let text = value.as_str().ok_or("an expected hash is not a string")?;
    Hash::try_from_hex(text).map_err(|e| e.to_string())
}

fn same(expected: Hash, computed: Hash) -> Result<(), String> {
    if expected == computed {
        Ok(())
    } else {
        Err(format!("expected {expected}, computed {computed}"))
    }
}

/// `inclusion leafIdx=5 treeSize=8 "happy path" (testdata/...)`.
fn probe_name(kind: &str, probe: &Value) -> String {
    let field = |name: &str| probe.get(name).map(Value::to_string).unwrap_or_default();
    let sizes = if kind == "inclusion" {
        format!(
            "leafIdx={} treeSize={}",
            field("leafIdx"),
            field("treeSize")
        )
    } else {
        format!("size1={} size2={}", field("size1"), field("size2"))
    };
    format!("{kind} {sizes} {} ({})", field("desc"), field("file"))
}

fn number(probe: &Value, field: &str) -> Result<u64, String> {
    probe
        .get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("malformed probe: `{field}` is not a u64"))
}

/// A base64 field; `null` (Go's nil slice) is empty.
fn bytes(probe: &Value, field: &str) -> Result<Vec<u8>, String> {
    match probe.get(field) {
        Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) => decode(field, text),
        _ => Err(format!("malformed probe: `{field}` is not base64 or null")),
    }
}

/// The `proof` field: a list of base64 strings, or `null` for none.
fn proof_bytes(probe: &Value) -> Result<Vec<Vec<u8>>, String> {
    match probe.get("proof") {
        Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(elements)) => elements
            .iter()
            .map(|element| match element {
                Value::String(text) => decode("proof", text),
                Value::Null => Ok(Vec::new()),
                _ => Err("malformed probe: a proof element is not base64".to_owned()),
            })
            .collect(),
        _ => Err("malformed probe: `proof` is not a list or null".to_owned()),
    }
}

fn decode(field: &str, text: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(text)
        .map_err(|e| format!("malformed probe: `{field}` is not base64: {e}"))
}
