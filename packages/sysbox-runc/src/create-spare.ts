// A pre-started `sysbox-runc create` (docs/design.md, "Pre-started create"): a Node process with
// create's modules loaded and its sysbox-mgr connection open, started and reaped by sysbox-mgr
// (create-spares.ts there), waiting for a launcher to claim it. It takes Node's start-up, module
// load and exit (~55-80 ms) off `docker run`'s path. It serves creates one claim at a time, its
// files made anew after each, and exits after SPARE_MAX_CREATES (sysbox-mgr then starts another).
//
// The launcher keeps what must stay with the caller: its stdio, fds and LISTEN_FDS pass to runc
// untouched, and it runs `runc create` itself, because the container's init must end up reparented
// to the caller's subreaper (containerd's shim) when runc exits. This process does what create does
// around runc: everything before (checks, Register, transforms, the OOM score written onto the
// launcher, which runc inherits), and after (Created and sysbox-fs's Register, or the release).
//
// Files NAME.in (launcher to spare), NAME.out and NAME.claim, NAME = DIR/PID, DIR named after the
// build (the launcher carries the same name). Claims are exclusive creates of NAME.claim: by a
// launcher, or by this process or sysbox-mgr retiring it, whichever comes first.
//   in:  launcher pid, cwd, SYSBOX_MGR_SOCKET, SYSBOX_FS_SOCKET, SYSBOX_RUNC_PATH, argc, argv...;
//        later runc's exit status
//   out: A (accepted: before this, end of file means "start Node"; after it, a failed create),
//        E<line of stderr>, F (nothing done: start Node), R<n> and n lines (runc and its
//        arguments), S<exit status>
// This process holds both fifos read-write until claimed, so neither of the launcher's opens waits
// while it lives; sysbox-mgr opens NAME.out when it reaps one, so a launcher waiting on a dead
// spare's fifo gets end of file. Once the request is in, this process keeps only a read-only end of
// NAME.in: the launcher holds the only writer, so its death (Docker's timeout) is end of file here.
// After its answer the fifos are unlinked and made anew, the claim removed last: a launcher of the
// last create keeps only the old, unlinked fifos.
import fs from 'node:fs';
import net from 'node:net';
import { GLOBAL_FLAGS, parseFlags, UsageError } from './cli/flags.js';
import { applyGlobalFlags, resetGlobalFlags } from './cli/setup.js';
import { globalContext, type GlobalContext } from './context.js';
import { runcPath } from './executor.js';
import { elapsedMs, log, logFatal, redirectStderr } from './log.js';
import { connectFs } from './lifecycle/fs.js';
import { connectMgr } from './lifecycle/mgr.js';
import type { FsClient, MgrClient } from '@sysbox/common';
import { procOomScore } from './lifecycle/oom-score.js';
import { beforeRunc } from './commands/create.js';
import { claimSpare, SpareExit } from '@sysbox/common/create-spare';

/** How often an unclaimed spare checks that sysbox-mgr (its parent) is still there. */
const PARENT_POLL_MS = 1_000;
/** The request's fixed lines before argv. */
const HEADER_LINES = 6;

class LineReader {
  private buf = '';
  private waiting: ((line: string | undefined) => void) | undefined;
  private lines: string[] = [];
  private ended = false;
  readonly socket: net.Socket;

  constructor(fd: number) {
    this.socket = new net.Socket({ fd, readable: true, writable: false });
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => {
      this.buf += chunk;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      this.wake();
    });
    this.socket.on('end', () => { this.ended = true; this.wake(); });
    this.socket.on('error', () => { this.ended = true; this.wake(); });
  }

  private wake(): void {
    if (!this.waiting || (this.lines.length === 0 && !this.ended)) return;
    const w = this.waiting;
    this.waiting = undefined;
    w(this.lines.shift());
  }

  /** The next line, or undefined at end of file. */
  next(): Promise<string | undefined> {
    return new Promise((resolve) => { this.waiting = resolve; this.wake(); });
  }
}

/**
 * Whether `pid` is the launcher that claimed us: its fd 8 is our NAME.in (a pid of another pid
 * namespace names another process) and it shares our mount namespace (create binds special dirs
 * and resolves paths in the caller's).
 */
function isOurLauncher(pid: number, inFd: number): boolean {
  try {
    const theirs = fs.statSync(`/proc/${pid}/fd/8`);
    const ours = fs.fstatSync(inFd);
    return theirs.ino === ours.ino && theirs.dev === ours.dev
      && fs.readlinkSync(`/proc/${pid}/ns/mnt`) === fs.readlinkSync('/proc/self/ns/mnt');
  } catch {
    return false;
  }
}

