#!/bin/sh
# sysbox-runc launcher. Docker calls the runtime 4+ times per `docker run`; only `create` (and
# run, exec, pause, resume, and delete of a container sysbox-mgr still holds) need the TypeScript
# runtime. Everything else is runc's job unchanged, so it is exec'd directly: a Node start costs
# ~30 ms, this script ~1 ms (bench/README.md). Four of the executor's own steps need no start of it
# either and are done here: `start` of a created container (runc only), `kill` of a running one and
# `delete` of a stopped one (both from facts create left), and `delete --force` of one the executor
# has forgotten (runc and crun: their state layouts are known here).
# Global flags are runc's plus --sysbox-mgr-socket, --sysbox-fs-socket and the original Sysbox's
# --no-kernel-check (no effect: docs/usage.md), --no-sysbox-fs and --no-sysbox-mgr (refused by
# create and run), and --executor PATH (the low-level runtime in runc's place, e.g. /usr/bin/crun),
# which runc 1.1 would refuse and so must not see. A command's -h/--help goes to the Node runtime,
# which names it as ours.
# The executor: --executor, else the one that created the container the command names (recorded
# beside its state, below), else SYSBOX_RUNC_PATH (tests' stand-ins), else the one sysbox-mgr was
# started with (its --executor, published beside its socket), else runc; the Node runtime decides
# the same way (src/executor.ts).
runc=
executor_flag=
mount_root=/run/sysbox-containers

node_runtime() {
  # Next to the launcher's real path (/usr/bin/sysbox-runc is a link into /usr/lib/sysbox). Shell
  # tests first: readlink would be a fork and exec on every create (~2-3 ms, more under load).
  js="${0%/*}/sysbox-runc.js"
  case "$0" in */*) ;; *) js= ;; esac
  if [ -z "$js" ] || [ -L "$0" ]; then
    if [ "$0" -ef /usr/lib/sysbox/sysbox-runc ]; then js=/usr/lib/sysbox/sysbox-runc.js
    else self=$(readlink -f "$0"); js="${self%/*}/sysbox-runc.js"
    fi
  fi
  unset NODE_EXTRA_CA_CERTS NODE_OPTIONS
  exec /usr/bin/node "$js" "$@"
}

# Find the command: skip global flags (and the value of those that take one).
cmd=
skip=
mgr_socket=${SYSBOX_MGR_SOCKET:-/run/sysbox/sysmgr.sock}
log_file=
log_format=text
runc_root=
for a in "$@"; do
  # The value of the flag before: kept where this script itself needs it.
  if [ -n "$skip" ]; then
    case $skip in
      executor) runc=$a; executor_flag=1 ;;
      mgr) mgr_socket=$a ;;
      log) log_file=$a ;;
      log-format) log_format=$a ;;
      root) runc_root=$a ;;
    esac
    skip=
    continue
  fi
  case "$a" in
    --executor|-executor) skip=executor ;;
    --executor=*|-executor=*) runc=${a#*=}; executor_flag=1 ;;
    --sysbox-mgr-socket|-sysbox-mgr-socket) skip=mgr ;;
    --sysbox-mgr-socket=*|-sysbox-mgr-socket=*) mgr_socket=${a#*=} ;;
    --log|-log) skip=log ;;
    --log=*|-log=*) log_file=${a#*=} ;;
    --log-format|-log-format) skip=log-format ;;
    --log-format=*|-log-format=*) log_format=${a#*=} ;;
    --root|-root) skip=root ;;
    --root=*|-root=*) runc_root=${a#*=} ;;
    --criu|-criu|--rootless|-rootless|--sysbox-fs-socket|-sysbox-fs-socket) skip=other ;;
    --*=*|-debug|--debug|-systemd-cgroup|--systemd-cgroup|-no-kernel-check|--no-kernel-check|-no-sysbox-fs|--no-sysbox-fs|-no-sysbox-mgr|--no-sysbox-mgr) ;;
    -*) node_runtime "$@" ;;
    *) cmd=$a; break ;;
  esac
done
[ -n "$runc" ] || runc=${SYSBOX_RUNC_PATH:-}
if [ -z "$runc" ]; then
  { read -r runc < "$mgr_socket.executor"; } 2>/dev/null
  case $runc in /*) ;; *) runc=/usr/sbin/runc ;; esac
fi
# A relative --executor: Node refuses it runc-style.
case "$runc" in /*) ;; *) node_runtime "$@" ;; esac
# Which runtime it is, told by its name (src/executor-layout.ts): where it keeps a container's state
# (state_file in $runc_root/<id>/), as the fast paths below read it. Any other name: no fast paths.
executor_kind() {
  case ${runc##*/} in
    runc) executor_kind=runc; state_file=state.json; : "${runc_root:=/run/runc}" ;;
    crun|crun-*) executor_kind=crun; state_file=status; : "${runc_root:=/run/crun}" ;;
    *) executor_kind=; state_file= ;;
  esac
}
executor_kind
# Whether the executor is one whose state layout the launcher knows (runc or crun) and $1 an id it
# accepts (letters, digits, _ + . -; not . or ..): then $runc_root/$1 is where the executor keeps
# that container's state, as the launcher's start, kill and delete rely on.
state_id() {
  [ -n "$executor_kind" ] || return 1
  case $1 in ''|.|..|*[!A-Za-z0-9_+.-]*) return 1 ;; esac
}

