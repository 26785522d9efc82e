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
#   4. prints "kernel VERSION: backends ..., N passed, N failed, N skipped"
#      per kernel (with what wwdemo said of the auto and uffd backends
#      there) and "N passed, N failed" at the end; exit status 0 only if
#      all passed, 77 if QEMU cannot run at all here (skipped).
#
# The kernel versions come from the archive, never from this file; kernel
# .debs the archive no longer names are pruned from the cache.  KVM is used
# only where it boots a stock kernel: the first kernel boots a trivial
# initramfs under KVM once (a few seconds at most; 0.2 s where QEMU fails
# at once, as on a paravirtual nested KVM, kvm_pvm), and TCG runs otherwise,
# with the reason printed.  WW_KERNEL_ACCEL=kvm or tcg skips the probe.
# The build is in $WW_KERNEL_BUILD (default _kernels/build in the clone;
# elsewhere, not under /tmp, which the guest replaces by a tmpfs: only the
# clone itself is kept visible there).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
suites=${WW_KERNEL_SUITES:-bookworm trixie sid experimental}
build=${WW_KERNEL_BUILD:-$top/_kernels/build}
work=$top/_kernels
timeout_s=${WW_KERNEL_TIMEOUT:-900}
kvm_probe_s=${WW_KERNEL_KVM_PROBE_TIMEOUT:-20}
accel=""

WW_EXTRA_PACKAGES="qemu-system-x86 busybox-static cpio xz-utils zstd" \
    sh "$top/scripts/install-deps.sh" || exit 1
# Skip, not fail, only where QEMU cannot run at all.
if ! qemu-system-x86_64 --version >/dev/null 2>&1; then
    echo "kernels: SKIP: qemu-system-x86_64 cannot run here"
    exit 77
fi

. "$top/scripts/debian-archive.sh"
if ! archive_mirror >/dev/null; then
    echo "kernels: no Debian mirror in /etc/apt; cannot download kernels" >&2
    exit 1
fi

# The versioned image package a suite's linux-image-amd64 depends on; the
# highest linux-image-*-amd64 where the metapackage has none.
image_package() {   # SUITE
    # shellcheck disable=SC2046
    p=$(apt-cache $(archive_opts "$1") show linux-image-amd64 2>/dev/null |
        sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*-amd64\)\b.*/\1/p' |
        sort -V | tail -n 1)
    if [ -z "$p" ]; then
        # shellcheck disable=SC2046
        p=$(apt-cache $(archive_opts "$1") pkgnames linux-image- 2>/dev/null |
            grep -E '^linux-image-[0-9].*-amd64$' | sort -V | tail -n 1)
    fi
    [ -n "$p" ] && echo "$p"
}


# The image package and, from 7.x on, the packages Debian split it into
# (linux-binary-* holds vmlinuz, linux-modules-* the modules): print the
# .debs, one a line.
download() {   # SUITE IMAGE-PACKAGE
    f=$(archive_download "$1" "$2") || return 1
    echo "$f"
    for p in $(dpkg-deb -f "$f" Depends | tr ',|' '\n\n' |
               sed -n 's/^ *\(linux-\(binary\|modules\)-[^ ]*\).*/\1/p'); do
        archive_download "$1" "$p" || return 1
    done
}

