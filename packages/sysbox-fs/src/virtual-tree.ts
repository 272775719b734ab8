// The tree sysbox-fs serves, mirroring the host paths it stands in for: <mount>/<slot>/proc/uptime
// is bound over the /proc/uptime of the container in that slot, and so on (slotted-tree.ts). Every worker thread builds it from the same
// config; nodes whose host file is absent (no DMI, no conntrack module, no sysrq) are left out, so
// the shape depends only on the host and is the same in every thread.
import fs from 'node:fs';
import * as native from '@sysbox/native';
import { CallerResolver } from './container/caller.js';
import { EmulatedValues } from './container/emulated-values.js';
import { LOAD_SLOTS, LoadTable } from './container/load-table.js';
import { Generation } from './container/record.js';
import { dropKeptCgroupFiles } from './container/cgroup.js';
import { readHostFile, type NodeContext } from './nodes/context.js';
import { cpuinfo } from './nodes/proc/cpuinfo.js';
import { diskstats } from './nodes/proc/diskstats.js';
import { loadavg } from './nodes/proc/loadavg.js';
import { meminfo } from './nodes/proc/meminfo.js';
import { stat } from './nodes/proc/stat.js';
import { swaps } from './nodes/proc/swaps.js';
import { emulatedSetting } from './nodes/proc/sys/emulated-setting.js';
import { hostPassthrough, withoutEntries } from './nodes/host-passthrough.js';
import { neighDevices } from './nodes/proc/sys/neigh.js';
import { EMULATED_MODULE_PARAMS, EMULATED_SYSCTLS } from './nodes/proc/sys/settings.js';
import { uptime } from './nodes/proc/uptime.js';
import { productUuid } from './nodes/sys/product-uuid.js';
import { COVERED, HIDDEN, NEIGH, VIRTUAL_DIRS, type CoveredDir } from './mount-layout.js';
import { SlottedTree } from './slotted-tree.js';
import { StaticTree, dir, file, type FileTree, type PassthroughSource, type VirtualDir, type VirtualFile, type VirtualNode } from './tree.js';

export interface TreeConfig {
  stateDir: string;
  maxStalenessMs: number;
  /** sysbox-fs --ignore-handler-errors. */
  ignoreHandlerErrors?: boolean;
  generation: SharedArrayBuffer;
  load: SharedArrayBuffer;
}

function isTreeConfig(c: unknown): c is TreeConfig {
  const o = c as Partial<TreeConfig> | null;
  return typeof o?.stateDir === 'string' && typeof o.maxStalenessMs === 'number' && o.generation instanceof SharedArrayBuffer && o.load instanceof SharedArrayBuffer;
}

/** Puts node at the slash-separated path below root, creating directories on the way. */
export function place(root: VirtualDir, relPath: string, node: VirtualNode): void {
  const parts = relPath.split('/');
  let d = root;
  for (const part of parts.slice(0, -1)) {
    const next = (d.entries[part] ??= dir({}));
    if (next.kind !== 'dir') throw new Error(`${relPath}: ${part} is a file`);
    d = next;
  }
  d.entries[parts[parts.length - 1]] = node;
}

type NodeFactory = (ctx: NodeContext, values: EmulatedValues) => VirtualFile;

/** Every virtual file, by its path relative to the mount (= its path in a container, minus "/"). */
const NODES: ReadonlyArray<[string, NodeFactory]> = [
  ['proc/uptime', uptime],
  ['proc/meminfo', meminfo],
  ['proc/cpuinfo', cpuinfo],
  ['proc/stat', stat],
  ['proc/loadavg', loadavg],
  ['proc/swaps', swaps],
  ['proc/diskstats', diskstats],
  ...Object.entries(EMULATED_SYSCTLS).map(([key, rule]): [string, NodeFactory] =>
    [`proc/sys/${key}`, (ctx, values) => emulatedSetting(ctx, values, `/proc/sys/${key}`, `sysctl.${key.replaceAll('/', '.')}`, rule)]),
  ...Object.entries(EMULATED_MODULE_PARAMS).map(([key, rule]): [string, NodeFactory] =>
    [`sys/module/${key}`, (ctx, values) => emulatedSetting(ctx, values, `/sys/module/${key}`, `module.${key.replaceAll('/', '.')}`, rule, 0o600)]),
  ['sys/devices/virtual/dmi/id/product_uuid', productUuid],
];

