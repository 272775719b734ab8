// Lines of our own in /etc/subuid and /etc/subgid for tests that need a range there (Docker's
// userns-remap, Podman's --userns=auto), added and removed without touching anyone else's.
import fs from 'node:fs';

/** Appends `line` to a subid file (a missing file is created), on a line of its own. */
export function addSubidLine(file: string, line: string): void {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  fs.appendFileSync(file, `${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`);
}

/** Removes exactly `line` from a subid file, leaving every other line (and its order) alone. */
export function dropSubidLine(file: string, line: string): void {
  const text = fs.readFileSync(file, 'utf8');
  const kept = text.split('\n').filter((l) => l !== line);
  if (kept.length !== text.split('\n').length) fs.writeFileSync(file, kept.join('\n'));
}

export interface IdRange { start: number; size: number }

export function overlaps(a: IdRange, b: IdRange): boolean {
  return a.start < b.start + b.size && b.start < a.start + a.size;
}

/**
 * Everything on this machine already using an id of the ranges: lines of the subid-format files
 * (a missing file has none), /etc/passwd users and processes. A test that maps ranges of its own
 * outside sysbox-mgr's pool checks for none before it starts and after it ends.
 */
export function usersOfIdRanges(ranges: IdRange[], subidFiles: string[]): string[] {
  const inRanges = (id: number): boolean => ranges.some((r) => id >= r.start && id < r.start + r.size);
  const found: string[] = [];
  for (const file of subidFiles) {
    let text = '';
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    for (const l of text.split('\n')) {
      const [, start, size] = l.trim().split(':');
      if (start && size && ranges.some((r) => overlaps(r, { start: Number(start), size: Number(size) }))) found.push(`${file}: ${l}`);
    }
  }
  for (const l of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
    if (l && inRanges(Number(l.split(':')[2]))) found.push(`/etc/passwd: ${l}`);
  }
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let status = '';
    try { status = fs.readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { continue; }
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    if (inRanges(uid)) found.push(`process ${pid} runs as uid ${uid}`);
  }
  return found;
}
