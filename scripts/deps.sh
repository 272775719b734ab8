#!/usr/bin/env bash
# Debian packages Sysbox needs to build, run and test. Idempotent; quick when all are present.
#   docker.io, runc   - the engine and the low-level executor sysbox-runc drives
#   debootstrap, busybox-static - local images (there is no registry)
#   jq                - daemon.json of the tests' private dockerd (test/lib/dockerd.sh)
#   make, g++, python3 - node-gyp builds the native addon from source
#   hyperfine, bc     - bench/ timing and ratios
#   debhelper, fakeroot, help2man - `npm run deb` (the Debian package); lintian checks it in the tests
set -euo pipefail
pkgs=(docker.io runc debootstrap busybox-static jq make g++ python3 hyperfine bc debhelper fakeroot help2man lintian)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v node >/dev/null || { echo "Node.js 20+ is required (apt-get install nodejs npm on newer Debian)" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "Node.js 20+ is required, found $(node --version)" >&2; exit 1; }
