#!/bin/sh
# Runs an MCU program on QEMU's mps2-an386 (Cortex-M4F) with semihosting and QEMU's
# instruction clock:  run.sh [-t SECONDS] ELF [ARG...]
# Semihosting gives the program its command line (argv[0] "supernav-mcu", then ARGs, which
# must not contain spaces or commas), host files (paths relative to the current directory)
# and its exit status, which becomes this script's. -icount shift=0: virtual time advances
# exactly 1 ns per executed instruction (see platforms/mcu/README.md). A run that exceeds
# SECONDS of wall time (default 120) is killed and exits 124. The board's LAN9118 gets a
# restricted user-mode network (no host access; the program never uses it) only so that
# QEMU does not warn about a NIC without a peer.
set -eu
limit=120
if [ "${1:-}" = "-t" ]; then limit=$2; shift 2; fi
[ $# -ge 1 ] || { echo "usage: run.sh [-t SECONDS] ELF [ARG...]" >&2; exit 2; }
elf=$1; shift
args=arg=supernav-mcu
for a in "$@"; do
    case "$a" in *[\ ,]*) echo "run.sh: '$a': no spaces or commas in arguments" >&2; exit 2 ;; esac
    args="$args,arg=$a"
done
exec timeout "$limit" qemu-system-arm -M mps2-an386 -cpu cortex-m4 -icount shift=0 \
    -display none -serial none -monitor none -nic user,model=lan9118,restrict=on \
    -semihosting-config "enable=on,target=native,$args" -kernel "$elf"
