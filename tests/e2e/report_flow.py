#!/usr/bin/env python3
"""The reviewer's path on the shipped conflicting example: apiary-check with
--db, --sarif, --junit and --html, then apiary-report from the store,
rendered in headless Chromium.

Checks: exit 1; --replay of the stored violation's id reproduces it; SARIF 2.1.0 with the coverage result located at the spec
lines of meter and lb; JUnit with a failing coverage testcase; the report
from the store names the conflict, renders with no script error and a
screenshot that is not blank.

usage: report_flow.py APIARY_CHECK APIARY_REPORT SPEC [KEEP_DIR]
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reports"))
import browser_test  # noqa: E402  (Chromium flags, console check, PNG decoding)


def spec_line(spec, needle):
    for n, line in enumerate(open(spec), 1):
        if line.startswith(needle):
            return n
    raise AssertionError(f"{needle!r} not in {spec}")


def main():
    check, report, spec = sys.argv[1:4]
    keep = sys.argv[4] if len(sys.argv) > 4 else None
    with tempfile.TemporaryDirectory() as tmp:
        db, sarif, junit = (os.path.join(tmp, n) for n in ("s.db", "r.sarif", "r.xml"))
        html1, html2 = os.path.join(tmp, "check.html"), os.path.join(tmp, "report.html")
        p = subprocess.run([check, spec, "--db", db, "--sarif", sarif, "--junit", junit,
                            "--html", html1], capture_output=True, text=True, timeout=300)
        assert p.returncode == 1, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])

        # --replay ID: the stored violation's input, reproduced
        con = sqlite3.connect(db)
        vid = con.execute("SELECT id FROM violations WHERE invariant = 'coverage'").fetchone()[0]
        con.close()
        r = subprocess.run([check, spec, "--db", db, "--replay", str(vid)], capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 1 and "violation 1: coverage" in r.stdout, (r.returncode, r.stdout,
                                                                           r.stderr)

        s = json.load(open(sarif))
        assert s["version"] == "2.1.0", s.get("version")
        results = s["runs"][0]["results"]
        cov = [r for r in results if r["ruleId"] == "coverage"]
        assert len(cov) == 1, [r["ruleId"] for r in results]
        lines = sorted(loc["physicalLocation"]["region"]["startLine"] for loc in cov[0]["locations"])
        want = sorted([spec_line(spec, "enforcer meter"), spec_line(spec, "enforcer lb")])
        assert lines == want, (lines, want)
        uri = cov[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.endswith("bundle.spec"), uri

        suite = ET.parse(junit).getroot()
        cases = {c.get("name"): c for c in suite.iter("testcase")}
        assert "coverage" in cases and cases["coverage"].find("failure") is not None, cases.keys()
        assert "commutativity" in cases and cases["commutativity"].find("failure") is None

        subprocess.run([report, "--db", db, "-o", html2], check=True, timeout=60)
        page = open(html2).read()
        assert "meter" in page and "netops" in page and "--replay" in page
        assert "XDP_TX" in page

        for html in (html1, html2):
            url = "file://" + html
            r = browser_test.browse(tmp, ["--dump-dom"], url)
            assert r.returncode == 0, r.stderr[-2000:]
            tag = re.search(r"<html[^>]*>", r.stdout).group(0)
            assert 'data-report-ready="1"' in tag and "data-js-error" not in tag, tag
            assert not browser_test.console_errors(r.stderr), browser_test.console_errors(r.stderr)
        png = os.path.join(tmp, "edge.png")
        r = browser_test.browse(tmp, ["--screenshot=" + png, "--window-size=1280,1600",
                                      "--hide-scrollbars"], "file://" + html2)
        assert r.returncode == 0 and os.path.exists(png), r.stderr[-2000:]
        w, h, bpp, rows = browser_test.png_pixels(png)
        colours = {rows[y][x * bpp:x * bpp + 3] for y in range(0, h, 7) for x in range(0, w, 5)}
        assert len(colours) >= 20, f"screenshot looks blank: {len(colours)} colours"
        if keep:
            os.makedirs(keep, exist_ok=True)
            for f in (html2, png, sarif, junit):
                shutil.copy(f, keep)
        print(f"ok: SARIF lines {lines}, {len(colours)} colours")


if __name__ == "__main__":
    main()
