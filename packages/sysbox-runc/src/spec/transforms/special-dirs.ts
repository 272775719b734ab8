// /var/lib/docker and friends are bound from sysbox-mgr's per-container host dirs (owned by the
// container's root), so an inner Docker can use overlay2. A mount the user gave for the same path
// (e.g. -v cache:/var/lib/docker) is left alone: sysbox-runc does not ask for those. In a read-only
// container they are read-only too, unless sysbox-mgr runs with --relaxed-read-only.
import type { Transform } from '../transform.js';
import { keepAddedReadOnly } from './read-only.js';

export const specialDirs: Transform = {
  name: 'special-dirs',
  apply(spec, ctx) {
    const mounts = (spec.mounts ??= []);
    const options = keepAddedReadOnly(spec, ctx.config) ? ['rbind', 'rprivate', 'ro'] : ['rbind', 'rprivate'];
    ctx.specialDirs.forEach((destination, i) => {
      mounts.push({ destination, type: 'bind', source: ctx.specialDirSources[i]!, options: [...options] });
    });
  },
};

/** Special dirs a spec still needs: those no mount of the user's already covers. */
export function wantedSpecialDirs(all: readonly string[], mountDestinations: readonly string[]): string[] {
  const taken = new Set(mountDestinations.map((d) => d.replace(/\/+$/, '')));
  return all.filter((d) => !taken.has(d));
}
