#!/bin/sh
# make bench PLATFORM=fpga: the FPGA accelerator model (platforms/fpga), everything in modelled
# virtual time (nothing here is measured).
#   1. the standard serving set: the whole Azure LLM trace (19,366 queries, rate-scaled), a
#      SUSHI stream and an MLPerf Server stream (FPGA_QUERIES each), every policy;
#   2. the SUSHI reproduction: sushi vs nocache vs static policies on those traces and on a
#      ceiling-only SUSHI stream (where a faster SubNet can buy accuracy), latency, off-chip
#      energy and served accuracy beside the paper's claims (sushi-repro.md);
#   3. a sweep over the persistent buffer size and the PE array shape on a closed-loop stream
#      (sushi and nocache; no queueing, so the figures are the model's service times):
#      sweep.csv, sweep-latency.svg, sweep-offchip.svg;
#   4. for a model other than CF-64 whose table lists ARAC configs (CF-128S; FPGA_ARAC=1|0):
#      four policies with SubNets only and with ARAC configs beside them (replay --arac),
#      arac-serve.md.
# Rates and ceilings come from the model's own profile (load FPGA_LOAD of the median SubNet
# without a resident SubGraph; ceiling base 2x the largest). Writes results/bench/fpga-<UTC>/
# (fpga-<model>-<UTC>/ for a model other than cf64). MODEL, MODEL_IMAGE, MODEL_TABLE,
# MODEL_TEST: the model served (make passes them; CF-64's by default).
set -eu
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${MODEL:-cf64}
MODEL_IMAGE=${MODEL_IMAGE:-build/supernet.snm}
TABLE=${MODEL_TABLE:-workloads/supernet/accuracy.csv}
MODEL_TEST=${MODEL_TEST:-data/canvas/cf64-test}
BOARD=${FPGA_BOARD:-platforms/fpga/boards/zcu104.board}
N=${FPGA_QUERIES:-3000}
LOAD=${FPGA_LOAD:-0.6}
SWEEP_KIB=${FPGA_SWEEP_KIB:-0 64 128 192 256 384 512}
SWEEP_PE=${FPGA_SWEEP_PE:-8x8 16x16 32x32 32x64}
SWEEP_N=${FPGA_SWEEP_QUERIES:-2000}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${BENCH_OUT:-results/bench/fpga-$STAMP}
[ "$MODEL" = cf64 ] || OUT=${BENCH_OUT:-results/bench/fpga-$MODEL-$STAMP}
die() { echo "make bench: error: $*" >&2; exit 1; }
[ -x "$SUPERNAV" ] || die "$SUPERNAV is not built"
[ -r "$BOARD" ] || die "$BOARD: no such board file"
[ -f "$MODEL_IMAGE" ] || die "$MODEL_IMAGE is missing (make MODEL=$MODEL)"
[ ! -e "$OUT" ] || die "$OUT already exists"
command -v gnuplot >/dev/null 2>&1 || die "gnuplot is missing (make deps)"
MODEL_FLAGS="--model $MODEL_IMAGE --data $MODEL_TEST"
FLAGS="$MODEL_FLAGS --board $BOARD${FPGA_PE:+ --pe $FPGA_PE}${FPGA_NEAR_KIB:+ --near-kib $FPGA_NEAR_KIB}"
tmp="$OUT.tmp-$$"
mkdir -p "$tmp/traces"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
field() { sed -n "s/.*\"$2\":[^0-9-]*\([0-9.e+-]*\).*/\1/p" "$1" | head -n 1; }

# shellcheck disable=SC2086
prof=$("$SUPERNAV" profile --platform fpga $FLAGS --json) || die "profile failed"
median=$(echo "$prof" | sed -n 's/.*"median_nocache_us":\([0-9.]*\).*/\1/p')
largest=$(echo "$prof" | sed -n 's/.*"largest_nocache_us":\([0-9.]*\).*/\1/p')
rate=$(awk -v l="$LOAD" -v m="$median" 'BEGIN { printf "%.1f", l * 1e6 / m }')
ceil=$(awk -v x="$largest" 'BEGIN { printf "%d", 2 * x }')
# shellcheck disable=SC2086
"$SUPERNAV" profile --platform fpga $FLAGS > "$tmp/profile.txt"
mid=$(awk 'NR > 1 { c[NR] = $NF } END { print c[int((NR + 2) / 2)] }' "$tmp/profile.txt")
# floors: CF-64 keeps the trace generator's defaults (0.86 to 0.90, within CF-64's top-1
# range: its figures stay as they were); another model gets its served SubNets' top-1
# quartiles, as make bench sets them (bench/serve/run.sh)
FLOOR_ARGS=""
if [ "$MODEL" != cf64 ]; then
    top1s=$(echo "$prof" | sed -n 's/.*"top1":\[\([0-9.,]*\)\].*/\1/p')
    [ -n "$top1s" ] || die "profile printed no top-1 list"
    FLOOR_ARGS="--floors $(echo "$top1s" | tr ',' '\n' | sort -n | awk '{ v[NR] = $1 }
        END { for (i = 0; i < 5; ++i) { k = 1 + int(i * (NR - 1) / 4 + 0.5); f = int(v[k] * 10000 + 1e-6) / 10000
              printf "%s%.4f", i ? "," : "", f } }')"
    echo "bench fpga: $MODEL: floors ${FLOOR_ARGS#--floors } (the served SubNets' top-1 quartiles)" >&2
