#!/bin/sh
# ARAC configs served beside SubNets (issue 20, "ARAC served"; replay/profile --arac) on the
# CF-128S image packed from its committed export: the serving set is the table's SubNets plus
# the ARAC rows no other row dominates (table MACs no more, top-1 no less, one strictly; the
# expected set recomputed here from the table with awk); the profile records a p95 beside
# every p50 (never below it); a virtual-time replay in accuracy mode with ARAC configs serves
# only configs of that set and records the serving set and the quantile in context.json;
# summary (and every report) labels it "<policy>+arac"; --arac-quantile 70 and --arac on a
# table without ARAC rows are one-line errors; the level controller is on with --arac and
# recorded in policy.json (--arac-controller off: off, no step; without --arac: an error). The
# controller's stepping itself: tests/test_arac_sparse.c. The choice
# rule itself (the p95 of an ARAC config, the p50 of a SubNet): tests/test_sushi_guards.c.
# Skips, saying why, without the CF-128S export or test split. TAP.
SUPERNAV=${SUPERNAV:-build/supernav}
SRC=workloads/sparse/supernet.safetensors
TABLE=workloads/sparse/accuracy.csv
echo "1..8"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
if [ ! -f "$SRC" ] || [ ! -f "$TABLE" ] || [ ! -f data/canvas/cf128s-test-images-idx3-ubyte ]; then
    for k in 1 2 3 4 5 6 7 8; do
        echo "ok $k - ARAC served # SKIP no CF-128S export ($SRC, $TABLE) or test split (make datasets)"
    done
    exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
"$SUPERNAV" pack "$SRC" --table "$TABLE" -o "$tmp/sparse.snm" > "$tmp/pack.log" 2>&1 ||
    { echo "Bail out! pack failed: $(tail -n 1 "$tmp/pack.log")"; exit 1; }

# the expected serving set: every SubNet, and the ARAC rows nothing dominates
awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) c[$i] = i; next }
    { k[NR] = $c["kind"]; cfg[NR] = $c["config"]; m[NR] = $c["macs"] + 0; t[NR] = $c["top1"] + 0 }
    END {
        for (i in k) {
            if (k[i] == "subnet") { print cfg[i]; continue }
            if (k[i] != "arac") continue
            dom = 0
            for (j in k)
                if (j != i && (k[j] == "subnet" || k[j] == "arac") && m[j] <= m[i] && t[j] >= t[i] &&
                    (m[j] < m[i] || t[j] > t[i])) dom = 1
            if (!dom) print cfg[i]
        }
    }' "$TABLE" | sort > "$tmp/expected"
n_arac=$(grep -c '^arac' "$tmp/expected")

# 1-2: the profile
# a sanitizer build times each entry once (the timings are not what it checks)
REPS=3
case "${BUILD:-build}" in *san*) REPS=1 ;; esac
"$SUPERNAV" profile --model "$tmp/sparse.snm" --arac --reps $REPS --near-kib 0 --force > "$tmp/profile.txt" 2> "$tmp/profile.err"
rc=$?
awk 'NR > 1 { print $NF }' "$tmp/profile.txt" | sort > "$tmp/served-set"
ok "$([ "$rc" = 0 ] && [ "$n_arac" -gt 0 ] && cmp -s "$tmp/expected" "$tmp/served-set"; echo $?)" \
    "profile --arac: the SubNets and the $n_arac undominated ARAC configs of the table (exit $rc; $(wc -l < "$tmp/served-set") served, $(wc -l < "$tmp/expected") expected)"
prof=$(sed -n 's/^profile: ready in .* s (\(.*\))$/\1/p' "$tmp/profile.err")
/usr/bin/python3 - "$prof" > "$tmp/p95.txt" 2>&1 <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
rows = p["rows"]
bad = [r for r in rows if not ("p95_us" in r and r["p95_us"] >= r["p50_us"] > 0)]
print(len(rows), "rows,", len(bad), "without a p95 at or above the p50")
sys.exit(1 if bad or not rows else 0)
EOF
ok $? "the profile ($prof) records a p95 at or above every p50: $(cat "$tmp/p95.txt")"

