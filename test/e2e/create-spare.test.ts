// Pre-started creates (sysbox-mgr's create-spares.ts, sysbox-runc's create-spare.ts): a create goes
// through a spare sysbox-mgr keeps, and whatever dies when (the spare before or after accepting,
// sysbox-mgr mid-create) no launcher waits forever and nothing is left behind. Spares of another
// build are never claimed and are cleared at start. A spare serves creates one after another; what
// it did is in its process title ("sysbox-runc create spare: served N, declined M"), what became of
// one that exited in sysbox-mgr's debug log ("create spare PID exited (SIGKILL)").
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  BIN, BUSYBOX, containerIdOf, docker, dockerOk, fdLinks, freeIdRanges, FS_SOCKET, leftoversOf, MGR_DATA_ROOT, MGR_PIDFILE, MGR_SOCKET, mgrPid,
  processAlive, readPidfile, removeContainers, restartMgr, run, startMgr, SYSBOX_RUNC, uniqueName, waitForExit,
} from '../lib/env.js';

const ROOT = `${MGR_SOCKET}.create-spares`;
const BUILD_DIR = path.join(ROOT, createHash('sha256').update(fs.readFileSync(path.join(BIN, 'sysbox-runc.js'))).digest('hex').slice(0, 16));
const MGR_LOG = `${MGR_DATA_ROOT}.log`;
const MARKER = path.join(path.dirname(MGR_SOCKET), 'create-spare-paused');

/** Pids of the spares waiting in this build's directory (their fifo there, no claim). */
function waitingSpares(): number[] {
  let files: string[];
  try {
    files = fs.readdirSync(BUILD_DIR);
  } catch {
    return [];
  }
  return files.filter((f) => f.endsWith('.in') && !files.includes(f.replace(/\.in$/, '.claim')))
    .map((f) => Number(f.replace(/\.in$/, ''))).filter((pid) => processAlive(pid)).sort();
}

async function waitFor(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function spares(n: number): Promise<number[]> {
  await waitFor(`${n} spares wait`, () => waitingSpares().length >= n);
  return waitingSpares();
}

const logSize = (): number => fs.statSync(MGR_LOG).size;
const logSince = (offset: number): string => fs.readFileSync(MGR_LOG, 'utf8').slice(offset);

/** What a spare says it has done: its process title, "sysbox-runc create spare: served N, declined M". */
function spareCounts(pid: number): { served: number; declined: number } {
  let cmdline = '';
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // gone
  }
  const m = /create spare: served (\d+), declined (\d+)/.exec(cmdline);
  return m ? { served: Number(m[1]), declined: Number(m[2]) } : { served: 0, declined: 0 };
}

/** Creates served so far by the spares pids. */
const servedBy = (pids: number[]): number => pids.reduce((n, pid) => n + spareCounts(pid).served, 0);

/** Waits until the spares pids have served n creates more than `from`, none declined. */
async function spareServed(pids: number[], from: number, n = 1): Promise<void> {
  await waitFor(`the spares ${pids.join(' ')} count ${n} more served`, () => servedBy(pids) >= from + n, 10_000);
  assert.equal(servedBy(pids), from + n);
  assert.deepEqual(pids.map((p) => spareCounts(p).declined), pids.map(() => 0));
}

/** The sockets a process holds (socket:[inode]), sorted. */
const socketsOf = (pid: number): string[] => fdLinks(pid).filter((l) => l.startsWith('socket:'));

/** Which file a spare's NAME.in is: inode and change time (tmpfs may give a new file a freed inode's number). */
const fifoIdentity = (pid: number): string => {
  const st = fs.statSync(path.join(BUILD_DIR, `${pid}.in`), { bigint: true });
  return `${st.ino}:${st.ctimeNs}`;
};

/** Restarts sysbox-mgr (SIGTERM) so that it pauses once in Register, holding the create there. */
async function restartPausingInRegister(): Promise<void> {
  fs.rmSync(MARKER, { force: true });
  process.env.SYSBOX_TEST_PAUSE_AT = `mgr-register-ids:${MARKER}`;
  try {
    await restartMgr();
  } finally {
    delete process.env.SYSBOX_TEST_PAUSE_AT;
  }
}

