// Typed sysbox-mgr client for sysbox-runc.
import { makeClient } from './grpc-lite/client.js';
import { schemas, SysboxMgrMethods, type SysboxMgrApi } from './generated/sysboxmgr.js';

export type MgrClient = SysboxMgrApi & { close(): void };

export function mgrClient(socketPath: string): MgrClient {
  return makeClient<SysboxMgrApi>(socketPath, schemas, SysboxMgrMethods);
}