fi
echo "bench fpga: $BOARD; median SubNet ${median} us, largest ${largest} us without a SubGraph (model)" >&2
echo "bench fpga: rate ${rate} q/s (load ${LOAD}), ceiling base ${ceil} us, ${N} queries (Azure LLM: all)" >&2

T="$tmp/traces"
# shellcheck disable=SC2086 # FLOOR_ARGS is empty or two words
{
"$SUPERNAV" trace import --format azure-llm workloads/traces/real/AzureLLMInferenceTrace_conv.csv \
    --rate "$rate" --ceiling-us "$ceil" $FLOOR_ARGS -o "$T/azure-llm.csv" >/dev/null
"$SUPERNAV" trace gen sushi --count "$N" --seed 1 --rate "$rate" --ceiling-us "$ceil" $FLOOR_ARGS -o "$T/sushi.csv" >/dev/null
"$SUPERNAV" trace gen server --count "$N" --seed 2 --rate "$rate" --ceiling-us "$ceil" $FLOOR_ARGS -o "$T/server.csv" >/dev/null
"$SUPERNAV" trace gen sushi --count "$N" --seed 3 --rate "$rate" --ceiling-us "$ceil" $FLOOR_ARGS --constraint ceiling \
    -o "$T/sushi-ceiling.csv" >/dev/null
"$SUPERNAV" trace gen single-stream --count "$SWEEP_N" --seed 4 --constraint floor $FLOOR_ARGS -o "$T/closed.csv" >/dev/null
}

POLICIES="sushi nocache static-subgraph lru slackfit static-hindsight static-subnet:$mid largest smallest oracle"
runs=""
for trace in azure-llm sushi server sushi-ceiling; do
    for policy in $POLICIES; do
        name=$(echo "$policy" | sed 's/:.*//')
        [ "$trace" != sushi-ceiling ] || case $name in sushi|nocache|static-subgraph|lru|slackfit|static-hindsight|oracle) ;; *) continue ;; esac
        echo "bench fpga: $trace / $name" >&2
        # shellcheck disable=SC2086
        "$SUPERNAV" replay --platform fpga $FLAGS --trace "$T/$trace.csv" --policy "$policy" \
            --out "$tmp/$trace-$name" --quiet >/dev/null || die "replay $trace $policy failed"
        runs="$runs $tmp/$trace-$name"
    done
done
# shellcheck disable=SC2086
"$SUPERNAV" summary $runs | sed "s|$tmp/||g" > "$tmp/table.txt.tmp"
{
    echo "# make bench PLATFORM=fpga ($STAMP), MODELLED (fpga cycle model, virtual time): $BOARD${FPGA_PE:+, PE $FPGA_PE}${FPGA_NEAR_KIB:+, persistent buffer $FPGA_NEAR_KIB KiB}"
    [ "$MODEL" = cf64 ] || echo "# model $MODEL ($MODEL_IMAGE, $TABLE, $MODEL_TEST)"
    echo "# rate $rate q/s, ceiling base $ceil us, $N queries per generated trace, the whole Azure LLM trace;"
    echo "# far MB = weight bytes from DDR; hit = persistent-buffer share of weight bytes."
    cat "$tmp/table.txt.tmp"
} > "$tmp/table.txt"
rm -f "$tmp/table.txt.tmp"

