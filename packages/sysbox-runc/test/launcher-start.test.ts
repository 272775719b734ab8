// The sh launcher's `start` of a created container, `delete --force` of a container runc has
// forgotten, and `delete` of a stopped one and `kill` of a running one create left the facts for
// (lifecycle/delete-facts.ts), all done without runc (a Go start each), and everything else of those
// commands left to runc. Against real runc (root only): busybox bundles created with runc itself, the launcher
// given a stand-in "runc" that logs its command line and then runs the real one, so a test can tell
// whether runc was asked.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DELETE_FACTS_FILE, recordDeleteFacts } from '../src/lifecycle/delete-facts.js';
import { busyboxBundle } from './fixtures.js';

const MOUNT_ROOT = '/run/sysbox-containers';
const RUNC = '/usr/sbin/runc';

interface Outcome { status: number | null; stderr: string; runcCalls: string[] }

describe('launcher start, kill and delete without runc', () => {
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
    // The Node runtime beside the copy: a stand-in that logs as the stand-in runc does.
    fs.writeFileSync(path.join(dir, 'sysbox-runc.js'),
      'require("fs").appendFileSync(process.env.FAKE_LOG, `node status=${process.env.SYSBOX_RUNC_DELETE_STATUS} ${process.argv.slice(2).join(" ")}\\n`);\n');
    bundle = busyboxBundle(path.join(dir, 'bundle'), RUNC);
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
  const created = (name: string, from = bundle): { id: string; pid: number } => {
    const id = `start-${name}-${tag}`;
    ids.push(id);
    // Its stderr into a file: the init keeps what it was given, so a pipe would never end.
    const errFile = path.join(dir, `${id}.err`);
    const errFd = fs.openSync(errFile, 'w');
    const r = spawnSync(RUNC, ['--root', root, 'create', '--bundle', from, id], { stdio: ['ignore', 'ignore', errFd] });
    fs.closeSync(errFd);
    assert.equal(r.status, 0, `runc create: ${fs.readFileSync(errFile, 'utf8')}`);
    const { status, pid } = runcState(id);
    assert.equal(status, 'created');
    fs.mkdirSync(path.join(MOUNT_ROOT, id), { recursive: true });
    fs.writeFileSync(path.join(MOUNT_ROOT, id, 'init-pid'), `${pid}\n`);
    return { id, pid };
  };

  /** A container started, then its init killed (gone, or a zombie: runc's "stopped"), with create's facts. */
  const stopped = async (name: string): Promise<{ id: string; cgroups: string[] }> => {
    const { id, pid } = created(name);
    execFileSync(RUNC, ['--root', root, 'start', id]);
    const cgroups = [...new Set(Object.values((JSON.parse(fs.readFileSync(path.join(root, id, 'state.json'), 'utf8')) as { cgroup_paths: Record<string, string> }).cgroup_paths))];
    assert.ok(cgroups.length > 0 && cgroups.every((c) => fs.existsSync(c)), `cgroups of ${id}: ${cgroups.join(' ')}`);
    assert.equal(recordDeleteFacts(RUNC, root, id), true, 'a plain runc container qualifies');
    // Not one sysbox-mgr holds (that delete also waits for the release: launcher-delete.test.ts).
    fs.rmSync(path.join(MOUNT_ROOT, id), { recursive: true, force: true });
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 200 && runcState(id).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(runcState(id).status, 'stopped');
    return { id, cgroups };
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

  const until = async (what: string, ok: () => boolean): Promise<void> => {
    for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(ok(), what);
  };

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

  it('a second start that reads end of file while the init is in its exec (fifo closed, not yet renamed) says runc\'s words', async () => {
    // The kernel closes an exec'ing process's close-on-exec fds before it renames it: a window too
    // short to hit at will with runc, so a stand-in init (dash named as runc's) holds the fifo, then
    // drops it at SIGUSR1 and lives on under that name.
    const freezerRoot = '/sys/fs/cgroup/freezer';
    assert.ok(fs.existsSync(path.join(freezerRoot, 'cgroup.procs')), `${freezerRoot} is missing: this test needs a cgroup v1 freezer hierarchy`);
    const id = `start-execing-${tag}`;
    fs.mkdirSync(path.join(root, id));
    fs.writeFileSync(path.join(root, id, 'state.json'), '{}');
    const fifo = path.join(root, id, 'exec.fifo');
    execFileSync('mkfifo', [fifo]);
    const fakeInit = path.join(dir, 'runc:[2:INIT]');
    fs.copyFileSync('/bin/dash', fakeInit);
    fs.chmodSync(fakeInit, 0o755);
    const init = spawn(fakeInit, ['-c', 'exec 3<>"$0"; trap "exec 3>&-" USR1; while :; do sleep 0.02 3>&-; done', fifo], { stdio: 'ignore' });
    const freezer = path.join(freezerRoot, `sysbox-launcher-start-${tag}`);
    fs.mkdirSync(freezer);
    try {
      fs.writeFileSync(path.join(freezer, 'cgroup.procs'), String(init.pid));
      fs.mkdirSync(path.join(MOUNT_ROOT, id), { recursive: true });
      fs.writeFileSync(path.join(MOUNT_ROOT, id, 'init-pid'), `${init.pid}\n`);
      await until('the stand-in init holds the fifo', () => fs.readdirSync(`/proc/${init.pid}/fd`).some((fd) => {
        try { return fs.readlinkSync(`/proc/${init.pid}/fd/${fd}`) === fifo; } catch { return false; }
      }));
      const log = path.join(dir, 'log-execing');
      fs.writeFileSync(log, '');
      const starter = spawn(launcher, ['--root', root, '--log-format', 'json', 'start', id],
        { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYSBOX_RUNC_PATH: fakeRunc, FAKE_LOG: log }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      starter.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const status = new Promise<number | null>((resolve) => starter.on('close', resolve));
      // Its read end open (fd 5), it waits for the init's "0"; then the init drops the fifo unwritten.
      await until('the launcher has the fifo open', () => {
        try { return fs.readlinkSync(`/proc/${starter.pid}/fd/5`) === fifo; } catch { return false; }
      });
      assert.equal(fs.readFileSync(`/proc/${init.pid}/comm`, 'utf8').trim(), 'runc:[2:INIT]');
      init.kill('SIGUSR1');
      assert.equal(await status, 1);
      assert.match(stderr, /cannot start an already running container/);
      assert.equal(fs.readFileSync(log, 'utf8'), '', 'decided without runc');
    } finally {
      fs.rmSync(path.join(root, id), { recursive: true, force: true });
      fs.rmSync(path.join(MOUNT_ROOT, id), { recursive: true, force: true });
      // The init and a sleep it may have forked: the cgroup goes once both are gone.
      await until('the stand-in init and its children are gone', () => {
        if (!fs.existsSync(freezer)) return true;
        for (const pid of fs.readFileSync(path.join(freezer, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '')) {
          try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone already */ }
        }
        try { fs.rmdirSync(freezer); return true; } catch { return false; }
      });
    }
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
  it('deletes a stopped container without runc: its cgroups and state dir are gone, as runc leaves them', async () => {
    const { id, cgroups } = await stopped('stopped');
    const out = await run({}, 'delete', id);
    assert.deepEqual(out, { status: 0, stderr: '', runcCalls: [] });
    assert.equal(fs.existsSync(path.join(root, id)), false);
    assert.deepEqual(cgroups.filter((c) => fs.existsSync(c)), []);
    // Forgotten now: the shim's delete --force after it costs no runc either; a plain delete is runc's error.
    assert.deepEqual(await run({}, 'delete', '--force', id), { status: 0, stderr: '', runcCalls: [] });
    const again = await run({}, 'delete', id);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /does not exist/);
    // One sysbox-mgr still holds (its run dir there, no release coming here): deleted the same way,
    // then the Node runtime releases it, told the delete went well.
    const held = await stopped('held');
    fs.mkdirSync(path.join(MOUNT_ROOT, held.id), { recursive: true });
    const viaNode = await run({}, 'delete', held.id);
    assert.deepEqual(viaNode, { status: 0, stderr: '', runcCalls: [`node status=0 --root ${root} --log-format json delete ${held.id}`] });
    assert.equal(fs.existsSync(path.join(root, held.id)), false);
    assert.deepEqual(held.cgroups.filter((c) => fs.existsSync(c)), []);
    // --force of a stopped one: the same, without runc's 100 ms wait for a dead init.
    const f = await stopped('stopped-force');
    assert.deepEqual(await run({}, 'delete', '--force', f.id), { status: 0, stderr: '', runcCalls: [] });
    assert.deepEqual(f.cgroups.filter((c) => fs.existsSync(c)), []);
  });

  it('removes the cgroups made inside a stopped one; leaves runc a running or created container, a busy cgroup, one frozen, one without facts', async () => {
    const call = (id: string, ...flags: string[]): string => `runc --root ${root} --log-format json delete ${[...flags, id].join(' ')}`;
    // Running: runc refuses without --force, as before.
    const unheld = (id: string): void => fs.rmSync(path.join(MOUNT_ROOT, id), { recursive: true, force: true });
    const { id: live } = created('live');
    unheld(live);
    execFileSync(RUNC, ['--root', root, 'start', live]);
    assert.equal(recordDeleteFacts(RUNC, root, live), true);
    const refused = await run({}, 'delete', live);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /not stopped/);
    assert.deepEqual(refused.runcCalls, [call(live)]);
    assert.equal(runcState(live).status, 'running');
    // Created (init waiting for start): runc kills it.
    const { id: waiting } = created('waiting');
    unheld(waiting);
    assert.equal(recordDeleteFacts(RUNC, root, waiting), true);
    assert.deepEqual((await run({}, 'delete', waiting)).runcCalls, [call(waiting)]);
    assert.equal(fs.existsSync(path.join(root, waiting)), false);
    // Sub-cgroups (what Docker or systemd inside make), two deep in two hierarchies: removed too,
    // deepest first, without runc.
    const nested = await stopped('nested');
    const subs = nested.cgroups.filter((c) => /\/(pids|freezer)\//.test(c)).map((c) => path.join(c, 'system.slice', 'inner service'));
    assert.equal(subs.length, 2, `pids and freezer among ${nested.cgroups.join(' ')}`);
    for (const sub of subs) fs.mkdirSync(sub, { recursive: true });
    assert.deepEqual(await run({}, 'delete', nested.id), { status: 0, stderr: '', runcCalls: [] });
    assert.deepEqual(nested.cgroups.filter((c) => fs.existsSync(c)), []);
    assert.equal(fs.existsSync(path.join(root, nested.id)), false);
    // One still holding a task: the rmdir fails, runc is left the rest (and its verdict).
    const busy = await stopped('busy');
    const busySub = path.join(busy.cgroups.find((c) => c.includes('/pids/'))!, 'busy');
    fs.mkdirSync(busySub);
    const sleeper = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(path.join(busySub, 'cgroup.procs'), String(sleeper.pid));
      assert.deepEqual((await run({}, 'delete', busy.id)).runcCalls, [call(busy.id)]);
    } finally {
      sleeper.kill('SIGKILL');
      await until('the sleeper gone', () => fs.readFileSync(path.join(busySub, 'cgroup.procs'), 'utf8') === '');
      for (const c of [busySub, ...busy.cgroups]) if (fs.existsSync(c)) fs.rmdirSync(c);
    }
    // Frozen (runc calls it paused, and refuses): runc.
    const frozen = await stopped('frozen');
    const freezer = frozen.cgroups.find((c) => c.includes('/freezer/'));
    assert.ok(freezer, `a freezer cgroup among ${frozen.cgroups.join(' ')}`);
    fs.writeFileSync(path.join(freezer, 'freezer.state'), 'FROZEN');
    const paused = await run({}, 'delete', frozen.id);
    assert.equal(paused.status, 1);
    assert.match(paused.stderr, /paused/);
    assert.deepEqual(paused.runcCalls, [call(frozen.id)]);
    fs.writeFileSync(path.join(freezer, 'freezer.state'), 'THAWED');
    assert.deepEqual(await run({}, 'delete', frozen.id), { status: 0, stderr: '', runcCalls: [] });
    // No facts (crun, a create before this version, a container that does not qualify): runc.
    const bare = await stopped('bare');
    fs.rmSync(path.join(root, bare.id, DELETE_FACTS_FILE));
    assert.deepEqual(await run({}, 'delete', bare.id), { status: 0, stderr: '', runcCalls: [call(bare.id)] });
    // Another process by the init's pid is not the init (start time differs): the facts say stopped.
    const reused = await stopped('reused');
    const facts = path.join(root, reused.id, DELETE_FACTS_FILE);
    const lines = fs.readFileSync(facts, 'utf8').split('\n');
    lines[0] = String(process.pid);
    fs.writeFileSync(facts, lines.join('\n'));
    assert.deepEqual(await run({}, 'delete', reused.id), { status: 0, stderr: '', runcCalls: [] });
    // ...but the init's own pid and start time, alive, is running: runc.
    const { id: alive, pid } = created('alive');
    unheld(alive);
    execFileSync(RUNC, ['--root', root, 'start', alive]);
    assert.equal(recordDeleteFacts(RUNC, root, alive), true);
    assert.equal(fs.readFileSync(path.join(root, alive, DELETE_FACTS_FILE), 'utf8').split('\n')[0], String(pid));
    assert.deepEqual((await run({}, 'delete', alive)).runcCalls, [call(alive)]);
  });

  /** A bundle dir of its own (once) whose spec is the busybox bundle's, on its rootfs, as change leaves it. */
  const variant = (name: string, change: (spec: { process: { args: string[] }; hooks?: unknown }) => void): string => {
    const b = path.join(dir, name);
    if (fs.existsSync(b)) return b;
    fs.mkdirSync(b);
    const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { root: unknown; process: { args: string[] }; hooks?: unknown };
    spec.root = { path: path.join(bundle, 'rootfs'), readonly: true };
    change(spec);
    fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(spec));
    return b;
  };

  it('a container with a poststop hook has no facts: runc runs the hook at its delete', () => {
    const hooked = variant('hooked', (spec) => { spec.hooks = { poststop: [{ path: '/bin/true' }] }; });
    const id = `start-hooked-${tag}`;
    ids.push(id);
    const r = spawnSync(RUNC, ['--root', root, 'create', '--bundle', hooked, id], { stdio: 'ignore' });
    assert.equal(r.status, 0);
    assert.equal(recordDeleteFacts(RUNC, root, id), false);
    assert.equal(fs.existsSync(path.join(root, id, DELETE_FACTS_FILE)), false);
  });
  /** A bundle whose init records in /dev/shm the signals 15 and 37 it gets (busybox sh traps). */
  const trapBundle = (): string => variant('trap', (spec) => {
    spec.process.args = ['/bin/busybox', 'sh', '-c',
      'trap "/bin/busybox touch /dev/shm/got15" 15; trap "/bin/busybox touch /dev/shm/got37" 37; while :; do /bin/busybox sleep 0.02; done'];
  });

  it('kill of a running container without runc: the signal reaches the init (SIGRTMIN+3 for SIGTERM to a systemd init)', async () => {
    const { id, pid } = created('kill', trapBundle());
    execFileSync(RUNC, ['--root', root, 'start', id]);
    assert.equal(recordDeleteFacts(RUNC, root, id), true);
    const got = (n: number): boolean => fs.existsSync(`/proc/${pid}/root/dev/shm/got${n}`);
    // Let the shell set its traps first.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await run({}, 'kill', id, '15'), { status: 0, stderr: '', runcCalls: [] });
    await until('the init got SIGTERM', () => got(15));
    fs.writeFileSync(path.join(MOUNT_ROOT, id, 'init-is-systemd'), '');
    assert.deepEqual(await run({}, 'kill', id), { status: 0, stderr: '', runcCalls: [] });
    await until('the init got SIGRTMIN+3 for SIGTERM', () => got(37));
    assert.equal(runcState(id).status, 'running');
    // A signal by name is runc's; after it, the init is gone and a kill is runc's error.
    assert.deepEqual((await run({}, 'kill', id, 'KILL')).runcCalls, [`runc --root ${root} --log-format json kill ${id} KILL`]);
    await until('the init died of SIGKILL', () => runcState(id).status === 'stopped');
    const late = await run({}, 'kill', id, '15');
    assert.equal(late.status, 1);
    assert.match(late.stderr, /not running/);
    assert.equal(late.runcCalls.length, 1);
  });

  it('leaves runc kill --all, a paused container, and one without facts', async () => {
    const call = (...args: string[]): string => `runc --root ${root} --log-format json kill ${args.join(' ')}`;
    const a = created('kill-all');
    execFileSync(RUNC, ['--root', root, 'start', a.id]);
    assert.equal(recordDeleteFacts(RUNC, root, a.id), true);
    assert.deepEqual(await run({}, 'kill', '--all', a.id, '9'), { status: 0, stderr: '', runcCalls: [call('--all', a.id, '9')] });
    await until('kill --all by runc', () => runcState(a.id).status === 'stopped');
    // Paused: runc thaws the cgroup for SIGKILL, or the init would never die.
    const p = created('kill-paused');
    execFileSync(RUNC, ['--root', root, 'start', p.id]);
    assert.equal(recordDeleteFacts(RUNC, root, p.id), true);
    execFileSync(RUNC, ['--root', root, 'pause', p.id]);
    assert.deepEqual(await run({}, 'kill', p.id, '9'), { status: 0, stderr: '', runcCalls: [call(p.id, '9')] });
    await until('the paused init killed by runc', () => runcState(p.id).status === 'stopped');
    const n = created('kill-nofacts');
    execFileSync(RUNC, ['--root', root, 'start', n.id]);
    assert.deepEqual(await run({}, 'kill', n.id, '9'), { status: 0, stderr: '', runcCalls: [call(n.id, '9')] });
  });
});
