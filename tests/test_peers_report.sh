#!/bin/sh
# make bench-peers's scripts without a benchmark: bench/peers/report.py on a planted work
# directory (two SubNets, two rounds, K = 4: the files run.sh leaves, with latencies chosen so
# that every ratio is known), its int8 checks made to fail one at a time, PEERS_INT8's bad
# input in run.sh, and (where node, ONNX Runtime and python3-onnx are installed) ort_bench.js
# timing int8 QDQ models live; the per-layer-kind table from planted eval --layer-times lines.
# gnuplot is a stand-in. TAP; seconds.
#
# The planted latencies (us; medians over the two rounds where they differ):
#   SubNet A: supernav fp32 60, ORT fp32 100, supernav int8 30, ORT int8 60
#   SubNet B: supernav fp32 80 then 100 (median 90), ORT fp32 100, supernav int8 40, ORT int8 50
# so supernav/ORT fp32 = sqrt(0.6 x 0.9) = 0.735x (rounds 0.693x, 0.775x): MISSED (> 0.7);
# supernav's int8 speedup sqrt(2 x 2.25) = 2.121x (rounds 2.000x, 2.236x): MET;
# supernav int8 / ORT int8 sqrt(0.5 x 0.8) = 0.632x: MET; ORT's int8 speedup
# sqrt(1.667 x 2) = 1.826x: above the 1.64-1.73x anchor.
set -u
BUILD=${BUILD:-build}
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${SN_MODEL:-build/supernet.snm}
PY=/usr/bin/python3
echo "1..11"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
# the gnuplot stand-in is executed: under the build directory, not /tmp (may be noexec)
mkdir -p "$BUILD"
tmp=$(mktemp -d "$BUILD/test-peers-report.XXXXXX") || exit 1
tmp=$(cd "$tmp" && pwd)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
cat > "$tmp/bin/gnuplot" <<'EOF'
#!/bin/sh
# test_peers_report.sh's stand-in for gnuplot: writes the file named by `set output`
out=$(sed -n "s/^set output '\(.*\)'\$/\1/p")
[ -n "$out" ] && echo '<svg/>' > "$out"
EOF
chmod +x "$tmp/bin/gnuplot"

