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
