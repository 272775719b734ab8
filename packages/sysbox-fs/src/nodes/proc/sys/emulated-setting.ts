// A kernel setting emulated per container: reads show the value the container wrote, or the
// host's while it wrote none; writes are parsed by the setting's rule (EINVAL when the kernel would
// refuse), stored for that container, and may raise (never lower) the host's value.
import fs from 'node:fs';
import type { EmulatedValues } from '../../../container/emulated-values.js';
import { file, type VirtualFile } from '../../../tree.js';
import type { NodeContext } from '../../context.js';
import type { SettingRule } from './rules.js';

const EINVAL = 22;
const EPERM = 1;

// Page-cached (tree.ts VirtualFile.pageCached): each container reads its own inodes, so an unchanged
// value costs sysctl -a an OPEN instead of OPEN + READ + READ; a write (direct I/O) changes the
// rendering, and the next open refills.
export function emulatedSetting(ctx: NodeContext, values: EmulatedValues, hostPath: string, key: string, rule: SettingRule, perm = 0o644): VirtualFile {
  return { ...emulatedFile(ctx, values, hostPath, key, rule, perm), pageCached: true };
}

function emulatedFile(ctx: NodeContext, values: EmulatedValues, hostPath: string, key: string, rule: SettingRule, perm: number): VirtualFile {
  return file(
    (c) => {
      const id = ctx.callers.resolve(c.pid).container?.id;
      return (id !== undefined ? values.get(id, key) : undefined) ?? ctx.readHost(hostPath);
    },
    (c, data) => {
      const view = ctx.callers.resolve(c.pid);
      // Host processes reach the real file directly; only containers go through emulation.
      if (!view.container) return EPERM;
      const current = values.get(view.container.id, key) ?? ctx.readHost(hostPath);
      const next = rule.parse(data.toString('utf8'), current);
      if (next === undefined) return EINVAL;
      if (rule.host === 'raise-host') {
        const host = Number(ctx.readHost(hostPath).trim());
        if (Number(next.trim()) > host) {
          try {
            fs.writeFileSync(hostPath, next);
          } catch (e) {
            // Test mode: the container keeps its value though the host kept its own.
            if (!ctx.ignoreHandlerErrors) throw e;
          }
        }
      }
      values.set(view.container.id, key, next);
      return undefined;
    },
    perm,
  );
}
