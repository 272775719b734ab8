// What the end-to-end tests run against, set up by test/run.sh: a private dockerd with sysbox-runc
// registered, a private sysbox-mgr, and the built binaries under out/bin.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

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
export const MGR_SOCKET = required('SYSBOX_TEST_MGR_SOCKET');
export const MGR_PIDFILE = required('SYSBOX_TEST_MGR_PIDFILE');
export const MGR_DATA_ROOT = required('SYSBOX_TEST_MGR_DATA_ROOT');
export const MGR_SUBID_FILE = required('SYSBOX_TEST_SUBID_FILE');
export const MOUNT_ROOT = '/run/sysbox-containers';
export const BUSYBOX = 'sysbox/busybox:latest';
export const BOOKWORM = 'sysbox/bookworm:latest';

export interface Result { stdout: string; stderr: string; status: number }

/** Runs a command to completion; never throws on a non-zero exit. */
export async function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Result> {
  try {
    const child = execFileP(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 });
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

export function sysboxRunc(args: string[], opts: { mgrSocket?: string; root?: string } = {}): Promise<Result> {
  return run(SYSBOX_RUNC, ['--root', opts.root ?? '/run/sysbox-test-runc', '--sysbox-mgr-socket', opts.mgrSocket ?? MGR_SOCKET, ...args]);
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

/** Mount points (from the host's mountinfo) mentioning the text. */
export function hostMountsMatching(text: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(text));
}

export function mgrPid(): number {
  return Number(fs.readFileSync(MGR_PIDFILE, 'utf8').trim());
}

/** Starts the private sysbox-mgr again with the flags test/run.sh used; waits for its socket. */
export function startMgr(extra: string[] = [], socket = MGR_SOCKET, pidfile = MGR_PIDFILE, dataRoot = MGR_DATA_ROOT, subidFile = MGR_SUBID_FILE): void {
  const logFile = `${dataRoot}.log`;
  spawnSync('bash', ['-c', `setsid "$0" "$@" >>"${logFile}" 2>&1 < /dev/null &`, SYSBOX_MGR,
    '--socket', socket, '--pidfile', pidfile, '--data-root', dataRoot,
    '--subuid-file', subidFile, '--subgid-file', subidFile, ...extra]);
  for (let i = 0; i < 100; i++) {
    if (fs.existsSync(socket) && fs.existsSync(pidfile)) return;
    execFileSync('sleep', ['0.1']);
  }
  throw new Error(`sysbox-mgr did not start on ${socket}; see ${logFile}`);
}

export async function removeContainers(...names: string[]): Promise<void> {
  if (names.length) await docker('rm', '-f', ...names);
}
