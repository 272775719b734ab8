// The trapped process as seen from the host: paths as it names them (through its root, its cwd and
// its fds), its capabilities, and its memory.
import fs from 'node:fs';
import path from 'node:path';
import * as native from '@sysbox/native';

const PATH_MAX = 4096;
export const AT_FDCWD = -100;
export const AT_EMPTY_PATH = 0x1000;
const CAP_SYS_ADMIN = 21n;

function readlink(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

/** A host path (from a /proc/<pid> link) as the tracee names it below its root; undefined if outside. */
function insideRoot(pid: number, hostPath: string): string | undefined {
  const root = readlink(`/proc/${pid}/root`) ?? '/';
  if (root === '/') return hostPath;
  if (hostPath === root) return '/';
  return hostPath.startsWith(`${root}/`) ? hostPath.slice(root.length) : undefined;
}

export function cwdOf(pid: number): string {
  return insideRoot(pid, readlink(`/proc/${pid}/cwd`) ?? '/') ?? '/';
}

/** The path an fd of the tracee refers to, as the tracee names it. */
export function fdPath(pid: number, fd: number): string | undefined {
  const target = readlink(`/proc/${pid}/fd/${fd}`);
  return target?.startsWith('/') ? insideRoot(pid, target) : undefined;
}

/** The path as the tracee sees it: relative paths joined to its cwd, both seen from its root. */
export function resolvePath(pid: number, p: string): string {
  return p.startsWith('/') ? path.posix.normalize(p) : path.posix.join(cwdOf(pid), p);
}

/** The path an *at(dirfd, path, ..., flags) call names; undefined when its dirfd names nothing visible. */
export function atPath(pid: number, dirfd: number, p: string, flags: number): string | undefined {
  if (p.startsWith('/')) return path.posix.normalize(p);
  const base = dirfd === AT_FDCWD ? cwdOf(pid) : fdPath(pid, dirfd);
  if (base === undefined) return undefined;
  return p === '' && flags & AT_EMPTY_PATH ? base : path.posix.join(base, p);
}

/** A syscall argument as the int the tracee passed (fds, AT_FDCWD). */
export function intArg(arg: bigint): number {
  return Number(BigInt.asIntN(32, arg));
}

export function stringArg(pid: number, arg: bigint, max = PATH_MAX): string {
  return native.readString(pid, arg, max) ?? '';
}

/** Whether CAP_SYS_ADMIN is in the tracee's effective set (in its own user namespace). */
export function hasSysAdmin(pid: number): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m !== null && ((BigInt(`0x${m[1]}`) >> CAP_SYS_ADMIN) & 1n) === 1n;
  } catch {
    return false;
  }
}
