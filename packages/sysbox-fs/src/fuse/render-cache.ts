// A file read to EOF takes two READs (the content, then an empty one at its end) and a long one
// several; each would render the content again, and a later chunk could come from a different
// rendering than the first. So a worker keeps what it last rendered per (inode, caller pid) for a
// moment and serves reads past offset 0 from it. Per worker thread (they share no memory): a READ
// that lands on the other worker renders afresh, which is still correct. Directory listings are
// kept the same way between the READDIR(PLUS) calls of one walk through a directory: a pass-through
// directory is listed (and each entry stat'ed) once, not once per reply-sized chunk.
const TTL_MS = 1000;
const MAX_ENTRIES = 256;

export class RenderCache<T = Buffer> {
  private readonly entries = new Map<string, { at: number; data: T }>();

  get(ino: bigint, pid: number): T | undefined {
    const key = `${ino}:${pid}`;
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (performance.now() - e.at > TTL_MS) {
      this.entries.delete(key);
      return undefined;
    }
    return e.data;
  }

  set(ino: bigint, pid: number, data: T): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(`${ino}:${pid}`, { at: performance.now(), data });
  }
}
