# SPDX-License-Identifier: LGPL-2.1-or-later
# chroot.sh - sourced (". scripts/chroot.sh", with $top set to the clone) by
# the scripts that build or test in another Debian root filesystem: the i386
# build of the library, the Wine rigs of other suites.
#
# Chroots are made with mmdebstrap from the machine's own Debian mirror
# (found at run time by archive_mirror of debian-archive.sh; no host name is
# ever written into a file of the project) and cached outside the clone:
#
#   $WW_CACHE/chroots/NAME/root    the root filesystem
#   $WW_CACHE/chroots/NAME/key     what it was made from (a hash)
#
#   chroot_make NAME SUITE ARCHES "PACKAGES"
#        make (or reuse) chroot NAME: SUITE, ARCHES ("i386", or "amd64,i386"
#        for multiarch: the first is the native one), PACKAGES (space
#        separated; "pkg:i386" for a foreign one).  It is rebuilt only when
#        its key changes: the hash of the suite, the architectures, the
#        sorted package list, mmdebstrap's version and the code (not the
#        comments) of this file.  A build goes to a temporary folder that is
#        renamed into place on success: a failed or interrupted build never
#        leaves a half chroot behind (the next call clears its remains).
#   chroot_run NAME CMD [ARG...]
#        run CMD as root in chroot NAME, with /proc, /dev and /sys (and, if
#        CHROOT_BIND=HOST-DIR:GUEST-DIR is set, that folder) bind-mounted for
#        the duration; returns CMD's status.  The mounts live in a private
#        mount namespace of their own (unshare -m), so they disappear on
#        every exit path, signals and SIGKILL included; where unshare cannot
#        work, they are unmounted by a trap (EXIT, HUP, INT, TERM).  The
#        environment is reset (PATH, HOME=/root, LANG=C.UTF-8, TERM): pass
#        variables with "env VAR=VALUE CMD".
#   chroot_apt NAME "PACKAGES"
#        install the PACKAGES chroot NAME lacks (apt-get inside; the host's
#        apt is never used).  They are not part of the key: a rebuild drops
#        them, so call it on every run (it does nothing when all are there).
#   chroot_root NAME
#        print the path of the root filesystem.
#
# The host's apt configuration, lists and cache are never read or written:
# mmdebstrap keeps its apt state inside the new root.  Needs root.
ww_cache=${WW_CACHE:-/var/cache/libwritewatch}
chroot_lib=${top:?set top to the clone before sourcing chroot.sh}/scripts/chroot.sh
command -v archive_mirror >/dev/null 2>&1 || . "$top/scripts/debian-archive.sh"

chroot_root() { echo "$ww_cache/chroots/$1/root"; }

# One word of a space separated list a line.
chroot_words() { for _w in $1; do echo "$_w"; done; }

# The key of a chroot: a hash of what it is made from.  Comments and blank
# lines of this file are left out so that documenting it rebuilds nothing.
chroot_key() {   # SUITE ARCHES PACKAGES
    {
        echo "suite=$1"
        echo "arches=$2"
        echo "packages=$(chroot_words "$3" | sort -u | tr '\n' ' ')"
        mmdebstrap --version 2>/dev/null
        grep -v '^[[:space:]]*#' "$chroot_lib" | grep -v '^[[:space:]]*$'
    } | sha256sum | cut -c1-32
}

# Unmount whatever is still mounted below DIR (a build or run killed by
# SIGKILL in the trap fallback), deepest first, then remove DIR without ever
# leaving its file system.
chroot_rm() {   # DIR
    [ -e "$1" ] || return 0
    _d=$(cd "$1" && pwd -P) || return 1
    awk -v d="$_d" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts |
        sort -r | while read -r _m; do umount -l "$_m" 2>/dev/null; done
    rm -rf --one-file-system "$_d"
}

