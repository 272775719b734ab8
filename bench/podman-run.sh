#!/usr/bin/env bash
# `podman run --rm` and `podman exec` of a busybox image with runc and with sysbox-runc, interleaved,
# ROUNDS rounds (default 15), on a private rootful Podman (its own storage, run root, tmp dir, file
# locks and config: nothing of the host's Podman is touched); prints each median and the ratio
# sysbox-runc / runc. Containers run with --network none (Podman's own bridge would need a user
# namespace for sysbox-runc, docs/usage.md); images come from the bench's dockerd.
source "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-15}
bench_start sysbox-bench-podman
state=/run/$name-podman
graph=/var/lib/$name-podman
# Podman keeps a blob-info cache in /var/lib/containers/cache whatever its graph root: removed
# again unless the host had that dir before.
[ -e /var/lib/containers ] && had_containers_dir=1 || had_containers_dir=0
podman_stop() {
  podman rm --all --force --time 0 >/dev/null 2>&1
  [ "$had_containers_dir" = 1 ] || rm -rf /var/lib/containers
  awk -v a="$graph" -v b="$state" 'index($5, a) == 1 || index($5, b) == 1 {print $5}' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
  rm -rf "$graph" "$state"
  bench_stop
  bench_remove_dirs "$name"
}
trap podman_stop EXIT
mkdir -p "$state/bin"
# The runtime Podman calls: sysbox-runc against the bench's sysbox-mgr and sysbox-fs.
printf '#!/bin/sh\nexec %s --sysbox-mgr-socket %s --sysbox-fs-socket %s "$@"\n' "$PWD/out/bin/sysbox-runc" "$BENCH_MGR_SOCKET" "$BENCH_FS_SOCKET" > "$state/bin/sysbox-runc"
chmod 755 "$state/bin/sysbox-runc"
test/lib/podman-conf.sh "$state" "$graph" "$state/bin/sysbox-runc"
export CONTAINERS_CONF=$state/containers.conf CONTAINERS_STORAGE_CONF=$state/storage.conf
/usr/bin/docker save sysbox/busybox:latest | podman load >/dev/null
run_rm() { podman run --rm --runtime "$1" --network none sysbox/busybox true; }
for _ in 1 2 3; do run_rm runc; run_rm sysbox-runc; done
podman run -d --runtime runc --network none --name bench-runc sysbox/busybox sleep 3600 >/dev/null
podman run -d --runtime sysbox-runc --network none --name bench-sysbox sysbox/busybox sleep 3600 >/dev/null
tmp=$(mktemp -d)
for _ in $(seq 1 "$rounds"); do
  t=$(now_ms); run_rm runc; echo $(( $(now_ms) - t )) >> "$tmp/run-runc"
  t=$(now_ms); run_rm sysbox-runc; echo $(( $(now_ms) - t )) >> "$tmp/run-sysbox"
  t=$(now_ms); podman exec bench-runc true; echo $(( $(now_ms) - t )) >> "$tmp/exec-runc"
  t=$(now_ms); podman exec bench-sysbox true; echo $(( $(now_ms) - t )) >> "$tmp/exec-sysbox"
done
printf 'podman %s, --network none, %d interleaved rounds (median ms); load average %s\n' \
  "$(podman --version | cut -d' ' -f3)" "$rounds" "$(cut -d' ' -f1-3 /proc/loadavg)"
for op in run exec; do
  r=$(median < "$tmp/$op-runc"); s=$(median < "$tmp/$op-sysbox")
  printf '  %-22s runc %6.1f   sysbox-runc %6.1f   ratio %5.2fx\n' "podman $op$([ $op = run ] && echo ' --rm')" "$r" "$s" "$(echo "$s / $r" | bc -l)"
done
rm -rf "$tmp"
