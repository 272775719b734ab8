// Worker-thread entry: builds its own FileTree, then loops read → dispatch → write on the shared,
// non-blocking /dev/fuse fd. The kernel hands each request to exactly one reader, so workers need
// no locking of ours. Each step is one native call: write the last reply, then read the next request.
//
// One worker, the leader, waits on /dev/fuse; after each reply it keeps trying for spinMicros,
// since clients send OPEN, READ, READ, RELEASE back to back. Helpers do not wait on the fd: a
// request wakes every sleeping poller and one blocked reader, so a second waiting worker cost a
// thread wake-up per request even when the spinning leader took it (measured: 4 readers in one
// container ran at 21k reads/s with two waiting workers, 29k with the leader alone). Helpers wake
// every HELPER_TICK_MS while the leader is awake, and take queued requests only while the leader
// has been on one request since their last tick: a slow request holds up nobody for more than about
// two ticks. Helping whenever the leader was busy cost 10–30% of the throughput above. An idle
// daemon sleeps.
import fs from 'node:fs';
import { constants as osc } from 'node:os';
import * as native from '@sysbox/native';
import { releaseHeap } from '@sysbox/common/daemon/memory-release';
import { parentPort, workerData } from 'node:worker_threads';
import { dispatch, releaseCounted, type Listing, type PageRecords, type PageTables } from './dispatch.js';
import { RenderCache } from './render-cache.js';
import { KeptPages, LONG_TABLE } from './kept-pages.js';
import { HostFileIndex } from './host-file-index.js';
import { FOPEN_DIRECT_IO, Opcode, notifyInvalInode, notifyStore } from './protocol.js';
import { errnoName } from '../errno-name.js';
import { Control, loadTree, shrunkIndex, type WorkerConfig, type WorkerMessage } from './worker-config.js';
import type { FileTree } from '../tree.js';

function post(msg: WorkerMessage): void {
  parentPort?.postMessage(msg);
}

const PAGE = 4096;
const HELPER_TICK_MS = 1;
const ENODEV = osc.errno.ENODEV;

/** Why a worker stopped, from a failed exchange's errno. */
function stopReason(errno: number): string {
  if (errno === ENODEV) return 'unmounted'; // the connection was aborted (unmount)
  return `read /dev/fuse: ${errnoName(errno)}`;
}

/** Whether a worker may store data into a page now (take), and its giving that turn back. */
interface StoreTurn {
  take(): boolean;
  give(): void;
}

/** Never: an empty store locks no page. */
const NO_STORE: StoreTurn = { take: () => false, give: () => {} };

/**
 * At most one /dev/fuse worker stores at a time: a store locks the pages it covers, which a READ in
 * flight may hold until a worker answers it, so one worker stays free to answer that READ.
 */
function oneStorerAtATime(control: Int32Array): StoreTurn {
  return {
    take: () => Atomics.compareExchange(control, Control.Storing, 0, 1) === 0,
    give: () => void Atomics.store(control, Control.Storing, 0),
  };
}

/**
 * A ring worker always may: the READ holding the page waits in its own CPU's queue, which no other
 * worker serves, so its notifies are written by its storer thread while it serves that queue
 * (Server.storeServingOthers). Written by the worker itself, a store waited there for ever: the
 * page-cache e2e hung with `cat /proc/uptime` in D state on the page lock, and the ring worker in
 * INVAL_INODE's invalidate_inode_pages2 with that READ behind it.
 */
const RING_STORES: StoreTurn = { take: () => true, give: () => {} };

/**
 * Grows ino's i_size to offset + data.length before an OPEN is answered: splice readers (busybox
 * cat's sendfile) read through the page cache up to i_size without asking for attributes, so a size
 * a short READ shrank would cut content that grew since. Only a store with data moves i_size
 * (protocol.ts notifyStore), and it locks the pages it covers (StoreTurn says when a worker may);
 * a worker without the turn sends an empty store, which only marks the size stale.
 */
