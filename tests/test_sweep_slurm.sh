#!/bin/sh
# supernav sweep slurm: a real single-node Slurm started inside the test -- munged with its
# own key and socket, slurmctld and slurmd (Debian slurm-wlm 22.05) on localhost with a
# generated slurm.conf (select/cons_tres, proctrack/linuxproc, task/none, no cgroups,
# state, spool and logs in a temporary directory, ports chosen per test run) -- runs a
# 6-job sweep as a job array, and the merged result must equal a local `sweep run` of the
# same spec: every deterministic figure of every job (sweep.csv) and `supernav gate`
# against the local sweep's baseline. The daemons are killed on every exit (trap). Needs
# root (slurmd runs jobs as their user) and the packages slurm-wlm and munge, which
# `make test` installs (ci/packages-test.txt); without them it skips, saying why. TAP.
set -u
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${SN_MODEL:-build/supernet.snm}
WAIT_S=${SN_SLURM_WAIT_S:-150}
skip() { echo "1..0 # SKIP $*"; exit 0; }
case "${BUILD:-build}" in *san*)
    skip "the Slurm integration is checked by the plain build (sweep run's code, --task included, runs under the sanitizers in test_sweep)" ;;
esac
[ "$(id -u)" = 0 ] || skip "starting slurmd needs root (CI runs as root)"
for c in slurmctld slurmd sbatch squeue munged; do
    command -v "$c" >/dev/null 2>&1 || skip "$c not installed (Debian slurm-wlm and munge: make deps-test)"
done
[ -f data/canvas/cf64-test-images-idx3-ubyte ] || skip "no CF-64 test split (make datasets)"
SUPERNAV=$(cd "$(dirname "$SUPERNAV")" && pwd)/$(basename "$SUPERNAV")
MODEL=$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")

tmp=$(mktemp -d /tmp/sn-slurm-test.XXXXXX) || exit 1
chmod 755 "$tmp"
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    sleep 1
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
echo "1..10"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
t0=$(date +%s)

# ---- munge: its own key, socket, pid, log and seed file -----------------------------------
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log"
chmod 700 "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 600 "$tmp/munge/munge.key"
sock=$tmp/munge/munge.socket.2
munged -F --force --socket="$sock" --key-file="$tmp/munge/munge.key" --pid-file="$tmp/munge/munged.pid" \
    --log-file="$tmp/munge/munged.log" --seed-file="$tmp/munge/munged.seed" > "$tmp/log/munged.out" 2>&1 &
pids="$pids $!"