async function readRequest(reader: LineReader): Promise<string[] | undefined> {
  const request: string[] = [];
  for (;;) {
    const line = await reader.next();
    if (line === undefined) return undefined;
    request.push(line);
    if (request.length >= HEADER_LINES && request.length === HEADER_LINES + Number(request[HEADER_LINES - 1])) return request;
  }
}

/** Creates one spare serves before it exits and sysbox-mgr starts a fresh one: bounds what a long life could gather. */
export const SPARE_MAX_CREATES = 100;

/** What a spare keeps from one create to the next. */
interface Spare {
  own: GlobalContext;
  mgr: MgrClient;
  /**
   * sysbox-fs connections by socket: the one of the spare's own flags, opened at start, and the
   * last other one a request named (kept for the next: a sysbox-mgr started with other sockets
   * than the defaults has its launchers name the same one every time).
   */
  fsds: Map<string, FsClient>;
  inPath: string;
  outPath: string;
  claimPath: string;
  /** sysbox-mgr, which started this spare: once it is gone, this spare retires. */
  parent: number;
}

/** How one claim went: served (or failed) a create, sent it to Node, or this spare is to end. */
type Outcome = 'served' | 'declined' | 'ended';

/**
 * Makes NAME.out and NAME.in anew, held read-write (NAME.in last: launchers look for it, and by then
 * both ends are held), then lets NAME.claim go. A launcher that claimed an earlier generation keeps
 * that one's unlinked fifos, never these; one that listed the old NAME.in and claims now gets these.
 */
