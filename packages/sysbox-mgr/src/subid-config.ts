// Reads the `sysbox` entry of /etc/subuid and /etc/subgid, the pool every container range comes
// from, and creates the user and a large range when absent (as the original Sysbox does).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export interface SubidEntry { user: string; start: number; count: number }

export const SYSBOX_USER = 'sysbox';
/** 4096 container ranges of 65536 ids. */
export const DEFAULT_POOL_SIZE = 268_435_456;

export function parseSubidFile(text: string): SubidEntry[] {
  const out: SubidEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [user, start, count] = line.split(':');
    const s = Number(start);
    const c = Number(count);
    if (!user || !Number.isSafeInteger(s) || !Number.isSafeInteger(c) || c <= 0) continue;
    out.push({ user, start: s, count: c });
  }
  return out;
}

/** First id at or above 165536 past every existing entry, so a new range overlaps nobody's. */
export function nextFreeStart(entries: SubidEntry[]): number {
  return entries.reduce((max, e) => Math.max(max, e.start + e.count), 165_536);
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

function ensureUser(): void {
  try {
    execFileSync('getent', ['passwd', SYSBOX_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SYSBOX_USER], { stdio: 'ignore' });
  }
}

/** Returns the sysbox entry of the file, appending one (and creating the user) if missing. */
export function ensureSubidEntry(file: string, create: boolean): SubidEntry {
  const text = readOrEmpty(file);
  const entries = parseSubidFile(text);
  const found = entries.find((e) => e.user === SYSBOX_USER);
  if (found) return found;
  if (!create) throw new Error(`no "${SYSBOX_USER}" entry in ${file}`);
  ensureUser();
  const entry = { user: SYSBOX_USER, start: nextFreeStart(entries), count: DEFAULT_POOL_SIZE };
  const sep = text === '' || text.endsWith('\n') ? '' : '\n';
  fs.appendFileSync(file, `${sep}${entry.user}:${entry.start}:${entry.count}\n`);
  return entry;
}
