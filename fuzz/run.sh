#!/bin/sh
# make fuzz: runs each named target (fuzz/README.md) for FUZZ_SECONDS seconds (and at most
# FUZZ_RUNS executions when set), one after another, and prints per target its executions,
# seconds and result. Seeds: fuzz/corpus/<target>/ and fuzz/regressions/<target>/ (read
# only); new corpus entries go to $FUZZ_DIR/corpus/<target>/, crash inputs to
# $FUZZ_DIR/crashes/<target>/, the log to $FUZZ_DIR/logs/<target>.log (FUZZ_TIMEOUT: seconds
# an input may take, default 10; a campaign on a loaded machine needs more, as a starved
# process is timed by the wall clock). Exit 1 when a target
# found something.
set -u
FUZZ_DIR=${FUZZ_DIR:-build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
FUZZ_RUNS=${FUZZ_RUNS:-}
here=$(dirname "$0")
status=0
for t in "$@"; do
    bin=$FUZZ_DIR/fuzz_$t
    [ -x "$bin" ] || { echo "fuzz: $t: no binary $bin (make fuzz-build)"; status=1; continue; }
    mkdir -p "$FUZZ_DIR/corpus/$t" "$FUZZ_DIR/crashes/$t" "$FUZZ_DIR/logs"
    seeds=""
    for d in "$here/corpus/$t" "$here/regressions/$t"; do
        [ -d "$d" ] && seeds="$seeds $d"
    done
    # per-target limits: the largest input worth mutating, and a timeout per input
    max_len=4096 timeout=10
    case $t in
        model) max_len=65536 ;;
        safetensors) max_len=40000 ;;
        rundir|gate) max_len=16384 ;;
        sweep_manifest) max_len=24576 ;;
        trace*) max_len=8192 ;;
        mcu_host|mcu_serve|fpga_board) max_len=8192 ;;
    esac
    dict=""
    [ -f "$here/dict/$t.dict" ] && dict="-dict=$here/dict/$t.dict"
    runs=""
    [ -n "$FUZZ_RUNS" ] && runs="-runs=$FUZZ_RUNS"
    log=$FUZZ_DIR/logs/$t.log
    start=$(date +%s)
    # shellcheck disable=SC2086
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
        "$bin" -max_total_time="$FUZZ_SECONDS" $runs -max_len=$max_len -timeout=${FUZZ_TIMEOUT:-$timeout} \
        -rss_limit_mb=2048 -print_final_stats=1 $dict \
        -artifact_prefix="$FUZZ_DIR/crashes/$t/" "$FUZZ_DIR/corpus/$t" $seeds > "$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ $rc = 0 ]; then
        result="ok, nothing found"
    else
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        result="FOUND SOMETHING (exit $rc): ${artifact:-see $log}"
        status=1
    fi
    echo "fuzz: $t: ${execs:-?} executions in $secs s: $result"
done
exit $status