# ---- the SUSHI reproduction table --------------------------------------------------------
row() { # trace policy -> "mean p99 slo served offchip_uj ddr_bytes switches queries"
    d="$tmp/$1-$2"
    printf '%s %s %s %s %s %s %s %s\n' "$(field "$d/summary.json" mean)" "$(field "$d/summary.json" p99)" \
        "$(field "$d/summary.json" slo_attainment)" "$(field "$d/summary.json" served_accuracy)" \
        "$(field "$d/policy.json" energy_offchip_uj)" \
        "$(awk -v a="$(field "$d/policy.json" ddr_weight_bytes)" -v b="$(field "$d/policy.json" ddr_act_bytes)" 'BEGIN { printf "%.0f", a + b }')" \
        "$(field "$d/policy.json" subgraph_switches)" "$(field "$d/summary.json" queries)"
}
{
    echo "# SUSHI reproduction on the FPGA model (MODELLED: $BOARD${FPGA_PE:+, PE $FPGA_PE}${FPGA_NEAR_KIB:+, persistent buffer $FPGA_NEAR_KIB KiB})"
    echo
    echo "Virtual time, supernav's cycle model; latency includes queueing; off-chip energy = DDR bytes"
    echo "(weights and activations) x e_ddr of the board file. Paper: Behnam, Tong et al., SUSHI,"
    echo "MLSys 2023 (IEEE Micro 2023 for 32 %), on their SushiAccel FPGA accelerator and their SuperNets."
    echo
    echo "| trace | policy | queries | mean latency us | p99 us | SLO att. | served top-1 | off-chip MB | off-chip energy mJ | switches |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for trace in azure-llm sushi server sushi-ceiling; do
        for name in sushi nocache static-subgraph lru slackfit static-hindsight static-subnet oracle; do
            [ -d "$tmp/$trace-$name" ] || continue
            row "$trace" "$name" | awk -v t="$trace" -v p="$name" '{ printf "| %s | %s | %d | %.1f | %.1f | %.1f %% | %.2f %% | %.1f | %.2f | %d |\n", t, p, $8, $1, $2, 100 * $3, 100 * $4, $6 / 1e6, $5 / 1e3, $7 }'
        done
    done
    echo
    echo "| trace | sushi vs | latency reduction (mean) | off-chip energy saved | served top-1 change | SLO att. change |"
    echo "|---|---|---:|---:|---:|---:|"
    for trace in azure-llm sushi server sushi-ceiling; do
        s=$(row "$trace" sushi)
        for base in nocache static-subgraph lru slackfit static-hindsight; do
            b=$(row "$trace" "$base")
            echo "$s $b" | awk -v t="$trace" -v p="$base" '{ printf "| %s | %s | %.1f %% | %.1f %% | %+.2f points | %+.1f points |\n", t, p, 100 * (1 - $1 / $9), ($13 > 0 ? 100 * (1 - $5 / $13) : 0), 100 * ($4 - $12), 100 * ($3 - $11) }'
        done
    done
    echo
    echo "| claim (SUSHI paper, their accelerator and models) | paper | supernav, this model (best over the traces above, vs nocache) |"
    echo "|---|---:|---:|"
    best=$(for trace in azure-llm sushi server sushi-ceiling; do echo "$(row "$trace" sushi) $(row "$trace" nocache)"; done |
        awk '{ l = 100 * (1 - $1 / $9); e = ($13 > 0 ? 100 * (1 - $5 / $13) : 0); a = 100 * ($4 - $12);
               if (NR == 1 || l > bl) bl = l; if (NR == 1 || e > be) be = e; if (NR == 1 || a > ba) ba = a }
             END { printf "%.1f %.1f %.2f", bl, be, ba }')
    echo "$best" | awk '{ printf "| lower latency | up to 25 %% (MLSys), 32 %% (IEEE Micro) | up to %.1f %% |\n| off-chip energy saved | up to 78.7 %% | up to %.1f %% |\n| served accuracy | +0.98 %% | %+.2f points |\n", $1, $2, $3 }'
    echo
    echo "## The model's constants ($BOARD${FPGA_PE:+, PE $FPGA_PE}${FPGA_NEAR_KIB:+, persistent buffer $FPGA_NEAR_KIB KiB})"
    echo
    echo "| key | value | source or assumption |"
    echo "|---|---|---|"
    big=$(awk -F, '$1 == "subnet" { c = $2 } END { print c }' "$TABLE")
    # shellcheck disable=SC2086
    "$SUPERNAV" eval --platform fpga $FLAGS --subnet "$big" --limit 1 --warmup 0 |
        awk '/^board / { on = 1; next } on && /^  / { k = $1; v = $2; $1 = ""; $2 = ""; sub(/^  */, ""); printf "| %s | %s | %s |\n", k, v, $0 }'
} > "$tmp/sushi-repro.md"