# The container the command names, by a plain rule: kill's first positional (the signal follows),
# every other command's last argument (runc takes the flags first). A guess that names no container
# (exec with a command, ps with ps options) finds no record, and the executor stays as decided.
target=
case $cmd in
  ''|create|run|list|features|spec|help|h) ;;
  kill)
    seen=0
    for a in "$@"; do
      if [ "$seen" = 1 ]; then case $a in -*) ;; *) target=$a; break ;; esac
      elif [ "$a" = kill ]; then seen=1
      fi
    done ;;
  *) for a in "$@"; do target=$a; done ;;
esac
# The executor that created it (lifecycle/executor-record.ts), if another: runc and crun do not
# know each other's containers, so one made before sysbox-mgr's --executor changed is still killed,
# deleted and exec'd into by its own. The Node runtime is told through SYSBOX_RUNC_PATH.
if [ -z "$executor_flag" ] && [ -n "$target" ] && state_id "$target" && [ -r "$runc_root/$target/sysbox-executor" ]; then
  made_by=
  { read -r made_by < "$runc_root/$target/sysbox-executor"; } 2>/dev/null
  case $made_by in
    "$runc") ;;
    /*) runc=$made_by; export SYSBOX_RUNC_PATH="$runc"; executor_kind ;;
  esac
fi

# A command's help is the Node runtime's (it names the command as ours).
for a in "$@"; do
  case "$a" in -h|--help|-help|-h=*|--help=*|-help=*) node_runtime "$@" ;; esac
done

# Straight to runc, without our own flags (and, for kill, with the signal swapped as the kill case
# below decides). `runc_with exec ARGS` execs runc, `run` runs it and returns its status, `state` asks runc
# for the state of the container a `delete` command line names. A function, so that rewriting the
# arguments leaves the script's own alone.
runc_with() {
  mode=$1; shift
  n=$#
  drop=0
  seen=0
  for_kill=0
  while [ "$n" -gt 0 ]; do
    a=$1; shift; n=$((n - 1))
    if [ "$drop" = 1 ]; then drop=0; continue; fi
    case "$a" in
      --sysbox-mgr-socket|-sysbox-mgr-socket|--sysbox-fs-socket|-sysbox-fs-socket|--executor|-executor) drop=1; continue ;;
      --sysbox-mgr-socket=*|-sysbox-mgr-socket=*|--sysbox-fs-socket=*|-sysbox-fs-socket=*|--executor=*|-executor=*) continue ;;
      --no-kernel-check|-no-kernel-check|--no-kernel-check=*|-no-kernel-check=*) continue ;;
      --no-sysbox-fs|-no-sysbox-fs|--no-sysbox-fs=*|-no-sysbox-fs=*|--no-sysbox-mgr|-no-sysbox-mgr|--no-sysbox-mgr=*|-no-sysbox-mgr=*) continue ;;
    esac
    if [ "$mode" = state ]; then
      # `delete` and its flags become `state`.
      if [ "$seen" = 0 ]; then [ "$a" = delete ] && { seen=1; a=state; }
      else case "$a" in -*) continue ;; esac
      fi
    elif [ -n "$term_as" ]; then
      # Positionals after `kill`: 1 is the id, 2 the signal.
      if [ "$seen" = 0 ]; then [ "$a" = kill ] && seen=1
      else
        case "$a" in -*) ;; *) for_kill=$((for_kill + 1)); [ "$for_kill" = 2 ] && a=$term_as ;; esac
      fi
    fi
    set -- "$@" "$a"
  done
  # `kill <id>` with no signal means SIGTERM.
  [ -n "$term_as" ] && [ "$for_kill" = 1 ] && set -- "$@" "$term_as"
  if [ "$mode" = exec ]; then exec "$runc" "$@"; fi
  "$runc" "$@"
}

# `exec --detach --process FILE ID` (Docker's only form) of a root process, without Node, when create
# left the capabilities root gets (lifecycle/exec-capabilities.ts) and the process spec names no
# SYSBOX_* knob: the spec's capabilities object is swapped for those (Go's JSON: one flat object of
# string arrays), and the launcher takes the container's OOM score and floor as exec.ts does (a
# privileged write of the floor, then the score written without privilege, so the floor stays).
# Anything else, or anything unexpected, goes to the Node runtime.
exec_fast() {
  seen=0; id=; proc=; detach=0; want=
  for a in "$@"; do
    if [ -n "$want" ]; then [ "$want" = process ] && proc=$a; want=; continue; fi
    if [ "$seen" = 0 ]; then [ "$a" = exec ] && seen=1; continue; fi
    case "$a" in
      --process|-process|-p) want=process ;;
      --process=*|-process=*) proc=${a#*=} ;;
      --detach|-detach|-d) detach=1 ;;
      --console-socket|-console-socket|--cwd|-cwd|--env|-env|-e|--user|-user|-u|--additional-gids|-additional-gids|-g|--pid-file|-pid-file|--process-label|-process-label|--apparmor|-apparmor|--cap|-cap|-c|--preserve-fds|-preserve-fds|--cgroup|-cgroup) want=value ;;
      --*=*|-*=*|--tty|-tty|-t|--no-new-privs|-no-new-privs|--ignore-paused|-ignore-paused) ;;
      -*) node_runtime "$@" ;;
      *) id=$a; break ;;
    esac
  done
  dir=$mount_root/$id
  if [ -z "$id" ] || [ ! -e "$dir" ]; then return 0; fi
  caps=$dir/exec-root-capabilities.sh
  [ "$detach" = 1 ] && [ -n "$proc" ] && [ -r "$proc" ] && [ -r "$caps" ] || node_runtime "$@"
  # Builtins only from here on (each fork and exec costs 1-2 ms, many more under load).
  json=; rootcaps=
  IFS= read -r json < "$proc" || [ -n "$json" ] || node_runtime "$@"
  # Create's assignment (lifecycle/exec-capabilities.ts), sourced: read in blocks, not a byte a call.
  . "$caps"
  [ -n "$rootcaps" ] || node_runtime "$@"
  case $json in *SYSBOX_*) node_runtime "$@" ;; esac
  case $json in *'"user":{"uid":0,'*|*'"user":{"uid":0}'*) ;; *) node_runtime "$@" ;; esac
  # Inside a JSON string the quotes are escaped, so this names the field itself; exactly once.
  case $json in *'"capabilities":{'*) ;; *) node_runtime "$@" ;; esac
  head=${json%%'"capabilities":{'*}
  rest=${json#*'"capabilities":{'}
  case $rest in *'"capabilities":{'*) node_runtime "$@" ;; *'}'*) ;; *) node_runtime "$@" ;; esac
  json=$head'"capabilities":'$rootcaps${rest#*'}'}
  if [ -r "$dir/oom-score-adj" ]; then
    read -r score < "$dir/oom-score-adj" || node_runtime "$@"
    case "$score" in ''|*[!0-9-]*) node_runtime "$@" ;; esac
    if { echo -999 > /proc/$$/oom_score_adj; } 2>/dev/null; then
      if [ "$score" != -999 ]; then
        setpriv --euid=65534 --inh-caps=-all sh -c 'echo "$1" >&3' sh "$score" 3>/proc/$$/oom_score_adj || node_runtime "$@"
      fi
    else
      # No CAP_SYS_RESOURCE here: the floor stays; a score below it is Node's to explain.
      { echo "$score" > /proc/$$/oom_score_adj; } 2>/dev/null || node_runtime "$@"
    fi
  fi
  # The rewritten spec reaches runc through a here-document (a pipe): no file to write and remove.
  # runc takes this process's place (no fork); the here-document's fd stays open across the exec.
  with_process /dev/fd/9 "$@" 9<<EOF
$json
EOF
}

# A runc-style error line on stderr and in --log (containerd and Podman read the log, in its
# format), for the few errors this script reports itself. msg: no quotes or backslashes.
launcher_error() {
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  printf 'time="%s" level=error msg="%s"\n' "$now" "$1" >&2
  [ -n "$log_file" ] || return 0
  if [ "$log_format" = json ]; then
    printf '{"level":"error","msg":"%s","time":"%s"}\n' "$1" "$now" >>"$log_file"
  else
    printf 'time="%s" level=error msg="%s"\n' "$now" "$1" >>"$log_file"
  fi
}

# `create` through a pre-started create (create-spare.ts documents the exchange, sysbox-mgr's
# create-spares.ts keeps them): claimed by an exclusive create (set -C), fed the command line, and
# asked for the runc arguments, which this process runs itself (the init must be reparented to the
# caller's subreaper). Builtins only. The directory is named after the build this launcher belongs
# to (stamped by scripts/bundle.mjs), so a spare of another build is never claimed. No spare free,
# or a spare that says so or dies before accepting: return, and Node starts as before.
create_spare() {
  spares=$mgr_socket.create-spares/@CREATE_SPARE_BUILD@
  [ -d "$spares" ] || return 0
  nl='
'
  case $PWD in *"$nl"*) return 0 ;; esac
  # fds 8 and 9 carry the exchange: runc must not be asked to pass them on.
  want=
  for a in "$@"; do
    case $a in *"$nl"*) return 0 ;; esac
    if [ -n "$want" ]; then want=; a=--preserve-fds=$a; fi
    case $a in
      --preserve-fds|-preserve-fds) want=1 ;;
      --preserve-fds=*|-preserve-fds=*) case ${a#*=} in 0|1|2|3|4) ;; *) return 0 ;; esac ;;
    esac
  done
  case ${LISTEN_FDS:-0} in 0) ;; *) return 0 ;; esac
  claimed=
  set -C
  for f in "$spares"/*.in; do
    [ -p "$f" ] || continue
    # `command`: a lost race (the file exists) must only fail the `if`, not end the shell as a failed
    # redirection of the special builtin `:` would (exit status 2).
    if { command : > "${f%.in}.claim"; } 2>/dev/null; then claimed=${f%.in}; break; fi
  done
  set +C
  [ -n "$claimed" ] || return 0
  # A spare found dead (killed while sysbox-mgr, which would retire its files, is down): Node. A
  # builtin, no fork; what it cannot see (a death in the next microseconds) the open below handles.
  kill -0 "${claimed##*/}" 2>/dev/null || return 0
  # The reply first: this open waits for a writer, which the spare is while it lives and sysbox-mgr
  # is for a moment when it reaps one, so a spare that died before this point still ends the wait.
  # `command`: a failed redirection of exec must not end the shell (the files may be gone).
  { command exec 9<"$claimed.out"; } 2>/dev/null || return 0
  # Read-write: never waits. The spare sees end of file here once this process is gone.
  [ -p "$claimed.in" ] && { command exec 8<>"$claimed.in"; } 2>/dev/null || { exec 9<&-; return 0; }
  printf '%s\n' "$$" "$PWD" "${SYSBOX_MGR_SOCKET-}" "${SYSBOX_FS_SOCKET-}" "${SYSBOX_RUNC_PATH-}" "$#" "$@" >&8
  accepted=0
  while IFS= read -r line <&9; do
    case $line in
      A) accepted=1 ;;
      E*) printf '%s\n' "${line#E}" >&2 ;;
      F) break ;;
      S*) exit "${line#S}" ;;
      R*)
        n=${line#R}
        set --
        while [ "$n" -gt 0 ] && IFS= read -r line <&9; do set -- "$@" "$line"; n=$((n - 1)); done
        [ "$n" = 0 ] || break
        "$@" 8>&- 9<&-
        printf '%s\n' "$?" >&8 ;;
    esac
  done
  exec 8>&- 9<&-
  [ "$accepted" = 1 ] || return 0
  launcher_error "sysbox-runc create: the pre-started create (${claimed##*/}) exited before finishing: the create failed"
  exit 1
}

