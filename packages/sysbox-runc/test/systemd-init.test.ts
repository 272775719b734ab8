// Which inits are systemd (resolved inside the rootfs, as the container will see them), and the
// stop signal `kill` sends them: in kill.ts and in the sh launcher's fast path, run here against a
// stand-in runc that prints its arguments.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containerInitIsSystemd, initIsSystemd, INIT_PID_FILE, resolveInRoot, stopSignalFor, SYSTEMD_INIT_MARKER } from '../src/lifecycle/systemd-init.js';

function rootfs(layout: Record<string, string | { link: string }>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-init-'));
  for (const [p, what] of Object.entries(layout)) {
    const host = path.join(root, p);
    fs.mkdirSync(path.dirname(host), { recursive: true });
    if (typeof what === 'string') fs.writeFileSync(host, what);
    else fs.symlinkSync(what.link, host);
  }
  return root;
}

describe('systemd init detection', () => {
  const roots: string[] = [];
  after(() => { for (const r of roots) fs.rmSync(r, { recursive: true, force: true }); });

  it('follows merged-usr links and relative links inside the rootfs (Debian 12: /sbin/init)', () => {
    const r = rootfs({ 'usr/sbin/init': { link: '../lib/systemd/systemd' }, 'usr/lib/systemd/systemd': 'elf', sbin: { link: 'usr/sbin' }, lib: { link: 'usr/lib' } });
    roots.push(r);
    assert.equal(resolveInRoot(r, '/sbin/init'), '/usr/lib/systemd/systemd');
    assert.equal(initIsSystemd(r, ['/sbin/init']), true);
    assert.equal(initIsSystemd(r, ['/lib/systemd/systemd', '--system']), true);
  });
  it('resolves absolute link targets against the rootfs, never the host', () => {
    const r = rootfs({ 'sbin/init': { link: '/lib/systemd/systemd' }, 'lib/systemd/systemd': 'elf' });
    roots.push(r);
    assert.equal(initIsSystemd(r, ['/sbin/init']), true);
  });
  it('is false for busybox as /sbin/init, a shell, or a missing file', () => {
    const r = rootfs({ 'sbin/init': { link: '/bin/busybox' }, 'bin/busybox': 'elf', 'bin/sh': { link: 'busybox' } });
    roots.push(r);
    assert.equal(initIsSystemd(r, ['/sbin/init']), false);
    assert.equal(initIsSystemd(r, ['sh', '-c', 'sleep 1']), false);
    assert.equal(initIsSystemd(r, ['/nonexistent/systemd']), false);
    assert.equal(initIsSystemd(r, []), false);
  });
  it("looks a bare name up in the spec's PATH", () => {
    const r = rootfs({ 'opt/sd/init': { link: 'systemd' }, 'opt/sd/systemd': 'elf' });
    roots.push(r);
    assert.equal(initIsSystemd(r, ['init'], ['PATH=/opt/sd']), true);
    assert.equal(initIsSystemd(r, ['init'], ['PATH=/bin']), false);
  });
  it('survives symlink loops', () => {
    const r = rootfs({ 'sbin/init': { link: 'init2' }, 'sbin/init2': { link: 'init' } });
    roots.push(r);
    assert.equal(initIsSystemd(r, ['/sbin/init']), false);
  });
});

describe('stop signal for kill', () => {
  it('turns SIGTERM (any spelling, or none) into SIGRTMIN+3 for a systemd init only', () => {
    for (const s of ['15', 'TERM', 'SIGTERM', 'sigterm', undefined]) assert.equal(stopSignalFor(s, false, true), '37');
    assert.equal(stopSignalFor('15', false, false), '15');
    assert.equal(stopSignalFor('KILL', false, true), 'KILL');
    assert.equal(stopSignalFor('37', false, true), '37');
    assert.equal(stopSignalFor('15', true, true), '15', '--all signals every process: left alone');
  });
});

/**
 * Run dirs under /run/sysbox-containers as create leaves them: one marked as a systemd init, one
 * whose recorded init pid is a process named systemd (a copy of sleep), one whose init is sleep.
 */
