#!/usr/bin/env bash
# A stand-in Debian host with systemd as PID 1 and Docker under it, for tests that need a real
# systemd (apt-get install ./sysbox.deb, systemctl restart sysbox, dpkg --purge...). It is a
# container of the image sysbox/host (images/build.sh host) run by the dockerd at $DOCKER_HOST with
# plain runc (never sysbox-runc), with the host's capabilities (no --privileged: root here lacks
# CAP_SYS_RESOURCE). Sysbox is then installed inside it and runs system containers there.
#
#   test/lib/host-harness.sh start NAME            boot it; wait for systemd `running` and `docker info`
#   test/lib/host-harness.sh stop NAME             remove it and its volumes; check the host is clean
#   test/lib/host-harness.sh exec NAME CMD...      run a command inside (stdin passed on)
#   test/lib/host-harness.sh load-image NAME IMAGE...  docker save IMAGE here | docker load in NAME
#   test/lib/host-harness.sh install-sysbox NAME [OUT_BIN]  copy out/bin in by hand, enable the units,
#                                                  register the runtime (until the .deb exists)
#   test/lib/host-harness.sh selftest [NAME]       the whole chain, end to end (see below)
#
# Environment: DOCKER (client, default /usr/bin/docker), DOCKER_HOST (the daemon that runs the
# harness), HARNESS_IMAGE (default sysbox/host:latest), HARNESS_TIMEOUT (s, default 120).
# Data: /var/lib/NAME-vols/{docker,sysbox} on the host, bound at /var/lib/docker and /var/lib/sysbox
# (overlayfs cannot be an upper layer on the container's own overlay rootfs).
#
# Why each `docker run` flag (see also images/README.md, "sysbox/host"):
#   --runtime=runc              the stand-in host is a plain container; Sysbox runs inside it
#   --cap-add ALL --cap-drop SYS_RESOURCE
#                               a host's root has every capability; this machine's root lacks
#                               CAP_SYS_RESOURCE, so --privileged (and ALL alone) fail to start
#   --security-opt seccomp=unconfined apparmor=unconfined systempaths=unconfined
#                               no filter on mount, open_tree, keyctl... and /proc/sys, /proc/kcore...
#                               not masked: what Sysbox sees on a real host
#   --device /dev/fuse          sysbox-fs serves /proc and /sys files over FUSE
#   -v /sys:/sys                the host's sysfs, writable: a sysfs mounted inside a system container
#                               may not be less restricted than the one visible (Docker's is ro)
#   --cgroupns=private + a /sys/fs/cgroup of its own (tmpfs + cgroup mounts made by the boot
#                               script below, before systemd starts): every cgroup systemd, the inner
#                               dockerd and the system containers make lands under this container's
#                               own cgroup (/sys/fs/cgroup/*/docker/<id>), which runc removes (sub-
#                               cgroups included) with the container. With the host's /sys/fs/cgroup
#                               (the -v /sys bind brings it along), systemd remounted the HOST's
#                               cgroup tmpfs read-only (size=4096k) and added hugetlb, perf_event,
#                               net_cls... mount points to it; with --cgroupns=host, the inner dockerd
#                               also put its containers at the host's top-level /docker/<id>.
#                               HARNESS_CGROUPNS=host keeps the host cgroupns (the layout of a real
#                               host whose dockerd runs in a container: cgroup paths are host paths
#                               and runc's binds of the container's cgroup lie hidden under /sys);
#                               `stop` then removes the cgroups the harness's processes were in.
#   --stop-signal SIGRTMIN+3    systemd's halt: `docker stop` shuts the host down cleanly
#   --tmpfs /run --tmpfs /run/lock   as on a real host: empty at each boot
#   -t                          a console: systemd's boot and shutdown status lines go to `docker logs`
set -euo pipefail
docker_bin=${DOCKER:-/usr/bin/docker}
image=${HARNESS_IMAGE:-sysbox/host:latest}
timeout=${HARNESS_TIMEOUT:-120}
cgroupns=${HARNESS_CGROUPNS:-private}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

d() { "$docker_bin" "$@"; }
die() { echo "host-harness: $*" >&2; exit 1; }
vols_of() { echo "/var/lib/$1-vols"; }

