// Connection to sysbox-mgr, loaded only by the commands that need it (http2 costs ~15 ms to load).
import { GrpcError, GrpcStatus, mgrClient, type MgrClient } from '@sysbox/common';

export class MgrUnavailableError extends Error {}

export function connectMgr(socket: string): MgrClient {
  return mgrClient(socket);
}

/** Turns "socket missing / refused" into an error a person can act on. */
export function explainMgrError(err: unknown, socket: string): Error {
  if (err instanceof GrpcError && err.code === GrpcStatus.UNAVAILABLE) {
    return new MgrUnavailableError(`sysbox-mgr is not running (cannot reach ${socket}: ${err.details}); start it with "systemctl start sysbox" or "sysbox-mgr &"`);
  }
  if (err instanceof GrpcError) return new Error(`sysbox-mgr: ${err.details}`);
  return err as Error;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof GrpcError && err.code === GrpcStatus.NOT_FOUND;
}
