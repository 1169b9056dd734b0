#!/bin/sh
# AFL++ smoke test: a bounded campaign (<= 60 s) on deep.cov.bpf.o, whose
# violation marker (XDP_ABORTED) needs UDP port 4242 and the payload
# "APIARY", starting from a seed to port 4243 with payload "AAAAAA".
# A fixed seed (-s 1) makes the campaign repeatable (~110k executions to the
# crash here, about 6 s at full speed, ~20 s under ASan on a loaded box).
# Deterministic stages (-D) walk each byte through small arithmetic steps,
# which is how byte-by-byte comparisons fall one after the other.
# Passes if AFL saves a crash and that crash replays as a violation.
# usage: afl_smoke.sh AFL_FUZZ DRIVER OBJECT
set -eu
afl_fuzz=$1 driver=$2 obj=$3
work=$(mktemp -d /tmp/apiary-afl-smoke-XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/in"
# header: 'A' v1 ordering 0 no-update; event: xdp, 48 bytes
# Ethernet (IPv4) / IPv4 UDP 10.0.0.1 -> 10.0.0.2 / 1234 -> 4243 / "AAAAAA"
printf 'A\001\000\377\001\060\000' > "$work/in/seed"
printf '\000\000\000\000\000\002\000\000\000\000\000\001\010\000' >> "$work/in/seed"
printf '\105\000\000\042\000\000\000\000\100\021\000\000\012\000\000\001\012\000\000\002' >> "$work/in/seed"
printf '\004\322\020\223\000\016\000\000AAAAAA' >> "$work/in/seed"

# the seed itself is not a violation
"$driver" "$obj" < "$work/in/seed"

start=$(date +%s)
AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
AFL_DISABLE_TRIM=1 AFL_NO_AFFINITY=1 AFL_BENCH_UNTIL_CRASH=1 AFL_QUIET=1 \
    timeout -k 5 58 "$afl_fuzz" -s 1 -D -i "$work/in" -o "$work/out" -V 50 -- "$driver" "$obj" \
    > "$work/afl.log" 2>&1 || true
end=$(date +%s)

stats="$work/out/default/fuzzer_stats"
if [ ! -f "$stats" ]; then
    echo "afl-fuzz did not start:"; tail -20 "$work/afl.log"; exit 1
fi
grep -E '^(execs_done|execs_per_sec|corpus_count|edges_found|total_edges|saved_crashes)' "$stats"
echo "campaign: $((end - start)) s"
crash=$(ls "$work/out/default/crashes/" | grep '^id:' | head -1 || true)
if [ -z "$crash" ]; then
    echo "FAIL: no crash found"; tail -5 "$work/afl.log"; exit 1
fi
echo "crash: $crash"
od -An -c "$work/out/default/crashes/$crash" | head -8
# the crash must replay as the violation (abort)
set +e
"$driver" "$obj" < "$work/out/default/crashes/$crash" 2> "$work/replay.err"
rc=$?
set -e
cat "$work/replay.err"
if [ "$rc" -ne 134 ] || ! grep -q violation "$work/replay.err"; then
    echo "FAIL: crash does not replay as a violation (exit $rc)"; exit 1
fi
echo "PASS: AFL++ found the violation and it replays"
