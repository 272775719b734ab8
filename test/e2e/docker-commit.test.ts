// What a system container writes is stored with its real (in-container) owners: `docker commit`
// and `docker export` carry 0:0 and 1234:2345, never the container's shifted host ids.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BOOKWORM, DOCKER, DOCKER_HOST, docker, dockerOk, removeContainers, run, uniqueName } from '../lib/env.js';

/** Files the system container leaves behind, with the owners they must keep. */
const EXPECTED: Record<string, string> = {
  'owned-file': '1234:2345',
  'root/root-file': '0:0',
  'newdir': '0:0',
  'newdir/inside': '0:0',
};

const WRITE = [
  'set -e',
  'echo data > /owned-file',
  'chown 1234:2345 /owned-file',
  'echo data > /root/root-file',
  'mkdir /newdir',
  'echo data > /newdir/inside',
  // Checked inside too, so a failure below points at commit/export rather than at chown.
  'stat -c "%u:%g" /owned-file /root/root-file /newdir /newdir/inside',
  // The container itself runs shifted: its root is a high host id, not host root.
  'cat /proc/self/uid_map',
].join('\n');

describe('docker commit / export of a sysbox-runc container', () => {
  const container = uniqueName('commit-src');
  const image = `${uniqueName('sysbox-commit')}:test`;

  before(async () => {
    const out = await dockerOk('run', '--runtime=sysbox-runc', '--name', container, BOOKWORM, 'bash', '-c', WRITE);
    const lines = out.split('\n');
    assert.deepEqual(lines.slice(0, 4), Object.values(EXPECTED));
    const [inside, outside, size] = lines[4]!.trim().split(/\s+/).map(Number);
    assert.deepEqual([inside, size], [0, 65536]);
    assert.ok(outside! >= 1_000_000_000, `the container must run shifted: ${lines[4]}`);
  });

  after(async () => {
    await removeContainers(container);
    await docker('rmi', '-f', image);
  });

  it('a committed image, run with plain runc, shows the owners set inside (not shifted ids)', async () => {
    await dockerOk('commit', container, image);
    const paths = Object.keys(EXPECTED).map((p) => `/${p}`);
    const out = await dockerOk('run', '--rm', image, 'stat', '-c', '%n %u:%g', ...paths);
    const got = Object.fromEntries(out.split('\n').map((l) => {
      const [name, owner] = l.trim().split(' ');
      return [name!.slice(1), owner!];
    }));
    assert.deepEqual(got, EXPECTED);
    // The plain runc container really is unmapped: these are host ids as well.
    assert.match(await dockerOk('run', '--rm', image, 'cat', '/proc/self/uid_map'), /^0\s+0\s+4294967295$/);
  });

  it('docker export of the stopped container lists the files with their numeric owners', async () => {
    assert.equal(await dockerOk('inspect', '-f', '{{.State.Running}}', container), 'false');
    // The bookworm tarball is too large to buffer whole: list it in a pipeline.
    const r = await run('bash', ['-c', 'set -o pipefail; "$0" -H "$1" export "$2" | tar -tvf - --numeric-owner', DOCKER, DOCKER_HOST, container]);
    assert.equal(r.status, 0, r.stderr);
    const owners = new Map<string, string>();
    for (const line of r.stdout.split('\n')) {
      // drwxr-xr-x 0/0 0 2024-01-01 00:00 newdir/
      const f = line.trim().split(/\s+/);
      if (f.length < 6) continue;
      owners.set(f.slice(5).join(' ').replace(/^\.\//, '').replace(/\/$/, ''), f[1]!);
    }
    for (const [p, owner] of Object.entries(EXPECTED)) {
      assert.equal(owners.get(p), owner.replace(':', '/'), `owner of ${p} in the export`);
    }
    // Nothing in the exported tree carries an id from the test's subid pool.
    const shifted = [...owners].filter(([, o]) => o.split('/').some((n) => Number(n) >= 65536 * 2));
    assert.deepEqual(shifted, []);
  });
});
