#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# wine-patch/10.0/test.sh - build Debian trixie's Wine 10.0 ntdll.so with
# libwritewatch and compare it with the stock one, in a trixie chroot (this
# machine's own libraries are too old for trixie's Wine; the kernel is the
# host's, so the uffd backend runs).  Run by ../test.sh; see ../README.md.
#
# Both halves of Wine, with the same code (WW_WINE_ARCH picks what differs):
#   amd64   64-bit programs: wine64 and the x86_64 ntdll.so, in the trixie
#           amd64 chroot wine10-trixie-amd64
#   i386    32-bit programs: the i386 loader and the i386 ntdll.so, built
#           against an i386 (gcc -m32) libwritewatch, in the trixie amd64+i386
#           chroot wine10-trixie-i386 holding wine64 + wine32:i386, as on a
#           user's machine
# WW_WINE_ARCHES="amd64 i386" (the default) chooses which.
#
#   stock     the chroot's packaged Wine, untouched
#   patched   the rebuilt ntdll.so (kernel write watches through libwritewatch)
#   fallback  the same ntdll.so with WW_BACKEND=mprotect (Wine's own path)
#
# Each runs Wine's kernel32 "virtual" test twice: with Debian's packaged
# kernelbase.dll, whose fixes/virtual-protect.patch alone makes several
# hundred checks fail whatever ntdll does (no failure stock does not have is
# allowed), and with a kernelbase.dll built from the same source without that
# one Debian patch (0 failures required).  Then bench/wwcheck.c and
# bench/wwbench.c.
#
# The chroots are cached by scripts/chroot.sh; sources, builds and logs in
# $WW_WINE10_WORK (default /var/cache/libwritewatch/wine10; the i386 half's in
# its i386/ folder), keyed by the hash of their inputs.  The chroot's Wine
# files are hash-checked at exit.  Each half ends with the line
# "wine 10.0 ARCH: N passed, M failed"; exit status 0 only if every M is 0.
set -euo pipefail

# --- inside the chroot (the host part is below) -------------------------------
if [ "${1:-}" = --inside ]; then
V=$2                          # Debian version of the chroot's Wine
ARCH=$3
W=$4                          # this half's work folder (the whole one is /ww)
DL=/ww/dl                     # Debian's source package, shared by the halves
JOBS=${WW_JOBS:-2}
LOGS=$W/logs
TREE=$W/tree
LWW=$W/lww
case $ARCH in
    amd64) PE=x86_64 LOADER=wine64 MINGW=x86_64-w64-mingw32-gcc WIN64=--enable-win64 LWW_CONF="" ;;
    # Wine's configure on x86_64 without --enable-win64 adds -m32 itself and
    # builds the i386 tree (gcc-multilib; no i386 -dev packages needed).
    i386) PE=i386 LOADER=wine MINGW=i686-w64-mingw32-gcc WIN64=""
          LWW_CONF="'CC=gcc -m32' --host=i686-linux-gnu --build=x86_64-linux-gnu --without-wine-headers" ;;
    *) echo "test.sh: unknown architecture $ARCH" >&2; exit 2 ;;
esac
LIBDIR=/usr/lib/$PE-linux-gnu/wine   # Debian's; loader.c compiles in the paths
SYS_LOADER=/usr/lib/wine/$LOADER
SYS_SERVER=/usr/lib/wine/wineserver
WINE64=/usr/lib/wine/wine64          # makes the (64-bit) WINEPREFIX for both
# shellcheck source=wine-patch/bench.sh
. "$W/in/bench.sh"
# Generated files the repack tarball lacks and makedep opens (never compiled
# for ntdll.so); wine_tree_fill_placeholders finds any others, one configure run each.
WT_PLACEHOLDERS="include/wine/vulkan.h include/wine/wgl.h include/wine/wgl_driver.h
    dlls/dwrite/bracket.c dlls/dwrite/direction.c dlls/dwrite/linebreak.c dlls/dwrite/mirror.c
    dlls/dwrite/scripts.c dlls/dwrite/shapers/arabic_table.c dlls/gdi32/uniscribe/bracket.c
    dlls/gdi32/uniscribe/direction.c dlls/gdi32/uniscribe/indicsyllable.c
    dlls/gdi32/uniscribe/linebreak.c dlls/gdi32/uniscribe/mirror.c dlls/gdi32/uniscribe/shaping.c
    dlls/opengl32/thunks.c dlls/opengl32/unix_thunks.c dlls/tzres/tzres.rc dlls/win32u/vertical.c
    dlls/wineps.drv/direction.c dlls/wineps.drv/vertical.c dlls/winevulkan/loader_thunks.c
    dlls/winevulkan/vulkan_thunks.c dlls/shell32/folder.svg dlls/shell32/network.svg"
