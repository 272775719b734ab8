// Container records on disk, one JSON file each under <data-root>/mgr/containers. Written
// atomically (temp file + rename) so a kill -9 never leaves a half record behind.
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerConfig } from '@sysbox/common/container-config';
import type { ChownedRootfs } from './rootfs-chown.js';

export interface ContainerRecord {
  id: string;
  bundle: string;
  /** Per-container dir under /run/sysbox (rewritten bundle, mount points). */
  runDir: string;
  uid: number;
  gid: number;
  size: number;
  /** True when the range came from our pool (false for mappings the spec carried). */
  allocated: boolean;
  /** The container whose network (and so user) namespace this one joined, and whose ids it shares. */
  sharesIdsWith?: string;
  state: 'registered' | 'running' | 'paused';
  rootfs: string;
  /** Mount points we created, in creation order; released in reverse. */
  mounts: string[];
  /** Host dirs backing special paths (/var/lib/docker ...), with those paths; removed on release. */
  specialDirs: { dest: string; hostDir: string }[];
  /** User-given sources bound at special paths (e.g. a volume at /var/lib/docker): exclusive. */
  exclusiveSources: string[];
  /** The container's init and its start time (clock ticks since boot), 0 until created. */
  initPid: number;
  initStartTime: number;
  /** Docker's overlay we replaced (put back on release) and its mount options. */
  replacedRootfs: string;
  replacedOptions: string;
  /** With --disable-inner-image-preload: the dir (of the manager's rootfs) whose removal ends the life of the special dirs kept across stops. */
  keepFor?: string;
  /** Its special dirs are the ones kept at its last stop. */
  reusesKept?: boolean;
  /** A rootfs shifted with chown instead of ID-mapped layers (recorded before the chown starts). */
  chowned?: ChownedRootfs;
  /** The process serving the rootfs view at replacedRootfs (rootfs-view/), if one was started. */
  rootfsView?: { pid: number; startTime: number };
  /** Effective config (flags + SYSBOX_* overrides); absent in records written before it existed. */
  config?: ContainerConfig;
}

export class StateStore {
  readonly dir: string;

  constructor(dataRoot: string) {
    this.dir = path.join(dataRoot, 'mgr', 'containers');
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private file(id: string): string { return path.join(this.dir, `${id}.json`); }

  save(rec: ContainerRecord): void {
    const tmp = `${this.file(rec.id)}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify(rec, null, 1));
    } catch (err) {
      // A full disk leaves a truncated temp file: never a half record, and nothing left behind.
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    fs.renameSync(tmp, this.file(rec.id));
  }

  remove(id: string): void {
    fs.rmSync(this.file(id), { force: true });
  }

  loadAll(): ContainerRecord[] {
    const out: ContainerRecord[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      if (name.endsWith('.tmp')) {
        fs.rmSync(path.join(this.dir, name), { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      out.push(JSON.parse(fs.readFileSync(path.join(this.dir, name), 'utf8')) as ContainerRecord);
    }
    return out;
  }
}
