#!/usr/bin/env python3
"""kill -9 apiary-check right after it printed a violation: every violation
it printed must already be in the store, and the run is left "running"
(never "clean").

usage: kill_check.py APIARY_CHECK SPEC
"""
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile


def main():
    check, spec = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="apiary-kill-")
    db = os.path.join(tmp, "store.db")
    p = subprocess.Popen([check, spec, "--db", db], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
    printed = []
    for line in p.stdout:
        m = re.match(r"^violation (\d+): (\S+)", line)
        if m:
            printed.append(m.group(2))
        if printed and line.startswith("  replay:"):
            break
    if p.poll() is not None:
        print("FAIL: apiary-check finished before it could be killed mid-run")
        return 1
    p.send_signal(signal.SIGKILL)
    p.wait()
    if not printed:
        print("FAIL: no violation was printed")
        return 1
    con = sqlite3.connect(db)
    stored = [r[0] for r in con.execute("SELECT invariant FROM violations")]
    runs = [r[0] for r in con.execute("SELECT result FROM check_runs")]
    con.close()
    print(f"printed {printed}, stored {stored}, runs {runs}")
    for inv in printed:
        if inv not in stored:
            print(f"FAIL: printed {inv} violation is not in the store")
            return 1
    if any(r in ("clean", 1) for r in runs):
        print("FAIL: a killed run is recorded as clean")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
