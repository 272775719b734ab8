// Load and faults (issue 14): many system containers at once and many create/delete cycles leave
// nothing behind in either daemon (mounts, dirs, records, id ranges, fds, processes, memory); a
// full data root and an exhausted id pool make create fail cleanly, naming the cause, without
// disturbing the containers already running.
//
// Sizes are CI-sized (the suite's budget); the env knobs give the issue's sizes for a manual run:
//   SYSBOX_TEST_LOAD_N=50 SYSBOX_TEST_CYCLES=200 SYSBOX_TEST_POOL_K=50 test/run.sh ...
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mgrClient, type StatusReply } from '@sysbox/common';
import {
  BUSYBOX, DOCKER_HOST, FS_KEEPER_SOCKET, FS_SOCKET, SYSBOX_RUNC, FS_STATE_DIR, MGR_DATA_ROOT, MGR_SOCKET, MOUNT_ROOT, containerIdOf, docker,
  dockerOk, fdLinks, fsPid, leftoversOf, makeBundle, mgrPid, mgrRecordFile, processAlive, readPidfile, startMgr, sysboxRunc,
  uniqueName, waitForExit, type Result,
} from '../lib/env.js';

function envInt(name: string, dflt: number): number {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, not ${process.env[name]}`);
  return v;
}

/** Parallel containers (the issue's 50 takes ~2× the CI budget of this file on 2 cores). */
const LOAD_N = envInt('SYSBOX_TEST_LOAD_N', 20);
/** docker run --rm cycles (the issue's 200: 3–6 min here, depending on the machine's load). */
const CYCLES = envInt('SYSBOX_TEST_CYCLES', 30);
/** Ranges in the small pool of the exhaustion test. */
const POOL_K = envInt('SYSBOX_TEST_POOL_K', 3);
/**
 * Allowed RSS growth of each daemon after a warm-up round (the issue's figure). The daemons give
 * freed memory back (full GC, malloc_trim) once quiet for a second after a removal, which
 * settled() waits for.
 */
const RSS_TOLERANCE = 0.10;
const RANGE = 65536;

/** The test daemons' name (test/run.sh's SYSBOX_TEST_NAME): every path of theirs contains it. */
const TEST_NAME = path.basename(DOCKER_HOST).replace(/\.sock$/, '');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function vmRssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** What a process's fds point at (sockets, pipes, anon inodes, files) without their inode numbers, sorted. */
function fdTargets(pid: number): string[] {
  return fdLinks(pid).map((l) => l.replace(/\[\d+\]$/, '')).sort();
}

/** Live child processes of pid (sysbox-mgr's rootfs views, sysbox-fs's helpers). */
function childrenOf(pid: number): string[] {
  const out: string[] = [];
  for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') out.push(`${p} ${fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').trim()}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Files and dirs below dir, relative to it (none if it does not exist). */
function entriesBelow(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      out.push(path.relative(dir, path.join(d, e.name)));
      if (e.isDirectory()) walk(path.join(d, e.name));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}

/** Paths below dir whose name mentions text (a record, its .tmp, a special dir ...). */
function pathsMentioning(dir: string, text: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.name.includes(text)) out.push(p);
      else if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

async function mgrStatus(socket = MGR_SOCKET): Promise<StatusReply> {
  const c = mgrClient(socket);
  try {
    return await c.status({});
  } finally {
    c.close();
  }
}

async function mgrKnownIds(socket = MGR_SOCKET): Promise<string[]> {
  const c = mgrClient(socket);
  try {
    return ((await c.listContainers({})).containers ?? []).map((x) => x.id ?? '');
  } finally {
    c.close();
  }
}

/** What the test daemons hold, for before/after comparisons. */
interface Footprint {
  mgrRssKiB: number;
  fsRssKiB: number;
  mgrFds: string[];
  fsFds: string[];
  /** sysbox-fs's fds opened once per thread and kept for good (see oncePerThread). */
  fsOnceFds: string[];
  keeperFds: string[];
  mgrChildren: string[];
  fsChildren: string[];
  /** Host mounts of the test's dockerd, sysbox-mgr and sysbox-fs (their paths name TEST_NAME), and of the ids given. */
  mounts: string[];
  /** Entries of /run/sysbox-containers that belong to this test's sysbox-mgr or to the ids given (the dir is shared with other test runs). */
  runDirs: string[];
  mgrDataEntries: string[];
  fsStateEntries: string[];
  rangesFree: number;
  mgrContainers: number;
}

function keeperPid(): number | undefined {
  return readPidfile(`${FS_KEEPER_SOCKET}.pid`);
}

async function footprint(ids: readonly string[]): Promise<Footprint> {
  const mine = new Set([...ids, ...(await mgrKnownIds())]);
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .filter((l) => l.includes(TEST_NAME) || [...mine].some((id) => l.includes(id)))
    .map((l) => l.split(' ').slice(4, 5).join(' ')).sort();
  const runDirs = fs.readdirSync(MOUNT_ROOT).filter((d) => mine.has(d)).sort();
  const status = await mgrStatus();
  const keeper = keeperPid();
  const fsFds = fdTargets(fsPid());
  return {
    mgrRssKiB: vmRssKiB(mgrPid()), fsRssKiB: vmRssKiB(fsPid()),
    mgrFds: fdTargets(mgrPid()), fsFds: fsFds.filter((t) => !oncePerThread(t)), fsOnceFds: fsFds.filter(oncePerThread),
    keeperFds: keeper === undefined ? [] : fdTargets(keeper),
    mgrChildren: childrenOf(mgrPid()), fsChildren: childrenOf(fsPid()),
    mounts, runDirs,
    mgrDataEntries: entriesBelow(MGR_DATA_ROOT), fsStateEntries: entriesBelow(FS_STATE_DIR),
    rangesFree: Number(status.subidRangesFree), mgrContainers: Number(status.containers),
  };
}

/**
 * fds sysbox-fs opens on first use in a thread and keeps for the process's life, whichever
 * container asked first: each FUSE worker's kept host /proc files (kept-files.ts), the host
 * settings it read (host-passthrough.ts; its private procfs names them /sys/...: bounded per
 * thread, the oldest closed first) and the home network namespace readInNetns returns to
 * (netns.cc). Which worker serves a request depends on timing, so a later round can open one a
 * warm-up round did not: counted apart, and bounded.
 */
function oncePerThread(target: string): boolean {
  return /^\/proc\/[a-z]+$/.test(target) || target.startsWith('/sys/') || target === 'net:';
}
/** sysbox-fs's threads that open such fds: 2 FUSE workers, the seccomp worker, the main thread. */
const FS_THREADS = 4;

/** Counts that must come back exactly (fds after the daemons have settled). */
const EXACT: (keyof Footprint)[] = ['mgrFds', 'fsFds', 'keeperFds', 'mounts', 'runDirs', 'mgrDataEntries', 'fsStateEntries', 'rangesFree', 'mgrContainers'];
const RSS: ('mgrRssKiB' | 'fsRssKiB')[] = ['mgrRssKiB', 'fsRssKiB'];

function rssWithin(now: Footprint, target: Footprint): boolean {
  return RSS.every((k) => now[k] <= target[k] * (1 + RSS_TOLERANCE));
}

/** Polls of 250 ms a baseline waits at least: the daemons release memory 1 s after the last removal. */
const BASELINE_MIN_POLLS = 10;

/**
 * Waits (up to 15 s) until the ids have nothing left and the exact counts are back to target's
 * and the RSS within tolerance of it, or, without a target (a baseline), have stopped changing
 * and the daemons have had time to release memory: release on init exit and sysbox-fs's
 * forgetting are asynchronous to `docker rm`. Returns the last footprint.
 */
async function settled(ids: readonly string[], target?: Footprint): Promise<Footprint> {
  let now = await footprint(ids);
  for (let i = 0; i < 60; i++) {
    await sleep(250);
    const prev = now;
    now = await footprint(ids);
    const ready = target ? rssWithin(now, target) : i + 1 >= BASELINE_MIN_POLLS;
    if (ready && EXACT.every((k) => same(now[k], (target ?? prev)[k])) && ids.every((id) => leftoversOf(id).length === 0)) break;
  }
  return now;
}

/** Equal counts (for lists: equal lengths; which entries differs with pids and inode numbers). */
function same(a: Footprint[keyof Footprint], b: Footprint[keyof Footprint]): boolean {
  return Array.isArray(a) && Array.isArray(b) ? a.length === b.length : a === b;
}

/** "N before, M after" with what appeared and what went, for lists. */
function describeChange(b: Footprint[keyof Footprint], a: Footprint[keyof Footprint]): string {
  if (!Array.isArray(a) || !Array.isArray(b)) return `${String(b)} before, ${String(a)} after`;
  const count = (xs: string[]): Map<string, number> => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const cb = count(b);
  const ca = count(a);
  const added = [...ca].filter(([x, n]) => n > (cb.get(x) ?? 0)).map(([x, n]) => `+${n - (cb.get(x) ?? 0)} ${x}`);
  const gone = [...cb].filter(([x, n]) => n > (ca.get(x) ?? 0)).map(([x, n]) => `-${n - (ca.get(x) ?? 0)} ${x}`);
  return `${b.length} before, ${a.length} after: ${[...added, ...gone].slice(0, 20).join(', ')}`;
}

function assertNoGrowth(before: Footprint, after: Footprint, ids: readonly string[]): void {
  for (const id of ids) assert.deepEqual(leftoversOf(id), [], `left behind for ${id}`);
  for (const k of EXACT) assert.ok(same(after[k], before[k]), `${k}: ${describeChange(before[k], after[k])}`);
  for (const t of new Set(after.fsOnceFds)) {
    const n = after.fsOnceFds.filter((x) => x === t).length;
    assert.ok(n <= FS_THREADS, `sysbox-fs holds ${n} fds on ${t}: more than one per thread`);
  }
  // As sets: a helper replaced meanwhile (the spare rootfs view) has a new pid.
  assert.deepEqual(after.mgrChildren.map(stripPid).sort(), before.mgrChildren.map(stripPid).sort(), 'sysbox-mgr child processes');
  assert.deepEqual(after.fsChildren.map(stripPid).sort(), before.fsChildren.map(stripPid).sort(), 'sysbox-fs child processes');
  for (const k of RSS) {
    const allowed = before[k] * RSS_TOLERANCE;
    assert.ok(after[k] <= before[k] + allowed, `${k} grew more than ${allowed.toFixed(0)} kB: ${before[k]} kB before, ${after[k]} kB after`);
  }
}

/** A child's command line without its pid, and a create spare's title without its counts (they grow as it serves). */
function stripPid(p: string): string {
  return p.replace(/^\d+ /, '').replace(/create spare: served \d+, declined \d+/, 'create spare');
}

function rssLine(label: string, b: Footprint, a: Footprint): string {
  const pct = (x: number, y: number): string => `${(((y - x) / x) * 100).toFixed(1)}%`;
  return `${label}: sysbox-mgr RSS ${b.mgrRssKiB} -> ${a.mgrRssKiB} kB (${pct(b.mgrRssKiB, a.mgrRssKiB)}), `
    + `sysbox-fs RSS ${b.fsRssKiB} -> ${a.fsRssKiB} kB (${pct(b.fsRssKiB, a.fsRssKiB)}); `
    + `fds mgr ${b.mgrFds.length} -> ${a.mgrFds.length}, fs ${b.fsFds.length} -> ${a.fsFds.length}, keeper ${b.keeperFds.length} -> ${a.keeperFds.length}`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

/** The host uid_map line of a process: [inside, outside, size]. */
function uidMapOf(pid: number): number[] {
  return fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/).map(Number);
}

async function runParallel(names: readonly string[]): Promise<Result[]> {
  return Promise.all(names.map((n) => docker('run', '-d', '--runtime=sysbox-runc', '--name', n, BUSYBOX, 'sleep', '600')));
}

describe('load: many system containers leave nothing behind', () => {
  const names: string[] = [];
  after(async () => {
    if (names.length) await docker('rm', '-f', ...names);
  });

  it(`${LOAD_N} parallel docker run --runtime=sysbox-runc on disjoint ranges; after rm -f nothing of theirs is left`, async (t) => {
    // Warm-up round: lazily allocated memory (heap growth, FUSE worker buffers, code caches) is not a leak.
    const warm = Array.from({ length: LOAD_N }, (_, i) => uniqueName(`loadw${i}`));
    names.push(...warm);
    const wr = await runParallel(warm);
    wr.forEach((r, i) => assert.equal(r.status, 0, `warm-up docker run ${warm[i]} failed: ${r.stderr}`));
    const warmIds = await Promise.all(warm.map((n) => containerIdOf(n)));
    await Promise.all(warm.map((n) => docker('exec', n, 'cat', '/proc/uptime')));
    await dockerOk('rm', '-f', ...warm);
    // The baseline: the data root's top dirs for special dirs, kept host files and the like are made once, by the first container.
    const before = await settled(warmIds);
    for (const id of warmIds) assert.deepEqual(leftoversOf(id), [], `warm-up left behind for ${id}`);

    const batch = Array.from({ length: LOAD_N }, (_, i) => uniqueName(`load${i}`));
    names.push(...batch);
    const t0 = Date.now();
    const results = await runParallel(batch);
    const startMs = Date.now() - t0;
    results.forEach((r, i) => assert.equal(r.status, 0, `docker run ${batch[i]} failed: ${r.stderr}`));
    const ids = await Promise.all(batch.map((n) => containerIdOf(n)));

    // Each init's own uid_map, read on the host: one exclusive range per container.
    const pids = await Promise.all(batch.map(async (n) => Number(await dockerOk('inspect', '-f', '{{.State.Pid}}', n))));
    const ranges = pids.map((pid, i) => {
      const [inside, outside, size] = uidMapOf(pid);
      assert.equal(inside, 0, `${batch[i]}: uid_map ${uidMapOf(pid).join(' ')}`);
      assert.equal(size, RANGE, `${batch[i]}: uid_map ${uidMapOf(pid).join(' ')}`);
      return outside!;
    });
    const sorted = [...ranges].sort((x, y) => x - y);
    for (let i = 1; i < sorted.length; i++) {
      assert.ok(sorted[i - 1]! + RANGE <= sorted[i]!, `ranges overlap: ${sorted[i - 1]} and ${sorted[i]}`);
    }
    const loaded = await footprint(ids);
    assert.equal(loaded.rangesFree, before.rangesFree - LOAD_N, 'each running container holds one range');
    assert.equal(loaded.mgrContainers, before.mgrContainers + LOAD_N);
    // The containers work under load: sysbox-fs serves each one's /proc/uptime.
    const uptimes = await Promise.all(batch.map((n) => docker('exec', n, 'cat', '/proc/uptime')));
    uptimes.forEach((r, i) => assert.match(r.stdout, /^\d+\.\d+ \d+\.\d+/, `${batch[i]}: ${r.stderr}`));

    const t1 = Date.now();
    await dockerOk('rm', '-f', ...batch);
    const rmMs = Date.now() - t1;
    const after = await settled(ids, before);
    t.diagnostic(`${LOAD_N} parallel docker run -d: ${startMs} ms; docker rm -f of all: ${rmMs} ms`);
    t.diagnostic(rssLine(`with ${LOAD_N} running`, before, loaded));
    t.diagnostic(rssLine('after rm -f (vs after the warm-up round)', before, after));
    assertNoGrowth(before, after, ids);
    const ps = await docker('ps', '-aq', '--no-trunc');
    for (const id of ids) assert.ok(!ps.stdout.includes(id), `docker still lists ${id}`);
  });

  it(`${CYCLES} docker run --rm cycles: no growth in mounts, fds, data root, run dirs or memory`, async (t) => {
    const cidDir = fs.mkdtempSync('/tmp/sysbox-e2e-cycles-');
    const ids: string[] = [];
    const cycle = async (i: number): Promise<number> => {
      const cidfile = path.join(cidDir, String(i));
      const t0 = process.hrtime.bigint();
      const r = await docker('run', '--rm', '--runtime=sysbox-runc', '--cidfile', cidfile, BUSYBOX, 'cat', '/proc/uptime');
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      assert.equal(r.status, 0, `cycle ${i}: ${r.stderr}`);
      assert.match(r.stdout, /^\d+\.\d+ \d+\.\d+/, `cycle ${i}: sysbox-fs must serve /proc/uptime`);
      ids.push(fs.readFileSync(cidfile, 'utf8').trim());
      return ms;
    };
    try {
      for (let i = 0; i < 5; i++) await cycle(-1 - i); // warm-up, as above
      const before = await settled(ids);
      for (const id of ids) assert.deepEqual(leftoversOf(id), [], `warm-up left behind for ${id}`);
      const times: number[] = [];
      for (let i = 0; i < CYCLES; i++) times.push(await cycle(i));
      const after = await settled(ids, before);
      t.diagnostic(`${CYCLES} cycles of docker run --rm: median ${median(times).toFixed(0)} ms, mean ${(times.reduce((a, b) => a + b, 0) / times.length).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`);
      t.diagnostic(rssLine(`after ${CYCLES} cycles (vs after 5 warm-up cycles)`, before, after));
      assertNoGrowth(before, after, ids);
    } finally {
      fs.rmSync(cidDir, { recursive: true, force: true });
    }
  });
});

/** A second sysbox-mgr with its own socket, data root and pool, as bad-input.test.ts's. */
class SecondMgr {
  readonly dir: string;
  readonly socket: string;
  readonly pidfile: string;
  readonly subid: string;
  readonly dataRoot: string;
  /** First id of its pool: far from test/run.sh's and bad-input's, and different on each run. */
  readonly poolStart = 3_000_000_000 + Math.floor(Math.random() * 1000) * 16 * RANGE;

  constructor(readonly ranges: number) {
    const name = uniqueName('sbt-mgr3');
    this.dir = `/run/${name}`;
    this.socket = `${this.dir}/sysmgr.sock`;
    this.pidfile = `${this.dir}/sysbox-mgr.pid`;
    this.subid = `${this.dir}/subid`;
    this.dataRoot = `/var/lib/${name}`;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(this.subid, `sysbox:${this.poolStart}:${ranges * RANGE}\n`);
  }

  start(extra: string[] = []): void {
    startMgr(extra, this.socket, this.pidfile, this.dataRoot, this.subid);
  }

  async stop(): Promise<void> {
    const pid = readPidfile(this.pidfile);
    if (pid !== undefined && processAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      if (!(await waitForExit(pid))) process.kill(pid, 'SIGKILL');
    }
  }

  runc(args: string[]): Promise<Result> {
    return sysboxRunc(args, { mgrSocket: this.socket });
  }

  /**
   * `create` with stdio on a file, not pipes: the created init holds runc's stdio until start,
   * so a pipe would not close before then.
   */
  async createDetached(bundle: string, id: string): Promise<Result> {
    const out = path.join(this.dir, `create-${id}.out`);
    const fd = fs.openSync(out, 'w');
    try {
      const child = spawn(SYSBOX_RUNC, ['--root', '/run/sysbox-test-runc', '--sysbox-mgr-socket', this.socket, '--sysbox-fs-socket', FS_SOCKET,
        'create', '--bundle', bundle, id], { stdio: ['ignore', fd, fd] });
      const status = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
      const text = fs.readFileSync(out, 'utf8');
      return { stdout: '', stderr: text, status };
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Removes what it ran and itself (the data root must be unmounted first if it is a mount). */
  async cleanup(ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.runc(['delete', '--force', id]);
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.rmSync(this.dataRoot, { recursive: true, force: true });
    fs.rmSync(`${this.dataRoot}.log`, { force: true });
  }
}

function errorLine(r: Result): string {
  return r.stderr.split('\n').find((l) => /level=error msg=/.test(l)) ?? '';
}

/** Nothing of a refused container anywhere: runc, run dir, mounts, records, files under the data root. */
async function assertNothingLeft(m: SecondMgr, id: string): Promise<void> {
  assert.deepEqual(leftoversOf(id, m.dataRoot), [], `left behind for ${id}`);
  // A release moves the special dirs aside (<data root>/mgr/removing) and removes them after the
  // run dir, off the path of `docker stop`/`rm`: give that removal a moment before judging.
  for (let i = 0; i < 100 && pathsMentioning(m.dataRoot, id).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(pathsMentioning(m.dataRoot, id), [], `files of ${id} left in the data root`);
  assert.notEqual((await m.runc(['state', id])).status, 0, `runc must not know ${id}`);
}

/** Writes a file until the file system is full; returns its size. */
function fillUp(file: string): number {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 << 10, 0xa5);
  let size = 0;
  try {
    for (;;) {
      try {
        size += fs.writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw err;
      }
    }
    // The last partial page, if any.
    for (;;) {
      try {
        size += fs.writeSync(fd, chunk, 0, 512);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw err;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return size;
}

/** Creates empty files until no inode is left; returns how many. */
function useAllInodes(dir: string): number {
  fs.mkdirSync(dir);
  let n = 0;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(path.join(dir, String(n)), 'w'));
      n++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return n;
      throw err;
    }
  }
}

function mountTmpfs(dir: string, options: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
}

function unmount(dir: string): void {
  if (fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir)) {
    execFileSync('umount', ['-l', dir]);
  }
}

describe('data root on a full file system (a second sysbox-mgr on a small tmpfs)', () => {
  const bundles: string[] = [];
  after(() => {
    for (const b of bundles) fs.rmSync(b, { recursive: true, force: true });
  });

  describe('out of space', () => {
    const m = new SecondMgr(4);
    const ids: string[] = [];
    before(() => {
      mountTmpfs(m.dataRoot, 'size=1m,mode=0700');
      m.start();
    });
    after(async () => {
      for (const id of ids) await m.runc(['delete', '--force', id]);
      await m.stop();
      unmount(m.dataRoot);
      await m.cleanup([]);
    });

    it('create fails with ENOSPC naming the data root; nothing half-made; the running container keeps working', async () => {
      const long = await makeBundle(['sh', '-c', 'exec sleep 600 </dev/null >/dev/null 2>&1']);
      const short = await makeBundle(['cat', '/proc/self/uid_map']);
      bundles.push(long, short);
      const a = uniqueName('full-a');
      ids.push(a);
      const ra = await m.runc(['run', '--detach', '--bundle', long, a]);
      assert.equal(ra.status, 0, `a container on the empty data root must start: ${ra.stderr}`);

      const filler = path.join(m.dataRoot, 'filler');
      const filled = fillUp(filler);
      const b = uniqueName('full-b');
      ids.push(b);
      const rb = await m.runc(['create', '--bundle', short, b]);
      assert.notEqual(rb.status, 0, `create on a full data root must fail: ${rb.stdout}`);
      const line = errorLine(rb);
      assert.match(line, /ENOSPC|no space left on device/i, `the error names the cause: ${rb.stderr}`);
      assert.ok(line.includes(m.dataRoot), `the error names the data root ${m.dataRoot}: ${line}`);
      await assertNothingLeft(m, b);
      assert.equal(Number((await mgrStatus(m.socket)).subidRangesFree), 3, 'only a holds a range');

      // a was not disturbed: it runs, sysbox-fs serves it, its rootfs takes writes.
      const st = await m.runc(['state', a]);
      assert.match(st.stdout, /"status": "running"/, st.stderr);
      const ex = await m.runc(['exec', a, 'sh', '-c', 'cat /proc/uptime && echo ok > /tmp/w && cat /tmp/w']);
      assert.equal(ex.status, 0, ex.stderr);
      assert.match(ex.stdout, /^\d+\.\d+ \d+\.\d+\nok\n$/);

      // With space again, the same create succeeds: the disk was the only problem.
      fs.rmSync(filler);
      const c = uniqueName('full-c');
      ids.push(c);
      const rc = await m.runc(['run', '--bundle', short, c]);
      assert.equal(rc.status, 0, `create after freeing ${filled} bytes: ${rc.stderr}`);
      await assertNothingLeft(m, c);

      // Removal of a works on the full disk too (release writes nothing it cannot do without).
      fillUp(filler);
      assert.equal((await m.runc(['kill', a, 'KILL'])).status, 0);
      const del = await m.runc(['delete', '--force', a]);
      assert.equal(del.status, 0, del.stderr);
      await assertNothingLeft(m, a);
      assert.equal(Number((await mgrStatus(m.socket)).subidRangesFree), 4, 'all ranges free again');
    });
  });

  describe('out of inodes, with the rootfs cloned into the data root (--disable-idmapped-mount)', () => {
    const m = new SecondMgr(2);
    const ids: string[] = [];
    before(() => {
      mountTmpfs(m.dataRoot, 'size=64m,nr_inodes=4000,mode=0700');
      m.start(['--disable-idmapped-mount']);
    });
    after(async () => {
      for (const id of ids) await m.runc(['delete', '--force', id]);
      await m.stop();
      unmount(m.dataRoot);
      await m.cleanup([]);
    });

    it('the clone fails with ENOSPC naming the data root; nothing half-made; the running container keeps working', async () => {
      const long = await makeBundle(['sh', '-c', 'exec sleep 600 </dev/null >/dev/null 2>&1']);
      bundles.push(long);
      const a = uniqueName('clone-a');
      ids.push(a);
      const ra = await m.runc(['run', '--detach', '--bundle', long, a]);
      assert.equal(ra.status, 0, `a container with a cloned rootfs must start: ${ra.stderr}`);
      assert.ok(fs.existsSync(path.join(m.dataRoot, 'rootfs', a)), 'a\'s rootfs clone lives in the data root');

      // A rootfs with more entries than inodes are left, but few enough left for the record and dirs.
      const big = await makeBundle(['true']);
      bundles.push(big);
      const many = path.join(big, 'rootfs', 'many');
      fs.mkdirSync(many);
      for (let i = 0; i < 1500; i++) fs.writeFileSync(path.join(many, String(i)), '');
      const spare = path.join(m.dataRoot, 'spare');
      useAllInodes(spare);
      // Keep 200 inodes: the record, its temp file and the container's dirs fit; the 1500 copy-ups do not.
      for (let i = 0; i < 200; i++) fs.rmSync(path.join(spare, String(i)));

      const b = uniqueName('clone-b');
      ids.push(b);
      const rb = await m.runc(['create', '--bundle', big, b]);
      assert.notEqual(rb.status, 0, `create must fail when the clone does not fit: ${rb.stdout}`);
      const line = errorLine(rb);
      assert.match(line, /ENOSPC|no space left on device/i, `the error names the cause: ${rb.stderr}`);
      assert.ok(line.includes(m.dataRoot), `the error names the data root ${m.dataRoot}: ${line}`);
      await assertNothingLeft(m, b);
      assert.equal(fs.readdirSync(path.join(big, 'rootfs', 'many')).length, 1500, 'the bundle\'s rootfs is intact');
      assert.equal(fs.statSync(path.join(big, 'rootfs', 'many', '0')).uid, 0, 'the bundle\'s rootfs owners are unshifted');

      const ex = await m.runc(['exec', a, 'sh', '-c', 'cat /proc/uptime && echo ok > /tmp/w && cat /tmp/w']);
      assert.equal(ex.status, 0, ex.stderr);
      assert.match(ex.stdout, /^\d+\.\d+ \d+\.\d+\nok\n$/);
      assert.equal(Number((await mgrStatus(m.socket)).subidRangesFree), 1, 'only a holds a range');
      fs.rmSync(spare, { recursive: true });
    });
  });
});

describe('id pool exhausted while containers run (a second sysbox-mgr with a small pool)', () => {
  const m = new SecondMgr(POOL_K);
  const ids: string[] = [];
  const bundles: string[] = [];
  before(() => m.start());
  after(async () => {
    await m.cleanup(ids);
    for (const b of bundles) fs.rmSync(b, { recursive: true, force: true });
  });

  /** Pids (with their pid namespace) of processes whose real uid is in [start, start + RANGE). */
  function processesInRange(start: number): { pid: number; pidns: string }[] {
    const out: { pid: number; pidns: string }[] = [];
    for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const m2 = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
        const uid = Number(m2?.[1]);
        if (uid >= start && uid < start + RANGE) out.push({ pid: Number(p), pidns: fs.readlinkSync(`/proc/${p}/ns/pid`) });
      } catch {
        // gone meanwhile
      }
    }
    return out;
  }

  function describeProcess(p: { pid: number; pidns: string }): string {
    try {
      const stat = fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8');
      return `${p.pid} (${p.pidns}) ${stat.slice(stat.lastIndexOf(')') + 2).split(' ').slice(0, 2).join(' ppid ')} ${fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0').join(' ')}`;
    } catch {
      return `${p.pid} (gone)`;
    }
  }

  it(`with all ${POOL_K} ranges taken the next create fails naming the pool; a freed range is reused only once its container is gone`, async (t) => {
    // Each container: an init with 20 children, so its end takes a while.
    const busy = await makeBundle(['sh', '-c', 'exec </dev/null >/dev/null 2>&1; for i in $(seq 20); do sleep 600 & done; exec sleep 600']);
    bundles.push(busy);
    const running: string[] = [];
    const t0 = Date.now();
    for (let i = 0; i < POOL_K; i++) {
      const id = uniqueName(`pool${i}`);
      ids.push(id);
      const r = await m.runc(['run', '--detach', '--bundle', busy, id]);
      assert.equal(r.status, 0, `container ${i + 1} of ${POOL_K} must start: ${r.stderr}`);
      running.push(id);
    }
    const startMs = Date.now() - t0;
    assert.equal(Number((await mgrStatus(m.socket)).subidRangesFree), 0);

    const extra = uniqueName('pool-extra');
    ids.push(extra);
    const rx = await m.runc(['create', '--bundle', busy, extra]);
    assert.notEqual(rx.status, 0, 'a container beyond the pool must fail');
    assert.match(errorLine(rx), new RegExp(`subid pool exhausted: all ${POOL_K} ranges`), rx.stderr);
    await assertNothingLeft(m, extra);

    // Free the range of one container (SIGKILL, as docker rm -f) while a new one keeps asking for a range.
    const victim = running[Math.floor(POOL_K / 2)]!;
    const victimRange = (JSON.parse(fs.readFileSync(mgrRecordFile(victim, m.dataRoot), 'utf8')) as { uid: number }).uid;
    const victimNs = processesInRange(victimRange).map((p) => p.pidns);
    assert.ok(victimNs.length >= 21, `the victim runs its 21 processes: ${victimNs.length}`);
    const next = uniqueName('pool-next');
    ids.push(next);
    const nextRecord = mgrRecordFile(next, m.dataRoot);

    // Watcher: from the moment the new container's record holds the range, no process of the
    // victim (its pid namespace) may be alive and no mount of the victim may remain.
    const violations: string[] = [];
    let samples = 0;
    let watching = true;
    const watcher = (async (): Promise<void> => {
      while (watching) {
        samples++;
        let taken = false;
        try {
          taken = (JSON.parse(fs.readFileSync(nextRecord, 'utf8')) as { uid: number }).uid === victimRange;
        } catch {
          // not yet written (or mid-rename)
        }
        if (taken) {
          // A zombie has exited (the victim's init stays one until the host's pid 1 reaps it).
          const alive = processesInRange(victimRange).filter((p) => victimNs.includes(p.pidns) && processAlive(p.pid));
          if (alive.length > 0) violations.push(`range ${victimRange} handed to ${next} while the victim's processes live: ${alive.map(describeProcess).join('; ')}`);
          const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(victim));
          if (mounts.length > 0) violations.push(`range ${victimRange} handed to ${next} while the victim's mounts remain: ${mounts[0]}`);
          return;
        }
        await sleep(1);
      }
    })();
    const attempts: Result[] = [];
    const creator = (async (): Promise<Result> => {
      for (let i = 0; i < 100; i++) {
        const r = await m.createDetached(busy, next);
        attempts.push(r);
        if (r.status === 0 || !/pool exhausted/.test(errorLine(r))) return r;
      }
      return attempts[attempts.length - 1]!;
    })();
    await sleep(100);
    const kill = await m.runc(['kill', victim, 'KILL']);
    assert.equal(kill.status, 0, kill.stderr);
    const created = await creator;
    watching = false;
    await watcher;
    assert.equal(created.status, 0, `the new container must get the freed range: ${created.stderr}`);
    assert.deepEqual(violations, []);
    t.diagnostic(`pool of ${POOL_K}: ${POOL_K} started in ${startMs} ms; new create attempts until the freed range came: ${attempts.length}; watcher samples: ${samples}`);
    const rec = JSON.parse(fs.readFileSync(nextRecord, 'utf8')) as { uid: number };
    assert.equal(rec.uid, victimRange, 'the only free range is the victim\'s');
    assert.deepEqual(leftoversOf(victim, m.dataRoot).filter((l) => !l.startsWith('process')), [], 'the victim is released');

    // The victim's delete (docker rm after the kill) does not release the range now owned by next.
    const del = await m.runc(['delete', victim]);
    assert.equal(del.status, 0, del.stderr);
    assert.ok(fs.existsSync(nextRecord), 'the new owner keeps its record');
    assert.equal(Number((await mgrStatus(m.socket)).subidRangesFree), 0, 'the pool is still full');
    assert.equal((await m.runc(['start', next])).status, 0);
    const map = await m.runc(['exec', next, 'cat', '/proc/self/uid_map']);
    assert.deepEqual(map.stdout.trim().split(/\s+/).map(Number), [0, victimRange, RANGE], map.stderr);

    // The others were never disturbed.
    for (const id of running.filter((x) => x !== victim)) {
      const r = await m.runc(['exec', id, 'cat', '/proc/uptime']);
      assert.equal(r.status, 0, `${id}: ${r.stderr}`);
    }
  });
});

