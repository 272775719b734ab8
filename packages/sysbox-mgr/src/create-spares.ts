// Keeps pre-started creates (sysbox-runc's create-spare.ts) for sysbox-runc's launcher to claim: each
// is a `node sysbox-runc.js` with create's modules loaded and this daemon's connection open, so a
// `docker run` skips Node's start-up. They run here, in sysbox-mgr's cgroup and credentials, outside
// any container's and Docker's shim's, and are started off every request's path: each serves up
// to sysbox-runc's SPARE_MAX_CREATES creates one after another, and one that exits is replaced a
// moment later, not while the container it served starts.
//
// Safety rests on who holds the fifos (create-spare.ts): a spare holds both while waiting, and when
// one exits this daemon retires its files so that a launcher that claimed it gets end of file and
// never waits forever (docs/design.md, "Pre-started create").
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { claimSpare, CREATE_SPARE_ENV, SpareExit } from '@sysbox/common/create-spare';
import type { Logger } from '@sysbox/common/daemon/logger';

/** How long after a spare exits its replacement starts: not while the container it served starts. */
const REPLACE_DELAY_MS = 400;
/** A spare that exits unclaimed sooner than this after starting is crashing: wait before the next. */
const CRASH_WINDOW_MS = 5_000;
const MAX_BACKOFF_MS = 60_000;

/**
 * The build a sysbox-runc.js belongs to: the launcher beside it carries the same name (stamped by
 * scripts/bundle.mjs with the same hash), so it only ever claims spares of its own build.
 */
export function createSpareBuild(script: Buffer): string {
  return crypto.createHash('sha256').update(script).digest('hex').slice(0, 16);
}

/** Where spares live for sysbox-mgr's socket: the launcher finds them from the socket it is given. */
export function createSparesRoot(mgrSocket: string): string {
  return `${mgrSocket}.create-spares`;
}

/**
 * Removes a spare's files so that no launcher can wait on them: NAME.out is held open for writing
 * while the names go, so a launcher that opened it (or is opening it) meanwhile gets end of file
 * once it is closed, and one that comes later finds no file; both start Node instead.
 */
