#!/bin/sh
# The MCU board profiles (platforms/mcu/README.md): the serving firmware supernav-mcu-BOARD.elf
# under qemu-system-arm (-icount shift=0), driven by the host over its UART with the
# EnergyRunner-style protocol (build/mcu/sn-mcu). Checks: the int8-only flash image loads on
# the host and fp32 refuses it; MCU int8 logits bit for bit equal to the host engine's
# reference int8 logits on 100 test canvases for 4 SubNets and 2 ARAC configs (board h743);
# the same with each SubGraph resident in the SRAM weight cache (near bytes, no far bytes);
# a SubNet too big for the f746's SRAM is refused at prepare time; an image too big for its
# flash is refused at boot; a bad board name, a missing qemu and a port that is no device are
# one line on stderr and a non-zero exit; the linker refuses a part too small; the harness
# replays a short trace on the f746 in virtual time (and refuses real time); and the check
# fails when the device runs an image packed with another calibration (a negative control); the
# m55 profile (mps3-an547, Cortex-M55): its clock reads 1,000,000 ns for a loop of 1,000,000
# instructions, and its int8 logits are bit for bit the host's for 2 SubNets and an ARAC
# config, with and without the weight cache (skipped only if qemu lacks mps3-an547); a
# CF-128S image (128x128 canvases: past the 64x64 canvas buffer the firmware had, which
# overflowed into its state) serves a SubNet and an ARAC config bit for bit on the h743.
# Instruction counts are QEMU's, not cycles.
# Env: BUILD (default build), SN_MODEL (default $BUILD/supernet.snm). About 1-2 minutes.
set -u
BUILD=${BUILD:-build}
SN_MODEL=${SN_MODEL:-$BUILD/supernet.snm}
SUPERNAV=${SUPERNAV:-$BUILD/supernav}
CANVASES=${SN_MCU_CANVASES:-100}

case "$BUILD" in
*san*)
    echo "1..0 # SKIP a sanitizer build: the emulated firmware is not instrumented (run make test without SAN)"
    exit 0 ;;
esac
if ! command -v qemu-system-arm >/dev/null 2>&1; then
    echo "1..0 # SKIP qemu-system-arm is missing (make deps installs Debian's qemu-system-arm)"
    exit 0
fi
if ! command -v arm-none-eabi-gcc >/dev/null 2>&1; then
    echo "1..0 # SKIP arm-none-eabi-gcc is missing (make deps installs gcc-arm-none-eabi)"
    exit 0
fi

# 4 SubNets of the Pareto table (the two smallest, the first at r48, the first at r64) and
# 2 ARAC configs on the smallest ARAC base (2x2 and 4x4 grids), read from the committed table
TABLE=${SN_TABLE:-workloads/supernet/accuracy.csv}
pick() { awk -F, -v re="$1" -v nth="${2:-1}" 'NR > 1 && $2 ~ re { if (++k == nth) { print $2; exit } }' "$TABLE"; }
S1=$(pick '^r[0-9]+-d')
S2=$(pick '^r[0-9]+-d' 2)
S3=$(pick '^r48-d')
S4=$(pick '^r64-d')
A1=$(pick '^arac-g2-t50-l100[.]25:')
A2=$(pick '^arac-g4-t50-l100[.]50:')
for v in "$S1" "$S2" "$S3" "$S4" "$A1" "$A2"; do
    [ -n "$v" ] || { echo "Bail out! $TABLE lacks a SubNet or ARAC row this test needs"; exit 1; }
done
BIG=r64-d2.3.3.3-e4.4.4.4.4.4.4.4.4.4.4-k5.5.5.5.5.5.5.5.5.5.5
tool=$BUILD/mcu/sn-mcu
dir=$BUILD/mcu
echo "1..15"

n=1
if ! log=$(make --no-print-directory -s mcu-boards 2>&1); then
    echo "not ok $n - make mcu-boards failed"
    echo "$log" | sed 's/^/# /'
    exit 0
