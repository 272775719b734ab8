#!/usr/bin/env bash
# Build the local images Sysbox's demo and tests use. There is no registry here: everything is
# made from Debian packages on this machine and imported into the Docker daemon at $DOCKER_HOST.
#   images/build.sh busybox         -> sysbox/busybox:latest         (static busybox, ~1 s)
#   images/build.sh bookworm        -> sysbox/bookworm:latest        (debootstrap minbase, cached tarball)
#   images/build.sh docker          -> sysbox/docker:latest          (bookworm + docker.io; the entrypoint
#                                                                     starts dockerd, then runs the command)
#   images/build.sh systemd         -> sysbox/systemd:latest         (bookworm + systemd as PID 1)
#   images/build.sh systemd-docker  -> sysbox/systemd-docker:latest  (systemd image + docker.service)
#   images/build.sh systemd-stock   -> sysbox/systemd-stock:latest   (bookworm + systemd as a plain
#                                                                     Dockerfile user makes it: nothing masked)
#   images/build.sh systemd-stock-trixie -> sysbox/systemd-stock-trixie:latest (the same on trixie, systemd 257)
#   images/build.sh host            -> sysbox/host:latest            (stand-in Debian host: systemd + Docker +
#                                                                     nodejs, run under plain runc by tests)
# The last three are made without `docker build` (its containers have no internet here): apt installs
# the packages on the host into a chroot copy of the cached bookworm tree, which is then `docker import`ed.
# Their tarballs are cached as $cache/NAME-HASH.tar, HASH covering the recipe (the functions below that
# make the image, package lists included), so editing a recipe rebuilds that image and its dependants.
# Images already present are kept (for the last three: only if built from the current recipe, which
# their label org.sysbox.recipe records); REBUILD=1 forces a re-import. See images/README.md.
set -euo pipefail
shopt -s inherit_errexit
docker_bin=${DOCKER:-/usr/bin/docker}
cache=${SYSBOX_IMAGE_CACHE:-/var/cache/sysbox/images}
mkdir -p "$cache"

have() { [ -z "${REBUILD:-}" ] && "$docker_bin" image inspect "$1" >/dev/null 2>&1; }

build_busybox() {
  have sysbox/busybox:latest && return 0
  [ -x /bin/busybox ] || { echo "busybox-static is not installed (apt-get install busybox-static)" >&2; exit 1; }
  local root; root=$(mktemp -d)
  mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,root,var,run,mnt,usr/bin,usr/sbin}
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
  tar -C "$root" -c . | "$docker_bin" import -c 'CMD ["/bin/sh"]' - sysbox/busybox:latest >/dev/null
  rm -rf "$root"
}

