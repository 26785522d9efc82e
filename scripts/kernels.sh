#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# kernels.sh - run the test suites on the kernels users run: Debian's
# kernel images of several suites, booted under QEMU.
#
#   1. a private apt configuration under $WW_CACHE/apt (its own sources
#      list, lists, cache and state; the system's apt is left alone), with
#      the machine's own Debian mirror, one per suite of WW_KERNEL_SUITES
#      (default: bookworm trixie sid experimental)
#   2. per suite, `apt-get download` of the kernel image linux-image-amd64
#      depends on (experimental: the highest linux-image-*-amd64), cached
#   3. per kernel: vmlinuz and the 9p/virtio modules are taken out of the
#      package, a tiny initramfs (static busybox) mounts the host's root
#      read-only over virtio-9p, chroots into it and runs the test programs
#      of a normal build (scripts/kernels-guest.sh) under QEMU's TCG
#   4. prints "kernel VERSION: backends ..., N passed, N failed" per kernel
#      and "N passed, N failed" at the end; exit status 0 only if all passed.
#
# The kernel versions come from the archive, never from this file.  KVM is
# used only where it boots a stock kernel (WW_KERNEL_ACCEL=kvm forces it;
# the default is TCG, since this project's machines have a paravirtual KVM
# that cannot).  The build is in $WW_KERNEL_BUILD (default _kernels/build).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${WW_CACHE:-/var/cache/libwritewatch}
suites=${WW_KERNEL_SUITES:-bookworm trixie sid experimental}
build=${WW_KERNEL_BUILD:-$top/_kernels/build}
work=$top/_kernels
timeout_s=${WW_KERNEL_TIMEOUT:-900}

WW_EXTRA_PACKAGES="qemu-system-x86 busybox-static cpio xz-utils zstd" \
    sh "$top/scripts/install-deps.sh" || exit 1

# The machine's Debian mirror: the first URI of a "deb" source whose path
# ends in /debian (one-line or deb822 format), so that this file names no
# host.
find_mirror() {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" { for (i = 2; i <= NF; i++)
                 if ($i ~ /^[a-z]+:\/\/.*\/debian\/?$/) { print $i; exit } }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '/^URIs:/ { for (i = 2; i <= NF; i++)
                 if ($i ~ /\/debian\/?$/) { print $i; exit } }' "$f"
    done
}
mirror=$(find_mirror | head -n 1)
if [ -z "$mirror" ]; then
    echo "kernels: no Debian mirror in /etc/apt; cannot download kernels" >&2
    exit 1
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# apt SUITE ARGS...: apt-get/apt-cache with the private configuration of
# one suite (nothing read from or written to the system's apt state).
apt_dir() { echo "$cache/apt/$1"; }
apt_opts() {
    d=$(apt_dir "$1")
    echo "-o Dir::Etc::SourceList=$d/sources.list -o Dir::Etc::SourceParts=$d/empty \
-o Dir::Etc::Preferences=$d/empty/none -o Dir::Etc::PreferencesParts=$d/empty \
-o Dir::State=$d/state -o Dir::State::Lists=$d/state/lists \
-o Dir::State::status=$d/state/status -o Dir::Cache=$d/cache \
-o APT::Architecture=amd64 -o APT::Architectures=amd64 -o Debug::NoLocking=1 \
-o Acquire::Languages=none -o APT::Get::List-Cleanup=0"
}
apt_setup() {   # SUITE
    d=$(apt_dir "$1")
    mkdir -p "$d/empty" "$d/state/lists/partial" "$d/cache/archives/partial" \
        "$d/debs" || return 1
    : >"$d/state/status"
    echo "deb [signed-by=$keyring] $mirror $1 main" >"$d/sources.list"
    # shellcheck disable=SC2046
    apt-get -q $(apt_opts "$1") update >"$d/update.log" 2>&1
}

# The versioned image package a suite's linux-image-amd64 depends on; the
# highest linux-image-*-amd64 where the metapackage has none.
image_package() {   # SUITE
    # shellcheck disable=SC2046
    p=$(apt-cache $(apt_opts "$1") show linux-image-amd64 2>/dev/null |
        sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*-amd64\)\b.*/\1/p' |
        sort -V | tail -n 1)
    if [ -z "$p" ]; then
        # shellcheck disable=SC2046
        p=$(apt-cache $(apt_opts "$1") pkgnames linux-image- 2>/dev/null |
            grep -E '^linux-image-[0-9].*-amd64$' | sort -V | tail -n 1)
    fi
    [ -n "$p" ] && echo "$p"
}

# Download (cached: a .deb already in the suite's folder is reused while
# the archive still names it) and print the path of the .deb.
download() {   # SUITE PACKAGE
    d=$(apt_dir "$1")
    # shellcheck disable=SC2046
    v=$(apt-cache $(apt_opts "$1") show "$2" 2>/dev/null |
        sed -n 's/^Version: //p' | sort -V | tail -n 1)
    [ -n "$v" ] || return 1
    f=$(ls "$d/debs/$2_$(echo "$v" | sed 's/:/%3a/')_"*.deb 2>/dev/null | head -n 1)
    if [ -z "$f" ]; then
        # shellcheck disable=SC2046
        (cd "$d/debs" && apt-get -q $(apt_opts "$1") download "$2=$v" \
            >"$d/download.log" 2>&1) || return 1
        f=$(ls "$d/debs/$2_"*.deb 2>/dev/null | sort -V | tail -n 1)
    fi
    [ -n "$f" ] && echo "$f"
}
