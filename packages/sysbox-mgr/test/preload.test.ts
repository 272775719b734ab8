import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMountInfo } from '../src/mountinfo.js';
import { canArchiveInto } from '../src/preload.js';

const MERGED = '/var/lib/docker/1500000000.1500000000/overlay2/abc/merged';
const MOUNTED = parseMountInfo([
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  `46 22 0:39 / ${MERGED} rw,relatime shared:2 - overlay overlay rw,lowerdir=/l/X,upperdir=/u,workdir=/w`,
].join('\n'));
const UNMOUNTED = parseMountInfo('22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw');

describe('canArchiveInto', () => {
  it("takes Docker's rootfs (userns-remap) only while it is still mounted", () => {
    assert.equal(canArchiveInto(MERGED, false, () => MOUNTED), true);
    // Docker unmounted it after the stop: the bare dir must not receive the archive.
    assert.equal(canArchiveInto(MERGED, false, () => UNMOUNTED), false);
    assert.equal(canArchiveInto(`${MERGED}/`, false, () => UNMOUNTED), false);
  });

  it("always takes sysbox-mgr's own shifted rootfs (held until the container is released)", () => {
    assert.equal(canArchiveInto('/run/sysbox-containers/abc/rootfs', true, () => UNMOUNTED), true);
  });
});
