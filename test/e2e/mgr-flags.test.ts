// sysbox-mgr's manager flags (the original's): each one changes what a container gets, and the
// container is still fully released afterwards. The test sysbox-mgr is restarted with the flags
// and back to its defaults at the end.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BOOKWORM, BUSYBOX, MGR_DATA_ROOT, MOUNT_ROOT, containerIdOf, docker, dockerOk, hostRootId, leftoversOf, loadImageInto,
  makeBundle, restartMgr, sysboxRunc, uniqueName, waitForInnerDocker,
} from '../lib/env.js';

const DOCKER_IMAGE = 'sysbox/docker:latest';
const MGR_LOG = `${MGR_DATA_ROOT}.log`;
const NOBODY = '65534';

/** What sysbox-mgr logged since `offset` (its size before a restart). */
function logSince(offset: number): string {
  const buf = fs.readFileSync(MGR_LOG);
  return buf.subarray(Math.min(offset, buf.length)).toString('utf8');
}

function logSize(): number {
  try {
    return fs.statSync(MGR_LOG).size;
  } catch {
    return 0;
  }
}

async function sh(c: string, script: string): Promise<string> {
  return dockerOk('exec', c, 'sh', '-c', script);
}

/** The mountinfo line of a mount point inside the container. */
async function mountLine(c: string, mountPoint: string): Promise<string> {
  const lines = (await dockerOk('exec', c, 'cat', '/proc/self/mountinfo')).split('\n');
  const line = lines.filter((l) => l.split(' ')[4] === mountPoint).pop();
  assert.ok(line, `${mountPoint} is not a mount point in ${c}`);
  return line;
}

/** A host dir holding a root-owned file, to bind into containers. */
function hostDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-mgrflags-'));
  // Readable by others: unmapped, the container's root is one of them.
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'file'), 'host\n');
  return dir;
}

/** What Sysbox still holds for a container once its release (on init exit, asynchronous) had time to run. */
async function leftoversAfterRelease(id: string): Promise<string[]> {
  for (let i = 0; i < 50 && leftoversOf(id).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return leftoversOf(id);
}

async function startDind(name: string, image: string): Promise<void> {
  await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, image, 'sleep', 'infinity');
  await waitForInnerDocker(name);
}

