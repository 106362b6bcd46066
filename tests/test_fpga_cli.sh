#!/bin/sh
# supernav eval / replay --platform fpga: modelled figures labelled as modelled; a bad board
# file, a bad --pe and a PE array the board cannot hold each get one error line and a
# non-zero exit; a virtual-time replay records its flags (--board, --pe, --near-kib) and the
# board's constants in context.json and the model's account in policy.json; the same replay
# twice gives the same figures (deterministic); sushi moves fewer off-chip bytes than nocache. TAP.
set -u
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${SN_MODEL:-build/supernet.snm}
if [ ! -f data/canvas/cf64-test-images-idx3-ubyte ]; then
    echo "1..0 # SKIP no CF-64 test split (make datasets)"; exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "1..11"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
field() { sed -n "s/.*\"$2\":[^0-9-]*\([0-9.e+-]*\).*/\1/p" "$1" | head -n 1; }
small=$(awk -F, '$1 == "subnet" { print $2; exit }' workloads/supernet/accuracy.csv)

"$SUPERNAV" eval --platform fpga --model "$MODEL" --subnet "$small" --limit 4 --json > "$tmp/e.json" 2> "$tmp/err"
rc=$?
us=$(field "$tmp/e.json" modelled_us)
grep -q '"model_source":"model:fpga-cycle-model' "$tmp/e.json"
ok $(( rc != 0 || $? != 0 )) "eval --platform fpga: modelled latency ${us} us, labelled model:"

"$SUPERNAV" eval --platform fpga --model "$MODEL" --subnet "$small" --limit 4 --pe 8x8 --near-kib 0 --json > "$tmp/e8.json" 2>&1
us8=$(field "$tmp/e8.json" modelled_us)
ok $(awk -v a="$us8" -v b="$us" 'BEGIN { print !(a > b) }') "a smaller PE array and no persistent buffer are slower (${us8} > ${us} us)"

printf 'name = x ; source: a board\nclock_mhz = 200\n' > "$tmp/bad.board"
"$SUPERNAV" eval --platform fpga --model "$MODEL" --subnet "$small" --board "$tmp/bad.board" --limit 1 > /dev/null 2> "$tmp/err"
rc=$?
ok $(( rc == 0 || $(wc -l < "$tmp/err") != 1 )) "a bad board file: one line, exit $rc: $(cat "$tmp/err")"
grep -q "bad.board:2: 'clock_mhz' has no source" "$tmp/err"
ok $? "the error names the file, the line and the key"

"$SUPERNAV" eval --platform fpga --model "$MODEL" --subnet "$small" --pe 12 --limit 1 > /dev/null 2> "$tmp/err"
rc=$?
ok $(( rc == 0 || $(wc -l < "$tmp/err") != 1 )) "a bad --pe: one line, exit $rc: $(cat "$tmp/err")"

"$SUPERNAV" eval --platform fpga --model "$MODEL" --subnet "$small" --pe 64x64 --limit 1 > /dev/null 2> "$tmp/err"
rc=$?
ok $(( rc == 0 || $(wc -l < "$tmp/err") != 1 )) "a PE array the ZCU104's DSPs cannot hold: one line, exit $rc: $(cat "$tmp/err")"

"$SUPERNAV" trace gen sushi --count 300 --seed 5 --rate 8000 --ceiling-us 300 -o "$tmp/t.csv" >/dev/null 2>&1
for p in sushi nocache; do
    "$SUPERNAV" replay --platform fpga --model "$MODEL" --trace "$tmp/t.csv" --policy $p --pe 16x32 --near-kib 128 \
        --out "$tmp/$p" --quiet > /dev/null 2> "$tmp/err" || echo "# $p: $(cat "$tmp/err")"
done
ctx="$tmp/sushi/context.json"
grep -q '"pe":[[:space:]]*"16x32"' "$ctx" && grep -q '"near_budget_bytes":[[:space:]]*131072' "$ctx" &&
    grep -q '"board":[[:space:]]*"platforms/fpga/boards/zcu104.board"' "$ctx" && grep -q '"clock":[[:space:]]*"virtual:fpga-cycle-model' "$ctx" &&
    grep -q '"precision":[[:space:]]*"int8"' "$ctx"
ok $? "context.json records --pe, --near-kib, the board, the modelled clock and int8"
grep -q '"energy_offchip_uj"' "$tmp/sushi/policy.json" && grep -q '"source":[[:space:]]*"model:fpga' "$tmp/sushi/policy.json"
ok $? "policy.json holds the model's account, labelled model"
fs=$(field "$tmp/sushi/policy.json" ddr_weight_bytes)
fn=$(field "$tmp/nocache/policy.json" ddr_weight_bytes)
ok $(awk -v a="$fs" -v b="$fn" 'BEGIN { print !(a < b) }') "sushi moves fewer off-chip weight bytes than nocache ($fs < $fn)"

case "${BUILD:-build}" in
*san*) n=$((n + 1)); echo "ok $n # SKIP a sanitizer build: determinism is the plain build's check (the replays above ran sanitized)" ;;
*)
"$SUPERNAV" replay --platform fpga --model "$MODEL" --trace "$tmp/t.csv" --policy sushi --pe 16x32 --near-kib 128 \
    --out "$tmp/again" --quiet > /dev/null 2>&1
cmp -s "$tmp/sushi/queries.csv" "$tmp/again/queries.csv"
ok $? "the same replay twice writes the same queries.csv (modelled time, deterministic)"
;;
esac

"$SUPERNAV" replay --platform cpu --model "$MODEL" --trace "$tmp/t.csv" --policy sushi --pe 16x32 \
    --out "$tmp/cpu" --quiet > /dev/null 2> "$tmp/err"
rc=$?
ok $(( rc == 0 || $(wc -l < "$tmp/err") != 1 )) "--pe on another platform: one line, exit $rc: $(cat "$tmp/err")"
