// `docker cp` into and out of a system container. Docker copies on the host side, as host root and
// with its own (identity) id mapping: a tar entry owned by 0 or 1000 must show as 0 or 1000 inside
// (`ls -ln`), and a file the container's root owns must come out owned by 0, not by the
// container's shifted host id.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUSYBOX, containerIdOf, dockerOk, leftoversOf, MOUNT_ROOT, processesMentioning, removeContainers, run, uniqueName } from '../lib/env.js';

/** A host dir tree: tree/ (0:0), tree/root-file (0:0), tree/user/ and tree/user/file (1000:1000). */
function makeTree(base: string): string {
  const tree = path.join(base, 'tree');
  fs.mkdirSync(path.join(tree, 'user'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'root-file'), 'root data\n');
  fs.writeFileSync(path.join(tree, 'user', 'file'), 'user data\n');
  fs.chownSync(path.join(tree, 'user'), 1000, 1000);
  fs.chownSync(path.join(tree, 'user', 'file'), 1000, 1000);
  return tree;
}

/** uid:gid of each path as `ls -ln`-style numbers, seen inside the container. */
async function ownersInside(c: string, paths: string[]): Promise<string[]> {
  const out = await dockerOk('exec', c, 'stat', '-c', '%u:%g', ...paths);
  return out.split('\n');
}

/** Owners in the tar stream `docker cp c:path -` sends, as "uid:gid name" lines. */
async function ownersOut(c: string, p: string): Promise<string[]> {
  const r = await run('bash', ['-c', `set -o pipefail; docker -H "$DOCKER_HOST" cp "$1" - | tar -tv --numeric-owner -f - | awk '{print $2, $6}'`, 'bash', `${c}:${p}`]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => l.replace(/^(\d+)\/(\d+) /, '$1:$2 '));
}

async function expectCopiedIn(c: string, dest: string): Promise<void> {
  assert.deepEqual(await ownersInside(c, [dest, `${dest}/root-file`, `${dest}/user`, `${dest}/user/file`]),
    ['0:0', '0:0', '1000:1000', '1000:1000']);
  assert.equal(await dockerOk('exec', c, 'cat', `${dest}/user/file`), 'user data');
  // ls -ln shows them the same way (the command users run).
  const ls = await dockerOk('exec', c, 'ls', '-ln', dest);
  assert.match(ls, /\s0\s+0\s.*root-file/);
  assert.match(ls, /\s1000\s+1000\s.*user/);
}

/** A file owned by root and one by 1000 inside, in a fresh dir `dir`. */
const WRITE_OUT = (dir: string): string =>
  `set -e; mkdir -p ${dir}; echo out > ${dir}/by-root; echo out > ${dir}/by-user; chown 1000:1000 ${dir}/by-user`;

