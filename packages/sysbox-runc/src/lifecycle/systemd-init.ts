// systemd as a container's PID 1 treats SIGTERM as "re-execute yourself", not "halt": `docker stop`
// (SIGTERM unless the image sets STOPSIGNAL) then waits out its timeout and SIGKILLs the whole
// system, skipping every unit's ExecStop. Its halt request is SIGRTMIN+3. `kill` (the launcher's
// fast path, and kill.ts) sends SIGRTMIN+3 in place of SIGTERM when the container's init is systemd:
// either create saw that the init it execs is systemd (a marker in the run dir), or the init process
// is systemd by now (its comm; an entrypoint script that ends in `exec /sbin/init`), read through
// the init pid create records in the run dir.
import fs from 'node:fs';
import path from 'node:path';

/** File in the container's run dir (/run/sysbox-containers/<id>) whose presence marks a systemd init. */
export const SYSTEMD_INIT_MARKER = 'init-is-systemd';

/** File in the run dir holding the container's init pid (host pid namespace). */
export const INIT_PID_FILE = 'init-pid';

/** SIGRTMIN+3 as the kernel numbers it (glibc's SIGRTMIN is 34): systemd's "halt". */
export const SYSTEMD_HALT_SIGNAL = 37;

const MAX_SYMLINKS = 40;

/**
 * The path `p` names inside `root`, every symlink followed as the container would see it (absolute
 * targets start again at `root`); undefined if a component is missing or links loop.
 */
export function resolveInRoot(root: string, p: string): string | undefined {
  let pending = p.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '..') { done.pop(); continue; }
    const host = path.join(root, ...done, c);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(host);
    } catch {
      return undefined;
    }
    if (!st.isSymbolicLink()) { done.push(c); continue; }
    if (++hops > MAX_SYMLINKS) return undefined;
    const target = fs.readlinkSync(host);
    const rest = target.split('/').filter((x) => x !== '' && x !== '.');
    if (target.startsWith('/')) done.length = 0;
    pending = [...rest, ...pending];
  }
  return `/${done.join('/')}`;
}

/** Where a bare command name is looked up when the spec's PATH does not say. */
const DEFAULT_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function pathDirs(env: readonly string[] | undefined): string[] {
  const entry = env?.find((e) => e.startsWith('PATH='));
  return entry ? entry.slice(5).split(':').filter((d) => d.startsWith('/')) : DEFAULT_PATH;
}

/**
 * True when the init the container will exec is systemd: args[0] (looked up in PATH if bare)
 * resolves, inside the rootfs, to a file named `systemd`. /sbin/init counts only when it links to
 * systemd: busybox or sysvinit as /sbin/init read SIGTERM their own way and keep it.
 */
export function initIsSystemd(rootfs: string, args: readonly string[] | undefined, env?: readonly string[]): boolean {
  const cmd = args?.[0];
  if (!cmd) return false;
  const candidates = cmd.includes('/') ? [cmd.startsWith('/') ? cmd : `/${cmd}`] : pathDirs(env).map((d) => `${d}/${cmd}`);
  for (const c of candidates) {
    const resolved = resolveInRoot(rootfs, c);
    if (resolved !== undefined) return path.basename(resolved) === 'systemd';
  }
  return false;
}

/** Leaves (or not) the marker the launcher's `kill` checks. */
export function markSystemdInit(runDir: string, systemd: boolean): void {
  const marker = path.join(runDir, SYSTEMD_INIT_MARKER);
  if (systemd) fs.writeFileSync(marker, '', { mode: 0o644 });
  else fs.rmSync(marker, { force: true });
}

export function recordInitPid(runDir: string, pid: number): void {
  fs.writeFileSync(path.join(runDir, INIT_PID_FILE), `${pid}\n`, { mode: 0o644 });
}

/** True when the container's init is systemd: marked so by create, or running as systemd now. */
export function containerInitIsSystemd(runDir: string): boolean {
  if (fs.existsSync(path.join(runDir, SYSTEMD_INIT_MARKER))) return true;
  try {
    const pid = Number(fs.readFileSync(path.join(runDir, INIT_PID_FILE), 'utf8').trim());
    return pid > 0 && fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd';
  } catch {
    return false;
  }
}

/**
 * The signal `kill` should send: SIGTERM becomes SIGRTMIN+3 for a systemd init (not with --all,
 * which signals every process). `signal` is runc's argument (name with or without SIG, or number).
 */
export function stopSignalFor(signal: string | undefined, all: boolean, systemd: boolean): string | undefined {
  if (!systemd || all) return signal;
  const s = (signal ?? 'SIGTERM').toUpperCase();
  return s === '15' || s === 'TERM' || s === 'SIGTERM' ? String(SYSTEMD_HALT_SIGNAL) : signal;
}