fi
echo "ok $n - make mcu-boards builds the firmware for every board profile and sn-mcu"
echo "$log" | grep '^mcu-boards:' | sed 's/^/# /'

n=2
img=$dir/test-int8-only.snm
if "$tool" strip "$SN_MODEL" -o "$img" --config "$S1" 2>/dev/null &&
   "$SUPERNAV" info "$img" >/dev/null 2>&1 &&
   "$SUPERNAV" eval --platform reference --model "$img" --subnet "$S1" --int8 --limit 2 --warmup 0 >/dev/null 2>&1 &&
   ! "$SUPERNAV" eval --platform reference --model "$img" --subnet "$S1" --limit 2 --warmup 0 >/dev/null 2>&1; then
    echo "ok $n - the int8-only image ($(wc -c < "$img") bytes) loads, serves int8 on the host and refuses fp32"
else
    echo "not ok $n - the int8-only image: strip, load, int8 eval or the fp32 refusal failed"
fi
rm -f "$img"

n=3
start=$(date +%s)
out=$("$tool" check --board h743 --canvases "$CANVASES" "$SN_MODEL" "$S1" "$S2" "$S3" "$S4" "$A1" "$A2" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ "$(echo "$out" | grep -c '^ok ')" -eq 6 ]; then
    echo "ok $n - board h743: int8 logits bit for bit equal to the host's on $CANVASES canvases x 4 SubNets + 2 ARAC configs ($(( $(date +%s) - start )) s)"
else
    echo "not ok $n - board h743: int8 logits differ or the check failed (exit $rc)"
fi
echo "$out" | sed 's/^/# /'

n=4
out=$("$tool" check --board h743 --cache --canvases 10 "$SN_MODEL" "$S1" "$S4" "$A1" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ "$(echo "$out" | grep -c '^ok .*near [1-9][0-9]* far 0;')" -eq 3 ] &&
   [ "$(echo "$out" | grep -c '^ok ')" -eq 3 ]; then
    echo "ok $n - board h743 with each SubGraph resident in SRAM: bit for bit equal, the SubNets read no weight from flash"
else
    echo "not ok $n - board h743 with the weight cache: logits differ, or weights still read from flash (exit $rc)"
fi
echo "$out" | sed 's/^/# /'

n=5
out=$("$tool" check --board f746 --canvases 1 "$SN_MODEL" "$BIG" 2>&1)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q 'not ok 1 .*needs [0-9]* arena bytes; the board leaves'; then
    echo "ok $n - board f746: the largest SubNet is refused at prepare time (SRAM)"
else
    echo "not ok $n - board f746: the largest SubNet was not refused for its arena (exit $rc)"
fi
echo "$out" | grep 'ok 1' | sed 's/^/# /'

n=6
# shellcheck disable=SC2046
out=$("$tool" check --board f746 --canvases 1 "$SN_MODEL" $("$SUPERNAV" subnets "$SN_MODEL" | awk '$1 == "subnet" { print $NF }') 2>&1)
rc=$?
if [ $rc -eq 2 ] && echo "$out" | grep -q 'does not fit the flash'; then
    echo "ok $n - board f746: an image of every SubNet is refused at boot (flash)"
else
    echo "not ok $n - board f746: an image larger than the flash was not refused (exit $rc)"
fi
echo "$out" | tail -n 1 | sed 's/^/# /'

n=7
out=$("$tool" check --board f999 "$SN_MODEL" "$S1" 2>&1)
rc=$?
if [ $rc -eq 2 ] && [ "$(echo "$out" | grep -c .)" -eq 1 ] && echo "$out" | grep -q "unknown board 'f999'"; then
    echo "ok $n - a bad board name is one clear line and a non-zero exit"
else
    echo "not ok $n - a bad board name (exit $rc)"
fi