/**
 * Served even where the host lacks them (no DMI: many VMs, arm64, micro-VMs), since software keys
 * machines on them (kubeadm reads /sys/class/dmi/id/product_uuid). Both sit inside a covered
 * directory, so they need no bind target of the host's.
 */
const HOSTLESS: ReadonlySet<string> = new Set(['sys/devices/virtual/dmi/id/product_uuid', 'sys/class/dmi/id']);

/** What /sys/class/dmi/id is on a host with DMI: the kernel's link into the devices tree. */
export const CLASS_DMI_LINK = '../../devices/virtual/dmi/id';

/**
 * What this host gets bound (virtual files and directories): those whose host path exists, covered
 * directories only where the host lacks what they add, and the HOSTLESS nodes of covered directories
 * laid here.
 */
export function virtualPaths(exists: (p: string) => boolean = fs.existsSync): string[] {
  const dirs = VIRTUAL_DIRS.filter((p) => {
    const c = COVERED.find((d) => d.dir === p);
    return exists(`/${p}`) && !(c?.onlyWithout !== undefined && exists(`/${c.onlyWithout}`));
  });
  const inDirs = (p: string): boolean => dirs.some((d) => p.startsWith(`${d}/`));
  const nodes = [...NODES.map(([p]) => p), 'sys/class/dmi/id'].filter((p) => (HOSTLESS.has(p) ? inDirs(p) : exists(`/${p}`)));
  return [...dirs, ...nodes.filter((p) => !dirs.includes(p))];
}

/** The node at the slash-separated path below root, if any. */
function nodeAt(root: VirtualDir, relPath: string): VirtualNode | undefined {
  let n: VirtualNode | undefined = root;
  for (const part of relPath.split('/')) n = n?.kind === 'dir' ? n.entries[part] : undefined;
  return n;
}

