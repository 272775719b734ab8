// What a session hands each worker (structured-cloned, so plain data: functions cannot cross
// threads, hence a module path plus config instead of a tree object), and the messages back.
import type { DispatchOptions } from './dispatch.js';
import type { FileTree } from '../tree.js';

export interface WorkerConfig {
  fd: number;
  bufferSize: number;
  /** Absolute path of a module exporting `createTree(config): FileTree`. */
  treeModule: string;
  /** Passed to createTree; anything structured-clone can copy (a SharedArrayBuffer is shared, not copied). */
  treeConfig: unknown;
  dispatch: DispatchOptions;
  /**
   * Which worker waits on /dev/fuse (see worker.ts): only the leader does; helpers step in while it
   * is stuck on one request. Int32 slots indexed by Control.
   */
  control: SharedArrayBuffer;
  /** After answering, the leader keeps checking for the next request for this long before sleeping. */
  spinMicros: number;
  /** Set per worker: the first one leads. */
  leader: boolean;
  /** FUSE over io_uring: this worker serves the ring queue of CPU uringQid (bound to that CPU). */
  uringQid?: number;
  /** Where the ring slots are mapped (native uringArena), with uringQid. */
  uringArena?: number;
  /** The arena is a predecessor's: serve again the slots it left SERVING. */
  uringAdopt?: boolean;
  /** How many workers the session runs. */
  workerCount: number;
  /** One byte per inode (modulo its length): its size may have been shrunk by a page-cache READ. */
  shrunkInodes: SharedArrayBuffer;
  /** What the kernel holds of page-cached files (kept-pages.ts), KEPT_PAGES_BYTES long. */
  keptPages: SharedArrayBuffer;
  /** The ring arena's base where it holds the short table instead (native uringKeptTable): every worker's. */
  keptInArena?: number;
  /** The same for files of long renderings (VirtualFile.longRendering), keptPagesBytes(LONG_TABLE) long. */
  keptLongPages: SharedArrayBuffer;
}

/**
 * The byte of shrunkInodes (size bytes) for inode ino. Inode numbers are 2^62 + slot·2^40 + a
 * 40-bit hash (slotted-tree.ts): Number() would round away their low bits and a plain modulo drop
 * the slot, so one file's inodes in every container would share a byte, and one container's OPEN
 * would clear the mark another's short READ set. The slot is folded into the hash's low bits.
 */
export function shrunkIndex(ino: bigint, size: number): number {
  return Number((ino ^ (ino >> 40n)) % BigInt(size));
}

/** Slots of WorkerConfig.control. */
export const Control = {
  /** 1 while the leader sleeps in poll (nothing to do); helpers then sleep without a timeout. */
  LeaderIdle: 0,
  /** 1 while the leader handles a request. */
  LeaderBusy: 1,
  /** 1 once the leader has exited: helpers exit too. */
  Stopped: 2,
  /** Counts the requests the leader has taken: unchanged over a helper's tick means it is stuck. */
  LeaderSeq: 3,
  /** Bumped by the main thread when it releases memory: each worker then runs a full GC of its own heap. */
  CollectSeq: 4,
  /** 1 while a worker writes a store with data (worker.ts growSize): at most one at a time. */
  Storing: 5,
} as const;
export const CONTROL_SLOTS = 6;

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'exit'; reason: string }
  | { type: 'error'; message: string };

export type CreateTree = (config: unknown) => FileTree;

export function loadTree(modulePath: string, config: unknown): FileTree {
  // require, not import(): the package compiles to CommonJS and the path is only known at run time.
  const mod = require(modulePath) as { createTree?: unknown };
  if (typeof mod.createTree !== 'function') throw new Error(`${modulePath} does not export createTree(config)`);
  return (mod.createTree as CreateTree)(config);
}
