#!/usr/bin/env bash
# Density (issue 14): N system containers from sysbox/docker, each running its inner dockerd with
# one inner container (sysbox/busybox loaded into it, `sleep infinity`), against the same N from the
# same image under plain runc with what --privileged gives (see BASELINE below), in one run.
# For each N: time to start all, until every inner dockerd answers, until every inner container
# runs; host memory used per container; sysbox-mgr and sysbox-fs RSS and CPU (and the per-container
# rootfs-view processes sysbox-mgr starts); then all N read /proc in a loop for LOOP_S seconds and
# sysbox-fs's CPU is measured. Targets: N=50 reached; daemon RSS growth <= 3 MiB per container; host
# memory per system container <= 1.2x the baseline; sysbox-fs (with its fd keeper) <= 100% of one core under the loop.
#   sudo bench/density.sh               # N = 10 30 50
#   sudo NS="10 30" PAR=8 LOOP_S=10 bench/density.sh
# Memory is shared with whatever else runs on the host: "host" figures are MemTotal-MemAvailable
# deltas (noisy when others work), "cgroup" figures the containers' own memory cgroups (usage minus
# inactive file cache, as docker stats shows it; inner containers are nested in them). Each set
# starts once host memory has stopped moving (settle_host), and says how long that took.
source "$(dirname "$0")/lib.sh"
ns=${NS:-10 30 50}
par=${PAR:-8}
loop_s=${LOOP_S:-10}
settle_s=${SETTLE_S:-5}
bench_start sysbox-density
DOCKER=/usr/bin/docker images/build.sh docker >/dev/null
docker=/usr/bin/docker
mgr_pid=$(cat "$mgr_dir/pid")
fs_pid=$(cat "$fs_dir/pid")
# The fd keeper owns the FUSE io_uring rings (a holder thread per CPU): its CPU is sysbox-fs's too.
keeper_pid=$(cat "$fs_dir/keeper.sock.pid")
hz=$(getconf CLK_TCK)
# Daemon RSS growth is counted from the fresh daemons': between sets it mostly reflects when V8
# last collected garbage (sysbox-mgr seen at 118 MiB after one set's removal, 68 MiB during the next).
sleep 2
mgr_fresh=$(awk '/^VmRSS:/ {print $2}' "/proc/$mgr_pid/status"); fs_fresh=$(awk '/^VmRSS:/ {print $2}' "/proc/$fs_pid/status")
work=$(mktemp -d /tmp/bench-density.XXXXXX)
$docker save sysbox/busybox > "$work/busybox.tar"
prefix=bench-density-$$
cleanup_all() { timeout 60 $docker ps -aq --filter "name=$prefix" | timeout 120 xargs -r $docker rm -f >/dev/null 2>&1; rm -rf "$work"; }
trap 'cleanup_all; bench_stop' EXIT

# What `docker run --privileged` gives a Docker-in-Docker container, without --privileged itself,
# which fails on this machine (its root lacks CAP_SYS_RESOURCE in the bounding set); the cgroups are
# made writable once the container runs, as --privileged mounts them.
BASELINE=(--runtime=runc --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined
  --security-opt apparmor=unconfined --security-opt systempaths=unconfined --device /dev/fuse -v /var/lib/docker)
