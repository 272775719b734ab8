// What the end-to-end tests run against, set up by test/run.sh: a private dockerd with sysbox-runc
// registered, a private sysbox-mgr, and the built binaries under out/bin.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fsClient, mgrClient } from '@sysbox/common';

const execFileP = promisify(execFile);

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the end-to-end tests through test/run.sh, which sets up dockerd and sysbox-mgr`);
  return v;
}

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const BIN = path.join(REPO, 'out', 'bin');
export const SYSBOX_RUNC = path.join(BIN, 'sysbox-runc');
export const SYSBOX_MGR = path.join(BIN, 'sysbox-mgr');
export const DOCKER = '/usr/bin/docker';
export const DOCKER_HOST = required('DOCKER_HOST');
/** The test run's name (DOCKER_HOST is unix:///run/NAME.sock): daemons a test file starts besides are named after it, so two runs never share one. */
export const TEST_NAME = path.basename(DOCKER_HOST.replace(/^unix:\/\//, ''), '.sock');
export const MGR_SOCKET = required('SYSBOX_TEST_MGR_SOCKET');
export const MGR_PIDFILE = required('SYSBOX_TEST_MGR_PIDFILE');
export const MGR_DATA_ROOT = required('SYSBOX_TEST_MGR_DATA_ROOT');
export const MGR_SUBID_FILE = required('SYSBOX_TEST_SUBID_FILE');
/** The executor the suite's sysbox-mgr drives (test/run.sh), if not runc. */
export const SUITE_EXECUTOR = process.env.SYSBOX_TEST_EXECUTOR || undefined;
export const FS_SOCKET = required('SYSBOX_TEST_FS_SOCKET');
export const FS_PIDFILE = required('SYSBOX_TEST_FS_PIDFILE');
export const FS_MOUNTPOINT = required('SYSBOX_TEST_FS_MOUNTPOINT');
export const FS_STATE_DIR = required('SYSBOX_TEST_FS_STATE_DIR');
/** The test sysbox-fs's log (test/run.sh starts it at debug level, as does startFs). */
export const FS_LOG = `${FS_STATE_DIR}.log`;
export const FS_SECCOMP_SOCKET = required('SYSBOX_TEST_FS_SECCOMP_SOCKET');
export const FS_KEEPER_SOCKET = required('SYSBOX_TEST_FS_KEEPER_SOCKET');
export const SYSBOX_FS = path.join(BIN, 'sysbox-fs');
export const MOUNT_ROOT = '/run/sysbox-containers';
export const BUSYBOX = 'sysbox/busybox:latest';
export const BOOKWORM = 'sysbox/bookworm:latest';

export interface Result { stdout: string; stderr: string; status: number }

/** Runs a command to completion; never throws on a non-zero exit. */
export async function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<Result> {
  try {
    const child = execFileP(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20, cwd: opts.cwd });
    if (opts.input !== undefined) { child.child.stdin?.end(opts.input); }
    const { stdout, stderr } = await child;
    return { stdout, stderr, status: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number | string };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? String(err), status: typeof e.code === 'number' ? e.code : 1 };
  }
}

export function docker(...args: string[]): Promise<Result> {
  return run(DOCKER, ['-H', DOCKER_HOST, ...args]);
}

/** docker command that must succeed; returns trimmed stdout. */
export async function dockerOk(...args: string[]): Promise<string> {
  const r = await docker(...args);
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * Writes an executable sh script at `file` that runs the built sysbox-runc against the test daemons:
 * for a runtime manager that takes a binary path and passes no arguments of ours (containerd's shim,
 * Podman). `before`: shell lines run first.
 */
export function writeSysboxRuncWrapper(file: string, before: string[] = []): void {
  const lines = ['#!/bin/sh', ...before, `exec ${SYSBOX_RUNC} --sysbox-mgr-socket=${MGR_SOCKET} --sysbox-fs-socket=${FS_SOCKET} "$@"`, ''];
  fs.writeFileSync(file, lines.join('\n'), { mode: 0o755 });
}

export function sysboxRunc(args: string[], opts: { mgrSocket?: string; fsSocket?: string; root?: string } = {}): Promise<Result> {
  return run(SYSBOX_RUNC, ['--root', opts.root ?? '/run/sysbox-test-runc', '--sysbox-mgr-socket', opts.mgrSocket ?? MGR_SOCKET,
    '--sysbox-fs-socket', opts.fsSocket ?? FS_SOCKET, ...args]);
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Host uid/gid mapping of root in a running container, from its uid_map. */
export async function hostRootId(container: string): Promise<number> {
  const map = await dockerOk('exec', container, 'cat', '/proc/self/uid_map');
  const [inside, outside, size] = map.split(/\s+/).map(Number);
  if (inside !== 0 || size !== 65536) throw new Error(`unexpected uid_map: ${map}`);
  return outside!;
}

/** What a process's fds point at, as readlink gives them (socket:[inode], pipe:[inode], paths), sorted. */
export function fdLinks(pid: number): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.push(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return out.sort();
}

/** Mount points (from the host's mountinfo) mentioning the text. */
export function hostMountsMatching(text: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(text));
}

/** A process's uid_map as one line with single spaces ("0 1000000000 65536"). */
export function uidMapOf(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/).join(' ');
}

/** Mount points of the host at or below any of the dirs, deepest first (the order to unmount them in). */
export function mountsUnder(dirs: string[]): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '')
    .filter((m) => dirs.some((d) => m === d || m.startsWith(`${d}/`))).sort().reverse();
}

/**
 * The third octet of a /24 in 10.214.0.0/16 for a private test network, picked from its name so
 * that networks of other test runs (other names) rarely meet ours.
 */
export function testSubnetOctet(name: string): number {
  return (Number(BigInt(`0x${createHash('sha256').update(name).digest('hex').slice(0, 8)}`)) % 250) + 1;
}

/** How many id ranges sysbox-mgr's pool has free (its Status). */
export async function freeIdRanges(socket = MGR_SOCKET): Promise<number> {
  const mgr = mgrClient(socket);
  try {
    return (await mgr.status({})).subidRangesFree ?? -1;
  } finally {
    mgr.close();
  }
}

export function mgrPid(): number {
  return daemonPid(MGR_PIDFILE);
}

/** The pid in a pidfile, or undefined when the file is missing or empty. */
export function readPidfile(pidfile: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidfile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True while the process exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** OPENs of unchanged host settings the FUSE ring holders answered themselves (sysbox-fs Status keeper_kept_opens). */
export async function keeperKeptOpens(socket = FS_SOCKET): Promise<number> {
  const c = fsClient(socket);
  try {
    return Number((await c.status({})).keeperKeptOpens ?? 0);
  } finally {
    c.close();
  }
}

/** Waits until the process has exited (or is a zombie); false on timeout. */
export async function waitForExit(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (!processAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !processAlive(pid);
}

/**
 * Starts the private sysbox-mgr again with the flags test/run.sh used; waits until the new process
 * has written its pidfile (a kill -9 leaves the old pidfile and socket behind, so their mere
 * existence proves nothing).
 */
export function startMgr(extra: string[] = [], socket = MGR_SOCKET, pidfile = MGR_PIDFILE, dataRoot = MGR_DATA_ROOT, subidFile = MGR_SUBID_FILE): void {
  // The suite's executor (test/run.sh's SYSBOX_TEST_EXECUTOR) unless extra names one (the last wins).
  const executor = SUITE_EXECUTOR ? ['--executor', SUITE_EXECUTOR] : [];
  startDaemon(SYSBOX_MGR, socket, pidfile, `${dataRoot}.log`, ['--data-root', dataRoot, '--subuid-file', subidFile, '--subgid-file', subidFile, '--log-level', 'debug', ...executor, ...extra]);
}

/** Starts the test sysbox-fs again if a test left it dead (after() of the tests that kill it). */
export function startFsIfGone(): void {
  const pid = readPidfile(FS_PIDFILE);
  if (pid === undefined || !processAlive(pid)) startFs();
}

/** Starts the private sysbox-fs again with the flags test/run.sh used; waits for its new pid. */
export function startFs(extra: string[] = []): void {
  startDaemon(SYSBOX_FS, FS_SOCKET, FS_PIDFILE, FS_LOG, ['--mountpoint', FS_MOUNTPOINT, '--state-dir', FS_STATE_DIR,
    '--seccomp-socket', FS_SECCOMP_SOCKET, '--keeper-socket', FS_KEEPER_SOCKET, '--log-level', 'debug', ...extra]);
}

/**
 * Restarts the test sysbox-mgr with extra flags (none: test/run.sh's own), as an operator's
 * `systemctl restart sysbox` after editing ExecStart. Tests that pass flags call it again with none
 * in after(), so later files see the defaults.
 */
export async function restartMgr(extra: string[] = []): Promise<void> {
  const pid = mgrPid();
  process.kill(pid, 'SIGTERM');
  if (!(await waitForExit(pid))) throw new Error(`sysbox-mgr ${pid} did not exit on SIGTERM`);
  startMgr(extra);
}

/** Same for the test sysbox-fs (its fd keeper keeps running containers served across the restart). */
export async function restartFs(extra: string[] = []): Promise<void> {
  const pid = fsPid();
  process.kill(pid, 'SIGTERM');
  if (!(await waitForExit(pid))) throw new Error(`sysbox-fs ${pid} did not exit on SIGTERM`);
  startFs(extra);
}

/** Starts a daemon in its own session, logging to logFile; returns once a new pid serves the socket. */
function startDaemon(bin: string, socket: string, pidfile: string, logFile: string, args: string[]): void {
  const before = readPidfile(pidfile);
  spawnSync('bash', ['-c', `setsid "$0" "$@" >>"${logFile}" 2>&1 < /dev/null &`, bin, '--socket', socket, '--pidfile', pidfile, ...args]);
  for (let i = 0; i < 100; i++) {
    const pid = readPidfile(pidfile);
    if (fs.existsSync(socket) && pid !== undefined && pid !== before && processAlive(pid)) return;
    execFileSync('sleep', ['0.1']);
  }
  throw new Error(`${path.basename(bin)} did not start on ${socket}; see ${logFile}`);
}

export function fsPid(): number {
  return daemonPid(FS_PIDFILE);
}

/** The pid of a daemon that must be running (its pidfile written). */
function daemonPid(pidfile: string): number {
  const pid = readPidfile(pidfile);
  if (pid === undefined) throw new Error(`no pid in ${pidfile}: the daemon is not running`);
  return pid;
}

/** sysbox-fs's on-disk record of a container, and its emulated sysctl values. */
export function fsRecordFiles(id: string): string[] {
  return [path.join(FS_STATE_DIR, 'containers', `${id}.json`), path.join(FS_STATE_DIR, 'sysctl', id)];
}

/** sysbox-mgr's on-disk record of a container. */
export function mgrRecordFile(id: string, dataRoot = MGR_DATA_ROOT): string {
  return path.join(dataRoot, 'mgr', 'containers', `${id}.json`);
}

/** Processes whose command line mentions text (e.g. a container's rootfs view), as "pid args". */
export function processesMentioning(text: string): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (args.includes(text) && Number(pid) !== process.pid) out.push(`${pid} ${args}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * What Sysbox still holds for a container id: its run dir, host mounts naming it, processes
 * serving it (its rootfs view), and its sysbox-mgr record. Empty when everything was released.
 */
