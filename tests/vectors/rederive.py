#!/usr/bin/env python3
"""Re-derives tests/vectors/golden.json independently of the Rust code.

Uses only SPEC.md, the seeds in the file, Python's hashlib and the `cryptography` package's
Ed25519. For each entry it re-canonicalises the statement (RFC 8785 for Hisaab's profile:
integers and strings only), checks the signer is the seed's public key, re-signs the signing
input (Ed25519 is deterministic), rebuilds the entry's canonical JSON from seq, prev and
the file's recorded_at, and recomputes the event hash. Then it recomputes the root for
every tree size, every inclusion and consistency proof (RFC 9162 §2.1), the log's key id and
vkey (C2SP signed-note) and the checkpoint signature. Finally it projects the state of SPEC §5
at the full size from the statements (for the kinds the golden ledger holds) and checks the
file's `state` and its digest, SHA-256 of JCS(state without `digest`): every KPI carries
`baseline`, `null` when the assignment in force has none. Exit status 0 only if every byte
agrees.

    python3 tests/vectors/rederive.py [tests/vectors/golden.json]
"""
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

from rfc import jcs, leaf_hash, mth, node_hash, path, sha256
from tally import check, failures, passes


def subproof(m, leaves, b):
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b)."""
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def private_key(seed_hex):
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))


def public_bytes(key):
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

PILLARS = ["legal", "resilience", "monitoring", "capacity", "cooperation", "awareness"]


def project(entries):
    """The state of SPEC §5 at the full size, default `at`, for a ledger without evaluations,
    commitments, challenges, meetings or disputes (all the golden ledger holds)."""
    ledger = entries[0]["event_hash"]
    operators, members, kpis, assignments, submissions = {}, {}, {}, {}, {}
    at = None
    for item in entries:
        leaf = json.loads(item["leaf_bytes"])
        statement = leaf["statement"]
        kind, body = statement["kind"], statement["body"]
        at = leaf["recorded_at"][:10]
        if kind == "ledger.genesis":
            members[body["authority"]["member"]] = {
                "roles": ["authority"], "operator": None, "key": statement["signer"],
                "status": "active"}
        elif kind == "operator.registered":
            operators[body["operator"]] = body["name"]
        elif kind == "member.enrolled":
            members[body["member"]] = {
                "roles": sorted(body["roles"]), "operator": body.get("operator"),
                "key": body["key"], "status": "active"}
        elif kind == "kpi.defined":
            kpis[body["kpi"]] = body
        elif kind == "kpi.assigned":
            assignments[(body["operator"], body["kpi"])] = body
        elif kind == "submission.filed":
            check("supersedes" not in body, "the projection here knows no superseding")
            submissions.setdefault((body["operator"], body["kpi"]), []).append(
                (body["period"], item["event_hash"], body["value"]))
        else:
            check(False, "the projection here knows no %s" % kind)
    state_operators = {}
    for operator, name in operators.items():
        state_kpis = {}
        for (op, kpi), a in assignments.items():
            if op != operator:
                continue
            subs = sorted(submissions.get((op, kpi), []))
            latest = subs[-1] if subs else None
            if at > a["due"]:
                status = "overdue"
            elif latest:
                status = "submitted"
            else:
                status = "pending"
            state_kpis[kpi] = {
                "pillar": kpis[kpi]["pillar"], "target": a["target"],
                "baseline": a.get("baseline"), "due": a["due"],
                "first_period": a["first_period"],
                "latest_submission": latest[1] if latest else None,
                "period": latest[0] if latest else None,
                "value": latest[2] if latest else None,
                "evaluation": None, "verdict": None, "score": None, "status": status}
        state_operators[operator] = {
            "name": name, "kpis": state_kpis,
            "pillar_scores": {p: None for p in PILLARS}, "score": None,
            "commitments": {"open": 0, "overdue": 0, "fulfilled": 0, "missed": 0,
                            "withdrawn": 0},
            "disputes": {"open": 0, "upheld": 0, "overturned": 0}}
    state = {"ledger": ledger, "size": len(entries), "at": at, "operators": state_operators,
             "sector": {p: None for p in PILLARS}, "members": members}
    state["digest"] = sha256(jcs(state).encode()).hex()
    return state



def main():
    path_arg = sys.argv[1] if len(sys.argv) > 1 else "tests/vectors/golden.json"
    golden = json.load(open(path_arg, encoding="utf-8"))
    keys = {name: private_key(seed) for name, seed in golden["seeds_hex"].items()}
    for name, key in keys.items():
        check(base64.b64encode(public_bytes(key)).decode() == golden["public_keys"][name],
              "public key of %s" % name)
    by_public = {base64.b64encode(public_bytes(k)).decode(): k for k in keys.values()}

    origin = golden["origin"]
    log_public = public_bytes(keys["log"])
    key_id = sha256(origin.encode() + b"\n" + b"\x01" + log_public)[:4]
    vkey = "%s+%s+%s" % (origin, key_id.hex(), base64.b64encode(b"\x01" + log_public).decode())
    check(vkey == golden["log_vkey"], "log vkey")

    prev = bytes(32)
    leaves = []
    for item in golden["entries"]:
        seq = item["seq"]
        statement = json.loads(item["statement_jcs"])
        statement_jcs = jcs(statement).encode()
        check(statement_jcs.decode() == item["statement_jcs"], "seq %d: statement is canonical" % seq)
        signing_input = b"hisaab/statement/v1\n" + statement_jcs
        check(signing_input.hex() == item["signing_input_hex"], "seq %d: signing input" % seq)
        signer = by_public.get(statement["signer"])
        check(signer is not None, "seq %d: signer is a seed key" % seq)
        signature = base64.b64encode(signer.sign(signing_input)).decode()
        check(signature == item["signature"], "seq %d: signature" % seq)
        envelope = {"statement": statement, "signature": signature}
        check(jcs(envelope) == item["envelope_jcs"], "seq %d: envelope" % seq)
        recorded_at = json.loads(item["leaf_bytes"])["recorded_at"]
        entry = {"seq": seq, "prev": prev.hex(), "recorded_at": recorded_at,
                 "statement": statement, "signature": signature}
        leaf = jcs(entry).encode()
        check(leaf.decode() == item["leaf_bytes"], "seq %d: leaf bytes" % seq)
        event = leaf_hash(leaf)
        check(event.hex() == item["event_hash"], "seq %d: event hash" % seq)
        if seq == 0:
            check(event.hex() == golden["ledger_id"], "ledger id")
            check("ledger" not in statement, "genesis has no ledger field")
        else:
            check(statement.get("ledger") == golden["ledger_id"], "seq %d: ledger field" % seq)
        leaves.append(event)
        prev = event

    for r in golden["roots"]:
        check(mth(leaves[: r["tree_size"]]).hex() == r["root"], "root at size %d" % r["tree_size"])
    for p in golden["inclusion_proofs"]:
        want = [h.hex() for h in path(p["index"], leaves[: p["tree_size"]])]
        check(want == p["proof"], "inclusion proof %d in %d" % (p["index"], p["tree_size"]))
    for p in golden["consistency_proofs"]:
        frm, to = p["from"], p["to"]
        want = [h.hex() for h in subproof(frm, leaves[:to], True)] if frm < to else []
        check(want == p["proof"], "consistency proof %d to %d" % (frm, to))

    cp = golden["checkpoint"]
    root = mth(leaves)
    check(cp["root"] == root.hex() and cp["size"] == len(leaves), "checkpoint size and root")
    body = "%s\n%d\n%s\n" % (origin, len(leaves), base64.b64encode(root).decode())
    sig = keys["log"].sign(body.encode())
    note = body + "\n\u2014 %s %s\n" % (origin, base64.b64encode(key_id + sig).decode())
    check(note == cp["note"], "checkpoint note")

    want = project(golden["entries"])
    check("state" in golden and golden["state"] == want, "state of SPEC §5 at the full size")
    check(golden.get("state", {}).get("digest") == want["digest"], "state digest")
    for operator in want["operators"].values():
        for kpi in operator["kpis"].values():
            check("baseline" in kpi, "every KPI of the state carries baseline")

    print("golden vectors re-derived: %d passed, %d failed" % (len(passes), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
