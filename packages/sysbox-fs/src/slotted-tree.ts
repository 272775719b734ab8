// One copy of the static tree per container slot, under <mount>/<slot>/: every container reads its
// virtual files through inodes of its own. The kernel keeps one page cache per inode, and on this
// kernel sendfile()/splice() (busybox cat) read FUSE files through that cache even with
// FOPEN_DIRECT_IO; with inodes shared by all containers, one container could be handed a page
// rendered for another. Contents are still computed from the caller's pid, never from the slot.
// Inode numbers: the root is 1; slot s's copy of base inode HASHED_BASE + h (tree.ts) is
// SLOTTED_BASE + s * 2^HASH_BITS + h, and of the base root SLOTTED_BASE + s * 2^HASH_BITS (h is
// never 0).
import type { Caller, FileTree, Inode, Listed } from './tree.js';
import { HASHED_BASE, HASH_BITS, HASH_MASK, dir, ROOT_INODE } from './tree.js';

const SLOTTED_BASE = 1n << 62n;
/** Pass-through slot inodes kept, at most (as many as the base keeps: tree.ts DYNAMIC_KEPT). */
const PASSTHROUGH_KEPT = 50000;

export class SlottedTree implements FileTree {
  private readonly root: Inode = { ino: ROOT_INODE, parent: ROOT_INODE, node: dir({}), children: new Map() };
  private readonly cache = new Map<bigint, Inode>();
  private readonly passthrough = new Map<bigint, { base: Inode; inode: Inode }>();

  constructor(private readonly base: FileTree, private readonly slots: number, readonly owner?: (caller: Caller) => { uid: number; gid: number }) {
    if (BigInt(slots) << HASH_BITS >= SLOTTED_BASE) throw new Error(`${slots} slots do not fit the inode layout`);
  }

  get size(): number {
    return 1 + this.slots * this.base.size;
  }

  /** Slot s's number for base inode b. */
  private up(b: bigint, slot: bigint): bigint {
    return SLOTTED_BASE + (slot << HASH_BITS) + (b === ROOT_INODE ? 0n : b - HASHED_BASE);
  }

  /** The slot and base inode of ino (not the mount's root), or undefined if ino is no slot's. */
  private down(ino: bigint): { slot: bigint; b: bigint } | undefined {
    if (ino < SLOTTED_BASE) return undefined;
    const slot = (ino - SLOTTED_BASE) >> HASH_BITS;
    const h = (ino - SLOTTED_BASE) & HASH_MASK;
    return slot < BigInt(this.slots) ? { slot, b: h === 0n ? ROOT_INODE : HASHED_BASE + h } : undefined;
  }

  get(ino: bigint, caller?: Caller): Inode | undefined {
    if (ino === ROOT_INODE) return this.root;
    const hit = this.cache.get(ino);
    if (hit) return hit;
    const d = this.down(ino);
    const b = d && this.base.get(d.b, caller);
    if (!d || !b) return undefined;
    // A pass-through inode is the slot's copy for as long as the base keeps the same one.
    const seen = this.passthrough.get(ino);
    if (seen?.base === b) return seen.inode;
    const inode: Inode = {
      ...b,
      ino,
      // A slot's top directory (the base root) sits in the mount's root.
      parent: b.ino === ROOT_INODE ? ROOT_INODE : this.up(b.parent, d.slot),
      ...(b.children ? { children: new Map([...b.children].map(([name, c]) => [name, this.up(c, d.slot)])) } : {}),
    };
    // Pass-through inodes change (a worker may relearn them), so they are kept with the base's.
    if (b.ttl === undefined) this.cache.set(ino, inode);
    else {
      if (this.passthrough.size >= PASSTHROUGH_KEPT) this.passthrough.clear();
      this.passthrough.set(ino, { base: b, inode });
    }
    return inode;
  }

  lookup(parent: bigint, name: string, caller?: Caller): Inode | undefined {
    if (parent === ROOT_INODE) {
      if (!/^(0|[1-9]\d{0,5})$/.test(name) || Number(name) >= this.slots) return undefined;
      return this.get(this.up(ROOT_INODE, BigInt(name)));
    }
    const d = this.down(parent);
    const child = d && this.base.lookup(d.b, name, caller);
    return child && this.get(this.up(child.ino, d.slot), caller);
  }

  listingStamp(ino: bigint, caller: Caller): number | undefined {
    if (ino === ROOT_INODE) return 0;
    const d = this.down(ino);
    return d && this.base.listingStamp?.(d.b, caller);
  }

  list(ino: bigint, caller: Caller): Listed[] | undefined {
    if (ino === ROOT_INODE) return [];
    const d = this.down(ino);
    return d && this.base.list(d.b, caller)?.map((e) => ({ ...e, ino: this.up(e.ino, d.slot) }));
  }
}
