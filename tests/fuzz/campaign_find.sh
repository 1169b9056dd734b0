#!/bin/sh
# The campaign test: tests/fuzz/bundles/payload holds a coverage conflict
# that needs TCP port 4242 AND a payload starting with "APIARY". apiary-check
# (z3 inputs) must stay clean on it; a coverage-guided apiary-fuzz campaign
# (AFL++, one instance, at most 150 s; 22-50 s seen) must find it, minimize it and store it,
# and the stored input must replay as the violation.
# usage: campaign_find.sh APIARY_FUZZ APIARY_CHECK SPEC
set -eu
fuzz=$1 check=$2 spec=$3
work=$(mktemp -d /tmp/apiary-campaign-XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

set +e
"$check" "$spec" --quiet > "$work/check.log" 2>&1
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    echo "FAIL: apiary-check should find nothing here (exit $rc)"; cat "$work/check.log"; exit 1
fi
echo "apiary-check: clean (z3 inputs do not reach the payload)"

start=$(date +%s)
set +e
"$fuzz" "$spec" --db "$work/db" --time 150 --until-found --jobs 1 > "$work/fuzz.log" 2>&1
rc=$?
set -e
end=$(date +%s)
tail -25 "$work/fuzz.log"
echo "apiary-fuzz: exit $rc after $((end - start)) s"
if [ "$rc" -ne 1 ]; then
    echo "FAIL: the campaign did not report the violation (exit $rc, expected 1)"; exit 1
fi
key=coverage:audit:gate:cover0
n=$(sqlite3 "$work/db" "select count(*) from violations where dedup_key = '$key'")
if [ "$n" != 1 ]; then
    echo "FAIL: violation $key not in the store"; exit 1
fi
hex=$(sqlite3 "$work/db" "select input_hex from violations where dedup_key = '$key'")
# minimized: one event, frame cut to where the payload ends (60 bytes)
len=$(( ${#hex} / 2 ))
echo "stored input: $len bytes: $hex"
if [ "$len" -gt 80 ]; then
    echo "FAIL: the stored input was not minimized ($len bytes)"; exit 1
fi
set +e
"$check" "$spec" --replay "$hex" > "$work/replay.log" 2>&1
rc=$?
set -e
if [ "$rc" -ne 1 ] || ! grep -q "cover audit sees" "$work/replay.log"; then
    echo "FAIL: the stored input does not replay as the violation (exit $rc)"
    cat "$work/replay.log"; exit 1
fi
echo "PASS: found by the campaign, minimized, stored, replays"