n=8
out=$(PATH=/nonexistent "$tool" check --board h743 --canvases 1 "$SN_MODEL" "$S1" 2>&1)
rc=$?
if [ $rc -eq 2 ] && [ "$(echo "$out" | grep -c .)" -eq 1 ] && echo "$out" | grep -q 'qemu-system-arm is not installed'; then
    echo "ok $n - a missing qemu-system-arm is one clear line and exit 2"
else
    echo "not ok $n - a missing qemu-system-arm (exit $rc): $out"
fi

n=9
out=$("$tool" check --board h743 --port /dev/null --canvases 1 "$SN_MODEL" "$S1" 2>&1)
rc=$?
if [ $rc -eq 2 ] && [ "$(echo "$out" | grep -c .)" -eq 1 ] && echo "$out" | grep -q 'not a serial port'; then
    echo "ok $n - a port that is no serial device is one clear line and exit 2"
else
    echo "not ok $n - a port that is no serial device (exit $rc): $out"
fi

n=10
# the linker enforces a part's sizes: the f746's objects with a 32 KB flash, then a 64 KB SRAM
objs="$dir/f746/obj/sn_mcu_serve.o $dir/f746/obj/sn_mcu_kernels.o $dir/f746/obj/sn_mcu_kernels_split.o $dir/f746/obj/qemu/startup.o $dir/f746/obj/qemu/sn_port_qemu.o"
lds=$dir/test-small.ld
link() {
    printf 'MEMORY\n{\n FLASH (rx) : ORIGIN = 0x00000000, LENGTH = %s\n SRAM (rwx) : ORIGIN = 0x20000000, LENGTH = %s\n}\nSTACK_BYTES = 16K;\nHEAP_BYTES = 4K;\nINCLUDE sn_board.ld\n' "$1" "$2" > "$lds"
    # shellcheck disable=SC2086
    arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 --specs=rdimon.specs \
        -nostartfiles -Lplatforms/mcu/qemu -T "$lds" -Wl,--gc-sections $objs \
        build/freestanding/libsupernav_engine.a -lm -o "$dir/test-small.elf" 2>&1
}
flash_log=$(link 32K 320K)
flash_rc=$?
sram_log=$(link 1024K 64K)
sram_rc=$?
ok_log=$(link 1024K 320K)
ok_rc=$?
rm -f "$lds" "$dir/test-small.elf"
if [ $flash_rc -ne 0 ] && echo "$flash_log" | grep -q "FLASH' overflowed" &&
   [ $sram_rc -ne 0 ] && echo "$sram_log" | grep -q "SRAM" && [ $ok_rc -eq 0 ]; then
    echo "ok $n - the linker refuses the firmware for a 32 KB flash and for a 64 KB SRAM, and links it for the f746's sizes"
else
    echo "not ok $n - the linker did not enforce the part's sizes (flash $flash_rc, SRAM $sram_rc, f746 $ok_rc)"
    printf '%s\n%s\n' "$flash_log" "$sram_log" | sed 's/^/# /'
fi

# The firmware holds one plan: every change of SubNet between consecutive queries (and
# perhaps the first query, after the profile) pays a re-plan, counted in policy.json.
replan_ok() {
    changes=$(tail -n +2 "$1/queries.csv" | cut -d, -f7 | uniq | wc -l)
    changes=$((changes - 1))
    replans=$(sed -n 's/.*"replans":[^0-9]*\([0-9]*\).*/\1/p' "$1/policy.json")
    rtime=$(sed -n 's/.*"replan_time_us":[^0-9]*\([0-9.]*\).*/\1/p' "$1/policy.json")
    replan_text="$replans re-plans for $changes SubNet changes, $rtime us modelled"
    [ -n "$replans" ] && [ "$replans" -ge "$changes" ] && [ "$replans" -le $((changes + 1)) ] &&
        if [ "$replans" -gt 0 ]; then awk -v t="$rtime" 'BEGIN { exit !(t > 0) }'; else [ "$rtime" = 0 ]; fi
}

