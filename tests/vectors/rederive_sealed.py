#!/usr/bin/env python3
"""Re-derives tests/vectors/sealed.json (SPEC §12, format v2: sealed fields) independently of
the Rust code.

Uses only SPEC.md §12, the inputs in the file (each statement's seq, event hash, kind, seed
and plain body; the disclosure's recipient and choice; the state tree's public part,
operators, blindings and sub-states) and Python's hashlib, hmac and json. The table of
sealed fields is SPEC §12.1's, written out below, and must equal the file's. For each
statement it derives every salt (HMAC-SHA256 of the seed), every commitment input and
commitment, the sealed body and its canonical bytes, the sealing and the openings; it checks
that equal values gave different commitments; it rebuilds the disclosure from the openings
and hashes it; it recomputes the public-state digest and rebuilds the full-state digest tree
(leaves, leaf hashes, RFC 9162 root and inclusion proofs). Exit status 0 only if every byte agrees.

    python3 tests/vectors/rederive_sealed.py [tests/vectors/sealed.json]
"""
import hashlib
import hmac
import json
import sys

from rfc import jcs, leaf_hash, mth, node_hash, path, sha256
from tally import check, failures, passes


# SPEC §12.1: kind -> [(field, optional)].
EXT = ("ext", True)
SEALED = {
    "operator.registered": [("blinding", False)],
    "submission.filed": [("value", False), ("evidence", False), ("note", False), EXT],
    "evaluation.recorded": [("verdict", False), ("score", False), ("rationale", False), EXT,
                            ("reason", True)],
    "commitment.made": [("action", False), EXT],
    "commitment.closed": [("outcome", False), ("note", False), EXT],
    "challenge.raised": [("description", False), EXT],
    "challenge.resolved": [("resolution", False), EXT],
    "dispute.opened": [("grounds", False), EXT],
    "dispute.resolved": [("outcome", False), ("rationale", False), EXT],
    "action.assigned": [("text", False), EXT],
    "action.closed": [("note", False), EXT],
    "directive.issued": [("text", False), EXT],
    "directive.closed": [("note", False), EXT],
    "commitment.extended": [("reason", False), EXT],
    "escalation.recorded": [("reason", False), EXT],
    "challenge.measure_recorded": [("measure", False), EXT],
}

COMMITMENT_DOMAIN = b"hisaab/commitment/v2\n"
SALT_DOMAIN = b"hisaab/salt/v2\n"


def salt_of(seed, kind, field):
    """SPEC §12.3."""
    return hmac.new(seed, SALT_DOMAIN + kind.encode() + b"\n" + field.encode(), hashlib.sha256).digest()


def commitment_input(kind, field, salt, value):
    """SPEC §12.2; value None is JSON null (an absent optional field: a decoy)."""
    return (COMMITMENT_DOMAIN + kind.encode() + b"\n" + field.encode() + b"\n" + salt
            + jcs(value).encode())