function sizeGrower(write: (notify: Buffer) => void, turn: StoreTurn): (ino: bigint, offset: bigint, data: Buffer, replacing?: boolean) => void {
  return (ino, offset, data, replacing = false) => {
    const alone = data.length > 0 && turn.take();
    try {
      // A store writes into the page the kernel still has, in place. If busybox cat sent that page
      // to a pipe (sendfile) that its reader has not drained, the reader would see the new rendering
      // instead of the one cat read: kernel/random/uuid by cat then dd showed one value twice
      // (1 round in 15-30 here). So a replaced rendering's page leaves the file first.
      if (alone && replacing) {
        try { write(notifyInvalInode(ino)); } catch { /* inode not cached */ }
      }
      write(notifyStore(ino, alone ? offset : offset + BigInt(data.length), alone ? data : undefined));
    } catch { /* inode not cached */ } finally {
      if (alone) turn.give();
    }
  };
}

/**
 * The shared records of kept pages. A new rendering is stored into the inode before the OPEN that
 * drops the old pages is answered: i_size grows to its length if smaller (a short refill shrinks it
 * if larger), and the attribute version moves on (no READ in flight shrinks i_size to an older
 * rendering's length).
 */
function pageRecords(kept: KeptPages, grow: (ino: bigint, offset: bigint, data: Buffer, replacing?: boolean) => void, hostFiles?: HostFileIndex): PageRecords {
  return {
    ...(hostFiles ? { noteHostFile: (ino: bigint, path: string) => hostFiles.note(ino, path) } : {}),
    fh: kept.fh,
    held: (ino) => kept.held(ino),
    open(ino, rendering) {
      const { answer, replacing } = kept.openReplacing(ino, rendering);
      if (answer === 'refill') grow(ino, 0n, rendering, replacing);
      return answer;
    },
    forget: (ino) => void kept.record(ino, undefined),
    refresh: (ino, rendering) => kept.refresh(ino, rendering),
    version: (ino) => kept.version(ino),
    opens: (ino) => kept.opens(ino),
    release: (ino, fh) => kept.release(ino, fh),
  };
}

/** pageRecords of the short renderings' table and of the long ones' (VirtualFile.longRendering). */
function pageTables(short: KeptPages, long: KeptPages, grow: (ino: bigint, offset: bigint, data: Buffer, replacing?: boolean) => void, hostFiles?: HostFileIndex): PageTables {
  return { short: pageRecords(short, grow, hostFiles), long: pageRecords(long, grow) };
}

/**
 * The short table: in the ring arena where it has one (every worker of the process maps the same
 * memory, and the keeper's holders count the OPENs they answer there), else the session's buffer.
 */
function shortTable(cfg: WorkerConfig): { short: KeptPages; hostFiles?: HostFileIndex } {
  let inArena: ReturnType<typeof native.uringKeptTable> = null;
  try {
    if (cfg.keptInArena !== undefined) inArena = native.uringKeptTable(cfg.keptInArena);
  } catch {
    // A Node built with the V8 sandbox refuses ArrayBuffers over outside memory. The holders then
    // find no record in the arena's table (every worker's would throw alike) and answer no OPEN.
  }
  if (!inArena) return { short: new KeptPages(cfg.keptPages) };
  return { short: new KeptPages(inArena.table, { sets: inArena.sets, entryBytes: inArena.entryBytes }), hostFiles: new HostFileIndex(inArena.hostFiles) };
}

