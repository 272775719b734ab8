// Input sysbox-runc must refuse: each case fails with a non-zero status and a runc-style
// `level=error msg=...` line naming the problem, and leaves nothing behind (no run dir under
// /run/sysbox-containers, no mount naming the container, no sysbox-mgr record, nothing in runc).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BUSYBOX, containerIdOf, docker, leftoversOf, makeBundle, MGR_DATA_ROOT, readPidfile, removeContainers,
  startMgr, sysboxRunc, uniqueName, waitForExit, type Result,
} from '../lib/env.js';

/** The first stderr line that is a runc-style error, or undefined. */
function errorLine(r: Result): string | undefined {
  return r.stderr.split('\n').find((l) => /level=error msg=/.test(l));
}

function assertFailed(r: Result, problem: RegExp): void {
  assert.notEqual(r.status, 0, `must fail; stdout: ${r.stdout}`);
  const line = errorLine(r);
  assert.ok(line, `no "level=error msg=" line in stderr: ${r.stderr}`);
  assert.match(line, problem);
}

async function assertNothingLeft(id: string, dataRoot = MGR_DATA_ROOT): Promise<void> {
  assert.deepEqual(leftoversOf(id, dataRoot), [], `left behind for ${id}`);
  const st = await sysboxRunc(['state', id]);
  assert.notEqual(st.status, 0, `runc must not know ${id}: ${st.stdout}`);
}

