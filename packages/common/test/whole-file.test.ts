import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readWholeFile, writeWholeFile } from '../src/daemon/whole-file.js';

const isJson = (t: string): boolean => { try { JSON.parse(t); return true; } catch { return false; } };

function inTempDir(fn: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-whole-'));
  try {
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('writeWholeFile / readWholeFile', () => {
  it('replaces a file with a new one (another inode, no temp file left), with the mode asked', () => {
    inTempDir((dir) => {
      const f = path.join(dir, 'a.json');
      writeWholeFile(f, '{"n":1}', 0o600);
      const ino = fs.statSync(f).ino;
      writeWholeFile(f, '{"n":2}', 0o600);
      assert.deepEqual(fs.readdirSync(dir), ['a.json']);
      assert.equal(fs.readFileSync(f, 'utf8'), '{"n":2}');
      assert.equal(fs.statSync(f).mode & 0o777, 0o600);
      assert.notEqual(fs.statSync(f).ino, ino);
    });
  });

  it('reads a complete temp file left between unlink and rename, and gives it the name', () => {
    inTempDir((dir) => {
      const f = path.join(dir, 'a.json');
      fs.writeFileSync(`${f}.tmp`, '{"n":3}');
      assert.equal(readWholeFile(f, isJson), '{"n":3}');
      assert.deepEqual(fs.readdirSync(dir), ['a.json']);
    });
  });

  it('prefers the file to a temp file beside it, and takes no half temp file', () => {
    inTempDir((dir) => {
      const f = path.join(dir, 'a.json');
      fs.writeFileSync(f, '{"n":1}');
      fs.writeFileSync(`${f}.tmp`, '{"n":2}');
      assert.equal(readWholeFile(f, isJson), '{"n":1}');
      fs.rmSync(f);
      fs.writeFileSync(`${f}.tmp`, '{"n":');
      assert.equal(readWholeFile(f, isJson), undefined);
      fs.rmSync(`${f}.tmp`);
      assert.equal(readWholeFile(f, isJson), undefined);
    });
  });
});