# Unpack the .debs of one kernel into DIR/root and print its version (the
# name of its modules folder).
unpack() {   # DIR DEB...
    dir=$1; shift
    rm -rf "$dir/root"
    mkdir -p "$dir/root"
    for f in "$@"; do
        dpkg-deb -x "$f" "$dir/root" || return 1
    done
    for m in "$dir"/root/lib/modules/* "$dir"/root/usr/lib/modules/*; do
        [ -d "$m" ] && basename "$m" && return 0
    done
    return 1
}

# Copy module NAME and the modules it depends on, uncompressed (busybox's
# insmod reads plain .ko files), into DIR, and append their names to
# DIR/order, dependencies first.
add_module() {   # MODDIR NAME DIR
    grep -qx "$2" "$3/order" 2>/dev/null && return 0
    f=$(find "$1" -name "$2.ko*" -o -name "$(echo "$2" | tr _ -).ko*" |
        head -n 1)
    # Not in the package: built into the kernel (from 7.x modules.builtin
    # is in another package, linux-base-*).  If it was not, the guest says
    # it cannot mount the host's root.
    [ -n "$f" ] || return 0
    case $f in
    *.xz) xz -dc "$f" >"$3/$2.ko" ;;
    *.zst) zstd -qdc "$f" >"$3/$2.ko" ;;
    *.gz) gzip -dc "$f" >"$3/$2.ko" ;;
    *) cp "$f" "$3/$2.ko" ;;
    esac || return 1
    # The .modinfo section's "depends=a,b" (no kmod needed on the host).
    for dep in $(strings -a "$3/$2.ko" | sed -n 's/^depends=//p' | tr , ' '); do
        add_module "$1" "$dep" "$3" || return 1
    done
    echo "$2" >>"$3/order"
}

# The initramfs of one kernel: static busybox, the modules that mount the
# host's root over virtio-9p, an init that chroots into it and runs
# scripts/kernels-guest.sh, then powers off.
make_initramfs() {   # DIR VERSION REQUIRE
    dir=$1
    moddir=$(ls -d "$dir/root/lib/modules/$2" "$dir/root/usr/lib/modules/$2" \
        2>/dev/null | head -n 1)
    ir=$dir/initramfs
    rm -rf "$ir"
    mkdir -p "$ir/bin" "$ir/modules" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/host"
    cp /bin/busybox "$ir/bin/busybox" || return 1
    ln -s busybox "$ir/bin/sh"
    : >"$ir/modules/order"
    for m in virtio_pci 9pnet_virtio 9p; do
        add_module "$moddir" "$m" "$ir/modules" || return 1
    done
    cat >"$ir/init" <<INIT
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in \$(cat /modules/order); do insmod /modules/\$m.ko || echo "ww-guest: insmod \$m failed"; done
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /host; then
    mount -t proc proc /host/proc
    mount -t sysfs sys /host/sys
    mount -t devtmpfs dev /host/dev
    mount -t devpts devpts /host/dev/pts 2>/dev/null
    # The tests need a writable /tmp; a clone that lives under /tmp (as a
    # CI clone may) must stay visible above the tmpfs.
    case '$top' in /tmp/*) keep=1 ;; *) keep=0 ;; esac
    [ \$keep = 1 ] && mkdir -p /keep && mount -o bind '/host$top' /keep
    mount -t tmpfs tmp /host/tmp
    [ \$keep = 1 ] && mkdir -p '/host$top' && mount -o bind /keep '/host$top'
    mount -t tmpfs run /host/run
    chroot /host /bin/sh '$top/scripts/kernels-guest.sh' '$build' '$3'
else
    echo "ww-guest: cannot mount the host's root"
fi
echo "ww-guest: done"
poweroff -f
INIT
    chmod +x "$ir/init"
    (cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir/initramfs.gz"
}

# The kernel image: /boot up to 6.x; from 7.x (linux-binary-*) beside the
# modules.
vmlinuz_of() {   # DIR VERSION
    ls "$1/root/boot/vmlinuz-$2" "$1/root/usr/lib/modules/$2/vmlinuz" \
        2>/dev/null | head -n 1
}

# Sets accel to kvm or tcg and says why.  The probe boots kernel VERSION
# unpacked in DIR under KVM with an initramfs whose init prints a marker
# and powers off; QEMU is watched every 0.2 s, since a KVM that cannot
# run the guest may make it exit at once ("failed to set MSR 0x10a"),
# stop with "KVM internal error" or hang in the firmware.
choose_accel() {   # DIR VERSION
    case ${WW_KERNEL_ACCEL:-auto} in
    kvm | tcg) accel=$WW_KERNEL_ACCEL
        echo "kernels: accelerator $accel (WW_KERNEL_ACCEL)"; return ;;
    auto) ;;
    *) echo "kernels: WW_KERNEL_ACCEL=$WW_KERNEL_ACCEL: not kvm, tcg or auto" >&2
        exit 1 ;;
    esac
    accel=tcg
    if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
        echo "kernels: accelerator tcg (no usable /dev/kvm)"; return
    fi
    pr=$1/kvm-probe
    rm -rf "$pr"
    mkdir -p "$pr/ir/bin"
    if ! { cp /bin/busybox "$pr/ir/bin/busybox" &&
           printf '#!/bin/busybox sh\n/bin/busybox echo ww-kvm-probe: ok\n/bin/busybox poweroff -f\n' \
               >"$pr/ir/init" && chmod +x "$pr/ir/init" &&
           (cd "$pr/ir" && find . | cpio -o -H newc --quiet | gzip -1) \
               >"$pr/probe.gz"; }; then
        echo "kernels: accelerator tcg (cannot build the KVM probe)"; return
    fi
    pt0=$(date +%s%N)
    : >"$pr/console.log"
    timeout $((kvm_probe_s + 5)) \
    qemu-system-x86_64 -accel kvm -cpu host -m 256M -nographic -no-reboot \
        -nic none -kernel "$(vmlinuz_of "$1" "$2")" -initrd "$pr/probe.gz" \
        -append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init" \
        </dev/null >"$pr/console.log" 2>&1 &
    qpid=$!
    why=""
    n=0
    while :; do
        if grep -aq 'ww-kvm-probe: ok' "$pr/console.log"; then
            accel=kvm; break
        fi
        if ! kill -0 "$qpid" 2>/dev/null; then
            why=$(grep -a -m 1 -i 'error\|fail' "$pr/console.log" | tr -d '\r')
            why="QEMU exited: ${why:-no marker line}"; break
        fi
        if grep -aq 'KVM internal error' "$pr/console.log"; then
            why="KVM internal error"; break
        fi
        if [ "$n" -ge $((kvm_probe_s * 5)) ]; then
            why="no marker line within $kvm_probe_s s"; break
        fi
        sleep 0.2
        n=$((n + 1))
    done
    kill "$qpid" 2>/dev/null
    wait "$qpid" 2>/dev/null
    ms=$((($(date +%s%N) - pt0) / 1000000))
    took="$((ms / 1000)).$((ms % 1000 / 100)) s"
    if [ "$accel" = kvm ]; then
        echo "kernels: accelerator kvm (the KVM probe booted $2 in $took)"
    else
        echo "kernels: accelerator tcg (the KVM probe failed in $took: $why)"
    fi
}

# Boot one kernel: prints the guest's console to DIR/console.log.
boot() {   # DIR VERSION
    case $accel in
    kvm) opts="-accel kvm -cpu host" ;;
    *) opts="-accel tcg,thread=multi -cpu max" ;;
    esac
    vmlinuz=$(vmlinuz_of "$1" "$2")
    # shellcheck disable=SC2086
    timeout "$timeout_s" qemu-system-x86_64 $opts -m 2G -smp 2 \
        -nographic -no-reboot -nic none \
        -kernel "$vmlinuz" -initrd "$1/initramfs.gz" \
        -append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init" \
        -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
        </dev/null >"$1/console.log" 2>&1
}

# What a kernel must support: uffd (WP_ASYNC, PAGEMAP_SCAN) from 6.7 on.
require_for() {   # VERSION
    case $1 in
    [0-5].* | 6.[0-6].* | 6.[0-6]-*) echo mprotect ;;
    *) echo uffd,mprotect ;;
    esac
}

if ! sh "$top/scripts/build.sh" "$build" >"$work.build.log" 2>&1 ||
   ! (cd "$build" && make -s -j2 check TESTS= >>"$work.build.log" 2>&1); then
    echo "kernels: the build failed (see $work.build.log)" >&2
    exit 1
fi

passed=0
failed=0
for suite in $suites; do
    t0=$(date +%s)
    if ! archive_setup "$suite"; then
        echo "kernel ($suite): apt-get update failed, see $(archive_dir "$suite")/update.log"
        failed=$((failed + 1)); continue
    fi
    pkg=$(image_package "$suite")
    debs=$(download "$suite" "$pkg") || debs=""
    if [ -z "$pkg" ] || [ -z "$debs" ]; then
        echo "kernel ($suite): no kernel image could be downloaded"
        failed=$((failed + 1)); continue
    fi
    # A new kernel is a new package name or version, downloaded above; the
    # ones the suite's image no longer names leave the cache.
    for g in 'linux-image-*' 'linux-binary-*' 'linux-modules-*'; do
        # shellcheck disable=SC2086
        for f in $(archive_prune "$suite" "$g" $debs); do
            echo "kernels: pruned $f from the cache ($suite no longer names it)"
        done
    done
    dir=$work/$suite
    # shellcheck disable=SC2086
    version=$(unpack "$dir" $debs)
    req=$(require_for "$version")
    if [ -z "$version" ] || ! make_initramfs "$dir" "$version" "$req"; then
        echo "kernel ($suite): cannot unpack $pkg"
        failed=$((failed + 1)); continue
    fi
    [ -n "$accel" ] || choose_accel "$dir" "$version"
    t1=$(date +%s)
    boot "$dir" "$version"
    t2=$(date +%s)
    tr -d '\r' <"$dir/console.log" >"$dir/console.txt"
    # shellcheck disable=SC2046
    set -- $(awk '/^ww-result: / { p += $3; f += $4; s += $7; if ($5 != "-") b[$5] = 1 }
                  /^ww-guest: done/ { d = 1 }
                  END { bs = ""; if ("uffd+mprotect" in b) bs = "uffd+mprotect";
                        else if ("mprotect" in b) bs = "mprotect";
                        else if ("uffd" in b) bs = "uffd"; else bs = "none";
                        print p + 0, f + 0, bs, d + 0, s + 0 }' "$dir/console.txt")
    p=$1 f=$2 b=$3 s=$5
    if [ "$4" -ne 1 ] || [ $((p + f)) -eq 0 ]; then
        f=$((f + 1))
        echo "kernel $version: guest did not finish (see $dir/console.txt)" >&2
    fi
    grep '^ww-\(tap: not ok\|log:\)' "$dir/console.txt" |
        sed 's/^ww-[a-z]*: /  /' >&2
    # The package's version too: "7.3-amd64" alone does not say which rc.
    pv=$(dpkg-deb -f "$(echo "$debs" | head -n 1)" Version)
    echo "kernel $version ($pv): backends $b, $p passed, $f failed," \
         "$s skipped (prepare $((t1 - t0)) s, boot+tests $((t2 - t1)) s, $accel)"
    # What wwdemo says there: the backend AUTO chose, or why uffd was
    # refused.
    sed -n 's/^ww-demo: \(auto\|uffd\) /  wwdemo: \1 /p' "$dir/console.txt"
    passed=$((passed + p))
    failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
