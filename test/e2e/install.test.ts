// What the Debian package installs, checked without installing it (deb-package.test.ts installs it
// under systemd): `npm run deb` builds a lintian-clean .deb with the files, links, units and
// dependencies users get; sysbox-docker-runtime, which its maintainer scripts run, edits a live
// dockerd's daemon.json and has it reload.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { dockerOk, REPO, run, uniqueName } from '../lib/env.js';

const DOCKERD_CONFIG = process.env.SYSBOX_TEST_DOCKERD_CONFIG ?? '';
const DOCKERD_PIDFILE = process.env.SYSBOX_TEST_DOCKERD_PIDFILE ?? '';
const TOOL = path.join(REPO, 'out/bin/sysbox-docker-runtime');

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

describe('Debian package (built, not installed)', () => {
  let deb = '';
  before(async () => {
    const r = await run('npm', ['run', '--silent', 'deb'], { cwd: REPO });
    assert.equal(r.status, 0, `npm run deb failed:\n${r.stdout}\n${r.stderr}`);
    deb = path.join(REPO, r.stdout.trim().split('\n').pop()!);
    assert.match(path.basename(deb), /^sysbox_\d+\.\d+\.\d+_amd64\.deb$/);
  });

  it('holds the binaries under /usr/lib/sysbox, links in /usr/bin, units in /lib/systemd/system, man pages', async () => {
    const list = (await run('dpkg-deb', ['-c', deb])).stdout;
    for (const f of ['sysbox-runc', 'sysbox-runc.js', 'sysbox-mgr', 'sysbox-fs', 'sysbox-fs-worker.js', 'sysbox_native.node', 'sysbox-docker-runtime']) {
      assert.match(list, new RegExp(` \\./usr/lib/sysbox/${f.replace('.', '\\.')}\\n`), `missing /usr/lib/sysbox/${f}`);
    }
    for (const b of ['sysbox-runc', 'sysbox-mgr', 'sysbox-fs']) {
      assert.match(list, new RegExp(` \\./usr/bin/${b} -> \\.\\./lib/sysbox/${b}\\n`));
      assert.match(list, new RegExp(` \\./usr/share/man/man1/${b}\\.1\\.gz\\n`));
    }
    for (const u of ['sysbox.service', 'sysbox-mgr.service', 'sysbox-fs.service']) assert.match(list, new RegExp(` \\./lib/systemd/system/${u}\\n`));
  });

  it('depends on Debian packages by name: nodejs (>= 18), runc, and the addon\'s libraries', async () => {
    const depends = (await run('dpkg-deb', ['-f', deb, 'Depends'])).stdout;
    for (const d of [/nodejs \(>= 18\)/, /runc \(>= 1\.1\)/, /libc6 \(>= /, /libstdc\+\+6/, /passwd/, /procps/]) assert.match(depends, d);
  });

  it('has no lintian errors or warnings', async () => {
    const r = await run('lintian', ['--fail-on', 'error,warning', deb]);
    assert.equal(r.status, 0, `lintian:\n${r.stdout}${r.stderr}`);
  });
});

describe('sysbox-docker-runtime', () => {
  it('adds and removes the runtime in a live dockerd\'s daemon.json, which reloads without restarting', async () => {
    assert.ok(DOCKERD_CONFIG && DOCKERD_PIDFILE, 'run through test/run.sh (SYSBOX_TEST_DOCKERD_CONFIG/PIDFILE)');
    const original = fs.readFileSync(DOCKERD_CONFIG, 'utf8');
    const pid = fs.readFileSync(DOCKERD_PIDFILE, 'utf8').trim();
    const name = uniqueName('sysbox-install');
    const args = ['--config', DOCKERD_CONFIG, '--pidfile', DOCKERD_PIDFILE, '--name', name, '--path', path.join(REPO, 'out/bin/sysbox-runc')];
    try {
      const add = await run(TOOL, ['add', ...args]);
      assert.equal(add.status, 0, add.stderr);
      assert.match(add.stdout, new RegExp(`added runtime ${name} .*dockerd \\(pid ${pid}\\) reloaded \\(SIGHUP\\)`));
      const conf = JSON.parse(fs.readFileSync(DOCKERD_CONFIG, 'utf8')) as { runtimes: Record<string, { path: string }> };
      assert.deepEqual(conf.runtimes['sysbox-runc'], (JSON.parse(original) as typeof conf).runtimes['sysbox-runc'], 'existing entries are kept');
      assert.ok(await waitFor(async () => (await runtimes()).includes(name)), 'dockerd lists the new runtime after SIGHUP');

      const again = await run(TOOL, ['add', ...args]);
      assert.match(again.stdout, /already registered; nothing to do/);

      const remove = await run(TOOL, ['remove', ...args]);
      assert.equal(remove.status, 0, remove.stderr);
      assert.equal(fs.readFileSync(DOCKERD_CONFIG, 'utf8'), original, 'the file is back byte for byte');
      assert.ok(await waitFor(async () => !(await runtimes()).includes(name)), 'dockerd drops it after SIGHUP');
      assert.equal(fs.readFileSync(DOCKERD_PIDFILE, 'utf8').trim(), pid, 'dockerd was not restarted');
    } finally {
      fs.writeFileSync(DOCKERD_CONFIG, original);
    }
  });

  it('refuses a daemon.json that is not JSON, leaving it untouched, and says what to do', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-daemonjson-'));
    const conf = path.join(dir, 'daemon.json');
    fs.writeFileSync(conf, '{ "debug": true,');
    const r = await run(TOOL, ['add', '--config', conf, '--pidfile', '/nonexistent.pid']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /daemon\.json is not valid JSON .*left untouched\. Fix it, then run "sysbox-docker-runtime add"/);
    assert.equal(fs.readFileSync(conf, 'utf8'), '{ "debug": true,');
    assert.deepEqual(fs.readdirSync(dir), ['daemon.json'], 'no temp file left');
    fs.rmSync(dir, { recursive: true });
  });
});
