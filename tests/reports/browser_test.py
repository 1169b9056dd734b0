#!/usr/bin/env python3
"""Render a generated report in headless Chromium.

Checks: the page's script ran (data-report-ready), no script error was
recorded and none reached the console, the hostile names in the store did not
execute (no data-pwned), the filter preset from the URL hides what it should,
and the screenshot is not blank (decoded from PNG with zlib, many colours).

usage: browser_test.py APIARY_REPORT REPORT_FIXTURE [KEEP_DIR]
(KEEP_DIR: copy report.html and screenshot.png there for a human to look at)
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0",
]


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("browser_test: chromium is not installed (setup.sh installs it)")


def browse(tmp, extra, url):
    profile = tempfile.mkdtemp(dir=tmp, prefix="profile-")
    p = subprocess.run([chromium()] + CHROMIUM_FLAGS + ["--user-data-dir=" + profile] + extra
                       + [url], capture_output=True, text=True, timeout=120)
    return p


def console_errors(stderr):
    bad = []
    for line in stderr.splitlines():
        if "CONSOLE" in line or "Uncaught" in line:
            bad.append(line)
    return bad


def png_pixels(path):
    """Decode an 8-bit RGB/RGBA non-interlaced PNG; return (w, h, rows)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def main():
    report, fixture = sys.argv[1], sys.argv[2]
    keep = sys.argv[3] if len(sys.argv) > 3 else None
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "apiary.db")
        html = os.path.join(tmp, "report.html")
        png = os.path.join(tmp, "screenshot.png")
        subprocess.run([fixture, "db", db], check=True)
        subprocess.run([report, "--db", db, "-o", html], check=True)
        url = "file://" + html

        p = browse(tmp, ["--dump-dom"], url)
        assert p.returncode == 0, p.stderr[-2000:]
        dom = p.stdout
        html_tag = re.search(r"<html[^>]*>", dom).group(0)
        assert 'data-report-ready="1"' in html_tag, "report script did not finish: " + html_tag
        assert "data-js-error" not in html_tag, html_tag
        assert "data-pwned" not in html_tag, "a hostile name executed: " + html_tag
        assert not console_errors(p.stderr), console_errors(p.stderr)
        assert len(re.findall(r"<article class=\"violation", dom)) == 4
        assert dom.count("<svg") >= 5

        # Filter preset from the URL: only the netops team's violations stay.
        p = browse(tmp, ["--dump-dom"], url + "#team=netops")
        assert p.returncode == 0, p.stderr[-2000:]
        dom = p.stdout
        arts = re.findall(r"<article [^>]*>", dom)
        hidden = [a for a in arts if " hidden" in a]
        shown = [a for a in arts if " hidden" not in a]
        # only v-1 (firewall vs lb) has netops as a party
        assert len(arts) == 4 and len(hidden) == 3, arts
        assert 'id="v-1"' in shown[0], shown
        assert "1 of 4 shown" in dom
        assert not console_errors(p.stderr), console_errors(p.stderr)

        p = browse(tmp, ["--screenshot=" + png, "--window-size=1280,2000",
                         "--hide-scrollbars"], url)
        assert p.returncode == 0 and os.path.exists(png), p.stderr[-2000:]
        assert not console_errors(p.stderr), console_errors(p.stderr)
        w, h, bpp, rows = png_pixels(png)
        assert (w, h) == (1280, 2000), (w, h)
        colours = set()
        for y in range(0, h, 7):
            row = rows[y]
            for x in range(0, w, 5):
                colours.add(row[x * bpp:x * bpp + 3])
        assert len(colours) >= 20, "screenshot looks blank: %d colours" % len(colours)
        # The header bar is dark, the page body light: the page is laid out.
        assert sum(rows[10][0:3]) < 200, rows[10][0:3]
        assert sum(rows[h // 2][0:3]) > 600, rows[h // 2][0:3]
        if keep:
            os.makedirs(keep, exist_ok=True)
            shutil.copy(html, keep)
            shutil.copy(png, keep)
        print("browser ok: %d colours in the screenshot" % len(colours))


if __name__ == "__main__":
    main()
