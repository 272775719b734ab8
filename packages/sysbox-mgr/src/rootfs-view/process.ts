// Starting and stopping a container's rootfs view (main.ts) from sysbox-mgr, whose handlers are
// synchronous: both wait for the outcome (the view ready; the process gone).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { processStartTime } from '@sysbox/common/proc';
import * as native from '@sysbox/native';

export const VIEW_FSTYPE = 'fuse.sysbox-rootfs';
const UNSHARE = '/usr/bin/unshare';

export interface ViewProcess { pid: number; startTime: number }

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

/**
 * Mounts a view of rootfs at mountpoint (an empty dir) and starts its server; returns once it
 * serves. `binds` are host dirs to show at paths inside (special dirs). Errors carry its log and
 * leave nothing mounted or running.
 */
export function startRootfsView(mountpoint: string, rootfs: string, ids: { uid: number; gid: number; size: number },
  binds: { hostDir: string; dest: string }[], logFile: string): ViewProcess {
  const fd = fs.openSync('/dev/fuse', fs.constants.O_RDWR);
  let view: ViewProcess | undefined;
  let mounted = false;
  try {
    // default_permissions: the kernel checks access against the owners shown, as on a local fs.
    native.mount('sysbox-rootfs', mountpoint, VIEW_FSTYPE, native.constants.MS_NOSUID | native.constants.MS_NODEV,
      `fd=${fd},rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other`);
    mounted = true;
    const log = fs.openSync(logFile, 'w', 0o600);
    try {
      const child = spawn(UNSHARE, ['--mount', '--propagation', 'private', '--', process.execPath, script(), rootfs,
        String(ids.uid), String(ids.gid), String(ids.size), ...binds.map((b) => `${b.hostDir}=${b.dest}`)],
      { detached: true, stdio: ['ignore', log, log, fd] });
      child.unref();
      view = { pid: child.pid ?? 0, startTime: processStartTime(child.pid ?? 0) ?? 0 };
    } finally {
      fs.closeSync(log);
    }
    for (let waited = 0; waited < 10_000 && !exited(view); waited += 5) {
      if (/^ready$/m.test(logText(logFile))) return view;
      sleep(5);
    }
    throw new Error(`rootfs view of ${rootfs} did not start: ${logText(logFile).trim() || 'no output'}`);
  } catch (err) {
    if (view) stopRootfsView(view);
    if (mounted) native.umount(mountpoint, native.constants.MNT_DETACH);
    throw err;
  } finally {
    fs.closeSync(fd);
  }
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
