// docker stop of system containers (issue 12). systemd as PID 1 re-executes itself on SIGTERM, so
// an image without STOPSIGNAL used to wait out the timeout and be SIGKILLed (every unit's ExecStop
// skipped); sysbox-runc sends systemd SIGRTMIN+3, its halt, in place of SIGTERM. Any other init
// keeps SIGTERM: a shell as PID 1 ignores it and is killed after the timeout, as with runc.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUSYBOX, docker, dockerOk, removeContainers, run, uniqueName, waitForSystemd, DOCKER, DOCKER_HOST } from '../lib/env.js';

/** sysbox/systemd with the stop signal a stock systemd image has (none: Docker's SIGTERM). */
const SIGTERM_IMAGE = 'sysbox-test/systemd-sigterm:latest';

/** A unit whose ExecStop leaves a file in /mark: proof that systemd stopped its units. */
const STOP_MARK_UNIT = `[Unit]
Description=leaves /mark/stopped when stopped
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=/bin/sh -c 'echo stopped > /mark/stopped'
`;

async function timedStop(c: string, ...flags: string[]): Promise<number> {
  const t0 = Date.now();
  await dockerOk('stop', ...flags, c);
  return (Date.now() - t0) / 1000;
}

/** Runs a systemd container with the marking unit started; returns the host dir bound at /mark. */
async function runSystemdWithMark(c: string, image: string, entrypoint: string[] = []): Promise<string> {
  const mark = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-stop-mark-'));
  const [ep, ...cmd] = entrypoint;
  await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, '-v', `${mark}:/mark`, ...(ep ? ['--entrypoint', ep] : []), image, ...cmd);
  assert.match(await waitForSystemd(c), /^(running|degraded)$/);
  await dockerOk('exec', c, 'sh', '-c',
    `printf '%s' "$0" > /etc/systemd/system/stop-mark.service && systemctl daemon-reload && systemctl start stop-mark`, STOP_MARK_UNIT);
  return mark;
}

/** `docker stop` halts the container's systemd within 5 s, and its units' ExecStop ran. */
async function assertHaltsCleanly(c: string, mark: string): Promise<void> {
  const secs = await timedStop(c);
  assert.ok(secs < 5, `docker stop took ${secs} s: systemd was killed after the timeout, not halted`);
  assert.equal(fs.readFileSync(path.join(mark, 'stopped'), 'utf8'), 'stopped\n', 'ExecStop ran');
}

describe('docker stop of system containers', () => {
  const names: string[] = [];
  const dirs: string[] = [];
  before(async () => {
    const r = await run(DOCKER, ['-H', DOCKER_HOST, 'build', '-q', '-t', SIGTERM_IMAGE, '-'],
      { input: 'FROM sysbox/systemd:latest\nSTOPSIGNAL SIGTERM\n' });
    assert.equal(r.status, 0, r.stderr);
  });
  after(async () => {
    await removeContainers(...names);
    await docker('rmi', SIGTERM_IMAGE);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('stops systemd cleanly within 5 s when the image has no STOPSIGNAL (SIGTERM becomes SIGRTMIN+3)', async () => {
    assert.equal(await dockerOk('image', 'inspect', '-f', '{{.Config.StopSignal}}', SIGTERM_IMAGE), 'SIGTERM');
    const c = uniqueName('stop-systemd-term');
    names.push(c);
    const mark = await runSystemdWithMark(c, SIGTERM_IMAGE);
    dirs.push(mark);
    await assertHaltsCleanly(c, mark);
    assert.equal(await dockerOk('inspect', '-f', '{{.State.ExitCode}}', c), '0', 'systemd exited by itself, not by SIGKILL (137)');
  });

  it('does the same when an entrypoint script execs systemd (the init is systemd only once running)', async () => {
    const c = uniqueName('stop-systemd-script');
    names.push(c);
    const mark = await runSystemdWithMark(c, SIGTERM_IMAGE, ['/bin/sh', '-c', 'exec /sbin/init']);
    dirs.push(mark);
    assert.equal(await dockerOk('inspect', '-f', '{{.Path}}', c), '/bin/sh', 'create saw a shell, not systemd');
    await assertHaltsCleanly(c, mark);
  });

  it('stops systemd cleanly within 5 s with STOPSIGNAL SIGRTMIN+3 (sysbox/systemd)', async () => {
    const c = uniqueName('stop-systemd-rtmin');
    names.push(c);
    const mark = await runSystemdWithMark(c, 'sysbox/systemd:latest');
    dirs.push(mark);
    await assertHaltsCleanly(c, mark);
  });

  it('leaves SIGTERM alone for a shell init: it is ignored and the stop waits out its timeout', async () => {
    const c = uniqueName('stop-shell');
    names.push(c);
    await dockerOk('run', '-d', '--runtime=sysbox-runc', '--name', c, BUSYBOX, 'sh', '-c', 'while :; do sleep 1; done');
    const secs = await timedStop(c, '-t', '3');
    assert.ok(secs >= 2.9 && secs < 6, `docker stop -t 3 took ${secs} s`);
    assert.equal(await dockerOk('inspect', '-f', '{{.State.ExitCode}}', c), '137', 'SIGKILLed after the timeout, as with runc');
  });
});
