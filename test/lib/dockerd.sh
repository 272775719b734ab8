#!/usr/bin/env bash
# Start or stop a private dockerd that never collides with another one on the host:
# its own data root, exec root, socket, pidfile and generated daemon.json.
#   test/lib/dockerd.sh start NAME RUNTIME_PATH [RUNTIME_ARG...]
#   test/lib/dockerd.sh stop NAME
# The socket is unix:///run/NAME.sock; the runtime is registered as "sysbox-runc".
# DOCKERD_EXTRA_ARGS, if set, is word-split and appended to dockerd's command line
# (e.g. "--userns-remap=USER").
# Containers get Docker's bridge networking on a bridge of this daemon's own (NAMEbr, no NAT rules:
# iptables chains are shared with any other dockerd). Never --bridge=none: dockerd then deletes the
# host's docker0, breaking another dockerd's networking.
set -euo pipefail
cmd=${1:?start|stop}; name=${2:?name}
dir=/run/$name.d
sock=/run/$name.sock
pidfile=/run/$name.pid
dockerd_bin=${DOCKERD:-/usr/sbin/dockerd}
bridge=$(printf '%s' "$name" | cut -c1-13)br

case "$cmd" in
start)
  runtime=${3:?runtime path}; shift 3
  mkdir -p "$dir"
  # A /24 of 10.213.0.0/16 picked from the name, so two of these daemons do not collide.
  net=$(( $(printf '%s' "$name" | cksum | cut -d' ' -f1) % 250 + 1 ))
  ip link add "$bridge" type bridge 2>/dev/null || true
  ip addr replace "10.213.$net.1/24" dev "$bridge"
  ip link set "$bridge" up
  args_json=$(printf '%s\n' "$@" | jq -R . | jq -s 'map(select(length>0))')
  jq -n --arg p "$runtime" --argjson a "$args_json" \
    '{runtimes: {"sysbox-runc": {path: $p, runtimeArgs: $a}}}' > "$dir/daemon.json"
  "$dockerd_bin" --config-file "$dir/daemon.json" \
    --data-root "/var/lib/$name" --exec-root "$dir/exec" -H "unix://$sock" --pidfile "$pidfile" \
    --bridge="$bridge" --iptables=false --ip6tables=false --storage-driver overlay2 \
    ${DOCKERD_EXTRA_ARGS:-} >"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 150); do
    if /usr/bin/docker -H "unix://$sock" version >/dev/null 2>&1; then exit 0; fi
    sleep 0.2
  done
  echo "dockerd $name did not come up; log follows" >&2; tail -50 "$dir/dockerd.log" >&2; exit 1
  ;;
stop)
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    # Bounded: a dockerd deadlocked in its network code (Docker 20.10, moby#46661) never answers
    # rm -f; it is killed below all the same.
    timeout 60 /usr/bin/docker -H "unix://$sock" ps -aq 2>/dev/null |
      timeout 120 xargs -r /usr/bin/docker -H "unix://$sock" rm -f >/dev/null 2>&1 || true
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # dockerd leaves its private overlay2/netns mounts behind when killed; release only ours.
  for m in $(awk -v a="/var/lib/$name" -v b="$dir" '$5 ~ "^"a || $5 ~ "^"b {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -f "$sock"
  ip link del "$bridge" 2>/dev/null || true
  ;;
*) echo "usage: $0 start|stop NAME ..." >&2; exit 2;;
esac
