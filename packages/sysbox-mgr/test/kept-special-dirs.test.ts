import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createLogger } from '@sysbox/common/daemon/logger';
import { KeptSpecialDirs } from '../src/kept-special-dirs.js';

const log = createLogger({ level: 'error', format: 'text', file: '/dev/null' });

async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

describe('KeptSpecialDirs', { skip: process.getuid?.() !== 0 ? 'needs root (chown)' : false }, () => {
  it('keeps dirs until their container\'s dir goes, hands them back with owners moved to a new range', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-kept-'));
    try {
      const layer = path.join(base, 'layer');
      fs.mkdirSync(path.join(layer, 'merged'), { recursive: true });
      const hostDir = path.join(base, 'docker', 'c1');
      fs.mkdirSync(hostDir, { recursive: true });
      fs.writeFileSync(path.join(hostDir, 'image'), 'x');
      fs.chownSync(path.join(hostDir, 'image'), 200000 + 5, 200000 + 5);
      const kept = new KeptSpecialDirs(path.join(base, 'records'), log);
      kept.keep({ id: 'c1', until: layer, uid: 200000, gid: 200000, size: 65536, dirs: [{ dest: '/var/lib/docker', hostDir }] });
      // Docker's stop removes only the mount point: still kept.
      fs.rmdirSync(path.join(layer, 'merged'));
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(fs.existsSync(hostDir));
      const back = kept.take('c1', 300000, 300000, 65536);
      assert.deepEqual(back?.dirs.map((d) => d.hostDir), [hostDir]);
      assert.equal(fs.statSync(path.join(hostDir, 'image')).uid, 300000 + 5);
      assert.equal(kept.take('c1', 300000, 300000, 65536), undefined, 'taken once');
      // Kept again at the next stop; a sysbox-mgr started later finds the record and watches too.
      kept.keep({ id: 'c1', until: layer, uid: 300000, gid: 300000, size: 65536, dirs: [{ dest: '/var/lib/docker', hostDir }] });
      const restarted = new KeptSpecialDirs(path.join(base, 'records'), log);
      assert.ok(restarted);
      fs.rmSync(layer, { recursive: true });
      assert.ok(await until(() => !fs.existsSync(hostDir)), 'removed with the container');
      assert.deepEqual(fs.readdirSync(path.join(base, 'records')), []);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('drops at start-up what belongs to a container removed meanwhile', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-kept-'));
    try {
      const hostDir = path.join(base, 'gone-data');
      fs.mkdirSync(hostDir);
      fs.mkdirSync(path.join(base, 'records'));
      fs.writeFileSync(path.join(base, 'records', 'c2.json'), JSON.stringify({ id: 'c2', until: path.join(base, 'no-such-layer'), uid: 1, gid: 1, size: 1, dirs: [{ dest: '/var/lib/docker', hostDir }] }));
      new KeptSpecialDirs(path.join(base, 'records'), log);
      assert.equal(fs.existsSync(hostDir), false);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});
