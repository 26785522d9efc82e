#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# wine-patch/i386-proto.sh - PROTOTYPE (findings in i386-notes.md): Debian
# bookworm's Wine 8.0 i386 ntdll.so built with an i386 static libwritewatch,
# and the 32-bit kernel32_test.exe virtual (i686-w64-mingw32) run under
# 32-bit Wine: stock, patched, fallback (WW_BACKEND=mprotect).
#
# Everything happens in a Debian bookworm amd64 chroot with i386 multiarch
# (scripts/chroot.sh; wine64 + wine32:i386 installed there, as on a user's
# machine): the host's Wine is never used nor touched.  Work files are in
# $WW_CACHE/wine32-work (bind-mounted at /ww in the chroot).
set -euo pipefail
WINE_VERSION=8.0~repack-4

if [ "${1:-}" != --inner ]; then
    here=$(cd "$(dirname "$0")" && pwd)
    top=$(dirname "$here")
    W=${WW_CACHE:-/var/cache/libwritewatch}/wine32-work
    start=$(date +%s)
    say() { printf '[%4ds] %s\n' $(($(date +%s) - start)) "$*"; }
    # shellcheck source=scripts/chroot.sh
    . "$top/scripts/chroot.sh"
    chroot_make wine32 bookworm amd64,i386 "build-essential gcc-multilib \
autoconf automake libtool pkg-config dpkg-dev xz-utils patch flex bison \
gcc-mingw-w64-i686 wine wine64 wine32:i386"
    say "chroot ready"
    mkdir -p "$W/dl" "$W/logs"
    dsc=$W/dl/wine_$WINE_VERSION.dsc
    if [ ! -f "$dsc" ]; then
        say "fetching Debian's wine $WINE_VERSION source"
        archive_setup bookworm/amd64/src
        # shellcheck disable=SC2046
        (cd "$W/dl" && apt-get -q $(archive_opts bookworm/amd64/src) source \
            --download-only "wine=$WINE_VERSION" >"$W/logs/source.log" 2>&1)
    fi
    # The clone's tracked files: libwritewatch and the patches.
    rm -rf "$W/lww" "$W/patches" && mkdir -p "$W/lww/src" "$W/patches"
    git -C "$top" ls-files -z -- . ':!wine-patch' | (cd "$top" && tar --null -T - -cf -) |
        tar -xf - -C "$W/lww/src"
    cp "$here"/*.patch "$here"/bench/*.c "$W/patches/"
    cp "$0" "$W/proto.sh"
    CHROOT_BIND=$W:/ww chroot_run wine32 env WINE_VERSION="$WINE_VERSION" \
        bash /ww/proto.sh --inner "${WW_PROTO_STEPS:-lww wine run}"
    say "done"
    exit 0
fi

# ---- inside the chroot ---------------------------------------------------
W=/ww
L=$W/logs
start=$(date +%s)
say() { printf '[%4ds] %s\n' $(($(date +%s) - start)) "$*"; }
run() { local log=$L/$1; shift; "$@" >"$log" 2>&1 || { tail -25 "$log"; echo "FAILED: $* ($log)"; exit 1; }; }

step_lww() {
    say "libwritewatch: i386 static build (gcc -m32)"
    cd $W/lww/src && run lww-autoreconf.log autoreconf -fi
    rm -rf $W/lww/build $W/lww/prefix && mkdir -p $W/lww/build && cd $W/lww/build
    run lww-configure.log ../src/configure CC="gcc -m32" --host=i686-linux-gnu \
        --build=x86_64-linux-gnu --prefix=$W/lww/prefix --disable-shared --with-pic \
        --without-wine-headers
    run lww-make.log make -j2
    run lww-install.log make install
    say "libwritewatch: libwritewatch.a, $(objdump -a $W/lww/prefix/lib/libwritewatch.a | grep -m1 -o 'file format .*')"
}

PLACEHOLDERS="include/wine/vulkan.h include/wine/vulkan_driver.h include/wine/wgl.h
    include/wine/wgl_driver.h dlls/opengl32/thunks.c dlls/opengl32/unix_thunks.c
    dlls/winevulkan/loader_thunks.c dlls/winevulkan/vulkan_thunks.c dlls/win32u/vertical.c
    dlls/wineps.drv/vertical.c dlls/dwrite/shapers/arabic_table.c
    dlls/dwrite/bracket.c dlls/dwrite/direction.c dlls/dwrite/linebreak.c dlls/dwrite/mirror.c
    dlls/dwrite/scripts.c dlls/gdi32/uniscribe/bracket.c dlls/gdi32/uniscribe/direction.c
    dlls/gdi32/uniscribe/indicsyllable.c dlls/gdi32/uniscribe/linebreak.c
    dlls/gdi32/uniscribe/mirror.c dlls/gdi32/uniscribe/shaping.c"
fill_placeholders() {
    local f m d i
    for f in $PLACEHOLDERS; do [ -e "$f" ] || touch "$f"; done
    for i in $(seq 1 200); do
        f=$( (./config.status 2>&1 || true) | sed -n 's/^makedep: error: open \(.*\) : No such file.*/\1/p')
        f=${f%%$'\n'*}
        [ -z "$f" ] && return 0
        case $f in wine/*) touch "include/$f"; continue ;; esac
        for m in $(grep -lF -- "$f" $(find . -name Makefile.in) || true); do
            d=$(dirname "$m")
            [ -e "$d/$f" ] && continue
            mkdir -p "$(dirname "$d/$f")" && touch "$d/$f" && continue 2
        done
        echo "cannot place $f"; return 1
    done
    return 1
}

prepare_tree() {
    rm -rf $W/wine
    dpkg-source -x $W/dl/wine_$WINE_VERSION.dsc $W/wine
    cd $W/wine
    for p in $W/patches/*.patch; do patch -p1 --no-backup-if-mismatch <"$p"; done
    sed -i 's|^WINE_CONFIG_MAKEFILE(dlls/kernel32)$|&\nWINE_CONFIG_MAKEFILE(dlls/kernel32/tests)|' configure.ac
    sed -i '/^\tgenerated.c \\$/d' dlls/kernel32/tests/Makefile.in
    ./debian/scripts/generate server/trace.generated make_requests
    ./debian/scripts/generate server/request.generated make_requests
    ./tools/make_requests
    sed -n 's/^\tln -sf \(\.\.\/.*svg\) \(.*svg\)$/\1 \2/p' debian/rules |
        while read -r target name; do ln -sf "$target" "$name"; done
    mkdir -p nls && cp /usr/share/wine/nls/*.nls nls/
    cp /usr/share/misc/config.sub /usr/share/misc/config.guess tools/
    autoreconf -fi
    # No --enable-win64 on x86_64: Wine's configure adds -m32 itself and
    # builds the i386 tree.  Debian's i386 paths (loader.c's relative paths).
    PKG_CONFIG_PATH=$W/lww/prefix/lib/pkgconfig ./configure --without-x \
        --without-freetype --prefix=/usr --libdir=/usr/lib/i386-linux-gnu/wine \
        --bindir=/usr/lib/wine --datarootdir=/usr/share/wine ||
        [ -x config.status ]
    fill_placeholders
    [ -f Makefile ]
    grep -q '^#define HAVE_LIBWRITEWATCH 1' include/config.h ||
        { echo "configure did not find libwritewatch"; return 1; }
}

step_wine() {
    say "wine: unpack, patch, configure (i386)"
    export -f prepare_tree fill_placeholders
    export W PLACEHOLDERS WINE_VERSION
    run wine-prepare.log bash -euo pipefail -c prepare_tree
    cd $W/wine
    say "wine: dlls/ntdll/ntdll.so"
    run wine-ntdll.log make -j2 VENDOR="Debian $WINE_VERSION" dlls/ntdll/ntdll.so
    say "wine: $(file -b dlls/ntdll/ntdll.so | cut -d, -f1-2); ww_ symbols: $(nm -D --defined-only dlls/ntdll/ntdll.so | grep -c ' ww_' || true)"
    say "wine: dlls/kernel32/tests/i386-windows/kernel32_test.exe"
    run wine-kernel32-tests.log make -j2 VENDOR="Debian $WINE_VERSION" \
        dlls/kernel32/tests/i386-windows/kernel32_test.exe
    say "bench: wwcheck.exe, wwbench.exe (i686-w64-mingw32-gcc)"
    for b in wwcheck wwbench; do
        run bench-$b.log i686-w64-mingw32-gcc -O2 -Wall -o $W/$b.exe $W/patches/$b.c
    done
}

step_run() {
    local R=$W/root cfg loader out
    say "private installation in $R (the chroot's Wine + the i386 ntdll.so)"
    rm -rf $R
    mkdir -p $R/usr/lib/wine $R/usr/lib/i386-linux-gnu $R/usr/lib/x86_64-linux-gnu $R/usr/share
    cp /usr/lib/wine/wine /usr/lib/wine/wine64 /usr/lib/wine/wineserver $R/usr/lib/wine/
    cp -as /usr/lib/i386-linux-gnu/wine $R/usr/lib/i386-linux-gnu/
    cp -as /usr/lib/x86_64-linux-gnu/wine $R/usr/lib/x86_64-linux-gnu/
    cp -as /usr/share/wine $R/usr/share/
    rm $R/usr/lib/i386-linux-gnu/wine/i386-unix/ntdll.so
    install -m 644 $W/wine/dlls/ntdll/ntdll.so $R/usr/lib/i386-linux-gnu/wine/i386-unix/ntdll.so
    export WINEPREFIX=/tmp/ww-wine32-prefix WINEARCH=win64
    rm -rf $WINEPREFIX
    say "wineboot (win64 prefix: 32-bit programs run in the i386 Wine, as on users' machines)"
    run wineboot.log env WINEDEBUG=-all /usr/lib/wine/wine64 wineboot -i
    # No X server here: Wine's null display driver, so that CreateWindow works
    # (the i386-only test_atl_thunk_emulation needs a window; without one the
    # whole test program dies there, stock as well).
    run reg.log env WINEDEBUG=-all /usr/lib/wine/wine64 reg add 'HKCU\Software\Wine\Drivers' \
        /v Graphics /d null /f
    /usr/lib/wine/wineserver -w
    for cfg in stock patched fallback; do
        /usr/lib/wine/wineserver -k >/dev/null 2>&1 || true
        /usr/lib/wine/wineserver -w || true
        loader=/usr/lib/wine/wine; [ $cfg = stock ] || loader=$R/usr/lib/wine/wine
        env=WW_BACKEND=; [ $cfg = fallback ] && env=WW_BACKEND=mprotect
        out=$L/kernel32-virtual-$cfg.log
        local t0
        t0=$(date +%s)
        env $env WINETEST_PLATFORM=wine WINEDEBUG=-all,+writewatch \
            timeout 900 $loader $W/wine/dlls/kernel32/tests/i386-windows/kernel32_test.exe virtual >"$out" 2>&1 || true
        say "$cfg: kernel32 virtual: $(sed -n 's/.*:virtual: \([0-9]*\) tests executed.*/\1/p' "$out" | sort -n | tail -1) tests, $(sed -n 's/.*:virtual: [0-9]* tests executed.* \([0-9]*\) failures.*/\1/p' "$out" | awk '{ s += $1 } END { print s + 0 }') failures (all processes) [$(($(date +%s) - t0)) s]; $(tr -d '\r' <"$out" | grep -o "using [A-Za-z' ]*write watches" | sort -u | paste -sd, -)"
        grep 'Test failed' "$out" | head -5 || true
        out=$L/wwcheck-$cfg.log
        env $env WINEDEBUG=-all timeout 300 $loader $W/wwcheck.exe 2>&1 | tr -d '\r' >"$out" || true
        say "$cfg: $(grep '^wwcheck:' "$out" | tail -1)"
        out=$L/wwbench-$cfg.log
        rm -f "$out"
        for sc in "1 4096 rand separate" "2 4096 rand getreset"; do
            env $env WINEDEBUG=-all timeout 300 $loader $W/wwbench.exe $sc 2>&1 | tr -d '\r' >>"$out" || true
        done
        sed "s/^/[$cfg] /" "$out" | grep wwbench || tail -3 "$out"
    done
    /usr/lib/wine/wineserver -k >/dev/null 2>&1 || true
    rm -rf $WINEPREFIX
}

for s in $2; do "step_$s"; done
