// Tells whoever started the daemon that it now answers: one "Ready" log line (operators' scripts
// wait for it, as with the original Sysbox) and, under systemd (Type=notify), READY=1 on
// $NOTIFY_SOCKET, so `systemctl start sysbox` returns only once the gRPC socket answers.
import * as native from '@sysbox/native';
import type { Logger } from './logger.js';

/**
 * Takes $NOTIFY_SOCKET out of the environment: children the daemon starts (sysbox-fs's fd keeper)
 * must not inherit it, or they could speak for the unit. Call first thing in main().
 */
export function takeNotifySocket(): string | undefined {
  const socket = process.env.NOTIFY_SOCKET;
  delete process.env.NOTIFY_SOCKET;
  return socket || undefined;
}

export function announceReady(log: Logger, notifySocket: string | undefined, status: string): void {
  if (notifySocket) {
    try {
      native.sdNotify(notifySocket, `READY=1\nMAINPID=${process.pid}\nSTATUS=${status}`);
    } catch (err) {
      // systemd then times the start out and says so; the daemon itself is fine.
      log.warn(`could not notify systemd on ${notifySocket}: ${(err as Error).message}`);
    }
  }
  log.info('Ready');
}
