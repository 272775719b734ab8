// Reads and checks a bundle's config.json; errors name the file and the problem.
import fs from 'node:fs';
import path from 'node:path';
import { parseExactJson } from './exact-json.js';
import type { Spec } from './oci.js';

export class SpecError extends Error {}

export function loadSpec(bundle: string): Spec {
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new SpecError(fs.existsSync(bundle) ? `${file}: no such file (is ${bundle} an OCI bundle?)` : `bundle ${bundle} does not exist`);
    }
    throw new SpecError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let spec: unknown;
  try {
    spec = parseExactJson(text);
  } catch (err) {
    throw new SpecError(`failed to parse ${file}: ${(err as Error).message}`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new SpecError(`${file}: not a JSON object`);
  const s = spec as Spec;
  if (typeof s.ociVersion !== 'string') throw new SpecError(`${file}: ociVersion is missing`);
  if (!s.root || typeof s.root.path !== 'string' || s.root.path === '') throw new SpecError(`${file}: root.path is missing`);
  if (!s.process) throw new SpecError(`${file}: process is missing`);
  if (!s.linux) s.linux = {};
  return s;
}

export function rootfsPath(bundle: string, spec: Spec): string {
  return path.resolve(bundle, spec.root!.path);
}
