// Which executor created a container, written beside that executor's state right after its create:
// runc and crun do not know each other's containers, so every later command on it (kill, delete,
// exec, state ...) must go to the same one, whatever sysbox-mgr's --executor has become since. The
// launcher reads it (launcher/sysbox-runc.sh: made_by); the executor's delete removes it with its
// state dir.
import fs from 'node:fs';
import path from 'node:path';
import { stateDirOf } from '../executor-layout.js';

export const EXECUTOR_RECORD_FILE = 'sysbox-executor';

/** Records executor for container id under root (its --root, else the executor's default); false if it has no known layout or the write failed. */
export function recordExecutor(executor: string, root: string | undefined, id: string): boolean {
  const dir = stateDirOf(executor, root, id);
  if (!dir) return false;
  try {
    fs.writeFileSync(path.join(dir, EXECUTOR_RECORD_FILE), `${executor}\n`, { mode: 0o600 });
    return true;
  } catch {
    return false;
  }
}
