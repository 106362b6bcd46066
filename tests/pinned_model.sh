#!/bin/sh
# Prints the first of the model images given that ci/baselines/cpu-profile.json (the CI gate's
# pinned CPU profile) was measured on, or nothing: a replay on the CPU platform accepts that
# profile only with that image: the plain build's (build/supernet.snm; a sanitizer build serves
# a copy of it, Makefile), not one packed by another build, whose int8 scales may differ in the
# last bits.
#   pmodel=$(sh tests/pinned_model.sh IMAGE...)
want=$(sed -n 's/.*"model_sha256":[[:space:]]*"\([0-9a-f]*\)".*/\1/p' ci/baselines/cpu-profile.json | head -n 1)
for m in "$@"; do
    [ -f "$m" ] && [ -n "$want" ] && [ "$(sha256sum "$m" | cut -d' ' -f1)" = "$want" ] && { echo "$m"; exit 0; }
done
exit 0
