// A full-disk error names the full file system among the daemon's dirs, with what is left on it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { describe, it } from 'node:test';
import { diskFullMessage, isDiskFull } from '../src/disk-full.js';

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
}

describe('disk-full', () => {
  it('recognises ENOSPC and EDQUOT only', () => {
    assert.ok(isDiskFull(enospc()));
    assert.ok(isDiskFull(Object.assign(new Error('quota'), { code: 'EDQUOT' })));
    assert.ok(!isDiskFull(Object.assign(new Error('x'), { code: 'EIO' })));
    assert.ok(!isDiskFull(undefined));
  });

  it('names the full file system', (t) => {
    const real = fs.statfsSync;
    t.mock.method(fs, 'statfsSync', (p: string) => {
      const s = real(os.tmpdir());
      return p === '/full' ? { ...s, bavail: 0, bsize: 4096 } : s;
    });
    const m = diskFullMessage(enospc(), { 'run dir root': os.tmpdir(), 'data root': '/full' });
    assert.match(m, /^no space left on the data root \/full \(0 KiB(, \d+ inodes)? free\): ENOSPC: no space left on device, write$/);
  });

  it('names a file system out of inodes', (t) => {
    const real = fs.statfsSync;
    t.mock.method(fs, 'statfsSync', (p: string) => ({ ...real(os.tmpdir()), bavail: 1 << 20, bsize: 4096, files: 4000, ffree: p === '/noinodes' ? 0 : 100 }));
    assert.match(diskFullMessage(enospc(), { 'data root': '/noinodes' }), /^no space left on the data root \/noinodes \(4194304 KiB, 0 inodes free\)/);
  });

  it('lists every dir with its room when none looks full', () => {
    const m = diskFullMessage(enospc(), { 'data root': os.tmpdir(), 'nowhere': '/does/not/exist' });
    assert.match(m, new RegExp(`^ENOSPC: no space left on device, write \\(data root ${os.tmpdir()}: \\d+ KiB(, \\d+ inodes)? free\\)$`));
  });
});
