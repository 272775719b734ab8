#!/usr/bin/env bash
# Latency and throughput of reading /proc files INSIDE containers, side by side in one run:
#   native  plain runc container, the kernel's procfs (baseline)
#   lxcfs   plain runc container with a private LXCFS (Debian's) bind-mounted over
#           /proc/{uptime,meminfo,cpuinfo,stat,loadavg,swaps,diskstats}, as LXCFS documents
#   sysbox  --runtime=sysbox-runc container (sysbox-fs's virtual files once bench_start runs
#           sysbox-fs; otherwise the kernel's procfs; the "served" lines tell which)
# All three: image sysbox/busybox, --memory 256m --cpuset-cpus 0, a static reader
# (bench/tools/procread.c, built into bench/.build/) bind-mounted read-only at /procread.
# Latency: p50/p90 of open+read-to-EOF+close over ITER reads; ROUNDS rounds, the runtimes
# interleaved per file (order rotated each round), medians over rounds.
# Throughput: 4 reader threads for TPUT_SECONDS, TPUT_ROUNDS rounds, median reads/s.
# Files: uptime meminfo cpuinfo stat loadavg diskstats (LXCFS serves them) and sys/kernel/pid_max,
# which LXCFS does not serve (its container reads the kernel's): that row is judged against the
# nearest LXCFS equivalent, the cheapest file LXCFS serves in the same run (the lowest LXCFS p50 of
# the other rows: a small one-line file such as loadavg), and its sysbox/native ratio is printed too.
# Targets (issue 14): p50 sysbox/lxcfs <= 0.5 on every file; 4-reader throughput sysbox/lxcfs >= 3.
#   sudo bench/proc-read.sh
#   ROUNDS=7 ITER=5000 TPUT_ROUNDS=5 TPUT_SECONDS=3 TPUT_THREADS=4 bench/proc-read.sh
source "$(dirname "$0")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${ROUNDS:-5}
iter=${ITER:-2000}
tput_rounds=${TPUT_ROUNDS:-3}
tput_seconds=${TPUT_SECONDS:-2}
tput_threads=${TPUT_THREADS:-4}
files=(uptime meminfo cpuinfo stat loadavg diskstats sys/kernel/pid_max)
lat_target=0.5
tput_target=3
tput_files=(${TPUT_FILES:-meminfo uptime})
lxcfs_files=(uptime meminfo cpuinfo stat loadavg swaps diskstats)
runtimes=(native lxcfs sysbox)
docker=/usr/bin/docker

