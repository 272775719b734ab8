// The launcher's side of the pre-started create (launcher/sysbox-runc.sh, create_spare): against a
// stand-in spare (a child process holding the fifos as create-spare.ts does and answering a script),
// what the launcher does for each answer and for each way the spare can go away. The source
// launcher is unstamped, so its spare directory is literally named @CREATE_SPARE_BUILD@. The
// stand-ins' fifos are named after this process (a live pid, which the launcher checks).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

/** A spare that reads one request, then writes `reply` lines (and, after an R, answers S<status>). */
const NAME = String(process.pid);

const STAND_IN = `
const fs = require('fs');
const [name, reply] = process.argv.slice(1);
const out = fs.openSync(name + '.out', 'r+');
const inp = fs.openSync(name + '.in', 'r+');
process.stdout.write('ready\\n');
let text = '';
const buf = Buffer.alloc(65536);
const lines = () => text.split('\\n').slice(0, -1);
while (!(lines().length >= 6 && lines().length === 6 + Number(lines()[5]))) text += buf.toString('utf8', 0, fs.readSync(inp, buf));
fs.writeFileSync(name + '.request', text);
if (reply === 'exit') process.exit(0);
fs.writeSync(out, reply.split('|').join('\\n') + '\\n');
if (!reply.includes('R')) process.exit(0);
let status = '';
while (!status.endsWith('\\n')) status += buf.toString('utf8', 0, fs.readSync(inp, buf));
fs.writeSync(out, 'S' + status.trim() + '\\n');
`;

describe('launcher: create through a pre-started spare', () => {
  const source = path.resolve(__dirname, '..', '..', 'launcher', 'sysbox-runc.sh');
  let dir: string;
  let launcher: string;
  let spares: string;
  let sock: string;
  const children: ChildProcess[] = [];
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-create-spare-'));
    launcher = path.join(dir, 'sysbox-runc');
    fs.copyFileSync(source, launcher);
    fs.chmodSync(launcher, 0o755);
    // Says that Node ran (the fallback).
    fs.writeFileSync(path.join(dir, 'sysbox-runc.js'), 'console.log("node")\n');
    sock = path.join(dir, 'sysmgr.sock');
    spares = path.join(`${sock}.create-spares`, '@CREATE_SPARE_BUILD@');
    fs.mkdirSync(spares, { recursive: true });
  });
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Makes spare NAME's fifos; with a reply, starts a stand-in holding them (resolves once it does). */
  async function spare(name: string, reply?: string): Promise<string> {
    clear();
    const base = path.join(spares, name);
    spawnSync('mkfifo', [`${base}.in`, `${base}.out`]);
    if (reply === undefined) return base;
    const child = spawn(process.execPath, ['-e', STAND_IN, base, reply], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    return base;
  }

  function create(extra: string[] = []): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(launcher, [`--sysbox-mgr-socket=${sock}`, ...extra, 'create', '--bundle', '/b', 'c1'],
      { cwd: dir, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, timeout: 20_000 });
    return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
  }

  function clear(): void {
    for (const f of fs.readdirSync(spares)) fs.rmSync(path.join(spares, f));
  }

  it('starts Node when the only spare was claimed by another launcher (a lost race is no error)', async () => {
    const base = await spare(NAME);
    fs.writeFileSync(`${base}.claim`, '');
    const r = create();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'node');
    clear();
  });

  it('starts Node when the spare declines (F)', async () => {
    const base = await spare(NAME, 'F');
    const r = create();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'node');
    assert.ok(fs.existsSync(`${base}.claim`), 'the launcher claimed it');
    const request = fs.readFileSync(`${base}.request`, 'utf8').split('\n');
    assert.deepEqual(request.slice(1, 7), [dir, '', '', '', '5', `--sysbox-mgr-socket=${sock}`]);
    clear();
  });

  it('starts Node when the spare exits before accepting (end of file)', async () => {
    await spare(NAME, 'exit');
    const r = create();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'node');
    clear();
  });

  it('fails with a runc-style error on stderr and in the json --log when the spare exits after accepting', async () => {
    await spare(NAME, 'A');
    const log = path.join(dir, 'log.json');
    const r = create(['--log', log, '--log-format', 'json']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '', 'Node was not started');
    assert.match(r.stderr, new RegExp(`^time="[^"]+" level=error msg="sysbox-runc create: the pre-started create \\(${NAME}\\) exited before finishing: the create failed"\n$`));
    const line = JSON.parse(fs.readFileSync(log, 'utf8')) as { level: string; msg: string; time: string };
    assert.equal(line.level, 'error');
    assert.ok(line.msg.includes(`pre-started create (${NAME}) exited before finishing`), line.msg);
    clear();
  });

  it('runs the command the spare sends, relays E lines, and exits with the status the spare gives', async () => {
    await spare(NAME, 'A|Eoops from the spare|R3|/bin/sh|-c|exit 7');
    const r = create();
    assert.equal(r.status, 7, r.stderr);
    assert.equal(r.stderr, 'oops from the spare\n');
    clear();
  });

  it('starts Node without waiting when the claimed spare is dead (its fifo has no writer)', async () => {
    clear();
    const base = path.join(spares, '999999999');
    spawnSync('mkfifo', [`${base}.in`, `${base}.out`]);
    const r = create();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'node');
    clear();
  });

  it('does not claim a spare with --preserve-fds above 4 (fds 8 and 9 carry the exchange)', async () => {
    const base = await spare(NAME);
    const r = spawnSync(launcher, [`--sysbox-mgr-socket=${sock}`, 'create', '--preserve-fds', '5', 'c1'],
      { cwd: dir, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, timeout: 20_000 });
    assert.equal(r.stdout.trim(), 'node');
    assert.ok(!fs.existsSync(`${base}.claim`));
    clear();
  });
});