# ---- the planted work directory ------------------------------------------------------------
plant() {   # plant DIR: the files run.sh leaves for report.py
    "$PY" - "$1" <<'EOF'
import json, os, sys
w = sys.argv[1]
os.makedirs(os.path.join(w, "int8-engine"), exist_ok=True)
K = 4
configs = ["r40-a", "r64-b"]
macs = {"r40-a": 2000000, "r64-b": 8000000}
labels = [1, 2, 3, 4]
# each model's top-1 per canvas (argmax of its logits): A right on 3 of 4, B on 4
top1 = {"r40-a": [1, 2, 3, 0], "r64-b": [1, 2, 3, 4]}
def dump(name, doc):
    with open(os.path.join(w, name), "w") as f:
        json.dump(doc, f)
dump("manifest.json", {"onnx": "1.0", "opset": 13, "models": [
    {"config": c, "macs": macs[c], "onnx": f"subnet{i:02d}.onnx"} for i, c in enumerate(configs)]})
dump("manifest-int8.json", {"kind": "int8-qdq", "models": [
    {"config": c, "macs": macs[c], "onnx": f"subnet{i:02d}.onnx"} for i, c in enumerate(configs)]})
dump("peak.json", {"peak_gflops": 100.0, "isa": "avx512f"})
dump("torch.json", {"version": "1.13", "timing": "planted", "threads": {"intra_op": 1, "inter_op": 1},
                    "models": [{"config": c, "n": K, "correct": sum(p == l for p, l in zip(top1[c], labels)),
                                "wall": {"p50_us": 5000.0, "mean_us": 5000.0}} for c in configs]})
lat = {  # (supernav fp32, ORT fp32, supernav int8, ORT int8) per round
    1: {"r40-a": (60, 100, 30, 60), "r64-b": (80, 100, 40, 50)},
    2: {"r40-a": (60, 100, 30, 60), "r64-b": (100, 100, 40, 50)},
}
def ort_model(c, us, with_top1):
    m = {"config": c, "macs": macs[c], "n": K, "correct": sum(p == l for p, l in zip(top1[c], labels)),
         "wall_minus_binding": {"p50_us": us, "mean_us": us}, "profiler": {"p50_us": us + 50, "mean_us": us + 50},
         "wall": {"p50_us": us + 10, "mean_us": us + 10}}
    if with_top1:
        m["top1"] = top1[c]
    return m
for r, per in lat.items():
    for stem, j, prec in (("supernav", 0, "fp32"), ("supernav-int8", 2, "int8")):
        with open(os.path.join(w, f"{stem}-r{r}.jsonl"), "w") as f:
            for c in configs:
                f.write(json.dumps({"config": c, "precision": prec, "isa": "avx512vnni", "macs": macs[c], "n": K,
                                    "correct": sum(p == l for p, l in zip(top1[c], labels)),
                                    "p50_us": per[c][j], "p99_us": per[c][j] + 5,
                                    "latency_source": "planted"}) + "\n")
    dump(f"ort-r{r}.json", {"version": "1.30.0", "session_options": {}, "binding_overhead_us": 10.0,
                            "null_model": {}, "models": [ort_model(c, per[c][1], False) for c in configs],
                            "models_int8": [ort_model(c, per[c][3], True) for c in configs]})
def logits(p):
    return [1.0 if k == p else 0.0 for k in range(10)]
dump("int8-ort-logits.json", {"models": [{"config": c, "onnx": f"subnet{i:02d}.onnx",
                                          "logits": [logits(p) for p in top1[c]]} for i, c in enumerate(configs)]})
for i, c in enumerate(configs):
    with open(os.path.join(w, "int8-engine", f"subnet{i:02d}.csv"), "w") as f:
        f.write("sample,label," + ",".join(f"logit{k}" for k in range(10)) + "\n")
        for s, (p, l) in enumerate(zip(top1[c], labels)):
            f.write(f"{s},{l}," + ",".join(str(v) for v in logits(p)) + "\n")
dump("int8-agreement.json", {"verdict": "PASS", "failed": [], "subnets": 2, "canvases": 2 * K, "agree": 2 * K,
                             "agree_frac": 1.0, "agree_frac_min_subnet": 1.0, "rel_median": 0.01, "rel_p99": 0.04,
                             "rel_max": 0.1, "abs_max": 0.2,
                             "per_subnet": [{"config": c, "n": K, "agree": K} for c in configs],
                             "operators": {"total": {"com.microsoft.QLinearConv": 40}, "per_subnet": {}}})
EOF
}

report() {  # report DIR OUT [extra args]: report.py's exit status; stdout and stderr in OUT.{out,err}
    w=$1 out=$2
    shift 2
    PATH="$tmp/bin:$PATH" "$PY" bench/peers/report.py --work "$w" --manifest "$w/manifest.json" --out "$out" \
        --platform cpu --requested-platform cpu --k 4 --warmup 1 --rounds 2 --supernav /bin/true "$@" \
        > "$out.out" 2> "$out.err"
}

if [ ! -x "$PY" ]; then
    for i in 1 2 3 4 5 6 7 8 9 10; do skip "$PY is missing"; done
    exit 0
fi

# 1-2. the int8 columns and the four ratios
plant "$tmp/w"
report "$tmp/w" "$tmp/r" --int8-manifest "$tmp/w/manifest-int8.json"
rc=$?
t="$tmp/r/table.md"
want_ok=0
for s in 'supernav fp32 / ONNX Runtime fp32: geometric mean \*\*0.735x\*\* (0.60-0.90x per SubNet; per round 0.693x, 0.775x);.*\*\*MISSED\*\* (above 1x on 0 of 2 SubNets)' \
    'supernav int8 speedup (supernav fp32 / supernav int8): geometric mean \*\*2.121x\*\* (2.00-2.25x per SubNet; per round 2.000x, 2.236x);.*\*\*MET\*\*' \
    'supernav int8 / ONNX Runtime int8: geometric mean \*\*0.632x\*\* (0.50-0.80x per SubNet; per round 0.632x, 0.632x);.*\*\*MET\*\*' \
    'ONNX Runtime int8 speedup (ORT fp32 / ORT int8): geometric mean \*\*1.826x\*\*.*anchor 1.64-1.73x.*\*\*above\*\* the anchor' \
    '| 1 | `r64-b` | 8.00 | 90.0 | 100.0 | 5000.0 | 0.90 | 40.0 | 50.0 | 0.80 | 2.25 | 2.00 |'; do
    grep -q -- "$s" "$t" 2>/dev/null || { want_ok=1; echo "# table.md lacks: $s"; }
