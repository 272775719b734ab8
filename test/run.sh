#!/usr/bin/env bash
# The whole test suite: unit tests, then end-to-end tests against a private dockerd (own socket,
# data root, exec root, pidfile), a private sysbox-mgr (own socket, data root and id pool) and a
# private sysbox-fs (own socket, FUSE mount point, state dir, seccomp listener, fd keeper),
# using the binaries built in out/bin. Everything it starts is stopped by PID at exit.
# Needs root, the apt packages in scripts/deps.sh and `npm ci`; builds first.
# SYSBOX_TEST_EXECUTOR=PATH: the test sysbox-mgr runs with --executor PATH (every restart too), so
# the whole suite runs with another executor, e.g. crun (on a host whose cgroup v2 hierarchy holds a
# controller, crun 1.8 needs bench/tools/crun-hybrid.c: bash -c '. bench/lib.sh; bench_crun_hybrid').
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test/run.sh must run as root" >&2; exit 1; }
for bin in /usr/sbin/dockerd /usr/sbin/runc /usr/bin/docker jq; do
  command -v "$bin" >/dev/null || { echo "missing $bin: run scripts/deps.sh first" >&2; exit 1; }
done

npm run --silent build

name=${SYSBOX_TEST_NAME:-sysbox-test}
mgr_dir=/run/$name-mgr
export DOCKER_HOST=unix:///run/$name.sock
export SYSBOX_TEST_MGR_SOCKET=$mgr_dir/sysmgr.sock
export SYSBOX_TEST_MGR_PIDFILE=$mgr_dir/sysbox-mgr.pid
export SYSBOX_TEST_MGR_DATA_ROOT=/var/lib/$name-mgr
export SYSBOX_TEST_SUBID_FILE=$mgr_dir/subid
fs_dir=/run/$name-fs
export SYSBOX_TEST_FS_SOCKET=$fs_dir/sysfs.sock
export SYSBOX_TEST_FS_PIDFILE=$fs_dir/sysbox-fs.pid
export SYSBOX_TEST_FS_MOUNTPOINT=$fs_dir/mnt
export SYSBOX_TEST_FS_STATE_DIR=/var/lib/$name-fs
export SYSBOX_TEST_FS_SECCOMP_SOCKET=$fs_dir/seccomp.sock
export SYSBOX_TEST_FS_KEEPER_SOCKET=$fs_dir/keeper.sock
export SYSBOX_TEST_DOCKERD_CONFIG=/run/$name.d/daemon.json
export SYSBOX_TEST_DOCKERD_PIDFILE=/run/$name.pid

cleanup() {
  set +e
  test/lib/dockerd.sh stop "$name"
  if [ -f "$SYSBOX_TEST_MGR_PIDFILE" ]; then kill "$(cat "$SYSBOX_TEST_MGR_PIDFILE")" 2>/dev/null; fi
  # With no container left, sysbox-fs unmounts and stops its fd keeper itself on SIGTERM.
  if [ -f "$SYSBOX_TEST_FS_PIDFILE" ]; then kill "$(cat "$SYSBOX_TEST_FS_PIDFILE")" 2>/dev/null; fi
  sleep 0.5
  if [ -f "$SYSBOX_TEST_FS_KEEPER_SOCKET.pid" ]; then kill -9 "$(cat "$SYSBOX_TEST_FS_KEEPER_SOCKET.pid")" 2>/dev/null; fi
  umount -l "$SYSBOX_TEST_FS_MOUNTPOINT" 2>/dev/null
  rm -rf "$mgr_dir" "$SYSBOX_TEST_MGR_DATA_ROOT" "$fs_dir" "$SYSBOX_TEST_FS_STATE_DIR"
  # dockerd's exec root and config (its data root stays: the image cache), and the runc root the
  # CLI tests share, once empty (another run may be using it).
  rm -rf --one-file-system "/run/$name.d"
  rmdir /run/sysbox-test-runc 2>/dev/null
}
trap cleanup EXIT

# A private pool far from the system's sysbox range, so tests never share ids with real containers.
mkdir -p "$mgr_dir" && chmod 700 "$mgr_dir"
echo "sysbox:1000000000:268435456" > "$SYSBOX_TEST_SUBID_FILE"
rm -rf "$SYSBOX_TEST_MGR_DATA_ROOT"
setsid out/bin/sysbox-mgr --socket "$SYSBOX_TEST_MGR_SOCKET" --pidfile "$SYSBOX_TEST_MGR_PIDFILE" \
  --data-root "$SYSBOX_TEST_MGR_DATA_ROOT" --subuid-file "$SYSBOX_TEST_SUBID_FILE" --subgid-file "$SYSBOX_TEST_SUBID_FILE" \
  --log-level debug ${SYSBOX_TEST_EXECUTOR:+--executor "$SYSBOX_TEST_EXECUTOR"} >>"$SYSBOX_TEST_MGR_DATA_ROOT.log" 2>&1 </dev/null &
for _ in $(seq 1 50); do [ -S "$SYSBOX_TEST_MGR_SOCKET" ] && break; sleep 0.1; done
[ -S "$SYSBOX_TEST_MGR_SOCKET" ] || { echo "sysbox-mgr did not start" >&2; cat "$SYSBOX_TEST_MGR_DATA_ROOT.log" >&2; exit 1; }

rm -rf "$SYSBOX_TEST_FS_STATE_DIR"
mkdir -p "$fs_dir" && chmod 700 "$fs_dir"
setsid out/bin/sysbox-fs --socket "$SYSBOX_TEST_FS_SOCKET" --pidfile "$SYSBOX_TEST_FS_PIDFILE" \
  --mountpoint "$SYSBOX_TEST_FS_MOUNTPOINT" --state-dir "$SYSBOX_TEST_FS_STATE_DIR" \
  --seccomp-socket "$SYSBOX_TEST_FS_SECCOMP_SOCKET" --keeper-socket "$SYSBOX_TEST_FS_KEEPER_SOCKET" \
  --log-level debug >>"$SYSBOX_TEST_FS_STATE_DIR.log" 2>&1 </dev/null &
for _ in $(seq 1 50); do [ -S "$SYSBOX_TEST_FS_SOCKET" ] && break; sleep 0.1; done
[ -S "$SYSBOX_TEST_FS_SOCKET" ] || { echo "sysbox-fs did not start" >&2; cat "$SYSBOX_TEST_FS_STATE_DIR.log" >&2; exit 1; }

test/lib/dockerd.sh start "$name" "$PWD/out/bin/sysbox-runc" "--sysbox-mgr-socket=$SYSBOX_TEST_MGR_SOCKET" "--sysbox-fs-socket=$SYSBOX_TEST_FS_SOCKET"
DOCKER="/usr/bin/docker" images/build.sh busybox bookworm docker systemd systemd-docker systemd-stock systemd-stock-trixie

files=(packages/*/dist/test/*.test.js test/dist/e2e/*.test.js)
if [ -n "${SYSBOX_TEST_FILTER:-}" ]; then mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -E "$SYSBOX_TEST_FILTER"); fi
node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
