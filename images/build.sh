#!/usr/bin/env bash
# Build the local images Sysbox's demo and tests use. There is no registry here: everything is
# made from Debian packages on this machine and imported into the Docker daemon at $DOCKER_HOST.
#   images/build.sh busybox    -> sysbox/busybox:latest   (static busybox, ~1 s)
#   images/build.sh bookworm   -> sysbox/bookworm:latest  (debootstrap minbase, cached tarball)
# Images already present are kept; set REBUILD=1 to force.
set -euo pipefail
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

build_bookworm() {
  have sysbox/bookworm:latest && return 0
  local tarball="$cache/bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    local root; root=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$root" >"$cache/debootstrap.log" 2>&1 \
      || { echo "debootstrap failed; see $cache/debootstrap.log" >&2; rm -rf "$root"; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  "$docker_bin" import -c 'CMD ["/bin/bash"]' "$tarball" sysbox/bookworm:latest >/dev/null
}

for image in "${@:-busybox}"; do
  case "$image" in
    busybox) build_busybox ;;
    bookworm) build_bookworm ;;
    *) echo "unknown image: $image" >&2; exit 2 ;;
  esac
done
