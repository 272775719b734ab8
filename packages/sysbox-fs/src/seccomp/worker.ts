// The seccomp-notify server, on a thread of its own: poll the listener socket and every notify
// fd, accept runc's hand-over of new notify fds (one per container create and per exec), answer
// trapped mount/umount2 calls per mount-policy.ts. Blocking calls are fine here: this thread does
// nothing else, and the daemon's event loop and the FUSE workers are untouched by it.
import fs from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import * as native from '@sysbox/native';
import { bindVirtualFiles } from '../daemon/container-mounts.js';
import { inSlot, virtualBinds } from '../mount-layout.js';
import { readRecords } from '../container/record.js';
import { findMount, parseMountInfo } from '@sysbox/common/mountinfo';
import { decide, type MountCall } from './mount-policy.js';
import type { SeccompWorkerConfig, SeccompWorkerMessage } from './worker-config.js';

const POLLIN = 0x1;
const SYSCALLS: Record<string, { mount: number; umount2: number }> = {
  x64: { mount: 165, umount2: 166 },
  arm64: { mount: 40, umount2: 39 },
};
const NR = SYSCALLS[process.arch];
const PATH_MAX = 4096;

interface Listener {
  name: string;
  /** Container id, as runc reported it. */
  id: string;
  /** Host pid of the container's init (0 if unknown), whose mount ns is the initial one. */
  initPid: number;
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

/** The path as the tracee sees it: relative paths joined to its cwd, both seen from its root. */
function resolveTarget(pid: number, target: string): string {
  if (target.startsWith('/')) return path.posix.normalize(target);
  const root = readlink(`/proc/${pid}/root`) ?? '/';
  const cwd = readlink(`/proc/${pid}/cwd`) ?? '/';
  const inside = root === '/' ? cwd : cwd.startsWith(root) ? cwd.slice(root.length) || '/' : '/';
  return path.posix.join(inside, target);
}

function handle(cfg: SeccompWorkerConfig, fd: number, who: Listener): void {
  const n = native.seccompNotifRecv(fd);
  if (!n) return;
  const respond = (errno: number, cont: boolean): void => { native.seccompNotifRespond(fd, n.id, errno, 0, cont); };
  try {
    let call: MountCall;
    let rawTarget = '';
    if (n.nr === NR.mount) {
      const str = (i: number): string | undefined => native.readString(n.pid, n.args[i], PATH_MAX) ?? undefined;
      rawTarget = str(1) ?? '';
      call = { kind: 'mount', source: str(0), target: resolveTarget(n.pid, rawTarget), fstype: str(2), flags: Number(n.args[3] & 0xffffffffn), data: str(4) };
    } else if (n.nr === NR.umount2) {
      call = { kind: 'umount', target: resolveTarget(n.pid, native.readString(n.pid, n.args[0], PATH_MAX) ?? ''), flags: Number(n.args[1]) };
    } else {
      return respond(0, true);
    }
    // The strings were read from a pid that could have died and been reused meanwhile.
    if (!native.seccompNotifIdValid(fd, n.id)) return;
    const initialNs = who.initPid > 0 && readlink(`/proc/${n.pid}/ns/mnt`) === readlink(`/proc/${who.initPid}/ns/mnt`);
    const d = decide(call, () => parseMountInfo(fs.readFileSync(`/proc/${n.pid}/mountinfo`, 'utf8')), initialNs, ourDevice);
    if (d.action === 'continue') return respond(0, true);
    if (d.action === 'fail') {
      log('debug', `${who.name}: pid ${n.pid} ${call.kind} ${call.target}: refused (errno ${d.errno})`);
      return respond(d.errno, false);
    }
    const fsRoot = d.fstype === 'proc' ? 'proc' : 'sys';
    // The container's own copy of the tree (slotted-tree.ts); inner containers share it.
    const slot = readRecords(cfg.stateDir).find((r) => r.id === who.id)?.slot ?? 0;
    const binds = inSlot(virtualBinds(cfg.virtualPaths, fsRoot, (p) => p.slice(fsRoot.length + 1)), slot);
    let targetFd = -1;
    try {
      // runc names targets /proc/self/fd/N: only an fd of the tracee's own says where that is.
      targetFd = native.openInRoot(n.pid, rawTarget);
      bindVirtualFiles(n.pid, cfg.mountpoint, binds, { fstype: d.fstype, targetFd, flags: d.flags, data: d.data });
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

function serve(cfg: SeccompWorkerConfig): void {
  ourDevice = findMount(parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')), cfg.mountpoint)?.device ?? '';
  const stop = new Int32Array(cfg.stop);
  const listeners = new Map<number, Listener>();
  for (const [name, fd] of cfg.notifyFds) listeners.set(fd, { name, id: name.split(':')[1] ?? '', initPid: Number(name.split(':')[3] ?? 0) });
  let seq = 0;
  post({ type: 'ready' });
  while (Atomics.load(stop, 0) === 0) {
    const ready = native.pollFds([cfg.listenFd, ...listeners.keys()], 500);
    for (const [fd, revents] of ready) {
      if (fd === cfg.listenFd) {
        const conn = native.acceptFd(fd);
        if (!conn || conn.fd < 0) continue;
        // runc sends the OCI ContainerProcessState: { pid, state: { id, pid (init) ... } }.
        let msg: { pid?: number; state?: { id?: string; pid?: number } } = {};
        try { msg = JSON.parse(conn.data) as typeof msg; } catch { /* no state: still serve the fd */ }
        const id = String(msg.state?.id ?? 'unknown').replace(/[^A-Za-z0-9_.-]/g, '_');
        const initPid = msg.state?.pid || msg.pid || 0;
        const name = `seccomp:${id}:${Date.now()}-${seq++}:${initPid}`;
        listeners.set(conn.fd, { name, id, initPid });
        post({ type: 'keep', name, fd: conn.fd });
        continue;
      }
      const who = listeners.get(fd);
      if (!who) continue;
      if (revents & POLLIN) handle(cfg, fd, who);
      else {
        // POLLHUP: every process using this filter is gone.
        listeners.delete(fd);
        fs.closeSync(fd);
        post({ type: 'closed', name: who.name });
      }
    }
  }
}

try {
  serve(workerData as SeccompWorkerConfig);
} catch (e) {
  log('error', `seccomp worker: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
}
