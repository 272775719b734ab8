// The original sysbox-runc's global flags and `--version` (issue 11): a command line written for it
// works here, both where the launcher hands the call straight to runc and where the Node runtime
// runs it; flags runc 1.1 does not know never reach runc.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { leftoversOf, makeBundle, run, SYSBOX_FS, SYSBOX_MGR, SYSBOX_RUNC, sysboxRunc, uniqueName } from '../lib/env.js';

/** The original's layout: the name alone, then `\t<field>: \t<value>` lines. */
function fieldsOf(text: string, name: string): Map<string, string> {
  const [first, ...lines] = text.split('\n');
  assert.equal(first, name, text);
  const fields = new Map<string, string>();
  for (const l of lines) {
    const m = /^\t([a-z -]+): \t(.*)$/.exec(l);
    if (m) fields.set(m[1]!, m[2]!);
  }
  return fields;
}

describe('sysbox-runc global flags of the original Sysbox', () => {
  const bundles: string[] = [];
  const ids: string[] = [];
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-flags-log-'));
  after(async () => {
    for (const id of ids) await sysboxRunc(['delete', '--force', id]);
    for (const b of [...bundles, logDir]) fs.rmSync(b, { recursive: true, force: true });
  });

  it('--version prints edition, version, commit, built at, built by and oci-specs, then the runc it drives', async () => {
    const r = await run(SYSBOX_RUNC, ['--version']);
    assert.equal(r.status, 0, r.stderr);
    const f = fieldsOf(r.stdout, 'sysbox-runc');
    for (const k of ['edition', 'version', 'commit', 'built at', 'built by', 'oci-specs', 'executor']) assert.ok(f.get(k), `no ${k}: ${r.stdout}`);
    assert.match(f.get('version')!, /^\d+\.\d+\.\d+/);
    assert.match(f.get('commit')!, /^[0-9a-f]{12}$/, 'built from git: the commit is stamped');
    assert.equal(f.get('executor'), '/usr/sbin/runc');
    assert.match(r.stdout, /^\t\trunc version 1\.1\./m, "runc's own version follows");
  });

  it('sysbox-mgr and sysbox-fs --version use the same layout', async () => {
    for (const [bin, name] of [[SYSBOX_MGR, 'sysbox-mgr'], [SYSBOX_FS, 'sysbox-fs']] as const) {
      const r = await run(bin, ['--version']);
      assert.equal(r.status, 0, r.stderr);
      const f = fieldsOf(r.stdout.trimEnd(), name);
      for (const k of ['edition', 'version', 'commit', 'built at', 'built by']) assert.ok(f.get(k), `${name}: no ${k}: ${r.stdout}`);
    }
  });

  it('--no-kernel-check, --log, --log-format json and --debug work on run, state, exec, kill and delete', async () => {
    const dir = await makeBundle(['sh', '-c', 'exec sleep 300 </dev/null >/dev/null 2>&1']);
    bundles.push(dir);
    const id = uniqueName('flags');
    ids.push(id);
    const log = path.join(logDir, 'runc.log');
    const g = ['--no-kernel-check', '--log', log, '--log-format', 'json', '--debug'];
    // run and exec: the Node runtime; state and kill: the launcher execs runc.
    let r = await sysboxRunc([...g, 'run', '--detach', '--bundle', dir, id]);
    assert.equal(r.status, 0, `run: ${r.stderr}`);
    r = await sysboxRunc([...g, 'state', id]);
    assert.equal(r.status, 0, `state: ${r.stderr}`);
    assert.equal((JSON.parse(r.stdout) as { status: string }).status, 'running');
    r = await sysboxRunc(['--no-kernel-check=true', ...g.slice(1), 'exec', id, 'true']);
    assert.equal(r.status, 0, `exec: ${r.stderr}`);
    r = await sysboxRunc([...g, 'kill', id, 'KILL']);
    assert.equal(r.status, 0, `kill: ${r.stderr}`);
    for (let i = 0; i < 50 && (await sysboxRunc(['state', id])).stdout.includes('"running"'); i++) await new Promise((res) => setTimeout(res, 100));
    r = await sysboxRunc([...g, 'delete', id]);
    assert.equal(r.status, 0, `delete: ${r.stderr}`);
    assert.deepEqual(leftoversOf(id), []);
    // --log-format json reached runc and our runtime alike: every line of the log is a JSON object.
    const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
    assert.ok(lines.length > 0, 'the --log file was written');
    for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `not JSON: ${l}`);
  });

  it('--systemd-cgroup and --root are handed to runc (list in an empty root)', async () => {
    const root = fs.mkdtempSync(path.join(logDir, 'root-'));
    const r = await run(SYSBOX_RUNC, ['--no-kernel-check', '--systemd-cgroup', '--root', root, 'list', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'null');
  });

  it('an unknown global flag is still refused, runc-style', async () => {
    const r = await run(SYSBOX_RUNC, ['--no-such-flag', 'list']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /level=error msg=".*flag provided but not defined: -no-such-flag/);
  });
});
