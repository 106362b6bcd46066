#!/bin/sh
# make check-print: library code never prints. Under engine/, harness/ and platforms/ no
# source writes to stdout or stderr (printf, puts, putchar, perror, vprintf, and fprintf /
# fputs / vfprintf / fputc / putc / fwrite to stdout or stderr): errors go back in the
# caller's buffer, progress through a callback, and the CLI prints. Exempt: programs (a
# source defining main: host tools, the MCU firmware, whose stdout is its serial protocol)
# and the MCU firmware's ports (platforms/mcu/qemu/: the UART). Prints each offending line
# as FILE:LINE: TEXT and exits 1; exits 0 when there is none.
#   sh ci/check-no-print.sh [ROOT]    (default: the repository)
set -u
root=${1:-.}
found=0
for dir in engine harness platforms; do
    [ -d "$root/$dir" ] || continue
    for f in $(find "$root/$dir" -name '*.c' -o -name '*.h' -o -name '*.inc' | sort); do
        case $f in */platforms/mcu/qemu/*) continue ;; esac
        grep -Eq '^[a-z].*\bmain\s*\(' "$f" && continue
        # comments and string literals are not calls: strip them before matching
        hits=$(sed -e 's@//.*$@@' -e 's@"\([^"\\]\|\\.\)*"@""@g' "$f" |
               awk '{ line = $0
                      if (incomment) { if (sub(/.*\*\//, "", line)) incomment = 0; else next }
                      while (match(line, /\/\*/)) {
                          rest = substr(line, RSTART + 2)
                          if (match(rest, /\*\//)) line = substr(line, 1, RSTART - 1) " " substr(rest, RSTART + 2)
                          else { line = substr(line, 1, RSTART - 1); incomment = 1 }
                      }
                      if (line ~ /(^|[^a-z_])(printf|puts|putchar|perror|vprintf)[ \t]*\(/ ||
                          line ~ /(^|[^a-z_])(fprintf|fputs|vfprintf|fputc|putc|fwrite)[ \t]*\(.*(stdout|stderr)/ ||
                          line ~ /(^|[^a-z_])(fprintf|vfprintf|fputs|fputc|putc)[ \t]*\((stdout|stderr)/)
                          print NR ": " $0 }')
        if [ -n "$hits" ]; then
            echo "$hits" | sed "s@^@$f:@"
            found=1
        fi
    done
done
exit $found
