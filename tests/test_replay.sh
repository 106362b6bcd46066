#!/bin/sh
# supernav profile / replay / summary: a run directory with every file, on the null platform
# (virtual time) and on the CPU platform; SUSHI moves fewer far bytes than nocache on the
# same stream; bad input (a malformed trace, an unknown policy, a SubNet the model does not
# serve, an existing run directory) gets one error line, a non-zero exit, and leaves no
# run directory behind. The SubNet choice's floor level: in modelled time, sushi, nocache
# and oracle serve every floor query at least as accurately as static-subgraph. TAP.
set -u
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${SN_MODEL:-build/supernet.snm}
if [ ! -f data/canvas/cf64-test-images-idx3-ubyte ]; then
    echo "1..0 # SKIP no CF-64 test split (make datasets)"; exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "1..33"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
field() { sed -n "s/.*\"$2\":[^0-9-]*\([0-9.e+-]*\).*/\1/p" "$1" | head -n 1; }

"$SUPERNAV" trace gen sushi --count 400 --seed 5 --rate 800 --ceiling-us 1500 -o "$tmp/t.csv" >/dev/null 2>&1
ok $? "a SUSHI-style stream is generated"

"$SUPERNAV" replay --platform null --model "$MODEL" --trace "$tmp/t.csv" --policy sushi --virtual \
    --out "$tmp/null" --quiet > /dev/null 2> "$tmp/err"
rc=$?
files=0
for f in context.json queries.csv summary.json counters.csv policy.json; do [ -s "$tmp/null/$f" ] && files=$((files + 1)); done
ok $(( rc != 0 || files != 5 )) "null platform, virtual time: a run directory with 5 files (rc $rc, $files files)"
rows=$(($(wc -l < "$tmp/null/queries.csv") - 1))
ok $(( rows != 400 )) "queries.csv holds one row per query ($rows)"
q=$(field "$tmp/null/summary.json" queries)
ok $(( q != 400 )) "summary.json counts the queries ($q)"

"$SUPERNAV" replay --platform null --model "$MODEL" --trace "$tmp/t.csv" --policy sushi --virtual \
    --out "$tmp/null" --quiet > /dev/null 2> "$tmp/err"
rc=$?
lines=$(wc -l < "$tmp/err")
ok $(( rc == 0 || lines != 1 )) "an existing run directory is refused with one line: $(cat "$tmp/err")"

# on the CPU platform in modelled virtual time from the CI gate's pinned CPU profile (its ISA and
# near budget), so that the choices -- and so the bytes -- do not depend on this machine's speed:
# with a profile measured under the sanitizers (every SubNet 1.3-8.9 ms against the stream's
# 1.5 ms ceiling, near and far within noise) sushi once kept a SubGraph the served SubNets did
# not use, and measured service times move the late queries; the inference is this run's.
# That profile takes the model image it was measured on: this build's, else the plain build's.
pmodel=$(sh tests/pinned_model.sh "$MODEL" build/supernet.snm)
for p in sushi nocache; do
    if [ -n "$pmodel" ]; then
        "$SUPERNAV" replay --model "$pmodel" --isa avx2 --near-kib 768 --profile ci/baselines/cpu-profile.json \
            --trace "$tmp/t.csv" --policy $p --virtual --modelled --out "$tmp/$p" --quiet > /dev/null 2>&1
    else # a profile measured here: the run directory's points below still hold
        "$SUPERNAV" replay --model "$MODEL" --trace "$tmp/t.csv" --policy $p --virtual --out "$tmp/$p" \
            --reps 5 --quiet > /dev/null 2>&1
    fi || echo "replay $p failed" >&2
done
fs=$(field "$tmp/sushi/summary.json" far_bytes)
fn=$(field "$tmp/nocache/summary.json" far_bytes)
if [ -n "$pmodel" ]; then
    ok "$(awk -v a="$fs" -v b="$fn" 'BEGIN { print (a != "" && b != "" && a + 0 < b + 0) ? 0 : 1 }')" \
        "cpu: sushi moves fewer far bytes than nocache ($fs < $fn; $pmodel)"
else
    n=$((n + 1)); echo "ok $n # SKIP neither $MODEL nor build/supernet.snm is the model image ci/baselines/cpu-profile.json was measured on (make all builds it)"