function fakeContainers(): { marked: string; running: string; other: string; dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-launcher-'));
  const tag = randomBytes(4).toString('hex');
  const ids = { marked: `kill-marked-${tag}`, running: `kill-running-${tag}`, other: `kill-other-${tag}` };
  const procs: ChildProcess[] = [];
  const runDir = (id: string): string => {
    const d = path.join('/run/sysbox-containers', id);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  fs.writeFileSync(path.join(runDir(ids.marked), SYSTEMD_INIT_MARKER), '');
  fs.copyFileSync('/bin/sleep', path.join(dir, 'systemd'));
  fs.chmodSync(path.join(dir, 'systemd'), 0o755);
  for (const [id, bin] of [[ids.running, path.join(dir, 'systemd')], [ids.other, '/bin/sleep']] as const) {
    const p = spawn(bin, ['60'], { stdio: 'ignore' });
    procs.push(p);
    fs.writeFileSync(path.join(runDir(id), INIT_PID_FILE), `${p.pid}\n`);
  }
  return {
    ...ids, dir,
    cleanup() {
      for (const p of procs) p.kill('SIGKILL');
      for (const id of Object.values(ids)) fs.rmSync(path.join('/run/sysbox-containers', id), { recursive: true, force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('which containers have a systemd init', () => {
  let c: ReturnType<typeof fakeContainers>;
  before(() => { c = fakeContainers(); });
  after(() => c.cleanup());
  it('marked by create, or running systemd as init by now (e.g. exec /sbin/init from an entrypoint script)', () => {
    assert.equal(containerInitIsSystemd(path.join('/run/sysbox-containers', c.marked)), true);
    assert.equal(containerInitIsSystemd(path.join('/run/sysbox-containers', c.running)), true);
    assert.equal(containerInitIsSystemd(path.join('/run/sysbox-containers', c.other)), false);
    assert.equal(containerInitIsSystemd(path.join('/run/sysbox-containers', 'no-such-container')), false);
  });
});

describe('launcher kill fast path', () => {
  const launcher = path.resolve(__dirname, '..', '..', 'launcher', 'sysbox-runc.sh');
  let c: ReturnType<typeof fakeContainers>;
  let fakeRunc: string;
  let systemdId: string;
  before(() => {
    c = fakeContainers();
    systemdId = c.marked;
    fakeRunc = path.join(c.dir, 'runc');
    fs.writeFileSync(fakeRunc, '#!/bin/sh\necho "$@"\n', { mode: 0o755 });
  });
  after(() => c.cleanup());
  const runcArgs = (...args: string[]): string => {
    const r = spawnSync('/bin/sh', [launcher, '--root', '/run/x', '--sysbox-mgr-socket', '/m.sock', ...args], { env: { SYSBOX_RUNC_PATH: fakeRunc }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };

  it('sends SIGRTMIN+3 in place of SIGTERM to a marked container', () => {
    assert.equal(runcArgs('kill', systemdId, '15'), `--root /run/x kill ${systemdId} 37`);
    assert.equal(runcArgs('kill', systemdId, 'SIGTERM'), `--root /run/x kill ${systemdId} 37`);
    assert.equal(runcArgs('kill', systemdId), `--root /run/x kill ${systemdId} 37`);
  });
  it('does so for a container whose init runs as systemd by now, and not for one whose init is another program', () => {
    assert.equal(runcArgs('kill', c.running, '15'), `--root /run/x kill ${c.running} 37`);
    assert.equal(runcArgs('kill', c.other, '15'), `--root /run/x kill ${c.other} 15`);
  });
  it('leaves other signals, --all and unmarked containers alone', () => {
    assert.equal(runcArgs('kill', systemdId, '9'), `--root /run/x kill ${systemdId} 9`);
    assert.equal(runcArgs('kill', '--all', systemdId, '15'), `--root /run/x kill --all ${systemdId} 15`);
    assert.equal(runcArgs('kill', 'not-a-systemd-container', '15'), '--root /run/x kill not-a-systemd-container 15');
  });
});
