// Container records on disk, one JSON file each under <data-root>/mgr/containers, written whole
// (writeWholeFile: never a half record after a kill -9, and no rename over the old record, which
// ext4 makes write the data out first; a create saves its record ~10 times, half of them on
// Register's and Created's path). A kill -9 between the unlink and the rename leaves only the
// complete temp file: loadAll takes it (readWholeFile).
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerConfig } from '@sysbox/common/container-config';
import { readWholeFile, TEMP_SUFFIX, writeWholeFile } from '@sysbox/common/daemon/whole-file';
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
    writeWholeFile(this.file(rec.id), JSON.stringify(rec, null, 1));
  }

  remove(id: string): void {
    fs.rmSync(this.file(id), { force: true });
  }

  loadAll(): ContainerRecord[] {
    const out: ContainerRecord[] = [];
    const names = new Set(fs.readdirSync(this.dir).map((n) => (n.endsWith(TEMP_SUFFIX) ? n.slice(0, -TEMP_SUFFIX.length) : n)));
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const file = path.join(this.dir, name);
      // A lone temp file is either the last save, cut between the unlink and the rename (whole:
      // taken), or a first save cut while writing (no closing brace, and there was no record yet).
      // Beside its record it is a save cut short: the record before it stands.
      const text = readWholeFile(file, isWholeRecord);
      fs.rmSync(`${file}${TEMP_SUFFIX}`, { force: true });
      if (text !== undefined) out.push(JSON.parse(text) as ContainerRecord);
    }
    return out;
  }
}

function isWholeRecord(text: string): boolean {
  try {
    return typeof (JSON.parse(text) as Partial<ContainerRecord>).id === 'string';
  } catch {
    return false;
  }
}
