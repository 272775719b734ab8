// A system container started by Docker: its own user namespace on an exclusive id range, processes
// running as unprivileged host ids, a root that owns and can change everything in its rootfs.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { BOOKWORM, BUSYBOX, docker, dockerOk, hostRootId, removeContainers, run, uniqueName } from '../lib/env.js';

describe('docker run --runtime=sysbox-runc', () => {
  const names: string[] = [];
  after(() => removeContainers(...names));

  it('runs as root inside a user namespace mapped onto 65536 unprivileged host ids', async () => {
    const out = await dockerOk('run', '--runtime=sysbox-runc', '--rm', BUSYBOX, 'sh', '-c', 'id -u; cat /proc/self/uid_map; cat /proc/self/gid_map');
    const [uid, uidMap, gidMap] = out.split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    assert.deepEqual(uid, [0]);
    assert.equal(uidMap![0], 0);
    assert.ok(uidMap![1]! > 0, `host id must be non-zero: ${out}`);
    assert.equal(uidMap![2], 65536);
    assert.deepEqual(gidMap, uidMap);
  });

  it('gives two running containers disjoint ranges, and their processes run as those host ids', async () => {
    const a = uniqueName('basic-a');
    const b = uniqueName('basic-b');
    names.push(a, b);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', a, BUSYBOX, 'sleep', '300');
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', b, BUSYBOX, 'sleep', '300');
    const ia = await hostRootId(a);
    const ib = await hostRootId(b);
    assert.ok(ia + 65536 <= ib || ib + 65536 <= ia, `ranges overlap: ${ia} and ${ib}`);
    for (const [name, id] of [[a, ia], [b, ib]] as const) {
      const pid = await dockerOk('inspect', '-f', '{{.State.Pid}}', name);
      const ps = await run('ps', ['-o', 'uid=', '-p', pid]);
      assert.equal(Number(ps.stdout.trim()), id, `init of ${name} must run as host uid ${id}`);
    }
  });

  it('lets root write and chown anywhere in / and keeps setuid bits', async () => {
    const out = await dockerOk('run', '--runtime=sysbox-runc', '--rm', BOOKWORM, 'bash', '-c', [
      'set -e',
      'stat -c "%U %a" /usr/bin/passwd /usr/bin/su',
      'touch /etc/new-file /usr/lib/new-file /new-file',
      'chown 1234:2345 /usr/lib/new-file && stat -c "%u:%g" /usr/lib/new-file',
      'useradd -m alice && stat -c "%U" /home/alice',
      'chmod 4755 /usr/lib/new-file && stat -c "%a" /usr/lib/new-file',
      'stat -c "%U" /',
    ].join('\n'));
    assert.deepEqual(out.split('\n'), ['root 4755', 'root 4755', '1234:2345', 'alice', '4755', 'root']);
  });

  it('gives root full capabilities inside its namespaces and none over the host', async () => {
    const r = await docker('run', '--runtime=sysbox-runc', '--rm', BUSYBOX, 'sh', '-c', [
      'grep CapEff /proc/self/status',
      'mount -t tmpfs tmpfs /mnt && echo mount-ok',
      'unshare -U -r id -u',
      'hostname inner && hostname',
      'echo 1 > /proc/sys/net/ipv4/ip_forward && cat /proc/sys/net/ipv4/ip_forward',
      // Host-wide: sysbox-fs keeps the value for this container alone (sysbox-fs.test.ts).
      'echo 7 > /proc/sys/kernel/panic && cat /proc/sys/kernel/panic',
      'mknod /tmp/sda b 8 0 2>/dev/null || echo mknod-refused',
    ].join('\n'));
    const hostPanic = (await run('cat', ['/proc/sys/kernel/panic'])).stdout.trim();
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.trim()), [
      'CapEff:\t000001ffffffffff', 'mount-ok', '0', 'inner', '1', '7', 'mknod-refused',
    ]);
    assert.notEqual(hostPanic, '7', 'a host-wide sysctl must not change');
  });

  it('passes a terminal through (console socket)', async () => {
    const out = await dockerOk('run', '--runtime=sysbox-runc', '-t', '--rm', BUSYBOX, 'tty');
    assert.match(out, /^\/dev\/pts\/\d+$/);
  });

  it('runs with a plain runc container alongside', async () => {
    const out = await dockerOk('run', '--rm', BUSYBOX, 'cat', '/proc/self/uid_map');
    assert.match(out, /^0\s+0\s+4294967295$/);
    const sys = await docker('run', '--runtime=sysbox-runc', '--rm', BUSYBOX, 'true');
    assert.equal(sys.status, 0, sys.stderr);
  });
});
