#!/usr/bin/env bash
# `ctr run --rm` of a busybox image through containerd's runc shim, with runc and with sysbox-runc
# as its runc binary, interleaved, ROUNDS rounds (default 25), against a private containerd (own
# config, root, state and socket) beside the bench's private dockerd, sysbox-mgr and sysbox-fs;
# prints each median and the ratio sysbox-runc / runc. No network namespace setup by ctr (the
# container gets an empty one), so this is the runtime's own cost plus containerd's.
source "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-25}
bench_start sysbox-bench-ctd
bench_containerd_start
/usr/bin/docker save sysbox/busybox:latest | "${ctr[@]}" images import - >/dev/null
image=docker.io/sysbox/busybox:latest
runc_flags=(--runc-root "$ctd/runc")
sysbox_flags=(--runc-binary "$ctd/sysbox-runc" --runc-root "$ctd/runc")
i=0
one() { i=$((i + 1)); "${ctr[@]}" run --rm "$@" "$image" "c$i" true; }
for _ in 1 2 3; do one "${runc_flags[@]}"; one "${sysbox_flags[@]}"; done
: > "$ctd/runc.ms"; : > "$ctd/sysbox.ms"
for _ in $(seq 1 "$rounds"); do
  t=$(now_ms); one "${runc_flags[@]}"; echo $(( $(now_ms) - t )) >> "$ctd/runc.ms"
  t=$(now_ms); one "${sysbox_flags[@]}"; echo $(( $(now_ms) - t )) >> "$ctd/sysbox.ms"
done
r=$(median < "$ctd/runc.ms"); s=$(median < "$ctd/sysbox.ms")
printf 'ctr run --rm busybox true, %d interleaved rounds (median ms), load %s\n' "$rounds" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  runc         %6.1f\n  sysbox-runc  %6.1f\n  ratio        %6.2fx\n' "$r" "$s" "$(echo "$s / $r" | bc -l)"
