// Generates packages/common/src/generated/*.ts from proto/*.proto: TypeScript interfaces for every
// message, a field table for the small wire codec used on the hot path (grpc-lite), and the method
// table of each service. The daemons load the same .proto files with @grpc/proto-loader, so one
// contract drives both sides. Run by `npm run build`; output is committed nowhere.
import protobuf from 'protobufjs';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const outDir = path.join(root, 'packages/common/src/generated');
fs.mkdirSync(outDir, { recursive: true });

const scalarTs = { string: 'string', bool: 'boolean', uint32: 'number', int32: 'number', uint64: 'number', int64: 'number', double: 'number', bytes: 'Uint8Array' };

function camel(name) { return name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()); }

for (const file of fs.readdirSync(path.join(root, 'proto')).filter((f) => f.endsWith('.proto'))) {
  const pbRoot = new protobuf.Root();
  // camelCase field names, as proto-loader gives the daemons by default
  pbRoot.loadSync(path.join(root, 'proto', file), { keepCase: false });
  pbRoot.resolveAll();
  const types = [];
  const services = [];
  (function walk(ns) {
    for (const obj of ns.nestedArray) {
      if (obj instanceof protobuf.Type) types.push(obj);
      else if (obj instanceof protobuf.Service) services.push(obj);
      if (obj.nestedArray) walk(obj);
    }
  })(pbRoot);

  const lines = [`// Generated from proto/${file} by scripts/gen-proto.mjs. Do not edit.`, `import type { MessageSchema } from '../grpc-lite/wire.js';`, ''];
  for (const t of types) {
    lines.push(`export interface ${t.name} {`);
    for (const f of t.fieldsArray) {
      let ts;
      if (f.map) ts = `Record<string, ${scalarTs[f.type] ?? f.resolvedType.name}>`;
      else ts = (scalarTs[f.type] ?? f.resolvedType.name) + (f.repeated ? '[]' : '');
      lines.push(`  ${camel(f.name)}?: ${ts};`);
    }
    lines.push('}', '');
  }
  lines.push('export const schemas: Record<string, MessageSchema> = {');
  for (const t of types) {
    const fields = t.fieldsArray.map((f) => {
      const kind = f.map ? 'map' : (scalarTs[f.type] ? f.type : 'message');
      const ref = f.map ? `'${f.keyType}:${f.type}'` : (kind === 'message' ? `'${f.resolvedType.name}'` : 'undefined');
      return `[${f.id}, '${camel(f.name)}', '${kind}', ${f.repeated ? 'true' : 'false'}, ${ref}]`;
    });
    lines.push(`  ${t.name}: [${fields.join(', ')}],`);
  }
  lines.push('};', '');
  for (const s of services) {
    const full = s.fullName.replace(/^\./, '');
    lines.push(`export const ${s.name}Service = '${full}';`);
    lines.push(`export const ${s.name}Methods = {`);
    for (const m of s.methodsArray) {
      lines.push(`  ${camel(m.name[0].toLowerCase() + m.name.slice(1))}: { path: '/${full}/${m.name}', request: '${m.resolvedRequestType.name}', response: '${m.resolvedResponseType.name}' },`);
    }
    lines.push('} as const;', '');
    lines.push(`export interface ${s.name}Api {`);
    for (const m of s.methodsArray) {
      lines.push(`  ${camel(m.name[0].toLowerCase() + m.name.slice(1))}(request: ${m.resolvedRequestType.name}): Promise<${m.resolvedResponseType.name}>;`);
    }
    lines.push('}', '');
  }
  // The daemons build their grpc-js service definitions from this (proto-loader's fromJSON),
  // so the bundled binaries need no .proto files at run time.
  lines.push(`export const descriptor: Record<string, unknown> = ${JSON.stringify(pbRoot.toJSON())};`, '');
  const out = path.join(outDir, file.replace('.proto', '.ts'));
  fs.writeFileSync(out, lines.join('\n'));
}
