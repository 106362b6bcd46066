#!/bin/sh
# Library code never prints (issue 18): ci/check-no-print.sh finds no write to stdout or
# stderr under engine/, harness/ and platforms/ outside programs; and it does find one
# planted in a copy (so this test can fail), and ignores one in a comment or a string.
# The layering: harness/ includes no platform header (platforms are opened through the SUT
# registry), and every registered policy is its own file under harness/policies/.
here=$(cd "$(dirname "$0")/.." && pwd)
echo "1..5"
out=$(sh "$here/ci/check-no-print.sh" "$here" 2>&1)
if [ $? = 0 ]; then echo "ok 1 - engine/, harness/, platforms/ print nothing"
else echo "not ok 1 - library code prints:"; echo "$out" | sed 's/^/# /'; fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/harness" "$tmp/platforms/x"
printf '/* printf("in a comment") */\nstatic const char *s = "puts(";\nvoid f(char *b) { snprintf(b, 4, "%%s", s); }\n' > "$tmp/harness/quiet.c"
if sh "$here/ci/check-no-print.sh" "$tmp" >/dev/null; then echo "ok 2 - comments, strings and snprintf are not prints"
else echo "not ok 2 - a false alarm on comments, strings or snprintf"; fi
printf 'void g(int x)\n{\n    if (x)\n        fprintf(stderr, "x %%d\\n", x);\n}\n' > "$tmp/platforms/x/loud.c"
out=$(sh "$here/ci/check-no-print.sh" "$tmp")
case $out in *loud.c:4:*) echo "ok 3 - a planted fprintf(stderr) is found with its line" ;;
             *) echo "not ok 3 - the planted print was not found: '$out'" ;; esac
inc=$(grep -rEn '#include "sn_(cpu|opencl|fpga|mcu)[a-z_]*\.h"' "$here/harness" 2>/dev/null)
if [ -z "$inc" ]; then echo "ok 4 - harness/ includes no platform header"
else echo "not ok 4 - harness/ includes platform headers:"; echo "$inc" | sed 's/^/# /'; fi
files=$(ls "$here"/harness/policies/*.c 2>/dev/null | wc -l)
regs=$(sed -n '/registry\[\] = {/,/};/p' "$here/harness/sn_policy.c" | grep -o '&sn_policy_[a-z_]*' | wc -l)
defs=$(grep -l '^const sn_policy_ops sn_policy_' "$here"/harness/policies/*.c 2>/dev/null | wc -l)
if [ "$files" -gt 0 ] && [ "$files" = "$regs" ] && [ "$defs" = "$files" ]; then
    echo "ok 5 - each of the $regs registered policies is its own file under harness/policies/"
else
    echo "not ok 5 - $regs registered policies, $files files, $defs defining one policy each"
fi
