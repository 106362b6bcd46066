#!/bin/sh
# make bench-peers: batch-1, single-thread latency of every Pareto SubNet on supernav vs ONNX
# Runtime 1.30 (onnxruntime-node) vs PyTorch 1.13 (Debian), same fp32 model, in one run; and
# (PEERS_INT8=1, the default) supernav's int8 path vs ONNX Runtime's int8 on the same SubNets
# exported as QDQ ONNX with supernav's own scales (workloads/supernet/export_onnx_qdq.py).
# Method: bench/peers/README.md. Progress on stderr; the table on stdout; the files under
# $RESULTS/peers/peers-<UTC>/.
#
# CF-64 only: the ONNX export and the PyTorch runner build CF-64's SuperNet
# (workloads/supernet/export_onnx.py); another MODEL is a skip, said on one line.
#
# Environment (make passes these): SUPERNAV, MODEL (cf64), MODEL_IMAGE, PEAK_FMA, PEERS_PLATFORM (cpu),
# PEERS_K (timed runs per SubNet and runtime), PEERS_WARMUP, PEERS_ROUNDS, PEERS_ORT_TIMING
# (binding|profiler: which ONNX Runtime figure the ratio uses), PEERS_INT8 (1: the int8 columns;
# 0: fp32 only), PEERS_INT8_WEIGHTS (auto: int8 on x86 with VNNI, else uint8; or int8|uint8: the
# QDQ weights' ONNX type), PEERS_BUILD, RESULTS.
set -eu

say() { echo "bench-peers: $*" >&2; }
die() { echo "bench-peers: error: $*" >&2; exit 1; }

SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${MODEL:-cf64}
MODEL_IMAGE=${MODEL_IMAGE:-build/supernet.snm}
PEAK_FMA=${PEAK_FMA:-build/bench/peak_fma}
PEERS_PLATFORM=${PEERS_PLATFORM:-cpu}
PEERS_K=${PEERS_K:-300}
PEERS_ROUNDS=${PEERS_ROUNDS:-5}
PEERS_WARMUP=${PEERS_WARMUP:-30}
PEERS_ORT_TIMING=${PEERS_ORT_TIMING:-binding}
PEERS_INT8=${PEERS_INT8:-1}
PEERS_INT8_WEIGHTS=${PEERS_INT8_WEIGHTS:-auto}
PEERS_BUILD=${PEERS_BUILD:-build/peers}
RESULTS=${RESULTS:-results}
PY=/usr/bin/python3
TEST=data/canvas/cf64-test
TABLE=workloads/supernet/accuracy.csv
STAMP=$(date -u +%Y%m%dT%H%M%SZ)

if [ "$MODEL" != cf64 ]; then
    say "skip: MODEL=$MODEL is not run against the peers: the ONNX export and the PyTorch runner build CF-64's SuperNet only (workloads/supernet/export_onnx.py)"
    exit 0
fi
case $PEERS_K in '' | *[!0-9]* | 0) die "PEERS_K must be a positive integer (got '$PEERS_K')" ;; esac
case $PEERS_ROUNDS in '' | *[!0-9]* | 0) die "PEERS_ROUNDS must be a positive integer (got '$PEERS_ROUNDS')" ;; esac
case $PEERS_WARMUP in '' | *[!0-9]*) die "PEERS_WARMUP must be a non-negative integer (got '$PEERS_WARMUP')" ;; esac
case $PEERS_PLATFORM in
    reference | cpu | opencl | mcu | fpga) ;;
    *) die "unknown PEERS_PLATFORM '$PEERS_PLATFORM' (reference, cpu, opencl, mcu, fpga)" ;;
esac
case $PEERS_ORT_TIMING in binding | profiler) ;; *) die "PEERS_ORT_TIMING must be 'binding' or 'profiler' (got '$PEERS_ORT_TIMING')" ;; esac
case $PEERS_INT8 in 0 | 1) ;; *) die "PEERS_INT8 must be 1 (the int8 columns) or 0 (fp32 only) (got '$PEERS_INT8')" ;; esac
case $PEERS_INT8_WEIGHTS in auto | int8 | uint8) ;; *) die "PEERS_INT8_WEIGHTS must be auto, int8 or uint8 (got '$PEERS_INT8_WEIGHTS')" ;; esac
[ -x "$SUPERNAV" ] || die "$SUPERNAV is missing; run 'make'"
[ -f "$MODEL_IMAGE" ] || die "$MODEL_IMAGE is missing; run 'make'"
[ -x "$PEAK_FMA" ] || die "$PEAK_FMA is missing; run 'make $PEAK_FMA'"
[ -f "$TEST-images-idx3-ubyte" ] || die "$TEST-images-idx3-ubyte is missing; run 'make datasets'"

