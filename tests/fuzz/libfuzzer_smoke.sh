#!/bin/sh
# libFuzzer driver smoke test: the BPF counters are its only coverage (the
# driver is not instrumented: features "ft:" come from the extra counters
# alone), so new corpus entries prove they are wired;
# a known violating input must be reported as a crash.
# usage: libfuzzer_smoke.sh DRIVER OBJECT
set -eu
driver=$1 obj=$2
work=$(mktemp -d /tmp/apiary-lf-smoke-XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/corpus" "$work/art"
seed() { # $1 = dport high/low octal, $2 = payload
    printf 'A\001\000\377\001\060\000'
    printf '\000\000\000\000\000\002\000\000\000\000\000\001\010\000'
    printf '\105\000\000\042\000\000\000\000\100\021\000\000\012\000\000\001\012\000\000\002'
    printf "\\004\\322$1\\000\\016\\000\\000$2"
}
seed '\020\223' AAAAAA > "$work/corpus/seed"
seed '\020\222' APIARY > "$work/violation"
export APIARY_FUZZ_OBJECTS="$obj"
"$driver" -runs=30000 -seed=1 -artifact_prefix="$work/art/" "$work/corpus" > "$work/run.log" 2>&1
grep -E 'apiary-fuzz-libfuzzer:|INITED|DONE' "$work/run.log"
if ! grep -qE '#[0-9]+[[:space:]]+NEW .*ft: ' "$work/run.log"; then
    echo "FAIL: no new coverage from the BPF counters"; exit 1
fi
set +e
"$driver" -artifact_prefix="$work/art/" "$work/violation" > "$work/crash.log" 2>&1
rc=$?
set -e
grep -E 'violation|deadly signal' "$work/crash.log" || true
if [ "$rc" -eq 0 ] || ! grep -q 'violation (kind 1)' "$work/crash.log"; then
    echo "FAIL: the violating input was not reported (exit $rc)"; exit 1
fi
echo "PASS: counters drive libFuzzer; violations crash"
