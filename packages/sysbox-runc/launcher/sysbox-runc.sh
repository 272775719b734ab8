#!/bin/sh
# sysbox-runc launcher. Docker calls the runtime 4+ times per `docker run`; only `create` (and
# run, exec, pause, resume, and delete of a container sysbox-mgr still holds) need the TypeScript
# runtime. Everything else is runc's job unchanged, so it is exec'd directly: a Node start costs
# ~30 ms, this script ~1 ms (bench/README.md). Global flags are runc's plus --sysbox-mgr-socket
# and --sysbox-fs-socket, which runc must not see.
runc=${SYSBOX_RUNC_PATH:-/usr/sbin/runc}
mount_root=/run/sysbox-containers

node_runtime() {
  # Next to the launcher's real path (/usr/bin/sysbox-runc is a link into /usr/lib/sysbox).
  self=$(readlink -f "$0")
  js="${self%/*}/sysbox-runc.js"
  unset NODE_EXTRA_CA_CERTS NODE_OPTIONS
  exec /usr/bin/node "$js" "$@"
}

# Find the command: skip global flags (and the value of those that take one).
cmd=
skip=0
for a in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$a" in
    --log|-log|--log-format|-log-format|--root|-root|--criu|-criu|--rootless|-rootless|--sysbox-mgr-socket|-sysbox-mgr-socket|--sysbox-fs-socket|-sysbox-fs-socket) skip=1 ;;
    --*=*|-debug|--debug|-systemd-cgroup|--systemd-cgroup) ;;
    -*) node_runtime "$@" ;;
    *) cmd=$a; break ;;
  esac
done

case "$cmd" in
  start|state|kill|list|ps|events|update|features|spec) ;;
  delete)
    # The container's first positional after `delete` and its flags.
    seen=0; id=
    for a in "$@"; do
      if [ "$seen" = 1 ]; then
        case "$a" in -*) ;; *) id=$a; break ;; esac
      elif [ "$a" = delete ]; then seen=1
      fi
    done
    [ -n "$id" ] && [ -e "$mount_root/$id" ] && node_runtime "$@"
    ;;
  *) node_runtime "$@" ;;
esac

# Straight to runc, without our own flag.
n=$#
drop=0
while [ "$n" -gt 0 ]; do
  a=$1; shift; n=$((n - 1))
  if [ "$drop" = 1 ]; then drop=0; continue; fi
  case "$a" in
    --sysbox-mgr-socket|-sysbox-mgr-socket|--sysbox-fs-socket|-sysbox-fs-socket) drop=1; continue ;;
    --sysbox-mgr-socket=*|-sysbox-mgr-socket=*|--sysbox-fs-socket=*|-sysbox-fs-socket=*) continue ;;
  esac
  set -- "$@" "$a"
done
exec "$runc" "$@"
