// The fd keeper owns the FUSE io_uring rings (fuse-uring.cc). If it dies while sysbox-fs lives, the
// rings die with it, and every request after that waits in its CPU's queue in the kernel: /proc
// reads in every container would hang. So sysbox-fs then owns the rings itself (new holder threads
// on the same arena; the kernel finds requests already handed out by their commit ids), and sends
// one request through each CPU's queue: requests queued meanwhile move on only when a request on
// that queue is answered (fuse-uring-probe restart).
import { spawnSync } from 'node:child_process';
import type { Logger } from '@sysbox/common/daemon/logger';
import * as native from '@sysbox/native';

export function holdRingsIfKeeperDies(opts: { keeperPid: number; fuseFd: number; arenaFd: number; mountpoint: string; log: Logger; quitting: () => boolean }): void {
  native.watchExit(opts.keeperPid, () => {
    if (opts.quitting()) return;
    opts.log.error(`the fd keeper (pid ${opts.keeperPid}) died: sysbox-fs holds the FUSE io_uring rings itself from now on (a kill -9 of sysbox-fs now fails reads in flight, and a restart of it loses the connection)`);
    try {
      const arena = native.uringArena(opts.arenaFd);
      // A page record set the keeper's holder died holding (kept-open.cc), before our holders start.
      native.uringKeptRepair(arena.base, true);
      native.uringHold(opts.fuseFd, arena.base);
      for (let cpu = 0; cpu < arena.queues; cpu++) {
        spawnSync('taskset', ['-c', String(cpu), 'ls', '-f', opts.mountpoint], { stdio: 'ignore', timeout: 2000 });
      }
    } catch (e) {
      opts.log.error(`taking over the FUSE io_uring rings: ${(e as Error).message}`);
    }
  });
}
