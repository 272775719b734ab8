// Starting and stopping a container's rootfs view (main.ts) from sysbox-mgr, whose handlers are
// synchronous: a start returns once the view has its connection (its readiness is awaited at
// Created, off Register's critical path), a stop once the process is gone.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { processStartTime } from '@sysbox/common/proc';
import * as native from '@sysbox/native';
import { exitOf } from '../init-watch.js';

export const VIEW_FSTYPE = 'fuse.sysbox-rootfs';
const UNSHARE = '/usr/bin/unshare';
const S_IFIFO = 0o010000;
/** A fifo write of at most PIPE_BUF bytes is whole or nothing, even without blocking. */
const PIPE_BUF = 4096;
/**
 * Room in a spare's command line for the title it takes once assigned (`sysbox-mgr-rootfs-view
 * <rootfs>`): a process title can only be as long as the arguments it started with, and the title
 * is how `ps` (and the tests) tell which container a view serves.
 */
const TITLE_ROOM = `--title-room=${'.'.repeat(160)}`;

export interface ViewProcess { pid: number; startTime: number }
interface Spare extends ViewProcess { fifo: string }
/** How long after handing a spare over the next one is started. */
const SPARE_DELAY_MS = 400;

/** The one view process started ahead of time, and where its fifo and pid file live. */
let spare: Spare | undefined;
let spareDir: string | undefined;
let spareCount = 0;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The bundled script beside sysbox-mgr, or main.js beside this file in the build tree. */
function script(): string {
  const bundled = path.join(__dirname, 'sysbox-mgr-rootfs-view.js');
  return fs.existsSync(bundled) ? bundled : path.join(__dirname, 'main.js');
}

/** Neither running nor able to hold anything: gone, or a zombie (its mounts and files released). */
function exited(p: ViewProcess): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    return processStartTime(p.pid) !== p.startTime || stat[stat.lastIndexOf(')') + 2] === 'Z';
  } catch {
    return true;
  }
}

