// systemd as PID 1 in a system container (issue 4 images b and c): it boots to "running" with no
// failed units, runs docker.service on overlay2 in the systemd + Docker image, and stops cleanly on
// docker stop (SIGRTMIN+3, set by the image).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { docker, dockerOk, uniqueName, waitForSystemd } from '../lib/env.js';

describe('systemd in a system container', () => {
  const names: string[] = [];
  after(() => (names.length ? docker('rm', '-f', ...names) : undefined));

  it('boots sysbox/systemd to running, with no failed units, and stops it cleanly', async () => {
    const c = uniqueName('systemd');
    names.push(c);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, 'sysbox/systemd:latest');
    assert.equal(await waitForSystemd(c), 'running');
    assert.equal((await docker('exec', c, 'systemctl', '--failed', '--no-legend')).stdout.trim(), '');
    assert.equal(await dockerOk('exec', c, 'cat', '/proc/1/comm'), 'systemd');
    const t0 = Date.now();
    await dockerOk('stop', c);
    assert.ok(Date.now() - t0 < 9000, 'systemd must shut down on the stop signal, not be killed after the timeout');
  });

  // Stock images (images/build.sh systemd-stock and systemd-stock-trixie: bookworm's systemd 252 and
  // trixie's 257 with systemd systemd-sysv dbus udev, nothing masked): the debugfs/tracefs/configfs
  // mount points are absent from /sys/kernel, so their mount units are skipped by their own
  // ConditionPathExists= instead of failing.
  for (const image of ['systemd-stock', 'systemd-stock-trixie']) {
    it(`boots the unmasked stock image sysbox/${image} (with udev) to running, with no failed units`, async () => {
      const c = uniqueName(image);
      names.push(c);
      await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, `sysbox/${image}:latest`);
      assert.equal(await dockerOk('exec', c, 'sh', '-c', 'ls /etc/systemd/system | grep -c -e "^sys-kernel" -e udev || true'), '0', 'nothing masked in the image');
      assert.equal(await waitForSystemd(c), 'running');
      assert.equal((await docker('exec', c, 'systemctl', '--failed', '--no-legend')).stdout.trim(), '');
      assert.equal(await dockerOk('exec', c, 'sh', '-c', 'ls -d /sys/kernel/debug /sys/kernel/tracing /sys/kernel/config 2>/dev/null; true'), '');
      assert.equal(await dockerOk('exec', c, 'systemctl', 'show', '-p', 'ConditionResult', '--value', 'sys-kernel-debug.mount'), 'no');
      assert.equal(await dockerOk('exec', c, 'systemctl', 'is-active', 'systemd-udevd'), 'active');
    });
  }

  it('runs docker.service on overlay2 in sysbox/systemd-docker', async () => {
    const c = uniqueName('systemd-docker');
    names.push(c);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, 'sysbox/systemd-docker:latest');
    assert.equal(await waitForSystemd(c), 'running');
    assert.equal(await dockerOk('exec', c, 'systemctl', 'is-active', 'docker'), 'active');
    assert.equal(await dockerOk('exec', c, 'docker', 'info', '--format', '{{.Driver}}'), 'overlay2');
  });
});
