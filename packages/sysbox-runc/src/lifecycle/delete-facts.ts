// What the launcher needs to delete a stopped container without runc (launcher/sysbox-runc.sh,
// delete_fast): runc 1.1's delete of a stopped container that has its own pid namespace, no
// poststop hooks, no Intel RDT group, cgroups runc made itself with the cgroupfs driver, is rmdir
// of each cgroup path and removal of its state dir, and nothing else. Which containers qualify, and
// their cgroup paths, are in runc's state.json, 40 KB on one line: too slow for the shell's `read`
// and pattern matching (a byte at a time, quadratic), so create reads it once, right after `runc
// create`, and writes the few lines the launcher needs beside it, in runc's own state dir, which
// runc's delete (or the launcher's) removes with everything else. The launcher's `kill` uses the
// first lines too (the init's identity and freezer cgroup).
import fs from 'node:fs';
import path from 'node:path';

/** The file beside state.json. */
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

/**
 * Writes the facts beside runc's state.json of container id (under runc's --root), if it qualifies;
 * never fails the create: without the file the launcher leaves the delete to runc.
 */
export function recordDeleteFacts(runcRoot: string, id: string): boolean {
  try {
    const dir = path.join(runcRoot, id);
    const facts = deleteFactsOf(JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as RuncState);
    if (!facts) return false;
    fs.writeFileSync(path.join(dir, DELETE_FACTS_FILE), renderDeleteFacts(facts), { mode: 0o600 });
    return true;
  } catch {
    return false;
  }
}
