// FUSE over io_uring (sysbox-fs's default where the kernel has it): each CPU's requests are served
// by a ring of that CPU. A ring's requests die with the process that owned it, and its callers then
// wait, unkillable, until the connection is aborted. So this kills sysbox-fs with SIGKILL again and
// again while containers on each CPU read their virtual files as fast as they can, and checks that
// every read was answered (by the successor, which maps its predecessor's ring buffers), that the
// readers keep going after each restart, and that the containers can still be removed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BUSYBOX, docker, dockerOk, FS_KEEPER_SOCKET, FS_STATE_DIR, fsPid, keeperKeptOpens, processAlive, removeContainers, restartFs, startFs, startFsIfGone, uniqueName, waitForExit } from '../lib/env.js';

/**
 * Reads by the shell itself (no fork, so one request follows another at once) and by cat; a failed
 * one prints readfail. kernel/ostype is a host setting whose OPENs the keeper's holders answer
 * themselves, counting handles in the table sysbox-fs's workers lock too (a worker killed holding
 * a set's lock must not leave the next sysbox-fs, or the holders, waiting on it); a wrong value
 * prints badvalue.
 */
const READ_LOOP = 'n=0; while true; do read l < /proc/uptime || echo readfail; read l < /proc/sys/kernel/panic || echo readfail; '
  + 'read l < /proc/sys/kernel/ostype || echo readfail; [ "$l" = Linux ] || echo "badvalue $l"; '
  + 'cat /proc/meminfo /proc/stat > /dev/null || echo readfail; n=$((n+1)); echo $n > /tmp/rounds; done';

async function rounds(c: string): Promise<number> {
  for (;;) {
    const n = await dockerOk('exec', c, 'cat', '/tmp/rounds');
    if (n !== '') return Number(n);
  }
}

/** Waits until c's reader has done more rounds than it had; false after timeoutMs. */
async function progresses(c: string, timeoutMs: number): Promise<boolean> {
  const first = await rounds(c);
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await rounds(c)) > first) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** The container's processes in uninterruptible sleep (D): a reader left waiting on a lost request. */
function stuckProcesses(pids: number[]): string[] {
  const out: string[] = [];
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (state === 'D') out.push(`${pid} ${fs.readFileSync(`/proc/${pid}/wchan`, 'utf8')}`);
    } catch { /* gone */ }
  }
  return out;
}