# PID 1's boot script: mount the cgroup hierarchies this host has, as they are mounted here (v1
# controllers co-mounted as in /proc/self/cgroup; cgroup2 at unified/, or at the top on a pure v2
# host), inside the container's own cgroup namespace, so their root is the container's cgroup. Only
# hierarchies that already exist are mounted: mounting a v1 controller no hierarchy has yet would
# create one for the whole machine. Then systemd takes over as PID 1 (it finds the hybrid layout and
# keeps it).
boot_script='
set -e
mount -t tmpfs -o mode=755,nosuid,nodev,noexec tmpfs /sys/fs/cgroup
v1=$(grep -v "^0::" /proc/self/cgroup || true)
if [ -z "$v1" ]; then
  mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
else
  while IFS=: read -r n ctrl _; do
    if [ "$n" = 0 ]; then
      mkdir -p /sys/fs/cgroup/unified
      mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup/unified
    else
      dir=${ctrl#name=}
      mkdir -p "/sys/fs/cgroup/$dir"
      mount -t cgroup -o "nosuid,nodev,noexec,$ctrl" cgroup "/sys/fs/cgroup/$dir"
      case $dir in *,*) for c in $(echo "$dir" | tr , " "); do ln -sfn "$dir" "/sys/fs/cgroup/$c"; done;; esac
    fi
  done </proc/self/cgroup
fi
exec /lib/systemd/systemd "$@"
'

in_harness() { local name=$1; shift; d exec -i "$name" "$@"; }

diagnose() {
  local name=$1
  echo "--- systemctl is-system-running: $(d exec "$name" systemctl is-system-running 2>&1 || true)" >&2
  echo "--- systemctl --failed" >&2; d exec "$name" systemctl --failed --no-pager >&2 2>&1 || true
  echo "--- journal (last 40 lines)" >&2; d exec "$name" journalctl -b --no-pager -n 40 >&2 2>&1 || true
  echo "--- docker logs" >&2; d logs --tail 20 "$name" >&2 2>&1 || true
}

start() {
  local name=${1:?name} vols t0 state i
  vols=$(vols_of "$name")
  d image inspect "$image" >/dev/null 2>&1 || die "image $image is missing: DOCKER=$docker_bin images/build.sh host"
  d inspect "$name" >/dev/null 2>&1 && die "a container $name exists already (host-harness.sh stop $name)"
  mkdir -p "$vols/docker" "$vols/sysbox"
  # v1 controllers no hierarchy has yet: with HARNESS_CGROUPNS=host, systemd inside creates theirs
  # (hugetlb, perf_event, net_cls,net_prio here) for the whole machine; `stop` destroys them again.
  awk '!/^#/ && $2 == 0 {print $1}' /proc/cgroups > "/run/$name.harness-unmounted-controllers"
  t0=$(date +%s%N)
  d run -d -t --name "$name" --hostname "$name" --runtime=runc \
    --cap-add ALL --cap-drop SYS_RESOURCE \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
    --device /dev/fuse \
    -v /sys:/sys:rw --cgroupns="$cgroupns" \
    --stop-signal SIGRTMIN+3 --tmpfs /run --tmpfs /run/lock \
    -v "$vols/docker:/var/lib/docker" -v "$vols/sysbox:/var/lib/sysbox" \
    --label org.sysbox.host-harness="$vols" \
    --entrypoint /bin/sh "$image" -c "$boot_script" boot --show-status=yes >/dev/null
  state=
  for ((i = 0; i < timeout * 4; i++)); do
    state=$(d exec "$name" systemctl is-system-running 2>/dev/null || true)
    case $state in running|degraded) break;; esac
    [ "$(d inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = true ] || { diagnose "$name"; die "$name exited while booting"; }
    sleep 0.25
  done
  case $state in
    running) ;;
    degraded) echo "host-harness: $name is degraded; failed units:" >&2; d exec "$name" systemctl --failed --no-pager >&2 ;;
    *) diagnose "$name"; die "$name: systemd not running after ${timeout}s (state: ${state:-none})" ;;
  esac
  for ((; i < timeout * 4; i++)); do
    d exec "$name" docker info >/dev/null 2>&1 && break
    sleep 0.25
  done
  d exec "$name" docker info >/dev/null 2>&1 || { diagnose "$name"; die "$name: docker info does not answer after ${timeout}s"; }
  echo "host-harness: $name $state, docker up, in $(( ($(date +%s%N) - t0) / 1000000 )) ms" >&2
}