n=11
runs=$dir/test-replay
rm -rf "$runs" && mkdir -p "$runs"
"$SUPERNAV" trace gen sushi --count 20 --seed 3 --rate 5 --ceiling-us 400000 -o "$runs/t.csv" >/dev/null 2>&1
rt=$("$SUPERNAV" replay --platform mcu --board f746 --near-kib 32 --trace "$runs/t.csv" --policy sushi \
      --out "$runs/rt" --quiet 2>&1)
rt_rc=$?
"$SUPERNAV" replay --platform mcu --board f746 --near-kib 32 --trace "$runs/t.csv" --policy sushi \
    --virtual --out "$runs/v" --quiet >/dev/null 2>"$runs/err"
v_rc=$?
if [ $rt_rc -ne 0 ] && echo "$rt" | grep -q 'virtual time' && [ $v_rc -eq 0 ] &&
   [ "$(tail -n +2 "$runs/v/queries.csv" | grep -c .)" -eq 20 ] &&
   grep -q 'virtual:mcu-cycle-model' "$runs/v/context.json" && grep -q '"precision":[^,]*"int8"' "$runs/v/context.json" &&
   replan_ok "$runs/v"; then
    echo "ok $n - supernav replay --platform mcu --board f746 --virtual serves 20 queries (int8, modelled service times from emulated instructions; $replan_text); real time is refused"
else
    echo "not ok $n - supernav replay on the MCU platform (real time exit $rt_rc, virtual exit $v_rc)"
    sed 's/^/# /' "$runs/err"
fi
rm -rf "$runs"

n=12
other=$dir/test-other-calib.snm
if "$SUPERNAV" pack workloads/supernet/supernet.safetensors --table workloads/supernet/accuracy.csv \
       --calib data/canvas/cf64-train --calib-count 8 -o "$other" >/dev/null 2>&1; then
    out=$("$tool" check --board h743 --canvases 3 --device-model "$other" "$SN_MODEL" "$S1" 2>&1)
    rc=$?
    if [ $rc -eq 1 ] && echo "$out" | grep -q '^not ok 1 .*int8 logits differ'; then
        echo "ok $n - negative control: the check fails when the device's image has another int8 calibration"
    else
        echo "not ok $n - negative control: the check did not notice another calibration (exit $rc)"
    fi
    echo "$out" | grep 'ok 1' | sed 's/^/# /'
else
    echo "not ok $n - negative control: cannot pack an image with another calibration"
fi
rm -f "$other"

# The m55 profile: QEMU's mps3-an547 (Cortex-M55), its own boot, clock and UART
if ! qemu-system-arm -M help 2>/dev/null | grep -q '^mps3-an547 '; then
    echo "ok 13 # SKIP qemu-system-arm has no mps3-an547 machine"
    echo "ok 14 # SKIP qemu-system-arm has no mps3-an547 machine"
    exit 0
fi

n=13
# the clock: the firmware's own startup and port objects, with a main that runs the counted loop
cdir=$dir/test-m55-clock
mkdir -p "$cdir"
printf '#include "sn_mcu_port.h"\nint main(void) { sn_port_describe(); return 0; }\n' > "$cdir/main.c"
clock_out=$(arm-none-eabi-gcc -mcpu=cortex-m55 -mthumb -mfloat-abi=hard -O2 -Iplatforms/mcu -c "$cdir/main.c" -o "$cdir/main.o" 2>&1 &&
    arm-none-eabi-gcc -mcpu=cortex-m55 -mthumb -mfloat-abi=hard --specs=rdimon.specs -nostartfiles \
        -Lplatforms/mcu/qemu -T platforms/mcu/qemu/board_m55.ld -Wl,--gc-sections "$cdir/main.o" \
        "$dir/m55/obj/qemu/startup.o" "$dir/m55/obj/qemu/sn_port_qemu.o" -lm -o "$cdir/clock.elf" 2>&1 &&
    timeout 60 qemu-system-arm -M mps3-an547 -cpu cortex-m55 -icount shift=0 -display none -serial none \
        -monitor none -nic user,model=lan9118,restrict=on -semihosting-config enable=on,target=native \
        -kernel "$cdir/clock.elf" 2>&1)
