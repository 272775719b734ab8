// Per-container configuration: sysbox-mgr's flags give the defaults for every container, and the
// original's SYSBOX_* variables in a container's environment override them for that container.
// sysbox-runc parses the variables (a bad one refuses the container before anything is allocated),
// sysbox-mgr merges them over its flags and answers the effective config in Register, and every
// component then acts on that one answer.

export interface ContainerConfig {
  /** Keep the spec's capabilities instead of giving root all of them (`--honor-caps`). */
  honorCaps: boolean;
  /** System-container mode; false sets the container up strictly per its spec, plus user and cgroup namespaces. */
  syscontMode: boolean;
  /** chown of /sys inside the container succeeds without effect (trapped by sysbox-fs). */
  ignoreSysfsChown: boolean;
  /** trusted.* xattrs (overlayfs' opaque dirs) settable inside, done by sysbox-fs at host level. */
  allowTrustedXattr: boolean;
  /** With a read-only rootfs, leave sysbox-fs mounts and special dirs writable (sysbox-mgr flag only, as in the original). */
  relaxedReadOnly: boolean;
  /** Bind-mount destinations whose sources are not ID-mapped (SYSBOX_SKIP_UID_SHIFT). */
  skipUidShift: string[];
  /**
   * Give the container a DNS server address that is not localhost when Docker's embedded DNS
   * (127.0.0.11) serves it, so an inner Docker can hand it to inner containers (sysbox-mgr
   * `--alias-dns`; no SYSBOX_* variable, as in the original).
   */
  aliasDns: boolean;
}

/** The original's defaults (v0.6.3+: trusted xattrs off, since Docker >= 20.10.9 uses user.* ones). */
export const DEFAULT_CONTAINER_CONFIG: Readonly<ContainerConfig> = Object.freeze({
  honorCaps: false,
  syscontMode: true,
  ignoreSysfsChown: false,
  allowTrustedXattr: false,
  relaxedReadOnly: false,
  skipUidShift: [],
  aliasDns: true,
});

type BoolKey = { [K in keyof ContainerConfig]: ContainerConfig[K] extends boolean ? K : never }[keyof ContainerConfig];

/** The boolean variables, exactly as the original names them, and the field each sets. */
export const BOOLEAN_KNOBS: Readonly<Record<string, BoolKey>> = Object.freeze({
  SYSBOX_HONOR_CAPS: 'honorCaps',
  SYSBOX_SYSCONT_MODE: 'syscontMode',
  SYSBOX_IGNORE_SYSFS_CHOWN: 'ignoreSysfsChown',
  SYSBOX_ALLOW_TRUSTED_XATTR: 'allowTrustedXattr',
});

/** Takes bind-mount destinations, comma separated. */
export const SKIP_UID_SHIFT = 'SYSBOX_SKIP_UID_SHIFT';

export class KnobError extends Error {}

const isKnob = (entry: string): boolean => entry.startsWith('SYSBOX_');

/**
 * The SYSBOX_* entries of an OCI env list, as overrides. Throws KnobError naming the variable for
 * an unknown name or a value other than TRUE/FALSE (paths for SYSBOX_SKIP_UID_SHIFT).
 */
export function parseKnobs(env: readonly string[] | undefined): Partial<ContainerConfig> {
  const out: Partial<ContainerConfig> = {};
  for (const entry of env ?? []) {
    if (!isKnob(entry)) continue;
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const value = eq < 0 ? '' : entry.slice(eq + 1);
    if (name === SKIP_UID_SHIFT) {
      const paths = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
      const bad = paths.find((p) => !p.startsWith('/'));
      if (paths.length === 0 || bad !== undefined) {
        throw new KnobError(`invalid value for ${name}: "${value}" (expected absolute bind-mount destinations, comma separated)`);
      }
      out.skipUidShift = paths.map((p) => p.replace(/\/+$/, '') || '/');
      continue;
    }
    const key = BOOLEAN_KNOBS[name];
    if (key === undefined) {
      throw new KnobError(`unknown sysbox environment variable ${name} (known: ${[...Object.keys(BOOLEAN_KNOBS), SKIP_UID_SHIFT].join(', ')})`);
    }
    if (value !== 'TRUE' && value !== 'FALSE') {
      throw new KnobError(`invalid value for ${name}: "${value}" (must be TRUE or FALSE)`);
    }
    out[key] = value === 'TRUE';
  }
  return out;
}

/** The env list without SYSBOX_* entries: they configure Sysbox, not the processes inside. */
export function stripKnobs(env: readonly string[]): string[] {
  return env.filter((e) => !isKnob(e));
}

/** The SYSBOX_* entries only, as sent to sysbox-mgr. */
export function knobEntries(env: readonly string[] | undefined): string[] {
  return (env ?? []).filter(isKnob);
}

export function mergeConfig(defaults: Readonly<ContainerConfig>, overrides: Partial<ContainerConfig>): ContainerConfig {
  return { ...defaults, ...overrides, skipUidShift: [...(overrides.skipUidShift ?? defaults.skipUidShift)] };
}