SYSBOX=(--runtime=sysbox-runc)

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
pss_kb() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
host_used_kb() { awk '/^MemTotal:/ {t=$2} /^MemAvailable:/ {a=$2} END {print t - a}' /proc/meminfo; }
# Waits (up to 60 s) until host memory in use moved by under 2 MiB a second for 3 seconds running:
# what the last set's removal frees (the kernel's deferred frees, the daemons giving back their heap)
# must not land in the next set's delta, which made the baseline read 35-40 MiB per container in
# runs of the same code. Prints how long it waited.
settle_host() {
  local t0 prev cur calm=0
  t0=$(now_ms); prev=$(host_used_kb)
  while [ "$calm" -lt 3 ] && [ $(( $(now_ms) - t0 )) -lt 60000 ]; do
    sleep 1; cur=$(host_used_kb)
    if [ $(( cur - prev )) -lt 2048 ] && [ $(( prev - cur )) -lt 2048 ]; then calm=$(( calm + 1 )); else calm=0; fi
    prev=$cur
  done
  echo $(( $(now_ms) - t0 ))
}
# RSS of all of this bench's sysbox processes: the daemons, the fd keeper, sysbox-mgr's children
# (create spares, rootfs views).
sysbox_rss_kb() {
  local s=0 p
  for p in "$mgr_pid" "$fs_pid" "$keeper_pid" $(ps -o pid= --ppid "$mgr_pid"); do
    s=$(( s + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0) ))
  done
  echo "$s"
}
# the rootfs-view processes of this bench's sysbox-mgr (its children, one per running container)
view_pids() { ps -o pid=,args= --ppid "$mgr_pid" | grep rootfs-view | awk '{print $1}' || true; }
sum_view() { local s=0 p; for p in $(view_pids); do s=$(( s + $($1 "$p") )); done; echo "$s"; }
# memory of a container's cgroup as docker stats shows it (v1: usage - total_inactive_file), KiB
cgroup_kb() {
  local d=/sys/fs/cgroup/memory/docker/$1
  [ -f "$d/memory.usage_in_bytes" ] || { echo 0; return; }
  echo $(( ( $(cat "$d/memory.usage_in_bytes") - $(awk '/^total_inactive_file / {print $2}' "$d/memory.stat") ) / 1024 ))
}
wait_inner() { for _ in $(seq 1 600); do $docker exec "$1" docker info >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "inner dockerd of $1 not ready" >&2; return 1; }
export -f wait_inner
export docker work

