#!/bin/sh
# Serving-harness compliance, the checks MLPerf runs on LoadGen submissions, adapted:
# * TEST01 (responses): every prediction logged by a real-time performance run (sushi on
#   the CPU platform, switching SubNets and SubGraphs) equals the prediction of an accuracy
#   run (supernav eval --predictions) of the same sample with the same SubNet.
# * TEST04 (no result caching): serving one sample over and over is not faster than
#   serving distinct samples (one SubNet, its SubGraph resident throughout, so residency
#   explains no difference): the repeated run's median service time is at least 0.7x the
#   distinct run's (an output cache would be ~0.01x), and every repeat is computed (its
#   prediction logged, the same each time).
# * TEST05 (seeds): modelled SLO attainment (the null platform simulating the CI gate's
#   pinned CPU profile: deterministic) on 10,000-query SUSHI streams of seeds 2-6 stays
#   within 10 points of seed 1's, for sushi, static-subgraph and nocache (measured: sushi
#   2.2, static-subgraph 3.6, nocache 8.0 points; a seed changes the mix of constraint
#   phases, which dwell 50 queries, and nocache feels it most); the per-seed sushi minus
#   static-subgraph differences are printed (the comparison's sign is not seed-proof).
# TAP.
set -u
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${SN_MODEL:-build/supernet.snm}
if [ ! -f data/canvas/cf64-test-images-idx3-ubyte ]; then
    echo "1..0 # SKIP no CF-64 test split (make datasets)"; exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "1..5"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
field() { sed -n "s/.*\"$2\":[^0-9-]*\([0-9.e+-]*\).*/\1/p" "$1" | head -n 1; }

# ---- TEST01: a performance run's responses equal an accuracy run's ------------------------
N=150
"$SUPERNAV" trace gen sushi --count $N --seed 21 --rate 3000 --ceiling-us 1500 --samples $N \
    -o "$tmp/t01.csv" >/dev/null 2>&1
# A sanitizer build pins the CI gate's CPU profile (tests/san_pinned_model.sh; measuring one
# under the sanitizers took 32-42 s of this test's 70): the served inferences are still this
# build's, the choices the pinned profile's.
pin= m01=$MODEL pmodel=$(sh tests/san_pinned_model.sh)
[ -n "$pmodel" ] && m01=$pmodel pin="--isa avx2 --near-kib 768 --profile ci/baselines/cpu-profile.json"
# shellcheck disable=SC2086
"$SUPERNAV" replay --model "$m01" --trace "$tmp/t01.csv" --policy sushi --window 20 --period 5 \
    --reps 1 $pin --out "$tmp/perf" --quiet >/dev/null 2>"$tmp/err"
