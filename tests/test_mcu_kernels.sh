#!/bin/sh
# The MCU platform's own int8 kernels (platforms/mcu/sn_mcu_kernels.c) on the cores they are
# built for, bit for bit against the engine's reference kernels: the serving firmware's
# `kernel` command (sn-mcu kernels --shape) runs each shape through both under
# qemu-system-arm and compares the outputs byte for byte, on the l4r5 profile (Cortex-M4F,
# mps2-an386), h743 (Cortex-M7, mps2-an500) and m55 (Cortex-M55, mps3-an547). Shapes: channel
# counts that are not multiples of 2 or 4, stride 2, pointwise blocks of 1-3 pixels, a
# SubNet's views (centred 3x3 crops of 5x5 tensors, channel prefixes), the stem with 1 and 2
# input channels and fewer than 4 outputs, depthwise maps smaller than the kernel; half of them
# with quantization at its edges (`hard`: offsets 128 and 127, a clamp of [-100, 110], shifts 1,
# 0, -1, -9, -23, -31, negative multipliers). A negative control: a pointwise shape too wide
# for the platform's path runs the reference and says so. Split views (SUSHI's SubGraph as weight
# slices: a view's leading output channels from a packed copy, the rest in place; `kernel ...
# splitN`) bit for bit on 12 shapes on the three builds, and bad `slices` commands refused with
# one e-error line each. Whole SubNets run through the same
# kernels in tests/test_mcu_boards.sh; the C build of the same loops is in
# tests/test_kernel_parity.c.
# Env: BUILD (default build), SN_MODEL (default $BUILD/supernet.snm). About 30-40 s.
set -u
BUILD=${BUILD:-build}
SN_MODEL=${SN_MODEL:-$BUILD/supernet.snm}

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

tool=$BUILD/mcu/sn-mcu
dir=$BUILD/mcu
echo "1..6"

n=1
if ! log=$(make --no-print-directory -s mcu-boards 2>&1); then
    echo "not ok $n - make mcu-boards failed"
    echo "$log" | sed 's/^/# /'
    exit 0
fi
echo "ok $n - make mcu-boards builds the firmware with the platform's kernels"

# dense|dw H W C OC K S [KF CF OCF] [hard]
set -- \
    "dense 7 6 13 5 1 1 hard" "dense 6 7 20 12 1 2 3 24 16" "dense 3 1 13 5 1 1" \
    "dense 2 2 7 9 1 1 hard" "dense 1 5 6 40 1 1" "dense 5 5 16 40 1 1 hard" "dense 9 7 33 3 1 2" \
    "dense 12 12 1 16 3 2 5 1 16 hard" "dense 13 10 1 12 5 1" "dense 9 9 1 7 3 1 hard" \
    "dense 6 6 2 8 3 2" "dense 2 2 1 5 5 1 hard" "dense 11 13 1 3 3 2" "dense 9 7 5 13 3 2 hard" \
    "dw 10 9 37 1 3 1 5 40 1 hard" "dw 9 12 45 1 3 2" "dw 3 3 128 1 5 1 hard" \
    "dw 5 5 80 1 3 2 5 96 1" "dw 2 5 33 1 3 1 hard" "dw 4 4 6 1 5 1" "dw 7 3 130 1 3 2 hard" \
    "dw 1 1 8 1 3 1"
shapes=$#

board_check() { # N BOARD WHAT
    out=$dir/test-kernels-$2.md
    # shellcheck disable=SC2086
    if log=$(eval "\"$tool\" kernels --board $2 $shape_args -o \"$out\" \"$SN_MODEL\"" 2>&1); then
        rows=$(grep -c '^| \(dense\|pointwise\|depthwise\) .* | yes |$' "$out")
        paths=$(awk -F'|' '/^\| (dense|pointwise|depthwise) / { gsub(/ /, "", $3); print $3 }' "$out" | sort | uniq -c | awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }')
        if [ "$rows" -eq "$shapes" ]; then
            echo "ok $1 - board $2 ($3): the platform's kernels equal the reference's bit for bit on $shapes odd shapes (paths: $paths)"
        else
            echo "not ok $1 - board $2 ($3): $rows of $shapes shapes bit-exact"
            grep '^| ' "$out" | sed 's/^/# /'
        fi
    else
        echo "not ok $1 - board $2 ($3): sn-mcu kernels failed"
        echo "$log" | sed 's/^/# /'
        [ -f "$out" ] && grep '| no |' "$out" | sed 's/^/# /'
    fi
    rm -f "$out"
}