# ---- ARAC configs served beside the SubNets (issue 20), where the model's table lists them ----
# Each policy twice on the same traces, SubNets only and with the table's undominated ARAC configs
# (replay --arac; the FPGA model prices every invoke from the image's own tiles, so an ARAC
# config's latency is the image's, and the run is deterministic): the SUSHI stream in floor-level
# mode, the ceiling-only stream in accuracy mode (a ceiling lets the choice spend what an ARAC
# config saves on accuracy). For a model other than CF-64 by default, as make bench
# (FPGA_ARAC=1|0 decides).
ARAC=${FPGA_ARAC:-$([ "$MODEL" = cf64 ] && echo 0 || echo 1)}
if [ "$ARAC" = 1 ] && grep -q '^arac,' "$TABLE"; then
    for trace in sushi sushi-ceiling; do
        choice=floor-level
        [ "$trace" != sushi-ceiling ] || choice=accuracy
        for name in sushi static-subgraph nocache oracle; do
            for v in subnets arac; do
                echo "bench fpga: ARAC serving: $trace ($choice) / $name ($v)" >&2
                # shellcheck disable=SC2086
                "$SUPERNAV" replay --platform fpga $FLAGS --trace "$T/$trace.csv" --policy "$name" --choice "$choice" \
                    $([ "$v" = arac ] && echo --arac) --out "$tmp/arac/$trace-$name-$v" --quiet >/dev/null ||
                    die "replay $trace $name ($v) failed"
            done
        done
    done
    {
        echo "# ARAC configs served beside the SubNets on the FPGA model (MODELLED: $BOARD${FPGA_PE:+, PE $FPGA_PE}${FPGA_NEAR_KIB:+, persistent buffer $FPGA_NEAR_KIB KiB})"
        echo
        echo "Each policy with the SubNets only and with the table's undominated ARAC configs beside them"
        echo "(\`replay --arac\`: the choice charges a config its p50 times its p95/p50 beyond the SubNets';"
        echo "the model's SubNets take the same time on every image, so their p95 is their p50 and the rule"
        echo "charges an ARAC config its p95. NeuLens's level controller on). Virtual time; every invoke"
        echo "priced by the cycle model from the image's own tiles. Effective top-1: an answer after its"
        echo "ceiling counts as wrong. The sushi-ceiling rows here are in accuracy mode (above: floor-level)."
        echo
        echo "| trace (choice) | policy | serving set | SLO att. | served top-1 | effective top-1 | mean latency us | p99 us | ARAC queries | controller steps |"
        echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"
        for trace in sushi sushi-ceiling; do
            choice=floor-level
            [ "$trace" != sushi-ceiling ] || choice=accuracy
            for name in sushi static-subgraph nocache oracle; do
                for v in subnets arac; do
                    d="$tmp/arac/$trace-$name-$v"
                    eff=$(sed -n '/"effective_accuracy"/,/}/s/.*"table":[^0-9]*\([0-9.]*\).*/\1/p' "$d/policy.json" | head -n 1)
                    steps=$(sed -n '/"arac_controller"/,/}/s/.*"steps":[^0-9]*\([0-9]*\).*/\1/p' "$d/policy.json" | head -n 1)
                    nar=$(awk -F, 'NR > 1 && $7 ~ /^arac/ { n++ } END { print n + 0 }' "$d/queries.csv") ||
                        die "$d/queries.csv: cannot read it"
                    awk -v t="$trace ($choice)" -v p="$name" -v v="$v" -v s="$(field "$d/summary.json" slo_attainment)" \
                        -v a="$(field "$d/summary.json" served_accuracy)" -v e="${eff:-0}" -v m="$(field "$d/summary.json" mean)" \
                        -v q="$(field "$d/summary.json" p99)" -v n="$nar" -v st="${steps:-0}" -v tot="$(field "$d/summary.json" queries)" \
                        'BEGIN { printf "| %s | %s | %s | %.1f %% | %.2f %% | %.2f %% | %.1f | %.1f | %d of %d | %s |\n", t, p, v == "arac" ? "SubNets + ARAC" : "SubNets", 100 * s, 100 * a, 100 * e, m, q, n, tot, v == "arac" ? st : "-" }'
                done
            done
        done
    } > "$tmp/arac-serve.md"
fi

