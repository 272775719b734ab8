import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findMount, outermost, overlayLayers, parseMountInfo } from '../src/mountinfo.js';

const SAMPLE = [
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '46 42 0:39 / /var/lib/docker/overlay2/abc/merged rw,relatime shared:2 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X:/var/lib/docker/overlay2/l/Y,upperdir=/var/lib/docker/overlay2/abc/diff,workdir=/var/lib/docker/overlay2/abc/work',
  '47 22 0:40 / /mnt/with\\040space rw - tmpfs tmpfs rw',
  '48 22 0:41 / /mnt/with\\040space rw - tmpfs tmpfs rw,size=1k',
].join('\n');

describe('mountinfo', () => {
  it('parses mount points, unescaping octal sequences, and finds the topmost', () => {
    const m = parseMountInfo(SAMPLE);
    assert.equal(m.length, 4);
    assert.equal(findMount(m, '/mnt/with space')?.id, 48);
    assert.equal(findMount(m, '/nope'), undefined);
  });

  it('extracts overlay layers', () => {
    const m = findMount(parseMountInfo(SAMPLE), '/var/lib/docker/overlay2/abc/merged')!;
    assert.equal(m.fsType, 'overlay');
    assert.deepEqual(overlayLayers(m.superOptions), {
      lower: ['/var/lib/docker/overlay2/l/X', '/var/lib/docker/overlay2/l/Y'],
      upper: '/var/lib/docker/overlay2/abc/diff',
      work: '/var/lib/docker/overlay2/abc/work',
      volatile: false,
    });
    assert.equal(overlayLayers('rw,lowerdir=/a:/b'), undefined);
  });

  it('tells a volatile overlay (Podman run --rm), whose work dir only takes volatile overlays again', () => {
    assert.equal(overlayLayers('rw,lowerdir=/s/l/A,upperdir=/s/c/diff,workdir=/s/c/work,volatile')?.volatile, true);
    assert.equal(overlayLayers('rw,lowerdir=/s/l/A,upperdir=/s/c/diff,workdir=/s/c/work,uuid=on,fsync=volatile')?.volatile, true);
    assert.equal(overlayLayers('rw,lowerdir=/s/l/A,upperdir=/s/c/diff,workdir=/s/c/work,fsync=auto')?.volatile, false);
  });
});

describe('outermost', () => {
  it('keeps the mount points nothing given is above, once each, in order', () => {
    assert.deepEqual(outermost(['/run/c/x/special/docker', '/var/lib/docker/overlay2/a/merged', '/run/c/x', '/run/c/x/rootfs', '/run/c/x']),
      ['/var/lib/docker/overlay2/a/merged', '/run/c/x']);
  });
  it('takes a shared prefix for no parent', () => {
    assert.deepEqual(outermost(['/run/c/ab', '/run/c/a', '/']), ['/']);
    assert.deepEqual(outermost(['/run/c/ab', '/run/c/a']), ['/run/c/ab', '/run/c/a']);
  });
});
