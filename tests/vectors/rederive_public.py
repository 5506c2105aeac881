#!/usr/bin/env python3
"""Re-derives tests/vectors/public.json (what anyone checks without openings) independently of
the Rust code.

Uses only docs/SPEC.md, Python's hashlib and json, and the `cryptography` package's Ed25519.

`report` (SPEC §12.12, §12.8): the report's leaf bytes are canonical, it is a format-2
`report.published` whose signature verifies over `hisaab/statement/v2\\n` || JCS(statement),
its `as_of` is its own seq and the state split beside it is the state at that size; its six
pillars are in §4.1's order, each with the number of operators whose sub-state has a pillar
score in it and, exactly when there are at least three, their rounded mean (§5.5:
(2·S + n) div 2n); and its `state_digest` is the RFC 9162 root over the leaves
JCS({"public": public part}) then JCS({"blinding","operator","state"}) per operator in the
byte order of its id, every registered operator having one.

`partial_bundle` (SPEC §6.1-6.2, §13.4): the header holds exactly its four fields; the log key
is a C2SP vkey whose name is the origin and whose key id is SHA-256(name || "\\n" || 0x01 ||
key)[:4]; the checkpoint note is signed by it; each line is either an entry's canonical leaf
bytes at its seq, of format 1, its `prev` the leaf hash of the line before (withheld or not),
its signature verifying over `hisaab/statement/v1\\n` || JCS(statement), or a withheld line
with exactly `seq` (its position), a non-empty `kind` not of the registry, and a 64-digit
lowercase `leaf_hash`, never at seq 0; the checkpoint's size and root are those of the leaf
hashes, the withheld lines' included; the rules replay up to the first withheld line. Exit
status 0 only if every byte agrees.

    python3 tests/vectors/rederive_public.py [tests/vectors/public.json]
"""
import base64
import json
import re
import sys

from rfc import jcs, leaf_hash, mth, sha256
from tally import check, failures, passes, verifies


# SPEC §4.1, in order.
PILLARS = ["legal", "resilience", "monitoring", "capacity", "cooperation", "awareness"]
# SPEC §13.3: a sector aggregate needs at least this many operators.
CONTRIBUTORS_MIN = 3
# SPEC §13.4: the registry's kinds, served to every reader.
REGISTRY = {
    "ledger.genesis", "operator.registered", "member.enrolled", "member.key_rotated",
    "member.revoked", "kpi.defined", "kpi.assigned", "meeting.recorded", "meeting.attested",
    "meeting.scheduled", "rubric.set", "kpi.retired", "delegation.granted", "member.suspended",
    "member.reinstated", "assignment.withdrawn", "operator.left", "stakeholder.registered",
    "disclosure.recorded", "field.erased", "report.published",
}
HEX64 = re.compile(r"[0-9a-f]{64}")


def rounded_mean(values):
    n = len(values)
    return None if n == 0 else (2 * sum(values) + n) // (2 * n)


def check_report(r):
    leaf = r["leaf"].encode()
    entry = json.loads(leaf)
    statement = entry["statement"]
    body = statement["body"]
    check(jcs(entry).encode() == leaf, "report: leaf bytes are canonical")
    check(statement["kind"] == "report.published" and statement["v"] == 2,
          "report: a format-2 report.published")
    check(entry["seq"] == r["seq"], "report: its seq")
    check(verifies(statement["signer"], entry["signature"],
                   b"hisaab/statement/v2\n" + jcs(statement).encode()),
          "report: the signature verifies under its signer's key")
    check(set(body) <= {"from", "to", "as_of", "state_digest", "pillars", "ext"}
          and {"from", "to", "as_of", "state_digest", "pillars"} <= set(body),
          "report: the body's fields")
    check(body["from"] <= body["to"], "report: to is not before from")
    check(body["as_of"] == entry["seq"], "report: as_of is its own seq")
    check(r["public"]["size"] == body["as_of"], "report: the state split is the state at as_of")
    check([p["pillar"] for p in body["pillars"]] == PILLARS, "report: six pillars in order")

    operators = r["operators"]
    check(sorted(r["public"]["operators"]) == sorted(o["operator"] for o in operators),
          "report: every registered operator has its sub-state, and no other")
    for p in body["pillars"]:
        scores = [o["state"]["pillar_scores"][p["pillar"]] for o in operators]
        scores = [s for s in scores if s is not None]
        check(p["operators"] == len(scores), "report: %s counts its operators" % p["pillar"])
        if len(scores) >= CONTRIBUTORS_MIN:
            check(p.get("mean") == rounded_mean(scores), "report: %s mean" % p["pillar"])
        else:
            check("mean" not in p, "report: %s withheld" % p["pillar"])
    ordered = sorted(operators, key=lambda o: o["operator"].encode())
    leaves = [jcs({"public": r["public"]}).encode()]
    leaves += [jcs({"blinding": o["blinding"], "operator": o["operator"], "state": o["state"]})
               .encode() for o in ordered]
    check(mth([leaf_hash(x) for x in leaves]).hex() == body["state_digest"],
          "report: state_digest is the full-state digest tree's root")


