// Docker's own userns-remap: a second dockerd of the test's own, started with
// --userns-remap=<test user> and sysbox-runc registered against the same sysbox-mgr/sysbox-fs.
// Docker picks the mapping (0 START 65536) and chowns its layers to it; sysbox-runc must keep that
// mapping, take no range of its own, shift nothing a second time, and still give the container
// its virtual /proc files, delegated cgroups and a working inner Docker.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BUSYBOX, DOCKER, FS_SOCKET, MGR_SOCKET, MGR_SUBID_FILE, REPO, SYSBOX_RUNC, TEST_NAME, mgrRecordFile, pipeDockerSave, run, uniqueName, waitForInnerDocker,
  type Result,
} from '../lib/env.js';
import { addSubidLine, dropSubidLine, usersOfIdRanges } from '../lib/subid.js';

/** Docker's remapped range: far above the test pool of sysbox-mgr (1000000000 + 268435456). */
const START = 1_500_000_000;
const SIZE = 65536;
const DOCKER_IMAGE = 'sysbox/docker:latest';

const name = `${TEST_NAME}-userns`;
const user = name;
const host = `unix:///run/${name}.sock`;
const dataRoot = `/var/lib/${name}`;
const SUBID_LINE = `${user}:${START}:${SIZE}`;
const DOCKERD_SH = path.join(REPO, 'test', 'lib', 'dockerd.sh');

/** Everything on this machine that already uses an id of [START, START+SIZE), or our data root: must be empty. */
function usersOfRange(): string[] {
  const found = usersOfIdRanges([{ start: START, size: SIZE }], ['/etc/subuid', '/etc/subgid', MGR_SUBID_FILE]);
  if (fs.existsSync(dataRoot)) found.push(`${dataRoot} exists (another run of this test?)`);
  return found;
}

function remapped(...args: string[]): Promise<Result> {
  return run(DOCKER, ['-H', host, ...args]);
}

