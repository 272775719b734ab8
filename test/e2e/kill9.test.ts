// kill -9 of sysbox-mgr or sysbox-fs at each step of a container's create (`docker run`) and of its
// release (`docker rm`), held there by the daemon's test-only pause hook (SYSBOX_TEST_PAUSE_AT,
// packages/common/src/test-pause.ts): the operation either succeeds (a working system container) or
// fails with an error naming the daemon; once the daemon is back and the container removed, nothing
// of it is left (run dir, mounts, records, processes, id range); and system containers running
// meanwhile never see a failed read of their virtual files. 11 kills at a held step and 2 of an idle
// daemon, one busybox container each, 2 reading bystanders: ~30 s here (~80 s with the machine loaded).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BUSYBOX, containerIdOf, docker, dockerOk, freeIdRanges, FS_LOG, FS_PIDFILE, fsPid, hostMountsMatching, hostRootId, leftoversOf, MGR_PIDFILE, MGR_SOCKET, mgrPid,
  processAlive, processesMentioning, readPidfile, removeContainers, restartFs, restartMgr, startFs, startMgr, uniqueName, waitForExit,
} from '../lib/env.js';

type Daemon = 'sysbox-mgr' | 'sysbox-fs';

/**
 * The bystanders' loop: FUSE-served /proc files, an emulated sysctl and a /sys file, read again and
 * again; a failed read prints "readfail", every round is counted in /tmp/rounds.
 */
const READ_LOOP = 'n=0; while true; do cat /proc/uptime /proc/meminfo /proc/stat /proc/sys/kernel/panic /sys/devices/virtual/dmi/id/product_uuid > /dev/null || echo readfail; n=$((n+1)); echo $n > /tmp/rounds; done';

/** The bystander's read rounds so far (read again if caught while the loop rewrites the file). */
async function rounds(c: string): Promise<number> {
  for (;;) {
    const n = await dockerOk('exec', c, 'cat', '/tmp/rounds');
    if (n !== '') return Number(n);
  }
}

const MARKER = path.join(path.dirname(MGR_SOCKET), 'kill9-paused');

/** Restarts the daemon (SIGTERM, as an operator would) so that it pauses at step. */
async function restartPausingAt(daemon: Daemon, step: string): Promise<void> {
  fs.rmSync(MARKER, { force: true });
  process.env.SYSBOX_TEST_PAUSE_AT = `${step}:${MARKER}`;
  try {
    await (daemon === 'sysbox-mgr' ? restartMgr() : restartFs());
  } finally {
    delete process.env.SYSBOX_TEST_PAUSE_AT;
  }
}

