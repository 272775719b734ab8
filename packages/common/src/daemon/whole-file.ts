// Files a daemon rewrites and must find whole after its own kill -9 (records, sysbox-fs's resting
// slots): the new text goes to FILE.tmp, the old file is unlinked, and the temp file is renamed into
// the free name. Not renamed over the old file: on ext4 (auto_da_alloc) a rename that replaces a
// file first writes the new one's data out, 0.2-3 ms per save on a busy disk, where unlink and
// rename cost 0.05 ms (bench/README.md). These files only have to outlive the daemon, not the host.
// A kill -9 between the unlink and the rename leaves FILE.tmp complete; readers take it
// (readWholeFile, or StateStore.loadAll for a directory of records).
import fs from 'node:fs';

export const TEMP_SUFFIX = '.tmp';

export function writeWholeFile(file: string, text: string, mode?: number): void {
  const tmp = `${file}${TEMP_SUFFIX}`;
  try {
    fs.writeFileSync(tmp, text, mode === undefined ? undefined : { mode });
  } catch (err) {
    // A full disk leaves a truncated temp file: never a half file, and nothing left behind.
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.renameSync(tmp, file);
}

/**
 * The file's text; if it is missing, its temp file's when isWhole says it is complete (a writer
 * killed between unlink and rename), which then takes the name. Undefined if there is neither.
 */
export function readWholeFile(file: string, isWhole: (text: string) => boolean): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = `${file}${TEMP_SUFFIX}`;
  let text: string;
  try {
    text = fs.readFileSync(tmp, 'utf8');
  } catch {
    return undefined;
  }
  if (!isWhole(text)) return undefined;
  fs.renameSync(tmp, file);
  return text;
}
