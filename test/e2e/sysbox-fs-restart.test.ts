// sysbox-fs can die (kill -9) or be stopped (SIGTERM) while system containers run and read their
// virtual files: its fd keeper holds the FUSE connection and the seccomp notify fds, the restarted
// daemon takes them back (and has the kernel resend requests its predecessor read unanswered), so
// reads keep working, emulated sysctls keep their values, mounts are still trapped, and new
// containers work.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import { BUSYBOX, containerIdOf, docker, dockerOk, FS_STATE_DIR, fsPid, removeContainers, startFs, startFsIfGone, uniqueName, waitForExit } from '../lib/env.js';

const FS_LOG = `${FS_STATE_DIR}.log`;

/** sysbox-fs's debug lines matching re, from offset on, each with its time (ms since the epoch). */
function logLines(from: number, re: RegExp): { at: number; m: RegExpMatchArray }[] {
  const out: { at: number; m: RegExpMatchArray }[] = [];
  for (const line of fs.readFileSync(FS_LOG, 'utf8').slice(from).split('\n')) {
    const m = re.exec(line);
    const t = /time="([^"]+)"/.exec(line);
    if (m && t) out.push({ at: Date.parse(t[1]!), m });
  }
  return out;
}

async function waitForLogLine(from: number, re: RegExp): Promise<RegExpMatchArray> {
  for (let i = 0; i < 100; i++) {
    const found = logLines(from, re);
    if (found.length > 0) return found[0]!.m;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sysbox-fs never logged ${re}`);
}

describe('sysbox-fs restart with system containers running', () => {
  const names: string[] = [];
  after(async () => {
    await removeContainers(...names);
    startFsIfGone();
  });

  it('a slot freed just before a restart still rests after it: the next container gets another', async () => {
    const [a, b] = [uniqueName('fsrestart-slot-a'), uniqueName('fsrestart-slot-b')];
    names.push(a, b);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', a, BUSYBOX, 'sleep', '300');
    const idA = await containerIdOf(a);
    await dockerOk('rm', '-f', a);
    await waitForLogLine(0, new RegExp(`${idA}: slot (\\d+) freed`));
    const old = fsPid();
    process.kill(old, 'SIGKILL');
    assert.ok(await waitForExit(old));
    startFs();
    const from = fs.statSync(FS_LOG).size;
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', b, BUSYBOX, 'sleep', '300');
    const idB = await containerIdOf(b);
    const slotB = Number((await waitForLogLine(from, new RegExp(`${idB}: registered in slot (\\d+)`)))[1]);
    // Every slot freed in the 11 s before B's Register, by the old daemon (A's among them) or not.
    const resting = logLines(0, /: slot (\d+) freed/).filter((l) => Date.now() - l.at < 11_000).map((l) => Number(l.m[1]));
    assert.ok(resting.length > 0);
    assert.ok(!resting.includes(slotB), `B got slot ${slotB}, freed less than 11 s before (resting: ${resting.join(' ')})`);
    // And its files show as its root's, not nobody's.
    assert.equal(await dockerOk('exec', b, 'stat', '-c', '%u', '/proc/sys/kernel/pid_max', '/proc/uptime'), '0\n0');
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