function processesOf(containerPid: number): number[] {
  const cgroup = fs.readFileSync(`/proc/${containerPid}/cgroup`, 'utf8');
  const pids: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/cgroup`, 'utf8') === cgroup) pids.push(Number(d));
    } catch { /* gone */ }
  }
  return pids;
}

describe('FUSE over io_uring', () => {
  const names: string[] = [];
  after(async () => {
    await removeContainers(...names);
    startFsIfGone();
    // No container of ours runs: sysbox-fs unmounts on SIGTERM and mounts afresh, with a new keeper.
    await restartFs();
  });

  /** A container running `round` in a loop, counting rounds in /tmp/rounds; returns once it reads. */
  async function startReader(prefix: string, round: string): Promise<string> {
    const reader = uniqueName(prefix);
    names.push(reader);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', reader, BUSYBOX, 'sh', '-c', `echo 0 > /tmp/rounds; n=0; while true; do ${round}; n=$((n+1)); echo $n > /tmp/rounds; done`);
    assert.ok(await progresses(reader, 10_000), `${reader} reads`);
    return reader;
  }

  it('the test sysbox-fs serves its mount over io_uring', () => {
    const init = JSON.parse(fs.readFileSync(path.join(FS_STATE_DIR, 'fuse-init.json'), 'utf8')) as { ioUring?: boolean };
    assert.equal(init.ioUring, true, 'fuse-init.json records io_uring (kernel 6.14+ with FUSE_OVER_IO_URING is required here)');
  });

  it('readers on every CPU never see a failed or lost read across 12 kill -9 of sysbox-fs', async () => {
    const cpus = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim() === '0' ? [0] : [0, 1];
    const readers = cpus.map((cpu) => uniqueName(`uring-reader-cpu${cpu}`));
    names.push(...readers);
    for (const [i, c] of readers.entries()) {
      await dockerOk('run', '-d', '--runtime=sysbox-runc', '--cpuset-cpus', String(cpus[i]), '--name', c, BUSYBOX, 'sh', '-c', READ_LOOP);
    }
    for (const c of readers) assert.ok(await progresses(c, 10_000), `${c} reads`);
    const killed: number[] = [];
    for (let k = 0; k < 12; k++) {
      // Somewhere in a read: the readers do ~10k reads a second between them.
      await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 400)));
      const pid = fsPid();
      process.kill(pid, 'SIGKILL');
      assert.ok(await waitForExit(pid), 'sysbox-fs dies on SIGKILL');
      killed.push(pid);
      startFs();
      for (const c of readers) {
        const ok = await progresses(c, 10_000);
        const top = Number(await dockerOk('inspect', '-f', '{{.State.Pid}}', c));
        assert.ok(ok, `${c} reads again after kill ${k + 1} (stuck: ${stuckProcesses(processesOf(top)).join('; ') || 'none'})`);
      }
    }
    for (const c of readers) {
      const logs = await docker('logs', c);
      assert.equal(logs.stdout + logs.stderr, '', `failed reads in ${c}`);
    }
    for (const pid of killed) assert.ok(!processAlive(pid));
    // Removable at once: nothing of theirs waits for an answer.
    const t0 = Date.now();
    await dockerOk('rm', '-f', ...readers);
    assert.ok(Date.now() - t0 < 20_000, `docker rm -f took ${Date.now() - t0} ms`);
  });

  it('ring holders commit as SCHED_IDLE for that moment only: once readers stop, every keeper and sysbox-fs thread is SCHED_OTHER', async () => {
    const reader = await startReader('uring-policy', 'sysctl -a > /dev/null 2>&1; cat /proc/uptime > /dev/null');
    const keeperPid = Number(fs.readFileSync(`${FS_KEEPER_SOCKET}.pid`, 'utf8'));
    const policies = (pid: number): Map<string, number> => {
      const out = new Map<string, number>();
      for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
        const stat = fs.readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
        out.set(`${pid}/${t}`, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38])); // field 41, policy
      }
      return out;
    };
    let idleSeen = 0;
    for (let i = 0; i < 200; i++) for (const p of policies(keeperPid).values()) if (p === 5) idleSeen++;
    await dockerOk('rm', '-f', reader);
    await new Promise((r) => setTimeout(r, 200));
    const after = new Map([...policies(keeperPid), ...policies(fsPid())]);
    const notOther = [...after].filter(([, p]) => p !== 0);
    assert.deepEqual(notOther, [], `threads left with a policy other than SCHED_OTHER (5: SCHED_IDLE); SCHED_IDLE seen ${idleSeen} times while reading`);
  });

  // Last in this file: after it sysbox-fs holds the rings itself, and the next files get a fresh
  // keeper and mount (after() restarts sysbox-fs with no container running).
  it('a kill -9 of the fd keeper, which holds the rings, leaves readers reading (sysbox-fs takes the rings over)', async () => {
    const reader = await startReader('uring-keeper-kill', 'cat /proc/uptime /proc/meminfo /proc/sys/kernel/ostype /proc/sys/fs/file-max > /dev/null');
    const keeperPid = Number(fs.readFileSync(`${FS_KEEPER_SOCKET}.pid`, 'utf8'));
    process.kill(keeperPid, 'SIGKILL');
    assert.ok(await waitForExit(keeperPid), 'the keeper dies on SIGKILL');
    assert.ok(await progresses(reader, 10_000), 'reads after the keeper died');
    assert.match(fs.readFileSync(`${FS_STATE_DIR}.log`, 'utf8'), /the fd keeper \(pid \d+\) died: sysbox-fs holds the FUSE io_uring rings itself/);
    // Its own holders answer the host settings' OPENs from the arena's table as the keeper's did.
    const kept = await keeperKeptOpens();
    assert.ok(await progresses(reader, 10_000), 'reads on');
    assert.ok((await keeperKeptOpens()) > kept, 'host settings\' OPENs answered by sysbox-fs\'s own holders after the takeover');
    await dockerOk('rm', '-f', reader);
  });
});