# Host-side traces of container ID: mount points, cgroup dirs, processes.
leaks() {
  local id=$1 vols=$2 pid
  awk -v v="$vols" -v id="$id" 'index($5, v) == 1 || index($4, v) == 1 || index($0, id) {print "mount: " $5}' /proc/self/mountinfo
  find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -name "$id*" 2>/dev/null | sed 's/^/cgroup: /'
  for pid in /proc/[0-9]*; do
    grep -qs "$id" "$pid/cgroup" && echo "process: ${pid#/proc/} $(tr '\0' ' ' <"$pid/cmdline" 2>/dev/null | cut -c1-80)"
  done
  return 0
}

# The host dirs of the cgroups that PID (the harness's init) and its descendants are in, except
# PID's ancestors' (the test dockerd's /docker, the root): what to remove once the harness is gone.
harness_cgroups() {
  node - "$1" <<'EOF'
const fs = require('fs');
const init = Number(process.argv[2]);
const ppid = new Map();
for (const d of fs.readdirSync('/proc')) {
  if (!/^\d+$/.test(d)) continue;
  try { ppid.set(Number(d), Number(/^PPid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${d}/status`, 'utf8'))[1])); } catch {}
}
const ours = (pid) => { for (let i = 0; pid > 1 && i < 256; i++, pid = ppid.get(pid) ?? 0) if (pid === init) return true; return false; };
const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => {
  const [pre, post] = l.split(' - '); const a = pre.split(' '), b = post.split(' ');
  return { root: a[3], mp: a[4], type: b[0], opts: b[2].split(',') };
});
const dirOf = (ctl, p) => {
  const m = mounts.find((m) => ctl === '' ? m.type === 'cgroup2' : m.type === 'cgroup' && ctl.split(',').every((c) => m.opts.includes(c)));
  return m && m.root === '/' ? (m.mp + p).replace(/\/$/, '') : undefined;
};
const lines = (pid) => { try { return fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter(Boolean); } catch { return []; } };
const above = new Set();   // the harness's cgroup's ancestors
for (const l of lines(init)) {
  const [, ctl, p] = /^\d+:([^:]*):(.*)$/.exec(l) ?? [];
  for (let q = p; q && q !== '/'; q = q.slice(0, q.lastIndexOf('/')) || '/') above.add(dirOf(ctl, q.slice(0, q.lastIndexOf('/')) || '/'));
}
const out = new Set();
for (const pid of ppid.keys()) {
  if (!ours(pid)) continue;
  for (const l of lines(pid)) {
    const [, ctl, p] = /^\d+:([^:]*):(.*)$/.exec(l) ?? [];
    const dir = p && p !== '/' ? dirOf(ctl, p) : undefined;
    if (dir && !above.has(dir)) out.add(dir);
  }
}
console.log([...out].sort().join('\n'));
EOF
}

stop() {
  local name=${1:?name} vols id left
  vols=$(vols_of "$name")
  id=$(d inspect -f '{{.Id}}' "$name" 2>/dev/null || true)
  local cgs=
  if [ -n "$id" ] && [ "$(d inspect -f '{{.State.Running}}' "$name")" = true ]; then
    # Every cgroup a process of the harness is in (outside its own cgroup with HARNESS_CGROUPNS=host).
    cgs=$(harness_cgroups "$(d inspect -f '{{.State.Pid}}' "$name")")
  fi
  if [ -n "$id" ]; then
    # A clean shutdown first (systemd stops docker, which stops its containers), then removal.
    local t0; t0=$(date +%s)
    d stop -t 30 "$name" >/dev/null 2>&1 || true
    if [ $(( $(date +%s) - t0 )) -ge 10 ]; then
      echo "host-harness: $name took $(( $(date +%s) - t0 )) s to shut down; its last status lines:" >&2
      d logs --tail 15 "$name" >&2 2>&1 || true
    fi
    d rm -f "$name" >/dev/null
  fi
  if [ -n "$id" ]; then
    # Cgroups the harness's processes were in that outlived it (empty ones only, deepest first).
    local cg
    for cg in $cgs; do [ ! -d "$cg" ] || find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true; done
    left=$(leaks "$id" "$vols"; for cg in $cgs; do [ ! -d "$cg" ] || echo "cgroup: $cg"; done)
    if [ -n "$left" ]; then
      # Cgroup dirs runc could not remove (it does remove sub-cgroups): deepest first, empty ones only.
      find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -name "$id*" 2>/dev/null | while read -r top; do
        find "$top" -depth -type d -exec rmdir {} \; 2>/dev/null || true
      done
      awk -v v="$vols" 'index($5, v) == 1 {print $5}' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
      left=$(leaks "$id" "$vols"; for cg in $cgs; do [ ! -d "$cg" ] || echo "cgroup: $cg"; done)
    fi
    [ -z "$left" ] || { echo "host-harness: $name left traces on the host:" >&2; echo "$left" >&2; rm -rf "$vols" 2>/dev/null; exit 1; }
  fi
  rm -rf "$vols"
  drop_orphan_hierarchies "$name"
}

# v1 hierarchies the harness created (their controller had none when it started) that nothing
# mounts any more: they outlive it, invisible, as long as a sub-cgroup (the inner dockerd's
# /docker) is left in them. Mounted in a private mount namespace, emptied deepest first, unmounted:
# the kernel then destroys them.
hierarchy_exists() { awk -v c="$1" '$1 == c && $2 != 0 {f = 1} END {exit !f}' /proc/cgroups; }

drop_orphan_hierarchies() {
  local name=$1 state c p
  state=/run/$name.harness-unmounted-controllers
  [ -f "$state" ] || return 0
  for c in $(cat "$state"); do
    awk -v c="$c" '$1 == c && $2 != 0 {found = 1} END {exit !found}' /proc/cgroups || continue
    # The hierarchy's controllers, all of them (a v1 mount must name exactly those: net_cls,net_prio).
    c=$(awk -v c="$c" '!/^#/ {h[$1] = $2} END {for (k in h) if (h[k] == h[c]) s = s (s ? "," : "") k; print s}' /proc/cgroups)
    # Mounted anywhere (any mount namespace)? Then it is in use: leave it.
    for p in /proc/[0-9]*; do
      awk -v c="${c%%,*}" '$0 ~ / - cgroup / {n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) {found = 1}} END {exit !found}' "$p/mountinfo" 2>/dev/null && continue 2
    done
    # Destroyed (asynchronously) at the last umount if it has no sub-cgroup left by then; rmdir
    # itself completes asynchronously, so one more mount/umount may be needed.
    local try i
    for try in 1 2 3; do
      unshare -m --propagation private sh -c '
        d=$(mktemp -d /tmp/harness-cg.XXXXXX)
        if mount -t cgroup -o "$1" cgroup "$d"; then
          find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
          sleep 0.2; umount "$d"
        fi
        rmdir "$d"' sh "$c" || true
      for i in $(seq 20); do hierarchy_exists "${c%%,*}" || continue 3; sleep 0.1; done
    done
    echo "host-harness: the $c hierarchy $name created is still there" >&2
  done
  rm -f "$state"
}

load_image() {
  local name=${1:?name} img; shift
  for img in "$@"; do
    d save "$img" | in_harness "$name" docker load -q
  done
}

# Sysbox installed by hand, as the Debian package will: binaries in /usr/lib/sysbox (links in
# /usr/bin), units in /lib/systemd/system, the runtime in /etc/docker/daemon.json, dockerd reloaded.
install_sysbox() {
  local name=${1:?name} bin=${2:-$repo/out/bin}
  [ -x "$bin/sysbox-runc" ] || die "$bin has no sysbox-runc: npm run build"
  in_harness "$name" mkdir -p /usr/lib/sysbox
  tar -C "$bin" -c . | in_harness "$name" tar -C /usr/lib/sysbox --no-same-owner -x
  tar -C "$repo/systemd" -c . | in_harness "$name" tar -C /lib/systemd/system --no-same-owner -x
  in_harness "$name" sh -ec '
    for f in sysbox-runc sysbox-mgr sysbox-fs; do ln -sfn ../lib/sysbox/$f /usr/bin/$f; done
    node -e "
      const fs = require(\"fs\"), p = \"/etc/docker/daemon.json\";
      let c = {}; try { c = JSON.parse(fs.readFileSync(p, \"utf8\")); } catch {}
      c.runtimes = Object.assign({}, c.runtimes, { \"sysbox-runc\": { path: \"/usr/bin/sysbox-runc\" } });
      fs.mkdirSync(\"/etc/docker\", { recursive: true });
      fs.writeFileSync(p, JSON.stringify(c, null, 2) + \"\n\");"
    systemctl daemon-reload
    systemctl enable --now sysbox
    systemctl reload docker
    for i in $(seq 40); do docker info 2>/dev/null | grep -q sysbox-runc && exit 0; sleep 0.25; done
    echo "dockerd did not pick up the sysbox-runc runtime" >&2; exit 1'
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# The whole chain: boot the stand-in host, install Sysbox in it, load the images, run a system
# container with its own Docker running an inner container, check sysbox-fs's /proc and the user
# namespace, and remove everything. Needs sysbox/host, sysbox/docker and sysbox/busybox on the
# dockerd at $DOCKER_HOST (images/build.sh host docker busybox).
selftest() {
  local name=${1:-sbxharn-selftest} t out rc=0
  trap 'stop "$name" || true' EXIT
  t=$(now_ms); start "$name"; echo "boot: $(( $(now_ms) - t )) ms"
  t=$(now_ms); install_sysbox "$name"; echo "install + systemctl enable --now sysbox: $(( $(now_ms) - t )) ms"
  in_harness "$name" systemctl is-active sysbox sysbox-mgr sysbox-fs docker | tr '\n' ' '; echo
  t=$(now_ms); load_image "$name" sysbox/busybox sysbox/docker; echo "load images: $(( $(now_ms) - t )) ms"
  t=$(now_ms)
  out=$(in_harness "$name" sh -c 'docker save sysbox/busybox | docker run --runtime=sysbox-runc -i --rm sysbox/docker sh -c "docker load -q && docker run --rm sysbox/busybox echo hello from the inner container"' 2>&1) || rc=1
  echo "$out"; echo "system container + inner Docker + inner container: $(( $(now_ms) - t )) ms"
  echo "$out" | grep -q '^hello from the inner container$' || { echo "FAIL: no hello from the inner container" >&2; rc=1; }
  out=$(in_harness "$name" docker run --runtime=sysbox-runc --rm --memory 256m sysbox/busybox sh -c 'cat /proc/self/uid_map; grep MemTotal /proc/meminfo; cat /proc/uptime; awk "\$5 ~ /^.proc.(uptime|meminfo)\$/ { for (i = 7; i < NF; i++) if (\$i == \"-\") { print \$5, \$(i + 1); break } }" /proc/self/mountinfo' 2>&1) || rc=1
  echo "$out"
  echo "$out" | grep -Eq '^ +0 +[1-9][0-9]* +65536$' || { echo "FAIL: uid_map is not an unprivileged range" >&2; rc=1; }
  echo "$out" | grep -Eq '^MemTotal: +262144 kB$' || { echo "FAIL: MemTotal is not the 256m limit" >&2; rc=1; }
  echo "$out" | grep -q '^/proc/uptime fuse.sysboxfs$' || { echo "FAIL: /proc/uptime is not sysbox-fs's" >&2; rc=1; }
  t=$(now_ms); in_harness "$name" systemctl restart sysbox; in_harness "$name" systemctl is-active sysbox-mgr sysbox-fs | tr '\n' ' '
  echo "systemctl restart sysbox: $(( $(now_ms) - t )) ms"
  out=$(in_harness "$name" docker run --runtime=sysbox-runc --rm sysbox/busybox echo after restart 2>&1) || rc=1
  echo "$out"
  trap - EXIT
  t=$(now_ms); stop "$name"; echo "stop, host clean: $(( $(now_ms) - t )) ms"
  [ "$rc" = 0 ] && echo "selftest: PASS" || echo "selftest: FAIL"
  return "$rc"
}

cmd=${1:-}; shift || true
case "$cmd" in
  start) start "$@" ;;
  stop) stop "$@" ;;
  exec) name=${1:?name}; shift; in_harness "$name" "$@" ;;
  load-image) load_image "$@" ;;
  install-sysbox) install_sysbox "$@" ;;
  selftest) selftest "$@" ;;
  *) echo "usage: $0 start|stop|exec|load-image|install-sysbox|selftest NAME ..." >&2; exit 2 ;;
esac