# ---- the sweep: persistent buffer x PE array, closed loop ----------------------------------
echo "pe,near_kib,policy,mean_us,p99_us,offchip_uj_per_query,ddr_weight_bytes_per_query,served_top1,mean_vs_nocache_pct" > "$tmp/sweep.csv"
sweep_run() { # PE KIB POLICY: one closed-loop replay, one CSV row; the first of a PE array sets its base
    d="$tmp/sweep/$1-$2-$3"
    echo "bench fpga: sweep PE $1, buffer $2 KiB, $3" >&2
    # shellcheck disable=SC2086
    "$SUPERNAV" replay --platform fpga $MODEL_FLAGS --board "$BOARD" --pe "$1" --near-kib "$2" --trace "$T/closed.csv" \
        --policy "$3" --out "$d" --quiet >/dev/null || die "sweep $1 $2 $3 failed"
    q=$(field "$d/summary.json" queries)
    mean=$(field "$d/summary.json" mean)
    [ -n "$base" ] || base=$mean
    echo "$1,$2,$3,$mean,$(field "$d/summary.json" p99),$(awk -v e="$(field "$d/policy.json" energy_offchip_uj)" -v q="$q" 'BEGIN { printf "%.4f", e / q }'),$(awk -v e="$(field "$d/policy.json" ddr_weight_bytes)" -v q="$q" 'BEGIN { printf "%.0f", e / q }'),$(field "$d/summary.json" served_accuracy),$(awk -v m="$mean" -v b="$base" 'BEGIN { printf "%.2f", 100 * (m / b - 1) }')" >> "$tmp/sweep.csv"
}
for pe in $SWEEP_PE; do
    base=""
    sweep_run "$pe" 0 nocache # nocache ignores the buffer: once per PE array, the baseline
    for kib in $SWEEP_KIB; do
        sweep_run "$pe" "$kib" sushi
    done
done
plot() { # column ylabel file title
    {
        echo "set terminal svg size 720,440 dynamic font 'sans,11'"
        echo "set output '$tmp/$3'"
        echo "set datafile separator ','"
        echo "set title '$4 (MODELLED: fpga cycle model, $(basename "$BOARD" .board), closed-loop stream)'"
        echo "set xlabel 'persistent SubGraph buffer (KiB)'; set ylabel '$2'; set key outside right; set grid; set pointsize 0.8"
        printf "plot "
        sep=""
        for pe in $SWEEP_PE; do
            printf "%s'%s' using 2:(strcol(1) eq '%s' && strcol(3) eq 'sushi' ? \$%s : 1/0) with linespoints title 'sushi, PE %s'" "$sep" "$tmp/sweep.csv" "$pe" "$1" "$pe"
            sep=", "
        done
        echo
    } > "$tmp/plot.gp"
    gnuplot "$tmp/plot.gp" 2>/dev/null || die "gnuplot failed on $3"
    rm -f "$tmp/plot.gp"
}
plot 9 "mean latency vs nocache, same PE array (%)" sweep-latency.svg "Latency vs persistent buffer and PE array"
plot 6 "off-chip energy per query (uJ)" sweep-offchip.svg "Off-chip energy vs persistent buffer and PE array"
{
    echo "# Sweep (MODELLED): persistent buffer x PE array, sushi policy, $SWEEP_N closed-loop queries (floors only)"
    echo
    echo "| PE | buffer KiB | mean latency us | off-chip uJ / query | DDR weight bytes / query | latency vs nocache |"
    echo "|---|---:|---:|---:|---:|---:|"
    awk -F, 'NR > 1 && $3 == "nocache" { base[$1] = $4 }
             NR > 1 && $3 == "sushi" { r[++n] = $0 }
             END { for (i = 1; i <= n; ++i) { split(r[i], f, ","); printf "| %s | %s | %.1f | %.3f | %.0f | %.1f %% |\n", f[1], f[2], f[4], f[6], f[7], f[9] } }' "$tmp/sweep.csv"
} > "$tmp/sweep.md"

mkdir -p "$(dirname "$OUT")"
mv "$tmp" "$OUT"
trap - EXIT
cat "$OUT/table.txt"
echo
cat "$OUT/sushi-repro.md"
echo
cat "$OUT/sweep.md"
[ ! -f "$OUT/arac-serve.md" ] || { echo; cat "$OUT/arac-serve.md"; }
if "$SUPERNAV" report "$OUT" -o "$OUT/report" --table "$TABLE" >/dev/null 2>"$OUT/report.err"; then
    rm -f "$OUT/report.err"
    echo "bench fpga: report $OUT/report/report.html" >&2
else
    echo "make bench: error: the report failed: $(cat "$OUT/report.err")" >&2
    echo "bench fpga: wrote $OUT without a report" >&2
    exit 1
fi
echo "bench fpga: wrote $OUT ($(( $(date +%s) - start )) s)" >&2
if grep -q '^# DEGENERATE' "$OUT/table.txt"; then
    grep '^# DEGENERATE' "$OUT/table.txt" | sed 's/^# /bench fpga: warning: /' >&2
fi
