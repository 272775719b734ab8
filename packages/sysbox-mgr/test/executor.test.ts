// sysbox-mgr --executor: refused unless an absolute path to an executable file, and published
// beside the socket whole (sysbox-runc reads it on every call).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkExecutor, executorChangeWarning, publishExecutor } from '../src/executor.js';
import { parseMgrArgs } from '../src/flags.js';

describe('sysbox-mgr --executor', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-mgr-executor-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is runc unless given; only a given one is checked at start (runc is the package\'s dependency)', () => {
    assert.deepEqual([parseMgrArgs([]).executor, parseMgrArgs([]).executorGiven], ['/usr/sbin/runc', false]);
    const given = parseMgrArgs(['--executor', '/usr/bin/crun']);
    assert.deepEqual([given.executor, given.executorGiven], ['/usr/bin/crun', true]);
  });

  it('refuses a relative path, a missing file, a directory and a file that cannot run, naming the flag', () => {
    const plain = path.join(dir, 'plain');
    fs.writeFileSync(plain, '', { mode: 0o644 });
    const cases: [string, RegExp][] = [
      ['crun', /--executor must be an absolute path, not "crun"/],
      [path.join(dir, 'none'), /--executor .*none: no such file \(apt-get install crun, for crun\)/],
      [dir, /--executor .*: not a regular file/],
      [plain, /--executor .*plain: not executable/],
    ];
    for (const [p, msg] of cases) assert.throws(() => checkExecutor(p), msg);
    assert.doesNotThrow(() => checkExecutor('/usr/sbin/runc'));
  });

  it('is published beside the socket, one line, replacing the last', () => {
    const socket = path.join(dir, 'mgr.sock');
    assert.equal(publishExecutor(socket, '/usr/bin/crun'), undefined);
    assert.equal(fs.readFileSync(`${socket}.executor`, 'utf8'), '/usr/bin/crun\n');
    assert.equal(publishExecutor(socket, '/usr/sbin/runc'), '/usr/bin/crun');
    assert.equal(fs.readFileSync(`${socket}.executor`, 'utf8'), '/usr/sbin/runc\n');
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('mgr.sock')), ['mgr.sock.executor']);
  });

  it('a change while containers exist is warned of: the old executor must stay', () => {
    assert.equal(executorChangeWarning(undefined, '/usr/bin/crun', 3), undefined);
    assert.equal(executorChangeWarning('/usr/bin/crun', '/usr/bin/crun', 3), undefined);
    assert.equal(executorChangeWarning('/usr/sbin/runc', '/usr/bin/crun', 0), undefined);
    assert.match(executorChangeWarning('/usr/sbin/runc', '/usr/bin/crun', 2)!, /from \/usr\/sbin\/runc to \/usr\/bin\/crun while 2 container\(s\) exist: .*stay with \/usr\/sbin\/runc, which must stay installed/);
  });
});
