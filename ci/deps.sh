#!/bin/sh
# make deps: install the Debian packages in ci/packages.txt (or the files given) that are
# missing. Quiet and quick when everything is present; idempotent.
set -eu
here=$(dirname "$0")
lists=${*:-$here/packages.txt}
missing=""
for list in $lists; do
    while read -r pkg cmd; do
        case "$pkg" in ''|'#'*) continue ;; esac
        if [ -n "${cmd:-}" ] && command -v "$cmd" >/dev/null 2>&1; then continue; fi
        if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then continue; fi
        missing="$missing $pkg"
    done < "$list"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "make deps: missing Debian packages:$missing; run 'sudo make deps' or 'sudo apt-get install$missing'" >&2
    exit 1
fi
echo "make deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "make deps: done"
