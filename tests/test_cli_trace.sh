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

# import --format csv|jsonl: any request log with a time field
L="$REAL/AzureLLMInferenceTrace_conv.csv"
printf 't,size\n1,10\n2,20\n' >"$tmp/log.csv"
expect_error 2 "missing --time-field NAME" import --format csv "$tmp/log.csv" -o "$O"
expect_error 2 "missing --time-unit" import --format csv --time-field t "$tmp/log.csv" -o "$O"
expect_error 2 "unknown --time-unit 'min'" import --format csv --time-field t --time-unit min \
    "$tmp/log.csv" -o "$O"
expect_error 2 "unknown --timestamps 'epoch'" import --format jsonl --time-field t --time-unit s \
    --timestamps epoch "$tmp/log.csv" -o "$O"
expect_error 2 "unknown --unsorted 'maybe'" import --format csv --time-field t --time-unit s \
    --unsorted maybe "$tmp/log.csv" -o "$O"
expect_error 2 "--floor-map needs --floor-field" import --format csv --time-field t \
    --time-unit s --floor-map hash "$tmp/log.csv" -o "$O"
expect_error 2 "unknown --ceiling-map 'median'" import --format csv --time-field t \
    --time-unit s --ceiling-field size --ceiling-map median "$tmp/log.csv" -o "$O"
expect_error 2 "constraint 'both' attaches ceilings: it needs a ceiling field" import \
    --format csv --time-field t --time-unit s --floor-field size --constraint both \
    "$tmp/log.csv" -o "$O"
expect_error 2 "a ceiling field is given, but constraint 'floor' attaches no ceilings" import \
    --format csv --time-field t --time-unit s --floor-field size --ceiling-field size \
    --constraint floor \
    "$tmp/log.csv" -o "$O"
expect_error 2 "datetime timestamps are absolute, not relative" import --format csv \
    --time-field t --time-unit datetime --timestamps relative "$tmp/log.csv" -o "$O"
expect_error 2 "--time-field does not apply to azure-llm" import --format azure-llm \
    --time-field TIMESTAMP "$L" -o "$O"
expect_error 2 "--ceiling-map does not apply to azure-functions-2021" import \
    --format azure-functions-2021 --ceiling-map level "$REAL/azure_functions_2021_200.csv" -o "$O"

# malformed lines: the file, the line and what is wrong; exit 1; nothing written
bad_log() { # FORMAT TEXT FRAGMENT [options]
    printf "$2" >"$tmp/bad.log"
    f=$1 frag=$3
    shift 3
    expect_error 1 "$tmp/bad.log:$frag" import --format "$f" --time-field t --time-unit ms \
        "$@" "$tmp/bad.log" -o "$O"
}
bad_log csv 't,x\n1,a\n2,"b\n' "3: field 2: a quoted field is not closed"
bad_log csv 't,x\n1,a\n2,b"c\n' "3: field 2: a quote inside an unquoted field"
bad_log csv 't,x\n1,"a"b\n' "2: field 2: 'b' after the closing quote"
bad_log csv 't,x\n1,a\n2\n' "3: expected 2 fields (as the header), found 1"
bad_log csv 't,x\n1,a\n\n' "3: empty line"
bad_log csv 'time,x\n1,a\n' "1: no column 't' in the header 'time,x'"
bad_log csv 't,x\n1,a\n1.5e3,b\n' "3: time '1.5e3' in field 't' is not a non-negative decimal"
bad_log csv 't,x\n1,a\n-2,b\n' "3: negative time '-2' in field 't'"
bad_log csv 't,x\n1,"a,\nb"\n1x,c\n' "4: time '1x' in field 't'"
bad_log csv 't,x\n3,a\n2,b\n' "3: time '2' is earlier than '3' on line 2" --unsorted refuse
bad_log csv 't,x\n1,5\n2,6\n3,zz\n' "4: ceiling field 'x': 'zz' is not a number (quantile map)" \
    --ceiling-field x
