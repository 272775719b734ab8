// Runs Debian's runc (or the --executor given, e.g. crun), the low-level executor, with our stdio, extra fds and exit status passed
// straight through. Foreground commands (run, exec) forward the signals we receive.
import { spawn, spawnSync, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';
import fs from 'node:fs';
import { executorFile, RUNC_PATH } from '@sysbox/common/paths';

/** The executor: --executor, else configuredExecutor (useExecutor sets it before any command runs). */
export let runcPath = RUNC_PATH;

export function useExecutor(path: string): void {
  runcPath = path;
}

/**
 * The executor without --executor: SYSBOX_RUNC_PATH (tests' stand-ins), else the one sysbox-mgr at
 * mgrSocket was started with (its --executor, published in executorFile), else runc. The launcher
 * decides the same way.
 */
export function configuredExecutor(mgrSocket: string): string {
  const fromEnv = process.env.SYSBOX_RUNC_PATH;
  if (fromEnv) return fromEnv;
  let published = '';
  try {
    published = fs.readFileSync(executorFile(mgrSocket), 'utf8').split('\n')[0]!;
  } catch {
    // No sysbox-mgr has run with this socket: runc.
  }
  return published.startsWith('/') ? published : RUNC_PATH;
}

/** fds 0-2, plus 3..3+n-1 for --preserve-fds and LISTEN_FDS (socket activation), as runc expects. */
function stdioFor(extraFds: number): StdioOptions {
  const listen = Number(process.env.LISTEN_FDS ?? 0) || 0;
  const n = extraFds + listen;
  const out: (string | number)[] = ['inherit', 'inherit', 'inherit'];
  for (let fd = 3; fd < 3 + n; fd++) out.push(fd);
  return out as StdioOptions;
}

function statusOf(status: number | null, signal: NodeJS.Signals | null): number {
  if (status !== null) return status;
  const num = signal ? constants.signals[signal] ?? 1 : 1;
  return 128 + num;
}

export function runcSync(args: string[], extraFds = 0): number {
  const r = spawnSync(runcPath, args, { stdio: stdioFor(extraFds) });
  if (r.error) throw new Error(`cannot run ${runcPath}: ${r.error.message}`);
  return statusOf(r.status, r.signal);
}

/** Output of a runc command we run for our own information (e.g. `state`); stderr is kept. */
export function runcCapture(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(runcPath, args, { encoding: 'utf8' });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export function runcForeground(args: string[], extraFds = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(runcPath, args, { stdio: stdioFor(extraFds) });
    const forward = (sig: NodeJS.Signals): void => { child.kill(sig); };
    for (const s of FORWARDED) process.on(s, forward);
    child.on('error', (err) => reject(new Error(`cannot run ${runcPath}: ${err.message}`)));
    child.on('exit', (code, signal) => {
      for (const s of FORWARDED) process.off(s, forward);
      resolve(statusOf(code, signal));
    });
  });
}
