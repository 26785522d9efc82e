#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# wine-patch/8.0/test.sh - build Debian bookworm's Wine 8.0 ntdll.so with libwritewatch
# and compare it with the stock one: Wine's own kernel32 "virtual" conformance
# test and the write-watch benchmark in bench/, each run with
#   stock     the installed Wine, untouched
#   patched   the rebuilt ntdll.so (kernel write watches through libwritewatch)
#   fallback  the same ntdll.so with WW_BACKEND=mprotect, so that libwritewatch
#             does not offer its uffd backend and Wine's own code runs
#
# Both halves of Wine are covered, with the same code:
#   amd64   64-bit programs, run by wine64 and the x86_64 ntdll.so: on this
#           (bookworm) machine, with the installed Wine
#   i386    32-bit programs, run by the i386 loader and the i386 ntdll.so,
#           built against an i386 (gcc -m32) libwritewatch: in a cached Debian
#           bookworm amd64+i386 chroot holding wine64 + wine32:i386, as on a
#           user's machine (scripts/chroot.sh); this script runs itself in it
#           with WW_WINE_ARCH=i386 and its work folder bind-mounted at /ww
# WW_WINE_ARCHES="amd64 i386" (the default) chooses which.
#
# Needs root on Debian bookworm (it installs build dependencies).  The system's
# Wine is never modified: the patched ntdll.so runs from a private copy of the
# Wine tree (symbolic links to the system's files, real copies of the loader and
# of ntdll.so), with a private WINEPREFIX in a temporary directory whose
# wineserver is stopped on exit, also on failure or Ctrl-C.
#
# Downloads and builds are cached in $WW_WINE_WORK (default /var/tmp/ww-wine);
# a second run only rebuilds what changed; the i386 half in $WORK/i386.  Run by
# ../test.sh.  Each half ends with a table and the line
# "wine 8.0 ARCH: N passed, M failed"; exit status 0 only if both have M = 0.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
WORK=${WW_WINE_WORK:-/var/tmp/ww-wine}
MIRROR=${WW_DEBIAN_MIRROR:-http://deb.debian.org/debian}
JOBS=${WW_JOBS:-2}
WINE_VERSION=8.0~repack-4
ARCH=${WW_WINE_ARCH:-}
PACKAGES_AMD64="build-essential autoconf automake libtool pkg-config dpkg-dev xz-utils patch
                flex bison libunwind-dev gcc-mingw-w64-x86-64 wine wine64 libwine-dev"
PACKAGES_I386="build-essential gcc-multilib autoconf automake libtool pkg-config dpkg-dev
               xz-utils patch flex bison gcc-mingw-w64-i686 wine wine64 wine32:i386"
# What differs between the halves; everything else is shared.
case $ARCH in
    amd64|"")
        PE=x86_64 LOADER=wine64 MINGW=x86_64-w64-mingw32-gcc
        WIN64=--enable-win64 LWW_CONF="" PACKAGES=$PACKAGES_AMD64 ;;
    i386)
        # Wine's configure on x86_64 without --enable-win64 adds -m32 itself
        # and builds the i386 tree (gcc-multilib; no i386 -dev packages).
        PE=i386 LOADER=wine MINGW=i686-w64-mingw32-gcc WIN64=""
        LWW_CONF="'CC=gcc -m32' --host=i686-linux-gnu --build=x86_64-linux-gnu --without-wine-headers"
        PACKAGES=$PACKAGES_I386 ;;
    *) echo "test.sh: WW_WINE_ARCH=$ARCH: amd64 or i386" >&2; exit 2 ;;
esac
LIBDIR=/usr/lib/$PE-linux-gnu/wine         # Debian's; loader.c compiles in the paths
SYS_LOADER=/usr/lib/wine/$LOADER
SYS_NTDLL=$LIBDIR/$PE-unix/ntdll.so
# shellcheck source=wine-patch/bench.sh
. "$here/../bench.sh"

