#!/bin/sh
# supernav compare on two hand-made run directories whose per-query latencies are known:
# the p-value printed is scipy's (scipy.stats.mannwhitneyu, two-sided, asymptotic; 1.10.1);
# identical runs are "same" / "no significant change"; bad input is one error line. TAP.
set -u
SUPERNAV=${SUPERNAV:-build/supernav}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "1..6"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

# make_run DIR "LATENCIES_US" ACCURACY: start = arrival = 0, end = latency
make_run() {
    mkdir -p "$1"
    printf '{"schema_version":1,"clock":"wall:CLOCK_MONOTONIC","platform":{"name":"cpu"},"run":{"policy":"p","trace":"none.csv"}}\n' > "$1/context.json"
    printf '{"schema_version":1,"queries":%d,"served_accuracy":%s,"far_bytes":100}\n' "$(echo $2 | wc -w)" "$3" > "$1/summary.json"
    echo "query,sample,arrival_ns,start_ns,end_ns,latency_ns,subnet,subgraph,near_bytes,far_bytes,prediction,correct,slo_met,table_accuracy" > "$1/queries.csv"
    i=0
    for l in $2; do
        printf '%d,%d,0,0,%d,%d,"r40-d1,quoted",,0,10,1,1,1,%s\n' $i $i $((l * 1000)) $((l * 1000)) "$3" >> "$1/queries.csv"
        i=$((i + 1))
    done
}
make_run "$tmp/a" "1 2 3 4 5 6 7 8 9 10" 0.88
make_run "$tmp/b" "11 12 13 14 15 16 17 18 19 20" 0.88

"$SUPERNAV" compare "$tmp/a" "$tmp/b" > "$tmp/out" 2>&1
rc=$?
ok $rc "compare exits 0 on two runs"
line=$(grep '^latency_us ' "$tmp/out")
echo "# $line"
p=$(echo "$line" | awk '{ print $(NF - 1) }')
ok "$(awk -v p="$p" 'BEGIN { print (p >= 0.0001826 && p <= 0.0001827) ? 0 : 1 }')" \
    "latency p-value is scipy's 0.00018267 (printed $p)"
ok "$(echo "$line" | grep -q 'worse$'; echo $?)" "B's latencies are worse"
line=$(grep '^served_accuracy ' "$tmp/out")
ok "$(echo "$line" | grep -q ' same$'; echo $?)" "equal served accuracy: same ($line)"

"$SUPERNAV" compare "$tmp/a" "$tmp/a" > "$tmp/out2" 2>&1
ok "$(grep '^latency_us ' "$tmp/out2" | grep -q ' same$'; echo $?)" \
    "a run against itself: same"

"$SUPERNAV" compare "$tmp/a" "$tmp/missing" > /dev/null 2> "$tmp/err"
rc=$?
ok $(( rc == 0 || $(wc -l < "$tmp/err") != 1 )) "a missing run: one error line, exit $rc: $(cat "$tmp/err")"
