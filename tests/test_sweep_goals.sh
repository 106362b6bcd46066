#!/bin/sh
# bench/sweep/goals.py, issue 19's goal checker, on a small serving sweep of its own: the null
# platform simulating the CI gate's pinned CPU profile in modelled virtual time (the same
# figures on any machine), one SUSHI stream at two loads x two near budgets x both SubNet
# choices x the six policies (48 jobs). The report's SLO table is each run's summary.json
# (checked cell by cell against the runs, recomputed here in awk from the runs' own files);
# G1's count is recounted from those figures; every section is there (G1, G2, G3, GA, far
# bytes and energy, the papers' claims, the surfaces); the surfaces are SVGs drawn by gnuplot
# with one heatmap per trace and choice; an unfinished sweep is one line and exit 1. TAP.
set -u
SUPERNAV=${SUPERNAV:-build/supernav}
SUPERNAV=$(cd "$(dirname "$SUPERNAV")" && pwd)/$(basename "$SUPERNAV")
if [ ! -f data/canvas/cf64-test-images-idx3-ubyte ]; then
    echo "1..0 # SKIP no CF-64 test split (make datasets)"; exit 0
fi
case "${BUILD:-build}" in *san*)
    echo "1..0 # SKIP goals.py is checked by the plain build (its replays are other tests' under the sanitizers)"; exit 0 ;;
esac
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "1..0 # SKIP gnuplot is not installed (make deps)"; exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "1..7"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

cat > "$tmp/goals.sweep" <<'EOF'
name = goals-test
setup = trace gen sushi --count 250 --seed 41 --rate 400 --ceiling-us 1500 -o {dir}/sushi-0.3.csv
setup = trace gen sushi --count 250 --seed 41 --rate 1200 --ceiling-us 1500 -o {dir}/sushi-0.9.csv
command = replay --platform null --profile ci/baselines/cpu-profile.json --modelled --trace {dir}/{trace}-{load}.csv --policy {policy} --choice {choice} --near-kib {buf} --out {out} --quiet
axis trace = sushi
axis load = 0.3 0.9
axis buf = 384 768
axis choice = floor-level accuracy
axis policy = sushi static-subgraph lru slackfit nocache static-hindsight
EOF
"$SUPERNAV" sweep plan "$tmp/goals.sweep" -o "$tmp/sw" > /dev/null 2> "$tmp/err" &&
    "$SUPERNAV" sweep run "$tmp/sw" -j 2 > /dev/null 2>> "$tmp/err"
rc=$?
ok "$([ $rc = 0 ] && [ "$(ls "$tmp/sw/runs" | wc -l)" = 48 ]; echo $?)" "the 48-job sweep ran (exit $rc) $(tail -n 1 "$tmp/err")"

/usr/bin/python3 bench/sweep/goals.py "$tmp/sw" -o "$tmp/out/goals.md" --plots "$tmp/out/plots" > /dev/null 2> "$tmp/gerr"
rc=$?
ok "$([ $rc = 0 ] && [ -s "$tmp/out/goals.md" ]; echo $?)" "goals.py exits 0 and writes the report (exit $rc) $(head -c 200 "$tmp/gerr")"

# the SLO table against the runs: sushi's and nocache's cell figures are their summary.json's
bad=0
for job in $(ls "$tmp/sw/runs"); do
    case $job in *_sushi|*_nocache) ;; *) continue ;; esac
    IFS=_ read -r trace load buf choice policy <<EOF2
$job
EOF2
    slo=$(sed -n 's/.*"slo_attainment":[^0-9]*\([0-9.e+-]*\).*/\1/p' "$tmp/sw/runs/$job/summary.json" | head -n 1)
    want=$(awk -v s="$slo" 'BEGIN { printf "%.1f", 100 * s }')
    col=$([ "$policy" = sushi ] && echo 6 || echo 10)
    got=$(awk -F'|' -v t="$trace" -v l="$load" -v b="$buf" -v c="$choice" -v k="$col" \
        '/^## Goals/ { exit } $2 ~ "^ " t " $" && $3 + 0 == l + 0 && $4 + 0 == b + 0 && $5 ~ "^ " c " $" { v = $k; gsub(/[ *]/, "", v); print v }' "$tmp/out/goals.md")
    [ "$got" = "$want" ] || { bad=$((bad + 1)); echo "# $job: table $got, summary.json $want"; }
done
ok "$bad" "every sushi and nocache cell of the SLO table is its run's summary.json ($bad differ)"

# G1 recounted: cells where sushi >= the best of static-subgraph, lru, slackfit (floor-level)
want=$(awk -F'|' '/^## Goals/ { exit } $5 ~ /floor-level/ { for (i = 6; i <= 9; ++i) { v[i] = $i; gsub(/[ *]/, "", v[i]) }
    if (v[6] + 0 >= v[7] + 0 && v[6] + 0 >= v[8] + 0 && v[6] + 0 >= v[9] + 0) ++m; ++c }
    END { printf "%d of %d", m, c }' "$tmp/out/goals.md")
ok "$(grep -q "^\* \*\*G1\*\* (floor-level) .* -- $want cells" "$tmp/out/goals.md"; echo $?)" \
    "G1 (floor-level) counts the cells the table shows: $want"

missing=""
for h in '\*\*G1\*\* (accuracy)' '\*\*G2\*\* (floor-level)' '\*\*G3\*\* (floor-level)' '\*\*GA\*\*' \
         '^## Far bytes and energy' "^## Beside the papers' claims" '^## Accuracy mode' '^## Surfaces'; do
    grep -q "$h" "$tmp/out/goals.md" || missing="$missing [$h]"
done
ok "$([ -z "$missing" ]; echo $?)" "every section and goal line is there (missing:${missing:- none})"

nsvg=0; badsvg=0
for f in slo-vs-peers slo effective-vs-static far-vs-nocache energy-vs-nocache; do
    [ -s "$tmp/out/plots/$f.svg" ] || { badsvg=$((badsvg + 1)); continue; }
    nsvg=$((nsvg + 1))
    # one heatmap per trace and choice (1 x 2 here) of 2 loads x 2 budgets: 8 filled cells
    [ "$(grep -o '<polygon fill' "$tmp/out/plots/$f.svg" | wc -l)" -ge 8 ] || badsvg=$((badsvg + 1))
    grep -q "plots/$f.svg" "$tmp/out/goals.md" || badsvg=$((badsvg + 1))
done
ok "$badsvg" "goals.py --plots: $nsvg heatmap SVGs by gnuplot, each drawn and linked from the report"

rm -rf "$tmp/sw/runs/sushi_0.3_384_floor-level_lru"
/usr/bin/python3 bench/sweep/goals.py "$tmp/sw" -o "$tmp/out/again.md" > /dev/null 2> "$tmp/gerr"
rc=$?
ok "$([ $rc = 1 ] && [ "$(wc -l < "$tmp/gerr")" = 1 ] && grep -q 'have no run yet' "$tmp/gerr" && [ ! -e "$tmp/out/again.md" ]; echo $?)" \
    "an unfinished sweep: one line, exit $rc, no report: $(cat "$tmp/gerr")"
