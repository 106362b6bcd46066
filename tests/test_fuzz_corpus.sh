#!/bin/sh
# The fuzz targets' committed inputs replayed: every seed (fuzz/corpus/<target>/) and every
# past crash input (fuzz/regressions/<target>/) runs once through its libFuzzer target
# (clang, ASan + UBSan: an out-of-bounds access, a leak or undefined behaviour fails the
# target), so a fixed parser bug stays fixed. Builds the targets (make -f fuzz/fuzz.mk
# fuzz-build, build/fuzz/, on every core) when they are missing or
# older than the sources; skipped, saying why, without clang and its libFuzzer runtime
# (ci/packages-fuzz.txt). One test per target. TAP.
set -u
FUZZ_DIR=build/fuzz
targets=$(ls fuzz/fuzz_*.c 2>/dev/null | sed 's#fuzz/fuzz_\(.*\)\.c#\1#')
count=$(echo "$targets" | wc -w)
case "${BUILD:-build}" in *san*)
    # the targets are clang's own ASan + UBSan builds in build/fuzz, the same in both passes
    echo "1..0 # SKIP the fuzz targets are sanitized builds of their own, replayed by the plain pass"; exit 0 ;;
esac
if ! command -v clang >/dev/null 2>&1; then
    echo "1..0 # SKIP no clang (apt-get install clang libclang-rt-14-dev: ci/packages-fuzz.txt)"; exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > "$tmp/t.c"
if ! clang -fsanitize=fuzzer,address,undefined "$tmp/t.c" -o "$tmp/t" > "$tmp/cc.err" 2>&1; then
    echo "1..0 # SKIP clang cannot link libFuzzer ($(head -n 1 "$tmp/cc.err"); apt-get install libclang-rt-14-dev)"; exit 0
fi
echo "1..$count"
# on every core: under make test, the MAKEFLAGS handed down name a jobserver this script's
# make cannot reach, so it would build one file at a time (about 10 min on 2 loaded cores)
if ! env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -j"$(nproc)" --no-print-directory -s -f fuzz/fuzz.mk fuzz-build \
    FUZZ_TARGETS="$(echo $targets)" > "$tmp/build.log" 2>&1; then
    sed 's/^/# /' "$tmp/build.log" | tail -n 20
fi
n=0
for t in $targets; do
    n=$((n + 1))
    bin=$FUZZ_DIR/fuzz_$t
    files=$(find "fuzz/corpus/$t" "fuzz/regressions/$t" -type f 2>/dev/null | sort)
    if [ ! -x "$bin" ]; then
        echo "not ok $n - $t: no binary $bin (the build failed; see above)"
        continue
    fi
    if [ -z "$files" ]; then
        echo "not ok $n - $t: no seed in fuzz/corpus/$t"
        continue
    fi
    nseeds=$(find "fuzz/corpus/$t" -type f 2>/dev/null | wc -l)
    nregr=$(find "fuzz/regressions/$t" -type f 2>/dev/null | wc -l)
    # shellcheck disable=SC2086
    if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$bin" -timeout=60 -rss_limit_mb=2048 \
        $files > "$tmp/$t.log" 2>&1; then
        echo "ok $n - $t: $nseeds seeds and $nregr past crash inputs replayed clean"
    else
        echo "not ok $n - $t: an input fails ($(grep -m 1 -E 'ERROR|runtime error|Running:' "$tmp/$t.log" | tail -n 1))"
        grep -E 'Running:|ERROR|runtime error|SUMMARY' "$tmp/$t.log" | tail -n 6 | sed 's/^/# /'
    fi
done
