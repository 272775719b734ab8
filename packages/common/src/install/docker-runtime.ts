// sysbox-docker-runtime: registers (or unregisters) sysbox-runc in Docker's daemon.json and has a
// running dockerd reload it. The Debian package's maintainer scripts call it; so can an operator who
// installs Docker after Sysbox. dockerd is reloaded (SIGHUP: runtimes are live-reloadable), never
// restarted, so running containers are not touched.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import yargs from 'yargs';
import { pidIn } from '../daemon/identity.js';
import { addRuntime, DaemonJsonError, removeRuntime, type Edit } from './daemon-json.js';

const DOCKER_PIDFILES = ['/run/docker.pid', '/var/run/docker.pid'];

function fail(msg: string): never {
  process.stderr.write(`sysbox-docker-runtime: ${msg}\n`);
  process.exit(1);
}

/** Replaces the file in one rename, keeping its mode (a half-written daemon.json would stop dockerd from starting). */
function writeAtomically(file: string, text: string): void {
  const mode = fs.existsSync(file) ? fs.statSync(file).mode & 0o7777 : 0o644;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.sysbox-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}

function systemdManagesDocker(): boolean {
  try {
    if (fs.readFileSync('/proc/1/comm', 'utf8').trim() !== 'systemd') return false;
    execFileSync('systemctl', ['is-active', '--quiet', 'docker.service'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function livePid(pidfile: string): number | undefined {
  const pid = pidIn(pidfile);
  if (pid === undefined || pid <= 1) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Asks the dockerd that reads this config to reload it; says what it did. */
function reloadDocker(pidfiles: string[]): string {
  if (pidfiles.length === 0 && systemdManagesDocker()) {
    execFileSync('systemctl', ['reload', 'docker.service'], { stdio: 'inherit' });
    return 'dockerd reloaded (systemctl reload docker)';
  }
  for (const pidfile of pidfiles.length ? pidfiles : DOCKER_PIDFILES) {
    const pid = livePid(pidfile);
    if (pid) {
      process.kill(pid, 'SIGHUP');
      return `dockerd (pid ${pid}) reloaded (SIGHUP)`;
    }
  }
  return 'dockerd is not running; it reads the runtime when it starts';
}

/** The runtimes a running dockerd lists (GET /info on its API socket), or undefined if it does not answer. */
function dockerRuntimes(socketPath: string): Promise<string[] | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/info', timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => {
        try {
          resolve(Object.keys((JSON.parse(body) as { Runtimes?: Record<string, unknown> }).Runtimes ?? {}));
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => { req.destroy(); resolve(undefined); });
  });
}

/** Waits (up to 5 s) until dockerd no longer lists the runtime: its reload runs after the signal is sent. */
async function waitRuntimeGone(socketPath: string, name: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const names = await dockerRuntimes(socketPath);
    if (names === undefined) {
      // No API to ask: give the reload a moment.
      await new Promise((r) => setTimeout(r, 1000));
      return;
    }
    if (!names.includes(name)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function dockerSocket(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/run/docker.sock';
}

async function main(): Promise<void> {
  const argv = yargs(process.argv.slice(2))
    .scriptName('sysbox-docker-runtime')
    .usage('$0 add|remove [options]\n\nRegisters sysbox-runc as a Docker runtime in daemon.json (other keys and formatting kept) and reloads dockerd.')
    .command('add', 'add the runtime entry')
    .command('remove', 'remove the runtime entry')
    .demandCommand(1, 1)
    .option('config', { type: 'string', default: '/etc/docker/daemon.json', describe: "Docker's daemon.json" })
    .option('name', { type: 'string', default: 'sysbox-runc', describe: 'runtime name (docker run --runtime=NAME)' })
    .option('path', { type: 'string', default: '/usr/bin/sysbox-runc', describe: 'runtime binary' })
    .option('pidfile', { type: 'array', string: true, default: [] as string[], describe: "dockerd's pidfile (default: systemctl reload docker, else /run/docker.pid)" })
    .option('reload', { type: 'boolean', default: true, describe: 'reload a running dockerd after a change' })
    .strict()
    .fail((msg, err) => fail(msg ?? err?.message ?? 'bad arguments'))
    .parseSync();
  const op = String(argv._[0]);
  if (op !== 'add' && op !== 'remove') fail(`unknown command "${op}" (add or remove)`);
  const config = argv.config;
  const before = fs.existsSync(config) ? fs.readFileSync(config, 'utf8') : '';
  let edit: Edit;
  try {
    edit = op === 'add' ? addRuntime(before, argv.name, argv.path) : removeRuntime(before, argv.name);
  } catch (err) {
    if (!(err instanceof DaemonJsonError)) throw err;
    fail(`${config} is ${err.message}: left untouched. Fix it, then run "sysbox-docker-runtime ${op}" `
      + `(or ${op === 'add' ? 'add' : 'remove'} "runtimes": {"${argv.name}": {"path": "${argv.path}"}} by hand and reload dockerd).`);
  }
  if (!edit.changed) {
    process.stdout.write(`${config}: runtime ${argv.name} ${op === 'add' ? 'already registered' : 'not registered'}; nothing to do\n`);
    return;
  }
  if (op === 'remove' && argv.reload && !('runtimes' in (JSON.parse(edit.text) as Record<string, unknown>))) {
    // The whole "runtimes" key goes, and dockerd's reload keeps the runtimes of a file that does
    // not name the key: first make it reload an empty set, then put the operator's text back.
    writeAtomically(config, removeRuntime(before, argv.name, true).text);
    reloadDocker(argv.pidfile);
    await waitRuntimeGone(dockerSocket(), argv.name);
  }
  writeAtomically(config, edit.text);
  const did = op === 'add' ? `added runtime ${argv.name} (${argv.path})` : `removed runtime ${argv.name}`;
  process.stdout.write(`${config}: ${did}; ${argv.reload ? reloadDocker(argv.pidfile) : 'dockerd not reloaded (--no-reload)'}\n`);
}

main().catch((err: unknown) => fail((err as Error).message));
