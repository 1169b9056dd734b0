#!/usr/bin/env python3
"""Update interleavings on the real kernel: run apiary-check on a bundle and
assert what the update exploration found, in the output, the store and the
HTML report.

usage: update_test.py CHECK REPORT SPEC EXIT [--expect RX]... [--reject RX]...
                      [--stat NAME OP N]... [--store INVARIANT:SEVERITY]...
                      [--html RX]... [--replay-first INVARIANT] [apiary-check args...]

--stat: a number from the summary lines ("packets refused", "mixed versions on
the sidecar path", "under a naive replace", "with a different outcome",
"flows pinned anew", "entries converted", "lost", "sequences") compared with
OP (==, >=, >) against N; N may be "sequences*K" (K times the sequence count).
--replay-first: run the replay command of the first violation of INVARIANT and
require the same violation (and summary) again.
"""
import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

STATS = {
    "sequences": r"(\d+) sequences",
    "flows": r"; (\d+) flows:",
    "sidecar_mixed": r"(\d+) mixed versions on the sidecar path",
    "naive_mixed": r"(\d+) under a naive replace",
    "naive_differs": r"\((\d+) with a different outcome\)",
    "refused": r"(\d+) packets refused",
    "repinned": r"(\d+) flows pinned anew",
    "migrated": r"(\d+) entries converted",
    "lost": r"converted, (\d+) lost",
    "bad": r"lost, (\d+) unconverted",
    "after": r"after the flip: (\d+) inputs",
}


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=300, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def stat(out, name):
    m = re.search(STATS[name], out)
    return int(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("check")
    ap.add_argument("report")
    ap.add_argument("spec")
    ap.add_argument("exit", type=int)
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--stat", action="append", nargs=3, default=[])
    ap.add_argument("--store", action="append", default=[])
    ap.add_argument("--html", action="append", default=[])
    ap.add_argument("--replay-first")
    a, a.extra = ap.parse_known_args()

    fails = []
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "apiary.db")
        html = os.path.join(tmp, "report.html")
        rc, out, err = run([a.check, a.spec, "--db", db] + a.extra)
        if rc != a.exit:
            fails.append(f"exit status {rc}, expected {a.exit}")
        for rx in a.expect:
            if not re.search(rx, out, re.M):
                fails.append(f"output lacks /{rx}/")
        for rx in a.reject:
            if re.search(rx, out, re.M):
                fails.append(f"output has /{rx}/")
        seq = stat(out, "sequences")
        for name, op, want in a.stat:
            got = stat(out, name)
            if want.startswith("sequences*"):
                want = (seq or 0) * int(want.split("*")[1])
            want = int(want)
            ok = got is not None and {"==": got == want, ">=": got >= want,
                                      ">": got > want}[op]
            if not ok:
                fails.append(f"stat {name} = {got}, expected {op} {want}")
        if a.store:
            rows = set(sqlite3.connect(db).execute(
                "select invariant || ':' || severity from violations"))
            rows = {r[0] for r in rows}
            for want in a.store:
                if want not in rows:
                    fails.append(f"store lacks a {want} violation (has {sorted(rows)})")
        if a.html:
            rc2, out2, err2 = run([a.report, "--db", db, "-o", html])
            text = open(html, encoding="utf-8").read() if rc2 == 0 else ""
            if rc2 != 0:
                fails.append(f"apiary-report exited {rc2}: {err2}")
            for rx in a.html:
                if not re.search(rx, text):
                    fails.append(f"HTML report lacks /{rx}/")
        if a.replay_first and not fails:
            m = re.search(rf"^violation \d+: {re.escape(a.replay_first)}( \(info\))?\n  (.*?)\n"
                          r".*?^  replay: (.+?)$", out, re.M | re.S)
            if not m:
                fails.append(f"no {a.replay_first} violation with a replay command")
            else:
                summary, cmd = m.group(2), m.group(3).split()
                rc3, out3, err3 = run(cmd)
                if summary not in out3:
                    fails.append(f"replay (exit {rc3}) did not reproduce: {summary[:120]}")
    if fails:
        for f in fails:
            print("FAIL: " + f)
        print("---- stdout ----\n" + out + "\n---- stderr ----\n" + err)
        return 1
    print(f"ok: exit {rc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
