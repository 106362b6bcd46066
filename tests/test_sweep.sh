#!/bin/sh
# supernav sweep, locally: a bad spec is one clear line naming the file and line; a plan
# expands the axes into jobs with stable ids and recorded command lines; `sweep run`
# runs them in parallel, skips finished jobs, retries failed ones (keeping the failed
# attempt's output) and re-runs an interrupted one (its run directory set aside); `sweep
# slurm --no-submit` writes the array script, and without sbatch says so; `sweep collect`
# writes the merged table, the surface tables and plots and a gate baseline, and refuses
# an unfinished sweep unless --partial; a runner killed alone leaves its running job busy
# (the job holds its lock), so the next runner does not run it beside the orphan, and a runner
# after the orphan's end runs it again. Runs on the null platform (fast). TAP.
set -u
SUPERNAV=${SUPERNAV:-build/supernav}
SUPERNAV=$(cd "$(dirname "$SUPERNAV")" && pwd)/$(basename "$SUPERNAV")
MODEL=${SN_MODEL:-build/supernet.snm}
MODEL=$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "1..28"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

# bad SPEC LINE-PATTERN MESSAGE-PATTERN: plan fails with exit 1 and one error line
bad() {
    printf '%s\n' "$1" > "$tmp/bad.sweep"
    "$SUPERNAV" sweep plan "$tmp/bad.sweep" -o "$tmp/bad" > /dev/null 2> "$tmp/err"
    rc=$?
    ok "$([ $rc = 1 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -q "$2" "$tmp/err" && [ ! -e "$tmp/bad" ]; echo $?)" \
        "bad spec: $(cat "$tmp/err")"
}
bad "command = replay --policy {policy} --out {out}
axis policy = sushi
axis polcy = a b
" "bad.sweep:3: axis 'polcy' is not used"
bad "# a comment
command = replay --policy {policy} --near-kib {bufr} --out {out}
axis policy = sushi" "bad.sweep:2: unknown placeholder {bufr}"
bad "command = replay --policy {policy}
axis policy = sushi" "bad.sweep:1: the command must write its run directory to {out}"
bad "command = replay --out {out}

axis x = 1 2 1" "bad.sweep:3: axis 'x' lists '1' twice"
bad "command = replay --out {out}
colour = blue" "bad.sweep:2: unknown key 'colour'"
bad "command = replay --out {out} {x}
axis x = a:b a_b" "get the same id 'a_b'"

"$SUPERNAV" trace gen sushi --count 60 --seed 2 --rate 700 --constraint floor -o "$tmp/t.csv" > /dev/null 2>&1
cat > "$tmp/null.sweep" <<EOF
name = null-sweep
command = replay --model $MODEL --platform null --virtual --trace $tmp/{trace}.csv --policy {policy} --near-kib {kib} --out {out} --quiet
axis policy = sushi nocache
axis kib = 256 1024 64
axis trace = t
EOF
"$SUPERNAV" sweep plan "$tmp/null.sweep" -o "$tmp/s" > "$tmp/out" 2> "$tmp/err"
ok "$([ $? = 0 ] && [ "$(cat "$tmp/out")" = "$(cd "$tmp" && pwd -P)/s" ] && grep -q '6 jobs (policy 2 x kib 3 x trace 1)' "$tmp/err"; echo $?)" \
    "plan: $(cat "$tmp/err")"
ids=$(sed -n 's/^[[:space:]]*"id":[[:space:]]*"\(.*\)",$/\1/p' "$tmp/s/sweep.json" | tr '\n' ' ')
ok "$([ "$ids" = "sushi_256_t sushi_1024_t sushi_64_t nocache_256_t nocache_1024_t nocache_64_t " ]; echo $?)" \
    "job ids in axis order, the last axis fastest: $ids"
ok "$(grep -q "\"command_line\":[[:space:]]*\"$SUPERNAV replay --model $MODEL --platform null --virtual --trace $tmp/t.csv --policy nocache --near-kib 64 --out $(cd "$tmp" && pwd -P)/s/runs/nocache_64_t --quiet\"" "$tmp/s/sweep.json"; echo $?)" \
    "the substituted command line is recorded"
"$SUPERNAV" sweep plan "$tmp/null.sweep" -o "$tmp/s" > /dev/null 2> "$tmp/err"
ok "$([ $? = 1 ] && grep -q 'already exists' "$tmp/err"; echo $?)" "planning into a used directory: $(cat "$tmp/err")"

# a sweep with one job that fails until its trace exists
cp "$tmp/t.csv" "$tmp/t2.csv.later"
sed -e 's/^axis trace = t$/axis trace = t t2/' "$tmp/null.sweep" > "$tmp/retry.sweep"
"$SUPERNAV" sweep plan "$tmp/retry.sweep" -o "$tmp/r" > /dev/null 2>&1
"$SUPERNAV" sweep run "$tmp/r" -j 2 > /dev/null 2> "$tmp/err"
rc=$?
ok "$([ $rc = 1 ] && grep -q '6 ran ok, 6 failed' "$tmp/err" && grep -q 'FAILED  sushi_256_t2: exited 1' "$tmp/err"; echo $?)" \
    "run -j 2: the jobs without a trace fail, exit $rc ($(tail -n 1 "$tmp/err"))"
