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
