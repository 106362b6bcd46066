#!/bin/sh
# bench/int8/ratio.sh: supernav int8 against supernav fp32 on the CPU platform, every Pareto
# SubNet of the accuracy table, in one command. Per SubNet, ROUNDS interleaved rounds of
# `supernav eval --platform cpu --subnet CFG --limit LIMIT --json` in fp32 then with --int8
# (the same canvases, so load from other jobs on a shared machine falls on both); the median
# over rounds of each run's p50 latency (measured, wall clock); the speedup fp32 p50 / int8
# p50; at the end the geometric mean of the speedups and each round's own geometric mean.
# Prints a table on stdout and writes it to $RESULTS/int8/ratio-<UTC>.txt (via a temporary
# file).
#
# Environment: SUPERNAV (build/supernav), MODEL (build/supernet.snm), ISA (auto; any of
# supernav eval --isa), ROUNDS (5), LIMIT (2000 canvases per run), WARMUP (50), SUBNETS (a
# grep -E pattern to select configs; default all), RESULTS (results).
set -eu
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${MODEL:-build/supernet.snm}
ISA=${ISA:-auto}
ROUNDS=${ROUNDS:-5}
LIMIT=${LIMIT:-2000}
WARMUP=${WARMUP:-50}
SUBNETS=${SUBNETS:-.}
RESULTS=${RESULTS:-results}
TABLE=workloads/supernet/accuracy.csv
die() { echo "bench-int8: error: $*" >&2; exit 1; }
[ -x "$SUPERNAV" ] || die "$SUPERNAV is missing; run 'make'"
[ -f "$MODEL" ] || die "$MODEL is missing; run 'make'"
for v in "$ROUNDS" "$LIMIT"; do case $v in '' | *[!0-9]* | 0) die "ROUNDS and LIMIT must be positive integers" ;; esac; done
configs=$(awk -F, 'NR > 1 && $1 == "subnet" { print $2 }' "$TABLE" | grep -E -- "$SUBNETS" || true)
[ -n "$configs" ] || die "no kind=subnet rows of $TABLE match '$SUBNETS'"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS/int8"
out="$RESULTS/int8/ratio-$STAMP.txt"
tmp="$out.tmp.$$"
rounds="$out.rounds.$$"
trap 'rm -f "$tmp" "$rounds"' EXIT
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
n=0
: >"$rounds"
for cfg in $configs; do
    f=""; q=""
    for r in $(seq 1 "$ROUNDS"); do
        jf=$("$SUPERNAV" eval --model "$MODEL" --platform cpu --isa "$ISA" --subnet "$cfg" --limit "$LIMIT" \
            --warmup "$WARMUP" --json) || die "eval $cfg failed"
        jq=$("$SUPERNAV" eval --model "$MODEL" --platform cpu --isa "$ISA" --subnet "$cfg" --limit "$LIMIT" \
            --warmup "$WARMUP" --int8 --json) || die "eval $cfg --int8 failed"
        pf=$(echo "$jf" | field p50_us); pq=$(echo "$jq" | field p50_us)
        f="$f $pf"; q="$q $pq"
        echo "$r $pf $pq" >>"$rounds"
        isa=$(echo "$jq" | field isa)
        t1f=$(echo "$jf" | field top1); t1q=$(echo "$jq" | field top1)
    done
    mf=$(echo $f | tr ' ' '\n' | median); mq=$(echo $q | tr ' ' '\n' | median)
    printf '%-60s %9.1f %9.1f %7.2fx %6s%% %6s%%\n' "$cfg" "$mf" "$mq" \
        "$(awk -v x="$mf" -v y="$mq" 'BEGIN { print x / y }')" "$t1f" "$t1q" >>"$tmp"
    n=$((n + 1))
    echo "bench-int8: $n SubNets done ($cfg)" >&2
done
{
    echo "# supernav int8 vs fp32, CPU platform (isa $isa), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores,"
    echo "# $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //'); $LIMIT canvases per run, $ROUNDS interleaved rounds;"
    echo "# p50 = median over rounds of each run's p50 latency (measured, wall clock); speedup = fp32 / int8"
    printf '%-60s %9s %9s %8s %7s %7s\n' subnet fp32_us int8_us speedup top1_f top1_q
    cat "$tmp"
    awk '{ s += log($4 + 0); n++ } END { printf "geometric mean speedup (int8 over fp32): %.3fx over %d SubNets\n", exp(s / n), n }' "$tmp"
    awk '{ s[$1] += log($2 / $3); c[$1]++ } END { printf "per round:"; for (r = 1; r in s; r++) printf " %.3fx", exp(s[r] / c[r]); printf "\n" }' "$rounds"
} >"$out.tmp2.$$"
mv "$out.tmp2.$$" "$out"
trap - EXIT
rm -f "$tmp" "$rounds"
cat "$out"
echo "bench-int8: wrote $out" >&2
