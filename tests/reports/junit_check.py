#!/usr/bin/env python3
"""JUnit written by apiary_junit_write() parses as XML and says the right thing.

usage: junit_check.py REPORT_FIXTURE
"""
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET


def main():
    fixture = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "junit.xml")
        subprocess.run([fixture, "junit", path], check=True)
        root = ET.parse(path).getroot()  # raises on malformed XML
    assert root.tag == "testsuites", root.tag
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    assert suite.get("name") == 'edge <&> "bundle"', suite.get("name")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    # checked = 0: every invariant kind is a testcase
    assert sorted(cases) == sorted([
        "ordering", "coverage", "commutativity", "exclusive", "effect",
        "nondeterminism", "flow-consistent", "migration"]), sorted(cases)
    assert suite.get("tests") == "8" and suite.get("failures") == "2", suite.attrib
    fail = cases["commutativity"].find("failure")
    assert fail is not None
    assert fail.get("message") == "2 violations of commutativity", fail.attrib
    assert "<script>document.documentElement" in fail.text  # unescaped back by the parser
    assert "firewall and lb do not commute" in fail.text
    assert "\ufffd" in fail.text  # the control byte in the hostile replay became U+FFFD
    assert cases["coverage"].find("failure") is not None
    assert cases["effect"].find("failure") is None
    info = cases["ordering"]
    assert info.find("failure") is None
    assert "matters for ICMPv6" in info.find("system-out").text
    print("junit ok:", len(cases), "testcases")


if __name__ == "__main__":
    main()