class Server {
  private readonly buf: Buffer;
  private readonly pages: PageTables;
  private readonly grow: (ino: bigint, offset: bigint, data: Buffer, replacing?: boolean) => void;
  private readonly cache = new RenderCache();
  private readonly listings = new RenderCache<Listing>();
  private readonly shrunk: Uint8Array;
  /** The reply to the request last taken, written by the next exchange. */
  private pending: Buffer | null = null;
  private readonly control: Int32Array;
  /** The CollectSeq of the last GC asked for and run. */
  private collected: number;
  /** A ring worker's native server handle (uringServe). */
  private ring: number | undefined;
  /** uringExchange's released: up to 8 RELEASEs a holder answered, [count, ino lo, ino hi, fh, ...]. */
  private readonly released = new Uint32Array(1 + 3 * 8);
  /** A ring worker's requests served while a store waits (storeServingOthers), and their page records, which store no data. */
  private readonly side: { buf: Buffer; pages: PageTables } | undefined;

  constructor(private readonly cfg: WorkerConfig, private readonly tree: FileTree) {
    this.buf = Buffer.alloc(cfg.bufferSize);
    this.shrunk = new Uint8Array(cfg.shrunkInodes);
    this.control = new Int32Array(cfg.control);
    const { short, hostFiles } = shortTable(cfg);
    const long = new KeptPages(cfg.keptLongPages, LONG_TABLE);
    const writeSelf = (notify: Buffer): void => void fs.writeSync(cfg.fd, notify);
    if (cfg.uringQid !== undefined) {
      this.grow = sizeGrower((notify) => this.storeServingOthers(notify), RING_STORES);
      this.side = { buf: Buffer.alloc(cfg.bufferSize), pages: pageTables(short, long, sizeGrower(writeSelf, NO_STORE), hostFiles) };
    } else {
      this.grow = sizeGrower(writeSelf, cfg.workerCount > 1 ? oneStorerAtATime(this.control) : NO_STORE);
    }
    this.pages = pageTables(short, long, this.grow, hostFiles);
    this.collected = Atomics.load(this.control, Control.CollectSeq);
  }

  /** Serves the ring queue of handle from now on (takeFromRing). */
  useRing(handle: number): void {
    this.ring = handle;
  }

  /**
   * A ring worker's notify, written by its storer thread while this thread answers the other
   * requests of its queue: among them may be the READ that holds the page the notify locks. Those
   * are served by records that store no data (an empty store locks nothing), so no store nests.
   */
  private storeServingOthers(notify: Buffer): void {
    const { ring, side, cfg } = this;
    if (ring === undefined || !side) throw new Error('storeServingOthers without a ring');
    native.uringStoreBegin(ring, cfg.fd, notify);
    let reply: Buffer | null = null;
    for (;;) {
      const n = native.uringStoreWait(ring, reply, side.buf);
      if (n <= 0) return;
      const request = side.buf.subarray(0, n);
      this.markShrunk(request);
      reply = dispatch(request, this.tree, cfg.dispatch, this.cache, this.listings, side.pages) ?? emptyReply(request.readBigUInt64LE(8));
    }
  }

  /** A page-sized READ at a page boundary (how the page cache asks) marks its inode (see handle()). */
  private markShrunk(request: Buffer): void {
    if (request.readUInt32LE(4) !== Opcode.READ || request.length < 64 || request.readUInt32LE(56) !== PAGE || request.readUInt32LE(48) % PAGE !== 0) return;
    Atomics.store(this.shrunk, shrunkIndex(request.readBigUInt64LE(16), this.shrunk.length), 1);
  }

  /**
   * Writes the pending reply, then takes the next request (trying for spinMicros, then sleeping if
   * block). Returns its length, 0 if none came, or why to stop.
   */
  take(spinMicros: number, block: boolean): number | string {
    return this.exchange(this.buf, spinMicros, block);
  }

  /** The tree's housekeeping (FileTree.idle), between requests; a memory-reducing GC when the main thread asked. */
  idle(): void {
    try {
      this.tree.idle?.();
    } catch (e) {
      post({ type: 'error', message: (e as Error).message });
    }
    const seq = Atomics.load(this.control, Control.CollectSeq);
    if (seq !== this.collected) {
      this.collected = seq;
      releaseHeap();
    }
  }

