// Per-container load averages, computed the way the kernel does for the host: every 5 s count the
// cgroup's runnable (R) and uninterruptible (D) tasks and fold the count into 1/5/15-minute
// exponential averages (LXCFS's loadavg does the same). Results go to the shared LoadTable.
import fs from 'node:fs';
import path from 'node:path';
import { cgroupPathsOf } from '../container/cgroup.js';
import { LoadTable } from '../container/load-table.js';
import { innermostPid } from '../container/record.js';

export const SAMPLE_SECONDS = 5;
const DECAY = [60, 300, 900].map((s) => Math.exp(-SAMPLE_SECONDS / s));

export interface Sampled {
  slot: number;
  initPid: number;
}

function taskStates(initPid: number): { running: number; total: number; lastPid: number } {
  const cg = cgroupPathsOf(initPid);
  const dir = cg?.dirs.get('pids') ?? cg?.dirs.get('cpu');
  let running = 0;
  let total = 0;
  let lastPid = 0;
  if (!dir) return { running, total, lastPid };
  let tasks: string[] = [];
  try {
    tasks = fs.readFileSync(path.join(dir, 'tasks'), 'utf8').split('\n').filter((t) => t !== '');
  } catch { /* cgroup gone */ }
  for (const tid of tasks) {
    try {
      const st = fs.readFileSync(`/proc/${tid}/status`, 'utf8');
      total++;
      const state = /\nState:\s*(\S)/.exec(st)?.[1];
      if (state === 'R' || state === 'D') running++;
      const inner = innermostPid(st);
      if (inner > lastPid) lastPid = inner;
    } catch { /* exited meanwhile */ }
  }
  return { running, total, lastPid };
}

export function sampleOnce(table: LoadTable, containers: Iterable<Sampled>): void {
  for (const c of containers) {
    const prev = table.get(c.slot);
    const s = taskStates(c.initPid);
    const fold = (old: number, d: number): number => old * d + s.running * (1 - d);
    table.set(c.slot, { load1: fold(prev.load1, DECAY[0]), load5: fold(prev.load5, DECAY[1]), load15: fold(prev.load15, DECAY[2]), ...s });
  }
}

export function startSampler(table: LoadTable, containers: () => Iterable<Sampled>): NodeJS.Timeout {
  const t = setInterval(() => sampleOnce(table, containers()), SAMPLE_SECONDS * 1000);
  t.unref();
  return t;
}
