// Connection to sysbox-fs, loaded only by the commands that need it.
import { fsClient, GrpcError, GrpcStatus, type FsClient } from '@sysbox/common';

export function connectFs(socket: string): FsClient {
  return fsClient(socket);
}

/** Turns "socket missing / refused" into an error a person can act on. */
export function explainFsError(err: unknown, socket: string): Error {
  if (err instanceof GrpcError && err.code === GrpcStatus.UNAVAILABLE) {
    return new Error(`sysbox-fs is not running (cannot reach ${socket}: ${err.details}); start it with "systemctl start sysbox" or "sysbox-fs &"`);
  }
  if (err instanceof GrpcError) return new Error(`sysbox-fs: ${err.details}`);
  return err as Error;
}
