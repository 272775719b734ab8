import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseMountInfo } from '../src/mountinfo.js';
import { canArchiveInto, PRELOAD_DIR, saveSpecialDir } from '../src/preload.js';

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

describe('saveSpecialDir', { skip: process.getuid?.() !== 0 ? 'needs root (setpriv to the container root id)' : false }, () => {
  const UID = 1_600_000_000;
  const setup = (): { hostDir: string; rootfs: string; archive: string; done: () => void } => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-preload-test-'));
    fs.chmodSync(base, 0o755);
    const hostDir = path.join(base, 'special');
    const rootfs = path.join(base, 'rootfs');
    fs.mkdirSync(path.join(hostDir, 'image'), { recursive: true });
    fs.writeFileSync(path.join(hostDir, 'image', 'layer'), 'data');
    fs.chownSync(path.join(hostDir, 'image', 'layer'), UID + 1000, UID + 1000);
    fs.mkdirSync(rootfs, { mode: 0o755 });
    fs.chownSync(rootfs, UID, UID);
    return { hostDir, rootfs, archive: path.join(rootfs, PRELOAD_DIR, 'docker.tar'), done: () => fs.rmSync(base, { recursive: true, force: true }) };
  };

  it('writes the archive as the container root, owners shifted down to the container view', async () => {
    const t = setup();
    try {
      assert.equal(await saveSpecialDir(t.hostDir, t.rootfs, '/var/lib/docker', UID, UID, 65536, true), true);
      assert.equal(fs.statSync(t.archive).uid, UID);
      const list = spawnSync('tar', ['-tvf', t.archive, '--numeric-owner'], { encoding: 'utf8' }).stdout;
      assert.match(list, /1000\/1000 .*image\/layer/);
      assert.deepEqual(fs.readdirSync(path.dirname(t.archive)), ['docker.tar'], 'no temporary file left');
    } finally {
      t.done();
    }
  });

  it('leaves the previous archive in place, and no temporary file, when the new one cannot be written', async () => {
    const t = setup();
    try {
      fs.mkdirSync(path.dirname(t.archive), { recursive: true });
      fs.writeFileSync(t.archive, 'previous');
      // The preload dir no longer writable by the container root: the writer fails half-way.
      fs.chmodSync(path.dirname(t.archive), 0o555);
      await assert.rejects(saveSpecialDir(t.hostDir, t.rootfs, '/var/lib/docker', UID, UID, 65536), /archiving .* failed/);
      assert.equal(fs.readFileSync(t.archive, 'utf8'), 'previous');
      assert.deepEqual(fs.readdirSync(path.dirname(t.archive)), ['docker.tar']);
    } finally {
      t.done();
    }
  });

  it('does nothing for an empty special dir', async () => {
    const t = setup();
    try {
      fs.rmSync(path.join(t.hostDir, 'image'), { recursive: true });
      assert.equal(await saveSpecialDir(t.hostDir, t.rootfs, '/var/lib/docker', UID, UID, 65536), false);
      assert.equal(fs.existsSync(t.archive), false);
    } finally {
      t.done();
    }
  });
});
