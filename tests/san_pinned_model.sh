#!/bin/sh
# For a sanitizer build's test (BUILD names build/san-*) that replays on the CPU platform only to
# exercise the code: prints the plain build's image (build/supernet.snm) where the CI gate's
# pinned CPU profile (ci/baselines/cpu-profile.json, avx2 kernels) was measured on it and this
# CPU has AVX2, else nothing -- so that the test pins that profile instead of measuring one
# under the sanitizers (32-66 s each); the inferences stay the sanitized build's.
#   pmodel=$(sh tests/san_pinned_model.sh)
#   [ -n "$pmodel" ] && MODEL=$pmodel pin="--isa avx2 --near-kib 768 --profile ci/baselines/cpu-profile.json"
case "${BUILD:-build}" in *san*) ;; *) exit 0 ;; esac
grep -qw avx2 /proc/cpuinfo || exit 0
exec sh tests/pinned_model.sh build/supernet.snm
