// A view's readiness is collected at Created (awaitRootfsView), not at Register: what that wait
// makes of a view that serves and of one that died.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { processStartTime } from '@sysbox/common/proc';
import { awaitRootfsView, type StartingView } from '../src/rootfs-view/process.js';

let dir: string;
before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'view-start-')); });
after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/** A process that has exited and been reaped: a view that died before it served. */
function goneProcess(): { pid: number; startTime: number } {
  const r = spawnSync('/bin/true');
  return { pid: r.pid ?? 0, startTime: 1 };
}

function starting(log: string, view: { pid: number; startTime: number }): StartingView {
  const logFile = path.join(dir, `${Math.random()}.log`);
  fs.writeFileSync(logFile, log);
  return { view, mountpoint: path.join(dir, 'not-mounted'), rootfs: '/some/rootfs', logFile };
}

describe('awaitRootfsView', () => {
  it('returns at once for a view whose log says ready', () => {
    const self = { pid: process.pid, startTime: processStartTime(process.pid) ?? 0 };
    const t0 = Date.now();
    awaitRootfsView(starting('ready\n', self));
    assert.ok(Date.now() - t0 < 1000, 'no wait for a view already serving');
  });

  it('fails with the view\'s log when the view exited without serving', () => {
    const v = starting('rootfs view: pivot_root /some/rootfs: Invalid argument\n', goneProcess());
    assert.throws(() => awaitRootfsView(v), /rootfs view of \/some\/rootfs did not start: rootfs view: pivot_root \/some\/rootfs: Invalid argument/);
  });

  it('says "no output" for a view that died silently', () => {
    assert.throws(() => awaitRootfsView(starting('', goneProcess())), /did not start: no output/);
  });
});
