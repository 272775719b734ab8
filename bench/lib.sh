# Shared by the bench scripts: a private sysbox-mgr, sysbox-fs and dockerd (never the host's), torn
# down on exit.
# Usage: source bench/lib.sh; bench_start NAME
# BENCH_NAME overrides NAME: two benches sharing a name (or its first 13 characters, which name the
# daemon's bridge) on one host delete each other's bridge and state.
set -euo pipefail
bench_start() {
  name=${BENCH_NAME:-$1}
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  [ -x out/bin/sysbox-runc ] || npm run --silent build
  mgr_dir=/run/$name-mgr
  mkdir -p "$mgr_dir" && chmod 700 "$mgr_dir"
  echo "sysbox:2500000000:268435456" > "$mgr_dir/subid"
  export BENCH_MGR_SOCKET=$mgr_dir/sysmgr.sock
  bench_mgr_start ${BENCH_MGR_ARGS:-}
  fs_dir=/run/$name-fs
  mkdir -p "$fs_dir" && chmod 700 "$fs_dir"
  export BENCH_FS_SOCKET=$fs_dir/sysfs.sock
  setsid out/bin/sysbox-fs --socket "$BENCH_FS_SOCKET" --pidfile "$fs_dir/pid" --mountpoint "$fs_dir/mnt" \
    --state-dir "/var/lib/$name-fs" --seccomp-socket "$fs_dir/seccomp.sock" --keeper-socket "$fs_dir/keeper.sock" \
    --log-level warn ${BENCH_FS_ARGS:-} >"/var/lib/$name-fs.log" 2>&1 </dev/null &
  for _ in $(seq 1 50); do [ -S "$BENCH_FS_SOCKET" ] && break; sleep 0.1; done
  trap bench_stop EXIT
  # BENCH_RUNTIME: another path for the runtime (e.g. a wrapper logging each call); BENCH_RUNTIME_ARGS:
  # more global flags for it (word-split). The daemons' sockets reach sysbox-runc through dockerd's
  # environment (containerd and its shims pass it on), not as runtimeArgs: Docker runs a runtime
  # with runtimeArgs through a generated shell wrapper, one more process per call, which an
  # installed sysbox-runc (daemon.json names its path only) never pays.
  SYSBOX_MGR_SOCKET=$BENCH_MGR_SOCKET SYSBOX_FS_SOCKET=$BENCH_FS_SOCKET \
    test/lib/dockerd.sh start "$name" "${BENCH_RUNTIME:-$PWD/out/bin/sysbox-runc}" ${BENCH_RUNTIME_ARGS:-}
  export DOCKER_HOST=unix:///run/$name.sock
  DOCKER=/usr/bin/docker images/build.sh busybox
}
# The bench's sysbox-mgr, with more flags if given (BENCH_MGR_ARGS for bench_start, word-split);
# bench_mgr_restart stops it (SIGTERM) and starts it again with the flags given.
bench_mgr_start() {
  setsid out/bin/sysbox-mgr --socket "$BENCH_MGR_SOCKET" --pidfile "$mgr_dir/pid" --data-root "/var/lib/$name-mgr" \
    --subuid-file "$mgr_dir/subid" --subgid-file "$mgr_dir/subid" --log-level "${BENCH_MGR_LOG_LEVEL:-warn}" "$@" >>"$mgr_dir/log" 2>&1 </dev/null &
  for _ in $(seq 1 50); do [ -S "$BENCH_MGR_SOCKET" ] && break; sleep 0.1; done
}
bench_mgr_restart() {
  local pid; pid=$(cat "$mgr_dir/pid")
  kill "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  bench_mgr_start "$@"
}
bench_stop() {
  set +e
  test/lib/dockerd.sh stop "$name"
  [ -f "$mgr_dir/pid" ] && kill "$(cat "$mgr_dir/pid")"
  # With no container left, sysbox-fs unmounts and stops its fd keeper itself.
  [ -f "$fs_dir/pid" ] && kill "$(cat "$fs_dir/pid")"
  sleep 0.5
  [ -f "$fs_dir/keeper.sock.pid" ] && kill -9 "$(cat "$fs_dir/keeper.sock.pid")" 2>/dev/null
  umount -l "$fs_dir/mnt" 2>/dev/null
  rm -rf "$mgr_dir" "/var/lib/$name-mgr" "$fs_dir" "/var/lib/$name-fs" "/var/lib/$name-fs.log"
  return 0
}
# A private containerd (own config, root, state and socket; CRI plugin disabled) beside bench_start's
# daemons, stopped and its dirs unmounted and removed on exit (with bench_stop). Sets ctd (its dir),
# ctr (the ctr command line, namespace "bench") and writes $ctd/sysbox-runc, the wrapper the runc
# shim runs as its runc binary (sysbox-runc with the bench's sockets).
bench_containerd_start() {
  ctd=/run/$name-containerd
  rm -rf "$ctd" && mkdir -p "$ctd" && chmod 700 "$ctd"
  printf '#!/bin/sh\nexec %s --sysbox-mgr-socket=%s --sysbox-fs-socket=%s "$@"\n' "$PWD/out/bin/sysbox-runc" "$BENCH_MGR_SOCKET" "$BENCH_FS_SOCKET" > "$ctd/sysbox-runc"
  chmod 755 "$ctd/sysbox-runc"
  cat > "$ctd/config.toml" <<TOML
version = 2
root = "$ctd/root"
state = "$ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$ctd/containerd.sock"
[ttrpc]
  address = "$ctd/containerd.sock.ttrpc"
TOML
  setsid /usr/bin/containerd --config "$ctd/config.toml" >"$ctd/log" 2>&1 </dev/null &
  echo $! > "$ctd/pid"
  trap bench_containerd_stop EXIT
  ctr=(/usr/bin/ctr -a "$ctd/containerd.sock" -n bench)
  for _ in $(seq 1 50); do "${ctr[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
}
bench_containerd_stop() {
  set +e
  local t
  for t in $("${ctr[@]}" task ls -q 2>/dev/null); do "${ctr[@]}" task kill -s SIGKILL "$t"; done
  sleep 0.5
  for t in $("${ctr[@]}" task ls -q 2>/dev/null); do "${ctr[@]}" task delete -f "$t"; done
  for t in $("${ctr[@]}" container ls -q 2>/dev/null); do "${ctr[@]}" container rm "$t"; done
  kill "$(cat "$ctd/pid")" 2>/dev/null
  sleep 1
  awk -v d="$ctd/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
  rm -rf "$ctd"
  bench_stop
}

