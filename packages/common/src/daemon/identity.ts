// What a daemon looks like from outside: its process name (comm and argv[0], as with the
// original's Go binaries, so `pidof sysbox-mgr`, `pgrep -x sysbox-fs` and `pkill` find it), its
// pid file, and a refusal to start beside a running instance of itself.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * Renames this process `name`, its own arguments kept after it: operators and the tests read
 * the flags from /proc/PID/cmdline. process.title rewrites the argv area (it cannot grow past
 * the original `node /path/to/script args`, which is always longer) but leaves the main
 * thread's comm at the first 15 bytes of the title, so comm is set on its own.
 */
export function nameProcess(name: string, args: readonly string[]): void {
  process.title = [name, ...args].join(' ');
  setComm(name);
}

/**
 * Sets the main thread's comm (what ps -o comm, pgrep -x and pidof read; the kernel keeps 15
 * bytes). For a process whose argv[0] is already right (a child spawned with argv0) this is all.
 */
export function setComm(name: string): void {
  try {
    // /proc/self is the thread-group leader: the main thread.
    fs.writeFileSync('/proc/self/comm', name.slice(0, 15));
  } catch {
    // Without /proc the daemon still works; only its name is wrong.
  }
}

/** The original's default pid file name (`sysmgr.pid`, `sysfs.pid`), next to the daemon's socket. */
export function defaultPidfile(socket: string, file: string): string {
  return path.join(path.dirname(socket), file);
}

/** True when something accepts connections on the unix socket (a live server, not a stale file). */
export function socketAnswers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(socket);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

/** The pid a pid file holds, if it holds one. */
export function pidIn(pidfile: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidfile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Throws when another instance already serves `socket`, naming it by the pid in its pid file.
 * Called before the daemon touches anything (state, keeper, socket, pid file), so the running one
 * is left exactly as it was.
 */
export async function refuseSecondInstance(name: string, socket: string, pidfile: string): Promise<void> {
  if (!(await socketAnswers(socket))) return;
  const pid = pidIn(pidfile);
  throw new Error(`${name} is already running (${pid !== undefined ? `pid ${pid}, ` : ''}${socket} answers)`);
}

/** Writes this process's pid; the caller removes the file on a clean stop. */
export function writePidfile(pidfile: string): void {
  fs.mkdirSync(path.dirname(pidfile), { recursive: true });
  fs.writeFileSync(pidfile, `${process.pid}\n`);
}
