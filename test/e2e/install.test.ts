// The install step (scripts/install.sh, scripts/docker-runtime.sh) that the quickstart and the
// Debian package use: files land where they should and run from there; daemon.json gains the
// runtime without losing other keys, and a running dockerd picks it up on SIGHUP.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { dockerOk, REPO, run, uniqueName } from '../lib/env.js';

const DOCKERD_CONFIG = process.env.SYSBOX_TEST_DOCKERD_CONFIG ?? '';
const DOCKERD_PIDFILE = process.env.SYSBOX_TEST_DOCKERD_PIDFILE ?? '';

async function runtimes(): Promise<string[]> {
  return (await dockerOk('info', '--format', '{{range $k, $v := .Runtimes}}{{$k}} {{end}}')).split(' ');
}

async function waitFor(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('install', () => {
  it('stages the binaries, links and units under DESTDIR, and they run from there', async () => {
    const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-install-'));
    try {
      const r = await run('bash', [path.join(REPO, 'scripts/install.sh')], { env: { ...process.env, DESTDIR: dest } });
      assert.equal(r.status, 0, r.stderr);
      for (const f of ['sysbox-runc', 'sysbox-runc.js', 'sysbox-mgr', 'sysbox_native.node']) {
        assert.ok(fs.existsSync(path.join(dest, 'usr/lib/sysbox', f)), `missing /usr/lib/sysbox/${f}`);
      }
      assert.equal(fs.readlinkSync(path.join(dest, 'usr/bin/sysbox-runc')), '../lib/sysbox/sysbox-runc');
      assert.ok(fs.existsSync(path.join(dest, 'lib/systemd/system/sysbox.service')));
      assert.ok(fs.existsSync(path.join(dest, 'lib/systemd/system/sysbox-mgr.service')));
      const v = await run(path.join(dest, 'usr/bin/sysbox-runc'), ['--version']);
      assert.match(v.stdout, /^sysbox-runc version \S+\n.*\nexecutor: \/usr\/sbin\/runc\n\s+runc version 1\./s);
      const m = await run(path.join(dest, 'usr/bin/sysbox-mgr'), ['--version']);
      assert.match(m.stdout, /^sysbox-mgr \d/);
    } finally {
      fs.rmSync(dest, { recursive: true, force: true });
    }
  });

  it('adds and removes the runtime in daemon.json, keeping other keys, and dockerd reloads it', async () => {
    assert.ok(DOCKERD_CONFIG && DOCKERD_PIDFILE, 'run through test/run.sh (SYSBOX_TEST_DOCKERD_CONFIG/PIDFILE)');
    const original = fs.readFileSync(DOCKERD_CONFIG, 'utf8');
    const name = uniqueName('sysbox-install');
    const env = { ...process.env, SYSBOX_RUNTIME_NAME: name, SYSBOX_RUNTIME_PATH: path.join(REPO, 'out/bin/sysbox-runc') };
    const script = path.join(REPO, 'scripts/docker-runtime.sh');
    try {
      const add = await run('bash', [script, 'add', DOCKERD_CONFIG, DOCKERD_PIDFILE], { env });
      assert.equal(add.status, 0, add.stderr);
      const conf = JSON.parse(fs.readFileSync(DOCKERD_CONFIG, 'utf8')) as { runtimes: Record<string, { path: string; runtimeArgs?: string[] }> };
      const before = JSON.parse(original) as { runtimes: Record<string, unknown> };
      assert.deepEqual(conf.runtimes['sysbox-runc'], before.runtimes['sysbox-runc'], 'existing entries are kept as they were');
      assert.equal(conf.runtimes[name]!.path, env.SYSBOX_RUNTIME_PATH);
      assert.ok(await waitFor(async () => (await runtimes()).includes(name)), 'dockerd lists the new runtime after SIGHUP');

      const remove = await run('bash', [script, 'remove', DOCKERD_CONFIG, DOCKERD_PIDFILE], { env });
      assert.equal(remove.status, 0, remove.stderr);
      assert.deepEqual(JSON.parse(fs.readFileSync(DOCKERD_CONFIG, 'utf8')), JSON.parse(original));
      assert.ok(await waitFor(async () => !(await runtimes()).includes(name)), 'dockerd drops it after SIGHUP');
    } finally {
      fs.writeFileSync(DOCKERD_CONFIG, original);
    }
  });

  it('refuses a daemon.json that is not JSON, leaving it untouched', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-daemonjson-'));
    const conf = path.join(dir, 'daemon.json');
    fs.writeFileSync(conf, '{ "debug": true,');
    const r = await run('bash', [path.join(REPO, 'scripts/docker-runtime.sh'), 'add', conf, '/nonexistent.pid']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /is not valid JSON/);
    assert.equal(fs.readFileSync(conf, 'utf8'), '{ "debug": true,');
    fs.rmSync(dir, { recursive: true });
  });
});
