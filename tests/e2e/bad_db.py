#!/usr/bin/env python3
"""apiary-check --db on a file that is not an Apiary store: exit 2, a clear
message, and the file left byte for byte as it was.

usage: bad_db.py APIARY_CHECK SPEC
"""
import os
import sqlite3
import subprocess
import sys
import tempfile


def main():
    check, spec = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="apiary-baddb-")
    garbage = os.path.join(tmp, "garbage.db")
    foreign = os.path.join(tmp, "foreign.db")
    open(garbage, "wb").write(b"not a database\n" * 64)
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO customers(name) VALUES ('keep me')")
    con.commit()
    con.close()
    for path, want in ((garbage, "not a sqlite database"), (foreign, "")):
        before = open(path, "rb").read()
        p = subprocess.run([check, spec, "--db", path], capture_output=True, text=True,
                           timeout=300, stdin=subprocess.DEVNULL)
        after = open(path, "rb").read()
        if p.returncode != 2 or want not in p.stderr or "left untouched" not in p.stderr:
            print(f"FAIL: {path}: exit {p.returncode}\n{p.stderr}")
            return 1
        if before != after:
            print(f"FAIL: {path} was modified")
            return 1
        print(f"ok: {os.path.basename(path)} refused: {p.stderr.strip().splitlines()[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
