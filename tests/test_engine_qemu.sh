#!/bin/sh
# The freestanding engine on an emulated Cortex-M4F: builds supernav-mcu (make mcu-qemu:
# the engine as make engine-freestanding compiles it, linked with the mps2-an386 board
# code of platforms/mcu/qemu/), writes a job of golden canvases and expected logits on the
# host (sn-mcu-job: PyTorch's golden logits, the host engine's int8 logits), runs it under
# qemu-system-arm with -icount shift=0, and checks: the board's clock counts instructions;
# the board loads and validates the model image; fp32 logits within 1e-4 relative of the
# golden logits for the smallest SubNet and three ARAC configs (g6, g7 on 2x2 grids, g8 on a
# 4x4 grid); int8 logits bit for bit equal to the host engine's for the smallest SubNet and
# two ARAC configs (g7, g8); and the program's exit status. Instruction counts are QEMU's (-icount), not cycles. TAP output for prove.
# Env: BUILD (default build), SN_MODEL (default $BUILD/supernet.snm),
# SN_GOLDEN (default workloads/supernet/golden.safetensors).
set -u
BUILD=${BUILD:-build}
SN_MODEL=${SN_MODEL:-$BUILD/supernet.snm}
SN_GOLDEN=${SN_GOLDEN:-workloads/supernet/golden.safetensors}

case "$BUILD" in
*san*)
    echo "1..0 # SKIP a sanitizer build: the emulated firmware is not instrumented (run make test without SAN)"
    exit 0 ;;
esac
if ! command -v qemu-system-arm >/dev/null 2>&1; then
    echo "1..0 # SKIP qemu-system-arm is missing (make deps installs Debian's qemu-system-arm)"
    exit 0
fi

# The job: golden config ids (workloads/supernet/golden.safetensors) and canvases per run.
# g0 is the smallest SubNet of accuracy.csv; g6 and g7 are ARAC configs on 2x2 grids, g8 one
# on a 4x4 grid (the largest base; 16 micro-flows).
RUNS="fp32:0 fp32:6:4 fp32:7:4 fp32:8:2 int8:0 int8:7:2 int8:8:2"
CANVASES=8
LIMIT_S=60

set -- $RUNS
echo "1..$((5 + $#))"
dir=$BUILD/mcu
elf=$dir/supernav-mcu.elf
job=$dir/test-job.txt
out=$dir/test-run.txt

n=1
if ! command -v arm-none-eabi-gcc >/dev/null 2>&1; then
    echo "not ok $n - arm-none-eabi-gcc is missing (make deps installs gcc-arm-none-eabi)"
    exit 0
fi
if ! log=$(make --no-print-directory -s mcu-qemu 2>&1); then
    echo "not ok $n - make mcu-qemu failed"
    echo "$log" | sed 's/^/# /'
    exit 0
fi
echo "ok $n - make mcu-qemu builds $elf (Cortex-M4F, the freestanding engine, newlib semihosting)"
echo "$log" | grep '^mcu-qemu:' | sed 's/^/# /'

n=2
args=""
for r in $RUNS; do args="$args --run $r"; done
# shellcheck disable=SC2086
if ! log=$("$dir/sn-mcu-job" write "$SN_MODEL" "$SN_GOLDEN" -o "$job" --canvases "$CANVASES" $args 2>&1); then
    echo "not ok $n - sn-mcu-job could not write the job"
    echo "$log" | sed 's/^/# /'
    exit 0
fi
start=$(date +%s%N)
platforms/mcu/qemu/run.sh -t "$LIMIT_S" "$elf" "$SN_MODEL" "$job" >"$out" 2>&1
status=$?
wall_ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$status" -eq 124 ]; then
    echo "not ok $n - QEMU ran past ${LIMIT_S} s and was stopped"
elif ! grep -q '^end ' "$out"; then
    echo "not ok $n - the program stopped before the end of the job (exit status $status)"
else
    echo "ok $n - supernav-mcu ran the job on qemu-system-arm -M mps2-an386 in $wall_ms ms of wall time"
fi
if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
    grep -Ev '^(invoke|check) ' "$out" | tail -n 20 | sed 's/^/# /'
