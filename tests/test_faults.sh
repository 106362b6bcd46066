#!/bin/sh
# Faults (issue 17): supernav never leaves a partial or corrupt file at a final path, and
# says clearly what is wrong, whatever happens to it.
#
#  * SIGKILL at pseudo-random moments (seeded awk rand, so the same delays every time, each
#    a fraction of the command's own uninterrupted time measured first) to the whole process
#    group of `replay`, `pack`, `profile`, `report` and `sweep run` (for `sweep run`, every
#    other kill hits the runner alone and its jobs run on); and, where strace is installed,
#    a few more on entry to chosen syscalls (the last rename, renameat2 and fsync, the
#    middle and last write: strace's fault injection), since a timed kill seldom lands
#    inside a short write. After each kill, a final path either does not exist or is
#    complete and valid (equal to an uninterrupted run's output where that is
#    deterministic; JSON parsed); beside it only the documented temporary names
#    (DIR.tmp-<pid>-XXXXXX for a run directory, PATH.tmp.XXXXXX for a file). The next trial
#    reruns the same command on the same path: it must finish or be killed, never fail;
#    each chain ends with a run that completes, and a resumed sweep ends with the results
#    of an uninterrupted one.
#  * A full disk (a small tmpfs) and a read-only output folder (a tmpfs remounted
#    read-only; chmod does not stop root): one error line naming the cause, exit != 0,
#    nothing half-written, earlier results in the folder intact. Needs root and mount(2);
#    skipped with the reason where they are not there.
#  * A missing OpenCL device (OCL_ICD_VENDORS at an empty directory), a missing
#    qemu-system-arm and a missing gnuplot (a PATH of symlinks without it): one error line
#    naming the Debian package, exit != 0, no crash.
#
# What it found: docs/reliability.md. FAULT_SEED picks other delays; FAULT_<CMD>_TRIALS
# other counts (REPLAY, PACK, PROFILE, REPORT, SWEEP); FAULT_KEEP=1 keeps the temporary
# directory (after unmounting). TAP.
set -u
SUPERNAV=${SUPERNAV:-build/supernav}
MODEL=${SN_MODEL:-build/supernet.snm}
ROOT=$(pwd)
SEED=${FAULT_SEED:-17}
if [ ! -f data/canvas/cf64-test-images-idx3-ubyte ]; then
    echo "1..0 # SKIP no CF-64 test split (make datasets)"; exit 0
