#!/usr/bin/env python3
"""Re-derives tests/vectors/golden-v2.json (a worked ledger of format 2) independently of the
Rust code.

Uses only docs/SPEC.md (§1–§5, §11), Python's hashlib and json, and the `cryptography`
package's Ed25519. The file holds each entry's leaf bytes and the state at the full size.
For each entry it checks that the leaf bytes are canonical (RFC 8785 for Hisaab's profile),
that seq counts from 0 and `prev` is the event hash (RFC 9162 leaf hash) of the entry before,
that `recorded_at` never decreases, that the statement is of format 2 and names the ledger
(the event hash of entry 0) except in the genesis, and that its Ed25519 signature verifies
over `hisaab/statement/v2\\n` || JCS(statement) under its signer's key, a key the registry
held for an active member at that point (the genesis: the authority's own key).

Then it checks the state: its digest is SHA-256 of JCS(state without `digest`) (§5.7), its
`ledger`, `size`, `at` and `format`, and, projected from the statements alone, every part of
it that needs no scoring: the members (roles, operator, key, status), the operators' names,
the KPI definitions with their retirement, and in `cycle` the stakeholders, the operators that
left, the assignments withdrawn, the delegations with their status on `at`, the challenge
register (owner, severity, due date, status and measures), the directives and action items
(owner, dates, stakeholders, and for a directive or an action owed by an operator that left,
the status `left`), and the meetings' schedules and agendas; and the fields erased (§12.9),
each with the entry's seq, event hash and kind and the seq of the erasure. Exit status 0 only
if every byte agrees.

    python3 tests/vectors/rederive_v2.py [tests/vectors/golden-v2.json]
"""
import base64
import json
import sys

from rfc import jcs, leaf_hash, sha256
from tally import check, failures, passes, verifies


def task_status(closed, due, at):
    """SPEC §11.9: done or missed once closed, else overdue after `due`, else open."""
    if closed is not None:
        return closed
    return "overdue" if at > due else "open"