bad_log csv 't,x\n1,0\n2,5\n' "3: floor field 'x': '5' is not a level in 0..4 (level map)" \
    --floor-field x --floor-map level
bad_log jsonl '{"t": 1}\n{"t": 2,}\n' "2: not valid JSON (at column 10)"
bad_log jsonl '{"t": 1}\n[{"t": 2}]\n' "2: expected a JSON object, found an array"
bad_log jsonl '{"t": 1}\n{"time": 2}\n' "2: no time: field 't' is empty or missing"
bad_log jsonl '{"t": 1}\n{"t": false}\n' "2: time field 't' is a boolean, not a number"
bad_log jsonl '{"t": 1}\n\n{"t": 2}\n' "2: empty line"
bad_log jsonl '{"t": 1, "x": 2}\n{"t": 2, "x": {}}\n' \
    "2: ceiling field 'x' is an object, not a number or a string" --ceiling-field x
printf '{"t": 1, "size": 2}\n' >"$tmp/bad.log"
expect_error 1 "$tmp/bad.log: no object has the floor field 'Size'" import --format jsonl \
    --time-field t --time-unit s --floor-field Size "$tmp/bad.log" -o "$O"
# a failed import leaves an existing output as it was (the trace is written to a temporary
# file, renamed into place only when complete)
printf 'earlier result\n' >"$tmp/keep.csv"
printf 't\n1\n2\nx\n' >"$tmp/bad.log"
if ! "$SUPERNAV" trace import --format csv --time-field t --time-unit s "$tmp/bad.log" \
    -o "$tmp/keep.csv" 2>/dev/null && [ "$(cat "$tmp/keep.csv")" = "earlier result" ] &&
    [ "$(ls "$tmp" | grep -c '^keep')" -eq 1 ]; then
    ok "import csv: a malformed line leaves the existing output intact, no temporary file"
else
    not_ok "import csv: the existing output was changed" "$(ls "$tmp")"
fi

# valid logs: every unit, absolute and relative, the field mappings, rate scaling
check_log() { # DESCRIPTION FORMAT TEXT WANT_ROWS [options]: WANT_ROWS: the rows, ';'-separated
    what=$1 f=$2 text=$3 want=$4
    shift 4
    printf "$text" >"$tmp/good.log"
    if "$SUPERNAV" trace import --format "$f" "$@" "$tmp/good.log" -o "$tmp/g.csv" 2>"$tmp/err" &&
        rows=$(grep -v '^#' "$tmp/g.csv" | tail -n +2 | cut -d, -f1,3,4 | tr '\n' ';') &&
        [ "$rows" = "$want" ] && "$SUPERNAV" trace info "$tmp/g.csv" >/dev/null; then
        ok "import $f $what: $want"
    else
        not_ok "import $f $what: expected rows $want" "got ${rows:-}" "$(cat "$tmp/err")"
    fi
}
check_log "absolute s" csv 'id,t\nx,1700000000.000001\ny,1700000000.5\n' \
    "0,,;499999,,;" --time-field t --time-unit s
check_log "absolute ms" csv 't\n1700000000000.001\n1700000000500\n' "0,,;499999,,;" \
    --time-field t --time-unit ms
check_log "absolute us" jsonl '{"t": 1700000000000001}\n{"t": "1700000000500000"}\n' \
    "0,,;499999,,;" --time-field t --time-unit us
check_log "absolute ns" jsonl '{"t": "1700000000000001000"}\n{"t": "1700000000500000000"}\n' \
    "0,,;499999,,;" --time-field t --time-unit ns
check_log "absolute datetime" csv 't\n2023-11-14 22:13:20.000001\n2023-11-14T22:13:20.5Z\n' \
    "0,,;499999,,;" --time-field t --time-unit datetime
check_log "relative s" jsonl '{"t": 0.25}\n{"t": "1.5000005"}\n' "250000,,;1500001,,;" \
    --time-field t --time-unit s --timestamps relative
check_log "relative ms" csv 't\n250\n1500.0004\n' "250000,,;1500000,,;" --time-field t \
    --time-unit ms --timestamps relative
