#!/usr/bin/env bash
# Debian packages Sysbox needs to build, run and test. Idempotent; quick when all are present.
#   docker.io, runc   - the engine and the low-level executor sysbox-runc drives
#   containerd        - containerd and ctr (a dependency of docker.io; the containerd tests run their own)
#   containernetworking-plugins - CNI plugins for the pod sandbox the containerd tests ask the CRI plugin for
#   debootstrap, busybox-static - local images (there is no registry)
#   iptables          - sysbox-runc's DNS aliasing edits NAT rules in a container's network namespace
#   jq                - daemon.json of the tests' private dockerd (test/lib/dockerd.sh)
#   make, g++, python3 - node-gyp builds the native addon from source
#   hyperfine, bc     - bench/ timing and ratios
#   debhelper, fakeroot, help2man - `npm run deb` (the Debian package); lintian checks it in the tests
#   crun              - sysbox-mgr --executor's other runtime (test/e2e/executor-crun.test.ts, the
#                       launcher's crun tests, bench/ figures)
#   podman            - test/e2e/podman.test.ts (brings conmon and, without recommends, the CNI plugins
#                       its private test network uses instead of netavark)
set -euo pipefail
pkgs=(docker.io runc containerd containernetworking-plugins iptables debootstrap busybox-static jq make g++ python3 hyperfine bc debhelper fakeroot help2man lintian crun podman)
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
command -v node >/dev/null || { echo "Node.js 18+ is required (apt-get install nodejs npm)" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] || { echo "Node.js 18+ is required, found $(node --version)" >&2; exit 1; }
# The native addon is built against /usr/include/node (packages/native: --nodedir=/usr). Debian's
# own nodejs (Debian 12: 18.20.4) ships no headers; they are in libnode-dev. NodeSource's nodejs
# has them (at the same paths, so the two clash): install it only when they are missing.
if [ ! -e /usr/include/node/node_api.h ]; then
  echo "installing: libnode-dev (Node.js headers for the native addon)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends libnode-dev >/dev/null
fi