fi
unset SN_GNUPLOT SUPERNAV_OPENCL_DEVICE
tmp=$(mktemp -d) || exit 1
# copies of supernav and the model image: a build beside this test may replace them meanwhile
cp "$SUPERNAV" "$tmp/supernav" && cp "$MODEL" "$tmp/model.snm" || exit 1
SUPERNAV=$tmp/supernav
MODEL=$tmp/model.snm
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    for m in $(cat "$tmp/mounts" 2>/dev/null); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
    if [ -n "${FAULT_KEEP:-}" ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
echo "1..34"
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
# todo STATUS DESCRIPTION REASON: a check that waits for a fix outside this test's files
todo() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2 # TODO $3"; fi; }
now() { date +%s.%N; }
# took: seconds since the section began
took() { awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
note() { echo "# $*"; }
t_start=$(now)

# ---- inputs: a 64-canvas data set (hashing the 40 MB test split would dominate every run),
# a null-platform profile pinned for --modelled (so runs are deterministic), traces
D=data/canvas/cf64-test
{ printf '\0\0\10\3\0\0\0\100\0\0\0\100\0\0\0\100'; tail -c +17 "$D-images-idx3-ubyte" | head -c 262144; } > "$tmp/tiny-images-idx3-ubyte"
{ printf '\0\0\10\1\0\0\0\100'; tail -c +9 "$D-labels-idx1-ubyte" | head -c 64; } > "$tmp/tiny-labels-idx1-ubyte"
{ printf '\0\0\10\2\0\0\0\100\0\0\0\4'; tail -c +13 "$D-boxes-idx2-ubyte" | head -c 256; } > "$tmp/tiny-boxes-idx2-ubyte"
DATA=$tmp/tiny
"$SUPERNAV" trace gen sushi --count 20000 --seed 5 --rate 800 --ceiling-us 1500 --samples 64 -o "$tmp/t.csv" > /dev/null 2>&1
"$SUPERNAV" trace gen sushi --count 30 --seed 6 --rate 800 --ceiling-us 1500 --samples 64 -o "$tmp/small.csv" > /dev/null 2>&1
mkdir -p "$tmp/pin"
(cd "$tmp/pin" && "$SUPERNAV" profile --platform null --model "$MODEL" --data "$DATA" > /dev/null 2>&1)
PROFILE_NAME=$(ls "$tmp/pin/build/profile" 2>/dev/null | head -n 1)
cp "$tmp/pin/build/profile/$PROFILE_NAME" "$tmp/null-profile.json" 2>/dev/null
replay_args() { # TRACE OUT: a deterministic replay (modelled time on the pinned null profile)
    echo "replay --platform null --model $MODEL --data $DATA --trace $1 --policy sushi --modelled --profile $tmp/null-profile.json --out $2 --quiet"
}
"$SUPERNAV" $(replay_args "$tmp/small.csv" "$tmp/ref-small") > /dev/null 2>&1
cp workloads/supernet/supernet.safetensors "$tmp/in.safetensors"
pack_args() { echo "pack $tmp/in.safetensors --table $ROOT/workloads/supernet/accuracy.csv -o $1"; }
# report inputs: two runs of a plotted platform (cpu, modelled on the CI gate's pinned
# profile, with the plain build's image in a sanitizer build, tests/san_pinned_model.sh; where
# that profile is of neither image, the fpga model, slower: 17 s each under the sanitizers)
rmodel=$(sh tests/san_pinned_model.sh)
for p in sushi nocache; do
    "$SUPERNAV" replay --model "${rmodel:-$MODEL}" --data "$DATA" --trace "$tmp/small.csv" --policy $p --modelled \
        --isa avx2 --near-kib 768 --profile ci/baselines/cpu-profile.json --out "$tmp/set/$p" --quiet > /dev/null 2>&1 ||
    "$SUPERNAV" replay --platform fpga --model "$MODEL" --data "$DATA" --trace "$tmp/small.csv" --policy $p --modelled \
        --out "$tmp/set/$p" --quiet > /dev/null 2>&1
done
"$SUPERNAV" report "$tmp/set" -o "$tmp/ref-rep" > /dev/null 2>&1

# ---- the SIGKILL harness -----------------------------------------------------------------
# The five commands' trials run side by side, one chain each in the background (each in its
# own directories), beside the full-disk, read-only and missing-tool checks, so that the
# test keeps to about a minute on two busy cores; each chain measures its command's
# uninterrupted time under that same load, and its kill delays are fractions of it. A chain
# writes its results to $tmp/results.NAME: "0|text" (ok), "1|text" (not ok), "S|reason"
# (skip), "T0|text<TAB>reason", "T1|..." (todo), "#|note".
#
# killed_run DELAY CMD...: CMD in a process group of its own, SIGKILL to the group after
# DELAY seconds (KILL_ONLY_LEADER=1: to CMD alone), then waits until the group is gone;
# krc = CMD's exit status (137: killed), its stderr in $tmp/trial.$chain.err
KILL_ONLY_LEADER=0
killed_run() {
    d=$1; shift
    perl -e 'setpgrp(0, 0); exec @ARGV or exit 127' "$@" > /dev/null 2> "$tmp/trial.$chain.err" &
    kpid=$!
    sleep "$d"
    if [ "$KILL_ONLY_LEADER" = 1 ]; then
        kill -9 "$kpid" 2>/dev/null
    else
        kill -9 -"$kpid" 2>/dev/null || kill -9 "$kpid" 2>/dev/null
    fi
    { wait "$kpid"; } 2> /dev/null
    krc=$?
    while kill -0 -"$kpid" 2>/dev/null; do sleep 0.02; done
}
# kill_points CMD...: runs CMD once under strace and prints SYSCALL:N for the middle and the
# last write(2), and the last fsync(2), rename(2) and renameat2(2) it makes (N counted per
# syscall, as strace's fault injection counts them); nothing without strace
STRACE=$(command -v strace || true)
kill_points() {
    [ -n "$STRACE" ] || return 0
    "$STRACE" -qq -e trace=write,fsync,rename,renameat2 -o "$tmp/strace.$chain" "$@" > /dev/null 2>&1
    awk 'match($0, /^(write|fsync|rename|renameat2)\(/) { c[substr($0, 1, RLENGTH - 1)]++ }
         END { for (s in c) { print s ":" c[s]; if (s == "write" && c[s] > 2) print s ":" int((c[s] + 1) / 2) } }' "$tmp/strace.$chain"
}
# syscall_kill SYSCALL:N CMD...: CMD under strace, SIGKILLed as it enters that call; krc as
# for killed_run
syscall_kill() {
    sc=${1%%:*}; at=${1#*:}; shift
    "$STRACE" -qq -o /dev/null -e trace="$sc" -e inject="$sc:signal=KILL:when=$at" "$@" > /dev/null 2> "$tmp/trial.$chain.err"
    krc=$?
    targeted=$((targeted + 1))
}
# delays NAME COUNT SECONDS LO SPAN: COUNT delays of SECONDS x (LO + SPAN x u), u seeded
# pseudo-random numbers in [0, 1), one stream per NAME
delays() {
    awk -v seed="$SEED" -v name="$1" -v n="$2" -v t="$3" -v lo="$4" -v span="$5" 'BEGIN {
        s = seed; for (i = 1; i <= length(name); ++i) s = s * 31 + index("abcdefghijklmnopqrstuvwxyz", substr(name, i, 1));
        srand(s % 2147483647); for (i = 0; i < n; ++i) printf "%.3f\n", t * (lo + span * rand()) }'
}
timed() { # CMD...: runs it, prints its wall seconds (its output discarded)
    a=$(now); "$@" > /dev/null 2>&1; b=$(now)
    awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }'
}
start_chain() { chain=$1; t0=$(now); killed=0; finished=0; failed=0; failed_why=""; bad=0; bad_why=""; targeted=0; : > "$tmp/results.$chain"; }
# targeted_note: what the syscall-targeted kills of a chain were
targeted_note() {
    if [ -n "$STRACE" ]; then chain_note "  the kills at syscalls (strace's fault injection, on entry; SYSCALL:Nth): $1"
    else chain_note "  (strace is not installed: no kills at syscalls)"; fi
}
result() { printf '%s|%s\n' "$1" "$2" >> "$tmp/results.$chain"; }
chain_note() { printf '#|%s\n' "$*" >> "$tmp/results.$chain"; }
# tally KRC: a trial's outcome; a command that failed by itself is noted in $failed_why
tally() {
    case $1 in 137) killed=$((killed + 1)) ;; 0) finished=$((finished + 1)) ;;
        *) failed=$((failed + 1)); failed_why="$failed_why [exit $1: $(grep -v '^sweep: \|^profile: ' "$tmp/trial.$chain.err" | head -c 200)]" ;; esac
}
# check MODE ARGS...: the state after a kill (check.pl); a problem is noted in $bad_why
check() {
    if ! perl "$tmp/check.pl" "$@" > "$tmp/check.$chain.out" 2>&1; then
        bad=$((bad + 1)); bad_why="$bad_why [$(head -c 300 "$tmp/check.$chain.out")]"
    fi
}
# The checker: one perl process per trial (forks are dear on a loaded machine). It prints
# what is wrong, or nothing, and adds the count of JSON files it parsed to $tmp/parsed.
cat > "$tmp/check.pl" <<'PERL'
use strict;
use warnings;
my $json;
sub decode { $json //= do { require JSON::PP; JSON::PP->new->allow_nonref }; $json->decode($_[0]) }
my @bad;
my $parsed = 0;
sub slurp { my ($f) = @_; open(my $h, '<:raw', $f) or return undef; local $/; my $t = <$h>; $t }
sub same { my ($x, $y) = map { slurp($_) } @_; defined $x && defined $y && $x eq $y }
sub parses { my $t = slurp($_[0]); ++$parsed; defined $t && eval { decode($t); 1 } }
sub entries { opendir(my $h, $_[0]) or return (); my @e = sort grep { !/^\.\.?$/ } readdir $h; @e }
# a complete run directory: exactly its five files, queries.csv and summary.json equal to
# the uninterrupted run's, the JSON files parse, counters.csv whole lines
sub run_ok {
    my ($d, $ref) = @_;
    my $files = join ' ', entries($d);
    return "$d holds '$files'" if $files ne 'context.json counters.csv policy.json queries.csv summary.json';
    for (qw(queries.csv summary.json)) { return "$d/$_ differs from the uninterrupted run's" unless same("$d/$_", "$ref/$_") }
    for (qw(context.json policy.json summary.json)) { return "$d/$_ does not parse" unless parses("$d/$_") }
    my $c = slurp("$d/counters.csv") // '';
    return "$d/counters.csv is cut" unless $c =~ /\Aname,source,available,value,unit,reason,note\n(?:[^\n]*\n)*\z/;
    return '';
}
my $mode = shift;
if ($mode eq 'run') {           # DIR REF: a complete run directory
    my $m = run_ok(@ARGV);
    push @bad, $m if $m;
} elsif ($mode eq 'runs') {          # PARENT REF [NAME]: run directories (NAME checked) and their DIR.tmp-PID-XXXXXX
    my ($p, $ref, $name) = @ARGV;
    for my $e (entries($p)) {
        next if $e =~ /^[^.]+\.tmp-\d+-[A-Za-z0-9]{6}\z/;
        if ($e !~ /^r\d+\z/) { push @bad, "stray $p/$e"; next }
        next if defined $name && $e ne $name;
        my $m = run_ok("$p/$e", $ref);
        push @bad, $m if $m;
    }
} elsif ($mode eq 'file') {     # DIR NAME REF: NAME equal to REF, and NAME.tmp.XXXXXX
    my ($p, $name, $ref) = @ARGV;
    for my $e (entries($p)) {
        next if $e =~ /^\Q$name\E\.tmp\.[A-Za-z0-9]{6}\z/;
        if ($e ne $name) { push @bad, "stray $p/$e"; next }
        push @bad, "$e differs from the uninterrupted output (" . (-s "$p/$e") . " bytes)" unless same("$p/$e", $ref);
    }
} elsif ($mode eq 'profile') {  # DIR NAME SUBNETS: the cache parses and is whole; NAME.tmp.XXXXXX
    my ($p, $name, $n) = @ARGV;
    for my $e (entries($p)) {
        next if $e =~ /^\Q$name\E\.tmp\.[A-Za-z0-9]{6}\z/;
        if ($e ne $name) { push @bad, "stray $p/$e"; next }
        my $t = slurp("$p/$e") // '';
        my $j = eval { decode($t) };
        ++$parsed;
        if (!$j) { push @bad, "$e does not parse (" . length($t) . " bytes)"; next }
        push @bad, "$e is not whole" unless ref $j->{subnets} eq 'ARRAY' && @{$j->{subnets}} == $n
            && ref $j->{rows} eq 'ARRAY' && @{$j->{rows}} == $n * ($n + 1) && ref $j->{switch} eq 'ARRAY' && @{$j->{switch}} == $n;
    }
} elsif ($mode eq 'report') {   # DIR REF: every file the uninterrupted report's (a plot script up to its output path)
    my ($p, $ref) = @ARGV;
    my @todo = ('');
    while (defined(my $sub = shift @todo)) {
        for my $e (entries("$p$sub")) {
            my $f = "$sub/$e";
            if (-d "$p$f") { push @todo, $f; next }
            next if $e =~ /\.tmp\.[A-Za-z0-9]{6}\z/ || $f eq '/plots/gnuplot.log';
            if ($e =~ /\.gp\z/) {
                my ($x, $y) = map { my $t = slurp($_) // ''; $t =~ s/^.*set output .*$//mg; $t } "$p$f", "$ref$f";
                push @bad, "$f differs" if $x ne $y;
            } else {
                # the same up to the minute it was made
                my ($x, $y) = map { my $t = slurp($_); $t =~ s/Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC//g if defined $t; $t } "$p$f", "$ref$f";
                push @bad, "$f differs from the uninterrupted report's (" . (-s "$p$f") . " bytes)" unless defined $x && defined $y && $x eq $y;
            }
        }
    }
} elsif ($mode eq 'sweep') {    # DIR REFDIR: done only beside its complete run; runs/, jobs/ hold runs, outputs, temporaries
    my ($p, $ref) = @ARGV;
    for my $j (entries("$p/jobs")) {
        for my $e (entries("$p/jobs/$j")) {
            if ($e eq 'done') {
                my $m = run_ok("$p/runs/$j", "$ref/runs/$j");
                push @bad, "$j is done but $m" if $m;
                push @bad, "$j/done does not parse" unless parses("$p/jobs/$j/done");
            } elsif ($e =~ /^attempt-\d+\.run\z/) {
                my $m = run_ok("$p/jobs/$j/$e", "$ref/runs/$j");
                push @bad, $m if $m;
            } elsif ($e eq 'failed') {
                push @bad, "$j/failed does not parse" unless parses("$p/jobs/$j/failed");
            } elsif ($e !~ /^(?:lock|stdout|stderr|attempt-\d+\.std(?:out|err)|(?:done|failed)\.tmp\.[A-Za-z0-9]{6})\z/) {
                push @bad, "stray jobs/$j/$e";
            }
        }
    }
    for my $e (entries("$p/runs")) {
        next if $e =~ /^[^.]+\.tmp-\d+-[A-Za-z0-9]{6}\z/;
        my $m = run_ok("$p/runs/$e", "$ref/runs/$e");
        push @bad, $m if $m;
    }
} else {
    die "check.pl: unknown mode $mode\n";
}
if (open(my $h, '>>', "$ENV{FAULT_TMP}/parsed")) { print $h "$parsed\n" }
print join('; ', @bad), "\n" if @bad;
exit(@bad ? 1 : 0);
PERL
FAULT_TMP=$tmp
export FAULT_TMP
# a sanitizer build (BUILD=build/san-...) checks memory on a fifth of the kills: each one
# there takes several times as long, and the kill coverage is the plain build's
MIN_TRIALS=200 D_REPLAY=45 D_PACK=55 D_PROFILE=45 D_REPORT=40 D_SWEEP=20
case "${BUILD:-build}" in *san*) MIN_TRIALS=40 D_REPLAY=9 D_PACK=11 D_PROFILE=9 D_REPORT=8 D_SWEEP=4 ;; esac
N_REPLAY=${FAULT_REPLAY_TRIALS:-$D_REPLAY}
N_PACK=${FAULT_PACK_TRIALS:-$D_PACK}
N_PROFILE=${FAULT_PROFILE_TRIALS:-$D_PROFILE}
N_REPORT=${FAULT_REPORT_TRIALS:-$D_REPORT}
N_SWEEP=${FAULT_SWEEP_TRIALS:-$D_SWEEP}

# ---- replay: a chain of kills on one --out (the next trial reruns it); a kill after the
# run directory appeared starts a new chain
chain_replay() {
    start_chain replay
    T=$(timed "$SUPERNAV" $(replay_args "$tmp/t.csv" "$tmp/ref-run"))
    N=$N_REPLAY
    mkdir -p "$tmp/replay"
    c=0
    for d in $(delays replay "$N" "$T" 0.05 0.75); do
        killed_run "$d" "$SUPERNAV" $(replay_args "$tmp/t.csv" "$tmp/replay/r$c")
        tally $krc
        check runs "$tmp/replay" "$tmp/ref-run" "r$c"
        [ -e "$tmp/replay/r$c" ] && c=$((c + 1))
    done
    points=$(kill_points "$SUPERNAV" $(replay_args "$tmp/t.csv" "$tmp/replay-points"))
    for at in $points; do
        syscall_kill "$at" "$SUPERNAV" $(replay_args "$tmp/t.csv" "$tmp/replay/r$c")
        tally $krc
        check runs "$tmp/replay" "$tmp/ref-run" "r$c"
        [ -e "$tmp/replay/r$c" ] && c=$((c + 1))
    done
    last=0
    [ -e "$tmp/replay/r$c" ] || { "$SUPERNAV" $(replay_args "$tmp/t.csv" "$tmp/replay/r$c") > /dev/null 2>&1; last=$?; }
    check runs "$tmp/replay" "$tmp/ref-run"
    chain_note "replay ($(took)): $N timed kills and $targeted at syscalls (an uninterrupted run ${T} s; delays 0.05-0.8 x that): $killed killed, $finished finished first, $failed failed by themselves; $((c + 1)) run directories; $(ls "$tmp/replay" | grep -c '\.tmp-') kills landed while one was written (its DIR.tmp-* left)"
    targeted_note "$(echo $points)"
    result $(( bad != 0 )) "replay, $N timed kills and $targeted at syscalls: the run directory is absent or complete and equal to an uninterrupted run's; only DIR.tmp-* beside it$bad_why"
    result $(( failed != 0 || last != 0 )) "replay: every rerun after a kill finished or was killed, none failed; the last completes$failed_why"
}

# ---- pack: every kill on the same output path (pack replaces an existing image)
chain_pack() {
    start_chain pack
    T=$(timed "$SUPERNAV" $(pack_args "$tmp/ref.snm"))
    N=$N_PACK
    mkdir -p "$tmp/pack"
    present=0
    for d in $(delays pack "$N" "$T" 0.05 0.75); do
        killed_run "$d" "$SUPERNAV" $(pack_args "$tmp/pack/m.snm")
        tally $krc
        check file "$tmp/pack" m.snm "$tmp/ref.snm"
        [ -e "$tmp/pack/m.snm" ] && present=$((present + 1))
    done
    rm -f "$tmp/pack/m.snm"
    points=$(kill_points "$SUPERNAV" $(pack_args "$tmp/pack-points.snm"))
    for at in $points; do
        syscall_kill "$at" "$SUPERNAV" $(pack_args "$tmp/pack/m.snm")
        tally $krc
        check file "$tmp/pack" m.snm "$tmp/ref.snm"
    done
    "$SUPERNAV" $(pack_args "$tmp/pack/m.snm") > /dev/null 2>&1; last=$?
    check file "$tmp/pack" m.snm "$tmp/ref.snm"
    "$SUPERNAV" info "$tmp/pack/m.snm" > "$tmp/info" 2>&1 && grep -q 'checksums ok' "$tmp/info" &&
        "$SUPERNAV" subnets "$tmp/pack/m.snm" > "$tmp/subnets" 2>&1
    r=$?
    chain_note "pack ($(took)): $N timed kills and $targeted at syscalls (uninterrupted ${T} s; delays 0.05-0.8 x): $killed killed, $finished finished first, $failed failed by themselves; an image was there after $present; $(ls "$tmp/pack" | grep -c '\.tmp\.') kills landed while it was written (OUT.tmp.* left)"
    targeted_note "$(echo $points) (the image removed first)"
    result $(( bad != 0 )) "pack, $N timed kills and $targeted at syscalls: the image is absent or byte-identical to an uninterrupted pack's; only OUT.tmp.* beside it$bad_why"
    result $(( failed != 0 || last != 0 || r != 0 )) "pack: no rerun failed; the last completes and its image loads (info: checksums ok; subnets: $(($(wc -l < "$tmp/subnets") - 1)) rows)$failed_why"
}

# ---- profile: --force on one cache (build/profile/ under the working directory)
chain_profile() {
    start_chain profile
    mkdir -p "$tmp/profref" "$tmp/prof"
    T=$(cd "$tmp/profref" && timed "$SUPERNAV" profile --platform null --model "$MODEL" --data "$DATA" --force)
    SUBNETS=$(perl -MJSON::PP -0777 -ne 'print scalar @{decode_json($_)->{subnets}}' "$tmp/null-profile.json")
    N=$N_PROFILE
    present=0
    for d in $(delays profile "$N" "$T" 0.05 0.75); do
        (cd "$tmp/prof" && killed_run "$d" "$SUPERNAV" profile --platform null --model "$MODEL" --data "$DATA" --force; exit $krc)
        tally $?
        check profile "$tmp/prof/build/profile" "$PROFILE_NAME" "$SUBNETS"
        [ -e "$tmp/prof/build/profile/$PROFILE_NAME" ] && present=$((present + 1))
    done
    points=$(cd "$tmp/profref" && kill_points "$SUPERNAV" profile --platform null --model "$MODEL" --data "$DATA" --force)
    for at in $points; do
        (cd "$tmp/prof" && syscall_kill "$at" "$SUPERNAV" profile --platform null --model "$MODEL" --data "$DATA" --force; exit $krc)
        tally $?
        targeted=$((targeted + 1))
        check profile "$tmp/prof/build/profile" "$PROFILE_NAME" "$SUBNETS"
    done
    (cd "$tmp/prof" && "$SUPERNAV" profile --platform null --model "$MODEL" --data "$DATA" --force > /dev/null 2>&1); last=$?
    "$SUPERNAV" $(replay_args "$tmp/small.csv" "$tmp/prof-check" | sed "s|--profile [^ ]*|--profile $tmp/prof/build/profile/$PROFILE_NAME|") \
        > /dev/null 2> "$tmp/prof-check.err"
    r=$?
    chain_note "profile ($(took)): $N timed kills and $targeted at syscalls (uninterrupted ${T} s; delays 0.05-0.8 x): $killed killed, $finished finished first, $failed failed by themselves; a cache was there after $present; $(ls "$tmp/prof/build/profile" | grep -c '\.tmp\.') kills landed while it was written (CACHE.tmp.* left)"
    targeted_note "$(echo $points)"
    result $(( bad != 0 )) "profile, $N timed kills and $targeted at syscalls: the cache is absent or whole (it parses, $SUBNETS SubNets, every row); only CACHE.tmp.* beside it$bad_why"
    result $(( failed != 0 || last != 0 || r != 0 )) "profile: no rerun failed; the last completes and replay --profile reads its cache $(head -c 200 "$tmp/prof-check.err")$failed_why"
}

# ---- report: every kill on the same -o (a report rewrites its directory); the kill reaches
# gnuplot too
chain_report() {
    start_chain report
    T=$(timed "$SUPERNAV" report "$tmp/set" -o "$tmp/ref-rep2")
    N=$N_REPORT
    for d in $(delays report "$N" "$T" 0.05 0.75); do
        killed_run "$d" "$SUPERNAV" report "$tmp/set" -o "$tmp/rep"
        tally $krc
        check report "$tmp/rep" "$tmp/ref-rep"
    done
    points=$(kill_points "$SUPERNAV" report "$tmp/set" -o "$tmp/rep-points")
    for at in $points; do
        syscall_kill "$at" "$SUPERNAV" report "$tmp/set" -o "$tmp/rep"
        tally $krc
        check report "$tmp/rep" "$tmp/ref-rep"
    done
    "$SUPERNAV" report "$tmp/set" -o "$tmp/rep" > /dev/null 2>&1; last=$?
    check report "$tmp/rep" "$tmp/ref-rep"
    chain_note "report ($(took)): $N timed kills and $targeted at syscalls (uninterrupted ${T} s; delays 0.05-0.8 x): $killed killed, $finished finished first, $failed failed by themselves; $(find "$tmp/rep" -name '*.tmp.*' | wc -l) temporary files left by kills while a file was written"
    targeted_note "$(echo $points) (supernav's own calls; gnuplot writes to a pipe)"
    result $(( bad != 0 )) "report, $N timed kills and $targeted at syscalls: every report.md, report.html, plot script and SVG there is the uninterrupted report's$bad_why"
    result "$([ $failed = 0 ] && [ $last = 0 ] && [ -s "$tmp/rep/report.html" ] &&
              [ "$(ls "$tmp/rep/plots" | grep -c '\.svg$')" = "$(ls "$tmp/ref-rep/plots" | grep -c '\.svg$')" ]; echo $?)" \
        "report: no rerun failed; the last completes with every plot$failed_why"
}

# ---- sweep run: kills until the sweep is done, then a new sweep; every other kill hits the
# runner alone (its jobs finish on their own, as after an OOM kill of the runner)
all_done() { [ "$(ls "$1"/jobs/*/done 2>/dev/null | wc -l)" = 4 ]; }
chain_sweep() {
    start_chain sweep
    "$SUPERNAV" sweep plan "$tmp/f.sweep" -o "$tmp/sref" > /dev/null 2>&1
    T=$(timed "$SUPERNAV" sweep run "$tmp/sref" -j 2)
    N=$N_SWEEP
    c=0; sweeps=0; k=0
    "$SUPERNAV" sweep plan "$tmp/f.sweep" -o "$tmp/sw/s$c" > /dev/null 2>&1
    for d in $(delays sweep "$N" "$T" 0.05 0.6); do
        k=$((k + 1))
        KILL_ONLY_LEADER=$((k % 2))
        killed_run "$d" "$SUPERNAV" sweep run "$tmp/sw/s$c" -j 2
        KILL_ONLY_LEADER=0
        tally $krc
        check sweep "$tmp/sw/s$c" "$tmp/sref"
        if all_done "$tmp/sw/s$c"; then
            sweeps=$((sweeps + 1)); c=$((c + 1))
            "$SUPERNAV" sweep plan "$tmp/f.sweep" -o "$tmp/sw/s$c" > /dev/null 2>&1
        fi
    done
    "$SUPERNAV" sweep run "$tmp/sw/s$c" -j 2 > /dev/null 2>&1; last=$?
    all_done "$tmp/sw/s$c" && sweeps=$((sweeps + 1))
    # the finished sweeps: every job done, its run equal to the uninterrupted sweep's
    unfinished=0
    for s in $(ls "$tmp/sw"); do all_done "$tmp/sw/$s" || unfinished=$((unfinished + 1)); check sweep "$tmp/sw/$s" "$tmp/sref"; done
    chain_note "sweep run ($(took)): $N kills (4 jobs, -j 2, uninterrupted ${T} s; delays 0.05-0.65 x; every other kill to the runner alone): $killed killed, $finished finished first, $failed failed by themselves; $sweeps sweeps finished; $(find "$tmp/sw" -name '*.tmp*' | wc -l) temporaries left (a job's run directory or a marker being written)"
    result $(( bad != 0 )) "sweep run, $N kills: a done marker only beside its complete run; runs/ and jobs/ hold complete runs, outputs and temporary names only$bad_why"
    result $(( failed != 0 || last != 0 || unfinished != 0 )) "sweep run: every resumed run went on (none failed); $sweeps sweeps finished, each job's run equal to the uninterrupted sweep's$failed_why"
    # a runner killed between two of its set-aside renames (attempt-1.stdout moved, the run
    # not yet), then a retry killed after its run appeared: the state is built here, since
    # a timed kill lands in that microsecond window too rarely
    s=$tmp/sw-aside
    "$SUPERNAV" sweep plan "$tmp/f.sweep" -o "$s" > /dev/null 2>&1
    "$SUPERNAV" sweep run "$s" --task 0 > /dev/null 2>&1
    j=$s/jobs/sushi_8
    rm -f "$j/done"
    mv "$j/stdout" "$j/attempt-1.stdout"
    cp "$j/stderr" "$j/attempt-2.stderr"
    cp -R "$s/runs/sushi_8" "$j/attempt-2.run"
    echo "the retry's output" > "$j/stdout"
    "$SUPERNAV" sweep run "$s" --task 0 > /dev/null 2> "$tmp/aside.err"; rc=$?
    bad=0; bad_why=""
    check sweep "$s" "$tmp/sref"
    result "$([ $rc = 0 ] && [ $bad = 0 ] && [ -e "$j/done" ] && [ -f "$j/attempt-1.stdout" ] && [ -f "$j/attempt-2.stderr" ] &&
              [ -d "$j/attempt-2.run" ] && grep -q "the retry's output" "$j"/attempt-*.stdout && [ -d "$j"/attempt-3.run ]; echo $?)" \
        "sweep run after a kill between set-aside renames: exits $rc, the job done, every earlier attempt's output and run kept ($(ls "$j" | tr '\n' ' '))$bad_why $(grep -v '^sweep: ' "$tmp/aside.err" | head -c 200)"
}