start_time=$(date +%s)
say() { printf '[%4ds] %s\n' $(( $(date +%s) - start_time )) "$*"; }
die() { echo "test.sh: $*" >&2; exit 1; }
run() {
    local log=$LOGS/$1; shift
    if ! "$@" >"$log" 2>&1; then
        tail -25 "$log" >&2
        die "failed: $* (log: $log)"
    fi
}
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAILED: $*"; }
mkdir -p "$LOGS"

# 1. libwritewatch, static and position-independent, with trixie's compiler
lww_hash=$(cd "$LWW/src" && find . -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-32)
[ -z "$LWW_CONF" ] || lww_hash=$(echo "$lww_hash $LWW_CONF" | sha256sum | cut -c1-32)
if [ "$(cat "$LWW/stamp" 2>/dev/null)" != "$lww_hash" ]; then
    say "libwritewatch: $ARCH, building (configure ${LWW_CONF:+$LWW_CONF }--disable-shared --with-pic)"
    rm -rf "$LWW/build" "$LWW/prefix" && mkdir -p "$LWW/build"
    run lww-autoreconf.log sh -c "cd '$LWW/src' && autoreconf -fi"
    run lww-configure.log sh -c "cd '$LWW/build' && ../src/configure $LWW_CONF --prefix='$LWW/prefix' \
        --disable-shared --with-pic"
    run lww-make.log nice -n 10 make -C "$LWW/build" -j"$JOBS"
    run lww-install.log make -C "$LWW/build" install
    echo "$lww_hash" >"$LWW/stamp"
fi

