// What every virtual-node handler gets: who is calling, the host's own files, and the shared
// per-container state. Handlers are pure functions of these, one file per node.
import fs from 'node:fs';
import type { CallerResolver } from '../container/caller.js';
import type { LoadTable } from '../container/load-table.js';

export interface NodeContext {
  callers: CallerResolver;
  load: LoadTable;
  stateDir: string;
  /** Reads a host file (sysbox-fs runs in the host's namespaces). */
  readHost(path: string): string;
}

export const readHostFile = (p: string): string => fs.readFileSync(p, 'utf8');

/** Clock ticks per second in /proc/PID/stat and /proc/stat (USER_HZ, 100 on every Linux ABI). */
export const USER_HZ = 100;
