// The sh launcher's kill, delete and delete --force for crun's state layout (status, not runc's
// state.json; /run/crun without --root), from the facts create writes beside crun's state
// (lifecycle/delete-facts.ts): done without starting crun, and left to crun where it must decide.
// Against real crun (root only), through test/lib/crun-logged.sh, which logs each call (and on a
// cgroup v1 host whose v2 hierarchy holds a controller hides that from crun 1.8, which refuses
// every container there).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DELETE_FACTS_FILE, recordDeleteFacts } from '../src/lifecycle/delete-facts.js';
import { EXECUTOR_RECORD_FILE, recordExecutor } from '../src/lifecycle/executor-record.js';
import { psTable } from '../src/commands/ps.js';
import { busyboxBundle, crunLogged } from './fixtures.js';

const CRUN = '/usr/bin/crun';
const MOUNT_ROOT = '/run/sysbox-containers';

describe('launcher kill and delete for crun', () => {
  const tag = randomBytes(4).toString('hex');
  const root = `/run/sysbox-launcher-crun-${tag}`;
  let dir: string;
  let launcher: string;
  let fakeCrun: string;
  let bundle: string;
  let log: string;
  const ids: string[] = [];

  before(() => {
    assert.ok(fs.existsSync(CRUN), `${CRUN} is missing: apt-get install crun (scripts/deps.sh)`);
    assert.ok(fs.existsSync('/bin/busybox'), '/bin/busybox is missing: apt-get install busybox-static (scripts/deps.sh)');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-launcher-crun-'));
    launcher = path.join(dir, 'sysbox-runc');
    fs.copyFileSync(path.resolve(__dirname, '..', '..', 'launcher', 'sysbox-runc.sh'), launcher);
    fs.chmodSync(launcher, 0o755);
    ({ crun: fakeCrun, calls: log } = crunLogged(dir));
    bundle = busyboxBundle(path.join(dir, 'bundle'), CRUN);
    fs.mkdirSync(root, { mode: 0o700 });
  });
  after(() => {
    for (const id of ids) {
      spawnSync(fakeCrun, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
      fs.rmSync(path.join(MOUNT_ROOT, id), { recursive: true, force: true });
    }
    // crun makes the root it is given: the second one too.
    for (const r of [root, `${root}-none`]) fs.rmSync(r, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const calls = (): string[] => fs.readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
  const crunState = (id: string): { status: string; pid: number } =>
    JSON.parse(execFileSync(fakeCrun, ['--root', root, 'state', id], { encoding: 'utf8' })) as { status: string; pid: number };
  /** The launcher, told of the stand-in as sysbox-runc is told by sysbox-mgr (the executor file beside its socket). */
  const launch = (...args: string[]): { status: number | null; stderr: string; calls: string[] } => launchWith(fakeCrun, ...args);
  /** The same, sysbox-mgr having published `published` as its executor. */
  const launchWith = (published: string, ...args: string[]): { status: number | null; stderr: string; calls: string[] } => {
    fs.writeFileSync(log, '');
    const socket = path.join(dir, 'mgr.sock');
    fs.writeFileSync(`${socket}.executor`, `${published}\n`);
    const r = spawnSync(launcher, ['--root', root, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYSBOX_MGR_SOCKET: socket }, encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr, calls: calls() };
  };
  const until = async (what: string, ok: () => boolean): Promise<void> => {
    for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(ok(), what);
  };

  /** A container crun created and started, with create's facts beside crun's state. */
  const running = (name: string, from = bundle): { id: string; pid: number } => {
    const id = `crun-${name}-${tag}`;
    ids.push(id);
    const errFile = path.join(dir, `${id}.err`);
    const errFd = fs.openSync(errFile, 'w');
    const r = spawnSync(fakeCrun, ['--root', root, 'create', '--bundle', from, id], { stdio: ['ignore', 'ignore', errFd] });
    fs.closeSync(errFd);
    assert.equal(r.status, 0, `crun create: ${fs.readFileSync(errFile, 'utf8')}`);
    execFileSync(fakeCrun, ['--root', root, 'start', id]);
    const { status, pid } = crunState(id);
    assert.equal(status, 'running');
    return { id, pid };
  };

  it('kill by number without crun; once the init is gone, crun (and its error)', async () => {
    const { id, pid } = running('kill');
    assert.equal(recordDeleteFacts(fakeCrun, root, id), true, 'a plain crun container qualifies');
    assert.equal(fs.readFileSync(path.join(root, id, DELETE_FACTS_FILE), 'utf8').split('\n')[0], String(pid));
    assert.deepEqual(launch('kill', id, '9'), { status: 0, stderr: '', calls: [] });
    await until('the init died of SIGKILL', () => crunState(id).status === 'stopped');
    const late = launch('kill', id, '9');
    assert.notEqual(late.status, 0);
    assert.deepEqual(late.calls, [`--root ${root} kill ${id} 9`]);
  });

  it('delete of a stopped container without crun: its cgroups and state dir gone, as crun leaves them', async () => {
    const { id, pid } = running('delete');
    assert.equal(recordDeleteFacts(fakeCrun, root, id), true);
    const cgroups = fs.readFileSync(path.join(root, id, DELETE_FACTS_FILE), 'utf8').split('\n').slice(3).filter((l) => l !== '');
    assert.ok(cgroups.length > 0 && cgroups.every((c) => fs.existsSync(c)), `cgroups: ${cgroups.join(' ')}`);
    assert.ok(cgroups.some((c) => c.startsWith('/sys/fs/cgroup/freezer/')), 'the freezer hierarchy among them');
    // Running: crun's to refuse.
    const early = launch('delete', id);
    assert.notEqual(early.status, 0);
    assert.deepEqual(early.calls, [`--root ${root} delete ${id}`]);
    process.kill(pid, 'SIGKILL');
    await until('stopped', () => crunState(id).status === 'stopped');
    assert.deepEqual(launch('delete', id), { status: 0, stderr: '', calls: [] });
    assert.deepEqual(cgroups.filter((c) => fs.existsSync(c)), []);
    assert.equal(fs.existsSync(path.join(root, id)), false);
  });

  it('delete --force of a container crun has forgotten: status 0 without crun; in a root that is not there, crun', () => {
    assert.deepEqual(launch('delete', '--force', `crun-gone-${tag}`), { status: 0, stderr: '', calls: [] });
    const other = launch('--root', `${root}-none`, 'delete', '--force', `crun-gone-${tag}`);
    assert.deepEqual(other.calls, [`--root ${root} --root ${root}-none delete --force crun-gone-${tag}`]);
  });

  it('no facts for a container with a poststop hook: crun runs the hook at its delete', () => {
    const hooked = path.join(dir, 'hooked');
    fs.mkdirSync(hooked);
    const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { root: unknown; hooks?: unknown };
    spec.root = { path: path.join(bundle, 'rootfs'), readonly: true };
    spec.hooks = { poststop: [{ path: '/bin/true' }] };
    fs.writeFileSync(path.join(hooked, 'config.json'), JSON.stringify(spec));
    const { id } = running('hooked', hooked);
    assert.equal(recordDeleteFacts(fakeCrun, root, id), false);
    assert.equal(fs.existsSync(path.join(root, id, DELETE_FACTS_FILE)), false);
  });

  it("ps: runc's table (ps -ef's header and the container's rows), not crun's list of pids", async () => {
    const { id, pid } = running('ps');
    // The Node runtime beside the launcher's copy: this build's.
    fs.writeFileSync(path.join(dir, 'sysbox-runc.js'), `require(${JSON.stringify(path.resolve(__dirname, '..', 'src', 'main.js'))});\n`);
    const socket = path.join(dir, 'mgr.sock');
    fs.writeFileSync(`${socket}.executor`, `${fakeCrun}\n`);
    const r = spawnSync(launcher, ['--root', root, 'ps', id], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYSBOX_MGR_SOCKET: socket }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(psTable(r.stdout, new Set([pid])), r.stdout, 'only the container\'s rows');
    assert.match(r.stdout, new RegExp(`^UID\\s+PID[^\\n]*CMD\\n\\S+\\s+${pid}\\s[^\\n]*sleep 60\\n$`));
  });
  it("a container crun created is crun's, whatever sysbox-mgr names now (its record); --executor still decides", async () => {
    const { id } = running('record');
    assert.equal(recordExecutor(fakeCrun, root, id), true);
    assert.equal(recordDeleteFacts(fakeCrun, root, id), true);
    assert.equal(fs.readFileSync(path.join(root, id, EXECUTOR_RECORD_FILE), 'utf8'), `${fakeCrun}\n`);
    // sysbox-mgr now names runc (a stand-in that logs): state and a kill by name still go to crun.
    const runcLog = path.join(dir, 'runc-calls');
    const fakeRunc = path.join(dir, 'runc');
    fs.writeFileSync(fakeRunc, `#!/bin/sh\necho "$*" >> ${runcLog}\nexec /usr/sbin/runc "$@"\n`, { mode: 0o755 });
    fs.writeFileSync(runcLog, '');
    const st = launchWith(fakeRunc, 'state', id);
    assert.equal(st.status, 0, st.stderr);
    assert.deepEqual(st.calls, [`--root ${root} state ${id}`]);
    const killed = launchWith(fakeRunc, 'kill', id, 'KILL');
    assert.deepEqual([killed.status, killed.calls], [0, [`--root ${root} kill ${id} KILL`]]);
    await until('the init died of SIGKILL', () => crunState(id).status === 'stopped');
    assert.equal(fs.readFileSync(runcLog, 'utf8'), '', 'runc never asked');
    // --executor names the runtime outright (runc here, which does not know the container).
    const flagged = launchWith(fakeCrun, `--executor=${fakeRunc}`, 'state', id);
    assert.notEqual(flagged.status, 0);
    assert.match(fs.readFileSync(runcLog, 'utf8'), new RegExp(`state ${id}`));
    // The delete, from the facts (crun's layout, as recorded), starts neither; the record goes with
    // the state dir.
    fs.writeFileSync(runcLog, '');
    assert.deepEqual(launchWith(fakeRunc, 'delete', id), { status: 0, stderr: '', calls: [] });
    assert.equal(fs.readFileSync(runcLog, 'utf8'), '');
    assert.equal(fs.existsSync(path.join(root, id)), false);
  });
});

describe('psTable', () => {
  it("keeps ps's header and the rows whose PID column is one of the container's", () => {
    const out = 'USER       PID %CPU COMMAND\nroot         1  0.0 /sbin/init\n2500000+  812  0.0 sleep 1000\n2500000+  8120  0.0 sh\n';
    assert.equal(psTable(out, new Set([812])), 'USER       PID %CPU COMMAND\n2500000+  812  0.0 sleep 1000\n');
    assert.throws(() => psTable('  X Y\n1 2\n', new Set([1])), /couldn't find PID field in ps output/);
  });
});
