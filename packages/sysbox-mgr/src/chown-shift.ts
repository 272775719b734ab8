// Shifting a tree's owners with chown, for when ID-mapped mounts are not used (--disable-idmapped-mount,
// --disable-ovfs-on-idmapped-mount): the container's root (host id H) must own what root owns in
// the image. Ids 0..size-1 move up to H..H+size-1 and back; any other id is left alone, so both
// directions are idempotent (a shift interrupted half-way can simply be run again) and a file
// created meanwhile by host root (docker cp) is never pushed below zero.
import fs from 'node:fs';
import path from 'node:path';

export interface IdRange { uid: number; gid: number; size: number }

/** The owner an id gets when shifted up into (or down out of) the range starting at base; undefined: left alone. */
export function shiftedId(id: number, base: number, size: number, up: boolean): number | undefined {
  if (up) return id < size && base + id !== id ? base + id : undefined;
  return id >= base && id < base + size && base !== 0 ? id - base : undefined;
}

const SET_ID_BITS = 0o6000;

/** Shifts one entry's owners (st: its lstat). */
export function shiftEntry(p: string, st: fs.Stats, r: IdRange, up: boolean): void {
  const uid = shiftedId(st.uid, r.uid, r.size, up);
  const gid = shiftedId(st.gid, r.gid, r.size, up);
  if (uid === undefined && gid === undefined) return;
  fs.lchownSync(p, uid ?? st.uid, gid ?? st.gid);
  // chown clears setuid/setgid bits (su, passwd, mount...): put them back.
  if (!st.isSymbolicLink() && (st.mode & SET_ID_BITS) !== 0) fs.chmodSync(p, st.mode & 0o7777);
}

/**
 * Shifts every owner under root (root included) up into the range, or back down. Does not follow
 * symlinks; returns how many entries it looked at.
 */
export function shiftTreeIds(root: string, r: IdRange, up: boolean): number {
  let count = 0;
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      const st = fs.lstatSync(p);
      shiftEntry(p, st, r, up);
      count++;
      if (st.isDirectory()) walk(p);
    }
  };
  shiftEntry(root, fs.lstatSync(root), r, up);
  walk(root);
  return count + 1;
}
