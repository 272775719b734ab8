export * from './paths.js';
export { GrpcError, GrpcStatus } from './grpc-lite/client.js';
export { ARCHIVE_WAIT_MS, mgrClient, type MgrClient } from './mgr-client.js';
export { fsClient, type FsClient } from './fs-client.js';
export type * from './generated/sysboxmgr.js';
