#!/usr/bin/env bash
# Docker inside a system container (issue 4), against a private dockerd:
#  1. inner `docker run --rm busybox true` vs the same on the (private) host daemon, interleaved,
#     ROUNDS rounds (default 21), median ratio (target <= 1.5x);
#  2. disk used by one inner image with overlay2 vs what vfs uses for it;
#  3. time from `docker run` of sysbox/docker to the inner `docker info` answering.
source "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-21}
bench_start sysbox-bench
DOCKER=/usr/bin/docker images/build.sh docker bookworm
docker=/usr/bin/docker
c=bench-dind-$$
v=bench-vfs-$$
cleanup_containers() { $docker rm -f "$c" "$v" >/dev/null 2>&1; }
trap 'cleanup_containers; bench_stop' EXIT

wait_inner() { until $docker exec "$1" docker info >/dev/null 2>&1; do sleep 0.05; done; }

# 3. start-up of the Docker image until the inner daemon answers
t=$(now_ms)
$docker run -d --runtime=sysbox-runc --name "$c" sysbox/docker sleep infinity >/dev/null
wait_inner "$c"
startup=$(( $(now_ms) - t ))

# 1. inner docker run latency vs the host daemon's (both run busybox with runc)
$docker save sysbox/busybox | $docker exec -i "$c" docker load >/dev/null
for _ in 1 2 3; do $docker run --rm sysbox/busybox true; $docker exec "$c" docker run --rm sysbox/busybox true; done
: > /tmp/bench-host.$$; : > /tmp/bench-inner.$$
for _ in $(seq 1 "$rounds"); do
  t=$(now_ms); $docker run --rm sysbox/busybox true; echo $(( $(now_ms) - t )) >> /tmp/bench-host.$$
  t=$(now_ms); $docker exec "$c" docker run --rm sysbox/busybox true; echo $(( $(now_ms) - t )) >> /tmp/bench-inner.$$
done
h=$(median < /tmp/bench-host.$$); i=$(median < /tmp/bench-inner.$$)
rm -f /tmp/bench-host.$$ /tmp/bench-inner.$$

# 2. disk used by one inner image (Debian bookworm, 117 MB) with overlay2, and with vfs in a second
# system container whose inner dockerd is forced onto vfs
$docker save sysbox/bookworm | $docker exec -i "$c" docker load >/dev/null
ovl=$($docker exec "$c" du -sxm /var/lib/docker/overlay2 | cut -f1)
$docker run -d --runtime=sysbox-runc --name "$v" -e DOCKERD_ARGS="--storage-driver vfs" sysbox/docker sleep infinity >/dev/null
wait_inner "$v"
$docker save sysbox/bookworm | $docker exec -i "$v" docker load >/dev/null
$docker exec "$v" sh -c 'docker create --name benchctr sysbox/bookworm true >/dev/null'
$docker exec "$c" sh -c 'docker create --name benchctr sysbox/bookworm true >/dev/null'
ovl2=$($docker exec "$c" du -sxm /var/lib/docker/overlay2 | cut -f1)
vfs=$($docker exec "$v" du -sxm /var/lib/docker/vfs | cut -f1)

printf 'Docker inside a system container (%d interleaved rounds, medians)\n' "$rounds"
printf '  docker run --rm busybox true   host %6.1f ms   inner %6.1f ms   ratio %.2fx (target <= 1.50x)\n' "$h" "$i" "$(echo "$i / $h" | bc -l)"
printf '  bookworm image + 1 container   overlay2 %d MB (image only: %d MB)   vfs %d MB   (%.1fx less with overlay2)\n' "$ovl2" "$ovl" "$vfs" "$(echo "$vfs / $ovl2" | bc -l)"
printf '  docker run sysbox/docker -> inner docker info answers: %d ms\n' "$startup"
