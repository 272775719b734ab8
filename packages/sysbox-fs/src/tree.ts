// The virtual-file tree the FUSE server exposes, independent of the wire protocol: a static shape
// (directories and files fixed at construction) whose file contents are computed per request.
// Every worker thread builds its own copy from the same module and config, so inode numbers must
// come only from the tree's shape: they are assigned depth-first in declaration order.
import type { Caller } from './fuse/protocol.js';

export type { Caller };

export interface VirtualFile {
  kind: 'file';
  /** Permission bits; defaults to 0444, or 0644 when write is given. */
  perm?: number;
  /** The whole content, computed afresh for each READ request (the pid says which container asks). */
  read(caller: Caller): string | Buffer;
  /** Called once per WRITE request with that request's bytes; a number return is an errno to fail with. */
  write?(caller: Caller, data: Buffer): void | number;
}

export interface VirtualDir {
  kind: 'dir';
  perm?: number;
  entries: Record<string, VirtualNode>;
}

export type VirtualNode = VirtualFile | VirtualDir;

export const file = (read: VirtualFile['read'], write?: VirtualFile['write'], perm?: number): VirtualFile =>
  ({ kind: 'file', read, ...(write ? { write } : {}), ...(perm !== undefined ? { perm } : {}) });
export const dir = (entries: Record<string, VirtualNode>, perm?: number): VirtualDir =>
  ({ kind: 'dir', entries, ...(perm !== undefined ? { perm } : {}) });

/** The FUSE root's node id is fixed by the protocol. */
export const ROOT_INODE = 1n;

export interface Inode {
  ino: bigint;
  parent: bigint;
  node: VirtualNode;
  /** Children by name, for directories; in declaration order. */
  children?: Map<string, bigint>;
}

/**
 * What the dispatcher needs from a tree: lookups by inode number. A module named to the session
 * exports `createTree(config)` returning one of these (see worker.ts).
 */
export interface FileTree {
  get(ino: bigint): Inode | undefined;
  lookup(parent: bigint, name: string): Inode | undefined;
  /** Total inodes, reported by STATFS. */
  readonly size: number;
  /**
   * Host uid/gid every node shows to this caller (default root). Per caller, so use a zero attr
   * timeout: the kernel caches attributes per inode, not per reader.
   */
  owner?(caller: Caller): { uid: number; gid: number };
}

export class StaticTree implements FileTree {
  private readonly inodes = new Map<bigint, Inode>();

  constructor(root: VirtualDir) {
    this.add(root, ROOT_INODE);
  }

  get size(): number {
    return this.inodes.size;
  }

  get(ino: bigint): Inode | undefined {
    return this.inodes.get(ino);
  }

  lookup(parent: bigint, name: string): Inode | undefined {
    const child = this.inodes.get(parent)?.children?.get(name);
    return child === undefined ? undefined : this.inodes.get(child);
  }

  private add(node: VirtualNode, parent: bigint): bigint {
    const ino = BigInt(this.inodes.size + 1);
    const inode: Inode = { ino, parent, node };
    this.inodes.set(ino, inode);
    if (node.kind === 'dir') {
      inode.children = new Map();
      for (const [name, child] of Object.entries(node.entries)) {
        if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new Error(`invalid virtual file name ${JSON.stringify(name)}`);
        inode.children.set(name, this.add(child, ino));
      }
    }
    return ino;
  }
}
