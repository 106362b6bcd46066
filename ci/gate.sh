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
# than 25 %, against a reference: the baseline's own git revision, built here (cached in
# build/gate-ref/REV) and replayed in the same command, each repetition interleaved with
# this tree's, so that a machine slower or busier than the one that recorded the baseline
# moves both sides alike (a CI machine 15-20 % slower than this one failed the gate on
# every policy when the baseline's recorded medians were the reference). Without git
# history (a tarball, a shallow clone) or with GATE_REFERENCE=off, the wall-clock
# figures fall back to the baseline's recorded medians, and the gate says so.
#
#   sh ci/gate.sh           make gate: run the set, gate it against ci/baselines/cpu.json
#   sh ci/gate.sh baseline  make baseline: measure a new profile, run the set, and record
#                           both as the new baseline (on purpose: commit the two files);
#                           refused on a tree with uncommitted changes to tracked files
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
# the baseline records this tree's git revision, which the gate later builds as its reference:
# a tree with uncommitted changes to tracked files would record a revision that is not what ran
if [ "$MODE" = baseline ] && [ "${BASELINE_DIRTY:-0}" != 1 ] && git rev-parse --git-dir >/dev/null 2>&1; then
    dirty=$(git status --porcelain --untracked-files=no -- . ':(exclude)ci/baselines') ||
        die "git status failed: cannot tell whether the tree is committed (BASELINE_DIRTY=1 records anyway)"
    dirty=$(printf '%s' "$dirty" | grep -c .) || true
    [ "$dirty" -eq 0 ] || die "$dirty tracked files have uncommitted changes (git status): commit them first, since the gate rebuilds the baseline's recorded git revision as its reference (BASELINE_DIRTY=1 records anyway)"
fi
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

# The reference build (gate mode only): the baseline's git revision, built once per revision.
REF=""
if [ "$MODE" = gate ] && [ "${GATE_REFERENCE:-auto}" != off ]; then
    rev=$(sed -n 's/.*"git_revision":[[:space:]]*"\([0-9a-f]*\)".*/\1/p' "$BASELINE" | head -n 1)
    why=""
    if grep -q '"git_revision":[[:space:]]*"[0-9a-f]*-dirty' "$BASELINE"; then
        why="the baseline was recorded by a build with uncommitted changes (BASELINE_DIRTY=1): its revision cannot be rebuilt"
    elif [ -z "$rev" ]; then
        why="the baseline records no git revision"
    elif ! full=$(git rev-parse --verify -q "$rev^{commit}" 2>/dev/null); then
        why="git revision $rev is not in this clone (shallow, or no .git)"
    else
        dir=build/gate-ref/$full
        if [ ! -x "$dir/build/supernav" ]; then
            echo "gate: building the reference, the baseline's revision $rev, in $dir" >&2
            rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" &&
                git archive "$full" | tar -x -C "$dir.tmp" &&
                make -C "$dir.tmp" build/supernav >"$OUT/reference-build.log" 2>&1 &&
                rm -rf "$dir" && mv "$dir.tmp" "$dir" ||
                why="building revision $rev failed (see $OUT/reference-build.log)"
        fi
        [ -n "$why" ] || REF=$dir/build/supernav
    fi
    [ -n "$REF" ] || echo "gate: no reference build: $why; wall-clock figures against the baseline's" \
        "recorded medians (another machine, another moment)" >&2
fi

replay() { # BINARY POLICY DIR
    "$1" replay --platform "$PLATFORM" --isa "$ISA" --near-kib "$NEAR_KIB" \
        --profile "$PROFILE" --virtual --trace "$OUT/traces/gate.csv" --policy "$2" \
        --out "$3" --quiet >/dev/null
}
rep=1
while [ "$rep" -le "$REPS" ]; do
    for policy in $policies; do
        name=$(echo "$policy" | sed 's/:.*//')
        # this tree and the reference take turns going first
        if [ -n "$REF" ] && [ $((rep % 2)) = 0 ]; then
            replay "$REF" "$policy" "$OUT/reference/$name@$rep" || die "reference replay $policy (repetition $rep) failed"
        fi
        replay "$SUPERNAV" "$policy" "$OUT/$name@$rep" || die "replay $policy (repetition $rep) failed"
        if [ -n "$REF" ] && [ $((rep % 2)) = 1 ]; then
            replay "$REF" "$policy" "$OUT/reference/$name@$rep" || die "reference replay $policy (repetition $rep) failed"
        fi
    done
    rep=$((rep + 1))
done

if [ "$MODE" = baseline ]; then
    "$SUPERNAV" gate --write-baseline "$BASELINE" "$OUT" || die "cannot write $BASELINE"
    echo "baseline: recorded $BASELINE and $PROFILE from $OUT ($(( $(date +%s) - start )) s); commit both" >&2
    exit 0
fi
rc=0
runs=$(for policy in $policies; do n=$(echo "$policy" | sed 's/:.*//'); ls -d "$OUT/$n"@*; done)
# shellcheck disable=SC2086 # run directory names have no spaces
"$SUPERNAV" gate --baseline "$BASELINE" ${REF:+--reference "$OUT/reference"} $runs || rc=$?
echo "gate: runs in $OUT ($(( $(date +%s) - start )) s)" >&2
exit $rc
