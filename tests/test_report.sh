#!/bin/sh
# supernav report: a small run set (three policies on a SUSHI-style stream with latency
# ceilings, CPU platform, virtual time) gives report.md, a self-contained report.html and
# every plot; the page is rendered by headless Chromium and every expected plot's <svg> is
# in the rendered DOM with data drawn in it (a gnuplot plot group holding paths or points);
# a screenshot is taken. The page opens on the answer (per trace and platform, each policy
# beside the best other policy, the difference and its significance), which must agree with
# the runs' own figures (tests/report_answer_check.pl recomputes it from summary.json), here
# and on the committed gate fixtures (fuzz/fixtures/gate/runs: modelled, 2 runs of sushi and
# 1 of nocache; and with a second nocache run, so that the U test is taken). Bad input gets
# one error line. TAP.
set -u
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${SN_MODEL:-build/supernet.snm}
if [ ! -f data/canvas/cf64-test-images-idx3-ubyte ]; then
    echo "1..0 # SKIP no CF-64 test split (make datasets)"; exit 0
fi
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "1..0 # SKIP gnuplot is not installed (make deps)"; exit 0
fi
# without a browser only the four checks that render the page skip (each says why)
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
why_no_browser="chromium is not installed (make test installs ci/packages-test.txt)"
# a sanitizer build: the browser is not instrumented, its rendering is the plain build's check
case "${BUILD:-build}" in *san*) CHROMIUM=; why_no_browser="a sanitizer build (the plain build renders the page)" ;; esac
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "1..17"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

"$SUPERNAV" trace gen sushi --count 300 --seed 4 --rate 900 --ceiling-us 1500 -o "$tmp/t.csv" >/dev/null 2>&1
# A sanitizer build pins the CI gate's CPU profile (tests/san_pinned_model.sh; sushi's profile,
# measured under the sanitizers, took 66 s of this test's 84)
pin=; pmodel=$(sh tests/san_pinned_model.sh)
[ -n "$pmodel" ] && MODEL=$pmodel pin="--isa avx2 --near-kib 768 --profile ci/baselines/cpu-profile.json"
for p in sushi nocache largest; do
    # shellcheck disable=SC2086
    "$SUPERNAV" replay --model "$MODEL" --trace "$tmp/t.csv" --policy $p --virtual --reps 3 $pin \
        --out "$tmp/set/$p" --quiet > /dev/null 2>> "$tmp/err"
done
ok "$([ -f "$tmp/set/largest/queries.csv" ]; echo $?)" "three runs replayed $(cat "$tmp/err")"

"$SUPERNAV" report "$tmp/set" -o "$tmp/rep" --title "test report" > "$tmp/out" 2>&1
rc=$?
ok $rc "supernav report exits 0: $(tail -n 1 "$tmp/out")"
ok "$([ -s "$tmp/rep/report.md" ] && [ -s "$tmp/rep/report.html" ]; echo $?)" "report.md and report.html written"
expected="pareto-cpu cdf-t accuracy-slo timeline-t energy-t"
missing=""
for p in $expected; do [ -s "$tmp/rep/plots/$p.svg" ] || missing="$missing $p"; done
ok "$([ -z "$missing" ]; echo $?)" "every plot drawn by gnuplot (missing:${missing:- none})"
ok "$(grep -Eiq '<script|<link|<img|src=|href="(https?:|file:|plots/)' "$tmp/rep/report.html"; [ $? = 1 ]; echo $?)" \
    "report.html is self-contained: no script, link, image or external reference"
ok "$(grep -q 'SLO: latency ceilings' "$tmp/rep/plots/cdf-t.svg"; echo $?)" "the CDF marks the trace's SLOs"

ok "$(grep '^## ' "$tmp/rep/report.md" | cut -c4- | tr '\n' '|' |
      grep -q '^The answer: .*|Can these runs tell the policies apart?|Plots|Reproduction: .*|Runs|$'; echo $?)" \
    "report.md opens on the answer, then validity, plots, reproduction, the runs last: $(grep '^## ' "$tmp/rep/report.md" | cut -c4-20 | tr '\n' '|')"
# the runs table says what MLPerf LoadGen's rules make of each run (300 queries: INVALID, with why)
ninv=$(grep -c '^\* INVALID by MLPerf LoadGen.s rules: .*fewer than' "$tmp/rep/report.md")
ok "$(grep -q '| queries | LoadGen | SLO att. |' "$tmp/rep/report.md" && [ "$ninv" = 3 ]; echo $?)" \
    "the runs table has LoadGen's verdict, and each INVALID run its reason ($ninv of 3)"

# DOM of report.html in DIR into FILE: what Chromium built from it, or without Chromium the
# file itself
dom() {
    if [ -n "$CHROMIUM" ]; then
        timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" \
            --dump-dom "file://$(cd "$1" && pwd)/report.html" > "$2" 2>> "$tmp/chromium.err"
    else
        cp "$1/report.html" "$2"
    fi
}
how=${CHROMIUM:+"rendered by chromium"}
how=${how:-"report.html as written (no browser: $why_no_browser)"}

# render the page in a real browser and read back the DOM it built
if [ -z "$CHROMIUM" ]; then
    for what in "chromium renders report.html" "every expected plot is in the rendered DOM" \
                "5 plots on the page" "a screenshot of the page"; do
        n=$((n + 1))
        echo "ok $n # SKIP $why_no_browser: $what"
    done
