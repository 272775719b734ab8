// Sysbox's own systemd units, tested where systemd runs: inside a system container booting systemd
// (the development and CI machines have no systemd as PID 1). The built binaries and the units are
// bound in; sysbox.service must bring sysbox-mgr.service and sysbox-fs.service up, restart them,
// take a log-level change made by editing ExecStart, and stop them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, docker, dockerOk, uniqueName, waitForSystemd } from '../lib/env.js';

const c = uniqueName('units');
const devDir = `/var/tmp/${c}`;

function sh(script: string): Promise<string> {
  return dockerOk('exec', c, 'sh', '-c', script);
}

async function mgrPid(): Promise<string> {
  return sh('systemctl show -p MainPID --value sysbox-mgr');
}

async function fsPid(): Promise<string> {
  return sh('systemctl show -p MainPID --value sysbox-fs');
}

async function waitFs(): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if ((await docker('exec', c, 'test', '-S', '/run/sysbox/sysfs.sock')).status === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  const log = await docker('exec', c, 'journalctl', '-u', 'sysbox-fs', '--no-pager', '-n', '20');
  throw new Error(`sysbox-fs did not come up; journal:\n${log.stdout}`);
}

async function waitActive(unit: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if ((await docker('exec', c, 'systemctl', 'is-active', unit)).stdout.trim() === 'active'
      && (await docker('exec', c, 'test', '-S', '/run/sysbox/sysmgr.sock')).status === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  const log = await docker('exec', c, 'journalctl', '-u', unit, '--no-pager', '-n', '20');
  throw new Error(`${unit} did not become active with its socket; journal:\n${log.stdout}`);
}

describe('systemd units', () => {
  before(async () => {
    const bind = (from: string, to: string): string[] => ['-v', `${from}:${to}:ro`];
    // sysbox-fs serves FUSE: the container needs a /dev/fuse its root can open. The host's may be
    // 0600 root (no udev here) and must not be changed, so bind in a node of our own, 0666.
    fs.mkdirSync(devDir, { recursive: true });
    execFileSync('mknod', ['-m', '0666', path.join(devDir, 'fuse'), 'c', '10', '229']);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c,
      '--device-cgroup-rule', 'c 10:229 rwm', '-v', `${path.join(devDir, 'fuse')}:/dev/fuse`,
      ...bind('/usr/bin/node', '/usr/bin/node'),
      ...bind(path.join(REPO, 'out/bin'), '/usr/lib/sysbox'),
      ...bind(path.join(REPO, 'systemd/sysbox.service'), '/etc/systemd/system/sysbox.service'),
      ...bind(path.join(REPO, 'systemd/sysbox-mgr.service'), '/etc/systemd/system/sysbox-mgr.service'),
      ...bind(path.join(REPO, 'systemd/sysbox-fs.service'), '/etc/systemd/system/sysbox-fs.service'),
      'sysbox/systemd:latest');
    await waitForSystemd(c);
    await sh('ln -sf /usr/lib/sysbox/sysbox-mgr /usr/bin/sysbox-mgr && ln -sf /usr/lib/sysbox/sysbox-fs /usr/bin/sysbox-fs && ln -sf /usr/lib/sysbox/sysbox-runc /usr/bin/sysbox-runc && systemctl daemon-reload');
  });
  after(async () => {
    await docker('rm', '-f', c);
    fs.rmSync(devDir, { recursive: true, force: true });
  });

  it('start sysbox brings up sysbox-mgr with its socket', async () => {
    await sh('systemctl start sysbox');
    assert.equal(await sh('test -S /run/sysbox/sysmgr.sock && test -S /run/sysbox/sysfs.sock && echo ready'), 'ready');
    await waitActive('sysbox-mgr');
    assert.equal(await sh('systemctl is-active sysbox'), 'active');
    assert.equal(await sh('stat -c %a /run/sysbox/sysmgr.sock'), '600');
    assert.equal(await sh('stat -c %a /run/sysbox'), '700');
    assert.match(await sh('grep ^sysbox: /etc/subuid'), /^sysbox:\d+:268435456$/);
    await waitFs();
    assert.equal(await sh('systemctl is-active sysbox-fs'), 'active');
    assert.match(await sh('grep fuse.sysboxfs /proc/self/mountinfo'), / \/var\/lib\/sysboxfs /);
    assert.match(await sh('head -1 /var/lib/sysboxfs/0/proc/meminfo'), /^MemTotal:/);
  });

  it('restart sysbox restarts sysbox-mgr', async () => {
    const before = await mgrPid();
    const fsBefore = await fsPid();
    await sh('systemctl restart sysbox');
    // Ready when `systemctl restart` returns: a `docker run` right after must find both sockets.
    assert.equal(await sh('test -S /run/sysbox/sysmgr.sock && test -S /run/sysbox/sysfs.sock && echo ready'), 'ready');
    await waitActive('sysbox-mgr');
    await waitFs();
    const after = await mgrPid();
    assert.notEqual(after, before);
    assert.notEqual(after, '0');
    assert.notEqual(await fsPid(), fsBefore, 'sysbox-fs restarted too');
    assert.match(await sh('head -1 /var/lib/sysboxfs/0/proc/meminfo'), /^MemTotal:/);
  });

  it('takes a log level set by editing ExecStart', async () => {
    await sh([
      'mkdir -p /etc/systemd/system/sysbox-mgr.service.d',
      'printf "[Service]\\nExecStart=\\nExecStart=/usr/bin/sysbox-mgr --log-level debug\\n" > /etc/systemd/system/sysbox-mgr.service.d/log.conf',
      'systemctl daemon-reload',
      'systemctl restart sysbox',
    ].join(' && '));
    await waitActive('sysbox-mgr');
    assert.match(await sh(`tr '\\0' ' ' < /proc/${await mgrPid()}/cmdline`), /--log-level debug/);
  });

  it('stop sysbox stops sysbox-mgr and sysbox-fs, which unmounts its file system (no container uses it)', async () => {
    await sh('systemctl stop sysbox');
    assert.equal((await docker('exec', c, 'systemctl', 'is-active', 'sysbox-mgr')).stdout.trim(), 'inactive');
    assert.equal((await docker('exec', c, 'systemctl', 'is-active', 'sysbox-fs')).stdout.trim(), 'inactive');
    assert.equal((await docker('exec', c, 'grep', '-c', ' /var/lib/sysboxfs ', '/proc/self/mountinfo')).stdout.trim(), '0');
    assert.equal((await docker('exec', c, 'sh', '-c', 'pgrep -f -- "[s]ysbox-fs --keeper" || true')).stdout.trim(), '', 'the fd keeper is gone');
  });
});
