#!/bin/sh
# The engine stays portable: no allocation, no stdio, no OS calls on any path. Checks the
# undefined symbols of the host build's engine objects against an allowlist, then compiles
# engine/ with arm-none-eabi-gcc for a Cortex-M4F (make engine-freestanding) and checks
# that build's symbols too. TAP output for prove.
set -u
BUILD=${BUILD:-build}
ALLOWED='^(memset|memcpy|memmove|memcmp|strcmp|strncmp|strlen|sqrtf|expf|__aeabi_[a-z0-9_]+|__stack_chk_(fail|guard))$'
# A sanitizer build (make test SAN=...) adds its runtime's hooks; they are not the engine's.
SANITIZER='^__(asan|ubsan|sanitizer|lsan|tsan|msan)_'
echo "1..2"

check() { # $1 = description, rest = object files
    desc=$1; shift
    bad=$(nm -u "$@" 2>/dev/null | awk 'NF==2 && $1=="U" {print $2}' | sort -u |
          grep -v '^sn_' | grep -Ev "$ALLOWED" | grep -Ev "$SANITIZER" | tr '\n' ' ')
    if [ -n "$bad" ]; then
        echo "not ok $n - $desc references $bad"
    else
        echo "ok $n - $desc calls nothing outside {string.h, sqrtf, expf}"
    fi
}

n=1
objs=$(find "$BUILD/obj/engine" -name '*.o' 2>/dev/null)
if [ -z "$objs" ]; then
    echo "not ok 1 - no engine objects under $BUILD/obj/engine (run make first)"
else
    # shellcheck disable=SC2086
    check "host engine objects" $objs
fi

n=2
if ! command -v arm-none-eabi-gcc >/dev/null 2>&1; then
    echo "not ok 2 - arm-none-eabi-gcc is missing (make deps installs gcc-arm-none-eabi)"
    exit 0
fi
out=$(make --no-print-directory -s engine-freestanding 2>&1) || {
    echo "not ok 2 - make engine-freestanding failed"
    echo "$out" | sed 's/^/# /'
    exit 0
}
# shellcheck disable=SC2046
NM=arm-none-eabi-nm
bad=$($NM -u $(find build/freestanding -name '*.o') | awk 'NF==2 && $1=="U" {print $2}' | sort -u |
      grep -v '^sn_' | grep -Ev "$ALLOWED" | tr '\n' ' ')
if [ -n "$bad" ]; then
    echo "not ok 2 - Cortex-M4F engine references $bad"
else
    echo "ok 2 - engine compiles for Cortex-M4F (arm-none-eabi-gcc, C99, -Werror) and calls nothing outside {string.h, sqrtf, expf}"
fi