class Projection:
    """What SPEC §4, §5 and §11 say the statements make of the registry and the cycle."""

    def __init__(self):
        self.members = {}
        self.keys = {}
        self.operators = {}
        self.kpis = {}
        self.stakeholders = {}
        self.left = {}
        self.withdrawn = {}
        self.delegations = {}
        self.challenges = {}
        self.directives = {}
        self.actions = {}
        self.meetings = {}
        self.assigned = set()
        self.events = {}
        self.erased = {}

    def signer_may_sign(self, seq, statement):
        if seq == 0:
            return True
        member = self.keys.get(statement["signer"])
        if member is None:
            return False
        record = self.members[member]
        if record["status"] != "active" or record["key"] != statement["signer"]:
            return False
        return record["operator"] not in self.left

    def apply(self, seq, kind, body, statement, day):
        if kind == "ledger.genesis":
            member = body["authority"]["member"]
            self.members[member] = {"roles": ["authority"], "operator": None,
                                    "key": statement["signer"], "status": "active"}
            self.keys[statement["signer"]] = member
        elif kind == "operator.registered":
            self.operators[body["operator"]] = body["name"]
        elif kind == "member.enrolled":
            self.members[body["member"]] = {"roles": sorted(body["roles"]),
                                            "operator": body.get("operator"),
                                            "key": body["key"], "status": "active"}
            self.keys[body["key"]] = body["member"]
        elif kind == "member.key_rotated":
            self.members[body["member"]]["key"] = body["new_key"]
            self.keys[body["new_key"]] = body["member"]
        elif kind == "member.revoked":
            self.members[body["member"]]["status"] = "revoked"
        elif kind == "kpi.defined":
            self.kpis[body["kpi"]] = {k: body[k] for k in (
                "pillar", "title", "unit", "direction", "cadence", "evidence_required")}
            self.kpis[body["kpi"]]["retired"] = None
        elif kind == "kpi.retired":
            self.kpis[body["kpi"]]["retired"] = day
        elif kind == "kpi.assigned":
            self.assigned.add((body["operator"], body["kpi"]))
            self.withdrawn.pop((body["operator"], body["kpi"]), None)
        elif kind == "assignment.withdrawn":
            check((body["operator"], body["kpi"]) in self.assigned,
                  "seq %d: the withdrawn assignment was made" % seq)
            self.withdrawn[(body["operator"], body["kpi"])] = day
        elif kind == "operator.left":
            self.left[body["operator"]] = day
        elif kind == "stakeholder.registered":
            self.stakeholders[body["stakeholder"]] = {
                "name": body["name"], "type": body["type"], "registered": day}
        elif kind == "delegation.granted":
            self.delegations[body["deputy"]] = {"operator": body["operator"],
                                                "expires": body["expires"]}
        elif kind == "challenge.raised":
            self.challenges[body["challenge"]] = {
                "operator": body.get("operator"), "kpi": body.get("kpi"),
                "owner": body.get("owner"), "severity": body.get("severity"),
                "raised": day, "due": body.get("due"), "resolved": False, "measures": []}
        elif kind == "challenge.measure_recorded":
            self.challenges[body["challenge"]]["measures"].append(
                {"seq": seq, "by": body["by"], "on": day})
        elif kind == "challenge.resolved":
            self.challenges[body["challenge"]]["resolved"] = True
        elif kind == "field.erased":
            check(body["entry"] in self.events,
                  "seq %d: the erasure names an entry before it" % seq)
            erased = self.erased.setdefault(body["entry"], {})
            for field in body["fields"]:
                check(field not in erased, "seq %d: %s erased once" % (seq, field))
                erased.setdefault(field, seq)
        elif kind == "directive.issued":
            self.directives[body["directive"]] = {
                "operator": body["operator"], "issued": day, "due": body["due"],
                "closed": None, "stakeholders": sorted(body.get("stakeholders", []))}
        elif kind == "directive.closed":
            self.directives[body["directive"]]["closed"] = body["outcome"]
        elif kind == "action.assigned":
            self.actions[body["action"]] = {
                "meeting": body["meeting"], "owner": body["owner"], "due": body["due"],
                "closed": None, "stakeholders": sorted(body.get("stakeholders", []))}
        elif kind == "action.closed":
            self.actions[body["action"]]["closed"] = body["outcome"]
        elif kind == "meeting.scheduled":
            self.meetings[body["meeting"]] = {"scheduled_for": body["date"],
                                              "agenda": body["agenda"]}

    def unless_left(self, status, operator):
        """SPEC §11.12: open or overdue, owed by an operator that left, reads `left`."""
        if status in ("open", "overdue") and operator in self.left:
            return "left"
        return status

    def check_state(self, state, at):
        for member, record in self.members.items():
            got = state["members"].get(member, {})
            check({k: got.get(k) for k in record} == record, "member %s" % member)
        check(sorted(state["members"]) == sorted(self.members), "the members listed")
        for operator, name in self.operators.items():
            check(state["operators"].get(operator, {}).get("name") == name,
                  "operator %s's name" % operator)
        check(state["kpis"] == self.kpis, "the KPI definitions and their retirement")
        cycle = state["cycle"]
        check(cycle["stakeholders"] == self.stakeholders, "cycle.stakeholders")
        check(cycle["left"] == {o: {"on": d} for o, d in self.left.items()}, "cycle.left")
        withdrawn = [{"operator": o, "kpi": k, "on": d}
                     for (o, k), d in sorted(self.withdrawn.items())]
        check(cycle["withdrawn"] == withdrawn, "cycle.withdrawn")
        delegations = {
            deputy: {"operator": d["operator"], "expires": d["expires"],
                     "status": "expired" if at > d["expires"] else "in_force"}
            for deputy, d in self.delegations.items()}
        check(cycle["delegations"] == delegations, "cycle.delegations")
        challenges = {}
        for id_, c in self.challenges.items():
            if c["resolved"]:
                status = "resolved"
            elif c["due"] is not None and at > c["due"]:
                status = "overdue"
            else:
                status = "open"
            challenges[id_] = {k: c[k] for k in (
                "operator", "kpi", "owner", "severity", "raised", "due", "measures")}
            challenges[id_]["status"] = status
        check(cycle["challenges"] == challenges, "cycle.challenges: the register")
        for id_, d in self.directives.items():
            got = cycle["directives"].get(id_, {})
            status = self.unless_left(task_status(d["closed"], d["due"], at), d["operator"])
            want = {"operator": d["operator"], "issued": d["issued"], "due": d["due"],
                    "status": status, "stakeholders": d["stakeholders"]}
            check({k: got.get(k) for k in want} == want, "directive %s" % id_)
        for id_, a in self.actions.items():
            got = cycle["actions"].get(id_, {})
            status = task_status(a["closed"], a["due"], at)
            status = self.unless_left(status, a["owner"].get("operator"))
            want = {"meeting": a["meeting"], "owner": a["owner"], "due": a["due"],
                    "status": status, "stakeholders": a["stakeholders"]}
            check({k: got.get(k) for k in want} == want, "action %s" % id_)
        for id_, m in self.meetings.items():
            got = cycle["meetings"].get(id_, {})
            check(got.get("scheduled_for") == m["scheduled_for"] and got.get("agenda") == m["agenda"],
                  "meeting %s: its schedule and agenda" % id_)
        owned = {}
        for c in challenges.values():
            member = (c["owner"] or {}).get("member")
            if member is not None and c["status"] != "resolved":
                owned.setdefault(member, {"open": 0, "overdue": 0})[c["status"]] += 1
        for member, record in cycle["members"].items():
            counts = owned.get(member, {"open": 0, "overdue": 0})
            measures = sum(1 for c in challenges.values() for m in c["measures"]
                           if m["by"].get("member") == member)
            check((record["challenges_open"], record["challenges_overdue"], record["measures"])
                  == (counts["open"], counts["overdue"], measures),
                  "member %s: challenges owned and measures" % member)


