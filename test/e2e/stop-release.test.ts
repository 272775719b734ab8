// `docker stop` returns once sysbox-mgr's release has put Docker's rootfs back and taken the run dir
// away; what Docker does not depend on (removing the special dirs' host dirs, moved aside by then)
// finishes after that. These check the ordering holds when Docker acts again at once on the same container:
// a start (a Register of the same id, same host dirs) or a removal, many times in a row.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BUSYBOX, MGR_DATA_ROOT, MOUNT_ROOT, containerIdOf, docker, dockerOk, leftoversOf, removeContainers, uniqueName } from '../lib/env.js';

/** An init that exits on SIGTERM (once its trap is set: it forks `sleep` after), so a stop takes no timeout. */
const INIT = ['sh', '-c', 'trap "exit 0" TERM; sleep 1d & wait'];
const ROUNDS = 20;

/** sysbox-mgr's host dirs behind a container's special dirs (<data root>/<kind>/<id>). */
function specialHostDirs(id: string): string[] {
  return fs.readdirSync(MGR_DATA_ROOT).map((kind) => path.join(MGR_DATA_ROOT, kind, id)).filter((d) => fs.existsSync(d));
}

/** Special dirs moved aside for their removal after the release (<data root>/mgr/removing) and not removed. */
function movedAside(id: string): string[] {
  const dir = path.join(MGR_DATA_ROOT, 'mgr', 'removing');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.startsWith(`${id}.`)) : [];
}

/** Run dirs renamed away for removal (sysbox-mgr's release-signal.ts) and not removed. */
function renamedRunDirs(id: string): string[] {
  return fs.readdirSync(MOUNT_ROOT).filter((n) => n.startsWith(`${id}:`));
}

async function startedOnce(name: string): Promise<void> {
  // The trap is set once the shell has forked its sleep.
  for (let i = 0; i < 100; i++) {
    if ((await docker('top', name)).stdout.includes('sleep')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name}: init never forked its sleep`);
}

describe('docker stop, then at once start or rm of the same container', () => {
  const names: string[] = [];
  after(() => removeContainers(...names));

  it(`stop then start ${ROUNDS} times in a row: every start runs, the inner data carried across, the run dir gone after each stop`, async () => {
    const name = uniqueName('stopstart');
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, BUSYBOX, ...INIT);
    const id = await containerIdOf(name);
    const runDir = path.join(MOUNT_ROOT, id);
    await dockerOk('exec', name, 'sh', '-c', 'echo kept > /var/lib/docker/marker');
    assert.ok(specialHostDirs(id).length > 0, 'the container has special dirs (the check below is not vacuous)');
    for (let i = 0; i < ROUNDS; i++) {
      await startedOnce(name);
      await dockerOk('stop', '-t', '10', name);
      // What delete waited for: the run dir's name is gone by the time the stop returns.
      assert.equal(fs.existsSync(runDir), false, `round ${i}: ${runDir} after docker stop`);
      await dockerOk('start', name);
      assert.equal(await dockerOk('exec', name, 'cat', '/var/lib/docker/marker'), 'kept', `round ${i}: inner data after the start`);
    }
    await dockerOk('rm', '-f', name);
  });

  it(`stop then rm ${ROUNDS} times: nothing left, not even the special dirs' host dirs once the release has finished`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const name = uniqueName('stoprm');
      names.push(name);
      await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, BUSYBOX, ...INIT);
      const id = await containerIdOf(name);
      ids.push(id);
      await startedOnce(name);
      await dockerOk('stop', '-t', '10', name);
      assert.equal(fs.existsSync(path.join(MOUNT_ROOT, id)), false, `round ${i}: run dir after docker stop`);
      await dockerOk('rm', name);
    }
    // The removal of the host dirs ends the release shortly after the stop returned.
    const end = Date.now() + 10_000;
    const left = (): string[] => ids.flatMap((id) => [...leftoversOf(id), ...specialHostDirs(id), ...movedAside(id), ...renamedRunDirs(id)]);
    while (left().length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(left(), []);
  });
});
