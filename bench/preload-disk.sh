#!/usr/bin/env bash
# Disk used by a system container's inner data (MIB MiB written in its /var/lib/docker) around the
# preload archive: the special dir on the host, the archive in the container's upper dir, the
# committed image's layer; peak "used" of the file system during commit and stop.
source "$(dirname "$0")/lib.sh"
mib=${MIB:-192}
bench_start sbxpreload-disk
d=/usr/bin/docker
c=disk-$$; img=sysbox-bench/disk-$$
trap '$d rm -f $c $c-2 >/dev/null 2>&1; $d rmi -f $img >/dev/null 2>&1; bench_stop' EXIT
used_mb() { df -m --output=used /var/lib | tail -1 | tr -d ' '; }
peak_while() { local pk=0 u; while kill -0 "$1" 2>/dev/null; do u=$(used_mb); if [ "${u:-0}" -gt "$pk" ]; then pk=$u; fi; sleep 0.05; done; echo "$pk"; }
sizes() {
  local id upper hd
  id=$($d inspect -f '{{.Id}}' $1); upper=$($d inspect -f '{{.GraphDriver.Data.UpperDir}}' $1)
  hd=/var/lib/$name-mgr/docker/$id
  printf '  %-34s special dir %5s MiB   archive in upper dir %5s MiB   fs used %s MiB (+%s)\n' "$2" \
    "$( [ -d "$hd" ] && du -sm "$hd" | cut -f1 || echo 0)" "$(du -sm "$upper/var/lib/sysbox-preload" 2>/dev/null | cut -f1 || echo 0)" "$(used_mb)" $(( $(used_mb) - base ))
}
$d run -d --runtime=sysbox-runc --name $c sysbox/busybox sleep infinity >/dev/null
sync; base=$(used_mb)
$d exec $c dd if=/dev/urandom of=/var/lib/docker/blob bs=1M count=$mib 2>/dev/null; sync
echo "inner data: $mib MiB of random data; fs used before writing it: $base MiB"
sizes $c 'running, before commit'
b=$(used_mb); $d commit $c $img >/dev/null & pk=$(peak_while $!); wait
echo "  docker commit: peak fs used +$(( pk - b )) MiB over before it; image size $(( $($d image inspect -f '{{.Size}}' $img) / 1048576 )) MiB"
sync; sizes $c 'running, after commit'
b=$(used_mb); $d stop -t 1 $c >/dev/null & pk=$(peak_while $!); wait
echo "  docker stop: peak fs used +$(( pk - b )) MiB over before it"
sync; sizes $c 'stopped'
$d start $c >/dev/null; sync; sizes $c 'started again'
$d run -d --runtime=sysbox-runc --name $c-2 $img sleep infinity >/dev/null; sync; sizes $c-2 'new container from the image'
