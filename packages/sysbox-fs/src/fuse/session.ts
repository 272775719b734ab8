// A mounted FUSE file system: opens /dev/fuse, mounts it with mount(2), answers INIT on the calling
// thread, then leaves every other request to worker threads. Unmounting (by us or anyone, lazily or
// not) aborts the connection once the last user is gone; the leading worker's read then fails
// ENODEV, the helpers follow it out, and `closed` settles (the fd is closed then). With io_uring
// (offered at INIT), one more worker per CPU serves that CPU's ring slots (fuse-uring.cc).
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as native from '@sysbox/native';
import { DEFAULT_DISPATCH, type DispatchOptions } from './dispatch.js';
import { KEPT_PAGES_BYTES, keptPagesBytes, LONG_TABLE, SHORT_TABLE } from './kept-pages.js';
import { HOST_FILES } from './host-file-index.js';
import * as p from './protocol.js';
import { CONTROL_SLOTS, Control, type WorkerConfig, type WorkerMessage } from './worker-config.js';

const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;

export interface SessionOptions {
  mountpoint: string;
  /** Source shown in mountinfo and the subtype (fuse.<fsname>). */
  fsname?: string;
  /** Absolute path of a module exporting `createTree(config): FileTree`, loaded in every worker. */
  treeModule: string;
  treeConfig?: unknown;
  workers?: number;
  /** Largest WRITE the kernel may send; read buffers are sized from it. */
  maxWrite?: number;
  dispatch?: Partial<DispatchOptions>;
  /** Microseconds the leading worker keeps looking for the next request before sleeping (worker.ts). */
  spinMicros?: number;
  /** The worker entry script (a bundled build has its own); default worker.js next to this file. */
  workerScript?: string;
  /** Where worker errors go; the session never throws from a worker's failure. */
  onError?: (message: string) => void;
  /**
   * adopt(): the init flags the connection was set up with (FuseSession.initFlags of the process
   * that mounted it); unknown: 0, i.e. nothing that depends on a negotiated flag is used.
   */
  initFlags?: number;
  /** Offer FUSE over io_uring at INIT (kernel 6.14+, fuse.enable_uring Y): a worker per CPU then. */
  ioUring?: boolean;
  /** adopt() with ioUring: the predecessor's ring arena (FuseSession.ringArena), kept across its exit. */
  ringArenaFd?: number;
}

/** Ring entries per CPU queue: requests one CPU's callers can have served at once. */
const RING_ENTRIES = 2;

const DEFAULT_MAX_WRITE = 128 * 1024;

export class FuseSession {
  /** Settles when every worker has exited (after unmount), with their exit reasons. */
  readonly closed: Promise<string[]>;
  private fdClosed = false;

  private constructor(
    readonly mountpoint: string,
    private readonly fd: number,
    private readonly workers: Worker[],
    exits: Promise<string>[],
    /** The flags INIT agreed on (fuse_init_out.flags). */
    readonly initFlags: number,
    private readonly control: Int32Array,
    /** Requests come over io_uring, a worker per CPU; the memfd holding the ring entries' buffers. */
    readonly ringArena: number | null,
    /** Where that arena is mapped. */
    private readonly arenaBase: number | null,
  ) {
    this.closed = Promise.all(exits).then((reasons) => {
      this.closeFd();
      return reasons;
    });
  }

  static async mount(opts: SessionOptions): Promise<FuseSession> {
    const fsname = opts.fsname ?? 'sysboxfs';
    // Node opens with O_CLOEXEC, so processes we spawn never hold the connection open.
    const fd = fs.openSync('/dev/fuse', fs.constants.O_RDWR);
    let mounted = false;
    try {
      if (!fs.statSync(opts.mountpoint).isDirectory()) throw new Error(`${opts.mountpoint} is not a directory`);
      // rootmode is the root's file type as the kernel sees it before our first GETATTR;
      // allow_other because containers' processes are never the mounting user. No
      // default_permissions: dispatch judges access itself (see permits()), saving a GETATTR per open.
      const data = `fd=${fd},rootmode=40000,user_id=0,group_id=0,allow_other`;
      native.mount(fsname, opts.mountpoint, `fuse.${fsname}`, MS_NOSUID | MS_NODEV, data);
      mounted = true;

      const init = answerInit(fd, opts.maxWrite ?? DEFAULT_MAX_WRITE, opts.ioUring === true && ringQueues() > 0);
      return await FuseSession.start(fd, init.maxWrite, init.flags, { ...opts, ioUring: init.uring });
    } catch (e) {
      if (mounted) {
        try { native.umount(opts.mountpoint, native.constants.MNT_DETACH); } catch { /* already gone */ }
      }
      try { fs.closeSync(fd); } catch { /* closed by the session already */ }
      throw e;
    }
  }

