// --executor PATH: the low-level runtime driven in runc's place (e.g. /usr/bin/crun), set in
// daemon.json's runtimeArgs. Both halves of sysbox-runc use it and neither hands it on: the sh
// launcher for the commands it execs itself, the Node runtime for the rest.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

describe('--executor', () => {
  const launcher = path.resolve(__dirname, '..', '..', 'launcher', 'sysbox-runc.sh');
  const main = path.resolve(__dirname, '..', 'src', 'main.js');
  let dir: string;
  let fake: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-executor-'));
    fake = path.join(dir, 'crun');
    fs.writeFileSync(fake, '#!/bin/sh\necho "fake $*"\n', { mode: 0o755 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const launch = (...args: string[]) => spawnSync('/bin/sh', [launcher, ...args], { env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });

  it('is what the launcher execs, in both spellings, without the flag', () => {
    assert.equal(launch('--executor', fake, '--root', '/run/x', 'start', 'c1').stdout.trim(), 'fake --root /run/x start c1');
    assert.equal(launch('--root', '/run/x', `--executor=${fake}`, 'state', 'c1').stdout.trim(), 'fake --root /run/x state c1');
  });
  it('is what the Node runtime runs, and --version names it', () => {
    const r = spawnSync(process.execPath, [main, '--executor', fake, '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`executor: \\t${fake.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\n`));
    assert.match(r.stdout, /fake --version/);
  });
  it('must be an absolute path: refused runc-style (the launcher hands a relative one to Node)', () => {
    const r = spawnSync(process.execPath, [main, '--executor', 'crun', 'state', 'c1'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /level=error msg="--executor must be an absolute path, not \\"crun\\""/);
  });
});
