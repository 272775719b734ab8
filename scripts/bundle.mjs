// Bundles each binary into one file under out/bin (fast start-up: one file to read and compile,
// command modules initialised lazily), with the native addon copied beside them.
// The shebang drops NODE_EXTRA_CA_CERTS and NODE_OPTIONS, which dockerd may pass on and which
// cost Node ~100 ms at start-up (shared notes, "Node start-up on the hot path").
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = path.join(root, 'out', 'bin');
fs.mkdirSync(out, { recursive: true });

const binaries = {
  'sysbox-runc': 'packages/sysbox-runc/dist/src/main.js',
  'sysbox-mgr': 'packages/sysbox-mgr/dist/src/main.js',
};

for (const [name, entry] of Object.entries(binaries)) {
  await build({
    entryPoints: [path.join(root, entry)],
    outfile: path.join(out, name),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minifySyntax: true,
    legalComments: 'none',
    banner: { js: '#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS -u NODE_OPTIONS /usr/bin/node' },
    logLevel: 'warning',
  });
  fs.chmodSync(path.join(out, name), 0o755);
}
fs.copyFileSync(path.join(root, 'packages/native/build/Release/sysbox_native.node'), path.join(out, 'sysbox_native.node'));
