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
import { readHostFile, type NodeContext } from './nodes/context.js';
import { cpuinfo } from './nodes/proc/cpuinfo.js';
import { diskstats } from './nodes/proc/diskstats.js';
import { loadavg } from './nodes/proc/loadavg.js';
import { meminfo } from './nodes/proc/meminfo.js';
import { stat } from './nodes/proc/stat.js';
import { swaps } from './nodes/proc/swaps.js';
import { emulatedSetting } from './nodes/proc/sys/emulated-setting.js';
import { hostSysctls } from './nodes/proc/sys/host-sysctls.js';
import { neighDevices } from './nodes/proc/sys/neigh.js';
import { EMULATED_MODULE_PARAMS, EMULATED_SYSCTLS } from './nodes/proc/sys/settings.js';
import { uptime } from './nodes/proc/uptime.js';
import { productUuid } from './nodes/sys/product-uuid.js';
import { NAMESPACED_SYSCTLS, NEIGH, PROC_SYS, VIRTUAL_DIRS } from './proc-sys-layout.js';
import { SlottedTree } from './slotted-tree.js';
import { StaticTree, dir, file, type FileTree, type PassthroughSource, type VirtualDir, type VirtualFile, type VirtualNode } from './tree.js';

export interface TreeConfig {
  stateDir: string;
  maxStalenessMs: number;
  generation: SharedArrayBuffer;
  load: SharedArrayBuffer;
}

function isTreeConfig(c: unknown): c is TreeConfig {
  const o = c as Partial<TreeConfig> | null;
  return typeof o?.stateDir === 'string' && typeof o.maxStalenessMs === 'number' && o.generation instanceof SharedArrayBuffer && o.load instanceof SharedArrayBuffer;
}

/** Puts node at the slash-separated path below root, creating directories on the way. */
function place(root: VirtualDir, relPath: string, node: VirtualNode): void {
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

/** What this host gets bound (virtual files and directories): those whose host path exists. */
export function virtualPaths(exists: (p: string) => boolean = fs.existsSync): string[] {
  return [...VIRTUAL_DIRS, ...NODES.map(([p]) => p)].filter((p) => exists(`/${p}`));
}

/** The node at the slash-separated path below root, if any. */
function nodeAt(root: VirtualDir, relPath: string): VirtualNode | undefined {
  let n: VirtualNode | undefined = root;
  for (const part of relPath.split('/')) n = n?.kind === 'dir' ? n.entries[part] : undefined;
  return n;
}

/**
 * Turns proc/sys into a pass-through of the host's, except where the container's own entries are
 * put back (placeholders there: if one is ever uncovered, it shows nothing of the host's), and
 * net/ipv4/neigh into the caller's namespace's devices.
 */
function layProcSys(root: VirtualDir, host: PassthroughSource, neigh: PassthroughSource, exists: (p: string) => boolean): void {
  for (const n of NAMESPACED_SYSCTLS) {
    const p = `${PROC_SYS}/${n}`;
    if (!nodeAt(root, p) && exists(`/${p}`)) place(root, p, fs.statSync(`/${p}`).isDirectory() ? dir({}) : file(() => ''));
  }
  const mark = (d: VirtualDir, rel: string): void => {
    if (NAMESPACED_SYSCTLS.includes(rel)) return;
    d.passthrough = { source: host, rel };
    for (const [name, c] of Object.entries(d.entries)) if (c.kind === 'dir') mark(c, rel === '' ? name : `${rel}/${name}`);
  };
  const sys = nodeAt(root, PROC_SYS);
  if (sys?.kind === 'dir') mark(sys, '');
  const n = nodeAt(root, NEIGH);
  if (n?.kind === 'dir') n.passthrough = { source: neigh, rel: '' };
}

export function createTree(config: unknown): FileTree {
  if (!isTreeConfig(config)) throw new Error('sysbox-fs tree needs { stateDir, generation, load }');
  const callers = new CallerResolver(config.stateDir, new Generation(config.generation));
  const ctx: NodeContext = { callers, load: new LoadTable(config.load), stateDir: config.stateDir, readHost: readHostFile, maxStalenessMs: config.maxStalenessMs };
  const values = new EmulatedValues(ctx.stateDir);
  const wanted = new Set(virtualPaths());
  const root = dir({});
  for (const [p, make] of NODES) if (wanted.has(p)) place(root, p, make(ctx, values));
  for (const p of VIRTUAL_DIRS) if (wanted.has(p) && !nodeAt(root, p)) place(root, p, dir({}));
  // Our own procfs: what the host mounted below its /proc/sys stays out of the pass-through.
  const proc = `/proc/self/fd/${native.openPrivateProcfs()}`;
  layProcSys(root, hostSysctls(`${proc}/sys`), neighDevices(`${proc}/sys/net/ipv4/neigh`), fs.existsSync);
  return new SlottedTree(new StaticTree(root), LOAD_SLOTS, (c) => {
    const rec = callers.resolve(c.pid).container;
    return rec ? { uid: rec.uid, gid: rec.gid } : { uid: 0, gid: 0 };
  });
}
