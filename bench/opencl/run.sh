#!/bin/sh
# make bench-opencl: the OpenCL platform against the CPU platform, per Pareto SubNet (batch 1,
# fp32, the model's test canvases: make passes MODEL's as OPENCL_MODEL, OPENCL_DATA, OPENCL_TABLE). For each SubNet, `supernav eval --json` runs
#   cpu     the CPU platform (one thread), its SubGraph resident  (--near-kib 65536)
#   cpu0    the CPU platform with nothing resident: weights read cold, flushed before each inference (--near-kib 0)
#   ocl     the OpenCL platform, its SubGraph resident in device memory (--near-kib 65536)
#   ocl0    the OpenCL platform with nothing resident: weights packed and written per call (--near-kib 0)
# and the table gives p50 wall-clock latency (host, around each inference), the p50 of the
# OpenCL profiling-event latency (first QUEUED to last END of each platform call, summed),
# and the mean kernel / transfer split per inference from the events (activation transfers:
# every layer's input, per-channel vectors and output; weight transfers: the far weights).
# Writes results/opencl/<UTC>/ (evals.jsonl, results.csv, table.md), via a temporary
# directory renamed into place. Environment: SUPERNAV, OPENCL_LIMIT (canvases per eval,
# default 300), OPENCL_WARMUP (default 20), SUPERNAV_OPENCL_DEVICE (the device),
# OPENCL_MODEL and OPENCL_DATA (eval's --model and --data; defaults: eval's), OPENCL_TABLE
# (the accuracy table listing the SubNets), OPENCL_OUT.
set -eu
SUPERNAV=${SUPERNAV:-build/supernav}
LIMIT=${OPENCL_LIMIT:-300}
WARMUP=${OPENCL_WARMUP:-20}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OPENCL_OUT:-results/opencl/$STAMP}
TABLE=${OPENCL_TABLE:-workloads/supernet/accuracy.csv}
common=""
[ -z "${OPENCL_MODEL:-}" ] || common="$common --model $OPENCL_MODEL"
[ -z "${OPENCL_DATA:-}" ] || common="$common --data $OPENCL_DATA"
die() { echo "bench-opencl: error: $*" >&2; exit 1; }
[ -x "$SUPERNAV" ] || die "$SUPERNAV is not built"
[ ! -e "$OUT" ] || die "$OUT already exists"
"$SUPERNAV" eval --device list >/dev/null 2>&1 || die "no OpenCL device (install an ICD, e.g. pocl-opencl-icd)"
tmp="$OUT.tmp-$$"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

# a number field of a one-line JSON object
field() { echo "$1" | sed -n "s/.*\"$2\":\([-0-9.eE+]*\).*/\1/p"; }

# the canvases, named as the report names them
case $(basename "${OPENCL_DATA:-cf64-test}") in
    cf64-test) split="CF-64 test" ;;
    cf128s-test) split="CF-128S test" ;;
    *) split=$(basename "$OPENCL_DATA") ;;
