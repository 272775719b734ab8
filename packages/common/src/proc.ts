// Facts about a process from /proc, shared by the daemons.
import fs from 'node:fs';

/**
 * Start time of the process (clock ticks since boot), field 22 of /proc/PID/stat; undefined if it
 * is gone. With the pid it tells a process apart from a later one that got the same pid.
 */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: count fields after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

/**
 * Identity of the user namespace a process is in ("dev:inode" of /proc/PID/ns/user), undefined if
 * it is gone. Two processes are in the same user namespace exactly when these are equal.
 */
export function userNamespaceOf(pid: number | 'self'): string | undefined {
  try {
    const st = fs.statSync(`/proc/${pid}/ns/user`);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}
