// The seccomp-notify server, on a thread of its own: poll the listener socket and every notify
// fd, accept runc's hand-over of new notify fds (one per container create and per exec), answer
// trapped mount/umount2 calls per mount-policy.ts, and the chown (chown.ts) and *xattr (xattr.ts)
// families a container's knobs trap; close the fds per --seccomp-fd-release. Blocking calls are fine here: this thread does
// nothing else, and the daemon's event loop and the FUSE workers are untouched by it.
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import * as native from '@sysbox/native';
import { bindVirtualFiles } from '../daemon/container-mounts.js';
import { inSlot, virtualBinds } from '../mount-layout.js';
import { readRecord, type ContainerRecord } from '../container/record.js';
import { findMount, parseMountInfo } from '@sysbox/common/mountinfo';
import type { Answer } from './answer.js';
import { handleChown } from './chown.js';
import { decide, MS_RDONLY, type Immutability, type MountCall } from './mount-policy.js';
import { trappedCall } from './syscalls.js';
import { resolvePath } from './tracee.js';
import { handleSetattr } from './setattr.js';
import { handleXattr } from './xattr.js';
import type { SeccompWorkerConfig, SeccompWorkerMessage } from './worker-config.js';

const POLLIN = 0x1;
const PATH_MAX = 4096;
/** How often parked notify fds (--seccomp-fd-release cont-exit) are checked for a dead init. */
const PARK_CHECK_MS = 2000;

interface Listener {
  name: string;
  /** Container id, as runc reported it. */
  id: string;
  /** Host pid of the container's init (0 if unknown), whose mount ns is the initial one. */
  initPid: number;
  /** Host pid of the process runc handed this filter for (its init, or an exec'd process; 0 if unknown). */
  pid: number;
}

const post = (m: SeccompWorkerMessage): void => parentPort?.postMessage(m);
const log = (level: 'debug' | 'info' | 'warn' | 'error', message: string): void => post({ type: 'log', level, message });