# ---- slurm.conf on localhost, ports from this test's pid ------------------------------------
host=$(hostname -s)
port=$((20000 + ($$ % 10000) * 2))
cpus=$(nproc)
cat > "$tmp/slurm.conf" <<EOF
ClusterName=sntest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MailProg=/bin/true
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=sweep Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$tmp/slurm.conf"
i=0
until [ -S "$sock" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
slurmctld -D -f "$SLURM_CONF" > "$tmp/log/slurmctld.out" 2>&1 &
pids="$pids $!"
slurmd -D -N "$host" -f "$SLURM_CONF" > "$tmp/log/slurmd.out" 2>&1 &
pids="$pids $!"
i=0
until sinfo -h -o '%T' 2>/dev/null | grep -q '^idle'; do
    i=$((i + 1))
    if [ $i -ge 60 ]; then break; fi
    sleep 0.5
done
sinfo -h -o '%P %T %D %c' > "$tmp/sinfo" 2>&1
ok "$(grep -q idle "$tmp/sinfo"; echo $?)" "a single-node Slurm is up in $(( $(date +%s) - t0 )) s: $(cat "$tmp/sinfo") (port $port)"
if ! grep -q idle "$tmp/sinfo"; then
    for f in "$tmp"/log/*; do echo "# $f:"; tail -n 5 "$f" | sed 's/^/#   /'; done
fi

# ---- the sweep: 3 policies x 2 near budgets, deterministic (pinned profile, modelled) -------
# a profile of this build's model to pin (a sanitizer build's image differs from the one
# ci/baselines/cpu-profile.json was measured on), as tests/test_gate.sh does
json=$("$SUPERNAV" profile --model "$MODEL" --reps 3 --json 2>/dev/null)
profile=$(echo "$json" | sed -n 's/.*"profile":"\([^"]*\)".*/\1/p')
cp "$profile" "$tmp/profile.json" 2>/dev/null || echo "# no profile: $json"
cat > "$tmp/test.sweep" <<EOF
# the Slurm test's sweep: 6 jobs
name = slurm-test
setup = trace gen sushi --count 150 --seed 5 --rate 700 --constraint floor -o {dir}/t.csv
command = replay --model $MODEL --platform cpu --profile $tmp/profile.json --modelled --trace {dir}/t.csv --policy {policy} --near-kib {kib} --out {out} --quiet
axis policy = sushi nocache static-subgraph
axis kib = 256 1024
EOF
"$SUPERNAV" sweep plan "$tmp/test.sweep" -o "$tmp/local" > /dev/null 2> "$tmp/plan.err" &&
    "$SUPERNAV" sweep plan "$tmp/test.sweep" -o "$tmp/slurm" > /dev/null 2>> "$tmp/plan.err"
ok $? "two plans of the spec ($(grep -c . "$tmp/plan.err") lines: $(head -n 1 "$tmp/plan.err"))"

t1=$(date +%s)
"$SUPERNAV" sweep run "$tmp/local" -j 2 > /dev/null 2> "$tmp/local.err"
ok $? "the local sweep runs ($(tail -n 1 "$tmp/local.err"), $(( $(date +%s) - t1 )) s)"

# ---- submitted as a job array ---------------------------------------------------------------
t1=$(date +%s)
jobid=$("$SUPERNAV" sweep slurm "$tmp/slurm" --partition sweep --time 00:05:00 2> "$tmp/submit.err")
rc=$?
sed 's/^/# /' "$tmp/submit.err"
ok "$([ $rc = 0 ] && [ -n "$jobid" ] && grep -q -- '--array=0-5' "$tmp/slurm/slurm/array.sbatch"; echo $?)" \
    "sweep slurm submits an --array=0-5 script (job $jobid)"
i=0
while [ -n "$jobid" ] && [ -n "$(squeue -h -j "$jobid" 2>/dev/null)" ] && [ $i -lt $((WAIT_S * 2)) ]; do
    sleep 0.5
    i=$((i + 1))
done
"$SUPERNAV" sweep status "$tmp/slurm" > "$tmp/status" 2> "$tmp/status.err"
done_count=$(grep -c ' done ' "$tmp/status")
ok "$([ "$done_count" = 6 ]; echo $?)" "the array's 6 tasks finished in $(( $(date +%s) - t1 )) s: $(cat "$tmp/status.err")"
if [ "$done_count" != 6 ]; then
    squeue 2>&1 | sed 's/^/# squeue: /'
    for f in "$tmp"/slurm/slurm/*.out "$tmp"/log/slurmctld.log; do
        [ -f "$f" ] && { echo "# $f:"; tail -n 8 "$f" | sed 's/^/#   /'; }
    done
    for f in "$tmp"/slurm/jobs/*/stderr; do
        [ -s "$f" ] && { echo "# $f:"; tail -n 3 "$f" | sed 's/^/#   /'; }
    done
fi
ok "$(grep -l '"slurm_array_job_id"' "$tmp"/slurm/jobs/*/done 2>/dev/null | wc -l | grep -qx 6; echo $?)" \
    "every done marker names the Slurm array job that ran it"

# ---- merged results: equal to the local run's deterministic figures -------------------------
"$SUPERNAV" sweep collect "$tmp/local" --no-report > /dev/null 2> "$tmp/collect.err" &&
    "$SUPERNAV" sweep collect "$tmp/slurm" --no-report > /dev/null 2>> "$tmp/collect.err"
ok $? "both sweeps collect: $(tail -n 1 "$tmp/collect.err")"
# the deterministic columns of sweep.csv, by name
det='id policy kib state queries served_accuracy measured_accuracy slo_attainment near_bytes far_bytes subgraph_switches switch_far_bytes macs energy_uj served_sequence latency_us latency_p99_us'
pick() {
    awk -F, -v want="$det" 'NR == 1 { n = split(want, w, " "); for (i = 1; i <= NF; ++i) col[$i] = i; next }
        { line = ""; for (k = 1; k <= n; ++k) line = line (k > 1 ? "," : "") (w[k] in col ? $(col[w[k]]) : "MISSING"); print line }' "$1"
}
pick "$tmp/local/collect/sweep.csv" > "$tmp/local.det"
pick "$tmp/slurm/collect/sweep.csv" > "$tmp/slurm.det"
same=$(cmp -s "$tmp/local.det" "$tmp/slurm.det"; echo $?)
[ "$same" = 0 ] || diff "$tmp/local.det" "$tmp/slurm.det" | sed 's/^/# /'
ok "$([ "$same" = 0 ] && [ "$(grep -c ',done,' "$tmp/slurm.det")" = 6 ] && ! grep -q MISSING "$tmp/slurm.det"; echo $?)" \
    "the Slurm sweep's merged table equals the local one on every deterministic figure (6 jobs, 17 columns)"
"$SUPERNAV" gate --baseline "$tmp/local/collect/baseline.json" "$tmp/slurm/runs" > "$tmp/gate.out" 2>&1
rc=$?
tail -n 1 "$tmp/gate.out" | sed 's/^/# /'
ok $rc "supernav gate: the Slurm runs pass the local sweep's baseline"

# ---- resubmitting a finished sweep submits nothing ------------------------------------------
"$SUPERNAV" sweep slurm "$tmp/slurm" --pending > "$tmp/resubmit.out" 2> "$tmp/resubmit.err"
ok "$([ $? = 0 ] && [ ! -s "$tmp/resubmit.out" ] && grep -q 'nothing to submit' "$tmp/resubmit.err"; echo $?)" \
    "sweep slurm --pending on a finished sweep: $(cat "$tmp/resubmit.err")"
echo "# total $(( $(date +%s) - t0 )) s"
