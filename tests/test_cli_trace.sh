#!/bin/sh
# `supernav trace` end to end, and the committed real traces: their sha256, each import's
# query count, byte-identical regeneration, one-line errors with a non-zero exit and
# nothing written on bad input. Runs $SUPERNAV (the Makefile sets it) from the
# repository root. TAP output for prove.
set -u
SUPERNAV=${SUPERNAV:-build/supernav}
REAL=workloads/traces/real
if [ ! -x "$SUPERNAV" ]; then
    echo "1..0 # SKIP $SUPERNAV is not built (run via make test)"
    exit 0
fi
tmp=$(mktemp -d /tmp/sn_test_cli_trace_XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/out"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for line in "$@"; do echo "# $line"; done; }

# 1: the committed copies of the public traces are the ones recorded
if out=$(cd "$REAL" && sha256sum -c SHA256SUMS 2>&1); then
    ok "workloads/traces/real: sha256 of the three traces and the license match SHA256SUMS"
else
    not_ok "workloads/traces/real: sha256 mismatch" "$out"
fi

# expect_error STATUS FRAGMENT ARGS...: exit status STATUS, exactly one stderr line that
# starts "supernav trace: error: " and holds FRAGMENT, nothing left in $tmp/out
expect_error() {
    want=$1 fragment=$2
    shift 2
    "$SUPERNAV" trace "$@" >/dev/null 2>"$tmp/err"
    status=$?
    lines=$(wc -l <"$tmp/err")
    left=$(ls "$tmp/out" | wc -l)
    if [ "$status" -eq "$want" ] && [ "$lines" -eq 1 ] && [ "$left" -eq 0 ] &&
        grep -q '^supernav trace: error: ' "$tmp/err" && grep -qF -- "$fragment" "$tmp/err"; then
        ok "trace $* -> exit $want: $(cat "$tmp/err")"
    else
        not_ok "trace $*: expected exit $want and one error line with '$fragment'" \
            "exit $status, $left file(s) left, stderr: $(cat "$tmp/err")"
    fi
    rm -f "$tmp/out"/*
}

O="$tmp/out/t.csv"
expect_error 2 "unknown KIND 'poisson'" gen poisson --count 5 --seed 1 -o "$O"
expect_error 2 "missing --seed" gen server --count 5 -o "$O"
expect_error 2 "missing --count" gen server --seed 1 -o "$O"
expect_error 2 "missing -o FILE" gen server --count 5 --seed 1
expect_error 2 "--count must be" gen server --count 0 --seed 1 -o "$O"
expect_error 2 "--count must be" gen server --count 10000001 --seed 1 -o "$O"
expect_error 2 "--seed must be" gen server --count 5 --seed -1 -o "$O"
expect_error 2 "--rate does not apply to offline" gen offline --count 5 --seed 1 --rate 3 -o "$O"
expect_error 2 "--rate-on does not apply to server" gen server --count 5 --seed 1 --rate-on 3 \
    -o "$O"
expect_error 2 "--rate must be" gen server --count 5 --seed 1 --rate 0 -o "$O"
expect_error 2 "--rate must be" gen server --count 5 --seed 1 --rate 0.0001 -o "$O"
expect_error 2 "--jump must be" gen sushi --count 5 --seed 1 --jump 1.5 -o "$O"
expect_error 2 "--floors: each item must be" gen server --count 5 --seed 1 --floors 0.8,1.2 \
    --ceiling-factors 1,2 -o "$O"
expect_error 2 "--floors gives 2 levels and --ceiling-factors 5" gen server --count 5 --seed 1 \
    --floors 0.8,0.9 -o "$O"
expect_error 2 "unknown --constraint 'all'" gen server --count 5 --seed 1 --constraint all -o "$O"
expect_error 2 "unknown option '--bogus'" gen server --count 5 --seed 1 --bogus -o "$O"
expect_error 2 "option '-o' needs a value" gen server --count 5 --seed 1 -o
expect_error 1 "cannot write $tmp/out/nodir/t.csv" gen server --count 5 --seed 1 \
    -o "$tmp/out/nodir/t.csv"
expect_error 2 "unknown --format 'azure'" import --format azure \
    "$REAL/azure_functions_2021_200.csv" -o "$O"
expect_error 2 "missing SRC" import --format azure-llm -o "$O"
expect_error 2 "--minutes does not apply to azure-llm" import --format azure-llm --minutes 1-5 \
    "$REAL/AzureLLMInferenceTrace_conv.csv" -o "$O"
expect_error 2 "--minutes must be a range" import --format azure-functions-2019 --minutes 5-1 \
    "$REAL/azure_functions_2019_sample1000_inv.csv" -o "$O"
expect_error 2 "give --scale or --rate, not both" import --format azure-llm --scale 2 --rate 3 \
    "$REAL/AzureLLMInferenceTrace_conv.csv" -o "$O"
expect_error 1 "$REAL/azure_functions_2021_200.csv:1: bad header" import --format azure-llm \
    "$REAL/azure_functions_2021_200.csv" -o "$O"
expect_error 1 "/nonexistent.csv: No such file or directory" import --format azure-llm \
    /nonexistent.csv -o "$O"
expect_error 2 "unknown subcommand 'replay'" replay x

# malformed traces: info names the file and the line
printf '# supernav-trace 1\narrival_us,sample,acc_floor,lat_ceiling_us\n0,1,,\n9,2,,\n8,3,,\n' \
    >"$tmp/bad.csv"
expect_error 1 "$tmp/bad.csv:5: arrival times go backwards: 8 us after 9 us (line 4)" \
    info "$tmp/bad.csv"
printf '# supernav-trace 1\narrival_us,sample,acc_floor,lat_ceiling_us\n0,10000,,\n' >"$tmp/bad.csv"
expect_error 1 "$tmp/bad.csv:3: unknown sample 10000" info "$tmp/bad.csv"
expect_error 2 "--samples must be" info "$tmp/bad.csv" --samples 0
printf '# supernav-trace 1\narrival_us,sample,acc_floor,lat_ceiling_us\n0,1,0.5,0\n' >"$tmp/bad.csv"
expect_error 1 "$tmp/bad.csv:3: impossible latency ceiling 0 us" info "$tmp/bad.csv"

# gen: each kind, twice: the same bytes; info reads it back
for kind in single-stream server offline sushi bursty; do
    if "$SUPERNAV" trace gen "$kind" --count 300 --seed 11 -o "$tmp/a.csv" &&
        "$SUPERNAV" trace gen "$kind" --count 300 --seed 11 -o "$tmp/b.csv" &&
        cmp -s "$tmp/a.csv" "$tmp/b.csv" &&
        "$SUPERNAV" trace info "$tmp/a.csv" >"$tmp/info" &&
        grep -q '^queries  *300$' "$tmp/info" && grep -q "generator: $kind" "$tmp/info"; then
        ok "gen $kind: same seed, same bytes; info reads 300 queries"
    else
        not_ok "gen $kind" "$(cat "$tmp/info" 2>/dev/null)"
    fi
done
if "$SUPERNAV" trace gen sushi --count 2000 --seed 4 --rate 250.5 --constraint either \
    --floors 0.87,0.9 --ceiling-us 8000 --ceiling-factors 0.5,1 --dwell 20 --jump 0 \
    -o "$tmp/c.csv" && "$SUPERNAV" trace info "$tmp/c.csv" >"$tmp/info" &&
    grep -q 'ceilings_us: 4000,8000' "$tmp/info" && grep -q 'rate: 250.5' "$tmp/info" &&
    grep -q 'with both, 0 with neither' "$tmp/info" && ! grep -q '0.8600' "$tmp/info"; then
    ok "gen sushi with custom levels: recorded in the metadata, either-constraints only"
else
    not_ok "gen sushi with custom levels" "$(cat "$tmp/info" 2>/dev/null)"
fi

# import: each real trace; counts and rates from info
check_import() { # FORMAT SRC QUERIES RATE_PREFIX [options]
    format=$1 src=$2 queries=$3 rate=$4
    shift 4
    if "$SUPERNAV" trace import --format "$format" "$src" -o "$tmp/i.csv" "$@" &&
        "$SUPERNAV" trace info "$tmp/i.csv" >"$tmp/info" &&
        grep -q "^queries  *$queries\$" "$tmp/info" &&
        grep -q "^mean rate  *$rate" "$tmp/info"; then
        ok "import $format $*: $queries queries, $(grep '^mean rate' "$tmp/info" | tr -s ' ')"
    else
        not_ok "import $format $*: expected $queries queries at $rate..." "$(head -5 "$tmp/info")"
    fi
}
check_import azure-llm "$REAL/AzureLLMInferenceTrace_conv.csv" 19366 "5.530"
check_import azure-llm "$REAL/AzureLLMInferenceTrace_conv.csv" 19366 "50.000" --rate 50
check_import azure-functions-2019 "$REAL/azure_functions_2019_sample1000_inv.csv" 608228 "7.039"
check_import azure-functions-2019 "$REAL/azure_functions_2019_sample1000_inv.csv" 23715 "6.587" \
    --minutes 601-660
check_import azure-functions-2021 "$REAL/azure_functions_2021_200.csv" 199 "0.165"

# help
if "$SUPERNAV" help | grep -q '^  trace ' && "$SUPERNAV" trace --help | grep -q 'trace gen KIND' &&
    "$SUPERNAV" trace gen --help | grep -q 'trace import'; then
    ok "supernav help lists trace; trace --help and trace gen --help print the usage"
else
    not_ok "help"
fi
echo "1..$n"