describe('docker cp with a sysbox-runc container', () => {
  const base = fs.mkdtempSync('/tmp/sysbox-e2e-cp-');
  const names: string[] = [];
  let tree = '';

  before(() => {
    tree = makeTree(base);
  });

  after(async () => {
    await removeContainers(...names);
    fs.rmSync(base, { recursive: true, force: true });
  });

  async function running(): Promise<string> {
    const c = uniqueName('cp');
    names.push(c);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, BUSYBOX, 'sleep', '600');
    return c;
  }

  it('copies a file into a running container, owned by root inside', async () => {
    const c = await running();
    const file = path.join(base, 'single');
    fs.writeFileSync(file, 'single file\n');
    await dockerOk('cp', file, `${c}:/single`);
    assert.equal(await dockerOk('exec', c, 'cat', '/single'), 'single file');
    assert.deepEqual(await ownersInside(c, ['/single']), ['0:0']);
    // The container's root can still do what root does with it.
    await dockerOk('exec', c, 'sh', '-c', 'echo more >> /single && chown 1000:1000 /single');
  });

  it('copies a dir tree into a running container keeping owners 0 and 1000', async () => {
    const c = await running();
    await dockerOk('cp', tree, `${c}:/copied`);
    await expectCopiedIn(c, '/copied');
  });

  it('copies a tar stream into a running container keeping owners 0 and 1000', async () => {
    const c = await running();
    const r = await run('bash', ['-c', `set -o pipefail; tar -C "$1" --numeric-owner -cf - tree | docker -H "$DOCKER_HOST" cp - "$2"`, 'bash', base, `${c}:/tmp`]);
    assert.equal(r.status, 0, r.stderr);
    await expectCopiedIn(c, '/tmp/tree');
  });

  it('overwrites a file of the image in a running container, and the container sees the new content', async () => {
    const c = await running();
    assert.notEqual(await dockerOk('exec', c, 'cat', '/etc/group'), 'replaced');
    const file = path.join(base, 'group');
    fs.writeFileSync(file, 'replaced\n');
    await dockerOk('cp', file, `${c}:/etc/group`);
    assert.equal(await dockerOk('exec', c, 'cat', '/etc/group'), 'replaced');
  });

  it('copies files out of a running container owned as inside (0 and 1000), not by its shifted host ids', async () => {
    const c = await running();
    await dockerOk('exec', c, 'sh', '-c', WRITE_OUT('/out'));
    assert.deepEqual((await ownersOut(c, '/out')).sort(), ['0:0 out/', '0:0 out/by-root', '1000:1000 out/by-user']);
    // Into a host path the CLI writes files as the user running it (Docker's documented rule);
    // the owners travel in the stream above.
    const dest = path.join(base, 'out-running');
    await dockerOk('cp', `${c}:/out/by-user`, dest);
    assert.equal(fs.readFileSync(dest, 'utf8'), 'out\n');
  });

  it('docker export of a running container carries the owners inside', async () => {
    const c = await running();
    await dockerOk('exec', c, 'sh', '-c', WRITE_OUT('/out'));
    const r = await run('bash', ['-c', `set -o pipefail; docker -H "$DOCKER_HOST" export "$1" | tar -tv --numeric-owner -f - | awk '{print $2, $6}' | grep -E ' (out/|bin/busybox$)'`, 'bash', c]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['0/0 bin/busybox', '0/0 out/', '0/0 out/by-root', '1000/1000 out/by-user']);
  });

  it('copies in and out of a stopped container, with the same owners once it runs again', async () => {
    const c = await running();
    await dockerOk('exec', c, 'sh', '-c', WRITE_OUT('/out'));
    await dockerOk('stop', '-t', '1', c);
    await dockerOk('cp', tree, `${c}:/copied`);
    const outs = await ownersOut(c, '/out');
    assert.ok(outs.includes('0:0 out/by-root') && outs.includes('1000:1000 out/by-user'), outs.join('\n'));
    await dockerOk('start', c);
    await expectCopiedIn(c, '/copied');
  });

  it('serves the running container from one view process, gone once it stops; docker rm leaves nothing', async () => {
    const c = await running();
    const id = await containerIdOf(c);
    const merged = await dockerOk('inspect', '-f', '{{.GraphDriver.Data.MergedDir}}', c);
    const views = processesMentioning(`${MOUNT_ROOT}/${id}/`);
    assert.equal(views.length, 1, views.join('\n'));
    // The C program, not a Node process (~1 MiB resident rather than ~39 MiB).
    assert.equal(path.basename(fs.readlinkSync(`/proc/${views[0]!.split(' ')[0]}/exe`)), 'sysbox-mgr-rootfs-view');
    const r = await run('findmnt', ['-n', '-o', 'FSTYPE', merged]);
    assert.equal(r.stdout.trim(), 'fuse.sysbox-rootfs');
    await dockerOk('stop', '-t', '1', c);
    assert.deepEqual(processesMentioning(`${MOUNT_ROOT}/${id}/`), []);
    await dockerOk('rm', c);
    assert.deepEqual(leftoversOf(id), []);
  });

  it('copies into and out of /var/lib/docker (a special dir) of a running container', async () => {
    const c = await running();
    await dockerOk('cp', tree, `${c}:/var/lib/docker/tree`);
    await expectCopiedIn(c, '/var/lib/docker/tree');
    await dockerOk('exec', c, 'sh', '-c', WRITE_OUT('/var/lib/docker/out'));
    const outs = await ownersOut(c, '/var/lib/docker/out');
    assert.ok(outs.includes('0:0 out/by-root') && outs.includes('1000:1000 out/by-user'), outs.join('\n'));
    // What docker cp put there is the container's own: it survives a stop and start (the special
    // dir is archived into the rootfs at stop and restored at start).
    await dockerOk('stop', '-t', '1', c);
    await dockerOk('start', c);
    await expectCopiedIn(c, '/var/lib/docker/tree');
  });
});