describe('sysbox-mgr manager flags', () => {
  const containers: string[] = [];
  const images: string[] = [];
  const dirs: string[] = [];
  after(async () => {
    if (containers.length) await docker('rm', '-f', ...containers);
    if (images.length) await docker('rmi', '-f', ...images);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    await restartMgr();
  });

  describe('bind sources that cannot be ID-mapped (sysfs)', () => {
    const SOURCE = '/sys/module/overlay';

    it('by default: the container starts, the source bound as is (nobody inside), with a warning', async () => {
      const c = uniqueName('unmappable');
      containers.push(c);
      const offset = logSize();
      await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, '-v', `${SOURCE}:/mnt/sysmod:ro`, BUSYBOX, 'sleep', '300');
      assert.equal(await sh(c, 'stat -c %u /mnt/sysmod'), NOBODY);
      assert.doesNotMatch(await mountLine(c, '/mnt/sysmod'), /idmapped/);
      assert.match(logSince(offset), new RegExp(`${SOURCE} cannot be ID-mapped; bound as is`));
    });

    it('with --fsuid-map-fail-on-error: refused, naming the source, nothing left behind', async () => {
      await restartMgr(['--fsuid-map-fail-on-error']);
      const c = uniqueName('unmappable-fail');
      containers.push(c);
      const r = await docker('run', '-d', '--runtime=sysbox-runc', '--name', c, '-v', `${SOURCE}:/mnt/sysmod:ro`, BUSYBOX, 'sleep', '300');
      assert.notEqual(r.status, 0, 'the container must not start');
      assert.match(r.stderr, new RegExp(`bind mount ${SOURCE} at /mnt/sysmod: ${SOURCE} cannot be ID-mapped .*fsuid-map-fail-on-error`));
      assert.deepEqual(leftoversOf(await containerIdOf(c)), []);
      // A mappable source still works under the flag.
      const ok = uniqueName('mappable');
      containers.push(ok);
      const dir = hostDir();
      dirs.push(dir);
      await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', ok, '-v', `${dir}:/data`, BUSYBOX, 'sleep', '300');
      assert.equal(await sh(ok, 'stat -c %u /data/file'), '0');
      await restartMgr();
    });
  });

  describe('SYSBOX_SKIP_UID_SHIFT', () => {
    it('binds the named destinations without ID-mapping, per container', async () => {
      const skip1 = uniqueName('skip-one');
      const skip2 = uniqueName('skip-two');
      const plain = uniqueName('skip-none');
      containers.push(skip1, skip2, plain);
      await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', skip1, '-e', 'SYSBOX_SKIP_UID_SHIFT=/etc/resolv.conf', BUSYBOX, 'sleep', '300');
      await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', skip2, '-e', 'SYSBOX_SKIP_UID_SHIFT=/etc/resolv.conf,/etc/hostname/', BUSYBOX, 'sleep', '300');
      await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', plain, BUSYBOX, 'sleep', '300');
      assert.doesNotMatch(await mountLine(skip1, '/etc/resolv.conf'), /idmapped/);
      assert.equal(await sh(skip1, 'stat -c %u /etc/resolv.conf'), NOBODY);
      assert.match(await mountLine(skip1, '/etc/hostname'), /idmapped/);
      assert.equal(await sh(skip1, 'stat -c %u /etc/hostname'), '0');
      for (const p of ['/etc/resolv.conf', '/etc/hostname']) {
        assert.doesNotMatch(await mountLine(skip2, p), /idmapped/);
        assert.equal(await sh(skip2, `stat -c %u ${p}`), NOBODY);
        assert.match(await mountLine(plain, p), /idmapped/);
        assert.equal(await sh(plain, `stat -c %u ${p}`), '0');
      }
      // Not seen by the processes inside.
      assert.equal(await sh(skip1, 'env | grep -c SYSBOX_ || true'), '0');
    });

    it('a path that is no bind-mount destination is ignored (as in the original) and logged', async () => {
      const c = uniqueName('skip-unmatched');
      containers.push(c);
      const offset = logSize();
      await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, '-e', 'SYSBOX_SKIP_UID_SHIFT=/not/a/mount', BUSYBOX, 'sleep', '300');
      assert.equal(await sh(c, 'stat -c %u /etc/resolv.conf'), '0');
      assert.match(logSince(offset), /SYSBOX_SKIP_UID_SHIFT names \/not\/a\/mount, which is not a bind-mount destination/);
    });

    it('a relative path is refused before anything is allocated', async () => {
      const c = uniqueName('skip-relative');
      containers.push(c);
      const r = await docker('run', '-d', '--runtime=sysbox-runc', '--name', c, '-e', 'SYSBOX_SKIP_UID_SHIFT=etc/resolv.conf', BUSYBOX, 'sleep', '300');
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /invalid value for SYSBOX_SKIP_UID_SHIFT/);
      assert.deepEqual(leftoversOf(await containerIdOf(c)), []);
    });
  });

  describe('--disable-shiftfs', () => {
    it('is accepted, and logged once as without effect', async () => {
      const offset = logSize();
      await restartMgr(['--disable-shiftfs']);
      const lines = logSince(offset).split('\n').filter((l) => l.includes('--disable-shiftfs has no effect'));
      assert.equal(lines.length, 1, logSince(offset));
      assert.match(lines[0]!, /shiftfs does not exist on this kernel/);
      await restartMgr();
    });
  });

  describe('--disable-inner-image-preload', () => {
    const preloaded = `sysbox-test/${uniqueName('preloaded')}`;

    before(async () => {
      // An image with inner images, made while preloading is on.
      const src = uniqueName('preload-src');
      containers.push(src);
      images.push(preloaded);
      await startDind(src, DOCKER_IMAGE);
      await loadImageInto(src, BUSYBOX);
      await dockerOk('commit', src, preloaded);
      await dockerOk('rm', '-f', src);
      await restartMgr(['--disable-inner-image-preload']);
    });

    it('docker commit carries no inner images (no /var/lib/sysbox-preload archive)', async () => {
      const src = uniqueName('nopreload-src');
      const image = `sysbox-test/${uniqueName('not-preloaded')}`;
      containers.push(src);
      images.push(image);
      await startDind(src, DOCKER_IMAGE);
      await loadImageInto(src, BUSYBOX);
      await dockerOk('commit', src, image);
      // Read with plain runc: what the image itself holds.
      const r = await docker('run', '--rm', '--entrypoint', 'ls', image, '-A', '/var/lib/sysbox-preload');
      assert.notEqual(r.status, 0, `the image must hold no preload archive: ${r.stdout}`);
      assert.match(r.stderr, /No such file or directory/);
      // On stop neither: the stopped container's rootfs stays without it.
      await dockerOk('stop', '-t', '1', src);
      const stopped = `sysbox-test/${uniqueName('stopped')}`;
      images.push(stopped);
      await dockerOk('commit', src, stopped);
      assert.notEqual((await docker('run', '--rm', '--entrypoint', 'ls', stopped, '/var/lib/sysbox-preload')).status, 0);
      // As in the original, the inner images are kept across a stop (not in the rootfs: beside it)...
      const id = await containerIdOf(src);
      const kept = path.join(MGR_DATA_ROOT, 'docker', id);
      assert.ok(fs.readdirSync(kept).length > 0, `inner data kept in ${kept}`);
      await dockerOk('start', src);
      await waitForInnerDocker(src);
      const inner = (await dockerOk('exec', src, 'docker', 'images', '--format', '{{.Repository}}:{{.Tag}}')).split('\n');
      assert.ok(inner.includes(BUSYBOX), `inner images after a restart: ${inner.join(' ')}`);
      // ...until the container is removed.
      await dockerOk('rm', '-f', src);
      assert.deepEqual(await leftoversAfterRelease(id), []);
      // The record goes last (after every kept dir: docker, containerd ...), so wait for it.
      const record = path.join(MGR_DATA_ROOT, 'mgr', 'kept', `${id}.json`);
      for (let i = 0; i < 100 && (fs.existsSync(kept) || fs.existsSync(record)); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(fs.existsSync(kept), false, `${kept} must go with the container`);
      assert.equal(fs.existsSync(record), false, `${record} must go with the container`);
    });

    it('an image that already holds inner images still gets them', async () => {
      const dst = uniqueName('preload-dst');
      containers.push(dst);
      await startDind(dst, preloaded);
      const inner = (await dockerOk('exec', dst, 'docker', 'images', '--format', '{{.Repository}}:{{.Tag}}')).split('\n');
      assert.ok(inner.includes(BUSYBOX), `inner images: ${inner.join(' ')}`);
    });
  });

  /** A container on a chowned rootfs: root owns its files, writes work and survive a restart. */
  async function checkChownedRootfs(flags: string[], image: string, clone: boolean, bindOwner: string): Promise<void> {
    await restartMgr(flags);
    const c = uniqueName('chowned');
    containers.push(c);
    const dir = hostDir();
    dirs.push(dir);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, '-v', `${dir}:/data`, image, 'sleep', '300');
    const id = await containerIdOf(c);
    const hostId = await hostRootId(c);
    assert.equal(await sh(c, 'stat -c %u:%g /bin/ /etc/passwd /'), '0:0\n0:0\n0:0');
    assert.equal(await sh(c, 'echo written > /root/new && chown 1234:2345 /root/new && stat -c %u:%g /root/new && cat /root/new'), '1234:2345\nwritten');
    assert.equal(await sh(c, 'stat -c %u /data/file'), bindOwner);
    await sh(c, 'rm /etc/group && mkdir -p /opt/made/deep && mv /opt/made /opt/moved && echo x > /opt/moved/deep/f');
    // Host side: the rootfs the container runs on is chowned into its range.
    const rootfs = path.join(MOUNT_ROOT, id, 'rootfs');
    assert.equal(fs.statSync(path.join(rootfs, 'etc', 'passwd')).uid, hostId);
    assert.equal(fs.statSync(path.join(rootfs, 'root', 'new')).uid, hostId + 1234);
    const cloneDir = path.join(MGR_DATA_ROOT, 'rootfs', id);
    assert.equal(fs.existsSync(path.join(cloneDir, 'upper')), clone, `clone upper at ${cloneDir}`);
    // The bind source itself is never chowned.
    assert.equal(fs.statSync(path.join(dir, 'file')).uid, 0);

    if (clone) {
      // docker commit pauses the container: the clone's changes reach Docker's layer, owners unshifted.
      const running = `sysbox-test/${uniqueName('chowned-running')}`;
      images.push(running);
      await dockerOk('commit', c, running);
      assert.equal(await dockerOk('run', '--rm', '--entrypoint', 'sh', running, '-c', 'cat /root/new; stat -c %u:%g /root/new /etc/passwd /bin/; test -e /etc/group || echo no-group'),
        'written\n1234:2345\n0:0\n0:0\nno-group');
      assert.equal(await sh(c, 'stat -c %u /etc/passwd'), '0', 'still shifted for the container itself');
    }
    // A sysbox-mgr restarted meanwhile (here: back to its defaults) still reverts it, from its record.
    await restartMgr();
    await dockerOk('stop', '-t', '1', c);
    assert.deepEqual(await leftoversAfterRelease(id), [], 'released on stop');
    assert.equal(fs.existsSync(cloneDir), false);
    // Stopped: the image's owners are back, the container's writes kept with their owners.
    const image2 = `sysbox-test/${uniqueName('chowned-commit')}`;
    images.push(image2);
    await dockerOk('commit', c, image2);
    assert.equal(await dockerOk('run', '--rm', '--entrypoint', 'stat', image2, '-c', '%u:%g', '/bin/', '/etc/passwd', '/root/new'), '0:0\n0:0\n1234:2345');
    const diff = (await dockerOk('diff', c)).split('\n');
    assert.ok(diff.includes('A /root/new'), diff.join('\n'));
    assert.ok(diff.includes('D /etc/group') && diff.includes('A /opt/moved/deep/f'), diff.join('\n'));
    // The chown touched every file of the clone; only what the container changed reaches Docker's layer.
    if (clone) assert.ok(!diff.some((l) => /^[CA] \/(usr|bin|lib|sbin)/.test(l)), `a clone leaves unchanged files alone:\n${diff.join('\n')}`);

    await restartMgr(flags);
    await dockerOk('start', c);
    assert.equal(await sh(c, 'cat /root/new; stat -c %u:%g /root/new /etc/passwd'), 'written\n1234:2345\n0:0');
    // Removals and renames came back too.
    assert.equal(await sh(c, 'test -e /etc/group && echo there || echo gone; ls /opt; cat /opt/moved/deep/f'), 'gone\nmoved\nx');
    await dockerOk('rm', '-f', c);
    assert.deepEqual(await leftoversAfterRelease(id), []);
    assert.equal(fs.existsSync(cloneDir), false);
  }

  describe('rootfs chowned instead of ID-mapped', () => {
    it('--disable-idmapped-mount: cloned and chowned rootfs, bind mounts not ID-mapped', async () => {
      await checkChownedRootfs(['--disable-idmapped-mount'], BOOKWORM, true, NOBODY);
    });

    it('--disable-ovfs-on-idmapped-mount: cloned and chowned rootfs, bind mounts still ID-mapped', async () => {
      await checkChownedRootfs(['--disable-ovfs-on-idmapped-mount'], BOOKWORM, true, '0');
    });

    it('--disable-idmapped-mount --disable-rootfs-cloning: rootfs chowned in place and back', async () => {
      await checkChownedRootfs(['--disable-idmapped-mount', '--disable-rootfs-cloning'], BUSYBOX, false, NOBODY);
    });

    it('an OCI bundle\'s plain-dir rootfs too (sysbox-runc without Docker), cloned or in place', async () => {
      for (const flags of [['--disable-idmapped-mount'], ['--disable-idmapped-mount', '--disable-rootfs-cloning']]) {
        await restartMgr(flags);
        const dir = await makeBundle(['sh', '-c', 'stat -c %u /bin; rm /etc/passwd; echo hi > /root/x; chown 7:8 /root/x; stat -c %u:%g /root/x']);
        dirs.push(dir);
        // `spec` makes the rootfs read-only, as runc's does.
        const config = path.join(dir, 'config.json');
        const spec = JSON.parse(fs.readFileSync(config, 'utf8')) as { root: { readonly?: boolean } };
        spec.root.readonly = false;
        fs.writeFileSync(config, JSON.stringify(spec));
        const id = uniqueName('bundle-chowned');
        const r = await sysboxRunc(['run', '--bundle', dir, id]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), '0\n7:8', flags.join(' '));
        assert.deepEqual(await leftoversAfterRelease(id), []);
        const rootfs = path.join(dir, 'rootfs');
        const x = fs.statSync(path.join(rootfs, 'root', 'x'));
        assert.deepEqual([x.uid, x.gid, fs.statSync(path.join(rootfs, 'bin')).uid], [7, 8, 0], `${flags.join(' ')}: owners back, writes kept`);
        assert.equal(fs.existsSync(path.join(rootfs, 'etc', 'passwd')), false);
        assert.equal(fs.existsSync(path.join(MGR_DATA_ROOT, 'rootfs', id)), false);
      }
    });
  });
});
