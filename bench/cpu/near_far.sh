#!/bin/sh
# make bench-cpu-near-far: the CPU platform's near/far gap (platforms/cpu/README.md), per
# Pareto SubNet of the accuracy table: the p50 latency with all its weights near (its
# SubGraph resident: --near-kib 65536) and all far (nothing resident: --near-kib 0; every
# weight line flushed from the caches before each inference, read cold from DRAM), fp32,
# one thread, batch 1. Each run is `supernav eval --json` on the same LIMIT canvases; the
# two are interleaved (near, far; then far, near in the next round: ROUNDS rounds) in one
# command, so that load from other jobs on a shared machine falls on both. Per SubNet: the
# median over rounds of each run's p50 (measured: the CPU SUT's clock around the plan's
# invoke, the flush untimed), far/near, and the weight bytes (checked: all near, all far).
# Prints the table and writes it to $RESULTS/cpu/near-far-<UTC>.txt (near-far-<model>-<UTC>.txt
# for a model other than cf64; via a temporary file).
# Environment: SUPERNAV, ROUNDS (3), LIMIT (300), WARMUP (20), ISA (eval --isa; auto); MODEL,
# MODEL_IMAGE, MODEL_TABLE, MODEL_TEST (the model; make passes them, CF-64's by default).
set -eu
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${MODEL:-cf64}
MODEL_IMAGE=${MODEL_IMAGE:-build/supernet.snm}
MODEL_TEST=${MODEL_TEST:-data/canvas/cf64-test}
ROUNDS=${ROUNDS:-3}
LIMIT=${LIMIT:-300}
WARMUP=${WARMUP:-20}
ISA=${ISA:-auto}
RESULTS=${RESULTS:-results}
TABLE=${MODEL_TABLE:-workloads/supernet/accuracy.csv}
die() { echo "bench-cpu-near-far: error: $*" >&2; exit 1; }
[ -x "$SUPERNAV" ] || die "$SUPERNAV is missing; run 'make'"
for v in "$ROUNDS" "$LIMIT" "$WARMUP"; do
    case $v in '' | *[!0-9]*) die "ROUNDS, LIMIT and WARMUP must be non-negative integers" ;; esac
done
[ "$ROUNDS" -ge 1 ] && [ "$LIMIT" -ge 1 ] || die "ROUNDS and LIMIT must be at least 1"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS/cpu"
out="$RESULTS/cpu/near-far-$STAMP.txt"
[ "$MODEL" = cf64 ] || out="$RESULTS/cpu/near-far-$MODEL-$STAMP.txt"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
num() { sed -n "s/.*\"$1\":\([-0-9.eE+]*\).*/\1/p"; }
str() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
run() { # config near_kib: one eval's JSON, its weight bytes checked
    j=$("$SUPERNAV" eval --model "$MODEL_IMAGE" --data "$MODEL_TEST" --subnet "$1" --platform cpu --isa "$ISA" --near-kib "$2" --limit "$LIMIT" \
        --warmup "$WARMUP" --json) || die "eval $1 --near-kib $2 failed"
    if [ "$2" -eq 0 ]; then
        [ "$(echo "$j" | num near_weight_bytes)" = 0 ] || die "$1: near bytes with nothing resident"
    else
        [ "$(echo "$j" | num far_weight_bytes)" = 0 ] || die "$1: far bytes with its SubGraph resident"
    fi
    echo "$j"
}
subnets=$(awk -F, '$1 == "subnet" { print $2 }' "$TABLE")
count=$(echo "$subnets" | wc -l)
first=$(echo "$subnets" | head -n 1)
isa=$(run "$first" 0 | str isa)
{
    echo "# CPU near vs far (cold), $(date -u +%Y-%m-%dT%H:%M:%SZ), supernav $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    [ "$MODEL" = cf64 ] || echo "# model $MODEL ($MODEL_IMAGE, $TABLE, $MODEL_TEST)"
    echo "# host: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
    echo "# $isa kernels, fp32, one thread; $count Pareto SubNets x $ROUNDS interleaved rounds x $LIMIT canvases per run"
    echo "# p50 = median over rounds of each run's p50 latency (measured: around the plan's invoke; far"
    echo "# weights flushed from the caches before each inference, untimed); near = all weights resident"
    echo "# (--near-kib 65536), far = none (--near-kib 0); far/near = ratio of the two medians"
    printf '%-64s %9s %10s %10s %8s\n' config weight_kib near_p50_us far_p50_us far/near
} >"$tmp"
ratios=""
i=0
for cfg in $subnets; do
    a=""; b=""; kib=""
    r=1
    while [ "$r" -le "$ROUNDS" ]; do
        if [ $((r % 2)) -eq 1 ]; then
            jn=$(run "$cfg" 65536); jf=$(run "$cfg" 0)
        else
            jf=$(run "$cfg" 0); jn=$(run "$cfg" 65536)
        fi
        a="$a $(echo "$jn" | num p50_us)"; b="$b $(echo "$jf" | num p50_us)"
        kib=$(echo "$jn" | num near_weight_bytes)
        r=$((r + 1))
    done
    mn=$(echo $a | tr ' ' '\n' | median); mf=$(echo $b | tr ' ' '\n' | median)
    ratio=$(awk -v f="$mf" -v n="$mn" 'BEGIN { printf "%.2f", f / n }')
    ratios="$ratios $ratio"
    printf '%-64s %9.0f %10.1f %10.1f %7sx\n' "$cfg" "$(awk -v b="$kib" 'BEGIN { print b / 1024 }')" "$mn" "$mf" "$ratio" >>"$tmp"
    i=$((i + 1))
    echo "bench-cpu-near-far: [$i/$count] $cfg: $ratio" >&2
done
echo $ratios | tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END {
    printf "# far/near over the %d SubNets: min %.2fx, median %.2fx, max %.2fx\n", NR, v[1],
        (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[NR] }' >>"$tmp"
mv "$tmp" "$out"
trap - EXIT
cat "$out"
echo "bench-cpu-near-far: wrote $out" >&2
