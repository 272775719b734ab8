#!/usr/bin/env bash
# `npm run deb`: builds dist/sysbox_<version>_<arch>.deb from this tree with debhelper.
# Installs the build tools it lacks (as root), runs `npm ci` when node_modules is missing, checks the
# build dependencies, then debian/rules (npm's build, then dh). The .deb is the only thing written
# outside the tree's build dirs (out/, debian/sysbox/): no .changes or .buildinfo in the parent dir.
#   SYSBOX_DEB_VERSION=0.0.9 npm run deb   the same tree under another version (upgrade tests)
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for tool in dh:debhelper dpkg-checkbuilddeps:dpkg-dev fakeroot:fakeroot help2man:help2man; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "missing ${need[*]}: apt-get install ${need[*]}" >&2; exit 1; }
  echo "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
dpkg-checkbuilddeps
mkdir -p dist
debian/rules clean >/dev/null
debian/rules build
fakeroot debian/rules binary
rm -rf debian/sysbox debian/.debhelper debian/files debian/*.substvars debian/debhelper-build-stamp debian/*.debhelper.log debian/*.debhelper
ls -1 dist/sysbox_*.deb
