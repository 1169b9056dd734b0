#!/bin/sh
# A fuzzing target that dies on an input is a harness bug, not a violation.
# The target (apiary-fuzz-afl) is made to die from outside: SIGSEGV to the
# worker that runs the inputs, again and again until one lands in a run
# (between runs the supervisor replaces it silently). afl-fuzz saves that
# input as a crash; apiary-fuzz must report it as a harness bug, store it as
# an input with that note, store no violation for a bundle that has none,
# and exit 3 ("no violation but the harness crashed"), also when stopped by
# SIGINT right after.
# usage: campaign_harness_bug.sh APIARY_FUZZ SPEC
set -eu
fuzz=$1 spec=$2
work=$(mktemp -d /tmp/apiary-harness-bug-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
"$fuzz" "$spec" --db "$work/db" --work "$work/c" --engine afl --jobs 1 --time 60 \
    > "$work/out.log" 2>&1 &
pid=$!
i=0
until [ -e "$work/c/afl/main/fuzzer_stats" ] || [ "$i" -gt 300 ]; do
    i=$((i + 1)); sleep 0.2
done
# the worker: an apiary-fuzz-afl whose parent is an apiary-fuzz-afl (the
# supervisor); comm is cut to 15 characters, which this name fills exactly
workers() {
    ps -eo pid=,ppid=,comm= | awk '
        { comm[$1] = $3; parent[$1] = $2 }
        END { for (p in comm) if (comm[p] == "apiary-fuzz-afl" && comm[parent[p]] == "apiary-fuzz-afl") print p }'
}
i=0
until ls "$work/c/afl/main/crashes/" 2>/dev/null | grep -q '^id:' || [ "$i" -ge 100 ]; do
    for w in $(workers); do kill -SEGV "$w" 2>/dev/null || true; done
    i=$((i + 1)); sleep 0.1
done
# a stopped campaign still checks what the engines saved, and exits as a
# finished one would
sleep 1
kill -INT "$pid"
set +e
wait "$pid"
rc=$?
set -e
pid=
grep -E "HARNESS BUG|^result:" "$work/out.log" | head -5
fail=0
ls "$work/c/afl/main/crashes/" | grep -q '^id:' || { echo "FAIL: afl-fuzz saved no crash"; fail=1; }
[ "$rc" -eq 3 ] || { echo "FAIL: exit $rc (expected 3: harness crashed, no violation)"; fail=1; }
grep -q "HARNESS BUG" "$work/out.log" || { echo "FAIL: no harness bug reported"; fail=1; }
v=$(sqlite3 "$work/db" "select count(*) from violations")
[ "$v" -eq 0 ] || { echo "FAIL: $v violation(s) stored for a crash"; fail=1; }
# stored when it is an Apiary input; AFL's havoc also makes inputs with a
# broken header (the target runs nothing for them), which are reported and
# left in the campaign directory
b=$(sqlite3 "$work/db" "select count(*) from inputs where note like 'harness bug%'")
if [ "$b" -lt 1 ] && ! grep -q "HARNESS BUG: .*not an Apiary input" "$work/out.log"; then
    echo "FAIL: the crashing input is neither stored nor reported as kept"; fail=1
fi
n=$(sed -n 's/.* \([0-9]*\) harness bug(s).*/\1/p' "$work/out.log" | tail -1)
[ "${n:-0}" -ge 1 ] || { echo "FAIL: the summary counts no harness bug"; fail=1; }
[ "$fail" -eq 0 ] || { tail -20 "$work/out.log"; exit 1; }
echo "PASS: the target's crash is a harness bug (exit 3, stored as input, no violation)"
