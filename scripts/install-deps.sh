#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# install-deps.sh - install what building and testing libwritewatch needs on
# Debian bookworm.  Runs apt-get only when something is missing (then
# `apt-get update` once first).  Needs root (or sudo) in that case.
#   sh scripts/install-deps.sh                 the library's own packages
#   sh scripts/install-deps.sh --only P...     just packages P... (the test
#                                              rigs: bdwgc-patch, wine-patch)
set -eu

if [ "${1:-}" = --only ]; then
    shift
    PACKAGES="$*"
else
    PACKAGES="build-essential autoconf automake libtool pkg-config check \
libsubunit-dev clang libwine-dev mandoc"
    # Extra packages a caller may ask for (e.g. the benchmark's gnuplot-nox).
    PACKAGES="$PACKAGES ${WW_EXTRA_PACKAGES:-}"
fi

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