  /** Writes the pending reply, if any, taking nothing; returns why to stop, if it must. */
  flush(): string | undefined {
    if (!this.pending) return undefined;
    const r = this.exchange(null, 0, false);
    return typeof r === 'string' ? r : undefined;
  }

  private exchange(request: Buffer | null, spinMicros: number, block: boolean): number | string {
    const reply = this.pending;
    this.pending = null;
    try {
      const n = native.fuseExchange(this.cfg.fd, reply, request, spinMicros, block);
      return n < 0 ? stopReason(-n) : n;
    } catch (e) {
      post({ type: 'error', message: (e as Error).message });
      return 0;
    }
  }

  /**
   * FUSE over io_uring (cfg.uringQid): hands the pending reply to the keeper's holder thread, which
   * commits it to the ring, then waits for the next request in this CPU's slots (0: none came
   * within a second). A ring entry comes back only with a commit, so a request that got no reply
   * (none expected) is given an empty one.
   */
  takeFromRing(ring: number, answered: boolean): number | string {
    let reply = this.pending;
    this.pending = null;
    if (answered && !reply) reply = emptyReply(this.buf.readBigUInt64LE(8));
    try {
      const n = native.uringExchange(ring, answered ? reply : null, this.buf, this.released);
      if (n > 0) this.uncountReleased();
      return n < 0 ? stopReason(-n) : n;
    } catch (e) {
      post({ type: 'error', message: (e as Error).message });
      return `io_uring: ${(e as Error).message}`;
    }
  }

  /**
   * The RELEASEs the ring holders answered themselves (native AnswerHere), taken by the last
   * exchange: their handles are uncounted here, as dispatch does for a RELEASE it is given.
   */
  private uncountReleased(): void {
    const r = this.released;
    for (let i = 0; i < r[0]!; i++) {
      releaseCounted(this.pages, (BigInt(r[2 + 3 * i]!) << 32n) | BigInt(r[1 + 3 * i]!), BigInt(r[3 + 3 * i]!));
    }
    r[0] = 0;
  }

  /** Builds the reply to the request take() returned; the next take() or flush() writes it. */
  handle(n: number): void {
    const { cfg, buf } = this;
    const reply = dispatch(buf.subarray(0, n), this.tree, cfg.dispatch, this.cache, this.listings, this.pages);
    if (!reply) return;
    // sendfile()/splice() (busybox cat) read FUSE files through the page cache even with
    // FOPEN_DIRECT_IO on this kernel, and stop at the inode's size, which a short page-cache READ
    // shrinks to that read's length: content that grew since (uptime 9.99 → 10.00) would be cut.
    // So a page-sized READ at a page boundary (how the page cache asks) marks the inode, and the
    // next successful direct-I/O OPEN of a marked inode grows the size back first (sizeGrower). Not
    // a page-cached open: such a file's size is its kept rendering's (pageRecords), and a kept page
    // must not be read past it.
    this.markShrunk(buf.subarray(0, n));
    if (buf.readUInt32LE(4) === Opcode.OPEN && reply.readInt32LE(4) === 0 && reply.length >= 28 && (reply.readUInt32LE(24) & FOPEN_DIRECT_IO) !== 0) {
      const ino = buf.readBigUInt64LE(16);
      // A page-cached inode opened direct I/O beside counted handles: its size is theirs to keep.
      if (Atomics.exchange(this.shrunk, shrunkIndex(ino, this.shrunk.length), 0) === 1 && this.pages.short.held(ino) === undefined && this.pages.long.held(ino) === undefined) {
        // A zero byte at st_size - 1: the page's bytes past the content are zeros already.
        this.grow(ino, BigInt(cfg.dispatch.fileSize - 1), Buffer.alloc(1));
      }
    }
    this.pending = reply;
  }
}

