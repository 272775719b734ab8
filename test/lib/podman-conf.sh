#!/usr/bin/env bash
# Writes the configuration of a private rootful Podman (the tests' and bench/podman-run.sh's), so that
# nothing of the host's Podman state is touched: STATE/containers.conf and STATE/storage.conf, used
# through CONTAINERS_CONF and CONTAINERS_STORAGE_CONF.
#   test/lib/podman-conf.sh STATE GRAPH RUNTIME [NETWORK AUTO_USER]
# STATE holds the run root, tmp dir (file locks, exit files) and events file; GRAPH the storage.
# RUNTIME is registered as "sysbox-runc". NETWORK, if given, is the default network, a CNI config in
# STATE/net; AUTO_USER the /etc/subuid owner --userns=auto draws from.
# static_dir and volume_path stay the defaults under the graph root: conmon's cleanup process gets
# the graph root but not this file, and a static dir elsewhere makes each `run --rm` wait 20 s.
set -euo pipefail
state=${1:?state dir}; graph=${2:?graph dir}; runtime=${3:?runtime}; network=${4:-}; auto_user=${5:-}
mkdir -p "$state/tmp" "$state/net"
# For root, Podman asks for nofile and nproc of 1048576 unless told otherwise; raising a hard limit
# needs CAP_SYS_RESOURCE, which root lacks on some machines (these): runc's setrlimit would fail
# with EPERM under any runtime. The current hard limits instead; Podman caps nproc at 32768 for
# the processes it starts.
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
{
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n\n' "$nofile" "$nofile" "$nproc" "$nproc"
  if [ -n "$network" ]; then
    printf '[network]\nnetwork_backend = "cni"\nnetwork_config_dir = "%s/net"\ndefault_network = "%s"\n\n' "$state" "$network"
  fi
  printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "%s/events.log"\n' "$state"
  printf 'lock_type = "file"\ntmp_dir = "%s/tmp"\nruntime_supports_json = ["crun", "runc", "sysbox-runc"]\n\n' "$state"
  printf '[engine.runtimes]\nsysbox-runc = ["%s"]\n' "$runtime"
} > "$state/containers.conf"
{
  printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/storage"\nrunroot = "%s/runroot"\n' "$graph" "$state"
  if [ -n "$auto_user" ]; then printf '\n[storage.options]\nroot-auto-userns-user = "%s"\n' "$auto_user"; fi
} > "$state/storage.conf"
