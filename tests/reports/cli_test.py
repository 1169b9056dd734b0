#!/usr/bin/env python3
"""apiary-report: exit codes, refusal of files that are not stores, waivers.

usage: cli_test.py APIARY_REPORT REPORT_FIXTURE
"""
import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile


def run(*argv):
    p = subprocess.run(list(argv), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    report, fixture = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "apiary.db")
        out = os.path.join(tmp, "r.html")

        # usage errors
        for argv in ([report], [report, "--db", db], [report, "-o", out],
                     [report, "--db", db, "-o", out, "extra"],
                     [report, "--db", db, "--waive", "1"],
                     [report, "--db", db, "--waive", "x", "--reason", "r"],
                     [report, "--bogus"]):
            code, _, err = run(*argv)
            assert code == 2, (argv, code, err)
            assert "usage" in err or "not a violation id" in err or "--reason" in err, err

        # missing store: error, and nothing created by a read-only report
        code, _, err = run(report, "--db", db, "-o", out)
        assert code == 2 and "does not exist" in err, (code, err)
        assert not os.path.exists(db) and not os.path.exists(out)

        # foreign sqlite db: refused, byte-identical
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE t(x)")
        con.commit()
        con.close()
        before = digest(db)
        code, _, err = run(report, "--db", db, "-o", out)
        assert code == 2 and "another application" in err, (code, err)
        code, _, err = run(report, "--db", db, "--waive", "1", "--reason", "r")
        assert code == 2 and "another application" in err, (code, err)
        assert digest(db) == before and not os.path.exists(out)
        os.unlink(db)

        # garbage file
        with open(db, "wb") as f:
            f.write(b"\x00garbage" * 100)
        before = digest(db)
        code, _, err = run(report, "--db", db, "-o", out)
        assert code == 2 and "not a sqlite database" in err, (code, err)
        assert digest(db) == before
        os.unlink(db)

        # a real store
        subprocess.run([fixture, "db", db], check=True)
        code, _, err = run(report, "--db", db, "-o", out)
        assert code == 0, err
        html = open(out, encoding="utf-8").read()
        assert html.startswith("<!DOCTYPE html>")
        assert "Open violations (3)" in html and "Waived (1)" in html, "counts"
        leftovers = [n for n in os.listdir(tmp) if ".tmp." in n]
        assert not leftovers, leftovers

        # --bundle filters
        code, _, err = run(report, "--db", db, "--bundle", "core", "-o", out)
        assert code == 0, err
        html = open(out, encoding="utf-8").read()
        assert "Open violations (1)" in html and "Waived (0)" in html

        # stdout
        code, stdout, err = run(report, "--db", db, "-o", "-")
        assert code == 0 and stdout.startswith("<!DOCTYPE html>"), err

        # waive and confirm through the CLI
        code, _, err = run(report, "--db", db, "--waive", "1", "--reason", "accepted: NET-7")
        assert code == 0, err
        code, _, err = run(report, "--db", db, "--waive", "999", "--reason", "x")
        assert code == 2 and "no violation 999" in err, err
        code, _, err = run(report, "--db", db, "--confirm", "3")
        assert code == 0, err
        con = sqlite3.connect(db)
        rows = dict(con.execute("SELECT id, status FROM violations").fetchall())
        reason = con.execute("SELECT waive_reason FROM violations WHERE id=1").fetchone()[0]
        con.close()
        assert rows[1] == "waived" and rows[3] == "confirmed", rows
        assert reason == "accepted: NET-7"
        code, _, err = run(report, "--db", db, "-o", out)
        html = open(out, encoding="utf-8").read()
        assert "Waived (2)" in html and "accepted: NET-7" in html
    print("cli ok")


if __name__ == "__main__":
    main()
