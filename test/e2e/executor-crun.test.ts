// sysbox-mgr --executor: crun in runc's place for every container, with no runtime arguments in
// Docker's config. The system container is the same (ID-shifted, sysbox-fs files, Docker inside,
// systemd as init); crun keeps its own state (status, not runc's state.json), and the launcher's
// kill and delete read it, so `docker stop` and `docker rm` start no crun at all. runc stays the
// default until crun has passed the whole suite. The executor is test/lib/crun-logged.sh, which
// logs each call and hides the cgroup v2 hierarchy's controllers from crun 1.8 on a host like this
// one (it refuses every container there: "cgroups in hybrid mode not supported").
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BUSYBOX, MGR_DATA_ROOT, MGR_SOCKET, REPO, SYSBOX_MGR, containerIdOf, docker, dockerOk, leftoversOf, loadImageInto, restartMgr,
  run, sysboxRunc, uniqueName, waitForInnerDocker, waitForSystemd,
} from '../lib/env.js';

const CRUN = '/usr/bin/crun';
const DOCKER_IMAGE = 'sysbox/docker:latest';
const MGR_LOG = `${MGR_DATA_ROOT}.log`;

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(ok(), what);
}

describe('sysbox-mgr --executor crun', () => {
  let dir: string;
  let executor: string;
  let calls: string;
  const containers: string[] = [];
  before(async () => {
    assert.ok(fs.existsSync(CRUN), `${CRUN} is missing: apt-get install crun (scripts/deps.sh)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-executor-crun-'));
    fs.chmodSync(dir, 0o755);
    calls = path.join(dir, 'calls');
    executor = path.join(dir, 'crun-logged');
    fs.copyFileSync(path.join(REPO, 'test', 'lib', 'crun-logged.sh'), executor);
    fs.chmodSync(executor, 0o755);
    await restartMgr(['--executor', executor]);
  });
  after(async () => {
    // Removed by the executor that made them: a test that failed after switching back to runc must
    // not leave crun's containers to runc (their kill and delete would fail, their cgroups stay).
    if (containers.length) {
      if (fs.readFileSync(`${MGR_SOCKET}.executor`, 'utf8') !== `${executor}\n`) await restartMgr(['--executor', executor]);
      await docker('rm', '-f', ...containers);
    }
    await restartMgr();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  /** The executor's calls since the last look (command lines). */
  const callsSince = (): string[] => {
    const lines = fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean) : [];
    fs.writeFileSync(calls, '');
    return lines;
  };
  /** Their commands: the word after the global flags. */
  const commandsOf = (lines: string[]): string[] =>
    lines.map((l) => l.split(' ').find((w, i, all) => !w.startsWith('-') && !/^--(root|log|log-format)$/.test(all[i - 1] ?? '')) ?? l);
  /** Where crun keeps container id's state: under the --root Docker gave the create call. */
  const stateDirOf = (createCalls: string[], id: string): string => {
    const root = createCalls.map((l) => /--root (\S+) .* create .*/.exec(l)?.[1]).find(Boolean);
    assert.ok(root, `no create call with --root: ${createCalls.join('\n')}`);
    return path.join(root, id);
  };

  it('is published beside the socket and named in the log; a bad path stops sysbox-mgr with the reason', async () => {
    assert.equal(fs.readFileSync(`${MGR_SOCKET}.executor`, 'utf8'), `${executor}\n`);
    assert.match(fs.readFileSync(MGR_LOG, 'utf8'), new RegExp(`executor: ${executor.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(in runc's place\\)`));
    const scratch = path.join(dir, 'bad.sock');
    for (const [bad, msg] of [['crun', /--executor must be an absolute path, not \\"crun\\"/], [path.join(dir, 'none'), /--executor \S+none: no such file/]] as const) {
      const r = await run(SYSBOX_MGR, ['--socket', scratch, '--executor', bad]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, msg);
      assert.ok(!fs.existsSync(`${scratch}.executor`) && !fs.existsSync(scratch), 'nothing published, no socket');
    }
  });

  it("a system container Docker starts is crun's: ID-shifted, sysbox-fs files, exec, runc's ps; stop and rm start no crun; nothing left", async () => {
    const c = uniqueName('crun');
    containers.push(c);
    callsSince();
    // A shell init that ends on SIGTERM, so that stop is one kill.
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, BUSYBOX, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done');
    const id = await containerIdOf(c);
    const started = callsSince();
    assert.deepEqual(commandsOf(started).filter((k) => k !== 'state').sort(), ['create', 'start']);
    const state = stateDirOf(started, id);
    assert.ok(fs.existsSync(path.join(state, 'status')), `crun's state in ${state}`);
    assert.ok(!fs.existsSync(path.join(state, 'state.json')), 'no runc state');
    assert.ok(fs.existsSync(path.join(state, 'sysbox-delete')), "create's facts beside crun's state");
    const uidMap = (await dockerOk('exec', c, 'cat', '/proc/self/uid_map')).trim().split(/\s+/);
    assert.equal(uidMap[0], '0');
    assert.notEqual(uidMap[1], '0', 'root inside is not root outside');
    assert.equal(uidMap[2], '65536');
    const mounts = await dockerOk('exec', c, 'cat', '/proc/self/mountinfo');
    assert.match(mounts, / \/proc\/uptime .* - fuse/, 'sysbox-fs serves /proc/uptime');
    assert.match(await dockerOk('exec', c, 'cat', '/proc/uptime'), /^\d+\.\d+ \d+\.\d+$/);
    assert.deepEqual(commandsOf(callsSince()).filter((k) => k !== 'state'), ['exec', 'exec', 'exec']);
    // ps as runc makes it (crun's own table has pids only): ps -ef's header and the container's rows.
    const ps = await sysboxRunc(['ps', id], { root: path.dirname(state) });
    assert.equal(ps.status, 0, ps.stderr);
    const [header, ...rows] = ps.stdout.trimEnd().split('\n');
    assert.match(header!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.ok(rows.some((r) => /sh -c trap/.test(r)) && rows.some((r) => / sleep 1$/.test(r)), ps.stdout);
    assert.match(callsSince().join('\n'), new RegExp(`^--root \\S+ ps --format json ${id}$`), "crun asked for the pids only");
    await dockerOk('stop', '-t', '10', c);
    await dockerOk('rm', c);
    containers.pop();
    assert.deepEqual(callsSince(), [], 'kill, delete and delete --force: the launcher, from the facts');
    await until(`${c} released`, () => leftoversOf(id).length === 0);
    assert.ok(!fs.existsSync(state), "crun's state dir removed");
    assert.deepEqual(fs.readdirSync('/sys/fs/cgroup/pids/docker').filter((d) => d === id), [], 'its cgroup removed');
  });

  it('Docker inside, under crun: the inner dockerd runs a container; rm -f starts no crun and leaves nothing', async () => {
    const c = uniqueName('crun-dind');
    containers.push(c);
    callsSince();
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, DOCKER_IMAGE, 'sleep', 'infinity');
    const id = await containerIdOf(c);
    const state = stateDirOf(callsSince(), id);
    assert.ok(fs.existsSync(path.join(state, 'status')), `crun's state in ${state}`);
    await waitForInnerDocker(c);
    await loadImageInto(c, BUSYBOX);
    assert.equal((await dockerOk('exec', c, 'docker', 'run', '--rm', BUSYBOX, 'echo', 'inner ok')).trim(), 'inner ok');
    callsSince();
    await dockerOk('rm', '-f', c);
    containers.pop();
    assert.deepEqual(callsSince(), [], 'kill and delete (the inner cgroups too): the launcher');
    await until(`${c} released`, () => leftoversOf(id).length === 0);
    assert.ok(!fs.existsSync(state), "crun's state dir removed");
  });

  it('systemd as init, under crun: boots to running; docker stop halts it at once (SIGRTMIN+3); stop and rm start no crun', async () => {
    const c = uniqueName('crun-systemd');
    containers.push(c);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, 'sysbox/systemd:latest');
    assert.equal(await waitForSystemd(c), 'running', (await docker('exec', c, 'systemctl', '--failed', '--no-legend')).stdout);
    const id = await containerIdOf(c);
    callsSince();
    const t = Date.now();
    await dockerOk('stop', '-t', '30', c);
    const ms = Date.now() - t;
    assert.ok(ms < 20_000, `systemd halted, not waited out (${ms} ms)`);
    await dockerOk('rm', c);
    containers.pop();
    assert.deepEqual(commandsOf(callsSince()).filter((k) => k !== 'state'), [], "stop and rm (systemd's cgroups too): the launcher");
    await until(`${c} released`, () => leftoversOf(id).length === 0);
  });

  it("changed back to runc while a crun container runs: a warning; that container stays crun's to the end, new ones are runc's", async () => {
    const c = uniqueName('crun-switch');
    containers.push(c);
    // A shell init that ends on SIGTERM: its stop is the kill it is sent.
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, BUSYBOX, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done');
    const id = await containerIdOf(c);
    const state = stateDirOf(callsSince(), id);
    const logStart = fs.statSync(MGR_LOG).size;
    await restartMgr(['--executor', '/usr/sbin/runc']);
    const logged = fs.readFileSync(MGR_LOG).subarray(logStart).toString('utf8');
    assert.match(logged, /executor changed from \S+crun-logged to \/usr\/sbin\/runc while \d+ container\(s\) exist: new containers get \/usr\/sbin\/runc; those already created stay with \S+crun-logged/);
    assert.equal(fs.readFileSync(`${MGR_SOCKET}.executor`, 'utf8'), '/usr/sbin/runc\n');
    // exec, stop and rm of the crun container: crun's (exec), the launcher's (kill, delete), never runc's.
    assert.equal((await dockerOk('exec', c, 'echo', 'still crun')).trim(), 'still crun');
    await dockerOk('stop', '-t', '10', c);
    await dockerOk('rm', c);
    containers.pop();
    assert.deepEqual(commandsOf(callsSince()).filter((k) => k !== 'state'), ['exec']);
    await until(`${c} released`, () => leftoversOf(id).length === 0);
    assert.ok(!fs.existsSync(state), "crun's state dir removed");
    assert.deepEqual(fs.readdirSync('/sys/fs/cgroup/pids/docker').filter((d) => d === id), [], 'its cgroup removed');
    // A new container is runc's.
    const n = uniqueName('runc-after');
    containers.push(n);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', n, BUSYBOX, 'sleep', 'infinity');
    const nid = await containerIdOf(n);
    assert.deepEqual(callsSince(), [], 'crun not asked');
    assert.ok(fs.existsSync(path.join(path.dirname(state), nid, 'state.json')), "runc's state");
    assert.equal(fs.readFileSync(path.join(path.dirname(state), nid, 'sysbox-executor'), 'utf8'), '/usr/sbin/runc\n');
    await dockerOk('rm', '-f', n);
    containers.pop();
    await until(`${n} released`, () => leftoversOf(nid).length === 0);
  });
});
