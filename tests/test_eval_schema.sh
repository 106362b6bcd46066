#!/bin/sh
# supernav eval --json prints one schema on every platform (issue 18): the common keys, top1
# a percentage equal to 100 x correct / n, latency_source labelled measured: or model:; each
# platform opened through the SUT registry (an option it does not take is refused); the MCU
# board's --cache (its near budget: the SRAM the arena leaves) serves the SubGraph from SRAM;
# --logits writes one row of logits per canvas whose arg-max is --predictions' class (fp32 and int8);
# --layer-times (cpu) reports each layer kind's median time and MACs, the kinds' MACs adding up
# to the SubNet's (less the classifier, which the engine runs itself), fp32 and int8; elsewhere
# it is refused, as is a bad --fma-peak.
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${SN_MODEL:-build/supernet.snm}
BUILD=${BUILD:-build}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
small=$(awk -F, '$1 == "subnet" { print $2; exit }' workloads/supernet/accuracy.csv)
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
check() { # FILE PLATFORM LABEL: the common keys, and top1 = 100 correct / n
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
j = json.loads(open(sys.argv[1]).read())
need = ["config", "kind", "platform", "isa", "threads", "precision", "data", "n", "correct", "top1",
        "top1_unit", "p50_us", "latency_source", "arena_bytes", "near_weight_bytes", "far_weight_bytes"]
missing = [k for k in need if k not in j]
bad = []
if missing: bad.append("missing " + ",".join(missing))
else:
    if j["platform"] != sys.argv[2]: bad.append("platform " + str(j["platform"]))
    if j["top1_unit"] != "percent" or abs(j["top1"] - 100.0 * j["correct"] / j["n"]) > 0.006:
        bad.append("top1 %r is not 100 x %r / %r" % (j["top1"], j["correct"], j["n"]))
    if not j["latency_source"].startswith(sys.argv[3]): bad.append("latency_source " + j["latency_source"])
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
}
echo "1..14"
for p in reference cpu fpga; do
    "$SUPERNAV" eval --platform $p --model "$MODEL" --subnet "$small" --limit 7 --warmup 0 --json > "$tmp/$p.json" 2> "$tmp/$p.err"
    why=$(check "$tmp/$p.json" $p measured: 2>&1); rc=$?
    ok $rc "eval --platform $p --json: the common schema ${why:+($why)}$(head -c 200 "$tmp/$p.err")"
done
# skipped only where the device list says exactly that no device was found (exit 1, its one
# line); any other failure of the listing (a crash, a sanitizer report) fails
"$SUPERNAV" eval --device list > "$tmp/devs" 2> "$tmp/devs.err"
rc=$?
none="supernav eval: error: no OpenCL platform or device found (install an ICD, e.g. pocl-opencl-icd)"
if [ $rc = 0 ]; then
    "$SUPERNAV" eval --platform opencl --model "$MODEL" --subnet "$small" --limit 7 --warmup 0 --json > "$tmp/ocl.json" 2>&1
    why=$(check "$tmp/ocl.json" opencl measured: 2>&1); rc=$?
    ok $rc "eval --platform opencl --json: the common schema ${why:+($why)}"
elif [ $rc = 1 ] && [ "$(cat "$tmp/devs.err")" = "$none" ]; then
    n=$((n + 1)); echo "ok $n # SKIP no OpenCL device here: $none"
else
    ok 1 "eval --device list failed (exit $rc) other than by finding no device: $(head -c 300 "$tmp/devs.err")"
fi
if command -v qemu-system-arm > /dev/null 2>&1 && [ -f "$BUILD/mcu/supernav-mcu-h743.elf" ]; then
    "$SUPERNAV" eval --platform mcu --board h743 --model "$MODEL" --subnet "$small" --limit 2 --json > "$tmp/mcu.json" 2>&1
    why=$(check "$tmp/mcu.json" mcu model: 2>&1); rc=$?
    ok $rc "eval --platform mcu --json: the common schema, latency modelled from emulated instructions ${why:+($why)}"
else
    n=$((n + 1)); echo "ok $n # SKIP no qemu-system-arm or no h743 firmware (make mcu-boards)"
fi
if [ -s "$tmp/mcu.json" ]; then
    "$SUPERNAV" eval --platform mcu --board h743 --model "$MODEL" --subnet "$small" --limit 2 --cache --json > "$tmp/mcuc.json" 2>&1
    why=$(python3 - "$tmp/mcu.json" "$tmp/mcuc.json" <<'PY'
import json, sys
try:
    a, c = (json.loads(open(p).read()) for p in sys.argv[1:3])
    bad = []
    if not (c["near_weight_bytes"] > 0 and c["far_weight_bytes"] == 0): bad.append("weights near %r far %r" % (c["near_weight_bytes"], c["far_weight_bytes"]))
    if c["near_weight_bytes"] != a["far_weight_bytes"]: bad.append("near %r is not the %r read from flash without it" % (c["near_weight_bytes"], a["far_weight_bytes"]))
    if c["correct"] != a["correct"]: bad.append("correct %r without the cache, %r with it" % (a["correct"], c["correct"]))
    if not c["sram_peak_bytes"] > a["sram_peak_bytes"]: bad.append("peak SRAM %r not above %r" % (c["sram_peak_bytes"], a["sram_peak_bytes"]))
    if not c["p50_us"] < a["p50_us"]: bad.append("p50_us %r not below %r" % (c["p50_us"], a["p50_us"]))
except Exception as e:
    bad = [repr(e)]
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
    ); rc=$?
    ok $rc "eval --platform mcu --cache: the SubGraph in the SRAM the arena leaves, no weight from flash, same answers, fewer modelled us ${why:+($why)}"
