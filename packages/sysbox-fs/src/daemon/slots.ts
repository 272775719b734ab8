// Which slot (slotted-tree.ts: a container's own copy of the tree) a new container gets. The kernel
// keeps a slot inode's attributes, which carry the reading container's root as owner, for up to
// the longest attribute ttl (the host procfs pass-through's, 10 s); a slot handed on sooner could
// show the next container its predecessor's owner (nobody) that long. So a freed slot rests first.

/** How long a freed slot rests: longer than any attribute ttl of a slot inode (10 s). */
export const SLOT_REST_MS = 11_000;

/**
 * The lowest slot that is not in use and was never freed or has rested SLOT_REST_MS, else the one
 * freed longest ago (more containers come and go than there are slots), else undefined (all in use).
 * freedAt: when each slot was last freed (performance.now() ms).
 */
export function pickSlot(slots: number, used: ReadonlySet<number>, freedAt: ReadonlyMap<number, number>, now: number): number | undefined {
  let oldest: number | undefined;
  let oldestAt = Infinity;
  for (let i = 0; i < slots; i++) {
    if (used.has(i)) continue;
    const at = freedAt.get(i);
    if (at === undefined || now - at >= SLOT_REST_MS) return i;
    if (at < oldestAt) {
      oldest = i;
      oldestAt = at;
    }
  }
  return oldest;
}

/**
 * The slots still resting, as wall-clock ms since the epoch (performance.now() starts again with
 * each process; the kernel's kept attributes outlive a sysbox-fs restart, the fd keeper holding
 * the connection). freedAt: performance.now() ms, as pickSlot takes it.
 */
export function restingAsWallClock(freedAt: ReadonlyMap<number, number>, nowPerf: number, nowWall: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [slot, at] of freedAt) if (nowPerf - at < SLOT_REST_MS) out[slot] = Math.round(nowWall - (nowPerf - at));
  return out;
}

/** restingAsWallClock's record, back as pickSlot's freedAt in this process's performance.now() ms. */
export function restingFromWallClock(rec: Readonly<Record<string, number>>, nowPerf: number, nowWall: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const [slot, wall] of Object.entries(rec)) {
    const n = Number(slot);
    if (!Number.isInteger(n) || n < 0 || typeof wall !== 'number' || !Number.isFinite(wall)) continue;
    const at = nowPerf - (nowWall - wall);
    if (nowPerf - at < SLOT_REST_MS) out.set(n, at);
  }
  return out;
}
