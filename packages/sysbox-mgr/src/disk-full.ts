// ENOSPC and EDQUOT say "no space left on device" but not which device, and a failed write's
// message does not even name the file. sysbox-mgr writes to two places (its data root: records,
// special dirs, rootfs clones; and the run dirs under /run), so a full one is named, with what is
// left on it, for the operator to know what to clean.
import fs from 'node:fs';

export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Below this, a file system counts as the full one (a write of a record needs a few KiB). */
const NEARLY_FULL_BYTES = 1 << 20;
const NEARLY_FULL_INODES = 16;

interface Room { dir: string; freeBytes: number; freeInodes: number; full: boolean }

function roomOf(dir: string): Room | undefined {
  try {
    const s = fs.statfsSync(dir);
    const freeBytes = s.bavail * s.bsize;
    // Some file systems report no inode figures at all (files 0): only space counts there.
    const freeInodes = s.files > 0 ? s.ffree : Number.POSITIVE_INFINITY;
    return { dir, freeBytes, freeInodes, full: freeBytes < NEARLY_FULL_BYTES || freeInodes < NEARLY_FULL_INODES };
  } catch {
    return undefined;
  }
}

function describeRoom(r: Room): string {
  const inodes = Number.isFinite(r.freeInodes) ? `, ${r.freeInodes} inodes` : '';
  return `${Math.floor(r.freeBytes / 1024)} KiB${inodes} free`;
}

/**
 * The message for a full-disk error: names the first of dirs (label → path) whose file system is
 * full, or all of them with what is free when none looks full (it may have been freed since).
 */
export function diskFullMessage(err: Error, dirs: Record<string, string>): string {
  const rooms = Object.entries(dirs).flatMap(([label, dir]) => {
    const r = roomOf(dir);
    return r ? [{ label, ...r }] : [];
  });
  const full = rooms.find((r) => r.full);
  if (full) return `no space left on the ${full.label} ${full.dir} (${describeRoom(full)}): ${err.message}`;
  return `${err.message} (${rooms.map((r) => `${r.label} ${r.dir}: ${describeRoom(r)}`).join('; ')})`;
}