async function remappedOk(...args: string[]): Promise<string> {
  const r = await remapped(...args);
  if (r.status !== 0) throw new Error(`docker -H ${host} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

/** The first line of uid_map as numbers. */
function mapping(line: string): number[] {
  return line.trim().split(/\s+/).map(Number);
}

describe('Docker with userns-remap and sysbox-runc', () => {
  const names: string[] = [];
  const images: string[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));

  // Set once the range proved free: only then is there anything of ours to undo.
  let ours = false;

  before(async () => {
    assert.deepEqual(usersOfRange(), [], `ids ${START}-${START + SIZE - 1} must be unused on this machine`);
    ours = true;
    const add = await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
    assert.equal(add.status, 0, add.stderr);
    addSubidLine('/etc/subuid', SUBID_LINE);
    addSubidLine('/etc/subgid', SUBID_LINE);
    const start = await run(DOCKERD_SH, ['start', name, SYSBOX_RUNC, `--sysbox-mgr-socket=${MGR_SOCKET}`, `--sysbox-fs-socket=${FS_SOCKET}`],
      { env: { ...process.env, DOCKERD_EXTRA_ARGS: `--userns-remap=${user}` } });
    assert.equal(start.status, 0, start.stderr);
    const load = await pipeDockerSave([BUSYBOX, DOCKER_IMAGE], `"${DOCKER}" -H "${host}" load`, { timeoutMs: 300_000 });
    assert.equal(load.status, 0, load.stderr);
  });

  after(async () => {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!ours) return;
    if (names.length) await remapped('rm', '-f', ...names);
    if (images.length) await remapped('rmi', '-f', ...images);
    await run(DOCKERD_SH, ['stop', name]);
    fs.rmSync(dataRoot, { recursive: true, force: true });
    fs.rmSync(`/run/${name}.d`, { recursive: true, force: true });
    await run('userdel', [user]);
    dropSubidLine('/etc/subuid', SUBID_LINE);
    dropSubidLine('/etc/subgid', SUBID_LINE);
    // Nothing of the test is left: no subid line, no process in the range, no data root, no user,
    // no bridge (dockerd.sh names it after the daemon).
    assert.deepEqual(usersOfRange(), []);
    assert.notEqual((await run('id', [user])).status, 0, `user ${user} must be gone`);
    assert.notEqual((await run('ip', ['link', 'show', `${name.slice(0, 13)}br`])).status, 0, 'the bridge must be gone');
  });

  it('the daemon remaps: its storage lives under DATAROOT/START.START', async () => {
    const root = await remappedOk('info', '-f', '{{.DockerRootDir}}');
    assert.equal(root, path.join(dataRoot, `${START}.${START}`));
    assert.equal(fs.statSync(root).gid, START);
  });

  it("keeps Docker's mapping (0 START 65536) and takes no range from sysbox-mgr", async () => {
    const c = uniqueName('remap-map');
    names.push(c);
    await remappedOk('run', '-d', '--runtime=sysbox-runc', '--name', c, BUSYBOX, 'sleep', '300');
    const id = await remappedOk('inspect', '-f', '{{.Id}}', c);
    const maps = (await remappedOk('exec', c, 'cat', '/proc/self/uid_map', '/proc/self/gid_map')).split('\n');
    assert.deepEqual(maps.map(mapping), [[0, START, SIZE], [0, START, SIZE]]);
    const rec = JSON.parse(fs.readFileSync(mgrRecordFile(id), 'utf8')) as { allocated: boolean; uid: number; gid: number; size: number };
    assert.deepEqual({ allocated: rec.allocated, uid: rec.uid, gid: rec.gid, size: rec.size },
      { allocated: false, uid: START, gid: START, size: SIZE });
  });

  it('does not shift the rootfs twice: image files are root-owned inside, new files land on the host as START+0', async () => {
    const c = uniqueName('remap-rootfs');
    names.push(c);
    await remappedOk('run', '-d', '--runtime=sysbox-runc', '--name', c, BUSYBOX, 'sleep', '300');
    const out = await remappedOk('exec', c, 'sh', '-c', 'stat -c %u:%g /bin/sh; touch /new-by-root; mkdir /by-1234 && chown 1234:1234 /by-1234');
    assert.equal(out, '0:0');
    const upper = await remappedOk('inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', c);
    assert.ok(upper.startsWith(path.join(dataRoot, `${START}.${START}`)), upper);
    const owner = (p: string): string => { const st = fs.statSync(path.join(upper, p)); return `${st.uid}:${st.gid}`; };
    assert.equal(owner('new-by-root'), `${START}:${START}`);
    assert.equal(owner('by-1234'), `${START + 1234}:${START + 1234}`);
  });

  it('docker commit records the owner set inside (1234), as plain runc would', async () => {
    const c = uniqueName('remap-commit');
    const image = `${uniqueName('sysbox-remap-commit')}:test`;
    names.push(c);
    images.push(image);
    await remappedOk('run', '--runtime=sysbox-runc', '--name', c, BUSYBOX, 'sh', '-c', 'echo data > /owned-file && chown 1234:2345 /owned-file');
    await remappedOk('commit', c, image);
    // The committed layer in `docker save`: Docker unshifts its remapped storage into the tar.
    const dir = path.join(tmp, 'save');
    fs.mkdirSync(dir);
    const save = await run('bash', ['-c', `set -o pipefail; "${DOCKER}" -H "${host}" save ${image} | tar -C "${dir}" -x`]);
    assert.equal(save.status, 0, save.stderr);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
    const layer = path.join(dir, manifest[0]!.Layers.at(-1)!);
    const list = await run('tar', ['-tvf', layer, '--numeric-owner']);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^-\S+ 1234\/2345 .* owned-file$/m);
    // And a container of the image sees it so as well.
    assert.equal(await remappedOk('run', '--rm', '--runtime=sysbox-runc', image, 'stat', '-c', '%u:%g', '/owned-file'), '1234:2345');
  });

  it('bind mounts show their true owners, as with runc: START+1000 as 1000, host root as 65534', async () => {
    const owned = path.join(tmp, 'owned');
    const rootDir = path.join(tmp, 'root-owned');
    fs.mkdirSync(owned);
    fs.mkdirSync(rootDir);
    fs.chownSync(owned, START + 1000, START + 1000);
    fs.chmodSync(tmp, 0o755);
    const args = ['-v', `${owned}:/owned`, '-v', `${rootDir}:/root-owned`, BUSYBOX, 'sh', '-c',
      'stat -c "%u:%g" /owned /root-owned; touch /owned/by-root'];
    const sysbox = await remappedOk('run', '--rm', '--runtime=sysbox-runc', ...args);
    assert.deepEqual(sysbox.split('\n'), ['1000:1000', '65534:65534']);
    const st = fs.statSync(path.join(owned, 'by-root'));
    assert.deepEqual([st.uid, st.gid], [START, START]);
    const runc = await remappedOk('run', '--rm', '--runtime=runc', ...args);
    assert.equal(sysbox, runc);
  });

  it("sysbox-fs serves the container's /proc/uptime and /proc/meminfo (--memory)", async () => {
    const out = await remappedOk('run', '--rm', '--runtime=sysbox-runc', '--memory', '64m', BUSYBOX, 'sh', '-c',
      'cut -d" " -f1 /proc/uptime; grep MemTotal /proc/meminfo; grep -c " /proc/uptime .* fuse.sysboxfs " /proc/self/mountinfo');
    const [uptime, memTotal, fuse] = out.split('\n');
    const hostUptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    assert.ok(Number(uptime) < 60 && Number(uptime) < hostUptime, `container uptime ${uptime} (host ${hostUptime})`);
    assert.match(memTotal!, /^MemTotal:\s+65536 kB$/);
    assert.equal(fuse, '1');
  });

  it('runs Docker inside: docker info, overlay2 on a backed /var/lib/docker, an inner container', async () => {
    const c = uniqueName('remap-dind');
    names.push(c);
    const info = await remappedOk('run', '--rm', '--runtime=sysbox-runc', DOCKER_IMAGE, 'docker', 'info', '-f', '{{.ServerVersion}} {{.Driver}}');
    // Not vfs: /var/lib/docker is a host dir of sysbox-mgr's, owned by the container's root.
    assert.match(info, /^\d+\.\d+\S* overlay2$/);
    await remappedOk('run', '-d', '--runtime=sysbox-runc', '--name', c, DOCKER_IMAGE, 'sleep', '600');
    // `run -d` returns before the entrypoint's dockerd answers.
    await waitForInnerDocker(c, remapped);
    const load = await pipeDockerSave([BUSYBOX], `"${DOCKER}" -H "${host}" exec -i ${c} docker load`, { host });
    assert.equal(load.status, 0, load.stderr);
    // Needs the container's cgroups delegated to its root (START), as without remap.
    const inner = await remappedOk('exec', c, 'docker', 'run', '--rm', BUSYBOX, 'sh', '-c', 'cat /proc/self/uid_map; echo inner-ok');
    const lines = inner.split('\n');
    assert.equal(lines.at(-1), 'inner-ok');
    // Inner plain runc adds no user namespace: the inner container is in the outer one's.
    assert.deepEqual(mapping(lines[0]!), [0, START, SIZE]);
  });

  it('inner images travel with docker commit, archived into the remapped rootfs as root-owned', async () => {
    const c = uniqueName('remap-dind-commit');
    const image = `${uniqueName('sysbox-remap-dind')}:test`;
    names.push(c);
    images.push(image);
    await remappedOk('run', '-d', '--runtime=sysbox-runc', '--name', c, DOCKER_IMAGE, 'sleep', '600');
    // `run -d` returns before the entrypoint's dockerd answers.
    await waitForInnerDocker(c, remapped);
    const load = await pipeDockerSave([BUSYBOX], `"${DOCKER}" -H "${host}" exec -i ${c} docker load`, { host });
    assert.equal(load.status, 0, load.stderr);
    await remappedOk('commit', c, image);
    const out = await remappedOk('run', '--rm', '--runtime=sysbox-runc', image, 'sh', '-c',
      `stat -c %u:%g /var/lib/sysbox-preload/docker.tar; docker image inspect -f '{{.Id}}' ${BUSYBOX} >/dev/null && echo image-there`);
    assert.deepEqual(out.split('\n'), ['0:0', 'image-there']);
  });
});
