#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# install-test.sh - install into a temporary DESTDIR and use the result the
# way a user would:
#   1. `make install DESTDIR=...` installs exactly the expected files: the
#      shared and static library, the headers, libwritewatch.pc, the
#      programs, every manual page and one link per extra name in a page's
#      NAME section;
#   2. the examples, copied out of the tree, build against the installed
#      libwritewatch.pc alone (one of them also statically) and run against
#      the installed library, as do the installed programs;
#   3. `make uninstall DESTDIR=...` leaves no file behind.
# Run by make check from the build directory; the Makefile passes the
# installation directories and the compiler settings in WW_* variables.
set -eu

: "${srcdir:=.}"
build=$(pwd)
dest=$(mktemp -d "${TMPDIR:-/tmp}/ww-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT
D=$dest/root
status=0
fail() { echo "FAIL: $*"; status=1; }

# A sub-make started by a test must not inherit the running make's job
# server and flags (it would warn, and DESTDIR=... from a caller's command
# line would win).
submake() { (cd "$build" && MAKEFLAGS= MFLAGS= $WW_MAKE -s "$@") >"$dest/make.log" 2>&1 ||
            { cat "$dest/make.log"; echo "FAIL: make $*"; exit 1; }; }

# --- 1. what is installed ---------------------------------------------------
submake install DESTDIR="$D"
(cd "$D" && find . ! -type d | sed 's|^\.||' | sort) >"$dest/installed"

expected() {
    echo "$WW_LIBDIR/libwritewatch.a"
    echo "$WW_LIBDIR/libwritewatch.la"
    echo "$WW_LIBDIR/libwritewatch.so"
    echo "$WW_LIBDIR/libwritewatch.so.0"
    (cd "$D$WW_LIBDIR" && ls libwritewatch.so.0.*) | sed "s|^|$WW_LIBDIR/|"
    echo "$WW_INCLUDEDIR/writewatch.h"
    echo "$WW_INCLUDEDIR/writewatch/win32.h"
    echo "$WW_PKGCONFIGDIR/libwritewatch.pc"
    echo "$WW_BINDIR/wwbench"
    echo "$WW_BINDIR/wwdemo"
    for page in "$srcdir"/man/*.[0-9]; do
        name=$(basename "$page")
        sec=${name##*.}
        # The page itself and one entry per name it documents.
        sed -n '/^\.Sh NAME/,/^\.Sh/s/^\.Nm \([A-Za-z0-9_]*\).*/\1/p' "$page" |
            sed "s|.*|$WW_MANDIR/man$sec/&.$sec|"
        echo "$WW_MANDIR/man$sec/$name"
    done
}
expected | sort -u >"$dest/expected"
if ! cmp -s "$dest/expected" "$dest/installed"; then
    fail "installed files differ from the expected ones (- missing, + unexpected):"
    diff "$dest/expected" "$dest/installed" | sed -n 's/^</  -/p; s/^>/  +/p'
fi
for link in $(cd "$D" && find . -type l); do
    [ -e "$D/$link" ] || fail "dangling link ${link#.}"
done

# --- 2. build and run against the installed copy -----------------------------
# The sysroot makes pkg-config prefix every -I and -L with DESTDIR; the
# system flags are allowed through because with --prefix=/usr (Debian) the
# installed directories are the system ones, which would be dropped.
PKG_CONFIG_LIBDIR=$D$WW_PKGCONFIGDIR
PKG_CONFIG_PATH=
PKG_CONFIG_SYSROOT_DIR=$D
PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
export PKG_CONFIG_LIBDIR PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR \
    PKG_CONFIG_ALLOW_SYSTEM_CFLAGS PKG_CONFIG_ALLOW_SYSTEM_LIBS
pc() { $WW_PKG_CONFIG "$@" libwritewatch; }

version=$(pc --modversion) || { fail "pkg-config cannot find libwritewatch"; exit 1; }
[ "$version" = "$WW_VERSION" ] || fail "pkg-config: version $version, not $WW_VERSION"

mkdir "$dest/examples"
cp "$srcdir"/examples/*.c "$dest/examples/"
cd "$dest/examples"
examples="frame-loop checkpoint windows-style"
# shellcheck disable=SC2086  # the flags are word lists
for ex in $examples; do
    $WW_CC $WW_CFLAGS -o "$ex" "$ex.c" $(pc --cflags) $WW_LDFLAGS $(pc --libs) ||
        fail "$ex does not build against the installed library"
done
# shellcheck disable=SC2086
$WW_CC $WW_CFLAGS -o frame-loop-static frame-loop.c $(pc --cflags) $WW_LDFLAGS \
    $(pc --static --libs | sed 's/-lwritewatch/-l:libwritewatch.a/') ||
    fail "frame-loop does not link statically"

LD_LIBRARY_PATH=$D$WW_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
ldd ./frame-loop | grep -q "$D$WW_LIBDIR/libwritewatch.so.0" ||
    fail "frame-loop does not load the installed library"
if readelf -d frame-loop-static | grep -q 'NEEDED.*libwritewatch'; then
    fail "frame-loop-static needs libwritewatch.so"
fi
for prog in $examples frame-loop-static; do
    [ -x "$prog" ] || continue
    if ./"$prog" >"$prog.out" 2>&1; then
        echo "ok: $prog: $(tail -1 "$prog.out")"
    elif [ $? -eq 77 ]; then
        echo "skipped: $prog: $(tail -1 "$prog.out")"
    else
        cat "$prog.out"; fail "$prog"
    fi
done
"$D$WW_BINDIR/wwdemo" >wwdemo.out 2>&1 || { cat wwdemo.out; fail "installed wwdemo"; }
"$D$WW_BINDIR/wwbench" --help >/dev/null || fail "installed wwbench --help"

# --- 3. uninstall --------------------------------------------------------------
submake uninstall DESTDIR="$D"
left=$(cd "$D" && find . ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"

[ $status -eq 0 ] && echo "install-test: $(wc -l <"$dest/installed") files installed and removed; examples ($examples) built and run against them"
exit $status
