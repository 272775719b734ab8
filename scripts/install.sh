#!/usr/bin/env bash
# Installs the built binaries (out/bin) and registers sysbox-runc with Docker.
#   /usr/lib/sysbox/{sysbox-runc (launcher),sysbox-runc.js,sysbox-mgr,sysbox-fs,sysbox-fs-*.js,sysbox_native.node};
#   the three binaries symlinked from /usr/bin
#   systemd units into /lib/systemd/system (when systemd is present)
#   "sysbox-runc" added to /etc/docker/daemon.json "runtimes", other keys untouched;
#   a running dockerd is told to reload (SIGHUP).
# Reused by the Debian package's maintainer scripts: DESTDIR stages files without touching the host.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dest=${DESTDIR:-}
[ -x "$src/out/bin/sysbox-runc" ] || { echo "out/bin is empty: run 'npm run build' first" >&2; exit 1; }

install -d "$dest/usr/lib/sysbox" "$dest/usr/bin"
for f in sysbox-runc sysbox-mgr sysbox-fs; do
  install -m 0755 "$src/out/bin/$f" "$dest/usr/lib/sysbox/$f"
  ln -sfn "../lib/sysbox/$f" "$dest/usr/bin/$f"
done
for f in sysbox-runc.js sysbox-fs-worker.js sysbox-fs-tree.js sysbox-fs-seccomp.js; do
  install -m 0644 "$src/out/bin/$f" "$dest/usr/lib/sysbox/$f"
done
install -m 0644 "$src/out/bin/sysbox_native.node" "$dest/usr/lib/sysbox/sysbox_native.node"
if [ -d /lib/systemd/system ] || [ -n "$dest" ]; then
  install -d "$dest/lib/systemd/system"
  install -m 0644 "$src"/systemd/*.service "$dest/lib/systemd/system/"
fi
[ -n "$dest" ] && exit 0

"$src/scripts/docker-runtime.sh" add
