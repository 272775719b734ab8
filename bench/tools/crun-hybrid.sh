#!/bin/sh
# Bench-only crun for the development machine. crun 1.8.1 refuses every container on a hybrid
# cgroup host whose v2 hierarchy has a controller (hugetlb there): "cgroups in hybrid mode not
# supported"; in a private mount namespace an empty cgroup.controllers hides it. Also drops the
# --sysbox-* flags bench/lib.sh gives the runtime, so that it can stand in for sysbox-runc too:
#   BENCH_RUNTIME_ARGS=--executor=$PWD/bench/tools/crun-hybrid.sh   sysbox-runc driving crun
#   BENCH_RUNTIME=$PWD/bench/tools/crun-hybrid.sh                   plain crun in sysbox-runc's column
for a; do shift; case "$a" in --sysbox-*) ;; *) set -- "$@" "$a" ;; esac; done
exec unshare -m sh -c 'mount --bind /dev/null /sys/fs/cgroup/unified/cgroup.controllers && exec /usr/bin/crun "$@"' crun "$@"