def main():
    file_path = sys.argv[1] if len(sys.argv) > 1 else "tests/vectors/sealed.json"
    with open(file_path, encoding="utf-8") as f:
        vec = json.load(f)

    check(vec["domains"] == {"commitment": COMMITMENT_DOMAIN.decode(), "salt": SALT_DOMAIN.decode()},
          "domains")
    table = {k: [(f["name"], f["optional"]) for f in v] for k, v in vec["sealed_fields"].items()}
    check(table == SEALED, "sealed-field table is SPEC §12.1's")

    openings_by_seq = {}
    for st in vec["statements"]:
        seq, kind = st["seq"], st["kind"]
        where = "seq %d (%s)" % (seq, kind)
        check(st["event_hash"] == sha256(("golden sealed entry %d" % seq).encode()).hex(),
              where + ": event hash input")
        seed = bytes.fromhex(st["seed"])
        check(len(seed) == 32, where + ": seed is 32 bytes")
        plain = st["plain_body"]
        sealed = dict(plain)
        fields_out, openings, values = [], {}, {}
        for name, optional in SEALED[kind]:
            if name in plain:
                value = plain[name]
                check(value is not None, where + ": " + name + " is not null")
            else:
                check(optional, where + ": required " + name + " present")
                value = None
            salt = salt_of(seed, kind, name)
            data = commitment_input(kind, name, salt, value)
            c = sha256(data).hex()
            sealed[name] = {"commitment": c}
            fields_out.append({"name": name, "salt": salt.hex(), "value_jcs": jcs(value),
                               "commitment_input_hex": data.hex(), "commitment": c})
            openings[name] = {"salt": salt.hex(), "value": value}
            values[name] = value
        check(st["fields"] == fields_out, where + ": salts, commitment inputs and commitments")
        check(st["sealed_body"] == sealed, where + ": sealed body")
        check(st["sealed_body_jcs"] == jcs(sealed), where + ": sealed body JCS")
        for name, _ in SEALED[kind]:
            check(sealed[name] != plain.get(name), where + ": " + name + " no longer in the clear")
        check(st["sealing"] == {"seed": seed.hex(), "values": values}, where + ": sealing")
        op = {"seq": seq, "event_hash": st["event_hash"], "kind": kind, "fields": openings}
        check(st["openings"] == op, where + ": openings")
        check(st["openings_jcs"] == jcs(op), where + ": openings JCS")
        openings_by_seq[seq] = op

    # Equal values never give equal commitments (the two submissions report the same value).
    subs = [s for s in vec["statements"] if s["kind"] == "submission.filed"]
    check(len(subs) >= 2 and subs[0]["plain_body"]["value"] == subs[1]["plain_body"]["value"]
          and subs[0]["sealed_body"]["value"] != subs[1]["sealed_body"]["value"],
          "equal values, different commitments")
    decoys = [s for s in subs if "ext" not in s["plain_body"]]
    check(len(decoys) == 1 and decoys[0]["openings"]["fields"]["ext"]["value"] is None,
          "an absent optional field has a decoy")

    # SPEC §12.7: the disclosure holds, per chosen entry in ascending seq, only the chosen fields.
    d = vec["disclosure"]
    entries = []
    for choice in sorted(d["chosen"], key=lambda c: c["seq"]):
        full = openings_by_seq[choice["seq"]]
        entries.append({"seq": full["seq"], "event_hash": full["event_hash"], "kind": full["kind"],
                        "fields": {n: full["fields"][n] for n in choice["fields"]}})
    doc = {"disclosure": "hisaab/disclosure/v2", "ledger": vec["ledger"], "to": d["to"],
           "entries": entries}
    check(d["document"] == doc, "disclosure document")
    check(d["document_jcs"] == jcs(doc), "disclosure JCS")
    check(d["sha256"] == sha256(jcs(doc).encode()).hex(), "disclosure sha256")
    for item in doc["entries"]:
        st = next(s for s in vec["statements"] if s["seq"] == item["seq"])
        for name, o in item["fields"].items():
            c = sha256(commitment_input(item["kind"], name, bytes.fromhex(o["salt"]), o["value"])).hex()
            check(st["sealed_body"][name]["commitment"] == c,
                  "disclosed %s of seq %d checks against the sealed body" % (name, item["seq"]))

    # SPEC §12.8: leaf 0 the public part, then operators in ascending id bytes.
    t = vec["state_tree"]
    ops = sorted(t["operators"], key=lambda o: o["operator"].encode())
    blindings = {s["plain_body"]["operator"]: s["plain_body"]["blinding"]
                 for s in vec["statements"] if s["kind"] == "operator.registered"}
    for o in ops:
        check(blindings.get(o["operator"]) == o["blinding"],
              o["operator"] + ": blinding is the sealed one of its operator.registered")
    leaves = [jcs({"public": t["public"]}).encode()]
    leaves += [jcs({"blinding": o["blinding"], "operator": o["operator"], "state": o["state"]}).encode()
               for o in ops]
    hashes = [leaf_hash(x) for x in leaves]
    check(t["leaves"] == [{"bytes": x.decode(), "leaf_hash": h.hex()} for x, h in zip(leaves, hashes)],
          "state tree leaves and leaf hashes")
    check(t["public_digest"] == sha256(jcs(t["public"]).encode()).hex(), "public-state digest")
    check(t["digest"] == mth(hashes).hex(), "full-state digest (RFC 9162 root)")
    proofs = [{"index": 0, "size": len(hashes), "path": [h.hex() for h in path(0, hashes)]}]
    for i, o in enumerate(ops, start=1):
        proofs.append({"operator": o["operator"], "index": i, "size": len(hashes),
                       "path": [h.hex() for h in path(i, hashes)]})
    check(t["proofs"] == proofs, "sub-state proofs")

    print("%d checks passed, %d failed" % (len(passes), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