  /**
   * Serves a connection that is already mounted and initialised, from an fd another process kept
   * open (a restarted sysbox-fs taking over from its predecessor): no mount, no INIT.
   */
  static async adopt(fd: number, opts: SessionOptions): Promise<FuseSession> {
    const session = await FuseSession.start(fd, opts.maxWrite ?? DEFAULT_MAX_WRITE, opts.initFlags ?? 0, opts);
    try {
      fs.writeSync(fd, p.notifyResend());
    } catch (e) {
      // Kernels before 6.9 lack it: requests the predecessor read unanswered stay lost.
      opts.onError?.(`FUSE resend notification refused (${(e as Error).message}); requests in flight at the restart are lost`);
    }
    return session;
  }

  private static async start(fd: number, maxWrite: number, initFlags: number, opts: SessionOptions): Promise<FuseSession> {
    // Helpers take requests only when one is queued, and must not sleep in read (worker.ts).
    native.setNonBlocking(fd);
    const cfg: Omit<WorkerConfig, 'leader' | 'workerCount'> = {
      fd,
      bufferSize: p.readBufferSize(maxWrite),
      treeModule: opts.treeModule,
      treeConfig: opts.treeConfig ?? null,
      dispatch: { ...DEFAULT_DISPATCH, ...opts.dispatch, cacheListings: (initFlags & p.FUSE_AUTO_INVAL_DATA) !== 0 },
      control: new SharedArrayBuffer(CONTROL_SLOTS * 4),
      shrunkInodes: new SharedArrayBuffer(1 << 20),
      // Empty after a restart too: every page-cached file's next OPEN is then a refill. (Not so the
      // short table in a kept ring arena, WorkerConfig.keptInArena: it outlives a restart.)
      keptPages: new SharedArrayBuffer(KEPT_PAGES_BYTES),
      keptLongPages: new SharedArrayBuffer(keptPagesBytes(LONG_TABLE)),
      spinMicros: opts.spinMicros ?? 0,
    };
    const workers: Worker[] = [];
    const ready: Promise<void>[] = [];
    const exits: Promise<string>[] = [];
    const workerCount = Math.max(1, opts.workers ?? 2);
    // With io_uring, one more worker per CPU, each serving its CPU's queue; the /dev/fuse ones stay
    // for what does not come through the ring (FORGET, INTERRUPT, requests before it is ready).
    const arena = opts.ioUring ? ringArena(maxWrite, opts.ringArenaFd, opts.onError) : null;
    const cpus = arena?.queues ?? 0;
    // Locks on the arena's table that the predecessor's workers died holding (none after a clean exit).
    if (arena?.kept && arena.adopted) native.uringKeptRepair(arena.base, false);
    const keptInArena = arena?.kept ? { keptInArena: arena.base } : {};
    for (let i = 0; i < workerCount + cpus; i++) {
      const ring = arena && i >= workerCount ? { uringQid: i - workerCount, uringArena: arena.base, uringAdopt: arena.adopted } : {};
      const w = new Worker(opts.workerScript ?? path.join(__dirname, 'worker.js'), { workerData: { ...cfg, leader: i === 0, workerCount, ...ring, ...keptInArena } satisfies WorkerConfig });
      workers.push(w);
      const { ready: r, exit } = track(w, opts.onError ?? (() => {}));
      ready.push(r);
      exits.push(exit);
    }
    const session = new FuseSession(opts.mountpoint, fd, workers, exits, initFlags, new Int32Array(cfg.control), arena?.fd ?? null, arena?.base ?? null);
    try {
      await Promise.all(ready);
    } catch (e) {
      // A tree module that fails to load in a worker: unmount, which ends the others too.
      session.unmount();
      await session.closed;
      throw e;
    }
    return session;
  }

  /** Lazy unmount: the mount disappears now; the workers exit once no process uses it any more. */
  unmount(): void {
    try {
      native.umount(this.mountpoint, native.constants.MNT_DETACH);
    } catch (e) {
      // EINVAL: not a mount point any more (someone else unmounted it): nothing to do.
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
    }
  }

  /**
   * Each worker collects its own heap (an isolate the main thread's GC does not reach; it grows
   * under read load) when it next goes idle; a request on the mount wakes the leader for it.
   */
  askWorkersToCollect(): void {
    Atomics.add(this.control, Control.CollectSeq, 1);
    fs.promises.readdir(this.mountpoint).catch(() => {});
  }

