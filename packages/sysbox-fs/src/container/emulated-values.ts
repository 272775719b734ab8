// Per-container values of emulated kernel settings, one small file each under
// <state-dir>/sysctl/<id>/, so every worker thread and a restarted daemon see the same values.
import fs from 'node:fs';
import path from 'node:path';
import { sysctlDir } from './record.js';

export class EmulatedValues {
  constructor(private readonly stateDir: string) {}

  get(id: string, name: string): string | undefined {
    const file = path.join(sysctlDir(this.stateDir, id), name);
    // Most reads find no value (the host's is shown): existsSync costs ~1 µs where a thrown ENOENT
    // costs ~10.
    if (!fs.existsSync(file)) return undefined;
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined; // removed meanwhile (the container went away)
    }
  }

  set(id: string, name: string, value: string): void {
    const dir = sysctlDir(this.stateDir, id);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, name);
    fs.writeFileSync(`${file}.${process.pid}.tmp`, value);
    fs.renameSync(`${file}.${process.pid}.tmp`, file);
  }
}
