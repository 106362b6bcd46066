#!/bin/sh
# The C engine against PyTorch on the CF-128S SuperNet (issue 20): the development exporter
# (workloads/sparse/export.py --dev) recalibrates batch norm for 3 SubNets and 7 ARAC configs
# of the split-point form (every split point, both region modes, grids 2/4/8, three to five
# levels with SKIP) on 64 train canvases and writes the interchange file and golden vectors
# from sparse.py (the single definition of the computation) on 6 CF-128S test canvases;
# supernav pack makes the version-2 image (int8 calibration on the same canvases); then
# - tests/test_engine_golden: fp32 logits and intermediate tensors within 1e-4 of PyTorch,
#   relative to the tensor's largest magnitude (the engine and PyTorch sum in other orders:
#   measured at most 7.5e-6 on the step-579 weights; a wrong statistic, channel, halo or SKIP
#   value is off by 1e-2 and more), the gate's tile levels equal, every config level forced
#   on every tile, on the reference kernels and the CPU platform (every ISA), and mode h's
#   stitched map equal to the untiled micro-flow bit for bit;
# - tests/test_engine_int8: int8 logits of every config bit for bit equal on the reference and
#   the CPU platform (every ISA), int8 and fp32 predictions agreeing on 90 % of the inputs.
# Weights: $SN_SPARSE_WEIGHTS (default the committed checkpoint workloads/sparse/resume/last.pt).
# Needs PyTorch (Debian python3-torch); without it, or without the CF-128S test split, a TAP
# skip. A sanitizer build skips too (a numerical check; tests/test_arac_sparse.c runs the same
# engine paths on a tiny image under the sanitizers). About a minute on one core.
set -u
SUPERNAV=${SUPERNAV:-build/supernav}
BUILD=${BUILD:-build}
PY=${PYTHON_TORCH:-/usr/bin/python3}
WEIGHTS=${SN_SPARSE_WEIGHTS:-workloads/sparse/resume/last.pt}
case "$BUILD" in
*san*) echo "1..0 # SKIP the PyTorch oracle is a numerical check, run by the plain build"; exit 0 ;;
esac
if ! "$PY" -c "import torch" 2>/dev/null; then
    echo "1..0 # SKIP PyTorch is not installed ($PY; Debian python3-torch, ci/packages-model.txt)"; exit 0
fi
if [ ! -f data/canvas/cf128s-test-images-idx3-ubyte ]; then
    echo "1..0 # SKIP no CF-128S test split (make datasets)"; exit 0
fi
if [ ! -f "$WEIGHTS" ]; then
    echo "1..0 # SKIP no CF-128S checkpoint at $WEIGHTS"; exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "1..4"

# comment lines of a log (a sub-test's TAP or an error), for prove's verbose output
show() { sed 's/^/# /' "$1"; }

if nice "$PY" workloads/sparse/export.py --dev --weights "$WEIGHTS" --work "$tmp" --out "$tmp" \
        --calib-count 64 --golden-inputs 6 --threads 1 --supernav "$SUPERNAV" > "$tmp/export.log" 2>&1; then
    echo "ok 1 - export.py --dev: $(grep -c 'calibrated on' "$tmp/export.log") configs from $WEIGHTS"
else
    echo "not ok 1 - export.py --dev failed"; tail -n 20 "$tmp/export.log" | sed 's/^/# /'
    exit 1
fi
if "$SUPERNAV" pack "$tmp/supernet.safetensors" --calib "$tmp/calib" --calib-count 64 \
        -o "$tmp/sparse.snm" > "$tmp/pack.log" 2>&1 && "$SUPERNAV" info "$tmp/sparse.snm" > "$tmp/info" 2>&1 &&
        grep -q "format version 2" "$tmp/info"; then
    echo "ok 2 - supernav pack: a version-2 image with int8 calibration"
else
    echo "not ok 2 - supernav pack"; show "$tmp/pack.log"; show "$tmp/info"
    exit 1
fi
if SN_MODEL="$tmp/sparse.snm" SN_GOLDEN="$tmp/golden.safetensors" "$BUILD/tests/test_engine_golden" \
        > "$tmp/golden.tap" 2>&1; then
    echo "ok 3 - fp32: the engine equals sparse.py within 1e-4 (reference and CPU platform)"
else
    echo "not ok 3 - fp32: the engine differs from sparse.py"
fi
show "$tmp/golden.tap"
if SN_MODEL="$tmp/sparse.snm" SN_GOLDEN="$tmp/golden.safetensors" "$BUILD/tests/test_engine_int8" \
        > "$tmp/int8.tap" 2>&1; then
    echo "ok 4 - int8: reference and CPU platform bit for bit on every config"
else
    echo "not ok 4 - int8"
fi
show "$tmp/int8.tap"