describe('sysbox-runc refuses bad input and leaves nothing behind', () => {
  const tmp: string[] = [];
  let bundle = '';
  before(async () => {
    bundle = await makeBundle(['true']);
    tmp.push(bundle);
  });
  after(() => {
    for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
  });

  it('malformed config.json (invalid JSON)', async () => {
    const dir = await makeBundle(['true']);
    tmp.push(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), '{"ociVersion": "1.0.2", "process": {');
    const id = uniqueName('bad-json');
    const r = await sysboxRunc(['create', '--bundle', dir, id]);
    assertFailed(r, /failed to parse .*config\.json/);
    await assertNothingLeft(id);
  });

  it('config.json that is JSON but not a spec', async () => {
    const dir = await makeBundle(['true']);
    tmp.push(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), '{"ociVersion": "1.0.2"}');
    const id = uniqueName('bad-spec');
    const r = await sysboxRunc(['run', '--bundle', dir, id]);
    assertFailed(r, /config\.json: (root\.path|process) is missing/);
    await assertNothingLeft(id);
  });

  it('missing bundle dir', async () => {
    const dir = path.join(os.tmpdir(), uniqueName('sysbox-e2e-missing'));
    const id = uniqueName('bad-bundle');
    const r = await sysboxRunc(['create', '--bundle', dir, id]);
    assertFailed(r, new RegExp(`bundle ${dir} does not exist`));
    await assertNothingLeft(id);
    assert.ok(!fs.existsSync(dir), 'the missing bundle must not be created');
  });

  it('bundle dir without config.json', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-e2e-empty-'));
    tmp.push(dir);
    const id = uniqueName('bad-noconfig');
    const r = await sysboxRunc(['create', '--bundle', dir, id]);
    assertFailed(r, /config\.json: no such file/);
    await assertNothingLeft(id);
  });

  it('unknown flag', async () => {
    const id = uniqueName('bad-flag');
    const r = await sysboxRunc(['create', '--bogus', id]);
    assertFailed(r, /flag provided but not defined: -bogus/);
    await assertNothingLeft(id);
  });

  it('sysbox-mgr not running', async () => {
    const dir = `/run/${uniqueName('sbt-nomgr')}`;
    const id = uniqueName('bad-nomgr');
    const r = await sysboxRunc(['create', '--bundle', bundle, id], { mgrSocket: `${dir}/none.sock` });
    assertFailed(r, /sysbox-mgr is not running/);
    assert.match(errorLine(r)!, new RegExp(`${dir}/none\\.sock`), 'the message names the socket');
    await assertNothingLeft(id);
    assert.ok(!fs.existsSync(dir), 'nothing created at the socket path');
  });

  describe('docker options a system container cannot honour', () => {
    const names: string[] = [];
    after(() => removeContainers(...names));
    const cases: [string, string[], RegExp][] = [
      ['--privileged', ['--privileged'], /privileged containers are not supported by sysbox-runc/],
      ['--pid=host', ['--pid=host'], /--pid=host is not supported by sysbox-runc/],
      ['--net=host', ['--net=host'], /--net=host is not supported by sysbox-runc/],
    ];
    for (const [label, opts, message] of cases) {
      it(`docker run ${label}`, async () => {
        const name = uniqueName('bad-docker');
        names.push(name);
        const r = await docker('run', '--runtime=sysbox-runc', '--name', name, ...opts, BUSYBOX, 'true');
        assert.notEqual(r.status, 0, `docker run ${label} must fail: ${r.stdout}`);
        assert.match(r.stderr, message, `docker's error must carry sysbox-runc's message: ${r.stderr}`);
        const id = await containerIdOf(name);
        await assertNothingLeft(id);
        const rm = await docker('rm', '-f', name);
        assert.equal(rm.status, 0, rm.stderr);
        assert.deepEqual(leftoversOf(id), []);
      });
    }
  });

  describe('exhausted id pool (a second sysbox-mgr holding exactly one range)', () => {
    const name = uniqueName('sbt-mgr2');
    const dir = `/run/${name}`;
    const socket = `${dir}/sysmgr.sock`;
    const pidfile = `${dir}/sysbox-mgr.pid`;
    const subid = `${dir}/subid`;
    const dataRoot = `/var/lib/${name}`;
    const POOL_START = 2_000_000_000;
    const ids: string[] = [];

    before(() => {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.writeFileSync(subid, `sysbox:${POOL_START}:65536\n`);
      startMgr(['--log-level', 'debug'], socket, pidfile, dataRoot, subid);
    });
    after(async () => {
      for (const id of ids) await sysboxRunc(['delete', '--force', id], { mgrSocket: socket });
      const pid = readPidfile(pidfile);
      if (pid !== undefined) {
        process.kill(pid, 'SIGTERM');
        if (!(await waitForExit(pid))) process.kill(pid, 'SIGKILL');
      }
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(dataRoot, { recursive: true, force: true });
      fs.rmSync(`${dataRoot}.log`, { force: true });
    });

    it('the second create fails naming the exhausted pool; the range comes back after delete', async () => {
      const bundleA = await makeBundle(['sh', '-c', 'exec sleep 300 </dev/null >/dev/null 2>&1']);
      tmp.push(bundleA);
      const a = uniqueName('pool-a');
      ids.push(a);
      const ra = await sysboxRunc(['run', '--detach', '--bundle', bundleA, a], { mgrSocket: socket });
      assert.equal(ra.status, 0, `first container must start: ${ra.stderr}`);
      const map = await sysboxRunc(['exec', a, 'cat', '/proc/self/uid_map']);
      assert.equal(map.status, 0, map.stderr);
      assert.deepEqual(map.stdout.trim().split(/\s+/).map(Number), [0, POOL_START, 65536]);
      assert.ok(fs.existsSync(path.join(dataRoot, 'mgr', 'containers', `${a}.json`)), 'the second mgr keeps a record of a');

      const b = uniqueName('pool-b');
      ids.push(b);
      const rb = await sysboxRunc(['create', '--bundle', bundle, b], { mgrSocket: socket });
      assertFailed(rb, /pool exhausted/);
      await assertNothingLeft(b, dataRoot);

      const kill = await sysboxRunc(['kill', a, 'KILL']);
      assert.equal(kill.status, 0, kill.stderr);
      const del = await sysboxRunc(['delete', '--force', a], { mgrSocket: socket });
      assert.equal(del.status, 0, del.stderr);
      await assertNothingLeft(a, dataRoot);

      // The one range is free again.
      const c = uniqueName('pool-c');
      ids.push(c);
      const bundleC = await makeBundle(['cat', '/proc/self/uid_map']);
      tmp.push(bundleC);
      const rc = await sysboxRunc(['run', '--bundle', bundleC, c], { mgrSocket: socket });
      assert.equal(rc.status, 0, `a container after the release must start: ${rc.stderr}`);
      assert.deepEqual(rc.stdout.trim().split(/\s+/).map(Number), [0, POOL_START, 65536]);
      await assertNothingLeft(c, dataRoot);
    });
  });
});