function lead(server: Server, cfg: WorkerConfig, control: Int32Array): string {
  for (;;) {
    let n = server.take(cfg.spinMicros, false);
    if (n === 0) {
      // Nothing came during the spin: sleep, and let helpers sleep too.
      server.idle();
      Atomics.store(control, Control.LeaderIdle, 1);
      try {
        n = server.take(0, true);
      } finally {
        Atomics.store(control, Control.LeaderIdle, 0);
        Atomics.notify(control, Control.LeaderIdle);
      }
    }
    if (typeof n === 'string') return n;
    if (n === 0) continue;
    Atomics.add(control, Control.LeaderSeq, 1);
    Atomics.store(control, Control.LeaderBusy, 1);
    try {
      server.handle(n);
    } finally {
      Atomics.store(control, Control.LeaderBusy, 0);
    }
  }
}

function help(server: Server, control: Int32Array): string {
  let seen = -1;
  for (;;) {
    if (Atomics.load(control, Control.Stopped) === 1) return 'leader exited';
    if (Atomics.load(control, Control.LeaderIdle) === 1) Atomics.wait(control, Control.LeaderIdle, 1);
    else Atomics.wait(control, Control.Stopped, 0, HELPER_TICK_MS);
    server.idle();
    const seq = Atomics.load(control, Control.LeaderSeq);
    const stuck = seq === seen && Atomics.load(control, Control.LeaderBusy) === 1;
    seen = seq;
    while (stuck && Atomics.load(control, Control.LeaderSeq) === seq) {
      const n = server.take(0, false);
      if (typeof n === 'string') return n;
      if (n === 0) break;
      server.handle(n);
    }
    const failed = server.flush();
    if (failed) return failed;
  }
}

/** fuse_out_header alone: error 0, no body. */
function emptyReply(unique: bigint): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(16, 0);
  b.writeBigUInt64LE(unique, 8);
  return b;
}

/** Requests a ring worker serves between two housekeeping calls when it is never a second idle. */
const IDLE_EVERY = 4096;

/** A worker bound to one CPU, serving that CPU's ring slots (the keeper's holder owns the ring: native fuse-uring.cc). */
function serveRing(server: Server, cfg: WorkerConfig, qid: number): string {
  if (cfg.uringArena === undefined) throw new Error('uringQid without uringArena');
  const ring = native.uringServe(cfg.uringArena, qid, cfg.uringAdopt === true);
  server.useRing(ring);
  post({ type: 'ready' });
  let answered = false;
  let served = 0;
  for (;;) {
    const n = server.takeFromRing(ring, answered);
    if (typeof n === 'string') return n;
    // The housekeeping the /dev/fuse workers do between requests (a GC the main thread asked for
    // after removals, closing a removed container's cgroup files): after a second with no request,
    // and every IDLE_EVERY requests under a load that never lets up. Without it the ring workers,
    // which serve nearly every request, kept their heaps at what a /proc storm grew them to
    // (sysbox-fs 165 MiB after the density bench's removal, 109 fresh) and removed containers'
    // cgroup files open.
    if (n === 0 || ++served % IDLE_EVERY === 0) server.idle();
    answered = n !== 0;
    if (n !== 0) server.handle(n);
  }
}

function serve(cfg: WorkerConfig): string {
  const server = new Server(cfg, loadTree(cfg.treeModule, cfg.treeConfig));
  const control = new Int32Array(cfg.control);
  if (cfg.uringQid !== undefined) return serveRing(server, cfg, cfg.uringQid);
  post({ type: 'ready' });
  if (!cfg.leader) return help(server, control);
  try {
    return lead(server, cfg, control);
  } finally {
    Atomics.store(control, Control.Stopped, 1);
    Atomics.notify(control, Control.Stopped);
    Atomics.store(control, Control.LeaderIdle, 0);
    Atomics.notify(control, Control.LeaderIdle);
  }
}

try {
  post({ type: 'exit', reason: serve(workerData as WorkerConfig) });
} catch (e) {
  post({ type: 'error', message: e instanceof Error ? e.stack ?? e.message : String(e) });
}
