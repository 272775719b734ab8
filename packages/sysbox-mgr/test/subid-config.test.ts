import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ensureSubidEntry, nextFreeStart, parseSubidFile } from '../src/subid-config.js';

describe('subid config', () => {
  it('parses entries and skips comments and junk', () => {
    const e = parseSubidFile('# x\nalice:100000:65536\n\nbad line\nsysbox:165536:268435456\n');
    assert.deepEqual(e, [{ user: 'alice', start: 100000, count: 65536 }, { user: 'sysbox', start: 165536, count: 268435456 }]);
  });

  it('places a new range past every existing one', () => {
    assert.equal(nextFreeStart([]), 165536);
    assert.equal(nextFreeStart([{ user: 'a', start: 100000, count: 65536 }, { user: 'b', start: 300000, count: 1000 }]), 301000);
  });

  it('reads an existing sysbox entry and refuses to invent one in a non-default file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'subid-'));
    const f = path.join(dir, 'subuid');
    fs.writeFileSync(f, 'sysbox:2000000:131072\n');
    assert.deepEqual(ensureSubidEntry(f, false), { user: 'sysbox', start: 2000000, count: 131072 });
    fs.writeFileSync(f, 'other:1:2\n');
    assert.throws(() => ensureSubidEntry(f, false), /no "sysbox" entry/);
    fs.rmSync(dir, { recursive: true });
  });
});
