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
