// Typed sysbox-fs client for sysbox-runc.
import { makeClient } from './grpc-lite/client.js';
import { schemas, SysboxFsMethods, type SysboxFsApi } from './generated/sysboxfs.js';

export type FsClient = SysboxFsApi & { close(): void };

export function fsClient(socketPath: string): FsClient {
  return makeClient<SysboxFsApi>(socketPath, schemas, SysboxFsMethods);
}