function retireFiles(name: string): void {
  let hold: number | undefined;
  try {
    hold = fs.openSync(`${name}.out`, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  } catch {
    // gone already
  }
  for (const ext of ['.in', '.out', '.claim']) fs.rmSync(`${name}${ext}`, { force: true });
  if (hold !== undefined) fs.closeSync(hold);
}

/** Whether pid is a waiting spare started for dir (and so may be ended). */
function isSpareOf(pid: number, dir: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${CREATE_SPARE_ENV}=${dir}`);
  } catch {
    return false;
  }
}

/**
 * Clears what spares of an earlier sysbox-mgr left in root (any build): waiting ones are claimed and
 * ended, files of dead ones retired; one a launcher claimed finishes its create and removes its own.
 * Directories of other builds go once empty.
 */
export function clearStaleSpares(root: string, currentDir: string): void {
  let builds: string[];
  try {
    builds = fs.readdirSync(root);
  } catch {
    return;
  }
  for (const build of builds) {
    const dir = path.join(root, build);
    let files: string[];
    try {
      files = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const pidText of new Set(files.map((f) => f.replace(/\.(in|out|claim)$/, '')))) {
      const name = path.join(dir, pidText);
      const pid = Number(pidText);
      const live = Number.isInteger(pid) && pid > 0 && isSpareOf(pid, dir);
      if (!live) retireFiles(name);
      else if (claimSpare(`${name}.claim`)) {
        process.kill(pid, 'SIGKILL');
        retireFiles(name);
      }
    }
    if (dir === currentDir) continue;
    try {
      fs.rmdirSync(dir);
    } catch {
      // a claimed spare of that build is still finishing: the next start removes it
    }
  }
}

export interface CreateSparesOptions {
  mgrSocket: string;
  /** How many to keep waiting (0: none). */
  count: number;
  /** The sysbox-runc.js spares run (beside sysbox-mgr when installed). */
  script: string;
  log: Logger;
}

export class CreateSpareKeeper {
  private readonly root: string;
  private readonly waiting = new Map<number, { child: ChildProcess; name: string; startedAt: number }>();
  private stopped = false;
  private backoffMs = 0;
  private pendingStarts = 0;
  private cachedBuild: { key: string; build: string } | undefined;

  constructor(private readonly o: CreateSparesOptions) {
    this.root = createSparesRoot(o.mgrSocket);
  }

  /** Clears an earlier daemon's spares and starts the first ones, after the current turn of the loop. */
  start(): void {
    const dir = this.currentDir();
    clearStaleSpares(this.root, dir ?? '');
    if (this.o.count <= 0) return;
    if (dir === undefined) {
      this.o.log.info(`create spares off: no ${this.o.script}`);
      return;
    }
    for (let i = 0; i < this.o.count; i++) this.startLater(0);
  }

  /** Ends the waiting spares (claimed first, so no launcher gets one); a claimed one finishes its create. */
  stop(): void {
    this.stopped = true;
    for (const [pid, s] of this.waiting) {
      if (!claimSpare(`${s.name}.claim`)) continue;
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      retireFiles(s.name);
    }
    this.waiting.clear();
    const log = path.join(this.root, 'spares.log');
    try {
      if (fs.statSync(log).size === 0) fs.rmSync(log);
    } catch {
      // none
    }
    // Empty now unless a claimed spare is finishing (it removes its own files; the next start the rest)
    // or the spares wrote to their log (kept for the operator).
    for (const dir of [this.currentDir(), this.root]) {
      try {
        if (dir !== undefined) fs.rmdirSync(dir);
      } catch {
        // not empty, or never made
      }
    }
  }

  /** The spares' directory for the sysbox-runc.js there now (an upgrade in place changes it). */
  private currentDir(): string | undefined {
    try {
      const st = fs.statSync(this.o.script);
      const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
      if (this.cachedBuild?.key !== key) this.cachedBuild = { key, build: createSpareBuild(fs.readFileSync(this.o.script)) };
      return path.join(this.root, this.cachedBuild.build);
    } catch {
      return undefined;
    }
  }

  private startLater(delayMs: number): void {
    this.pendingStarts++;
    setTimeout(() => {
      this.pendingStarts--;
      if (!this.stopped && this.waiting.size + this.pendingStarts < this.o.count) this.startOne();
    }, delayMs);
  }

  private startOne(): void {
    const dir = this.currentDir();
    if (dir === undefined) return;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(this.root, 0o700);
    const env: NodeJS.ProcessEnv = { ...process.env, [CREATE_SPARE_ENV]: dir };
    for (const k of ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'SYSBOX_MGR_SOCKET', 'SYSBOX_FS_SOCKET', 'SYSBOX_RUNC_PATH', 'SYSBOX_TEST_PAUSE_AT']) delete env[k];
    const log = fs.openSync(path.join(this.root, 'spares.log'), 'a', 0o600);
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [this.o.script, `--sysbox-mgr-socket=${this.o.mgrSocket}`],
        { env, detached: true, stdio: ['ignore', 'ignore', log] });
    } finally {
      fs.closeSync(log);
    }
    const pid = child.pid;
    if (pid === undefined) return;
    const spare = { child, name: path.join(dir, String(pid)), startedAt: Date.now() };
    this.waiting.set(pid, spare);
    child.on('exit', (code, signal) => {
      this.waiting.delete(pid);
      // Its own files are gone when it finished; a spare killed leaves them, maybe claimed.
      retireFiles(spare.name);
      const outcome = code === SpareExit.served ? 'served its creates' : code === SpareExit.declined ? 'declined a create (Node ran it)'
        : code === SpareExit.retired ? 'retired' : `exited (${signal ?? `status ${code}`})`;
      this.o.log.debug(`create spare ${pid} ${outcome}`);
      if (this.stopped) return;
      const crashed = code !== SpareExit.served && code !== SpareExit.declined && Date.now() - spare.startedAt < CRASH_WINDOW_MS;
      this.backoffMs = crashed ? Math.min(MAX_BACKOFF_MS, Math.max(1_000, this.backoffMs * 2)) : 0;
      if (crashed) this.o.log.warn(`create spare ${pid} ${outcome} soon after starting; next one in ${this.backoffMs / 1000} s`);
      this.startLater(Math.max(REPLACE_DELAY_MS, this.backoffMs));
    });
  }
}
