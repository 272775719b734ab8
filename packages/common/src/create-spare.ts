// What sysbox-mgr's keeper (create-spares.ts) and sysbox-runc's pre-started create (create-spare.ts)
// agree on besides the fifos: how a spare is started, how it says what it did, and how a spare is
// claimed (docs/design.md, "Pre-started create").
import fs from 'node:fs';

/** Set by sysbox-mgr when it starts sysbox-runc.js as a spare: the directory of its fifos. */
export const CREATE_SPARE_ENV = 'SYSBOX_RUNC_CREATE_SPARE';

/** A spare's exit status: which of these it did (sysbox-mgr logs it). */
export const SpareExit = { served: 0, declined: 2, retired: 3 } as const;

/**
 * Takes a spare (NAME.claim created exclusively, as the launcher does with `set -C`): true for the
 * one caller that got it, launcher, sysbox-mgr or the spare itself retiring.
 */
export function claimSpare(claimFile: string): boolean {
  try {
    fs.closeSync(fs.openSync(claimFile, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600));
    return true;
  } catch {
    return false;
  }
}
