#!/bin/sh
# crun for the tests, copied next to a file named `calls` (by a name crun-*: sysbox-runc then knows
# crun's state layout): each call's arguments appended there, then crun. Debian 12's crun 1.8.1
# refuses every container on a cgroup v1 host whose v2 hierarchy holds a controller ("cgroups in
# hybrid mode not supported"); there the hierarchy's cgroup.controllers is hidden from it in a
# private mount namespace, as bench/tools/crun-hybrid.c does for the benches.
echo "$*" >> "${0%/*}/calls"
ctl=
{ read -r ctl < /sys/fs/cgroup/unified/cgroup.controllers; } 2>/dev/null
[ -n "$ctl" ] || exec /usr/bin/crun "$@"
exec unshare -m sh -c 'mount --bind /dev/null /sys/fs/cgroup/unified/cgroup.controllers && exec /usr/bin/crun "$@"' crun "$@"
