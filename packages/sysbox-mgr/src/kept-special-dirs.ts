// Inner data (an inner Docker's images ...) kept across a stop when --disable-inner-image-preload
// turns off its archiving into the rootfs: as in the original, a stopped container started again
// finds its inner images, and they go only when the container is removed. The host dirs stay
// where they are; a small record per container says which, and for which rootfs. Docker deletes
// the rootfs's dir on `docker rm` (not on stop: it only unmounts the overlay and removes the
// `merged` mount point): a watch on that dir (and a check at start-up, for removals while
// sysbox-mgr was down) then removes the kept dirs.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '@sysbox/common/daemon/logger';
import { shiftTreeIds } from './chown-shift.js';

export interface KeptDirs {
  id: string;
  /** The dir its manager removes with the container (Docker's layer dir, parent of `merged`). */
  until: string;
  uid: number;
  gid: number;
  size: number;
  dirs: { dest: string; hostDir: string }[];
}

export class KeptSpecialDirs {
  private readonly watches = new Map<string, fs.FSWatcher>();

  constructor(private readonly dir: string, private readonly log: Logger) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.json'))) {
      try {
        this.watchOrDiscard(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as KeptDirs);
      } catch (err) {
        log.warn(`unreadable record ${f} of kept inner data: ${(err as Error).message}`);
      }
    }
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  keep(k: KeptDirs): void {
    fs.writeFileSync(`${this.file(k.id)}.tmp`, JSON.stringify(k));
    fs.renameSync(`${this.file(k.id)}.tmp`, this.file(k.id));
    this.watchOrDiscard(k);
  }

  /**
   * The kept dirs of a container starting again, owners moved to its (maybe new) id range; the
   * record is dropped: from now on the container holds them. Undefined if nothing was kept.
   */
  take(id: string, uid: number, gid: number, size: number): KeptDirs | undefined {
    let k: KeptDirs;
    try {
      k = JSON.parse(fs.readFileSync(this.file(id), 'utf8')) as KeptDirs;
    } catch {
      return undefined;
    }
    this.unwatch(id);
    fs.rmSync(this.file(id), { force: true });
    const dirs = k.dirs.filter((d) => fs.existsSync(d.hostDir));
    if (k.uid !== uid || k.gid !== gid) {
      for (const d of dirs) {
        shiftTreeIds(d.hostDir, { uid: k.uid, gid: k.gid, size: k.size }, false);
        shiftTreeIds(d.hostDir, { uid, gid, size }, true);
      }
    }
    return { ...k, uid, gid, size, dirs };
  }

  private watchOrDiscard(k: KeptDirs): void {
    const check = (): void => {
      if (!fs.existsSync(k.until)) this.discard(k);
    };
    try {
      const w = fs.watch(k.until, { persistent: false }, check);
      w.on('error', check);
      this.watches.set(k.id, w);
    } catch {
      // gone already
    }
    check();
  }

  private unwatch(id: string): void {
    this.watches.get(id)?.close();
    this.watches.delete(id);
  }

  private discard(k: KeptDirs): void {
    this.unwatch(k.id);
    for (const d of k.dirs) fs.rmSync(d.hostDir, { recursive: true, force: true });
    fs.rmSync(this.file(k.id), { force: true });
    this.log.info(`container ${k.id}: removed; its kept inner data (${k.dirs.map((d) => d.dest).join(', ')}) deleted`);
  }
}
