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
   * After answering, one worker at a time (the holder of this Int32 token) keeps checking for the
   * next request for spinMicros before sleeping: clients send OPEN, READ, READ, RELEASE back to
   * back, and catching them awake saves a thread wake-up each. 0 disables spinning.
   */
  spinToken: SharedArrayBuffer;
  spinMicros: number;
  /** One byte per inode (modulo its length): its size may have been shrunk by a page-cache READ. */
  shrunkInodes: SharedArrayBuffer;
}

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
