#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Golden tests for spec diagnostics.

For every errors/NAME.spec (must fail, exit 2) and valid/NAME.spec (must
pass, exit 0) next to this script, run spec_lint from this directory (so
the printed paths are stable: errors/NAME.spec) and compare stdout with
NAME.expected byte for byte. --update rewrites the .expected files.
"""
import difflib
import glob
import os
import subprocess
import sys


def main():
    args = [a for a in sys.argv[1:] if a != '--update']
    update = '--update' in sys.argv[1:]
    if len(args) != 1:
        print('usage: golden.py [--update] SPEC_LINT', file=sys.stderr)
        return 2
    lint = os.path.abspath(args[0])
    here = os.path.dirname(os.path.abspath(__file__))
    os.chdir(here)

    failures = 0
    count = 0
    for want_rc, folder in ((2, 'errors'), (0, 'valid')):
        specs = sorted(glob.glob(os.path.join(folder, '*.spec')))
        if not specs:
            print('no specs in %s/' % folder)
            failures += 1
        for spec in specs:
            count += 1
            exp_path = spec[:-len('.spec')] + '.expected'
            r = subprocess.run([lint, spec], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out = r.stdout.decode('utf-8', 'replace')
            if r.stderr:
                print('FAIL %s: stderr output:\n%s' % (spec, r.stderr.decode('utf-8', 'replace')))
                failures += 1
                continue
            if r.returncode != want_rc:
                print('FAIL %s: exit %d, want %d' % (spec, r.returncode, want_rc))
                failures += 1
            if update:
                with open(exp_path, 'w') as f:
                    f.write(out)
                continue
            try:
                with open(exp_path) as f:
                    want = f.read()
            except FileNotFoundError:
                print('FAIL %s: missing %s' % (spec, exp_path))
                failures += 1
                continue
            if out != want:
                print('FAIL %s: output differs from %s' % (spec, exp_path))
                sys.stdout.writelines(difflib.unified_diff(
                    want.splitlines(True), out.splitlines(True), exp_path, 'actual'))
                failures += 1
            else:
                print('ok   %s' % spec)
    print('%d specs, %d failures' % (count, failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
