// Bundles each binary into one file under out/bin (fast start-up: one file to read and compile,
// command modules initialised lazily), with the native addon copied beside them.
// The shebang drops NODE_EXTRA_CA_CERTS and NODE_OPTIONS, which dockerd may pass on and which
// cost Node ~100 ms at start-up (shared notes, "Node start-up on the hot path").
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = path.join(root, 'out', 'bin');
fs.mkdirSync(out, { recursive: true });

// sysbox-runc is a small sh launcher (packages/sysbox-runc/launcher) plus this bundle.
const binaries = {
  'sysbox-runc.js': 'packages/sysbox-runc/dist/src/main.js',
  'sysbox-mgr': 'packages/sysbox-mgr/dist/src/main.js',
  'sysbox-fs': 'packages/sysbox-fs/dist/src/main.js',
  // sysbox-fs loads these in worker threads, by path (next to sysbox-fs).
  'sysbox-fs-worker.js': 'packages/sysbox-fs/dist/src/fuse/worker.js',
  'sysbox-fs-tree.js': 'packages/sysbox-fs/dist/src/virtual-tree.js',
  'sysbox-fs-seccomp.js': 'packages/sysbox-fs/dist/src/seccomp/worker.js',
  // Registers the runtime in Docker's daemon.json (the package's maintainer scripts call it).
  'sysbox-docker-runtime': 'packages/common/dist/src/install/docker-runtime.js',
};

// What `--version` reports (packages/common/src/version.ts). SOURCE_DATE_EPOCH keeps package builds
// reproducible; a tree without git (a source package) has no commit to tell.
function gitCommit() {
  try {
    return execFileSync('git', ['-C', root, 'rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}
const epoch = process.env.SOURCE_DATE_EPOCH;
const buildInfo = {
  commit: gitCommit(),
  builtAt: (epoch ? new Date(Number(epoch) * 1000) : new Date()).toUTCString(),
  builtBy: process.env.USER || os.userInfo().username,
};

for (const [name, entry] of Object.entries(binaries)) {
  await build({
    entryPoints: [path.join(root, entry)],
    outfile: path.join(out, name),
    bundle: true,
    platform: 'node',
    target: 'node18', // the oldest Node we support: Debian 12's nodejs 18.20 (package.json engines)
    format: 'cjs',
    minifySyntax: true,
    legalComments: 'none',
    // Only the files run as programs get the shebang; the others are loaded by path (worker threads,
    // the sysbox-runc launcher's `node sysbox-runc.js`).
    banner: { js: name.endsWith('.js') ? '' : '#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS -u NODE_OPTIONS /usr/bin/node' },
    logLevel: 'warning',
    define: { SYSBOX_BUILD_INFO: JSON.stringify(buildInfo) },
  });
  fs.chmodSync(path.join(out, name), name.endsWith('.js') ? 0o644 : 0o755);
}
// The native build happens at `npm ci`; a tree installed before the rootfs-view program existed, or
// whose C sources changed since, gets it rebuilt here rather than a stale or missing program.
function rebuildNativeIfStale() {
  const native = path.join(root, 'packages', 'native');
  const program = path.join(native, 'build', 'Release', 'sysbox-mgr-rootfs-view');
  const built = fs.existsSync(program) ? fs.statSync(program).mtimeMs : 0;
  const srcDir = path.join(native, 'src', 'rootfs-view');
  const sources = [path.join(native, 'binding.gyp'), ...fs.readdirSync(srcDir).map((f) => path.join(srcDir, f))];
  if (sources.every((f) => fs.statSync(f).mtimeMs <= built)) return;
  console.log('bundle: building packages/native (node-gyp rebuild)');
  execFileSync('npx', ['node-gyp', 'rebuild', '--loglevel=warn', `--nodedir=${process.env.npm_config_nodedir || '/usr'}`], { cwd: native, stdio: ['ignore', 'ignore', 'inherit'] });
}
rebuildNativeIfStale();

// Copy to a temp name and rename: overwriting the addon in place would crash a running sysbox-mgr
// that has it mapped.
function place(from, name, mode) {
  const tmp = path.join(out, `.${name}.tmp`);
  fs.copyFileSync(path.join(root, from), tmp);
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, path.join(out, name));
}
place('packages/native/build/Release/sysbox_native.node', 'sysbox_native.node', 0o755);
// sysbox-mgr starts one per running container, by path (next to sysbox-mgr): a C program.
place('packages/native/build/Release/sysbox-mgr-rootfs-view', 'sysbox-mgr-rootfs-view', 0o755);
// The launcher claims only spares of its own build: their directory is named after the bundle's hash,
// as sysbox-mgr names it (packages/sysbox-mgr/src/create-spares.ts, createSpareBuild).
{
  const build = createHash('sha256').update(fs.readFileSync(path.join(out, 'sysbox-runc.js'))).digest('hex').slice(0, 16);
  const launcher = fs.readFileSync(path.join(root, 'packages/sysbox-runc/launcher/sysbox-runc.sh'), 'utf8');
  const tmp = path.join(out, '.sysbox-runc.tmp');
  fs.writeFileSync(tmp, launcher.replace('@CREATE_SPARE_BUILD@', build), { mode: 0o755 });
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, path.join(out, 'sysbox-runc'));
}
