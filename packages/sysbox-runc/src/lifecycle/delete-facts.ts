// What the launcher needs to delete a stopped container without its executor (launcher/sysbox-runc.sh,
// delete_fast): runc 1.1's (and crun 1.8's) delete of a stopped container that has its own pid
// namespace, no poststop hooks, no Intel RDT group, cgroups the executor made itself with the
// cgroupfs driver, is rmdir of each cgroup path and removal of its state dir, and nothing else.
// Which containers qualify, and their cgroup paths, are in the executor's state: runc's state.json,
// 40 KB on one line, too slow for the shell's `read` and pattern matching (a byte at a time,
// quadratic); crun's `status` and spec copy, plus the init's /proc/PID/cgroup. So create reads them
// once, right after the executor's create, and writes the few lines the launcher needs beside
// them, in the executor's own state dir, which its delete (or the launcher's) removes with
// everything else. The launcher's `kill` uses the first lines too (the init's identity and freezer
// cgroup).
import fs from 'node:fs';
import path from 'node:path';
import { cgroupHierarchies, parseProcCgroup } from '@sysbox/common/cgroup';
import { parseMountInfo } from '@sysbox/common/mountinfo';
import { executorLayout, stateDirOf } from '../executor-layout.js';

/** The file beside the executor's state (runc's state.json, crun's status). */
export const DELETE_FACTS_FILE = 'sysbox-delete';

/** Line 1 the init's pid, line 2 its start time (ticks since boot, as in /proc/PID/stat), line 3 the
 * freezer cgroup path (v1; on a v2 host the unified path, whose cgroup.freeze says paused), then one
 * cgroup path per line. */
export interface DeleteFacts {
  initPid: number;
  initStart: string;
  freezer: string;
  cgroupPaths: string[];
}

interface RuncState {
  init_process_pid?: unknown;
  init_process_start?: unknown;
  cgroup_paths?: unknown;
  intel_rdt_path?: unknown;
  rootless?: unknown;
  config?: {
    namespaces?: unknown;
    cgroups?: { Paths?: unknown; Systemd?: unknown; Rootless?: unknown } | null;
    Hooks?: unknown;
    intel_rdt?: unknown;
    rootless_euid?: unknown;
    rootless_cgroups?: unknown;
  };
}

function plainPath(p: unknown): p is string {
  return typeof p === 'string' && p.startsWith('/') && !p.includes('\n') && !p.split('/').includes('..');
}

