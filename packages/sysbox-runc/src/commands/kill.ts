// `sysbox-runc kill`: passed through to runc, except that SIGTERM to a systemd init becomes
// SIGRTMIN+3 (lifecycle/systemd-init.ts). The launcher does the same without starting Node; this
// file serves the rare invocations the launcher hands to Node (unusual global flags).
import path from 'node:path';
import { MOUNT_ROOT } from '@sysbox/common/paths';
import { flagSet, flagTokens } from '../cli/flags.js';
import type { GlobalContext } from '../context.js';
import { runcSync } from '../executor.js';
import { containerInitIsSystemd, stopSignalFor } from '../lifecycle/systemd-init.js';
import { containerId, parseCommand } from './common.js';

export function command(ctx: GlobalContext, argv: readonly string[]): number {
  const parsed = parseCommand('kill', argv);
  const id = containerId('kill', parsed, 1);
  const systemd = containerInitIsSystemd(path.join(MOUNT_ROOT, id));
  const signal = stopSignalFor(parsed.rest[1], flagSet(parsed, 'all'), systemd);
  return runcSync([...ctx.runcGlobals, 'kill', ...flagTokens(parsed), id, ...(signal === undefined ? [] : [signal])]);
}