ok $? "performance run: real-time replay, sushi on the CPU platform $(head -c 200 "$tmp/err")"
# the SubNets it served, each evaluated on the same samples
awk -F, 'NR > 1 { print $7 }' "$tmp/perf/queries.csv" | sort -u > "$tmp/used"
used=$(wc -l < "$tmp/used")
mismatch=0; checked=0; evalfail=0
while read -r cfg; do
    "$SUPERNAV" eval --model "$m01" --subnet "$cfg" --limit $N --warmup 0 \
        --predictions "$tmp/acc.csv" >/dev/null 2>&1 || { evalfail=$((evalfail + 1)); continue; }
    r=$(awk -F, -v c="$cfg" 'NR == FNR { if (FNR > 1) p[$1] = $2; next }
            FNR > 1 && $7 == c { k++; if ($11 != p[$2]) m++ } END { print k + 0, m + 0 }' \
        "$tmp/acc.csv" "$tmp/perf/queries.csv")
    checked=$((checked + ${r% *})); mismatch=$((mismatch + ${r#* }))
done < "$tmp/used"
ok $(( evalfail != 0 || checked != N || mismatch != 0 )) \
    "TEST01: $checked logged predictions over $used SubNets equal the accuracy runs' ($mismatch differ, $evalfail evals failed)"

# ---- TEST04: no result caching --------------------------------------------------------------
mid=$("$SUPERNAV" subnets "$MODEL" | awk '$1 == "subnet" { print $2, $NF }' | sort -n |
      awk '{ c[NR] = $2 } END { print c[int((NR + 1) / 2)] }')
"$SUPERNAV" trace gen server --count 300 --seed 22 --rate 1000 -o "$tmp/distinct.csv" >/dev/null 2>&1
awk -F, 'BEGIN { OFS = "," } /^#/ || /^arrival_us/ { print; next } { $2 = 42; print }' \
    "$tmp/distinct.csv" > "$tmp/same.csv"
# three alternating rounds; each side's fastest round median counts (a burst of load from
# other processes can slow a round, never speed one up)
svc() { awk -F, 'NR > 1 { print $5 - $4 }' "$1/queries.csv" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] + 0 }'; }
# (a sanitizer build at 0 KiB of near memory, so that the profile its first replay measures for
# its own image is one SubGraph state, 4 s, not 32 in 43 s: every weight then comes from far
# memory for both samples alike)
sd=0; ss=0 t04=
case "${BUILD:-build}" in *san*) t04="--near-kib 0" ;; esac
for round in 1 2 3; do
    for t in distinct same; do
        # shellcheck disable=SC2086
        "$SUPERNAV" replay --model "$MODEL" --trace "$tmp/$t.csv" --policy "static-subnet:$mid" --reps 1 $t04 \
            --out "$tmp/t04-$t-$round" --quiet >/dev/null 2>&1 || echo "# replay $t failed" >&2
        m=$(svc "$tmp/t04-$t-$round")
        if [ $t = distinct ]; then
            { [ "$sd" = 0 ] || [ "$m" -lt "$sd" ]; } && sd=$m
        else
            { [ "$ss" = 0 ] || [ "$m" -lt "$ss" ]; } && ss=$m
        fi
    done
done
cp -r "$tmp/t04-same-1" "$tmp/t04-same"
ok "$(awk -v s="$ss" -v d="$sd" 'BEGIN { print (d > 0 && s >= 0.7 * d) ? 0 : 1 }')" \
    "TEST04: the same sample repeated is served in ${ss} ns (median, best of 3 rounds) vs ${sd} ns for distinct samples (>= 0.7x: no output cache)"
r=$(awk -F, 'NR > 1 { k++; if ($11 != "") { c++; p[$11] = 1 } } END { n = 0; for (x in p) n++; print k + 0, c + 0, n }' \
    "$tmp/t04-same/queries.csv")
set -- $r
ok "$([ "$1" = 300 ] && [ "$2" = 300 ] && [ "$3" = 1 ]; echo $?)" \
    "... every repeat computed and logged ($2 of $1 predictions, $3 distinct value)"

# ---- TEST05: other seeds ----------------------------------------------------------------------
sim="--platform null --model $MODEL --near-kib 768 --profile ci/baselines/cpu-profile.json --modelled"
# a sanitizer build replays 1000 queries per seed (the plain build 10000; the replays are
# modelled, so deterministic: at 1000 the largest gap to seed 1 is 6.8 points, nocache seed 3;
# at 1500, 3.9; at 3000, 5.6; at 1500 its 18 replays took 49 s): the same code, less arithmetic
N5=10000
case "${BUILD:-build}" in *san*) N5=1000 ;; esac
for seed in 1 2 3 4 5 6; do
    "$SUPERNAV" trace gen sushi --count $N5 --seed $seed --rate 1500 --ceiling-us 1235 \
        -o "$tmp/s$seed.csv" >/dev/null 2>&1
    for p in sushi static-subgraph nocache; do
        # shellcheck disable=SC2086
        "$SUPERNAV" replay $sim --trace "$tmp/s$seed.csv" --policy $p --out "$tmp/m$seed-$p" --quiet \
            >/dev/null 2>&1 || echo "# modelled replay seed $seed $p failed" >&2
    done
done
worst=0; diffs=""
for p in sushi static-subgraph nocache; do
    ref=$(field "$tmp/m1-$p/summary.json" slo_attainment)
    for seed in 2 3 4 5 6; do
        v=$(field "$tmp/m$seed-$p/summary.json" slo_attainment)
        worst=$(awk -v a="$ref" -v b="$v" -v w="$worst" 'BEGIN { if (a == "" || b == "") { print 999; exit }
                     d = 100 * (a - b); if (d < 0) d = -d; print (d > w) ? d : w }')
    done
done
for seed in 1 2 3 4 5 6; do
    diffs="$diffs $(awk -v a="$(field "$tmp/m$seed-sushi/summary.json" slo_attainment)" \
        -v b="$(field "$tmp/m$seed-static-subgraph/summary.json" slo_attainment)" 'BEGIN { printf "%+.2f", 100 * (a - b) }')"
done
ok "$(awk -v w="$worst" 'BEGIN { print (w <= 10) ? 0 : 1 }')" \
    "TEST05: SLO attainment on seeds 2-6 within 10 points of seed 1 for sushi, static-subgraph, nocache (largest gap $worst)"
echo "# TEST05: sushi minus static-subgraph SLO attainment, seeds 1-6 (points):$diffs"
