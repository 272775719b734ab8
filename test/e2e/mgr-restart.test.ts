// sysbox-mgr can die (kill -9) or be stopped (SIGTERM) while system containers run: its state is
// on disk, so after a restart running containers keep working, their id ranges stay taken (a new
// container gets a different one), and removing them releases the ranges for reuse.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import {
  BUSYBOX, containerIdOf, dockerOk, hostRootId, leftoversOf, MGR_PIDFILE, MGR_SOCKET, mgrPid, mgrRecordFile, MOUNT_ROOT,
  processAlive, processesMentioning, readPidfile, removeContainers, startMgr, uniqueName, waitForExit,
} from '../lib/env.js';

async function startSystemContainer(name: string): Promise<{ id: string; hostId: number }> {
  await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, BUSYBOX, 'sleep', '300');
  return { id: await containerIdOf(name), hostId: await hostRootId(name) };
}

describe('sysbox-mgr restart with system containers running', () => {
  const names: string[] = [];
  after(async () => {
    await removeContainers(...names);
    // Whatever happened above, leave a running private sysbox-mgr for the tests that follow.
    const pid = readPidfile(MGR_PIDFILE);
    if (pid === undefined || !processAlive(pid)) startMgr(['--log-level', 'debug']);
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`keeps containers and their ranges across a ${signal} and restart; ranges are reused after removal`, async () => {
      const a = uniqueName('restart-a');
      names.push(a);
      const ca = await startSystemContainer(a);
      assert.ok(fs.existsSync(mgrRecordFile(ca.id)), 'sysbox-mgr keeps a record of the running container');

      const oldPid = mgrPid();
      process.kill(oldPid, signal);
      assert.ok(await waitForExit(oldPid), `sysbox-mgr must exit on ${signal}`);
      if (signal === 'SIGTERM') {
        assert.ok(!fs.existsSync(MGR_SOCKET), 'a clean shutdown removes the socket');
        assert.ok(!fs.existsSync(MGR_PIDFILE), 'a clean shutdown removes the pidfile');
      }
      assert.ok(fs.existsSync(mgrRecordFile(ca.id)), 'the record outlives sysbox-mgr');

      startMgr(['--log-level', 'debug']);
      assert.notEqual(mgrPid(), oldPid, 'a new sysbox-mgr runs');
      // The container's rootfs view, a child of the old sysbox-mgr, was left running.
      assert.equal(processesMentioning(`${MOUNT_ROOT}/${ca.id}/`).filter((p) => p.includes('sysbox-mgr-rootfs-view')).length, 1);

      // The running container is untouched and still usable.
      const out = await dockerOk('exec', a, 'sh', '-c', 'id -u; echo hello > /tmp/f && cat /tmp/f');
      assert.deepEqual(out.split('\n'), ['0', 'hello']);
      assert.equal(await hostRootId(a), ca.hostId);
      // Its rootfs view (Docker's merged dir) outlived sysbox-mgr: docker cp still works.
      const file = `/tmp/${uniqueName('restart-cp')}`;
      fs.writeFileSync(file, 'copied\n');
      try {
        await dockerOk('cp', file, `${a}:/copied`);
      } finally {
        fs.rmSync(file, { force: true });
      }
      assert.equal(await dockerOk('exec', a, 'stat', '-c', '%u:%g %s', '/copied'), '0:0 7');

      // Its range is still taken: a new container gets another one.
      const b = uniqueName('restart-b');
      names.push(b);
      const cb = await startSystemContainer(b);
      assert.notEqual(cb.hostId, ca.hostId, 'the restarted sysbox-mgr must not hand out a range in use');
      assert.ok(ca.hostId + 65536 <= cb.hostId || cb.hostId + 65536 <= ca.hostId, `ranges overlap: ${ca.hostId} and ${cb.hostId}`);

      await dockerOk('rm', '-f', a, b);
      assert.deepEqual(leftoversOf(ca.id), [], `left behind for ${a}`);
      assert.deepEqual(leftoversOf(cb.id), [], `left behind for ${b}`);

      // Both ranges are free again: the next container gets the lowest one, the first's.
      const c = uniqueName('restart-c');
      names.push(c);
      const cc = await startSystemContainer(c);
      assert.equal(cc.hostId, ca.hostId, 'the released range must be handed out again');
      await dockerOk('rm', '-f', c);
      assert.deepEqual(leftoversOf(cc.id), [], `left behind for ${c}`);
    });
  }
});
