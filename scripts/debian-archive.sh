# SPDX-License-Identifier: LGPL-2.1-or-later
# debian-archive.sh - sourced (". scripts/debian-archive.sh") by the scripts
# that need packages of other Debian suites than the machine's own: the
# kernel matrix, the i386 and trixie chroots, the Wine and bdwgc rigs.
#
# Everything goes through a private apt configuration per suite under
# $WW_CACHE/apt/SUITE (its own sources list, lists, cache and state): the
# system's apt lists are never read or written.  The mirror is the machine's
# own, found at run time, so that no file of the project names a host.
#
# A configuration is named by KEY = SUITE[/ARCH[/src]]: "trixie" is trixie's
# amd64 binary packages, "bookworm/i386" bookworm's i386 ones, "trixie/amd64/src"
# adds trixie's deb-src lines (for apt-get source).  Each key has its folder.
#
#   archive_mirror             print the machine's Debian mirror URI (or fail)
#   archive_setup KEY          write the sources list, then apt-get update
#   archive_opts KEY           the -o options of that configuration
#   archive_dir KEY            its folder
#   archive_download KEY PKG   download PKG (cached in archive_dir/debs while
#                              the archive still serves that version); print
#                              the path of the .deb
#   archive_prune KEY GLOB KEEP...  remove the .debs of archive_dir/debs
#                              named GLOB but not among the paths KEEP (what
#                              a metapackage no longer names); print their
#                              names
ww_cache=${WW_CACHE:-/var/cache/libwritewatch}
archive_keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# The first URI of a "deb" source whose path ends in /debian (one-line or
# deb822 format).
archive_mirror() {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" { for (i = 2; i <= NF; i++)
                 if ($i ~ /^[a-z]+:\/\/.*\/debian\/?$/) { print $i; exit } }' "$f"
    done | head -n 1 | grep . && return 0
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '/^URIs:/ { for (i = 2; i <= NF; i++)
                 if ($i ~ /\/debian\/?$/) { print $i; exit } }' "$f"
    done | head -n 1 | grep .
}

archive_dir() { echo "$ww_cache/apt/$(echo "$1" | tr / -)"; }
archive_suite() { echo "${1%%/*}"; }
archive_arch() { case $1 in */*) _r=${1#*/}; echo "${_r%%/*}" ;; *) echo amd64 ;; esac; }

archive_opts() {   # SUITE
    _d=$(archive_dir "$1")
    _a=$(archive_arch "$1")
    echo "-o Dir::Etc::SourceList=$_d/sources.list -o Dir::Etc::SourceParts=$_d/empty \
-o Dir::Etc::Preferences=$_d/empty/none -o Dir::Etc::PreferencesParts=$_d/empty \
-o Dir::State=$_d/state -o Dir::State::Lists=$_d/state/lists \
-o Dir::State::status=$_d/state/status -o Dir::Cache=$_d/cache \
-o APT::Architecture=$_a -o APT::Architectures=$_a -o Debug::NoLocking=1 \
-o Acquire::Languages=none -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root"
}

archive_setup() {   # KEY
    _d=$(archive_dir "$1")
    _m=$(archive_mirror) || { echo "no Debian mirror in /etc/apt" >&2; return 1; }
    mkdir -p "$_d/empty" "$_d/state/lists/partial" "$_d/cache/archives/partial" \
        "$_d/debs" || return 1
    : >"$_d/state/status"
    _s=$(archive_suite "$1")
    echo "deb [signed-by=$archive_keyring] $_m $_s main" >"$_d/sources.list"
    case $1 in */src) echo "deb-src [signed-by=$archive_keyring] $_m $_s main" \
        >>"$_d/sources.list" ;; esac
    # shellcheck disable=SC2046
    apt-get -q $(archive_opts "$1") update >"$_d/update.log" 2>&1 || {
        echo "apt-get update for $1 failed, see $_d/update.log" >&2; return 1; }
}

archive_download() {   # KEY PACKAGE
    _d=$(archive_dir "$1")
    # shellcheck disable=SC2046
    _v=$(apt-cache $(archive_opts "$1") show "$2" 2>/dev/null |
        sed -n 's/^Version: //p' | sort -V | tail -n 1)
    [ -n "$_v" ] || return 1
    _f=$(ls "$_d/debs/$2_$(echo "$_v" | sed 's/:/%3a/')_"*.deb 2>/dev/null | head -n 1)
    if [ -z "$_f" ]; then
        # shellcheck disable=SC2046
        (cd "$_d/debs" && apt-get -q $(archive_opts "$1") download "$2=$_v" \
            >>"$_d/download.log" 2>&1) || return 1
        _f=$(ls "$_d/debs/$2_"*.deb 2>/dev/null | sort -V | tail -n 1)
    fi
    [ -n "$_f" ] && echo "$_f"
}

archive_prune() {   # KEY GLOB KEEP...
    _d=$(archive_dir "$1")/debs
    _g=$2
    shift 2
    for _f in "$_d"/$_g; do
        [ -f "$_f" ] || continue
        _k=0
        for _x in "$@"; do
            [ "$_x" = "$_f" ] && _k=1
        done
        [ $_k = 1 ] || { rm -f "$_f" && basename "$_f"; }
    done
}
