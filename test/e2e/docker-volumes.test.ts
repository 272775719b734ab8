// Host directories and named volumes are ID-mapped into a system container: host owners show as
// themselves inside, and what the container's root (or uid 1000) writes lands on the host with the
// same ids, not with the container's shifted host ids.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUSYBOX, docker, dockerOk, removeContainers, uniqueName } from '../lib/env.js';

function owner(file: string): string {
  const st = fs.statSync(file);
  return `${st.uid}:${st.gid}`;
}

describe('volumes of a sysbox-runc container', () => {
  const dir = path.join('/tmp', uniqueName('sysbox-e2e-vol'));
  const volume = uniqueName('sysbox-e2e-vol');
  const names: string[] = [];

  before(() => {
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chownSync(dir, 1000, 1000);
  });

  after(async () => {
    await removeContainers(...names);
    await docker('volume', 'rm', '-f', volume);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a host dir owned by 1000 shows as 1000 inside; files written inside keep their ids on the host', async () => {
    const out = await dockerOk('run', '--rm', '--runtime=sysbox-runc', '-v', `${dir}:/data`, BUSYBOX, 'sh', '-c', [
      'set -e',
      'stat -c "%u:%g" /data',
      'touch /data/by-root',
      'touch /data/chowned && chown 1000:1000 /data/chowned',
      'stat -c "%u:%g" /data/by-root /data/chowned',
      'cat /proc/self/uid_map',
    ].join('\n'));
    const lines = out.split('\n').map((l) => l.trim());
    assert.deepEqual(lines.slice(0, 3), ['1000:1000', '0:0', '1000:1000']);
    const hostRoot = Number(lines[3]!.split(/\s+/)[1]);
    assert.ok(hostRoot >= 1_000_000_000, `the container must run shifted (uid_map ${lines[3]})`);
    // Host root, not the container root's host id: the bind is ID-mapped.
    assert.equal(owner(path.join(dir, 'by-root')), '0:0');
    assert.equal(owner(path.join(dir, 'chowned')), '1000:1000');
  });

  it('a process running as uid 1000 inside creates files owned by 1000 on the host', async () => {
    const name = uniqueName('vol-user');
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, '-v', `${dir}:/data`, BUSYBOX, 'sleep', '300');
    const out = await dockerOk('exec', '-u', '1000:1000', name, 'sh', '-c', 'id -u; touch /data/by-user; stat -c "%u:%g" /data/by-user');
    assert.deepEqual(out.split('\n'), ['1000', '1000:1000']);
    assert.equal(owner(path.join(dir, 'by-user')), '1000:1000');
    // uid 1001 inside is not the owner of the dir and cannot write there (permissions still apply).
    const denied = await docker('exec', '-u', '1001:1001', name, 'touch', '/data/by-1001');
    assert.notEqual(denied.status, 0, 'uid 1001 must not write into a 0755 dir owned by 1000');
    assert.equal(fs.existsSync(path.join(dir, 'by-1001')), false);
  });

  it('a named volume is writable by root inside and its files are owned by host root', async () => {
    await dockerOk('volume', 'create', volume);
    const mountpoint = await dockerOk('volume', 'inspect', '-f', '{{.Mountpoint}}', volume);
    assert.ok(fs.statSync(mountpoint).isDirectory(), mountpoint);
    const out = await dockerOk('run', '--rm', '--runtime=sysbox-runc', '-v', `${volume}:/vol`, BUSYBOX, 'sh', '-c',
      'set -e; echo hello > /vol/file; mkdir /vol/sub; stat -c "%u:%g" /vol /vol/file /vol/sub');
    assert.deepEqual(out.split('\n'), ['0:0', '0:0', '0:0']);
    assert.equal(fs.readFileSync(path.join(mountpoint, 'file'), 'utf8'), 'hello\n');
    assert.equal(owner(path.join(mountpoint, 'file')), '0:0');
    assert.equal(owner(path.join(mountpoint, 'sub')), '0:0');
  });
});
