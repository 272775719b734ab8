#!/usr/bin/env bash
# `docker run --rm` of a busybox image with runc and with sysbox-runc, interleaved, ROUNDS rounds
# (default 25), against a private dockerd; prints each median and the ratio sysbox-runc / runc.
# Target (issue 2): <= 1.3x. Containers get Docker's default bridge networking (veth + prestart
# hook, as on a stock install); NETWORK=none runs them with --network none.
source "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-25}
bench_start sysbox-bench
docker=/usr/bin/docker
net=()
[ "${NETWORK:-bridge}" = none ] && net=(--network none)
for _ in 1 2 3; do $docker run "${net[@]}" --rm sysbox/busybox true; $docker run "${net[@]}" --rm --runtime=sysbox-runc sysbox/busybox true; done
: > /tmp/bench-runc.$$; : > /tmp/bench-sysbox.$$
for _ in $(seq 1 "$rounds"); do
  t=$(now_ms); $docker run "${net[@]}" --rm sysbox/busybox true; echo $(( $(now_ms) - t )) >> /tmp/bench-runc.$$
  t=$(now_ms); $docker run "${net[@]}" --rm --runtime=sysbox-runc sysbox/busybox true; echo $(( $(now_ms) - t )) >> /tmp/bench-sysbox.$$
done
r=$(median < /tmp/bench-runc.$$); s=$(median < /tmp/bench-sysbox.$$)
rm -f /tmp/bench-runc.$$ /tmp/bench-sysbox.$$
printf 'docker run --rm busybox true, network %s, %d interleaved rounds (median ms)\n' "${NETWORK:-bridge}" "$rounds"
printf '  runc         %6.1f\n  sysbox-runc  %6.1f\n  ratio        %6.2fx  (target <= 1.30x)\n' "$r" "$s" "$(echo "$s / $r" | bc -l)"