# 2. the patched tree
WT_DSC=$DL/wine_${V#*:}.dsc WT_TREE=$TREE WT_PATCHES=$W/in WT_LWW_PREFIX=$LWW/prefix
WT_LIBDIR=$LIBDIR WT_CONFIGURE="$WIN64 --without-wayland"
# shellcheck source=wine-patch/tree.sh
. "$W/in/tree.sh"
# What debian/rules does before configure, minus the parts needing data
# packages (Vulkan's XML, Unicode tables); and, test harness only, not part
# of the patch: kernelbase's memory.c without Debian's
# fixes/virtual-protect.patch, for the second kernelbase.dll.
wine_tree_generate() {
    patch -R -p1 --no-backup-if-mismatch <debian/patches/fixes/virtual-protect.patch
    ./tools/make_requests
    ./tools/make_specfiles    # dlls/ntdll/ntsyscalls.h and win32u's
}
tree_hash=$(wine_tree_key | sha256sum | cut -c1-32)
if [ "$(cat "$TREE/.ww-stamp" 2>/dev/null)" != "$tree_hash" ]; then
    say "wine $V: unpacking, patching and configuring a fresh $ARCH tree (about 1-2 min)"
    wine_tree_make wine-prepare.log
    echo "$tree_hash" >"$TREE/.ww-stamp"
fi
cd "$TREE"
if [ "$(cat .ww-lww 2>/dev/null)" != "$lww_hash" ]; then rm -f dlls/ntdll/ntdll.so; fi
say "wine: building the $ARCH dlls/ntdll/ntdll.so (about 2 min when cold)"
run wine-ntdll.log nice -n 10 make -j"$JOBS" VENDOR="Debian $V" dlls/ntdll/ntdll.so
echo "$lww_hash" >.ww-lww
say "wine: building $PE kernel32_test.exe and kernelbase.dll (about 3-6 min when cold)"
# kernelbase.rgs (time zones for the registry, made by tools/make_unicode from
# CLDR data) is not in the repack: used only when wineboot registers
# kernelbase, and the WINEPREFIX is made by the packaged Wine; leave it empty.
[ -e dlls/kernelbase/kernelbase.rgs ] || : >dlls/kernelbase/kernelbase.rgs
run wine-kernel32-tests.log nice -n 10 make -j"$JOBS" VENDOR="Debian $V" \
    dlls/kernel32/tests/$PE-windows/kernel32_test.exe dlls/kernelbase/$PE-windows/kernelbase.dll
KERNEL32_TEST=$TREE/dlls/kernel32/tests/$PE-windows/kernel32_test.exe
nm -D --defined-only dlls/ntdll/ntdll.so | grep -q ' ww_tracker_open$' ||
    die "the rebuilt ntdll.so does not contain libwritewatch"
! ldd dlls/ntdll/ntdll.so | grep -q writewatch || die "ntdll.so links libwritewatch dynamically"
for exe in wwbench wwcheck; do
    if [ ! -f "$W/$exe.exe" ] || ! cmp -s "$W/in/$exe.c" "$W/$exe.c.built"; then
        say "bench: compiling $exe.exe"
        run bench-build.log $MINGW -O2 -Wall -o "$W/$exe.exe" "$W/in/$exe.c"
        cp "$W/in/$exe.c" "$W/$exe.c.built"
    fi
done

# 3. private installations: the loaders and ntdll.so are real copies (Wine
# finds its tree from their real paths), the replaced DLLs new files, all else
# links.  Every half of the chroot's Wine is there (i386: wine64 makes the
# prefix, the i386 loader runs the programs).
make_root() {   # NAME NTDLL KERNELBASE (empty: the packaged one)
    local r=$W/roots/$1 f d
    rm -rf "$r"
    mkdir -p "$r/usr/lib/wine" "$r/usr/share"
    for f in wine wine64 wineserver; do
        [ ! -e /usr/lib/wine/$f ] || cp /usr/lib/wine/$f "$r/usr/lib/wine/"
    done
    for d in /usr/lib/x86_64-linux-gnu/wine /usr/lib/i386-linux-gnu/wine; do
        [ ! -d $d ] || { mkdir -p "$r${d%/wine}" && cp -as $d "$r${d%/wine}/"; }
    done
    cp -as /usr/share/wine "$r/usr/share/"
    if [ -n "$2" ]; then
        rm "$r$LIBDIR/$PE-unix/ntdll.so" && install -m 644 "$2" "$r$LIBDIR/$PE-unix/ntdll.so"
    fi
    if [ -n "$3" ]; then
        rm "$r$LIBDIR/$PE-windows/kernelbase.dll" &&
            install -m 644 "$3" "$r$LIBDIR/$PE-windows/kernelbase.dll"
    fi
}
say "wine: private installations in $W/roots"
UKB=$TREE/dlls/kernelbase/$PE-windows/kernelbase.dll
make_root stock-ukb $LIBDIR/$PE-unix/ntdll.so "$UKB"   # the packaged ntdll.so, copied
make_root patched "$TREE/dlls/ntdll/ntdll.so" ""
make_root patched-ukb "$TREE/dlls/ntdll/ntdll.so" "$UKB"

TMP=$(mktemp -d /tmp/ww-wine10-test.XXXXXX)
cleanup() {
    local status=$?
    WINEPREFIX=$TMP/prefix $SYS_SERVER -k >/dev/null 2>&1 || true
    rm -rf "$TMP"
    exit $status
}
trap cleanup EXIT
trap 'echo "test.sh: interrupted" >&2; exit 130' INT TERM
export WINEPREFIX=$TMP/prefix WINEARCH=win64
say "wine: creating a private WINEPREFIX"
run wineboot.log env WINEDEBUG=-all $WINE64 wineboot -i
if [ "$ARCH" = i386 ]; then
    # Wine's null display driver: with no X server, CreateWindow fails and
    # the i386-only test_atl_thunk_emulation then kills kernel32_test.exe
    # (stock too; as in 8.0/test.sh).
    run reg.log env WINEDEBUG=-all $WINE64 reg add 'HKCU\Software\Wine\Drivers' \
        /v Graphics /d null /f
fi
$SYS_SERVER -w

CONFIGS=(stock patched fallback)
loader_of() {   # CFG KB
    case $1 in stock) [ "$2" = pkg ] && echo $SYS_LOADER || echo "$W/roots/stock-ukb$SYS_LOADER" ;;
               *) [ "$2" = pkg ] && echo "$W/roots/patched$SYS_LOADER" || echo "$W/roots/patched-ukb$SYS_LOADER" ;;
    esac
}
env_of() { [ "$1" = fallback ] && echo WW_BACKEND=mprotect || echo WW_BACKEND=; }
declare -A TESTS FAILS IMPL CHECKS
for kb in ukb pkg; do
    for cfg in "${CONFIGS[@]}"; do
        $SYS_SERVER -k >/dev/null 2>&1 || true
        $SYS_SERVER -w || true
        say "$cfg ($kb kernelbase): kernel32_test.exe virtual"
        out=$LOGS/kernel32-virtual-$cfg-$kb.log
        env $(env_of $cfg) WINETEST_PLATFORM=wine WINEDEBUG=-all,+writewatch \
            timeout 900 "$(loader_of $cfg $kb)" "$KERNEL32_TEST" virtual >"$out" 2>&1 || true
        TESTS[$cfg-$kb]=$(sed -n 's/.*:virtual: \([0-9]*\) tests executed.*/\1/p' "$out" | sort -n | tail -1)
        TESTS[$cfg-$kb]=${TESTS[$cfg-$kb]:-0}
        FAILS[$cfg-$kb]=$(sed -n 's/.*:virtual: [0-9]* tests executed.* \([0-9]*\) failures.*/\1/p' "$out" |
                          awk '{ s += $1 } END { print s + 0 }')
        if grep -q "using the kernel's write watches" "$out"; then IMPL[$cfg]="kernel (uffd)"
        elif grep -q "using Wine's write watches" "$out"; then IMPL[$cfg]="Wine (fallback)"
        else IMPL[$cfg]="Wine (stock)"; fi
        # the failing checks as "file:line", one line per failure
        grep -o '[a-z_0-9]*\.c:[0-9]*: Test failed' "$out" | sed 's/: Test failed//' | sort >"$out.failures" || true
        if grep -q 'err:writewatch' "$out"; then fail "$cfg ($kb): libwritewatch errors, see $out"
        elif [ "${TESTS[$cfg-$kb]}" -lt 28000 ]; then fail "$cfg ($kb): kernel32 virtual ran ${TESTS[$cfg-$kb]} tests (see $out)"
        elif [ $kb = ukb ] && [ "${FAILS[$cfg-$kb]}" -ne 0 ]; then
            fail "$cfg (kernelbase without Debian's virtual-protect.patch): ${FAILS[$cfg-$kb]} failures:"
            head -20 "$out.failures"
        elif [ $kb = pkg ] && [ $cfg != stock ] &&
             [ -n "$(comm -23 "$out.failures" "$LOGS/kernel32-virtual-stock-pkg.log.failures")" ]; then
            fail "$cfg (packaged kernelbase): failures stock does not have:"
            comm -23 "$out.failures" "$LOGS/kernel32-virtual-stock-pkg.log.failures" | uniq -c | head -20
        else pass; fi
    done
