# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# wine-patch/tree.sh - sourced (bash) by 8.0/test.sh and 10.0/test.sh: how a
# patched, configured Wine source tree is made from Debian's source package,
# the steps both versions share.  What differs, each version's test.sh gives:
#
#   wine_tree_generate   a function: what debian/rules does before configure
#                        that this version needs (generated server files...)
#   WT_DSC               Debian's .dsc of the Wine source
#   WT_TREE              the tree to make (removed first)
#   WT_PATCHES           the folder whose *.patch are applied, in order
#   WT_LWW_PREFIX        libwritewatch's installation (its pkg-config file)
#   WT_LIBDIR            Debian's Wine libdir (unix/loader.c compiles it in)
#   WT_CONFIGURE         further configure options (--enable-win64 ...)
#   WT_PLACEHOLDERS      generated files the repack tarball lacks
#
# wine_tree_make runs wine_tree_prepare in a bash of its own (so that -e
# holds inside: the caller's "if" would switch it off), logging to its first
# argument through the caller's run function.  wine_tree_key prints what the
# tree's cache key covers: these functions, the version's, and the inputs.

# Empty files for what makedep opens but the tarball lacks: makedep opens
# every source named in every Makefile.in, even ones never built here.  The
# known ones first, then one config.status run per file makedep still misses.
wine_tree_fill_placeholders() {
    local f m d _
    for f in $WT_PLACEHOLDERS; do
        [ -e "$f" ] || { mkdir -p "$(dirname "$f")" && touch "$f"; }
    done
    for _ in $(seq 1 200); do
        f=$( (./config.status 2>&1 || true) |
            sed -n 's/^makedep: error: open \(.*\) : No such file.*/\1/p')
        f=${f%%$'\n'*}
        [ -z "$f" ] && return 0
        echo "placeholder (not in the list yet): $f"
        case $f in wine/*) touch "include/$f"; continue ;; esac
        # shellcheck disable=SC2046
        for m in $(grep -lF -- "$f" $(find . -name Makefile.in) || true); do
            d=$(dirname "$m")
            [ -e "$d/$f" ] && continue
            mkdir -p "$(dirname "$d/$f")" && touch "$d/$f" && continue 2
        done
        echo "cannot place $f"; return 1
    done
    return 1
}

wine_tree_prepare() {
    local p
    rm -rf "$WT_TREE"
    dpkg-source -x "$WT_DSC" "$WT_TREE"
    cd "$WT_TREE" || return 1
    for p in "$WT_PATCHES"/*.patch; do
        echo "applying $(basename "$p")"
        patch -p1 --no-backup-if-mismatch <"$p"
    done
    # Test harness only, not part of the patch: Debian drops kernel32's tests
    # (their generated.c is stripped); build them without it.
    sed -i 's|^WINE_CONFIG_MAKEFILE(dlls/kernel32)$|&\nWINE_CONFIG_MAKEFILE(dlls/kernel32/tests)|' configure.ac
    sed -i '/^\tgenerated.c \\$/d' dlls/kernel32/tests/Makefile.in
    wine_tree_generate
    sed -n 's/^\tln -sf \(\.\.\/.*svg\) \(.*svg\)$/\1 \2/p' debian/rules |
        while read -r target name; do ln -sf "$target" "$name"; done
    mkdir -p nls && cp /usr/share/wine/nls/*.nls nls/
    cp /usr/share/misc/config.sub /usr/share/misc/config.guess tools/
    autoreconf -fi
    # Debian's paths: unix/loader.c compiles in the relative paths between
    # them.  i386: no --enable-win64, Wine's configure builds the i386 tree
    # with -m32.  makedep fails on the missing generated files: fill them in.
    # shellcheck disable=SC2086
    PKG_CONFIG_PATH=$WT_LWW_PREFIX/lib/pkgconfig ./configure $WT_CONFIGURE \
        --without-x --without-freetype --prefix=/usr --libdir="$WT_LIBDIR" \
        --bindir=/usr/lib/wine --datarootdir=/usr/share/wine ||
        [ -x config.status ]
    wine_tree_fill_placeholders
    [ -f Makefile ]
    grep -q '^#define HAVE_LIBWRITEWATCH 1' include/config.h ||
        { echo "configure did not find libwritewatch"; return 1; }
}

wine_tree_key() {
    cat "$WT_PATCHES"/*.patch "$WT_DSC"
    declare -f wine_tree_prepare wine_tree_fill_placeholders wine_tree_generate
    echo "$WT_PLACEHOLDERS $WT_CONFIGURE $WT_LIBDIR"
}

wine_tree_make() {     # LOG
    export -f wine_tree_prepare wine_tree_fill_placeholders wine_tree_generate
    export WT_DSC WT_TREE WT_PATCHES WT_LWW_PREFIX WT_LIBDIR WT_CONFIGURE \
        WT_PLACEHOLDERS
    run "$1" bash -euo pipefail -c wine_tree_prepare
}
