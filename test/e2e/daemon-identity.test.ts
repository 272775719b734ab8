// The daemons look like the original's from outside: process names that pidof/pgrep -x/ps find,
// their flags still readable in /proc/PID/cmdline, default pid files next to the socket, a second
// instance refused without harm to the first, and one Ready line per start.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  FS_KEEPER_SOCKET, FS_MOUNTPOINT, FS_PIDFILE, FS_SECCOMP_SOCKET, FS_SOCKET, FS_STATE_DIR, fsPid, MGR_DATA_ROOT, MGR_PIDFILE,
  MGR_SOCKET, MGR_SUBID_FILE, mgrPid, processAlive, processesMentioning, readPidfile, run, SYSBOX_FS, SYSBOX_MGR, waitForExit,
} from '../lib/env.js';

/** Pids a command prints (pidof: one line, pgrep: one per line). */
async function pidsFrom(cmd: string, args: string[]): Promise<number[]> {
  return (await run(cmd, args)).stdout.split(/\s+/).filter(Boolean).map(Number);
}

async function commOf(pid: number): Promise<string> {
  return (await run('ps', ['-o', 'comm=', '-p', String(pid)])).stdout.trim();
}

function cmdlineOf(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
}

function keeperPid(): number {
  const pid = readPidfile(`${FS_KEEPER_SOCKET}.pid`);
  assert.ok(pid !== undefined, 'the fd keeper wrote its pid file');
  return pid;
}

describe('daemon process names', () => {
  it('sysbox-mgr is found by pidof, pgrep -x and ps -o comm, its flags after its name', async () => {
    const pid = mgrPid();
    assert.ok((await pidsFrom('pidof', ['sysbox-mgr'])).includes(pid), 'pidof sysbox-mgr');
    assert.ok((await pidsFrom('pgrep', ['-x', 'sysbox-mgr'])).includes(pid), 'pgrep -x sysbox-mgr');
    assert.equal(await commOf(pid), 'sysbox-mgr');
    assert.match(cmdlineOf(pid), new RegExp(`^sysbox-mgr --socket ${MGR_SOCKET} --pidfile ${MGR_PIDFILE} .*--log-level debug`));
  });

  it('sysbox-fs is found by pidof, pgrep -x and ps -o comm, its flags after its name', async () => {
    const pid = fsPid();
    assert.ok((await pidsFrom('pidof', ['sysbox-fs'])).includes(pid), 'pidof sysbox-fs');
    assert.ok((await pidsFrom('pgrep', ['-x', 'sysbox-fs'])).includes(pid), 'pgrep -x sysbox-fs');
    assert.equal(await commOf(pid), 'sysbox-fs');
    assert.match(cmdlineOf(pid), new RegExp(`^sysbox-fs --socket ${FS_SOCKET} --pidfile ${FS_PIDFILE} .*--keeper-socket ${FS_KEEPER_SOCKET}`));
  });

  it('the fd keeper of sysbox-fs is found by pidof sysbox-fs-keeper, not as sysbox-fs', async () => {
    const pid = keeperPid();
    assert.ok((await pidsFrom('pidof', ['sysbox-fs-keeper'])).includes(pid), 'pidof sysbox-fs-keeper');
    assert.ok(!(await pidsFrom('pidof', ['sysbox-fs'])).includes(pid), 'pidof sysbox-fs finds the daemon only');
    assert.equal(await commOf(pid), 'sysbox-fs-keepe', 'comm: the kernel keeps 15 bytes');
    assert.match(cmdlineOf(pid), new RegExp(`^sysbox-fs-keeper \\S+/sysbox-fs --keeper --keeper-socket ${FS_KEEPER_SOCKET}$`));
  });
});

