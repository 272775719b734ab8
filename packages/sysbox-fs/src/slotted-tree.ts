// One copy of the static tree per container slot, under <mount>/<slot>/: every container reads its
// virtual files through inodes of its own. The kernel keeps one page cache per inode, and on this
// kernel sendfile()/splice() (busybox cat) read FUSE files through that cache even with
// FOPEN_DIRECT_IO; with inodes shared by all containers, one container could be handed a page
// rendered for another. Contents are still computed from the caller's pid, never from the slot.
// Inode numbers: the root is 1; slot s's copy of base inode i is 1 + s * base.size + i.
import type { Caller, FileTree, Inode } from './tree.js';
import { dir, ROOT_INODE } from './tree.js';

export class SlottedTree implements FileTree {
  private readonly root: Inode = { ino: ROOT_INODE, parent: ROOT_INODE, node: dir({}), children: new Map() };
  private readonly cache = new Map<bigint, Inode>();
  private readonly n: bigint;

  constructor(private readonly base: FileTree, private readonly slots: number, readonly owner?: (caller: Caller) => { uid: number; gid: number }) {
    this.n = BigInt(base.size);
  }

  get size(): number {
    return 1 + this.slots * this.base.size;
  }

  get(ino: bigint): Inode | undefined {
    if (ino === ROOT_INODE) return this.root;
    const hit = this.cache.get(ino);
    if (hit) return hit;
    const slot = (ino - 2n) / this.n;
    if (ino < 2n || slot >= BigInt(this.slots)) return undefined;
    const offset = 1n + slot * this.n;
    const b = this.base.get(ino - offset);
    if (!b) return undefined;
    const inode: Inode = {
      ino,
      parent: b.ino === ROOT_INODE ? ROOT_INODE : b.parent + offset,
      node: b.node,
      ...(b.children ? { children: new Map([...b.children].map(([name, c]) => [name, c + offset])) } : {}),
    };
    this.cache.set(ino, inode);
    return inode;
  }

  lookup(parent: bigint, name: string): Inode | undefined {
    if (parent === ROOT_INODE) {
      if (!/^(0|[1-9]\d{0,5})$/.test(name) || Number(name) >= this.slots) return undefined;
      return this.get(2n + BigInt(name) * this.n);
    }
    const child = this.get(parent)?.children?.get(name);
    return child === undefined ? undefined : this.get(child);
  }
}
