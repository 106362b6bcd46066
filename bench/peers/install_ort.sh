#!/bin/sh
# Installs ONNX Runtime for Node.js (onnxruntime-node, pinned with its dependencies' sha512 in
# bench/peers/package-lock.json) into DIR/node_modules (default build/peers), unless the same
# lock file is already installed there. Used by bench/peers/run.sh (make bench-peers) and
# make peers-ort (what tests/test_int8_ort.sh needs). Needs npm and the npm registry.
set -eu
dir=${1:-build/peers}
die() { echo "install_ort: error: $*" >&2; exit 1; }
command -v node >/dev/null 2>&1 || die "node is not on PATH (npm's dependency)"
command -v npm >/dev/null 2>&1 || die "npm is not on PATH (Debian: apt-get install npm)"
mkdir -p "$dir"
if cmp -s bench/peers/package-lock.json "$dir/package-lock.json" &&
    [ -f "$dir/node_modules/onnxruntime-node/package.json" ]; then
    exit 0
fi
echo "install_ort: installing onnxruntime-node (bench/peers/package-lock.json) into $dir/node_modules" >&2
cp bench/peers/package.json bench/peers/package-lock.json "$dir/"
# --ignore-scripts: the package's install script downloads GPU binaries; the CPU library is
# inside the package.
(cd "$dir" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2) ||
    die "npm ci failed in $dir"