describe('a second instance', () => {
  it('a second sysbox-mgr on the same socket exits non-zero naming the first; the first keeps running', async () => {
    const pid = mgrPid();
    const r = await run(SYSBOX_MGR, ['--socket', MGR_SOCKET, '--pidfile', MGR_PIDFILE, '--data-root', MGR_DATA_ROOT,
      '--subuid-file', MGR_SUBID_FILE, '--subgid-file', MGR_SUBID_FILE, '--log-level', 'debug'], { timeoutMs: 10_000 });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `level=fatal msg="sysbox-mgr is already running (pid ${pid}, ${MGR_SOCKET} answers)"\n`);
    assert.equal(readPidfile(MGR_PIDFILE), pid, 'pid file untouched');
    assert.ok(processAlive(pid));
    assert.ok(fs.statSync(MGR_SOCKET).isSocket(), 'socket still there');
    assert.match((await run(SYSBOX_MGR, ['--socket', MGR_SOCKET, '--pidfile', MGR_PIDFILE])).stderr, /already running/, 'and still answers');
  });

  it('a second sysbox-fs on the same socket exits non-zero naming the first; the first and its keeper keep running', async () => {
    const pid = fsPid();
    const keeper = keeperPid();
    const r = await run(SYSBOX_FS, ['--socket', FS_SOCKET, '--pidfile', FS_PIDFILE, '--mountpoint', FS_MOUNTPOINT, '--state-dir', FS_STATE_DIR,
      '--seccomp-socket', FS_SECCOMP_SOCKET, '--keeper-socket', FS_KEEPER_SOCKET, '--log-level', 'debug'], { timeoutMs: 10_000 });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `level=fatal msg="sysbox-fs is already running (pid ${pid}, ${FS_SOCKET} answers)"\n`);
    assert.equal(readPidfile(FS_PIDFILE), pid, 'pid file untouched');
    assert.ok(processAlive(pid));
    assert.equal(keeperPid(), keeper, 'same fd keeper');
    assert.ok(processAlive(keeper));
    assert.ok(fs.statSync(FS_SECCOMP_SOCKET).isSocket(), 'seccomp socket still there');
    assert.match(fs.readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(` ${FS_MOUNTPOINT} .* fuse\\.sysboxfs `), 'FUSE still mounted');
  });
});

describe('sysbox-mgr without --pidfile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-identity-'));
  const socket = path.join(dir, 'run', 'sysmgr.sock');
  const pidfile = path.join(dir, 'run', 'sysmgr.pid');
  const logFile = path.join(dir, 'mgr.log');
  let pid: number | undefined;
  after(async () => {
    // Found by the temp dir in their command lines, not by the pid file: a build that writes none
    // must not outlive the test either.
    for (const line of processesMentioning(dir)) {
      const p = Number(line.split(' ')[0]);
      process.kill(p, 'SIGKILL');
      await waitForExit(p);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes sysmgr.pid next to its socket, logs Ready once, and removes the pid file on SIGTERM', async () => {
    fs.writeFileSync(path.join(dir, 'subid'), 'sysbox:1900000000:65536\n');
    await run('bash', ['-c', `setsid "$0" "$@" >"${logFile}" 2>&1 </dev/null &`, SYSBOX_MGR, '--socket', socket,
      '--data-root', path.join(dir, 'data'), '--mount-root', path.join(dir, 'mnt'),
      '--subuid-file', path.join(dir, 'subid'), '--subgid-file', path.join(dir, 'subid')]);
    for (let i = 0; i < 100 && !/msg="Ready"/.test(fs.readFileSync(logFile, 'utf8')); i++) await new Promise((r) => setTimeout(r, 100));
    pid = readPidfile(pidfile);
    assert.ok(pid !== undefined && processAlive(pid), `a live pid in ${pidfile}`);
    assert.equal(await commOf(pid), 'sysbox-mgr');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(fs.readFileSync(logFile, 'utf8').match(/level=info msg="Ready"/g)?.length, 1, 'one Ready line');
    process.kill(pid, 'SIGTERM');
    assert.ok(await waitForExit(pid));
    assert.equal(fs.existsSync(pidfile), false, 'pid file removed on a clean stop');
  });
});
