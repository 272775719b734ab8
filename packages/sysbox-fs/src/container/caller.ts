// Who is reading: from the FUSE request's host pid to the container it belongs to, never from the
// path. The caller's pid namespace names its view: its init (the namespace's pid 1) gives the
// start time and the cgroup (as LXCFS does), and the registered container owning that namespace,
// or the nearest one above it for containers nested inside, gives the per-container state.
// Resolved once per namespace and cached; the daemon's generation counter clears the cache.
import fs from 'node:fs';
import { cgroupPathsOf, dropKeptCgroupFiles, type CgroupPaths } from './cgroup.js';
import { Generation, innermostPid, pidNamespace, readRecords, type ContainerRecord } from './record.js';
import { processStartTime } from '@sysbox/common/proc';

export interface CallerView {
  /** The registered container (undefined for the host's own processes or unknown ones). */
  container?: ContainerRecord;
  /** Host pid of the caller's pid-namespace init, and when it started (ticks since boot). */
  initPid: number;
  initStart: number;
  /** Its cgroups; undefined for host callers, who get the host's own files. */
  cgroup?: CgroupPaths;
  /** Limits read from the cgroup, reused for a moment (limits-cache.ts). */
  limits?: { readAt: number; values: Map<string, unknown> };
  /** Recently rendered files (nodes/context.ts renderFor). */
  rendered?: Map<string, { at: number; text: string }>;
}

const HOST_VIEW: CallerView = { initPid: 1, initStart: 0 };
const MAX_DEPTH = 64;
/**
 * How long a pid's answer is reused. The kernel hands a pid number out again only after cycling
 * through the rest of pid_max (32768 at least), so within this window it is the same process. It
 * spares one reader's back-to-back requests (OPEN, READ, READ) a readlink of /proc/PID/ns/pid each.
 */
const PID_TTL_MS = 10;
const MAX_PIDS = 1024;

function status(pid: number): { ppid: number; nsPid: number } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const ppid = Number(/\nPPid:\s*(\d+)/.exec(text)?.[1] ?? 0);
    return { ppid, nsPid: innermostPid(text) };
  } catch {
    return undefined;
  }
}

/** Slow path: the process of namespace ns that is pid 1 there, by scanning /proc. */
function scanForInit(ns: string): number | undefined {
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0 || pidNamespace(pid) !== ns) continue;
    if (status(pid)?.nsPid === 1) return pid;
  }
  return undefined;
}

/**
 * The host pid of the init of pid's namespace (ns): climb parents while they are in ns until the
 * one that is pid 1 there. A process entered from outside (`docker exec`, `nsenter`) has its parent
 * outside ns: then the registered container's init, or a scan of /proc, answers.
 */
function namespaceInit(pid: number, ns: string, known: Map<string, ContainerRecord>): number | undefined {
  let p = pid;
  for (let i = 0; i < MAX_DEPTH && p > 0; i++) {
    const s = status(p);
    if (!s) return undefined;
    if (s.nsPid === 1) return p;
    if (pidNamespace(s.ppid) !== ns) break;
    p = s.ppid;
  }
  const rec = known.get(ns);
  if (rec && processStartTime(rec.initPid) === rec.initStart) return rec.initPid;
  return scanForInit(ns);
}

export class CallerResolver {
  private readonly hostNs = pidNamespace('self');
  private byNs = new Map<string, CallerView>();
  private byPid = new Map<number, { at: number; view: CallerView }>();
  private records = new Map<string, ContainerRecord>();
  private seen = -1;

  constructor(private readonly stateDir: string, private readonly generation: Generation) {}

  resolve(pid: number): CallerView {
    const gen = this.generation.value;
    if (gen !== this.seen) {
      this.seen = gen;
      this.byNs = new Map();
      this.byPid = new Map();
      this.records = new Map(readRecords(this.stateDir).filter((r) => r.pidns !== '').map((r) => [r.pidns, r]));
      // A container may have gone: its cgroup files must not stay open (kept-files.ts). The
      // running ones' are opened again on their next read.
      dropKeptCgroupFiles();
    }
    const now = performance.now();
    const hit = this.byPid.get(pid);
    if (hit && now - hit.at <= PID_TTL_MS) return hit.view;
    const view = this.byNamespace(pid);
    if (this.byPid.size >= MAX_PIDS) this.byPid.clear();
    this.byPid.set(pid, { at: now, view });
    return view;
  }

  private byNamespace(pid: number): CallerView {
    const ns = pidNamespace(pid);
    if (!ns || ns === this.hostNs) return HOST_VIEW;
    const cached = this.byNs.get(ns);
    // A namespace inode can be reused once its processes are gone. A registered container's
    // removal bumps the generation (cache cleared), so only the namespaces nested inside one need
    // checking that their init is still theirs.
    if (cached && (cached.container?.pidns === ns || pidNamespace(cached.initPid) === ns)) return cached;
    const view = this.build(pid, ns);
    this.byNs.set(ns, view);
    return view;
  }

  private build(pid: number, ns: string): CallerView {
    const initPid = namespaceInit(pid, ns, this.records);
    if (initPid === undefined) return HOST_VIEW;
    return { container: this.owner(ns, initPid), initPid, initStart: processStartTime(initPid) ?? 0, cgroup: cgroupPathsOf(initPid) };
  }

  /** The registered container whose namespace is ns or encloses it. */
  private owner(ns: string, initPid: number): ContainerRecord | undefined {
    let curNs = ns;
    let curInit = initPid;
    for (let i = 0; i < MAX_DEPTH; i++) {
      const rec = this.records.get(curNs);
      if (rec) return rec;
      const parent = status(curInit)?.ppid ?? 0;
      if (parent <= 0) return undefined;
      const parentNs = pidNamespace(parent);
      if (!parentNs || parentNs === this.hostNs) return undefined;
      const parentInit = namespaceInit(parent, parentNs, this.records);
      if (parentInit === undefined) return undefined;
      curNs = parentNs;
      curInit = parentInit;
    }
    return undefined;
  }
}
