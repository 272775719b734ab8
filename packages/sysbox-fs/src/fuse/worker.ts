// Worker-thread entry: builds its own FileTree, then loops blocking read → dispatch → write on the
// shared /dev/fuse fd. The kernel hands each request to exactly one reader, so N workers serve N
// requests in parallel without any locking of ours; a blocking read costs no event-loop round trip.
import fs from 'node:fs';
import * as native from '@sysbox/native';
import { parentPort, workerData } from 'node:worker_threads';
import { dispatch } from './dispatch.js';
import { RenderCache } from './render-cache.js';
import { Opcode, notifyStore } from './protocol.js';
import { loadTree, type WorkerConfig, type WorkerMessage } from './worker-config.js';

function post(msg: WorkerMessage): void {
  parentPort?.postMessage(msg);
}

const PAGE = 4096;

const IGNORED_READ_ERRORS = new Set([
  'EINTR', // a signal arrived while blocked: just read again
  'EAGAIN', // only with O_NONBLOCK, which we do not set; harmless to retry
  'ENOENT', // the request was interrupted/aborted between queueing and our read
]);

function serve(cfg: WorkerConfig): string {
  const tree = loadTree(cfg.treeModule, cfg.treeConfig);
  post({ type: 'ready' });
  const buf = Buffer.alloc(cfg.bufferSize);
  const cache = new RenderCache();
  const token = new Int32Array(cfg.spinToken);
  const shrunk = new Uint8Array(cfg.shrunkInodes);
  for (;;) {
    let n: number;
    try {
      if (cfg.spinMicros > 0) {
        const spinner = Atomics.compareExchange(token, 0, 0, 1) === 0;
        try {
          native.awaitReadable(cfg.fd, spinner ? cfg.spinMicros : 0);
        } finally {
          if (spinner) Atomics.store(token, 0, 0);
        }
      }
      // Blocking: if the other worker took the request we were woken for, this waits for the next.
      n = fs.readSync(cfg.fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (IGNORED_READ_ERRORS.has(code)) continue;
      // ENODEV: the file system was unmounted (connection aborted); anything else is fatal too.
      return code === 'ENODEV' ? 'unmounted' : `read /dev/fuse: ${(e as Error).message}`;
    }
    if (n === 0) return 'eof';
    const reply = dispatch(buf.subarray(0, n), tree, cfg.dispatch, cache);
    if (!reply) continue;
    try {
      // sendfile()/splice() (busybox cat) read FUSE files through the page cache even with
      // FOPEN_DIRECT_IO on this kernel, and stop at the inode's size, which a short page-cache
      // READ shrinks to that read's length: content that grew since (uptime 9.99 → 10.00) would
      // be cut. So a page-sized READ at a page boundary (how the page cache asks) marks the
      // inode, and the next successful OPEN of a marked inode grows the size back first (an
      // empty store: no page is touched, so no page lock is taken).
      const opcode = buf.readUInt32LE(4);
      if (opcode === Opcode.READ && n >= 64 && buf.readUInt32LE(56) === PAGE && buf.readUInt32LE(48) % PAGE === 0) {
        Atomics.store(shrunk, Number(buf.readBigUInt64LE(16)) % shrunk.length, 1);
      } else if (opcode === Opcode.OPEN && reply.readInt32LE(4) === 0) {
        const ino = buf.readBigUInt64LE(16);
        if (Atomics.exchange(shrunk, Number(ino) % shrunk.length, 0) === 1) {
          try { fs.writeSync(cfg.fd, notifyStore(ino, BigInt(cfg.dispatch.fileSize))); } catch { /* inode not cached */ }
        }
      }
      fs.writeSync(cfg.fd, reply);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      // ENOENT: the caller was interrupted and the kernel already dropped the request.
      if (code === 'ENOENT') continue;
      if (code === 'ENODEV') return 'unmounted';
      post({ type: 'error', message: `write /dev/fuse: ${(e as Error).message}` });
    }
  }
}

try {
  post({ type: 'exit', reason: serve(workerData as WorkerConfig) });
} catch (e) {
  post({ type: 'error', message: e instanceof Error ? e.stack ?? e.message : String(e) });
}
