// sysbox-mgr's view of mounts: the shared mountinfo parser, and the layers of an overlay mount.
export { findMount, parseMountInfo, type MountInfo } from '@sysbox/common/mountinfo';

export interface OverlayLayers {
  lower: string[]; upper: string; work: string;
  /** Mounted with `volatile` (Podman's `run --rm`): a later overlay on these dirs must be too. */
  volatile: boolean;
}

/** lowerdir/upperdir/workdir of an overlay mount; undefined for a read-only overlay. */
export function overlayLayers(superOptions: string): OverlayLayers | undefined {
  const opts = new Map<string, string>();
  let volatile = false;
  for (const o of superOptions.split(',')) {
    const eq = o.indexOf('=');
    if (eq > 0) opts.set(o.slice(0, eq), o.slice(eq + 1));
    // Mounted as `volatile`; kernels since 6.x list it as `fsync=volatile`.
    if (o === 'volatile' || o === 'fsync=volatile') volatile = true;
  }
  const lower = opts.get('lowerdir');
  const upper = opts.get('upperdir');
  const work = opts.get('workdir');
  if (!lower || !upper || !work) return undefined;
  return { lower: lower.split(':'), upper, work, volatile };
}

/** The mount points no other one given is above, once each, in their first order. */
export function outermost(mountPoints: readonly string[]): string[] {
  const all = [...new Set(mountPoints)];
  return all.filter((m) => !all.some((o) => o !== m && m.startsWith(o.endsWith('/') ? o : `${o}/`)));
}