done
for cfg in "${CONFIGS[@]}"; do
    say "$cfg: wwcheck.exe"
    out=$LOGS/wwcheck-$cfg.log
    env $(env_of $cfg) WINEDEBUG=-all timeout 300 "$(loader_of $cfg pkg)" "$W/wwcheck.exe" 2>&1 |
        tr -d '\r' >"$out" || true
    CHECKS[$cfg]=$(sed -n 's/^wwcheck: \([0-9]*\) checks, \([0-9]*\) failures/\1 \/ \2/p' "$out")
    if [ "${CHECKS[$cfg]:-}" = "" ] || [ "${CHECKS[$cfg]#* / }" != 0 ]; then
        cat "$out"
        CHECKS[$cfg]=${CHECKS[$cfg]:-crashed}
        fail "$cfg: wwcheck"
    else pass; fi
done
[ "${IMPL[patched]}" = "kernel (uffd)" ] && pass || fail "the patched ntdll.so did not use the kernel"
[ "${IMPL[fallback]}" = "Wine (fallback)" ] && pass || fail "WW_BACKEND=mprotect did not force Wine's path"

REPEAT=${WW_BENCH_REPEAT:-3}
bench_loader() { loader_of "$1" pkg; }
bench_run "$W/wwbench.exe" "$REPEAT" $SYS_SERVER
$SYS_SERVER -k >/dev/null 2>&1 || true
bench_check "$REPEAT"

