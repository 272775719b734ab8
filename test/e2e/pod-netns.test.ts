// Containers sharing a network namespace, as the containers of a Kubernetes pod do (issue 10): the
// second joins the first's user namespace (which owns that network namespace) and id range, as the
// original Sysbox does; here with Docker's --net=container:FIRST (ctr --with-ns in
// containerd.test.ts). The shared range is held until the last of them is released, whichever goes first.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  BUSYBOX, containerIdOf, docker, dockerOk, freeIdRanges, leftoversOf, makeBundle, MOUNT_ROOT, removeContainers, sysboxRunc, uidMapOf, uniqueName, waitForExit,
} from '../lib/env.js';

async function initPid(name: string): Promise<number> {
  return Number(await dockerOk('inspect', '-f', '{{.State.Pid}}', name));
}

function ns(pid: number, kind: string): string {
  return fs.readlinkSync(`/proc/${pid}/ns/${kind}`);
}

describe('containers sharing a network namespace (a pod)', () => {
  const names: string[] = [];
  after(() => removeContainers(...names));

  /** A first container and a second on its network; checks they share namespaces and ids, and both work. */
  async function startPair(): Promise<{ first: string; second: string; ids: string[]; map: string }> {
    const [first, second] = [uniqueName('pod-a'), uniqueName('pod-b')];
    names.push(first, second);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', first, BUSYBOX, 'sleep', '600');
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', second, `--net=container:${first}`, BUSYBOX, 'sleep', '600');
    const [p1, p2] = [await initPid(first), await initPid(second)];
    assert.equal(ns(p2, 'net'), ns(p1, 'net'), 'one network namespace');
    assert.equal(ns(p2, 'user'), ns(p1, 'user'), 'the second joined the first\'s user namespace');
    assert.notEqual(ns(p2, 'pid'), ns(p1, 'pid'), 'each its own pid namespace');
    assert.notEqual(ns(p2, 'mnt'), ns(p1, 'mnt'));
    const map = uidMapOf(p1);
    assert.match(map, /^0 [1-9]\d* 65536$/);
    assert.equal(uidMapOf(p2), map);
    for (const c of [first, second]) {
      assert.equal(await dockerOk('exec', c, 'sh', '-c', 'echo ok > /root/f && stat -c %U /root/f && cat /root/f'), 'root\nok');
      assert.match(await dockerOk('exec', c, 'cat', '/proc/self/mountinfo'), / \/proc\/uptime .* - fuse\.sysboxfs /);
      assert.match(await dockerOk('exec', c, 'ls', '/sys/class/net'), /^eth0$/m);
    }
    // one network: the second reaches a server of the first on localhost
    await dockerOk('exec', '-d', first, 'httpd', '-p', '127.0.0.1:8080', '-h', '/etc');
    let got = '';
    for (let i = 0; i < 20 && !got.includes('root:x:0:0'); i++) {
      got = (await docker('exec', second, 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/passwd')).stdout;
      if (!got) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(got, /root:x:0:0/);
    return { first, second, ids: [await containerIdOf(first), await containerIdOf(second)], map };
  }

  it('the first removed before the second: the second keeps running on the range, which is freed only with it', async () => {
    const free = await freeIdRanges();
    const { first, second, ids, map } = await startPair();
    assert.equal(await freeIdRanges(), free - 1, 'the two hold one range');
    await dockerOk('rm', '-f', first);
    // Docker gives the second the first's resolv.conf, hosts and hostname: the second's binds of
    // them name the first's id until the second goes
    const ofSecond = `${MOUNT_ROOT}/${ids[1]!}/`;
    assert.deepEqual(leftoversOf(ids[0]!).filter((l) => !l.includes(ofSecond)), []);
    assert.equal(await dockerOk('inspect', '-f', '{{.State.Running}}', second), 'true');
    assert.equal(await dockerOk('exec', second, 'cat', '/root/f'), 'ok');
    assert.equal(await freeIdRanges(), free - 1, 'the range is still held by the second');
    // a new container never gets the range still in use
    const other = uniqueName('pod-other');
    names.push(other);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', other, BUSYBOX, 'sleep', '600');
    assert.notEqual(uidMapOf(await initPid(other)), map);
    await dockerOk('rm', '-f', second, other);
    for (const id of ids) assert.deepEqual(leftoversOf(id), []);
    assert.equal(await freeIdRanges(), free, 'all ranges free again');
  });

  it('the second removed before the first: the first keeps its range until it goes', async () => {
    const free = await freeIdRanges();
    const { first, second, ids } = await startPair();
    await dockerOk('rm', '-f', second);
    assert.deepEqual(leftoversOf(ids[1]!), []);
    assert.equal(await dockerOk('exec', first, 'cat', '/root/f'), 'ok');
    assert.equal(await freeIdRanges(), free - 1, 'the first still holds the range');
    await dockerOk('rm', '-f', first);
    assert.deepEqual(leftoversOf(ids[0]!), []);
    assert.equal(await freeIdRanges(), free, 'all ranges free again');
  });

  it('joining the network namespace of a container that is no system container is refused, naming why, and leaves nothing', async () => {
    const [plain, joiner] = [uniqueName('pod-runc'), uniqueName('pod-join')];
    names.push(plain, joiner);
    await dockerOk('run', '-d', '--runtime=runc', '--name', plain, BUSYBOX, 'sleep', '600');
    const r = await docker('run', '-d', '--runtime=sysbox-runc', '--name', joiner, `--net=container:${plain}`, BUSYBOX, 'true');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /network namespace \/proc\/\d+\/ns\/net belongs to the host's user namespace: a system container can only join the network namespace of another system container/);
    assert.deepEqual(leftoversOf(await containerIdOf(joiner)), []);
  });

  it('a network namespace of a user namespace that is no system container\'s is refused by sysbox-mgr, runc-style, and leaves nothing', async () => {
    // A user namespace of no system container's (as a rootless container's) owning a network namespace.
    const holder = spawn('unshare', ['--user', '--net', 'sleep', '60'], { stdio: 'ignore' });
    const dir = await makeBundle(['true']);
    try {
      const netns = `/proc/${holder.pid!}/ns/net`;
      // unshare's own unshare(2) has to have run: until then the process is in the host's namespaces.
      for (let i = 0; i < 50 && fs.readlinkSync(netns) === fs.readlinkSync('/proc/self/ns/net'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.notEqual(fs.readlinkSync(netns), fs.readlinkSync('/proc/self/ns/net'), 'unshare made its network namespace');
      const file = path.join(dir, 'config.json');
      const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as { linux: { namespaces: { type: string; path?: string }[] } };
      spec.linux.namespaces = spec.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path: netns } : n));
      fs.writeFileSync(file, JSON.stringify(spec));
      const id = uniqueName('pod-foreign');
      const r = await sysboxRunc(['create', '--bundle', dir, id]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /level=error msg=".*sysbox-mgr: network namespace \/proc\/\d+\/ns\/net belongs to a user namespace that is no running system container's: a system container can only join the network namespace of another system container \(docker --net=container:<system container>; pods: docs\/kubernetes\.md\)/);
      assert.deepEqual(leftoversOf(id), []);
    } finally {
      holder.kill('SIGKILL');
      await waitForExit(holder.pid!);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