shape_args=""
for s in "$@"; do shape_args="$shape_args --shape '$s'"; done
board_check 2 l4r5 "Cortex-M4F"
board_check 3 h743 "Cortex-M7"
if qemu-system-arm -M help 2>/dev/null | grep -q '^mps3-an547 '; then
    board_check 4 m55 "Cortex-M55"
else
    echo "ok 4 # SKIP qemu-system-arm has no mps3-an547 machine"
fi

n=5
out=$dir/test-kernels-wide.md
if "$tool" kernels --board h743 --shape "dense 2 2 400 8 1 1" -o "$out" "$SN_MODEL" >/dev/null 2>&1 &&
   grep -q '^| pointwise | reference | 2x2x400 .* | yes |$' "$out"; then
    echo "ok $n - a pointwise layer wider than the platform's path (400 input channels) runs the reference kernel, and the table says so"
else
    echo "not ok $n - a pointwise layer of 400 input channels: not the reference path, or not bit-exact"
    [ -f "$out" ] && sed 's/^/# /' "$out"
fi
rm -f "$out"

n=6
# A view split between the SRAM weight cache and flash (SUSHI's SubGraph as weight slices:
# sn_mcu_conv2d_s8_split): the firmware's `kernel ... splitN` runs the shape whole and then
# with its leading N output channels read from a packed copy, both against the reference; at
# the slice quantum's multiples and elsewhere, on every path, on the M4, M7 and M55 builds. And
# bad `slices` commands get one e-error line each.
img=$dir/test-kernels-split.snm
S1=$(awk -F, 'NR > 1 && $2 ~ /^r[0-9]+-d/ { print $2; exit }' workloads/supernet/accuracy.csv)
split_shapes="dense 8 8 48 96 1 1 split48|dense 7 6 13 5 1 1 hard split3|dense 6 7 20 12 1 2 3 24 16 split4|dense 5 5 16 40 1 1 hard split36|dense 12 12 1 16 3 2 5 1 16 hard split4|dense 9 9 1 7 3 1 split1|dense 9 7 5 13 3 2 hard split8|dw 10 9 37 1 3 1 5 40 1 hard split8|dw 8 8 96 1 5 1 split48|dw 7 3 130 1 3 2 hard split64|dw 5 5 80 1 3 2 5 96 1 split3|dw 4 4 6 1 5 1 split4"
bad="slices 1:2:3|slices 0:1:1:1|slices 4000000000:1:1:1|slices x"
split_failed=""
split_note=""
if "$tool" strip "$SN_MODEL" -o "$img" --config "$S1" >/dev/null 2>&1; then
    for b in l4r5 h743 m55; do
        case $b in
        l4r5) m="mps2-an386 -cpu cortex-m4" ;;
        h743) m="mps2-an500 -cpu cortex-m7" ;;
        m55) qemu-system-arm -M help 2>/dev/null | grep -q '^mps3-an547 ' || continue
             m="mps3-an547 -cpu cortex-m55" ;;
        esac
        # shellcheck disable=SC2086
        out=$( { echo "cache 4096"; echo "$bad" | tr '|' '\n'; echo "$split_shapes" | tr '|' '\n' | sed 's/^/kernel /'; echo quit; } |
            timeout 120 qemu-system-arm -M $m -icount shift=0 -display none -monitor none -serial stdio \
                -nic user,model=lan9118,restrict=on \
                -semihosting-config "enable=on,target=native,arg=supernav-mcu,arg=$img" \
                -kernel "$dir/supernav-mcu-$b.elf" 2>&1)
        shapes_n=$(echo "$split_shapes" | tr '|' '\n' | grep -c .)
        whole=$(echo "$out" | grep -c '^m-kernel kind=.* equal=yes$')
        split=$(echo "$out" | grep -c '^m-kernel split=[0-9]* split_clock=[0-9]* split_equal=yes$')
        errors=$(echo "$out" | grep -c '^e-error slices: ')
        if [ "$whole" -ne "$shapes_n" ] || [ "$split" -ne "$shapes_n" ] || [ "$errors" -ne 4 ]; then
            split_failed="$split_failed $b"
            echo "$out" | grep -v '^m-ready' | sed "s/^/# $b: /"
        else
            split_note="$split_note $b"
        fi
    done
else
    split_failed=" (cannot strip an image)"
fi
rm -f "$img"
if [ -z "$split_failed" ]; then
    echo "ok $n - split views (the leading output channels from a packed copy, the rest in place) equal the reference bit for bit on $(echo "$split_shapes" | tr '|' '\n' | grep -c .) shapes on boards$split_note; bad slices commands get one e-error line each"
else
    echo "not ok $n - split views or the slices command's errors on$split_failed"
fi
