// Inner images that outlive the container (issue 4): preloaded into images by docker commit and by
// docker build with sysbox-runc as the build runtime, and cached on a volume at /var/lib/docker,
// which two running containers cannot share.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BUSYBOX, DOCKER, DOCKER_HOST, docker, dockerOk, loadImageInto, run, uniqueName, waitForInnerDocker } from '../lib/env.js';

const DOCKER_IMAGE = 'sysbox/docker:latest';
const DOCKERD_CONFIG = process.env.SYSBOX_TEST_DOCKERD_CONFIG ?? '';
const DOCKERD_PIDFILE = process.env.SYSBOX_TEST_DOCKERD_PIDFILE ?? '';

async function startDind(name: string, ...extra: string[]): Promise<void> {
  await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', name, ...extra, 'sleep', 'infinity');
  await waitForInnerDocker(name);
}

async function innerImages(c: string): Promise<string[]> {
  return (await dockerOk('exec', c, 'docker', 'images', '--format', '{{.Repository}}:{{.Tag}}')).split('\n').filter(Boolean);
}

/** Sets daemon.json's default-runtime and reloads the test dockerd (SIGHUP). */
async function setDefaultRuntime(name: string): Promise<void> {
  const conf = JSON.parse(fs.readFileSync(DOCKERD_CONFIG, 'utf8')) as Record<string, unknown>;
  conf['default-runtime'] = name;
  fs.writeFileSync(DOCKERD_CONFIG, JSON.stringify(conf, null, 2));
  process.kill(Number(fs.readFileSync(DOCKERD_PIDFILE, 'utf8').trim()), 'SIGHUP');
  for (let i = 0; i < 50; i++) {
    if ((await dockerOk('info', '--format', '{{.DefaultRuntime}}')) === name) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`dockerd did not switch its default runtime to ${name}`);
}

describe('inner images', () => {
  const containers: string[] = [];
  const images: string[] = [];
  const volumes: string[] = [];
  after(async () => {
    if (containers.length) await docker('rm', '-f', ...containers);
    if (images.length) await docker('rmi', '-f', ...images);
    if (volumes.length) await docker('volume', 'rm', '-f', ...volumes);
  });

  it('are preloaded by docker commit of a running system container', async () => {
    const src = uniqueName('preload-src');
    const dst = uniqueName('preload-dst');
    const image = `sysbox-test/${uniqueName('preloaded')}`;
    containers.push(src, dst);
    images.push(image);
    await startDind(src, DOCKER_IMAGE);
    await loadImageInto(src, BUSYBOX);
    await dockerOk('commit', src, image);
    await dockerOk('rm', '-f', src);
    await startDind(dst, image);
    assert.ok((await innerImages(dst)).includes(BUSYBOX), 'the inner image must be there without loading it again');
    assert.equal(await dockerOk('exec', dst, 'docker', 'run', '--rm', BUSYBOX, 'echo', 'preloaded'), 'preloaded');
  });

  it('are preloaded by docker build with sysbox-runc as the build runtime', async () => {
    assert.ok(DOCKERD_CONFIG && DOCKERD_PIDFILE, 'run through test/run.sh (SYSBOX_TEST_DOCKERD_CONFIG/PIDFILE)');
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-build-'));
    const image = `sysbox-test/${uniqueName('built')}`;
    const dst = uniqueName('built-dst');
    images.push(image);
    containers.push(dst);
    const original = fs.readFileSync(DOCKERD_CONFIG, 'utf8');
    try {
      const save = await run('bash', ['-c', `"${DOCKER}" -H "${DOCKER_HOST}" save ${BUSYBOX} > ${ctx}/busybox.tar`]);
      assert.equal(save.status, 0, save.stderr);
      fs.writeFileSync(path.join(ctx, 'Dockerfile'), [
        `FROM ${DOCKER_IMAGE}`,
        'COPY busybox.tar /tmp/busybox.tar',
        'RUN sysbox-docker-entrypoint true && docker load -i /tmp/busybox.tar && rm /tmp/busybox.tar',
      ].join('\n'));
      await setDefaultRuntime('sysbox-runc');
      const build = await docker('build', '-q', '-t', image, ctx);
      assert.equal(build.status, 0, build.stderr);
    } finally {
      fs.writeFileSync(DOCKERD_CONFIG, original);
      await setDefaultRuntime('runc');
      fs.rmSync(ctx, { recursive: true, force: true });
    }
    await startDind(dst, image);
    assert.ok((await innerImages(dst)).includes(BUSYBOX));
    assert.equal(await dockerOk('exec', dst, 'docker', 'run', '--rm', BUSYBOX, 'echo', 'built-in'), 'built-in');
  });

  it('are kept on a volume at /var/lib/docker across re-creation, and the volume is exclusive', async () => {
    const vol = uniqueName('dind-cache');
    const first = uniqueName('vol-first');
    const second = uniqueName('vol-second');
    const rival = uniqueName('vol-rival');
    volumes.push(vol);
    containers.push(first, second, rival);
    await startDind(first, '-v', `${vol}:/var/lib/docker`, DOCKER_IMAGE);
    assert.equal(await dockerOk('exec', first, 'docker', 'info', '--format', '{{.Driver}}'), 'overlay2');
    await loadImageInto(first, BUSYBOX);
    await dockerOk('rm', '-f', first);
    await startDind(second, '-v', `${vol}:/var/lib/docker`, DOCKER_IMAGE);
    assert.ok((await innerImages(second)).includes(BUSYBOX), 'images on the volume survive re-creation');
    const r = await docker('run', '-d', '--runtime=sysbox-runc', '--name', rival, '-v', `${vol}:/var/lib/docker`, DOCKER_IMAGE, 'sleep', 'infinity');
    assert.notEqual(r.status, 0, 'a second running container must not get the same inner data root');
    assert.match(r.stderr, /already mounted at \/var\/lib\/docker in container .*cannot share one data root/);
    // The volume's files keep real owners on the host (ID-mapped, not shifted on disk).
    const mountpoint = await dockerOk('volume', 'inspect', '-f', '{{.Mountpoint}}', vol);
    assert.equal(fs.statSync(path.join(mountpoint, 'image')).uid, 0);
  });
});
