// sysbox-fs's flags, as the original names them, each seen changing what the daemon does: where and
// how it logs, test mode for handler errors, when seccomp notify fds are released, and how the
// immutability of a container's initial mounts is relaxed. Each test restarts the test sysbox-fs
// with its flags; after() restarts it with none so later files see the defaults.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUSYBOX, docker, dockerOk, fsPid, removeContainers, restartFs, run, SYSBOX_FS, uniqueName } from '../lib/env.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-fs-flags-'));
const HASHSIZE = '/sys/module/nf_conntrack/parameters/hashsize';
const names: string[] = [];

after(async () => {
  await removeContainers(...names);
  await restartFs();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A busybox system container running sleep, removed after the file. */
async function busybox(...args: string[]): Promise<string> {
  const name = uniqueName('fsflags');
  names.push(name);
  await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, ...args, BUSYBOX, 'sleep', '600');
  return name;
}

/** Seccomp notify fds sysbox-fs itself holds (its fd keeper holds copies of its own). */
function notifyFds(): number {
  const dir = `/proc/${fsPid()}/fd`;
  return fs.readdirSync(dir).filter((fd) => {
    try {
      return fs.readlinkSync(path.join(dir, fd)) === 'anon_inode:seccomp notify';
    } catch {
      return false;
    }
  }).length;
}

/** Waits for cond (the worker polls notify fds every 500 ms at most). */
async function eventually(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(cond(), what);
}

describe('sysbox-fs --log, --log-format, --log-level', () => {
  it('--log writes to the file, --log-format json as JSON objects', async () => {
    const file = path.join(tmp, 'json.log');
    await restartFs(['--log', file, '--log-format', 'json']);
    type Line = { level: string; msg?: string; message?: string };
    // Every whole line must be JSON; a last one still being written is not judged yet.
    const lines = (): Line[] => {
      const text = fs.readFileSync(file, 'utf8');
      return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
    };
    await eventually(() => lines().some((l) => l.level === 'info' && /listening on/.test(l.msg ?? l.message ?? '')), `a JSON info line says where it listens: ${JSON.stringify(lines())}`);
  });

  it('--log-level warning and fatal leave info lines out; debug keeps them', async () => {
    for (const level of ['warning', 'fatal']) {
      const file = path.join(tmp, `${level}.log`);
      await restartFs(['--log', file, '--log-level', level]);
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      assert.doesNotMatch(text, /level=info/, `--log-level ${level}`);
    }
    const file = path.join(tmp, 'debug.log');
    await restartFs(['--log', file, '--log-level', 'debug']);
    // The pid file is written just before that line, and the file transport writes asynchronously:
    // a CI run read the log before the line had reached it.
    const listening = /level=info msg="sysbox-fs .* listening on/;
    await eventually(() => listening.test(fs.readFileSync(file, 'utf8')), `${file} says where sysbox-fs listens: ${fs.readFileSync(file, 'utf8')}`);
  });

  it('an unknown level is refused before anything starts', async () => {
    const r = await run(SYSBOX_FS, ['--log-level', 'verbose']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /level=error msg=.*log-level/);
  });
});

describe('sysbox-fs --ignore-handler-errors', () => {
  before(() => assert.ok(fs.existsSync(HASHSIZE), `${HASHSIZE} must exist on the test host (nf_conntrack loaded)`));
  // The host refuses this hashsize (ENOMEM): a write through to it fails.
  const huge = '4294967295';

  it('without it, a failed write through to the host fails the container\'s write', async () => {
    await restartFs();
    const c = await busybox();
    const r = await docker('exec', c, 'sh', '-c', `echo ${huge} > ${HASHSIZE}`);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Cannot allocate memory|out of memory/i);
    assert.notEqual((await dockerOk('exec', c, 'cat', HASHSIZE)).trim(), huge);
  });

  it('with it, the container\'s write succeeds and it reads its value back; the host keeps its own', async () => {
    const host = fs.readFileSync(HASHSIZE, 'utf8').trim();
    await restartFs(['--ignore-handler-errors']);
    const c = await busybox();
    await dockerOk('exec', c, 'sh', '-c', `echo ${huge} > ${HASHSIZE}`);
    assert.equal((await dockerOk('exec', c, 'cat', HASHSIZE)).trim(), huge);
    assert.equal(fs.readFileSync(HASHSIZE, 'utf8').trim(), host);
  });
});

describe('sysbox-fs --seccomp-fd-release', () => {
  it('proc-exit (default): an exec\'s notify fd is closed when the exec ends', async () => {
    await restartFs();
    const before0 = notifyFds();
    const c = await busybox();
    await eventually(() => notifyFds() === before0 + 1, 'the container init\'s fd');
    await dockerOk('exec', c, 'true');
    await dockerOk('exec', c, 'true');
    await eventually(() => notifyFds() === before0 + 1, 'the execs\' fds closed');
  });

  it('cont-exit: exec fds are kept until the container exits, then all are closed', async () => {
    await restartFs(['--seccomp-fd-release', 'cont-exit']);
    const before0 = notifyFds();
    const c = await busybox();
    await eventually(() => notifyFds() === before0 + 1, 'the container init\'s fd');
    await dockerOk('exec', c, 'true');
    await dockerOk('exec', c, 'true');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(notifyFds(), before0 + 3, 'both execs\' fds still held');
    await dockerOk('rm', '-f', c);
    await eventually(() => notifyFds() === before0, 'all of the container\'s fds closed with it');
  });
});

describe('sysbox-fs --allow-immutable-remounts / --allow-immutable-unmounts', () => {
  const vol = path.join(tmp, 'vol');
  before(() => fs.mkdirSync(vol, { recursive: true }));

  it('--allow-immutable-remounts: an initial read-only mount can be remounted read-write', async () => {
    await restartFs(['--allow-immutable-remounts']);
    const c = await busybox('-v', `${vol}:/mnt/myvol:ro`);
    await dockerOk('exec', c, 'mount', '-o', 'remount,rw,bind', '/mnt/myvol');
    await dockerOk('exec', c, 'touch', '/mnt/myvol/written');
    assert.ok(fs.existsSync(path.join(vol, 'written')));
  });

  it('--allow-immutable-unmounts=false: initial mounts cannot be unmounted, also from a new mount namespace', async () => {
    await restartFs(['--allow-immutable-unmounts=false']);
    const c = await busybox('-v', `${vol}:/mnt/myvol`);
    for (const cmd of ['umount /etc/resolv.conf', 'umount /mnt/myvol', 'unshare -m umount /mnt/myvol']) {
      const r = await docker('exec', c, 'sh', '-c', cmd);
      assert.notEqual(r.status, 0, cmd);
      assert.match(r.stderr, /not permitted|must be superuser|permission denied/i, cmd);
    }
    // A mount made inside is not immutable.
    await dockerOk('exec', c, 'sh', '-c', 'mkdir -p /root/tmp && mount -t tmpfs tmpfs /root/tmp && umount /root/tmp');
  });

  it('by default (unmounts allowed), initial mounts can be unmounted', async () => {
    await restartFs();
    const c = await busybox('-v', `${vol}:/mnt/myvol`);
    await dockerOk('exec', c, 'umount', '/mnt/myvol');
    await dockerOk('exec', c, 'umount', '/etc/resolv.conf');
  });
});
