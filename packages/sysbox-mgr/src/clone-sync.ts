// What a stopped container changed in its rootfs clone (rootfs-chown.ts), as the edits that bring
// the original rootfs to the same state. The clone's upper dir says where to look: every path the
// container touched is there (whiteouts for removals, whole dirs for renames), and so is every
// path the chown touched, as metadata-only copies whose content equals the original's. The
// clone's merged view (owners already shifted back) is the truth; content is compared the way
// rsync's quick check does (type, size, mtime), so metadata-only copies cost a stat, not a copy.
import fs from 'node:fs';
import path from 'node:path';

export interface MetaFix { rel: string; uid: number; gid: number; mode?: number }

export interface WriteBackPlan {
  /** Paths to delete from the original (recursively), before copying. */
  remove: string[];
  /** Paths to copy from the merged view, parents before children (no recursion implied). */
  copy: string[];
  /** Owners/modes to set on paths whose content is unchanged. */
  meta: MetaFix[];
}

function lstatOrUndefined(p: string): fs.BigIntStats | undefined {
  try {
    return fs.lstatSync(p, { bigint: true });
  } catch {
    return undefined;
  }
}

const S_IFMT = 0o170000n;

function sameContent(a: fs.BigIntStats, b: fs.BigIntStats, pa: string, pb: string): boolean {
  if ((a.mode & S_IFMT) !== (b.mode & S_IFMT)) return false;
  if (a.isSymbolicLink()) return fs.readlinkSync(pa) === fs.readlinkSync(pb);
  if (a.isBlockDevice() || a.isCharacterDevice()) return a.rdev === b.rdev;
  return a.size === b.size && a.mtimeNs === b.mtimeNs;
}

/** How an owner seen in the clone is written to the original (identity once shifted back). */
export type OwnerView = (id: number, isGid: boolean) => number;
const asIs: OwnerView = (id) => id;

function metaFix(rel: string, want: fs.BigIntStats, have: fs.BigIntStats, view: OwnerView): MetaFix | undefined {
  // After lchown the mode is set again: chown clears setuid/setgid bits.
  const mode = want.isSymbolicLink() ? undefined : Number(want.mode & 0o7777n);
  const modeDiffers = mode !== undefined && mode !== Number(have.mode & 0o7777n);
  const uid = view(Number(want.uid), false);
  const gid = view(Number(want.gid), true);
  if (uid === Number(have.uid) && gid === Number(have.gid) && !modeDiffers) return undefined;
  return { rel, uid, gid, mode };
}

/**
 * Compares the clone (upper dir and merged view) with the original rootfs; reads only. `view`
 * maps the clone's owners to the original's when they are still shifted (a running container).
 */
export function planWriteBack(upper: string, merged: string, orig: string, view: OwnerView = asIs): WriteBackPlan {
  const plan: WriteBackPlan = { remove: [], copy: [], meta: [] };
  const copyTree = (rel: string): void => {
    plan.copy.push(rel);
    const st = fs.lstatSync(path.join(merged, rel));
    if (!st.isDirectory()) return;
    for (const name of fs.readdirSync(path.join(merged, rel))) copyTree(path.join(rel, name));
  };
  const fixMeta = (rel: string, m: fs.BigIntStats, d: fs.BigIntStats): void => {
    const fix = metaFix(rel, m, d, view);
    if (fix) plan.meta.push(fix);
  };
  const syncDir = (rel: string): void => {
    const inUpper = new Set(fs.readdirSync(path.join(upper, rel)));
    for (const name of inUpper) {
      const r = path.join(rel, name);
      const m = lstatOrUndefined(path.join(merged, r));
      const d = lstatOrUndefined(path.join(orig, r));
      if (!m) {
        if (d) plan.remove.push(r);
        continue;
      }
      if (m.isDirectory()) {
        if (!d || !d.isDirectory()) {
          if (d) plan.remove.push(r);
          copyTree(r);
          continue;
        }
        if (fs.lstatSync(path.join(upper, r)).isDirectory()) syncDir(r);
        fixMeta(r, m, d);
        continue;
      }
      if (d && !d.isDirectory() && sameContent(m, d, path.join(merged, r), path.join(orig, r))) {
        fixMeta(r, m, d);
        continue;
      }
      if (d) plan.remove.push(r);
      plan.copy.push(r);
    }
    // A dir made opaque (removed and made again) or renamed over hides entries of the original
    // that the upper dir does not name.
    const inMerged = new Set(fs.readdirSync(path.join(merged, rel)));
    const inOrig = new Set(fs.readdirSync(path.join(orig, rel)));
    for (const name of inOrig) if (!inMerged.has(name) && !inUpper.has(name)) plan.remove.push(path.join(rel, name));
    for (const name of inMerged) if (!inOrig.has(name) && !inUpper.has(name)) copyTree(path.join(rel, name));
  };
  syncDir('');
  const m = fs.lstatSync(merged, { bigint: true });
  const d = fs.lstatSync(orig, { bigint: true });
  fixMeta('.', m, d);
  return plan;
}
