// Follows each container's init process: when it exits, the container is over and everything the
// manager holds for it can go. The start time guards against a recycled pid after a restart.
import { processStartTime } from '@sysbox/common/proc';
import * as native from '@sysbox/native';

/** True when pid still names the process that had this start time. */
export function isSameProcessAlive(pid: number, startTime: number): boolean {
  return pid > 0 && processStartTime(pid) === startTime;
}

/** Calls onExit once the process exits; at once (on the next tick) if it is already gone. */
export function watchInit(pid: number, startTime: number, onExit: () => void): void {
  if (!isSameProcessAlive(pid, startTime)) {
    setImmediate(onExit);
    return;
  }
  try {
    native.watchExit(pid, onExit);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    setImmediate(onExit);
  }
}

/**
 * Resolves once the process has exited, or after boundMs. A pidfd, not polls: the rootfs view's
 * exit sits on the path of `docker stop` (it holds the shifted rootfs until then).
 */
export function exitOf(pid: number, boundMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, boundMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    try {
      native.watchExit(pid, done);
    } catch {
      done();
    }
  });
}
