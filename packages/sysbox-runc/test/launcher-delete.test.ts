// The sh launcher's `delete` of a container sysbox-mgr still holds: runc deletes it, the launcher
// waits on the run dir's `released` fifo until sysbox-mgr closes its write end at the end of its
// own release (which takes the run dir's name away first), and only if the dir stays hands over to
// the Node runtime, saying how runc's delete went. Run against a stand-in runc, a stand-in Node
// runtime, both printing what they were given, and this process as sysbox-mgr.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const MOUNT_ROOT = '/run/sysbox-containers';

interface Outcome { status: number | null; lines: string[] }

describe('launcher delete fast path', () => {
  const tag = randomBytes(4).toString('hex');
  let dir: string;
  let launcher: string;
  let fakeRunc: string;
  const ids: string[] = [];
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-launcher-delete-'));
    // A copy, so that the Node runtime it starts is the stand-in beside it.
    launcher = path.join(dir, 'sysbox-runc');
    fs.copyFileSync(path.resolve(__dirname, '..', '..', 'launcher', 'sysbox-runc.sh'), launcher);
    fs.chmodSync(launcher, 0o755);
    fs.writeFileSync(path.join(dir, 'sysbox-runc.js'),
      'require("fs").appendFileSync(process.env.FAKE_LOG, `node status=${process.env.SYSBOX_RUNC_DELETE_STATUS} ${process.argv.slice(2).join(" ")}\\n`);\n');
    fakeRunc = path.join(dir, 'runc');
    // `state` answers FAKE_STATE (default 1: runc does not know the container), anything else
    // FAKE_STATUS. Into a file: the launcher silences `state`.
    fs.writeFileSync(fakeRunc, '#!/bin/sh\necho "runc $*" >> "$FAKE_LOG"\nfor a; do [ "$a" = state ] && exit "${FAKE_STATE:-1}"; done\nexit "${FAKE_STATUS:-0}"\n', { mode: 0o755 });
  });
  after(() => {
    for (const id of ids) fs.rmSync(path.join(MOUNT_ROOT, id), { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const registered = (name: string): string => {
    const id = `delete-${name}-${tag}`;
    fs.mkdirSync(path.join(MOUNT_ROOT, id), { recursive: true });
    ids.push(id);
    return id;
  };
  let runs = 0;
  const run = (env: Record<string, string>, ...args: string[]): Promise<Outcome> => new Promise((resolve, reject) => {
    const log = path.join(dir, `log-${runs++}`);
    fs.writeFileSync(log, '');
    const p = spawn(launcher, ['--root', '/run/x', '--sysbox-mgr-socket', '/m.sock', ...args],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYSBOX_RUNC_PATH: fakeRunc, FAKE_LOG: log, ...env }, stdio: 'ignore' });
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, lines: fs.readFileSync(log, 'utf8').trim().split('\n') }));
  });

  /** The run dir's fifo with sysbox-mgr's write end (held here), as at Created. */
  const watched = (id: string): number => {
    const fifo = path.join(MOUNT_ROOT, id, 'released');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    return fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  };

  it('returns runc\'s status without Node once sysbox-mgr has released the container, not before', async () => {
    const id = registered('released');
    const end = watched(id);
    const t0 = Date.now();
    const outcome = run({}, 'delete', id);
    let releasedAt = 0;
    setTimeout(() => {
      // As sysbox-mgr's release-signal.ts: the name goes first, then the write end.
      const gone = path.join(MOUNT_ROOT, `${id}:released`);
      fs.renameSync(path.join(MOUNT_ROOT, id), gone);
      releasedAt = Date.now();
      fs.closeSync(end);
      fs.rmSync(gone, { recursive: true, force: true });
    }, 300);
    assert.deepEqual(await outcome, { status: 0, lines: [`runc --root /run/x delete ${id}`] });
    assert.ok(releasedAt > 0 && releasedAt - t0 >= 300, 'the launcher waited for the write end to close');
  });
  it('hands over to Node when the release ended with the run dir still there (a failed release)', async () => {
    const id = registered('failed');
    const end = watched(id);
    const outcome = run({}, 'delete', id);
    setTimeout(() => fs.closeSync(end), 100);
    assert.deepEqual(await outcome, { status: 0, lines: [`runc --root /run/x delete ${id}`, `node status=0 --root /run/x --sysbox-mgr-socket /m.sock delete ${id}`] });
  });
  it('hands over to Node at once when nothing holds the fifo (sysbox-mgr gone), creating nothing', async () => {
    const id = registered('orphan');
    fs.closeSync(watched(id));
    const t0 = Date.now();
    assert.deepEqual(await run({}, 'delete', id), { status: 0, lines: [`runc --root /run/x delete ${id}`, `node status=0 --root /run/x --sysbox-mgr-socket /m.sock delete ${id}`] });
    assert.ok(Date.now() - t0 < 5000);
    assert.deepEqual(fs.readdirSync(path.join(MOUNT_ROOT, id)), ['released']);
    assert.ok(fs.statSync(path.join(MOUNT_ROOT, id, 'released')).isFIFO());
  });
  it('hands over to Node, with runc\'s status and our own flags, when the run dir has no fifo', async () => {
    const id = registered('kept');
    assert.deepEqual(await run({}, 'delete', '--force', id), {
      status: 0,
      lines: [`runc --root /run/x delete --force ${id}`, `node status=0 --root /run/x --sysbox-mgr-socket /m.sock delete --force ${id}`],
    });
  });
  it('stops at a failed delete of a container runc still knows', async () => {
    const id = registered('running');
    assert.deepEqual(await run({ FAKE_STATUS: '1', FAKE_STATE: '0' }, 'delete', id), {
      status: 1,
      lines: [`runc --root /run/x delete ${id}`, `runc --root /run/x state ${id}`],
    });
  });
  it('still releases after a failed delete of a container runc no longer knows', async () => {
    const id = registered('unknown');
    assert.deepEqual(await run({ FAKE_STATUS: '1' }, 'delete', '-f', id), {
      status: 0,
      lines: [`runc --root /run/x delete -f ${id}`, `runc --root /run/x state ${id}`, `node status=1 --root /run/x --sysbox-mgr-socket /m.sock delete -f ${id}`],
    });
  });
  it('execs runc for a container sysbox-mgr does not hold', async () => {
    assert.deepEqual(await run({ FAKE_STATUS: '3' }, 'delete', `delete-none-${tag}`), {
      status: 3,
      lines: [`runc --root /run/x delete delete-none-${tag}`],
    });
  });
});
