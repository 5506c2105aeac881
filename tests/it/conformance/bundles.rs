//! SPEC §6: bundles, and `hisaab verify` over every way of breaking them.

use super::*;

#[test]
fn bundles_are_a_header_then_every_leaf_exactly() {
    let node = Node::start();
    let pta = fixed_key(2);
    for name in ["indus", "ravi", "sindh"] {
        node.append(
            &pta,
            "operator.registered",
            json!({"operator": name, "name": name}),
        );
    }
    let entries = node.check_all_entries();
    let genesis: Value = serde_json::from_slice(&entries[0]).unwrap();
    for tree_size in [None, Some(1usize), Some(2), Some(entries.len())] {
        let path = match tree_size {
            None => "/v1/bundle".to_owned(),
            Some(n) => format!("/v1/bundle?tree_size={n}"),
        };
        let n = tree_size.unwrap_or(entries.len());
        let response = node.get(&path);
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let bytes = response.bytes().unwrap().to_vec();
        assert!(
            bytes.ends_with(b"\n"),
            "{path}: the last line does not end in \\n"
        );
        let lines: Vec<&[u8]> = bytes[..bytes.len() - 1].split(|b| *b == b'\n').collect();
        assert_eq!(lines.len(), n + 1, "{path}");
        let header: Value = serde_json::from_slice(lines[0]).unwrap();
        assert_eq!(
            keys(&header),
            set(&["bundle", "origin", "log_key", "checkpoint"]),
            "{path}"
        );
        assert_eq!(header["bundle"], json!("hisaab/v1"));
        assert_eq!(header["origin"], genesis["statement"]["body"]["origin"]);
        assert_eq!(header["log_key"], genesis["statement"]["body"]["log_key"]);
        let (size, root) = node.verify_checkpoint(header["checkpoint"].as_str().unwrap());
        let leaves: Vec<[u8; 32]> = entries[..n].iter().map(|e| leaf_hash(e)).collect();
        assert_eq!((size, root), (n as u64, mth(&leaves)), "{path}");
        for (seq, line) in lines[1..].iter().enumerate() {
            assert_eq!(
                *line,
                &entries[seq][..],
                "{path}: line {} is not entry {seq}",
                seq + 2
            );
        }
    }
    node.finish();
}