/** What the host has at p: a directory, something else, or nothing. */
function hostKind(p: string): 'dir' | 'file' | undefined {
  try {
    return fs.statSync(p).isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** Seconds the kernel may cache names of host directories: new ones appear with a module or device. */
const HOST_TTL: Record<CoveredDir['host'], number> = { procfs: 10, sysfs: 1 };

/**
 * Turns each covered directory into a pass-through of the host's (from the root of a procfs or
 * sysfs of our own, at the same path), except where the container's own entries are put back
 * (placeholders there: if one is ever uncovered, it shows nothing of the host's), and
 * net/ipv4/neigh into the caller's namespace's devices.
 */
export function layCovered(root: VirtualDir, hosts: Record<CoveredDir['host'], PassthroughSource>, neigh: PassthroughSource, kindOnHost: (p: string) => 'dir' | 'file' | undefined): void {
  for (const c of COVERED) {
    const top = nodeAt(root, c.dir);
    if (top?.kind !== 'dir') continue;
    for (const o of c.originals) {
      const p = `${c.dir}/${o}`;
      const kind = nodeAt(root, p) ? undefined : kindOnHost(`/${p}`);
      if (kind) place(root, p, kind === 'dir' ? dir({}) : file(() => ''));
    }
    // Below the fs root: proc/sys is "sys" in a procfs, sys/kernel is "kernel" in a sysfs.
    const base = c.dir.slice(c.dir.indexOf('/') + 1);
    const mark = (d: VirtualDir, rel: string): void => {
      if (c.originals.includes(rel)) return;
      // A directory of ours the host lacks (dmi on a host without DMI) has only our entries.
      if (rel === '' || kindOnHost(`/${c.dir}/${rel}`) === 'dir') d.passthrough = { source: hosts[c.host], rel: rel === '' ? base : `${base}/${rel}` };
      for (const [name, child] of Object.entries(d.entries)) if (child.kind === 'dir') mark(child, rel === '' ? name : `${rel}/${name}`);
    };
    mark(top, '');
  }
  const n = nodeAt(root, NEIGH);
  if (n?.kind === 'dir') n.passthrough = { source: neigh, rel: '' };
}

export function createTree(config: unknown): FileTree {
  if (!isTreeConfig(config)) throw new Error('sysbox-fs tree needs { stateDir, generation, load }');
  const callers = new CallerResolver(config.stateDir, new Generation(config.generation));
  const ctx: NodeContext = { callers, load: new LoadTable(config.load), stateDir: config.stateDir, readHost: readHostFile, maxStalenessMs: config.maxStalenessMs, ignoreHandlerErrors: config.ignoreHandlerErrors === true };
  const values = new EmulatedValues(ctx.stateDir);
  const wanted = new Set(virtualPaths());
  const root = dir({});
  for (const [p, make] of NODES) if (wanted.has(p)) place(root, p, make(ctx, values));
  if (wanted.has('sys/class/dmi/id') && wanted.has('sys/class')) place(root, 'sys/class/dmi/id', { kind: 'symlink', target: CLASS_DMI_LINK });
  for (const p of VIRTUAL_DIRS) if (wanted.has(p) && !nodeAt(root, p)) place(root, p, dir({}));
  // A procfs and a sysfs of our own: what the host mounted below them stays out of the pass-through.
  // The procfs is writable for neigh (the container's own entries); nothing is written to the sysfs.
  const proc = `/proc/self/fd/${native.openPrivateMount('proc', false)}`;
  const sys = `/proc/self/fd/${native.openPrivateMount('sysfs', true)}`;
  // HIDDEN's paths are below the sysfs root without the leading "sys/".
  const sysfs = withoutEntries(hostPassthrough('host-sysfs', sys, HOST_TTL.sysfs), HIDDEN.map((p) => p.slice('sys/'.length)));
  // /proc/sys: listings kept by the kernel, and the host-wide settings' contents too (page-cached,
  // fuse/kept-pages.ts), so a sysctl -a of unchanged settings costs an OPEN each and little else.
  // neigh is another source (per network namespace: listings never kept; lo's names are, neigh.ts).
  const hosts = { procfs: hostPassthrough('host-procfs', proc, HOST_TTL.procfs, true, true), sysfs };
  layCovered(root, hosts, neighDevices(`${proc}/sys/net/ipv4/neigh`, HOST_TTL.procfs), hostKind);
  const tree = new SlottedTree(new StaticTree(root), LOAD_SLOTS, (c) => {
    const rec = callers.resolve(c.pid).container;
    return rec ? { uid: rec.uid, gid: rec.gid } : { uid: 0, gid: 0 };
  });
  // A container gone: its cgroup files kept open by this worker are closed at the worker's next
  // wake-up (the daemon wakes the workers after each removal), not left to the cache's eviction.
  const generation = new Generation(config.generation);
  let seen = generation.value;
  const idle = (): void => {
    const g = generation.value;
    if (g === seen) return;
    seen = g;
    dropKeptCgroupFiles();
  };
  return {
    get: (ino, caller) => tree.get(ino, caller),
    lookup: (parent, name, caller) => tree.lookup(parent, name, caller),
    list: (ino, caller) => tree.list(ino, caller),
    listingStamp: (ino, caller) => tree.listingStamp(ino, caller),
    get size() { return tree.size; },
    owner: (caller) => tree.owner?.(caller) ?? { uid: 0, gid: 0 },
    idle,
  };
}
