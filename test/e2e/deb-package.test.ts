// The Debian package's whole life, as a user lives it, on a stand-in Debian host with systemd as PID 1
// and Docker under it (test/lib/host-harness.sh; this machine has no systemd as PID 1):
// apt-get install → units active → Docker inside a system container; an upgrade, `systemctl restart
// sysbox`, kill -9 of each daemon, all with 5 system containers reading /proc and /sys in a loop;
// a log level set by a drop-in; dpkg --remove refused while containers run; purge leaves nothing;
// reinstall over a corrupt daemon.json and with Docker absent.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUSYBOX, docker, dockerOk, REPO, run, uniqueName } from '../lib/env.js';

const HARNESS = path.join(REPO, 'test/lib/host-harness.sh');
const host = uniqueName('sbx-host');
const OLD = '0.0.9';
const READERS = ['r1', 'r2', 'r3', 'r4', 'r5'];

/** Runs a bash script on the stand-in host; never throws. */
function onHost(script: string, input?: string): ReturnType<typeof docker> {
  return run('/usr/bin/docker', ['exec', '-i', host, 'bash', '-c', script], { input, timeoutMs: 300_000 });
}

async function onHostOk(script: string): Promise<string> {
  const r = await onHost(script);
  assert.equal(r.status, 0, `on the host: ${script}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * What install, remove and purge may touch, as a list of "path type mode owner size/hash" lines:
 * /usr, /etc, /lib and /var/lib, less what Docker, dpkg and apt keep for themselves, and the
 * backups shadow's tools write (/etc/passwd- ...) whenever they change a file.
 */
const SNAPSHOT = `
  find /usr /etc /lib /var/lib -xdev \\( -path /var/lib/docker -o -path /var/lib/containerd -o -path /var/lib/dpkg \\
      -o -path /var/lib/apt -o -path /var/lib/systemd/timers -o -path /var/lib/systemd/catalog \\
      -o -path /var/lib/systemd/random-seed -o -path /etc/docker/key.json -o -path '/etc/*-' \\
      -o -path /etc/ld.so.cache \\) -prune -o -printf '%p %y %m %U:%G\\n' | sort > /tmp/paths
  find /usr /etc /lib /var/lib -xdev \\( -path /var/lib/docker -o -path /var/lib/containerd -o -path /var/lib/dpkg \\
      -o -path /var/lib/apt -o -path /var/lib/systemd -o -path /etc/docker/key.json -o -path '/etc/*-' \\
      -o -path /etc/ld.so.cache \\) -prune -o -type f -print0 | xargs -0 md5sum | sort -k2 > /tmp/sums
  cat /tmp/paths /tmp/sums`;

/** The reader loop each system container runs: /proc and /sys files sysbox-fs serves, every few ms. */
const READER = `
  files="/proc/uptime /proc/meminfo /proc/stat /proc/loadavg /proc/sys/kernel/pid_max /proc/sys/kernel/panic /proc/sys/kernel/hostname"
  for f in /sys/kernel/mm/transparent_hugepage/enabled /sys/devices/virtual/mem/null/dev; do [ -e $f ] && files="$files $f"; done
  : > /tmp/reads; : > /tmp/fails
  while [ ! -e /tmp/stop ]; do
    if cat $files >/dev/null 2>>/tmp/errors; then date +%s%3N >> /tmp/reads; else date +%s%3N >> /tmp/fails; fi
  done`;

interface ReadStats { reads: number; fails: number; maxGapMs: number; errors: string }

/**
 * Reads done since `sinceMs` (host clock, ms) by every reader: count, failures, longest pause, and
 * the last errors of the readers that failed (what cat said, for the assertion's message).
 */
async function readStats(sinceMs: number): Promise<ReadStats> {
  let reads = 0; let fails = 0; let maxGapMs = 0; let errors = '';
  for (const c of READERS) {
    const out = await onHostOk(`docker exec ${c} sh -c 'awk -v s=${sinceMs} "\\$1 >= s" /tmp/reads; echo --; awk -v s=${sinceMs} "\\$1 >= s" /tmp/fails | wc -l'`);
    const [readPart, failPart] = out.split('--');
    const stamps = readPart!.trim().split('\n').filter(Boolean).map(Number);
    reads += stamps.length;
    const failed = Number(failPart!.trim());
    fails += failed;
    if (failed > 0) errors += `${c}: ${await onHostOk(`docker exec ${c} tail -5 /tmp/errors`)}\n`;
    for (let i = 1; i < stamps.length; i++) maxGapMs = Math.max(maxGapMs, stamps[i]! - stamps[i - 1]!);
  }
  return { reads, fails, maxGapMs, errors };
}

function assertNoFailedRead(stats: ReadStats, when: string): void {
  assert.equal(stats.fails, 0, `${when}: ${stats.fails} reads failed; the readers' last errors:\n${stats.errors}`);
}

async function nowMs(): Promise<number> {
  return Number(await onHostOk('date +%s%3N'));
}

async function unitStates(): Promise<string> {
  return onHostOk("systemctl list-units -t service --all --no-legend 'sysbox*' | awk '{print $1, $3, $4}'");
}

async function mainPid(unit: string): Promise<string> {
  return onHostOk(`systemctl show -p MainPID --value ${unit}`);
}

/** uid_map of every reader, and sysbox-mgr's records: what a restart must not change. */
async function rangesAndRecords(): Promise<string> {
  const maps = await onHostOk(`for c in ${READERS.join(' ')}; do echo "$c $(docker exec $c cat /proc/self/uid_map | tr -s ' ')"; done`);
  return `${maps}\n${await onHostOk('ls /var/lib/sysbox/mgr/containers')}`;
}

/** The inner Docker of r1 still runs containers. */
async function innerDockerWorks(): Promise<void> {
  assert.equal(await onHostOk("docker exec r1 docker run --rm sysbox/busybox echo inner-ok"), 'inner-ok');
}

describe('Debian package on a systemd host', { timeout: 1_500_000 }, () => {
  let daemonJson = '';
  let snapshot0 = '';
  before(async () => {
    for (const [env, tag] of [[{}, 'new'], [{ SYSBOX_DEB_VERSION: OLD }, 'old']] as const) {
      const r = await run('npm', ['run', '--silent', 'deb'], { cwd: REPO, env: { ...process.env, ...env } });
      assert.equal(r.status, 0, `npm run deb (${tag}):\n${r.stdout}\n${r.stderr}`);
    }
    const images = await run('bash', [path.join(REPO, 'images/build.sh'), 'host'], { env: { ...process.env, DOCKER: '/usr/bin/docker' }, timeoutMs: 900_000 });
    assert.equal(images.status, 0, images.stderr);
    const start = await run('bash', [HARNESS, 'start', host], { timeoutMs: 300_000 });
    assert.equal(start.status, 0, `the stand-in host did not boot:\n${start.stderr}`);
    const load = await run('bash', [HARNESS, 'load-image', host, BUSYBOX, 'sysbox/docker:latest'], { timeoutMs: 300_000 });
    assert.equal(load.status, 0, load.stderr);
    await dockerOk('cp', path.join(REPO, 'dist/sysbox_0.1.0_amd64.deb'), `${host}:/root/`);
    await dockerOk('cp', path.join(REPO, `dist/sysbox_${OLD}_amd64.deb`), `${host}:/root/`);
    // The operator's own daemon.json (4-space indent) and another user's subordinate ids at 165536,
    // where Sysbox would otherwise put its pool.
    daemonJson = '{\n    "log-level": "info",\n    "max-concurrent-downloads": 2\n}\n';
    await onHostOk(`printf '%s' '${daemonJson}' > /etc/docker/daemon.json && systemctl reload docker`);
    await onHostOk('useradd -m alice && echo alice:165536:65536 >> /etc/subuid && echo alice:165536:65536 >> /etc/subgid');
    snapshot0 = await onHostOk(SNAPSHOT);
  });
  after(async () => {
    await run('bash', [HARNESS, 'stop', host], { timeoutMs: 300_000 });
  });

  it('installs with apt: units active, sysbox user and pool past alice\'s ids, sysctls, runtime registered, dockerd reloaded not restarted', async (t) => {
    const dockerdPid = await onHostOk('systemctl show -p MainPID --value docker');
    const t0 = Date.now();
    const out = await onHostOk(`DEBIAN_FRONTEND=noninteractive apt-get install -y /root/sysbox_${OLD}_amd64.deb 2>&1`);
    t.diagnostic(`apt-get install took ${Date.now() - t0} ms`);
    assert.match(out, /added sysbox:231072:268435456 to \/etc\/subuid/);
    assert.equal(await unitStates(), 'sysbox-fs.service active running\nsysbox-mgr.service active running\nsysbox.service active exited');
    assert.equal(await onHostOk('systemctl is-enabled sysbox sysbox-mgr sysbox-fs | sort -u'), 'enabled');
    assert.equal(await onHostOk('grep ^sysbox: /etc/subuid; grep ^sysbox: /etc/subgid'), 'sysbox:231072:268435456\nsysbox:231072:268435456');
    assert.match(await onHostOk('getent passwd sysbox'), /^sysbox:x:\d+:\d+:Sysbox id pool:\/nonexistent:\/usr\/sbin\/nologin$/);
    assert.ok(Number(await onHostOk('sysctl -n fs.inotify.max_user_watches')) >= 1048576);
    assert.match(await onHostOk('cat /etc/sysctl.d/99-sysbox.conf'), /^kernel\.keys\.maxkeys = \d+$/m);
    assert.equal(await onHostOk('cat /etc/docker/daemon.json'),
      '{\n    "log-level": "info",\n    "max-concurrent-downloads": 2,\n    "runtimes": {\n        "sysbox-runc": {\n            "path": "/usr/bin/sysbox-runc"\n        }\n    }\n}');
    assert.match(await onHostOk("docker info --format '{{range $k, $v := .Runtimes}}{{$k}} {{end}}'"), /sysbox-runc/);
    assert.equal(await onHostOk('systemctl show -p MainPID --value docker'), dockerdPid, 'dockerd was reloaded, not restarted');
    assert.match(await onHostOk('journalctl -u sysbox-mgr -u sysbox-fs --no-pager -o cat'), /msg="Ready"[\s\S]*msg="Ready"/);
    assert.match(await onHostOk('node --version'), /^v18\./, "the stand-in host runs Debian's own nodejs");
  });

  it('runs a system container with Docker inside right after', async () => {
    const out = await onHostOk(`docker save ${BUSYBOX} | docker run --runtime=sysbox-runc -i --rm sysbox/docker sh -c '
      cat /proc/self/uid_map | tr -s " "; docker load -q >/dev/null; docker run --rm ${BUSYBOX} echo hello-from-inner'`);
    assert.match(out, /^0 231072 65536\n/, 'root inside is the first range of the pool');
    assert.match(out, /hello-from-inner$/);
  });

  it('upgrades over the older version with 5 system containers running: no failed read, inner Docker keeps running', async (t) => {
    for (const c of READERS) await onHostOk(`docker run -d --runtime=sysbox-runc --name ${c} sysbox/docker sh -c '${READER.replace(/'/g, "'\\''")}'`);
    await onHostOk(`docker save ${BUSYBOX} | docker exec -i r1 docker load -q`);
    await innerDockerWorks();
    const before = await rangesAndRecords();
    const mgrBefore = await mainPid('sysbox-mgr');
    const t0 = await nowMs();
    await onHostOk('DEBIAN_FRONTEND=noninteractive dpkg -i /root/sysbox_0.1.0_amd64.deb');
    await new Promise((r) => setTimeout(r, 2000));
    const stats = await readStats(t0);
    t.diagnostic(`upgrade: ${stats.reads} reads, ${stats.fails} failed, longest pause ${stats.maxGapMs} ms`);
    assert.equal(await onHostOk("dpkg-query -W -f='${Version}' sysbox"), '0.1.0');
    assert.notEqual(await mainPid('sysbox-mgr'), mgrBefore, 'the daemons run the new binaries');
    assertNoFailedRead(stats, 'upgrade');
    assert.ok(stats.reads > 0);
    assert.equal(await rangesAndRecords(), before, 'id ranges and records unchanged');
    await innerDockerWorks();
  });

  it('systemctl restart sysbox with the 5 containers reading: no failed read, ranges and state kept', async (t) => {
    const before = await rangesAndRecords();
    const t0 = await nowMs();
    await onHostOk('systemctl restart sysbox');
    assert.equal(await unitStates(), 'sysbox-fs.service active running\nsysbox-mgr.service active running\nsysbox.service active exited');
    await new Promise((r) => setTimeout(r, 2000));
    const stats = await readStats(t0);
    t.diagnostic(`restart: ${stats.reads} reads, ${stats.fails} failed, longest pause ${stats.maxGapMs} ms`);
    assertNoFailedRead(stats, 'restart');
    assert.equal(await rangesAndRecords(), before);
    await innerDockerWorks();
  });

  it('docker run issued while sysbox is down waits for it and succeeds; with sysbox stopped for good it names the daemon', async (t) => {
    await onHostOk('systemctl stop sysbox');
    const t0 = Date.now();
    const waited = await onHost(`(sleep 3; systemctl start sysbox) & docker run --runtime=sysbox-runc --rm ${BUSYBOX} head -1 /proc/meminfo; wait`);
    t.diagnostic(`docker run during a 3 s outage took ${Date.now() - t0} ms`);
    assert.equal(waited.status, 0, waited.stderr);
    assert.match(waited.stdout, /^MemTotal:/);
    assert.equal(await onHostOk('systemctl is-active sysbox'), 'active');

    await onHostOk('systemctl stop sysbox');
    const refused = await onHost(`docker run --runtime=sysbox-runc --rm ${BUSYBOX} true`);
    await onHostOk('systemctl start sysbox');
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /sysbox-mgr is not running \(cannot reach \/run\/sysbox\/sysmgr\.sock.*waited 10 s/);
    const stats = await readStats(await nowMs() - 60_000);
    assertNoFailedRead(stats, 'the outage');
  });

  it('takes a log level set by sed on the unit (sysbox-mgr, with --log) and by a drop-in (sysbox-fs)', async () => {
    await onHostOk([
      // The edit operators make to the unit itself: ExecStart then carries --log-level twice.
      "sed -i '/^ExecStart/ s|$| --log-level debug --log /var/log/sysbox-mgr.log|' /lib/systemd/system/sysbox-mgr.service",
      'mkdir -p /etc/systemd/system/sysbox-fs.service.d',
      'printf "[Service]\\nExecStart=\\nExecStart=/usr/bin/sysbox-fs --log-level debug\\n" > /etc/systemd/system/sysbox-fs.service.d/override.conf',
      'systemctl daemon-reload',
    ].join(' && '));
    const since = await onHostOk('date "+%Y-%m-%d %H:%M:%S"');
    await onHostOk('systemctl restart sysbox');
    await onHostOk(`docker run --runtime=sysbox-runc --rm ${BUSYBOX} cat /proc/uptime`);
    assert.match(await onHostOk(`tr '\\0' ' ' < /proc/${await mainPid('sysbox-mgr')}/cmdline`), /--log-level info --log-level debug --log \/var\/log\/sysbox-mgr\.log/);
    assert.match(await onHostOk('cat /var/log/sysbox-mgr.log'), /level=debug/);
    assert.match(await onHostOk(`journalctl -u sysbox-fs --since "${since}" --no-pager -o cat`), /level=debug/);
    await onHostOk([
      "sed -i 's| --log-level debug --log /var/log/sysbox-mgr.log$||' /lib/systemd/system/sysbox-mgr.service",
      'rm -rf /etc/systemd/system/sysbox-fs.service.d /var/log/sysbox-mgr.log',
      'systemctl daemon-reload && systemctl restart sysbox',
    ].join(' && '));
    assert.doesNotMatch(await onHostOk(`tr '\\0' ' ' < /proc/${await mainPid('sysbox-fs')}/cmdline`), /debug/);
    assert.doesNotMatch(await onHostOk(`tr '\\0' ' ' < /proc/${await mainPid('sysbox-mgr')}/cmdline`), /debug/);
  });

  it('kill -9 of each daemon: systemd restarts it, the containers keep reading', async (t) => {
    for (const unit of ['sysbox-mgr', 'sysbox-fs']) {
      const pid = await mainPid(unit);
      const t0 = await nowMs();
      await onHostOk(`kill -9 ${pid}`);
      let now = pid;
      for (let i = 0; i < 100 && (now === pid || now === '0'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        now = await mainPid(unit);
      }
      assert.notEqual(now, pid, `${unit} restarted`);
      await onHostOk(`for i in $(seq 50); do systemctl is-active --quiet ${unit} && exit 0; sleep 0.1; done; exit 1`);
      await new Promise((r) => setTimeout(r, 1500));
      const stats = await readStats(t0);
      t.diagnostic(`kill -9 ${unit}: ${stats.reads} reads, ${stats.fails} failed, longest pause ${stats.maxGapMs} ms`);
      assertNoFailedRead(stats, `kill -9 ${unit}`);
    }
    await onHostOk(`docker run --runtime=sysbox-runc --rm ${BUSYBOX} cat /proc/uptime`);
    await innerDockerWorks();
  });

  it('dpkg --remove refuses while system containers run, naming them, and leaves Sysbox running', async () => {
    const r = await onHost('dpkg --remove sysbox');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /system containers are still running on Sysbox/);
    const ids = await onHostOk('docker ps -q --no-trunc');
    for (const id of ids.split('\n')) assert.ok(r.stderr.includes(id), `the message names ${id}`);
    assert.match(await onHostOk("dpkg-query -W -f='${Status}' sysbox"), /install ok installed/);
    assert.equal(await unitStates(), 'sysbox-fs.service active running\nsysbox-mgr.service active running\nsysbox.service active exited');
    assertNoFailedRead(await readStats(await nowMs() - 5_000), 'the refused remove');
  });

  it('dpkg --remove once they are gone: binaries, units and the runtime entry go; a stopped container is warned about', async () => {
    await onHostOk(`docker rm -f ${READERS.join(' ')} >/dev/null && docker create --runtime=sysbox-runc --name parked ${BUSYBOX} >/dev/null`);
    const r = await onHost('dpkg --remove sysbox');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /use the sysbox-runc runtime and cannot start once it is gone:\n {2}parked \(created\)/);
    assert.equal(await onHostOk('ls /usr/bin/sysbox-runc /usr/lib/sysbox /lib/systemd/system/sysbox.service 2>&1 | grep -c "No such file"'), '3');
    assert.equal(await onHostOk('cat /etc/docker/daemon.json'), daemonJson.trim());
    // `systemctl reload docker` returns before dockerd has read the file again.
    assert.equal(await onHostOk(`for i in $(seq 50); do docker info --format '{{range $k, $v := .Runtimes}}{{$k}} {{end}}' | grep -q sysbox-runc || { echo gone; exit 0; }; sleep 0.1; done; echo still-there`), 'gone');
    // Only a dangling enablement link is left (debhelper keeps it until purge): loaded, nothing.
    assert.equal(await onHostOk('systemctl list-units --all --no-legend "sysbox*" | grep -v "not-found inactive dead" | wc -l'), '0');
    assert.match(await onHostOk('getent passwd sysbox; ls /var/lib/sysbox'), /^sysbox:/, 'remove keeps the user and state');
    await onHostOk('docker rm parked');
  });

  it('dpkg --purge leaves nothing: dpkg knows nothing, no process or mount, the file system as before install', async () => {
    await onHostOk('dpkg --purge sysbox');
    assert.notEqual((await onHost('dpkg -L sysbox')).status, 0);
    assert.equal(await onHostOk('pgrep -af "sysbox-(mgr|fs)" || true'), '');
    // (/var/lib/sysbox itself is the stand-in host's state volume: emptied, not removed.)
    assert.equal(await onHostOk("awk '$5 ~ /sysbox/ && $5 != \"/var/lib/sysbox\"' /proc/self/mountinfo"), '');
    assert.equal(await onHostOk('ls -A /var/lib/sysbox'), '', 'the state volume is empty');
    assert.equal(await onHostOk('systemctl daemon-reload && systemctl list-units --all --no-legend "sysbox*"'), '', 'systemd knows no sysbox unit');
    assert.equal(await onHostOk('grep -c ^alice:165536:65536$ /etc/subuid'), '1', "alice's range is still there");
    const after = await onHostOk(SNAPSHOT);
    const a = snapshot0.split('\n'); const b = after.split('\n');
    const gone = a.filter((l) => !b.includes(l)); const added = b.filter((l) => !a.includes(l));
    assert.deepEqual({ gone, added }, { gone: [], added: [] }, 'install + purge changed the file system');
  });

  it('reinstalls over a daemon.json that is not JSON: installs, leaves the file alone, says how to register later', async () => {
    await onHostOk(`printf '{ "log-level": "info",' > /etc/docker/daemon.json`);
    const r = await onHost('DEBIAN_FRONTEND=noninteractive apt-get install -y /root/sysbox_0.1.0_amd64.deb 2>&1');
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /daemon\.json is not valid JSON .*left untouched/);
    assert.match(r.stdout, /sysbox-runc is NOT registered with Docker/);
    assert.equal(await onHostOk('cat /etc/docker/daemon.json'), '{ "log-level": "info",');
    assert.equal(await onHostOk('systemctl is-active sysbox'), 'active');
    await onHostOk(`printf '%s' '${daemonJson}' > /etc/docker/daemon.json && /usr/lib/sysbox/sysbox-docker-runtime add`);
    assert.equal(await onHostOk(`docker run --runtime=sysbox-runc --rm ${BUSYBOX} sh -c 'cat /proc/self/uid_map | tr -s " "'`), '0 231072 65536');
    await onHostOk('dpkg --purge sysbox');
  });

  it('installs with Docker absent, saying how to register later; registering then works', async () => {
    await onHostOk('systemctl stop docker.socket docker containerd && mv /usr/sbin/dockerd /usr/sbin/dockerd.away && mv /etc/docker /etc/docker.away');
    try {
      const r = await onHost('DEBIAN_FRONTEND=noninteractive apt-get install -y /root/sysbox_0.1.0_amd64.deb 2>&1');
      assert.equal(r.status, 0, r.stdout);
      assert.match(r.stdout, /Docker is not installed\. Once it is, register the runtime with:\r?\n {2}\/usr\/lib\/sysbox\/sysbox-docker-runtime add/);
      assert.equal(await onHostOk('test -e /etc/docker && echo present || echo absent'), 'absent');
      assert.equal(await onHostOk('systemctl is-active sysbox'), 'active');
    } finally {
      await onHostOk('mv /usr/sbin/dockerd.away /usr/sbin/dockerd && mv /etc/docker.away /etc/docker && systemctl start docker');
    }
    await onHostOk('/usr/lib/sysbox/sysbox-docker-runtime add');
    assert.match(await onHostOk(`docker run --runtime=sysbox-runc --rm ${BUSYBOX} head -1 /proc/meminfo`), /^MemTotal:/);
    await onHostOk('dpkg --purge sysbox');
  });
});
