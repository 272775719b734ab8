// Concurrent `docker run`s: sysbox-mgr serialises allocation, so ten containers started at once
// all succeed with pairwise-disjoint id ranges, and removing them releases everything.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  BUSYBOX, containerIdOf, docker, hostMountsMatching, hostRootId, leftoversOf, mgrRecordFile, MOUNT_ROOT,
  removeContainers, uniqueName,
} from '../lib/env.js';

const N = 10;

describe('parallel docker run --runtime=sysbox-runc', () => {
  const names = Array.from({ length: N }, (_, i) => uniqueName(`par${i}`));
  after(() => removeContainers(...names));

  it(`starts ${N} containers at once on disjoint ranges and releases all of them`, async () => {
    const results = await Promise.all(names.map((n) => docker('run', '-d', '--runtime=sysbox-runc', '--name', n, BUSYBOX, 'sleep', '300')));
    results.forEach((r, i) => assert.equal(r.status, 0, `docker run ${names[i]} failed: ${r.stderr}`));

    const ids = await Promise.all(names.map((n) => containerIdOf(n)));
    const hostIds = await Promise.all(names.map((n) => hostRootId(n)));
    for (const id of ids) {
      assert.ok(fs.existsSync(path.join(MOUNT_ROOT, id)), `run dir of ${id}`);
      assert.ok(fs.existsSync(mgrRecordFile(id)), `sysbox-mgr record of ${id}`);
      assert.ok(hostMountsMatching(id).length > 0, `mounts of ${id}`);
    }
    const sorted = [...hostIds].sort((x, y) => x - y);
    for (let i = 1; i < sorted.length; i++) {
      assert.ok(sorted[i - 1]! + 65536 <= sorted[i]!, `ranges overlap: ${sorted[i - 1]} and ${sorted[i]} (all: ${hostIds.join(', ')})`);
    }

    const rm = await docker('rm', '-f', ...names);
    assert.equal(rm.status, 0, rm.stderr);
    for (const [i, id] of ids.entries()) {
      assert.deepEqual(leftoversOf(id), [], `left behind for ${names[i]}`);
    }
    const ps = await docker('ps', '-aq', '--no-trunc');
    for (const id of ids) assert.ok(!ps.stdout.includes(id), `docker still lists ${id}`);
  });
});
