// Read-only system containers (`docker run --read-only`, issue 11 item 7): the rootfs is read-only,
// /run and /tmp are writable tmpfs, and what Sysbox adds (special dirs such as /var/lib/docker,
// writable /sys and cgroups) is read-only too, unless sysbox-mgr runs with --relaxed-read-only, which
// leaves those writable so that an inner Docker can run (the original's "docker --read-only" bats tests).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  BOOKWORM, BUSYBOX, containerIdOf, docker, dockerOk, leftoversOf, loadImageInto, removeContainers, restartFs, restartMgr, uniqueName, waitForSystemd,
} from '../lib/env.js';

const DOCKER_IMAGE = 'sysbox/docker:latest';
const SYSTEMD_IMAGE = 'sysbox/systemd:latest';

/** Writes a file at each path; answers "path ok" or "path <error>" per line. */
const WRITE_EACH = 'for p in "$@"; do if err=$(touch "$p" 2>&1); then echo "$p ok"; else echo "$p ${err##*: }"; fi; done';

async function writes(name: string, ...paths: string[]): Promise<Record<string, string>> {
  const out = await dockerOk('exec', name, 'sh', '-c', WRITE_EACH, 'sh', ...paths);
  return Object.fromEntries(out.split('\n').map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
}

/** Per-mount options (mountinfo field 6) of the topmost mount at target, undefined if none. */
async function mountOptions(name: string, target: string): Promise<string | undefined> {
  const info = await dockerOk('exec', name, 'cat', '/proc/self/mountinfo');
  return info.split('\n').reverse().find((l) => l.split(' ')[4] === target)?.split(' ')[5];
}

/** Runs sh -c script in the container; its stdout and stderr together, and whether it exited 0. */
async function shell(name: string, script: string): Promise<{ ok: boolean; out: string }> {
  const r = await docker('exec', name, 'sh', '-c', script);
  return { ok: r.status === 0, out: (r.stdout + r.stderr).trim() };
}

/** Mount points of sysbox-fs's virtual files in the container, each with its per-mount options. */
async function virtualMounts(name: string): Promise<Record<string, string>> {
  const info = await dockerOk('exec', name, 'cat', '/proc/self/mountinfo');
  const fuse = info.split('\n').filter((l) => l.includes(' - fuse.sysboxfs '));
  return Object.fromEntries(fuse.map((l) => [l.split(' ')[4], l.split(' ')[5]]));
}

/**
 * sysctl writes through the virtual /proc/sys: namespaced ones (net, ipc: the kernel's files put back
 * on top) and one sysbox-fs emulates (net.netfilter).
 */
const SYSCTL_WRITES = [
  'echo $((1 - $(cat /proc/sys/net/ipv4/ip_forward))) > /proc/sys/net/ipv4/ip_forward',
  'sysctl -w kernel.shmmni=4000',
  'sysctl -w net.netfilter.nf_conntrack_max=200000',
];

describe('docker run --read-only', () => {
  const names: string[] = [];
  after(async () => {
    await removeContainers(...names);
    await restartMgr();
  });

  async function start(prefix: string, opts: string[], image = BUSYBOX, cmd = ['sleep', '300']): Promise<string> {
    const name = uniqueName(prefix);
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--read-only', '--name', name, ...opts, image, ...cmd);
    return name;
  }

  it('keeps the rootfs, special dirs, /sys and cgroups read-only; /run and /tmp are writable tmpfs', async () => {
    const name = await start('ro-busybox', []);
    const id = await containerIdOf(name);
    assert.deepEqual(await writes(name, '/x', '/etc/x', '/tmp/x', '/run/x', '/var/lib/docker/x'), {
      '/x': 'Read-only file system', '/etc/x': 'Read-only file system', '/tmp/x': 'ok', '/run/x': 'ok',
      '/var/lib/docker/x': 'Read-only file system',
    });
    assert.match((await mountOptions(name, '/'))!, /^ro,/);
    assert.match((await mountOptions(name, '/sys'))!, /^ro,/);
    assert.match((await mountOptions(name, '/sys/fs/cgroup/pids'))!, /^ro,/);
    assert.match((await mountOptions(name, '/var/lib/docker'))!, /^ro,/);
    // /tmp usable by every user
    assert.equal(await dockerOk('exec', '-u', '1000:1000', name, 'sh', '-c', 'echo hi > /tmp/mine && cat /tmp/mine'), 'hi');
    assert.equal(await dockerOk('exec', name, 'stat', '-c', '%a', '/tmp'), '1777');
    await dockerOk('rm', '-f', name);
    assert.deepEqual(leftoversOf(id), []);
  });

  it('keeps a tmpfs or volume the user put on /tmp', async () => {
    const name = await start('ro-owntmp', ['--tmpfs', '/tmp:size=1m']);
    assert.match(await dockerOk('exec', name, 'df', '-k', '/tmp'), /\s1024\s/);
  });

  it('boots systemd (with its state dir on a tmpfs of the user\'s)', async () => {
    const name = await start('ro-systemd', ['--tmpfs', '/var/lib/systemd'], SYSTEMD_IMAGE, []);
    assert.equal(await waitForSystemd(name), 'running');
    assert.deepEqual(await writes(name, '/etc/x', '/run/x', '/tmp/x'), { '/etc/x': 'Read-only file system', '/run/x': 'ok', '/tmp/x': 'ok' });
  });

  it('an inner dockerd cannot use the read-only /var/lib/docker', async () => {
    const name = await start('ro-dind', ['--tmpfs', '/etc/docker', '--entrypoint', 'dockerd'], DOCKER_IMAGE, []);
    assert.equal(await dockerOk('wait', name), '1');
    assert.match((await docker('logs', name)).stderr, /\/var\/lib\/docker: read-only file system/);
  });

  it('makes sysbox-fs\'s virtual files read-only (ro mounts, EROFS), immutably, also across a sysbox-fs restart', async () => {
    const name = await start('ro-virtual', []);
    const forwarding = await dockerOk('exec', name, 'cat', '/proc/sys/net/ipv4/ip_forward');
    const check = async (when: string): Promise<void> => {
      const virtual = await virtualMounts(name);
      for (const target of ['/proc/sys', '/proc/uptime', '/sys/kernel']) assert.ok(target in virtual, `${when}: ${target} not served: ${JSON.stringify(virtual)}`);
      for (const [target, opts] of Object.entries(virtual)) assert.match(opts, /^ro,/, `${when}: ${target}`);
      // The container's own namespaced entries put back over the virtual /proc/sys
      assert.match((await mountOptions(name, '/proc/sys/net'))!, /^ro,/, when);
      for (const w of SYSCTL_WRITES) {
        const r = await shell(name, w);
        assert.equal(r.ok, false, `${when}: ${w} succeeded`);
        assert.match(r.out, /Read-only file system/, `${when}: ${w}`);
      }
      assert.equal(await dockerOk('exec', name, 'cat', '/proc/sys/net/ipv4/ip_forward'), forwarding, when);
      // Immutable: neither remounting it nor the put-back entries read-write is allowed
      for (const t of ['/proc/sys', '/proc/uptime', '/proc/sys/net']) {
        const r = await shell(name, `mount -o remount,bind,rw ${t}`);
        assert.equal(r.ok, false, `${when}: remount of ${t} allowed`);
        assert.match((await mountOptions(name, t))!, /^ro,/, `${when}: ${t} after the remount`);
      }
    };
    await check('at start');
    await restartFs();
    await check('after restarting sysbox-fs');
  });

  it('mount_setattr cannot clear read-only on the rootfs or the virtual files either, only on the container\'s own mounts', async () => {
    const name = await start('ro-setattr', [], BOOKWORM);
    // mount_setattr(AT_FDCWD, path, flags, {attr_clr: MOUNT_ATTR_RDONLY}): "cleared" or the error
    const clear = async (target: string, flags = 0): Promise<string> =>
      dockerOk('exec', name, 'perl', '-e', 'my $a = pack("QQQQ", 0, 1, 0, 0); my $p = "$ARGV[0]"; print syscall(442, -100, $p, $ARGV[1] + 0, $a, 32) == 0 ? "cleared" : "$!"', target, String(flags));
    for (const t of ['/', '/proc/sys', '/proc/uptime', '/proc/sys/net']) {
      assert.equal(await clear(t), 'Operation not permitted', t);
      assert.match((await mountOptions(name, t))!, /^ro,/, t);
    }
    assert.deepEqual(await writes(name, '/x'), { '/x': 'Read-only file system' });
    // Its own tmpfs made read-only it may make writable again; not with the rootfs bound inside (AT_RECURSIVE)
    await dockerOk('exec', name, 'sh', '-c', 'mkdir -p /tmp/own /tmp/tree && mount -t tmpfs own /tmp/own && mount -o remount,bind,ro /tmp/own && mount -t tmpfs tree /tmp/tree && mkdir /tmp/tree/etc && mount --bind /etc /tmp/tree/etc');
    assert.deepEqual(await writes(name, '/tmp/own/x'), { '/tmp/own/x': 'Read-only file system' });
    assert.equal(await clear('/tmp/own'), 'cleared');
    assert.deepEqual(await writes(name, '/tmp/own/x'), { '/tmp/own/x': 'ok' });
    assert.equal(await clear('/tmp/tree', 0x8000), 'Operation not permitted');
    assert.deepEqual(await writes(name, '/tmp/tree/etc/x'), { '/tmp/tree/etc/x': 'Read-only file system' });
  });

  it('a container that is not read-only keeps its virtual /proc/sys writable', async () => {
    const name = uniqueName('rw-virtual');
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, BUSYBOX, 'sleep', '300');
    const virtual = await virtualMounts(name);
    assert.match(virtual['/proc/sys'] ?? '', /^rw,/);
    assert.match(virtual['/proc/uptime'] ?? '', /^rw,/);
    const forwarding = await dockerOk('exec', name, 'cat', '/proc/sys/net/ipv4/ip_forward');
    for (const w of SYSCTL_WRITES) {
      const r = await shell(name, w);
      assert.equal(r.ok, true, `${w}: ${r.out}`);
    }
    assert.equal(await dockerOk('exec', name, 'cat', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/kernel/shmmni'), `${1 - Number(forwarding)}\n4000`);
  });

  it('with SYSBOX_SYSCONT_MODE=FALSE the virtual files follow the spec: /proc/sys and /sys read-only, as in the original', async () => {
    const name = uniqueName('spec-mode-virtual');
    names.push(name);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '-e', 'SYSBOX_SYSCONT_MODE=FALSE', '--name', name, BUSYBOX, 'sleep', '300');
    const virtual = await virtualMounts(name);
    assert.match(virtual['/proc/sys'] ?? '', /^ro,/);
    assert.match(virtual['/sys/kernel'] ?? '', /^ro,/);
    // Docker's spec leaves /proc itself writable: so do the files bound over it
    assert.match(virtual['/proc/uptime'] ?? '', /^rw,/);
    const r = await shell(name, 'echo 1 > /proc/sys/net/ipv4/ip_forward');
    assert.equal(r.ok, false);
    assert.match(r.out, /Read-only file system/);
  });

  it('with sysbox-mgr --relaxed-read-only, special dirs, /sys and cgroups stay writable and an inner Docker runs', async () => {
    await restartMgr(['--relaxed-read-only']);
    const plain = await start('ro-relaxed', []);
    assert.deepEqual(await writes(plain, '/x', '/tmp/x', '/run/x', '/var/lib/docker/x'), {
      '/x': 'Read-only file system', '/tmp/x': 'ok', '/run/x': 'ok', '/var/lib/docker/x': 'ok',
    });
    assert.match((await mountOptions(plain, '/'))!, /^ro,/);
    assert.match((await mountOptions(plain, '/sys'))!, /^rw,/);
    assert.match((await mountOptions(plain, '/sys/fs/cgroup/pids'))!, /^rw,/);

    // dockerd 20.10 writes its key to /etc/docker: a read-only container gives it a tmpfs there.
    const dind = await start('ro-relaxed-dind', ['--tmpfs', '/etc/docker', '--entrypoint', 'dockerd'], DOCKER_IMAGE, []);
    let info = '';
    for (let i = 0; i < 60 && info === ''; i++) {
      const r = await docker('exec', dind, 'docker', 'info', '--format', '{{.Driver}}');
      if (r.status === 0) info = r.stdout.trim();
      else await new Promise((res) => setTimeout(res, 500));
    }
    assert.equal(info, 'overlay2', `inner dockerd did not come up: ${(await docker('logs', dind)).stderr.slice(-2000)}`);
    await loadImageInto(dind, BUSYBOX);
    assert.equal(await dockerOk('exec', dind, 'docker', 'run', '--rm', BUSYBOX, 'echo', 'inner ok'), 'inner ok');
    assert.deepEqual(await writes(dind, '/etc/passwd'), { '/etc/passwd': 'Read-only file system' });
  });

  it('with sysbox-mgr --relaxed-read-only, the virtual files stay writable too', async () => {
    await restartMgr(['--relaxed-read-only']);
    const name = await start('ro-relaxed-virtual', []);
    const virtual = await virtualMounts(name);
    assert.match(virtual['/proc/sys'] ?? '', /^rw,/);
    assert.match(virtual['/sys/kernel'] ?? '', /^rw,/);
    assert.deepEqual(await shell(name, 'echo 1 > /proc/sys/net/ipv4/ip_forward && cat /proc/sys/net/ipv4/ip_forward'), { ok: true, out: '1' });
  });
});