# --- tools: gcc + static glibc for the reader, Debian's lxcfs (installed here, not in scripts/deps.sh)
need=()
command -v lxcfs >/dev/null || need+=(lxcfs)
command -v gcc >/dev/null || need+=(gcc)
dpkg -s libc6-dev >/dev/null 2>&1 || need+=(libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get install -y "${need[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null; }
fi
reader=$(bench_procread)

# --- private sysbox-mgr + dockerd (+ whatever else bench_start runs), then a private LXCFS
bench=sysbox-bench-proc-$$
work=$(mktemp -d)
lxcfs_dir=/var/lib/$bench-lxcfs
lxcfs_pid=
containers=()
bench_extra_cleanup() {
  if [ -n "$lxcfs_pid" ] && [ "$(cat "/proc/$lxcfs_pid/comm" 2>/dev/null)" = lxcfs ]; then
    kill "$lxcfs_pid"
    for _ in $(seq 1 50); do kill -0 "$lxcfs_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$lxcfs_pid" 2>/dev/null
  fi
  if [ -d "$lxcfs_dir" ]; then umount -l "$lxcfs_dir" 2>/dev/null; rmdir "$lxcfs_dir"; fi
  rm -f "/run/$bench-lxcfs.pid"
}
bench_start_cleaned "$bench"

mkdir -p "$lxcfs_dir"
# -f: stay in the foreground so $! is lxcfs itself (setsid execs it: a background job is no group
# leader); -l: virtualize loadavg too (per-container logic on every file we read).
setsid lxcfs -f -l -p "/run/$bench-lxcfs.pid" "$lxcfs_dir" >"$work/lxcfs.log" 2>&1 </dev/null &
lxcfs_pid=$!
for _ in $(seq 1 50); do [ -e "$lxcfs_dir/proc/uptime" ] && break; sleep 0.1; done
[ -e "$lxcfs_dir/proc/uptime" ] || { echo "lxcfs did not come up; log follows" >&2; cat "$work/lxcfs.log" >&2; exit 1; }

# --- the three containers, alike but for the runtime and the LXCFS binds
common=(-d --network none --memory 256m --cpuset-cpus 0 -v "$reader:/procread:ro")
lxcfs_binds=()
for f in "${lxcfs_files[@]}"; do lxcfs_binds+=(-v "$lxcfs_dir/proc/$f:/proc/$f:rw"); done
$docker run "${common[@]}" --name "$bench-native" --runtime=runc sysbox/busybox sleep 3600 >/dev/null
containers+=("$bench-native")
$docker run "${common[@]}" --name "$bench-lxcfs" --runtime=runc "${lxcfs_binds[@]}" sysbox/busybox sleep 3600 >/dev/null
containers+=("$bench-lxcfs")
$docker run "${common[@]}" --name "$bench-sysbox" --runtime=sysbox-runc sysbox/busybox sleep 3600 >/dev/null
containers+=("$bench-sysbox")

# What each container is served: first line of /proc/uptime, MemTotal, CPUs in cpuinfo, and the
# filesystem type mounted over /proc/uptime and /proc/meminfo (none: the container's own procfs).
echo
echo "content served inside each container (host: MemTotal $(awk '/^MemTotal/{print $2}' /proc/meminfo) kB, $(nproc --all) CPUs)"
for rt in "${runtimes[@]}"; do
  $docker exec "$bench-$rt" sh -c '
    fstype() { m=$(grep " $1 " /proc/self/mountinfo | tail -1); [ -n "$m" ] && echo "${m#* - }" | cut -d" " -f1 || echo "procfs"; }
    printf "uptime \"%s\"  MemTotal %s kB  cpuinfo CPUs %s  diskstats lines %s  pid_max %s  /proc/uptime: %s  /proc/meminfo: %s\n" \
      "$(head -1 /proc/uptime)" "$(awk "/^MemTotal/{print \$2}" /proc/meminfo)" \
      "$(grep -c ^processor /proc/cpuinfo)" "$(wc -l < /proc/diskstats)" "$(cat /proc/sys/kernel/pid_max)" \
      "$(fstype /proc/uptime)" "$(fstype /proc/meminfo)"' \
    | tee "$work/served.$rt" | sed "s/^/  $(printf '%-7s' "$rt")/"
done
# sysbox-fs serves the sysbox container if a FUSE fs is mounted over /proc/uptime or /proc/meminfo
# there, or its MemTotal is not the host's.
sysbox_virtual=0
if grep -q ': fuse' "$work/served.sysbox" || [ "$(sed -n 's/.*MemTotal \([0-9]*\) kB.*/\1/p' "$work/served.sysbox")" != "$(awk '/^MemTotal/{print $2}' /proc/meminfo)" ]; then
  sysbox_virtual=1
fi

# --- measurements
exec_reader() { $docker exec "$bench-$1" /procread "${@:2}"; }
failed=0
echo
echo "latency: $rounds rounds x ${#files[@]} files x ${#runtimes[@]} runtimes, $iter reads each (host: $(bench_idle_policy)) ..."
for r in $(seq 0 $((rounds - 1))); do
  for f in "${files[@]}"; do
    for i in 0 1 2; do
      rt=${runtimes[$(( (i + r) % 3 ))]}
      # diskstats lists only the devices the container's cgroup did I/O on: it may well be empty.
      if out=$(exec_reader "$rt" lat "/proc/$f" "$iter" $([ "$f" = diskstats ] && echo empty-ok)); then
        read -r p50 p90 <<<"$out"
        echo "$p50" >> "$work/lat50.$rt.${f//\//_}"; echo "$p90" >> "$work/lat90.$rt.${f//\//_}"
      else
        failed=1; echo "  procread lat /proc/$f failed in the $rt container" >&2
      fi
    done
  done
done
echo "throughput: $tput_rounds rounds x ${#tput_files[@]} files x ${#runtimes[@]} runtimes, $tput_threads readers for ${tput_seconds}s each ..."
for r in $(seq 0 $((tput_rounds - 1))); do
  for f in "${tput_files[@]}"; do
    for i in 0 1 2; do
      rt=${runtimes[$(( (i + r) % 3 ))]}
      if out=$(exec_reader "$rt" tput "/proc/$f" "$tput_threads" "$tput_seconds"); then
        echo "$out" >> "$work/tput.$rt.$f"
      else
        failed=1; echo "  procread tput /proc/$f failed in the $rt container" >&2
      fi
    done
  done
done

# --- report
med() { [ -s "$1" ] && median < "$1" || echo n/a; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
lat_ok=1; tput_ok=1; worst_lat=; worst_tput=
echo
echo "open+read+close latency inside the container, us (median over $rounds rounds of each round's p50 / p90 over $iter reads)"
printf '%-18s %11s %10s %11s %13s   %10s %10s %11s\n' file native_p50 lxcfs_p50 sysbox_p50 sysbox/lxcfs native_p90 lxcfs_p90 sysbox_p90
lxcfs_min=
for f in "${files[@]}"; do
  k=${f//\//_}
  n50=$(med "$work/lat50.native.$k"); l50=$(med "$work/lat50.lxcfs.$k"); s50=$(med "$work/lat50.sysbox.$k")
  n90=$(med "$work/lat90.native.$k"); l90=$(med "$work/lat90.lxcfs.$k"); s90=$(med "$work/lat90.sysbox.$k")
  note=
  if [[ " ${lxcfs_files[*]} " == *" $f "* ]]; then
    [ "$l50" != n/a ] && { [ -z "$lxcfs_min" ] || awk -v a="$l50" -v b="$lxcfs_min" 'BEGIN { exit !(a < b) }'; } && lxcfs_min=$l50
    q=$(ratio "$s50" "$l50")
  else
    # Not served by LXCFS: judged against the cheapest file LXCFS serves in this run.
    q=$(ratio "$s50" "${lxcfs_min:-n/a}"); note="  (vs LXCFS's cheapest, ${lxcfs_min:-n/a} us; lxcfs column: the kernel's file; sysbox/native $(ratio "$s50" "$n50"))"
  fi
  printf '%-18s %11s %10s %11s %13s   %10s %10s %11s%s\n' "$f" "$n50" "$l50" "$s50" "$q" "$n90" "$l90" "$s90" "$note"
  if [ "$q" = n/a ] || awk -v q="$q" -v t="$lat_target" 'BEGIN { exit !(q > t) }'; then lat_ok=0; worst_lat+=" $f=$q"; fi
done
echo
echo "throughput, $tput_threads reader threads in the container, reads/s (median over $tput_rounds rounds of ${tput_seconds}s)"
printf '%-9s %11s %10s %11s %13s\n' file native_rps lxcfs_rps sysbox_rps sysbox/lxcfs
for f in "${tput_files[@]}"; do
  n=$(med "$work/tput.native.$f"); l=$(med "$work/tput.lxcfs.$f"); s=$(med "$work/tput.sysbox.$f")
  q=$(ratio "$s" "$l")
  printf '%-9s %11s %10s %11s %13s\n' "$f" "$n" "$l" "$s" "$q"
  if [ "$q" = n/a ] || awk -v q="$q" -v t="$tput_target" 'BEGIN { exit !(q < t) }'; then tput_ok=0; worst_tput+=" $f=$q"; fi
done
echo
verdict() { # verdict OK DETAIL
  if [ $sysbox_virtual = 0 ]; then echo "NOT JUDGED (sysbox column is native procfs, see below)"
  elif [ "$1" = 1 ]; then echo MET
  else echo "MISSED (${2# })"; fi
}
echo "latency target (p50 sysbox/lxcfs <= $lat_target on every file): $(verdict $lat_ok "$worst_lat")"
echo "throughput target ($tput_threads-reader sysbox/lxcfs >= $tput_target): $(verdict $tput_ok "$worst_tput")"
if [ $sysbox_virtual = 0 ]; then
  echo "note: the sysbox container reads the kernel's procfs (no FUSE mount over /proc/uptime or"
  echo "      /proc/meminfo, host MemTotal): sysbox-fs is not serving it, so its column measures native procfs"
fi
[ $failed = 0 ] || echo "some reads failed (see above); their figures are missing from the medians" >&2
exit 0
