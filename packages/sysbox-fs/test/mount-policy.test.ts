// Decisions on trapped mount/umount2 calls.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMountInfo } from '@sysbox/common/mountinfo';
import { cleanFlags, decide, decideSetattr, devicesBelow, initialMounts, MOUNT_ATTR_RDONLY, MS_BIND, MS_RDONLY, MS_REMOUNT, type Immutability, type SetattrCall } from '../src/seccomp/mount-policy.js';
import { deviceName } from '../src/seccomp/setattr.js';

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

// The container as runc left it: a read-only volume, a resolv.conf bind, a tmpfs.
const INITIAL = parseMountInfo([
  '200 199 0:60 / / rw,relatime - overlay overlay rw',
  '201 200 8:1 /vols/myvol /mnt/myvol ro,relatime - ext4 /dev/sda1 rw',
  '202 200 8:1 /containers/abc/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/sda1 rw',
  '203 200 0:61 / /run rw - tmpfs tmpfs rw',
  '204 200 0:40 /3/proc/uptime /proc/uptime rw - fuse.sysboxfs sysboxfs rw',
].join('\n'));
// The same mounts in another mount namespace (unshare -m: new ids), a chroot's view, a new mount.
const UNSHARED = [
  '300 299 0:60 / / rw,relatime - overlay overlay rw',
  '301 300 8:1 /vols/myvol /mnt/myvol ro,relatime - ext4 /dev/sda1 rw',
  '302 300 8:1 /containers/abc/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/sda1 rw',
  '303 300 0:61 / /run rw - tmpfs tmpfs rw',
  '305 300 0:70 / /mnt/scratch ro - tmpfs tmpfs rw',
].join('\n');
const CHROOTED = '401 400 8:1 /vols/myvol /myvol ro,relatime - ext4 /dev/sda1 rw';
// pivot_root(".", ".") leaves the old root stacked on the new one at "/": an inner container's
// rootfs, or (systemd's unit sandboxing) a bind of the container's own root, listed last or first.
const PIVOTED = ['500 499 0:80 / / rw - overlay overlay rw', '501 500 0:60 / / rw - overlay overlay rw'].join('\n');
const PIVOTED_SELF = ['601 600 0:60 / / rw - overlay overlay rw', '600 599 0:60 / / rw - overlay overlay rw'].join('\n');

describe('initial mount immutability', () => {
  const im = (allowRemounts: boolean, allowUnmounts: boolean): Immutability => ({ initial: initialMounts(INITIAL), allowRemounts, allowUnmounts });
  const umount = (text: string, target: string, i: Immutability) => decide({ kind: 'umount', target, flags: 0 }, () => parseMountInfo(text), false, '0:40', i).action;
  const remountRw = (text: string, target: string, i: Immutability) => decide({ kind: 'mount', target, flags: MS_REMOUNT | MS_BIND, fstype: '' }, () => parseMountInfo(text), false, '0:40', i).action;

  it('records the initial mounts without the virtual files', () => {
    assert.deepEqual(initialMounts(INITIAL).map((m) => m.mountPoint), ['/', '/mnt/myvol', '/etc/resolv.conf', '/run']);
    assert.equal(initialMounts(INITIAL)[1].ro, true);
  });

  it('an initial read-only mount cannot be remounted read-write, unless allowed; others can', () => {
    assert.equal(remountRw(UNSHARED, '/mnt/myvol', im(false, true)), 'fail');
    assert.equal(remountRw(CHROOTED, '/myvol', im(false, true)), 'fail', 'a chroot shows it elsewhere');
    assert.equal(remountRw(UNSHARED, '/mnt/myvol', im(true, true)), 'continue', '--allow-immutable-remounts');
    assert.equal(remountRw(UNSHARED, '/run', im(false, true)), 'continue', 'initially read-write');
    assert.equal(remountRw(UNSHARED, '/mnt/scratch', im(false, true)), 'continue', 'not an initial mount');
    assert.equal(decide({ kind: 'mount', target: '/mnt/myvol', flags: MS_REMOUNT | MS_BIND | MS_RDONLY, fstype: '' }, () => parseMountInfo(UNSHARED), false, '0:40', im(false, false)).action, 'continue', 'read-only stays allowed');
  });

  it('initial mounts can be unmounted by default, not with --allow-immutable-unmounts=false', () => {
    assert.equal(umount(UNSHARED, '/etc/resolv.conf', im(false, true)), 'continue');
    assert.equal(umount(UNSHARED, '/etc/resolv.conf', im(false, false)), 'fail');
    assert.equal(umount(CHROOTED, '/myvol', im(false, false)), 'fail');
    assert.equal(umount(UNSHARED, '/mnt/scratch', im(false, false)), 'continue', 'a mount made inside');
  });

  it('the root is never unmounted, but the old root pivot_root stacked is', () => {
    assert.equal(umount(UNSHARED, '/', im(true, true)), 'fail');
    assert.equal(umount(PIVOTED, '/', im(true, false)), 'continue');
    assert.equal(umount(PIVOTED_SELF, '/', im(true, true)), 'continue', 'the stacked old root, whatever the order');
  });

  it('protects nothing when the initial mounts are unknown', () => {
    assert.equal(umount(UNSHARED, '/etc/resolv.conf', { initial: [], allowRemounts: false, allowUnmounts: false }), 'continue');
  });
});