export function leftoversOf(id: string, dataRoot = MGR_DATA_ROOT): string[] {
  const out: string[] = [];
  const runDir = path.join(MOUNT_ROOT, id);
  if (fs.existsSync(runDir)) out.push(`run dir ${runDir}`);
  for (const p of processesMentioning(`${runDir}/`)) out.push(`process ${p}`);
  for (const m of hostMountsMatching(id)) out.push(`mount: ${m}`);
  if (fs.existsSync(mgrRecordFile(id, dataRoot))) out.push(`record ${mgrRecordFile(id, dataRoot)}`);
  for (const f of fsRecordFiles(id)) if (fs.existsSync(f)) out.push(`sysbox-fs state ${f}`);
  return out;
}

/** Full id of a Docker container (also of one that was created but failed to start). */
export function containerIdOf(name: string): Promise<string> {
  return dockerOk('inspect', '-f', '{{.Id}}', name);
}

/**
 * An OCI bundle in a fresh temp dir: `sysbox-runc spec`, a rootfs holding the host's static
 * busybox with its applet links, and config.json edited to run `args` without a terminal.
 * Remove it with fs.rmSync(dir, { recursive: true, force: true }).
 */
export async function makeBundle(args: string[]): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-e2e-bundle-'));
  const rootfs = path.join(dir, 'rootfs');
  for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'run', 'usr/bin', 'usr/sbin']) {
    fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  }
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) {
    const link = path.join(rootfs, 'bin', a);
    if (!fs.existsSync(link)) fs.symlinkSync('busybox', link);
  }
  fs.writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  fs.writeFileSync(path.join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  const r = await sysboxRunc(['spec', '--bundle', dir]);
  if (r.status !== 0) throw new Error(`sysbox-runc spec failed (${r.status}): ${r.stderr}`);
  const file = path.join(dir, 'config.json');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as { process: { terminal?: boolean; args?: string[] } };
  spec.process.terminal = false;
  spec.process.args = args;
  fs.writeFileSync(file, JSON.stringify(spec, null, 2));
  return dir;
}