async function waitFor(what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + 30_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Kills the daemon with SIGKILL and starts it again (test/run.sh's flags, no pause hook). */
async function kill9AndRestart(daemon: Daemon): Promise<void> {
  const pid = daemon === 'sysbox-mgr' ? mgrPid() : fsPid();
  process.kill(pid, 'SIGKILL');
  assert.ok(await waitForExit(pid), `${daemon} must die on SIGKILL`);
  if (daemon === 'sysbox-mgr') startMgr();
  else startFs();
}

/** Waits until the daemon is held at its step, kills it with SIGKILL there, and starts it again. */
async function killWhenPausedAndRestart(daemon: Daemon): Promise<void> {
  await waitFor(`${daemon} reaches its pause step`, () => fs.existsSync(MARKER));
  assert.equal(fs.readFileSync(MARKER, 'utf8'), String(daemon === 'sysbox-mgr' ? mgrPid() : fsPid()), `the ${daemon} of the pidfile is the one paused`);
  await kill9AndRestart(daemon);
  fs.rmSync(MARKER, { force: true });
}

/**
 * What the host still holds of a removed container: leftoversOf plus any mount or process naming
 * its id. Given a few seconds: Docker's containerd-shim of the container exits after `docker rm`
 * has returned.
 */
async function allLeftovers(id: string): Promise<string[]> {
  const now = (): string[] => [...leftoversOf(id), ...hostMountsMatching(id).map((m) => `mount ${m}`), ...processesMentioning(id).map((p) => `process ${p}`)];
  for (let i = 0; i < 50 && now().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return now();
}

/** A `docker run` that succeeded must have given a working system container. */
async function assertWorks(c: string): Promise<void> {
  assert.equal(await dockerOk('exec', c, 'head', '-1', '/proc/meminfo'), 'MemTotal:          65536 kB', '/proc/meminfo is virtualized');
  assert.ok((await hostRootId(c)) >= 1_000_000_000, 'root is mapped into the private id pool');
  assert.equal(await dockerOk('exec', c, 'sh', '-c', 'echo ok > /tmp/f && cat /tmp/f'), 'ok');
}

/** A failed operation must say which daemon it lost. */
function assertNamesDaemon(daemon: Daemon, stderr: string): void {
  assert.match(stderr, new RegExp(`${daemon} (stopped before answering|is not running)`), `the error names ${daemon}: ${stderr}`);
}

/** Steps the create must get through: the runtime sends the (idempotent) call again to the restarted daemon. */
const MUST_WORK = new Set(['mgr-created']);
const CREATE_STEPS: Array<[Daemon, string]> = [
  ['sysbox-mgr', 'mgr-register-ids'],
  ['sysbox-mgr', 'mgr-register-rootfs'],
  ['sysbox-mgr', 'mgr-register-binds'],
  ['sysbox-mgr', 'mgr-register-special-dirs'],
  ['sysbox-mgr', 'mgr-register-rootfs-view'],
  ['sysbox-mgr', 'mgr-created'],
  ['sysbox-fs', 'fs-preregister'],
  // runc create is running: it has just handed the container's seccomp notify fd to sysbox-fs.
  ['sysbox-fs', 'fs-seccomp-keep'],
  ['sysbox-fs', 'fs-register'],
];
const RM_STEPS: Array<[Daemon, string]> = [
  ['sysbox-mgr', 'mgr-release'],
  ['sysbox-fs', 'fs-forget'],
];

describe('kill -9 of a daemon during docker run and docker rm', () => {
  const bystanders = [uniqueName('kill9-reader'), uniqueName('kill9-reader')];
  const names: string[] = [...bystanders];
  let rangesBefore = 0;

  before(async () => {
    for (const b of bystanders) await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', b, BUSYBOX, 'sh', '-c', READ_LOOP);
    rangesBefore = await freeIdRanges();
  });

  after(async () => {
    await removeContainers(...names);
    fs.rmSync(MARKER, { force: true });
    // Leave both daemons as test/run.sh started them (no pause hook) for the files that follow.
    for (const [pidfile, restart, start] of [[MGR_PIDFILE, restartMgr, startMgr], [FS_PIDFILE, restartFs, startFs]] as const) {
      const pid = readPidfile(pidfile);
      if (pid === undefined || !processAlive(pid)) start();
      else if (fs.readFileSync(`/proc/${pid}/environ`, 'latin1').includes('SYSBOX_TEST_PAUSE_AT=')) await restart();
    }
  });

  for (const [daemon, step] of CREATE_STEPS) {
    it(`docker run survives a kill -9 of ${daemon} at ${step}: it works or fails naming ${daemon}, nothing leaks`, async (t) => {
      const c = uniqueName(`kill9-${step}`);
      names.push(c);
      await restartPausingAt(daemon, step);
      const running = docker('run', '-d', '--runtime=sysbox-runc', '--memory', '64m', '--name', c, BUSYBOX, 'sleep', '300');
      await killWhenPausedAndRestart(daemon);
      const r = await running;
      t.diagnostic(r.status === 0 ? 'docker run succeeded' : `docker run failed: ${r.stderr.trim()}`);
      if (MUST_WORK.has(step)) assert.equal(r.status, 0, `docker run failed: ${r.stderr}`);
      if (r.status === 0) await assertWorks(c);
      else assertNamesDaemon(daemon, r.stderr);
      const id = await containerIdOf(c);
      await dockerOk('rm', '-f', c);
      assert.deepEqual(await allLeftovers(id), [], `left behind by ${c} (docker run ${r.status === 0 ? 'succeeded' : `failed: ${r.stderr.trim()}`})`);
      assert.equal(await freeIdRanges(), rangesBefore, 'its id range is free again');
    });
  }

  for (const [daemon, step] of RM_STEPS) {
    it(`docker rm succeeds across a kill -9 of ${daemon} at ${step}, nothing leaks`, async () => {
      const c = uniqueName(`kill9-${step}`);
      names.push(c);
      await dockerOk('run', '-d', '--runtime=sysbox-runc', '--memory', '64m', '--name', c, BUSYBOX, 'sleep', '300');
      const id = await containerIdOf(c);
      await restartPausingAt(daemon, step);
      const removing = docker('rm', '-f', c);
      // Held in its own release (the init exited). sysbox-mgr's: sysbox-runc's delete waits behind
      // it. sysbox-fs's forget is on no one's path (the delete never asks sysbox-fs; it may be over
      // already, the faster the release the likelier): the restarted sysbox-fs must forget by itself.
      await waitFor(`${daemon} reaches ${step}`, () => fs.existsSync(MARKER));
      if (daemon === 'sysbox-mgr') {
        await waitFor('sysbox-runc delete runs', () => processesMentioning(id).some((p) => / delete /.test(p) && p.includes('sysbox-runc')));
      }
      await new Promise((r) => setTimeout(r, 300));
      await killWhenPausedAndRestart(daemon);
      const r = await removing;
      assert.equal(r.status, 0, `docker rm failed: ${r.stderr}`);
      assert.deepEqual(await allLeftovers(id), [], `left behind by ${c} (its shim included)`);
      assert.equal(await freeIdRanges(), rangesBefore, 'its id range is free again');
    });
  }

  // The other daemon is killed while one is held: it was idle, so the create goes on and succeeds.
  const IDLE_KILLS: Array<{ held: Daemon; step: string; killed: Daemon; when: string }> = [
    // Held in sysbox-mgr's Register, which runs alongside sysbox-fs's PreRegister.
    { held: 'sysbox-mgr', step: 'mgr-register-rootfs-view', killed: 'sysbox-fs', when: 'between its PreRegister and Register' },
    { held: 'sysbox-fs', step: 'fs-seccomp-keep', killed: 'sysbox-mgr', when: 'during runc create' },
  ];
  for (const { held, step, killed, when } of IDLE_KILLS) {
    it(`docker run succeeds when ${killed} is killed with SIGKILL and restarted ${when}`, async () => {
      const c = uniqueName(`kill9-idle-${killed}`);
      names.push(c);
      await restartPausingAt(held, step);
      const running = docker('run', '-d', '--runtime=sysbox-runc', '--memory', '64m', '--name', c, BUSYBOX, 'sleep', '300');
      await waitFor(`${held} reaches ${step}`, () => fs.existsSync(MARKER));
      // Not docker inspect: it waits for the container's lock, which the start holds.
      const id = await dockerOk('ps', '-a', '-q', '--no-trunc', '--filter', `name=^${c}$`);
      // PreRegister keeps the container in memory only: its debug line is the sign.
      if (killed === 'sysbox-fs') await waitFor('sysbox-fs has pre-registered the container', () => fs.readFileSync(FS_LOG, 'utf8').includes(`${id}: pre-registered`));
      await kill9AndRestart(killed);
      fs.rmSync(MARKER, { force: true });
      const r = await running;
      assert.equal(r.status, 0, `docker run failed: ${r.stderr}`);
      await assertWorks(c);
      // Mounts inside are still trapped by sysbox-fs (its notify fd survived).
      assert.equal(await dockerOk('exec', c, 'sh', '-c', 'umount /proc/uptime 2>&1; true'), "umount: can't unmount /proc/uptime: Operation not permitted");
      await dockerOk('rm', '-f', c);
      assert.deepEqual(await allLeftovers(id), [], `left behind by ${c}`);
      assert.equal(await freeIdRanges(), rangesBefore, 'its id range is free again');
      await (held === 'sysbox-mgr' ? restartMgr() : restartFs());
    });
  }

  it('system containers running meanwhile never saw a failed read', async () => {
    for (const b of bystanders) {
      const logs = await docker('logs', b);
      assert.equal(logs.stdout + logs.stderr, '', `failed reads in ${b}`);
      // Still reading: no reader was left waiting for an answer from a killed daemon.
      const first = await rounds(b);
      await new Promise((r) => setTimeout(r, 500));
      const second = await rounds(b);
      assert.ok(first > 100 && second > first, `${b} kept reading (${first}, then ${second} rounds)`);
    }
  });
});