rc=$?
rm -rf "$cdir"
if [ $rc -eq 0 ] && echo "$clock_out" | grep -q '^clock_check loop_instructions=1000000 clock=1000000$'; then
    echo "ok $n - board m55: the firmware boots on mps3-an547 (Secure, VTOR moved to the MRAM table) and its clock reads 1000000 ns for 1000000 instructions"
else
    echo "not ok $n - board m55: the clock check failed (exit $rc)"
fi
echo "$clock_out" | sed 's/^/# /'

n=14
start=$(date +%s)
out=$("$tool" check --board m55 --canvases 20 "$SN_MODEL" "$S1" "$S4" "$A1" 2>&1)
rc=$?
cout=$("$tool" check --board m55 --cache --canvases 5 "$SN_MODEL" "$S1" "$A1" 2>&1)
crc=$?
if [ $rc -eq 0 ] && [ "$(echo "$out" | grep -c '^ok ')" -eq 3 ] && [ $crc -eq 0 ] &&
   [ "$(echo "$cout" | grep -c '^ok .*near [1-9][0-9]* far 0;')" -eq 2 ]; then
    echo "ok $n - board m55 (Cortex-M55 build): int8 logits bit for bit equal to the host's on 20 canvases x 2 SubNets + 1 ARAC config, and on 5 with each SubGraph resident in SRAM ($(( $(date +%s) - start )) s)"
else
    echo "not ok $n - board m55: int8 logits differ or the check failed (exit $rc, with the cache $crc)"
fi
printf '%s\n%s\n' "$out" "$cout" | sed 's/^/# /'

n=15
# CF-128S: an image of one SubNet and one ARAC config of its committed export, int8-calibrated
# on 32 canvases (the check compares the device with the host engine on the same image)
STAB=workloads/sparse/accuracy.csv
if [ ! -f workloads/sparse/supernet.safetensors ] || [ ! -f "$STAB" ] ||
   [ ! -f data/canvas/cf128s-calib-images-idx3-ubyte ] || [ ! -f data/canvas/cf128s-test-images-idx3-ubyte ]; then
    echo "ok $n - CF-128S on the h743 # SKIP no CF-128S export or canvases (make datasets)"
    exit 0
fi
sdir=$(mktemp -d) || exit 1
SS=$(awk -F, '$1 == "subnet" { print $2; exit }' "$STAB")
# the cheapest kind to emulate (split 3, tile-local) when the table has one, else its first
SA=$(awk -F, '$1 == "arac" && $2 ~ /^arac-p3-g4-z/ { print $2; exit }' "$STAB")
[ -n "$SA" ] || SA=$(awk -F, '$1 == "arac" { print $2; exit }' "$STAB")
{ head -n 1 "$STAB"; grep -F ",$SS," "$STAB" | head -n 1; grep -F ",$SA," "$STAB" | head -n 1; } > "$sdir/t.csv"
start=$(date +%s)
if "$SUPERNAV" pack workloads/sparse/supernet.safetensors --table "$sdir/t.csv" --calib data/canvas/cf128s-calib \
       --calib-count 32 -o "$sdir/s.snm" > "$sdir/pack.log" 2>&1; then
    out=$("$tool" check --board h743 --canvases 2 "$sdir/s.snm" "$SS" "$SA" 2>&1)
    rc=$?
else
    out="pack failed: $(tail -n 1 "$sdir/pack.log")"
    rc=2
fi
if [ $rc -eq 0 ] && [ "$(echo "$out" | grep -c '^ok ')" -eq 2 ]; then
    echo "ok $n - CF-128S (128x128 canvases) on the h743: a SubNet and an ARAC config bit for bit equal to the host's on 2 canvases ($(( $(date +%s) - start )) s)"
else
    echo "not ok $n - CF-128S on the h743: int8 logits differ or the check failed (exit $rc)"
fi
echo "$out" | sed 's/^/# /'
rm -rf "$sdir"
