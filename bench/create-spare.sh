#!/usr/bin/env bash
# The pre-started create (sysbox-mgr --create-spares) on and off, in one sitting: ROUNDS rounds
# (default 6), each restarting the bench's sysbox-mgr with spares on or off (alternately; which
# comes first alternates too), waiting until its spares are ready, then RUNS (default 3) pairs of
# `docker run --rm busybox true`, runc and sysbox-runc alternated. The runtime is a wrapper timing
# every `create` call (the launcher's whole create: claim, exchange and runc, or Node). Prints the
# create median on/off and the run --rm medians and ratios over runc for each side.
source "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-6}
runs=${RUNS:-3}
tmp=$(mktemp -d)
cat > "$tmp/wrapper" <<WRAP
#!/bin/sh
for a in "\$@"; do [ "\$a" = create ] && break; done
[ "\$a" = create ] || exec $PWD/out/bin/sysbox-runc "\$@"
t=\$(date +%s%N)
$PWD/out/bin/sysbox-runc "\$@"
s=\$?
echo \$(( (\$(date +%s%N) - t) / 1000000 )) >> "$tmp/create-\$(cat $tmp/side)"
exit \$s
WRAP
chmod 755 "$tmp/wrapper"
echo off > "$tmp/side"
BENCH_RUNTIME=$tmp/wrapper bench_start sysbox-bench-spare
cleanup() { rm -rf "$tmp"; bench_stop; }
trap cleanup EXIT
docker=/usr/bin/docker
spares_dir() { ls -d "$BENCH_MGR_SOCKET".create-spares/*/ 2>/dev/null | head -1; }
waiting() { local d; d=$(spares_dir); [ -n "$d" ] || { echo 0; return; }; ls "$d" | grep -c '\.in$' || true; }
for _ in 1 2; do for rt in runc sysbox-runc; do $docker run --rm --runtime="$rt" sysbox/busybox true; done; done
for i in $(seq 1 "$rounds"); do
  if [ $(( (i + (i - 1) / 2) % 2 )) = 1 ]; then side=on; else side=off; fi
  if [ "$side" = on ]; then bench_mgr_restart; else bench_mgr_restart --create-spares 0; fi
  echo "$side" > "$tmp/side"
  if [ "$side" = on ]; then until [ "$(waiting)" -ge 2 ]; do sleep 0.1; done; fi
  for j in $(seq 1 "$runs"); do
    for rt in runc sysbox-runc; do
      t=$(now_ms); $docker run --rm --runtime="$rt" sysbox/busybox true; echo $(( $(now_ms) - t )) >> "$tmp/run-$rt-$side"
      # Spares are replaced 400 ms after use: a steady stream of `docker run`, not a burst (both sides).
      [ "$rt" = sysbox-runc ] && sleep 0.5
    done
  done
done
printf '%d rounds x %d runs per side (median ms), load: %s\n' "$rounds" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
c_on=$(median < "$tmp/create-on"); c_off=$(median < "$tmp/create-off")
printf 'sysbox-runc create  spares off %6.1f  on %6.1f  (on - off %+.1f ms)\n' "$c_off" "$c_on" "$(echo "$c_on - $c_off" | bc -l)"
for side in off on; do
  r=$(median < "$tmp/run-runc-$side"); s=$(median < "$tmp/run-sysbox-runc-$side")
  printf 'docker run --rm, spares %-3s  runc %6.1f  sysbox-runc %6.1f  ratio %5.2fx  (target <= 1.15x)\n' "$side" "$r" "$s" "$(echo "$s / $r" | bc -l)"
done
