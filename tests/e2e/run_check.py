#!/usr/bin/env python3
"""Run apiary-check on a bundle and assert its exit status and output.

usage: run_check.py APIARY_CHECK SPEC EXIT [--expect REGEX]... [--reject REGEX]...
                    [--replay-first] [-- extra apiary-check args]

--replay-first: take the replay command of the first violation printed and
run it; it must reproduce a violation of the same invariant.
"""
import argparse
import re
import subprocess
import sys


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=600, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("check")
    ap.add_argument("spec")
    ap.add_argument("exit", type=int)
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--replay-first", action="store_true")
    ap.add_argument("extra", nargs="*")
    a = ap.parse_args()

    rc, out, err = run([a.check, a.spec] + a.extra)
    both = out + err
    ok = True
    if rc != a.exit:
        print(f"FAIL: exit status {rc}, expected {a.exit}")
        ok = False
    for rx in a.expect:
        if not re.search(rx, both, re.M):
            print(f"FAIL: output lacks /{rx}/")
            ok = False
    for rx in a.reject:
        if re.search(rx, both, re.M):
            print(f"FAIL: output has /{rx}/")
            ok = False
    if ok and a.replay_first:
        m = re.search(r"^violation 1: (\S+).*?^  replay: ([^\n]+)$", out, re.M | re.S)
        if not m:
            print("FAIL: no replay command in the output")
            ok = False
        else:
            inv, cmd = m.group(1), m.group(2).split()
            rc2, out2, err2 = run(cmd)
            if rc2 != 1 or not re.search(rf"^violation 1: {re.escape(inv)}", out2, re.M):
                print(f"FAIL: replay exited {rc2} without reproducing a {inv} violation")
                print(out2 + err2)
                ok = False
    if not ok:
        print("---- stdout ----\n" + out + "\n---- stderr ----\n" + err)
        return 1
    print(f"ok: exit {rc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