# ---- what is missing: Debian packages, ONNX Runtime, the ONNX models -------------------
sh ci/deps.sh ci/packages-peers.txt || die "missing Debian packages (ci/packages-peers.txt)"
sh bench/peers/install_ort.sh "$PEERS_BUILD" || die "ONNX Runtime could not be installed"
"$PY" workloads/supernet/export_onnx.py --supernav "$SUPERNAV" --model-image "$MODEL_IMAGE" \
    --test "$TEST" --out "$PEERS_BUILD/onnx" || die "ONNX export or its checks failed (see above)"
int8_manifest=""
if [ "$PEERS_INT8" = 1 ]; then
    # ONNX Runtime's int8-weight (U8S8) kernels are exact on x86 with VNNI only; without it the
    # same weights go as uint8 (+ 128), which its exact U8U8 kernels serve (export_onnx_qdq.py
    # --weights auto; the manifest records which)
    "$PY" workloads/supernet/export_onnx_qdq.py --model-image "$MODEL_IMAGE" --table "$TABLE" \
        --weights "$PEERS_INT8_WEIGHTS" --out "$PEERS_BUILD/onnx-int8" || die "int8 QDQ export failed (see above)"
    int8_manifest=$PEERS_BUILD/onnx-int8/manifest.json
fi

# ---- supernav's platform: PEERS_PLATFORM, or reference while it is not built -----------
configs=$(awk -F, 'NR > 1 && $1 == "subnet" { print $2 }' "$TABLE")
[ -n "$configs" ] || die "$TABLE: no kind=subnet rows"
first=$(echo "$configs" | head -n 1)
platform=$PEERS_PLATFORM
note=""
if ! probe=$("$SUPERNAV" eval --model "$MODEL_IMAGE" --platform "$platform" --subnet "$first" \
    --limit 1 --warmup 0 --json 2>&1 >/dev/null); then
    # Only a platform this build lacks falls back; any other failure is an error.
    case $platform:$probe in
        reference:* | *:"") die "supernav eval --platform $platform failed: ${probe:-no message}" ;;
        *"not available"*) ;;
        *) die "supernav eval --platform $platform failed: $probe" ;;
    esac
    note="supernav eval --platform $platform failed ($probe); measured 'reference' instead"
    say "warning: $note"
    platform=reference
fi

# ---- the measurements (rounds of supernav then ORT, each over every SubNet; PyTorch once) ---
work=$PEERS_BUILD/run
rm -rf "$work"
mkdir -p "$work"
# the machine may be shared: the report gives the load average before and after
cat /proc/loadavg >"$work/loadavg-start" 2>/dev/null || :
say "FMA peak: $PEAK_FMA (0.5 s per instruction set)"
"$PEAK_FMA" --json --seconds 0.5 >"$work/peak.json" || die "$PEAK_FMA failed"

n=$(echo "$configs" | wc -l)
precisions=fp32
[ "$PEERS_INT8" = 0 ] || precisions="fp32 then int8"
# ---- int8: the QDQ models must be supernav's int8 model before they are timed ------------
# as tests/test_int8_ort.sh checks it (the same comparison and bounds): ONNX Runtime's logits
# (its integer operators; its optimized graphs are kept to count them) against
# `supernav eval --int8 --logits`, canvas by canvas, on the timed canvases (at least 200, the
# count the bounds were measured on); report.py then ties every timed run to this check (the
# same top-1 counts, ONNX Runtime's top-1 canvas by canvas)
if [ "$PEERS_INT8" = 1 ]; then
    agree_n=$PEERS_K
    [ "$agree_n" -ge 200 ] || agree_n=200
    say "int8: top-1 agreement of the QDQ models with supernav eval --int8 on $agree_n canvases"
    node bench/peers/ort_logits.js --manifest "$int8_manifest" --n "$agree_n" --test "$TEST" \
        --ort-modules "$PEERS_BUILD/node_modules" --optimized-dir "$work/int8-optimized" \
        --out "$work/int8-ort-logits.json" || die "ONNX Runtime's int8 logits (bench/peers/ort_logits.js) failed"
    mkdir -p "$work/int8-engine"
    i=0
    for cfg in $configs; do
        "$SUPERNAV" eval --model "$MODEL_IMAGE" --platform "$platform" --subnet "$cfg" --int8 --limit "$agree_n" \
            --warmup 0 --logits "$work/int8-engine/$(printf 'subnet%02d' "$i").csv" >/dev/null ||
            die "supernav eval --int8 --logits --subnet $cfg failed"
        i=$((i + 1))
    done
    "$PY" tests/int8_ort_compare.py --ort "$work/int8-ort-logits.json" --engine-dir "$work/int8-engine" \
        --optimized-dir "$work/int8-optimized" --json "$work/int8-agreement.json" >"$work/int8-agreement.txt" 2>&1 ||
        die "the int8 QDQ models disagree with supernav's int8 ($(grep '^verdict\|error' "$work/int8-agreement.txt" | head -n 1)); see $work/int8-agreement.txt"
    say "int8: $(sed -n 's/^figures: //p' "$work/int8-agreement.txt")"
