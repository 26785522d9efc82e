#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# build.sh DIR [configure options...] - configure and build libwritewatch
# out of tree in DIR (autoreconf first when ./configure is missing).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1; shift
[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null)
mkdir -p "$dir"
cd "$dir"
[ -f Makefile ] || "$top/configure" -q "$@"
make -s -j"$(nproc)" >/dev/null