# --- the driver: amd64 here, then i386 in its chroot --------------------------
if [ -z "$ARCH" ]; then
    [ "$(id -u)" -eq 0 ] || { echo "test.sh: run me as root" >&2; exit 1; }
    set +e
    status=0
    # run_half ARCH CMD...: CMD's output, and its summary line even if it died
    run_half() {
        local a=$1 log; shift
        log=$(mktemp)
        "$@" 2>&1 | tee "$log"
        local s=${PIPESTATUS[0]}
        grep -qE "^wine 8.0 $a: [0-9]+ passed, [0-9]+ failed$" "$log" ||
            echo "wine 8.0 $a: 0 passed, 1 failed"
        rm -f "$log"
        [ "$s" -eq 0 ] || status=1
    }
    for a in ${WW_WINE_ARCHES:-amd64 i386}; do
        case $a in
        amd64) run_half amd64 env WW_WINE_ARCH=amd64 bash "$0" ;;
        i386)
            host_ntdll=$(cat /usr/lib/x86_64-linux-gnu/wine/x86_64-unix/ntdll.so 2>/dev/null | sha256sum)
            W=${WW_WINE32_WORK:-$WORK/i386}
            run_half i386 bash -c '
                set -e; top=$1 W=$2 WORK=$3 PACKAGES=$4; shift 4
                . "$top/scripts/chroot.sh"
                echo "i386: chroot wine32 (bookworm amd64+i386 with wine64 and wine32:i386)"
                chroot_make wine32 bookworm amd64,i386 "$(echo $PACKAGES)"
                # The clone as a clean clone sees it (mtimes kept: make and -nt work)
                mkdir -p "$W/dl" && rm -rf "$W/clone.new" && mkdir "$W/clone.new"
                if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
                    git -C "$top" ls-files -z | (cd "$top" && tar --null -T - -cf -)
                else tar -C "$top" --exclude=.git -cf - .; fi | tar -xf - -C "$W/clone.new"
                rm -rf "$W/clone" && mv "$W/clone.new" "$W/clone"
                # the sources the amd64 half fetched, if it did
                for f in "$WORK"/dl/*; do
                    [ -e "$f" ] && [ ! -e "$W/dl/${f##*/}" ] && cp -p "$f" "$W/dl/"
                done
                mirror=$(archive_mirror) || mirror=""
                CHROOT_BIND=$W:/ww chroot_run wine32 env WW_WINE_ARCH=i386 WW_WINE_WORK=/ww \
                    ${mirror:+WW_DEBIAN_MIRROR=$mirror} "$@" bash /ww/clone/wine-patch/8.0/test.sh
            ' sh "$top" "$W" "$WORK" "$(echo $PACKAGES_I386)" \
                WW_JOBS="$JOBS" WW_BENCH_REPEAT="${WW_BENCH_REPEAT:-3}"
            [ "$(cat /usr/lib/x86_64-linux-gnu/wine/x86_64-unix/ntdll.so 2>/dev/null | sha256sum)" = "$host_ntdll" ] ||
                { echo "test.sh: BUG: the host's ntdll.so changed during the i386 run"; status=1; } ;;
        *) echo "test.sh: WW_WINE_ARCHES: unknown $a"; status=1 ;;
        esac
    done
    exit $status
fi

LWW=$WORK/libwritewatch     # libwritewatch source copy, build and prefix
TREE=$WORK/wine             # the patched Wine source and build tree
ROOT=$WORK/root             # the private Wine installation (patched ntdll.so)
LOGS=$WORK/logs
start_time=$(date +%s)

