// sysbox-fs can die (kill -9) or be stopped (SIGTERM) while system containers run and read their
// virtual files: its fd keeper holds the FUSE connection and the seccomp notify fds, the restarted
// daemon takes them back (and has the kernel resend requests its predecessor read unanswered), so
// reads keep working, emulated sysctls keep their values, mounts are still trapped, and new
// containers work.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { BUSYBOX, docker, dockerOk, fsPid, removeContainers, startFs, startFsIfGone, uniqueName, waitForExit } from '../lib/env.js';

describe('sysbox-fs restart with system containers running', () => {
  const names: string[] = [];
  after(async () => {
    await removeContainers(...names);
    startFsIfGone();
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`keeps serving running containers across a ${signal} and restart`, async () => {
      const c = uniqueName(`fsrestart-${signal.toLowerCase()}`);
      names.push(c);
      // A reader loop that would print "readfail" on any failed read (e.g. ENOTCONN).
      await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, '--memory', '200m', BUSYBOX, 'sh', '-c',
        // Host-wide and neigh entries of /proc/sys too: the restarted daemon has to find again
        // pass-through inodes the kernel still holds.
        'while true; do cat /proc/uptime /proc/meminfo /proc/sys/vm/swappiness /proc/sys/net/ipv4/neigh/lo/ucast_solicit > /dev/null || echo readfail; done');
      await dockerOk('exec', c, 'sh', '-c', 'echo 23 > /proc/sys/kernel/panic');

      const old = fsPid();
      process.kill(old, signal);
      assert.ok(await waitForExit(old), `sysbox-fs must exit on ${signal}`);
      await new Promise((r) => setTimeout(r, 300));
      startFs();
      assert.notEqual(fsPid(), old);

      const out = await dockerOk('exec', c, 'sh', '-c', 'head -1 /proc/meminfo; cat /proc/sys/kernel/panic; mkdir -p /mnt/p && mount -t proc p /mnt/p && head -1 /mnt/p/meminfo; umount /proc/uptime 2>&1; true');
      assert.deepEqual(out.split('\n'), ['MemTotal:         204800 kB', '23', 'MemTotal:         204800 kB', 'umount: can\'t unmount /proc/uptime: Operation not permitted']);
      // The loop kept reading throughout: no read failed, and it is still making progress.
      const logs = await docker('logs', c);
      assert.equal(logs.stdout + logs.stderr, '', 'no read failed inside the container');
      // A reader caught waiting twice, 300 ms apart, would be one whose request the old daemon took.
      const waiting = (): Promise<string> => dockerOk('exec', c, 'sh', '-c', 'for p in /proc/[0-9]*; do [ "$(cat $p/wchan 2>/dev/null)" = request_wait_answer ] && echo $p; done; true');
      const first = (await waiting()).split('\n').filter((l) => l !== '');
      await new Promise((r) => setTimeout(r, 300));
      const second = (await waiting()).split('\n');
      assert.deepEqual(first.filter((p) => second.includes(p)), [], 'no reader left waiting for good');
      // New containers work.
      assert.equal(await dockerOk('run', '--rm', '--runtime=sysbox-runc', '--memory', '64m', BUSYBOX, 'head', '-1', '/proc/meminfo'), 'MemTotal:          65536 kB');
    });
  }
});