esac
subnets=$(awk -F, '$1 == "subnet" { print $2 }' "$TABLE")
count=$(echo "$subnets" | wc -l)
echo "bench-opencl: $count Pareto SubNets x 4 runs (cpu, cpu0, ocl, ocl0), $LIMIT canvases each" >&2
start=$(date +%s)
i=0
echo "i,config,macs,cpu_p50_us,cpu0_p50_us,ocl_p50_us,ocl_event_p50_us,ocl_kernel_us,ocl_act_transfer_us,ocl_act_bytes,ocl_kernels,ocl0_p50_us,ocl0_event_p50_us,ocl0_kernel_us,ocl0_weight_transfer_us,ocl0_weight_bytes,ocl0_act_transfer_us" > "$tmp/results.csv"
for cfg in $subnets; do
    i=$((i + 1))
    echo "bench-opencl: [$i/$count] $cfg" >&2
    for run in cpu cpu0 ocl ocl0; do
        case $run in
            cpu) args="--platform cpu --near-kib 65536" ;;
            cpu0) args="--platform cpu --near-kib 0" ;;
            ocl) args="--platform opencl --near-kib 65536" ;;
            ocl0) args="--platform opencl --near-kib 0" ;;
        esac
        # shellcheck disable=SC2086
        j=$("$SUPERNAV" eval --subnet "$cfg" $args $common --limit "$LIMIT" --warmup "$WARMUP" --json) ||
            die "eval $run $cfg failed"
        echo "$j" | sed "s/^{/{\"run\":\"$run\",/" >> "$tmp/evals.jsonl"
        eval "j_$run=\$j"
    done
    # shellcheck disable=SC2154
    printf '%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$i" "$cfg" "$(field "$j_cpu" macs)" \
        "$(field "$j_cpu" p50_us)" "$(field "$j_cpu0" p50_us)" \
        "$(field "$j_ocl" p50_us)" "$(field "$j_ocl" event_p50_us)" "$(field "$j_ocl" kernel_us)" \
        "$(field "$j_ocl" act_transfer_us)" \
        "$(awk -v a="$(field "$j_ocl" act_write_bytes)" -v b="$(field "$j_ocl" act_read_bytes)" 'BEGIN { printf "%.0f", a + b }')" \
        "$(field "$j_ocl" kernels)" \
        "$(field "$j_ocl0" p50_us)" "$(field "$j_ocl0" event_p50_us)" "$(field "$j_ocl0" kernel_us)" \
        "$(field "$j_ocl0" weight_transfer_us)" "$(field "$j_ocl0" weight_transfer_bytes)" \
        "$(field "$j_ocl0" act_transfer_us)" >> "$tmp/results.csv"
done
device=$(grep '"run":"ocl"' "$tmp/evals.jsonl" | head -1 | sed -n 's/.*"device":"\([^"]*\)".*/\1/p')
isa=$(sed -n '1s/.*"isa":"\([^"]*\)".*/\1/p' "$tmp/evals.jsonl")
{
    echo "# make bench-opencl ($STAMP): OpenCL vs CPU platform, fp32, batch 1, $LIMIT $split canvases per run"
    [ -z "${OPENCL_MODEL:-}" ] || echo "# model $OPENCL_MODEL, table $TABLE, canvases ${OPENCL_DATA:-(the test split of its task)}"
    echo
    echo "OpenCL device: $device. CPU platform: $isa kernels, one thread. Host: $(uname -m), $(nproc) cores."
    echo "Resident: the SubNet's own SubGraph in near memory (no far weight byte); none: every weight moved per call."
    echo "p50 = wall clock around each inference (measured); events = OpenCL profiling events, per platform"
    echo "call first QUEUED to last END, summed (measured); kernel and transfer columns are means per inference"
    echo "of START..END of those commands (measured); act = inputs, per-channel vectors and outputs of every layer."
    echo
    echo "| # | SubNet | MACs | CPU p50 us | CPU p50 us, none | OpenCL p50 us | events p50 us | kernels us | act transfers us (KB) | OpenCL p50 us, none | weight transfers us (KB) | OpenCL / CPU |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F, 'NR > 1 {
        printf "| %d | %s | %.2f M | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f (%.0f) | %.0f | %.0f (%.0f) | %.1fx |\n",
            $1, $2, $3 / 1e6, $4, $5, $6, $7, $8, $9, $10 / 1024, $12, $15, $16 / 1024, $6 / $4
        lr += log($6 / $4); lr0 += log($12 / $5); n++
    } END {
        printf "\nGeometric mean OpenCL / CPU p50: %.2fx with the SubGraph resident, %.2fx with nothing resident (%d SubNets).\n",
            exp(lr / n), exp(lr0 / n), n
    }' "$tmp/results.csv"
} > "$tmp/table.md"
mkdir -p "$(dirname "$OUT")"
mv "$tmp" "$OUT"
trap - EXIT
cat "$OUT/table.md"
echo "bench-opencl: wrote $OUT ($(( $(date +%s) - start )) s)" >&2
