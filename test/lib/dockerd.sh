#!/usr/bin/env bash
# Start or stop a private dockerd that never collides with another one on the host:
# its own data root, exec root, socket, pidfile and generated daemon.json.
#   test/lib/dockerd.sh start NAME RUNTIME_PATH [RUNTIME_ARG...]
#   test/lib/dockerd.sh stop NAME
# The socket is unix:///run/NAME.sock; the runtime is registered as "sysbox-runc".
# Networking is off unless DOCKERD_NET_ARGS says otherwise (e.g. --bridge=BR --iptables=false).
set -euo pipefail
cmd=${1:?start|stop}; name=${2:?name}
dir=/run/$name.d
sock=/run/$name.sock
pidfile=/run/$name.pid
dockerd_bin=${DOCKERD:-/usr/sbin/dockerd}

case "$cmd" in
start)
  runtime=${3:?runtime path}; shift 3
  mkdir -p "$dir"
  args_json=$(printf '%s\n' "$@" | jq -R . | jq -s 'map(select(length>0))')
  jq -n --arg p "$runtime" --argjson a "$args_json" \
    '{runtimes: {"sysbox-runc": {path: $p, runtimeArgs: $a}}}' > "$dir/daemon.json"
  "$dockerd_bin" --config-file "$dir/daemon.json" \
    --data-root "/var/lib/$name" --exec-root "$dir/exec" -H "unix://$sock" --pidfile "$pidfile" \
    ${DOCKERD_NET_ARGS:---iptables=false --ip6tables=false --bridge=none} --storage-driver overlay2 \
    >"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 150); do
    if /usr/bin/docker -H "unix://$sock" version >/dev/null 2>&1; then exit 0; fi
    sleep 0.2
  done
  echo "dockerd $name did not come up; log follows" >&2; tail -50 "$dir/dockerd.log" >&2; exit 1
  ;;
stop)
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    /usr/bin/docker -H "unix://$sock" ps -aq 2>/dev/null | xargs -r /usr/bin/docker -H "unix://$sock" rm -f >/dev/null 2>&1 || true
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # dockerd leaves its private overlay2/netns mounts behind when killed; release only ours.
  for m in $(awk -v a="/var/lib/$name" -v b="$dir" '$5 ~ "^"a || $5 ~ "^"b {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -f "$sock"
  ;;
*) echo "usage: $0 start|stop NAME ..." >&2; exit 2;;
esac
