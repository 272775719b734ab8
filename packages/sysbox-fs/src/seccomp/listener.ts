// The daemon's side of mount trapping: owns the OCI seccomp listener socket and the worker thread
// that serves it, and hands every notify fd to the fd keeper, so a restarted sysbox-fs keeps
// answering containers' mounts (an unanswered filter's syscalls would fail with ENOSYS).
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import * as native from '@sysbox/native';
import type { Logger } from '@sysbox/common/daemon/logger';
import { pauseAt } from '@sysbox/common/test-pause';
import type { Keeper } from '../daemon/keeper-client.js';
import type { TrapPolicy } from '../flags.js';
import type { SeccompWorkerConfig, SeccompWorkerMessage } from './worker-config.js';

export interface ListenerOptions {
  socket: string;
  workerScript: string;
  mountpoint: string;
  stateDir: string;
  virtualPaths: string[];
  kept: Map<string, number>;
  keeper: Keeper;
  log: Logger;
  traps: TrapPolicy;
}

export class SeccompListener {
  private constructor(private readonly stopCell: Int32Array, private readonly socket: string) {}

  static async start(o: ListenerOptions): Promise<SeccompListener> {
    const listenFd = native.unixListen(o.socket);
    const stop = new SharedArrayBuffer(4);
    const cfg: SeccompWorkerConfig = { listenFd, notifyFds: [...o.kept], mountpoint: o.mountpoint, stateDir: o.stateDir, virtualPaths: o.virtualPaths, traps: o.traps, stop };
    const worker = new Worker(o.workerScript, { workerData: cfg });
    // Per fd name, the keeper's take still under way: a release waits for it, then drops and closes.
    const taking = new Map<string, Promise<void>>();
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: SeccompWorkerMessage) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'keep') {
          // During runc create: runc has handed over the container's notify fd.
          pauseAt('fs-seccomp-keep');
          taking.set(m.name, o.keeper.keep(m.name, m.fd).catch((e: Error) => { o.log.warn(e.message); }));
        } else if (m.type === 'released') {
          const taken = taking.get(m.name) ?? Promise.resolve();
          taking.delete(m.name);
          void taken.then(() => o.keeper.drop(m.name)).catch(() => {}).finally(() => fs.closeSync(m.fd));
        } else o.log.log(m.level, m.message);
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`seccomp worker exited (${code})`)));
    });
    worker.unref();
    return new SeccompListener(new Int32Array(stop), o.socket);
  }

  stop(): void {
    Atomics.store(this.stopCell, 0, 1);
    fs.rmSync(this.socket, { force: true });
  }
}