def main():
    path_arg = sys.argv[1] if len(sys.argv) > 1 else "tests/vectors/golden-v2.json"
    golden = json.load(open(path_arg, encoding="utf-8"))
    projection = Projection()
    prev = bytes(32)
    ledger_id = None
    last_recorded = ""
    for index, leaf_text in enumerate(golden["entries"]):
        entry = json.loads(leaf_text)
        seq = entry["seq"]
        check(seq == index, "seq %d: counts from 0" % index)
        check(jcs(entry) == leaf_text, "seq %d: leaf bytes are canonical" % seq)
        check(entry["prev"] == prev.hex(), "seq %d: prev is the event hash before" % seq)
        check(entry["recorded_at"] >= last_recorded, "seq %d: recorded_at never decreases" % seq)
        last_recorded = entry["recorded_at"]
        event = leaf_hash(leaf_text.encode())
        statement = entry["statement"]
        check(statement["v"] == 2, "seq %d: a statement of format 2" % seq)
        if seq == 0:
            ledger_id = event.hex()
            check("ledger" not in statement, "genesis has no ledger field")
        else:
            check(statement.get("ledger") == ledger_id, "seq %d: ledger field" % seq)
        signing_input = b"hisaab/statement/v2\n" + jcs(statement).encode()
        check(verifies(statement["signer"], entry["signature"], signing_input),
              "seq %d: signature" % seq)
        check(projection.signer_may_sign(seq, statement),
              "seq %d: the signer's key is an active member's" % seq)
        projection.apply(seq, statement["kind"], statement["body"], statement,
                         entry["recorded_at"][:10])
        projection.events[event.hex()] = (seq, statement["kind"])
        prev = event

    state = golden["state"]
    without = {k: v for k, v in state.items() if k != "digest"}
    check(state["digest"] == sha256(jcs(without).encode()).hex(),
          "state digest: SHA-256 of JCS(state without digest)")
    at = last_recorded[:10]
    check(state["ledger"] == ledger_id, "state ledger")
    check(state["size"] == len(golden["entries"]), "state size")
    check(state["at"] == at, "state at: the date of the last recorded_at")
    check(state["format"] == 2, "state format")
    projection.check_state(state, at)
    # SPEC §12.9: every entry with erased fields, by seq, each field with the seq of the
    # `field.erased` that erased it (absent from the state when none was).
    erased = sorted(
        ({"seq": projection.events[h][0], "entry": h, "kind": projection.events[h][1],
          "fields": fields} for h, fields in projection.erased.items()),
        key=lambda e: e["seq"])
    check(state.get("erased", []) == erased, "state erased: %s" % erased)
    check(bool(erased), "the file holds an erasure")

    print("golden v2 vectors re-derived: %d passed, %d failed" % (len(passes), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
