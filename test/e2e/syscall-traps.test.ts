// The syscall traps the original offers, seen from inside system containers: chown of /sys ignored
// with SYSBOX_IGNORE_SYSFS_CHOWN, trusted.overlay.opaque settable with SYSBOX_ALLOW_TRUSTED_XATTR
// (both trapped only when asked for), and the immutability of a container's initial mounts, also
// from a chroot and from a new mount namespace.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BOOKWORM, BUSYBOX, docker, dockerOk, removeContainers, restartFs, uniqueName } from '../lib/env.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-traps-'));
const names: string[] = [];

before(() => restartFs());
after(async () => {
  await removeContainers(...names);
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function start(image: string, ...args: string[]): Promise<string> {
  const name = uniqueName('traps');
  names.push(name);
  await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, ...args, image, 'sleep', '600');
  return name;
}

/** A shell command's result inside c. */
const sh = (c: string, cmd: string) => docker('exec', c, 'sh', '-c', cmd);

describe('SYSBOX_IGNORE_SYSFS_CHOWN', () => {
  it('TRUE: chown of /sys succeeds (absolute, relative, and by fd); other chowns still change ownership', async () => {
    const c = await start(BOOKWORM, '-e', 'SYSBOX_IGNORE_SYSFS_CHOWN=TRUE');
    const owner = (await dockerOk('exec', c, 'stat', '-c', '%u:%g', '/sys')).trim();
    assert.notEqual(owner, '0:0', 'the host\'s root owns /sys: nobody inside');
    await dockerOk('exec', c, 'chown', 'root:root', '/sys');
    await dockerOk('exec', c, 'sh', '-c', 'cd / && chown root:root sys && chown -h root:root sys');
    // fchown on an fd of /sys (perl-base is in every Debian image).
    await dockerOk('exec', c, 'perl', '-e', 'open(my $f, "<", "/sys") or die "open: $!"; chown(0, 0, $f) or die "fchown: $!"');
    assert.equal((await dockerOk('exec', c, 'stat', '-c', '%u:%g', '/sys')).trim(), owner, 'without effect');
    await dockerOk('exec', c, 'sh', '-c', 'touch /tmp/f && chown 1000:1001 /tmp/f');
    assert.equal((await dockerOk('exec', c, 'stat', '-c', '%u:%g', '/tmp/f')).trim(), '1000:1001');
    const r = await sh(c, 'chown root:root /sys/kernel');
    assert.notEqual(r.status, 0, 'only /sys itself is ignored');
  });

  it('FALSE (the default): chown of /sys fails EPERM', async () => {
    const c = await start(BOOKWORM, '-e', 'SYSBOX_IGNORE_SYSFS_CHOWN=FALSE');
    const r = await docker('exec', c, 'chown', 'root:root', '/sys');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Operation not permitted/);
  });
});

describe('SYSBOX_ALLOW_TRUSTED_XATTR', () => {
  // setfattr/getfattr are not in the images; perl-base's syscall() makes the same calls.
  const nr = process.arch === 'arm64' ? { set: 5, get: 8, remove: 14 } : { set: 188, get: 191, remove: 197 };
  // perl's syscall() wants variables, not literals, for string arguments.
  const perl = (code: string, file = '/data/d'): string => `perl -e 'my ($p, $n, $v) = ("${file}", "trusted.overlay.opaque", "y"); ${code}'`;
  const setOpaque = perl(`syscall(${nr.set}, $p, $n, $v, 1, 0) == 0 or die "setxattr: $!\\n"`);
  const getOpaque = perl(`my $b = "\\0" x 16; my $r = syscall(${nr.get}, $p, $n, $b, 16); $r >= 0 or die "getxattr: $!\\n"; print substr($b, 0, $r)`);
  const getOpaqueFrom = (cwd: string, file: string): string => `cd ${cwd} && ${perl(`my $b = "\\0" x 16; my $r = syscall(${nr.get}, $p, $n, $b, 16); $r >= 0 or die "getxattr: $!\\n"; print substr($b, 0, $r)`, file)}`;
  const removeOpaque = perl(`syscall(${nr.remove}, $p, $n) == 0 or die "removexattr: $!\\n"`);

  it('TRUE: trusted.overlay.opaque is set, read back and removed inside', async () => {
    const c = await start(BOOKWORM, '-e', 'SYSBOX_ALLOW_TRUSTED_XATTR=TRUE', '--tmpfs', '/data');
    await dockerOk('exec', c, 'mkdir', '/data/d');
    await dockerOk('exec', c, 'sh', '-c', setOpaque);
    assert.equal(await dockerOk('exec', c, 'sh', '-c', getOpaque), 'y');
    assert.equal(await dockerOk('exec', c, 'sh', '-c', getOpaqueFrom('/data', 'd')), 'y', 'relative to the cwd');
    assert.equal(await dockerOk('exec', c, 'sh', '-c', `mkdir -p /data/e && ${getOpaqueFrom('/data/e', '../d')}`), 'y', 'above the cwd');
    await dockerOk('exec', c, 'sh', '-c', removeOpaque);
    const r = await sh(c, getOpaque);
    assert.match(r.stderr, /No data available/);
    // Other trusted names stay refused.
    const other = await sh(c, perl(`my $o = "trusted.foo"; syscall(${nr.set}, $p, $o, $v, 1, 0) == 0 or die "setxattr: $!\\n"`));
    assert.match(other.stderr, /Operation not permitted/);
  });

  it('FALSE (the default): setting trusted.overlay.opaque fails EPERM', async () => {
    const c = await start(BOOKWORM, '--tmpfs', '/data');
    await dockerOk('exec', c, 'mkdir', '/data/d');
    const r = await sh(c, setOpaque);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Operation not permitted/);
  });
});

describe('initial mount immutability (default flags)', () => {
  const vol = path.join(tmp, 'vol');
  before(() => fs.mkdirSync(vol, { recursive: true }));

  it('an initial read-only mount cannot be remounted read-write: in the container, a new mount namespace, a chroot', async () => {
    const c = await start(BUSYBOX, '-v', `${vol}:/mnt/myvol:ro`, '-v', `${vol}:/chroot/myvol:ro`);
    // busybox mount reads /proc/mounts: the chroot gets a procfs (emulated by sysbox-fs).
    await dockerOk('exec', c, 'sh', '-c', 'mkdir -p /chroot/bin /chroot/proc && cp /bin/busybox /chroot/bin/ && mount -t proc proc /chroot/proc');
    for (const cmd of [
      'mount -o remount,rw,bind /mnt/myvol',
      'unshare -m mount -o remount,rw,bind /mnt/myvol',
      'chroot /chroot /bin/busybox mount -o remount,rw,bind /myvol',
    ]) {
      const r = await sh(c, cmd);
      assert.notEqual(r.status, 0, cmd);
      assert.match(r.stderr, /permission denied|not permitted/i, cmd);
    }
    const r = await sh(c, 'touch /mnt/myvol/x');
    assert.notEqual(r.status, 0, 'still read-only');
    // Read-only stays allowed; a mount made inside is the container's own.
    await dockerOk('exec', c, 'mount', '-o', 'remount,ro,bind', '/mnt/myvol');
    await dockerOk('exec', c, 'sh', '-c', 'mkdir -p /root/t && mount -t tmpfs tmpfs /root/t && mount -o remount,ro,bind /root/t && mount -o remount,rw,bind /root/t && touch /root/t/x');
  });
});