#[test]
#[allow(clippy::too_many_lines)] // One good bundle and each way of breaking §6.
fn verify_refuses_every_bundle_that_breaks_section_6() {
    let node = Node::start();
    let pta = fixed_key(2);
    for name in ["indus", "ravi", "sindh"] {
        node.append(
            &pta,
            "operator.registered",
            json!({"operator": name, "name": name}),
        );
    }
    let entries = node.check_all_entries();
    let bundle = node.get("/v1/bundle").text().unwrap();
    let lines: Vec<String> = bundle.lines().map(str::to_owned).collect();
    let header: Value = serde_json::from_str(&lines[0]).unwrap();
    let log_key = fixed_key(1);
    let leaves: Vec<[u8; 32]> = entries.iter().map(|e| leaf_hash(e)).collect();
    // A checkpoint note for `size` leaves (or `root`), signed with `key` under `name`.
    let note = |name: &str, size: usize, root: Option<[u8; 32]>, extra: &str, key: &SigningKey| {
        let root = root.unwrap_or_else(|| mth(&leaves[..size]));
        let body = format!("{ORIGIN}\n{size}\n{}\n{extra}", b64(&root));
        let mut payload = key_id_for(name, &key.verifying_key()).to_vec();
        payload.extend_from_slice(&key.sign(body.as_bytes()).to_bytes());
        format!("{body}\n\u{2014} {name} {}\n", b64(&payload))
    };
    let with_header = |header: &Value, entry_lines: &[String]| {
        let mut out = format!("{}\n", jcs_string(header));
        for line in entry_lines {
            out.push_str(line);
            out.push('\n');
        }
        out
    };
    let all = &lines[1..];
    let n = all.len();
    let mut bad: Vec<(&str, String)> = Vec::new();
    let mut h = header.clone();
    h["extra"] = json!(1);
    bad.push(("a header with an extra field", with_header(&h, all)));
    let mut h = header.clone();
    h.as_object_mut().unwrap().remove("log_key");
    bad.push(("a header without log_key", with_header(&h, all)));
    let mut h = header.clone();
    h["bundle"] = json!("hisaab/v3");
    bad.push(("another bundle version", with_header(&h, all)));
    let other = fixed_key(33);
    let mut h = header.clone();
    h["log_key"] = json!(vkey_string(&other.verifying_key()));
    h["checkpoint"] = json!(note(ORIGIN, n, None, "", &other));
    bad.push(("another log key, self-consistent", with_header(&h, all)));
    let mut h = header.clone();
    h["checkpoint"] = json!(note(
        ORIGIN,
        0,
        Some(Sha256::digest(b"").into()),
        "",
        &log_key
    ));
    bad.push(("no entries", with_header(&h, &[])));
    let mut h = header.clone();
    h["checkpoint"] = json!(note(ORIGIN, n - 1, None, "", &log_key));
    bad.push(("a checkpoint for fewer entries", with_header(&h, all)));
    let mut h = header.clone();
    h["checkpoint"] = json!(note(ORIGIN, n, Some([0xa5; 32]), "", &log_key));
    bad.push(("a checkpoint with another root", with_header(&h, all)));
    let mut h = header.clone();
    h["checkpoint"] = json!(note(ORIGIN, n, None, "extension line\n", &log_key));
    bad.push(("a checkpoint with an extension line", with_header(&h, all)));
    let mut h = header.clone();
    h["checkpoint"] = json!(note("someone.else/log", n, None, "", &log_key));
    bad.push((
        "a checkpoint signed under another name",
        with_header(&h, all),
    ));
    let mut spaced = all.to_vec();
    spaced[2] = spaced[2].replacen(':', ": ", 1);
    bad.push((
        "an entry that is not its leaf bytes",
        with_header(&header, &spaced),
    ));
    bad.push(("CRLF line endings", bundle.replace('\n', "\r\n")));
    bad.push(("no final newline", bundle.trim_end_matches('\n').to_owned()));
    bad.push(("a blank line after the entries", format!("{bundle}\n")));
    let mut swapped = all.to_vec();
    swapped.swap(1, 2);
    bad.push(("two entries swapped", with_header(&header, &swapped)));
    bad.push((
        "the header last",
        format!("{}\n{}\n", all.join("\n"), lines[0]),
    ));

    let sb = &node.sb;
    let good = sb.join("good.jsonl");
    std::fs::write(&good, &bundle).unwrap();
    let out = sb.run(&["verify", good.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What each must fail with: exit 1 (verification failed, not usage or I/O), the cause, and
    // the seq where one entry is at fault (none for a header or checkpoint fault).
    let expected: [(&str, &str, Option<u64>); 15] = [
        (
            "a header with an extra field",
            "unknown field `extra`",
            None,
        ),
        ("a header without log_key", "missing field `log_key`", None),
        (
            "another bundle version",
            "must be \"hisaab/v1\" or \"hisaab/v2\", found \"hisaab/v3\"",
            None,
        ),
        (
            "another log key, self-consistent",
            "but the genesis says",
            Some(0),
        ),
        ("no entries", "the bundle has no entries", None),
        (
            "a checkpoint for fewer entries",
            "the checkpoint is for 3 entries, but the bundle has 4",
            None,
        ),
        (
            "a checkpoint with another root",
            "but the checkpoint says a5a5a5a5",
            None,
        ),
        (
            "a checkpoint with an extension line",
            "extension lines",
            None,
        ),
        (
            "a checkpoint signed under another name",
            "no signature from a known key",
            None,
        ),
        (
            "an entry that is not its leaf bytes",
            "not the entry's canonical JSON",
            Some(2),
        ),
        (
            "CRLF line endings",
            "not the entry's canonical JSON",
            Some(0),
        ),
        (
            "no final newline",
            "the line does not end in a newline",
            Some(3),
        ),
        ("a blank line after the entries", "invalid JSON", Some(4)),
        ("two entries swapped", "the entry says seq 2", Some(1)),
        ("the header last", "unknown field `prev`", None),
    ];
    assert_eq!(
        bad.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
        expected.iter().map(|(name, ..)| *name).collect::<Vec<_>>()
    );
    let mut accepted = Vec::new();
    for (i, (name, text)) in bad.iter().enumerate() {
        let path = sb.join(&format!("bad-{i}.jsonl"));
        std::fs::write(&path, text).unwrap();
        let out = sb.run(&["verify", path.to_str().unwrap()]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_no_private_key(&all, &all_fixed_seeds());
        if out.status.success() {
            accepted.push(format!("{name}: {all}"));
            continue;
        }
        let (_, cause, seq) = expected[i];
        assert_eq!(out.status.code(), Some(1), "{name}: {all}");
        assert!(all.contains(cause), "{name}: expected {cause:?} in {all}");
        let first = all.lines().next().unwrap_or_default();
        match seq {
            Some(seq) => assert!(first.ends_with(&format!(" at seq {seq}")), "{name}: {all}"),
            None => assert!(!first.contains(" at seq "), "{name}: {all}"),
        }
    }
    assert!(
        accepted.is_empty(),
        "hisaab verify accepted:\n{}",
        accepted.join("\n")
    );

    // `replay` gives the state of §5 exactly as the server does, at any size and date.
    for (as_of, at) in [
        (None, None),
        (Some(2u64), None),
        (Some(3), Some("2100-01-01")),
    ] {
        let mut args = vec![
            "replay".to_owned(),
            good.to_str().unwrap().to_owned(),
            "--json".to_owned(),
        ];
        let mut query = Vec::new();
        if let Some(n) = as_of {
            args.extend(["--as-of".to_owned(), n.to_string()]);
            query.push(format!("as_of={n}"));
        }
        if let Some(at) = at {
            args.extend(["--at".to_owned(), at.to_owned()]);
            query.push(format!("at={at}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = sb.run(&args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let replayed: Value = serde_json::from_str(&text).unwrap();
        let served = node.get_json(&format!("/v1/state?{}", query.join("&")));
        assert_eq!(replayed, served, "replay {args:?}");
    }
    node.finish();
}
