#!/usr/bin/env bash
# Where a `docker run --rm` through sysbox-runc goes, call by call: the runtime is a wrapper logging
# every call's command, start and end (ns) to $tmp/calls, and, for create, appending the call's
# --log (with TRACE_ARGS=--debug: the spare's step lines, runc's own debug lines) to $tmp/debug.
# N (default 6) runs of sysbox-runc and runc alternated, medians not computed: the files are the
# output (TRACE_DIR, default a new temp dir, printed). The step table of bench/README.md
# ("Where a create through a spare goes") was read off these files.
source "$(dirname "$0")/lib.sh"
tmp=${TRACE_DIR:-$(mktemp -d)}; mkdir -p "$tmp"; : > "$tmp/calls"; : > "$tmp/runs"; : > "$tmp/debug"
echo "trace files in $tmp"
root=$(cd "$(dirname "$0")/.." && pwd)
cat > "$tmp/wrapper" <<WRAP
#!/bin/sh
t=\$(date +%s%N)
c=
for a in "\$@"; do case "\$a" in create|start|delete|kill|state) c=\$a; break;; esac; done
$root/out/bin/sysbox-runc "\$@"
s=\$?
l=; p=; for a in "\$@"; do [ "\$p" = --log ] && l=\$a; p=\$a; done
[ -n "\$l" ] && [ "\$c" = create ] && cat "\$l" >> $tmp/debug
echo "\$c \$t \$(date +%s%N) \$s" >> $tmp/calls
exit \$s
WRAP
chmod 755 $tmp/wrapper
BENCH_RUNTIME=$tmp/wrapper BENCH_RUNTIME_ARGS=${TRACE_ARGS:-} bench_start sysbox-bench-trace
docker=/usr/bin/docker
net=(); [ "${NETWORK:-bridge}" = none ] && net=(--network none)
for _ in 1 2; do for rt in runc sysbox-runc; do $docker run --rm "${net[@]}" --runtime=$rt sysbox/busybox true; done; done
: > $tmp/calls
for i in $(seq 1 ${N:-6}); do
  echo "run $i $(date +%s%N)" >> $tmp/calls
  t=$(now_ms); $docker run --rm "${net[@]}" --runtime=sysbox-runc sysbox/busybox true; echo "sysbox $(( $(now_ms) - t ))" >> $tmp/runs
  t=$(now_ms); $docker run --rm "${net[@]}" --runtime=runc sysbox/busybox true; echo "runc $(( $(now_ms) - t ))" >> $tmp/runs
  sleep 0.6
done
cat /proc/loadavg; cp "$mgr_dir/log" $tmp/mgr.log; cp "/var/lib/$name-fs.log" $tmp/fs.log
