#!/usr/bin/env bash
# How often a foreground exec of `echo hi` returns exit 0 with no output, runc vs sysbox-runc, under
# `ctr task exec` (containerd 1.6's runc shim, the runtime given as --runc-binary) and under `docker
# exec`. LOOPS loops (default 3) run at once, so that the machine is loaded as the race needs, each
# ROUNDS rounds (default 100) of the four execs interleaved; prints the count of empty outputs per
# side. ctr 1.6 loses all the output of about one short exec in 100 to 200 on a loaded host with
# either runtime (docs/troubleshooting.md says why); Docker's exec none.
source "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-100}
loops=${LOOPS:-3}
bench_start sysbox-bench-exo
bench_containerd_start
/usr/bin/docker save sysbox/busybox:latest | "${ctr[@]}" images import - >/dev/null
image=docker.io/sysbox/busybox:latest
"${ctr[@]}" run -d --runc-root "$ctd/runc" "$image" exo-runc sleep 3600
"${ctr[@]}" run -d --runc-binary "$ctd/sysbox-runc" --runc-root "$ctd/runc" "$image" exo-sysbox sleep 3600
/usr/bin/docker run -d --name exo-runc sysbox/busybox:latest sleep 3600 >/dev/null
/usr/bin/docker run -d --name exo-sysbox --runtime sysbox-runc sysbox/busybox:latest sleep 3600 >/dev/null
stop_all() { /usr/bin/docker rm -f exo-runc exo-sysbox >/dev/null 2>&1; bench_containerd_stop; bench_remove_dirs sysbox-bench-exo; }
trap stop_all EXIT

# One loop: appends a line "SIDE empty" for each exec whose output was not "hi" (and "SIDE failed"
# for a non-zero exit) to $ctd/loop$1.
one_loop() {
  local l=$1 i side out
  for i in $(seq 1 "$rounds"); do
    for side in ctr-runc ctr-sysbox docker-runc docker-sysbox; do
      if [ "${side%%-*}" = ctr ]; then
        out=$("${ctr[@]}" task exec --exec-id "l$l-$i" "exo-${side#*-}" echo hi 2>/dev/null) || { echo "$side failed" >> "$ctd/loop$l"; continue; }
      else
        out=$(/usr/bin/docker exec "exo-${side#*-}" echo hi 2>/dev/null) || { echo "$side failed" >> "$ctd/loop$l"; continue; }
      fi
      [ "$out" = hi ] || echo "$side empty" >> "$ctd/loop$l"
    done
  done
}
pids=()
for l in $(seq 1 "$loops"); do : > "$ctd/loop$l"; one_loop "$l" & pids+=($!); done
wait "${pids[@]}"
printf 'exec of `echo hi`: %d loops at once x %d rounds = %d execs per side, load %s\n' "$loops" "$rounds" $((loops * rounds)) "$(cut -d' ' -f1-3 /proc/loadavg)"
for side in ctr-runc ctr-sysbox docker-runc docker-sysbox; do
  printf '  %-14s empty %3d   failed %3d\n' "$side" "$(cat "$ctd"/loop* | grep -c "^$side empty$" || true)" "$(cat "$ctd"/loop* | grep -c "^$side failed$" || true)"
done
