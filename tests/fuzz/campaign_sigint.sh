#!/bin/sh
# SIGINT stops a campaign cleanly: engines stopped, the run and campaign
# finished in the store, the exit status the one of a finished campaign
# (0 nothing found, 1 violations: it must agree with the store),
# "stopped by SIGINT" said.
# usage: campaign_sigint.sh APIARY_FUZZ SPEC
set -eu
fuzz=$1 spec=$2
work=$(mktemp -d /tmp/apiary-sigint-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
"$fuzz" "$spec" --db "$work/db" --work "$work/c" --time 300 > "$work/out.log" 2>&1 &
pid=$!
i=0
until [ -e "$work/c/afl/main/fuzzer_stats" ] || [ "$i" -gt 300 ]; do
    i=$((i + 1)); sleep 0.2
done
sleep 3
kill -INT "$pid"
set +e
wait "$pid"
rc=$?
set -e
pid=
tail -6 "$work/out.log"
found=$(sqlite3 "$work/db" "select count(*) from violations where severity = 'error'")
want=0; [ "$found" -gt 0 ] && want=1
if [ "$rc" -ne "$want" ]; then
    echo "FAIL: exit $rc after SIGINT (expected $want: $found violations stored)"; exit 1
fi
grep -q "stopped by SIGINT" "$work/out.log" || { echo "FAIL: no 'stopped by SIGINT'"; exit 1; }
if ps -eo stat=,args= | grep -v '^Z' | grep -F "$work/c/" | grep -v grep > /dev/null; then
    echo "FAIL: engines still running"; exit 1
fi
open=$(sqlite3 "$work/db" "select count(*) from campaigns where finished_at is null")
res=$(sqlite3 "$work/db" "select result from check_runs")
[ "$open" = 0 ] || { echo "FAIL: campaign left unfinished in the store"; exit 1; }
case "$res" in clean|violations) ;; *) echo "FAIL: run recorded as '$res'"; exit 1;; esac
echo "PASS: SIGINT stopped the campaign cleanly (exit $rc, run $res), store finished"
