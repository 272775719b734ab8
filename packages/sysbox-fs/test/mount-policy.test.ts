// Decisions on trapped mount/umount2 calls.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMountInfo } from '@sysbox/common/mountinfo';
import { cleanFlags, decide, MS_BIND, MS_RDONLY, MS_REMOUNT } from '../src/seccomp/mount-policy.js';

const MOUNTINFO = [
  '100 99 0:50 / / rw,relatime - overlay overlay rw',
  '101 100 0:51 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
  '102 101 0:40 /3/proc/uptime /proc/uptime rw,nosuid,nodev,relatime - fuse.sysboxfs sysboxfs rw,user_id=0',
  '103 101 0:51 /bus /proc/bus ro,nosuid,nodev,noexec,relatime - proc proc rw',
  '104 101 0:5 /null /proc/kcore rw,nosuid - devtmpfs udev rw',
  '105 100 0:52 / /mnt/with\\040space rw - tmpfs t rw',
].join('\n');
const mounts = () => parseMountInfo(MOUNTINFO);

describe('mount policy', () => {
  it('parses mountinfo, unescaping octal escapes', () => {
    const m = mounts();
    assert.equal(m.length, 6);
    assert.equal(m[5].mountPoint, '/mnt/with space');
    assert.equal(m[2].fsType, 'fuse.sysboxfs');
    assert.equal(m[2].device, '0:40');
    assert.deepEqual(m[3].options.slice(0, 2), ['ro', 'nosuid']);
  });

  it('a new procfs or sysfs is emulated; other mounts continue', () => {
    assert.deepEqual(decide({ kind: 'mount', target: '/mnt/p', fstype: 'proc', flags: 0, source: 'proc' }, mounts, true, '0:40'), { action: 'mount-fs', fstype: 'proc', flags: 0, data: '' });
    assert.equal(decide({ kind: 'mount', target: '/mnt/s', fstype: 'sysfs', flags: 0 }, mounts, false, '0:40').action, 'mount-fs');
    assert.equal(decide({ kind: 'mount', target: '/mnt', fstype: 'tmpfs', flags: 0 }, mounts, true, '0:40').action, 'continue');
    assert.equal(decide({ kind: 'mount', target: '/mnt', fstype: 'proc', flags: MS_BIND, source: '/proc' }, mounts, true, '0:40').action, 'continue');
    assert.equal(cleanFlags(0xc0ed0000 | MS_RDONLY), MS_RDONLY, 'the legacy magic number is dropped');
  });

  it('virtual files cannot be unmounted, anywhere; initial read-only masks only in the initial namespace', () => {
    assert.equal(decide({ kind: 'umount', target: '/proc/uptime', flags: 0 }, mounts, false, '0:41').action, 'continue', 'another sysbox-fs\'s mount (nested) is not ours to protect');
    assert.deepEqual(decide({ kind: 'umount', target: '/proc/uptime', flags: 0 }, mounts, false, '0:40'), { action: 'fail', errno: 1 });
    assert.equal(decide({ kind: 'umount', target: '/proc/bus', flags: 0 }, mounts, true, '0:40').action, 'fail');
    assert.equal(decide({ kind: 'umount', target: '/proc/kcore', flags: 0 }, mounts, true, '0:40').action, 'fail');
    assert.equal(decide({ kind: 'umount', target: '/proc/bus', flags: 0 }, mounts, false, '0:40').action, 'continue');
    assert.equal(decide({ kind: 'umount', target: '/mnt/with space', flags: 0 }, mounts, true, '0:40').action, 'continue');
  });

  it('remounting a protected mount read-write is refused; read-only is allowed', () => {
    assert.equal(decide({ kind: 'mount', target: '/proc/bus', flags: MS_REMOUNT, fstype: '' }, mounts, true, '0:40').action, 'fail');
    assert.equal(decide({ kind: 'mount', target: '/proc/bus', flags: MS_REMOUNT | MS_BIND | MS_RDONLY, fstype: '' }, mounts, true, '0:40').action, 'continue');
    assert.equal(decide({ kind: 'mount', target: '/', flags: MS_REMOUNT, fstype: '' }, mounts, true, '0:40').action, 'continue');
  });
});
