// OOM scores in a system container (issue 12): --oom-score-adj, its floor, and what software inside
// may do with its own score. The kernel lets a process lower its score only down to its floor
// (oom_score_adj_min) unless it holds CAP_SYS_RESOURCE over the host, which nothing inside a user
// namespace does. Where the host's root has that capability, sysbox-runc sets the floor to -999 and
// every negative value down to -999 works; where it lacks it (this project's machines: not in PID
// 1's bounding set) nobody can lower a floor, the inherited floor (0) stays, and a negative value
// must fail with a message that says so (runc alone: "can't get final child's PID from pipe: EOF").
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import { BUSYBOX, MOUNT_ROOT, docker, dockerOk, removeContainers, uniqueName } from '../lib/env.js';

const CAP_SYS_RESOURCE = 24;

function hostCanLowerFloors(): boolean {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m !== null && (BigInt(`0x${m[1]}`) >> BigInt(CAP_SYS_RESOURCE)) % 2n === 1n;
}

const CAPABLE = hostCanLowerFloors();
/** The lowest score a process inside may set itself. */
const FLOOR = CAPABLE ? -999 : 0;

/** Shell run inside: the score it starts with, then whether it may set `value` on itself. */
function trySelf(value: number): string {
  return `if echo ${value} > /proc/self/oom_score_adj 2>/dev/null; then echo "${value} ok"; else echo "${value} refused"; fi`;
}

describe('OOM scores in a system container', () => {
  const names: string[] = [];
  after(() => removeContainers(...names));

  it('negative --oom-score-adj: applied over a -999 floor, or refused naming the floor and CAP_SYS_RESOURCE', async () => {
    const c = uniqueName('oom-neg');
    names.push(c);
    const r = await docker('run', '--name', c, '--runtime=sysbox-runc', '--oom-score-adj=-500', BUSYBOX,
      'sh', '-c', `cat /proc/self/oom_score_adj; ${trySelf(-999)}`);
    if (CAPABLE) {
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['-500', '-999 ok']);
      return;
    }
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stderr, /final child's PID from pipe/);
    assert.match(r.stderr, /cannot set oom_score_adj to -500: lowering an OOM score below its floor \(0 here\) needs CAP_SYS_RESOURCE/);
    assert.match(r.stderr, /not in the capability bounding set/);
    // Refused before runc ran: sysbox-mgr let the container go again.
    const id = await dockerOk('inspect', '-f', '{{.Id}}', c);
    assert.equal(fs.existsSync(`${MOUNT_ROOT}/${id}`), false, 'the run dir is released');
  });

  it('--oom-score-adj=-1000 is clamped to -999, the lowest a user namespace can keep', async () => {
    const c = uniqueName('oom-1000');
    names.push(c);
    const r = await docker('run', '--name', c, '--runtime=sysbox-runc', '--oom-score-adj=-1000', BUSYBOX, 'cat', '/proc/self/oom_score_adj');
    if (CAPABLE) {
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), '-999');
    } else {
      assert.match(r.stderr, /cannot set oom_score_adj to -999:/);
    }
  });

  it('a positive score reaches init and docker exec; root inside may lower its own down to the floor, not below', async () => {
    const c = uniqueName('oom-pos');
    names.push(c);
    await dockerOk('run', '-d', '--name', c, '--runtime=sysbox-runc', '--oom-score-adj=500', BUSYBOX, 'sleep', '300');
    assert.equal(await dockerOk('exec', c, 'cat', '/proc/1/oom_score_adj'), '500');
    const out = await dockerOk('exec', c, 'sh', '-c', `cat /proc/self/oom_score_adj; ${trySelf(100)}; ${trySelf(FLOOR)}; ${trySelf(FLOOR - 1)}`);
    assert.deepEqual(out.split('\n'), ['500', '100 ok', `${FLOOR} ok`, `${FLOOR - 1} refused`]);
    // root inside may also set another process's score, within the same floor.
    assert.equal(await dockerOk('exec', c, 'sh', '-c', `echo ${FLOOR} > /proc/1/oom_score_adj && cat /proc/1/oom_score_adj`), String(FLOOR));
  });

  it("an inner dockerd's own -500 takes where the host allows it (Docker's default score, no flag)", async () => {
    const c = uniqueName('oom-dind');
    names.push(c);
    await dockerOk('run', '-d', '--name', c, '--runtime=sysbox-runc', 'sysbox/docker:latest', 'sleep', '300');
    let score = '';
    for (let i = 0; i < 60 && score === ''; i++) {
      score = (await docker('exec', c, 'sh', '-c', 'docker info >/dev/null 2>&1 && cat /proc/$(pidof dockerd)/oom_score_adj')).stdout.trim();
      if (score === '') await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(score, CAPABLE ? '-500' : '0', 'dockerd is up, at the lowest of -500 and the floor');
  });
});