# 3-4: a replay with ARAC configs (accuracy mode, ceilings only: ARAC configs can be chosen)
"$SUPERNAV" trace gen sushi --count 60 --seed 4 --rate 800 --ceiling-us 3000 --constraint ceiling \
    -o "$tmp/t.csv" > /dev/null 2>&1
"$SUPERNAV" replay --model "$tmp/sparse.snm" --arac --near-kib 0 --profile "$prof" --trace "$tmp/t.csv" \
    --policy static-subgraph --choice accuracy --virtual --out "$tmp/run" --quiet > "$tmp/replay.log" 2>&1
rc=$?
awk -F, 'NR > 1 { print $7 }' "$tmp/run/queries.csv" 2>/dev/null | sort -u > "$tmp/used"
ok "$([ "$rc" = 0 ] && [ -s "$tmp/used" ] && [ -z "$(comm -23 "$tmp/used" "$tmp/expected")" ]; echo $?)" \
    "replay --arac: every served config is of the serving set (exit $rc; $(wc -l < "$tmp/used") distinct, $(grep -c '^arac' "$tmp/used") ARAC)"
"$SUPERNAV" summary "$tmp/run" > "$tmp/summary" 2>&1
ok "$(grep -q '"serving_set":[[:space:]]*"subnets+arac' "$tmp/run/context.json" &&
    grep -q '"arac_quantile":[[:space:]]*"excess"' "$tmp/run/context.json" &&
    grep -q '^t.csv  *static-subgraph+arac ' "$tmp/summary"; echo $?)" \
    "... its context.json records the serving set and the ARAC rule (excess, the default), and summary labels it static-subgraph+arac"

# 5-6: bad input
"$SUPERNAV" replay --model "$tmp/sparse.snm" --arac --arac-quantile 70 --trace "$tmp/t.csv" --policy sushi \
    --virtual --out "$tmp/bad" > "$tmp/q.out" 2> "$tmp/q.err"
rc=$?
ok "$([ "$rc" = 2 ] && [ "$(wc -l < "$tmp/q.err")" = 1 ] && [ ! -e "$tmp/bad" ]; echo $?)" \
    "--arac-quantile 70: usage error, one line (exit $rc): $(cat "$tmp/q.err")"
grep -v '^arac,' "$TABLE" > "$tmp/subnets-only.csv"
"$SUPERNAV" pack "$SRC" --table "$tmp/subnets-only.csv" -o "$tmp/noarac.snm" > /dev/null 2>&1
"$SUPERNAV" profile --model "$tmp/noarac.snm" --arac --near-kib 0 > "$tmp/na.out" 2> "$tmp/na.err"
rc=$?
ok "$([ "$rc" = 1 ] && [ "$(wc -l < "$tmp/na.err")" = 1 ] && grep -q 'lists no ARAC config' "$tmp/na.err"; echo $?)" \
    "--arac on a table without ARAC rows: one line (exit $rc): $(cat "$tmp/na.err")"

# 7-8: the level controller
ok "$(grep -A 1 '"arac_controller"' "$tmp/run/policy.json" | grep -q '"on":[[:space:]]*true'; echo $?)" \
    "the level controller is on with --arac and recorded in policy.json"
"$SUPERNAV" replay --model "$tmp/sparse.snm" --arac --arac-controller off --near-kib 0 --profile "$prof" \
    --trace "$tmp/t.csv" --policy static-subgraph --choice accuracy --virtual --out "$tmp/off" --quiet > /dev/null 2>&1
rc=$?
"$SUPERNAV" replay --model "$tmp/sparse.snm" --arac-controller on --trace "$tmp/t.csv" --policy sushi \
    --virtual --out "$tmp/bad2" > /dev/null 2> "$tmp/c.err"
rc2=$?
ok "$([ "$rc" = 0 ] && grep -A 2 '"arac_controller"' "$tmp/off/policy.json" | grep -q '"on":[[:space:]]*false' &&
    grep -q '"steps":[[:space:]]*0' "$tmp/off/policy.json" && [ "$rc2" != 0 ] && [ ! -e "$tmp/bad2" ] &&
    [ "$(wc -l < "$tmp/c.err")" = 1 ]; echo $?)" \
    "--arac-controller off: off and no step (exit $rc); without --arac an error (exit $rc2): $(cat "$tmp/c.err")"
