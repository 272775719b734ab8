// sysbox-runc driven directly on an OCI bundle, the way runc is used without Docker: `spec`, then
// `run` in the foreground, and a detached container managed with state/list/ps/exec/kill/delete.
// Every container must leave nothing behind: no run dir, no mount, no sysbox-mgr record.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { leftoversOf, makeBundle, MOUNT_ROOT, sysboxRunc, uniqueName, waitForExit } from '../lib/env.js';

interface BundleSpec { root: { path: string; readonly?: boolean } }

function editSpec(dir: string, edit: (spec: BundleSpec) => void): void {
  const file = path.join(dir, 'config.json');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as BundleSpec;
  edit(spec);
  fs.writeFileSync(file, JSON.stringify(spec, null, 2));
}

interface RuncState { id: string; pid: number; status: string; bundle: string }

async function stateOf(id: string): Promise<RuncState> {
  const r = await sysboxRunc(['state', id]);
  assert.equal(r.status, 0, `state ${id} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as RuncState;
}

async function waitForStatus(id: string, status: string, timeoutMs = 10_000): Promise<RuncState> {
  const end = Date.now() + timeoutMs;
  let st = await stateOf(id);
  while (st.status !== status && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    st = await stateOf(id);
  }
  return st;
}

describe('sysbox-runc on an OCI bundle (no Docker)', () => {
  const bundles: string[] = [];
  const ids: string[] = [];
  after(async () => {
    for (const id of ids) await sysboxRunc(['delete', '--force', id]);
    for (const b of bundles) fs.rmSync(b, { recursive: true, force: true });
  });

  /** A bundle running args, and a unique container id; both are cleaned up after the suite. */
  const newContainer = async (args: string[], prefix: string): Promise<{ dir: string; id: string }> => {
    const dir = await makeBundle(args);
    bundles.push(dir);
    const id = uniqueName(prefix);
    ids.push(id);
    return { dir, id };
  };

  /** A detached container whose init sleeps for 300 s. */
  const runSleeper = async (prefix: string): Promise<{ dir: string; id: string }> => {
    // The process drops the inherited stdio (our pipes), or the helper would wait for it to exit.
    const c = await newContainer(['sh', '-c', 'exec sleep 300 </dev/null >/dev/null 2>&1'], prefix);
    const r = await sysboxRunc(['run', '--detach', '--bundle', c.dir, c.id]);
    assert.equal(r.status, 0, `run --detach failed: ${r.stderr}`);
    return c;
  };

  it('spec writes a runc config.json into the bundle', async () => {
    const dir = await makeBundle(['true']);
    bundles.push(dir);
    const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { ociVersion?: string; root?: { path?: string } };
    assert.equal(typeof spec.ociVersion, 'string');
    assert.equal(spec.root?.path, 'rootfs');
  });

  it('runs in the foreground as root in a user namespace on a 65536-id range, then releases everything', async () => {
    const { dir, id } = await newContainer(['sh', '-c', 'id -u; cat /proc/self/uid_map; cat /proc/self/gid_map; touch /root/x && stat -c %u /root/x'], 'bundle-fg');
    editSpec(dir, (spec) => { spec.root.readonly = false; });
    const r = await sysboxRunc(['run', '--bundle', dir, id]);
    assert.equal(r.status, 0, `run failed: ${r.stderr}`);
    const [uid, uidMap, gidMap, owner] = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    assert.deepEqual(uid, [0], r.stdout);
    assert.equal(uidMap!.length, 3, r.stdout);
    assert.equal(uidMap![0], 0);
    assert.ok(uidMap![1]! > 0, `host id must be non-zero: ${r.stdout}`);
    assert.equal(uidMap![2], 65536);
    assert.deepEqual(gidMap, uidMap);
    assert.deepEqual(owner, [0], 'a file root creates is owned by root inside');
    // On the host the file belongs to the real root (ID-mapped mount, no chown of the rootfs).
    assert.equal(fs.statSync(path.join(dir, 'rootfs', 'root', 'x')).uid, 0);
    assert.equal(fs.statSync(path.join(dir, 'rootfs', 'bin', 'busybox')).uid, 0);
    assert.deepEqual(leftoversOf(id), []);
    const st = await sysboxRunc(['state', id]);
    assert.notEqual(st.status, 0, 'runc must have deleted the foreground container');
  });

  it('keeps a read-only root read-only (runc spec default)', async () => {
    const { dir, id } = await newContainer(['sh', '-c', 'touch /root/y 2>&1; echo status=$?'], 'bundle-ro');
    const r = await sysboxRunc(['run', '--bundle', dir, id]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Read-only file system/);
    assert.match(r.stdout, /status=1/);
    assert.ok(!fs.existsSync(path.join(dir, 'rootfs', 'root', 'y')));
    assert.deepEqual(leftoversOf(id), []);
  });

  it('passes the exit status of the container process through', async () => {
    const { dir, id } = await newContainer(['sh', '-c', 'exit 7'], 'bundle-exit');
    const r = await sysboxRunc(['run', '--bundle', dir, id]);
    assert.equal(r.status, 7, r.stderr);
    assert.deepEqual(leftoversOf(id), []);
  });

  it('runs detached; state, list, ps, exec, kill and delete --force work and clean up', async () => {
    const { id } = await runSleeper('bundle-bg');
    assert.ok(fs.existsSync(path.join(MOUNT_ROOT, id)), 'a running container has its run dir');

    const st = await stateOf(id);
    assert.equal(st.id, id);
    assert.equal(st.status, 'running');
    assert.ok(st.pid > 0);
    const hostUid = fs.statSync(`/proc/${st.pid}`).uid;
    assert.ok(hostUid > 0, 'the init process runs as an unprivileged host uid');

    const list = await sysboxRunc(['list', '--quiet']);
    assert.equal(list.status, 0, list.stderr);
    assert.ok(list.stdout.split('\n').includes(id), `list must show ${id}: ${list.stdout}`);
    const listJson = await sysboxRunc(['list', '--format', 'json']);
    assert.equal(listJson.status, 0, listJson.stderr);
    const entry = (JSON.parse(listJson.stdout) as RuncState[]).find((c) => c.id === id);
    assert.equal(entry?.status, 'running');

    const ps = await sysboxRunc(['ps', id]);
    assert.equal(ps.status, 0, ps.stderr);
    assert.match(ps.stdout, /sleep 300/);
    const psJson = await sysboxRunc(['ps', '--format', 'json', id]);
    assert.equal(psJson.status, 0, psJson.stderr);
    assert.deepEqual(JSON.parse(psJson.stdout), [st.pid]);

    const ex = await sysboxRunc(['exec', id, 'sh', '-c', 'id -u; cat /proc/self/uid_map; cat /proc/1/cmdline | tr "\\0" " "']);
    assert.equal(ex.status, 0, ex.stderr);
    const [exUid, exMap, cmdline] = ex.stdout.trim().split('\n');
    assert.equal(exUid, '0');
    assert.deepEqual(exMap!.trim().split(/\s+/).map(Number), [0, hostUid, 65536]);
    assert.match(cmdline!, /^sleep 300/);
    const exFail = await sysboxRunc(['exec', id, 'sh', '-c', 'exit 3']);
    assert.equal(exFail.status, 3, 'exec passes the exit status through');

    const kill = await sysboxRunc(['kill', id, 'KILL']);
    assert.equal(kill.status, 0, kill.stderr);
    assert.equal((await waitForStatus(id, 'stopped')).status, 'stopped');

    const del = await sysboxRunc(['delete', '--force', id]);
    assert.equal(del.status, 0, del.stderr);
    assert.notEqual((await sysboxRunc(['state', id])).status, 0, 'state of a deleted container must fail');
    const listAfter = await sysboxRunc(['list', '--quiet']);
    assert.ok(!listAfter.stdout.split('\n').includes(id), 'list must no longer show the container');
    assert.deepEqual(leftoversOf(id), []);
  });

  it('delete --force removes a running container and releases it', async () => {
    const { id } = await runSleeper('bundle-force');
    const { pid } = await stateOf(id);
    const del = await sysboxRunc(['delete', '--force', id]);
    assert.equal(del.status, 0, del.stderr);
    assert.notEqual((await sysboxRunc(['state', id])).status, 0);
    assert.ok(await waitForExit(pid), 'init must be gone');
    assert.deepEqual(leftoversOf(id), []);
  });
});