# The debootstrap minbase tree, cached as a tarball; the base of every Debian image below.
bookworm_tarball() {
  local tarball="$cache/bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    local root; root=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$root" >"$cache/debootstrap.log" 2>&1 \
      || { echo "debootstrap failed; see $cache/debootstrap.log" >&2; rm -rf "$root"; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
}

build_bookworm() {
  have sysbox/bookworm:latest && return 0
  bookworm_tarball
  "$docker_bin" import -c 'CMD ["/bin/bash"]' "$cache/bookworm-minbase.tar" sysbox/bookworm:latest >/dev/null
}

# ---------------------------------------------------------------------------------------------------
# Images made by installing Debian packages into a chroot. Each is described by a recipe function
# recipe_NAME that sets:
#   base      the image it starts from: "bookworm" (the debootstrap tarball) or another recipe's name
#   packages  Debian packages to install (apt-get --no-install-recommends)
#   changes   `docker import -c` lines (ENTRYPOINT, CMD, ENV, LABEL...)
#   stopsignal  optional: `docker import` refuses STOPSIGNAL, so it is set by a `docker build` of a
#             two-line Dockerfile (FROM the imported image, STOPSIGNAL): no RUN, so no network needed
# and may define customize_NAME ROOT, run on the tree after the install (it may use in_chroot).

recipe_docker() {
  base=bookworm
  packages=(docker.io iptables ca-certificates procps iproute2 busybox xz-utils)
  changes=('ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/sysbox-docker-entrypoint"]'
           'CMD ["bash"]')
}
customize_docker() {
  local root=$1
  install -m 0755 /dev/stdin "$root/usr/local/bin/sysbox-docker-entrypoint" <<'EOF'
#!/bin/sh
# sysbox/docker entrypoint: start dockerd in the background (log: /var/log/dockerd.log), wait up to
# 30 s until `docker info` answers, then exec the command given (default: bash).
#   START_DOCKERD=0        do not start dockerd
#   DOCKERD_ARGS="..."      extra dockerd arguments (word-split), e.g. "--debug --storage-driver vfs"
# dockerd runs in a session of its own, so ^C in the shell does not reach it. If it does not come up,
# the command runs anyway, after a warning on stderr.
[ $# -gt 0 ] || set -- bash
case "$1" in dockerd|/usr/sbin/dockerd) exec "$@";; esac   # the user starts dockerd in the foreground
if [ "${START_DOCKERD:-1}" != 0 ] && ! docker info >/dev/null 2>&1; then
  mkdir -p /var/log
  # A container made from a commit of a running one carries its pid files: nothing runs yet, so
  # they are stale (dockerd refuses to start over them).
  rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
  # shellcheck disable=SC2086
  setsid dockerd ${DOCKERD_ARGS:-} </dev/null >>/var/log/dockerd.log 2>&1 &
  pid=$! i=0
  until docker info >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "sysbox-docker-entrypoint: dockerd exited; last lines of /var/log/dockerd.log:" >&2
      tail -n 5 /var/log/dockerd.log >&2
      break
    fi
    i=$((i + 1))
    if [ "$i" -ge 60 ]; then
      echo "sysbox-docker-entrypoint: dockerd not answering after 30 s (see /var/log/dockerd.log)" >&2
      break
    fi
    sleep 0.5
  done
fi
exec "$@"
EOF
}

recipe_systemd() {
  base=bookworm
  packages=(systemd systemd-sysv dbus procps iproute2 ca-certificates)
  changes=('ENV container=docker' 'CMD ["/sbin/init"]')
  stopsignal=SIGRTMIN+3   # systemd's "halt" signal: `docker stop` shuts it down cleanly
}
customize_systemd() {
  local root=$1 unit
  # Units that cannot work in a (user-namespaced) system container; images/README.md gives each one's
  # reason. Masking a unit that is not installed (udev's) is harmless and keeps it off should a derived
  # image install it.
  local masked_units=(
    systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
    systemd-udev-trigger.service systemd-udev-settle.service
    sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount
    sys-fs-fuse-connections.mount dev-hugepages.mount
    proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount systemd-binfmt.service
    systemd-modules-load.service
    systemd-journald-audit.socket
    getty@tty1.service console-getty.service
    systemd-firstboot.service
  )
  for unit in "${masked_units[@]}"; do ln -sfn /dev/null "$root/etc/systemd/system/$unit"; done
  # The kernel log is the host's: journald must not read /dev/kmsg.
  mkdir -p "$root/etc/systemd/journald.conf.d"
  printf '[Journal]\nReadKMsg=no\n' > "$root/etc/systemd/journald.conf.d/sysbox.conf"
  # Every container gets its own machine ID: an empty file makes systemd generate one at boot.
  : > "$root/etc/machine-id"
  ln -sfn /etc/machine-id "$root/var/lib/dbus/machine-id"
}

# What a Docker user writes without knowing Sysbox: the packages, /sbin/init, `ENV container=docker`
# (Docker itself does not set it; systemd's container interface asks the manager to, and the usual
# Dockerfiles do) and nothing masked or customized: the system container must boot it to `running`.
recipe_systemd-stock() {
  base=bookworm
  packages=(systemd systemd-sysv dbus udev)
  changes=('ENV container=docker' 'CMD ["/sbin/init"]')
  stopsignal=SIGRTMIN+3
}

# The same on Debian trixie (systemd 257). Its tree is made by debootstrap itself (minbase plus the
# same four packages, Depends only like APT::Install-Recommends=false), not by the bookworm chroot
# recipe: tarball_NAME takes the place of make_tarball, and its key covers only these functions.
recipe_systemd-stock-trixie() {
  base=none
  packages=(systemd systemd-sysv dbus udev)
  changes=('ENV container=docker' 'CMD ["/sbin/init"]')
  stopsignal=SIGRTMIN+3
}
tarball_systemd-stock-trixie() {
  local key=$1 tarball="$cache/systemd-stock-trixie-$1.tar" root lock
  exec {lock}>"$cache/.systemd-stock-trixie.lock"
  flock "$lock"
  if [ ! -s "$tarball" ]; then
    echo "building $tarball (log: $cache/systemd-stock-trixie.log)" >&2
    root=$(mktemp -d "$cache/.root-systemd-stock-trixie.XXXXXX")
    debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" trixie "$root" \
        http://deb.debian.org/debian >"$cache/systemd-stock-trixie.log" 2>&1 \
      || { echo "debootstrap failed; see $cache/systemd-stock-trixie.log" >&2; rm -rf "$root"; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
    find "$cache" -maxdepth 1 -name "systemd-stock-trixie-????????????.tar" ! -name "systemd-stock-trixie-$key.tar" -delete
  fi
  exec {lock}>&-
  echo "$tarball"
}

recipe_systemd-docker() {
  base=systemd
  packages=(docker.io iptables busybox xz-utils)
  changes=('ENV container=docker' 'CMD ["/sbin/init"]')
  stopsignal=SIGRTMIN+3
}
customize_systemd-docker() {
  in_chroot "$1" systemctl enable docker.service containerd.service
}

# A stand-in Debian host for tests that need a real systemd (package install, `systemctl restart
# sysbox`, `dpkg --purge`): what a plain bookworm host with Docker has, nothing of Sysbox. It runs
# under plain runc with (nearly) the host's capabilities: see test/lib/host-harness.sh and
# images/README.md. nodejs is bookworm's own (18.x), the Node Sysbox must run on there.
recipe_host() {
  base=bookworm
  packages=(systemd systemd-sysv dbus docker.io nodejs runc iptables procps iproute2 ca-certificates kmod)
  changes=('ENV container=docker' 'CMD ["/lib/systemd/systemd"]')
  stopsignal=SIGRTMIN+3
}
customize_host() {
  local root=$1 unit
  # Masked because the container shares the real host's kernel with the host's own privileges (not a
  # user namespace): these would change the real machine or cannot work in a container. Each one's
  # reason is in images/README.md.
  local masked_units=(
    systemd-sysctl.service                      # would write host-wide sysctls of the real machine
    systemd-modules-load.service                # would load modules into the real kernel
    proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount systemd-binfmt.service
                                                # binfmt_misc is host-wide
    sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount sys-fs-fuse-connections.mount
                                                # /sys is the real host's (rw bind): never mount over it
    systemd-firstboot.service                   # prompts on the console at first boot: blocks the boot
    getty@tty1.service console-getty.service    # no terminals; would fight `docker exec -it`
  )
  for unit in "${masked_units[@]}"; do ln -sfn /dev/null "$root/etc/systemd/system/$unit"; done
  # The kernel log is the real host's.
  mkdir -p "$root/etc/systemd/journald.conf.d"
  printf '[Journal]\nReadKMsg=no\n' > "$root/etc/systemd/journald.conf.d/host-harness.conf"
  # Each harness gets its own machine ID at boot.
  : > "$root/etc/machine-id"
  ln -sfn /etc/machine-id "$root/var/lib/dbus/machine-id"
  in_chroot "$root" systemctl enable docker.service containerd.service
}

# Run a command in the chroot ROOT, in private mount and PID namespaces: /proc and the shared .deb
# cache are mounted there, and both mounts and any process a maintainer script leaves behind are gone
# when it returns, so the tree can be removed safely afterwards.
in_chroot() {
  local root=$1; shift
  mkdir -p "$cache/debs/partial"
  unshare --mount --pid --fork --propagation private -- /bin/sh -ec '
    root=$1 debs=$2; shift 2
    mount -t proc proc "$root/proc"
    mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
    mount --bind "$root/dev/pts/ptmx" "$root/dev/ptmx"
    mount --bind "$debs" "$root/var/cache/apt/archives"
    exec chroot "$root" /usr/bin/env -i HOME=/root LC_ALL=C DEBIAN_FRONTEND=noninteractive \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
  ' sh "$root" "$cache/debs" "$@"
}

# Install packages with apt into ROOT (a bookworm tree) and leave no build trace behind.
apt_install() {
  local root=$1; shift
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  cat > "$root/etc/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
  # For the build only: no service starts in the chroot, and a mirror snapshot's Release may be old.
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod 0755 "$root/usr/sbin/policy-rc.d"
  # (apt's _apt user cannot write to the bind-mounted .deb cache: download as root, quietly).
  printf '%s\n' 'Acquire::Check-Valid-Until "false";' 'APT::Install-Recommends "false";' \
    'APT::Sandbox::User "root";' 'Acquire::Languages "none";' > "$root/etc/apt/apt.conf.d/99sysbox-build"
  # Like Debian's slim images: packages installed from now on come without man pages and docs; nor
  # with docker.io's libnetwork test tools dnet and ovrouter (28 MB).
  printf '%s\n' 'path-exclude /usr/share/man/*' 'path-exclude /usr/share/doc/*' \
    'path-include /usr/share/doc/*/copyright' 'path-exclude /usr/share/info/*' \
    'path-exclude /usr/bin/dnet' 'path-exclude /usr/sbin/ovrouter' \
    > "$root/etc/dpkg/dpkg.cfg.d/sysbox-slim"
  in_chroot "$root" apt-get -q update
  in_chroot "$root" apt-get -q -y install "$@"
  rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/apt/apt.conf.d/99sysbox-build"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/debconf/*-old "$root"/tmp/* "$root"/var/tmp/*
  : > "$root/etc/resolv.conf"
}

# The recipe's key: a hash of everything that makes the image, dependencies' recipes included.
recipe_key() {
  local name=$1 base packages changes stopsignal
  "recipe_$name"
  {
    declare -f "recipe_$name" "customize_$name" in_chroot apt_install make_tarball 2>/dev/null || true
    if [ "$base" = bookworm ]; then declare -f bookworm_tarball; else recipe_key "$base"; fi
  } | sha256sum | cut -c1-12
}

# Print the cached tarball of NAME, building it (and its base) if missing. Progress goes to stderr,
# apt's output to $cache/NAME.log.
make_tarball() {
  local name=$1 base packages changes stopsignal key tarball base_tar root lock
  "recipe_$name"
  key=$(recipe_key "$name")
  tarball="$cache/$name-$key.tar"
  exec {lock}>"$cache/.$name.lock"
  flock "$lock"
  if [ ! -s "$tarball" ]; then
    if [ "$base" = bookworm ]; then bookworm_tarball; base_tar=$cache/bookworm-minbase.tar
    else base_tar=$(make_tarball "$base"); fi
    echo "building $tarball (log: $cache/$name.log)" >&2
    root=$(mktemp -d "$cache/.root-$name.XXXXXX")
    # On failure (set -e ends the script) remove the tree and show the end of the log.
    trap "rc=\$?; rm -rf '$root'; [ \$rc = 0 ] || { echo 'building $name failed; see $cache/$name.log' >&2;
          tail -n 20 '$cache/$name.log' >&2; }" EXIT
    tar -C "$root" --numeric-owner -xpf "$base_tar"
    apt_install "$root" "${packages[@]}" >"$cache/$name.log" 2>&1
    if declare -F "customize_$name" >/dev/null; then "customize_$name" "$root" >>"$cache/$name.log" 2>&1; fi
    tar -C "$root" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"; trap - EXIT
    # Tarballs of this image's older recipes are of no more use.
    find "$cache" -maxdepth 1 -name "$name-????????????.tar" ! -name "$name-$key.tar" -delete
  fi
  exec {lock}>&-
  echo "$tarball"
}

