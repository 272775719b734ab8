// The executor: the low-level runtime driven in runc's place (e.g. /usr/bin/crun), given by
// --executor PATH (daemon.json's runtimeArgs), else SYSBOX_RUNC_PATH, else by sysbox-mgr's
// --executor (the file it publishes beside its socket), else runc. Both halves of sysbox-runc
// decide alike and neither hands the flag on: the sh launcher for the commands it execs itself,
// the Node runtime for the rest.
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

  describe('published by sysbox-mgr beside its socket', () => {
    let socket: string;
    let other: string;
    before(() => {
      socket = path.join(dir, 'mgr.sock');
      fs.writeFileSync(`${socket}.executor`, `${fake}\n`);
      other = path.join(dir, 'other');
      fs.writeFileSync(other, '#!/bin/sh\necho "other $*"\n', { mode: 0o755 });
    });
    const launchWith = (env: Record<string, string>, ...args: string[]) =>
      spawnSync('/bin/sh', [launcher, ...args], { env: { PATH: '/usr/bin:/bin', ...env }, encoding: 'utf8' });
    const versionWith = (env: Record<string, string>, ...args: string[]) =>
      spawnSync(process.execPath, [main, ...args, '--version'], { env: { PATH: '/usr/bin:/bin', ...env }, encoding: 'utf8' });

    it('is the launcher\'s for the socket named by flag or variable; SYSBOX_RUNC_PATH and --executor come first', () => {
      assert.equal(launchWith({ SYSBOX_MGR_SOCKET: socket }, 'state', 'c1').stdout.trim(), 'fake state c1');
      assert.equal(launchWith({}, '--sysbox-mgr-socket', socket, 'state', 'c1').stdout.trim(), 'fake state c1');
      assert.equal(launchWith({ SYSBOX_MGR_SOCKET: socket, SYSBOX_RUNC_PATH: other }, 'state', 'c1').stdout.trim(), 'other state c1');
      assert.equal(launchWith({ SYSBOX_MGR_SOCKET: socket }, `--executor=${other}`, 'state', 'c1').stdout.trim(), 'other state c1');
    });
    it('is the Node runtime\'s, in the same order', () => {
      const executorOf = (r: ReturnType<typeof versionWith>): string | undefined => {
        assert.equal(r.status, 0, r.stderr);
        return /executor: \t(\S+)\n/.exec(r.stdout)?.[1];
      };
      assert.equal(executorOf(versionWith({ SYSBOX_MGR_SOCKET: socket })), fake);
      assert.equal(executorOf(versionWith({}, '--sysbox-mgr-socket', socket)), fake);
      assert.equal(executorOf(versionWith({ SYSBOX_MGR_SOCKET: socket, SYSBOX_RUNC_PATH: other })), other);
      assert.equal(executorOf(versionWith({ SYSBOX_MGR_SOCKET: socket }, '--executor', other)), other);
    });
    it('none published, or not an absolute path: runc', () => {
      const none = path.join(dir, 'none.sock');
      assert.equal(versionWith({ SYSBOX_MGR_SOCKET: none }).stdout.match(/executor: \t(\S+)/)?.[1], '/usr/sbin/runc');
      const bad = path.join(dir, 'bad.sock');
      fs.writeFileSync(`${bad}.executor`, 'crun\n');
      assert.equal(versionWith({ SYSBOX_MGR_SOCKET: bad }).stdout.match(/executor: \t(\S+)/)?.[1], '/usr/sbin/runc');
      // The launcher too: runc's own version line, not the stand-in's.
      assert.match(launchWith({ SYSBOX_MGR_SOCKET: bad }, '--root', dir, 'list').stdout, /^ID\s+PID\s+STATUS/);
    });
  });
});
