// The executor (--executor): the low-level runtime every sysbox-runc drives, chosen here so that one
// flag in sysbox-mgr.service switches all of them, whatever container manager calls sysbox-runc and
// with no runtime arguments in its config (Docker's runtimeArgs add a shell to every runtime call).
// Published beside the socket, where sysbox-runc's launcher and Node runtime read it (one line).
import fs from 'node:fs';
import { executorFile } from '@sysbox/common/paths';

/** Refuses, naming the flag, an executor that is not an absolute path to an executable file. */
export function checkExecutor(executor: string): void {
  if (!executor.startsWith('/')) throw new Error(`--executor must be an absolute path, not "${executor}"`);
  let st: fs.Stats;
  try {
    st = fs.statSync(executor);
  } catch (err) {
    throw new Error(`--executor ${executor}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (apt-get install crun, for crun)' : (err as Error).message}`);
  }
  if (!st.isFile()) throw new Error(`--executor ${executor}: not a regular file`);
  try {
    fs.accessSync(executor, fs.constants.X_OK);
  } catch {
    throw new Error(`--executor ${executor}: not executable`);
  }
}

/**
 * Writes it for sysbox-runc, whole or not at all (a rename), and returns the one it replaces, if
 * any. Left in place when sysbox-mgr stops: a container stopped while it is down is still deleted
 * by the executor that created it.
 */
export function publishExecutor(mgrSocket: string, executor: string): string | undefined {
  const file = executorFile(mgrSocket);
  let previous: string | undefined;
  try {
    previous = fs.readFileSync(file, 'utf8').split('\n')[0];
  } catch {
    // The first start with this socket.
  }
  const tmp = `${file}.${process.pid}`;
  fs.writeFileSync(tmp, `${executor}\n`, { mode: 0o644 });
  fs.renameSync(tmp, file);
  return previous;
}

/**
 * The warning for an executor changed while containers exist: sysbox-runc keeps driving each of
 * them with the executor that created it (recorded beside its state: runc and crun do not know each
 * other's containers), so that one must stay installed until they are gone.
 */
export function executorChangeWarning(previous: string | undefined, executor: string, held: number): string | undefined {
  if (previous === undefined || previous === executor || held === 0) return undefined;
  return `executor changed from ${previous} to ${executor} while ${held} container(s) exist: new containers get ${executor}; ` +
    `those already created stay with ${previous}, which must stay installed until they are removed`;
}
