import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadSpec, SpecError } from '../src/spec/load.js';
import { refusal } from '../src/spec/validate.js';
import { dockerLikeSpec } from './fixtures.js';

describe('refused options', () => {
  it('accepts an ordinary Docker spec', () => {
    assert.equal(refusal(dockerLikeSpec()), undefined);
  });

  it('refuses --privileged (all devices allowed)', () => {
    const s = dockerLikeSpec();
    s.linux!.resources!.devices = [{ allow: true, access: 'rwm' }];
    assert.match(refusal(s)!, /privileged containers are not supported/);
  });

  it('refuses --pid=host, --net=host and a host user namespace', () => {
    const noPid = dockerLikeSpec();
    noPid.linux!.namespaces = noPid.linux!.namespaces!.filter((n) => n.type !== 'pid');
    assert.match(refusal(noPid)!, /--pid=host is not supported/);
    const hostNet = dockerLikeSpec();
    hostNet.linux!.namespaces = hostNet.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/proc/self/ns/net' } : n));
    assert.match(refusal(hostNet)!, /--net=host is not supported/);
    const hostUser = dockerLikeSpec();
    hostUser.linux!.namespaces!.push({ type: 'user', path: '/proc/self/ns/user' });
    assert.match(refusal(hostUser)!, /--userns=host is not supported/);
  });
});

describe('a network namespace made before the runtime ran', () => {
  /** The network namespace of a process started under `unshare ARGS` (killed when done). */
  async function withNetnsOf<T>(unshareArgs: string[], use: (netnsPath: string) => T): Promise<T> {
    const child = spawn('unshare', [...unshareArgs, 'sleep', '30'], { stdio: 'ignore' });
    try {
      const self = fs.statSync('/proc/self/ns/net').ino;
      for (let i = 0; i < 100 && fs.statSync(`/proc/${child.pid}/ns/net`).ino === self; i++) await new Promise((r) => setTimeout(r, 20));
      return use(`/proc/${child.pid}/ns/net`);
    } finally {
      child.kill('SIGKILL');
    }
  }
  const withNetns = (p: string) => {
    const s = dockerLikeSpec();
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: p } : n));
    return s;
  };

  it("refuses one the host's user namespace owns (Podman's own, without a user namespace)", async () => {
    const why = await withNetnsOf(['--net'], (p) => refusal(withNetns(p)));
    assert.match(why!, /network namespace \/proc\/\d+\/ns\/net belongs to the host's user namespace/);
    assert.match(why!, /--userns=auto or --uidmap/);
  });

  it('accepts one owned by another user namespace (a container of its own), and a path that is gone', async () => {
    assert.equal(await withNetnsOf(['--user', '--map-root-user', '--net'], (p) => refusal(withNetns(p))), undefined);
    assert.equal(refusal(withNetns('/run/no-such-netns')), undefined);
  });
});

describe('loadSpec', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
  it('names the file and the problem', () => {
    assert.throws(() => loadSpec(path.join(dir, 'missing')), (e: Error) => e instanceof SpecError && /bundle .*missing does not exist/.test(e.message));
    assert.throws(() => loadSpec(dir), /config.json: no such file/);
    fs.writeFileSync(path.join(dir, 'config.json'), '{"ociVersion": ');
    assert.throws(() => loadSpec(dir), /failed to parse .*config.json/);
    fs.writeFileSync(path.join(dir, 'config.json'), '{"ociVersion": "1.0.2", "process": {}}');
    assert.throws(() => loadSpec(dir), /root.path is missing/);
    fs.rmSync(dir, { recursive: true });
  });
});
