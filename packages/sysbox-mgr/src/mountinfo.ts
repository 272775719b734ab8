// Parses /proc/self/mountinfo lines (proc(5)), with the octal escapes the kernel uses for spaces.

export interface MountInfo {
  id: number;
  parent: number;
  mountPoint: string;
  root: string;
  fsType: string;
  source: string;
  superOptions: string;
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    out.push({
      id: Number(pre[0]),
      parent: Number(pre[1]),
      root: unescape(pre[3] ?? ''),
      mountPoint: unescape(pre[4] ?? ''),
      fsType: post[0] ?? '',
      source: unescape(post[1] ?? ''),
      superOptions: post[2] ?? '',
    });
  }
  return out;
}

/** The topmost mount at exactly this path, if any. */
export function findMount(mounts: MountInfo[], mountPoint: string): MountInfo | undefined {
  let found: MountInfo | undefined;
  for (const m of mounts) if (m.mountPoint === mountPoint) found = m;
  return found;
}

export interface OverlayLayers { lower: string[]; upper: string; work: string }

/** lowerdir/upperdir/workdir of an overlay mount; undefined for a read-only overlay. */
export function overlayLayers(superOptions: string): OverlayLayers | undefined {
  const opts = new Map<string, string>();
  for (const o of superOptions.split(',')) {
    const eq = o.indexOf('=');
    if (eq > 0) opts.set(o.slice(0, eq), o.slice(eq + 1));
  }
  const lower = opts.get('lowerdir');
  const upper = opts.get('upperdir');
  const work = opts.get('workdir');
  if (!lower || !upper || !work) return undefined;
  return { lower: lower.split(':'), upper, work };
}