function logText(logFile: string): string {
  try {
    return fs.readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
}

function sparePidfile(dir: string): string {
  return path.join(dir, 'rootfs-view-spare.pid');
}

/** Starts a spare view (Node boots while sysbox-mgr goes on) unless spares are off. */
function startSpare(): void {
  if (!spareDir) return;
  const fifo = path.join(spareDir, `rootfs-view-spare-${process.pid}-${spareCount++}.fifo`);
  fs.rmSync(fifo, { force: true });
  native.mknod(fifo, S_IFIFO | 0o600, 0);
  const log = fs.openSync(path.join(spareDir, 'rootfs-view-spare.log'), 'a', 0o600);
  try {
    const child = spawn(process.execPath, [script(), '--spare', fifo, TITLE_ROOM], { detached: true, stdio: ['ignore', log, log] });
    child.unref();
    spare = { pid: child.pid ?? 0, startTime: processStartTime(child.pid ?? 0) ?? 0, fifo };
    fs.writeFileSync(sparePidfile(spareDir), `${spare.pid} ${spare.startTime}\n`);
  } finally {
    fs.closeSync(log);
  }
}

/**
 * Keeps one view process started ahead of time in dir (sysbox-mgr's run dir), so that a container's
 * view costs a hand-over rather than a Node start-up (~50 ms of every `docker run`). A spare left by
 * a sysbox-mgr that died is ended first.
 */
export function startRootfsViewSpares(dir: string): void {
  spareDir = dir;
  try {
    const [pid, startTime] = fs.readFileSync(sparePidfile(dir), 'utf8').trim().split(' ').map(Number);
    // Only while it is still waiting: one that took a container has its title instead of --spare.
    if (pid && startTime !== undefined && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--spare')) {
      stopRootfsView({ pid, startTime });
    }
  } catch {
    // none was left
  }
  for (const f of fs.readdirSync(dir)) if (/^rootfs-view-spare-.*\.fifo$/.test(f)) fs.rmSync(path.join(dir, f), { force: true });
  startSpare();
}

/** Ends the spare (sysbox-mgr stopping): it serves no container, nothing should outlive us for it. */
export function stopRootfsViewSpares(): void {
  if (spare) {
    stopRootfsView(spare);
    fs.rmSync(spare.fifo, { force: true });
  }
  if (spareDir) fs.rmSync(sparePidfile(spareDir), { force: true });
  spare = undefined;
  spareDir = undefined;
}

/**
 * Gives the spare its container: the FUSE connection's fd number in this process (it copies the fd
 * with pidfd_getfd), the log to report to, and the view's arguments. Undefined when there is no
 * live spare to take it; the caller then starts a view the slow way.
 */
function handToSpare(fuseFd: number, args: string[], logFile: string): ViewProcess | undefined {
  const s = spare;
  spare = undefined;
  if (!s) return undefined;
  const job = JSON.stringify({ mgrPid: process.pid, fuseFd, logFile, args });
  let w: number | undefined;
  if (Buffer.byteLength(job) <= PIPE_BUF) {
    // ENXIO until the spare has opened its end (it may still be starting).
    for (let waited = 0; waited < 10_000 && !exited(s); waited += 2) {
      try {
        w = fs.openSync(s.fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO') break;
        sleep(2);
      }
    }
  }
  if (w === undefined) {
    stopRootfsView(s);
    fs.rmSync(s.fifo, { force: true });
    return undefined;
  }
  try {
    fs.writeSync(w, job);
  } finally {
    fs.closeSync(w);
  }
  // It serves a container now (recorded there): the next sysbox-mgr must not end it as a stale spare.
  if (spareDir) fs.rmSync(sparePidfile(spareDir), { force: true });
  return { pid: s.pid, startTime: s.startTime };
}

/** A view mounted and handed its connection, not yet known to serve (awaitRootfsView). */
export interface StartingView {
  view: ViewProcess;
  mountpoint: string;
  rootfs: string;
  logFile: string;
  /** The FUSE connection, kept open here until a spare has copied it (pidfd_getfd) or failed. */
  fd: number | undefined;
}

/**
 * Mounts a view of rootfs at mountpoint (an empty dir) and starts its server, without waiting for
 * it to serve: Register answers meanwhile, and awaitRootfsView (at Created) collects the outcome.
 * Until then a request on the mount just waits for the server, and nothing but `docker cp` or
 * `docker export` of the container goes there. `binds` are host dirs to show at paths inside
 * (special dirs). Errors leave nothing mounted or running.
 */
export function startRootfsView(mountpoint: string, rootfs: string, ids: { uid: number; gid: number; size: number },
  binds: { hostDir: string; dest: string }[], logFile: string): StartingView {
  const fd = fs.openSync('/dev/fuse', fs.constants.O_RDWR);
  let view: ViewProcess | undefined;
  let mounted = false;
  let keepFd = false;
  try {
    // default_permissions: the kernel checks access against the owners shown, as on a local fs.
    native.mount('sysbox-rootfs', mountpoint, VIEW_FSTYPE, native.constants.MS_NOSUID | native.constants.MS_NODEV,
      `fd=${fd},rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other`);
    mounted = true;
    const args = [rootfs, String(ids.uid), String(ids.gid), String(ids.size), ...binds.map((b) => `${b.hostDir}=${b.dest}`)];
    const log = fs.openSync(logFile, 'w', 0o600);
    try {
      view = handToSpare(fd, args, logFile);
      if (view) {
        keepFd = true;
        // Not now: its Node start-up would take a core from the container being started.
        setTimeout(() => { if (!spare) startSpare(); }, SPARE_DELAY_MS).unref();
      } else {
        const child = spawn(UNSHARE, ['--mount', '--propagation', 'private', '--', process.execPath, script(), ...args],
          { detached: true, stdio: ['ignore', log, log, fd] });
        child.unref();
        view = { pid: child.pid ?? 0, startTime: processStartTime(child.pid ?? 0) ?? 0 };
      }
    } finally {
      fs.closeSync(log);
    }
    return { view, mountpoint, rootfs, logFile, fd: keepFd ? fd : undefined };
  } catch (err) {
    keepFd = false;
    if (view) stopRootfsView(view);
    if (mounted) native.umount(mountpoint, native.constants.MNT_DETACH);
    throw err;
  } finally {
    if (!keepFd) fs.closeSync(fd);
  }
}

/**
 * Waits until a view started by startRootfsView serves (at once when it already does). If it
 * exits instead, it is ended and unmounted and the error carries its log. Without `fd` (a
 * sysbox-mgr restarted since the start) only the log and the process tell.
 */
export function awaitRootfsView(v: StartingView): void {
  try {
    if (settleRootfsView(v)) return;
    stopRootfsView(v.view);
    try { native.umount(v.mountpoint, native.constants.MNT_DETACH); } catch { /* gone already */ }
    throw new Error(`rootfs view of ${v.rootfs} did not start: ${logText(v.logFile).trim() || 'no output'}`);
  } finally {
    forgetStartingView(v);
  }
}

/**
 * Waits until a starting view serves or has exited; whether it serves. Until then its mount
 * namespace may still hold a copy of every host mount (it detaches them once set up), so sysbox-mgr
 * settles starting views before changing mounts itself: an overlay it unmounts must not live on
 * there while Docker's comes back on the same upper dir.
 */
export function settleRootfsView(v: StartingView): boolean {
  for (let waited = 0; waited < 10_000 && !exited(v.view); waited += 5) {
    if (/^ready$/m.test(logText(v.logFile))) return true;
    sleep(5);
  }
  return /^ready$/m.test(logText(v.logFile));
}

/** Lets go of the connection a starting view may still have to copy (its container released). */
export function forgetStartingView(v: StartingView): void {
  if (v.fd !== undefined) fs.closeSync(v.fd);
  v.fd = undefined;
}

/** Kills the view (its mount should be gone already) and waits until it holds nothing. */
export function stopRootfsView(p: ViewProcess): void {
  if (p.pid <= 0 || exited(p)) return;
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let waited = 0; waited < 5_000 && !exited(p); waited += 5) sleep(5);
}

/**
 * The same without holding up the event loop: the view's exit may be where the kernel tears down
 * the container's last overlay mount, flushing what was written to it (~240 ms measured after a
 * 192 MiB inner-data archive).
 */
export async function stopRootfsViewAsync(p: ViewProcess): Promise<void> {
  if (p.pid <= 0 || exited(p)) return;
  // Watched before the kill, so that the exit is seen when it happens rather than at a poll.
  const gone = exitOf(p.pid, 5_000);
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    return;
  }
  await gone;
}
