#!/usr/bin/env bash
# Where `docker run --rm busybox true` (or, with OP=stop, `docker stop` of a running container)
# spends its time, runtime call by runtime call, for the reference runtime and for sysbox-runc
# alike: both are put behind the same logging wrapper (the reference as a second runtime,
# "ref-traced", added to the bench dockerd's daemon.json and loaded with SIGHUP), N runs of each
# alternated (default 10), NETWORK=none for --network none. The reference is runc; with
# EXECUTOR=PATH it is that runtime, and sysbox-runc drives it (the bench's sysbox-mgr started with
# --executor=PATH, as an installed one would be). Prints, per
# runtime, the median of each call (create, start, kill, delete, ...) and of each gap between calls
# (Docker's own work), from the client's start to its exit. The wrapper adds ~2 ms to every call,
# to both runtimes.
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
ref=${EXECUTOR:-/usr/sbin/runc}
for rt in sysbox ref; do
  real=$ref
  [ "$rt" = sysbox ] && real="$(cd "$(dirname "$0")/.." && pwd)/out/bin/sysbox-runc"
  cat > "$tmp/wrap-$rt" <<WRAP
#!/bin/sh
t=\$(date +%s%N)
c=
for a in "\$@"; do case "\$a" in create|start|delete|kill|state) c=\$a; break;; esac; done
$real "\$@"
s=\$?
echo "\$c \$t \$(date +%s%N)" >> $tmp/calls
exit \$s
WRAP
  chmod 755 "$tmp/wrap-$rt"
done
BENCH_MGR_ARGS="${BENCH_MGR_ARGS:-}${EXECUTOR:+ --executor=$EXECUTOR}" BENCH_RUNTIME=$tmp/wrap-sysbox bench_start sysbox-bench-timeline
cleanup() { rm -rf "$tmp"; bench_stop; }
trap cleanup EXIT
d=/run/$name.d
jq --arg p "$tmp/wrap-ref" '.runtimes["ref-traced"]={path:$p}' "$d/daemon.json" > "$d/daemon.json.new" && mv "$d/daemon.json.new" "$d/daemon.json"
kill -HUP "$(cat "/run/$name.pid")"
for _ in $(seq 1 50); do /usr/bin/docker info 2>/dev/null | grep -q ref-traced && break; sleep 0.1; done
docker=/usr/bin/docker
net=(); [ "${NETWORK:-bridge}" = none ] && net=(--network none)
op=${OP:-run}
# OP=stop: a container whose shell exits on SIGTERM, stopped once it waits on its child (as
# docker-ops.sh does); its start before and its removal after are not timed.
one_op() {
  if [ "$op" = run ]; then $docker run --rm "${net[@]}" --runtime="$1" sysbox/busybox true; return; fi
  local c pid t
  c=$($docker run -d "${net[@]}" --runtime="$1" sysbox/busybox sh -c 'trap "exit 0" TERM; sleep 1000 & wait')
  pid=$($docker inspect -f '{{.State.Pid}}' "$c")
  until [ -n "$(cat /proc/"$pid"/task/*/children 2>/dev/null)" ]; do sleep 0.02; done
  t=$(date +%s%N); $docker stop "$c" >/dev/null; echo "run-$1 $t $(date +%s%N)" >> "$tmp/calls"
  $docker rm "$c" >/dev/null
}
for _ in 1 2; do for rt in ref-traced sysbox-runc; do one_op $rt; done; done
: > "$tmp/calls"
for _ in $(seq 1 "${N:-10}"); do
  for rt in sysbox-runc ref-traced; do
    if [ "$op" = run ]; then t=$(date +%s%N); one_op $rt; echo "run-$rt $t $(date +%s%N)" >> "$tmp/calls"; else one_op $rt; fi
    sleep 0.5
  done
done
printf 'docker %s, reference %s, network %s, %d runs each (median ms), load: %s\n' "$op" "$ref" "${NETWORK:-bridge}" "${N:-10}" "$(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$tmp/calls" <<'PY'
import sys, statistics as st
runs, calls = {}, []
for l in open(sys.argv[1]):
    p = l.split()
    if not p[0].startswith('run-'):
        calls.append((p[0], int(p[1]) / 1e6, int(p[2]) / 1e6))
        continue
    # The calls logged since the previous run and begun after this one's start are this run's
    # (not those of an untimed `docker run -d` before a stop).
    s, e, prev, row = int(p[1]) / 1e6, int(p[2]) / 1e6, int(p[1]) / 1e6, []
    for c, cs, ce in (x for x in calls if x[1] >= s):
        row += [(f'->{c}', cs - prev), (c, ce - cs)]
        prev = ce
    row += [('->exit', e - prev), ('total', e - s)]
    runs.setdefault(p[0][4:], []).append(row)
    calls = []
for rt, rows in runs.items():
    shape = [k for k, _ in rows[0]]
    same = [r for r in rows if [k for k, _ in r] == shape]
    print(f'{rt:12} ' + '  '.join(f'{k} {st.median(r[i][1] for r in same):.1f}' for i, k in enumerate(shape)) + f'  ({len(same)} of {len(rows)} runs with these calls)')
PY