say() { printf '[%4ds] %s\n' $(( $(date +%s) - start_time )) "$*"; }
die() { echo "test.sh: $*" >&2; exit 1; }
passed=0 failed=0   # checks, for the summary line
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); status=1; [ $# -eq 0 ] || echo "FAILED: $*"; }
# run LOG CMD...: run quietly into $LOGS/LOG, show its tail if it fails
run() {
    local log=$LOGS/$1; shift
    if ! "$@" >"$log" 2>&1; then
        tail -25 "$log" >&2
        die "failed: $* (log: $log)"
    fi
}
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# --- clean-up: runs on every exit ------------------------------------------
TMP=""
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        WINEPREFIX=$TMP/prefix /usr/lib/wine/wineserver -k >/dev/null 2>&1 || true
        rm -rf "$TMP"
    fi
    if [ -n "${sys_ntdll_hash:-}" ] && [ "$(hash_of $SYS_NTDLL)" != "$sys_ntdll_hash" ]; then
        echo "test.sh: BUG: the system's ntdll.so changed during the run" >&2
        fail
    fi
    [ $status -eq 0 ] || [ $failed -ne 0 ] || failed=1   # died before the checks
    echo "wine 8.0 $ARCH: $passed passed, $failed failed"
    exit $status
}
trap cleanup EXIT
trap 'echo "test.sh: interrupted" >&2; exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || die "run me as root (I install build dependencies)"
mkdir -p "$WORK" "$LOGS"

# --- 1. packages -------------------------------------------------------------
say "packages: installing what is missing of $(echo $PACKAGES | wc -w)"
# shellcheck disable=SC2086
run apt-install.log sh "$top/scripts/install-deps.sh" --only $PACKAGES
installed=$(dpkg-query -W -f='${Version}' wine64)
[ "$installed" = "$WINE_VERSION" ] ||
    die "the installed wine64 is $installed; this patch and its ntdll.so are for $WINE_VERSION"
sys_ntdll_hash=$(hash_of $SYS_NTDLL)

# --- 2. libwritewatch, static and position-independent --------------------
# Only the files git tracks (plus their uncommitted edits): a clean clone's view.
say "libwritewatch: checking sources"
rm -rf "$LWW/src.new" && mkdir -p "$LWW/src.new"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$top" ls-files -z -- . ':!wine-patch' | (cd "$top" && tar --null -T - -cf -) |
        tar -xf - -C "$LWW/src.new"
else
    tar -C "$top" --exclude=.git --exclude=wine-patch -cf - . | tar -xf - -C "$LWW/src.new"
fi
lww_hash=$(cd "$LWW/src.new" && find . -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -d' ' -f1)
lww_hash=$(echo "$lww_hash $LWW_CONF" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$LWW/stamp" 2>/dev/null)" != "$lww_hash" ]; then
    say "libwritewatch: $ARCH, building (autoreconf, configure --disable-shared --with-pic, make)"
    rm -rf "$LWW/src" "$LWW/build" "$LWW/prefix" && mv "$LWW/src.new" "$LWW/src"
    run lww-autoreconf.log sh -c "cd '$LWW/src' && autoreconf -fi"
    mkdir -p "$LWW/build"
    run lww-configure.log sh -c "cd '$LWW/build' && ../src/configure $LWW_CONF --prefix='$LWW/prefix' \
        --disable-shared --with-pic"
    run lww-make.log make -C "$LWW/build" -j"$JOBS"
    run lww-install.log make -C "$LWW/build" install
    echo "$lww_hash" >"$LWW/stamp"
else
    rm -rf "$LWW/src.new"
fi

# --- 3. Debian's Wine source (private apt lists: the system's stay as they are)
dsc=$WORK/dl/wine_${WINE_VERSION}.dsc
if [ ! -f "$dsc" ]; then
    say "fetching Debian's wine $WINE_VERSION source (deb-src $MIRROR bookworm main)"
    mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" "$WORK/apt/parts" "$WORK/dl"
    echo "deb-src $MIRROR bookworm main" >"$WORK/apt/sources.list"
    APT=(apt-get -q -o Dir::Etc::SourceList="$WORK/apt/sources.list"
         -o Dir::Etc::SourceParts="$WORK/apt/parts" -o Dir::State::Lists="$WORK/apt/lists"
         -o Dir::Cache="$WORK/apt/cache" -o APT::Sandbox::User=root)
    run apt-src-update.log "${APT[@]}" update
    run apt-source.log sh -c "cd '$WORK/dl' && $(printf '%q ' "${APT[@]}") source --download-only wine=$WINE_VERSION"
