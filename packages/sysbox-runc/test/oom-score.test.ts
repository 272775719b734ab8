// The OOM score logic against a model of the kernel's rules (fs/proc/base.c __set_oom_adj): a
// writer with CAP_SYS_RESOURCE may write anything and pins oom_score_adj_min to it; any other writer
// may only write values >= oom_score_adj_min (EACCES otherwise) and leaves the floor alone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { applyOomScore, OomScoreError, takeOomScore, type OomScoreHost } from '../src/lifecycle/oom-score.js';
import { applyTransforms } from '../src/spec/transforms/index.js';
import { DEFAULT_CONTAINER_CONFIG } from '@sysbox/common/container-config';
import { clampOomScore, oomScoreAdj } from '../src/spec/transforms/oom-score-adj.js';
import type { TransformContext } from '../src/spec/transform.js';
import { dockerLikeSpec } from './fixtures.js';

class KernelModel implements OomScoreHost {
  writes: { value: number; privileged: boolean }[] = [];
  constructor(public value: number, public min: number, private capable: boolean) {}
  read(): number { return this.value; }
  write(value: number, keepFloor = false): void {
    const privileged = this.capable && !keepFloor;
    if (value < this.min && !privileged) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    this.writes.push({ value, privileged });
    this.value = value;
    if (privileged) this.min = value;
  }
  missingPrivilege(): string { return 'the model lacks it'; }
}

const ctx: TransformContext = {
  uid: 231072, gid: 231072, size: 65536, preMapped: false, rootfs: '/r', bindSources: ['/b0', '/b1'],
  specialDirs: [], specialDirSources: [], seccompListener: '/s', config: { ...DEFAULT_CONTAINER_CONFIG },
};

describe('oom-score-adj transform', () => {
  it('clamps to -999..1000 (-1000 cannot be kept inside a user namespace)', () => {
    assert.equal(clampOomScore(-1000), -999);
    assert.equal(clampOomScore(-500), -500);
    assert.equal(clampOomScore(1001), 1000);
    const spec = dockerLikeSpec();
    spec.process!.oomScoreAdj = -1000;
    oomScoreAdj.apply(spec, ctx);
    assert.equal(spec.process!.oomScoreAdj, -999);
  });
  it('leaves a spec without oomScoreAdj alone', () => {
    const spec = applyTransforms(dockerLikeSpec(), ctx);
    assert.equal(spec.process!.oomScoreAdj, undefined);
  });
});

describe('takeOomScore', () => {
  it('removes the value from the spec runc sees and returns it', () => {
    const spec = dockerLikeSpec();
    spec.process!.oomScoreAdj = 300;
    assert.equal(takeOomScore(spec, { read: () => 7 }), 300);
    assert.equal('oomScoreAdj' in spec.process!, false);
  });
  it("falls back to this process's own score, as runc would leave it", () => {
    assert.equal(takeOomScore(dockerLikeSpec(), { read: () => 7 }), 7);
    assert.equal(takeOomScore(dockerLikeSpec(), { read: () => -1000 }), -999);
  });
});

describe('applyOomScore', () => {
  it('with CAP_SYS_RESOURCE: floor -999 (privileged write), then the value without privilege', () => {
    const k = new KernelModel(1, 0, true);
    applyOomScore(0, k);
    assert.deepEqual(k.writes, [{ value: -999, privileged: true }, { value: 0, privileged: false }]);
    assert.equal(k.value, 0);
    assert.equal(k.min, -999, 'processes inside may later go down to -999');
  });
  it('with CAP_SYS_RESOURCE: -999 needs one write', () => {
    const k = new KernelModel(0, 0, true);
    applyOomScore(-999, k);
    assert.deepEqual(k.writes, [{ value: -999, privileged: true }]);
    assert.equal(k.min, -999);
  });
  it('without CAP_SYS_RESOURCE: values at or above the inherited floor apply', () => {
    const k = new KernelModel(1, 0, false);
    applyOomScore(0, k);
    assert.equal(k.value, 0);
    assert.equal(k.min, 0);
    applyOomScore(500, k);
    assert.equal(k.value, 500);
  });
  it('without CAP_SYS_RESOURCE: a value below the floor fails naming the floor, which is unchanged', () => {
    const k = new KernelModel(1, -20, false);
    assert.throws(() => applyOomScore(-500, k), (err: Error) => {
      assert.ok(err instanceof OomScoreError);
      assert.match(err.message, /cannot set oom_score_adj to -500/);
      assert.match(err.message, /floor \(-20 here\)/);
      assert.match(err.message, /CAP_SYS_RESOURCE/);
      return true;
    });
    assert.equal(k.min, -20);
    assert.equal(k.value, 1, 'the own score is written back after probing the floor');
  });
});

/** Runs `code` in a fresh Node with `m` bound to lifecycle/oom-score; its stdout. */
function inChild(code: string): string {
  const mod = path.join(__dirname, '..', 'src', 'lifecycle', 'oom-score.js');
  const r = spawnSync(process.execPath, ['-e', `const fs = require('fs'); const m = require(${JSON.stringify(mod)}); ${code}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

describe('procOomScore (the real /proc/self/oom_score_adj, in a child process)', () => {
  it('writes without privilege through a file opened before seteuid, then is root with its capabilities again', () => {
    const out = inChild(`const caps = () => /CapEff:\\s*(\\S+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1];
      const before = caps(); const h = m.procOomScore(); h.write(7, true);
      console.log(JSON.stringify({ value: h.read(), euid: process.geteuid(), same: caps() === before }));`);
    assert.deepEqual(JSON.parse(out), { value: 7, euid: 0, same: true });
  });
  it('tells from the capability sets why a floor cannot be lowered', () => {
    const bnd = /CapBnd:\s*([0-9a-f]+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]!;
    const why = inChild('console.log(m.procOomScore().missingPrivilege())');
    if ((BigInt(`0x${bnd}`) >> 24n) % 2n === 1n) assert.doesNotMatch(why, /bounding set/);
    else assert.match(why, /not in the capability bounding set/);
  });
});
