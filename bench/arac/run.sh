#!/bin/sh
# make bench-arac: the NeuLens experiment. ARAC configs (gate, tiled micro-flows) against
# the untiled Pareto SubNets and against the ARAC base SubNets on uniformly downsampled
# inputs: top-1 on the model's test split and measured CPU latency (p50 of the same run),
# one Pareto plot, the latency reduction at equal accuracy and the accuracy gain at equal
# latency beside NeuLens's claims. Method: bench/arac/README.md. Progress on stderr; the
# summary on stdout; the files under $RESULTS/arac/arac-<UTC>/ (CF-64) or
# $RESULTS/arac/arac-<model>-<UTC>/ (another model).
#
# The downsampled resolutions are those of the model's space (its image's spec) below the
# canvas: CF-64's 56, 48, 40; CF-128S's 112, 96, 80, 64. A base at a resolution where the
# untiled family already holds the same SubNet (a Pareto SubNet, with BN statistics of its
# own at that resolution) gets no downsampled point there: the untiled point covers it.
#
# Environment (make passes these): SUPERNAV, MODEL (cf64), MODEL_IMAGE, MODEL_TABLE,
# MODEL_TEST (the model's image, accuracy table and test split; CF-64's by default),
# ARAC_PLATFORM (cpu), ARAC_LIMIT (canvases per point; empty = the whole test split),
# ARAC_WARMUP, ARAC_BUILD, RESULTS.
set -eu

say() { echo "bench-arac: $*" >&2; }
die() { echo "bench-arac: error: $*" >&2; exit 1; }

SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${MODEL:-cf64}
MODEL_IMAGE=${MODEL_IMAGE:-build/supernet.snm}
ARAC_PLATFORM=${ARAC_PLATFORM:-cpu}
ARAC_LIMIT=${ARAC_LIMIT:-}
ARAC_WARMUP=${ARAC_WARMUP:-10}
ARAC_BUILD=${ARAC_BUILD:-build/arac}
RESULTS=${RESULTS:-results}
PY=/usr/bin/python3
TEST=${MODEL_TEST:-data/canvas/cf64-test}
TABLE=${MODEL_TABLE:-workloads/supernet/accuracy.csv}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$RESULTS/arac/arac-$STAMP
[ "$MODEL" = cf64 ] || OUT=$RESULTS/arac/arac-$MODEL-$STAMP

case $ARAC_LIMIT in '') ;; *[!0-9]* | 0) die "ARAC_LIMIT must be a positive integer or empty (got '$ARAC_LIMIT')" ;; esac
case $ARAC_WARMUP in '' | *[!0-9]*) die "ARAC_WARMUP must be a non-negative integer (got '$ARAC_WARMUP')" ;; esac
case $ARAC_PLATFORM in reference | cpu) ;; *) die "ARAC_PLATFORM must be 'cpu' or 'reference' (got '$ARAC_PLATFORM')" ;; esac
[ -x "$SUPERNAV" ] || die "$SUPERNAV is missing; run 'make'"
[ -f "$MODEL_IMAGE" ] || die "$MODEL_IMAGE is missing; run 'make MODEL=$MODEL'"
[ -f "$TEST-images-idx3-ubyte" ] || die "$TEST-images-idx3-ubyte is missing; run 'make datasets'"
[ -f "$TEST-labels-idx1-ubyte" ] || die "$TEST-labels-idx1-ubyte is missing; run 'make datasets'"
[ -f "$TABLE" ] || die "$TABLE is missing"
[ -x "$PY" ] || die "$PY is missing (Debian's python3)"
sh ci/deps.sh ci/packages-arac.txt || die "missing Debian packages (ci/packages-arac.txt)"
command -v gnuplot >/dev/null 2>&1 || die "gnuplot is not on PATH (ci/packages-arac.txt)"

# the model's canvas side and its resolutions below it (the downsampled inputs, largest first;
# the canvas itself is the untiled base)
info=$("$SUPERNAV" info "$MODEL_IMAGE") || die "supernav info $MODEL_IMAGE failed"
CANVAS=$(echo "$info" | sed -n 's/^canvas *\([0-9]*\)x.*/\1/p')
DOWN_RES=$(echo "$info" | sed -n 's/^resolutions *//p' | tr -d ' ' | tr ',' '\n' |
    awk -v c="$CANVAS" '$1 < c' | sort -rn | tr '\n' ' ' | sed 's/ $//')
[ -n "$CANVAS" ] || die "supernav info $MODEL_IMAGE printed no canvas"
[ -n "$DOWN_RES" ] || die "$MODEL_IMAGE: no resolution below the ${CANVAS}-pixel canvas to downsample to"

limit_arg=""
[ -n "$ARAC_LIMIT" ] && limit_arg="--limit $ARAC_LIMIT"
work=$ARAC_BUILD/run
rm -rf "$work"
mkdir -p "$work"

# ---- the points: family|flag|config|input_res|MACs (the last only weighs the ETA) -----
awk -F, 'NR > 1 && $1 == "subnet" { print "untiled|--subnet|" $2 "|0|" $3 }' "$TABLE" >"$work/untiled"
awk -F, 'NR > 1 && $1 == "arac" { print "arac|--arac|" $2 "|0|" $3 }' "$TABLE" >"$work/arac"
[ -s "$work/untiled" ] || die "$TABLE: no kind=subnet rows"
[ -s "$work/arac" ] || die "$TABLE: no kind=arac rows"

