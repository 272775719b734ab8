// Per-container values of emulated kernel settings, one small file each under
// <state-dir>/sysctl/<id>/, so every worker thread and a restarted daemon see the same values.
import fs from 'node:fs';
import path from 'node:path';
import { sysctlDir } from './record.js';

export class EmulatedValues {
  constructor(private readonly stateDir: string) {}

  get(id: string, name: string): string | undefined {
    try {
      return fs.readFileSync(path.join(sysctlDir(this.stateDir, id), name), 'utf8');
    } catch {
      return undefined;
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