done
ok $((rc + want_ok)) "report.py with int8: the four ratios' geometric means, per-round figures and verdicts, the int8 columns"
head=$(head -n 1 "$tmp/r/peers.csv" 2>/dev/null)
case $head in
*,supernav_int8_p50_us,ort_int8_p50_us,ratio_supernav_int8_ort_int8,speedup_supernav_int8,speedup_ort_int8,*)
    left=$(ls "$tmp/r" | grep -c '\.tmp$')
    ok "$left" "peers.csv has the int8 columns; $left temporary files left ($(ls "$tmp/r" | tr '\n' ' '))" ;;
*) ok 1 "peers.csv's header lacks the int8 columns: $head" ;;
esac

# 3-6. a timed int8 run that is not the checked model, or a failed check: one line, exit 1
fails() {   # fails N WHAT SED-SCRIPT FILE PATTERN
    rm -rf "$tmp/w$1" "$tmp/r$1"
    plant "$tmp/w$1"
    sed -i "$3" "$tmp/w$1/$4"
    report "$tmp/w$1" "$tmp/r$1" --int8-manifest "$tmp/w$1/manifest-int8.json"
    rc=$?
    lines=$(wc -l < "$tmp/r$1.err")
    if [ $rc = 1 ] && [ "$lines" = 1 ] && grep -q -- "$5" "$tmp/r$1.err"; then
        ok 0 "$2: exit 1, one line ($(cat "$tmp/r$1.err"))"
    else
        ok 1 "$2: exit $rc, $lines lines: $(head -c 300 "$tmp/r$1.err")"
    fi
}
fails 3 "supernav's timed int8 top-1 differs from its checked logits" \
    '1s/"correct": 3/"correct": 2/' supernav-int8-r2.jsonl "supernav int8 top-1 2/4, its checked logits 3/4"
fails 4 "ONNX Runtime's timed int8 top-1 differs canvas by canvas" \
    's/"top1": \[1, 2, 3, 0\]/"top1": [1, 2, 0, 3]/' ort-r1.json "ONNX Runtime int8 top-1 is not its checked logits"
fails 5 "the agreement check failed" \
    's/"verdict": "PASS"/"verdict": "FAIL"/' int8-agreement.json "int8 agreement with supernav's int8: FAIL"
fails 6 "a timed run of supernav's fp32 path in the int8 column" \
    '1s/"precision": "int8"/"precision": "fp32"/' supernav-int8-r1.jsonl "is not int8"

# 7. fp32 only (PEERS_INT8=0): no int8 column, one verdict
plant "$tmp/w7"
rm -rf "$tmp/w7"/supernav-int8-r*.jsonl "$tmp/w7"/int8-*
report "$tmp/w7" "$tmp/r7"
rc=$?
if [ $rc = 0 ] && ! grep -q int8 "$tmp/r7/table.md" "$tmp/r7/peers.csv" &&
    [ "$(grep -c '^\* .*geometric mean \*\*' "$tmp/r7/table.md")" = 1 ]; then
    ok 0 "report.py without --int8-manifest: fp32 columns and one verdict"
else
    ok 1 "report.py without --int8-manifest: exit $rc: $(head -c 300 "$tmp/r7.err")"
fi

# 8. run.sh: a bad PEERS_INT8 is one line and a non-zero exit, before anything runs
PEERS_INT8=2 RESULTS="$tmp/results" PEERS_BUILD="$tmp/peers" sh bench/peers/run.sh > "$tmp/run.out" 2> "$tmp/run.err"
rc=$?
if [ $rc != 0 ] && [ "$(wc -l < "$tmp/run.err")" = 1 ] && grep -q "PEERS_INT8 must be 1" "$tmp/run.err" &&
    [ ! -e "$tmp/peers" ]; then
    ok 0 "run.sh PEERS_INT8=2: exit $rc, one line ($(cat "$tmp/run.err"))"