fi

# --- 4. the patched tree: ntdll.so and kernel32_test.exe -------------------
# Generated files the repack tarball lacks and makedep opens (never compiled
# for ntdll.so); wine_tree_fill_placeholders finds any others.
WT_PLACEHOLDERS="include/wine/vulkan.h include/wine/vulkan_driver.h include/wine/wgl.h
    include/wine/wgl_driver.h dlls/opengl32/thunks.c dlls/opengl32/unix_thunks.c
    dlls/winevulkan/loader_thunks.c dlls/winevulkan/vulkan_thunks.c dlls/win32u/vertical.c
    dlls/wineps.drv/vertical.c dlls/dwrite/shapers/arabic_table.c
    dlls/dwrite/bracket.c dlls/dwrite/direction.c dlls/dwrite/linebreak.c dlls/dwrite/mirror.c
    dlls/dwrite/scripts.c dlls/gdi32/uniscribe/bracket.c dlls/gdi32/uniscribe/direction.c
    dlls/gdi32/uniscribe/indicsyllable.c dlls/gdi32/uniscribe/linebreak.c
    dlls/gdi32/uniscribe/mirror.c dlls/gdi32/uniscribe/shaping.c"
WT_DSC=$dsc WT_TREE=$TREE WT_PATCHES=$here WT_LWW_PREFIX=$LWW/prefix WT_LIBDIR=$LIBDIR
WT_CONFIGURE=$WIN64
# shellcheck source=wine-patch/tree.sh
. "$here/../tree.sh"
# What debian/rules does before configure, minus the parts needing Vulkan's XML.
wine_tree_generate() {
    ./debian/scripts/generate server/trace.generated make_requests
    ./debian/scripts/generate server/request.generated make_requests
    ./tools/make_requests
}
tree_hash=$(wine_tree_key | sha256sum | cut -d' ' -f1)
if [ "$(cat "$TREE/.ww-stamp" 2>/dev/null)" != "$tree_hash" ]; then
    say "wine: unpacking, patching and configuring a fresh $ARCH tree (about 30 s amd64, 105 s i386)"
    wine_tree_make wine-prepare.log
    echo "$tree_hash" >"$TREE/.ww-stamp"
fi
cd "$TREE"
# A new libwritewatch.a is not a make dependency of ntdll.so: relink by hand.
if [ "$(cat .ww-lww 2>/dev/null)" != "$lww_hash" ]; then rm -f dlls/ntdll/ntdll.so; fi
say "wine: building the $ARCH dlls/ntdll/ntdll.so (about 25 s amd64, 100 s i386 when cold)"
run wine-ntdll.log make -j"$JOBS" VENDOR="Debian $WINE_VERSION" dlls/ntdll/ntdll.so
echo "$lww_hash" >.ww-lww
say "wine: building $PE kernel32_test.exe (about 50 s amd64, 190 s i386 when cold)"
run wine-kernel32-tests.log make -j"$JOBS" VENDOR="Debian $WINE_VERSION" \
    dlls/kernel32/tests/$PE-windows/kernel32_test.exe
KERNEL32_TEST=$TREE/dlls/kernel32/tests/$PE-windows/kernel32_test.exe
nm -D --defined-only dlls/ntdll/ntdll.so | grep -q ' ww_tracker_open$' ||
    die "the rebuilt ntdll.so does not contain libwritewatch"