function readlink(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

/** Each container's record (its knobs and initial mounts), read from disk once per init. */
const records = new Map<string, ContainerRecord>();

function recordOf(cfg: SeccompWorkerConfig, who: Listener): ContainerRecord | undefined {
  const cached = records.get(who.id);
  if (cached && cached.initPid === who.initPid) return cached;
  return freshRecord(cfg, who.id);
}

/** Container id's record as on disk now (a restarted container has another init), cached for recordOf. */
function freshRecord(cfg: SeccompWorkerConfig, id: string): ContainerRecord | undefined {
  const rec = readRecord(cfg.stateDir, id);
  if (rec && rec.initPid > 0) records.set(id, rec);
  return rec;
}

function immutability(cfg: SeccompWorkerConfig, who: Listener): Immutability {
  return { initial: recordOf(cfg, who)?.initialMounts ?? [], allowRemounts: cfg.traps.allowImmutableRemounts, allowUnmounts: cfg.traps.allowImmutableUnmounts };
}

function answer(fd: number, id: bigint, a: Answer): void {
  if (a.kind === 'continue') native.seccompNotifRespond(fd, id, 0, 0, true);
  else native.seccompNotifRespond(fd, id, a.errno, a.val, false);
}

function handle(cfg: SeccompWorkerConfig, fd: number, who: Listener): void {
  const n = native.seccompNotifRecv(fd);
  if (!n) return;
  const respond = (errno: number, cont: boolean): void => { native.seccompNotifRespond(fd, n.id, errno, 0, cont); };
  try {
    const trapped = trappedCall(n.nr);
    if (trapped === undefined) return respond(0, true);
    if (trapped === 'mount_setattr') {
      const a = handleSetattr(n, ourDevice, immutability(cfg, who));
      if (!native.seccompNotifIdValid(fd, n.id)) return;
      if (a.kind === 'reply') log('debug', `${who.name}: pid ${n.pid} mount_setattr clearing read-only: refused`);
      return answer(fd, n.id, a);
    }
    if (trapped !== 'mount' && trapped !== 'umount2') {
      const rec = recordOf(cfg, who);
      if (trapped.includes('chown')) {
        if (rec?.ignoreSysfsChown !== true || handleChown(trapped, n) === 'continue') return respond(0, true);
        if (!native.seccompNotifIdValid(fd, n.id)) return;
        log('debug', `${who.name}: pid ${n.pid} ${trapped} of /sys: ignored`);
        return respond(0, false);
      }
      if (rec?.allowTrustedXattr !== true) return respond(0, true);
      return answer(fd, n.id, handleXattr(trapped, n, () => native.seccompNotifIdValid(fd, n.id)));
    }
    let call: MountCall;
    let rawTarget = '';
    if (trapped === 'mount') {
      const str = (i: number): string | undefined => native.readString(n.pid, n.args[i], PATH_MAX) ?? undefined;
      rawTarget = str(1) ?? '';
      call = { kind: 'mount', source: str(0), target: resolvePath(n.pid, rawTarget), fstype: str(2), flags: Number(n.args[3] & 0xffffffffn), data: str(4) };
    } else {
      call = { kind: 'umount', target: resolvePath(n.pid, native.readString(n.pid, n.args[0], PATH_MAX) ?? ''), flags: Number(n.args[1]) };
    }
    // The strings were read from a pid that could have died and been reused meanwhile.
    if (!native.seccompNotifIdValid(fd, n.id)) return;
    const initialNs = who.initPid > 0 && readlink(`/proc/${n.pid}/ns/mnt`) === readlink(`/proc/${who.initPid}/ns/mnt`);
    const d = decide(call, () => parseMountInfo(fs.readFileSync(`/proc/${n.pid}/mountinfo`, 'utf8')), initialNs, ourDevice, immutability(cfg, who));
    if (d.action === 'continue') return respond(0, true);
    if (d.action === 'fail') {
      log('debug', `${who.name}: pid ${n.pid} ${call.kind} ${call.target}: refused (errno ${d.errno})`);
      return respond(d.errno, false);
    }
    const fsRoot = d.fstype === 'proc' ? 'proc' : 'sys';
    // The container's own copy of the tree (slotted-tree.ts); inner containers share it.
    const slot = recordOf(cfg, who)?.slot ?? 0;
    const binds = inSlot(virtualBinds(cfg.virtualPaths, fsRoot, (p) => p.slice(fsRoot.length + 1)), slot);
    let targetFd = -1;
    try {
      // runc names targets /proc/self/fd/N: only an fd of the tracee's own says where that is.
      targetFd = native.openInRoot(n.pid, rawTarget);
      // The virtual files are as writable as the procfs or sysfs they are laid over, as the kernel's own files would be.
      const readOnly = (d.flags & MS_RDONLY) !== 0;
      bindVirtualFiles(n.pid, cfg.mountpoint, binds, { fstype: d.fstype, targetFd, flags: d.flags, data: d.data }, () => readOnly);
      log('debug', `${who.name}: pid ${n.pid} mounted ${d.fstype} on ${call.target} with the virtual files`);
      respond(0, false);
    } catch (e) {
      const errno = (e as { errno?: number }).errno ?? 1;
      respond(errno, false);
    } finally {
      if (targetFd >= 0) fs.closeSync(targetFd);
    }
  } catch (e) {
    log('warn', `${who.name}: pid ${n.pid} syscall ${n.nr}: ${(e as Error).message}; letting the kernel decide`);
    respond(0, true);
  }
}

/** "major:minor" of our FUSE mount, as mountinfo shows it. */
let ourDevice = '';

/** Parses a keeper name back: seccomp:<id>:<stamp>:<initPid>[:<pid>]. */
function listenerOf(name: string): Listener {
  const [, id = '', , initPid = '0', pid = '0'] = name.split(':');
  return { name, id, initPid: Number(initPid), pid: Number(pid) };
}

/**
 * --seccomp-fd-release: with proc-exit (the default) a notify fd is closed once every process using
 * its filter is gone; with cont-exit an exec'd process's fd is parked instead, and the container's
 * fds are closed together when its init's filter goes (or its init is found dead).
 */
class FdRelease {
  private readonly parked = new Map<string, Array<{ fd: number; who: Listener }>>();
  private checkedAt = Date.now();

  constructor(private readonly contExit: boolean) {}

  /** The fd's processes are all gone (POLLHUP). */
  hangup(fd: number, who: Listener): void {
    const initAlive = who.initPid > 0 && fs.existsSync(`/proc/${who.initPid}`);
    if (this.contExit && who.pid !== who.initPid && initAlive) {
      const list = this.parked.get(who.id) ?? [];
      list.push({ fd, who });
      this.parked.set(who.id, list);
      return;
    }
    release(fd, who);
    this.releaseAll(who.id);
  }

  /** Now and then: the containers whose init exited without its filter's hangup reaching us. */
  sweep(): void {
    if (this.parked.size === 0 || Date.now() - this.checkedAt < PARK_CHECK_MS) return;
    this.checkedAt = Date.now();
    for (const [id, list] of this.parked) if (!fs.existsSync(`/proc/${list[0].who.initPid}`)) this.releaseAll(id);
  }

  private releaseAll(id: string): void {
    for (const { fd, who } of this.parked.get(id) ?? []) release(fd, who);
    this.parked.delete(id);
  }
}

/**
 * Stops serving fd and gives it to the daemon to close: a quick exec's fd is released right after
 * the daemon was told to keep it, and closing it here could come before the keeper copies it
 * (EBADF), or let the number go to the next notify fd, which the keeper would copy by mistake.
 */
function release(fd: number, who: Listener): void {
  post({ type: 'released', name: who.name, fd });
}

function serve(cfg: SeccompWorkerConfig): void {
  ourDevice = findMount(parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')), cfg.mountpoint)?.device ?? '';
  const stop = new Int32Array(cfg.stop);
  const listeners = new Map<number, Listener>();
  const fdRelease = new FdRelease(cfg.traps.seccompFdRelease === 'cont-exit');
  for (const [name, fd] of cfg.notifyFds) listeners.set(fd, listenerOf(name));
  let seq = 0;
  post({ type: 'ready' });
  while (Atomics.load(stop, 0) === 0) {
    const ready = native.pollFds([cfg.listenFd, ...listeners.keys()], 500);
    for (const [fd, revents] of ready) {
      if (fd === cfg.listenFd) {
        const conn = native.acceptFd(fd);
        if (!conn || conn.fd < 0) continue;
        // runc sends the OCI ContainerProcessState: { pid, state: { id, pid (init) ... } }. crun
        // 1.8 sends pid 0 in both for an exec's filter: the init's pid is then the container's record's.
        let msg: { pid?: number; state?: { id?: string; pid?: number } } = {};
        try { msg = JSON.parse(conn.data) as typeof msg; } catch { /* no state: still serve the fd */ }
        const id = String(msg.state?.id ?? 'unknown').replace(/[^A-Za-z0-9_.-]/g, '_');
        const initPid = msg.state?.pid || (msg.pid ? 0 : freshRecord(cfg, id)?.initPid) || msg.pid || 0;
        const name = `seccomp:${id}:${Date.now()}-${seq++}:${initPid}:${msg.pid ?? 0}`;
        listeners.set(conn.fd, listenerOf(name));
        post({ type: 'keep', name, fd: conn.fd });
        continue;
      }
      const who = listeners.get(fd);
      if (!who) continue;
      if (revents & POLLIN) handle(cfg, fd, who);
      else {
        // POLLHUP: every process using this filter is gone.
        listeners.delete(fd);
        fdRelease.hangup(fd, who);
      }
    }
    fdRelease.sweep();
  }
}

try {
  serve(workerData as SeccompWorkerConfig);
} catch (e) {
  log('error', `seccomp worker: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
}
