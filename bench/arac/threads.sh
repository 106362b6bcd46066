#!/bin/sh
# make bench-arac-threads: ARAC micro-flows on threads (the CPU platform's --threads), each
# ARAC config of the accuracy table run with 1 thread and with THREADS threads, interleaved
# (1, N, 1, N, ...: ROUNDS rounds) in one command on the same canvases, so that load from
# other jobs on a shared machine falls on both. Per config: the median over rounds of each
# run's p50 latency (measured, wall clock), the speedup 1-thread / N-thread, and the top-1
# of both (must be equal: the outputs are bit for bit the same). Prints a table on stdout
# and writes it to $RESULTS/arac/threads-<UTC>.txt (threads-<model>-<UTC>.txt for a model other
# than cf64; via a temporary file). MODEL, MODEL_IMAGE, MODEL_TABLE, MODEL_TEST: the model (make
# passes them; CF-64's by default).
set -eu
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${MODEL:-cf64}
MODEL_IMAGE=${MODEL_IMAGE:-build/supernet.snm}
MODEL_TEST=${MODEL_TEST:-data/canvas/cf64-test}
THREADS=${THREADS:-$(nproc)}
ROUNDS=${ROUNDS:-3}
LIMIT=${LIMIT:-1000}
RESULTS=${RESULTS:-results}
TABLE=${MODEL_TABLE:-workloads/supernet/accuracy.csv}
die() { echo "bench-arac-threads: error: $*" >&2; exit 1; }
[ -x "$SUPERNAV" ] || die "$SUPERNAV is missing; run 'make'"
case $THREADS in '' | *[!0-9]*) die "THREADS must be a positive integer" ;; esac
[ "$THREADS" -ge 2 ] || die "THREADS must be at least 2 (this machine has $(nproc) cores)"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS/arac"
out="$RESULTS/arac/threads-$STAMP.txt"
[ "$MODEL" = cf64 ] || out="$RESULTS/arac/threads-$MODEL-$STAMP.txt"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
p50() { sed -n 's/.*"p50_us":\([0-9.]*\).*/\1/p'; }
top1() { sed -n 's/.*"top1":\([0-9.]*\).*/\1/p'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
{
    [ "$MODEL" = cf64 ] || echo "# model $MODEL ($MODEL_IMAGE, $TABLE, $MODEL_TEST)"
    echo "# ARAC micro-flows on threads, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $LIMIT canvases per run,"
    echo "# $ROUNDS interleaved rounds; p50 = median over rounds of each run's p50 latency (measured, wall clock)"
    printf '%-72s %9s %9s %8s %7s\n' config p50_1t_us "p50_${THREADS}t_us" speedup top1
} >"$tmp"
n=0
for cfg in $(grep '^arac,' "$TABLE" | cut -d, -f2); do
    a=""; b=""; t1=""; tn=""
    for r in $(seq 1 "$ROUNDS"); do
        j1=$("$SUPERNAV" eval --model "$MODEL_IMAGE" --data "$MODEL_TEST" --arac "$cfg" --limit "$LIMIT" --threads 1 --json) ||
            die "eval $cfg failed"
        jn=$("$SUPERNAV" eval --model "$MODEL_IMAGE" --data "$MODEL_TEST" --arac "$cfg" --limit "$LIMIT" --threads "$THREADS" --json) ||
            die "eval $cfg --threads $THREADS failed"
        a="$a $(echo "$j1" | p50)"; b="$b $(echo "$jn" | p50)"
        t1=$(echo "$j1" | top1); tn=$(echo "$jn" | top1)
    done
    [ "$t1" = "$tn" ] || die "$cfg: top-1 differs between 1 and $THREADS threads ($t1 vs $tn)"
    m1=$(echo $a | tr ' ' '\n' | median); mn=$(echo $b | tr ' ' '\n' | median)
    printf '%-72s %9.1f %9.1f %7.2fx %6s%%\n' "$cfg" "$m1" "$mn" "$(awk -v x="$m1" -v y="$mn" 'BEGIN { print x / y }')" "$t1" >>"$tmp"
    n=$((n + 1))
    echo "bench-arac-threads: $n configs done" >&2
done
mv "$tmp" "$out"
trap - EXIT
cat "$out"
echo "bench-arac-threads: wrote $out" >&2
