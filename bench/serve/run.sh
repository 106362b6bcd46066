#!/bin/sh
# make bench (PLATFORM=cpu|opencl|mcu): the standard serving set. Four traces -- the Azure LLM
# inference trace (real arrivals, rate-scaled), a SUSHI-style constraint stream, an
# MLPerf-style Server (Poisson) stream and a SUSHI-style stream with ceilings only, served in
# accuracy mode -- each replayed in real time under every policy (the MCU: its firmware under
# QEMU, virtual time), then in modelled virtual time with issue 19's peers too, plus one
# null-platform run that measures the harness's own overhead. Rates and latency
# ceilings are set from this machine's profile, so the load is comparable across
# machines: RATE = LOAD x 1e6 / (median SubNet latency without a resident SubGraph),
# ceiling base = 2 x the largest SubNet's latency without a resident SubGraph.
# Writes results/bench/<UTC>/<trace>-<policy>/ run directories, table.txt and report/
# (supernav report: report.html, report.md, plots/); results/bench/<model>-<UTC>/ for a model
# other than cf64. MODEL, MODEL_IMAGE, MODEL_TABLE, MODEL_TEST: the model served (make passes
# them; CF-64's by default); each run directory's context.json records the image and canvases.
set -eu
SUPERNAV=${SUPERNAV:-build/supernav}
PLATFORM=${PLATFORM:-cpu}
MODEL=${MODEL:-cf64}
MODEL_IMAGE=${MODEL_IMAGE:-build/supernet.snm}
MODEL_TEST=${MODEL_TEST:-data/canvas/cf64-test}
TABLE=${MODEL_TABLE:-workloads/supernet/accuracy.csv}
# the FPGA model has only modelled (virtual) time: its own run set, reproduction and sweep
[ "$PLATFORM" != fpga ] || exec sh bench/fpga/run.sh
N=${BENCH_QUERIES:-3000}
REPS=${BENCH_REPS:-3}
LOAD=${BENCH_LOAD:-0.35}
NEAR_KIB=${BENCH_NEAR_KIB:-768}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${BENCH_OUT:-results/bench/$STAMP}
[ "$MODEL" = cf64 ] || OUT=${BENCH_OUT:-results/bench/$MODEL-$STAMP}
die() { echo "make bench: error: $*" >&2; exit 1; }
[ -x "$SUPERNAV" ] || die "$SUPERNAV is not built"
[ -f "$MODEL_IMAGE" ] || die "$MODEL_IMAGE is missing (make MODEL=$MODEL)"
# the model and its canvases, on every profile and replay (eval's defaults would be the image's)
MODEL_FLAGS="--model $MODEL_IMAGE --data $MODEL_TEST"
# PLATFORM=mcu (platforms/mcu/README.md): a board profile's firmware under QEMU, int8; replays
# in virtual time with each query's emulated instruction count through the board's cycle
# model (deterministic: one run per row), a short trace (BENCH_QUERIES, default 100)
PLAT_ARGS=""
REPLAY_MODE=""
if [ "$PLATFORM" = mcu ]; then
    # h743 by default: all 31 Pareto SubNets fit it (platforms/mcu/README.md), so floors and
    # ceilings have the whole front to choose from; on the f746 only 6 fit, within 0.35
    # points of each other, and no policy can differ much (BENCH_BOARD=f746 still runs it)
    BOARD=${BENCH_BOARD:-h743}
    N=${BENCH_QUERIES:-100}
    REPS=1
    NEAR_KIB=${BENCH_NEAR_KIB:-32}
    PLAT_ARGS="--board $BOARD"
    REPLAY_MODE=--virtual
    command -v qemu-system-arm >/dev/null 2>&1 || die "PLATFORM=mcu needs qemu-system-arm (make deps)"
fi
if [ "$PLATFORM" = opencl ]; then
    # one clear line when there is no OpenCL device (SUPERNAV_OPENCL_DEVICE picks one)
    "$SUPERNAV" eval --device list >/dev/null 2>&1 || die "PLATFORM=opencl needs an OpenCL device (none found)"
fi
[ ! -e "$OUT" ] || die "$OUT already exists"
tmp="$OUT.tmp-$$"
mkdir -p "$tmp/traces"
trap 'rm -rf "$tmp"' EXIT

