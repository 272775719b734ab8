// Which low-level runtime an executor is, told by its file name, and where that runtime keeps a
// container's state. The launcher's fast paths (launcher/sysbox-runc.sh: executor_kind) and
// create's delete facts read that state, so they serve only the runtimes named here; any other
// executor is run for every command.
import path from 'node:path';

export interface ExecutorLayout {
  kind: 'runc' | 'crun';
  /** The state root without --root. */
  defaultRoot: string;
  /** The file in <root>/<id>/ that says the runtime still knows the container. */
  stateFile: string;
}

const RUNC: ExecutorLayout = { kind: 'runc', defaultRoot: '/run/runc', stateFile: 'state.json' };
const CRUN: ExecutorLayout = { kind: 'crun', defaultRoot: '/run/crun', stateFile: 'status' };

/**
 * Where executor keeps container id's state: under root (its --root), else its default root;
 * undefined for an executor whose layout is not known here.
 */
export function stateDirOf(executor: string, root: string | undefined, id: string): string | undefined {
  const layout = executorLayout(executor);
  return layout && path.join(root ?? layout.defaultRoot, id);
}

/** runc by the name `runc`; crun by `crun` or `crun-*` (a wrapper that execs crun, as bench/tools' crun-hybrid). */
export function executorLayout(executor: string): ExecutorLayout | undefined {
  const name = path.basename(executor);
  if (name === 'runc') return RUNC;
  if (name === 'crun' || name.startsWith('crun-')) return CRUN;
  return undefined;
}