fi

# supernav and ONNX Runtime alternate for PEERS_ROUNDS rounds (a shared machine's load drifts
# over a minute: one runtime after the other would compare different moments); the report
# takes each SubNet's median p50 over the rounds and gives every round's geometric mean.
# With int8, each runtime runs a SubNet's int8 model right after its fp32 one.
r=0
while [ "$r" -lt "$PEERS_ROUNDS" ]; do
    r=$((r + 1))
    i=0
    say "round $r/$PEERS_ROUNDS: supernav ($platform): $n SubNets ($precisions), $PEERS_K timed runs each after $PEERS_WARMUP warm-up runs"
    for cfg in $configs; do
        i=$((i + 1))
        line=$("$SUPERNAV" eval --model "$MODEL_IMAGE" --platform "$platform" --subnet "$cfg" \
            --limit "$PEERS_K" --warmup "$PEERS_WARMUP" --json) || die "supernav eval --subnet $cfg failed"
        echo "$line" >>"$work/supernav-r$r.jsonl"
        say "supernav [$i/$n] $cfg: p50 $(echo "$line" | sed -n 's/.*"p50_us":\([0-9.]*\).*/\1/p') us"
        if [ "$PEERS_INT8" = 1 ]; then
            line=$("$SUPERNAV" eval --model "$MODEL_IMAGE" --platform "$platform" --subnet "$cfg" --int8 \
                --limit "$PEERS_K" --warmup "$PEERS_WARMUP" --json) || die "supernav eval --int8 --subnet $cfg failed"
            echo "$line" >>"$work/supernav-int8-r$r.jsonl"
            say "supernav [$i/$n] $cfg int8: p50 $(echo "$line" | sed -n 's/.*"p50_us":\([0-9.]*\).*/\1/p') us"
        fi
    done
    say "round $r/$PEERS_ROUNDS: ONNX Runtime: $n SubNets ($precisions), $PEERS_K timed runs each after $PEERS_WARMUP warm-up runs"
    node bench/peers/ort_bench.js --manifest "$PEERS_BUILD/onnx/manifest.json" --k "$PEERS_K" \
        --warmup "$PEERS_WARMUP" --test "$TEST" --ort-modules "$PEERS_BUILD/node_modules" \
        ${int8_manifest:+--int8-manifest "$int8_manifest"} \
        --profile-dir "$work/ort-profiles-r$r" --out "$work/ort-r$r.json" || die "ONNX Runtime benchmark failed"
done

say "PyTorch: $n SubNets, $PEERS_K timed runs each after $PEERS_WARMUP warm-up runs"
"$PY" bench/peers/torch_bench.py --manifest "$PEERS_BUILD/onnx/manifest.json" --k "$PEERS_K" \
    --warmup "$PEERS_WARMUP" --test "$TEST" --out "$work/torch.json" || die "PyTorch benchmark failed"

# Where each SubNet's time goes, per layer kind (fp32, cpu only): a separate pass with every
# kernel call timed (eval --layer-times: two clock reads per layer), against the FMA peak above
if [ "$platform" = cpu ]; then
    peak=$(sed -n 's/.*"peak_gflops":[[:space:]]*\([0-9.]*\).*/\1/p' "$work/peak.json" | head -n 1)
    say "layer kinds: $n SubNets, $PEERS_K timed runs each, every kernel call timed (FMA peak ${peak:-?} GFLOP/s)"
    for cfg in $configs; do
        "$SUPERNAV" eval --model "$MODEL_IMAGE" --platform cpu --subnet "$cfg" --limit "$PEERS_K" \
            --warmup "$PEERS_WARMUP" --layer-times ${peak:+--fma-peak "$peak"} --json >>"$work/layers.jsonl" ||
            die "supernav eval --layer-times --subnet $cfg failed"
    done
fi

# ---- the report ----------------------------------------------------------------------
"$PY" bench/peers/report.py --work "$work" --manifest "$PEERS_BUILD/onnx/manifest.json" \
    --out "$RESULTS/peers/peers-$STAMP" --platform "$platform" --requested-platform "$PEERS_PLATFORM" \
    --platform-note "$note" --k "$PEERS_K" --warmup "$PEERS_WARMUP" --ort-timing "$PEERS_ORT_TIMING" \
    --rounds "$PEERS_ROUNDS" ${int8_manifest:+--int8-manifest "$int8_manifest"} \
    --supernav "$SUPERNAV" || die "report failed"
