#!/usr/bin/env bash
# Adds (or removes) the sysbox-runc runtime in Docker's daemon.json without disturbing other keys,
# then asks the dockerd using it to reload its configuration (SIGHUP; runtimes reload live).
#   scripts/docker-runtime.sh add|remove [daemon.json [dockerd pidfile]]
# SYSBOX_RUNTIME_NAME / SYSBOX_RUNTIME_PATH override the entry's name and path.
set -euo pipefail
op=${1:?add|remove}
conf=${2:-/etc/docker/daemon.json}
pidfiles=${3:-/var/run/docker.pid /run/docker.pid}
rt_name=${SYSBOX_RUNTIME_NAME:-sysbox-runc}
rt_path=${SYSBOX_RUNTIME_PATH:-/usr/bin/sysbox-runc}
mkdir -p "$(dirname "$conf")"
[ -s "$conf" ] || echo '{}' > "$conf"
jq -e . "$conf" >/dev/null || { echo "$conf is not valid JSON; fix it first" >&2; exit 1; }
tmp=$(mktemp "$conf.XXXXXX")
case "$op" in
  add) jq --arg n "$rt_name" --arg p "$rt_path" '.runtimes = ((.runtimes // {}) + {($n): {"path": $p}})' "$conf" > "$tmp" ;;
  remove) jq --arg n "$rt_name" 'del(.runtimes[$n]) | if .runtimes == {} then del(.runtimes) else . end' "$conf" > "$tmp" ;;
  *) rm -f "$tmp"; echo "usage: $0 add|remove [daemon.json]" >&2; exit 2 ;;
esac
chmod --reference="$conf" "$tmp" 2>/dev/null || chmod 0644 "$tmp"
mv "$tmp" "$conf"
for pidfile in $pidfiles; do
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill -HUP "$(cat "$pidfile")" && echo "dockerd (pid $(cat "$pidfile")) reloaded"
    break
  fi
done
