#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# debs.sh - build the Debian packages (libwritewatch0, libwritewatch-dev,
# writewatch-tools and the native source package) from a copy of this tree,
# check them with lintian, and print the package files and lintian's
# verdict.  The tree itself is not touched: the build runs in a temporary
# directory and the results go to $WW_DEBS_DIR (default
# ${TMPDIR:-/tmp}/libwritewatch-debs), replacing what was there.
# The package build runs `make check`; DEB_BUILD_OPTIONS=nocheck skips it.
# Exit status 0 only if the packages were built and lintian found no error.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${WW_DEBS_DIR:-${TMPDIR:-/tmp}/libwritewatch-debs}

# debhelper and lintian on top of what building needs; the rest of
# debian/control's Build-Depends is in install-deps.sh's list, and
# dpkg-buildpackage checks them all.
WW_EXTRA_PACKAGES="debhelper lintian ${WW_EXTRA_PACKAGES:-}" \
    sh "$top/scripts/install-deps.sh"

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
work=$(mktemp -d "${TMPDIR:-/tmp}/ww-debs.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/libwritewatch-$version
mkdir "$src"

# The copy: in a git checkout the files of the next commit (tracked or new,
# not ignored: no build products), else everything but the build trees.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$top" && git ls-files --cached --others --exclude-standard |
        while IFS= read -r f; do [ -e "$f" ] && echo "$f"; done |
        tar -T - -cf -) | tar -C "$src" -xf -
else
    tar -C "$top" --exclude=./_build --exclude=./_test -cf - . |
        tar -C "$src" -xf -
fi

echo "debs: building libwritewatch $version in $work"
if ! (cd "$src" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=2}" \
        dpkg-buildpackage -us -uc) >"$work/build.log" 2>&1; then
    tail -60 "$work/build.log"
    cp "$work/build.log" "${TMPDIR:-/tmp}/libwritewatch-debs-build.log"
    echo "debs: FAILED: dpkg-buildpackage (log: ${TMPDIR:-/tmp}/libwritewatch-debs-build.log)"
    exit 1
fi

rm -rf "$out"
mkdir -p "$out"
cp "$work"/*.deb "$work"/*.dsc "$work"/*.tar.* "$work"/*.buildinfo \
    "$work"/*.changes "$work/build.log" "$out/"
echo "debs: packages in $out:"
(cd "$out" && ls -l -- *.deb *.dsc *.tar.* | awk '{print "  " $5 "\t" $NF}')

# Every tag, then one summary line.  --fail-on error: warnings are listed,
# only errors fail the build.
changes=$(ls "$out"/*.changes)
lintian_status=0
lintian --fail-on error "$changes" >"$out/lintian.txt" 2>&1 || lintian_status=$?
grep -v '^running with root privileges' "$out/lintian.txt" | sed 's/^/  /' || true
errors=$(grep -c '^E: ' "$out/lintian.txt" || true)
warnings=$(grep -c '^W: ' "$out/lintian.txt" || true)
echo "debs: lintian: $errors errors, $warnings warnings (exit status $lintian_status)"
[ "$lintian_status" -eq 0 ] && [ "$errors" -eq 0 ]