# `start` of a created container, without runc: what runc's start does (runc 1.1, the executor's
# state layout), in builtins, saving a Go start (~5 ms idle, more under load) per `docker run` and
# `docker start`. runc's init waits in open(2) on the state dir's exec.fifo to write "0" and exec
# the process; start reads that, until end of file (the exec), and removes the fifo, which makes
# the container running. Only the plain case: a container create left (init-pid in its run dir),
# init still waiting on that very fifo (one of its fds is it), its cgroup thawed, no NOTIFY_SOCKET
# (runc relays systemd's notify socket). Anything else goes to runc, which knows its errors.
start_fast() {
  [ -z "${NOTIFY_SOCKET-}" ] || return 0
  seen=0; id=
  for a in "$@"; do
    if [ "$seen" = 0 ]; then [ "$a" = start ] && seen=1; continue; fi
    case "$a" in -*) return 0 ;; esac
    [ -z "$id" ] || return 0
    id=$a
  done
  [ "$executor_kind" = runc ] && state_id "$id" || return 0
  fifo=$runc_root/$id/exec.fifo
  [ -p "$fifo" ] && [ -f "$runc_root/$id/state.json" ] && [ -r "$mount_root/$id/init-pid" ] || return 0
  read -r pid < "$mount_root/$id/init-pid" || return 0
  case $pid in ''|*[!0-9]*) return 0 ;; esac
  init_state
  [ "$init" = waiting ] && init_thawed || return 0
  # Read-write first, so that neither open waits; then only the read end is kept: init's open
  # succeeds at once, and no end of file comes before its write unless it is gone. Never closed
  # while init may still write (its write would fail, EPIPE, and the container with it).
  { command exec 4<>"$fifo" 5<"$fifo" 4>&-; } 2>/dev/null || return 0
  while :; do
    got=
    IFS= read -r got <&5
    [ -n "$got" ] && break
    # End of file with nothing read: init has not opened its end yet, or never will.
    init_state
    case $init in
      waiting) sleep 0.001 ;;
      gone) launcher_error "container process is already dead"; exit 1 ;;
      *) launcher_error "cannot start an already running container"; exit 1 ;;
    esac
  done
  exec 5<&-
  [ "$got" = 0 ] || { launcher_error "cannot start an already running container"; exit 1; }
  exec /bin/rm -f -- "$fifo"
}