"$SUPERNAV" sweep collect "$tmp/r" > /dev/null 2> "$tmp/err"
ok "$([ $? = 1 ] && grep -q '6 of 12 jobs are not done' "$tmp/err" && [ ! -e "$tmp/r/collect" ]; echo $?)" \
    "collect refuses an unfinished sweep: $(cat "$tmp/err")"
"$SUPERNAV" sweep collect "$tmp/r" --partial --no-report > /dev/null 2> "$tmp/err"
ok "$([ $? = 0 ] && grep -c ',failed,1,' "$tmp/r/collect/sweep.csv" | grep -qx 6; echo $?)" \
    "collect --partial: 6 rows done, 6 failed ($(cat "$tmp/err"))"
mv "$tmp/t2.csv.later" "$tmp/t2.csv"
"$SUPERNAV" sweep run "$tmp/r" > /dev/null 2> "$tmp/err"
ok "$([ $? = 0 ] && grep -q '6 ran ok, 0 failed, 6 already done' "$tmp/err" && grep -q 'sushi_256_t2 (.*a retry)' "$tmp/err"; echo $?)" \
    "a second run retries only the failed jobs: $(tail -n 1 "$tmp/err")"
ok "$(grep -q 'No such file' "$tmp/r/jobs/sushi_256_t2/attempt-1.stderr" && [ -s "$tmp/r/jobs/sushi_256_t2/stdout" ] &&
      grep -q '"attempt":	2' "$tmp/r/jobs/sushi_256_t2/done"; echo $?)" \
    "the failed attempt's stderr is kept as attempt-1.stderr; the done marker says attempt 2"

# an interrupted job: its run directory exists, its done marker does not
rm "$tmp/r/jobs/nocache_64_t/done"
"$SUPERNAV" sweep run "$tmp/r" > /dev/null 2> "$tmp/err"
ok "$([ $? = 0 ] && grep -q '1 ran ok, 0 failed, 11 already done' "$tmp/err" && [ -f "$tmp/r/jobs/nocache_64_t/attempt-1.run/summary.json" ] &&
      [ -f "$tmp/r/runs/nocache_64_t/summary.json" ]; echo $?)" \
    "an interrupted job runs again, its earlier run directory set aside as attempt-1.run"
"$SUPERNAV" sweep run "$tmp/r" --task 3 > /dev/null 2> "$tmp/err"
ok "$([ $? = 0 ] && grep -q 'skip    sushi_1024_t2 (done)' "$tmp/err"; echo $?)" "--task 3 on a finished job skips it"
"$SUPERNAV" sweep run "$tmp/r" --task 12 > /dev/null 2> "$tmp/err"
ok "$([ $? = 2 ] && grep -q 'the sweep has 12 jobs' "$tmp/err"; echo $?)" "--task out of range: $(cat "$tmp/err")"

# slurm: the script, and a clear error without sbatch
PATH=/nonexistent "$SUPERNAV" sweep slurm "$tmp/r" > /dev/null 2> "$tmp/err"
ok "$([ $? = 1 ] && grep -q 'sbatch is not on PATH' "$tmp/err"; echo $?)" "without sbatch: $(cat "$tmp/err")"
"$SUPERNAV" sweep slurm "$tmp/r" --no-submit --partition debug --time 00:10:00 --gres mcu:1 --max-running 4 > "$tmp/out" 2> "$tmp/err"
s=$tmp/r/slurm/array.sbatch
ok "$([ $? = 0 ] && grep -qx '#SBATCH --array=0-11%4' "$s" && grep -qx '#SBATCH --partition=debug' "$s" &&
      grep -qx '#SBATCH --time=00:10:00' "$s" && grep -qx '#SBATCH --gres=mcu:1' "$s" &&
      grep -q "^exec $SUPERNAV sweep run $(cd "$tmp" && pwd -P)/r --task \"\$SLURM_ARRAY_TASK_ID\"\$" "$s"; echo $?)" \
    "sweep slurm --no-submit writes the array script ($(cat "$tmp/err"))"

# collect: the table, the surface and the gate baseline
"$SUPERNAV" sweep collect "$tmp/r" -o "$tmp/c" --no-report --metric far_bytes --metric latency_us.p99 > /dev/null 2> "$tmp/err"
ok "$([ $? = 0 ] && [ "$(wc -l < "$tmp/c/sweep.csv")" = 13 ] && grep -q '^index,id,policy,kib,trace,rep,state,attempts,queries,' "$tmp/c/sweep.csv"; echo $?)" \
    "collect: sweep.csv has a header and 12 rows ($(cat "$tmp/err"))"