describe('mount_setattr clearing read-only', () => {
  const initial = initialMounts(parseMountInfo([
    '100 99 0:50 / / ro,relatime - overlay overlay rw',
    '101 100 0:51 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
    '102 101 0:51 /sys/net /proc/sys/net ro,nosuid,nodev,noexec,relatime - proc proc rw',
    '103 100 0:60 / /tmp rw,nosuid - tmpfs tmpfs rw',
  ].join('\n')));
  const im: Immutability = { initial, allowRemounts: false, allowUnmounts: true };
  const OURS = '0:40';
  const call = (device: string, over: Partial<SetattrCall> = {}): SetattrCall => ({ clear: MOUNT_ATTR_RDONLY, device, recursive: false, ...over });

  it('lets through a call that does not clear read-only', () => {
    assert.deepEqual(decideSetattr(call(OURS, { clear: 0 }), OURS, im), { action: 'continue' });
  });

  it('refuses it on the virtual files and on the file systems of initial read-only mounts', () => {
    assert.deepEqual(decideSetattr(call(OURS), OURS, im), { action: 'fail', errno: 1 });
    assert.deepEqual(decideSetattr(call('0:50'), OURS, im), { action: 'fail', errno: 1 });
    assert.deepEqual(decideSetattr(call('0:51'), OURS, im), { action: 'fail', errno: 1 });
    assert.deepEqual(decideSetattr(call('0:60'), OURS, im), { action: 'continue' });
  });

  it('with --allow-immutable-remounts, still on the virtual files and read-only parts of /proc and /sys', () => {
    const allow = { ...im, allowRemounts: true };
    assert.deepEqual(decideSetattr(call(OURS), OURS, allow), { action: 'fail', errno: 1 });
    assert.deepEqual(decideSetattr(call('0:51'), OURS, allow), { action: 'fail', errno: 1 });
    assert.deepEqual(decideSetattr(call('0:50'), OURS, allow), { action: 'continue' });
  });

  it('recursively: refused if any mount below is, or if what is below is unknown (a detached tree)', () => {
    const mounts = parseMountInfo([
      '103 100 0:60 / /tmp rw,nosuid - tmpfs tmpfs rw',
      '104 103 0:50 /etc /tmp/etc ro,relatime - overlay overlay rw',
      '105 100 0:61 / /mnt rw,nosuid - tmpfs tmpfs rw',
    ].join('\n'));
    assert.deepEqual(devicesBelow(mounts, '/tmp'), ['0:50']);
    assert.deepEqual(decideSetattr(call('0:60', { recursive: true, below: devicesBelow(mounts, '/tmp') }), OURS, im), { action: 'fail', errno: 1 });
    assert.deepEqual(decideSetattr(call('0:61', { recursive: true, below: devicesBelow(mounts, '/mnt') }), OURS, im), { action: 'continue' });
    assert.deepEqual(decideSetattr(call('0:61', { recursive: true }), OURS, im), { action: 'fail', errno: 1 });
  });

  it('reads st_dev as mountinfo writes it', () => {
    assert.equal(deviceName(0x32n), '0:50');
    assert.equal(deviceName((259n << 8n) | 3n), '259:3');
    assert.equal(deviceName(0x100000n), '0:256');
  });
});