# median of numbers on stdin
# bench/tools/NAME.c built into bench/.build/NAME (with the gcc flags given) when missing or older
# than its source; prints its path. Needs gcc and libc6-dev.
bench_c_tool() {
  local name=$1 out=$PWD/bench/.build/$1
  shift
  mkdir -p bench/.build
  if [ ! -x "$out" ] || [ "bench/tools/$name.c" -nt "$out" ]; then
    gcc "$@" -o "$out.tmp" "bench/tools/$name.c" && mv "$out.tmp" "$out"
  fi
  echo "$out"
}

# The static reader (bench/tools/procread.c) bind-mounted into the containers (the callers install gcc).
bench_procread() { bench_c_tool procread -static -O2 -pthread -Wall; }

# The host's vCPU idle policy, printed beside the figures it moves: on a KVM guest whose haltpoll
# driver may not poll (guest_halt_poll_ns 0), a wake-up that lands on an idle vCPU is an interrupt
# into a halted one, which every FUSE round trip of a /proc or /sys walk may pay
# (docs/troubleshooting.md, "Walks of /proc/sys or /sys ... are slow on a VM").
bench_idle_policy() {
  local poll=/sys/module/haltpoll/parameters/guest_halt_poll_ns
  printf 'cpuidle %s' "$(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null || echo none)"
  [ -r $poll ] && printf ', guest_halt_poll_ns %s' "$(cat $poll)"
  echo
}

# The bench-only crun wrapper (bench/tools/crun-hybrid.c). Needs crun too: without it every docker
# run would fail with runc's "exit status 127", so say so first.
bench_crun_hybrid() {
  [ -x /usr/bin/crun ] || { echo "bench: /usr/bin/crun is missing (apt-get install -y crun)" >&2; return 1; }
  bench_c_tool crun-hybrid -O2 -Wall
}

# This run's dockerd data root and exec root (named after the bench, or BENCH_NAME as bench_start
# named them), once nothing is mounted there.
bench_remove_dirs() {
  local d n=${BENCH_NAME:-$1}
  for d in "/var/lib/$n" "/run/$n.d"; do
    awk -v d="$d" '$5 == d || index($5, d "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo \
      || rm -rf --one-file-system "$d"
  done
}

# bench_start for the scripts that start their own containers and scratch dir: on exit (or INT/TERM)
# the containers in the caller's `containers` array are removed, the caller's
# `bench_extra_cleanup` runs if it defines one, `$work` is removed, then bench_stop and
# bench_remove_dirs. The traps are set around bench_start so that an interrupt during it still
# tears down what it started.
bench_start_cleaned() {
  bench=$1
  trap 'exit 130' INT TERM
  bench_start "$bench"
  trap bench_cleanup EXIT
}
bench_cleanup() {
  set +e
  [ ${#containers[@]} -gt 0 ] && /usr/bin/docker rm -f "${containers[@]}" >/dev/null 2>&1
  declare -F bench_extra_cleanup >/dev/null && bench_extra_cleanup
  rm -rf "$work"
  bench_stop
  bench_remove_dirs "$bench"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