build_derived() {
  local name=$1 image=sysbox/$1:latest base packages changes stopsignal key tarball change args=()
  "recipe_$name"
  if declare -F "tarball_$name" >/dev/null; then
    key=$(declare -f "recipe_$name" "tarball_$name" | sha256sum | cut -c1-12)
  else
    key=$(recipe_key "$name")
  fi
  if [ -z "${REBUILD:-}" ] && [ "$("$docker_bin" image inspect -f '{{index .Config.Labels "org.sysbox.recipe"}}' \
        "$image" 2>/dev/null)" = "$key" ]; then
    return 0
  fi
  if declare -F "tarball_$name" >/dev/null; then tarball=$("tarball_$name" "$key"); else tarball=$(make_tarball "$name"); fi
  local old; old=$("$docker_bin" image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  for change in "${changes[@]}" "LABEL org.sysbox.recipe=$key"; do args+=(-c "$change"); done
  if [ -z "${stopsignal:-}" ]; then
    "$docker_bin" import "${args[@]}" "$tarball" "$image" >/dev/null
  else
    local tmp=sysbox/$name:import-$key
    "$docker_bin" import "${args[@]}" "$tarball" "$tmp" >/dev/null
    printf 'FROM %s\nSTOPSIGNAL %s\n' "$tmp" "$stopsignal" |
      DOCKER_BUILDKIT=0 "$docker_bin" build -q -t "$image" - >/dev/null
    "$docker_bin" rmi "$tmp" >/dev/null
  fi
  # The image this one replaced, now untagged, unless a container still uses it.
  if [ -n "$old" ] && [ "$old" != "$("$docker_bin" image inspect -f '{{.Id}}' "$image")" ]; then
    "$docker_bin" rmi "$old" >/dev/null 2>&1 || true
  fi
}

for image in "${@:-busybox}"; do
  case "$image" in
    busybox) build_busybox ;;
    bookworm) build_bookworm ;;
    docker|systemd|systemd-docker|systemd-stock|systemd-stock-trixie|host) build_derived "$image" ;;
    *) echo "unknown image: $image" >&2; exit 2 ;;
  esac
done
