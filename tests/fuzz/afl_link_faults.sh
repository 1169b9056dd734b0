#!/bin/sh
# The AFL++ link under faults: a target that crashes on one input and hangs
# on another (afl_link_probe.c). afl-fuzz must record both (the supervisor
# answers for a worker that died in a run: SIGABRT, and the SIGKILL of a
# timeout), keep fuzzing after each with a new worker, and leave no process
# behind when the campaign ends.
# usage: afl_link_faults.sh AFL_FUZZ PROBE
set -eu
afl_fuzz=$1 probe=$2
work=$(mktemp -d /tmp/apiary-afl-link-XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/in"
printf 'B' > "$work/in/seed"

# -t 50: a hang is 50 ms, confirmed at AFL's hang timeout (1 s); 'C' is one
# bit flip from 'B' and 'H' an arithmetic step, both in the deterministic stages
AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_QUIET=1 \
AFL_NO_AFFINITY=1 \
    timeout -k 5 60 "$afl_fuzz" -s 1 -D -t 50 -i "$work/in" -o "$work/out" -V 12 -- "$probe" \
    > "$work/afl.log" 2>&1 || true

stats="$work/out/default/fuzzer_stats"
if [ ! -f "$stats" ]; then
    echo "afl-fuzz did not start:"; tail -20 "$work/afl.log"; exit 1
fi
grep -E '^(execs_done|execs_per_sec|saved_crashes|saved_hangs|total_tmout)' "$stats"
val() { awk -F: -v k="$1" '$1 ~ "^"k" *$" { gsub(/ /, "", $2); print $2 }' "$stats"; }
fail=0
[ "$(val saved_crashes)" -ge 1 ] || { echo "FAIL: the crash ('C') was not recorded"; fail=1; }
[ "$(val saved_hangs)" -ge 1 ] || { echo "FAIL: the hang ('H') was not recorded"; fail=1; }
crash=$(ls "$work/out/default/crashes/" | grep '^id:' | head -1 || true)
hang=$(ls "$work/out/default/hangs/" | grep '^id:' | head -1 || true)
[ -z "$crash" ] || [ "$(head -c1 "$work/out/default/crashes/$crash")" = C ] ||
    { echo "FAIL: the saved crash does not start with 'C'"; fail=1; }
[ -z "$hang" ] || [ "$(head -c1 "$work/out/default/hangs/$hang")" = H ] ||
    { echo "FAIL: the saved hang does not start with 'H'"; fail=1; }
# fuzzing went on after them: far more executions than the faults took
[ "$(val execs_done)" -ge 10000 ] || { echo "FAIL: only $(val execs_done) executions"; fail=1; }
sleep 1
# (zombies are dead already, waiting for init to reap them)
name=$(basename "$probe" | cut -c1-15)
alive=$(ps -eo pid=,stat=,comm= | awk -v n="$name" '$3 == n && $2 !~ /^Z/')
if [ -n "$alive" ]; then
    echo "FAIL: processes of the target outlived the campaign:"; echo "$alive"; fail=1
fi
[ "$fail" -eq 0 ] || { tail -20 "$work/afl.log"; exit 1; }
echo "PASS: crash and hang recorded, fuzzing went on, nothing left running"
