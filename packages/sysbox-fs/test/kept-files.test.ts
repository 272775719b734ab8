// readKept re-reads through kept-open fds: it must see content change, survive a cgroup removed and
// made again under the same name (a container restarted with the same id), and read large files whole.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { dropKeptUnder, keptCount, readKept } from '../src/container/kept-files.js';

const MEMORY = '/sys/fs/cgroup/memory';

describe('readKept', () => {
  it('renders procfs files afresh on each read', async () => {
    const first = readKept('/proc/uptime');
    await new Promise((r) => setTimeout(r, 30));
    const second = readKept('/proc/uptime');
    assert.match(first, /^\d+\.\d\d \d+\.\d\d\n$/);
    assert.ok(Number(second.split(' ')[0]) > Number(first.split(' ')[0]), `${second} after ${first}`);
  });

  it('reads a file larger than its buffer whole', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-kept-'));
    try {
      const big = 'x'.repeat(150_000) + '\nend\n';
      fs.writeFileSync(path.join(dir, 'big'), big);
      assert.equal(readKept(path.join(dir, 'big')), big);
      assert.equal(readKept(path.join(dir, 'big')), big);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('after a cgroup is removed and made again under its name, reads the new one', () => {
    assert.ok(fs.existsSync(`${MEMORY}/memory.limit_in_bytes`), `this test needs root and the cgroup v1 memory hierarchy at ${MEMORY}`);
    const cg = path.join(MEMORY, `sysbox-kept-test-${process.pid}`);
    const limit = path.join(cg, 'memory.limit_in_bytes');
    try {
      fs.mkdirSync(cg);
      fs.writeFileSync(limit, String(64 * 1024 * 1024));
      assert.equal(readKept(limit).trim(), String(64 * 1024 * 1024));
      fs.rmdirSync(cg);
      assert.throws(() => readKept(limit), /ENOENT/);
      fs.mkdirSync(cg);
      fs.writeFileSync(limit, String(32 * 1024 * 1024));
      assert.equal(readKept(limit).trim(), String(32 * 1024 * 1024));
    } finally {
      if (fs.existsSync(cg)) fs.rmdirSync(cg);
    }
  });

  it('reads /proc/sys settings (a small first read) as the kernel renders them', () => {
    assert.equal(readKept('/proc/sys/kernel/pid_max'), fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    assert.equal(readKept('/proc/sys/kernel/ostype'), 'Linux\n');
    const a = readKept('/proc/sys/kernel/random/uuid');
    assert.match(a, /^[0-9a-f-]{36}\n$/);
    assert.notEqual(readKept('/proc/sys/kernel/random/uuid'), a, 'rendered afresh through the kept fd');
  });

  it('fails like readFileSync for a missing file', () => {
    assert.throws(() => readKept('/proc/no-such-file'), /ENOENT/);
  });
});

describe('dropKeptUnder', () => {
  it('closes the kept fds below a dir and only those', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-kept-drop-'));
    try {
      fs.writeFileSync(path.join(dir, 'a'), 'a\n');
      fs.writeFileSync(path.join(dir, 'b'), 'b\n');
      readKept('/proc/uptime');
      const fdsBefore = fs.readdirSync('/proc/self/fd').length;
      readKept(path.join(dir, 'a'));
      readKept(path.join(dir, 'b'));
      assert.equal(fs.readdirSync('/proc/self/fd').length, fdsBefore + 2);
      const kept = keptCount();
      assert.equal(dropKeptUnder(dir), 2);
      assert.equal(keptCount(), kept - 2, '/proc/uptime stays kept');
      assert.equal(fs.readdirSync('/proc/self/fd').length, fdsBefore);
      assert.equal(readKept(path.join(dir, 'a')), 'a\n', 'a dropped file opens again on its next read');
      assert.equal(dropKeptUnder(`${dir}/`), 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
