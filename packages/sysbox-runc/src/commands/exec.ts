// `sysbox-runc exec`: a process spec given with --process (Docker's way) gets the same capability
// treatment as the container's init under the config recorded at create (root holds all
// capabilities inside its user namespace, unless caps are honoured; the exec's own
// SYSBOX_HONOR_CAPS may decide for this process), and the process the container's OOM score and
// floor (lifecycle/oom-score.ts).
import fs from 'node:fs';
import path from 'node:path';
import { MOUNT_ROOT } from '@sysbox/common/paths';
import { KnobError, stripKnobs, type ContainerConfig } from '@sysbox/common/container-config';
import { flagSet, flagTokens, flagValue } from '../cli/flags.js';
import type { GlobalContext } from '../context.js';
import { runcForeground, runcSync } from '../executor.js';
import { applyOomScore, recordedOomScore } from '../lifecycle/oom-score.js';
import { parseExactJson, stringifyExactJson } from '../spec/exact-json.js';
import type { Process } from '../spec/oci.js';
import { execConfig, recordedConfig } from '../lifecycle/container-config.js';
import { honorsCaps, systemCapabilities } from '../spec/transforms/capabilities.js';
import { RefusedError } from '../spec/validate.js';
import { containerId, parseCommand } from './common.js';

function rewriteProcess(file: string, runDir: string): string {
  let proc: Process;
  try {
    proc = parseExactJson(fs.readFileSync(file, 'utf8')) as Process;
  } catch (err) {
    throw new Error(`failed to parse process spec ${file}: ${(err as Error).message}`);
  }
  let config: ContainerConfig;
  try {
    config = execConfig(recordedConfig(runDir), proc.env);
  } catch (err) {
    if (err instanceof KnobError) throw new RefusedError(err.message);
    throw err;
  }
  if (!honorsCaps(config)) proc.capabilities = systemCapabilities(proc.user?.uid ?? 0);
  if (proc.env) proc.env = stripKnobs(proc.env);
  const out = path.join(runDir, `exec-${process.pid}.json`);
  fs.writeFileSync(out, stringifyExactJson(proc), { mode: 0o600 });
  return out;
}

export async function command(ctx: GlobalContext, argv: readonly string[]): Promise<number> {
  const parsed = parseCommand('exec', argv);
  const id = containerId('exec', parsed, -1);
  const runDir = path.join(MOUNT_ROOT, id);
  const procFile = flagValue(parsed, 'process');
  const rewritten = procFile && fs.existsSync(runDir) ? rewriteProcess(procFile, runDir) : undefined;
  // runc no longer knows the container's score (create took it out of the spec): the new process
  // inherits ours, so ours becomes the container's, over the same floor.
  const oomScore = recordedOomScore(runDir);
  if (oomScore !== undefined) applyOomScore(oomScore);
  const args = [...ctx.runcGlobals, 'exec', ...flagTokens(parsed, rewritten ? { process: rewritten } : {}), ...parsed.rest];
  const extraFds = Number(flagValue(parsed, 'preserve-fds') ?? 0);
  try {
    return flagSet(parsed, 'detach') ? runcSync(args, extraFds) : await runcForeground(args, extraFds);
  } finally {
    if (rewritten) fs.rmSync(rewritten, { force: true });
  }
}
