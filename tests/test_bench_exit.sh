#!/bin/sh
# make bench's exit status when its last step, the report, fails (bench/serve/run.sh for
# PLATFORM=cpu, bench/fpga/run.sh for PLATFORM=fpga): the scripts are driven end to end by a
# stand-in for supernav (SUPERNAV names it, as make bench does) that answers every command
# they run at once -- a profile with two SubNets, empty traces, run directories with the
# fields the scripts read, a summary table -- and whose `report` fails with one planted line,
# so no benchmark runs. Each script must exit non-zero with exactly one "make bench: error:"
# line naming the report's error, and leave the run directory it wrote; with a report that
# succeeds, the same drive exits 0 (the stand-in carries the whole script: the failure above
# is the report's). gnuplot (the FPGA script's plots) is a stand-in too. Seconds. TAP.
set -u
BUILD=${BUILD:-build}
echo "1..8"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
# the stand-ins are executed by the scripts: under the build directory, not /tmp (which may
# be mounted noexec)
mkdir -p "$BUILD"
tmp=$(mktemp -d "$BUILD/test-bench-exit.XXXXXX") || exit 1
tmp=$(cd "$tmp" && pwd)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
cat > "$tmp/bin/supernav" <<'EOF'
#!/bin/sh
# test_bench_exit.sh's stand-in for supernav: every answer planted, nothing measured
out=""
prev=""
for a in "$@"; do
    case "$prev" in -o|--out) out=$a ;; esac
    prev=$a
done
json=0
for a in "$@"; do [ "$a" != --json ] || json=1; done
case "$1" in
profile)
    if [ $json = 1 ]; then
        echo '{"profile":"planted.json","median_nocache_us":1000,"largest_nocache_us":2000,"top1":[0.85,0.9],"subnets":2}'
    else
        printf 'subnet p50_us config\n0 1000 r40-small\n1 2000 r64-large\n'
    fi ;;
trace)
    printf '# supernav-trace 1\n# mode: open\narrival_us,sample,acc_floor,lat_ceiling_us\n' > "$out" ;;
replay)
    mkdir -p "$out" || exit 1
    echo '{"queries":10,"mean":1000,"p99":2000,"slo_attainment":0.5,"served_accuracy":0.9}' > "$out/summary.json"
    echo '{"energy_offchip_uj":1,"ddr_weight_bytes":1,"ddr_act_bytes":1,"subgraph_switches":0,"harness_overhead_mean_us":0.3,"harness_overhead_p99_us":1}' > "$out/policy.json" ;;
summary)
    echo "trace policy runs queries SLO-att" ;;
eval) ;;
report)
    if [ -n "${PLANT_REPORT_OK:-}" ]; then mkdir -p "$out" && exit 0; fi
    echo "supernav report: error: planted failure of the report" >&2
    exit 1 ;;
*)
    echo "supernav (test_bench_exit stand-in): unexpected command: $*" >&2
    exit 2 ;;
esac
EOF
printf '#!/bin/sh\nexit 0\n' > "$tmp/bin/gnuplot"
chmod +x "$tmp/bin/supernav" "$tmp/bin/gnuplot"

# drive PLATFORM NAME [PLANT_REPORT_OK]: make bench's command line (bench/serve/run.sh) with
# the stand-ins; exit status, stderr in $tmp/NAME.err, run directory $tmp/NAME
drive() {
    PATH="$tmp/bin:$PATH" PLATFORM=$1 SUPERNAV="$tmp/bin/supernav" BENCH_OUT="$tmp/$2" BENCH_REPS=1 \
        BENCH_QUERIES=10 FPGA_QUERIES=10 FPGA_SWEEP_QUERIES=10 FPGA_SWEEP_PE=8x8 FPGA_SWEEP_KIB=0 \
        PLANT_REPORT_OK=${3:-} \
        sh bench/serve/run.sh > "$tmp/$2.out" 2> "$tmp/$2.err"
    echo $?
}
want="make bench: error: the report failed: supernav report: error: planted failure of the report"
for p in cpu fpga; do
    rc=$(drive $p $p-fail)
    errs=$(grep -c '^make bench: error:' "$tmp/$p-fail.err")
    ok $(( rc == 0 )) "PLATFORM=$p: a failed report makes make bench fail (exit $rc)"
    ok "$([ "$errs" = 1 ] && grep -qxF "$want" "$tmp/$p-fail.err"; echo $?)" \
        "... with one error line naming the report's error ($errs: $(grep '^make bench: error:' "$tmp/$p-fail.err" | head -n 2 | tr '\n' ' '))"
    ok "$([ -s "$tmp/$p-fail/table.txt" ] && [ -s "$tmp/$p-fail/report.err" ] && [ ! -e "$tmp/$p-fail/report" ]; echo $?)" \
        "... and leaves its run directory, without a report, with the report's error in report.err"
    rc=$(drive $p $p-ok 1)
    ok "$([ "$rc" = 0 ] && [ ! -s "$tmp/$p-ok/report.err" ] && ! grep -q "error\\|unexpected" "$tmp/$p-ok.err"; echo $?)" \
        "PLATFORM=$p with a report that succeeds: exit $rc, no error (the stand-in carries the whole script)$(grep "error\\|unexpected" "$tmp/$p-ok.err" | head -n 2 | tr "\\n" " ")"
done
