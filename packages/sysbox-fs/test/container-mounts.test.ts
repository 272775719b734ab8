import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { lookUpAhead, putBackTargets } from '../src/daemon/container-mounts.js';
import { virtualBinds } from '../src/mount-layout.js';

describe('names looked up ahead of Register', () => {
  it('are the put-back originals\' targets in the slot\'s copy of the tree, and nothing bound from the tree', () => {
    const binds = virtualBinds(['proc/sys', 'proc/uptime'], 'proc', (p) => `/${p}`);
    const got = putBackTargets('/run/sysbox/mnt', 3, binds);
    assert.ok(got.includes('/run/sysbox/mnt/3/proc/sys/kernel/hostname'));
    assert.ok(got.includes('/run/sysbox/mnt/3/proc/sys/net'));
    assert.ok(!got.some((p) => p.endsWith('/proc/uptime') || p.endsWith('/proc/sys')), 'sources are cloned, not looked up');
    assert.equal(got.length, binds.filter((b) => 'original' in b).length);
  });

  it('looks up what exists and shrugs at what does not', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookup-ahead-'));
    try {
      fs.writeFileSync(path.join(dir, 'there'), '');
      await lookUpAhead([path.join(dir, 'there'), path.join(dir, 'missing', 'deeper')]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
