#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# i386.sh - build and test libwritewatch as a 32-bit (i386) library: the
# programs users run under 32-bit Wine are i386 processes on an x86-64
# kernel, where userfaultfd and PAGEMAP_SCAN work as well.
#
#   1. a Debian bookworm i386 chroot (scripts/chroot.sh: mmdebstrap from the
#      machine's own mirror, cached in $WW_CACHE/chroots/i386, default
#      WW_CACHE=/var/cache/libwritewatch, rebuilt only when its inputs change)
#   2. the files git tracks (with their uncommitted edits: a clean clone's
#      view) copied to $WW_CACHE/i386-work/src, bind-mounted into the chroot
#   3. there, under linux32: autoreconf, configure --enable-werror, make,
#      `make check` and `make check-slow` with WW_TEST_REQUIRE=uffd,mprotect
#   4. prints "i386: N passed, N failed, N skipped" and last the line
#      "N passed, N failed" (SKIPs counted in neither).
# Exit status 0 only if everything passed; 77 (skipped) only when the chroot
# cannot be made because Debian's archive cannot be reached.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
ww_cache=${WW_CACHE:-/var/cache/libwritewatch}
work=$ww_cache/i386-work
require=${WW_TEST_REQUIRE:-uffd,mprotect}
packages="build-essential autoconf automake libtool pkg-config check \
libsubunit-dev mandoc"

sh "$top/scripts/install-deps.sh" || exit 1
# shellcheck source=scripts/chroot.sh
. "$top/scripts/chroot.sh"

t0=$(date +%s)
if ! chroot_make i386 bookworm i386 "$packages"; then
    m=$(archive_mirror 2>/dev/null)
    if [ -z "$m" ] || ! /usr/lib/apt/apt-helper -o Acquire::http::Timeout=20 \
            download-file "$m/dists/bookworm/Release" "$ww_cache/.i386-probe" \
            >/dev/null 2>&1; then
        rm -f "$ww_cache/.i386-probe"
        echo "i386: SKIP: Debian's archive cannot be reached; NO i386 BUILD WAS TESTED"
        exit 77
    fi
    rm -f "$ww_cache/.i386-probe"
    echo "i386: the chroot could not be made although the archive answers"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "i386: chroot ready ($(($(date +%s) - t0)) s)"

# A fresh copy of the sources and a fresh build every run.
rm -rf "$work" && mkdir -p "$work/src" || exit 1
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$top" ls-files -z | (cd "$top" && tar --null -T - -cf -) |
        tar -xf - -C "$work/src"
else
    tar -C "$top" --exclude=.git --exclude='./_*' -cf - . | tar -xf - -C "$work/src"
fi || exit 1
# Wine's Windows headers (the Win32 layer's checks against them): the
# host's are the same files for every architecture; copied, not installed
# (libwine-dev:i386 would bring 700 MB of i386 Wine into the chroot).
wine_headers=--without-wine-headers
if [ -d /usr/include/wine/wine/windows ]; then
    mkdir -p "$work/wine/windows" &&
        cp -r /usr/include/wine/wine/windows/. "$work/wine/windows/" &&
        wine_headers=--with-wine-headers=/ww/wine/windows
fi

t1=$(date +%s)
echo "i386: building (autoreconf, configure --enable-werror, make)"
# shellcheck disable=SC2016
CHROOT_BIND=$work:/ww chroot_run i386 linux32 sh -c '
    cd /ww/src && autoreconf -fi >/ww/autoreconf.log 2>&1 &&
    mkdir -p /ww/build && cd /ww/build &&
    ../src/configure -q --enable-werror "$1" >/ww/configure.log 2>&1 &&
    make -s -j2 >/ww/make.log 2>&1' sh "$wine_headers"
rc=$?
if [ $rc -ne 0 ]; then
    echo "i386: BUILD FAILED (logs in $work):"
    for f in autoreconf configure make; do
        [ -s "$work/$f.log" ] || continue
        echo "--- $f.log (first errors):"
        { grep -m 15 -i -E 'error|warning' "$work/$f.log" || tail -n 15 "$work/$f.log"; }
    done
    echo "0 passed, 1 failed"
    exit 1
fi
echo "i386: built ($(($(date +%s) - t1)) s): libwritewatch.so is" \
    "$(file -L -b "$work/build/libwritewatch/.libs/libwritewatch.so" | cut -d, -f1-2)"

status=0
for target in check check-slow; do
    t1=$(date +%s)
    echo "i386: make $target"
    # shellcheck disable=SC2016
    if ! CHROOT_BIND=$work:/ww chroot_run i386 linux32 sh -c \
            'cd /ww/build && make -s -j2 "$1" WW_TEST_REQUIRE="$2"' \
            sh "$target" "$require" >"$work/$target.out" 2>&1; then
        status=1
        echo "i386: make $target failed:"
        grep -h -A3 -E '^not ok|^Bail out' "$work"/build/tests/*.log | head -40
        grep -E '^(FAIL|ERROR|XPASS):' "$work/$target.out" | head -20
    fi
    echo "i386: make $target: $(($(date +%s) - t1)) s"
done

# shellcheck disable=SC2046
set -- $(cat "$work"/build/tests/*.trs 2>/dev/null |
    awk '/^:test-result: PASS/ {p++} /^:test-result: SKIP/ {s++}
         /^:test-result: (FAIL|XPASS|ERROR)/ {f++}
         END {print p+0, f+0, s+0}')
grep -h '^ok .*# SKIP' "$work"/build/tests/*.log | sed 's/^ok [0-9]* - /i386: skip: /' |
    sort -u | head -n 20
# A make that failed with no failing test (a test program that did not
# compile, say) is one failure of its own: never "0 failed" then.
failures=$2
[ "$status" -ne 0 ] && [ "$failures" -eq 0 ] && failures=1
echo "i386: $1 passed, $failures failed, $3 skipped ($(($(date +%s) - t0)) s)"
[ "$failures" -eq 0 ] && [ "$1" -gt 0 ] || status=1
echo "$1 passed, $failures failed"
exit $status
