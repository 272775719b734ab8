#!/usr/bin/env bash
# CPU time the whole host spends per `docker run --rm busybox true`, runc vs sysbox-runc: on two
# cores that CPU, not waiting, is what `docker run`'s latency ratio is made of (bench/README.md).
# Blocks of N runs of one runtime (default 10), ROUNDS blocks of each alternated (default 3), each
# block followed by a 1.5 s pause inside the window (work that runs after the client exits, such as
# a spare's replacement, counts too). Busy CPU from /proc/stat (everything but idle and iowait),
# and, for sysbox-runc, sysbox-mgr's and sysbox-fs's own share (utime+stime of each, of the children
# they reaped and of their live ones, from /proc/PID/stat; a child that exits between the two reads
# counts only if it was reaped). NETWORK=none for --network none.
source "$(dirname "$0")/lib.sh"
bench_start sysbox-bench-cpu
docker=/usr/bin/docker
net=(); [ "${NETWORK:-bridge}" = none ] && net=(--network none)
n=${N:-10}
tck=$(getconf CLK_TCK)
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
# A daemon's CPU: its own, its reaped children's, and its live children's (spares serve many creates).
own() {
  local t; t=$(awk '{print $14+$15+$16+$17}' "/proc/$1/stat")
  for c in $(pgrep -P "$1"); do t=$(( t + $(awk '{print $14+$15}' "/proc/$c/stat" 2>/dev/null || echo 0) )); done
  echo "$t"
}
mgr=$(cat "$mgr_dir/pid"); fsd=$(cat "$fs_dir/pid")
for rt in runc sysbox-runc; do $docker run --rm "${net[@]}" --runtime=$rt sysbox/busybox true; done
sleep 1.5
declare -A total=() mgr_t=() fs_t=()
for _ in $(seq 1 "${ROUNDS:-3}"); do
  for rt in runc sysbox-runc; do
    b=$(busy); m=$(own "$mgr"); f=$(own "$fsd")
    for _ in $(seq 1 "$n"); do $docker run --rm "${net[@]}" --runtime=$rt sysbox/busybox true; done
    sleep 1.5
    total[$rt]=$(( ${total[$rt]:-0} + $(busy) - b ))
    mgr_t[$rt]=$(( ${mgr_t[$rt]:-0} + $(own "$mgr") - m )); fs_t[$rt]=$(( ${fs_t[$rt]:-0} + $(own "$fsd") - f ))
  done
done
runs=$(( n * ${ROUNDS:-3} ))
ms() { echo "scale=1; $1 * 1000 / $tck / $runs" | bc; }
printf 'network %s, %d runs of each in blocks of %d, alternated; CPU per docker run (ms), load: %s\n' "${NETWORK:-bridge}" "$runs" "$n" "$(cut -d' ' -f1-3 /proc/loadavg)"
for rt in runc sysbox-runc; do
  printf '%-12s host %7s   sysbox-mgr (and its spares) %6s   sysbox-fs %6s\n' "$rt" "$(ms "${total[$rt]}")" "$(ms "${mgr_t[$rt]}")" "$(ms "${fs_t[$rt]}")"
done
printf 'ratio sysbox-runc / runc: %.2fx\n' "$(echo "${total[sysbox-runc]} / ${total[runc]}" | bc -l)"
