// What the seccomp worker thread gets, and what it tells the daemon.
import type { TrapPolicy } from '../flags.js';

export interface SeccompWorkerConfig {
  listenFd: number;
  /** Notify fds taken back from the fd keeper after a restart, by keeper name. */
  notifyFds: Array<[string, number]>;
  mountpoint: string;
  stateDir: string;
  virtualPaths: string[];
  traps: TrapPolicy;
  /** Int32 cell: non-zero asks the worker to stop. */
  stop: SharedArrayBuffer;
}

export type SeccompWorkerMessage =
  | { type: 'ready' }
  | { type: 'keep'; name: string; fd: number }
  /** The worker is done with fd: the daemon closes it once the keeper has let go of its copy. */
  | { type: 'released'; name: string; fd: number }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string };