echo
echo "Wine $V (Debian trixie chroot), $ARCH ($([ $ARCH = i386 ] && echo "32-bit programs, i386 ntdll.so" ||
    echo "64-bit programs, x86_64 ntdll.so")), Linux $(uname -r), $(nproc) CPUs; median of $REPEAT runs."
echo "fallback = the patched ntdll.so with WW_BACKEND=mprotect (libwritewatch offers no uffd backend)."
echo "kernelbase: 'upstream' = built from the same source without Debian's fixes/virtual-protect.patch."
echo
bench_row "" "" stock patched fallback stock/pat
bench_row "-------------------------------" "--------------------" "---------------" "---------------" "---------------" "--------"
bench_row "write watches by" "" "${IMPL[stock]}" "${IMPL[patched]}" "${IMPL[fallback]}" ""
bench_row "kernel32_test virtual" "upstream kernelbase" "${TESTS[stock-ukb]} / ${FAILS[stock-ukb]}" \
    "${TESTS[patched-ukb]} / ${FAILS[patched-ukb]}" "${TESTS[fallback-ukb]} / ${FAILS[fallback-ukb]}" ""
bench_row "kernel32_test virtual" "Debian's kernelbase" "${TESTS[stock-pkg]} / ${FAILS[stock-pkg]}" \
    "${TESTS[patched-pkg]} / ${FAILS[patched-pkg]}" "${TESTS[fallback-pkg]} / ${FAILS[fallback-pkg]}" ""
bench_row "wwcheck (bench/wwcheck.c)" "checks / failures" "${CHECKS[stock]}" "${CHECKS[patched]}" "${CHECKS[fallback]}" ""
bench_rows
echo "(kernel32_test cells: tests / failures)"
echo "$passed $failed" >"$W/result"
exit 0
fi

# --- on the host -------------------------------------------------------------
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
WORK=${WW_WINE10_WORK:-${WW_CACHE:-/var/cache/libwritewatch}/wine10}
ARCH=${WW_WINE_ARCH:-}
BUILD_PACKAGES="build-essential autoconf automake libtool pkgconf flex bison perl dpkg-dev
                patch xz-utils"
# What differs between the halves: the chroot, its packages, Debian's libdir
# and loader, and the half's work folder (bound at /ww/SUB inside).
case $ARCH in
    amd64|"")
        CHROOT=wine10-trixie-amd64 CHROOT_ARCHES=amd64 PE=x86_64 LOADER=wine64 SUB=""
        PACKAGES="wine64 libwine $BUILD_PACKAGES libunwind-dev gcc-mingw-w64-x86-64" ;;
    i386)
        # wine64 too: it makes the WINEPREFIX, as on a user's machine
        CHROOT=wine10-trixie-i386 CHROOT_ARCHES=amd64,i386 PE=i386 LOADER=wine SUB=i386
        PACKAGES="wine64 libwine wine32:i386 libwine:i386 $BUILD_PACKAGES gcc-multilib
                  gcc-mingw-w64-i686" ;;
    *) echo "test.sh: WW_WINE_ARCH=$ARCH: amd64 or i386" >&2; exit 2 ;;
esac
LIBDIR=/usr/lib/$PE-linux-gnu/wine
start_time=$(date +%s)
say() { printf '[%4ds] %s\n' $(( $(date +%s) - start_time )) "$*"; }