check_log "relative us" csv 't\n250000\n1500000.5\n' "250000,,;1500001,,;" --time-field t \
    --time-unit us --timestamps relative
check_log "relative ns" jsonl '{"t": 250000000}\n{"t": 1500000499}\n' "250000,,;1500000,,;" \
    --time-field t --time-unit ns --timestamps relative
check_log "quoted, unsorted, quantile ceiling, level floor" csv \
    '"t","note","size","class"\n3,"late, but first",300,4\n1,"two\nlines",100,0\n2,"""hi""",,2\n' \
    "0,0.8600,2000;1000000,0.8800,;2000000,0.9000,6000;" --time-field t --time-unit s \
    --ceiling-field size --floor-field class --floor-map level
check_log "hash floor (FNV-1a-32 'a' -> level 4, 'foobar' -> 3)" jsonl \
    '{"t": 1, "model": "a"}\n{"t": 2, "model": "foobar"}\n{"t": 3, "model": null}\n' \
    "0,0.9000,;1000000,0.8900,;2000000,,;" --time-field t --time-unit s --floor-field model \
    --floor-map hash
check_log "--rate 4 (1 request/s natively)" csv 't\n10\n11\n12\n13\n' \
    "2500000,,;2750000,,;3000000,,;3250000,,;" --time-field t --time-unit s \
    --timestamps relative --rate 4
check_log "--scale 0.5" csv 't\n10\n11\n12\n' "0,,;2000000,,;4000000,,;" --time-field t \
    --time-unit s --scale 0.5

# real data through the generic path: the LLM trace as csv gives azure-llm's queries; the
# Functions 2021 log's end times are out of order (sorted, counted, or refused)
if "$SUPERNAV" trace import --format azure-llm "$L" -o "$tmp/a.csv" &&
    "$SUPERNAV" trace import --format csv --time-field TIMESTAMP --time-unit datetime \
        --floor-field ContextTokens --ceiling-field GeneratedTokens "$L" -o "$tmp/c.csv" &&
    grep -v '^#' "$tmp/a.csv" >"$tmp/a.rows" && grep -v '^#' "$tmp/c.csv" >"$tmp/c.rows" &&
    cmp -s "$tmp/a.rows" "$tmp/c.rows" && [ "$(wc -l <"$tmp/c.rows")" -eq 19367 ]; then
    ok "import csv of the real LLM trace: the same 19,366 queries as --format azure-llm"
else
    not_ok "import csv of the real LLM trace differs from azure-llm"
fi
F21="$REAL/azure_functions_2021_200.csv"
if "$SUPERNAV" trace import --format csv --time-field end_timestamp --time-unit s \
    --timestamps relative --ceiling-field duration "$F21" -o "$tmp/f.csv" &&
    "$SUPERNAV" trace info "$tmp/f.csv" >"$tmp/info" && grep -q '^queries  *199$' "$tmp/info" &&
    grep -q 'out_of_order: 83$' "$tmp/info" &&
    grep -q 'with a ceiling, 0 with both' "$tmp/info"; then
    ok "import csv of Functions 2021 by end_timestamp: 199 queries, 83 rows out of order sorted"
else
    not_ok "import csv of Functions 2021" "$(head -8 "$tmp/info" 2>/dev/null)"
fi
expect_error 1 "$F21:5: time '6.2525410652160645' is earlier than '59.13047790527344' on line 4" \
    import --format csv --time-field end_timestamp --time-unit s --unsorted refuse "$F21" -o "$O"

# help
if "$SUPERNAV" help | grep -q '^  trace ' && "$SUPERNAV" trace --help | grep -q 'trace gen KIND' &&
    "$SUPERNAV" trace gen --help | grep -q 'trace import' &&
    "$SUPERNAV" trace import --help | grep -q 'csv, jsonl' &&
    "$SUPERNAV" trace import --help | grep -q -- '--time-field NAME'; then
    ok "supernav help lists trace; trace --help and trace gen --help print the usage"
else
    not_ok "help"
fi
echo "1..$n"