else
    ok 1 "run.sh PEERS_INT8=2: exit $rc: $(head -c 300 "$tmp/run.err")"
fi

# 9. ort_bench.js --int8-manifest, live: two QDQ models as both columns (the fp32 side's
# PyTorch check off: check_canvases 0), K = 3
ORT=
for d in "$BUILD/peers/node_modules" build/peers/node_modules; do
    if [ -f "$d/onnxruntime-node/package.json" ]; then ORT=$d; break; fi
done
if ! command -v node >/dev/null 2>&1; then
    skip "node is not on PATH (Debian: apt-get install npm; then make peers-ort)"
elif [ -z "$ORT" ]; then
    skip "ONNX Runtime is not installed (no build/peers/node_modules/onnxruntime-node: make peers-ort)"
elif ! "$PY" -c 'import onnx, numpy' 2>/dev/null; then
    skip "$PY cannot import onnx and numpy (make peers-ort)"
elif [ ! -f data/canvas/cf64-test-images-idx3-ubyte ] || [ ! -f "$MODEL" ]; then
    skip "no CF-64 test split or no $MODEL (make datasets; make)"
elif ! "$PY" workloads/supernet/export_onnx_qdq.py --model-image "$MODEL" --configs 0,30 --out "$tmp/qdq" \
    2> "$tmp/qdq.err"; then
    ok 1 "int8 QDQ export: $(tail -n 1 "$tmp/qdq.err")"
else
    "$PY" -c '
import json, sys
m = json.load(open(sys.argv[1]))
m.update(check_canvases=0, rel_tol=1.0, null_onnx=m["models"][0]["onnx"])
json.dump(m, open(sys.argv[2], "w"))' "$tmp/qdq/manifest.json" "$tmp/qdq/as-fp32.json"
    if node bench/peers/ort_bench.js --manifest "$tmp/qdq/as-fp32.json" --int8-manifest "$tmp/qdq/manifest.json" \
        --k 3 --warmup 1 --ort-modules "$ORT" --profile-dir "$tmp/prof" --out "$tmp/ort.json" 2> "$tmp/ort.err"; then
        "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
m8 = d["models_int8"]
assert [m["config"] for m in m8] == [m["config"] for m in d["models"]], "int8 configs"
for m in m8:
    assert m["n"] == 3 and len(m["top1"]) == 3 and all(0 <= p < 10 for p in m["top1"]), m["config"]
    assert m["wall"]["p50_us"] > 0 and m["profiler"]["p50_us"] > 0, m["config"]
print(len(m8))' "$tmp/ort.json" > "$tmp/check.out" 2>&1
        ok $? "ort_bench.js --int8-manifest: models_int8 with top-1 per canvas and both timings ($(tail -n 1 "$tmp/check.out") models)"
    else
        ok 1 "ort_bench.js --int8-manifest: $(tail -n 1 "$tmp/ort.err")"
    fi
fi

# 10. where the time goes, per layer kind (run.sh's layers.jsonl: eval --layer-times per SubNet)
cp -r "$tmp/w" "$tmp/w10"
"$PY" - "$tmp/w10" <<'PYL'
import json, os, sys
kinds = {"source": "planted", "fma_peak_gflops": 100.0,
         "stem": {"us_per_inference": 5.0, "share_of_timed": 0.1, "gflops": 12.5, "share_of_fma_peak": 0.125},
         "pointwise": {"us_per_inference": 30.0, "share_of_timed": 0.6, "gflops": 50.0, "share_of_fma_peak": 0.5},
         "depthwise": {"us_per_inference": 15.0, "share_of_timed": 0.3, "gflops": 20.0, "share_of_fma_peak": 0.2},
         "other": {"us_per_inference": 1.0, "share_of_timed": 0.0}}
