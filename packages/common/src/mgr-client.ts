// Typed sysbox-mgr client for sysbox-runc.
import { makeClient } from './grpc-lite/client.js';
import { schemas, SysboxMgrMethods, type SysboxMgrApi } from './generated/sysboxmgr.js';

export type MgrClient = SysboxMgrApi & { close(): void };

/**
 * How long a Pause or an Unregister may take: sysbox-mgr answers them once a container's inner
 * data (an inner Docker's images: GBs) is archived into its rootfs, at disk speed.
 */
export const ARCHIVE_WAIT_MS = 300_000;

/** timeoutMs: how long a call may go without an answer (30 s by default). */
export function mgrClient(socketPath: string, timeoutMs?: number): MgrClient {
  return makeClient<SysboxMgrApi>(socketPath, schemas, SysboxMgrMethods, timeoutMs);
}
