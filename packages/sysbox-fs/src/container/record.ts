// What sysbox-fs keeps per registered container, on disk (one JSON file each, so a restarted
// daemon and every worker thread read the same truth), and the shared counter that tells worker
// threads the set changed.
import fs from 'node:fs';
import path from 'node:path';
import type { InitialMount } from '../seccomp/mount-policy.js';

export interface ContainerRecord {
  id: string;
  /** Host ids of the container's root (files it owns inside show as root). */
  uid: number;
  gid: number;
  size: number;
  /** 0 until Register (pre-registered only). */
  initPid: number;
  /** Start time of init in clock ticks since boot: with initPid, tells a recycled pid apart. */
  initStart: number;
  /** "pid:[inode]" of the container's pid namespace ("" before Register). */
  pidns: string;
  /** The container's slot: its load-average entry, and its copy of the tree (<mount>/<slot>/). */
  slot: number;
  /** Per-container DMI product UUID. */
  uuid: string;
  /** The container's mounts as runc left them (Register): immutable from inside (mount-policy.ts). */
  initialMounts?: InitialMount[];
  /** SYSBOX_IGNORE_SYSFS_CHOWN: chown of /sys succeeds without effect (seccomp/chown.ts). */
  ignoreSysfsChown?: boolean;
  /** SYSBOX_ALLOW_TRUSTED_XATTR: trusted.overlay.opaque done at host level (seccomp/xattr.ts). */
  allowTrustedXattr?: boolean;
  /** A read-only container: its virtual files were bound read-only (read-only-binds.ts). */
  readOnly?: boolean;
}

export function containersDir(stateDir: string): string {
  return path.join(stateDir, 'containers');
}

export function sysctlDir(stateDir: string, id: string): string {
  return path.join(stateDir, 'sysctl', id);
}

export function readRecords(stateDir: string): ContainerRecord[] {
  const dir = containersDir(stateDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: ContainerRecord[] = [];
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')) as ContainerRecord);
    } catch { /* half-written by a crash: the daemon rewrites or removes it on start */ }
  }
  return out;
}

/** One container's record (its own file), if it is there and whole. */
export function readRecord(stateDir: string, id: string): ContainerRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(containersDir(stateDir), `${id}.json`), 'utf8')) as ContainerRecord;
  } catch {
    return undefined;
  }
}

export function writeRecord(stateDir: string, rec: ContainerRecord): void {
  const dir = containersDir(stateDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${rec.id}.json`);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(rec));
  fs.renameSync(`${file}.tmp`, file);
}

export function removeRecord(stateDir: string, id: string): void {
  fs.rmSync(path.join(containersDir(stateDir), `${id}.json`), { force: true });
  fs.rmSync(sysctlDir(stateDir, id), { recursive: true, force: true });
}

/** A counter in shared memory; the daemon bumps it after every change to the records. */
export class Generation {
  private readonly cell: Int32Array;
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cell = new Int32Array(buffer);
  }
  get value(): number {
    return Atomics.load(this.cell, 0);
  }
  bump(): void {
    Atomics.add(this.cell, 0, 1);
  }
}

/** From /proc/PID/status text: the pid the process has in its own (innermost) pid namespace. */
export function innermostPid(statusText: string): number {
  const ns = /\nNSpid:([^\n]*)/.exec(statusText)?.[1].trim().split(/\s+/) ?? [];
  return Number(ns[ns.length - 1] ?? 0);
}

export function pidNamespace(pid: number | 'self'): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}
