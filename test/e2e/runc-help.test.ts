// sysbox-runc's documented surface (issue 11): `--help` lists runc 1.1's global flags and commands
// (read from the runc on this machine) plus the original Sysbox's additions, each with a
// description; a command's own help works through the Node runtime and through the launcher's
// fast path alike; `--version` has the original's layout; the original's --no-sysbox-fs and
// --no-sysbox-mgr parse everywhere and create refuses them with a reason, leaving nothing behind.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import { leftoversOf, makeBundle, run, SYSBOX_RUNC, sysboxRunc, uniqueName } from '../lib/env.js';

const RUNC = '/usr/sbin/runc';

/** The entries of a urfave/cli help section: first column (names) → description. */
function section(help: string, title: string): Map<string, string> {
  const start = help.indexOf(`\n${title}:\n`);
  assert.ok(start >= 0, `no ${title} section:\n${help}`);
  const out = new Map<string, string>();
  for (const line of help.slice(start + title.length + 3).split('\n')) {
    if (!line.startsWith('   ')) break;
    const m = /^ {3}(\S.*?)(?: {2,}(.*))?$/.exec(line);
    if (m) out.set(m[1]!.trim(), (m[2] ?? '').trim());
  }
  return out;
}

/** Flag names of a GLOBAL OPTIONS entry ("--log value" → --log; "--help, -h" → --help, -h). */
function flagNames(entry: string): string[] {
  return entry.split(',').map((p) => p.trim().split(' ')[0]!);
}

describe('sysbox-runc --help and --version', () => {
  const bundles: string[] = [];
  after(() => { for (const b of bundles) fs.rmSync(b, { recursive: true, force: true }); });

  it("lists every global flag and command of runc's own --help, each with a description", async () => {
    const ours = await run(SYSBOX_RUNC, ['--help']);
    assert.equal(ours.status, 0, ours.stderr);
    const runc = await run(RUNC, ['--help']);
    const flags = section(ours.stdout, 'GLOBAL OPTIONS');
    const ourFlags = new Set([...flags.keys()].flatMap(flagNames));
    for (const entry of section(runc.stdout, 'GLOBAL OPTIONS').keys()) {
      for (const n of flagNames(entry)) assert.ok(ourFlags.has(n), `runc's ${n} missing:\n${ours.stdout}`);
    }
    const commands = section(ours.stdout, 'COMMANDS');
    for (const name of section(runc.stdout, 'COMMANDS').keys()) assert.ok(commands.has(name), `runc's command ${name} missing:\n${ours.stdout}`);
    for (const [name, desc] of [...flags, ...commands]) assert.ok(desc.length > 0, `${name} has no description`);
    assert.match(ours.stdout, /\nVERSION:\n {3}\d+\.\d+\.\d+\n/);
  });

  it("lists the original's additions with what they do here", async () => {
    const flags = section((await run(SYSBOX_RUNC, ['--help'])).stdout, 'GLOBAL OPTIONS');
    for (const f of ['--no-sysbox-fs', '--no-sysbox-mgr', '--no-kernel-check']) {
      assert.match(flags.get(f) ?? '', /meant for testing and debugging/, `${f}: ${flags.get(f)}`);
    }
    assert.ok(flags.get('--sysbox-mgr-socket value'));
    assert.ok(flags.get('--sysbox-fs-socket value'));
  });

  it("gives a command's help as ours, from the Node runtime (create) and the launcher's fast path (state)", async () => {
    for (const args of [['create', '--help'], ['help', 'create'], ['h', 'create']]) {
      const r = await run(SYSBOX_RUNC, args);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /^NAME:\n {3}sysbox-runc create - create a system container\n/, r.stdout);
      assert.match(r.stdout, /^ {3}sysbox-runc create \[command options\] <container-id>$/m);
      assert.match(r.stdout, /--bundle value, -b value/, "runc's options of the command");
    }
    const r = await run(SYSBOX_RUNC, ['state', '-h']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^NAME:\n {3}sysbox-runc state - output the state of a container\n/, r.stdout);
    const bad = await run(SYSBOX_RUNC, ['help', 'no-such-command']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /level=error msg="No help topic for 'no-such-command'"/);
  });

  it("--version prints the original's lines in its order, then the runc it drives", async () => {
    const r = await run(SYSBOX_RUNC, ['--version']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'sysbox-runc');
    const fields = lines.slice(1, 7).map((l) => /^\t([a-z -]+): \t\S.*$/.exec(l)?.[1]);
    assert.deepEqual(fields, ['edition', 'version', 'commit', 'built at', 'built by', 'oci-specs'], r.stdout);
    assert.equal(r.stdout, (await run(SYSBOX_RUNC, ['-v'])).stdout);
  });

  it('accepts --no-sysbox-fs and --no-sysbox-mgr, and create refuses them with a reason, leaving nothing behind', async () => {
    const list = await run(SYSBOX_RUNC, ['--no-sysbox-fs', '--no-sysbox-mgr', 'list', '--format', 'json']);
    assert.equal(list.status, 0, list.stderr);
    const dir = await makeBundle(['true']);
    bundles.push(dir);
    for (const flag of ['--no-sysbox-mgr', '--no-sysbox-fs']) {
      const id = uniqueName('nodaemon');
      const r = await sysboxRunc([flag, 'create', '--bundle', dir, id]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, new RegExp(`level=error msg="${flag} is not supported: a system container needs sysbox-(mgr|fs) \\(`), r.stderr);
      assert.deepEqual(leftoversOf(id), []);
      assert.notEqual((await sysboxRunc(['state', id])).status, 0, 'no container was created');
    }
  });
});