# The downsampled family: each distinct ARAC base at DOWN_RES, with its own weights and
# calibrated BN statistics. A base the image holds no untiled statistics for is left out,
# and the report says so; so is a resolution at which the base is itself an untiled point
# (base|res|that SubNet in covered); any other failure is an error.
: >"$work/downsampled"
: >"$work/skipped"
: >"$work/covered"
probe_res=${DOWN_RES%% *}
for base in $(awk -F'|' '{ sub(/^[^:]*:/, "", $3); print $3 }' "$work/arac" | awk '!seen[$0]++'); do
    if ! probe=$("$SUPERNAV" eval --model "$MODEL_IMAGE" --data "$TEST" --platform "$ARAC_PLATFORM" --subnet "$base" \
        --input-res "$probe_res" --limit 1 --warmup 0 --json 2>&1 >/dev/null); then
        case $probe in
            *"no calibrated BN statistics"*)
                echo "$base" >>"$work/skipped"
                say "note: the image holds no calibrated BN statistics for the untiled base $base" \
                    "(it is not a Pareto SubNet); no downsampled points for it"
                continue ;;
            *) die "supernav eval --subnet $base --input-res $probe_res failed: ${probe:-no message}" ;;
        esac
    fi
    macs=$(awk -F'|' -v b="$base" '{ c = $3; sub(/^[^:]*:/, "", c) } c == b { print $5; exit }' "$work/arac")
    base_res=$(echo "$base" | sed -n 's/^r\([0-9]*\)-.*/\1/p')
    for r in $DOWN_RES; do
        same="r$r-${base#r*-}"
        if grep -q "^untiled|--subnet|$same|" "$work/untiled"; then
            echo "$base|$r|$same" >>"$work/covered"
            say "note: $base at $r px is the untiled SubNet $same (its own BN statistics): no downsampled point"
            continue
        fi
        echo "downsampled|--subnet|$base|$r|$(awk -v m="$macs" -v r="$r" -v b="$base_res" 'BEGIN { printf "%.0f", m * r * r / (b * b) }')" \
            >>"$work/downsampled"
    done
done

# Interleave the three families (each point at its relative position in its family), so a
# change in the shared machine's load spreads over all of them rather than one.
for f in untiled downsampled arac; do
    awk -v f="$f" '{ n[NR] = $0 } END { for (i = 1; i <= NR; ++i) printf "%.6f %s %s\n", (i - 0.5) / NR, f, n[i] }' \
        "$work/$f"
done | sort -k1,1n -k2,2 | cut -d' ' -f3- >"$work/points"
n=$(wc -l <"$work/points")
total_macs=$(awk -F'|' '{ s += $5 } END { printf "%.0f", s }' "$work/points")
[ -n "$ARAC_LIMIT" ] && canvases="the first $ARAC_LIMIT test canvases" || canvases="the whole test split"

# ---- the measurements ----------------------------------------------------------------
# the machine may be shared: the report gives the load average before and after
cat /proc/loadavg >"$work/loadavg-start" 2>/dev/null || :
say "$MODEL: $n points ($(wc -l <"$work/untiled") untiled, $(wc -l <"$work/downsampled") downsampled," \
    "$(wc -l <"$work/arac") ARAC) on $canvases, platform $ARAC_PLATFORM, $ARAC_WARMUP warm-up inferences each;" \
    "latency is measured on this machine, single thread"
now_ms() { echo $(($(date +%s%N) / 1000000)); }
start=$(now_ms)
done_macs=0
i=0
while IFS='|' read -r family flag cfg res macs; do
    i=$((i + 1))
    res_arg=""
    [ "$res" != 0 ] && res_arg="--input-res $res"
    # shellcheck disable=SC2086 # limit_arg and res_arg are empty or two words
    line=$("$SUPERNAV" eval --model "$MODEL_IMAGE" --data "$TEST" --platform "$ARAC_PLATFORM" $flag "$cfg" $res_arg \
        $limit_arg --warmup "$ARAC_WARMUP" --json 2>"$work/stderr") ||
        die "supernav eval $flag $cfg${res_arg:+ $res_arg} failed: $(tr '\n' ' ' <"$work/stderr")"
    case $line in '{'*'"p50_us"'*'}') ;; *) die "supernav eval $flag $cfg: unexpected output: $line" ;; esac
    printf '{"family":"%s","eval":%s}\n' "$family" "$line" >>"$work/points.jsonl"
    done_macs=$((done_macs + macs))
    elapsed=$(($(now_ms) - start))
    # ETA: the elapsed time scaled by the MACs still to run (a point's time is about its MACs)
    eta=$(awk -v e="$elapsed" -v d="$done_macs" -v t="$total_macs" \
        'BEGIN { s = d > 0 ? e * (t - d) / d / 1000 : 0; printf "%dm%02ds", s / 60, s % 60 }')
    top1=$(echo "$line" | sed -n 's/.*"top1":\([0-9.]*\).*/\1/p')
    p50=$(echo "$line" | sed -n 's/.*"p50_us":\([0-9.]*\).*/\1/p')
    say "[$i/$n] $family $cfg${res_arg:+ @$res}: top-1 $top1 %, p50 $p50 us (elapsed $((elapsed / 1000)) s, ETA $eta)"
done <"$work/points"
cat /proc/loadavg >"$work/loadavg-end" 2>/dev/null || :

# ---- the report ----------------------------------------------------------------------
"$PY" bench/arac/report.py --work "$work" --table "$TABLE" --out "$OUT" \
    --platform "$ARAC_PLATFORM" --limit "${ARAC_LIMIT:-0}" --warmup "$ARAC_WARMUP" \
    --down-res "$DOWN_RES" --canvas "$CANVAS" --model "$MODEL" --model-image "$MODEL_IMAGE" --test "$TEST" \
    --supernav "$SUPERNAV" || die "report failed"
