// `--version` of the three binaries, in the original Sysbox's layout (a name line, then tab-separated
// fields), which operators' scripts and bug reports already carry. Build facts are stamped into the
// bundles by scripts/bundle.mjs; the unbundled dist (unit tests) reports them as unknown.
import { VERSION } from './paths.js';

export interface BuildInfo { commit: string; builtAt: string; builtBy: string }

declare const SYSBOX_BUILD_INFO: BuildInfo | undefined;

export const EDITION = 'Sysbox (TypeScript)';

export function buildInfo(): BuildInfo {
  return typeof SYSBOX_BUILD_INFO === 'undefined' ? { commit: 'unknown', builtAt: 'unknown', builtBy: 'unknown' } : SYSBOX_BUILD_INFO;
}

/** `extra` fields follow the common ones; `tail` lines are printed as they are. */
export function versionText(component: string, extra: ReadonlyArray<readonly [string, string]> = [], tail: readonly string[] = []): string {
  const b = buildInfo();
  const fields: ReadonlyArray<readonly [string, string]> = [
    ['edition', EDITION], ['version', VERSION], ['commit', b.commit], ['built at', b.builtAt], ['built by', b.builtBy], ...extra,
  ];
  return `${component}\n${fields.map(([k, v]) => `\t${k}: \t${v}\n`).join('')}${tail.map((l) => `${l}\n`).join('')}`;
}