/** The spare a launcher claimed (its claim file there, the process alive). */
function claimedSpare(): number | undefined {
  const files = fs.existsSync(BUILD_DIR) ? fs.readdirSync(BUILD_DIR) : [];
  return files.filter((f) => f.endsWith('.claim')).map((f) => Number(f.replace(/\.claim$/, ''))).find((pid) => processAlive(pid));
}

/** The launcher exchanging with a spare: the process whose fd 8 is the spare's request fifo. */
function launcherOf(spare: number): number | undefined {
  const fifo = path.join(BUILD_DIR, `${spare}.in`);
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number)) {
    try {
      if (pid !== spare && fs.readlinkSync(`/proc/${pid}/fd/8`) === fifo) return pid;
    } catch {
      // no fd 8, or gone
    }
  }
  return undefined;
}

describe('pre-started create (create spares)', () => {
  const names: string[] = [];
  after(async () => {
    fs.rmSync(MARKER, { force: true });
    await removeContainers(...names);
    // Leave test/run.sh's sysbox-mgr (no pause hook, default spares) for the files that follow.
    const pid = readPidfile(MGR_PIDFILE);
    if (pid === undefined || !processAlive(pid)) startMgr();
    else if (fs.readFileSync(`/proc/${pid}/environ`, 'latin1').includes('SYSBOX_TEST_PAUSE_AT=')
      || fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--create-spares')) await restartMgr();
  });

  it('docker run --rm goes through a spare (ID-shifted, its own /proc), which then waits for the next with new fifos', async () => {
    const before = await spares(2);
    const served = servedBy(before);
    const files = before.map(fifoIdentity);
    const out = await dockerOk('run', '--rm', '--runtime=sysbox-runc', BUSYBOX, 'sh', '-c', 'cat /proc/self/uid_map; cat /proc/uptime');
    const [map, uptime] = out.split('\n');
    assert.match(map!.trim(), /^0\s+\d+\s+65536$/);
    assert.ok(Number(map!.trim().split(/\s+/)[1]) >= 1_000_000_000, `uid map from the test pool: ${map}`);
    assert.ok(Number(uptime!.split(' ')[0]) < 60, `the container's own uptime: ${uptime}`);
    await spareServed(before, served);
    assert.deepEqual(await spares(2), before, 'the same spares wait: no Node started to replace one');
    assert.equal(before.filter((p, i) => fifoIdentity(p) !== files[i]).length, 1, 'the spare that served made its fifos anew');
  });

  it('one spare serves creates one after another; no flag of one (--log, --debug, the error) reaches the next', async () => {
    const before = await spares(2);
    const served = servedBy(before);
    const counts = before.map((p) => spareCounts(p).served);
    const logFile = path.join(path.dirname(MGR_SOCKET), `${uniqueName('spare-reuse')}.json`);
    try {
      const r = await run(SYSBOX_RUNC, ['--root', '/run/sysbox-test-runc', '--debug', '--log', logFile, '--log-format', 'json',
        '--sysbox-mgr-socket', MGR_SOCKET, '--sysbox-fs-socket', FS_SOCKET, 'create', '--bundle', '/nonexistent-bundle', uniqueName('spare-reuse')]);
      assert.equal(r.status, 1);
      await spareServed(before, served);
      const logged = fs.readFileSync(logFile, 'utf8');
      assert.match(logged, /pre-started create claimed by launcher/);
      const user = before.find((p, i) => spareCounts(p).served > counts[i]!)!;
      const userServed = spareCounts(user).served;
      const connections = socketsOf(user);
      assert.ok(connections.length >= 2, `the spare's connections to both daemons: ${connections.join(' ')}`);
      for (let i = 0; i < 3; i++) {
        const out = await dockerOk('run', '--rm', '--runtime=sysbox-runc', BUSYBOX, 'cat', '/proc/self/uid_map');
        assert.match(out.trim(), /^0\s+\d+\s+65536$/);
      }
      await spareServed(before, served + 1, 3);
      assert.equal(spareCounts(user).served, userServed + 3, 'the first spare in the directory serves each in turn');
      assert.deepEqual(socketsOf(user), connections, 'the same daemon connections served every create (no connect per create)');
      assert.equal(fs.readFileSync(logFile, 'utf8'), logged, 'the later creates wrote nothing to the first one\'s --log');
    } finally {
      fs.rmSync(logFile, { force: true });
    }
  });

  it('a refused knob gives the same error through a spare, and leaves nothing', async () => {
    const before = await spares(2);
    const served = servedBy(before);
    const name = uniqueName('spare-knob');
    names.push(name);
    const r = await docker('run', '--name', name, '--runtime=sysbox-runc', '-e', 'SYSBOX_BAD_KNOB=1', BUSYBOX, 'true');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /OCI runtime create failed: unknown sysbox environment variable SYSBOX_BAD_KNOB/);
    await spareServed(before, served);
    const id = await containerIdOf(name);
    await dockerOk('rm', '-f', name);
    assert.deepEqual(leftoversOf(id), []);
  });

  it('the launcher\'s --log gets the error in its format (json, as containerd reads it) through a spare', async () => {
    const before = await spares(2);
    const served = servedBy(before);
    const logFile = path.join(path.dirname(MGR_SOCKET), `${uniqueName('spare-log')}.json`);
    try {
      const r = await run(SYSBOX_RUNC, ['--root', '/run/sysbox-test-runc', '--log', logFile, '--log-format', 'json',
        '--sysbox-mgr-socket', MGR_SOCKET, '--sysbox-fs-socket', FS_SOCKET, 'create', '--bundle', '/nonexistent-bundle', uniqueName('spare-log')]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /level=error msg=.*nonexistent-bundle/);
      const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
      assert.ok(lines.some((l) => l.level === 'error' && l.msg.includes('nonexistent-bundle')), JSON.stringify(lines));
      await spareServed(before, served);
    } finally {
      fs.rmSync(logFile, { force: true });
    }
  });

  it('a spare killed -9 after accepting: docker run fails with a clear error, in its --log too, and nothing is left', async () => {
    await restartPausingInRegister();
    await spares(2);
    const name = uniqueName('spare-kill-after');
    names.push(name);
    const running = docker('run', '--name', name, '--runtime=sysbox-runc', BUSYBOX, 'true');
    let spare: number | undefined;
    try {
      await waitFor('sysbox-mgr pauses in Register', () => fs.existsSync(MARKER) && (spare = claimedSpare()) !== undefined);
      process.kill(spare!, 'SIGKILL');
      assert.ok(await waitForExit(spare!));
    } finally {
      fs.rmSync(MARKER, { force: true });
    }
    const r = await running;
    assert.notEqual(r.status, 0);
        // Docker shows what the shim read from the json --log the launcher wrote.
    assert.match(r.stderr, /OCI runtime create failed: sysbox-runc create: the pre-started create \(\d+\) exited before finishing: the create failed/);
    const id = await containerIdOf(name);
    await dockerOk('rm', '-f', name);
    assert.deepEqual(leftoversOf(id), []);
    assert.deepEqual(fs.readdirSync(BUILD_DIR).filter((f) => f.startsWith(`${spare}.`)), [], 'sysbox-mgr retired its files');
    await restartMgr();
  });

  it('a launcher killed -9 mid-create (Docker\'s timeout): the spare sees it gone, releases, and waits for the next; nothing is left', async () => {
    await restartPausingInRegister();
    await spares(2);
    const name = uniqueName('spare-launcher-kill');
    names.push(name);
    const running = docker('run', '--name', name, '--runtime=sysbox-runc', BUSYBOX, 'true');
    let spare: number | undefined;
    let launcher: number | undefined;
    try {
      await waitFor('sysbox-mgr pauses in Register', () => fs.existsSync(MARKER) && (spare = claimedSpare()) !== undefined);
      launcher = launcherOf(spare!);
      assert.ok(launcher !== undefined, 'the launcher holds the spare\'s fifo as its fd 8');
      process.kill(launcher, 'SIGKILL');
      assert.ok(await waitForExit(launcher));
    } finally {
      fs.rmSync(MARKER, { force: true });
    }
    assert.notEqual((await running).status, 0);
    await waitFor('the spare answers and waits again', () => spareCounts(spare!).served === 1 && waitingSpares().includes(spare!), 20_000);
    const id = await containerIdOf(name);
    await dockerOk('rm', '-f', name);
    assert.deepEqual(leftoversOf(id), []);
    await restartMgr();
  });

  it('a spare killed -9 before accepting: the launcher starts Node instead and the container runs', async () => {
    const stopped = await spares(2);
    for (const pid of stopped) process.kill(pid, 'SIGSTOP');
    const offset = logSize();
    const running = docker('run', '--rm', '--runtime=sysbox-runc', BUSYBOX, 'echo', 'ran');
    try {
      await waitFor('a launcher claims a stopped spare', () => stopped.some((p) => fs.existsSync(path.join(BUILD_DIR, `${p}.claim`))));
    } finally {
      for (const pid of stopped) process.kill(pid, 'SIGKILL');
    }
    const r = await running;
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'ran');
    assert.match(logSince(offset), /create spare \d+ exited \(SIGKILL\)/);
    await spares(2);
  });

  it('sysbox-mgr killed -9 with a claimed spare mid-create: docker run ends with an error, spares are renewed, nothing is left', async () => {
    await restartPausingInRegister();
    const old = await spares(2);
    const name = uniqueName('spare-mgr-kill');
    names.push(name);
    const running = docker('run', '--name', name, '--runtime=sysbox-runc', BUSYBOX, 'true');
    await waitFor('sysbox-mgr pauses in Register', () => fs.existsSync(MARKER) && claimedSpare() !== undefined);
    const pid = mgrPid();
    process.kill(pid, 'SIGKILL');
    assert.ok(await waitForExit(pid));
    fs.rmSync(MARKER, { force: true });
    const r = await running;
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /OCI runtime create failed: sysbox-mgr stopped before answering/);
    startMgr();
    const renewed = await spares(2);
    assert.deepEqual(renewed.filter((p) => old.includes(p)), [], 'the dead sysbox-mgr\'s spares are gone');
    await waitFor('the old spares exit', () => old.every((p) => !processAlive(p)), 10_000);
    const id = await containerIdOf(name);
    await dockerOk('rm', '-f', name);
    assert.deepEqual(leftoversOf(id), []);
  });

  it('a spare of another build is never claimed and is cleared at start; --create-spares 0 keeps none', async () => {
    const otherDir = path.join(ROOT, '0000000000000000');
    await restartMgr(['--create-spares', '0']);
    // A Status round trip first: sysbox-mgr clears stale spares' directories in the loop turn after
    // it starts serving, and a directory made before that (a loaded machine) is removed under us.
    assert.ok(await freeIdRanges() >= 0);
    assert.deepEqual(waitingSpares(), [], 'no spares with --create-spares 0');
    // A fifo nobody holds: a launcher that claimed it would wait on its open for ever.
    fs.mkdirSync(otherDir, { recursive: true });
    execFileSync('mkfifo', [path.join(otherDir, '1.in'), path.join(otherDir, '1.out')]);
    const out = await docker('run', '--rm', '--runtime=sysbox-runc', BUSYBOX, 'echo', 'ran');
    assert.equal(out.status, 0, out.stderr);
    assert.ok(!fs.existsSync(path.join(otherDir, '1.claim')), 'the other build\'s spare was not claimed');
    await restartMgr();
    await waitFor('sysbox-mgr clears other builds\' spares at start', () => !fs.existsSync(otherDir), 10_000);
    const before = await spares(2);
    const served = servedBy(before);
    await dockerOk('run', '--rm', '--runtime=sysbox-runc', BUSYBOX, 'true');
    await spareServed(before, served);
  });
});
