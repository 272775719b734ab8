// Parses /proc/PID/mountinfo lines (proc(5)), with the octal escapes the kernel uses for spaces.
// Shared by sysbox-mgr (its own mounts) and sysbox-fs (its FUSE mount, cgroup hierarchies, and the
// mounts a trapped umount2 or remount would touch).

export interface MountInfo {
  id: number;
  parent: number;
  /** "major:minor" of the file system. */
  device: string;
  mountPoint: string;
  /** The path of the mounted dir or file within its file system ("/null" for a /dev/null mask). */
  root: string;
  /** Per-mount options ("rw", "nosuid", ...). */
  options: string[];
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
      device: pre[2] ?? '',
      root: unescape(pre[3] ?? ''),
      mountPoint: unescape(pre[4] ?? ''),
      options: (pre[5] ?? '').split(','),
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

/** Whether `p` is `dir` or below it. */
export function pathWithin(dir: string, p: string): boolean {
  return dir === '/' || p === dir || p.startsWith(dir + '/');
}

/**
 * A test of whether a mount is what its mount point shows, that is not hidden under a later mount:
 * one stacked on it (a child at the same path), one mounted over its path or an ancestor of it
 * from the same parent (a container's `-v /sys:/sys` hides the cgroup mounts runc made at
 * /sys/fs/cgroup), or the same for any mount it sits on. The walk up stops at a mount whose parent
 * is not listed (the root, or one outside this mount namespace's view).
 */
export function mountVisibility(mounts: readonly MountInfo[]): (m: MountInfo) => boolean {
  const byId = new Map<number, MountInfo>();
  const children = new Map<number, MountInfo[]>();
  const order = new Map<MountInfo, number>();
  mounts.forEach((m, i) => {
    byId.set(m.id, m);
    order.set(m, i);
    const list = children.get(m.parent);
    if (list) list.push(m); else children.set(m.parent, [m]);
  });
  // Is `a` hidden, `below` being the mount of the walk that sits on it (a stack's upper part)?
  const hidden = (a: MountInfo, below: MountInfo | undefined): boolean =>
    (children.get(a.id) ?? []).some((c) => c !== a && c !== below && c.mountPoint === a.mountPoint)
    || (children.get(a.parent) ?? []).some((s) => s !== a && (s.mountPoint === a.mountPoint
      ? order.get(s)! > order.get(a)!
      : pathWithin(s.mountPoint, a.mountPoint)));
  return (m) => {
    let below: MountInfo | undefined;
    let a: MountInfo | undefined = m;
    for (let depth = 0; a && depth < 64; depth++) {
      if (hidden(a, below)) return false;
      below = a;
      a = a.parent !== a.id ? byId.get(a.parent) : undefined;
    }
    return true;
  };
}
