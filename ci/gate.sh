#!/bin/sh
# make gate / make baseline: the CI regression gate on the CPU platform.
#
# A short benchmark whose choices do not depend on timing: a 1000-query SUSHI constraint
# stream with accuracy floors only (no latency ceilings), replayed in virtual time under
# every policy with the ISA (avx2) and the near budget fixed and the profile pinned
# (ci/baselines/cpu-profile.json), so that every policy chooses the same SubNets and
# SubGraphs on every run and machine; GATE_REPS (5) repetitions, interleaved across the
# policies, named <policy>@<k>. Deterministic figures (accuracy, bytes, MACs, modelled
# energy, the served sequence) must equal the baseline's and agree across repetitions;
# wall-clock figures (each repetition's median service time and latency) fail only on a
# significant (Mann-Whitney U over the repetitions, p < 0.05) median slow-down of more
# than 25 %.
#
#   sh ci/gate.sh           make gate: run the set, gate it against ci/baselines/cpu.json
#   sh ci/gate.sh baseline  make baseline: measure a new profile, run the set, and record
#                           both as the new baseline (on purpose: commit the two files)
set -eu
SUPERNAV=${SUPERNAV:-build/supernav}
MODE=${1:-gate}
PLATFORM=cpu
ISA=${GATE_ISA:-avx2}
NEAR_KIB=768
QUERIES=1000
REPS=${GATE_REPS:-5}
RATE=700
BASELINE=ci/baselines/$PLATFORM.json
PROFILE=ci/baselines/$PLATFORM-profile.json
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${GATE_OUT:-results/gate/$STAMP}
die() { echo "make $MODE: error: $*" >&2; exit 1; }
case "$MODE" in gate|baseline) ;; *) die "unknown mode '$MODE' (gate, baseline)" ;; esac
[ -x "$SUPERNAV" ] || die "$SUPERNAV is not built"
[ ! -e "$OUT" ] || die "$OUT already exists"
start=$(date +%s)
mkdir -p "$OUT/traces"

if [ "$MODE" = baseline ]; then
    echo "baseline: measuring the $PLATFORM profile ($ISA, near budget $NEAR_KIB KiB)" >&2
    json=$("$SUPERNAV" profile --platform "$PLATFORM" --isa "$ISA" --near-kib "$NEAR_KIB" --force --json) ||
        die "profile failed"
    measured=$(echo "$json" | sed -n 's/.*"profile":"\([^"]*\)".*/\1/p')
    [ -f "$measured" ] || die "profile printed no path"
    mkdir -p "$(dirname "$PROFILE")"
    cp "$measured" "$PROFILE.tmp" && mv "$PROFILE.tmp" "$PROFILE"
fi
[ -f "$PROFILE" ] || die "$PROFILE is missing (make baseline records it)"

"$SUPERNAV" trace gen sushi --count "$QUERIES" --seed 11 --rate "$RATE" --constraint floor \
    -o "$OUT/traces/gate.csv" >/dev/null || die "trace gen failed"
mid=$("$SUPERNAV" subnets | awk '$1 == "subnet" { print $2, $NF }' | sort -n |
      awk '{ c[NR] = $2 } END { print c[int((NR + 1) / 2)] }')
[ -n "$mid" ] || die "the model lists no SubNet"
policies="sushi nocache static-subgraph static-subnet:$mid largest smallest oracle"
rep=1
while [ "$rep" -le "$REPS" ]; do
    for policy in $policies; do
        name=$(echo "$policy" | sed 's/:.*//')
        "$SUPERNAV" replay --platform "$PLATFORM" --isa "$ISA" --near-kib "$NEAR_KIB" \
            --profile "$PROFILE" --virtual --trace "$OUT/traces/gate.csv" --policy "$policy" \
            --out "$OUT/$name@$rep" --quiet >/dev/null || die "replay $policy (repetition $rep) failed"
    done
    rep=$((rep + 1))
done

if [ "$MODE" = baseline ]; then
    "$SUPERNAV" gate --write-baseline "$BASELINE" "$OUT" || die "cannot write $BASELINE"
    echo "baseline: recorded $BASELINE and $PROFILE from $OUT ($(( $(date +%s) - start )) s); commit both" >&2
    exit 0
fi
rc=0
"$SUPERNAV" gate --baseline "$BASELINE" "$OUT" || rc=$?
echo "gate: runs in $OUT ($(( $(date +%s) - start )) s)" >&2
exit $rc