else
timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" --dump-dom "file://$(cd "$tmp/rep" && pwd)/report.html" \
    > "$tmp/dom.html" 2> "$tmp/chromium.err"
ok "$([ -s "$tmp/dom.html" ]; echo $?)" "chromium renders report.html ($(wc -c < "$tmp/dom.html") bytes of DOM)"
bad=""
for p in $expected; do
    # the plot's <svg> element; one of its gnuplot plot groups must hold data: marks (points,
    # path segments) in a group without a legend entry, or more marks than a legend sample
    # draws (a box is 4 segments)
    perl -0777 -ne 'BEGIN { $p = shift } exit 1 unless /<svg class="plot" data-plot="\Q$p\E".*?<\/svg>/s;
        @g = split /id="p\d+-gnuplot_plot_\d+[a-z]*"/, $&; shift @g; exit 2 unless @g;
        for (@g) { $m = () = /<use\b|[ ,]L\s*[-\d.]/g; exit 0 if ($m >= 1 && !/<text/) || $m >= 6 }
        exit 3' "$p" "$tmp/dom.html" || bad="$bad $p"
done
ok "$([ -z "$bad" ]; echo $?)" "every expected plot is in the rendered DOM and non-empty (bad:${bad:- none})"
count=$(grep -o '<svg class="plot"' "$tmp/dom.html" | wc -l)
ok "$([ "$count" -eq 5 ]; echo $?)" "5 plots on the page ($count)"
timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" \
    --hide-scrollbars --window-size=1280,4000 \
    --screenshot="$tmp/shot.png" "file://$(cd "$tmp/rep" && pwd)/report.html" > /dev/null 2>&1
size=$(wc -c < "$tmp/shot.png" 2>/dev/null || echo 0)
ok "$([ "$size" -gt 50000 ]; echo $?)" "a screenshot of the page ($size bytes of PNG)"
fi

# the answer: first on the page, and each policy's figures, the best other policy, the
# difference and its significance as the runs' summary.json give them
[ -s "$tmp/dom.html" ] || dom "$tmp/rep" "$tmp/dom.html"
out=$(perl tests/report_answer_check.pl "$tmp/dom.html" "$tmp/set" 2>&1); rc=$?
ok $rc "the three-run set ($how): $out"
mkdir -p "$tmp/fx"
cp -r fuzz/fixtures/gate/runs "$tmp/fx/one"
"$SUPERNAV" report "$tmp/fx/one" -o "$tmp/fxrep1" > /dev/null 2> "$tmp/fx/err1" || cat "$tmp/fx/err1" >&2
dom "$tmp/fxrep1" "$tmp/fx/dom1.html"
out=$(perl tests/report_answer_check.pl "$tmp/fx/dom1.html" "$tmp/fx/one" 2>&1); rc=$?
ok "$([ $rc = 0 ] && grep -q 'modelled (latency by the clock virtual:modelled' "$tmp/fx/dom1.html" &&
      echo "$out" | grep -q "(0 U tests, 6 '1 run: no significance')"; echo $?)" \
    "the gate fixtures, modelled, 2 runs of sushi and 1 of nocache: no p-value ($how): $out"
cp -r "$tmp/fx/one" "$tmp/fx/two"
cp -r "$tmp/fx/two/nocache" "$tmp/fx/two/nocache@2"
"$SUPERNAV" report "$tmp/fx/two" -o "$tmp/fxrep2" > /dev/null 2> "$tmp/fx/err2" || cat "$tmp/fx/err2" >&2
dom "$tmp/fxrep2" "$tmp/fx/dom2.html"
out=$(perl tests/report_answer_check.pl "$tmp/fx/dom2.html" "$tmp/fx/two" 2>&1); rc=$?
ok "$([ $rc = 0 ] && echo "$out" | grep -q '(6 U tests, 0 '; echo $?)" \
    "the gate fixtures with a second nocache run: the U test over 2 vs 2 runs ($how): $out"

# the validity section: a run set whose floors no SubNet reaches is named DEGENERATE, why too
"$SUPERNAV" trace gen server --count 100 --seed 3 --rate 900 --floors 0.99,0.99,0.99,0.99,0.99 \
    -o "$tmp/u.csv" >/dev/null 2>&1
for p in sushi nocache; do
    # shellcheck disable=SC2086
    "$SUPERNAV" replay --model "$MODEL" --trace "$tmp/u.csv" --policy $p --virtual --reps 1 $pin \
        --out "$tmp/uset/$p" --quiet > /dev/null 2>&1
done
"$SUPERNAV" report "$tmp/uset" -o "$tmp/urep" > /dev/null 2>&1
ok "$(grep -q '^\* u on cpu: DEGENERATE: every policy meets under 5 % of SLOs.*floors unreachable: 100 of 100' "$tmp/urep/report.md" &&
      grep -q '^\* t on cpu: \(VALID\|DEGENERATE\): ' "$tmp/rep/report.md"; echo $?)" \
    "the report says per trace whether its runs can tell the policies apart, and why not: $(grep '^\* u on' "$tmp/urep/report.md" | cut -c1-90)"

"$SUPERNAV" report "$tmp/nothing" -o "$tmp/rep2" > /dev/null 2> "$tmp/err2"
rc=$?
ok $(( rc == 0 || $(wc -l < "$tmp/err2") != 1 )) "a missing run: one error line, exit $rc: $(cat "$tmp/err2")"