else
    n=$((n + 1)); echo "ok $n # SKIP no MCU eval above"
fi
"$SUPERNAV" eval --platform cpu --board x --model "$MODEL" --subnet "$small" --limit 1 > /dev/null 2> "$tmp/err"
rc=$?
grep -q -- '--board applies to --platform fpga and mcu only, not cpu' "$tmp/err"
ok $(( rc == 0 || $? != 0 || $(wc -l < "$tmp/err") != 1 )) "an option the platform does not take: one line from its adapter, exit $rc: $(cat "$tmp/err")"
"$SUPERNAV" eval --platform nosuch --model "$MODEL" --subnet "$small" --limit 1 > /dev/null 2> "$tmp/err"
rc=$?
ok $(( rc == 0 || $(wc -l < "$tmp/err") != 1 )) "an unknown platform: one line, exit $rc: $(cat "$tmp/err")"
for prec in fp32 int8; do
    flag=; [ $prec = int8 ] && flag=--int8
    "$SUPERNAV" eval --platform cpu --model "$MODEL" --subnet "$small" $flag --limit 5 --warmup 0 \
        --logits "$tmp/logits.$prec.csv" --predictions "$tmp/pred.$prec.csv" > /dev/null 2> "$tmp/err"
    rc=$?
    why=$(python3 - "$tmp/logits.$prec.csv" "$tmp/pred.$prec.csv" 2>&1 <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
pred = list(csv.DictReader(open(sys.argv[2])))
bad = []
if rows[0] != ["sample", "label"] + ["logit%d" % k for k in range(10)]: bad.append("header %r" % rows[0])
if len(rows) != 6 or len(pred) != 5: bad.append("%d rows, %d predictions" % (len(rows) - 1, len(pred)))
for r, p in zip(rows[1:], pred):
    v = [float(x) for x in r[2:]]
    if r[0] != p["sample"] or r[1] != p["label"] or v.index(max(v)) != int(p["prediction"]):
        bad.append("sample %s: arg-max %d, prediction %s" % (r[0], v.index(max(v)), p["prediction"]))
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
)
    [ $rc -eq 0 ] || why="exit $rc: $(cat "$tmp/err")"
    ok $(( rc != 0 || ${#why} > 0 )) "eval --logits ($prec): a row of 10 logits per canvas, arg-max = --predictions' class ${why:+($why)}"
done

# --layer-times
for prec in fp32 int8; do
    flag=""; [ "$prec" = int8 ] && flag=--int8
    "$SUPERNAV" eval --model "$MODEL" --subnet "$small" $flag --limit 4 --warmup 1 --layer-times --fma-peak 100 \
        --json > "$tmp/lt.json" 2> "$tmp/err"
    rc=$?
    why=$(python3 - "$tmp/lt.json" <<'PY'
import json, sys
j = json.loads(open(sys.argv[1]).read())
k = j.get("layer_kinds", {})
bad = []
convs = sum(k[x]["macs_per_inference"] for x in ("stem", "pointwise", "depthwise") if x in k)
# the classifier: head 256 x 10 classes, in the engine's own loop when the platform has no slot
cls = k["classifier"]["macs_per_inference"] if "classifier" in k else 256 * 10
if abs(convs + cls - j["macs"]) > 0.5: bad.append("kinds' MACs %r + classifier %r != %r" % (convs, cls, j["macs"]))
for x in ("stem", "pointwise", "depthwise"):
    if x not in k or not k[x]["us_per_inference"] > 0 or not k[x]["gflops"] > 0 or "share_of_fma_peak" not in k[x]:
        bad.append("kind %s missing or empty" % x)
if abs(sum(v["share_of_timed"] for v in k.values() if isinstance(v, dict)) - 1.0) > 1e-6: bad.append("shares do not add to 1")
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
)
    rc2=$?
    ok $(( rc != 0 || rc2 != 0 )) "eval --layer-times ($prec): stem, pointwise and depthwise timed, their MACs the SubNet's less the classifier ${why:+($why)} $(cat "$tmp/err")"
done
"$SUPERNAV" eval --model "$MODEL" --subnet "$small" --platform reference --limit 1 --layer-times > /dev/null 2> "$tmp/e1"
rc=$?
"$SUPERNAV" eval --model "$MODEL" --subnet "$small" --limit 1 --layer-times --fma-peak -3 > /dev/null 2> "$tmp/e2"
rc2=$?
ok "$([ "$rc" = 2 ] && [ "$rc2" = 2 ] && [ "$(wc -l < "$tmp/e1")" = 1 ] && [ "$(wc -l < "$tmp/e2")" = 1 ]; echo $?)" \
    "--layer-times elsewhere than the cpu, and --fma-peak -3, are one-line usage errors: $(cat "$tmp/e1") / $(cat "$tmp/e2")"
"$SUPERNAV" eval --model "$MODEL" --subnet "$small" --limit 20 --warmup 0 --logits "$tmp/l0.csv" > /dev/null 2>&1
rc=$?
"$SUPERNAV" eval --model "$MODEL" --subnet "$small" --limit 20 --warmup 0 --logits "$tmp/l1.csv" --layer-times > /dev/null 2>&1
rc2=$?
ok "$([ "$rc" = 0 ] && [ "$rc2" = 0 ] && cmp -s "$tmp/l0.csv" "$tmp/l1.csv"; echo $?)" \
    "--layer-times computes the same logits bit for bit (20 canvases; exit $rc, $rc2)"