export async function removeContainers(...names: string[]): Promise<void> {
  if (names.length) await docker('rm', '-f', ...names);
}

/** Waits until the Docker daemon inside a system container answers; its log on failure. */
export async function waitForInnerDocker(c: string, outer: (...args: string[]) => Promise<Result> = docker): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if ((await outer('exec', c, 'docker', 'info')).status === 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  const log = await outer('exec', c, 'tail', '-20', '/var/log/dockerd.log');
  throw new Error(`inner dockerd of ${c} did not answer in 30 s; its log:\n${log.stdout}${log.stderr}`);
}

/**
 * `docker save IMAGES` on a Docker daemon (the test one by default) piped into a shell command
 * (there is no registry here); fails if either side does.
 */
export function pipeDockerSave(images: string[], into: string, opts: { host?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Result> {
  return run('bash', ['-c', `set -o pipefail; "${DOCKER}" -H "${opts.host ?? DOCKER_HOST}" save ${images.join(' ')} | ${into}`], { env: opts.env, timeoutMs: opts.timeoutMs });
}

/** `docker save IMAGE` on the test daemon piped into `docker load` inside the container. */
export async function loadImageInto(c: string, image: string): Promise<void> {
  const r = await pipeDockerSave([image], `"${DOCKER}" -H "${DOCKER_HOST}" exec -i ${c} docker load`);
  if (r.status !== 0) throw new Error(`docker load of ${image} inside ${c} failed: ${r.stderr}`);
}

/** Waits for systemd in a container to finish booting; returns its final state. */
export async function waitForSystemd(c: string): Promise<string> {
  let state = '';
  for (let i = 0; i < 60; i++) {
    state = (await docker('exec', c, 'systemctl', 'is-system-running')).stdout.trim();
    if (state === 'running' || state === 'degraded') return state;
    await new Promise((r) => setTimeout(r, 500));
  }
  return state;
}