# run_set KIND N: starts, measures and removes N containers; prints KEY=VALUE lines into $work/KIND-N
run_set() {
  local kind=$1 n=$2 out=$work/$1-$2 names=() i
  local -a flags
  if [ "$kind" = sysbox ]; then flags=("${SYSBOX[@]}"); else flags=("${BASELINE[@]}"); fi
  for i in $(seq 1 "$n"); do names+=("$prefix-$kind-$i"); done
  local settled host0 sbx0 mgr0 fs0 mgrc0 fsc0 t0 t1 t2 t3
  settled=$(settle_host)
  host0=$(host_used_kb); sbx0=$(sysbox_rss_kb); mgr0=$(rss_kb "$mgr_pid"); fs0=$(rss_kb "$fs_pid")
  mgrc0=$(cpu_ticks "$mgr_pid"); fsc0=$(cpu_ticks "$fs_pid")
  t0=$(now_ms)
  printf '%s\n' "${names[@]}" | xargs -P "$par" -I{} $docker run -d --name {} "${flags[@]}" sysbox/docker sleep infinity >/dev/null
  t1=$(now_ms)
  printf '%s\n' "${names[@]}" | xargs -P "$par" -I{} bash -c 'wait_inner {}'
  t2=$(now_ms)
  if [ "$kind" = runc ]; then
    printf '%s\n' "${names[@]}" | xargs -P "$par" -I{} $docker exec {} sh -c \
      'for c in /sys/fs/cgroup/*; do [ -L "$c" ] || mount -o remount,bind,rw "$c"; done'
  fi
  printf '%s\n' "${names[@]}" | xargs -P "$par" -I{} bash -c \
    '$docker exec -i {} docker load -q < "$work/busybox.tar" >/dev/null && $docker exec {} docker run -d --name inner sysbox/busybox sleep infinity >/dev/null'
  t3=$(now_ms)
  local running
  running=$(for c in "${names[@]}"; do $docker exec "$c" docker ps -q --filter name=inner; done | grep -c . || true)
  local mgrc1 fsc1
  mgrc1=$(cpu_ticks "$mgr_pid"); fsc1=$(cpu_ticks "$fs_pid")
  sleep "$settle_s"
  local cg=0 id
  for c in "${names[@]}"; do id=$($docker inspect -f '{{.Id}}' "$c"); cg=$(( cg + $(cgroup_kb "$id") )); done
  {
    echo "start_ms=$(( t1 - t0 ))"; echo "ready_ms=$(( t2 - t0 ))"; echo "inner_ms=$(( t3 - t0 ))"
    echo "running=$running"
    echo "host_kb=$(( $(host_used_kb) - host0 ))"; echo "cgroup_kb=$cg"
    echo "settled_ms=$settled"; echo "sysbox_kb=$(( $(sysbox_rss_kb) - sbx0 ))"
    echo "mgr0=$mgr0"; echo "mgr1=$(rss_kb "$mgr_pid")"; echo "fs0=$fs0"; echo "fs1=$(rss_kb "$fs_pid")"
    echo "views=$(view_pids | wc -l)"; echo "view_rss=$(sum_view rss_kb)"; echo "view_pss=$(sum_view pss_kb)"
    echo "mgr_cpu=$(( mgrc1 - mgrc0 ))"; echo "fs_cpu=$(( fsc1 - fsc0 ))"
  } > "$out"

  # every container reads /proc in a loop; count the rounds each did
  printf '%s\n' "${names[@]}" | xargs -P "$par" -I{} $docker exec -d {} sh -c \
    'i=0; while [ ! -e /tmp/stop-loop ]; do cat /proc/uptime /proc/meminfo /proc/stat /proc/loadavg >/dev/null; i=$((i+1)); done; echo $i > /tmp/loop-count'
  sleep 2
  local fsl0 fsl1 kl0 kl1 tl0 tl1
  fsl0=$(cpu_ticks "$fs_pid"); kl0=$(cpu_ticks "$keeper_pid"); tl0=$(now_ms)
  sleep "$loop_s"
  fsl1=$(cpu_ticks "$fs_pid"); kl1=$(cpu_ticks "$keeper_pid"); tl1=$(now_ms)
  printf '%s\n' "${names[@]}" | xargs -P "$par" -I{} $docker exec {} touch /tmp/stop-loop
  sleep 1
  local rounds=0 r
  for c in "${names[@]}"; do r=$($docker exec "$c" cat /tmp/loop-count 2>/dev/null || echo 0); rounds=$(( rounds + r )); done
  {
    echo "loop_fs_pct=$(( (fsl1 - fsl0) * 100 * 1000 / hz / (tl1 - tl0) ))"
    echo "loop_keeper_pct=$(( (kl1 - kl0) * 100 * 1000 / hz / (tl1 - tl0) ))"
    echo "loop_rounds=$rounds"
  } >> "$out"
  local tr0; tr0=$(now_ms)
  # Docker 20.10's libnetwork can deadlock when many containers of one network exit at once
  # (moby#46661, seen once at N=50): fail then, rather than wait for ever.
  timeout 600 $docker rm -f "${names[@]}" >/dev/null ||
    { echo "docker rm -f of $n containers did not finish in 600 s: is dockerd deadlocked (docs/troubleshooting.md)?" >&2; exit 1; }
  echo "rm_ms=$(( $(now_ms) - tr0 ))" >> "$out"
  # The daemons give memory back 1 s after the last release, at most 5 s after the first one.
  sleep 7
  echo "mgr_after_rm=$(rss_kb "$mgr_pid")" >> "$out"; echo "fs_after_rm=$(rss_kb "$fs_pid")" >> "$out"
}

get() { awk -F= -v k="$2" '$1 == k {print $2}' "$work/$1"; }
ratio() { if [ "$2" = 0 ]; then echo "-"; else printf '%.2fx' "$(echo "$1 / $2" | bc -l)"; fi; }

