// The INIT record a restarted sysbox-fs reads to know what its predecessor negotiated.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { recalledInit, recordInit } from '../src/daemon/init-record.js';

describe('INIT record', () => {
  it('gives the flags back for the same mount only; nothing recorded or unreadable counts as nothing negotiated', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-init-'));
    try {
      const none = { flags: 0, ioUring: false };
      assert.deepEqual(recalledInit(dir, '41 0:55'), none, 'no record (a mount made by an older version)');
      recordInit(dir, '41 0:55', 0x1234);
      assert.deepEqual(recalledInit(dir, '41 0:55'), { flags: 0x1234, ioUring: false });
      assert.deepEqual(recalledInit(dir, '42 0:56'), none, 'another mount\'s record');
      recordInit(dir, '41 0:55', 0x1234, true);
      assert.deepEqual(recalledInit(dir, '41 0:55'), { flags: 0x1234, ioUring: true }, 'served over io_uring: a successor registers rings');
      fs.writeFileSync(path.join(dir, 'fuse-init.json'), '{');
      assert.deepEqual(recalledInit(dir, '41 0:55'), none);
      assert.deepEqual(fs.readdirSync(dir), ['fuse-init.json'], 'no temporary file left');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