with open(os.path.join(sys.argv[1], "layers.jsonl"), "w") as f:
    for c in ("r40-a", "r64-b"):
        f.write(json.dumps({"config": c, "layer_kinds": kinds}) + "\n")
PYL
report "$tmp/w10" "$tmp/r10" --int8-manifest "$tmp/w10/manifest-int8.json"
rc=$?
row='| 1 | `r40-a` | 5.0 (10 %, 12.5 %) | 30.0 (60 %, 50.0 %) | 15.0 (30 %, 20.0 %) | 1.0 |'
n_kinds=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["layer_kinds"]))' "$tmp/r10/peers.json" 2>/dev/null)
ok "$([ "$rc" = 0 ] && grep -qF -- "$row" "$tmp/r10/table.md" && [ "$n_kinds" = 2 ]; echo $?)" \
    "report.py with layers.jsonl: the per-layer-kind table (time, share, % of the FMA peak) and peers.json layer_kinds (exit $rc, $n_kinds SubNets)"

# 11. run.sh: a bad PEERS_INT8_WEIGHTS is one line and a non-zero exit, before anything runs;
# and the two weight types of export_onnx_qdq.py are the same weights (int8 at zero point 0 and
# uint8 at zero point 128 dequantize to the same values, layer by layer)
PEERS_INT8_WEIGHTS=int4 RESULTS="$tmp/results" PEERS_BUILD="$tmp/peers11" sh bench/peers/run.sh > "$tmp/run11.out" 2> "$tmp/run11.err"
rc=$?
if [ $rc = 0 ] || [ "$(wc -l < "$tmp/run11.err")" != 1 ] || ! grep -q "PEERS_INT8_WEIGHTS must be" "$tmp/run11.err" ||
    [ -e "$tmp/peers11" ]; then
    ok 1 "run.sh PEERS_INT8_WEIGHTS=int4: exit $rc: $(head -c 300 "$tmp/run11.err")"
elif ! "$PY" -c 'import onnx, numpy' 2>/dev/null || [ ! -f "$MODEL" ]; then
    skip "$PY cannot import onnx and numpy, or no $MODEL (make peers-ort; make)"
elif ! "$PY" workloads/supernet/export_onnx_qdq.py --model-image "$MODEL" --configs 0 --weights int8 --out "$tmp/q8" \
        2> "$tmp/q8.err" ||
    ! "$PY" workloads/supernet/export_onnx_qdq.py --model-image "$MODEL" --configs 0 --weights uint8 --out "$tmp/qu8" \
        2> "$tmp/qu8.err"; then
    ok 1 "export_onnx_qdq.py --weights int8/uint8: $(tail -n 1 "$tmp/q8.err" "$tmp/qu8.err" | tr '\n' ' ')"
else
    "$PY" - "$tmp/q8/subnet00.onnx" "$tmp/qu8/subnet00.onnx" > "$tmp/w11.out" 2>&1 <<'PYW'
import sys
import numpy as np
import onnx
from onnx import numpy_helper

def weights(path):
    g = onnx.load(path).graph
    init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    out = {}
    for n in g.node:
        if n.op_type == "DequantizeLinear" and n.input[0] in init and init[n.input[0]].dtype in (np.int8, np.uint8):
            q, s, z = (init[x] for x in n.input[:3])
            zb = z.astype(np.int32).reshape((-1,) + (1,) * (q.ndim - 1))
            out[n.output[0]] = (str(q.dtype), (q.astype(np.int32) - zb) * s.astype(np.float64).reshape(zb.shape))
    return out

a, b = weights(sys.argv[1]), weights(sys.argv[2])
assert a.keys() == b.keys() and len(a) > 10, (len(a), len(b))
assert all(a[k][0] == "int8" and b[k][0] == "uint8" for k in a), "weight types"
bad = [k for k in a if not np.array_equal(a[k][1], b[k][1])]
assert not bad, bad[:3]
print(len(a))
PYW
    ok $? "export_onnx_qdq.py --weights uint8: the int8 export's weights + 128 at zero point 128, equal once dequantized ($(tail -n 1 "$tmp/w11.out") weight tensors); PEERS_INT8_WEIGHTS=int4: exit $rc, one line"
fi