# the surface: kib (numeric) in numeric order across, one row per policy; one plot per trace
ok "$(grep -q '^| policy \\ kib | 64 | 256 | 1024 |$' "$tmp/c/sweep.md" && [ -f "$tmp/c/plots/surface-far_bytes-trace_t2.svg" ] &&
      grep -q '<svg' "$tmp/c/plots/surface-far_bytes-trace_t.svg" && ls "$tmp/c/plots"/surface-*.svg | wc -l | grep -qx 4; echo $?)" \
    "collect: surface tables in numeric order, 4 plots (2 metrics x 2 traces)"
"$SUPERNAV" gate --baseline "$tmp/c/baseline.json" "$tmp/r/runs" > "$tmp/out" 2>&1
ok $? "the collected baseline passes its own runs: $(tail -n 1 "$tmp/out")"
"$SUPERNAV" sweep collect "$tmp/r" -o "$tmp/c2" --no-report --x policy > /dev/null 2> "$tmp/err"
ok "$([ $? = 1 ] && grep -q -- '--x policy: not a numeric axis' "$tmp/err"; echo $?)" "collect --x on a categorical axis: $(cat "$tmp/err")"

# {env:NAME}: left in the manifest, replaced by the runner's environment when the job starts
cat > "$tmp/env.sweep" <<EOF2
command = replay --model $MODEL --platform null --virtual --trace {env:SN_TEST_TRACE} --policy {policy} --out {out} --quiet
axis policy = sushi
EOF2
"$SUPERNAV" sweep plan "$tmp/env.sweep" -o "$tmp/e" > /dev/null 2>&1
env -u SN_TEST_TRACE "$SUPERNAV" sweep run "$tmp/e" > /dev/null 2> "$tmp/err"
ok "$([ $? = 1 ] && grep -q 'SN_TEST_TRACE is not set' "$tmp/err" && grep -q '{env:SN_TEST_TRACE}' "$tmp/e/sweep.json"; echo $?)" \
    "{env:NAME} unset: $(tail -n 1 "$tmp/err")"
SN_TEST_TRACE=$tmp/t.csv "$SUPERNAV" sweep run "$tmp/e" > /dev/null 2> "$tmp/err"
ok "$([ $? = 0 ] && grep -q "\"trace\":[[:space:]]*\"$tmp/t.csv\"" "$tmp/e/runs/sushi/context.json"; echo $?)" \
    "{env:NAME} set: the job replays \$SN_TEST_TRACE ($(tail -n 1 "$tmp/err"))"

# a runner killed alone (SIGKILL to the runner, not its job): the job it started runs on and
# keeps its lock (an open-file-description lock its process inherits), so the next runner
# skips it as busy instead of running it beside the orphan; once the orphan has ended, a
# runner runs it again (no done marker: the runner that would write it is gone)
cat > "$tmp/slow.sweep" <<EOF2
command = replay --model $MODEL --platform null --near-kib 768 --profile $(pwd)/ci/baselines/cpu-profile.json --null-service-us 20000 --trace $tmp/t.csv --policy {policy} --out {out} --quiet
axis policy = sushi
EOF2
"$SUPERNAV" sweep plan "$tmp/slow.sweep" -o "$tmp/k" > /dev/null 2>&1
"$SUPERNAV" sweep run "$tmp/k" > /dev/null 2> "$tmp/k1.err" &
runner=$!
i=0
while [ ! -e "$tmp/k/jobs/sushi/stdout" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.2
kill -9 "$runner" 2> /dev/null
wait "$runner" 2> /dev/null
"$SUPERNAV" sweep run "$tmp/k" > /dev/null 2> "$tmp/k2.err"
rc=$?
ok "$([ $rc = 0 ] && grep -q '0 ran ok, 0 failed, 0 already done, 1 busy elsewhere' "$tmp/k2.err" && [ ! -e "$tmp/k/jobs/sushi/attempt-1.stdout" ]; echo $?)" \
    "a runner killed alone: the next runner finds its job busy (exit $rc: $(tail -n 1 "$tmp/k2.err"))"
i=0
while [ ! -e "$tmp/k/runs/sushi" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
i=0
while :; do
    "$SUPERNAV" sweep run "$tmp/k" > /dev/null 2> "$tmp/k3.err"
    grep -q ' 1 busy elsewhere$' "$tmp/k3.err" && [ $i -lt 100 ] || break
    sleep 0.1
    i=$((i + 1))
done
ok "$(grep -q '1 ran ok, 0 failed, 0 already done, 0 busy elsewhere' "$tmp/k3.err" && [ -f "$tmp/k/jobs/sushi/done" ] &&
      [ -f "$tmp/k/runs/sushi/summary.json" ] && [ -f "$tmp/k/jobs/sushi/attempt-1.run/summary.json" ]; echo $?)" \
    "after the orphan's end the job runs again, the orphan's complete run kept as attempt-1.run ($(tail -n 1 "$tmp/k3.err"))"