  /** Requests come over io_uring (a worker per CPU). */
  get ioUring(): boolean {
    return this.ringArena !== null;
  }

  /** OPENs of unchanged host settings the keeper's ring holders answered themselves (native kept-open.cc). */
  keeperKeptOpens(): number {
    return this.arenaBase === null ? 0 : native.uringKeptAnswered(this.arenaBase);
  }

  /** The /dev/fuse connection (for handing to a keeper process). */
  get connection(): number {
    return this.fd;
  }

  get workerCount(): number {
    return this.workers.length;
  }

  private closeFd(): void {
    if (this.fdClosed) return;
    this.fdClosed = true;
    fs.closeSync(this.fd);
  }
}

/**
 * The kernel has a ring queue per possible CPU and serves none until each has an entry; a worker
 * bound to each serves it. 0 where some possible CPU is offline (no worker could run there).
 */
function ringQueues(): number {
  const possible = fs.readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  const online = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  const m = /^0-(\d+)$|^0$/.exec(possible);
  if (possible !== online || !m) return 0;
  return m[1] === undefined ? 1 : Number(m[1]) + 1;
}

/**
 * The ring slots: the arena the keeper holds (its holder threads own the rings; slots a predecessor
 * left SERVING are served again), else a new one. A kept arena that cannot be mapped is an error:
 * the keeper's holders would go on using it while we served another. A new one that cannot be made
 * (its fixed address taken, no memfd) leaves the connection to the /dev/fuse workers: the kernel
 * sends nothing through the rings until every queue has an entry.
 */
function ringArena(maxWrite: number, keptFd: number | undefined, onError?: (m: string) => void): { fd: number; base: number; queues: number; adopted: boolean; kept: boolean } | null {
  if (keptFd !== undefined) {
    try {
      const a = native.uringArena(keptFd);
      return { fd: keptFd, base: a.base, queues: a.queues, adopted: true, kept: a.kept };
    } catch (e) {
      throw new Error(`the fd keeper's FUSE ring arena cannot be mapped: ${(e as Error).message}`);
    }
  }
  try {
    // With the short page record table and the host file index, so the holders answer OPENs of
    // unchanged host settings themselves (native kept-open.cc).
    const a = native.uringArena(-1, maxWrite, ringQueues(), RING_ENTRIES, SHORT_TABLE.sets, SHORT_TABLE.entryBytes, HOST_FILES);
    return { fd: a.fd, base: a.base, queues: a.queues, adopted: false, kept: a.kept };
  } catch (e) {
    onError?.(`FUSE io_uring not used, requests are served from /dev/fuse: ${(e as Error).message}`);
    return null;
  }
}

/** Reads and answers the INIT the kernel queued at mount time; returns the max_write and flags agreed. */
function answerInit(fd: number, maxWrite: number, ioUring: boolean): { maxWrite: number; flags: number; uring: boolean } {
  const buf = Buffer.alloc(p.readBufferSize(maxWrite));
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    const h = p.decodeInHeader(buf.subarray(0, n));
    if (h.opcode !== p.Opcode.INIT) throw new Error(`expected FUSE INIT, got opcode ${h.opcode}`);
    const init = p.decodeInitIn(p.requestBody(buf, h));
    const res = p.negotiateInit(init, { maxWrite, ioUring });
    if (!res.ok) {
      fs.writeSync(fd, p.replyError(h.unique, res.errno));
      throw new Error(res.reason);
    }
    fs.writeSync(fd, p.reply(h.unique, p.encodeInitOut(res.out)));
    // A kernel with a newer major got our major alone and re-sends INIT in our version.
    if (init.major === p.FUSE_KERNEL_VERSION) return { maxWrite: res.out.maxWrite, flags: res.out.flags, uring: (res.out.flags2 ?? 0) !== 0 };
  }
}

function track(w: Worker, onError: (message: string) => void): { ready: Promise<void>; exit: Promise<string> } {
  let reason = 'exited';
  let markReady: () => void = () => {};
  let failReady: (e: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => { markReady = resolve; failReady = reject; });
  w.on('message', (m: WorkerMessage) => {
    if (m.type === 'ready') markReady();
    else if (m.type === 'exit') reason = m.reason;
    else {
      reason = m.message;
      onError(m.message);
      failReady(new Error(m.message));
    }
  });
  w.on('error', (e) => {
    reason = e.message;
    onError(e.message);
    failReady(e);
  });
  const exit = new Promise<string>((resolve) => w.on('exit', () => { failReady(new Error(`worker exited: ${reason}`)); resolve(reason); }));
  return { ready, exit };
}
