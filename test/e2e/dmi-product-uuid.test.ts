// /sys/class/dmi/id/product_uuid (kubeadm's node identity) on a host without DMI, like this VM: each
// system container reads a UUID of its own, derived from its id, so the same across execs and
// sysbox-fs restarts, and different in two containers; root-only (0400) like the kernel's. The
// container's own /sys/class/net stays its namespace's under the covered /sys/class.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import { BUSYBOX, docker, dockerOk, fsPid, removeContainers, startFs, startFsIfGone, uniqueName, waitForExit } from '../lib/env.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const READ = 'cat /sys/devices/virtual/dmi/id/product_uuid /sys/class/dmi/id/product_uuid';

describe('product_uuid in a system container', () => {
  const names: string[] = [];
  after(async () => {
    await removeContainers(...names);
    startFsIfGone();
  });

  const start = async (prefix: string): Promise<string> => {
    const c = uniqueName(prefix);
    names.push(c);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, BUSYBOX, 'sleep', '600');
    return c;
  };
  const uuidOf = async (c: string): Promise<string> => {
    const [a, b] = (await dockerOk('exec', c, 'sh', '-c', READ)).split('\n');
    assert.equal(a, b, 'the /sys/class path leads to the same file');
    return a;
  };

  it('is a lowercase UUID of the container\'s own at both paths, root-only, even where the host has no DMI', { skip: fs.existsSync('/sys/class/dmi') ? 'this host has DMI' : false }, async () => {
    const [c1, c2] = [await start('uuid-a'), await start('uuid-b')];
    const u1 = await uuidOf(c1);
    assert.match(u1, UUID);
    assert.equal(await uuidOf(c1), u1, 'the same on the next exec');
    const u2 = await uuidOf(c2);
    assert.match(u2, UUID);
    assert.notEqual(u1, u2, 'another container, another uuid');
    assert.equal(await dockerOk('exec', c1, 'readlink', '/sys/class/dmi/id'), '../../devices/virtual/dmi/id');
    assert.equal(await dockerOk('exec', c1, 'stat', '-c', '%a %U %G', '/sys/devices/virtual/dmi/id/product_uuid'), '400 root root');
    assert.equal(await dockerOk('exec', c1, 'ls', '/sys/devices/virtual/dmi/id'), 'product_uuid');
    const other = await docker('exec', '-u', '1000', c1, 'cat', '/sys/class/dmi/id/product_uuid');
    assert.notEqual(other.status, 0, 'not readable by a non-root user');
    const w = await docker('exec', c1, 'sh', '-c', 'echo x > /sys/class/dmi/id/product_uuid');
    assert.notEqual(w.status, 0, 'not writable');
    // /sys/class is covered to add dmi: its net is still the container's namespace's.
    assert.deepEqual((await dockerOk('exec', c1, 'ls', '/sys/class/net')).split(/\s+/).sort(), ['eth0', 'lo']);
    assert.equal(await dockerOk('exec', c1, 'cat', '/sys/class/net/lo/operstate'), 'unknown');
  });

  it('stays the same across a sysbox-fs restart', async () => {
    const c = await start('uuid-restart');
    const before = await uuidOf(c);
    assert.match(before, UUID);
    const old = fsPid();
    process.kill(old, 'SIGTERM');
    assert.ok(await waitForExit(old), 'sysbox-fs must exit on SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    startFs();
    assert.notEqual(fsPid(), old);
    assert.equal(await uuidOf(c), before);
  });
});