def check_partial(b):
    text = b["bundle"].encode()
    check(text.endswith(b"\n"), "partial: the bundle ends in a newline")
    lines = text.split(b"\n")[:-1]
    header = json.loads(lines[0])
    check(set(header) == {"bundle", "origin", "log_key", "checkpoint"}
          and header["bundle"] == "hisaab/v1", "partial: the header of a format-1 bundle")
    name, key_id, key_b64 = header["log_key"].split("+")
    raw = base64.b64decode(key_b64)
    check(name == header["origin"], "partial: the vkey's name is the origin")
    check(len(raw) == 33 and raw[0] == 1, "partial: an Ed25519 vkey")
    check(sha256(name.encode() + b"\n" + raw)[:4].hex() == key_id, "partial: the vkey's key id")
    note_body, signatures = header["checkpoint"].split("\n\n", 1)
    note_body += "\n"
    origin, size, root_b64 = note_body.split("\n")[:3]
    check(origin == name, "partial: the checkpoint's origin")
    signed = False
    for line in signatures.strip("\n").split("\n"):
        parts = line.split(" ")
        if len(parts) == 3 and parts[0] == "\u2014" and parts[1] == name:
            blob = base64.b64decode(parts[2])
            if blob[:4].hex() == key_id:
                signed = verifies(base64.b64encode(raw[1:]).decode(),
                                  base64.b64encode(blob[4:]).decode(), note_body.encode())
    check(signed, "partial: the checkpoint is signed by the log key")

    leaves, withheld = [], []
    for seq, line in enumerate(lines[1:]):
        value = json.loads(line)
        if "withheld" in value:
            w = value["withheld"]
            check(set(value) == {"withheld"} and set(w) == {"seq", "kind", "leaf_hash"},
                  "partial: seq %d: exactly the withheld line's fields" % seq)
            check(w["seq"] == seq and seq != 0, "partial: seq %d: withheld at its place" % seq)
            check(isinstance(w["kind"], str) and w["kind"] not in REGISTRY and w["kind"] != "",
                  "partial: seq %d: a kind outside the registry" % seq)
            check(HEX64.fullmatch(w["leaf_hash"]) is not None,
                  "partial: seq %d: a lowercase hex leaf hash" % seq)
            withheld.append(seq)
            leaves.append(bytes.fromhex(w["leaf_hash"]))
            continue
        statement = value["statement"]
        check(jcs(value).encode() == line, "partial: seq %d: canonical leaf bytes" % seq)
        check(value["seq"] == seq and statement["v"] == 1, "partial: seq %d: its seq, v 1" % seq)
        prev = "00" * 32 if seq == 0 else leaves[-1].hex()
        check(value["prev"] == prev, "partial: seq %d: prev is the leaf hash before it" % seq)
        check(verifies(statement["signer"], value["signature"],
                       b"hisaab/statement/v1\n" + jcs(statement).encode()),
              "partial: seq %d: the signature verifies" % seq)
        if statement["kind"] in ("submission.filed", "commitment.made"):
            check(statement["body"]["operator"] == "indus-mobile",
                  "partial: seq %d: another operator's data is withheld" % seq)
        leaves.append(leaf_hash(line))
    check(int(size) == len(leaves), "partial: the checkpoint's size counts every line")
    root = mth(leaves)
    check(base64.b64decode(root_b64) == root and root.hex() == b["root"],
          "partial: the checkpoint's root is over every leaf hash, withheld ones included")
    check(withheld == b["withheld"] and len(withheld) > 0, "partial: the withheld seqs")
    check(b["replayed"] == withheld[0], "partial: the rules replay up to the first withheld line")


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "tests/vectors/public.json"
    with open(name, encoding="utf-8") as f:
        vectors = json.load(f)
    check_report(vectors["report"])
    check_partial(vectors["partial_bundle"])
    print("public vectors re-derived: %d passed, %d failed" % (len(passes), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
