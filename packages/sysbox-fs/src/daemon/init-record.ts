// What INIT agreed on for the FUSE connection, kept in the state dir: a restarted sysbox-fs adopts
// the connection without seeing INIT again, and must not use a flag its predecessor did not
// negotiate (kept listings need FUSE_AUTO_INVAL_DATA). Tied to the mount it was made for, so a
// record left by an earlier mount (or one written by nobody: an older version mounted it) counts
// as nothing negotiated.
import fs from 'node:fs';
import path from 'node:path';

const FILE = 'fuse-init.json';

interface InitRecord {
  /** The mount's mountinfo id and "major:minor": together they name one mount. */
  mount: string;
  flags: number;
  /** Requests come over io_uring (--fuse-io-uring): a successor must register rings of its own. */
  ioUring?: boolean;
}

export interface RecalledInit {
  flags: number;
  ioUring: boolean;
}

export function recordInit(stateDir: string, mount: string, flags: number, ioUring = false): void {
  const tmp = path.join(stateDir, `${FILE}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify({ mount, flags, ioUring } satisfies InitRecord), { mode: 0o600 });
  fs.renameSync(tmp, path.join(stateDir, FILE));
}

/** What was recorded for mount; nothing negotiated if the record is missing, unreadable or another mount's. */
export function recalledInit(stateDir: string, mount: string): RecalledInit {
  try {
    const r = JSON.parse(fs.readFileSync(path.join(stateDir, FILE), 'utf8')) as Partial<InitRecord>;
    if (r.mount !== mount || typeof r.flags !== 'number') return { flags: 0, ioUring: false };
    return { flags: r.flags, ioUring: r.ioUring === true };
  } catch {
    return { flags: 0, ioUring: false };
  }
}
