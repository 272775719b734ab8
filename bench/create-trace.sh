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
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
cp "$mgr_dir/log" "$tmp/mgr.log"; cp "/var/lib/$name-fs.log" "$tmp/fs.log"
# One line per create (ms between the spare's --debug step lines, matched by time to the create
# call), then the other calls' durations and the runs.
python3 - "$tmp" <<'PY'
import re, sys, datetime
tmp = sys.argv[1]
calls = [l.split() for l in open(f'{tmp}/calls') if not l.startswith('run')]
ev = re.findall(r'"msg":"\[\+[0-9.]+ms\] ([^"]*?)","time":"([^"]+)"', open(f'{tmp}/debug').read())
ev += [(m, t) for t, m in re.findall(r'time="([^"]+)" level=debug msg="\[\+[0-9.]+ms\] ([^"]*)"', open(f'{tmp}/debug').read())]
def ms(t): return datetime.datetime.strptime(t, '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc).timestamp() * 1000
others = {}
for c in calls:
    if c[0] != 'create':
        others.setdefault(c[0], []).append((int(c[2]) - int(c[1])) / 1e6)
        continue
    s, e = int(c[1]) / 1e6, int(c[2]) / 1e6
    evs = [(m, ms(t)) for m, t in ev if s - 5 <= ms(t) <= e + 5]
    def at(p): return next((t for m, t in evs if re.match(p, m)), None)
    p = [s, at('pre-started create claimed'), at('registering'), at('pre-registered'), at('registered'), at('transformed'),
         at(r'runc create \S+$'), at(r'runc create \S+: status'), at('created'), at('sysbox-fs serves'), e]
    # Created and sysbox-fs's Register run side by side: the later of the two ends the step.
    if p[9] is not None and at('sysbox-mgr watches') is not None: p[9] = max(p[9], at('sysbox-mgr watches'))
    if None in p:
        print(f'create {e - s:.0f} ms (no spare, or no --debug: no steps)')
        continue
    print('launcher->req %4.0f  ->registering %3.0f  preReg %3.0f  Register %3.0f  transforms %3.0f  runc %4.0f  ->created %3.0f  Created+fsRegister %3.0f  ->exit %3.0f  total %4.0f' % (
        p[1] - s, p[2] - p[1], p[3] - p[2], p[4] - p[2], p[5] - p[4], p[7] - p[6], p[8] - p[7], p[9] - p[8], e - p[9], e - s))
for k, v in others.items(): print(k, ' '.join('%.0f' % x for x in v))
print('runs (ms):', ' '.join(l.strip() for l in open(f'{tmp}/runs')))
PY