chain_faults() {
    chain=faults
    : > "$tmp/results.$chain"
    ok() { printf '%s|%s\n' "$1" "$2" >> "$tmp/results.$chain"; }
    skip() { printf 'S|%s\n' "$1" >> "$tmp/results.$chain"; }
    todo() { printf 'T%s|%s\t%s\n' "$1" "$2" "$3" >> "$tmp/results.$chain"; }
    # ---- full disk and read-only folder ----------------------------------------------------
    # one_error FILE PATTERN: FILE holds exactly one line besides progress ("profile: ...",
    # "sweep: ..."), and it matches PATTERN
    one_error() {
        [ "$(grep -cv '^profile: \|^sweep: ' "$1")" = 1 ] && grep -v '^profile: \|^sweep: ' "$1" | grep -q "$2"
    }
    errline() { grep -v '^profile: \|^sweep: ' "$1" | head -n 2 | tr '\n' ' ' | cut -c1-220; }
    # snapshot DIR: every file under DIR with its SHA-256 (sweep locks aside)
    snapshot() { (cd "$1" && find . -type f ! -name lock | sort | xargs -r sha256sum); }
    # earlier_results DIR: a run, a profile cache, a sweep with one job done
    earlier_results() {
        "$SUPERNAV" $(replay_args "$tmp/small.csv" "$1/r0") > /dev/null 2>&1
        (cd "$1" && "$SUPERNAV" profile --platform null --model "$MODEL" --data "$DATA" > /dev/null 2>&1)
        "$SUPERNAV" sweep plan "$tmp/f.sweep" -o "$1/sw" > /dev/null 2>&1
        "$SUPERNAV" sweep run "$1/sw" --task 0 > /dev/null 2>&1
    }
    can_mount=""
    if [ "$(id -u)" != 0 ]; then
        can_mount="not root (a small tmpfs is mounted for it)"
    else
        mkdir -p "$tmp/probe"
        if mount -t tmpfs -o size=64k tmpfs "$tmp/probe" 2> "$tmp/err"; then
            umount "$tmp/probe"
        else
            can_mount="cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?): $(head -n 1 "$tmp/err")"
        fi
    fi

    if [ -z "$can_mount" ]; then
        F=$tmp/full
        mkdir -p "$F"
        mount -t tmpfs -o size=1m tmpfs "$F" && echo "$F" >> "$tmp/mounts"
        earlier_results "$F"
        # fill it up to 48 KiB free: small files fit, a queries.csv, a profile, an image or a
        # report's plots do not
        dd if=/dev/zero of="$F/filler" bs=4096 2>/dev/null
        truncate -s -48K "$F/filler"
        snapshot "$F" | grep -v ' ./filler$' > "$tmp/full.before"
        "$SUPERNAV" $(replay_args "$tmp/t.csv" "$F/r1") > /dev/null 2> "$tmp/err"; rc=$?
        ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" 'No space left on device' && [ ! -e "$F/r1" ] &&
              ! ls -d "$F"/r1.tmp-* > /dev/null 2>&1; echo $?)" "full disk: replay exits $rc with one line: $(errline "$tmp/err"); no run directory, no temporary left"
        "$SUPERNAV" $(pack_args "$F/m.snm") > /dev/null 2> "$tmp/err"; rc=$?
        ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" 'No space left on device' && [ -z "$(ls "$F" | grep '^m\.snm')" ]; echo $?)" \
            "full disk: pack exits $rc with one line: $(errline "$tmp/err"); no image, no temporary"
        (cd "$F" && "$SUPERNAV" profile --platform null --model "$MODEL" --data "$DATA" --force > /dev/null 2> "$tmp/err"); rc=$?
        ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" 'No space left on device' && [ "$(ls "$F/build/profile")" = "$PROFILE_NAME" ]; echo $?)" \
            "full disk: profile --force exits $rc with one line: $(errline "$tmp/err"); the earlier cache stays, no temporary"
        "$SUPERNAV" report "$tmp/set" -o "$F/rep" > /dev/null 2> "$tmp/err"; rc=$?
        bad=0; bad_why=""
        [ -d "$F/rep" ] && check report "$F/rep" "$tmp/ref-rep"
        ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" 'No space left on device' && [ $bad = 0 ] &&
              [ ! -e "$F/rep/report.html" ] && [ -z "$(find "$F/rep" -name '*.tmp.*')" ]; echo $?)" \
            "full disk: report exits $rc with one line: $(errline "$tmp/err"); every plot there whole, no report.html, no temporary$bad_why"
        "$SUPERNAV" sweep run "$F/sw" -j 1 > /dev/null 2> "$tmp/err"; rc=$?
        ok "$([ $rc = 1 ] && [ "$(grep -c 'FAILED  ' "$tmp/err")" = 3 ] && [ "$(ls "$F/sw/runs")" = sushi_8 ] &&
              [ "$(ls "$F"/sw/jobs/*/done)" = "$F/sw/jobs/sushi_8/done" ]; echo $?)" \
            "full disk: sweep run exits $rc, the 3 jobs not done FAILED; no run directory, done marker or temporary for them"
        # the disk full at each step of a run's writing (context.json, queries.csv, counters.csv,
        # policy.json, summary.json, the rename): 4 to 24 KiB free, tmpfs counts whole pages
        clean=0; named=0; lines=""
        for free in 4 8 12 16 20 24; do
            rm -f "$F/filler"
            dd if=/dev/zero of="$F/filler" bs=4096 2>/dev/null
            truncate -s "-${free}K" "$F/filler"
            "$SUPERNAV" $(replay_args "$tmp/small.csv" "$F/f$free") > /dev/null 2> "$tmp/err"; rc=$?
            if [ $rc = 0 ]; then
                perl "$tmp/check.pl" run "$F/f$free" "$tmp/ref-small" > /dev/null 2>&1 || clean=$((clean + 1))
                rm -rf "$F/f$free"
            else
                { [ $rc -lt 128 ] && [ ! -e "$F/f$free" ] && ! ls -d "$F/f$free".tmp-* > /dev/null 2>&1; } || clean=$((clean + 1))
                one_error "$tmp/err" "No space left on device" && ! grep -q '\.tmp-' "$tmp/err" || named=$((named + 1))
                lines="$lines [$free KiB: $(errline "$tmp/err")]"
            fi
        done
        rm -f "$F/filler"
        ok $(( clean != 0 )) "full disk at each step of a run (4-24 KiB free): each replay exits != 0 with no run directory and no temporary left, or completes ($clean not)"
        ok $(( named != 0 )) "full disk at each step of a run: each error line names the run directory and 'No space left on device' ($named do not:$lines)"
        # what was there before is still there, byte for byte (the failed jobs' outputs are new)
        snapshot "$F" > "$tmp/full.after"
        lost=$(grep -cvxFf "$tmp/full.after" "$tmp/full.before")
        ok "$([ "$lost" = 0 ] && [ "$(wc -l < "$tmp/full.before")" -gt 8 ]; echo $?)" \
            "full disk: the earlier run, profile cache and finished sweep job are intact ($(wc -l < "$tmp/full.before") files, $lost changed)"
    else
        for i in 1 2 3 4 5 6 7 8; do skip "full disk: $can_mount"; done
    fi

    if [ -z "$can_mount" ]; then
        R=$tmp/ro
        mkdir -p "$R"
        mount -t tmpfs -o size=1m tmpfs "$R" && echo "$R" >> "$tmp/mounts"
        earlier_results "$R"
        mkdir -p "$R/fresh"
        snapshot "$R" > "$tmp/ro.before"
        if mount -o remount,ro "$R" 2> "$tmp/err"; then
            "$SUPERNAV" $(replay_args "$tmp/small.csv" "$R/r1") > /dev/null 2> "$tmp/err"; rc=$?
            ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" 'Read-only file system'; echo $?)" "read-only folder: replay exits $rc with one line: $(errline "$tmp/err")"
            "$SUPERNAV" $(pack_args "$R/m.snm") > /dev/null 2> "$tmp/err"; rc=$?
            ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" 'Read-only file system'; echo $?)" "read-only folder: pack exits $rc with one line: $(errline "$tmp/err")"
            (cd "$R" && "$SUPERNAV" profile --platform null --model "$MODEL" --data "$DATA" --force > /dev/null 2> "$tmp/err"); rc=$?
            ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" 'Read-only file system'; echo $?)" \
                "read-only folder: profile --force over an earlier cache exits $rc with one line: $(errline "$tmp/err")"
            (cd "$R/fresh" && "$SUPERNAV" profile --platform null --model "$MODEL" --data "$DATA" > /dev/null 2> "$tmp/err"); rc=$?
            ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" 'Read-only file system'; echo $?)" \
                "read-only folder: profile without build/profile/ exits $rc with one line naming the cause: $(errline "$tmp/err")"
            "$SUPERNAV" report "$tmp/set" -o "$R/rep" > /dev/null 2> "$tmp/err"; rc=$?
            ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" 'Read-only file system'; echo $?)" "read-only folder: report exits $rc with one line: $(errline "$tmp/err")"
            "$SUPERNAV" sweep run "$R/sw" -j 1 > /dev/null 2> "$tmp/err"; rc=$?
            ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" 'Read-only file system'; echo $?)" "read-only folder: sweep run exits $rc with one line: $(errline "$tmp/err")"
            "$SUPERNAV" sweep plan "$tmp/f.sweep" -o "$R/sw2" > /dev/null 2> "$tmp/err"; rc=$?
            ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" 'Read-only file system'; echo $?)" "read-only folder: sweep plan exits $rc with one line: $(errline "$tmp/err")"
            snapshot "$R" > "$tmp/ro.after"
            ok "$(cmp -s "$tmp/ro.before" "$tmp/ro.after" && [ "$(wc -l < "$tmp/ro.before")" -gt 8 ]; echo $?)" \
                "read-only folder: the earlier run, profile cache and sweep are unchanged ($(wc -l < "$tmp/ro.before") files)"
        else
            for i in 1 2 3 4 5 6 7 8; do skip "read-only folder: cannot remount a tmpfs read-only: $(head -n 1 "$tmp/err")"; done
        fi
    else
        for i in 1 2 3 4 5 6 7 8; do skip "read-only folder: $can_mount (chmod does not stop root)"; done
    fi

    # ---- missing tools ---------------------------------------------------------------------
    # path_without TOOL: a directory of symlinks to everything on PATH but TOOL
    path_without() {
        b=$tmp/path-without-$1
        mkdir -p "$b"
        old_ifs=$IFS; IFS=:
        for d in $PATH; do [ -d "$d" ] && ln -s "$d"/* "$b"/ 2>/dev/null; done
        IFS=$old_ifs
        rm -f "$b/$1"
        echo "$b"
    }
    mkdir -p "$tmp/no-icd"
    OCL_ICD_VENDORS=$tmp/no-icd "$SUPERNAV" profile --platform opencl --model "$MODEL" --data "$DATA" > /dev/null 2> "$tmp/err"; rc=$?
    ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" 'pocl-opencl-icd'; echo $?)" "no OpenCL device: profile exits $rc with one line: $(errline "$tmp/err")"
    OCL_ICD_VENDORS=$tmp/no-icd "$SUPERNAV" replay --platform opencl --model "$MODEL" --data "$DATA" --trace "$tmp/small.csv" \
        --policy sushi --virtual --out "$tmp/ocl-run" --quiet > /dev/null 2> "$tmp/err"; rc=$?
    ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" 'pocl-opencl-icd' && [ ! -e "$tmp/ocl-run" ]; echo $?)" \
        "no OpenCL device: replay exits $rc with one line: $(errline "$tmp/err"); no run directory"
    P=$(path_without qemu-system-arm)
    PATH=$P "$SUPERNAV" profile --platform mcu --board l4r5 --model "$MODEL" --data "$DATA" > /dev/null 2> "$tmp/err"; rc=$?
    ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" "Debian's qemu-system-arm"; echo $?)" "no qemu-system-arm: profile --platform mcu exits $rc with one line: $(errline "$tmp/err")"
    PATH=$P "$SUPERNAV" replay --platform mcu --board l4r5 --model "$MODEL" --data "$DATA" --trace "$tmp/small.csv" --policy sushi \
        --virtual --out "$tmp/mcu-run" --quiet > /dev/null 2> "$tmp/err"; rc=$?
    ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" "Debian's qemu-system-arm" && [ ! -e "$tmp/mcu-run" ]; echo $?)" \
        "no qemu-system-arm: replay --platform mcu exits $rc with one line: $(errline "$tmp/err"); no run directory"
    P=$(path_without gnuplot)
    PATH=$P "$SUPERNAV" report "$tmp/set" -o "$tmp/rep-nognuplot" > /dev/null 2> "$tmp/err"; rc=$?
    ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && one_error "$tmp/err" 'gnuplot-nox' && [ ! -e "$tmp/rep-nognuplot/report.html" ] &&
          [ -z "$(find "$tmp/rep-nognuplot" -name '*.svg*')" ]; echo $?)" "no gnuplot: report exits $rc with one line: $(errline "$tmp/err"); no report.html, no SVG"
    # (sweep collect without gnuplot: after the sweep chain, below)
    echo "$P" > "$tmp/path-without-gnuplot.txt"
}

cat > "$tmp/f.sweep" <<EOF
name = faults
command = $(replay_args "$tmp/small.csv" "{out}" | sed 's/--policy sushi/--policy {policy} --window {window}/')
axis policy = sushi nocache
axis window = 8 16
EOF
for c in replay pack profile report sweep faults; do
    chain_$c &
    pids="$pids $!"
done
wait
pids=""
TAB=$(printf '\t')
for c in replay pack profile report sweep faults; do
    while IFS='|' read -r st text; do
        case $st in
        "#") note "$text" ;;
        S) skip "$text" ;;
        T0|T1) todo "${st#T}" "${text%%"$TAB"*}" "${text#*"$TAB"}" ;;
        *) ok "$st" "$text" ;;
        esac
    done < "$tmp/results.$c"
    if [ $c = sweep ]; then
        TOTAL_TRIALS=$((N_REPLAY + N_PACK + N_PROFILE + N_REPORT + N_SWEEP))
        parsed=$(awk '{ s += $1 } END { print s + 0 }' "$tmp/parsed")
        ok $(( TOTAL_TRIALS < MIN_TRIALS )) "$TOTAL_TRIALS kills in all (at least $MIN_TRIALS); $parsed JSON files at final paths parsed on the way (context, policy, summary, done markers, profile caches)"
    fi
done
PATH=$(cat "$tmp/path-without-gnuplot.txt") "$SUPERNAV" sweep collect "$tmp/sref" -o "$tmp/collect-nognuplot" > /dev/null 2> "$tmp/err"; rc=$?
ok "$([ $rc != 0 ] && [ $rc -lt 128 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -q 'gnuplot-nox' "$tmp/err" &&
      [ -z "$(find "$tmp/collect-nognuplot" -name '*.svg*' 2>/dev/null)" ]; echo $?)" \
    "no gnuplot: sweep collect exits $rc with one line: $(head -c 200 "$tmp/err"); no SVG"
note "whole test: $(awk -v a="$t_start" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s"
