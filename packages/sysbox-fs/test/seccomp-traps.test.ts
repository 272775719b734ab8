// The pure decisions of the chown and *xattr traps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMountInfo } from '@sysbox/common/mountinfo';
import { ignoresChown } from '../src/seccomp/chown.js';
import { trappedCall } from '../src/seccomp/syscalls.js';
import { ALLOWED_XATTRS, handlesXattr, visibleNames } from '../src/seccomp/xattr.js';

const withSysfs = () => parseMountInfo('1 0 0:50 / / rw - overlay o rw\n2 1 0:22 / /sys rw - sysfs sysfs rw');
const withoutSysfs = () => parseMountInfo('1 0 0:50 / / rw - overlay o rw\n2 1 0:23 / /sys rw - tmpfs t rw');

describe('ignore-sysfs-chown', () => {
  it('ignores a chown of /sys only, and only where a sysfs is mounted there', () => {
    assert.equal(ignoresChown('/sys', withSysfs), true);
    assert.equal(ignoresChown('/sys', withoutSysfs), false);
    assert.equal(ignoresChown('/sys/kernel', withSysfs), false);
    assert.equal(ignoresChown('/tmp/x', withSysfs), false);
    assert.equal(ignoresChown(undefined, withSysfs), false);
  });

  it('knows the chown family by number on this architecture', () => {
    assert.equal(trappedCall(process.arch === 'arm64' ? 54 : 260), 'fchownat');
    assert.equal(trappedCall(process.arch === 'arm64' ? 5 : 188), 'setxattr');
    assert.equal(trappedCall(0xffff), undefined);
  });
});

describe('allow-trusted-xattr', () => {
  it('does trusted.overlay.opaque at host level for CAP_SYS_ADMIN, EPERM without it; other names continue', () => {
    assert.deepEqual([...ALLOWED_XATTRS], ['trusted.overlay.opaque']);
    assert.equal(handlesXattr('set', 'trusted.overlay.opaque', true), 'host');
    assert.equal(handlesXattr('get', 'trusted.overlay.opaque', true), 'host');
    assert.equal(handlesXattr('remove', 'trusted.overlay.opaque', false), 'eperm');
    assert.equal(handlesXattr('set', 'trusted.overlay.redirect', true), 'continue');
    assert.equal(handlesXattr('set', 'user.foo', true), 'continue');
    assert.equal(handlesXattr('list', undefined, true), 'host');
    assert.equal(handlesXattr('list', undefined, false), 'continue');
  });

  it('lists the host\'s names without the trusted.* ones a container may not see', () => {
    const list = Buffer.from('user.a\0trusted.overlay.opaque\0trusted.overlay.origin\0security.capability\0');
    assert.equal(visibleNames(list).toString(), 'user.a\0trusted.overlay.opaque\0security.capability\0');
    assert.equal(visibleNames(Buffer.alloc(0)).length, 0);
  });
});
