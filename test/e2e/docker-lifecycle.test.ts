// The Docker verbs on a running system container: exec, stop, kill, restart, pause/unpause, logs
// and rm -f, each checked for what the user sees and, where sysbox is involved, for what it holds.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  BUSYBOX, MGR_DATA_ROOT, MOUNT_ROOT, docker, dockerOk, hostMountsMatching, hostRootId, removeContainers, uniqueName,
} from '../lib/env.js';

/** PID 1 that exits with a known status on SIGTERM / SIGUSR1, so the signal's delivery shows. */
const TRAPPING_INIT = 'trap "exit 42" TERM; trap "exit 17" USR1; echo started; sleep 300 & wait $!';

interface RecordFile { id: string; state: string; uid: number; size: number }

function recordFile(id: string): string {
  return path.join(MGR_DATA_ROOT, 'mgr', 'containers', `${id}.json`);
}

function readRecord(id: string): RecordFile {
  return JSON.parse(fs.readFileSync(recordFile(id), 'utf8')) as RecordFile;
}

async function inspect(name: string, format: string): Promise<string> {
  return dockerOk('inspect', '-f', format, name);
}

async function fullId(name: string): Promise<string> {
  return inspect(name, '{{.Id}}');
}

/** Retries `check` until it returns a value or the time is up (docker logs lag the process a little). */
async function eventually<T>(check: () => Promise<T | undefined>, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('docker verbs on a sysbox-runc container', () => {
  const names: string[] = [];
  after(() => removeContainers(...names));

  async function startTrapping(prefix: string): Promise<string> {
    const name = uniqueName(prefix);
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, BUSYBOX, 'sh', '-c', TRAPPING_INIT);
    return name;
  }

  it('docker exec passes output and exit status through', async () => {
    const name = uniqueName('lc-exec');
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, BUSYBOX, 'sleep', '300');
    const r = await docker('exec', name, 'sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 7');
    assert.equal(r.status, 7, r.stderr);
    assert.equal(r.stdout, 'to-stdout\n');
    assert.match(r.stderr, /to-stderr/);
    const ok = await docker('exec', name, 'true');
    assert.equal(ok.status, 0, ok.stderr);
  });

  it('docker exec as root runs as uid 0 with every capability', async () => {
    const name = uniqueName('lc-caps');
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, BUSYBOX, 'sleep', '300');
    const out = await dockerOk('exec', name, 'sh', '-c', 'id -u; grep -E "^Cap(Eff|Bnd):" /proc/self/status');
    const [uid, ...caps] = out.split('\n').map((l) => l.trim());
    assert.equal(uid, '0');
    assert.deepEqual(caps.map((l) => l.split(/\s+/)), [['CapEff:', '000001ffffffffff'], ['CapBnd:', '000001ffffffffff']]);
    // A non-root exec keeps an empty effective set, but the full bounding set (setuid binaries work).
    const user = await dockerOk('exec', '-u', '1000:1000', name, 'sh', '-c', 'id -u; grep -E "^Cap(Eff|Bnd):" /proc/self/status');
    assert.deepEqual(user.split('\n').map((l) => l.trim().split(/\s+/)), [['1000'], ['CapEff:', '0000000000000000'], ['CapBnd:', '000001ffffffffff']]);
  });

  it('docker stop delivers SIGTERM to init and records its exit status', async () => {
    const name = await startTrapping('lc-stop');
    const id = await fullId(name);
    await eventually(async () => ((await docker('logs', name)).stdout.includes('started') ? true : undefined), 'init to set its traps');
    await dockerOk('stop', '-t', '20', name);
    assert.equal(await inspect(name, '{{.State.Running}}'), 'false');
    assert.equal(await inspect(name, '{{.State.ExitCode}}'), '42', 'init must have run its TERM trap, not been killed after the timeout');
    // A stopped container holds no sysbox mounts (its rootfs is rebuilt at the next start).
    assert.deepEqual(hostMountsMatching(path.join(MOUNT_ROOT, id)), []);
  });

  it('docker kill -s USR1 delivers that signal; docker kill defaults to SIGKILL', async () => {
    const name = await startTrapping('lc-kill');
    await eventually(async () => ((await docker('logs', name)).stdout.includes('started') ? true : undefined), 'init to set its traps');
    await dockerOk('kill', '-s', 'USR1', name);
    assert.equal(await dockerOk('wait', name), '17');
    assert.equal(await inspect(name, '{{.State.Running}}'), 'false');

    await dockerOk('start', name);
    assert.equal(await inspect(name, '{{.State.Running}}'), 'true');
    await dockerOk('kill', name);
    assert.equal(await dockerOk('wait', name), '137');
  });

  it('docker restart runs the container again on a 65536-id mapping, without leaking mounts', async () => {
    const name = uniqueName('lc-restart');
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, BUSYBOX, 'sleep', '300');
    const id = await fullId(name);
    const pidBefore = await inspect(name, '{{.State.Pid}}');
    const mountsBefore = hostMountsMatching(id).length;
    assert.ok(mountsBefore > 0, 'a running system container has mounts naming its id');
    await hostRootId(name);

    await dockerOk('restart', '-t', '1', name);
    assert.equal(await inspect(name, '{{.State.Running}}'), 'true');
    assert.notEqual(await inspect(name, '{{.State.Pid}}'), pidBefore, 'restart must start a new init');
    const rootId = await hostRootId(name); // throws unless uid_map is "0 <host> 65536"
    assert.ok(rootId >= 1_000_000_000, `the range must come from the test pool: ${rootId}`);
    assert.equal(readRecord(id).uid, rootId, 'sysbox-mgr must hold the range the container runs on');
    assert.equal(hostMountsMatching(id).length, mountsBefore, 'restart must not leave the old mounts behind');
    assert.equal(await dockerOk('exec', name, 'id', '-u'), '0');
  });

  it('docker pause / unpause freeze and thaw the container; exec works again after unpause', async () => {
    const name = uniqueName('lc-pause');
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, BUSYBOX, 'sleep', '300');
    const id = await fullId(name);

    await dockerOk('pause', name);
    assert.equal(await inspect(name, '{{.State.Paused}}'), 'true');
    assert.equal(readRecord(id).state, 'paused', 'sysbox-mgr must be told of the pause');
    const during = await docker('exec', name, 'true');
    assert.notEqual(during.status, 0, 'exec into a paused container must fail');

    await dockerOk('unpause', name);
    assert.equal(await inspect(name, '{{.State.Paused}}'), 'false');
    assert.equal(await inspect(name, '{{.State.Running}}'), 'true');
    assert.equal(readRecord(id).state, 'running', 'sysbox-mgr must be told of the resume');
    assert.equal(await dockerOk('exec', name, 'echo', 'thawed'), 'thawed');
  });

  it('docker logs shows the output of the container command', async () => {
    const name = uniqueName('lc-logs');
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, BUSYBOX, 'sh', '-c',
      'echo "out line $(id -u)"; echo "err line" >&2; sleep 300');
    const logs = await eventually(async () => {
      const r = await docker('logs', name);
      return r.stdout.includes('out line') && r.stderr.includes('err line') ? r : undefined;
    }, 'the container output in docker logs');
    assert.equal(logs.stdout, 'out line 0\n');
    assert.equal(logs.stderr, 'err line\n');
  });

  it('docker rm -f of a running container leaves no mounts, run dir or sysbox-mgr record', async () => {
    const name = uniqueName('lc-rm');
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, BUSYBOX, 'sleep', '300');
    const id = await fullId(name);
    const runDir = path.join(MOUNT_ROOT, id);
    // While it runs, all three exist: the checks below are not vacuous.
    assert.ok(hostMountsMatching(id).length > 0, 'mounts naming the container id while it runs');
    assert.ok(fs.existsSync(runDir), `${runDir} while it runs`);
    assert.equal(readRecord(id).id, id);

    await dockerOk('rm', '-f', name);
    assert.equal((await docker('inspect', name)).status, 1, 'the container must be gone from docker');
    assert.deepEqual(hostMountsMatching(id), []);
    assert.equal(fs.existsSync(runDir), false, `${runDir} must be removed`);
    assert.equal(fs.existsSync(recordFile(id)), false, `${recordFile(id)} must be removed`);
  });
});
