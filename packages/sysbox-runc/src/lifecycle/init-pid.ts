// The init pid of a container runc has just created: from the --pid-file the caller asked for,
// else from `runc state`.
import fs from 'node:fs';
import type { GlobalContext } from '../context.js';
import { runcCapture } from '../executor.js';

export function initPid(ctx: GlobalContext, id: string, pidFile: string | undefined): number {
  if (pidFile) {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    if (pid > 0) return pid;
  }
  const st = runcCapture([...ctx.runcGlobals, 'state', id]);
  if (st.status !== 0) throw new Error(`runc state ${id} failed: ${st.stderr.trim()}`);
  return Number((JSON.parse(st.stdout) as { pid?: number }).pid ?? 0);
}