chroot_make() {   # NAME SUITE ARCHES PACKAGES
    _cn=$1
    _cd=$ww_cache/chroots
    [ "$(id -u)" -eq 0 ] || { echo "chroot $_cn: needs root" >&2; return 1; }
    # arch-test: mmdebstrap needs it for any architecture but the host's.
    WW_EXTRA_PACKAGES="mmdebstrap arch-test ${WW_EXTRA_PACKAGES:-}" \
        sh "$top/scripts/install-deps.sh" ||
        { echo "chroot $_cn: cannot install mmdebstrap" >&2; return 1; }
    mkdir -p "$_cd" || return 1
    _ck=$(chroot_key "$2" "$3" "$4") || return 1
    (
        flock -x 9 || exit 1
        if [ "$(cat "$_cd/$_cn/key" 2>/dev/null)" = "$_ck" ] &&
           [ -x "$_cd/$_cn/root/bin/sh" ]; then
            echo "chroot $_cn: cached ($2 $3)"
            exit 0
        fi
        for _o in "$_cd/.$_cn".*; do chroot_rm "$_o" || exit 1; done
        _m=$(archive_mirror) ||
            { echo "chroot $_cn: no Debian mirror in /etc/apt" >&2; exit 1; }
        _t=$_cd/.$_cn.new.$$
        mkdir -p "$_t" || exit 1
        _inc=$(chroot_words "$4" | paste -sd, -)
        echo "chroot $_cn: building $2 ($3) with $(chroot_words "$4" | wc -l)" \
            "packages from the archive into $_t"
        _s=$(date +%s)
        # mmdebstrap mounts /proc, /dev and /sys inside while it works:
        # its own namespace makes sure nothing stays mounted if it is killed.
        _ns=""
        unshare -m --propagation private true 2>/dev/null &&
            _ns="unshare -m --propagation private"
        { $_ns mmdebstrap --mode=root --variant=apt --architectures="$3" \
            --aptopt='APT::Install-Recommends "false"' \
            ${_inc:+--include="$_inc"} "$2" "$_t/root" "$_m" 2>&1
          echo $? >"$_t/status"; } | tee "$_t/mmdebstrap.log" |
            sed -u -n "s/^I: /chroot $_cn: /p"
        if [ "$(cat "$_t/status")" != 0 ] || [ ! -x "$_t/root/bin/sh" ]; then
            echo "chroot $_cn: mmdebstrap failed; its last lines:" >&2
            tail -n 15 "$_t/mmdebstrap.log" >&2
            cp "$_t/mmdebstrap.log" "$_cd/$_cn.failed.log" 2>/dev/null &&
                echo "chroot $_cn: whole log: $_cd/$_cn.failed.log" >&2
            chroot_rm "$_t"
            exit 1
        fi
        echo "$_ck" >"$_t/key"
        rm -f "$_t/status"
        if [ -e "$_cd/$_cn" ]; then
            mv "$_cd/$_cn" "$_cd/.$_cn.old.$$" || exit 1
        fi
        mv "$_t" "$_cd/$_cn" || exit 1
        chroot_rm "$_cd/.$_cn.old.$$"
        echo "chroot $_cn: built in $(($(date +%s) - _s)) s," \
            "$(du -sh --one-file-system "$_cd/$_cn/root" | cut -f1)"
    ) 9>"$_cd/$_cn.lock"
}

# The mounts and the chroot call, run in a fresh mount namespace (or in a
# subshell whose trap unmounts): ROOT BIND CMD...
# shellcheck disable=SC2016
chroot_inner='
r=$1; b=$2; shift 2
mount --bind /proc "$r/proc" &&
mount --rbind /dev "$r/dev" &&
mount --rbind /sys "$r/sys" || exit 125
if [ -n "$b" ]; then
    mkdir -p "$r${b#*:}" && mount --bind "${b%%:*}" "$r${b#*:}" || exit 125
fi
chroot "$r" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"
'

# Run without taking the lock (the callers hold it).
chroot_exec() {   # NAME CMD...
    _r=$(chroot_root "$1"); shift
    [ -x "$_r/bin/sh" ] || { echo "chroot: no chroot at $_r" >&2; return 1; }
    if unshare -m --propagation private true 2>/dev/null; then
        unshare -m --propagation private sh -c "$chroot_inner" sh \
            "$_r" "${CHROOT_BIND:-}" "$@" 9>&-
        return
    fi
    (
        _g=${CHROOT_BIND:-}
        # shellcheck disable=SC2317
        _um() {
            for _p in "$_r${_g#*:}" "$_r/sys" "$_r/dev" "$_r/proc"; do
                [ "$_p" = "$_r" ] && continue
                mountpoint -q "$_p" 2>/dev/null && umount -l "$_p"
            done
        }
        trap '_um' EXIT
        trap '_um; trap - EXIT; exit 130' HUP INT TERM
        sh -c "$chroot_inner" sh "$_r" "${CHROOT_BIND:-}" "$@" 9>&-
    )
}

chroot_run() {   # NAME CMD...
    [ -d "$ww_cache/chroots/$1" ] || { echo "chroot $1: not made" >&2; return 1; }
    (
        flock -s 9 || exit 1
        chroot_exec "$@"
    ) 9>"$ww_cache/chroots/$1.lock"
}

chroot_apt() {   # NAME PACKAGES
    [ -d "$ww_cache/chroots/$1" ] || { echo "chroot $1: not made" >&2; return 1; }
    (
        flock -x 9 || exit 1
        _r=$(chroot_root "$1")
        _miss=""
        for _p in $2; do
            # shellcheck disable=SC2016
            chroot "$_r" dpkg-query -W -f='${Status}' "$_p" 2>/dev/null |
                grep -q "ok installed" || _miss="$_miss $_p"
        done
        [ -z "$_miss" ] && exit 0
        echo "chroot $1: installing$_miss"
        # shellcheck disable=SC2086
        chroot_exec "$1" sh -c 'apt-get -q update >/tmp/chroot-apt.log 2>&1 &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                --no-install-recommends "$@" >>/tmp/chroot-apt.log 2>&1 &&
            apt-get clean || { tail -n 15 /tmp/chroot-apt.log; exit 1; }' sh $_miss ||
            { echo "chroot $1: apt-get install$_miss failed" >&2; exit 1; }
    ) 9>"$ww_cache/chroots/$1.lock"
}
