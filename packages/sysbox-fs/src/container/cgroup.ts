// Reads a process's cgroup (v1 hierarchies, as on this host: the unified one carries no
// controllers) and the values the virtual /proc files are made of. Paths come from
// /proc/PID/cgroup as sysbox-fs sees it (the host's cgroup namespace), so they are host paths.
import fs from 'node:fs';
import path from 'node:path';
import { cgroupHierarchies } from '@sysbox/common/cgroup';
import { mountVisibility, parseMountInfo, type MountInfo } from '@sysbox/common/mountinfo';
import { dropKeptUnder, readKept } from './kept-files.js';

/**
 * The cgroup hierarchies mounted here, from our own mountinfo (read once per thread): the visible
 * ones only (a mount hidden under a later one, e.g. runc's cgroup binds under a `-v /sys:/sys`, is
 * not where the hierarchy is seen).
 */
let cgroupMounts: MountInfo[] | undefined;

function mounts(): MountInfo[] {
  if (!cgroupMounts) {
    const all = parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    const visible = mountVisibility(all);
    cgroupMounts = all.filter((m) => (m.fsType === 'cgroup' || m.fsType === 'cgroup2') && visible(m));
  }
  return cgroupMounts;
}

/**
 * Closes the cgroup files kept open (kept-files.ts): called when containers come or go, so a
 * removed container's cgroups are not held; running ones' are opened again on their next read.
 */
export function dropKeptCgroupFiles(): number {
  return mounts().reduce((n, m) => n + dropKeptUnder(m.mountPoint), 0);
}

/** Where the v1 hierarchy with this controller is mounted: the top of its cgroup tree. */
function controllerMount(ctrl: string): string | undefined {
  return mounts().find((m) => m.fsType === 'cgroup' && m.superOptions.split(',').includes(ctrl))?.mountPoint;
}

export interface CgroupPaths {
  /** Controller name → absolute dir of the process's cgroup in that hierarchy. */
  dirs: Map<string, string>;
}

export function cgroupPathsOf(pid: number): CgroupPaths | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  const dirs = new Map<string, string>();
  for (const h of cgroupHierarchies(text, mounts())) {
    for (const ctrl of h.controllers) dirs.set(ctrl, h.dir);
  }
  return { dirs };
}

export function readCg(cg: CgroupPaths, ctrl: string, file: string): string | undefined {
  const dir = cg.dirs.get(ctrl);
  if (!dir) return undefined;
  try {
    return readKept(path.join(dir, file));
  } catch {
    return undefined;
  }
}

export function readCgNumber(cg: CgroupPaths, ctrl: string, file: string): number | undefined {
  const v = readCg(cg, ctrl, file);
  if (v === undefined) return undefined;
  const n = Number(v.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** v1 reports "no limit" as a huge page-aligned number; anything at or above this is unlimited. */
const UNLIMITED = 2 ** 62;

/**
 * The limit in force: the smallest of the cgroup's and its ancestors' (a parent's limit binds the
 * child too, and Docker sets limits on the container's own cgroup below unlimited parents).
 */
export function effectiveLimit(cg: CgroupPaths, ctrl: string, file: string): number | undefined {
  let dir = cg.dirs.get(ctrl);
  const root = controllerMount(ctrl);
  if (!dir || !root) return undefined;
  let best: number | undefined;
  for (;;) {
    try {
      const n = Number(fs.readFileSync(path.join(dir, file), 'utf8').trim());
      // Negative (a CFS quota of -1) and huge (memory) values both mean "no limit here".
      if (Number.isFinite(n) && n >= 0 && n < UNLIMITED && (best === undefined || n < best)) best = n;
    } catch { /* absent at this level */ }
    if (dir === root || dir.length <= root.length) return best;
    dir = path.dirname(dir);
  }
}

/** "0-3,6" → [0,1,2,3,6]. */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}
