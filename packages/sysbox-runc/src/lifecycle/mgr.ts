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
  if (err instanceof GrpcError && err.code === GrpcStatus.UNAVAILABLE) {
    return new MgrUnavailableError(`${daemon} is not running (cannot reach ${socket}: ${err.details}); start it with "systemctl start sysbox" or "${daemon} &"`);
  }
  if (err instanceof GrpcError) return new Error(`${daemon}: ${err.details}`);
  return err as Error;
}

export const explainMgrError = (err: unknown, socket: string): Error => explainDaemonError('sysbox-mgr', err, socket);

export function isNotFound(err: unknown): boolean {
  return err instanceof GrpcError && err.code === GrpcStatus.NOT_FOUND;
}