# `delete` of a stopped container without the executor (runc: a Go start, 7-10 ms of each `docker
# run --rm` and `docker rm`): what runc 1.1's and crun 1.8's delete do for one whose create left the
# facts file beside the executor's state (lifecycle/delete-facts.ts: own pid namespace, no poststop
# hooks, no Intel RDT, cgroups the executor made with the cgroupfs driver): rmdir of its cgroups,
# then its state dir removed. Only with the init gone (no such process, another one by that pid, or
# a zombie: "stopped") and its cgroup not frozen ("paused"). The cgroups the container made inside
# (systemd's, an inner Docker's) go first, deepest first, as the executors remove them. An rmdir
# that fails (tasks still leaving) leaves the rest to the executor, which retries; what this removed
# already, it finds gone. Returns 0 if the container is deleted.
delete_fast() {
  init_from_facts "$1" && [ "$rec" = gone ] || return 1
  state_dir=$runc_root/$1
  # The cgroup paths (line 4 on) still there (another delete may have removed some), and whether
  # any holds a cgroup made inside (a glob, no fork).
  n=0
  nested=0
  set --
  while IFS= read -r line; do
    n=$((n + 1))
    [ "$n" -gt 3 ] && [ -d "$line" ] || continue
    set -- "$@" "$line"
    for sub in "$line"/*/; do [ -d "$sub" ] && nested=1; break; done
  done < "$facts"
  [ "$n" -ge 4 ] || return 1
  if [ "$nested" = 1 ]; then
    # Every directory of the trees, children before parents, in one process (-delete is rmdir for
    # a directory; the control files are not directories). A name the container chose never
    # passes through the shell.
    /usr/bin/find "$@" -depth -type d -delete 2>/dev/null || return 1
  elif [ $# -gt 0 ]; then
    /bin/rmdir -- "$@" 2>/dev/null || return 1
  fi
  /bin/rm -rf -- "$state_dir"
}

# Container $1's init as create's facts file beside the executor's state records it ($facts; its
# first lines: pid, start time, freezer cgroup): sets pid, start, freezer and rec (recorded_init).
# False for another executor or an id it refuses, no facts, or a frozen cgroup.
init_from_facts() {
  state_id "$1" || return 1
  facts=$runc_root/$1/sysbox-delete
  [ -f "$runc_root/$1/$state_file" ] && [ -f "$facts" ] || return 1
  { read -r pid && read -r start && read -r freezer; } < "$facts" || return 1
  case $pid$start in ''|*[!0-9]*) return 1 ;; esac
  recorded_init
  cgroup_thawed "$freezer"
}

# rec=gone: the init create recorded ($pid, started at $start) is no more: no /proc/$pid, another
# process by that pid (its start time, field 22 of stat, differs), or a zombie (runc's "stopped");
# rec=running: it is alive; rec=unknown: a stat line not as expected.
recorded_init() {
  rec=gone
  { read -r stat < "/proc/$pid/stat"; } 2>/dev/null || return 0
  set -- ${stat##*') '}
  rec=unknown
  [ $# -ge 20 ] || return 0
  case $1 in Z|X) rec=gone; return 0 ;; esac
  shift 19
  if [ "$1" = "$start" ]; then rec=running; else rec=gone; fi
}

# Whether the cgroup at $1 is thawed (or gone): v1's freezer.state, v2's cgroup.freeze. runc calls a
# frozen container paused, whatever its init.
cgroup_thawed() {
  if [ -e "$1/freezer.state" ]; then
    read -r state < "$1/freezer.state" && [ "$state" = THAWED ]
  elif [ -e "$1/cgroup.freeze" ]; then
    read -r state < "$1/cgroup.freeze" && [ "$state" = 0 ]
  fi
}

# `kill` without --all of a container create left delete facts for (their first lines: the init's
# pid and start time, its freezer cgroup), without the executor (runc: a Go start of each `docker
# stop`): what runc 1.1's and crun 1.8's kill do, the signal to the init while it is still that
# process. Only a signal by number (Docker sends numbers) and a thawed cgroup (runc thaws a paused
# one for SIGKILL); an init that is gone ("container not running") and anything else is the
# executor's. Exits if it sent it.
kill_fast() {
  case $2 in ''|*[!0-9]*) return 0 ;; esac
  [ "$2" -ge 1 ] && [ "$2" -le 64 ] || return 0
  init_from_facts "$1" && [ "$rec" = running ] || return 0
  kill -s "$2" "$pid" 2>/dev/null || return 0
  exit 0
}

# init=waiting: $pid is runc's init holding $fifo open; running: it has exec'd, or is exec'ing;
# gone: dead, a zombie, or no longer that process. An init still named runc:[2:INIT] without the
# fifo is in its exec: the kernel closes its close-on-exec fds (the fifo's) before it renames the
# process, and a second start that read end of file in that window must say what runc says.
init_state() {
  init=gone
  { read -r stat < "/proc/$pid/stat"; } 2>/dev/null || return 0
  case $stat in *') '[ZX]' '*) return 0 ;; esac
  init=running
  case $stat in *' (runc:[2:INIT]) '*) ;; *) return 0 ;; esac
  for f in /proc/$pid/fd/*; do
    if [ "$f" -ef "$fifo" ]; then init=waiting; return 0; fi
  done
}

# Whether $pid's cgroup is thawed (runc calls a frozen created container paused, and refuses to
# start it): its v1 freezer cgroup, or on a cgroup v2 host its own, judged by cgroup_thawed; false
# if neither has the file that says.
init_thawed() {
  cg=
  while IFS=: read -r _ ctl path; do
    case $ctl in
      freezer) cg=/sys/fs/cgroup/freezer$path; break ;;
      '') [ -e /sys/fs/cgroup/cgroup.controllers ] && cg=/sys/fs/cgroup$path ;;
    esac
  done < "/proc/$pid/cgroup"
  case $cg in
    /sys/fs/cgroup/freezer/*) [ -e "$cg/freezer.state" ] ;;
    ?*) [ -e "$cg/cgroup.freeze" ] ;;
    *) false ;;
  esac && cgroup_thawed "$cg"
}

# The exec command line with the --process value replaced by $1.
with_process() {
  new=$1; shift
  n=$#; want=0
  while [ "$n" -gt 0 ]; do
    a=$1; shift; n=$((n - 1))
    if [ "$want" = 1 ]; then want=0; set -- "$@" "$new"; continue; fi
    case "$a" in
      --process|-process|-p) want=1 ;;
      --process=*|-process=*) a=--process=$new ;;
    esac
    set -- "$@" "$a"
  done
  runc_with exec "$@"
}

# systemd as PID 1 re-executes itself on SIGTERM; its halt request is SIGRTMIN+3 (37). For SIGTERM
# to a container whose init is systemd (create's marker, or the init's comm by now: see
# lifecycle/systemd-init.ts) send 37, so that `docker stop` (SIGTERM unless the image sets
# STOPSIGNAL) shuts systemd down cleanly instead of waiting for the SIGKILL. File tests and shell
# builtins only: no fork, and nothing at all for other signals.
term_as=
case "$cmd" in
  start) start_fast "$@" ;;
  state|list|events|update|features|spec) ;;
  # crun's table lists pids only: the Node runtime makes runc's (commands/ps.ts).
  ps) [ "$executor_kind" = crun ] && node_runtime "$@" ;;
  kill)
    seen=0; id=; sig=; all=0; plain=1
    for a in "$@"; do
      if [ "$seen" = 1 ]; then
        case "$a" in
          -a|--all|-all|--all=true|-all=true) all=1 ;;
          -*) plain=0 ;;
          *) if [ -z "$id" ]; then id=$a; elif [ -z "$sig" ]; then sig=$a; else plain=0; fi ;;
        esac
      elif [ "$a" = kill ]; then seen=1
      fi
    done
    num=$sig
    case "${sig:-TERM}" in
      15|[Tt][Ee][Rr][Mm]|[Ss][Ii][Gg][Tt][Ee][Rr][Mm])
        num=15
        dir=$mount_root/$id
        if [ "$all" = 0 ] && [ -n "$id" ] && [ -d "$dir" ]; then
          if [ -e "$dir/init-is-systemd" ]; then term_as=37
          elif [ -r "$dir/init-pid" ] && read -r pid < "$dir/init-pid" && [ -r "/proc/$pid/comm" ] &&
            read -r comm < "/proc/$pid/comm" && [ "$comm" = systemd ]; then term_as=37
          fi
        fi ;;
    esac
    if [ "$all$plain" = 01 ]; then kill_fast "$id" "${term_as:-$num}"; fi
    ;;
  delete)
    # The container's first positional after `delete` and its flags (runc takes them before the id
    # or after it); plain: --force the only flag and the id the only positional.
    seen=0; id=; force=0; plain=1
    for a in "$@"; do
      if [ "$seen" = 1 ]; then
        case "$a" in
          -f|--force|-force) force=1 ;;
          -*) plain=0 ;;
          *) if [ -z "$id" ]; then id=$a; else plain=0; fi ;;
        esac
      elif [ "$a" = delete ]; then seen=1
      fi
    done
    # A container sysbox-mgr still holds: runc (or delete_fast) deletes it here, and sysbox-mgr,
    # which releases a container by itself once its init has exited (runc delete kills an init never
    # started), takes the run dir's name away (a rename) as the last step of that release that
    # Docker depends on.
    # Waiting for that instead of starting Node for an explicit release saves ~40 ms per `docker rm`
    # and `docker run --rm` (bench/README.md). The wait is a blocking read of the run dir's fifo
    # `released`, whose write end sysbox-mgr holds while it watches the init and closes when the
    # release ends, fails, or sysbox-mgr dies (EOF: no polls, no forks; see sysbox-mgr's
    # release-signal.ts). Opened read-write first (fd 4), so that the read-only open never blocks for
    # want of a writer, then fd 4 is closed for good: only sysbox-mgr's end is left. No fifo (nothing
    # watching the init: a create that died half-way) or the run dir still there after the wait (a
    # failed release): Node releases the container explicitly, told that runc's delete is done and
    # how it went. As before, a failed delete of a container runc still knows ends there.
    if [ -n "$id" ] && [ -e "$mount_root/$id" ]; then
      if [ "$plain" = 1 ] && delete_fast "$id"; then st=0; else runc_with run "$@"; st=$?; fi
      if [ "$st" != 0 ] && runc_with state "$@" >/dev/null 2>&1; then exit "$st"; fi
      fifo=$mount_root/$id/released
      if [ -p "$fifo" ]; then { exec 4>&-; read -r _; } 2>/dev/null 4<>"$fifo" </dev/fd/4; fi
      [ -e "$mount_root/$id" ] || exit "$st"
      SYSBOX_RUNC_DELETE_STATUS=$st node_runtime "$@"
    fi
    # `delete --force` of a container the executor no longer has a state dir for (the shim's
    # cleanup after its own delete, once per `docker run --rm` and `docker rm`): runc and crun would
    # find nothing, remove nothing and exit 0 without a word; so does this, without starting them.
    # Only for those two, their root there (they would create it) and an id they accept (else
    # their error).
    if [ "$force$plain" = 11 ] && state_id "$id" && [ -d "$runc_root" ] && [ ! -e "$runc_root/$id" ] && [ ! -L "$runc_root/$id" ]; then
      exit 0
    fi
    if [ "$plain" = 1 ] && delete_fast "$id"; then exit 0; fi
    ;;
  exec) exec_fast "$@" ;;
  create) create_spare "$@"; node_runtime "$@" ;;
  *) node_runtime "$@" ;;
esac

runc_with exec "$@"
