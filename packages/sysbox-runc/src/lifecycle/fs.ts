// Connection to sysbox-fs, loaded only by the commands that need it.
import { fsClient, type FsClient } from '@sysbox/common';
import { explainDaemonError } from './mgr.js';

export function connectFs(socket: string): FsClient {
  return fsClient(socket);
}

export const explainFsError = (err: unknown, socket: string): Error => explainDaemonError('sysbox-fs', err, socket);