# --- the driver: one run of this script per half -----------------------------
if [ -z "$ARCH" ]; then
    [ "$(id -u)" -eq 0 ] || { echo "test.sh: run me as root (chroot, mounts)" >&2; exit 1; }
    status=0
    for a in ${WW_WINE_ARCHES:-amd64 i386}; do
        case $a in amd64|i386) ;; *)
            echo "test.sh: WW_WINE_ARCHES: unknown $a"; echo "wine 10.0 $a: 0 passed, 1 failed"
            status=1; continue ;;
        esac
        log=$(mktemp)
        s=0
        WW_WINE_ARCH=$a bash "$0" 2>&1 | tee "$log" || s=$?
        # its summary line even if it died before printing it
        grep -qE "^wine 10.0 $a: [0-9]+ passed, [0-9]+ failed$" "$log" ||
            echo "wine 10.0 $a: 0 passed, 1 failed"
        rm -f "$log"
        [ "$s" -eq 0 ] || status=1
    done
    exit $status
fi

summary() { echo "wine 10.0 $ARCH: $1 passed, $2 failed"; }
die() { echo "test.sh: $*" >&2; summary 0 1; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run me as root (chroot, mounts)"
[ -f "$top/scripts/chroot.sh" ] || die "scripts/chroot.sh is missing"
. "$top/scripts/debian-archive.sh"
. "$top/scripts/chroot.sh"
W=$WORK${SUB:+/$SUB}
mkdir -p "$WORK/dl" "$W/in" "$W/lww"

say "chroot $CHROOT (Debian trixie $CHROOT_ARCHES with its Wine and build tools)"
chroot_make "$CHROOT" trixie "$CHROOT_ARCHES" "$(echo $PACKAGES)" || die "cannot make the trixie chroot"
R=$(chroot_root "$CHROOT")
V=$(chroot "$R" dpkg-query -W -f='${Version}' "libwine:$ARCH") || die "no libwine:$ARCH in the chroot"
SYSFILES="$R$LIBDIR/$PE-unix/ntdll.so $R$LIBDIR/$PE-windows/kernelbase.dll $R/usr/lib/wine/$LOADER"
sys_hash=$(cat $SYSFILES | sha256sum)

if [ ! -f "$WORK/dl/wine_${V#*:}.dsc" ]; then
    say "fetching Debian's wine $V source (deb-src trixie, private apt configuration)"
    archive_setup trixie/amd64/src || die "apt-get update for trixie's sources failed"
    # shellcheck disable=SC2046
    (cd "$WORK/dl" && apt-get -q $(archive_opts trixie/amd64/src) source --download-only "wine=$V" \
        >"$WORK/dl/apt-source.log" 2>&1) || { tail "$WORK/dl/apt-source.log"; die "apt-get source wine=$V failed"; }
fi

# Inputs for the inside part: the patches, the bench sources, this script,
# and libwritewatch (only the files git tracks, with their uncommitted edits).
rm -rf "$W/in" && mkdir -p "$W/in"
cp "$here"/*.patch "$here/../bench/wwcheck.c" "$here/../bench/wwbench.c" "$here/test.sh" \
    "$here/../tree.sh" "$here/../bench.sh" "$W/in/"
rm -rf "$W/lww/src" && mkdir -p "$W/lww/src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$top" ls-files -z -- . ':!wine-patch' | (cd "$top" && tar --null -T - -cf -) |
        tar -xf - -C "$W/lww/src"
else
    tar -C "$top" --exclude=.git --exclude=wine-patch -cf - . | tar -xf - -C "$W/lww/src"
fi

rm -f "$W/result"
status=0
CHROOT_BIND=$WORK:/ww chroot_run "$CHROOT" env WW_JOBS="${WW_JOBS:-2}" \
    WW_BENCH_REPEAT="${WW_BENCH_REPEAT:-3}" bash "/ww${SUB:+/$SUB}/in/test.sh" --inside "$V" \
    "$ARCH" "/ww${SUB:+/$SUB}" || status=$?
if [ -f "$W/result" ]; then read -r passed failed <"$W/result"; else passed=0 failed=1; fi
[ $status -eq 0 ] || { echo "test.sh: the run inside the chroot failed (status $status; logs: $W/logs)"; failed=$((failed + 1)); }
if [ "$(cat $SYSFILES | sha256sum)" != "$sys_hash" ]; then
    echo "test.sh: BUG: the chroot's packaged Wine files changed during the run"
    failed=$((failed + 1))
fi
echo "logs: $W/logs"
say "done"
summary "$passed" "$failed"
[ "$failed" -eq 0 ]
