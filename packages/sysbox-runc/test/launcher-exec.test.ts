// The sh launcher's `exec` fast path: Docker's `exec --process FILE --detach ... ID` of a root process
// in a container whose create left root's capabilities gets them swapped into the spec without
// Node; any other case goes to the Node runtime (exec.ts). Run against a stand-in runc that logs
// its arguments and the process spec it is given, and a stand-in Node runtime.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXEC_ROOT_CAPABILITIES_FILE, execRootCapabilitiesScript } from '../src/lifecycle/exec-capabilities.js';

const MOUNT_ROOT = '/run/sysbox-containers';
const ROOT_CAPS = { bounding: ['CAP_ALL_OF_THEM'], effective: ['CAP_ALL_OF_THEM'], permitted: [], inheritable: [], ambient: [] };

function dockerProcess(uid: number, env: string[]): string {
  // Go's encoding: one line, fields in the runtime-spec's order.
  return JSON.stringify({
    terminal: false, user: { uid, gid: 0 }, args: ['sh', '-c', 'echo "capabilities":{x}'], env, cwd: '/',
    capabilities: { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] }, noNewPrivileges: false,
  });
}

describe('launcher exec fast path', () => {
  const tag = randomBytes(4).toString('hex');
  const id = `exec-fast-${tag}`;
  const bare = `exec-bare-${tag}`;
  let dir: string;
  let launcher: string;
  let fakeRunc: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-launcher-exec-'));
    launcher = path.join(dir, 'sysbox-runc');
    fs.copyFileSync(path.resolve(__dirname, '..', '..', 'launcher', 'sysbox-runc.sh'), launcher);
    fs.chmodSync(launcher, 0o755);
    fs.writeFileSync(path.join(dir, 'sysbox-runc.js'), 'require("fs").appendFileSync(process.env.FAKE_LOG, `node ${process.argv.slice(2).join(" ")}\\n`);\n');
    fakeRunc = path.join(dir, 'runc');
    // Logs its arguments, then the --process spec it was given.
    fs.writeFileSync(fakeRunc, '#!/bin/sh\necho "runc $*" >> "$FAKE_LOG"\np=\nfor a; do [ "$p" = 1 ] && { cat "$a" >> "$FAKE_LOG"; echo >> "$FAKE_LOG"; }; p=0; [ "$a" = --process ] && p=1; done\nexit 0\n', { mode: 0o755 });
    fs.mkdirSync(path.join(MOUNT_ROOT, id), { recursive: true });
    fs.writeFileSync(path.join(MOUNT_ROOT, id, EXEC_ROOT_CAPABILITIES_FILE), execRootCapabilitiesScript(ROOT_CAPS));
    fs.mkdirSync(path.join(MOUNT_ROOT, bare), { recursive: true });
  });
  after(() => {
    for (const d of [id, bare]) fs.rmSync(path.join(MOUNT_ROOT, d), { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  let runs = 0;
  const exec = (container: string, proc: string, ...flags: string[]): string[] => {
    const n = runs++;
    const log = path.join(dir, `log-${n}`);
    const file = path.join(dir, `process-${n}.json`);
    fs.writeFileSync(log, '');
    fs.writeFileSync(file, proc);
    const r = spawnSync(launcher, ['--root', '/run/x', '--sysbox-mgr-socket', '/m.sock', 'exec', '--process', file, ...flags, '--pid-file', '/run/x/p', container],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYSBOX_RUNC_PATH: fakeRunc, FAKE_LOG: log }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => l.replace(file, 'FILE'));
  };

  it('gives a root process the recorded capabilities without Node, the rest of the spec unchanged', () => {
    const proc = dockerProcess(0, ['PATH=/bin', 'A=1']);
    const lines = exec(id, proc, '--detach');
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.equal(lines[0], `runc --root /run/x exec --process /dev/fd/9 --detach --pid-file /run/x/p ${id}`);
    assert.deepEqual(JSON.parse(lines[1]!), { ...JSON.parse(proc), capabilities: ROOT_CAPS });
  });
  it('hands a SYSBOX_* knob, another uid or a foreground exec to Node', () => {
    assert.deepEqual(exec(id, dockerProcess(0, ['SYSBOX_HONOR_CAPS=TRUE']), '--detach'), [`node --root /run/x --sysbox-mgr-socket /m.sock exec --process FILE --detach --pid-file /run/x/p ${id}`]);
    assert.match(exec(id, dockerProcess(1000, []), '--detach')[0]!, /^node /);
    assert.match(exec(id, dockerProcess(0, []))[0]!, /^node /);
  });
  it('hands a spec it cannot read as Go writes it to Node (pretty-printed, two capabilities fields)', () => {
    assert.match(exec(id, JSON.stringify(JSON.parse(dockerProcess(0, [])), null, 2), '--detach')[0]!, /^node /);
    const twice = dockerProcess(0, []).replace('"noNewPrivileges"', '"x":{"capabilities":{}},"noNewPrivileges"');
    assert.match(exec(id, twice, '--detach')[0]!, /^node /);
  });
  it('hands a container without recorded capabilities to Node, and execs runc for one sysbox-mgr does not hold', () => {
    assert.match(exec(bare, dockerProcess(0, []), '--detach')[0]!, /^node /);
    const lines = exec(`exec-none-${tag}`, dockerProcess(0, []), '--detach');
    assert.equal(lines[0], `runc --root /run/x exec --process FILE --detach --pid-file /run/x/p exec-none-${tag}`);
    assert.deepEqual(JSON.parse(lines[1]!), JSON.parse(dockerProcess(0, [])));
  });
  it('gives the process the recorded OOM score, over a -999 floor where the host lets root lower it, runc keeping its capabilities', () => {
    // A runc that reports its score, its capabilities, and its floor (an unprivileged write of -999
    // succeeds only over a -999 floor).
    const oomRunc = path.join(dir, 'runc-oom');
    fs.writeFileSync(oomRunc, [
      '#!/bin/sh',
      'echo "score $(cat /proc/$$/oom_score_adj)" >> "$FAKE_LOG"',
      'grep CapEff /proc/$$/status >> "$FAKE_LOG"',
      'if setpriv --euid=65534 --inh-caps=-all sh -c \'echo -999 >&3\' 3>/proc/$$/oom_score_adj 2>/dev/null; then echo "floor -999" >> "$FAKE_LOG"; else echo "floor above" >> "$FAKE_LOG"; fi',
      '',
    ].join('\n'), { mode: 0o755 });
    fs.writeFileSync(path.join(MOUNT_ROOT, id, 'oom-score-adj'), '500\n');
    const capEff = /CapEff:\s*([0-9a-f]+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))!;
    // CAP_SYS_RESOURCE (24): the launcher pins a -999 floor, then writes the score without it
    // (setpriv); without it (a host that keeps it from root, as the development VM's sandbox
    // does) the floor stays what it inherited.
    const floor = (BigInt(`0x${capEff[1]}`) >> 24n) & 1n ? 'floor -999' : 'floor above';
    try {
      const log = path.join(dir, 'log-oom');
      const file = path.join(dir, 'process-oom.json');
      fs.writeFileSync(log, '');
      fs.writeFileSync(file, dockerProcess(0, []));
      const r = spawnSync(launcher, ['--root', '/run/x', 'exec', '--process', file, '--detach', id],
        { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYSBOX_RUNC_PATH: oomRunc, FAKE_LOG: log }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(fs.readFileSync(log, 'utf8').trim().split('\n'), ['score 500', capEff[0], floor]);
    } finally {
      fs.rmSync(path.join(MOUNT_ROOT, id, 'oom-score-adj'), { force: true });
    }
  });
});