echo "uptime at start: $(uptime)"
for n in $ns; do
  run_set sysbox "$n"
  run_set runc "$n"
  s=sysbox-$n; r=runc-$n
  printf '\nN = %d (%s)\n' "$n" "$(uptime | sed 's/.*load/load/')"
  printf '  %-42s %14s %14s %8s\n' '' sysbox-runc 'runc (priv.)' ratio
  for k in start_ms ready_ms inner_ms rm_ms; do
    case $k in start_ms) l='docker run -d of all N';; ready_ms) l='... until every inner dockerd answers';;
      inner_ms) l='... until every inner container runs';; rm_ms) l='docker rm -f of all N';; esac
    printf '  %-42s %12.1f s %12.1f s %8s\n' "$l" "$(echo "$(get $s $k) / 1000" | bc -l)" "$(echo "$(get $r $k) / 1000" | bc -l)" "$(ratio "$(get $s $k)" "$(get $r $k)")"
  done
  printf '  %-42s %14s %14s\n' 'inner containers running' "$(get $s running)/$n" "$(get $r running)/$n"
  hs=$(( $(get $s host_kb) / n )); hr=$(( $(get $r host_kb) / n ))
  printf '  %-42s %10d MiB %10d MiB %8s (target <= 1.20x)\n' 'host memory used per container' $(( hs / 1024 )) $(( hr / 1024 )) "$(ratio "$hs" "$hr")"
  printf '  %-42s %12.1f s %12.1f s\n' '  (host memory settled before the set in)' "$(echo "$(get $s settled_ms) / 1000" | bc -l)" "$(echo "$(get $r settled_ms) / 1000" | bc -l)"
  printf '  %-42s %+10.1f MiB %+10.1f MiB\n' '  (sysbox processes'"'"' RSS change in the set)' "$(echo "$(get $s sysbox_kb) / 1024" | bc -l)" "$(echo "$(get $r sysbox_kb) / 1024" | bc -l)"
  cs=$(( $(get $s cgroup_kb) / n )); cr=$(( $(get $r cgroup_kb) / n ))
  vs=$(( $(get $s view_pss) / n ))
  printf '  %-42s %10d MiB %10d MiB %8s\n' 'container cgroup memory per container' $(( cs / 1024 )) $(( cr / 1024 )) "$(ratio "$cs" "$cr")"
  dg=$(( ( $(get $s mgr1) - mgr_fresh + $(get $s fs1) - fs_fresh ) / n ))
  printf '  %-42s %10d MiB %10d MiB %8s\n' '  + views (PSS) + daemons growth' $(( (cs + vs + dg) / 1024 )) $(( cr / 1024 )) "$(ratio $(( cs + vs + dg )) "$cr")"
  for d in mgr fs; do
    fresh=$(eval echo "\$${d}_fresh")
    g=$(( $(get $s ${d}1) - fresh ))
    printf '  sysbox-%-4s RSS fresh %d MiB, before this set %d, with %d running %d (%+.2f MiB per container over fresh; target <= 3), after rm %d; CPU during start %.1f s\n' \
      "$d" $(( fresh / 1024 )) $(( $(get $s ${d}0) / 1024 )) "$n" $(( $(get $s ${d}1) / 1024 )) "$(echo "$g / 1024 / $n" | bc -l)" $(( $(get $s ${d}_after_rm) / 1024 )) "$(echo "$(get $s ${d}_cpu) / $hz" | bc -l)"
  done
  printf '  rootfs-view processes: %d, RSS %.1f MiB, PSS %.1f MiB per container\n' "$(get $s views)" \
    "$(echo "$(get $s view_rss) / 1024 / $n" | bc -l)" "$(echo "$(get $s view_pss) / 1024 / $n" | bc -l)"
  printf '  all %d reading /proc in a loop: sysbox-fs %d%% + its fd keeper %d%% = %d%% of one core (target <= 100%%), %d rounds of 4 files in %d s\n' \
    "$n" "$(get $s loop_fs_pct)" "$(get $s loop_keeper_pct)" $(( $(get $s loop_fs_pct) + $(get $s loop_keeper_pct) )) "$(get $s loop_rounds)" "$loop_s"
done
