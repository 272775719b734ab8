// Starting and stopping a container's rootfs view from sysbox-mgr, whose handlers are synchronous:
// a start returns once the view process runs (its readiness is awaited at Created, off Register's
// critical path), a stop once the process is gone. The view is a small C program
// (packages/native/src/rootfs-view): ~1 ms to start and ~1 MiB resident, where a Node view cost
// ~50 ms (hidden by a spare started ahead) and ~39 MiB RSS (6-7 MiB PSS) per running container.
import fs from 'node:fs';
import path from 'node:path';
import { processStartTime } from '@sysbox/common/proc';
import * as native from '@sysbox/native';
import { exitOf } from '../init-watch.js';

export const VIEW_FSTYPE = 'fuse.sysbox-rootfs';
const PROGRAM = 'sysbox-mgr-rootfs-view';

export interface ViewProcess { pid: number; startTime: number }

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The program beside sysbox-mgr (out/bin, /usr/lib/sysbox), or in the native build tree (from dist/src/rootfs-view). */
export function viewProgram(): string {
  const beside = path.join(__dirname, PROGRAM);
  if (fs.existsSync(beside)) return beside;
  return path.resolve(__dirname, '../../../../native/build/Release', PROGRAM);
}

/** The view's state letter from /proc (R, S, Z ...), or undefined once that very process is gone (its pid maybe reused). */
function stateOf(p: ViewProcess): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    return processStartTime(p.pid) === p.startTime ? stat[stat.lastIndexOf(')') + 2] : undefined;
  } catch {
    return undefined;
  }
}

/** Neither running nor able to hold anything: gone, or a zombie (its mounts and files released). */
function exited(p: ViewProcess): boolean {
  const state = stateOf(p);
  return state === undefined || state === 'Z';
}

function logText(logFile: string): string {
  try {
    return fs.readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
}

/** A view mounted and started, not yet known to serve (awaitRootfsView). */
export interface StartingView {
  view: ViewProcess;
  mountpoint: string;
  rootfs: string;
  logFile: string;
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
  try {
    // default_permissions: the kernel checks access against the owners shown, as on a local fs.
    native.mount('sysbox-rootfs', mountpoint, VIEW_FSTYPE, native.constants.MS_NOSUID | native.constants.MS_NODEV,
      `fd=${fd},rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other`);
    mounted = true;
    const args = [rootfs, String(ids.uid), String(ids.gid), String(ids.size), ...binds.map((b) => `${b.hostDir}=${b.dest}`)];
    const log = fs.openSync(logFile, 'w', 0o600);
    try {
      // Not child_process.spawn: it would hold Register until the view has exec'd (a scheduler wait).
      const pid = native.spawnNoWait(viewProgram(), args, [-1, log, log, fd]);
      view = { pid, startTime: processStartTime(pid) ?? 0 };
    } finally {
      fs.closeSync(log);
    }
    return { view, mountpoint, rootfs, logFile };
  } catch (err) {
    if (view) stopRootfsView(view);
    if (mounted) native.umount(mountpoint, native.constants.MNT_DETACH);
    throw err;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Waits until a view started by startRootfsView serves (at once when it already does). If it
 * exits instead, it is ended and unmounted and the error carries its log.
 */
export function awaitRootfsView(v: StartingView): void {
  if (settleRootfsView(v)) return;
  stopRootfsView(v.view);
  try { native.umount(v.mountpoint, native.constants.MNT_DETACH); } catch { /* gone already */ }
  throw new Error(`rootfs view of ${v.rootfs} did not start: ${logText(v.logFile).trim() || 'no output'}`);
}

/**
 * Waits until a starting view serves or has exited; whether it serves. Until then its mount
 * namespace may still hold a copy of every host mount (it detaches them once set up), so sysbox-mgr
 * settles starting views before changing mounts itself: an overlay it unmounts must not live on
 * there while Docker's comes back on the same upper dir.
 */
export function settleRootfsView(v: StartingView): boolean {
  for (let waited = 0; waited < 10_000 && !exited(v.view); waited += 2) {
    if (/^ready$/m.test(logText(v.logFile))) return true;
    sleep(2);
  }
  return /^ready$/m.test(logText(v.logFile));
}

/**
 * Reaps the view if it is our zombie (one a previous sysbox-mgr started is init's to reap). Only that
 * very process: a pid reused since may be another child, whose exit is libuv's to collect.
 */
function reap(p: ViewProcess): void {
  if (stateOf(p) === 'Z') native.reapChild(p.pid);
}

function sigkill(p: ViewProcess): void {
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    // gone meanwhile: the waits below end at once
  }
}

/** Kills the view (its mount should be gone already) and waits until it holds nothing. */
export function stopRootfsView(p: ViewProcess): void {
  if (p.pid <= 0) return;
  if (!exited(p)) {
    sigkill(p);
    for (let waited = 0; waited < 5_000 && !exited(p); waited += 5) sleep(5);
  }
  reap(p);
}

/**
 * The same without holding up the event loop: the view's exit may be where the kernel tears down
 * the container's last overlay mount, flushing what was written to it (~240 ms measured after a
 * 192 MiB inner-data archive).
 */
export async function stopRootfsViewAsync(p: ViewProcess): Promise<void> {
  if (p.pid <= 0) return;
  if (!exited(p)) {
    // Watched before the kill, so that the exit is seen when it happens rather than at a poll.
    const gone = exitOf(p.pid, 5_000);
    sigkill(p);
    await gone;
  }
  reap(p);
}
