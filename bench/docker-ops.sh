#!/usr/bin/env bash
# `docker run --rm`, `docker exec` and `docker stop` with runc and with sysbox-runc, interleaved,
# ROUNDS rounds (default 31), against a private dockerd; prints each median and the ratio
# sysbox-runc / runc. Target (issue 14): <= 1.15x for each. NETWORK=none runs the containers with
# --network none. OPS (default "run exec stop") picks the operations.
#   run:  `docker run --rm busybox true` (as bench/docker-run.sh).
#   exec: `docker exec C true` in one long-running container per runtime.
#   stop: `docker stop C` of a container started (untimed) just before, whose init exits on SIGTERM
#         (a shell waiting on `sleep`, so Docker never has to fall back to SIGKILL); removed untimed.
source "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-31}
ops=${OPS:-run exec stop}
bench_start sysbox-bench-ops
docker=/usr/bin/docker
net=()
[ "${NETWORK:-bridge}" = none ] && net=(--network none)
init=(sh -c 'trap "exit 0" TERM; sleep 1d & wait')
tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; bench_stop; }
trap cleanup EXIT
for rt in runc sysbox-runc; do $docker run -d "${net[@]}" --name "bench-exec-$rt" --runtime="$rt" sysbox/busybox "${init[@]}" >/dev/null; done
for _ in 1 2 3; do for rt in runc sysbox-runc; do $docker exec "bench-exec-$rt" true; $docker run --rm "${net[@]}" --runtime="$rt" sysbox/busybox true; done; done

stop_one() { # runtime out-file: start a container, time its stop, remove it
  local c; c=$($docker run -d "${net[@]}" --runtime="$1" sysbox/busybox "${init[@]}")
  # Let the shell install its trap before the signal comes: it forks `sleep` only after that.
  local pid; pid=$($docker inspect -f '{{.State.Pid}}' "$c")
  until [ -n "$(cat /proc/"$pid"/task/*/children 2>/dev/null)" ]; do sleep 0.02; done
  local t; t=$(now_ms); $docker stop "$c" >/dev/null; echo $(( $(now_ms) - t )) >> "$2"
  $docker rm "$c" >/dev/null
}
for i in $(seq 1 "$rounds"); do
  # Alternate which runtime goes first, so a trend in machine load hits both alike.
  if [ $((i % 2)) = 1 ]; then order="runc sysbox-runc"; else order="sysbox-runc runc"; fi
  for op in $ops; do
    for rt in $order; do
      case $op in
        run) t=$(now_ms); $docker run --rm "${net[@]}" --runtime="$rt" sysbox/busybox true; echo $(( $(now_ms) - t )) >> "$tmp/run-$rt" ;;
        exec) t=$(now_ms); $docker exec "bench-exec-$rt" true; echo $(( $(now_ms) - t )) >> "$tmp/exec-$rt" ;;
        stop) stop_one "$rt" "$tmp/stop-$rt" ;;
      esac
    done
  done
done
printf 'network %s, %d interleaved rounds (median ms), load: %s, %s\n' "${NETWORK:-bridge}" "$rounds" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(bench_idle_policy)"
for what in $ops; do
  r=$(median < "$tmp/$what-runc"); s=$(median < "$tmp/$what-sysbox-runc")
  printf 'docker %-4s  runc %6.1f  sysbox-runc %6.1f  ratio %5.2fx  (target <= 1.15x)\n' "$what" "$r" "$s" "$(echo "$s / $r" | bc -l)"
done