function empty(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

/**
 * The facts for a container whose delete, once stopped, is exactly rmdir of its cgroups and removal
 * of its state dir; undefined for any other (runc then deletes it, as before).
 */
export function deleteFactsOf(state: RuncState): DeleteFacts | undefined {
  const { init_process_pid: pid, init_process_start: start, cgroup_paths: paths, config } = state;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
  const startText = typeof start === 'number' ? String(start) : start;
  if (typeof startText !== 'string' || !/^[0-9]+$/.test(startText)) return undefined;
  if (!config || !Array.isArray(config.namespaces)) return undefined;
  // runc kills every process of the cgroups first when the pid namespace is shared (or joined).
  const pidNs = (config.namespaces as { type?: unknown; path?: unknown }[]).find((n) => n?.type === 'NEWPID');
  if (!pidNs || !empty(pidNs.path)) return undefined;
  // Hooks: runc's config keeps them by name; any poststop hook is runc's to run.
  const hooks = config.Hooks as { poststop?: unknown } | null | undefined;
  if (hooks && !empty(hooks.poststop)) return undefined;
  if (!empty(config.intel_rdt) || !empty(state.intel_rdt_path)) return undefined;
  if (!empty(state.rootless) || !empty(config.rootless_euid) || !empty(config.rootless_cgroups)) return undefined;
  // Paths given in the config are cgroups runc did not make and does not remove; systemd's driver
  // also stops a unit.
  const cg = config.cgroups;
  if (!cg || !empty(cg.Paths) || !empty(cg.Systemd) || !empty(cg.Rootless)) return undefined;
  if (!paths || typeof paths !== 'object') return undefined;
  const byController = paths as Record<string, unknown>;
  const values = Object.values(byController);
  if (values.length === 0 || !values.every(plainPath)) return undefined;
  const cgroupPaths = [...new Set(values as string[])];
  const freezer = byController.freezer ?? byController[''];
  if (!plainPath(freezer)) return undefined;
  return { initPid: pid, initStart: startText, freezer, cgroupPaths };
}

export function renderDeleteFacts(f: DeleteFacts): string {
  return [String(f.initPid), f.initStart, f.freezer, ...f.cgroupPaths].join('\n') + '\n';
}

/** crun 1.8's `status` file in its state dir (the fields read here). */
interface CrunStatus {
  pid?: unknown;
  'process-start-time'?: unknown;
  'cgroup-path'?: unknown;
  'systemd-cgroup'?: unknown;
  scope?: unknown;
}

/** The OCI spec crun keeps in its state dir (config.json), the fields its delete acts on. */
interface CrunSpec {
  hooks?: { poststop?: unknown } | null;
  linux?: { namespaces?: unknown; intelRdt?: unknown } | null;
}

/**
 * crun's counterpart of deleteFactsOf. `hierarchies`: each cgroup hierarchy of the init (from its
 * /proc/PID/cgroup, whose every line must name the cgroup crun made: cgroupLines) with its host dir.
 */
export function crunDeleteFactsOf(status: CrunStatus, spec: CrunSpec, cgroupLines: { controllers: string[]; path: string }[],
  hierarchies: { controllers: string[]; dir: string }[]): DeleteFacts | undefined {
  const { pid, 'process-start-time': start, 'cgroup-path': cgroupPath } = status;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
  if (typeof start !== 'number' || !Number.isInteger(start) || start < 0) return undefined;
  if (!empty(status['systemd-cgroup']) || !empty(status.scope)) return undefined;
  if (!plainPath(cgroupPath) || cgroupPath === '/') return undefined;
  const namespaces = spec.linux?.namespaces;
  if (!Array.isArray(namespaces)) return undefined;
  const pidNs = (namespaces as { type?: unknown; path?: unknown }[]).find((n) => n?.type === 'pid');
  if (!pidNs || !empty(pidNs.path)) return undefined;
  if (spec.hooks && !empty(spec.hooks.poststop)) return undefined;
  if (!empty(spec.linux?.intelRdt)) return undefined;
  // Every hierarchy in crun's cgroup, each mounted here: crun removes them all.
  if (cgroupLines.length === 0 || !cgroupLines.every((l) => l.path === cgroupPath)) return undefined;
  if (hierarchies.length !== cgroupLines.length || !hierarchies.every((h) => plainPath(h.dir))) return undefined;
  const freezer = hierarchies.find((h) => h.controllers.includes('freezer')) ?? hierarchies.find((h) => h.controllers.length === 0);
  if (!freezer) return undefined;
  return { initPid: pid, initStart: String(start), freezer: freezer.dir, cgroupPaths: [...new Set(hierarchies.map((h) => h.dir))] };
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

function factsFor(kind: 'runc' | 'crun', dir: string): DeleteFacts | undefined {
  if (kind === 'runc') return deleteFactsOf(readJson<RuncState>(path.join(dir, 'state.json')));
  const status = readJson<CrunStatus>(path.join(dir, 'status'));
  if (typeof status.pid !== 'number') return undefined;
  const procCgroup = fs.readFileSync(`/proc/${status.pid}/cgroup`, 'utf8');
  const mounts = parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  return crunDeleteFactsOf(status, readJson<CrunSpec>(path.join(dir, 'config.json')), parseProcCgroup(procCgroup), cgroupHierarchies(procCgroup, mounts));
}

/**
 * Writes the facts beside the state of container id that `executor` (runc or crun, executorLayout)
 * keeps under root (its --root, else its default), if it qualifies; never fails the create: without
 * the file the launcher leaves the delete to the executor.
 */
export function recordDeleteFacts(executor: string, root: string | undefined, id: string): boolean {
  const layout = executorLayout(executor);
  const dir = stateDirOf(executor, root, id);
  if (!layout || !dir) return false;
  try {
    const facts = factsFor(layout.kind, dir);
    if (!facts) return false;
    fs.writeFileSync(path.join(dir, DELETE_FACTS_FILE), renderDeleteFacts(facts), { mode: 0o600 });
    return true;
  } catch {
    return false;
  }
}
