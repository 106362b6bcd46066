#!/bin/sh
# Starts (or resumes) the CF-128S SuperNet training in the background, detached from the
# shell, at nice 19, with everything it needs outside the work tree (which may be recreated
# while it runs): the supernav binary and the Fashion-MNIST IDX items are copied to
# CKPT, canvases and checkpoints go there, stdout to CKPT/train.out, the PID to
# /work/ckpt/train.pid. Rerun after an interruption: it continues from CKPT/last.pt.
#
#   sh workloads/sparse/train-bg.sh [extra train.py flags]
# Environment: CKPT (default /work/ckpt/sparse), PIDFILE (default /work/ckpt/train.pid),
# SUPERNAV (default build/supernav), DATA (default data/idx).
set -eu
cd "$(dirname "$0")/../.."
root=$PWD
CKPT=${CKPT:-/work/ckpt/sparse}
PIDFILE=${PIDFILE:-/work/ckpt/train.pid}
SUPERNAV=${SUPERNAV:-build/supernav}
DATA=${DATA:-data/idx}
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null &&
    grep -q "workloads/sparse/train.py" "/proc/$(cat "$PIDFILE")/cmdline" 2>/dev/null; then
    echo "train-bg: training already running as PID $(cat "$PIDFILE")" >&2
    exit 1
fi
[ -x "$SUPERNAV" ] || { echo "train-bg: $SUPERNAV not built (make build/supernav)" >&2; exit 1; }
[ -f "$DATA/fashion-mnist/train-images-idx3-ubyte" ] || { echo "train-bg: no $DATA/fashion-mnist (make datasets)" >&2; exit 1; }
mkdir -p "$CKPT/idx/fashion-mnist" "$(dirname "$PIDFILE")"
cp "$SUPERNAV" "$CKPT/supernav.tmp" && mv "$CKPT/supernav.tmp" "$CKPT/supernav"
cp "$DATA"/fashion-mnist/train-*-ubyte "$CKPT/idx/fashion-mnist/"
resume=""
[ -f "$CKPT/last.pt" ] && resume=--resume
cd "$CKPT"
setsid nohup nice -n 19 /usr/bin/python3 "$root/workloads/sparse/train.py" \
    --supernav "$CKPT/supernav" --data "$CKPT/idx" --work "$CKPT" \
    --log "$root/workloads/sparse/train.log" --pid-file "$PIDFILE" $resume "$@" \
    >>"$CKPT/train.out" 2>&1 </dev/null &
echo $! >"$PIDFILE"
echo "train-bg: started PID $! ($([ -n "$resume" ] && echo "resuming $CKPT/last.pt" || echo "fresh")); log $CKPT/train.out"
