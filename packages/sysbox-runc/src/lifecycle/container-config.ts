// The container's effective config (sysbox-mgr's answer at Register), kept in its run dir so that
// exec applies the same capability rules as create did.
import fs from 'node:fs';
import path from 'node:path';
import { BOOLEAN_KNOBS, DEFAULT_CONTAINER_CONFIG, SKIP_UID_SHIFT, knobEntries, parseKnobs, type ContainerConfig } from '@sysbox/common/container-config';
import type { ContainerConfig as WireConfig } from '@sysbox/common/generated/sysboxmgr';

const CONFIG_FILE = 'sysbox-config.json';

/** proto3 leaves false and empty fields out of the wire: absent means false or empty. */
export function configFromReply(c: WireConfig): ContainerConfig {
  return {
    honorCaps: c.honorCaps ?? false,
    syscontMode: c.syscontMode ?? false,
    ignoreSysfsChown: c.ignoreSysfsChown ?? false,
    allowTrustedXattr: c.allowTrustedXattr ?? false,
    relaxedReadOnly: c.relaxedReadOnly ?? false,
    skipUidShift: c.skipUidShift ?? [],
    aliasDns: c.aliasDns ?? false,
  };
}

export function recordConfig(runDir: string, config: ContainerConfig): void {
  fs.writeFileSync(path.join(runDir, CONFIG_FILE), JSON.stringify(config), { mode: 0o644 });
}

/** The recorded config, or the defaults for a container created before configs were recorded. */
export function recordedConfig(runDir: string): ContainerConfig {
  try {
    return { ...DEFAULT_CONTAINER_CONFIG, ...(JSON.parse(fs.readFileSync(path.join(runDir, CONFIG_FILE), 'utf8')) as Partial<ContainerConfig>) };
  } catch {
    return { ...DEFAULT_CONTAINER_CONFIG };
  }
}

/** The one knob a `docker exec -e` may set for its own process, as in the original. */
const PER_PROCESS_KNOBS: ReadonlySet<string> = new Set(['SYSBOX_HONOR_CAPS']);

/**
 * The config an exec'd process runs under: the container's, with SYSBOX_HONOR_CAPS from the exec's
 * env if given. The other knobs are fixed when the container is created and ignored here; an unknown
 * SYSBOX_* or a bad value throws KnobError, as on create.
 */
export function execConfig(container: ContainerConfig, env: readonly string[] | undefined): ContainerConfig {
  const containerOnly = new Set(Object.keys(BOOLEAN_KNOBS).filter((k) => !PER_PROCESS_KNOBS.has(k)));
  const entries = knobEntries(env).filter((e) => {
    const name = e.split('=', 1)[0]!;
    return !containerOnly.has(name) && name !== SKIP_UID_SHIFT;
  });
  const { honorCaps } = parseKnobs(entries);
  return honorCaps === undefined ? container : { ...container, honorCaps };
}
