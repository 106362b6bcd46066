#!/bin/sh
# supernav profile at --near-kib 0: a budget that keeps nothing makes every SubNet's SubGraph
# no SubGraph, so the profile measures that state once and every SubGraph's row is the
# no-SubGraph row (p50, p95, far bytes; near bytes 0) with switches of 0 bytes and 0 us -- on
# the CPU (measured, 1 round) and the FPGA model; the control: at 96 KiB the FPGA profile has
# rows with near bytes (the check can fail). TAP.
set -u
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${SN_MODEL:-build/supernet.snm}
if [ ! -f data/canvas/cf64-test-images-idx3-ubyte ]; then
    echo "1..0 # SKIP no CF-64 test split (make datasets)"; exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "1..3"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
check() { # PROFILE: "bad rows, bad switches, rows" of the rule above
    /usr/bin/python3 - "$1" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
rows = p["rows"]
none = {r["subnet"]: r for r in rows if r["subgraph"] == -1}
bad = sum(1 for r in rows if r["subgraph"] >= 0 and (r["near_bytes"] != 0 or any(
    r[k] != none[r["subnet"]][k] for k in ("p50_us", "p95_us", "far_bytes"))))
badsw = sum(1 for s in p["switch"] if s["us"] != 0 or s["bytes"] != 0)
print(bad, badsw, len(rows))
PY
}
"$SUPERNAV" profile --platform cpu --model "$MODEL" --near-kib 0 --reps 1 --force --out "$tmp/cpu.json" > /dev/null 2> "$tmp/err"
r=$(check "$tmp/cpu.json" 2>&1)
ok "$(set -- $r; [ "$#" = 3 ] && [ "$1" = 0 ] && [ "$2" = 0 ] && [ "$3" -gt 100 ]; echo $?)" \
    "cpu at 0 KiB: every SubGraph row is the no-SubGraph row, no switch moves anything (bad rows, bad switches, rows: $r) $(tail -n 1 "$tmp/err" | cut -c1-80)"
"$SUPERNAV" profile --platform fpga --model "$MODEL" --near-kib 0 --force --out "$tmp/fpga.json" > /dev/null 2>&1
r=$(check "$tmp/fpga.json" 2>&1)
ok "$(set -- $r; [ "$#" = 3 ] && [ "$1" = 0 ] && [ "$2" = 0 ] && [ "$3" -gt 100 ]; echo $?)" "fpga at 0 KiB: the same ($r)"
case "${BUILD:-build}" in
*san*) # the control checks the check, not memory (an FPGA profile under the sanitizers: about 25 s)
    n=$((n + 1)); echo "ok $n # SKIP a sanitizer build: the control at 96 KiB runs in the plain build" ;;
*)
    "$SUPERNAV" profile --platform fpga --model "$MODEL" --near-kib 96 --force --out "$tmp/f96.json" > /dev/null 2>&1
    r=$(check "$tmp/f96.json" 2>&1)
    ok "$(set -- $r; [ "$#" = 3 ] && [ "$1" -gt 0 ] && [ "$2" -gt 0 ]; echo $?)" "control: fpga at 96 KiB has SubGraph rows and switches of their own ($r)" ;;
esac