fi
acc=$(field "$tmp/sushi/summary.json" measured_accuracy)
ok "$(awk -v a="$acc" 'BEGIN { print (a > 0.8 && a <= 1) ? 0 : 1 }')" "cpu: measured accuracy of served queries is real ($acc)"

printf '# supernav-trace 1\n# mode: open\narrival_us,sample,acc_floor,lat_ceiling_us\n5,1,0.9,100\n3,2,0.9,100\n' > "$tmp/bad.csv"
"$SUPERNAV" replay --platform null --model "$MODEL" --trace "$tmp/bad.csv" --policy sushi --out "$tmp/bad" \
    --quiet > /dev/null 2> "$tmp/err"
rc=$?
ok $(( rc == 0 || $(wc -l < "$tmp/err") != 1 )) "a malformed trace: one line, exit $rc: $(cat "$tmp/err")"
ok "$([ ! -e "$tmp/bad" ] && ! ls -d "$tmp"/bad.tmp-* >/dev/null 2>&1; echo $?)" "... and no run directory left behind"

"$SUPERNAV" replay --platform null --model "$MODEL" --trace "$tmp/t.csv" --policy fastest --out "$tmp/p" \
    --quiet > /dev/null 2> "$tmp/err"
rc=$?
ok $(( rc == 0 )) "an unknown policy is refused: $(cat "$tmp/err")"
"$SUPERNAV" replay --platform null --model "$MODEL" --trace "$tmp/t.csv" \
    --policy static-subnet:r64-d1.2.2.2-e2.2.2.2.2.2.2-k3.3.3.3.3.3.3 --out "$tmp/p" --quiet > /dev/null 2> "$tmp/err"
rc=$?
ok $(( rc == 0 )) "a SubNet outside the Pareto set is refused: $(cat "$tmp/err")"
"$SUPERNAV" summary "$tmp/sushi" "$tmp/nocache" > "$tmp/table" 2>&1
rc=$?
ok $(( rc != 0 || $(grep -vc '^#' "$tmp/table") != 3 )) "supernav summary prints one row per run"
ok $(( $(grep -c '^# \(VALID\|DEGENERATE\) t.csv: ' "$tmp/table") != 1 )) \
    "... and one validity line for the trace: $(grep '^# ' "$tmp/table" | cut -c1-100)"
# LoadGen's per-run rules: 400 queries are fewer than the minimum (1024) -- INVALID, saying so
ok $(( $(grep -c '^# INVALID run .*: 400 queries, fewer than the minimum 1024' "$tmp/table") != 2 )) \
    "... and each 400-query run is INVALID by LoadGen's minimum query count"
inv=$(tr -d ' \t\n' < "$tmp/sushi/summary.json" | sed -n 's/.*"validity":{"result":"\([A-Z]*\)".*/\1/p')
ok "$([ "$inv" = INVALID ]; echo $?)" "... recorded in summary.json (validity.result $inv)"

# an experiment that cannot discriminate: floors no SubNet reaches (the model's best is
# ~90 %), so every policy meets 0 % of SLOs; summary says DEGENERATE and why
"$SUPERNAV" trace gen server --count 200 --seed 3 --rate 800 --ceiling-us 1500 \
    --floors 0.99,0.99,0.99,0.99,0.99 -o "$tmp/unreachable.csv" >/dev/null 2>&1
for p in sushi nocache; do
    "$SUPERNAV" replay --platform null --model "$MODEL" --trace "$tmp/unreachable.csv" --policy $p \
        --virtual --out "$tmp/u-$p" --quiet > /dev/null 2>&1 || echo "replay $p failed" >&2
done
"$SUPERNAV" summary "$tmp/u-sushi" "$tmp/u-nocache" > "$tmp/utable" 2>&1
line=$(grep '^# DEGENERATE unreachable.csv: every policy meets under 5 % of SLOs' "$tmp/utable")
ok "$(echo "$line" | grep -q 'floors unreachable: 200 of 200 queries'; echo $?)" \
    "floors no SubNet reaches: DEGENERATE with the reason: $(echo "$line" | cut -c1-160)"

