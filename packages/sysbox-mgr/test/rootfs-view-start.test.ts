// A view's readiness is collected at Created (awaitRootfsView), not at Register: what that wait
// makes of a view that serves, one that died, and the connection it may still have to copy.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { processStartTime } from '@sysbox/common/proc';
import { awaitRootfsView, forgetStartingView, type StartingView } from '../src/rootfs-view/process.js';

let dir: string;
before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'view-start-')); });
after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/** A process that has exited and been reaped: a view that died before it served. */
function goneProcess(): { pid: number; startTime: number } {
  const r = spawnSync('/bin/true');
  return { pid: r.pid ?? 0, startTime: 1 };
}

function starting(log: string, view: { pid: number; startTime: number }, fd?: number): StartingView {
  const logFile = path.join(dir, `${Math.random()}.log`);
  fs.writeFileSync(logFile, log);
  return { view, mountpoint: path.join(dir, 'not-mounted'), rootfs: '/some/rootfs', logFile, fd };
}

describe('awaitRootfsView', () => {
  it('returns at once for a view whose log says ready, and closes the kept connection', () => {
    const fd = fs.openSync('/dev/null', 'r');
    const self = { pid: process.pid, startTime: processStartTime(process.pid) ?? 0 };
    const v = starting('ready\n', self, fd);
    const t0 = Date.now();
    awaitRootfsView(v);
    assert.ok(Date.now() - t0 < 1000, 'no wait for a view already serving');
    assert.equal(v.fd, undefined);
    assert.throws(() => fs.fstatSync(fd), /EBADF/, 'the connection kept for the spare is closed');
  });

  it('fails with the view\'s log when the view exited without serving, and still closes the connection', () => {
    const fd = fs.openSync('/dev/null', 'r');
    const v = starting('rootfs view: pidfd_getfd: no such process\n', goneProcess(), fd);
    assert.throws(() => awaitRootfsView(v), /rootfs view of \/some\/rootfs did not start: rootfs view: pidfd_getfd: no such process/);
    assert.equal(v.fd, undefined);
    assert.throws(() => fs.fstatSync(fd), /EBADF/);
  });

  it('says "no output" for a view that died silently (a sysbox-mgr restarted since Register: no fd kept)', () => {
    assert.throws(() => awaitRootfsView(starting('', goneProcess())), /did not start: no output/);
  });
});

describe('forgetStartingView', () => {
  it('closes the connection once, however often it is called (release before and after Created)', () => {
    const fd = fs.openSync('/dev/null', 'r');
    const v = starting('', goneProcess(), fd);
    forgetStartingView(v);
    forgetStartingView(v);
    assert.equal(v.fd, undefined);
    assert.throws(() => fs.fstatSync(fd), /EBADF/);
  });
});
