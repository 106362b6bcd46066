#!/bin/sh
# bench/int8/layers.sh: where supernav's int8 time goes against fp32's, per layer kind, on the
# CPU platform. Per SubNet (SUBNETS: a grep -E pattern over the accuracy table's Pareto
# SubNets; default the smallest, a middle and the largest), ROUNDS interleaved rounds of
# `supernav eval --layer-times` in fp32 then with --int8 (the same canvases); per kind
# (stem, pointwise, depthwise, other: the platform's other slots -- adds, resize, pool,
# classifier -- and "rest": the p50 minus the kinds' sum, the engine's own work and the
# clock reads), the median over rounds of each run's median time per inference, and fp32 /
# int8. Prints a table and writes it to $RESULTS/int8/layers-<UTC>.txt.
#
# Environment: SUPERNAV (build/supernav), MODEL (build/supernet.snm), ROUNDS (3), LIMIT (1000),
# WARMUP (50), SUBNETS, RESULTS (results).
set -eu
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${MODEL:-build/supernet.snm}
ROUNDS=${ROUNDS:-3}
LIMIT=${LIMIT:-1000}
WARMUP=${WARMUP:-50}
SUBNETS=${SUBNETS:-'^r40-d1.2.2.2-e2.2.2.2.2.2.2-k3.3.3.3.3.3.3$|^r56-d2.2.2.2-e3.2.2.3.2.2.2.2-k3.3.5.3.3.3.5.5$|^r64-d2.3.3.3-e4.4.4.4.4.4.4.4.4.4.4-k5.5.5.5.5.5.5.5.5.5.5$'}
RESULTS=${RESULTS:-results}
TABLE=workloads/supernet/accuracy.csv
die() { echo "bench-int8-layers: error: $*" >&2; exit 1; }
[ -x "$SUPERNAV" ] || die "$SUPERNAV is missing; run 'make'"
configs=$(awk -F, 'NR > 1 && $1 == "subnet" { print $2 }' "$TABLE" | grep -E -- "$SUBNETS" || true)
[ -n "$configs" ] || die "no kind=subnet rows of $TABLE match '$SUBNETS'"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS/int8"
out="$RESULTS/int8/layers-$STAMP.txt"
raw="$out.raw.$$"
trap 'rm -f "$raw" "$out.tmp.$$"' EXIT
: >"$raw"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for cfg in $configs; do
    for r in $(seq 1 "$ROUNDS"); do
        for prec in fp32 int8; do
            flag=; [ "$prec" = int8 ] && flag=--int8
            "$SUPERNAV" eval --model "$MODEL" --platform cpu --subnet "$cfg" --limit "$LIMIT" --warmup "$WARMUP" \
                --layer-times $flag 2>&1 | awk -v c="$cfg" -v p="$prec" '
                /^latency/ { l = $3 } /^isa|platform/ { }
                $1 == "stem" || $1 == "pointwise" || $1 == "depthwise" || $1 == "classifier" || $1 == "other" { k[$1] = $2; s += $2 }
                END { printf "%s %s p50 %s rest %.2f", c, p, l, l - s; for (x in k) printf " %s %s", x, k[x]; printf "\n" }' >>"$raw" ||
                die "eval $cfg $prec failed"
        done
    done
    echo "bench-int8-layers: $cfg done" >&2
done
{
    echo "# supernav int8 vs fp32 per layer kind, CPU platform (auto isa), $(date -u +%Y-%m-%dT%H:%M:%SZ), supernav $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "# $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //'), $(nproc) cores, load average $load0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
    echo "# eval --layer-times, $LIMIT canvases per run, $ROUNDS interleaved rounds; us per inference = median over rounds"
    echo "# of each run's median; rest = p50 - the kinds' sum (engine work outside the platform's slots)"
    python3 - "$raw" <<'P'
import sys, statistics, collections
d = collections.defaultdict(lambda: collections.defaultdict(list))
order = []
for line in open(sys.argv[1]):
    f = line.split()
    cfg, prec = f[0], f[1]
    if cfg not in order:
        order.append(cfg)
    for i in range(2, len(f) - 1, 2):
        d[(cfg, f[i])][prec].append(float(f[i + 1]))
kinds = ["p50", "stem", "pointwise", "depthwise", "classifier", "other", "rest"]
print("%-62s %-10s %9s %9s %8s" % ("subnet", "kind", "fp32_us", "int8_us", "fp32/int8"))
for cfg in order:
    for k in kinds:
        v = d.get((cfg, k))
        if not v or not v["fp32"] or not v["int8"]:
            continue
        a, b = statistics.median(v["fp32"]), statistics.median(v["int8"])
        print("%-62s %-10s %9.1f %9.1f %8s" % (cfg, k, a, b, "%.2fx" % (a / b) if b > 0 else "-"))
P
} >"$out.tmp.$$"
mv "$out.tmp.$$" "$out"
trap - EXIT
rm -f "$raw"
cat "$out"
echo "bench-int8-layers: wrote $out" >&2