# the floor's level (harness/sn_serve.h): per query, no choosing policy serves a floor query
# less accurately than static-subgraph (table top-1), whichever SubNets they pick;
# on the CI gate's pinned profile, so that the choices do not depend on this machine
"$SUPERNAV" trace gen server --count 400 --seed 7 --rate 800 --ceiling-us 1500 -o "$tmp/s.csv" >/dev/null 2>&1
pinned="--isa avx2 --near-kib 768 --profile ci/baselines/cpu-profile.json"
san=0
case "${BUILD:-build}" in *san*) san=1 ;; esac
if [ $san = 0 ] && "$SUPERNAV" replay --model "$MODEL" --trace "$tmp/s.csv" --policy static-subgraph --modelled \
    --out "$tmp/m-static-subgraph" $pinned --quiet > /dev/null 2> "$tmp/perr"; then
    # the level holds for every query that can still meet its ceiling at or above its floor;
    # one that cannot is served the fastest SubNet (replay --late fastest, the default), so
    # the guarantee is checked with --late level, and under the default every query served
    # less accurately must be one that missed its SLO
    for p in sushi nocache oracle; do
        "$SUPERNAV" replay --model "$MODEL" --trace "$tmp/s.csv" --policy $p --modelled --out "$tmp/m-$p" \
            $pinned --late level --quiet > /dev/null 2>&1 || echo "modelled replay $p failed" >&2
        "$SUPERNAV" replay --model "$MODEL" --trace "$tmp/s.csv" --policy $p --modelled --out "$tmp/f-$p" \
            $pinned --quiet > /dev/null 2>&1 || echo "modelled replay $p (late fastest) failed" >&2
    done
    "$SUPERNAV" replay --model "$MODEL" --trace "$tmp/s.csv" --policy static-subgraph --modelled \
        --out "$tmp/m-static-level" $pinned --late level --quiet > /dev/null 2>&1 || echo "static --late level failed" >&2
    worse=0; other=0; lmet=0; lower=0
    [ "$(($(wc -l < "$tmp/m-static-level/queries.csv") - 1))" = 400 ] || worse=1000000
    for p in sushi nocache oracle; do
        r=$(awk -F, 'NR == FNR { if (FNR > 1) { a[$1] = $NF; s[$1] = $7 } next }
                     FNR > 1 { if ($NF + 1e-9 < a[$1]) w++; if ($7 != s[$1]) o++ }
                     END { print w + 0, o + 0, FNR - 1 }' "$tmp/m-static-level/queries.csv" "$tmp/m-$p/queries.csv" 2>/dev/null)
        set -- $r 0 0 0
        [ "$3" = 400 ] || worse=$((worse + 1000))
        worse=$((worse + $1)); other=$((other + $2))
        r=$(awk -F, 'NR == FNR { if (FNR > 1) a[$1] = $NF; next }
                     FNR > 1 && $NF + 1e-9 < a[$1] { l++; if ($13 == 1) m++ }
                     END { print m + 0, l + 0, FNR - 1 }' "$tmp/m-static-level/queries.csv" "$tmp/f-$p/queries.csv" 2>/dev/null)
        set -- $r 0 0 0
        [ "$3" = 400 ] || lmet=$((lmet + 1000))
        lmet=$((lmet + $1)); lower=$((lower + $2))
    done
    ok $(( worse != 0 )) "modelled, --late level: sushi, nocache and oracle serve no query less accurately than static-subgraph ($worse)"
    # (on this trace and profile some are: the point would check nothing with none)
    ok $(( lmet != 0 || lower == 0 )) "modelled, --late fastest: the $lower queries they serve less accurately than static-subgraph (--late level) all miss their SLO ($lmet met)"
    # (with the pinned profile the choices coincide on this trace; under the rule without the
    # level, fastest meeting the floor under each policy's own residency, 338 queries were
    # served less accurately than static-subgraph: the check above is not vacuous)
    echo "# sushi, nocache and oracle chose another SubNet than static-subgraph on $other of 1200 queries (--late level)"
else
    # skipped in a sanitizer build (the choices are the plain build's to check: eight 400-query
    # replays of sanitized inference took 55 s here), else for two reasons only, each matched
    # by its exact error line: the pinned profile
    # was measured on another model image (one packed by another build, whose int8
    # calibration differs in the last bits; the two SHA-256s must differ), or the avx2
    # kernels cannot run here (a CPU without AVX2, or SN_CPU_MAX_ISA=portable); any other
    # failure -- a pinned profile that does not parse, another serving set -- fails
    msg=$(cat "$tmp/perr")
    psha=$(sed -n 's/.*"model_sha256":[[:space:]]*"\([0-9a-f]*\)".*/\1/p' ci/baselines/cpu-profile.json | head -n 1)
    isha=$(sha256sum "$MODEL" 2>/dev/null | cut -d' ' -f1)
    p16=$(echo "$psha" | cut -c1-16); i16=$(echo "$isha" | cut -c1-16)
    other="supernav replay: error: ci/baselines/cpu-profile.json: not a profile of this platform (cpu), model (sha256 $i16...) and serving set: measured on model image sha256 $p16..., not this one ($i16...); measure one with 'supernav profile'"
    noisa="supernav replay: error: platform cpu: this processor (or build) lacks the requested ISA, or SN_CPU_MAX_ISA excludes it"
    for k in 1 2; do # the two points above
        n=$((n + 1))
        if [ $san = 1 ]; then
            echo "ok $n # SKIP a sanitizer build: the modelled choices on the pinned profile are checked by the plain build"
        elif [ -n "$psha" ] && [ -n "$isha" ] && [ "$psha" != "$isha" ] && [ "$msg" = "$other" ]; then
            echo "ok $n # SKIP the pinned profile was measured on another model image (sha256 $p16..., this one $i16...): $msg"
        elif [ "$msg" = "$noisa" ]; then
            echo "ok $n # SKIP the pinned profile is of the avx2 kernels, which cannot run here: $msg"
        else
            echo "not ok $n - modelled static-subgraph replay on the pinned profile failed: $msg"
        fi
    done
fi

# where choices differ: a planted profile (the pinned one with its no-SubGraph column
# shuffled, seeded, so that without a SubGraph some more accurate SubNets are faster) makes
# nocache choose other SubNets than static-subgraph for floor queries; every one of them is
# at least as accurate as static-subgraph's choice for the same query, and some differ (so
# the claim is exercised, not vacuous). The trap: X, the least accurate SubNet meeting the
# trace's commonest floor, is made the fastest without a SubGraph by far (0.9 x the column's
# fastest), while static-subgraph serves that floor more accurately than X (the floor's
# level, checked below) -- so a choice that ignores the level (the rule before 39c6043: the
# fastest SubNet meeting the floor under the policy's own residency) serves X, less
# accurately, on every such query (295 of 300 when this was written; with 5 % ties as well)
"$SUPERNAV" trace gen sushi --count 300 --seed 7 --rate 700 --constraint floor -o "$tmp/floors.csv" >/dev/null 2>&1
trap_x=$(python3 - ci/baselines/cpu-profile.json workloads/supernet/accuracy.csv "$tmp/floors.csv" "$tmp/planted.json" <<'PY'
import collections, csv, json, random, struct, sys
prof = json.load(open(sys.argv[1]))
top1 = {r["config"]: float(r["top1"]) / 100 for r in csv.DictReader(open(sys.argv[2])) if r["kind"] == "subnet"}
floors = [r["acc_floor"] for r in csv.DictReader(l for l in open(sys.argv[3]) if not l.startswith("#")) if r["acc_floor"]]
n = len(prof["subnets"])
none = [r for r in prof["rows"] if r["subgraph"] == -1]
lat = sorted(r["p50_us"] for r in none)
order = list(range(n))
random.Random(11).shuffle(order)
row = {r["subnet"]: r for r in none}
for rank, i in enumerate(order):
    row[i]["p50_us"] = lat[rank]
f0 = collections.Counter(floors).most_common(1)[0][0]
f32 = struct.unpack("f", struct.pack("f", float(f0)))[0]  # a trace's floor is a float
x = min((i for i in range(n) if top1[prof["subnets"][i]] + 1e-6 >= f32), key=lambda i: top1[prof["subnets"][i]])
row[x]["p50_us"] = 0.9 * lat[0]
json.dump(prof, open(sys.argv[4], "w"))
print(f0, top1[prof["subnets"][x]], prof["subnets"][x])
PY
)
for p in static-subgraph nocache; do
    "$SUPERNAV" replay --platform null --model "$MODEL" --near-kib 768 --profile "$tmp/planted.json" --modelled \
        --trace "$tmp/floors.csv" --policy $p --out "$tmp/pl-$p" --quiet > /dev/null 2> "$tmp/err" ||
        echo "# planted $p: $(cat "$tmp/err")"
done
res=$(awk -F, 'FNR == 1 { for (i = 1; i <= NF; ++i) { if ($i == "table_accuracy") c = i; if ($i == "subnet") s = i }; next }
               FILENAME ~ /static/ { a[FNR] = $c; sn[FNR] = $s; next }
               { if ($c + 1e-9 < a[FNR]) worse++; if ($s != sn[FNR]) diff++; rows++ }
               END { printf "%d %d %d", rows, diff, worse }' "$tmp/pl-static-subgraph/queries.csv" "$tmp/pl-nocache/queries.csv" 2>/dev/null)
rows=${res%% *}; rest=${res#* }; diff=${rest%% *}; worse=${rest#* }
ok $(( ${rows:-0} != 300 || ${diff:-0} == 0 )) "planted profile: nocache serves $diff of ${rows:-0} floor queries with other SubNets than static-subgraph"
ok $(( ${rows:-0} != 300 || ${worse:-1} != 0 )) "... none of them less accurately (${worse:-?})"
# the trap is set: X meets the commonest floor F, and static-subgraph serves every query
# with floor F more accurately than X (queries.csv's rows are the trace's, in order)
set -- $trap_x "" "" ""
trapped=$(grep -v '^#' "$tmp/floors.csv" | awk -F, -v f="$1" -v x="$2" '
    NR == FNR { if (FNR > 1) fl[FNR - 1] = $3; next }
    FNR == 1 { for (i = 1; i <= NF; ++i) if ($i == "table_accuracy") c = i; next }
    fl[FNR - 1] == f { k++; if ($c > x + 1e-9) above++ }
    END { printf "%d %d", k, above }' - "$tmp/pl-static-subgraph/queries.csv" 2>/dev/null)
k=${trapped%% *}; above=${trapped#* }
ok "$([ -n "$2" ] && [ "${k:-0}" -gt 0 ] && [ "$k" = "$above" ] &&
      awk -v f="$1" -v x="$2" 'BEGIN { exit !(x + 1e-6 >= f) }'; echo $?)" \
    "... and the trap is set: $3 (top-1 ${2:-?}), the fastest without a SubGraph, meets floor ${1:-?}, which static-subgraph serves more accurately on ${above:-?} of ${k:-?} queries"

# static-hindsight (the best single SubGraph knowing the whole trace) is the bound of every
# static choice: in modelled time it meets at least as many SLOs as static-subgraph and as
# nocache (no SubGraph) on a stream tight enough that they differ
"$SUPERNAV" trace gen sushi --count 2000 --seed 11 --rate 2500 --ceiling-us 600 -o "$tmp/tight.csv" >/dev/null 2>&1
for p in static-hindsight static-subgraph nocache; do
    "$SUPERNAV" replay --platform null --model "$MODEL" --near-kib 768 --profile ci/baselines/cpu-profile.json \
        --modelled --trace "$tmp/tight.csv" --policy $p --out "$tmp/hs-$p" --quiet > /dev/null 2> "$tmp/err" ||
        echo "# $p: $(cat "$tmp/err")"
done
h=$(field "$tmp/hs-static-hindsight/summary.json" slo_attainment)
st=$(field "$tmp/hs-static-subgraph/summary.json" slo_attainment)
nc=$(field "$tmp/hs-nocache/summary.json" slo_attainment)
ok "$(awk -v h="$h" -v s="$st" -v c="$nc" 'BEGIN { print (h != "" && s != "" && c != "" && h >= s && h >= c && s > c) ? 0 : 1 }')" \
    "modelled: static-hindsight meets ${h:-?} of SLOs, >= static-subgraph ${st:-?} and nocache ${nc:-?}"

# the accuracy lever (--choice accuracy): with slack under the ceilings, serving each
# ceiling query the most accurate SubNet that fits turns saved latency into served accuracy;
# the run records its mode; effective accuracy counts a late answer as wrong
"$SUPERNAV" trace gen sushi --count 1000 --seed 12 --rate 300 --ceiling-us 1500 -o "$tmp/slack.csv" >/dev/null 2>&1
for c in floor-level accuracy; do
    "$SUPERNAV" replay --platform null --model "$MODEL" --near-kib 768 --profile ci/baselines/cpu-profile.json \
        --modelled --trace "$tmp/slack.csv" --policy static-subgraph --choice $c --out "$tmp/ch-$c" --quiet \
        > /dev/null 2> "$tmp/err" || echo "# --choice $c: $(cat "$tmp/err")"
done
fa=$(field "$tmp/ch-floor-level/summary.json" served_accuracy); aa=$(field "$tmp/ch-accuracy/summary.json" served_accuracy)
fe=$(sed -n '/"effective_accuracy"/,/}/s/.*"table":[^0-9]*\([0-9.e+-]*\).*/\1/p' "$tmp/ch-floor-level/policy.json")
ae=$(sed -n '/"effective_accuracy"/,/}/s/.*"table":[^0-9]*\([0-9.e+-]*\).*/\1/p' "$tmp/ch-accuracy/policy.json")
ok "$(awk -v f="$fa" -v a="$aa" -v fe="$fe" -v ae="$ae" 'BEGIN { print (f != "" && a != "" && fe != "" && ae != "" && a >= f + 0.005 && ae > fe) ? 0 : 1 }')" \
    "--choice accuracy with slack: served top-1 ${aa:-?} vs ${fa:-?}, effective ${ae:-?} vs ${fe:-?} (floor-level)"
grep -q '"choice":[^,]*"accuracy"' "$tmp/ch-accuracy/context.json" && grep -q '"choice":[^,]*"floor-level"' "$tmp/ch-floor-level/context.json"
ok $? "the run directory records the choice mode"
# summary.json's effective accuracy (the run writer's count of late answers) equals policy.json's
# (the replay's own), and supernav summary prints it beside served accuracy
se=$(field "$tmp/ch-accuracy/summary.json" effective_accuracy)
"$SUPERNAV" summary "$tmp/ch-accuracy" > "$tmp/ch-table" 2>&1
te=$(awk '$2 == "static-subgraph" { print $7 }' "$tmp/ch-table")
ok "$(awk -v s="$se" -v p="$ae" -v t="$te" 'BEGIN { d = s - p; if (d < 0) d = -d; u = t - 100 * s; if (u < 0) u = -u;
    print (s != "" && p != "" && d < 1e-9 && u < 0.006 && t ~ /%$/) ? 0 : 1 }')" \
    "effective accuracy in summary.json ${se:-?} = policy.json's ${ae:-?}; supernav summary's column ${te:-?}"
"$SUPERNAV" replay --platform null --model "$MODEL" --trace "$tmp/slack.csv" --policy sushi --choice fastest \
    --out "$tmp/ch-bad" --quiet > /dev/null 2> "$tmp/err"
rc=$?
ok $(( rc == 0 || $(wc -l < "$tmp/err") != 1 )) "an unknown --choice: one line, exit $rc: $(cat "$tmp/err")"
grep -q '"late":[^,]*"fastest"' "$tmp/ch-floor-level/context.json"
recorded=$?
: > "$tmp/err"
"$SUPERNAV" replay --platform null --model "$MODEL" --trace "$tmp/slack.csv" --policy sushi --late never \
    --out "$tmp/late-bad" --quiet > /dev/null 2> "$tmp/err"
rc=$?
ok $(( recorded != 0 || rc == 0 || $(wc -l < "$tmp/err") != 1 )) \
    "the run directory records --late ($recorded); an unknown one: one line, exit $rc: $(cat "$tmp/err")"
: > "$tmp/err"
"$SUPERNAV" replay --platform null --model "$MODEL" --trace "$tmp/slack.csv" --policy sushi --choice accuracy \
    --late level --out "$tmp/late-acc" --quiet > /dev/null 2> "$tmp/err"
rc=$?
grep -q -- '--late level' "$tmp/err"
named=$?
ok $(( rc == 0 || $(wc -l < "$tmp/err") != 1 || named != 0 )) \
    "--late level with --choice accuracy (which it cannot change): one line, exit $rc: $(cat "$tmp/err")"

# real time on the null platform (no service time of its own): no query starts before its
# scheduled arrival, latency is end - arrival (queueing included), and the server is on time
# (median start - arrival under 2 ms: it sleeps, then spins, for each arrival)
"$SUPERNAV" trace gen sushi --count 300 --seed 9 --rate 2000 -o "$tmp/rt.csv" >/dev/null 2>&1
"$SUPERNAV" replay --platform null --model "$MODEL" --trace "$tmp/rt.csv" --policy nocache \
    --out "$tmp/rt" --quiet > /dev/null 2> "$tmp/err" || echo "# real-time null replay: $(cat "$tmp/err")"
res=$(awk -F, 'NR > 1 { k++; if ($4 < $3 || $5 < $4 || $6 != $5 - $3) bad++ } END { printf "%d %d", k, bad }' \
      "$tmp/rt/queries.csv" 2>/dev/null)
rows=${res%% *}; bad=${res#* }
med=$(awk -F, 'NR > 1 { print $4 - $3 }' "$tmp/rt/queries.csv" 2>/dev/null | sort -n |
      awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
ok $(( ${rows:-0} != 300 || ${bad:-1} != 0 )) "real time: no query starts before its arrival; latency = end - arrival ($bad of ${rows:-0} rows break it)"
ok "$(awk -v m="${med:--1}" 'BEGIN { print (m >= 0 && m < 2e6) ? 0 : 1 }')" "real time: median start - arrival ${med:-?} ns (< 2 ms)"

# the profile cache: reused by the same build, measured again when another revision wrote it
# (a budget no other run uses, so that this test's 1-rep profile is not some run's cache; a
# sanitizer build at 0 KiB: one SubGraph state measured, 5 s here, where 61 KiB measures 32 in
# 43 s -- its profiles record its compiler flags, so the plain build never reuses them)
kib=61
[ $san = 1 ] && kib=0
"$SUPERNAV" profile --model "$MODEL" --near-kib $kib --reps 1 > /dev/null 2> "$tmp/p1"
pf=$(sed -n 's/^profile: ready in .* (\(.*\))$/\1/p' "$tmp/p1" | tail -n 1)
cp "$pf" "$tmp/before.json" 2>/dev/null
"$SUPERNAV" profile --model "$MODEL" --near-kib $kib --reps 1 > /dev/null 2> "$tmp/p2"
cmp -s "$pf" "$tmp/before.json"
ok $? "a cached profile of this build is reused ($pf)"
case "${BUILD:-build}" in
*san*) # the measurement and the write are the first point's, run sanitized there
    n=$((n + 1)); echo "ok $n # SKIP a sanitizer build: a profile written by another revision is measured again in the plain build"
    n=$((n + 1)); echo "ok $n # SKIP a sanitizer build: a profile written by another compilation is measured again in the plain build" ;;
*)
    sed 's/"supernav_rev":[^,]*/"supernav_rev": "0000000"/' "$pf" > "$tmp/p.json"
    grep -q '"supernav_rev":[^,]*"0000000"' "$tmp/p.json" && cp "$tmp/p.json" "$pf.tmp" && mv "$pf.tmp" "$pf"
    planted=$(grep -c '"supernav_rev":[^,]*"0000000"' "$pf")
    "$SUPERNAV" profile --model "$MODEL" --near-kib 61 --reps 1 > /dev/null 2> "$tmp/p3"
    ok $(( planted != 1 || $(grep -c '"supernav_rev":[^,]*"0000000"' "$pf") != 0 )) \
        "... and one written by another revision is measured again"
    # the same revision compiled otherwise (a sanitizer build shares the plain build's image,
    # so its cache paths, and measured other kernels' times)
    sed 's/"supernav_build_flags":[^,]*/"supernav_build_flags": "-O1 -fsanitize=address"/' "$pf" > "$tmp/p.json"
    grep -q '"supernav_build_flags":[^,]*"-O1 -fsanitize=address"' "$tmp/p.json" && cp "$tmp/p.json" "$pf.tmp" && mv "$pf.tmp" "$pf"
    planted=$(grep -c '"-O1 -fsanitize=address"' "$pf")
    "$SUPERNAV" profile --model "$MODEL" --near-kib 61 --reps 1 > /dev/null 2> "$tmp/p4"
    ok $(( planted != 1 || $(grep -c '"-O1 -fsanitize=address"' "$pf") != 0 )) \
        "... and one written by the same revision compiled with other flags is measured again" ;;
esac
rm -f "$pf"
