// What the sh launcher needs to run a plain `exec` without starting Node (~30 ms idle, far more on a
// loaded host): the capabilities a root process of this container gets, as JSON, written at create
// only when root's capabilities are the system-container set (not honoured from the spec). Any
// other case (another uid, a SYSBOX_* knob in the exec's env, no file) goes to exec.ts.
// The file is a shell assignment the launcher sources (`rootcaps='{...}'`): the shell reads a
// sourced file in blocks, where its `read` builtin takes a byte per system call (3.4 KB here).
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerConfig } from '@sysbox/common/container-config';
import { honorsCaps, systemCapabilities } from '../spec/transforms/capabilities.js';

export const EXEC_ROOT_CAPABILITIES_FILE = 'exec-root-capabilities.sh';

/** The file's text: one single-quoted assignment (capability names never hold a quote). */
export function execRootCapabilitiesScript(caps: unknown): string {
  const json = JSON.stringify(caps);
  if (json.includes("'") || json.includes('\n')) throw new Error('capabilities JSON with a quote or newline');
  return `rootcaps='${json}'\n`;
}

export function recordExecRootCapabilities(runDir: string, config: ContainerConfig): void {
  if (honorsCaps(config)) return;
  fs.writeFileSync(path.join(runDir, EXEC_ROOT_CAPABILITIES_FILE), execRootCapabilitiesScript(systemCapabilities(0)), { mode: 0o600 });
}
