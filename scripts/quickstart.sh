#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to Docker running inside a system container:
# packages, npm ci, the Debian package (npm run deb) installed with apt, sysbox-mgr and sysbox-fs,
# Docker with the sysbox-runc runtime, local images, then a system container (root inside, an
# unprivileged id range outside) and, in another one, an inner Docker on overlay2 running a
# container of its own.
# Uses the host's Docker (started if it is not running) and systemd when it is PID 1 (the package
# starts sysbox.service itself there; without systemd this script starts the daemons).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (e.g. sudo $0)" >&2; exit 1; }

step() { printf '\n==> %s\n' "$*"; }

step "Debian packages"
scripts/deps.sh
step "npm ci and the Debian package (npm run deb)"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent deb
deb=$(ls -t dist/sysbox_*.deb | head -n1)
step "apt-get install ./$deb"
# --reinstall: the same version rebuilt from a newer tree must still replace what is installed.
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall "./$deb"

have_systemd() { [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; }

step "sysbox-mgr and sysbox-fs"
# Without systemd: (re)start a daemon by hand on the new binary, by its pid file. The daemons write
# the original's /run/sysbox/sysmgr.pid and sysfs.pid by default; /run/sysbox/sysbox-*.pid is what
# an older quickstart passed with --pidfile.
start_daemon() {
  local bin=$1 pidfile
  for pidfile in "/run/sysbox/$2.pid" "/run/sysbox/$bin.pid"; do
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "$bin already running (pid $(cat "$pidfile")); restarting it on the new binary"
      kill "$(cat "$pidfile")"; sleep 0.5
    fi
  done
  rm -f "/run/sysbox/$bin.pid"
  setsid "/usr/bin/$bin" --log "/var/log/$bin.log" </dev/null >/dev/null 2>&1 &
}
if have_systemd; then
  # The package enabled and (re)started sysbox.service; say how it is.
  systemctl list-units -t service --all --no-legend 'sysbox*'
else
  mkdir -p /run/sysbox && chmod 700 /run/sysbox
  start_daemon sysbox-mgr sysmgr
  start_daemon sysbox-fs sysfs
fi
for sock in sysmgr sysfs; do
  for _ in $(seq 1 50); do [ -S /run/sysbox/$sock.sock ] && break; sleep 0.1; done
  [ -S /run/sysbox/$sock.sock ] || { echo "/run/sysbox/$sock.sock did not appear; see /var/log/sysbox-*.log" >&2; exit 1; }
done
echo "sysbox-mgr and sysbox-fs are up (/run/sysbox/sysmgr.sock, /run/sysbox/sysfs.sock)"

step "Docker"
docker_ok() { /usr/bin/docker version >/dev/null 2>&1; }
if ! docker_ok; then
  if have_systemd; then
    systemctl start docker
  else
    # No init system to do it: start the host's dockerd by hand, as its unit would.
    setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &
    for _ in $(seq 1 100); do docker_ok && break; sleep 0.2; done
    if ! docker_ok; then
      echo "dockerd did not start with defaults; retrying without iptables/bridge (see /var/log/dockerd.log)"
      [ -f /var/run/docker.pid ] && kill "$(cat /var/run/docker.pid)" 2>/dev/null; sleep 1
      setsid dockerd --iptables=false --ip6tables=false --bridge=none >>/var/log/dockerd.log 2>&1 </dev/null &
    fi
  fi
  for _ in $(seq 1 100); do docker_ok && break; sleep 0.2; done
fi
docker_ok || { echo "Docker is not running; see /var/log/dockerd.log" >&2; exit 1; }
/usr/bin/docker info --format '{{range $k, $v := .Runtimes}}{{$k}} {{end}}' | grep -qw sysbox-runc \
  || { echo "dockerd did not pick up the sysbox-runc runtime from /etc/docker/daemon.json" >&2; exit 1; }
echo "runtimes: $(/usr/bin/docker info --format '{{range $k, $v := .Runtimes}}{{$k}} {{end}}')"

step "images (local, from Debian packages; cached after the first build)"
DOCKER=/usr/bin/docker images/build.sh busybox docker

step "docker run --runtime=sysbox-runc --rm sysbox/busybox sh -c 'id; cat /proc/self/uid_map'"
/usr/bin/docker run --runtime=sysbox-runc --rm sysbox/busybox sh -c 'id; cat /proc/self/uid_map'

step "its own /proc (sysbox-fs): docker run --runtime=sysbox-runc --rm --memory 256m --cpuset-cpus 0 sysbox/busybox ..."
/usr/bin/docker run --runtime=sysbox-runc --rm --memory 256m --cpuset-cpus 0 sysbox/busybox \
  sh -c 'echo "uptime $(cut -d" " -f1 /proc/uptime) s, $(head -1 /proc/meminfo), $(grep -c ^processor /proc/cpuinfo) CPU"'

step "Docker inside a system container: docker save sysbox/busybox | docker run --runtime=sysbox-runc -i --rm sysbox/docker ..."
/usr/bin/docker save sysbox/busybox | /usr/bin/docker run --runtime=sysbox-runc -i --rm sysbox/docker sh -c '
  docker load -q
  docker info --format "inner Docker {{.ServerVersion}}, storage driver {{.Driver}}"
  docker run --rm sysbox/busybox echo "hello from a container inside a system container"'
