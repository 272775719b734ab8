// Per-container load averages in shared memory: the daemon's sampler writes a slot per container
// every 5 s, and worker threads read it when /proc/loadavg is opened (no file or message per read).
export const LOAD_SLOTS = 4096;
const FIELDS = 6; // load1, load5, load15, running, total, lastPid

export interface LoadEntry {
  load1: number;
  load5: number;
  load15: number;
  running: number;
  total: number;
  /** Highest pid in the container's own namespace among its tasks. */
  lastPid: number;
}

export class LoadTable {
  private readonly values: Float64Array;
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(LOAD_SLOTS * FIELDS * 8)) {
    this.values = new Float64Array(buffer);
  }
  get(slot: number): LoadEntry {
    const b = slot * FIELDS;
    const v = this.values;
    return { load1: v[b], load5: v[b + 1], load15: v[b + 2], running: v[b + 3], total: v[b + 4], lastPid: v[b + 5] };
  }
  set(slot: number, e: LoadEntry): void {
    const b = slot * FIELDS;
    this.values.set([e.load1, e.load5, e.load15, e.running, e.total, e.lastPid], b);
  }
}