function arm(native: typeof import('@sysbox/native'), spare: Spare): { inFd: number; outFd: number } {
  for (const f of [spare.inPath, spare.outPath]) fs.rmSync(f, { force: true });
  native.mkfifo(spare.outPath, 0o600);
  const outFd = fs.openSync(spare.outPath, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  native.mkfifo(spare.inPath, 0o600);
  const inFd = fs.openSync(spare.inPath, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  fs.rmSync(spare.claimPath, { force: true });
  return { inFd, outFd };
}

/**
 * Serves creates one claim at a time, up to SPARE_MAX_CREATES, its files made anew after each: a
 * spare that exited after one cost every `docker run` a Node start (~70 ms of CPU, bench/README.md)
 * 400 ms later, on two cores in the middle of whatever ran next. What a create sets in this process
 * (cwd, the two socket variables, log options and executor, stderr's relay) is set for each request
 * and put back after it.
 */
export async function serveCreates(dir: string, ownArgv: readonly string[]): Promise<void> {
  const own = globalContext(parseFlags(ownArgv, GLOBAL_FLAGS));
  const mgr = connectMgr(own.mgrSocket);
  // Both connections opened now, off any create's path (a status call changes nothing): a
  // connection opened at the claim cost PreRegister its connect and HTTP/2 handshake.
  mgr.status({}).catch(() => {});
  const ownFsd = connectFs(own.fsSocket);
  ownFsd.status({}).catch(() => {});
  const name = `${dir}/${process.pid}`;
  const spare: Spare = { own, mgr, fsds: new Map([[own.fsSocket, ownFsd]]), inPath: `${name}.in`, outPath: `${name}.out`, claimPath: `${name}.claim`, parent: process.ppid };
  // Loaded here only, as in special-dir-binds.ts (a plain create does not need the addon).
  const native = require('@sysbox/native') as typeof import('@sysbox/native');
  const ownCwd = process.cwd();
  const ownEnv = { mgr: process.env.SYSBOX_MGR_SOCKET, fs: process.env.SYSBOX_FS_SOCKET };
  let exitStatus: number = SpareExit.retired;
  const counts = { served: 0, declined: 0 };
  // What it has done, for `ps` (and the tests): the keeper only hears of a spare when it exits.
  const showCounts = (): void => { process.title = `sysbox-runc create spare: served ${counts.served}, declined ${counts.declined}`; };
  showCounts();
  try {
    for (let n = 0; n < SPARE_MAX_CREATES && process.ppid === spare.parent; n++) {
      const fds = arm(native, spare);
      let outcome: Outcome;
      try {
        outcome = await serveOne(spare, fds.inFd, fds.outFd);
      } finally {
        fs.closeSync(fds.outFd);
        process.chdir(ownCwd);
        setEnv('SYSBOX_MGR_SOCKET', ownEnv.mgr);
        setEnv('SYSBOX_FS_SOCKET', ownEnv.fs);
        redirectStderr();
        resetGlobalFlags();
      }
      if (outcome === 'ended') return;
      counts[outcome]++;
      showCounts();
      exitStatus = outcome === 'served' ? SpareExit.served : SpareExit.declined;
    }
    if (process.ppid !== spare.parent) exitStatus = SpareExit.retired;
  } finally {
    removeFiles(spare);
    mgr.close();
    for (const fsd of spare.fsds.values()) fsd.close();
    process.exit(exitStatus);
  }
}

/** Removes the spare's files: no launcher finds or claims it any more. */
function removeFiles(spare: Spare): void {
  for (const f of [spare.inPath, spare.outPath, spare.claimPath]) fs.rmSync(f, { force: true });
}

function setEnv(key: string, value: string | undefined): void {
  if (value) process.env[key] = value;
  else delete process.env[key];
}

/** The request's sysbox-fs connection: the spare's own, or the other one it keeps (made anew for another socket). */
function fsdFor(spare: Spare, socket: string): FsClient {
  const kept = spare.fsds.get(socket);
  if (kept) return kept;
  for (const [other, fsd] of spare.fsds) {
    if (other === spare.own.fsSocket) continue;
    fsd.close();
    spare.fsds.delete(other);
  }
  const fsd = connectFs(socket);
  spare.fsds.set(socket, fsd);
  return fsd;
}

/** Waits for one claim on the files armed and serves it; inFd is closed when it returns, outFd is the caller's. */
async function serveOne(spare: Spare, inFd: number, outFd: number): Promise<Outcome> {
  // Non-blocking: a reply line nobody reads (a launcher gone) is dropped rather than waited on.
  const say = (line: string): void => {
    try { fs.writeSync(outFd, `${line}\n`); } catch { /* EAGAIN: nobody reading */ }
  };
  // sysbox-mgr gone (killed): retire, unless a launcher got here first.
  const watch = setInterval(() => {
    if (process.ppid === spare.parent || !claimSpare(spare.claimPath)) return;
    removeFiles(spare);
    process.exit(SpareExit.retired);
  }, PARENT_POLL_MS);
  // Owns inFd from here: destroying it closes the fd.
  const first = new LineReader(inFd);
  const request = await readRequest(first);
  const readAt = elapsedMs();
  clearInterval(watch);
  if (request === undefined) {
    first.socket.destroy();
    return 'ended';
  }
  const [pidText, cwd, mgrEnv, fsEnv, runcEnv, , ...argv] = request;
  const pid = Number(pidText);
  setEnv('SYSBOX_MGR_SOCKET', mgrEnv);
  setEnv('SYSBOX_FS_SOCKET', fsEnv);
  const globals = parseFlags(argv, GLOBAL_FLAGS);
  const ctx = globalContext(globals);
  // Anything this process did not start for (another sysbox-mgr, a stand-in runc, a caller in
  // another namespace): Node, as before.
  if (runcEnv || ctx.mgrSocket !== spare.own.mgrSocket || globals.rest[0] !== 'create' || !isOurLauncher(pid, inFd)) {
    first.socket.destroy();
    say('F');
    return 'declined';
  }
  // From here the launcher's fd is the only writer of NAME.in: its exit is end of file.
  const reader = new LineReader(fs.openSync(spare.inPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
  first.socket.destroy();
  say('A');
  redirectStderr((text) => { for (const l of text.replace(/\n$/, '').split('\n')) say(`E${l}`); });
  const fsd = fsdFor(spare, ctx.fsSocket);
  let status = 1;
  try {
    process.chdir(cwd!);
    applyGlobalFlags(globals);
    log('debug', `pre-started create claimed by launcher ${pid}: request read at +${readAt}ms`);
    const pending = await beforeRunc(ctx, globals.rest.slice(1), { mgr: spare.mgr, fsd, oomHost: procOomScore(pid) });
    const args = [runcPath, ...pending.runcArgs];
    say(`R${args.length}`);
    for (const a of args) say(a);
    const answer = await reader.next();
    // A launcher gone before saying how runc went: its container is not Docker's to use.
    status = await pending.finish(answer === undefined || !/^\d+$/.test(answer) ? 1 : Number(answer));
  } catch (err) {
    logFatal((err as Error).message);
    status = err instanceof UsageError ? 1 : (err as { exitCode?: number }).exitCode ?? 1;
  } finally {
    reader.socket.destroy();
  }
  say(`S${status}`);
  return 'served';
}
