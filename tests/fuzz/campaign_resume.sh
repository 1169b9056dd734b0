#!/bin/sh
# kill -9 of a campaign, then --resume: no stored violation is lost and the
# campaign continues from its queue (inputs checked before are not checked
# again). The violating input is given as a seed so the violation is stored
# within seconds; what is under test is the kill and the resume.
# usage: campaign_resume.sh APIARY_FUZZ SPEC
set -eu
fuzz=$1 spec=$2
work=$(mktemp -d /tmp/apiary-resume-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
mkdir "$work/seeds"
# one xdp event: Ethernet/IPv4/TCP 1234 -> 4242 [S], payload "APIARY"
printf '410100ff013c00%s%s%s%s' 0000000000020000000000010800 \
    4500002e00000000400600000a0000010a000002 \
    04d21092000000000000000050020000ffff0000 415049415259 | xxd -r -p > "$work/seeds/apiary"

"$fuzz" "$spec" --db "$work/db" --work "$work/c" --seeds "$work/seeds" --time 120 \
    > "$work/first.log" 2>&1 &
pid=$!
key=coverage:audit:gate:cover0
i=0
while :; do
    # (sqlite3 would create the file: only ask once apiary-fuzz made it)
    if [ -s "$work/db" ]; then
        n=$(sqlite3 "$work/db" "select count(*) from violations where dedup_key = '$key'" 2>/dev/null || echo 0)
        [ "$n" = 1 ] && break
    fi
    i=$((i + 1))
    if [ "$i" -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "FAIL: the violation was not stored"; cat "$work/first.log"; exit 1
    fi
    sleep 0.2
done
sleep 5 # let the engine grow its queue
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
sleep 1
# the engines and their targets die with the campaign (PR_SET_PDEATHSIG;
# zombies waiting for a reaper do not count)
if ps -eo stat=,args= | grep -v '^Z' | grep -F "$work/c/" | grep -v grep > /dev/null; then
    echo "FAIL: engines outlived the killed campaign"; exit 1
fi
before=$(ls "$work/c/afl/main/queue" | grep -c '^id:' || true)
checked=$(wc -l < "$work/c/checked")
echo "killed with $before queue entries, $checked inputs checked"
n=$(sqlite3 "$work/db" "select count(*) from violations where dedup_key = '$key'")
[ "$n" = 1 ] || { echo "FAIL: stored violation lost by kill -9"; exit 1; }

set +e
"$fuzz" "$spec" --db "$work/db" --work "$work/c" --resume --time 10 > "$work/second.log" 2>&1
rc=$?
set -e
tail -8 "$work/second.log"
if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
    echo "FAIL: resumed campaign exited $rc"; cat "$work/c/main.log" | tail -20; exit 1
fi
n=$(sqlite3 "$work/db" "select count(*) from violations where dedup_key = '$key'")
[ "$n" = 1 ] || { echo "FAIL: violation lost after resume"; exit 1; }
after=$(ls "$work/c/afl/main/queue" | grep -c '^id:' || true)
echo "resumed: queue $before -> $after entries"
[ "$after" -ge "$before" ] || { echo "FAIL: queue shrank"; exit 1; }
grep -q "^resuming fuzz_payload" "$work/second.log" || { echo "FAIL: not resumed"; exit 1; }
grep -q "inputs were checked by earlier sessions and not again" "$work/second.log" ||
    { echo "FAIL: the resumed session did not reuse the checked list"; exit 1; }
runs=$(sqlite3 "$work/db" "select count(*) from campaigns")
[ "$runs" = 2 ] || { echo "FAIL: expected 2 campaign rows, got $runs"; exit 1; }
echo "PASS: kill -9 kept the stored violation, --resume continued the queue"
