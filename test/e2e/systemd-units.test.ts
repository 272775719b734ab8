// Sysbox's own systemd units, tested where systemd runs: inside a system container booting systemd
// (the development and CI machines have no systemd as PID 1). The built binaries and the units are
// bound in; sysbox.service must bring sysbox-mgr.service up, restart it, take a log-level change
// made by editing ExecStart, and stop it.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, docker, dockerOk, uniqueName, waitForSystemd } from '../lib/env.js';

const c = uniqueName('units');

function sh(script: string): Promise<string> {
  return dockerOk('exec', c, 'sh', '-c', script);
}

async function mgrPid(): Promise<string> {
  return sh('systemctl show -p MainPID --value sysbox-mgr');
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
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c,
      ...bind('/usr/bin/node', '/usr/bin/node'),
      ...bind(path.join(REPO, 'out/bin'), '/usr/lib/sysbox'),
      ...bind(path.join(REPO, 'systemd/sysbox.service'), '/etc/systemd/system/sysbox.service'),
      ...bind(path.join(REPO, 'systemd/sysbox-mgr.service'), '/etc/systemd/system/sysbox-mgr.service'),
      'sysbox/systemd:latest');
    await waitForSystemd(c);
    await sh('ln -sf /usr/lib/sysbox/sysbox-mgr /usr/bin/sysbox-mgr && ln -sf /usr/lib/sysbox/sysbox-runc /usr/bin/sysbox-runc && systemctl daemon-reload');
  });
  after(() => docker('rm', '-f', c));

  it('start sysbox brings up sysbox-mgr with its socket', async () => {
    await sh('systemctl start sysbox');
    await waitActive('sysbox-mgr');
    assert.equal(await sh('systemctl is-active sysbox'), 'active');
    assert.equal(await sh('stat -c %a /run/sysbox/sysmgr.sock'), '600');
    assert.equal(await sh('stat -c %a /run/sysbox'), '700');
    assert.match(await sh('grep ^sysbox: /etc/subuid'), /^sysbox:\d+:268435456$/);
  });

  it('restart sysbox restarts sysbox-mgr', async () => {
    const before = await mgrPid();
    await sh('systemctl restart sysbox');
    await waitActive('sysbox-mgr');
    const after = await mgrPid();
    assert.notEqual(after, before);
    assert.notEqual(after, '0');
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

  it('stop sysbox stops sysbox-mgr', async () => {
    await sh('systemctl stop sysbox');
    assert.equal((await docker('exec', c, 'systemctl', 'is-active', 'sysbox-mgr')).stdout.trim(), 'inactive');
  });
});
