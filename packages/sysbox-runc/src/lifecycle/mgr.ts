// Connection to sysbox-mgr, loaded only by the commands that need it (http2 costs ~15 ms to load).
import { GrpcError, GrpcStatus, mgrClient, type MgrClient } from '@sysbox/common';

export { ARCHIVE_WAIT_MS } from '@sysbox/common';

export class MgrUnavailableError extends Error {}

export function connectMgr(socket: string, timeoutMs?: number): MgrClient {
  return mgrClient(socket, timeoutMs);
}

/**
 * Turns "socket missing / refused" into an error a person can act on, naming the daemon (sysbox-mgr
 * or sysbox-fs) and how to start it.
 */
export function explainDaemonError(daemon: 'sysbox-mgr' | 'sysbox-fs', err: unknown, socket: string): Error {
  if (err instanceof GrpcError && err.code === GrpcStatus.UNAVAILABLE && err.lostMidCall) {
    return new MgrUnavailableError(`${daemon} stopped before answering (${socket}: ${err.details}): it died or was stopped while handling the request; once it runs again ("systemctl start sysbox"), retry, or remove the container to release what it holds`);
  }
  if (err instanceof GrpcError && err.code === GrpcStatus.UNAVAILABLE) {
    return new MgrUnavailableError(`${daemon} is not running (cannot reach ${socket}: ${err.details}); start it with "systemctl start sysbox" or "${daemon} &"`);
  }
  if (err instanceof GrpcError) return new Error(`${daemon}: ${err.details}`);
  return err as Error;
}

export const explainMgrError = (err: unknown, socket: string): Error => explainDaemonError('sysbox-mgr', err, socket);

/** Attempts of an idempotent call whose daemon keeps dropping it (a dying one accepts, then resets). */
const LOST_CALL_ATTEMPTS = 5;

/**
 * For idempotent calls (Created, Unregister): sent again when the daemon died while handling it.
 * The client waits for a restarting daemon to be back (RESTART_WAIT_MS), so a crash-and-restart in
 * the middle of `docker run` or `docker rm` does not fail it (a failed runtime delete would make
 * containerd leave the container's shim behind).
 */
export async function againIfLost<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof GrpcError && err.lostMidCall) || attempt >= LOST_CALL_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof GrpcError && err.code === GrpcStatus.NOT_FOUND;
}