echo "bench: profiling $PLATFORM, model $MODEL (cached per model and near budget)" >&2
# shellcheck disable=SC2086
prof=$("$SUPERNAV" profile --platform "$PLATFORM" $MODEL_FLAGS $PLAT_ARGS --near-kib "$NEAR_KIB" --json) || die "profile failed"
median=$(echo "$prof" | sed -n 's/.*"median_nocache_us":\([0-9.]*\).*/\1/p')
largest=$(echo "$prof" | sed -n 's/.*"largest_nocache_us":\([0-9.]*\).*/\1/p')
[ -n "$median" ] && [ -n "$largest" ] || die "profile printed no latencies"
device=$(echo "$prof" | sed -n 's/.*"device":"\([^"]*\)".*/\1/p')
rate=$(awk -v l="$LOAD" -v m="$median" 'BEGIN { printf "%.1f", l * 1e6 / m }')
ceil=$(awk -v x="$largest" 'BEGIN { printf "%d", 2 * x }')
# floors from the SubNets this platform (and board) serves: the served set's top-1 at its
# 0, 25, 50, 75 and 100th percentiles (rounded down to the trace's 4 decimals), so every
# floor is reachable by at least one served SubNet and the top one only by the most
# accurate (BENCH_FLOORS overrides: a comma list of 5)
top1s=$(echo "$prof" | sed -n 's/.*"top1":\[\([0-9.,]*\)\].*/\1/p')
[ -n "$top1s" ] || die "profile printed no top-1 list"
FLOORS=${BENCH_FLOORS:-$(echo "$top1s" | tr ',' '\n' | sort -n | awk '{ v[NR] = $1 }
    END { for (i = 0; i < 5; ++i) { k = 1 + int(i * (NR - 1) / 4 + 0.5); f = int(v[k] * 10000 + 1e-6) / 10000
          printf "%s%.4f", i ? "," : "", f } }')}
src=measured
[ "$PLATFORM" != mcu ] || src="model: emulated instructions through the board's cycle model"
echo "bench: median SubNet ${median} us, largest ${largest} us (no SubGraph resident, $src)" >&2
echo "bench: arrival rate ${rate} q/s (load ${LOAD} of the median SubNet), ceiling base ${ceil} us, ${N} queries per run" >&2
echo "bench: floors $FLOORS (the served SubNets' top-1 quartiles)" >&2
[ "$PLATFORM" != mcu ] || echo "bench: board $BOARD serves $(echo "$prof" | sed -n 's/.*"subnets":\([0-9]*\).*/\1/p') Pareto SubNets (h743 by default: the most room of the Cortex-M7 profiles; BENCH_BOARD picks another)" >&2

T="$tmp/traces"
# the modelled replays below run NM queries per trace (the MCU's firmware-in-the-loop runs only
# the first N: a QEMU inference per query); every trace is generated that long
NM=${BENCH_MODELLED_QUERIES:-3000}
[ "$NM" -ge "$N" ] || NM=$N
"$SUPERNAV" trace import --format azure-llm workloads/traces/real/AzureLLMInferenceTrace_conv.csv \
    --rate "$rate" --ceiling-us "$ceil" --floors "$FLOORS" -o "$T/azure-llm.csv" >/dev/null ||
    die "trace import failed"
"$SUPERNAV" trace gen sushi --count "$NM" --seed 1 --rate "$rate" --ceiling-us "$ceil" --floors "$FLOORS" \
    -o "$T/sushi.csv" >/dev/null || die "trace gen failed"
"$SUPERNAV" trace gen server --count "$NM" --seed 2 --rate "$rate" --ceiling-us "$ceil" --floors "$FLOORS" \
    -o "$T/server.csv" >/dev/null || die "trace gen failed"
# a fourth trace, ceilings only, served in accuracy mode (replay --choice accuracy): with no
# floor to hold the choice, the latency a policy saves can become served accuracy (issue 19's
# accuracy lever; and with ARAC configs, the latency an ARAC config saves)
"$SUPERNAV" trace gen sushi --count "$NM" --seed 3 --rate "$rate" --ceiling-us "$ceil" --constraint ceiling \
    -o "$T/ceiling.csv" >/dev/null || die "trace gen failed"

# ARAC configs served beside the SubNets (replay --arac; issue 20): for a model other than CF-64
# by default (BENCH_ARAC=1|0 decides), on cpu and opencl; each policy runs twice, interleaved,
# SubNets only and with the table's undominated ARAC configs ("<policy>+arac"), on the same traces
ARAC=${BENCH_ARAC:-$([ "$MODEL" = cf64 ] && echo 0 || echo 1)}
if [ "$ARAC" = 1 ] && { [ "$PLATFORM" = mcu ] || ! grep -q '^arac,' "$TABLE"; }; then
    echo "bench: no ARAC runs: $([ "$PLATFORM" = mcu ] && echo "PLATFORM=mcu serves SubNets only" || echo "$TABLE lists no ARAC config")" >&2
    ARAC=0
fi
VARIANTS=""
TRACES="azure-llm sushi server ceiling"
if [ "$ARAC" = 1 ]; then
    VARIANTS="+arac"
    echo "bench: profiling $PLATFORM with the ARAC configs (p50 and p95 per config)" >&2
    # shellcheck disable=SC2086
    "$SUPERNAV" profile --platform "$PLATFORM" $MODEL_FLAGS $PLAT_ARGS --near-kib "$NEAR_KIB" --arac >"$tmp/arac-profile.txt" ||
        die "profile --arac failed"
    echo "bench: ARAC configs served: $(grep -c ' arac-' "$tmp/arac-profile.txt")" >&2
fi

# shellcheck disable=SC2086
mid=$("$SUPERNAV" profile --platform "$PLATFORM" $MODEL_FLAGS $PLAT_ARGS --near-kib "$NEAR_KIB" | awk 'NR > 1 { c[NR] = $NF } END { print c[int((NR + 2) / 2)] }')
POLICIES="sushi nocache static-subgraph static-subnet:$mid largest smallest oracle"
total=$(( $(echo $TRACES | wc -w) * REPS * $(echo $POLICIES | wc -w) * (1 + $(echo $VARIANTS | wc -w)) ))
i=0
start=$(date +%s)
# repetitions interleave the policies (rep 1 of every policy, then rep 2, ...), so that a
# burst of load from other jobs on a shared machine does not land on one policy only
runs=""
for rep in $(seq 1 "$REPS"); do
    for trace in $TRACES; do
        choice=""
        [ "$trace" != ceiling ] || choice="--choice accuracy"
        for policy in $POLICIES; do
          for variant in "" $VARIANTS; do
            i=$((i + 1))
            name=$(echo "$policy" | sed 's/:.*//')$variant
            now=$(date +%s)
            if [ "$i" -gt 1 ]; then
                eta=$(( (now - start) * (total - i + 1) / (i - 1) ))
                echo "bench: [$i/$total] rep $rep: $trace / $name (about ${eta} s left)" >&2
            else
                echo "bench: [$i/$total] rep $rep: $trace / $name" >&2
            fi
            # shellcheck disable=SC2086
            "$SUPERNAV" replay --platform "$PLATFORM" $MODEL_FLAGS $PLAT_ARGS $REPLAY_MODE --near-kib "$NEAR_KIB" --trace "$T/$trace.csv" \
                --policy "$policy" --limit "$N" $choice ${variant:+--arac} --out "$tmp/$trace-$name-r$rep" --quiet >/dev/null ||
                die "replay $trace $policy$variant failed"
            runs="$runs $tmp/$trace-$name-r$rep"
          done
        done
    done
done
# The same traces in modelled virtual time, with issue 19's peers beside the policies above
# (lru, slackfit, static-hindsight: cheap here, every query's service time is the profile's).
# On the MCU the runs above are deterministic already, but short (N queries of QEMU inference
# each): here the null platform simulates the board's profile for NM queries, so each run is
# long enough for MLPerf LoadGen's minimum query count.
MPOLICIES="$POLICIES lru slackfit static-hindsight"
echo "bench: the same traces in modelled virtual time, $NM queries per run, policies $(echo $MPOLICIES | sed 's/:[^ ]*//g')" >&2
MPLAT="--platform $PLATFORM"
if [ "$PLATFORM" = mcu ]; then
    mprof=$(echo "$prof" | sed -n 's/.*"profile":"\([^"]*\)".*/\1/p')
    [ -f "$mprof" ] || die "the board's profile file ($mprof) is missing"
    MPLAT="--platform null --profile $mprof"
fi
mruns=""
for trace in $TRACES; do
    choice=""
    [ "$trace" != ceiling ] || choice="--choice accuracy"
    for policy in $MPOLICIES; do
        name=$(echo "$policy" | sed 's/:.*//')
        # shellcheck disable=SC2086
        "$SUPERNAV" replay $MPLAT $MODEL_FLAGS --near-kib "$NEAR_KIB" --trace "$T/$trace.csv" \
            --policy "$policy" --limit "$NM" $choice --modelled --out "$tmp/modelled/$trace-$name" --quiet >/dev/null ||
            die "modelled replay $trace $policy failed"
        mruns="$mruns $tmp/modelled/$trace-$name"
    done
done
echo "bench: harness overhead (null platform, virtual time, sushi, server trace)" >&2
# shellcheck disable=SC2086
"$SUPERNAV" replay --platform null $MODEL_FLAGS --trace "$T/server.csv" --policy sushi --virtual \
    --out "$tmp/server-null-overhead" --quiet >/dev/null || die "null-platform replay failed"

# shellcheck disable=SC2086
"$SUPERNAV" summary $runs | sed "s|$tmp/||g" > "$tmp/table.txt.tmp"
{
    echo "# make bench PLATFORM=$PLATFORM MODEL=$MODEL ($STAMP): $N queries per run, $REPS runs per row (medians),"
    echo "# model $MODEL_IMAGE, canvases $MODEL_TEST,"
    [ -z "$device" ] || echo "# OpenCL device: $device"
    echo "# rate $rate q/s, ceiling base $ceil us, floors $FLOORS (served SubNets' top-1 quartiles),"
    if [ "$PLATFORM" = mcu ]; then
    echo "# board $BOARD ($(echo "$prof" | sed -n 's/.*"profile":"\([^"]*\)".*/\1/p')); near = the SRAM weight cache; latencies"
    echo "# model: emulated instructions (qemu -icount) through the board's cycle model, virtual-time replay;"
    echo "# near budget $NEAR_KIB KiB; served accuracy"
    else
    echo "# near budget $NEAR_KIB KiB; latencies measured (wall clock, real-time replay); served accuracy"
    fi
    echo "# from the accuracy table, measured accuracy from the predictions; far MB = weight bytes moved"
    echo "# from far memory; hit = near / (near + far) weight bytes."
    [ "$ARAC" != 1 ] || echo "# <policy>+arac: the same policy with the table's undominated ARAC configs served beside the SubNets (replay --arac; the choice charges an ARAC config its profiled p50 times its p95/p50 beyond the SubNets' median: --arac-quantile excess)."
    echo "# ceiling.csv: a SUSHI stream with ceilings only (seed 3), served in accuracy mode (--choice accuracy): the most accurate entry that fits what is left of the ceiling."
    cat "$tmp/table.txt.tmp"
    if [ -n "$mruns" ]; then
    echo "#"
    echo "# The same traces in modelled virtual time, $NM queries per run, with lru, slackfit and"
    echo "# static-hindsight beside the policies above: each query's service time is the profile's"
    echo "# p50 for its SubNet with the resident SubGraph (switches: the profile's switching time), so"
    echo "# the queue is a deterministic model, free of this machine's noise (model)."
    [ "$ARAC" != 1 ] || echo "# (SubNets only: an ARAC config's service time depends on the image, which the p50 hides)"
    # shellcheck disable=SC2086
    "$SUPERNAV" summary $mruns | sed "s|$tmp/||g"
    fi
    printf '# harness overhead per query (null platform): mean %s us, p99 %s us (measured)\n' \
        "$(sed -n 's/.*"harness_overhead_mean_us":[^0-9]*\([0-9.]*\).*/\1/p' "$tmp/server-null-overhead/policy.json")" \
        "$(sed -n 's/.*"harness_overhead_p99_us":[^0-9]*\([0-9.]*\).*/\1/p' "$tmp/server-null-overhead/policy.json")"
} > "$tmp/table.txt"
rm -f "$tmp/table.txt.tmp"
mkdir -p "$(dirname "$OUT")"
mv "$tmp" "$OUT"
trap - EXIT
cat "$OUT/table.txt"
# the report (plots, reproduction table); the newest ARAC benchmark result of the same model,
# if any, for the NeuLens rows (results/arac/arac-<UTC> is CF-64's, arac-<model>-<UTC> another's)
if [ "$MODEL" = cf64 ]; then
    arac=$(ls -d results/arac/arac-[0-9]* 2>/dev/null | tail -n 1)
else
    arac=$(ls -d "results/arac/arac-$MODEL-"[0-9]* 2>/dev/null | tail -n 1)
fi
if "$SUPERNAV" report "$OUT" -o "$OUT/report" --table "$TABLE" ${arac:+--arac "$arac"} >/dev/null 2>"$OUT/report.err"; then
    rm -f "$OUT/report.err"
    echo "bench: report $OUT/report/report.html" >&2
else
    echo "make bench: error: the report failed: $(cat "$OUT/report.err")" >&2
    echo "bench: wrote $OUT without a report" >&2
    exit 1
fi
echo "bench: wrote $OUT ($(( $(date +%s) - start )) s)" >&2
# an experiment that cannot tell the policies apart is named, not hidden (supernav summary's
# DEGENERATE lines: every policy under 5 % or over 95 % of SLOs, or all within 1 point)
if grep -q '^# DEGENERATE' "$OUT/table.txt"; then
    grep '^# DEGENERATE' "$OUT/table.txt" | sed 's/^# /bench: warning: /' >&2
fi