fi

n=3
# The counted loop of the board's clock check executes exactly loop_instructions
# instructions; under -icount shift=0 the clock must read that, to the 40 ns resolution
# of the 25 MHz timer plus the two clock reads.
awk -v n=$n '/^clock_check /{
        for (i = 2; i <= NF; ++i) { split($i, kv, "="); v[kv[1]] = kv[2] }
        d = v["clock"] - v["loop_instructions"]; found = 1
    }
    END {
        if (!found) { print "not ok " n " - the board printed no clock check"; exit }
        if (d >= 0 && d <= 200)
            print "ok " n " - the board clock counts instructions: a " v["loop_instructions"] "-instruction loop reads " v["clock"]
        else
            print "not ok " n " - a " v["loop_instructions"] "-instruction loop reads " v["clock"] " (is -icount shift=0 on?)"
    }' "$out"

n=4
awk -v n=$n '/^model /{
        for (i = 2; i <= NF; ++i) { split($i, kv, "="); v[kv[1]] = kv[2] }
        found = 1
    }
    END {
        if (found)
            printf "ok %d - the board read the %d-byte image through semihosting into PSRAM at %s and validated it (sn_model_load: every offset, shape and section CRC) in %d emulated instructions (QEMU icount), not cycles\n", n, v["bytes"], v["address"], v["validate_clock"]
        else
            print "not ok " n " - the board did not load the model image"
    }' "$out"

# One TAP line per run: every check of the run passed (fp32: relative error within 1e-4
# of PyTorch; int8: bit for bit equal to the host engine), with the worst error, the
# canvases, how many fp32 results equal the host engine's bit for bit, and the emulated
# instructions per invoke.
n=5
for r in $RUNS; do
    prec=${r%%:*}; rest=${r#*:}; id=${rest%%:*}
    awk -v n=$n -v name="g$id" -v prec="$prec" '
        function field(key,   i, kv) {
            for (i = 2; i <= NF; ++i) { split($i, kv, "="); if (kv[1] == key) return kv[2] }
            return ""
        }
        $1 == "run" && field("name") == name && field("precision") == prec { on = 1; cfg = field("config"); arena = field("arena_bytes"); next }
        $1 == "run" { on = 0 }
        !on { next }
        $1 == "invoke" { ++inv; clk += field("clock"); macs = field("macs") }
        $1 == "check" && field("verdict") != "info" {
            ++checks; if (field("verdict") != "ok") ++failed
            e = field("relative_error") + 0; if (e > worst) worst = e
        }
        $1 == "check" && field("against") == "host-fp32" { ++host; if (field("bit_exact") == "yes") ++same }
        END {
            if (!inv) { print "not ok " n " - " prec " " name ": no result"; exit }
            what = prec == "int8" ? "bit for bit equal to the host engine int8 logits" : \
                   sprintf("within 1e-4 relative of the golden logits (worst %.2g; bit-identical to the host engine on %d of %d)", worst, same, host)
            printf "%s %d - %s %s %s: %d canvases, %s\n", failed || checks != inv ? "not ok" : "ok", n, prec, name, cfg, inv, what
            printf "# %s %s: %.0f emulated instructions (QEMU icount), not cycles, per invoke; %s MACs on the last canvas; arena %s bytes\n", prec, name, clk / inv, macs, arena
        }' "$out"
    if grep -q "^check run=g$id .*verdict=FAIL" "$out"; then
        grep "^check run=g$id .*verdict=FAIL" "$out" | head -n 3 | sed 's/^/# /'
    fi
    n=$((n + 1))
done

# the exit status says pass or fail
awk -v n=$n -v status="$status" '/^end /{
        for (i = 2; i <= NF; ++i) { split($i, kv, "="); v[kv[1]] = kv[2] }
        found = 1
    }
    END {
        if (found && status == 0 && v["failed"] == 0)
            printf "ok %d - exit status 0: %d checks, none failed; %.0f emulated instructions (QEMU icount), not cycles, in total\n", n, v["checks"], v["clock"]
        else
            printf "not ok %d - exit status %d (%d checks, %d failed)\n", n, status, v["checks"], v["failed"]
    }' "$out"
