// The rootfs view program (packages/native/src/rootfs-view) on a real FUSE mount of a temp
// "rootfs" owned by a container range, as sysbox-mgr starts it: owners shown as the container sees
// them, what host root creates or chowns landing on the container's ids, special dirs shown inside,
// nothing followed out of the rootfs, and the process gone with its mount.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as native from '@sysbox/native';
import { awaitRootfsView, startRootfsView, stopRootfsView, viewProgram, type StartingView } from '../src/rootfs-view/process.js';

const BASE = 300000;
const canMount = process.getuid?.() === 0 && fs.existsSync('/dev/fuse');

function owner(file: string): string {
  const st = fs.lstatSync(file);
  return `${st.uid}:${st.gid}`;
}

function chownTree(file: string, id: number): void {
  fs.lchownSync(file, id, id);
}

function alive(pid: number): boolean {
  try {
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 10));
  return !alive(pid);
}

describe('rootfs view program', { skip: !canMount && 'needs root and /dev/fuse' }, () => {
  let dir = '';
  let rootfs = '';
  let merged = '';
  const escape = `sysbox-view-escape-${process.pid}`;
  let v: StartingView;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rootfs-view-'));
    rootfs = path.join(dir, 'rootfs');
    merged = path.join(dir, 'merged');
    const special = path.join(dir, 'special');
    for (const d of [rootfs, merged, special]) fs.mkdirSync(d);
    chownTree(rootfs, BASE);
    fs.writeFileSync(path.join(rootfs, 'root-file'), 'x');
    chownTree(path.join(rootfs, 'root-file'), BASE);
    fs.mkdirSync(path.join(rootfs, 'user-dir'));
    chownTree(path.join(rootfs, 'user-dir'), BASE + 1000);
    fs.writeFileSync(path.join(rootfs, 'user-dir', 'inner'), 'y');
    fs.writeFileSync(path.join(rootfs, 'host-file'), 'z');
    chownTree(path.join(rootfs, 'host-file'), 5);
    // An image's symlink on the way to a special dir, to a dir the host has too: followed inside only.
    fs.symlinkSync('/tmp', path.join(rootfs, 'srv'));
    fs.mkdirSync(path.join(rootfs, 'tmp'));
    fs.writeFileSync(path.join(special, 'kept'), 'special');
    chownTree(special, BASE);
    chownTree(path.join(special, 'kept'), BASE + 1000);
    // pivot_root needs a mount point, as Docker's overlay is.
    native.mount(rootfs, rootfs, '', native.constants.MS_BIND);
    v = startRootfsView(merged, rootfs, { uid: BASE, gid: BASE, size: 65536 },
      [{ hostDir: special, dest: '/var/lib/docker' }, { hostDir: special, dest: `/srv/${escape}` }], path.join(dir, 'view.log'));
    awaitRootfsView(v);
  });

  after(() => {
    if (v) stopRootfsView(v.view);
    for (const m of [merged, rootfs]) {
      try { native.umount(m, native.constants.MNT_DETACH); } catch { /* not mounted */ }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows owners as the container sees them, others as 65534', () => {
    assert.equal(owner(path.join(merged, 'root-file')), '0:0');
    assert.equal(owner(path.join(merged, 'user-dir')), '1000:1000');
    assert.equal(owner(path.join(merged, 'user-dir', 'inner')), '65534:65534');
    assert.equal(owner(path.join(merged, 'host-file')), '65534:65534');
    assert.equal(fs.readFileSync(path.join(merged, 'root-file'), 'utf8'), 'x');
  });

  it("creates as the container's root and chowns within the range only", () => {
    fs.mkdirSync(path.join(merged, 'new-dir'));
    fs.writeFileSync(path.join(merged, 'new-dir', 'file'), 'hello');
    fs.symlinkSync('/etc/passwd', path.join(merged, 'new-dir', 'link'));
    assert.equal(owner(path.join(rootfs, 'new-dir')), `${BASE}:${BASE}`);
    assert.equal(owner(path.join(rootfs, 'new-dir', 'file')), `${BASE}:${BASE}`);
    assert.equal(owner(path.join(rootfs, 'new-dir', 'link')), `${BASE}:${BASE}`);
    assert.equal(owner(path.join(merged, 'new-dir', 'file')), '0:0');
    fs.chownSync(path.join(merged, 'new-dir', 'file'), 1000, 1000);
    assert.equal(owner(path.join(rootfs, 'new-dir', 'file')), `${BASE + 1000}:${BASE + 1000}`);
    assert.throws(() => fs.chownSync(path.join(merged, 'new-dir', 'file'), 70000, 70000), /EOVERFLOW/);
    fs.chmodSync(path.join(merged, 'new-dir', 'file'), 0o600);
    assert.equal(fs.statSync(path.join(rootfs, 'new-dir', 'file')).mode & 0o777, 0o600);
    fs.truncateSync(path.join(merged, 'new-dir', 'file'), 2);
    assert.equal(fs.readFileSync(path.join(rootfs, 'new-dir', 'file'), 'utf8'), 'he');
    fs.utimesSync(path.join(merged, 'new-dir', 'file'), 1000, 2000);
    assert.equal(fs.statSync(path.join(rootfs, 'new-dir', 'file')).mtimeMs, 2_000_000);
    assert.equal(fs.readlinkSync(path.join(merged, 'new-dir', 'link')), '/etc/passwd');
  });

  it('follows a renamed dir with the files below it, and lists real inode numbers', () => {
    fs.mkdirSync(path.join(merged, 'a'));
    fs.mkdirSync(path.join(merged, 'a', 'b'));
    fs.writeFileSync(path.join(merged, 'a', 'b', 'c'), 'deep');
    fs.renameSync(path.join(merged, 'a'), path.join(merged, 'moved'));
    assert.equal(fs.readFileSync(path.join(merged, 'moved', 'b', 'c'), 'utf8'), 'deep');
    assert.ok(!fs.existsSync(path.join(merged, 'a')));
    fs.linkSync(path.join(merged, 'moved', 'b', 'c'), path.join(merged, 'moved', 'hard'));
    fs.unlinkSync(path.join(merged, 'moved', 'b', 'c'));
    fs.rmdirSync(path.join(merged, 'moved', 'b'));
    assert.deepEqual(fs.readdirSync(path.join(merged, 'moved')), ['hard']);
    const listed = fs.readdirSync(merged, { withFileTypes: true }).map((d) => `${d.name}${d.isDirectory() ? '/' : ''}`).sort();
    assert.deepEqual(listed, ['host-file', 'moved/', 'new-dir/', 'root-file', 'srv', 'tmp/', 'user-dir/', 'var/']);
    const r = spawnSync('ls', ['-ia', merged], { encoding: 'utf8' });
    assert.ok(!/^\s*0 /m.test(r.stdout), r.stdout);
  });

  it('shows a special dir where the container sees it, a symlink on the way resolved inside the rootfs', () => {
    assert.equal(fs.readFileSync(path.join(merged, 'var', 'lib', 'docker', 'kept'), 'utf8'), 'special');
    assert.equal(owner(path.join(merged, 'var', 'lib', 'docker', 'kept')), '1000:1000');
    assert.equal(owner(path.join(rootfs, 'var', 'lib')), `${BASE}:${BASE}`, 'dirs on the way made as the container root');
    // /srv -> /tmp: the view made <rootfs>/tmp/<name>, not the host's /tmp/<name>.
    assert.ok(fs.existsSync(path.join(rootfs, 'tmp', escape)));
    assert.ok(!fs.existsSync(path.join('/tmp', escape)));
  });

  it('exits by itself once its mount goes away', async () => {
    const pid = v.view.pid;
    assert.ok(alive(pid));
    native.umount(merged, native.constants.MNT_DETACH);
    assert.ok(await gone(pid), 'the view ended with its mount');
    stopRootfsView(v.view);
    assert.ok(!fs.existsSync(`/proc/${pid}`), 'and was reaped: no zombie left');
  });
});