ldd dlls/ntdll/ntdll.so | grep -q writewatch && die "ntdll.so links libwritewatch dynamically"

BENCH=$WORK/wwbench.exe
CHECK=$WORK/wwcheck.exe
# keyed by the source and the compiler (an mtime test misses a source copied
# with its mtime kept, as for the i386 half)
for exe in "$BENCH" "$CHECK"; do
    src=$here/../bench/$(basename "$exe" .exe).c
    key=$( (cat "$src"; echo "$MINGW -O2 -Wall") | sha256sum | cut -d' ' -f1)
    if [ ! -f "$exe" ] || [ "$(cat "$exe.key" 2>/dev/null)" != "$key" ]; then
        say "bench: compiling $(basename "$exe")"
        run bench-build.log $MINGW -O2 -Wall -o "$exe" "$src"
        echo "$key" >"$exe.key"
    fi
done

# --- 5. the private Wine installation --------------------------------------
# Same layout as Debian's, so the relative paths compiled into the loader and
# ntdll.so hold: the loader is a real copy (Wine finds its tree from the
# loader's real path), ntdll.so a new file, everything else links to /usr.
# Both halves of the installed Wine are there (i386: wine64 makes the prefix).
say "wine: private installation in $ROOT"
rm -rf "$ROOT"
mkdir -p "$ROOT/usr/lib/wine" "$ROOT/usr/share"
for f in wine wine64 wineserver; do
    [ ! -e /usr/lib/wine/$f ] || cp /usr/lib/wine/$f "$ROOT/usr/lib/wine/"
done
for d in /usr/lib/x86_64-linux-gnu/wine /usr/lib/i386-linux-gnu/wine; do
    [ ! -d $d ] || { mkdir -p "$ROOT${d%/wine}" && cp -as $d "$ROOT${d%/wine}/"; }
done
cp -as /usr/share/wine "$ROOT/usr/share/"
rm "$ROOT$SYS_NTDLL"
install -m 644 dlls/ntdll/ntdll.so "$ROOT$SYS_NTDLL"
PATCHED_LOADER=$ROOT$SYS_LOADER

# --- 6. runs -------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ww-wine-test.XXXXXX")
export WINEPREFIX=$TMP/prefix WINEARCH=win64
say "wine: creating a private WINEPREFIX in $TMP"
run wineboot.log env WINEDEBUG=-all /usr/lib/wine/wine64 wineboot -i
# Wine's null display driver: with no X server, CreateWindow fails and the
# i386-only test_atl_thunk_emulation then kills kernel32_test.exe (stock too).
run reg.log env WINEDEBUG=-all /usr/lib/wine/wine64 reg add 'HKCU\Software\Wine\Drivers' \
    /v Graphics /d null /f
/usr/lib/wine/wineserver -w

CONFIGS=(stock patched fallback)
declare -A TESTS FAILS IMPL CHECKS
status=0
loader_of() { [ "$1" = stock ] && echo $SYS_LOADER || echo "$PATCHED_LOADER"; }
env_of() { [ "$1" = fallback ] && echo WW_BACKEND=mprotect || echo WW_BACKEND=; }

