// After a burst of container removals a daemon's RSS stayed near its peak (sysbox-mgr +7-11 % over
// the round before, issue 14): nothing was leaked, but V8 only compacts its old generation when it
// next runs out of room, which an idle daemon never does, keeps its young generation at the size
// the burst grew it to, and glibc keeps the pages of freed gRPC and native buffers in its arenas.
// So once the daemon has been quiet for a while after a removal, it runs one memory-reducing full
// GC (native releaseHeap) and then malloc_trim(0).
//
// Only once the RSS has grown by MIN_GROWTH over what the last release left, or after
// RELEASE_EVERY_REMOVALS removals: a release costs sysbox-fs ~40 ms and sysbox-mgr ~20 ms of CPU
// (the FUSE workers' heaps are collected too), which after each single `docker run --rm` doubled
// the daemons' CPU per container, while without it their RSS levels off within a few percent (25
// runs 1.5 s apart: sysbox-mgr +5.5 %, sysbox-fs +0.8 %; bench/README.md). The count keeps a burst
// of removals its release whatever the RSS says at each (50 removed with the RSS rule alone left
// sysbox-fs 11 % over its RSS before them).
import * as native from '@sysbox/native';

/** What one release gave back, for the debug log. */
export interface ReleaseResult {
  rssBeforeKiB: number;
  rssAfterKiB: number;
  heapBeforeKiB: number;
  heapAfterKiB: number;
  ms: number;
}

export interface MemoryRelease {
  /** Work went on (an RPC): a pending release waits until quietMs after the last one, up to maxDelayMs. */
  activity(): void;
  /** Memory was freed (a container went away): release it once the daemon is quiet, if the RSS grew by minGrowth or everyRemovals came. */
  request(): void;
  /** Cancels a pending release (shutdown). */
  stop(): void;
}

/**
 * Both daemons' quiet time before a release: a `docker rm -f` of many containers sends its
 * removals well under this apart, so the burst costs one release (a full GC of a ~15 MiB heap
 * takes 5-20 ms of the event loop).
 */
export const RELEASE_QUIET_MS = 1000;
/** ... and the longest a release waits after the first removal, however busy the daemon. */
export const RELEASE_MAX_DELAY_MS = 5000;
/** RSS growth over what the last release (or the start) left below which a removal asks for none. */
export const MIN_GROWTH = 0.05;
/** ... or the removals since the last release after which one is asked for anyway. */
export const RELEASE_EVERY_REMOVALS = 10;

export interface MemoryReleaseOptions {
  /** Default RELEASE_QUIET_MS. */
  quietMs?: number;
  /**
   * The longest a release waits after the first removal: a daemon that is never quiet for
   * quietMs (a monitor polling Status, a steady stream of creates) still gives memory back.
   * Default RELEASE_MAX_DELAY_MS.
   */
  maxDelayMs?: number;
  /** Default MIN_GROWTH (0: every removal asks for a release). */
  minGrowth?: number;
  /** Default RELEASE_EVERY_REMOVALS. */
  everyRemovals?: number;
  /** Runs between the GC and the trim: e.g. asks worker threads (own heaps) to collect too. */
  beforeTrim?: () => Promise<void>;
  onReleased?: (r: ReleaseResult) => void;
  /** For tests: what collects and what trims (default: native releaseHeap and malloc_trim), and the RSS. */
  collect?: () => void;
  trim?: () => void;
  rssKiB?: () => number;
}

/**
 * A full GC that also gives back what the heap grew to for a burst. A plain gc() (--expose-gc) left
 * the young generation at its peak, up to 32 MiB (likely what left sysbox-mgr 10 MiB, 14 %, over
 * its baseline in 4 CI runs of the load test); V8's critical memory-pressure GC shrinks it to 1 MiB.
 */
export function releaseHeap(): void {
  native.releaseHeap();
}

const kib = (bytes: number): number => Math.round(bytes / 1024);

/** The daemons' debug line for one release. */
export function describeRelease(r: ReleaseResult): string {
  return `memory released after removals: RSS ${r.rssBeforeKiB} -> ${r.rssAfterKiB} KiB, heap ${r.heapBeforeKiB} -> ${r.heapAfterKiB} KiB (${r.ms.toFixed(1)} ms)`;
}

export function releaseMemoryWhenQuiet(opts: MemoryReleaseOptions): MemoryRelease {
  const collect = opts.collect ?? releaseHeap;
  const trim = opts.trim ?? ((): void => void native.mallocTrim());
  const quietMs = opts.quietMs ?? RELEASE_QUIET_MS;
  const maxDelayMs = opts.maxDelayMs ?? RELEASE_MAX_DELAY_MS;
  const minGrowth = opts.minGrowth ?? MIN_GROWTH;
  const rssKiB = opts.rssKiB ?? ((): number => kib(process.memoryUsage.rss()));
  /** What the last release left (at first: the RSS when this was set up). */
  let baselineKiB = rssKiB();
  const everyRemovals = opts.everyRemovals ?? RELEASE_EVERY_REMOVALS;
  /** Removals since the last release. */
  let removals = 0;
  let pending = false;
  /** When the pending release was first asked for (Date.now()). */
  let since = 0;
  let running = false;
  let timer: NodeJS.Timeout | undefined;

  const arm = (): void => {
    if (timer) clearTimeout(timer);
    const delay = Math.max(0, Math.min(quietMs, since + maxDelayMs - Date.now()));
    // unref: a pending release never keeps a stopping daemon alive.
    timer = setTimeout(() => void release(), delay).unref();
  };
  const release = async (): Promise<void> => {
    timer = undefined;
    if (!pending || running) return;
    pending = false;
    running = true;
    const t0 = process.hrtime.bigint();
    const rssBeforeKiB = rssKiB();
    const heapBeforeKiB = kib(process.memoryUsage().heapUsed);
    try {
      collect();
      await opts.beforeTrim?.();
      trim();
    } finally {
      running = false;
    }
    baselineKiB = rssKiB();
    removals = 0;
    opts.onReleased?.({
      rssBeforeKiB, rssAfterKiB: baselineKiB,
      heapBeforeKiB, heapAfterKiB: kib(process.memoryUsage().heapUsed),
      ms: Number(process.hrtime.bigint() - t0) / 1e6,
    });
    // Removals during the release (worker threads answer asynchronously): one more round.
    if (pending) arm();
  };

  return {
    activity: () => {
      if (pending) arm();
    },
    request: () => {
      removals++;
      if (!pending && removals < everyRemovals && rssKiB() < baselineKiB * (1 + minGrowth)) return;
      if (!pending) since = Date.now();
      pending = true;
      arm();
    },
    stop: () => {
      pending = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
