#!/bin/sh
# The null platform simulating a profile of a platform that keeps slices (issue 19): a profile
# measured where the SUT keeps slices records them ("slices": the plans' precision and the
# near/far unit in output channels); a modelled replay on the null platform pinned to it keeps
# the same tensors and boxes, priced by the cost model fitted to that profile, so sushi's
# knapsack SubGraphs and lru's slice evictions run there as on the platform (the MCU sweep
# replays its board profiles this way: bench/sweep/mcu-serve.sweep); the same profile without
# that record replays as before (SubNets' own SubGraphs only); a malformed record is one
# error line and a non-zero exit. The profile here is the FPGA model's (seconds; an MCU one
# takes minutes under QEMU). TAP.
set -u
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${SN_MODEL:-build/supernet.snm}
if [ ! -f data/canvas/cf64-test-images-idx3-ubyte ]; then
    echo "1..0 # SKIP no CF-64 test split (make datasets)"; exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "1..6"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

"$SUPERNAV" profile --platform fpga --model "$MODEL" --near-kib 96 --force --out "$tmp/p.json" > /dev/null 2> "$tmp/err"
rc=$?
q=$(/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])).get("slices", {}); print(s.get("precision"), s.get("quantum"))' "$tmp/p.json" 2>/dev/null)
ok "$([ "$rc" = 0 ] && [ "${q%% *}" = int8 ] && [ "${q#* }" -ge 1 ] 2>/dev/null; echo $?)" \
    "a profile of a platform that keeps slices records them (fpga: $q) $(tail -n 1 "$tmp/err" | cut -c1-120)"
/usr/bin/python3 - "$tmp/p.json" "$tmp/old.json" "$tmp/bad.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
old = dict(p); old.pop("slices")
json.dump(old, open(sys.argv[2], "w"))
bad = dict(p); bad["slices"] = {"precision": "int8", "quantum": 0}
json.dump(bad, open(sys.argv[3], "w"))
PY
"$SUPERNAV" trace gen sushi --count 300 --seed 31 --rate 9000 --ceiling-us 1500 -o "$tmp/t.csv" > /dev/null 2>&1
sim() { # PROFILE POLICY OUT
    "$SUPERNAV" replay --platform null --model "$MODEL" --profile "$1" --modelled --trace "$tmp/t.csv" \
        --policy "$2" --near-kib 96 --out "$3" --quiet > /dev/null 2>> "$tmp/rerr"
}
sim "$tmp/p.json" sushi "$tmp/sushi"
ns=$(awk -F, 'NR > 1 && $8 ~ /^slices:sushi@/ { k++ } END { print k + 0 }' "$tmp/sushi/queries.csv" 2>/dev/null)
ok "$([ "${ns:-0}" -gt 0 ]; echo $?)" "the null platform simulating it: sushi serves ${ns:-0} of 300 queries under knapsack SubGraphs of slices $(cut -c1-160 "$tmp/rerr")"
sim "$tmp/p.json" lru "$tmp/lru"
nl=$(awk -F, 'NR > 1 && $8 ~ /^slices:lru@/ { k++ } END { print k + 0 }' "$tmp/lru/queries.csv" 2>/dev/null)
ok "$([ "${nl:-0}" -gt 0 ]; echo $?)" "... and lru evicts slices (${nl:-0} queries under its slice SubGraphs)"
sim "$tmp/old.json" sushi "$tmp/osushi"
sim "$tmp/old.json" lru "$tmp/olru"
no=$(cat "$tmp/osushi/queries.csv" "$tmp/olru/queries.csv" 2>/dev/null | awk -F, '$8 ~ /^slices:/ { k++ } END { print k + 0 }')
rows=$(cat "$tmp/osushi/queries.csv" "$tmp/olru/queries.csv" 2>/dev/null | grep -c '^[0-9]')
ok "$([ "$no" = 0 ] && [ "$rows" = 600 ]; echo $?)" "the same profile without the record: SubNets' own SubGraphs only ($no of $rows queries under slices)"
sim "$tmp/old.json" sushi "$tmp/osushi2"
cmp -s "$tmp/osushi/queries.csv" "$tmp/osushi2/queries.csv"
ok $? "... deterministic (the same replay twice, the same queries.csv)"
"$SUPERNAV" replay --platform null --model "$MODEL" --profile "$tmp/bad.json" --modelled --trace "$tmp/t.csv" \
    --policy sushi --near-kib 96 --out "$tmp/bad" --quiet > /dev/null 2> "$tmp/berr"
rc=$?
ok "$([ "$rc" != 0 ] && [ "$(wc -l < "$tmp/berr")" = 1 ] && grep -q 'quantum' "$tmp/berr" && [ ! -e "$tmp/bad/queries.csv" ]; echo $?)" \
    "a malformed slices record: one error line, exit $rc: $(cut -c1-200 "$tmp/berr")"