for cfg in "${CONFIGS[@]}"; do
    /usr/lib/wine/wineserver -k >/dev/null 2>&1 || true
    /usr/lib/wine/wineserver -w || true
    say "$cfg: kernel32_test.exe virtual"
    out=$LOGS/kernel32-virtual-$cfg.log
    env $(env_of $cfg) WINETEST_PLATFORM=wine WINEDEBUG=-all,+writewatch \
        timeout 900 "$(loader_of $cfg)" "$KERNEL32_TEST" virtual >"$out" 2>&1 || true
    # the main process prints the big count; its child processes print their own
    TESTS[$cfg]=$(sed -n 's/.*:virtual: \([0-9]*\) tests executed.*/\1/p' "$out" | sort -n | tail -1)
    TESTS[$cfg]=${TESTS[$cfg]:-0}
    FAILS[$cfg]=$(sed -n 's/.*:virtual: [0-9]* tests executed.* \([0-9]*\) failures.*/\1/p' "$out" |
                  awk '{ s += $1 } END { print s + 0 }')
    if grep -q "using the kernel's write watches" "$out"; then IMPL[$cfg]="kernel (uffd)"
    elif grep -q "using Wine's write watches" "$out"; then IMPL[$cfg]="Wine (fallback)"
    else IMPL[$cfg]="Wine (stock)"; fi
    if grep -q 'err:writewatch' "$out"; then echo "$cfg: libwritewatch errors, see $out"; fail
    elif [ "${TESTS[$cfg]}" -lt 28000 ] || [ "${FAILS[$cfg]}" -ne 0 ]; then
        grep 'Test failed' "$out" | head -20 || true
        fail
    else pass; fi
    say "$cfg: wwcheck.exe"
    out=$LOGS/wwcheck-$cfg.log
    env $(env_of $cfg) WINEDEBUG=-all timeout 300 "$(loader_of $cfg)" "$CHECK" 2>&1 | tr -d '\r' >"$out" || true
    CHECKS[$cfg]=$(sed -n 's/^wwcheck: \([0-9]*\) checks, \([0-9]*\) failures/\1 \/ \2/p' "$out")
    if [ "${CHECKS[$cfg]:-}" = "" ] || [ "${CHECKS[$cfg]#* / }" != 0 ]; then
        cat "$out"
        CHECKS[$cfg]=${CHECKS[$cfg]:-crashed}
        fail
    else pass; fi
done
if [ "${IMPL[patched]}" = "kernel (uffd)" ]; then pass; else echo "the patched ntdll.so did not use the kernel"; fail; fi
if [ "${IMPL[fallback]}" = "Wine (fallback)" ]; then pass; else echo "WW_BACKEND=mprotect did not force Wine's path"; fail; fi

# Benchmarks (bench.sh): the three configurations take turns, REPEAT times.
REPEAT=${WW_BENCH_REPEAT:-3}
bench_loader() { loader_of "$1"; }
bench_run "$BENCH" "$REPEAT" /usr/lib/wine/wineserver
/usr/lib/wine/wineserver -k >/dev/null 2>&1 || true
bench_check "$REPEAT"

# --- 7. the table ---------------------------------------------------------------
echo
echo "Wine $WINE_VERSION $ARCH ($([ $ARCH = i386 ] && echo "32-bit programs, i386 ntdll.so, bookworm chroot" ||
    echo "64-bit programs, x86_64 ntdll.so, this machine")), Linux $(uname -r), $(nproc) CPUs; median of $REPEAT runs."
echo "fallback = the patched ntdll.so with WW_BACKEND=mprotect (libwritewatch offers no uffd backend)."
echo "Scenarios: threads, pages, write order, get+reset (WRITE_WATCH_FLAG_RESET) or get then ResetWriteWatch."
echo
bench_row "" "" stock patched fallback stock/pat
bench_row "-------------------------------" "--------------------" "---------------" "---------------" "---------------" "--------"
bench_row "write watches by" "" "${IMPL[stock]}" "${IMPL[patched]}" "${IMPL[fallback]}" ""
bench_row "kernel32_test virtual" "tests / failures" "${TESTS[stock]} / ${FAILS[stock]}" \
    "${TESTS[patched]} / ${FAILS[patched]}" "${TESTS[fallback]} / ${FAILS[fallback]}" ""
bench_row "wwcheck (bench/wwcheck.c)" "checks / failures" "${CHECKS[stock]}" "${CHECKS[patched]}" "${CHECKS[fallback]}" ""
bench_rows
echo
echo "logs: $LOGS"
say "done: $([ $status -eq 0 ] && echo "all checks passed" || echo "SOME CHECKS FAILED")"
exit $status
