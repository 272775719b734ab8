// The sh launcher's `start` of a created container and `delete --force` of a container runc has
// forgotten, both done without runc (a Go start each), and everything else of those commands left
// to runc. Against real runc (root only): busybox bundles created with runc itself, the launcher
// given a stand-in "runc" that logs its command line and then runs the real one, so a test can tell
// whether runc was asked.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const MOUNT_ROOT = '/run/sysbox-containers';
const RUNC = '/usr/sbin/runc';

interface Outcome { status: number | null; stderr: string; runcCalls: string[] }

describe('launcher start and delete --force without runc', () => {
  const tag = randomBytes(4).toString('hex');
  const root = `/run/sysbox-launcher-start-${tag}`;
  let dir: string;
  let launcher: string;
  let fakeRunc: string;
  let bundle: string;
  const ids: string[] = [];

  before(() => {
    assert.ok(fs.existsSync(RUNC), `${RUNC} is missing: apt-get install runc (scripts/deps.sh)`);
    assert.ok(fs.existsSync('/bin/busybox'), '/bin/busybox is missing: apt-get install busybox-static (scripts/deps.sh)');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-launcher-start-'));
    launcher = path.join(dir, 'sysbox-runc');
    fs.copyFileSync(path.resolve(__dirname, '..', '..', 'launcher', 'sysbox-runc.sh'), launcher);
    fs.chmodSync(launcher, 0o755);
    // Named runc: the launcher's fast paths are for runc's state layout only.
    fakeRunc = path.join(dir, 'runc');
    fs.writeFileSync(fakeRunc, `#!/bin/sh\necho "runc $*" >> "$FAKE_LOG"\nexec ${RUNC} "$@"\n`, { mode: 0o755 });
    bundle = path.join(dir, 'bundle');
    fs.mkdirSync(path.join(bundle, 'rootfs', 'bin'), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(bundle, 'rootfs', 'bin', 'busybox'));
    fs.chmodSync(path.join(bundle, 'rootfs', 'bin', 'busybox'), 0o755);
    execFileSync(RUNC, ['spec'], { cwd: bundle });
    const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as {
      process: { terminal: boolean; args: string[] };
    };
    spec.process.terminal = false;
    spec.process.args = ['/bin/busybox', 'sleep', '60'];
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
    fs.mkdirSync(root, { mode: 0o700 });
  });
  after(() => {
    for (const id of ids) {
      spawnSync(RUNC, ['--root', root, 'resume', id], { stdio: 'ignore' });
      spawnSync(RUNC, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
      fs.rmSync(path.join(MOUNT_ROOT, id), { recursive: true, force: true });
    }
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const runcState = (id: string): { status: string; pid: number } =>
    JSON.parse(execFileSync(RUNC, ['--root', root, 'state', id], { encoding: 'utf8' })) as { status: string; pid: number };

  /** A container runc created and left waiting for start, with the init pid create records. */
  const created = (name: string): { id: string; pid: number } => {
    const id = `start-${name}-${tag}`;
    ids.push(id);
    // Its stderr into a file: the init keeps what it was given, so a pipe would never end.
    const errFile = path.join(dir, `${id}.err`);
    const errFd = fs.openSync(errFile, 'w');
    const r = spawnSync(RUNC, ['--root', root, 'create', '--bundle', bundle, id], { stdio: ['ignore', 'ignore', errFd] });
    fs.closeSync(errFd);
    assert.equal(r.status, 0, `runc create: ${fs.readFileSync(errFile, 'utf8')}`);
    const { status, pid } = runcState(id);
    assert.equal(status, 'created');
    fs.mkdirSync(path.join(MOUNT_ROOT, id), { recursive: true });
    fs.writeFileSync(path.join(MOUNT_ROOT, id, 'init-pid'), `${pid}\n`);
    return { id, pid };
  };

  let runs = 0;
  const run = (env: Record<string, string>, ...args: string[]): Promise<Outcome> => new Promise((resolve, reject) => {
    const log = path.join(dir, `log-${runs++}`);
    fs.writeFileSync(log, '');
    const p = spawn(launcher, ['--root', root, '--log-format', 'json', ...args],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYSBOX_RUNC_PATH: fakeRunc, FAKE_LOG: log, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stderr, runcCalls: fs.readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') }));
  });

  it('starts a created container without runc: the process runs, the exec fifo is gone', async () => {
    const { id, pid } = created('plain');
    const out = await run({}, 'start', id);
    assert.deepEqual(out, { status: 0, stderr: '', runcCalls: [] });
    assert.equal(runcState(id).status, 'running');
    assert.equal(fs.existsSync(path.join(root, id, 'exec.fifo')), false);
    assert.equal(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'busybox');
  });

  it('a second start of that container, or two at once: exactly one starts it, the other fails', async () => {
    const { id } = created('twice');
    const both = await Promise.all([run({}, 'start', id), run({}, 'start', id)]);
    assert.deepEqual(both.map((o) => o.status).sort(), [0, 1], JSON.stringify(both));
    const failed = both.find((o) => o.status === 1)!;
    // Whichever way it went (this launcher, or runc once the fifo was gone), runc's words.
    assert.match(failed.stderr, /cannot start an already running container/);
    assert.equal(runcState(id).status, 'running');
    const again = await run({}, 'start', id);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /cannot start an already running container/);
    assert.deepEqual(again.runcCalls, [`runc --root ${root} --log-format json start ${id}`], 'no exec fifo left: runc says why');
  });

  it('leaves a paused created container to runc, which refuses it; resumed, it starts', async () => {
    const { id } = created('paused');
    execFileSync(RUNC, ['--root', root, 'pause', id]);
    const out = await run({}, 'start', id);
    assert.notEqual(out.status, 0);
    assert.deepEqual(out.runcCalls, [`runc --root ${root} --log-format json start ${id}`]);
    assert.equal(runcState(id).status, 'paused');
    execFileSync(RUNC, ['--root', root, 'resume', id]);
    assert.equal((await run({}, 'start', id)).status, 0);
    assert.equal(runcState(id).status, 'running');
  });

  it('leaves a container whose init is gone to runc, and one started with NOTIFY_SOCKET', async () => {
    const { id, pid } = created('dead');
    process.kill(pid, 'SIGKILL');
    const out = await run({}, 'start', id);
    assert.notEqual(out.status, 0);
    assert.deepEqual(out.runcCalls, [`runc --root ${root} --log-format json start ${id}`]);
    const n = created('notify');
    const notified = await run({ NOTIFY_SOCKET: path.join(dir, 'no-such-socket') }, 'start', n.id);
    assert.deepEqual(notified.runcCalls, [`runc --root ${root} --log-format json start ${n.id}`]);
  });

  it('delete --force of a container runc has forgotten: status 0 without runc; anything else: runc', async () => {
    const gone = `start-gone-${tag}`;
    assert.deepEqual(await run({}, 'delete', '--force', gone), { status: 0, stderr: '', runcCalls: [] });
    assert.deepEqual((await run({}, 'delete', '-f', gone)).runcCalls, []);
    // Without --force runc's error; a state dir runc would remove; an id runc refuses.
    const plain = await run({}, 'delete', gone);
    assert.equal(plain.status, 1);
    assert.deepEqual(plain.runcCalls, [`runc --root ${root} --log-format json delete ${gone}`]);
    fs.mkdirSync(path.join(root, gone));
    assert.deepEqual(await run({}, 'delete', '--force', gone), { status: 0, stderr: '', runcCalls: [`runc --root ${root} --log-format json delete --force ${gone}`] });
    assert.equal(fs.existsSync(path.join(root, gone)), false, 'runc removed the state dir without state.json');
    assert.equal((await run({}, 'delete', '--force', 'bad,id!')).runcCalls.length, 1);
    // runc takes --force after the id too; a second positional is runc's to refuse.
    assert.deepEqual(await run({}, 'delete', gone, '--force'), { status: 0, stderr: '', runcCalls: [] });
    const two = await run({}, 'delete', '--force', gone, 'other');
    assert.equal(two.status, 1);
    assert.equal(two.runcCalls.length, 1);
    // A container runc still has is runc's to delete.
    const { id } = created('delete');
    // Not one sysbox-mgr holds (that delete waits for its release: launcher-delete.test.ts).
    fs.rmSync(path.join(MOUNT_ROOT, id), { recursive: true, force: true });
    const del = await run({}, 'delete', '--force', id);
    assert.equal(del.status, 0);
    assert.equal(del.runcCalls.length, 1);
    assert.equal(fs.existsSync(path.join(root, id)), false);
  });
});