describe('spawnNoWait', () => {
  it('runs a program with the fds given and nothing else, reports an exec failure on its fd 2, and is reaped', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spawn-no-wait-'));
    try {
      const out = fs.openSync(path.join(dir, 'out'), 'w');
      const extra = fs.openSync('/dev/null', 'r');
      const pid = native.spawnNoWait('/bin/sh', ['-c', 'ls /proc/self/fd; echo "sid $(cut -d" " -f6 /proc/self/stat)"'], [-1, out, out]);
      for (let i = 0; i < 500 && !native.reapChild(pid); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(!fs.existsSync(`/proc/${pid}`), 'reaped');
      const text = fs.readFileSync(path.join(dir, 'out'), 'utf8');
      // 0-2, and the fd ls opens to list them (3): not `extra` nor anything else of this process.
      assert.deepEqual(text.split('\n').filter((l) => /^\d+$/.test(l)).map(Number).sort(), [0, 1, 2, 3]);
      assert.match(text, new RegExp(`^sid ${pid}$`, 'm'), 'a session of its own');
      const failing = native.spawnNoWait('/nonexistent/program', [], [-1, out, out]);
      for (let i = 0; i < 500 && !native.reapChild(failing); i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(fs.readFileSync(path.join(dir, 'out'), 'utf8'), /^exec \/nonexistent\/program failed$/m);
      fs.closeSync(out);
      fs.closeSync(extra);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rootfs view program, bad input', () => {
  it('refuses a bad id or a missing connection with a message and status 1', () => {
    const bad = spawnSync(viewProgram(), ['/nowhere', 'x', '0', '65536'], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^rootfs view: uid x is not an id; usage: sysbox-mgr-rootfs-view <rootfs>/);
    const noFd = spawnSync(viewProgram(), ['/nowhere', '1', '1', '65536'], { encoding: 'utf8' });
    assert.equal(noFd.status, 1);
    assert.match(noFd.stderr, /^rootfs view: no FUSE connection as fd 3/);
  });
});
