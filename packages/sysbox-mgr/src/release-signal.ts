// How sysbox-runc's launcher learns, without polling, that a container's release is over: a fifo in
// the run dir whose only long-lived write end sysbox-mgr holds from Created (when it starts watching
// the init) to the end of the release. The launcher (shell builtins only) opens it for reading and
// blocks in `read` until that end is closed (EOF), then looks whether the run dir is gone. sysbox-mgr
// dying closes the end too: the launcher then finds the dir and releases through Node, as before.
//
// The run dir leaves its name by a rename before anything in it is unlinked: the launcher opens the
// fifo with `<>` (no blocking open when no writer is left), which would create a plain file if the
// fifo were unlinked while its dir still had the name.
import fs from 'node:fs';
import path from 'node:path';
import * as native from '@sysbox/native';

/** The fifo's name in the run dir (packages/sysbox-runc/launcher/sysbox-runc.sh reads it too). */
export const RELEASE_FIFO = 'released';

/** Write ends held, by run dir. */
const held = new Map<string, number>();

/** Creates the run dir's fifo if needed and holds its write end (again after a restart). */
export function holdReleaseSignal(runDir: string): void {
  if (held.has(runDir)) return;
  const fifo = path.join(runDir, RELEASE_FIFO);
  try {
    native.mkfifo(fifo, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // O_RDWR: never blocks on a fifo, and keeps it open with no reader. Node opens with O_CLOEXEC, so
  // no child (umount, tar, a rootfs view) carries the end on past the release.
  held.set(runDir, fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK));
}

/** Wakes whoever waits on the fifo: at the end of a release, or when it failed (they then look for themselves). */
export function endReleaseSignal(runDir: string): void {
  const fd = held.get(runDir);
  held.delete(runDir);
  if (fd !== undefined) fs.closeSync(fd);
}

/**
 * Removes the run dir, first taking its name away in one step (the launcher's sign that the release
 * is done), then wakes the waiters. A name no container id can have (runc's ids have no ':').
 */
export function removeRunDir(runDir: string): void {
  const gone = `${runDir}:released`;
  try {
    fs.renameSync(runDir, gone);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      endReleaseSignal(runDir);
      return;
    }
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    // A leftover of a crash between the rename and the removal.
    fs.rmSync(gone, { recursive: true, force: true });
    fs.renameSync(runDir, gone);
  }
  endReleaseSignal(runDir);
  fs.rmSync(gone, { recursive: true, force: true });
}
