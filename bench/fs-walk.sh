#!/usr/bin/env bash
# Walking /sys/kernel and /proc/sys inside a container, runc vs sysbox-runc side by side in one run
# (issue 14 target: sysbox within 3x of runc on both).
#   find /sys/kernel    every entry of /sys/kernel (sysbox: a covered directory, served by sysbox-fs)
#   sysctl -a           every readable setting under /proc/sys, opened and read (sysbox: covered too)
# Both containers: image sysbox/busybox (busybox's find and sysctl), --network none, the static
# bench/tools/procread.c bind-mounted at /procread, whose `run ITER GAP_MS CMD...` times ITER runs of
# CMD inside the container (fork+exec+wait, stdout and stderr to /dev/null) and prints p50, p90 and the first
# run in us. Each round runs both runtimes one after the other (order alternated); the table shows
# the medians over rounds of each round's p50, and the very first run of each command in the fresh
# container (nothing cached by the kernel yet: every name a LOOKUP).
#   sudo bench/fs-walk.sh
#   ROUNDS=7 ITER=20 bench/fs-walk.sh
#   CPUSET=0 bench/fs-walk.sh      both containers on CPU 0 (--cpuset-cpus): no request's completion
#                                   wakes the walker on another CPU (see bench/README.md)
source "$(dirname "$0")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${ROUNDS:-5}
iter=${ITER:-10}
runtimes=(runc sysbox)
docker=/usr/bin/docker
cmds=("find /sys/kernel" "sysctl -a")
keys=(find sysctl)

command -v gcc >/dev/null && dpkg -s libc6-dev >/dev/null 2>&1 || { apt-get update >/dev/null; apt-get install -y gcc libc6-dev >/dev/null; }
reader=$(bench_procread)

work=$(mktemp -d)
containers=()
bench_start_cleaned sysbox-bench-walk-$$

common=(-d --network none -v "$reader:/procread:ro" ${CPUSET:+--cpuset-cpus "$CPUSET"})
$docker run "${common[@]}" --name "$bench-runc" --runtime=runc sysbox/busybox sleep 3600 >/dev/null
containers+=("$bench-runc")
$docker run "${common[@]}" --name "$bench-sysbox" --runtime=sysbox-runc sysbox/busybox sleep 3600 >/dev/null
containers+=("$bench-sysbox")

# The first run of each command in each fresh container (cold), then what each walk covers.
for rt in "${runtimes[@]}"; do
  for k in 0 1; do
    read -r _ _ first <<<"$($docker exec "$bench-$rt" /procread run 1 0 ${cmds[$k]})"
    echo "$first" > "$work/first.$rt.${keys[$k]}"
  done
done
echo
echo "what each walk covers (entries printed by find, settings printed by sysctl -a; filesystem of /sys/kernel and /proc/sys)"
for rt in "${runtimes[@]}"; do
  $docker exec "$bench-$rt" sh -c '
    fstype() { m=$(grep " $1 " /proc/self/mountinfo | tail -1); [ -n "$m" ] && echo "${m#* - }" | cut -d" " -f1 || echo "no mount of its own"; }
    printf "find /sys/kernel: %s entries  sysctl -a: %s settings  /sys/kernel: %s  /proc/sys: %s\n" \
      "$(find /sys/kernel 2>/dev/null | wc -l)" "$(sysctl -a 2>/dev/null | wc -l)" "$(fstype /sys/kernel)" "$(fstype /proc/sys)"' \
    | sed "s/^/  $(printf '%-7s' "$rt")/"
done

echo
echo "timing: $rounds rounds x ${#cmds[@]} commands x ${#runtimes[@]} runtimes, $iter runs each ..."
failed=0
for r in $(seq 0 $((rounds - 1))); do
  for k in 0 1; do
    for i in 0 1; do
      rt=${runtimes[$(( (i + r) % 2 ))]}
      if out=$($docker exec "$bench-$rt" /procread run "$iter" 0 ${cmds[$k]} 2>"$work/err"); then
        read -r p50 _ _ <<<"$out"
        echo "$p50" >> "$work/p50.$rt.${keys[$k]}"
      else
        failed=1; echo "  ${cmds[$k]} failed in the $rt container: $(head -3 "$work/err")" >&2
      fi
    done
  done
done

med() { [ -s "$1" ] && median < "$1" || echo n/a; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
ok=1; worst=
echo
echo "host: load $(cut -d' ' -f1-3 /proc/loadavg), $(bench_idle_policy)"
echo "wall time inside the container${CPUSET:+ (both on CPU $CPUSET)}, ms (median over $rounds rounds of each round's p50 over $iter runs; first: the first run in a fresh container)"
printf '%-17s %10s %11s %13s   %11s %12s %13s\n' command runc_p50 sysbox_p50 sysbox/runc runc_first sysbox_first sysbox/runc
for k in 0 1; do
  ms() { [ "$1" = n/a ] && echo n/a || awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
  r50=$(med "$work/p50.runc.${keys[$k]}"); s50=$(med "$work/p50.sysbox.${keys[$k]}")
  rf=$(cat "$work/first.runc.${keys[$k]}"); sf=$(cat "$work/first.sysbox.${keys[$k]}")
  q=$(ratio "$s50" "$r50"); qf=$(ratio "$sf" "$rf")
  printf '%-17s %10s %11s %13s   %11s %12s %13s\n' "${cmds[$k]}" "$(ms "$r50")" "$(ms "$s50")" "$q" "$(ms "$rf")" "$(ms "$sf")" "$qf"
  if [ "$q" = n/a ] || awk -v q="$q" 'BEGIN { exit !(q > 3) }'; then ok=0; worst+=" ${keys[$k]}=$q"; fi
done
echo
if [ $ok = 1 ]; then echo "target (sysbox/runc p50 <= 3 on both): MET"; else echo "target (sysbox/runc p50 <= 3 on both): MISSED (${worst# })"; fi
[ $failed = 0 ] || echo "some runs failed (see above); their figures are missing from the medians" >&2
exit 0
